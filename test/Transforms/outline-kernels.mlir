// RUN: tessel-opt --tessel-outline-kernels %s | FileCheck %s
// RUN: tessel-opt --tessel-outline-kernels --duplicate-function-elimination %s | FileCheck %s --check-prefix=DEDUP

// Each top-level op with regions becomes a call to a private, internal,
// noinline kernel that takes the buffers it uses as arguments and clones the
// constants it uses; ops without regions stay.
// CHECK-LABEL: func.func private @__tessel_kernel_0(
// CHECK-SAME: %[[IN:.+]]: memref<8xf32>, %[[OUT:.+]]: memref<8xf32>)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]
// CHECK-DAG: arith.constant 0 : index
// CHECK-DAG: arith.constant 8 : index
// CHECK: scf.for
// CHECK: memref.load %[[IN]]
// CHECK: memref.store %{{.+}}, %[[OUT]]
// CHECK: return
// CHECK-LABEL: func.func private @__tessel_kernel_1(
// What is left of the function is glue, compiled without optimization.
// CHECK-LABEL: func.func @layers(
// CHECK-SAME: passthrough = ["noinline", "optnone"]
// CHECK: %[[A:.+]] = memref.alloc
// CHECK: call @__tessel_kernel_0(%arg0, %[[A]])
// CHECK: call @__tessel_kernel_1(%[[A]], %arg1)
// CHECK-NOT: scf.for

// The two layers are the same up to their buffers, so their kernels are
// identical and duplicate-function-elimination keeps one, called twice.
// DEDUP: func.func private @__tessel_kernel_0(
// DEDUP-NOT: func.func private @__tessel_kernel_1(
// DEDUP-LABEL: func.func @layers(
// DEDUP: call @__tessel_kernel_0(%arg0, %{{.+}})
// DEDUP: call @__tessel_kernel_0(%{{.+}}, %arg1)
func.func @layers(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %a[%i] : memref<8xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %a[%i] : memref<8xf32>
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %y[%i] : memref<8xf32>
  }
  memref.dealloc %a : memref<8xf32>
  return
}

// A fill takes its buffer with dynamic sizes, strides and offset (a unit
// innermost stride kept): the border strips of padded buffers, which differ
// in shape and offset, share one kernel per rank.
// DEDUP-LABEL: func.func private @__tessel_kernel_{{[0-9]+}}(
// DEDUP-SAME: %{{.+}}: memref<?x?xf32, strided<[?, 1], offset: ?>>)
// DEDUP: linalg.fill
// DEDUP-NOT: func.func private
// DEDUP-LABEL: func.func @borders(
// DEDUP: %[[TOP:.+]] = memref.cast %{{.+}} : memref<1x10xf32, strided<[10, 1]>> to memref<?x?xf32, strided<[?, 1], offset: ?>>
// DEDUP: call @[[FILL:__tessel_kernel_[0-9]+]](%[[TOP]])
// DEDUP: %[[LEFT:.+]] = memref.cast %{{.+}} : memref<8x1xf32, strided<[10, 1], offset: 10>> to memref<?x?xf32, strided<[?, 1], offset: ?>>
// DEDUP: call @[[FILL]](%[[LEFT]])
func.func @borders(%padded: memref<10x10xf32>) {
  %zero = arith.constant 0.0 : f32
  %top = memref.subview %padded[0, 0] [1, 10] [1, 1] : memref<10x10xf32> to memref<1x10xf32, strided<[10, 1]>>
  linalg.fill ins(%zero : f32) outs(%top : memref<1x10xf32, strided<[10, 1]>>)
  %left = memref.subview %padded[1, 0] [8, 1] [1, 1] : memref<10x10xf32> to memref<8x1xf32, strided<[10, 1], offset: 10>>
  linalg.fill ins(%zero : f32) outs(%left : memref<8x1xf32, strided<[10, 1], offset: 10>>)
  return
}
