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
