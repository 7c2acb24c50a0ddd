// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the elementwise family (ElementwiseToLinalg.cpp): one
// parallel generic per op whose body computes the scalar formula; operands
// broadcast through their indexing maps.

// Binary ops broadcast through their indexing maps, not through copies.
// CHECK-DAG: #[[FULL:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CHAN:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-LABEL: func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[FULL]], #[[CHAN]], #[[FULL]]]
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<1x64x8x8xf32>, %b: tensor<64x1x1xf32>) -> tensor<1x64x8x8xf32> {
  %0 = tessel.add %a, %b : (tensor<1x64x8x8xf32>, tensor<64x1x1xf32>) -> tensor<1x64x8x8xf32>
  return %0 : tensor<1x64x8x8xf32>
}

// -----

// The scalar formula of each unary op, checked on its generic's body.
// relu: max(x, 0).
// CHECK-LABEL: func @relu
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: arith.maximumf %{{.+}}, %[[ZERO]] : f32
func.func @relu(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.relu %x : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// leaky_relu: x >= 0 ? x : alpha * x, alpha from the attribute.
// CHECK-LABEL: func @leaky_relu
// CHECK: %[[ALPHA:.+]] = arith.constant 2.000000e-01 : f32
// CHECK: %[[SCALED:.+]] = arith.mulf %[[IN:.+]], %[[ALPHA]] : f32
// CHECK: %[[KEEP:.+]] = arith.cmpf oge, %[[IN]], %{{.+}} : f32
// CHECK: arith.select %[[KEEP]], %[[IN]], %[[SCALED]] : f32
func.func @leaky_relu(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.leaky_relu %x {alpha = 0.2 : f64} : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// clamp: max with the lower bound, then min with the upper one.
// CHECK-LABEL: func @clamp
// CHECK: %[[LO:.+]] = arith.constant -2.000000e+00 : f32
// CHECK: %[[LOWERED:.+]] = arith.maximumf %{{.+}}, %[[LO]] : f32
// CHECK: %[[HI:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: arith.minimumf %[[LOWERED]], %[[HI]] : f32
func.func @clamp(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.clamp %x {min = -2.0 : f64, max = 0.5 : f64} : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// clamp with only an upper bound has no max.
// CHECK-LABEL: func @clamp_max_only
// CHECK-NOT: arith.maximumf
// CHECK: arith.minimumf
func.func @clamp_max_only(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.clamp %x {max = 6.0 : f64} : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// erf: math.erf (tessel-lower-vectors approximates it).
// CHECK-LABEL: func @erf
// CHECK: linalg.generic
// CHECK: math.erf %{{.+}} : f32
func.func @erf(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.erf %x : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// maximum and minimum: arith's NaN-propagating maximumf / minimumf, broadcast.
// CHECK-LABEL: func @maximum_minimum
// CHECK: linalg.generic
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : f32
// CHECK: linalg.generic
// CHECK: arith.minimumf %{{.+}}, %{{.+}} : f32
func.func @maximum_minimum(%a: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.maximum %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %1 = tessel.minimum %0, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}

// -----

// sigmoid: 1 / (1 + exp(-x)).
// CHECK-LABEL: func @sigmoid
// CHECK: %[[NEG:.+]] = arith.negf %{{.+}} : f32
// CHECK: %[[EXP:.+]] = math.exp %[[NEG]] : f32
// CHECK: %[[DEN:.+]] = arith.addf %{{.+}}, %[[EXP]] : f32
// CHECK: arith.divf %{{.+}}, %[[DEN]] : f32
func.func @sigmoid(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.sigmoid %x : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// sign: +1 above zero, -1 below, and x itself otherwise (zeros keep their
// sign, NaN stays NaN), as torch.sign.
// CHECK-LABEL: func @sign
// CHECK: %[[POS:.+]] = arith.cmpf ogt
// CHECK: %[[NEG:.+]] = arith.cmpf olt
// CHECK: %[[INNER:.+]] = arith.select %[[NEG]], %{{.+}}, %[[IN:.+]] : f32
// CHECK: arith.select %[[POS]], %{{.+}}, %[[INNER]] : f32
func.func @sign(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = tessel.sign %x : tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// A 0-D operand broadcasts through the empty map ().
// CHECK-DAG: #[[FULL:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @scalar_rhs
// CHECK: linalg.generic {indexing_maps = [#[[FULL]], #[[SCALAR]], #[[FULL]]]
// CHECK: math.powf
func.func @scalar_rhs(%a: tensor<2x3xf32>, %b: tensor<f32>) -> tensor<2x3xf32> {
  %0 = tessel.pow %a, %b : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
