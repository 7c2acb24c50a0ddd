// RUN: tessel-opt --split-input-file --tessel-to-linalg --canonicalize --tessel-vectorize %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-to-linalg --canonicalize --tessel-vectorize="vector-bits=256 accumulators=12" %s | FileCheck %s --check-prefix=AVX2
// Options outside what a vector unit has are refused before any IR changes.
// RUN: not tessel-opt --tessel-vectorize="vector-bits=100" %s 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not tessel-opt --tessel-vectorize="accumulators=0" %s 2>&1 | FileCheck %s --check-prefix=ACCUMULATORS
// BITS: error: tessel-vectorize: vector-bits=100 is not a vector register width; use 512 (AVX-512), 256 (AVX2) or 128 (NEON, SSE)
// ACCUMULATORS: error: tessel-vectorize: accumulators (0) and channel-step (1) must lie in [1, 64]

// A 3x3 NHWC conv: register tiles of 1 row x 4 columns x 64 channels (16
// zmm accumulators); the reduction loops (kernel rows, kernel columns, input
// channels one at a time) carry the output tile as a vector, starting from
// zeros and written after them.
// CHECK-LABEL: func @conv3x3
// CHECK: scf.for {{.*}} to %c56 step %c1
// CHECK: scf.for {{.*}} to %c56 step %c4
// CHECK-NOT: vector.transfer_write
// CHECK: scf.for {{.*}} to %c3 step %c1 iter_args({{.*}} = %cst) -> (vector<1x4x64xf32>)
// CHECK: scf.for {{.*}} to %c3 step %c1 {{.*}} -> (vector<1x4x64xf32>)
// CHECK: scf.for {{.*}} to %c64 step %c1 {{.*}} -> (vector<1x4x64xf32>)
// CHECK: vector.contract {{.*}} : vector<1x4x1xf32>, vector<1x64xf32> into vector<1x4x64xf32>
// CHECK: vector.transfer_write {{.*}} : vector<1x4x64xf32>, tensor<1x4x64xf32>
// A 256-bit target with 12 accumulators: 64 channels are 8 ymm, so 1 column.
// AVX2-LABEL: func @conv3x3
// AVX2: vector.contract {{.*}} into vector<1x1x64xf32>
func.func @conv3x3(%x: tensor<1x56x56x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x56x56x64xf32>, tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32>
  return %0 : tensor<1x56x56x64xf32>
}

// -----

// A 7x7 map: 7 columns x 32 channels (14 accumulators) beats 1 x 64.
// AVX2-LABEL: func @conv7x7_map
// CHECK-LABEL: func @conv7x7_map
// CHECK: vector.contract {{.*}} into vector<1x7x32xf32>
func.func @conv7x7_map(%x: tensor<1x7x7x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<1x7x7x64xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x7x7x64xf32>, tensor<3x3x64x64xf32>) -> tensor<1x7x7x64xf32>
  return %0 : tensor<1x7x7x64xf32>
}

// -----

// With an even batch, a 7x7 map's tile of 7 columns x 32 channels takes two
// images: 28 accumulators, the step's 2 weight vectors and a broadcast
// fill the 32 zmm; one input channel a step. AVX2's 16 registers do not
// hold two of its tiles.
// CHECK-LABEL: func @conv7x7_two_images
// CHECK: vector.contract {{.*}} : vector<2x7x1xf32>, vector<1x32xf32> into vector<2x7x32xf32>
// AVX2-LABEL: func @conv7x7_two_images
// AVX2: vector.contract {{.*}} into vector<1x1x64xf32>
func.func @conv7x7_two_images(%x: tensor<4x7x7x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<4x7x7x64xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<4x7x7x64xf32>, tensor<3x3x64x64xf32>) -> tensor<4x7x7x64xf32>
  return %0 : tensor<4x7x7x64xf32>
}

// -----

// The gradient of a conv's input convolves with its filter flipped: where
// the filter is 2 MiB or more, each register tile reads one kernel tap at a
// time from the unflipped filter at the mirrored tap (2 - kh, 2 - kw), and
// the flipped copy is not made.
// CHECK-LABEL: func @flipped_filter_read_in_place
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[KH:.+]] = %c0 to %c3 step %c1
// CHECK: scf.for %[[KW:.+]] = %c0 to %c3 step %c1
// CHECK: %[[H:.+]] = affine.apply #{{.+}}()[%[[KH]]]
// CHECK: %[[W:.+]] = affine.apply #{{.+}}()[%[[KW]]]
// CHECK: tensor.extract_slice %arg1[%[[H]], %[[W]], %{{.+}}, %{{.+}}] [1, 1, 1, 32] [1, 1, 1, 1] : tensor<3x3x256x256xf32> to tensor<1x1x1x32xf32>
// CHECK: vector.contract
#flip = affine_map<(h, w, i, o) -> (2 - h, 2 - w, i, o)>
#same = affine_map<(h, w, i, o) -> (h, w, i, o)>
func.func @flipped_filter_read_in_place(%dy: tensor<1x16x16x256xf32>, %w: tensor<3x3x256x256xf32>) -> tensor<1x14x14x256xf32> {
  %e = tensor.empty() : tensor<3x3x256x256xf32>
  %flipped = linalg.generic {indexing_maps = [#flip, #same], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<3x3x256x256xf32>) outs(%e : tensor<3x3x256x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x3x256x256xf32>
  %zero = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x14x14x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%o : tensor<1x14x14x256xf32>) -> tensor<1x14x14x256xf32>
  %0 = linalg.conv_2d_nhwc_hwcf ins(%dy, %flipped : tensor<1x16x16x256xf32>, tensor<3x3x256x256xf32>) outs(%acc : tensor<1x14x14x256xf32>) -> tensor<1x14x14x256xf32>
  return %0 : tensor<1x14x14x256xf32>
}

// -----

// A smaller flipped filter (2x2 256->256, 1 MiB: a stride-2 input
// gradient's phase) is read in place too where the tile uses each weight at
// most 128 times (7x7 output positions); at 14x14 (196) the flipped copy is
// made, and its reuse pays for it.
// CHECK-LABEL: func @small_flipped_filter_few_uses
// CHECK-NOT: linalg.generic
// CHECK: tensor.extract_slice %arg1[%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] [1, 1, 1, {{[0-9]+}}] [1, 1, 1, 1] : tensor<2x2x256x256xf32> to tensor<1x1x1x{{[0-9]+}}xf32>
// CHECK: vector.contract
// CHECK-LABEL: func @small_flipped_filter_many_uses
// CHECK: linalg.generic
// CHECK: vector.contract
#flip2 = affine_map<(h, w, i, o) -> (1 - h, 1 - w, i, o)>
#same2 = affine_map<(h, w, i, o) -> (h, w, i, o)>
func.func @small_flipped_filter_few_uses(%dy: tensor<1x8x8x256xf32>, %w: tensor<2x2x256x256xf32>) -> tensor<1x7x7x256xf32> {
  %e = tensor.empty() : tensor<2x2x256x256xf32>
  %flipped = linalg.generic {indexing_maps = [#flip2, #same2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<2x2x256x256xf32>) outs(%e : tensor<2x2x256x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x2x256x256xf32>
  %zero = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x7x7x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%o : tensor<1x7x7x256xf32>) -> tensor<1x7x7x256xf32>
  %0 = linalg.conv_2d_nhwc_hwcf ins(%dy, %flipped : tensor<1x8x8x256xf32>, tensor<2x2x256x256xf32>) outs(%acc : tensor<1x7x7x256xf32>) -> tensor<1x7x7x256xf32>
  return %0 : tensor<1x7x7x256xf32>
}
func.func @small_flipped_filter_many_uses(%dy: tensor<1x15x15x256xf32>, %w: tensor<2x2x256x256xf32>) -> tensor<1x14x14x256xf32> {
  %e = tensor.empty() : tensor<2x2x256x256xf32>
  %flipped = linalg.generic {indexing_maps = [#flip2, #same2], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<2x2x256x256xf32>) outs(%e : tensor<2x2x256x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x2x256x256xf32>
  %zero = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x14x14x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%o : tensor<1x14x14x256xf32>) -> tensor<1x14x14x256xf32>
  %0 = linalg.conv_2d_nhwc_hwcf ins(%dy, %flipped : tensor<1x15x15x256xf32>, tensor<2x2x256x256xf32>) outs(%acc : tensor<1x14x14x256xf32>) -> tensor<1x14x14x256xf32>
  return %0 : tensor<1x14x14x256xf32>
}

// -----

// A filter gradient as a convolution (DecomposeConv.cpp): the output
// gradient of 4 images of 30x30x64 is a 900 KB filter, more than three
// quarters of L2, which the register tiles would stream for every output
// tile. The first kernel loop is cut into blocks of 15 rows (450 KB), each
// swept by every register tile before the next. Its 3 output columns leave
// registers free: each tile takes 2 images (here input channels) x 3
// columns x 64 channels, one reduction channel a step.
// CHECK-LABEL: func @filter_gradient_blocks
// CHECK: scf.for {{.*}} to %c30 step %c15 iter_args
// CHECK: scf.for {{.*}} to %c64 step %c2
// CHECK: scf.for {{.*}} to %c4 step %c1
// CHECK: vector.contract {{.*}} : vector<2x3x1xf32>, vector<1x64xf32> into vector<2x3x64xf32>
// A 7 KB filter needs no blocks.
// CHECK-LABEL: func @small_filter_no_blocks
// CHECK-NOT: step %c15
// CHECK: vector.contract
// Nor does a 3x3 128->128 filter (590 KB): it stays in L2 beside the input
// rows, and kernel-row blocks would read and write the whole output once a
// block. The first loop is the output rows' (7), no loop over the 3 kernel
// rows outside them.
// CHECK-LABEL: func @l2_sized_filter_no_blocks
// CHECK-NOT: scf.for {{.*}} to %c3 step %c1 iter_args({{.*}}) -> (tensor<2x7x7x128xf32>)
// CHECK: scf.for {{.*}} to %c7 step %c1 iter_args({{.*}}) -> (tensor<2x7x7x128xf32>)
// CHECK: scf.for {{.*}} to %c128 step %c32 iter_args({{.*}}) -> (tensor<2x7x7x128xf32>)
// CHECK: scf.for {{.*}} to %c3 step %c1 iter_args({{.*}}) -> (vector<2x7x32xf32>)
func.func @filter_gradient_blocks(%x: tensor<64x32x32x4xf32>, %dy: tensor<30x30x4x64xf32>) -> tensor<64x3x3x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x3x3x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64x3x3x64xf32>) -> tensor<64x3x3x64xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %dy : tensor<64x32x32x4xf32>, tensor<30x30x4x64xf32>) outs(%init : tensor<64x3x3x64xf32>) -> tensor<64x3x3x64xf32>
  return %0 : tensor<64x3x3x64xf32>
}
func.func @small_filter_no_blocks(%x: tensor<1x16x16x4xf32>, %w: tensor<3x3x4x64xf32>) -> tensor<1x14x14x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x14x14x64xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x16x16x4xf32>, tensor<3x3x4x64xf32>) outs(%init : tensor<1x14x14x64xf32>) -> tensor<1x14x14x64xf32>
  return %0 : tensor<1x14x14x64xf32>
}
func.func @l2_sized_filter_no_blocks(%x: tensor<2x15x15x128xf32>, %w: tensor<3x3x128x128xf32>) -> tensor<2x7x7x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x7x7x128xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x7x7x128xf32>) -> tensor<2x7x7x128xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%x, %w : tensor<2x15x15x128xf32>, tensor<3x3x128x128xf32>) outs(%init : tensor<2x7x7x128xf32>) -> tensor<2x7x7x128xf32>
  return %0 : tensor<2x7x7x128xf32>
}

// -----

// A wide layer: one kernel row of a 3x3 512->512 filter is 3 MB, so no
// whole rows fit. The blocks are one kernel row of 64 output channels (the
// register tile's width) by 128 input channels (96 KB, under the 128 KB
// that strided filter rows may take of L2), each swept by every register
// tile (4 columns x 64 channels) before the next.
// CHECK-LABEL: func @wide_filter_blocks
// CHECK: scf.for {{.*}} to %c512 step %c64 iter_args
// CHECK: scf.for {{.*}} to %c3 step %c1 iter_args
// CHECK: scf.for {{.*}} to %c512 step %c128 iter_args
// CHECK: scf.for {{.*}} to %c2 step %c1 iter_args
// CHECK: scf.for {{.*}} to %c4 step %c1 iter_args
// CHECK: scf.for {{.*}} to %c3 step %c1 iter_args
// CHECK: scf.for {{.*}} to %c128 step %c1 iter_args
// CHECK: vector.contract {{.*}} : vector<1x4x1xf32>, vector<1x64xf32> into vector<1x4x64xf32>
func.func @wide_filter_blocks(%x: tensor<2x6x6x512xf32>, %w: tensor<3x3x512x512xf32>) -> tensor<2x4x4x512xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x4x512xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x4x512xf32>) -> tensor<2x4x4x512xf32>
  %0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<2x6x6x512xf32>, tensor<3x3x512x512xf32>) outs(%init : tensor<2x4x4x512xf32>) -> tensor<2x4x4x512xf32>
  return %0 : tensor<2x4x4x512xf32>
}

// -----

// Small elementwise ops are vectorized whole; large ones (more than 256
// elements: 16 zmm) are left to LLVM's loop vectorizer, and so are those
// whose innermost dim is short beside the others (a [C, 1, 1] per-channel
// op would become one scalar operation per channel).
// CHECK-LABEL: func @elementwise
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : vector<4x8xf32>
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: vector<
func.func @elementwise(%a: tensor<4x8xf32>, %b: tensor<64x64xf32>, %c: tensor<576xf32>,
                       %d: tensor<96x1x1xf32>)
    -> (tensor<4x8xf32>, tensor<64x64xf32>, tensor<576xf32>, tensor<96x1x1xf32>) {
  %0 = tessel.relu %a : tensor<4x8xf32>
  %1 = tessel.relu %b : tensor<64x64xf32>
  %2 = tessel.relu %c : tensor<576xf32>
  %3 = tessel.relu %d : tensor<96x1x1xf32>
  return %0, %1, %2, %3 : tensor<4x8xf32>, tensor<64x64xf32>, tensor<576xf32>, tensor<96x1x1xf32>
}

// -----

// A small transpose is not vectorized whole (one scalar load and store per
// element once lowered): it stays a loop nest.
// CHECK-LABEL: func @small_transpose
// CHECK-NOT: vector.transfer_read
// CHECK: linalg.transpose
func.func @small_transpose(%a: tensor<2x256xf32>) -> tensor<256x2xf32> {
  %0 = tessel.transpose %a {perm = array<i64: 1, 0>} : tensor<2x256xf32> -> tensor<256x2xf32>
  return %0 : tensor<256x2xf32>
}

// -----

// A layout change that reads its input across cache lines is cut into
// cache tiles: 16 of the loop that walks the input's innermost dim (here the
// output's first) by about 16 elements of the output's trailing dims (2 x 3
// x 3), each tile reading and writing whole lines.
// CHECK-LABEL: func @transpose_cache_tiles
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c16
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c2
// CHECK: linalg.transpose ins(%{{.+}} : tensor<2x3x3x16xf32>) outs(%{{.+}} : tensor<16x2x3x3xf32>) permutation = [3, 0, 1, 2]
func.func @transpose_cache_tiles(%x: tensor<32x3x3x64xf32>) -> tensor<64x32x3x3xf32> {
  %0 = tessel.transpose %x {perm = array<i64: 3, 0, 1, 2>} : tensor<32x3x3x64xf32> -> tensor<64x32x3x3xf32>
  return %0 : tensor<64x32x3x3xf32>
}

// -----

// Where both innermost dims are cut by 16 (a batch-last copy of NHWC
// activations, a filter gradient's input), the tile is one 16x16 vector
// transpose between the two wide dims, its unit dims collapsed away.
// CHECK-LABEL: func @transpose_square_tiles
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c16
// CHECK: %[[IN:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<16x1x1x16xf32> into tensor<16x16xf32>
// CHECK: %[[OUT:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<16x1x1x16xf32> into tensor<16x16xf32>
// CHECK: %[[ROWS:.+]] = vector.transfer_read %[[IN]]{{.*}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK: %[[COLUMNS:.+]] = vector.transpose %[[ROWS]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK: vector.transfer_write %[[COLUMNS]], %[[OUT]]
// CHECK: tensor.expand_shape
// CHECK-NOT: linalg.transpose
func.func @transpose_square_tiles(%x: tensor<32x5x5x64xf32>) -> tensor<64x5x5x32xf32> {
  %0 = tessel.transpose %x {perm = array<i64: 3, 1, 2, 0>} : tensor<32x5x5x64xf32> -> tensor<64x5x5x32xf32>
  return %0 : tensor<64x5x5x32xf32>
}

// -----

// A batch of 8 moved last (a filter gradient's input at batch 8): the
// tiles [8, 1, 2, 16] -> [16, 1, 2, 8] gather their 16 rows. The tile is
// read whole, its rows put in the output's order of the moved dims (batch
// inner, columns outer) by a shuffle along the square's leading dim,
// transposed, and written with one transfer_write: a chain of 32 writes
// made one-shot bufferization's analysis quadratic in it.
// CHECK-LABEL: func @transpose_gathered_tiles
// CHECK: %[[TILE:.+]] = vector.transfer_read {{.*}} : tensor<8x1x2x16xf32>, vector<8x1x2x16xf32>
// CHECK: %[[SQUARE:.+]] = vector.shape_cast %[[TILE]] : vector<8x1x2x16xf32> to vector<16x16xf32>
// CHECK: %[[ROWS:.+]] = vector.shuffle %[[SQUARE]], %[[SQUARE]] [0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15]
// CHECK: %[[COLUMNS:.+]] = vector.transpose %[[ROWS]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK: %[[WHOLE:.+]] = vector.shape_cast %[[COLUMNS]] : vector<16x16xf32> to vector<16x1x2x8xf32>
// CHECK: vector.transfer_write %[[WHOLE]], {{.*}} : vector<16x1x2x8xf32>, tensor<16x1x2x8xf32>
// CHECK-NOT: vector.transfer_write
// CHECK: tensor.insert_slice
func.func @transpose_gathered_tiles(%x: tensor<8x4x4x32xf32>) -> tensor<32x4x4x8xf32> {
  %0 = tessel.transpose %x {perm = array<i64: 3, 1, 2, 0>} : tensor<8x4x4x32xf32> -> tensor<32x4x4x8xf32>
  return %0 : tensor<32x4x4x8xf32>
}

// -----

// At batch 1 the filter gradient's input moves its channels first and a unit
// batch last: 16 columns do not divide the 56, so a tile takes 2 rows of 8
// (a partial tile of 8 columns had dynamic sizes, and the copy stayed
// scalar), gathered into one square and written in runs of 8 floats along
// the columns, the unit batch dim after them.
// CHECK-LABEL: func @transpose_batch_one_rows
// CHECK: %[[TILE:.+]] = vector.transfer_read {{.*}} : tensor<1x2x8x16xf32>, vector<1x2x8x16xf32>
// CHECK: %[[SQUARE:.+]] = vector.shape_cast %[[TILE]] : vector<1x2x8x16xf32> to vector<16x16xf32>
// CHECK: %[[COLUMNS:.+]] = vector.transpose %[[SQUARE]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK: %[[WHOLE:.+]] = vector.shape_cast %[[COLUMNS]] : vector<16x16xf32> to vector<16x2x8x1xf32>
// CHECK: vector.transfer_write %[[WHOLE]], {{.*}} : vector<16x2x8x1xf32>, tensor<16x2x8x1xf32>
// CHECK-NOT: linalg.transpose
func.func @transpose_batch_one_rows(%x: tensor<1x56x56x32xf32>) -> tensor<32x56x56x1xf32> {
  %0 = tessel.transpose %x {perm = array<i64: 3, 1, 2, 0>} : tensor<1x56x56x32xf32> -> tensor<32x56x56x1xf32>
  return %0 : tensor<32x56x56x1xf32>
}

// -----

// An SGD update of an OIHW filter reading its gradient as [C_in, kh, kw,
// C_out] (the channels-last convolution's layout) walks the loops (C_in, kh,
// kw) together in every operand: collapsed into one, the update is a 2-D
// transpose [C_out, C_in*kh*kw] against [C_in*kh*kw, C_out], cut into
// 16x16 tiles vectorized whole (the transposed read becomes a vector
// transpose in tessel-lower-vectors), and expanded back; the 0-D learning
// rate is broadcast.
// CHECK-LABEL: func @sgd_update_transposed_gradient
// CHECK-DAG: %[[G:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3]] : tensor<16x3x3x32xf32> into tensor<144x32xf32>
// CHECK-DAG: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<32x16x3x3xf32> into tensor<32x144xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK: scf.for %{{.+}} = %c0 to %c144 step %c16
// CHECK: vector.transfer_read %{{.+}} {in_bounds = [true, true], permutation_map = #{{.+}}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK: arith.mulf {{.*}} : vector<16x16xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2, 3]] {{.*}} : tensor<32x144xf32> into tensor<32x16x3x3xf32>
// CHECK-NOT: linalg.generic
#oihw = affine_map<(o, i, h, w) -> (o, i, h, w)>
#ihwo = affine_map<(o, i, h, w) -> (i, h, w, o)>
#scalar = affine_map<(o, i, h, w) -> ()>
func.func @sgd_update_transposed_gradient(%g: tensor<16x3x3x32xf32>, %rate: tensor<f32>, %w: tensor<32x16x3x3xf32>, %v: tensor<32x16x3x3xf32>) -> (tensor<32x16x3x3xf32>, tensor<32x16x3x3xf32>) {
  %momentum = arith.constant 0.9 : f32
  %0:2 = linalg.generic {indexing_maps = [#ihwo, #scalar, #oihw, #oihw], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g, %rate : tensor<16x3x3x32xf32>, tensor<f32>) outs(%w, %v : tensor<32x16x3x3xf32>, tensor<32x16x3x3xf32>) {
  ^bb0(%gi: f32, %lr: f32, %wi: f32, %vi: f32):
    %1 = arith.mulf %vi, %momentum : f32
    %2 = arith.addf %1, %gi : f32
    %3 = arith.mulf %lr, %2 : f32
    %4 = arith.subf %wi, %3 : f32
    linalg.yield %4, %2 : f32, f32
  } -> (tensor<32x16x3x3xf32>, tensor<32x16x3x3xf32>)
  return %0#0, %0#1 : tensor<32x16x3x3xf32>, tensor<32x16x3x3xf32>
}

// -----

// A copy that walks its innermost dims in order, and one that reads
// backwards (a flip, which no tile may cut), stay whole.
// CHECK-LABEL: func @copies_left_whole
// CHECK-NOT: scf.for
// CHECK: linalg.generic
// CHECK-NOT: scf.for
func.func @copies_left_whole(%x: tensor<32x64x3x3xf32>) -> tensor<32x64x3x3xf32> {
  %0 = tessel.slice %x {offsets = array<i64: 0, 0, 2, 2>, sizes = array<i64: 32, 64, 3, 3>, strides = array<i64: 1, 1, -1, -1>} : tensor<32x64x3x3xf32> -> tensor<32x64x3x3xf32>
  return %0 : tensor<32x64x3x3xf32>
}

// -----

// The fill of a conv's output is fused into its output tiles: each tile
// starts from zeros in registers (neither a zeroed output read back from
// memory nor zeros stored to the tile before its result).
// CHECK-LABEL: func @fill_in_the_tile
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<1x8x32xf32>
// CHECK: scf.for
// CHECK-NOT: vector.transfer_write
// CHECK: scf.for {{.*}} iter_args({{.*}} = %[[ZERO]]) -> (vector<1x8x32xf32>)
// CHECK: vector.transfer_write {{.*}} : vector<1x8x32xf32>, tensor<1x8x32xf32>
// CHECK-NOT: linalg.fill
func.func @fill_in_the_tile(%x: tensor<1x10x10x16xf32>, %w: tensor<3x3x16x32xf32>) -> tensor<1x8x8x32xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio : (tensor<1x10x10x16xf32>, tensor<3x3x16x32xf32>) -> tensor<1x8x8x32xf32>
  return %0 : tensor<1x8x8x32xf32>
}

// -----

// So is a bias broadcast into the output: each tile starts from the bias
// vectors (read with a broadcasting map), not from a whole output written
// with the bias and read back.
// CHECK-LABEL: func @bias_in_the_tile
// CHECK-NOT: linalg.generic
// CHECK: scf.for
// CHECK: %[[BIAS:.+]] = vector.transfer_read %arg2[%{{.+}}], %{{.+}} {{{.*}}permutation_map = #{{.+}}} : tensor<32xf32>, vector<1x1x8x32xf32>
// CHECK: %[[INIT:.+]] = vector.shape_cast %[[BIAS]] : vector<1x1x8x32xf32> to vector<1x8x32xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}} = %[[INIT]]) -> (vector<1x8x32xf32>)
// CHECK-NOT: linalg.generic
func.func @bias_in_the_tile(%x: tensor<1x8x8x16xf32>, %w: tensor<3x3x16x32xf32>, %b: tensor<32xf32>) -> tensor<1x8x8x32xf32> {
  %0 = tessel.conv %x, %w, %b layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x8x8x16xf32>, tensor<3x3x16x32xf32>, tensor<32xf32>) -> tensor<1x8x8x32xf32>
  return %0 : tensor<1x8x8x32xf32>
}

// -----

// A depthwise 3x3 conv: tiles of 4 columns x 32 channels (8 accumulators),
// each kernel row taken whole: its 6 input columns are read once and shared
// by the 3 taps. The padded input is never made: each column is read from
// the unpadded input at a clamped index and replaced by zeros where it lies
// in the padding; the zeros the tile starts from are not stored first.
// CHECK-LABEL: func @depthwise_padding_in_place
// CHECK-NOT: tensor.pad
// CHECK: scf.for {{.*}} to %c28 step %c4
// CHECK: scf.for {{.*}} to %c256 step %c32
// CHECK-NOT: vector.transfer_write
// CHECK: scf.for {{.*}} to %c3 step %c1 iter_args({{.*}}) -> (vector<1x4x32xf32>)
// CHECK-COUNT-6: arith.select {{.*}} : vector<32xf32>
// CHECK-COUNT-3: vector.fma {{.*}} : vector<1x4x32xf32>
// CHECK: scf.yield
// CHECK: vector.transfer_write {{.*}} : vector<1x4x32xf32>, tensor<1x4x32xf32>
func.func @depthwise_padding_in_place(%x: tensor<1x28x28x256xf32>, %w: tensor<3x3x1x256xf32>) -> tensor<1x28x28x256xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>, groups = 256 : i64}
         : (tensor<1x28x28x256xf32>, tensor<3x3x1x256xf32>) -> tensor<1x28x28x256xf32>
  return %0 : tensor<1x28x28x256xf32>
}

// -----

// A 3x3/2 max pool reads its input in place too, its padding -inf.
// CHECK-LABEL: func @max_pool_padding_in_place
// CHECK-DAG: %[[NEG:.+]] = arith.constant dense<0xFF800000> : vector<32xf32>
// CHECK-NOT: tensor.pad
// CHECK: arith.select {{.*}}, %[[NEG]] : vector<32xf32>
// CHECK: arith.maximumf
func.func @max_pool_padding_in_place(%x: tensor<1x112x112x64xf32>) -> tensor<1x56x56x64xf32> {
  %0 = tessel.pool max %x layout nhwc {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
         : tensor<1x112x112x64xf32> -> tensor<1x56x56x64xf32>
  return %0 : tensor<1x56x56x64xf32>
}

// -----

// An elementwise epilogue is tiled like the convolution's output, with the
// convolution fused into each of its tiles: the ReLU applies to the
// accumulators in registers and only its result is written, once (no tile
// of the convolution's result written and read back).
// CHECK-LABEL: func @conv_relu_epilogue
// CHECK: scf.for {{.*}} to %c56 step %c4
// CHECK-NOT: vector.transfer_write
// CHECK: %[[ACC:.+]] = scf.for {{.*}} -> (vector<1x4x64xf32>)
// CHECK-NOT: vector.transfer_write
// CHECK: %[[TILE:.+]] = vector.shape_cast %[[ACC]] : vector<1x4x64xf32> to vector<1x1x4x64xf32>
// CHECK-NEXT: %[[RELU:.+]] = arith.maximumf %[[TILE]], %{{.+}} : vector<1x1x4x64xf32>
// CHECK-NEXT: vector.transfer_write %[[RELU]]
// CHECK-NOT: vector.transfer_write
// CHECK: return
func.func @conv_relu_epilogue(%x: tensor<1x56x56x64xf32>, %w: tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x56x56x64xf32>, tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32>
  %1 = tessel.relu %0 : tensor<1x56x56x64xf32>
  return %1 : tensor<1x56x56x64xf32>
}

// -----

// An average pool's division by the window is its epilogue: applied to the
// sums in registers (a 2x2 window over 2 columns x 64 channels).
// CHECK-LABEL: func @avg_pool_epilogue
// CHECK: %[[SUM:.+]] = scf.for {{.*}} -> (vector<1x2x64xf32>)
// CHECK-NOT: vector.transfer_write
// CHECK: %[[TILE:.+]] = vector.shape_cast %[[SUM]] : vector<1x2x64xf32> to vector<1x1x2x64xf32>
// CHECK-NEXT: %[[AVG:.+]] = arith.divf %[[TILE]], %{{.+}} : vector<1x1x2x64xf32>
// CHECK-NEXT: vector.transfer_write %[[AVG]]
// CHECK-NOT: vector.transfer_write
// CHECK: return
func.func @avg_pool_epilogue(%x: tensor<1x56x56x256xf32>) -> tensor<1x28x28x256xf32> {
  %p = tessel.pool avg %x layout nhwc {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
         : tensor<1x56x56x256xf32> -> tensor<1x28x28x256xf32>
  return %p : tensor<1x28x28x256xf32>
}

// -----

// A constant filter wider than the register tile's channels (48 output
// channels: tiles of 16) is packed at compile time into blocks of 16
// channels, [3, kh, kw, C, 16], each tile reading its block whole: the first
// block holds channels 0-15 of input channel 0, then of input channel 1.
// CHECK-LABEL: func @constant_filter_packed
// CHECK: %[[PACKED:.+]] = arith.constant dense<{{\[+}}0.000000e+00, 1.000000e+00, {{.*}}, 1.500000e+01], [1.000000e+02, {{.*}} : tensor<3x1x1x2x16xf32>
// CHECK: tensor.extract_slice %[[PACKED]][%{{.+}}, 0, 0, %{{.+}}, 0] [1, 1, 1, 1, 16] [1, 1, 1, 1, 1] : tensor<3x1x1x2x16xf32> to tensor<1x1x1x16xf32>
// CHECK: vector.contract {{.*}} into vector<1x8x16xf32>
func.func @constant_filter_packed(%x: tensor<1x1x8x2xf32>) -> tensor<1x1x8x48xf32> {
  %w = tessel.constant dense<[[[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0], [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0, 120.0, 121.0, 122.0, 123.0, 124.0, 125.0, 126.0, 127.0, 128.0, 129.0, 130.0, 131.0, 132.0, 133.0, 134.0, 135.0, 136.0, 137.0, 138.0, 139.0, 140.0, 141.0, 142.0, 143.0, 144.0, 145.0, 146.0, 147.0]]]]> : tensor<1x1x2x48xf32>
  %0 = tessel.conv %x, %w layout nhwc, hwio : (tensor<1x1x8x2xf32>, tensor<1x1x2x48xf32>) -> tensor<1x1x8x48xf32>
  return %0 : tensor<1x1x8x48xf32>
}
