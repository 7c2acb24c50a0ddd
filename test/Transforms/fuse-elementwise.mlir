// RUN: tessel-opt --split-input-file --tessel-fuse-elementwise="max-reshaped-constant-bytes=256" %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-fuse-elementwise %s | FileCheck %s --check-prefix=DEFAULT

// A classifier after a flatten: the collapse_shape is not moved into the
// contraction, which would reshape (copy) its weight, larger than the limit
// (here 256 bytes; 64 KiB by default), and split its reduction loop in three.
// CHECK-LABEL: func @large_weight
// CHECK: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: tensor<4x32xf32>
// With the default limit the reshape moves in, as upstream's pass does.
// DEFAULT-LABEL: func @large_weight
// DEFAULT-NOT: tensor.collapse_shape
// DEFAULT: linalg.generic
// DEFAULT-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]
// DEFAULT-SAME: tensor<4x8x2x2xf32>
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (n, k)>
#out = affine_map<(m, n, k) -> (m, n)>
func.func @large_weight(%x: tensor<1x8x2x2xf32>, %init: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<[[-0.731, 0.695, 0.528, -0.490, -0.009, -0.101, 0.303, 0.577, -0.812, -0.943, 0.672, -0.134, 0.525, -0.996, -0.109, 0.443, -0.542, 0.891, 0.803, -0.939, -0.949, 0.083, 0.878, -0.238, -0.567, -0.156, -0.942, -0.557, -0.124, -0.008, -0.534, -0.538], [-0.562, -0.081, -0.420, -0.957, 0.675, 0.113, 0.285, -0.628, 0.985, 0.720, -0.758, -0.335, 0.443, 0.422, 0.873, -0.156, 0.660, 0.341, -0.393, 0.175, 0.765, 0.692, 0.011, 0.178, -0.931, -0.515, 0.595, -0.171, -0.654, 0.098, 0.406, 0.349], [-0.251, -0.122, 0.017, 0.557, 0.042, -0.213, -0.021, -0.941, -0.913, 0.407, 0.966, 0.186, -0.213, -0.659, 0.004, 0.964, 0.541, 0.079, 0.721, -0.536, 0.028, 0.905, 0.156, -0.082, -0.461, 0.096, 0.914, -0.989, 0.567, 0.641, 0.772, 0.481], [0.618, 0.037, 0.123, -0.148, -0.888, 0.740, 0.140, -0.600, 0.009, -0.030, -0.286, -0.308, 0.077, 0.247, 0.225, -0.084, -0.944, -0.541, -0.646, 0.169, 0.722, 0.597, 0.594, 0.633, -0.489, 0.683, 0.346, -0.834, -0.967, -0.971, 0.511, -0.501]]> : tensor<4x32xf32>
  %flat = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<1x8x2x2xf32> into tensor<1x32xf32>
  %0 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
         ins(%flat, %w : tensor<1x32xf32>, tensor<4x32xf32>) outs(%init : tensor<1x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

// Within the limit the reshape moves in (the weight is expanded with the
// op's loops).
// CHECK-LABEL: func @small_weight
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK-SAME: tensor<2x8x2x2xf32>
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (n, k)>
#out = affine_map<(m, n, k) -> (m, n)>
func.func @small_weight(%x: tensor<1x8x2x2xf32>, %init: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[-0.781, 0.250, -0.311, -0.861, -0.681, 0.055, -0.664, -0.454, 0.423, -0.091, -0.356, -0.052, -0.953, -0.227, -0.158, -0.624, -0.782, 0.800, 0.020, -0.582, 0.211, 0.634, -0.958, -0.964, -0.707, 0.438, -0.680, 0.409, 0.356, 0.089, -0.559, 0.951], [0.596, 0.033, -0.554, 0.297, -0.210, 0.152, -0.358, 0.262, -0.882, -0.403, 0.936, 0.751, -0.387, 0.717, -0.379, 0.879, 0.488, -0.168, -0.495, -0.983, 0.757, -0.924, 0.639, 0.924, 0.141, -0.657, 0.736, 0.948, 0.408, 0.018, -0.244, -0.306]]> : tensor<2x32xf32>
  %flat = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<1x8x2x2xf32> into tensor<1x32xf32>
  %0 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
         ins(%flat, %w : tensor<1x32xf32>, tensor<2x32xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}

// -----

// Transposes are generics here, so two in a row are one copy; a flip (a
// copy that reads backwards) is not fused with them (the fused op could not
// be tiled, see ReversedLoops.h) but moved after them: the copy reads the
// unflipped filter and the flip reverses its result's kernel dims, the
// leading ones in HWIO, where tessel-vectorize reads a conv's taps of it
// from the copy.
// CHECK-DAG: #[[BOTH:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3, d0, d1)>
// CHECK-DAG: #[[FLIP:.+]] = affine_map<(d0, d1, d2, d3) -> (-d0 + 2, -d1 + 2, d2, d3)>
// CHECK-LABEL: func @transposes_and_flip
// CHECK: %[[T:.+]] = linalg.generic {indexing_maps = [#[[BOTH]], #{{.+}}], {{.*}}} ins(%arg0 : tensor<8x4x3x3xf32>) outs(%{{.+}} : tensor<3x3x8x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[FLIP]], #{{.+}}], {{.*}}} ins(%[[T]] : tensor<3x3x8x4xf32>)
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.generic
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#flip = affine_map<(d0, d1, d2, d3) -> (d0, d1, 2 - d2, 2 - d3)>
func.func @transposes_and_flip(%w: tensor<8x4x3x3xf32>) -> tensor<3x3x8x4xf32> {
  %e0 = tensor.empty() : tensor<8x4x3x3xf32>
  %flipped = linalg.generic {indexing_maps = [#flip, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<8x4x3x3xf32>) outs(%e0 : tensor<8x4x3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x4x3x3xf32>
  %e1 = tensor.empty() : tensor<4x8x3x3xf32>
  %swapped = linalg.transpose ins(%flipped : tensor<8x4x3x3xf32>) outs(%e1 : tensor<4x8x3x3xf32>) permutation = [1, 0, 2, 3]
  %e2 = tensor.empty() : tensor<3x3x8x4xf32>
  %moved = linalg.transpose ins(%swapped : tensor<4x8x3x3xf32>) outs(%e2 : tensor<3x3x8x4xf32>) permutation = [2, 3, 1, 0]
  return %moved : tensor<3x3x8x4xf32>
}

// -----

// A squeeze-and-excitation gate: the sigmoid of 8 channel values, broadcast
// over a 4x4x8 activation by the multiply, stays its own op (fused, it would
// be recomputed for each of the 16 pixels); the ReLU the multiply reads
// element for element fuses into it.
// CHECK-LABEL: func @broadcast_producer
// CHECK: %[[GATE:.+]] = linalg.generic
// CHECK: math.exp
// CHECK: -> tensor<8xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %[[GATE]] : tensor<4x4x8xf32>, tensor<8xf32>)
// CHECK-NOT: math.exp
// CHECK: arith.maximumf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
#c = affine_map<(d0) -> (d0)>
#id3 = affine_map<(h, w, c) -> (h, w, c)>
#ch3 = affine_map<(h, w, c) -> (c)>
func.func @broadcast_producer(%x: tensor<4x4x8xf32>, %s: tensor<8xf32>) -> tensor<4x4x8xf32> {
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<8xf32>
  %gate = linalg.generic {indexing_maps = [#c, #c], iterator_types = ["parallel"]}
      ins(%s : tensor<8xf32>) outs(%e8 : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %e = tensor.empty() : tensor<4x4x8xf32>
  %relu = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<4x4x8xf32>) outs(%e : tensor<4x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id3, #ch3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%relu, %gate : tensor<4x4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x4x8xf32>) {
  ^bb0(%a: f32, %g: f32, %out: f32):
    %p = arith.mulf %a, %g : f32
    linalg.yield %p : f32
  } -> tensor<4x4x8xf32>
  return %y : tensor<4x4x8xf32>
}

// -----

// A cheap elementwise producer of one full-size operand, (x - mean) * inv,
// read by a reduction and by an elementwise op (a batch-norm gradient's
// xhat): copied for each user and fused into both, so that it is never
// written; each user reads x. One that another kind of op also reads (a
// convolution) stays whole.
// CHECK-LABEL: func @cheap_producer_copied
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
#id2 = affine_map<(n, c) -> (n, c)>
#ch2 = affine_map<(n, c) -> (c)>
#red2 = affine_map<(n, c) -> (c)>
func.func @cheap_producer_copied(%x: tensor<16x8xf32>, %mean: tensor<8xf32>, %inv: tensor<8xf32>, %dy: tensor<16x8xf32>) -> (tensor<8xf32>, tensor<16x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x8xf32>
  %xhat = linalg.generic {indexing_maps = [#id2, #ch2, #ch2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %mean, %inv : tensor<16x8xf32>, tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<16x8xf32>) {
  ^bb0(%a: f32, %m: f32, %i: f32, %out: f32):
    %c = arith.subf %a, %m : f32
    %r = arith.mulf %c, %i : f32
    linalg.yield %r : f32
  } -> tensor<16x8xf32>
  %e8 = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #id2, #red2], iterator_types = ["reduction", "parallel"]}
      ins(%xhat, %dy : tensor<16x8xf32>, tensor<16x8xf32>) outs(%f : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %p, %out : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %y = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%xhat, %dy : tensor<16x8xf32>, tensor<16x8xf32>) outs(%e : tensor<16x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %p = arith.subf %b, %a : f32
    linalg.yield %p : f32
  } -> tensor<16x8xf32>
  return %sum, %y : tensor<8xf32>, tensor<16x8xf32>
}

// -----

// The same producer (a ReLU6 clamp of the normalized x) read by a generic and
// through an expand_shape (a stride-2 convolution's input gradient reads its
// mask in the four phases, [N, H/2, 2, W/2, 2, C]): the copy for the reshape
// takes its shape and fuses too, so that no generic of its own is left.
// CHECK-LABEL: func @cheap_producer_copied_through_reshape
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x4x4x8xf32>
// CHECK: tensor.expand_shape %[[X]]
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
#idr = affine_map<(n, h, w, c) -> (n, h, w, c)>
#chr = affine_map<(n, h, w, c) -> (c)>
#id6 = affine_map<(n, h, p, w, q, c) -> (n, h, p, w, q, c)>
func.func @cheap_producer_copied_through_reshape(%x: tensor<2x4x4x8xf32>, %mean: tensor<8xf32>, %dy: tensor<2x2x2x2x2x8xf32>) -> (tensor<2x4x4x8xf32>, tensor<2x2x2x2x2x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<2x4x4x8xf32>
  %bn = linalg.generic {indexing_maps = [#idr, #chr, #idr], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %mean : tensor<2x4x4x8xf32>, tensor<8xf32>) outs(%e : tensor<2x4x4x8xf32>) {
  ^bb0(%a: f32, %m: f32, %out: f32):
    %c = arith.subf %a, %m : f32
    linalg.yield %c : f32
  } -> tensor<2x4x4x8xf32>
  %clamp = linalg.generic {indexing_maps = [#idr, #idr], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%bn : tensor<2x4x4x8xf32>) outs(%e : tensor<2x4x4x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %lo = arith.maximumf %a, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<2x4x4x8xf32>
  %phases = tensor.expand_shape %bn [[0], [1, 2], [3, 4], [5]] output_shape [2, 2, 2, 2, 2, 8] : tensor<2x4x4x8xf32> into tensor<2x2x2x2x2x8xf32>
  %e6 = tensor.empty() : tensor<2x2x2x2x2x8xf32>
  %mask = linalg.generic {indexing_maps = [#id6, #id6, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%phases, %dy : tensor<2x2x2x2x2x8xf32>, tensor<2x2x2x2x2x8xf32>) outs(%e6 : tensor<2x2x2x2x2x8xf32>) {
  ^bb0(%a: f32, %d: f32, %out: f32):
    %inside = arith.cmpf olt, %a, %six : f32
    %g = arith.select %inside, %d, %zero : f32
    linalg.yield %g : f32
  } -> tensor<2x2x2x2x2x8xf32>
  return %clamp, %mask : tensor<2x4x4x8xf32>, tensor<2x2x2x2x2x8xf32>
}

// -----

// CHECK-LABEL: func @cheap_producer_read_by_conv
// CHECK: %[[R:.+]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.conv_2d_nhwc_hwcf ins(%[[R]]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[R]]
#id4 = affine_map<(n, h, w, c) -> (n, h, w, c)>
func.func @cheap_producer_read_by_conv(%x: tensor<1x4x4x8xf32>, %w: tensor<1x1x8x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %relu = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x4x8xf32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %c = linalg.conv_2d_nhwc_hwcf ins(%relu, %w : tensor<1x4x4x8xf32>, tensor<1x1x8x8xf32>) outs(%f : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%relu : tensor<1x4x4x8xf32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x8xf32>
  return %c, %y : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>
}
