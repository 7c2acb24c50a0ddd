// RUN: tessel-opt --split-input-file --verify-diagnostics --tessel-jvp="wrt=p" %s

// An op without a tangent rule on the way from p to an output is named.
func.func @no_rule(%p: tensor<3xf32> {tessel.name = "p"}, %g: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{no tangent rule for 'tessel.sgd_update'}}
  %0, %1 = tessel.sgd_update %p, %g, %g {learning_rate = 0.1 : f64} : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return %0 : tensor<3xf32>
}

// -----

// Integer tensors have no tangent.
// expected-error @+1 {{cannot differentiate with respect to 'p': its type 'tensor<4xi64>' is not a float tensor}}
func.func @integer_wrt(%p: tensor<4xi64> {tessel.name = "p"}, %logits: tensor<4x3xf32>) -> tensor<f32> {
  %0 = tessel.cross_entropy mean %logits, %p : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Unknown names list the known ones.
// expected-error @+1 {{has no input or named constant 'p' to differentiate with respect to (known: a, b)}}
func.func @unknown_wrt(%a: tensor<2xf32> {tessel.name = "a"}, %b: tensor<2xf32> {tessel.name = "b"}) -> tensor<f32> {
  %0 = tessel.sum %a : tensor<2xf32> -> tensor<f32>
  return %0 : tensor<f32>
}
