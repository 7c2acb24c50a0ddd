// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the reduction family (ReductionToLinalg.cpp): softmax and
// log_softmax with the maximum subtracted first, the reductions from their
// identity, and the losses.

// softmax: the row maximum (from -inf), exp(x - max), their sum (from 0),
// and the division; the reduced dim stays as size 1 (map (d0, 0)).
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @softmax
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAXINIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[X]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} {{.*}} outs(%[[MAXINIT]] : tensor<2x1xf32>)
// CHECK: arith.maximumf
// CHECK: %[[EXP:.+]] = linalg.generic {indexing_maps = [#[[X]], #[[ROW]], #[[X]]], iterator_types = ["parallel", "parallel"]} ins(%{{.+}}, %[[MAX]] :
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[EXP]] :
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[EXP]], %[[SUM]] :
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = tessel.softmax %x {axis = 1 : i64} : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// log_softmax (negative axis normalized): the same max and sum of exps,
// then x - max - log(sum) instead of the division.
// CHECK-LABEL: func @log_softmax
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[MAX]], %[[SUM]] :
// CHECK: %[[SHIFTED:.+]] = arith.subf
// CHECK: %[[LOG:.+]] = math.log
// CHECK: arith.subf %[[SHIFTED]], %[[LOG]] : f32
// CHECK-NOT: arith.divf
func.func @log_softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = tessel.log_softmax %x {axis = -1 : i64} : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// mean over axis 1 with keepdims: a sum into [2, 1, 4], then a division by
// the 3 elements reduced.
// CHECK-DAG: #[[KEEP:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-LABEL: func @mean_keepdims
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[KEEP]]], iterator_types = ["parallel", "reduction", "parallel"]} {{.*}} outs(%{{.+}} : tensor<2x1x4xf32>)
// CHECK: arith.addf
// CHECK: arith.constant 3.000000e+00 : f32
// CHECK: arith.divf
func.func @mean_keepdims(%x: tensor<2x3x4xf32>) -> tensor<2x1x4xf32> {
  %0 = tessel.mean %x {axes = array<i64: 1>, keepdims} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  return %0 : tensor<2x1x4xf32>
}

// -----

// max without axes reduces every dim into a 0-D result, from -inf.
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @max_all
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<f32>)
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[SCALAR]]], iterator_types = ["reduction", "reduction"]}
// CHECK: arith.maximumf
func.func @max_all(%x: tensor<2x3xf32>) -> tensor<f32> {
  %0 = tessel.max %x : tensor<2x3xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// mse_loss: (a - b)^2 per element, then reduced as asked (sum: no division).
// CHECK-LABEL: func @mse_sum
// CHECK: %[[D:.+]] = arith.subf
// CHECK: arith.mulf %[[D]], %[[D]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.addf
// CHECK-NOT: arith.divf
func.func @mse_sum(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<f32> {
  %0 = tessel.mse_loss sum %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// cross_entropy per element: max + log(sum exp(x - max)) - x[label]; a
// label outside [0, 3) reads a safe index and yields NaN.
// CHECK-LABEL: func @cross_entropy_none
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[MAX]], %[[SUM]] : tensor<4xi64>, tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[LABEL:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[GE:.+]] = arith.cmpi sge, %[[LABEL]], %c0 : index
// CHECK: %[[LT:.+]] = arith.cmpi slt, %[[LABEL]], %c3 : index
// CHECK: %[[VALID:.+]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK: %[[PICKED:.+]] = tensor.extract
// CHECK: %[[LSE:.+]] = arith.addf
// CHECK: %[[LOSS:.+]] = arith.subf %[[LSE]], %[[PICKED]] : f32
// CHECK: %[[NAN:.+]] = arith.constant 0x7FC00000 : f32
// CHECK: arith.select %[[VALID]], %[[LOSS]], %[[NAN]] : f32
func.func @cross_entropy_none(%x: tensor<4x3xf32>, %l: tensor<4xi64>) -> tensor<4xf32> {
  %0 = tessel.cross_entropy none %x, %l : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
