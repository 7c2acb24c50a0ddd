// RUN: tessel-opt --tessel-autodiff="wrt=x" --tessel-jvp="wrt=x outputs=grad_x" %s | FileCheck %s

// Forward over reverse: the tangent of the max pool's gradient is
// pool_backward of the gradient's tangent (the argmax does not move), and
// the square's derivative 2p multiplies tangents as it multiplies gradients.
// At the pass level the Hessian-vector product is the result jvp_grad_x.
// CHECK-LABEL: func.func @hvp
// CHECK-SAME: -> (tensor<f32> {tessel.name = "loss"}, tensor<1x2x6x6xf32> {tessel.name = "grad_x"}, tensor<1x2x6x6xf32> {tessel.name = "jvp_grad_x"})
// CHECK: %[[DX:.+]] = tessel.pool_backward max %arg0, %[[DP:.+]] layout nchw
// CHECK: %[[TP:.+]] = tessel.pool_tangent max %arg0, %arg1
// CHECK: %[[TDX:.+]] = tessel.pool_backward max %arg0, %{{.+}} layout nchw {kernel = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x6x6xf32>
// CHECK: return %{{.+}}, %[[DX]], %[[TDX]]
func.func @hvp(%x: tensor<1x2x6x6xf32> {tessel.name = "x"}) -> (tensor<f32> {tessel.name = "loss"}) {
  %p = tessel.pool max %x layout nchw {kernel = array<i64: 2, 2>} : tensor<1x2x6x6xf32> -> tensor<1x2x3x3xf32>
  %q = tessel.mul %p, %p : (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %s = tessel.sum %q : tensor<1x2x3x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}
