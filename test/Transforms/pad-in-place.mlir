// RUN: tessel-opt --split-input-file --tessel-pad-in-place %s | FileCheck %s
// RUN: tessel-opt --split-input-file --pass-pipeline='builtin.module(func.func(tessel-pad-in-place),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},buffer-results-to-out-params{hoist-static-allocs modify-public-functions},cse,canonicalize)' %s | FileCheck %s --check-prefix=BUF

#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A ReLU padded for a 3x3 pool: the padding value fills the four border
// strips (rows 0 and 5 whole, columns 0 and 5 of the interior rows) and the
// ReLU computes straight into the interior of the padded tensor.
// CHECK-LABEL: func.func @relu_then_pad
// CHECK: %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[PADDED:.+]] = tensor.empty() : tensor<1x6x6x8xf32>
// CHECK-NOT: arith.constant
// CHECK-NEXT: %[[TOP:.+]] = tensor.extract_slice %[[PADDED]][0, 0, 0, 0] [1, 1, 6, 8]
// CHECK: linalg.fill ins(%[[NEG]] : f32) outs(%[[TOP]] : tensor<1x1x6x8xf32>)
// CHECK: tensor.extract_slice %{{.+}}[0, 5, 0, 0] [1, 1, 6, 8]
// CHECK: tensor.extract_slice %{{.+}}[0, 1, 0, 0] [1, 4, 1, 8]
// CHECK: %[[RIGHT:.+]] = tensor.extract_slice %{{.+}}[0, 1, 5, 0] [1, 4, 1, 8]
// CHECK: linalg.fill ins(%[[NEG]] : f32) outs(%[[RIGHT]] : tensor<1x4x1x8xf32>)
// CHECK: %[[BORDERS:.+]] = tensor.insert_slice %{{.+}}[0, 1, 5, 0] [1, 4, 1, 8]
// CHECK: %[[INTERIOR:.+]] = tensor.extract_slice %[[BORDERS]][0, 1, 1, 0] [1, 4, 4, 8]
// CHECK: %[[RELU:.+]] = linalg.generic {{.*}} outs(%[[INTERIOR]] : tensor<1x4x4x8xf32>)
// CHECK: %[[RESULT:.+]] = tensor.insert_slice %[[RELU]] into %[[BORDERS]][0, 1, 1, 0] [1, 4, 4, 8]
// CHECK: return %[[RESULT]]
//
// Bufferized: one buffer (the caller's), four fills of its border strips,
// the ReLU into its interior, and no copy.
// BUF-LABEL: func.func @relu_then_pad
// BUF-SAME: (%[[X:.+]]: memref<1x4x4x8xf32>, %[[OUT:.+]]: memref<1x6x6x8xf32>)
// BUF-NOT: memref.alloc
// BUF-COUNT-4: linalg.fill
// BUF: %[[IN:.+]] = memref.subview %[[OUT]][0, 1, 1, 0] [1, 4, 4, 8]
// BUF: linalg.generic {{.*}} ins(%[[X]] : memref<1x4x4x8xf32>) outs(%[[IN]] :
// BUF-NOT: memref.copy
// BUF: return
func.func @relu_then_pad(%x: tensor<1x4x4x8xf32>) -> tensor<1x6x6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %neg = arith.constant 0xFF800000 : f32
  %empty = tensor.empty() : tensor<1x4x4x8xf32>
  %relu = linalg.generic {indexing_maps = [#map, #map],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x4x8xf32>) outs(%empty : tensor<1x4x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x8xf32>
  %padded = tensor.pad %relu low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %neg : f32
  } : tensor<1x4x4x8xf32> to tensor<1x6x6x8xf32>
  return %padded : tensor<1x6x6x8xf32>
}

// -----

// A function argument cannot be computed into the padded tensor: it is
// copied into the interior (of a buffer whose borders alone are filled).
// Asymmetric padding gives strips of different sizes; unpadded dims none.
// CHECK-LABEL: func.func @argument_then_pad
// CHECK-COUNT-3: linalg.fill
// CHECK-NOT: linalg.fill
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 2, 0, 0] [1, 4, 4, 8] [1, 1, 1, 1] : tensor<1x4x4x8xf32> into tensor<1x7x5x8xf32>
//
// BUF-LABEL: func.func @argument_then_pad
// BUF-COUNT-3: linalg.fill
// BUF: memref.copy %{{.+}}, %{{.+}} : memref<1x4x4x8xf32> to memref<1x4x4x8xf32, strided<[280, 40, 8, 1], offset: 80>>
func.func @argument_then_pad(%x: tensor<1x4x4x8xf32>) -> tensor<1x7x5x8xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 2, 0, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x8xf32> to tensor<1x7x5x8xf32>
  return %padded : tensor<1x7x5x8xf32>
}

// -----

// Dynamic shapes and padding values computed in the region stay pads.
// CHECK-LABEL: func.func @dynamic_pad
// CHECK: tensor.pad
func.func @dynamic_pad(%x: tensor<?x4xf32>, %v: f32) -> tensor<?x6xf32> {
  %padded = tensor.pad %x low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %v : f32
  } : tensor<?x4xf32> to tensor<?x6xf32>
  return %padded : tensor<?x6xf32>
}

// -----

// An empty two ops compute into becomes one per use, each just before it.
// CHECK-LABEL: func.func @shared_empty
// CHECK: %[[E1:.+]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[E1]]
// CHECK: %[[E2:.+]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[E2]]
func.func @shared_empty(%a: f32, %b: f32) -> (tensor<8xf32>, tensor<8xf32>) {
  %empty = tensor.empty() : tensor<8xf32>
  %0 = linalg.fill ins(%a : f32) outs(%empty : tensor<8xf32>) -> tensor<8xf32>
  %1 = linalg.fill ins(%b : f32) outs(%empty : tensor<8xf32>) -> tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}
