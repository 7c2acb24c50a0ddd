// One function per op family, each compiled ahead of time and by the JIT;
// aot-vs-jit.test checks that both give the same outputs on the same inputs.

func.func @conv(%x: tensor<2x4x9x10xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>,
                %dw: tensor<6x1x3x3xf32>, %t: tensor<6x3x2x2xf32>) -> (tensor<2x6x5x5xf32>, tensor<2x6x4x4xf32>, tensor<2x3x9x9xf32>) {
  %0 = tessel.conv %x, %w, %b layout nchw, oihw {groups = 2 : i64, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 0>}
         : (tensor<2x4x9x10xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x5x5xf32>
  %1 = tessel.conv %0, %dw layout nchw, oihw {groups = 6 : i64, dilations = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : (tensor<2x6x5x5xf32>, tensor<6x1x3x3xf32>) -> tensor<2x6x3x3xf32>
  %2 = tessel.conv_transpose %1, %t layout nchw, iohw {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, output_padding = array<i64: 1, 1>}
         : (tensor<2x6x3x3xf32>, tensor<6x3x2x2xf32>) -> tensor<2x3x7x7xf32>
  %3 = tessel.pad constant %2 {padding = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : tensor<2x3x7x7xf32> -> tensor<2x3x9x9xf32>
  %4 = tessel.pool max %1 layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>}
         : tensor<2x6x3x3xf32> -> tensor<2x6x4x4xf32>
  return %0, %4, %3 : tensor<2x6x5x5xf32>, tensor<2x6x4x4xf32>, tensor<2x3x9x9xf32>
}

func.func @pool(%x: tensor<1x7x9x8xf32>, %v: tensor<2x3x10xf32>) -> (tensor<1x4x5x8xf32>, tensor<1x3x4x8xf32>, tensor<2x3x8xf32>, tensor<1x3x2x8xf32>, tensor<1x1x1x8xf32>) {
  %0 = tessel.pool avg %x layout nhwc {kernel = array<i64: 2, 2>, ceil_mode, count_include_pad, strides = array<i64: 2, 2>}
         : tensor<1x7x9x8xf32> -> tensor<1x4x5x8xf32>
  %1 = tessel.pool max %x layout nhwc {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>}
         : tensor<1x7x9x8xf32> -> tensor<1x3x4x8xf32>
  %2 = tessel.pool lp %v layout ncw {kernel = array<i64: 3>, strides = array<i64: 1>, p = 3.0 : f64}
         : tensor<2x3x10xf32> -> tensor<2x3x8xf32>
  %3 = tessel.adaptive_pool avg %x layout nhwc {output_size = array<i64: 3, 2>}
         : tensor<1x7x9x8xf32> -> tensor<1x3x2x8xf32>
  %4 = tessel.global_pool max %x layout nhwc : tensor<1x7x9x8xf32> -> tensor<1x1x1x8xf32>
  return %0, %1, %2, %3, %4 : tensor<1x4x5x8xf32>, tensor<1x3x4x8xf32>, tensor<2x3x8xf32>, tensor<1x3x2x8xf32>, tensor<1x1x1x8xf32>
}

func.func @norm(%x: tensor<2x5x4x3xf32>, %s: tensor<5xf32>, %b: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>) -> tensor<2x5x4x3xf32> {
  %sq = tessel.mul %v, %v : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
  %0 = tessel.batch_norm %x, %s, %b, %m, %sq layout nchw {epsilon = 1.0e-3 : f64}
         : (tensor<2x5x4x3xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x5x4x3xf32>
  return %0 : tensor<2x5x4x3xf32>
}

func.func @elementwise(%x: tensor<3x4x5xf32>, %y: tensor<4x1xf32>) -> tensor<3x4x5xf32> {
  %0 = tessel.add %x, %y : (tensor<3x4x5xf32>, tensor<4x1xf32>) -> tensor<3x4x5xf32>
  %1 = tessel.sigmoid %0 : tensor<3x4x5xf32>
  %2 = tessel.tanh %x : tensor<3x4x5xf32>
  %3 = tessel.mul %1, %2 : (tensor<3x4x5xf32>, tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
  %4 = tessel.leaky_relu %3 {alpha = 0.2 : f64} : tensor<3x4x5xf32>
  %5 = tessel.abs %x : tensor<3x4x5xf32>
  %6 = tessel.sqrt %5 : tensor<3x4x5xf32>
  %7 = tessel.exp %6 : tensor<3x4x5xf32>
  %8 = tessel.sub %4, %7 : (tensor<3x4x5xf32>, tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
  %9 = tessel.clamp %8 {min = -2.0 : f64, max = 0.5 : f64} : tensor<3x4x5xf32>
  return %9 : tensor<3x4x5xf32>
}

func.func @linear(%x: tensor<6x17xf32>, %w: tensor<9x17xf32>, %b: tensor<9xf32>, %a: tensor<2x1x4x8xf32>, %c: tensor<3x8x5xf32>) -> (tensor<6x9xf32>, tensor<2x3x4x5xf32>) {
  %0 = tessel.linear %x, %w, %b : (tensor<6x17xf32>, tensor<9x17xf32>, tensor<9xf32>) -> tensor<6x9xf32>
  %1 = tessel.matmul %a, %c : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %0, %1 : tensor<6x9xf32>, tensor<2x3x4x5xf32>
}

func.func @tensor(%x: tensor<2x3x4x1xf32>, %y: tensor<2x5x4x1xf32>) -> (tensor<2x8x4xf32>, tensor<1x4x3x2xf32>, tensor<2x1x4x3xf32>) {
  %0 = tessel.concat %x, %y {axis = 1 : i64} : (tensor<2x3x4x1xf32>, tensor<2x5x4x1xf32>) -> tensor<2x8x4x1xf32>
  %1 = tessel.reshape %0 {shape = array<i64: 2, -1, 4>} : tensor<2x8x4x1xf32> -> tensor<2x8x4xf32>
  %2 = tessel.transpose %x {perm = array<i64: 3, 2, 1, 0>} : tensor<2x3x4x1xf32> -> tensor<1x4x3x2xf32>
  %3 = tessel.relayout %x from nchw to nhwc : tensor<2x3x4x1xf32> -> tensor<2x4x1x3xf32>
  %4 = tessel.transpose %3 {perm = array<i64: 0, 2, 1, 3>} : tensor<2x4x1x3xf32> -> tensor<2x1x4x3xf32>
  return %1, %2, %4 : tensor<2x8x4xf32>, tensor<1x4x3x2xf32>, tensor<2x1x4x3xf32>
}

func.func @resample(%x: tensor<1x8x5x6xf32>) -> (tensor<1x8x7x11xf32>, tensor<1x8x10x12xf32>, tensor<1x8x9x12xf32>, tensor<1x2x10x12xf32>) {
  %0 = tessel.pad reflect %x {padding = array<i64: 0, 0, 1, 2, 0, 0, 1, 2>} : tensor<1x8x5x6xf32> -> tensor<1x8x7x10xf32>
  %1 = tessel.pad replicate %0 {padding = array<i64: 0, 0, 0, 1, 0, 0, 0, 0>} : tensor<1x8x7x10xf32> -> tensor<1x8x7x11xf32>
  %2 = tessel.upsample nearest %x layout nchw {size = array<i64: 10, 12>} : tensor<1x8x5x6xf32> -> tensor<1x8x10x12xf32>
  %3 = tessel.upsample linear %x layout nchw {scales = array<f64: 1.8, 2.0>, align_corners} : tensor<1x8x5x6xf32> -> tensor<1x8x9x12xf32>
  %4 = tessel.pixel_shuffle %x layout nchw {factor = 2 : i64} : tensor<1x8x5x6xf32> -> tensor<1x2x10x12xf32>
  return %1, %2, %3, %4 : tensor<1x8x7x11xf32>, tensor<1x8x10x12xf32>, tensor<1x8x9x12xf32>, tensor<1x2x10x12xf32>
}

func.func @reduction(%x: tensor<4x6x3x5xf32>, %p: tensor<4x6xf32>) -> (tensor<4x6x3x5xf32>, tensor<4x6xf32>, tensor<4x6x1x1xf32>, tensor<4x6xf32>, tensor<f32>) {
  %0 = tessel.softmax %x {axis = 1 : i64} : tensor<4x6x3x5xf32>
  %1 = tessel.log_softmax %p {axis = -1 : i64} : tensor<4x6xf32>
  %2 = tessel.mean %x {axes = array<i64: 2, 3>, keepdims} : tensor<4x6x3x5xf32> -> tensor<4x6x1x1xf32>
  %3 = tessel.sum %x {axes = array<i64: -1, -2>} : tensor<4x6x3x5xf32> -> tensor<4x6xf32>
  %4 = tessel.mse_loss mean %p, %1 : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<f32>
  return %0, %1, %2, %3, %4 : tensor<4x6x3x5xf32>, tensor<4x6xf32>, tensor<4x6x1x1xf32>, tensor<4x6xf32>, tensor<f32>
}

// A training step's updates, tied to their inputs (the JIT computes them in
// copies of the inputs, the C entry points write them out like any output).
func.func @optimizer(%w: tensor<3x8xf32>, %g: tensor<3x8xf32>, %v: tensor<3x8xf32>,
                     %p: tensor<5x2xf32>, %q: tensor<5x2xf32>, %u: tensor<5x2xf32>)
    -> (tensor<3x8xf32> {tessel.updates = 0 : i64}, tensor<3x8xf32> {tessel.updates = 2 : i64},
        tensor<5x2xf32> {tessel.updates = 3 : i64}, tensor<5x2xf32> {tessel.updates = 5 : i64}) {
  %w2, %v2 = tessel.sgd_update %w, %g, %v {learning_rate = 0.1 : f64, momentum = 0.9 : f64, weight_decay = 0.01 : f64}
      : (tensor<3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>)
  %p2, %u2 = tessel.sgd_update %p, %q, %u {learning_rate = 0.05 : f64, momentum = 0.5 : f64, nesterov}
      : (tensor<5x2xf32>, tensor<5x2xf32>, tensor<5x2xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>)
  return %w2, %v2, %p2, %u2 : tensor<3x8xf32>, tensor<3x8xf32>, tensor<5x2xf32>, tensor<5x2xf32>
}
