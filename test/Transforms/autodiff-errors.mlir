// RUN: tessel-opt --split-input-file --verify-diagnostics --tessel-autodiff="wrt=x" %s

// An op without a gradient rule on the way from the loss to x is named.
func.func @no_rule(%x: tensor<1x2x4x4xf32> {tessel.name = "x"}, %dy: tensor<1x2x2x2xf32>) -> tensor<f32> {
  // expected-error @+1 {{no gradient rule for 'tessel.pool_backward'}}
  %0 = tessel.pool_backward max %x, %dy layout nchw {kernel = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32>
  %1 = tessel.sum %0 : tensor<1x2x4x4xf32> -> tensor<f32>
  return %1 : tensor<f32>
}

// -----

// Integer tensors have no gradient.
// expected-error @+1 {{cannot differentiate with respect to 'x': its type 'tensor<4xi64>' is not a float tensor}}
func.func @integer_wrt(%x: tensor<4xi64> {tessel.name = "x"}, %logits: tensor<4x3xf32>) -> tensor<f32> {
  %0 = tessel.cross_entropy mean %logits, %x : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// A loss is a scalar; other outputs need their cotangent as an input.
// expected-error @+1 {{output 'result0' has shape [2, 3], but a loss must be a scalar (one element)}}
func.func @vector_loss(%x: tensor<2x3xf32> {tessel.name = "x"}) -> tensor<2x3xf32> {
  %0 = tessel.tanh %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Unknown names list the known ones.
// expected-error @+1 {{has no input or named constant 'x' to differentiate with respect to (known: a, b)}}
func.func @unknown_wrt(%a: tensor<2xf32> {tessel.name = "a"}, %b: tensor<2xf32> {tessel.name = "b"}) -> tensor<f32> {
  %0 = tessel.sum %a : tensor<2xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Several outputs: the loss must be named.
// expected-error @+1 {{function 'two_outputs' has 2 outputs; name the one(s) to differentiate}}
func.func @two_outputs(%x: tensor<2xf32> {tessel.name = "x"}) -> (tensor<f32>, tensor<f32>) {
  %0 = tessel.sum %x : tensor<2xf32> -> tensor<f32>
  return %0, %0 : tensor<f32>, tensor<f32>
}

// -----

// A loss that does not depend on x: its gradient is zero, with a warning.
// expected-warning @+1 {{the differentiated outputs do not depend on 'x'; its gradient is zero}}
func.func @independent(%x: tensor<2xf32> {tessel.name = "x"}, %y: tensor<3xf32>) -> tensor<f32> {
  %0 = tessel.sum %y : tensor<3xf32> -> tensor<f32>
  return %0 : tensor<f32>
}
