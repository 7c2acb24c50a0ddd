// RUN: tessel-opt --split-input-file --tessel-convert-layout %s | FileCheck %s

// An NCHW conv -> batch_norm -> relu -> pool chain computes channels-last:
// one relayout in, one out, the OIHW weights transposed to HWIO at compile
// time.
// CHECK-LABEL: func @nchw_chain
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x8x8xf32>
// CHECK: %[[W:.+]] = tessel.constant dense<{{.+}}> : tensor<3x3x3x4xf32>
// CHECK: %[[IN:.+]] = tessel.relayout %[[X]] from nchw to nhwc
// CHECK: %[[C:.+]] = tessel.conv %[[IN]], %[[W]] layout nhwc, hwio
// CHECK: %[[B:.+]] = tessel.batch_norm %[[C]], {{.*}} layout nhwc
// CHECK: %[[R:.+]] = tessel.relu %[[B]] : tensor<1x8x8x4xf32>
// CHECK: %[[P:.+]] = tessel.pool max %[[R]] layout nhwc
// CHECK: %[[OUT:.+]] = tessel.relayout %[[P]] from nhwc to nchw : tensor<1x4x4x4xf32> -> tensor<1x4x4x4xf32>
// CHECK-NOT: tessel.relayout
// CHECK: return %[[OUT]]
func.func @nchw_chain(%x: tensor<1x3x8x8xf32>, %c: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %w = tessel.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]> : tensor<4x3x3x3xf32>
  %0 = tessel.conv %x, %w layout nchw, oihw {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %1 = tessel.batch_norm %0, %c, %c, %c, %c layout nchw : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %2 = tessel.relu %1 : tensor<1x4x8x8xf32>
  %3 = tessel.pool max %2 layout nchw {kernel = array<i64: 2, 2>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %3 : tensor<1x4x4x4xf32>
}

// -----

// Batch norm in training mode too (its batch mean and variance have no
// layout): an NCHW training net's convs and norms stay channels-last
// between each other, one relayout in and one out.
// CHECK-LABEL: func @nchw_batch_norm_train
// CHECK: %[[IN:.+]] = tessel.relayout %arg0 from nchw to nhwc
// CHECK: %[[C:.+]] = tessel.conv %[[IN]], {{.*}} layout nhwc, hwio
// CHECK: %[[Y:.+]], %[[M:.+]], %[[V:.+]] = tessel.batch_norm_train %[[C]], %arg2, %arg2 layout nhwc : (tensor<1x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<1x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[R:.+]] = tessel.relu %[[Y]] : tensor<1x8x8x4xf32>
// CHECK: %[[C2:.+]] = tessel.conv %[[R]], {{.*}} layout nhwc, hwio
// CHECK: %[[OUT:.+]] = tessel.relayout %[[C2]] from nhwc to nchw
// CHECK-NOT: tessel.relayout
// CHECK: return %[[OUT]], %[[M]], %[[V]]
func.func @nchw_batch_norm_train(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %c: tensor<4xf32>,
                                 %w2: tensor<4x4x1x1xf32>) -> (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = tessel.conv %x, %w layout nchw, oihw {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %y, %m, %v = tessel.batch_norm_train %0, %c, %c layout nchw : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>)
  %1 = tessel.relu %y : tensor<1x4x8x8xf32>
  %2 = tessel.conv %1, %w2 layout nchw, oihw : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  return %2, %m, %v : tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// The transpose of constant weights is folded with the values permuted:
// OIHW [o][i][h][w] = o*100 + i*10 + h (w = 1) becomes HWIO [h][0][i][o].
// CHECK-LABEL: func @weights_folded
// CHECK: tessel.constant dense<{{\[}}[{{\[}}[0.000000e+00, 1.000000e+02], [1.000000e+01, 1.100000e+02]]], {{\[}}[{{\[}}1.000000e+00, 1.010000e+02], [1.100000e+01, 1.110000e+02]]]]> : tensor<2x1x2x2xf32>
func.func @weights_folded(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x3x4xf32> {
  %w = tessel.constant dense<[[[[0.0], [1.0]], [[10.0], [11.0]]], [[[100.0], [101.0]], [[110.0], [111.0]]]]> : tensor<2x2x2x1xf32>
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x2x4x4xf32>, tensor<2x2x2x1xf32>) -> tensor<1x2x3x4xf32>
  return %0 : tensor<1x2x3x4xf32>
}

// -----

// A residual add of two relayouts of the same kind moves past the add; a
// global pool's 1x1 result changes layout as a reshape.
// CHECK-LABEL: func @residual
// CHECK: tessel.add %{{.+}}, %{{.+}} : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>)
// CHECK: tessel.global_pool avg %{{.+}} layout nhwc
// CHECK: tessel.reshape %{{.+}} {shape = array<i64: 1, 8, 1, 1>}
// CHECK-NOT: tessel.relayout
func.func @residual(%x: tensor<1x4x4x8xf32>, %w: tensor<3x3x8x8xf32>) -> tensor<1x8x1x1xf32> {
  %a = tessel.relayout %x from nhwc to nchw : tensor<1x4x4x8xf32> -> tensor<1x8x4x4xf32>
  %c = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x8xf32>, tensor<3x3x8x8xf32>) -> tensor<1x4x4x8xf32>
  %b = tessel.relayout %c from nhwc to nchw : tensor<1x4x4x8xf32> -> tensor<1x8x4x4xf32>
  %s = tessel.add %a, %b : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %g = tessel.global_pool avg %s layout nchw : tensor<1x8x4x4xf32> -> tensor<1x8x1x1xf32>
  return %g : tensor<1x8x1x1xf32>
}

// -----

// A per-channel scale between two convs (a batch norm's input gradient, the
// values of shape [C, 1, 1]) is reshaped for channels-last data, so the
// relayouts around it cancel.
// CHECK-LABEL: func @channel_scale
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x6x6xf32>, %[[W:.+]]: tensor<4x4x1x1xf32>, %[[S:.+]]: tensor<4x1x1xf32>)
// CHECK: %[[IN:.+]] = tessel.relayout %[[X]] from nchw to nhwc
// CHECK: %[[C1:.+]] = tessel.conv %[[IN]]
// CHECK: %[[SL:.+]] = tessel.reshape %[[S]] {shape = array<i64: 1, 1, 1, 4>} : tensor<4x1x1xf32> -> tensor<1x1x1x4xf32>
// CHECK: %[[M:.+]] = tessel.mul %[[C1]], %[[SL]] : (tensor<1x6x6x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x6x6x4xf32>
// CHECK: %[[D:.+]] = tessel.sub %{{.+}}, %[[M]]
// CHECK: %[[C2:.+]] = tessel.conv %[[D]]
// CHECK: %[[OUT:.+]] = tessel.relayout %[[C2]] from nhwc to nchw
// CHECK-NOT: tessel.relayout
// CHECK: return %[[OUT]]
func.func @channel_scale(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x1x1xf32>, %s: tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32> {
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %1 = tessel.mul %0, %s : (tensor<1x4x6x6xf32>, tensor<4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %c = tessel.constant dense<1.0> : tensor<1x4x1x1xf32>
  %2 = tessel.sub %c, %1 : (tensor<1x4x1x1xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %3 = tessel.conv %2, %w layout nchw, oihw : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x6x6xf32>
  return %3 : tensor<1x4x6x6xf32>
}

// -----

// A spatially varying operand keeps its relayout.
// CHECK-LABEL: func @not_per_channel
// CHECK: tessel.relayout %{{.+}} from nhwc to nchw
// CHECK: tessel.mul %{{.+}}, %{{.+}} : (tensor<1x4x6x6xf32>, tensor<6x1xf32>)
func.func @not_per_channel(%x: tensor<1x4x6x6xf32>, %w: tensor<4x4x1x1xf32>, %s: tensor<6x1xf32>) -> tensor<1x4x6x6xf32> {
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x6x6xf32>
  %1 = tessel.mul %0, %s : (tensor<1x4x6x6xf32>, tensor<6x1xf32>) -> tensor<1x4x6x6xf32>
  return %1 : tensor<1x4x6x6xf32>
}

// -----

// Pooling gradients compute channels-last like the pools: both activation
// operands are relayouted.
// CHECK-LABEL: func @pool_gradient
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x6x6xf32>, %[[DY:.+]]: tensor<1x3x3x3xf32>)
// CHECK-DAG: %[[XL:.+]] = tessel.relayout %[[X]] from nchw to nhwc
// CHECK-DAG: %[[DYL:.+]] = tessel.relayout %[[DY]] from nchw to nhwc
// CHECK: %[[G:.+]] = tessel.pool_backward max %[[XL]], %[[DYL]] layout nhwc
// CHECK: tessel.relayout %[[G]] from nhwc to nchw : tensor<1x6x6x3xf32> -> tensor<1x3x6x6xf32>
func.func @pool_gradient(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x3x3x3xf32>) -> tensor<1x3x6x6xf32> {
  %0 = tessel.pool_backward max %x, %dy layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x3x6x6xf32>, tensor<1x3x3x3xf32>) -> tensor<1x3x6x6xf32>
  return %0 : tensor<1x3x6x6xf32>
}

// -----

// A reduction of a relayout reduces the channels-last tensor over the same
// dims: the per-channel sum of a batch-norm gradient needs no NCHW copy. With
// keepdims the small result is relayouted instead (a relayout of 1x1 spatial
// dims is then a reshape). A reduction whose kept dims would come out
// transposed keeps its relayout.
// CHECK-LABEL: func @reduction_of_relayout
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x4x8xf32>)
// CHECK: %[[BACK:.+]] = tessel.relayout %[[X]] from nhwc to nchw
// CHECK: tessel.sum %[[X]] {axes = array<i64: 0, 1, 2>} : tensor<2x4x4x8xf32> -> tensor<8xf32>
// CHECK: %[[MEAN:.+]] = tessel.mean %[[X]] {axes = array<i64: 1, 2>, keepdims} : tensor<2x4x4x8xf32> -> tensor<2x1x1x8xf32>
// CHECK: tessel.reshape %[[MEAN]] {shape = array<i64: 2, 8, 1, 1>} : tensor<2x1x1x8xf32> -> tensor<2x8x1x1xf32>
// CHECK: tessel.max %[[BACK]] {axes = array<i64: 0>}
func.func @reduction_of_relayout(%x: tensor<2x4x4x8xf32>) -> (tensor<8xf32>, tensor<2x8x1x1xf32>, tensor<8x4x4xf32>) {
  %0 = tessel.relayout %x from nhwc to nchw : tensor<2x4x4x8xf32> -> tensor<2x8x4x4xf32>
  %1 = tessel.sum %0 {axes = array<i64: 0, 2, -1>} : tensor<2x8x4x4xf32> -> tensor<8xf32>
  %2 = tessel.mean %0 {axes = array<i64: 2, 3>, keepdims} : tensor<2x8x4x4xf32> -> tensor<2x8x1x1xf32>
  %3 = tessel.max %0 {axes = array<i64: 0>} : tensor<2x8x4x4xf32> -> tensor<8x4x4xf32>
  return %1, %2, %3 : tensor<8xf32>, tensor<2x8x1x1xf32>, tensor<8x4x4xf32>
}

// -----

// A concatenation of relayouts concatenates the channels-last tensors along
// the same dim (channels, written -3 here, is dim 3 of NHWC) and is relayouted
// once: a DenseNet block's batch norm then reads it channels-last (its
// relayouts cancel). A concat with an operand that is not a relayout stays.
// CHECK-LABEL: func @concat_of_relayouts
// CHECK-SAME: (%[[A:.+]]: tensor<1x4x4x8xf32>, %[[B:.+]]: tensor<1x4x4x16xf32>, %[[C:.+]]: tensor<1x8x4x4xf32>)
// CHECK: %[[AL:.+]] = tessel.relayout %[[A]] from nhwc to nchw
// CHECK: %[[CAT:.+]] = tessel.concat %[[A]], %[[B]] {axis = 3 : i64} : (tensor<1x4x4x8xf32>, tensor<1x4x4x16xf32>) -> tensor<1x4x4x24xf32>
// CHECK: %[[BACK:.+]] = tessel.relayout %[[CAT]] from nhwc to nchw : tensor<1x4x4x24xf32> -> tensor<1x24x4x4xf32>
// CHECK: tessel.concat %[[AL]], %[[C]] {axis = 1 : i64}
// CHECK: return %[[BACK]]
func.func @concat_of_relayouts(%a: tensor<1x4x4x8xf32>, %b: tensor<1x4x4x16xf32>, %c: tensor<1x8x4x4xf32>) -> (tensor<1x24x4x4xf32>, tensor<1x16x4x4xf32>) {
  %0 = tessel.relayout %a from nhwc to nchw : tensor<1x4x4x8xf32> -> tensor<1x8x4x4xf32>
  %1 = tessel.relayout %b from nhwc to nchw : tensor<1x4x4x16xf32> -> tensor<1x16x4x4xf32>
  %2 = tessel.concat %0, %1 {axis = -3 : i64} : (tensor<1x8x4x4xf32>, tensor<1x16x4x4xf32>) -> tensor<1x24x4x4xf32>
  %3 = tessel.concat %0, %c {axis = 1 : i64} : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x16x4x4xf32>
  return %2, %3 : tensor<1x24x4x4xf32>, tensor<1x16x4x4xf32>
}
