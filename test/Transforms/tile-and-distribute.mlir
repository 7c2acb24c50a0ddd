// RUN: tessel-opt --split-input-file --tessel-to-linalg --linalg-fuse-elementwise-ops --tessel-tile-and-distribute="threads=2" --canonicalize %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-to-linalg --tessel-tile-and-distribute %s | FileCheck %s --check-prefix=ONE

// conv -> relu: the relu is tiled across the threads along the first parallel
// loop with more than one iteration (H: 8 rows in 2 chunks of 4), and the
// conv and its fill are fused into each tile; the input is padded once,
// before the threads, and each tile reads its rows of it.
// CHECK-LABEL: func @conv_relu
// CHECK: %[[PADDED:.+]] = tensor.pad
// CHECK: scf.forall (%[[I:.+]]) = (0) to (8) step (4) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<1x8x8x16xf32>)
// CHECK-NOT: tensor.pad
// CHECK: tensor.extract_slice %[[PADDED]][0, %[[I]], 0, 0] [1, 6, 10, 4]
// CHECK: linalg.fill
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x4x8x16xf32>
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][0, %[[I]], 0, 0] [1, 4, 8, 16] [1, 1, 1, 1]
// ONE-LABEL: func @conv_relu
// ONE-NOT: scf.forall
func.func @conv_relu(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32> {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x8x8x4xf32>, tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.relu %0 : tensor<1x8x8x16xf32>
  return %1 : tensor<1x8x8x16xf32>
}

// -----

// Batch 1 is skipped, and so are the 5 rows, which 2 threads cannot split
// evenly: the 6 columns are split instead, so both tiles have one shape.
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
