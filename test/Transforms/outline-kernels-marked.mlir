// RUN: tessel-opt --tessel-outline-kernels=marked --duplicate-function-elimination %s | FileCheck %s
// RUN: tessel-opt --tessel-outline-kernels=marked --duplicate-function-elimination --canonicalize --tessel-bufferize --cse --canonicalize %s | FileCheck %s --check-prefix=BUF

// Before bufferization, each op marked tessel.outline becomes a call to a
// kernel on tensors that returns its results. The two layers differ only in
// their input, their destination (two halves of a concatenation) and not
// at all in their constants: one kernel, called twice. The non-splat
// constant (a scale) is an argument, so that layers with different
// weights would still share it; the splat is cloned in. The destination
// is the last argument, and each call says which operand its result is
// computed in (for tessel-pad-in-place).
// CHECK-LABEL: func.func private @__tessel_kernel_0(
// CHECK-SAME: %[[IN:[a-z0-9]+]]: tensor<4x16xf32>, %[[SCALE:[a-z0-9]+]]: tensor<16xf32>, %[[DEST:[a-z0-9]+]]: tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]
// CHECK: %[[SHIFT:.+]] = arith.constant dense<5.000000e-01> : tensor<16xf32>
// CHECK: %[[R:.+]] = scf.forall {{.*}} shared_outs(%{{.+}} = %[[DEST]])
// CHECK: ins(%{{.+}}, %[[SCALE]], %[[SHIFT]] :
// CHECK-NOT: tessel.outline
// CHECK: return %[[R]] : tensor<4x16xf32>
// CHECK-NOT: __tessel_kernel_1
// CHECK-LABEL: func.func @two_layers(
// CHECK: %[[W:.+]] = arith.constant dense<[1.000000e+00,
// CHECK: %[[D0:.+]] = tensor.extract_slice
// CHECK: call @__tessel_kernel_0(%arg0, %[[W]], %[[D0]]) {tessel.destinations = array<i64: 2>}
// CHECK: %[[D1:.+]] = tensor.extract_slice
// CHECK: call @__tessel_kernel_0(%arg1, %[[W]], %[[D1]]) {tessel.destinations = array<i64: 2>}

// tessel-bufferize: the kernel takes views with the strides its callers
// share (the concatenation's rows, 32 floats), a dynamic offset (0 and 16)
// and a unit innermost stride; its result, the destination's buffer, is
// dropped, and each layer computes in its half of the one buffer (no copy
// once CSE and the canonicalizer fold the self-copies).
// BUF-LABEL: func.func private @__tessel_kernel_0(
// BUF-SAME: memref<4x16xf32>, %{{.+}}: memref<16xf32>, %{{.+}}: memref<4x16xf32, strided<[32, 1], offset: ?>>)
// BUF-SAME: attributes
// BUF-NOT: return %
// BUF-LABEL: func.func @two_layers(
// BUF: %[[A:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x32xf32>
// BUF: memref.subview %[[A]][0, 0] [4, 16]
// BUF: call @__tessel_kernel_0(%arg0, %{{.+}}, %{{.+}}) {{.*}} -> ()
// BUF: memref.subview %[[A]][0, 16] [4, 16]
// BUF: call @__tessel_kernel_0(%arg1, %{{.+}}, %{{.+}}) {{.*}} -> ()
// BUF-NOT: memref.copy
// BUF: return %[[A]] : memref<4x32xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @two_layers(%x: tensor<4x16xf32>, %y: tensor<4x16xf32>) -> tensor<4x32xf32> {
  %scale = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32>
  %shift = arith.constant dense<0.5> : tensor<16xf32>
  %e = tensor.empty() : tensor<4x32xf32>
  %d0 = tensor.extract_slice %e[0, 0] [4, 16] [1, 1] : tensor<4x32xf32> to tensor<4x16xf32>
  %a = scf.forall (%i) in (4) shared_outs(%o = %d0) -> (tensor<4x16xf32>) {
    %row = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %s = tensor.extract_slice %o[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %r = linalg.generic {indexing_maps = [#id, #ch, #ch, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row, %scale, %shift : tensor<1x16xf32>, tensor<16xf32>, tensor<16xf32>) outs(%s : tensor<1x16xf32>) {
    ^bb0(%v: f32, %m: f32, %b: f32, %out: f32):
      %p = arith.mulf %v, %m : f32
      %q = arith.addf %p, %b : f32
      linalg.yield %q : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<4x16xf32>
    }
  } {tessel.outline}
  %c1 = tensor.insert_slice %a into %e[0, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<4x32xf32>
  %d1 = tensor.extract_slice %c1[0, 16] [4, 16] [1, 1] : tensor<4x32xf32> to tensor<4x16xf32>
  %b = scf.forall (%i) in (4) shared_outs(%o = %d1) -> (tensor<4x16xf32>) {
    %row = tensor.extract_slice %y[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %s = tensor.extract_slice %o[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %r = linalg.generic {indexing_maps = [#id, #ch, #ch, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row, %scale, %shift : tensor<1x16xf32>, tensor<16xf32>, tensor<16xf32>) outs(%s : tensor<1x16xf32>) {
    ^bb0(%v: f32, %m: f32, %b: f32, %out: f32):
      %p = arith.mulf %v, %m : f32
      %q = arith.addf %p, %b : f32
      linalg.yield %q : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<4x16xf32>
    }
  } {tessel.outline}
  %c2 = tensor.insert_slice %b into %c1[0, 16] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<4x32xf32>
  return %c2 : tensor<4x32xf32>
}

// A destination filled with a constant (a batch_matmul's zeros, which one
// thread's row tiles do not fuse) is filled inside the kernel, from the
// empty tensor passed in: tessel-vectorize then starts the accumulators
// from zeros instead of a zeroed tensor written and read back, and CSE's
// one fill for two such ops costs no copy (each gets a buffer of its own).
// CHECK: func.func private @[[K:__tessel_kernel_[0-9]+]](
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x4x8xf32>, %[[B:[a-z0-9]+]]: tensor<2x8x16xf32>, %[[E:[a-z0-9]+]]: tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E]] : tensor<2x4x16xf32>)
// CHECK: linalg.batch_matmul ins(%[[A]], %[[B]] : {{.*}}) outs(%[[Z]] :
// CHECK-LABEL: func.func @filled(
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<2x4x16xf32>
// CHECK: call @[[K]](%arg0, %arg1, %[[EMPTY]]) {tessel.destinations = array<i64: 2>}
// CHECK: call @[[K]](%arg2, %arg1, %[[EMPTY]]) {tessel.destinations = array<i64: 2>}
// BUF-LABEL: func.func @filled(
// BUF-NOT: linalg.fill
// BUF: call @[[KB:__tessel_kernel_[0-9]+]](%arg0, %arg1, %{{.+}}) {{.*}} -> ()
// BUF: call @[[KB]](%arg2, %arg1, %{{.+}}) {{.*}} -> ()
func.func @filled(%a: tensor<2x4x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<2x4x8xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %m = linalg.batch_matmul {tessel.outline} ins(%a, %b : tensor<2x4x8xf32>, tensor<2x8x16xf32>) outs(%z : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %n = linalg.batch_matmul {tessel.outline} ins(%c, %b : tensor<2x4x8xf32>, tensor<2x8x16xf32>) outs(%z : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %m, %n : tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// A destination the op also reads (two layers starting from one bias
// broadcast, which CSE made one tensor) is passed twice: as an input and,
// last, as the destination. The kernel reads one and writes the other, so
// its result is always its destination's buffer; the caller copies the
// shared tensor where a call overwrites it.
// CHECK: func.func private @[[S:__tessel_kernel_[0-9]+]](
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x16xf32>, %[[READ:[a-z0-9]+]]: tensor<4x16xf32>, %[[OUT:[a-z0-9]+]]: tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK: scf.forall {{.*}} shared_outs(%{{.+}} = %[[OUT]])
// CHECK: ins(%{{.+}}, %{{.+}} : tensor<1x16xf32>, tensor<1x16xf32>)
// CHECK-LABEL: func.func @shared_start(
// CHECK: %[[B:.+]] = linalg.generic
// CHECK: call @[[S]](%arg0, %[[B]], %[[B]]) {tessel.destinations = array<i64: 2>}
// CHECK: call @[[S]](%arg1, %[[B]], %[[B]]) {tessel.destinations = array<i64: 2>}
// BUF: func.func private @[[SB:__tessel_kernel_[0-9]+]](
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: return
// BUF-LABEL: func.func @shared_start(
// BUF: call @[[SB]](%arg0, {{.*}}) {{.*}} -> ()
// BUF: call @[[SB]](%arg1, {{.*}}) {{.*}} -> ()
func.func @shared_start(%x: tensor<4x16xf32>, %y: tensor<4x16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = tensor.empty() : tensor<4x16xf32>
  %start = linalg.generic {indexing_maps = [#ch, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%v: f32, %out: f32):
    linalg.yield %v : f32
  } -> tensor<4x16xf32>
  %r1 = scf.forall (%i) in (4) shared_outs(%o = %start) -> (tensor<4x16xf32>) {
    %row = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %init = tensor.extract_slice %start[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %s = tensor.extract_slice %o[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row, %init : tensor<1x16xf32>, tensor<1x16xf32>) outs(%s : tensor<1x16xf32>) {
    ^bb0(%v: f32, %w: f32, %out: f32):
      %q = arith.addf %v, %w : f32
      linalg.yield %q : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<4x16xf32>
    }
  } {tessel.outline}
  %r2 = scf.forall (%i) in (4) shared_outs(%o = %start) -> (tensor<4x16xf32>) {
    %row = tensor.extract_slice %y[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %init = tensor.extract_slice %start[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %s = tensor.extract_slice %o[%i, 0] [1, 16] [1, 1] : tensor<4x16xf32> to tensor<1x16xf32>
    %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row, %init : tensor<1x16xf32>, tensor<1x16xf32>) outs(%s : tensor<1x16xf32>) {
    ^bb0(%v: f32, %w: f32, %out: f32):
      %q = arith.addf %v, %w : f32
      linalg.yield %q : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<4x16xf32>
    }
  } {tessel.outline}
  return %r1, %r2 : tensor<4x16xf32>, tensor<4x16xf32>
}
