// RUN: tessel-opt --split-input-file --tessel-autodiff %s | FileCheck %s

// Conv (strided, padded, with bias): the input gradient is a conv_transpose
// of the output gradient with the same filter (output_padding recovers the
// row the stride skipped), the filter gradient a conv_backward_filter, the
// bias gradient a sum over every dim but channels.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: -> (tensor<f32> {tessel.name = "loss"}, tensor<2x3x8x8xf32> {tessel.name = "grad_x"}, tensor<4x3x3x3xf32> {tessel.name = "grad_w"}, tensor<4xf32> {tessel.name = "grad_b"})
// CHECK: %[[Y:.+]] = tessel.conv %arg0, %arg1, %arg2
// CHECK: %[[ONE:.+]] = tessel.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DY:.+]] = tessel.add
// CHECK: %[[DX:.+]] = tessel.conv_transpose %[[DY]], %arg1 layout nchw, iohw {dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
// CHECK: %[[DW:.+]] = tessel.conv_backward_filter %arg0, %[[DY]] layout nchw, oihw {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32>) -> tensor<4x3x3x3xf32>
// CHECK: %[[DB:.+]] = tessel.sum %[[DY]] {axes = array<i64: 0, 2, 3>} : tensor<2x4x4x4xf32> -> tensor<4xf32>
// CHECK: return %{{.+}}, %[[DX]], %[[DW]], %[[DB]]
func.func @conv(%x: tensor<2x3x8x8xf32> {tessel.name = "x"}, %w: tensor<4x3x3x3xf32> {tessel.name = "w"},
                %b: tensor<4xf32> {tessel.name = "b"}) -> (tensor<f32> {tessel.name = "loss"}) {
  %y = tessel.conv %x, %w, %b layout nchw, oihw {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %s = tessel.sum %y : tensor<2x4x4x4xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// A channels-last depthwise conv with a spatial-first filter: conv_transpose
// reads *io filters as [k..., C_in, C_out / groups], so the filter's channel
// dims are swapped for the input gradient; the filter gradient keeps hwio.
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[SWAPPED:.+]] = tessel.transpose %arg1 {perm = array<i64: 0, 1, 3, 2>} : tensor<3x3x1x8xf32> -> tensor<3x3x8x1xf32>
// CHECK: tessel.conv_transpose %{{.+}}, %[[SWAPPED]] layout nhwc, hwio {{{.*}}groups = 8 : i64{{.*}}} : (tensor<1x4x4x8xf32>, tensor<3x3x8x1xf32>) -> tensor<1x8x8x8xf32>
// CHECK: tessel.conv_backward_filter %arg0, %{{.+}} layout nhwc, hwio {{{.*}}groups = 8 : i64, kernel = array<i64: 3, 3>{{.*}}} : (tensor<1x8x8x8xf32>, tensor<1x4x4x8xf32>) -> tensor<3x3x1x8xf32>
func.func @depthwise(%x: tensor<1x8x8x8xf32>, %w: tensor<3x3x1x8xf32>) -> tensor<f32> {
  %y = tessel.conv %x, %w layout nhwc, hwio {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, groups = 8 : i64} : (tensor<1x8x8x8xf32>, tensor<3x3x1x8xf32>) -> tensor<1x4x4x8xf32>
  %s = tessel.sum %y : tensor<1x4x4x8xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// Max pooling (ResNet's 3x3/s2/p1) then ReLU: the ReLU's mask multiplies
// the gradient, pool_backward sends each window's gradient to its first
// maximum.
// CHECK-LABEL: func.func @maxpool
// CHECK: %[[P:.+]] = tessel.pool max %arg0
// CHECK: %[[SIGN:.+]] = tessel.sign %[[P]]
// CHECK: %[[MASK:.+]] = tessel.relu %[[SIGN]]
// CHECK: %[[DP:.+]] = tessel.mul %{{.+}}, %[[MASK]]
// CHECK: %[[DX:.+]] = tessel.pool_backward max %arg0, %[[DP]] layout nchw {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x9x9xf32>, tensor<1x4x5x5xf32>) -> tensor<1x4x9x9xf32>
// CHECK: return %{{.+}}, %[[DX]]
func.func @maxpool(%x: tensor<1x4x9x9xf32>) -> tensor<f32> {
  %p = tessel.pool max %x layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x4x9x9xf32> -> tensor<1x4x5x5xf32>
  %r = tessel.relu %p : tensor<1x4x5x5xf32>
  %s = tessel.sum %r : tensor<1x4x5x5xf32> -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// Average pooling keeps its divisor rule; global average pooling becomes
// pool_backward with the whole spatial extent as the kernel.
// CHECK-LABEL: func.func @avgpool
// CHECK: tessel.pool_backward avg %arg0, %{{.+}} layout nhwc {count_include_pad, kernel = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<1x5x5x2xf32>) -> tensor<1x4x4x2xf32>
// CHECK: tessel.pool_backward avg %arg0, %{{.+}} layout nhwc {kernel = array<i64: 4, 4>} : (tensor<1x4x4x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x4x4x2xf32>
func.func @avgpool(%x: tensor<1x4x4x2xf32>) -> tensor<f32> {
  %g = tessel.global_pool avg %x layout nhwc : tensor<1x4x4x2xf32> -> tensor<1x1x1x2xf32>
  %p = tessel.pool avg %x layout nhwc {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<1x4x4x2xf32> -> tensor<1x5x5x2xf32>
  %a = tessel.sum %g : tensor<1x1x1x2xf32> -> tensor<f32>
  %b = tessel.sum %p : tensor<1x5x5x2xf32> -> tensor<f32>
  %s = tessel.add %a, %b : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// Training batch norm: dx = inv / M (M g - sum(g) - xhat sum(g xhat)) with
// g = dy * scale, from the op's own batch statistics (M = 2 * 3 * 3 = 18
// elements per channel); dscale = sum(dy xhat), dbias = sum(dy).
// CHECK-LABEL: func.func @batch_norm_train
// CHECK: %{{.+}}, %[[MEAN:.+]], %[[VAR:.+]] = tessel.batch_norm_train %arg0, %arg1, %arg2 layout nchw
// CHECK: %[[EPS:.+]] = tessel.constant dense<9.99999974E-6> : tensor<f32>
// CHECK: %[[VE:.+]] = tessel.add %[[VAR]], %[[EPS]]
// CHECK: %[[INV:.+]] = tessel.pow %[[VE]], %{{.+}} : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
// CHECK: %[[CENTERED:.+]] = tessel.sub %arg0, %{{.+}} : (tensor<2x4x3x3xf32>, tensor<4x1x1xf32>) -> tensor<2x4x3x3xf32>
// CHECK: %[[XHAT:.+]] = tessel.mul %[[CENTERED]], %{{.+}} : (tensor<2x4x3x3xf32>, tensor<4x1x1xf32>) -> tensor<2x4x3x3xf32>
// CHECK: %[[G:.+]] = tessel.mul %[[DY:.+]], %{{.+}} : (tensor<2x4x3x3xf32>, tensor<4x1x1xf32>) -> tensor<2x4x3x3xf32>
// CHECK: %[[GSUM:.+]] = tessel.sum %[[G]] {axes = array<i64: 0, 2, 3>} : tensor<2x4x3x3xf32> -> tensor<4xf32>
// CHECK: %[[GX:.+]] = tessel.mul %[[G]], %[[XHAT]]
// CHECK: tessel.constant dense<1.800000e+01> : tensor<f32>
// CHECK: %[[DSCALE_IN:.+]] = tessel.mul %[[DY]], %[[XHAT]]
// CHECK: %[[DSCALE:.+]] = tessel.sum %[[DSCALE_IN]] {axes = array<i64: 0, 2, 3>} : tensor<2x4x3x3xf32> -> tensor<4xf32>
// CHECK: %[[DBIAS:.+]] = tessel.sum %[[DY]] {axes = array<i64: 0, 2, 3>} : tensor<2x4x3x3xf32> -> tensor<4xf32>
// CHECK: return %{{.+}}, %{{.+}}, %[[DSCALE]], %[[DBIAS]]
func.func @batch_norm_train(%x: tensor<2x4x3x3xf32>, %scale: tensor<4xf32>, %bias: tensor<4xf32>) -> tensor<f32> {
  %y, %m, %v = tessel.batch_norm_train %x, %scale, %bias layout nchw : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %t = tessel.tanh %y : tensor<2x4x3x3xf32>
  %s = tessel.sum %t : tensor<2x4x3x3xf32> -> tensor<f32>
  return %s : tensor<f32>
}
