// RUN: tessel-opt --split-input-file --verify-diagnostics --tessel-to-linalg %s

// An op without a lowering yet fails the pass with the op named.
func.func @no_lowering(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{failed to legalize operation 'tessel.adaptive_pool'}}
  %0 = tessel.adaptive_pool avg %x layout nchw {output_size = array<i64: 2, 2>} : tensor<1x4x8x8xf32> -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}
