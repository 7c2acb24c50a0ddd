// RUN: tessel-opt --split-input-file --tessel-winograd=everywhere %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-winograd %s | FileCheck %s --check-prefix=AUTO
// RUN: tessel-opt --split-input-file --tessel-winograd="everywhere vector-bits=256" %s | FileCheck %s --check-prefix=AVX2
// RUN: not tessel-opt --tessel-winograd="vector-bits=100" %s 2>&1 | FileCheck %s --check-prefix=BITS

// Two 8x8 outputs: F(4x4, 3x3) over 2x2 tiles each. The filter is
// transformed at compile time into 36 [C, K] matrices; the input transform
// writes [36, 8 tiles, 16] one 16-channel vector at a time (36 reads of the
// padded input, 36 writes); the products are one batch_matmul over the 8
// tiles; the output transform starts from the fill's zeros (no read of the
// filled tensor) and writes the output tile by tile. The transforms and the
// products are marked for tessel-outline-kernels{marked}.
// CHECK-LABEL: func.func @f4x4
// CHECK-NOT: linalg.conv_2d
// CHECK: %[[V:.+]] = scf.forall (%{{.+}}) in (8) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<36x8x16xf32>)
// CHECK-COUNT-36: vector.transfer_read %{{.+}} : tensor<2x10x10x16xf32>, vector<16xf32>
// CHECK-COUNT-36: vector.transfer_write
// CHECK: tensor.parallel_insert_slice
// CHECK: } {tessel.outline}
// CHECK: %[[U:.+]] = arith.constant dense_resource<winograd_filter> : tensor<36x16x16xf32>
// CHECK: %[[M:.+]] = linalg.batch_matmul {tessel.outline} ins(%[[V]], %[[U]] : tensor<36x8x16xf32>, tensor<36x16x16xf32>)
// CHECK: scf.forall (%{{.+}}) in (8) shared_outs(%{{.+}} = %[[EMPTY:.+]]) -> (tensor<2x8x8x16xf32>)
// CHECK-COUNT-36: vector.transfer_read %[[M]]
// CHECK-NOT: vector.transfer_read
// CHECK-COUNT-16: vector.transfer_write
// CHECK-NOT: linalg.conv_2d
//
// The cost model picks it too (products, filter and transform traffic
// against the direct FLOPs).
// AUTO-LABEL: func.func @f4x4
// AUTO: linalg.batch_matmul
//
// With 256-bit vectors, 8 channels a vector.
// AVX2-LABEL: func.func @f4x4
// AVX2: vector.transfer_read %{{.+}} : tensor<2x10x10x16xf32>, vector<8xf32>
func.func @f4x4(%x: tensor<2x8x8x16xf32>) -> tensor<2x8x8x16xf32> {
  %w = arith.constant dense<0.25> : tensor<3x3x16x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x8x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x8x16xf32>) -> tensor<2x8x8x16xf32>
  %xp = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<2x8x8x16xf32> to tensor<2x10x10x16xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%xp, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z : tensor<2x8x8x16xf32>) -> tensor<2x8x8x16xf32>
  return %y : tensor<2x8x8x16xf32>
}

// -----

// A 4x4 output is too small for the cost model: the transformed filter
// (16 or 36 matrices of 16x16) costs more to read than the direct
// algorithm's 74 kFLOP. Forced, it is F(2x2, 3x3), the cheaper of the two.
// CHECK-LABEL: func.func @too_small
// CHECK: linalg.batch_matmul {{.*}} -> tensor<16x4x16xf32>
// AUTO-LABEL: func.func @too_small
// AUTO: linalg.conv_2d_nhwc_hwcf
// AUTO-NOT: linalg.batch_matmul
func.func @too_small(%x: tensor<1x6x6x16xf32>) -> tensor<1x4x4x16xf32> {
  %w = arith.constant dense<0.25> : tensor<3x3x16x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x6x6x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  return %y : tensor<1x4x4x16xf32>
}

// -----

// Two 6x12 outputs: F(2x2, 3x3) (cheaper here than F(4x4, 3x3), whose tiles
// would overhang), 16 matrices, 3x6 tiles of 2 images. The bias broadcast that starts the accumulator and the ReLU
// after the convolution are computed in the output transform, on each
// vector: no generic is left.
// CHECK-LABEL: func.func @f2x2_bias_relu
// CHECK: scf.forall (%{{.+}}) in (36) {{.*}} -> (tensor<16x36x32xf32>)
// CHECK: arith.constant dense_resource<winograd_filter{{.*}}> : tensor<16x32x16xf32>
// CHECK: linalg.batch_matmul {{.*}} -> tensor<16x36x16xf32>
// CHECK: scf.forall (%{{.+}}) in (36) {{.*}} -> (tensor<2x6x12x16xf32>)
// CHECK: vector.transfer_read %{{.+}} : tensor<16xf32>, vector<16xf32>
// CHECK: arith.addf
// CHECK: arith.maximumf %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.conv_2d
//
// The cost model picks Winograd.
// AUTO-LABEL: func.func @f2x2_bias_relu
// AUTO: linalg.batch_matmul
#bias = affine_map<(d0, d1, d2, d3) -> (d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @f2x2_bias_relu(%x: tensor<2x8x14x32xf32>, %b: tensor<16xf32>) -> tensor<2x6x12x16xf32> {
  %w = arith.constant dense<-0.5> : tensor<3x3x32x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x6x12x16xf32>
  %init = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
            ins(%b : tensor<16xf32>) outs(%e : tensor<2x6x12x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x6x12x16xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<2x8x14x32xf32>, tensor<3x3x32x16xf32>)
         outs(%init : tensor<2x6x12x16xf32>) -> tensor<2x6x12x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
            ins(%y : tensor<2x6x12x16xf32>) outs(%e : tensor<2x6x12x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x6x12x16xf32>
  return %r : tensor<2x6x12x16xf32>
}

// -----

// A 7x7 output: F(2x2, 3x3) (cheaper than F(4x4, 3x3) at this size) over
// 4x4 tiles overhanging it by a row and a column. The convolution's padding is widened by one row and column at
// the bottom and right (one pad of the source, not a pad of the pad), the
// output transform writes an 8x8 tensor, and its 7x7 slice is added to the
// initial value by an elementwise op (fused with the epilogue later).
// CHECK-LABEL: func.func @overhang
// CHECK: tensor.pad %arg0 low[0, 1, 1, 0] high[0, 2, 2, 0]
// CHECK: } : tensor<1x7x7x16xf32> to tensor<1x10x10x16xf32>
// CHECK: scf.forall (%{{.+}}) in (16) {{.*}} -> (tensor<16x16x16xf32>)
// CHECK: linalg.batch_matmul
// CHECK: %[[Y:.+]] = scf.forall (%{{.+}}) in (16) {{.*}} -> (tensor<1x8x8x16xf32>)
// CHECK: %[[CUT:.+]] = tensor.extract_slice %[[Y]][0, 0, 0, 0] [1, 7, 7, 16] [1, 1, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[CUT]] : tensor<1x7x7x16xf32>) outs(%{{.+}} : tensor<1x7x7x16xf32>)
// CHECK: arith.addf
// CHECK-NOT: linalg.conv_2d
func.func @overhang(%x: tensor<1x7x7x16xf32>) -> tensor<1x7x7x16xf32> {
  %w = arith.constant dense<0.25> : tensor<3x3x16x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x7x7x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x7x7x16xf32>) -> tensor<1x7x7x16xf32>
  %xp = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x7x7x16xf32> to tensor<1x9x9x16xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%xp, %w : tensor<1x9x9x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z : tensor<1x7x7x16xf32>) -> tensor<1x7x7x16xf32>
  return %y : tensor<1x7x7x16xf32>
}

// -----

// A filter that is not a constant (a training step's parameter) is
// transformed on every call: an scf.forall over the 16 input channels, 9
// tap reads and 36 writes of a vector of output channels each.
// CHECK-LABEL: func.func @filter_at_run_time
// CHECK: scf.forall (%{{.+}}) in (16) {{.*}} -> (tensor<36x16x16xf32>)
// CHECK: %[[U:.+]] = scf.forall (%{{.+}}) in (16) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<36x16x16xf32>)
// CHECK-COUNT-9: vector.transfer_read %arg1
// CHECK-COUNT-36: vector.transfer_write
// CHECK: linalg.batch_matmul {tessel.outline} ins(%{{.+}}, %[[U]] : tensor<36x16x16xf32>, tensor<36x16x16xf32>)
// AUTO-LABEL: func.func @filter_at_run_time
// AUTO: linalg.batch_matmul
func.func @filter_at_run_time(%x: tensor<1x18x18x16xf32>, %w: tensor<3x3x16x16xf32>) -> tensor<1x16x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16x16x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x18x18x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// An input gradient's filter is flipped (a copy reading 2 - kh, 2 - kw):
// the transform reads the unflipped filter at the mirrored taps instead,
// tap (0, 0) from (2, 2) first, and the flip is left unused.
// CHECK-LABEL: func.func @flipped_filter_at_run_time
// CHECK: scf.forall (%{{.+}}) in (16) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<36x16x16xf32>)
// CHECK: vector.transfer_read %arg1[%c2{{.*}}, %c2{{.*}}, %{{.+}}, %{{.+}}]
// CHECK-COUNT-8: vector.transfer_read %arg1
// CHECK: linalg.batch_matmul
func.func @flipped_filter_at_run_time(%x: tensor<1x18x18x16xf32>, %w: tensor<3x3x16x16xf32>) -> tensor<1x16x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ef = tensor.empty() : tensor<3x3x16x16xf32>
  %flipped = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (2 - a, 2 - b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%w : tensor<3x3x16x16xf32>) outs(%ef : tensor<3x3x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x3x16x16xf32>
  %e = tensor.empty() : tensor<1x16x16x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %flipped : tensor<1x18x18x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

// Where the algorithm does not apply, the convolution stays: a stride of 2,
// input channels that do not fill a vector, a dilation.
// CHECK-LABEL: func.func @not_applicable
// CHECK-COUNT-3: linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.batch_matmul
func.func @not_applicable(%x: tensor<1x18x18x16xf32>, %x12: tensor<1x10x10x12xf32>)
    -> (tensor<1x8x8x16xf32>, tensor<1x8x8x16xf32>, tensor<1x14x14x16xf32>) {
  %w = arith.constant dense<0.25> : tensor<3x3x16x16xf32>
  %w12 = arith.constant dense<0.25> : tensor<3x3x12x16xf32>
  %zero = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<1x8x8x16xf32>
  %z8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  %e14 = tensor.empty() : tensor<1x14x14x16xf32>
  %z14 = linalg.fill ins(%zero : f32) outs(%e14 : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  %strided = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%x, %w : tensor<1x18x18x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z8 : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  %narrow = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x12, %w12 : tensor<1x10x10x12xf32>, tensor<3x3x12x16xf32>)
         outs(%z8 : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  %dilated = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x18x18x16xf32>, tensor<3x3x16x16xf32>)
         outs(%z14 : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  return %strided, %narrow, %dilated : tensor<1x8x8x16xf32>, tensor<1x8x8x16xf32>, tensor<1x14x14x16xf32>
}

// BITS: tessel-winograd: vector-bits=100 is not a vector register width
