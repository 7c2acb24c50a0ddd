// RUN: tessel-opt --split-input-file --verify-diagnostics --tessel-tie-results %s | FileCheck %s --check-prefix=TIE
// RUN: tessel-opt --pass-pipeline='builtin.module(func.func(tessel-to-linalg,tessel-tie-results),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},func.func(tessel-drop-tied-results),buffer-results-to-out-params{hoist-static-allocs modify-public-functions},canonicalize)' --split-input-file --verify-diagnostics %s | FileCheck %s --check-prefix=BUF

// An SGD step whose new parameter and velocity are tied to their inputs.
// Before bufferization: each tied result is materialized in its argument,
// which becomes writable; the other arguments are read-only.
// TIE-LABEL: func.func @sgd_step
// TIE-SAME: %[[X:[a-z0-9]+]]: tensor<4x8xf32> {bufferization.writable = false}
// TIE-SAME: %[[W:[a-z0-9]+]]: tensor<3x8xf32> {bufferization.writable = true}
// TIE-SAME: %[[V:[a-z0-9]+]]: tensor<3x8xf32> {bufferization.writable = true}
// TIE: %[[P:[a-z_0-9]+]], %[[M:[a-z_0-9]+]] = tessel.sgd_update
// TIE: %[[NEWW:.+]] = bufferization.materialize_in_destination %[[P]] in %[[W]]
// TIE: %[[NEWV:.+]] = bufferization.materialize_in_destination %[[M]] in %[[V]]
// TIE: return %{{.+}}, %[[NEWW]], %[[NEWV]]
//
// After bufferization the update is one loop writing both arguments' buffers
// (read through its outs), the tied results are gone and only the loss is an
// out-parameter; nothing copies into or out of the parameters.
// BUF-LABEL: func.func @sgd_step
// BUF-SAME: (%[[X:.+]]: memref<4x8xf32>, %[[W:.+]]: memref<3x8xf32>, %[[V:.+]]: memref<3x8xf32>, %[[LOSS:.+]]: memref<f32>)
// BUF-NOT: memref.copy %[[W]]
// BUF-NOT: memref.copy %{{.+}}, %[[W]]
// BUF: linalg.generic {{.*}} outs(%[[W]], %[[V]] : memref<3x8xf32>, memref<3x8xf32>)
// BUF-NOT: memref.copy %{{.+}}, %[[W]]
// BUF-NOT: memref.copy %{{.+}}, %[[V]]
// BUF: return
func.func @sgd_step(%x: tensor<4x8xf32>, %w: tensor<3x8xf32>, %v: tensor<3x8xf32>)
    -> (tensor<f32>, tensor<3x8xf32> {tessel.updates = 1 : i64},
        tensor<3x8xf32> {tessel.updates = 2 : i64}) {
  %y = tessel.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %loss = tessel.sum %y : tensor<4x3xf32> -> tensor<f32>
  %dy = tessel.constant dense<1.0> : tensor<4x3xf32>
  %yt = tessel.transpose %dy {perm = array<i64: 1, 0>} : tensor<4x3xf32> -> tensor<3x4xf32>
  %g = tessel.matmul %yt, %x : (tensor<3x4xf32>, tensor<4x8xf32>) -> tensor<3x8xf32>
  %u:2 = tessel.sgd_update %w, %g, %v {learning_rate = 0.1 : f64, momentum = 0.9 : f64}
      : (tensor<3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>)
  return %loss, %u#0, %u#1 : tensor<f32>, tensor<3x8xf32>, tensor<3x8xf32>
}

// -----

// An update computed on a collapsed view of its argument and expanded back
// (tessel-vectorize's 2-D form of an OIHW filter's SGD update) is
// materialized in that view, before the expansion: one-shot bufferization
// then writes the argument's buffer in place, where materializing the
// expanded value in the argument made it copy the argument, update the copy
// and copy it back.
// TIE-LABEL: func.func @update_in_collapsed_view
// TIE: %[[VIEW:.+]] = tensor.collapse_shape %[[W:[a-z0-9]+]] {{\[}}[0], [1, 2]]
// TIE: %[[U:.+]] = linalg.generic {{.*}} outs(%[[VIEW]] : tensor<4x6xf32>)
// TIE: %[[M:.+]] = bufferization.materialize_in_destination %[[U]] in %[[VIEW]]
// TIE: %[[E:.+]] = tensor.expand_shape %[[M]] {{\[}}[0], [1, 2]]
// TIE: return %[[E]]
// BUF-LABEL: func.func @update_in_collapsed_view
// BUF-NOT: memref.copy
// BUF-NOT: memref.alloc
// BUF: linalg.generic
// BUF-NOT: memref.copy
// BUF: return
func.func @update_in_collapsed_view(%w: tensor<4x2x3xf32>) -> (tensor<4x2x3xf32> {tessel.updates = 0 : i64}) {
  %c = tensor.collapse_shape %w [[0], [1, 2]] : tensor<4x2x3xf32> into tensor<4x6xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%c : tensor<4x6xf32>) {
  ^bb0(%o: f32):
    %x = arith.addf %o, %o : f32
    linalg.yield %x : f32
  } -> tensor<4x6xf32>
  %e = tensor.expand_shape %u [[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
  return %e : tensor<4x2x3xf32>
}

// -----

// expected-error @+1 {{result 0: tessel.updates = 5 : i64 names no argument of 'out_of_range'}}
func.func @out_of_range(%x: tensor<2xf32>) -> (tensor<2xf32> {tessel.updates = 5 : i64}) {
  return %x : tensor<2xf32>
}

// -----

// expected-error @+1 {{argument 0 of 'twice' is updated by two results}}
func.func @twice(%x: tensor<2xf32>) -> (tensor<2xf32> {tessel.updates = 0 : i64}, tensor<2xf32> {tessel.updates = 0 : i64}) {
  %0 = tessel.neg %x : tensor<2xf32>
  return %0, %0 : tensor<2xf32>, tensor<2xf32>
}

// -----

// expected-error @+1 {{result 0 has type 'tensor<3xf32>', but the argument 0 it updates has type 'tensor<2xf32>'}}
func.func @mismatch(%x: tensor<2xf32>, %y: tensor<3xf32>) -> (tensor<3xf32> {tessel.updates = 0 : i64}) {
  return %y : tensor<3xf32>
}
