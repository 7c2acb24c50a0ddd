// RUN: tessel-opt --split-input-file --tessel-jvp %s | FileCheck %s

// Conv is bilinear: the tangent is conv(dx, w) + conv(x, dw), built without
// the bias, plus the bias's tangent per channel. Tangents are new arguments,
// the JVP a new result.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: %arg3: tensor<2x3x8x8xf32> {tessel.name = "tangent_x"}, %arg4: tensor<4x3x3x3xf32> {tessel.name = "tangent_w"}, %arg5: tensor<4xf32> {tessel.name = "tangent_b"}
// CHECK-SAME: -> (tensor<2x4x4x4xf32> {tessel.name = "y"}, tensor<2x4x4x4xf32> {tessel.name = "jvp_y"})
// CHECK: %[[Y:.+]] = tessel.conv %arg0, %arg1, %arg2
// CHECK: %[[T1:.+]] = tessel.conv %arg3, %arg1 layout nchw, oihw {{{.*}}strides = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32>
// CHECK: %[[T2:.+]] = tessel.conv %arg0, %arg4 layout nchw, oihw
// CHECK: %[[T12:.+]] = tessel.add %[[T1]], %[[T2]]
// CHECK: %[[B:.+]] = tessel.reshape %arg5 {shape = array<i64: 4, 1, 1>} : tensor<4xf32> -> tensor<4x1x1xf32>
// CHECK: %[[BB:.+]] = tessel.add %{{.+}}, %[[B]]
// CHECK: %[[T:.+]] = tessel.add %[[T12]], %[[BB]]
// CHECK: return %[[Y]], %[[T]]
func.func @conv(%x: tensor<2x3x8x8xf32> {tessel.name = "x"}, %w: tensor<4x3x3x3xf32> {tessel.name = "w"},
                %b: tensor<4xf32> {tessel.name = "b"}) -> (tensor<2x4x4x4xf32> {tessel.name = "y"}) {
  %y = tessel.conv %x, %w, %b layout nchw, oihw {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  return %y : tensor<2x4x4x4xf32>
}

// -----

// Max pooling takes each window's tangent at its first maximum
// (pool_tangent); average pooling is linear, so its tangent is the pool of
// the tangent.
// CHECK-LABEL: func.func @pools
// CHECK: %[[M:.+]] = tessel.pool max %arg0
// CHECK: %[[A:.+]] = tessel.pool avg %[[M]]
// CHECK: %[[TM:.+]] = tessel.pool_tangent max %arg0, %arg1 layout nchw {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x9x9xf32>, tensor<1x4x9x9xf32>) -> tensor<1x4x5x5xf32>
// CHECK: %[[TA:.+]] = tessel.pool avg %[[TM]] layout nchw {count_include_pad, kernel = array<i64: 2, 2>} : tensor<1x4x5x5xf32> -> tensor<1x4x2x2xf32>
// CHECK: return %[[A]], %[[TA]]
func.func @pools(%x: tensor<1x4x9x9xf32>) -> tensor<1x4x2x2xf32> {
  %m = tessel.pool max %x layout nchw {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : tensor<1x4x9x9xf32> -> tensor<1x4x5x5xf32>
  %a = tessel.pool avg %m layout nchw {kernel = array<i64: 2, 2>, count_include_pad} : tensor<1x4x5x5xf32> -> tensor<1x4x2x2xf32>
  return %a : tensor<1x4x2x2xf32>
}

// -----

// Global Lp pooling: y^(1-p) times the window sum (pool_tangent lp over the
// whole spatial extent) of sign(x) |x|^(p-1) dx; adaptive max pooling takes
// the tangent at each window's first maximum.
// CHECK-LABEL: func.func @lp_and_adaptive
// CHECK: %[[G:.+]] = tessel.global_pool lp %arg0
// CHECK: %[[S:.+]] = tessel.adaptive_pool max %arg0
// CHECK: tessel.sign %arg0
// CHECK: tessel.abs %arg0
// CHECK: %[[W:.+]] = tessel.pool_tangent lp %arg0, %{{.+}} layout nhwc {kernel = array<i64: 6, 5>} : (tensor<1x6x5x2xf32>, tensor<1x6x5x2xf32>) -> tensor<1x1x1x2xf32>
// CHECK: %[[F:.+]] = tessel.pow %[[G]], %{{.+}} : (tensor<1x1x1x2xf32>, tensor<f32>) -> tensor<1x1x1x2xf32>
// CHECK: %[[TG:.+]] = tessel.mul %[[W]], %[[F]]
// CHECK: %[[TS:.+]] = tessel.adaptive_pool_tangent max %arg0, %arg1 layout nhwc {output_size = array<i64: 4, 3>} : (tensor<1x6x5x2xf32>, tensor<1x6x5x2xf32>) -> tensor<1x4x3x2xf32>
// CHECK: return %[[G]], %[[S]], %[[TG]], %[[TS]]
func.func @lp_and_adaptive(%x: tensor<1x6x5x2xf32>) -> (tensor<1x1x1x2xf32>, tensor<1x4x3x2xf32>) {
  %g = tessel.global_pool lp %x layout nhwc {p = 3.0 : f64} : tensor<1x6x5x2xf32> -> tensor<1x1x1x2xf32>
  %s = tessel.adaptive_pool max %x layout nhwc {output_size = array<i64: 4, 3>} : tensor<1x6x5x2xf32> -> tensor<1x4x3x2xf32>
  return %g, %s : tensor<1x1x1x2xf32>, tensor<1x4x3x2xf32>
}

// -----

// Shape ops are linear: the tangent goes through the same op; an operand
// without a tangent (the constant) stands in as zeros. Constant padding
// pads the tangent with zeros, not with the fill value.
// CHECK-LABEL: func.func @linear_ops
// CHECK: %[[C:.+]] = tessel.constant
// CHECK: %[[CAT:.+]] = tessel.concat %arg0, %[[C]]
// CHECK: %[[P:.+]] = tessel.pad constant %[[CAT]] {{{.*}}value = 5.000000e-01 : f64}
// CHECK: %[[Z:.+]] = tessel.constant dense<0.000000e+00> : tensor<2x2xf32>
// CHECK: %[[TCAT:.+]] = tessel.concat %arg1, %[[Z]] {axis = 0 : i64}
// CHECK: %[[TP:.+]] = tessel.pad constant %[[TCAT]] {padding = array<i64: 1, 0, 0, 1>} : tensor<4x2xf32> -> tensor<5x3xf32>
// CHECK: %[[TT:.+]] = tessel.transpose %[[TP]]
// CHECK: return %{{.+}}, %[[TT]]
func.func @linear_ops(%x: tensor<2x2xf32>) -> tensor<3x5xf32> {
  %c = tessel.constant dense<1.0> : tensor<2x2xf32>
  %cat = tessel.concat %x, %c {axis = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %p = tessel.pad constant %cat {padding = array<i64: 1, 0, 0, 1>, value = 0.5 : f64} : tensor<4x2xf32> -> tensor<5x3xf32>
  %t = tessel.transpose %p {perm = array<i64: 1, 0>} : tensor<5x3xf32> -> tensor<3x5xf32>
  return %t : tensor<3x5xf32>
}

// -----

// Training batch norm: each of its three results gets a tangent. The batch
// mean's is the channel mean of dx; the variance's 2 sum((x - mu) dx) / M.
// CHECK-LABEL: func.func @batch_norm_train
// CHECK: %[[Y:.+]], %[[MU:.+]], %[[VAR:.+]] = tessel.batch_norm_train %arg0, %arg1, %arg2
// CHECK: %[[SUM:.+]] = tessel.sum %arg3 {axes = array<i64: 0, 2, 3>} : tensor<2x3x4x4xf32> -> tensor<3xf32>
// CHECK: %[[DMU:.+]] = tessel.mul %[[SUM]], %{{.+}} : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
// CHECK: %[[DVAR:.+]] = tessel.mul %{{.+}}, %{{.+}} : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
// CHECK: return %[[Y]], %[[MU]], %[[VAR]], %{{.+}}, %[[DMU]], %[[DVAR]]
func.func @batch_norm_train(%x: tensor<2x3x4x4xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>)
    -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %m, %v = tessel.batch_norm_train %x, %g, %b layout nchw : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y, %m, %v : tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>
}


// -----

// Elementwise ops multiply the tangent by their partial derivatives (the
// same factors their gradients use: 1 - tanh^2, the other factor of a
// product); linear is bilinear, here with the weight constant.
// CHECK-LABEL: func.func @elementwise_linear
// CHECK: %[[B:.+]] = tessel.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]>
// CHECK: %[[W:.+]] = tessel.constant dense<5.000000e-01>
// CHECK: %[[T:.+]] = tessel.tanh %arg0
// CHECK: %[[SQ:.+]] = tessel.mul %[[T]], %[[T]]
// CHECK: %[[D:.+]] = tessel.sub %{{.+}}, %[[SQ]]
// CHECK: %[[DT:.+]] = tessel.mul %arg1, %[[D]]
// CHECK: %[[DM:.+]] = tessel.mul %[[DT]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK: %[[DY:.+]] = tessel.linear %[[DM]], %[[W]] : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK: return %{{.+}}, %[[DY]]
func.func @elementwise_linear(%x: tensor<2x3xf32> {tessel.name = "x"}) -> tensor<2x4xf32> {
  %b = tessel.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %w = tessel.constant dense<0.5> : tensor<4x3xf32>
  %t = tessel.tanh %x : tensor<2x3xf32>
  %m = tessel.mul %t, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %y = tessel.linear %m, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Softmax: y (dx - sum(dx y)). A max reduction averages the tangent over
// the tied maxima (mask 1 - sign|x - max|). Losses reduce their per-element
// tangents: mse's 2 (a - b) (da - db), cross-entropy's
// sum_c (softmax - onehot) dx over the classes.
// CHECK-LABEL: func.func @reductions
// CHECK: %[[S:.+]] = tessel.softmax %arg0
// CHECK: %[[MAX:.+]] = tessel.max %arg0
// CHECK: %[[DOT:.+]] = tessel.sum %{{.+}} {axes = array<i64: 1>, keepdims}
// CHECK: %[[DIFF:.+]] = tessel.sub %arg1, %[[DOT]]
// CHECK: %[[DS:.+]] = tessel.mul %[[S]], %[[DIFF]]
// CHECK: %[[MASK:.+]] = tessel.sub %{{.+}}, %{{.+}} : (tensor<f32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK: %[[TIES:.+]] = tessel.sum %[[MASK]] {axes = array<i64: 1>, keepdims}
// CHECK: %[[PICKED:.+]] = tessel.mul %[[MASK]], %arg1
// CHECK: %[[PSUM:.+]] = tessel.sum %[[PICKED]]
// CHECK: tessel.div %[[PSUM]], %[[TIES]]
// CHECK: %[[ONEHOT:.+]] = tessel.gather
// CHECK: %[[SLOPE:.+]] = tessel.sub %{{.+}}, %[[ONEHOT]]
// CHECK: %[[CE:.+]] = tessel.mul %[[SLOPE]], %arg1
// CHECK: %[[PER:.+]] = tessel.sum %[[CE]] {axes = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
// CHECK: %[[DCE:.+]] = tessel.sum %[[PER]] {axes = array<i64: 0>} : tensor<4xf32> -> tensor<f32>
// CHECK: return %{{.+}}, %{{.+}}, %{{.+}}, %[[DS]], %{{.+}}, %[[DCE]]
func.func @reductions(%x: tensor<4x3xf32> {tessel.name = "x"}) -> (tensor<4x3xf32>, tensor<f32>, tensor<f32>) {
  %target = tessel.constant dense<0.25> : tensor<4xf32>
  %s = tessel.softmax %x {axis = 1 : i64} : tensor<4x3xf32>
  %m = tessel.max %x {axes = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
  %l = tessel.mse_loss mean %m, %target : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  %labels = tessel.constant dense<[0, 2, 1, 1]> : tensor<4xi64>
  %ce = tessel.cross_entropy sum %x, %labels : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %s, %l, %ce : tensor<4x3xf32>, tensor<f32>, tensor<f32>
}

// -----

// By default every float output gets a tangent; integer outputs have none.
// CHECK-LABEL: func.func @integer_output
// CHECK-SAME: -> (tensor<2xf32>, tensor<2xi64>, tensor<2xf32> {tessel.name = "jvp_result0"})
func.func @integer_output(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xi64>) {
  %i = tessel.constant dense<[1, 0]> : tensor<2xi64>
  %y = tessel.neg %x : tensor<2xf32>
  return %y, %i : tensor<2xf32>, tensor<2xi64>
}
