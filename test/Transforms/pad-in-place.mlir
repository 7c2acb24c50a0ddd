// RUN: tessel-opt --split-input-file --tessel-pad-in-place %s | FileCheck %s
// RUN: tessel-opt --split-input-file --pass-pipeline='builtin.module(func.func(tessel-pad-in-place),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},cse,canonicalize,buffer-results-to-out-params{hoist-static-allocs modify-public-functions},cse,canonicalize)' %s | FileCheck %s --check-prefix=BUF

#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A ReLU padded for a 3x3 pool: the padding value fills the four border
// strips (rows 0 and 9 whole, columns 0 and 9 of the interior rows) and the
// ReLU computes straight into the interior of the padded tensor.
// CHECK-LABEL: func.func @relu_then_pad
// CHECK: %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[PADDED:.+]] = tensor.empty() : tensor<1x10x10x64xf32>
// CHECK-NOT: arith.constant
// CHECK-NEXT: %[[TOP:.+]] = tensor.extract_slice %[[PADDED]][0, 0, 0, 0] [1, 1, 10, 64]
// CHECK: linalg.fill ins(%[[NEG]] : f32) outs(%[[TOP]] : tensor<1x1x10x64xf32>)
// CHECK: tensor.extract_slice %{{.+}}[0, 9, 0, 0] [1, 1, 10, 64]
// CHECK: tensor.extract_slice %{{.+}}[0, 1, 0, 0] [1, 8, 1, 64]
// CHECK: %[[RIGHT:.+]] = tensor.extract_slice %{{.+}}[0, 1, 9, 0] [1, 8, 1, 64]
// CHECK: linalg.fill ins(%[[NEG]] : f32) outs(%[[RIGHT]] : tensor<1x8x1x64xf32>)
// CHECK: %[[BORDERS:.+]] = tensor.insert_slice %{{.+}}[0, 1, 9, 0] [1, 8, 1, 64]
// CHECK: %[[INTERIOR:.+]] = tensor.extract_slice %[[BORDERS]][0, 1, 1, 0] [1, 8, 8, 64]
// CHECK: %[[RELU:.+]] = linalg.generic {{.*}} outs(%[[INTERIOR]] : tensor<1x8x8x64xf32>)
// CHECK: %[[RESULT:.+]] = tensor.insert_slice %[[RELU]] into %[[BORDERS]][0, 1, 1, 0] [1, 8, 8, 64]
// CHECK: return %[[RESULT]]
//
// Bufferized: one buffer (the caller's), four fills of its border strips,
// the ReLU into its interior, and no copy.
// BUF-LABEL: func.func @relu_then_pad
// BUF-SAME: (%[[X:.+]]: memref<1x8x8x64xf32>, %[[OUT:.+]]: memref<1x10x10x64xf32>)
// BUF-NOT: memref.alloc
// BUF-COUNT-4: linalg.fill
// BUF: %[[IN:.+]] = memref.subview %[[OUT]][0, 1, 1, 0] [1, 8, 8, 64]
// BUF: linalg.generic {{.*}} ins(%[[X]] : memref<1x8x8x64xf32>) outs(%[[IN]] :
// BUF-NOT: memref.copy
// BUF: return
func.func @relu_then_pad(%x: tensor<1x8x8x64xf32>) -> tensor<1x10x10x64xf32> {
  %zero = arith.constant 0.0 : f32
  %neg = arith.constant 0xFF800000 : f32
  %empty = tensor.empty() : tensor<1x8x8x64xf32>
  %relu = linalg.generic {indexing_maps = [#map, #map],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x8x64xf32>) outs(%empty : tensor<1x8x8x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8x64xf32>
  %padded = tensor.pad %relu low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %neg : f32
  } : tensor<1x8x8x64xf32> to tensor<1x10x10x64xf32>
  return %padded : tensor<1x10x10x64xf32>
}

// -----

// A function argument cannot be computed into the padded tensor: it is
// copied into the interior (of a buffer whose borders alone are filled).
// Asymmetric padding gives strips of different sizes; unpadded dims none.
// CHECK-LABEL: func.func @argument_then_pad
// CHECK-COUNT-3: linalg.fill
// CHECK-NOT: linalg.fill
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 2, 0, 0] [1, 8, 8, 64] [1, 1, 1, 1] : tensor<1x8x8x64xf32> into tensor<1x11x9x64xf32>
//
// BUF-LABEL: func.func @argument_then_pad
// BUF-COUNT-3: linalg.fill
// BUF: memref.copy %{{.+}}, %{{.+}} : memref<1x8x8x64xf32> to memref<1x8x8x64xf32, strided<[6336, 576, 64, 1], offset: 1152>>
func.func @argument_then_pad(%x: tensor<1x8x8x64xf32>) -> tensor<1x11x9x64xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 2, 0, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x64xf32> to tensor<1x11x9x64xf32>
  return %padded : tensor<1x11x9x64xf32>
}

// -----

// Strips whose runs are shorter than a cache line and that touch a quarter
// of the buffer's lines or more (a [C, H, W, 1] filter gradient's input: its
// column strips write one float a row) become one fill of the whole
// buffer, as a vector of its elements, whose interior the source then
// overwrites.
// CHECK-LABEL: func.func @narrow_strips_fill_whole
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0, 1, 2, 3]] : tensor<16x10x10x1xf32> into tensor<1600xf32>
// CHECK: %[[FILLED:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[FLAT]] : tensor<1600xf32>)
// CHECK-NOT: linalg.fill
// CHECK: %[[PADDED:.+]] = tensor.expand_shape %[[FILLED]] {{\[\[}}0, 1, 2, 3]] output_shape [16, 10, 10, 1]
// CHECK: tensor.insert_slice %{{.+}} into %[[PADDED]][0, 1, 1, 0] [16, 8, 8, 1]
func.func @narrow_strips_fill_whole(%x: tensor<16x8x8x1xf32>) -> tensor<16x10x10x1xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<16x8x8x1xf32> to tensor<16x10x10x1xf32>
  return %padded : tensor<16x10x10x1xf32>
}

// -----

// A quarter of the lines is enough: a stride-2 filter gradient's input,
// padded low only, has one column strip, whose 16 x 40 one-float runs touch
// 38% of the buffer's lines.
// CHECK-LABEL: func.func @narrow_strip_quarter_fill_whole
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<26896xf32>)
// CHECK-NOT: linalg.fill
func.func @narrow_strip_quarter_fill_whole(%x: tensor<16x40x40x1xf32>) -> tensor<16x41x41x1xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<16x40x40x1xf32> to tensor<16x41x41x1xf32>
  return %padded : tensor<16x41x41x1xf32>
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

// -----

// Concatenations (tensor.concat decomposed into insertions into an empty)
// chain as in a DenseNet block: each producer computes into its subset of
// the last concatenation's buffer, taken from the chain so far (the
// previous insertion moves up to just before the producer), so that each
// write is the matching extraction of the insertion after it.
// CHECK-LABEL: func.func @chained_concats
// CHECK: %[[BLOCK:.+]] = tensor.empty() : tensor<4x24xf32>
// CHECK: %[[FIRST:.+]] = tensor.extract_slice %[[BLOCK]][0, 0] [4, 16]
// CHECK: %[[A_AT:.+]] = tensor.extract_slice %[[FIRST]][0, 0] [4, 8]
// CHECK: %[[A:.+]] = linalg.generic {{.*}} outs(%[[A_AT]] : tensor<4x8xf32>)
// CHECK: %[[I0:.+]] = tensor.insert_slice %[[A]] into %[[FIRST]][0, 0] [4, 8]
// CHECK: %[[B_AT:.+]] = tensor.extract_slice %[[I0]][0, 8] [4, 8]
// CHECK: %[[B:.+]] = linalg.generic {{.*}} outs(%[[B_AT]] : tensor<4x8xf32>)
// CHECK: %[[CAT1:.+]] = tensor.insert_slice %[[B]] into %[[I0]][0, 8] [4, 8]
// CHECK: %[[J0:.+]] = tensor.insert_slice %[[CAT1]] into %[[BLOCK]][0, 0] [4, 16]
// CHECK: %[[C_AT:.+]] = tensor.extract_slice %[[J0]][0, 16] [4, 8]
// CHECK: %[[C:.+]] = linalg.generic {{.*}} outs(%[[C_AT]] : tensor<4x8xf32>)
// CHECK: %[[CAT2:.+]] = tensor.insert_slice %[[C]] into %[[J0]][0, 16] [4, 8]
// CHECK: return %[[CAT2]]
//
// Bufferized: the three producers write into the caller's buffer; only the
// negation of the first concatenation has a buffer of its own; no copy.
// BUF-LABEL: func.func @chained_concats
// BUF-SAME: (%[[X:.+]]: memref<4x8xf32>, %[[OUT:.+]]: memref<4x24xf32>)
// BUF-NOT: memref.copy
// BUF: %[[FIRST:.+]] = memref.subview %[[OUT]][0, 0] [4, 16]
// BUF: %[[A:.+]] = memref.subview %[[FIRST]][0, 0] [4, 8]
// BUF: linalg.generic {{.*}} outs(%[[A]] :
// BUF: %[[B:.+]] = memref.subview %[[FIRST]][0, 8] [4, 8]
// BUF: linalg.generic {{.*}} outs(%[[B]] :
// BUF: memref.alloc() {{.*}} : memref<4x16xf32>
// BUF: %[[C:.+]] = memref.subview %[[OUT]][0, 16] [4, 8]
// BUF: linalg.generic {{.*}} outs(%[[C]] :
// BUF-NOT: memref.copy
// BUF: return
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @chained_concats(%x: tensor<4x8xf32>) -> tensor<4x24xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e0 : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %e1 = tensor.empty() : tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e1 : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x8xf32>
  %e2 = tensor.empty() : tensor<4x16xf32>
  %i0 = tensor.insert_slice %a into %e2[0, 0] [4, 8] [1, 1] : tensor<4x8xf32> into tensor<4x16xf32>
  %cat1 = tensor.insert_slice %b into %i0[0, 8] [4, 8] [1, 1] : tensor<4x8xf32> into tensor<4x16xf32>
  %e3 = tensor.empty() : tensor<4x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%cat1 : tensor<4x16xf32>) outs(%e3 : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x16xf32>
  %s = tensor.extract_slice %r[0, 4] [4, 8] [1, 1] : tensor<4x16xf32> to tensor<4x8xf32>
  %e4 = tensor.empty() : tensor<4x8xf32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e4 : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %e5 = tensor.empty() : tensor<4x24xf32>
  %j0 = tensor.insert_slice %cat1 into %e5[0, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<4x24xf32>
  %cat2 = tensor.insert_slice %c into %j0[0, 16] [4, 8] [1, 1] : tensor<4x8xf32> into tensor<4x24xf32>
  return %cat2 : tensor<4x24xf32>
}

// -----

// The phases of a strided transposed convolution, interleaved: each gains a
// unit dim after each spatial dim and is concatenated along those, the
// inner dim's concatenations into the outer one's, and the result collapsed
// back ([1, 4, 2, 4, 2, 64] -> [1, 8, 8, 64]). The concatenations flatten into
// one chain of rank-reduced insertions into the expansion of an empty of
// the collapsed shape, and each phase computes into its strided part of
// it. Two phases pad one ReLU by different rows and columns: one pad by
// both, whose parts they read, so the ReLU computes into it (two pads of
// one source took two buffers, and the second a copy).
// CHECK-LABEL: func.func @interleaved_phases
// CHECK: %[[PAD:.+]] = tensor.empty() : tensor<1x5x5x64xf32>
// CHECK-NOT: tensor.pad
// CHECK: %[[FLAT:.+]] = tensor.empty() : tensor<1x8x8x64xf32>
// CHECK: %[[ALL:.+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0], [1, 2], [3, 4], [5]] output_shape [1, 4, 2, 4, 2, 64]
// CHECK: %[[AT00:.+]] = tensor.extract_slice %[[ALL]][0, 0, 0, 0, 0, 0] [1, 4, 1, 4, 1, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x2x4x2x64xf32> to tensor<1x4x4x64xf32>
// CHECK: %[[P00:.+]] = linalg.generic {{.*}} outs(%[[AT00]] : tensor<1x4x4x64xf32>)
// CHECK: %[[I00:.+]] = tensor.insert_slice %[[P00]] into %[[ALL]][0, 0, 0, 0, 0, 0] [1, 4, 1, 4, 1, 64]
// CHECK: tensor.extract_slice %[[I00]][0, 0, 0, 0, 1, 0] [1, 4, 1, 4, 1, 64]
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 1, 0, 0, 0] [1, 4, 1, 4, 1, 64]
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 1, 0, 1, 0] [1, 4, 1, 4, 1, 64]
// CHECK-NOT: tensor.expand_shape
// CHECK: %[[LAST:.+]] = tensor.insert_slice %{{.+}}[0, 0, 1, 0, 1, 0] [1, 4, 1, 4, 1, 64]
// CHECK: %[[OUT:.+]] = tensor.collapse_shape %[[LAST]]
// CHECK: return %[[OUT]]
//
// Bufferized: the phases write into the caller's buffer, strided; the only
// allocation is the padded ReLU, and nothing is copied.
// BUF-LABEL: func.func @interleaved_phases
// BUF-SAME: (%[[X:.+]]: memref<1x4x4x64xf32>, %[[OUT:.+]]: memref<1x8x8x64xf32>)
// BUF-COUNT-1: memref.alloc() {{.*}} : memref<1x5x5x64xf32>
// BUF-NOT: memref.alloc
// BUF: %[[ALL:.+]] = memref.expand_shape %[[OUT]]
// BUF-COUNT-4: linalg.generic {{.*}} outs(%{{.+}} : memref<1x4x4x64xf32, strided<[4096, 1024, 128, 1]{{.*}}>>)
// BUF-NOT: memref.copy
// BUF: return
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @interleaved_phases(%x: tensor<1x4x4x64xf32>) -> tensor<1x8x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x64xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x4x64xf32>) outs(%e : tensor<1x4x4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x64xf32>
  %right = tensor.pad %relu low[0, 0, 0, 0] high[0, 0, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x64xf32> to tensor<1x4x5x64xf32>
  %down = tensor.pad %relu low[0, 0, 0, 0] high[0, 1, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x64xf32> to tensor<1x5x4x64xf32>
  %r = tensor.extract_slice %right[0, 0, 1, 0] [1, 4, 4, 64] [1, 1, 1, 1] : tensor<1x4x5x64xf32> to tensor<1x4x4x64xf32>
  %d = tensor.extract_slice %down[0, 1, 0, 0] [1, 4, 4, 64] [1, 1, 1, 1] : tensor<1x5x4x64xf32> to tensor<1x4x4x64xf32>
  %e0 = tensor.empty() : tensor<1x4x4x64xf32>
  %p00 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%relu : tensor<1x4x4x64xf32>) outs(%e0 : tensor<1x4x4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<1x4x4x64xf32>
  %e1 = tensor.empty() : tensor<1x4x4x64xf32>
  %p01 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%r : tensor<1x4x4x64xf32>) outs(%e1 : tensor<1x4x4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<1x4x4x64xf32>
  %e2 = tensor.empty() : tensor<1x4x4x64xf32>
  %p10 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%d : tensor<1x4x4x64xf32>) outs(%e2 : tensor<1x4x4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<1x4x4x64xf32>
  %e3 = tensor.empty() : tensor<1x4x4x64xf32>
  %p11 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x4x64xf32>) outs(%e3 : tensor<1x4x4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<1x4x4x64xf32>
  %x00 = tensor.expand_shape %p00 [[0], [1, 2], [3, 4], [5]] output_shape [1, 4, 1, 4, 1, 64] : tensor<1x4x4x64xf32> into tensor<1x4x1x4x1x64xf32>
  %x01 = tensor.expand_shape %p01 [[0], [1, 2], [3, 4], [5]] output_shape [1, 4, 1, 4, 1, 64] : tensor<1x4x4x64xf32> into tensor<1x4x1x4x1x64xf32>
  %x10 = tensor.expand_shape %p10 [[0], [1, 2], [3, 4], [5]] output_shape [1, 4, 1, 4, 1, 64] : tensor<1x4x4x64xf32> into tensor<1x4x1x4x1x64xf32>
  %x11 = tensor.expand_shape %p11 [[0], [1, 2], [3, 4], [5]] output_shape [1, 4, 1, 4, 1, 64] : tensor<1x4x4x64xf32> into tensor<1x4x1x4x1x64xf32>
  %row0 = tensor.empty() : tensor<1x4x1x4x2x64xf32>
  %a = tensor.insert_slice %x00 into %row0[0, 0, 0, 0, 0, 0] [1, 4, 1, 4, 1, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x1x4x1x64xf32> into tensor<1x4x1x4x2x64xf32>
  %b = tensor.insert_slice %x01 into %a[0, 0, 0, 0, 1, 0] [1, 4, 1, 4, 1, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x1x4x1x64xf32> into tensor<1x4x1x4x2x64xf32>
  %row1 = tensor.empty() : tensor<1x4x1x4x2x64xf32>
  %c = tensor.insert_slice %x10 into %row1[0, 0, 0, 0, 0, 0] [1, 4, 1, 4, 1, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x1x4x1x64xf32> into tensor<1x4x1x4x2x64xf32>
  %f = tensor.insert_slice %x11 into %c[0, 0, 0, 0, 1, 0] [1, 4, 1, 4, 1, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x1x4x1x64xf32> into tensor<1x4x1x4x2x64xf32>
  %all = tensor.empty() : tensor<1x4x2x4x2x64xf32>
  %g = tensor.insert_slice %b into %all[0, 0, 0, 0, 0, 0] [1, 4, 1, 4, 2, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x1x4x2x64xf32> into tensor<1x4x2x4x2x64xf32>
  %h = tensor.insert_slice %f into %g[0, 0, 1, 0, 0, 0] [1, 4, 1, 4, 2, 64] [1, 1, 1, 1, 1, 1] : tensor<1x4x1x4x2x64xf32> into tensor<1x4x2x4x2x64xf32>
  %out = tensor.collapse_shape %h [[0], [1, 2], [3, 4], [5]] : tensor<1x4x2x4x2x64xf32> into tensor<1x8x8x64xf32>
  return %out : tensor<1x8x8x64xf32>
}
