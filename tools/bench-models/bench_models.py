"""Whole models through Tessel, ONNX Runtime and PyTorch, side by side.

`make bench-models` runs this with Debian's python3 (PyTorch 1.13 and
torchvision inside). For each model it exports one ONNX file per batch size
(torchvision's architectures with seeded random weights, eval mode, opset 13;
a LeNet-5 for the small-model row), then times, at each batch size and
thread count, each engine in a process of its own on the same input:

- Tessel: `tessel-run MODEL.onnx --bench N --threads T --no-cache`;
- ONNX Runtime 1.30, CPU execution provider, all graph optimizations
  (`ort_bench.js`, npm's `onnxruntime-node`), intra-op threads T;
- PyTorch frozen: `torch.jit.freeze` of the traced model, then
  `torch.jit.optimize_for_inference`; PyTorch eager: the module itself;
  both under `torch.no_grad()` with `torch.set_num_threads(T)`.

Each engine warms up with 3 runs and reports the median of N. The table
gives medians in ms, the best peer's time over Tessel's (above 1: Tessel
faster), and each process's peak resident memory (MiB; Tessel's includes its
compiler, PyTorch's the library, ONNX Runtime's node). The last line is the
geometric mean of the ratio column.

usage: bench_models.py --tessel-run PATH --ort-dir DIR --work DIR
                       [--runs N] [--models a,b,...] [--batches 1,8]
                       [--threads 1,2]
(workers, run by the above in processes of their own:
       bench_models.py --export MODEL BATCH DIR
       bench_models.py --torch-worker eager|frozen STEM BATCH THREADS RUNS)

The driver itself never imports PyTorch: a child's peak memory would start
from its parent's (Linux carries the high-water mark across exec).
"""

import argparse
import math
import os
import re
import subprocess
import sys

MODELS = {
    # name: (torchvision factory name or None, input shape without the batch)
    "resnet18": ("resnet18", (3, 224, 224)),
    "resnet50": ("resnet50", (3, 224, 224)),
    "mobilenet_v2": ("mobilenet_v2", (3, 224, 224)),
    "efficientnet_b0": ("efficientnet_b0", (3, 224, 224)),
    "densenet121": ("densenet121", (3, 224, 224)),
    "lenet": (None, (1, 28, 28)),
}


def build_model(name):
    import torch
    torch.manual_seed(0)
    factory, shape = MODELS[name]
    if factory is None:
        # LeNet-5 on 28x28 digits, as PyTorch's tutorials write it.
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(16 * 5 * 5, 120), torch.nn.ReLU(),
            torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10))
    else:
        import torchvision
        model = getattr(torchvision.models, factory)()
    return model.eval(), shape


def stem_of(name, batch, work):
    return os.path.join(work, f"{name}-b{batch}")


def export(name, batch, work):
    """Writes the ONNX file and input of `name` at `batch` (worker)."""
    import numpy as np
    import torch
    stem = stem_of(name, batch, work)
    model, shape = build_model(name)
    x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.onnx.export(model, x, stem + ".onnx", opset_version=13,
                          input_names=["x"], output_names=["y"])
    np.save(stem + ".x.npy", x.numpy())
    x.numpy().tofile(stem + ".x.bin")


def run_with_peak(cmd, env=None):
    """Runs `cmd`; returns its stdout and its own peak resident memory in MiB
    (os.wait4's rusage of that child alone)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return out, usage.ru_maxrss / 1024.0


def median_ms(text, pattern):
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"no timing in output:\n{text[-2000:]}")
    return float(match.group(1))


def torch_worker(mode, stem, batch, threads, runs):
    import statistics
    import time
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    name = os.path.basename(stem).rsplit("-b", 1)[0]
    model, _ = build_model(name)
    x = torch.from_numpy(np.load(stem + ".x.npy"))
    with torch.no_grad():
        if mode == "frozen":
            model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))
        for _ in range(3):
            model(x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
    print(f"median {statistics.median(times):.4f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tessel-run", required=True)
    parser.add_argument("--ort-dir", required=True,
                        help="folder whose node_modules holds onnxruntime-node")
    parser.add_argument("--work", required=True, help="where the ONNX files go")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model '{m}' (known: {', '.join(MODELS)})")
    os.makedirs(args.work, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    ort_script = os.path.join(here, "ort_bench.js")
    env_node = dict(os.environ, NODE_PATH=os.path.join(args.ort_dir, "node_modules"))

    print("| model | batch | threads | Tessel | ONNX Runtime | PyTorch frozen | PyTorch eager "
          "| best peer / Tessel | peak MiB: Tessel, ONNX Runtime, PyTorch frozen, eager |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for name in models:
        for batch in map(int, args.batches.split(",")):
            stem = stem_of(name, batch, args.work)
            # Reused when present.
            if not all(os.path.exists(stem + e) for e in (".onnx", ".x.npy", ".x.bin")):
                run_with_peak([sys.executable, os.path.abspath(__file__), "--export", name,
                               str(batch), args.work])
            shape = "x".join(str(d) for d in [batch, *MODELS[name][1]])
            for threads in map(int, args.threads.split(",")):
                row = {}
                out, row["tessel_mem"] = run_with_peak(
                    [args.tessel_run, stem + ".onnx", f"--input=x={stem}.x.npy",
                     f"--bench={args.runs}", f"--threads={threads}", "--no-cache",
                     f"--output-dir={args.work}"])
                row["tessel"] = median_ms(out, r"median latency: ([0-9.]+) ms")
                out, row["ort_mem"] = run_with_peak(
                    ["node", ort_script, stem + ".onnx", stem + ".x.bin", shape,
                     str(threads), str(args.runs)], env=env_node)
                row["ort"] = median_ms(out, r"median ([0-9.]+) ms")
                for mode in ("frozen", "eager"):
                    out, row[mode + "_mem"] = run_with_peak(
                        [sys.executable, os.path.abspath(__file__), "--torch-worker", mode,
                         stem, str(batch), str(threads), str(args.runs)])
                    row[mode] = median_ms(out, r"median ([0-9.]+) ms")
                best = min(row["ort"], row["frozen"], row["eager"])
                ratio = best / row["tessel"]
                ratios.append((name, ratio))
                ms = [f"{row[k]:.2f} ms" if row[k] >= 1 else f"{row[k]:.3f} ms"
                      for k in ("tessel", "ort", "frozen", "eager")]
                print(f"| {name} | {batch} | {threads} | {' | '.join(ms)} | "
                      f"{ratio:.2f} | {row['tessel_mem']:.0f}, {row['ort_mem']:.0f}, "
                      f"{row['frozen_mem']:.0f}, {row['eager_mem']:.0f} |", flush=True)

    def geomean(values):
        return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")

    print(f"| geomean | | | | | | | {geomean([r for _, r in ratios]):.2f} | |")
    # The LeNet rows measure per-run overhead more than kernels.
    large = [r for name, r in ratios if name != "lenet"]
    if large and len(large) < len(ratios):
        print(f"| geomean without LeNet | | | | | | | {geomean(large):.2f} | |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--export":
        export(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        mode, stem, batch, threads, runs = sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
        torch_worker(mode, stem, batch, threads, runs)
    else:
        main()
