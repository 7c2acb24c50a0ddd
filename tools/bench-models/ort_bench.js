// ONNX Runtime's side of bench_models.py: loads MODEL.onnx into a CPU
// session (all graph optimizations, THREADS intra-op threads, sequential
// execution), feeds it the float32 input in INPUT.bin (row-major, SHAPE
// like 1x3x224x224) as its only input, runs it 3 times to warm up and RUNS
// times timed, and prints "median <ms> ms".
//
// usage: node ort_bench.js MODEL.onnx INPUT.bin SHAPE THREADS RUNS
// (onnxruntime-node found through NODE_PATH)
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, shapeText, threadsText, runsText] = process.argv.slice(2);
  if (!runsText) {
    console.error('usage: node ort_bench.js MODEL.onnx INPUT.bin SHAPE THREADS RUNS');
    process.exit(2);
  }
  const shape = shapeText.split('x').map(Number);
  const bytes = fs.readFileSync(input);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: Number(threadsText),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  for (let i = 0; i < 3; ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runsText); ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  console.log(`median ${median.toFixed(4)} ms`);
}

main().catch((error) => {
  console.error(String(error));
  process.exit(1);
});
