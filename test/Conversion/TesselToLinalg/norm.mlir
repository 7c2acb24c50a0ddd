// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the norm family (NormToLinalg.cpp): inference batch norm
// as one elementwise generic; training batch norm as the batch statistics
// (two reductions, each divided by the element count) and the same
// normalization.

// Inference, channels-first: the four per-channel operands are read along
// the channel dim d1, and epsilon (from the attribute) goes inside rsqrt.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @batch_norm_nchw
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[C]], #[[C]], #[[C]], #[[C]], #[[X]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.+]]: f32, %[[SCALE:.+]]: f32, %[[BIAS:.+]]: f32, %[[MEAN:.+]]: f32, %[[VAR:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[EPS:.+]] = arith.constant 1.000000e-03 : f32
// CHECK: %[[SUM:.+]] = arith.addf %[[VAR]], %[[EPS]] : f32
// CHECK: %[[INV:.+]] = math.rsqrt %[[SUM]] : f32
// CHECK: %[[CENTERED:.+]] = arith.subf %[[IN]], %[[MEAN]] : f32
// CHECK: %[[FACTOR:.+]] = arith.mulf %[[INV]], %[[SCALE]] : f32
// CHECK: %[[SCALED:.+]] = arith.mulf %[[CENTERED]], %[[FACTOR]] : f32
// CHECK: arith.addf %[[SCALED]], %[[BIAS]] : f32
func.func @batch_norm_nchw(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4x4xf32> {
  %0 = tessel.batch_norm %x, %s, %b, %m, %v layout nchw {epsilon = 1.0e-3 : f64} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// Without a layout (BatchNorm1d on [N, C]) the channels are dim 1 of a
// rank-2 input; epsilon defaults to 1e-5.
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @batch_norm_2d
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[C]], #[[C]], #[[C]], #[[C]], #{{.+}}], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.constant 9.99999974E-6 : f32
func.func @batch_norm_2d(%x: tensor<5x3xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<5x3xf32> {
  %0 = tessel.batch_norm %x, %s, %b, %m, %v : (tensor<5x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// Training, channels-last: the mean reduces every dim but the channel dim d3
// and divides by the 32 elements per channel; the biased variance reduces
// (x - mean)^2 the same way; the factor scale / sqrt(variance + epsilon) is
// computed per channel (the statistics are not constants: one square root a
// channel, not one an element), and the normalization reads it and the mean
// as per-channel operands; mean and variance are results.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[C:.+]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @batch_norm_train
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[X]], #[[C]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
// CHECK: %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<3xf32>)
// CHECK: arith.constant 3.200000e+01 : f32
// CHECK: arith.divf
// CHECK: %[[SQUARES:.+]] = linalg.generic {indexing_maps = [#[[X]], #[[C]], #[[C]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%{{.+}}, %[[MEAN]] : tensor<2x4x4x3xf32>, tensor<3xf32>)
// CHECK: %[[D:.+]] = arith.subf
// CHECK: arith.mulf %[[D]], %[[D]] : f32
// CHECK: %[[VAR:.+]] = linalg.generic {{.*}} ins(%[[SQUARES]] : tensor<3xf32>)
// CHECK: arith.divf
// CHECK: %[[F:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[VAR]] : tensor<3xf32>, tensor<3xf32>)
// CHECK: math.rsqrt
// CHECK: %[[Y:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[F]], %{{.+}}, %[[MEAN]] :
// CHECK-NOT: math.rsqrt
// CHECK: return %[[Y]], %[[MEAN]], %[[VAR]]
func.func @batch_norm_train(%x: tensor<2x4x4x3xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %0:3 = tessel.batch_norm_train %x, %s, %b layout nhwc : (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %0#0, %0#1, %0#2 : tensor<2x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>
}
