// RUN: tessel-opt --tessel-lower-vectors %s | FileCheck %s

// A register-tile contraction becomes FMAs, one per (column, reduction step):
// no vector.contract and no vector.outerproduct is left.
// CHECK-LABEL: func @contract_to_fma
// CHECK-NOT: vector.contract
// CHECK-NOT: vector.outerproduct
// CHECK-COUNT-8: vector.fma {{.*}} : vector<64xf32>
// CHECK-NOT: vector.fma
#lhs = affine_map<(n, w, f, c) -> (n, w, c)>
#rhs = affine_map<(n, w, f, c) -> (c, f)>
#acc = affine_map<(n, w, f, c) -> (n, w, f)>
func.func @contract_to_fma(%a: vector<1x4x2xf32>, %b: vector<2x64xf32>, %c: vector<1x4x64xf32>) -> vector<1x4x64xf32> {
  %0 = vector.contract {indexing_maps = [#lhs, #rhs, #acc], iterator_types = ["parallel", "parallel", "parallel", "reduction"], kind = #vector.kind<add>} %a, %b, %c
         : vector<1x4x2xf32>, vector<2x64xf32> into vector<1x4x64xf32>
  return %0 : vector<1x4x64xf32>
}

// -----

// A multi-reduction (global max pooling of a small tile) becomes inner
// vector.reduction ops.
// CHECK-LABEL: func @multi_reduction
// CHECK-NOT: vector.multi_reduction
// CHECK: vector.reduction <maximumf>
func.func @multi_reduction(%v: vector<2x8xf32>, %acc: vector<2xf32>) -> vector<2xf32> {
  %0 = vector.multi_reduction <maximumf>, %v, %acc [1] : vector<2x8xf32> to vector<2xf32>
  return %0 : vector<2xf32>
}

// -----

// A reduction over the leading dims only (a channels-last sum over batch and
// space) becomes elementwise adds of whole channel vectors, with no
// transposition and no horizontal reduction.
// CHECK-LABEL: func @leading_dims_reduction
// CHECK-NOT: vector.multi_reduction
// CHECK-NOT: vector.transpose
// CHECK-NOT: vector.reduction
// CHECK-COUNT-4: arith.addf {{.*}} : vector<256xf32>
func.func @leading_dims_reduction(%v: vector<1x2x2x256xf32>, %acc: vector<256xf32>) -> vector<256xf32> {
  %0 = vector.multi_reduction <add>, %v, %acc [0, 1, 2] : vector<1x2x2x256xf32> to vector<256xf32>
  return %0 : vector<256xf32>
}

// A 16x16 transpose of f32 (tessel-vectorize's transposing copies) becomes
// the shuffle network of AVX-512 16x16 transposes; a transpose of another
// shape stays element by element.
// CHECK-LABEL: func @square_transpose_shuffles
// CHECK-NOT: vector.transpose
// CHECK: vector.shuffle
// CHECK-LABEL: func @other_transpose_elementwise
// CHECK-NOT: vector.shuffle
// CHECK: vector.extract
// A 16x16 tile read transposed (an elementwise op's, tessel-vectorize's SGD
// update of an OIHW filter) is a read and the same shuffle network.
// CHECK-LABEL: func @transposed_read_shuffles
// CHECK-NOT: permutation_map
// CHECK-NOT: vector.transpose
// CHECK: vector.shuffle
func.func @square_transpose_shuffles(%v: vector<16x16xf32>) -> vector<16x16xf32> {
  %0 = vector.transpose %v, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
  return %0 : vector<16x16xf32>
}
func.func @other_transpose_elementwise(%v: vector<2x8xf32>) -> vector<8x2xf32> {
  %0 = vector.transpose %v, [1, 0] : vector<2x8xf32> to vector<8x2xf32>
  return %0 : vector<8x2xf32>
}
#transposed = affine_map<(d0, d1) -> (d1, d0)>
func.func @transposed_read_shuffles(%m: memref<16x16xf32>) -> vector<16x16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %0 = vector.transfer_read %m[%c0, %c0], %pad {in_bounds = [true, true], permutation_map = #transposed} : memref<16x16xf32>, vector<16x16xf32>
  return %0 : vector<16x16xf32>
}

// -----

// A tile written with trailing unit dims (a gathered 16x16 transpose
// written into one phase of a stride-2 interleave, [.., W, 1] of [.., W,
// 2]) is written without them, into a rank-reduced view: VectorToSCF's
// rank-1 pieces are rows of 4, not 256 single elements. A register tile's
// small reads with trailing unit dims (its broadcast operands) keep them.
// CHECK-LABEL: func @phase_write_drops_unit_dims
// CHECK: %[[VIEW:.*]] = memref.subview %{{.*}}[0, 0, 0, 0, 0] [16, 4, 1, 4, 1] [1, 1, 1, 1, 1] : memref<16x4x1x4x1xf32, strided<[64, 16, 8, 2, 1]>> to memref<16x4x1x4xf32, strided<[64, 16, 8, 2]>>
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: vector.transfer_write %{{.*}}, %[[VIEW]]{{.*}} : vector<16x4x1x4xf32>, memref<16x4x1x4xf32, strided<[64, 16, 8, 2]>>
// CHECK-NOT: vector.transfer_write
// CHECK-LABEL: func @small_read_kept
// CHECK: vector.transfer_read {{.*}} : memref<2x1x1xf32, strided<[49, 7, 1]>>, vector<2x1x1xf32>
func.func @phase_write_drops_unit_dims(%v: vector<16x16xf32>, %m: memref<16x4x1x4x1xf32, strided<[64, 16, 8, 2, 1]>>) {
  %c0 = arith.constant 0 : index
  %t = vector.shape_cast %v : vector<16x16xf32> to vector<16x4x1x4x1xf32>
  vector.transfer_write %t, %m[%c0, %c0, %c0, %c0, %c0] {in_bounds = [true, true, true, true, true]} : vector<16x4x1x4x1xf32>, memref<16x4x1x4x1xf32, strided<[64, 16, 8, 2, 1]>>
  return
}
func.func @small_read_kept(%m: memref<2x1x1xf32, strided<[49, 7, 1]>>) -> vector<2x1x1xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %0 = vector.transfer_read %m[%c0, %c0, %c0], %pad {in_bounds = [true, true, true]} : memref<2x1x1xf32, strided<[49, 7, 1]>>, vector<2x1x1xf32>
  return %0 : vector<2x1x1xf32>
}
