// RUN: tessel-opt --split-input-file --tessel-to-linalg --linalg-fuse-elementwise-ops --tessel-tile-and-distribute="threads=2 min-parallel-iterations=0" --canonicalize %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-to-linalg --tessel-tile-and-distribute %s | FileCheck %s --check-prefix=ONE
// RUN: tessel-opt --split-input-file --tessel-to-linalg --tessel-tile-and-distribute="threads=2" %s | FileCheck %s --check-prefix=SMALL
// RUN: tessel-opt --split-input-file --tessel-to-linalg --linalg-fuse-elementwise-ops --cse --tessel-tile-and-distribute="threads=2 min-parallel-iterations=0" %s | FileCheck %s --check-prefix=ZERO
// RUN: tessel-opt --split-input-file --tessel-decompose --tessel-to-linalg --linalg-fuse-elementwise-ops --tessel-tile-and-distribute="threads=2 min-parallel-iterations=0" --canonicalize %s | FileCheck %s --check-prefix=GRAD
// More threads than the OpenMP runtime can always start are refused.
// RUN: not tessel-opt --tessel-tile-and-distribute="threads=100000" %s 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: tessel-tile-and-distribute: threads=100000 exceeds 256, the most Tessel runs on

// conv -> relu: the relu is tiled across the threads along the first parallel
// loop with more than one iteration (H: 8 rows in 2 chunks of 4), and the
// conv and its fill are fused into each tile; the input is padded once,
// before the threads, and each tile reads its rows of it. Within a tile the
// relu is tiled again into output rows with the conv and fill fused, so a
// row of the conv's output is still in L1 when the relu reads it.
// CHECK-LABEL: func @conv_relu
// CHECK: %[[PADDED:.+]] = tensor.pad
// CHECK: scf.forall (%[[I:.+]]) = (0) to (8) step (4) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<1x8x8x16xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[ROWS:.+]] = tensor.extract_slice %[[PADDED]][0, %[[I]], 0, 0] [1, 6, 10, 4]
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: tensor.extract_slice %[[ROWS]][0, %[[R]], 0, 0] [1, 3, 10, 4]
// CHECK: linalg.fill
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x1x8x16xf32>
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][0, %[[I]], 0, 0] [1, 4, 8, 16] [1, 1, 1, 1]
// One thread: no parallel loop, the same row tiles.
// ONE-LABEL: func @conv_relu
// ONE-NOT: scf.forall
// ONE: scf.for
// ONE: scf.for
// ONE: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x1x8x16xf32>
// ONE: linalg.generic
func.func @conv_relu(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x8x8x4xf32>, tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.relu %0 : tensor<1x8x8x16xf32>
  return %1 : tensor<1x8x8x16xf32>
}

// -----

// A filter larger than tessel-vectorize's reduction blocks (1x1 1024->512,
// 2 MB; 1 MB in each thread's half of the channels): the relu is not tiled
// into output rows, each of which would sweep the thread's whole filter;
// the conv stays whole in the thread's tile (its blocks then read the
// filter once for all rows), the relu after it.
// CHECK-LABEL: func @blocked_filter_rows_whole
// CHECK: scf.forall
// CHECK-NOT: scf.for
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x7x7x256xf32>
// CHECK-NOT: scf.for
// CHECK: linalg.generic
// CHECK-NOT: scf.for
// CHECK: scf.forall.in_parallel
func.func @blocked_filter_rows_whole(%x: tensor<1x7x7x1024xf32>, %w: tensor<1x1x1024x512xf32>) -> tensor<1x7x7x512xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio : (tensor<1x7x7x1024xf32>, tensor<1x1x1024x512xf32>) -> tensor<1x7x7x512xf32>
  %1 = tessel.relu %0 : tensor<1x7x7x512xf32>
  return %1 : tensor<1x7x7x512xf32>
}

// -----

// A 7x7 map (batch 1): only the 160 channels split evenly, but 80 channels a
// thread would take register tiles of 16; the threads take tiles of one row
// by 32 channels (the widest register tile dividing 160), channel chunks
// outermost, 35 tiles in all.
// CHECK-LABEL: func @odd_rows_channel_chunks
// CHECK: scf.forall (%[[C:.+]], %[[R:.+]]) = (0, 0) to (160, 7) step (32, 1)
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x1x7x32xf32>
// CHECK: linalg.generic
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.+}}[0, %[[R]], 0, %[[C]]] [1, 1, 7, 32]
func.func @odd_rows_channel_chunks(%x: tensor<1x7x7x960xf32>, %w: tensor<1x1x960x160xf32>) -> tensor<1x7x7x160xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio : (tensor<1x7x7x960xf32>, tensor<1x1x960x160xf32>) -> tensor<1x7x7x160xf32>
  %1 = tessel.relu %0 : tensor<1x7x7x160xf32>
  return %1 : tensor<1x7x7x160xf32>
}

// -----

// Batch 1 is skipped, and so are the 5 rows, which 2 threads cannot split
// evenly: the 6 columns are split instead, so both tiles have one shape (an
// op without register tiles: no chunks of one row).
// CHECK-LABEL: func @odd_rows
// CHECK: scf.forall (%{{.+}}) = (0) to (6) step (3)
// CHECK-NOT: affine.min
func.func @odd_rows(%x: tensor<1x5x6xf32>) -> tensor<1x5x6xf32> {
  %0 = tessel.relu %x : tensor<1x5x6xf32>
  return %0 : tensor<1x5x6xf32>
}

// -----

// When no loop splits evenly the outermost one does, with a partial tile.
// CHECK-LABEL: func @no_even_split
// CHECK: scf.forall (%{{.+}}) = (0) to (5) step (3)
// CHECK: affine.min
func.func @no_even_split(%x: tensor<1x5x7xf32>) -> tensor<1x5x7xf32> {
  %0 = tessel.relu %x : tensor<1x5x7xf32>
  return %0 : tensor<1x5x7xf32>
}

// -----

// Each layer is its own group: the second conv does not pull the first conv
// and its ReLU into its tiles (that would recompute them per thread, and in
// a whole network fuse everything into the last op). Two conv + ReLU layers
// make two parallel loops, each with one conv.
// CHECK-LABEL: func @two_layers
// CHECK: scf.forall
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
// CHECK: scf.forall.in_parallel
func.func @two_layers(%x: tensor<1x8x8x4xf32>, %w: tensor<1x1x4x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x8x8x16xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio : (tensor<1x8x8x4xf32>, tensor<1x1x4x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.relu %0 : tensor<1x8x8x16xf32>
  %2 = tessel.conv %1, %v layout nhwc, hwio : (tensor<1x8x8x16xf32>, tensor<1x1x16x16xf32>) -> tensor<1x8x8x16xf32>
  %3 = tessel.relu %2 : tensor<1x8x8x16xf32>
  return %3 : tensor<1x8x8x16xf32>
}

// -----

// A reduction into a broadcast shape (global pooling fused with its
// producer's ReLU) cannot be tiled on its output: it stays whole, outside
// any parallel loop, instead of failing the pass; the division by the window
// size that follows is an elementwise op and is tiled on its own.
// CHECK-LABEL: func @untileable_reduction
// CHECK-NOT: scf.forall
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction", "parallel"]
// CHECK: scf.forall
// CHECK: arith.divf
func.func @untileable_reduction(%x: tensor<1x7x7x64xf32>) -> tensor<1x1x1x64xf32> {
  %0 = tessel.relu %x : tensor<1x7x7x64xf32>
  %1 = tessel.global_pool avg %0 layout nhwc : tensor<1x7x7x64xf32> -> tensor<1x1x1x64xf32>
  return %1 : tensor<1x1x1x64xf32>
}

// -----

// A copy that reads backwards (a flip) is not cut across threads: upstream
// tiling would slice its input as if the read grew with the loops (see
// ReversedLoops.h). It runs whole, on one thread.
// CHECK-LABEL: func @flip_stays_whole
// CHECK-NOT: scf.forall
// CHECK: linalg.generic
func.func @flip_stays_whole(%x: tensor<8x4x3x3xf32>) -> tensor<8x4x3x3xf32> {
  %0 = tessel.slice %x {offsets = array<i64: 0, 0, 2, 2>, sizes = array<i64: 8, 4, 3, 3>, strides = array<i64: 1, 1, -1, -1>} : tensor<8x4x3x3xf32> -> tensor<8x4x3x3xf32>
  return %0 : tensor<8x4x3x3xf32>
}

// -----

// Two convs accumulate into one fill (CSE merged theirs): each gets its
// own copy, fused into its own threads' tiles.
// CHECK-LABEL: func @shared_fill
// CHECK: scf.forall
// CHECK: linalg.fill
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: scf.forall
// CHECK: linalg.fill
// CHECK: linalg.conv_2d_nhwc_hwcf
func.func @shared_fill(%x: tensor<1x6x6x4xf32>, %w1: tensor<3x3x4x8xf32>, %w2: tensor<3x3x4x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %a = linalg.conv_2d_nhwc_hwcf ins(%x, %w1 : tensor<1x6x6x4xf32>, tensor<3x3x4x8xf32>) outs(%f : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %b = linalg.conv_2d_nhwc_hwcf ins(%x, %w2 : tensor<1x6x6x4xf32>, tensor<3x3x4x8xf32>) outs(%f : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %a, %b : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>
}

// -----

// With the default min-parallel-iterations (2^20) a function whose layers
// iterate fewer times than that on average runs on one thread (parallel
// regions would cost more than they save), even its larger layer; one with
// a 2^20-iteration layer is split.
// SMALL-LABEL: func @small_layers
// SMALL-NOT: scf.forall
// SMALL: return
// SMALL-LABEL: func @large_layer
// SMALL: scf.forall
// SMALL: linalg.generic {{.*}} tensor<512x1024xf32>
func.func @small_layers(%a: tensor<64x64xf32>, %b: tensor<512x512xf32>) -> (tensor<64x64xf32>, tensor<512x512xf32>) {
  %0 = tessel.relu %a : tensor<64x64xf32>
  %1 = tessel.relu %b : tensor<512x512xf32>
  return %0, %1 : tensor<64x64xf32>, tensor<512x512xf32>
}
func.func @large_layer(%a: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
  %0 = tessel.relu %a : tensor<1024x1024xf32>
  return %0 : tensor<1024x1024xf32>
}

// -----

// A zero bias folds into a generic that writes zeros, and CSE merges the
// equal ones of two convs into one tensor both accumulate into. As a
// generic it fused into neither and was a whole-tensor kernel of its own;
// as the fill it is, each conv gets its own copy inside its tiles.
// ZERO-LABEL: func @zero_bias_fills
// ZERO-NOT: linalg.generic
// ZERO: scf.forall
// ZERO: linalg.fill
// ZERO: linalg.conv_2d_nhwc_hwcf
// ZERO: scf.forall
// ZERO: linalg.fill
// ZERO: linalg.conv_2d_nhwc_hwcf
func.func @zero_bias_fills(%x: tensor<2x8x8x16xf32>, %w: tensor<3x3x16x16xf32>, %v: tensor<3x3x16x16xf32>) -> (tensor<2x8x8x16xf32>, tensor<2x8x8x16xf32>) {
  %b = tessel.constant dense<0.0> : tensor<16xf32>
  %c = tessel.constant dense<0.0> : tensor<16xf32>
  %y = tessel.conv %x, %w, %b layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<2x8x8x16xf32>, tensor<3x3x16x16xf32>, tensor<16xf32>) -> tensor<2x8x8x16xf32>
  %z = tessel.conv %x, %v, %c layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<2x8x8x16xf32>, tensor<3x3x16x16xf32>, tensor<16xf32>) -> tensor<2x8x8x16xf32>
  return %y, %z : tensor<2x8x8x16xf32>, tensor<2x8x8x16xf32>
}

// -----

// A filter gradient is a convolution over the batch whose output,
// [C_in, kh, kw, C_out], is copied into HWIO. Within each thread's input
// channels the copy is tiled two input channels at a time with the
// convolution and its fill fused: each [2, 3, 3, 64] tile is copied while
// in L1, not the whole gradient written, read back and written again.
// GRAD-LABEL: func @filter_gradient_rows
// GRAD: scf.forall (%{{.+}}) = (0) to (32) step (16)
// GRAD: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// GRAD: linalg.fill {{.*}} -> tensor<2x3x3x64xf32>
// GRAD: %[[G:.+]] = linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<2x3x3x64xf32>
// GRAD: linalg.transpose ins(%[[G]] : tensor<2x3x3x64xf32>) outs(%{{.+}} : tensor<3x3x2x64xf32>) permutation = [1, 2, 0, 3]
// GRAD: tensor.insert_slice %{{.+}}[0, 0, %[[C]], 0] [3, 3, 2, 64]
func.func @filter_gradient_rows(%x: tensor<1x6x6x32xf32>, %dy: tensor<1x6x6x64xf32>) -> tensor<3x3x32x64xf32> {
  %w = tessel.conv_backward_filter %x, %dy layout nhwc, hwio {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x6x6x32xf32>, tensor<1x6x6x64xf32>) -> tensor<3x3x32x64xf32>
  return %w : tensor<3x3x32x64xf32>
}

// -----

// Into OIHW the copy moves C_out to the front: within each thread's output
// channels it is tiled 16 input channels at a time, each [16, 3, 3, 32]
// tile of the convolution transposed into [32, 16, 3, 3] (16x16 transposes
// writing whole cache lines of OIHW rows once vectorized).
// GRAD-LABEL: func @filter_gradient_oihw
// GRAD: scf.forall (%{{.+}}) = (0) to (64) step (32)
// GRAD: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// GRAD: linalg.fill {{.*}} -> tensor<16x3x3x32xf32>
// GRAD: %[[G:.+]] = linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<16x3x3x32xf32>
// GRAD: linalg.transpose ins(%[[G]] : tensor<16x3x3x32xf32>) outs(%{{.+}} : tensor<32x16x3x3xf32>) permutation = [3, 0, 1, 2]
// GRAD: tensor.insert_slice %{{.+}}[0, %[[C]], 0, 0] [32, 16, 3, 3]
func.func @filter_gradient_oihw(%x: tensor<1x6x6x32xf32>, %dy: tensor<1x6x6x64xf32>) -> tensor<64x32x3x3xf32> {
  %w = tessel.conv_backward_filter %x, %dy layout nhwc, oihw {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x6x6x32xf32>, tensor<1x6x6x64xf32>) -> tensor<64x32x3x3xf32>
  return %w : tensor<64x32x3x3xf32>
}

// -----

// Squeeze-and-excitation's scaling of the channels feeds a 1x1 stride-1
// convolution (the projection): each row tile computes its own input row
// from the unscaled tensor, so the scaled tensor is never written whole.
// CHECK-LABEL: func @se_scale_into_projection
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: arith.maximumf
// CHECK: scf.forall.in_parallel
func.func @se_scale_into_projection(%x: tensor<1x8x8x32xf32>, %s: tensor<1x32x1x1xf32>, %w: tensor<1x1x32x16xf32>) -> tensor<1x8x8x16xf32> {
  %e = tensor.empty() : tensor<1x8x8x32xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %x : tensor<1x32x1x1xf32>, tensor<1x8x8x32xf32>) outs(%e : tensor<1x8x8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x8x8x32xf32>
  %0 = tessel.conv %m, %w layout nhwc, hwio : (tensor<1x8x8x32xf32>, tensor<1x1x32x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.relu %0 : tensor<1x8x8x16xf32>
  return %1 : tensor<1x8x8x16xf32>
}

// -----

// The whole block as EfficientNet has it: the scale is a sigmoid of the
// global pool's small matrix product, used only by the scaling, and the
// projection has no epilogue. The scale is computed whole (its own group:
// a reduction the scaling broadcasts over the rows), and the scaling still
// fuses into the projection's row tiles, on two threads and on one.
// CHECK-LABEL: func @se_block_projection_rows
// CHECK: arith.divf
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: arith.mulf
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x1x8x16xf32>
// CHECK: scf.forall.in_parallel
// ONE-LABEL: func @se_block_projection_rows
// ONE: arith.divf
// ONE: scf.for
// ONE: arith.mulf
// ONE: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x1x8x16xf32>
func.func @se_block_projection_rows(%x: tensor<1x8x8x32xf32>, %w1: tensor<1x1x32x32xf32>, %w: tensor<1x1x32x16xf32>) -> tensor<1x8x8x16xf32> {
  %g = tessel.global_pool avg %x layout nhwc : tensor<1x8x8x32xf32> -> tensor<1x1x1x32xf32>
  %f = tessel.conv %g, %w1 layout nhwc, hwio : (tensor<1x1x1x32xf32>, tensor<1x1x32x32xf32>) -> tensor<1x1x1x32xf32>
  %s = tessel.sigmoid %f : tensor<1x1x1x32xf32>
  %m = tessel.mul %x, %s : (tensor<1x8x8x32xf32>, tensor<1x1x1x32xf32>) -> tensor<1x8x8x32xf32>
  %0 = tessel.conv %m, %w layout nhwc, hwio : (tensor<1x8x8x32xf32>, tensor<1x1x32x16xf32>) -> tensor<1x8x8x16xf32>
  return %0 : tensor<1x8x8x16xf32>
}

// -----

// Not where the projection's filter is cut into reduction blocks (1x1
// 1024->512, 2 MB): each row would sweep the whole filter; the scaling stays
// a kernel of its own and the convolution whole.
// ONE-LABEL: func @se_blocked_projection_whole
// ONE-NOT: scf.for
// ONE: arith.mulf
// ONE: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x7x7x512xf32>
// ONE-NOT: scf.for
func.func @se_blocked_projection_whole(%x: tensor<1x7x7x1024xf32>, %s: tensor<1x1x1x1024xf32>, %w: tensor<1x1x1024x512xf32>) -> tensor<1x7x7x512xf32> {
  %m = tessel.mul %x, %s : (tensor<1x7x7x1024xf32>, tensor<1x1x1x1024xf32>) -> tensor<1x7x7x1024xf32>
  %0 = tessel.conv %m, %w layout nhwc, hwio : (tensor<1x7x7x1024xf32>, tensor<1x1x1024x512xf32>) -> tensor<1x7x7x512xf32>
  return %0 : tensor<1x7x7x512xf32>
}

// -----

// A reduction that its consumer broadcasts along the consumer's leading
// loop (batch norm's per-channel sum over the batch, read by every image)
// is not fused into the consumer's tiles, where each thread would compute
// all of it: it is a group of its own, split across the threads on its
// channels, and the consumer's tiles read its result.
// CHECK-LABEL: func @broadcast_reduction_stays_apart
// CHECK: scf.forall (%{{.+}}) = (0) to (32) step (16)
// CHECK: iterator_types = ["reduction", "reduction", "reduction", "parallel"]
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall (%{{.+}}) = (0) to (4) step (2)
// CHECK-NOT: "reduction"
// CHECK: arith.subf
// CHECK: scf.forall.in_parallel
func.func @broadcast_reduction_stays_apart(%x: tensor<4x6x6x32xf32>) -> tensor<4x6x6x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<32xf32>) -> tensor<32xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d3)>], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%x : tensor<4x6x6x32xf32>) outs(%f : tensor<32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<32xf32>
  %e2 = tensor.empty() : tensor<4x6x6x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %x : tensor<32xf32>, tensor<4x6x6x32xf32>) outs(%e2 : tensor<4x6x6x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %b, %a : f32
    linalg.yield %r : f32
  } -> tensor<4x6x6x32xf32>
  return %y : tensor<4x6x6x32xf32>
}

// -----

// A reduction along the consumer's rows (a softmax's row maximum) shrinks
// with the consumer's row tiles: it is fused into them, each thread
// reducing its own rows.
// CHECK-LABEL: func @row_reduction_fuses
// CHECK: scf.forall (%{{.+}}) = (0) to (8) step (4)
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: scf.forall.in_parallel
// CHECK-NOT: scf.forall
func.func @row_reduction_fuses(%x: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<8x32xf32>) outs(%f : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %e2 = tensor.empty() : tensor<8x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %x : tensor<8xf32>, tensor<8x32xf32>) outs(%e2 : tensor<8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %b, %a : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
