// RUN: tessel-opt --split-input-file --tessel-plan-memory %s | FileCheck %s

func.func private @kernel(memref<1024xf32>, memref<1024xf32>)

// Three buffers in a chain: %c, copied into the out-parameter as its last
// use, is computed there instead (no copy); %b, live with %a, sits after
// it. The workspace is 8 KB, not 12; the deallocations at the end go, the
// workspace's one comes before the return.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.+]]: memref<1024xf32>, %[[OUT:.+]]: memref<1024xf32>)
// CHECK-SAME: attributes {tessel.workspace_bytes = 8192 : i64}
// CHECK: %[[WS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8192xi8>
// CHECK: %[[A:.+]] = memref.view %[[WS]][%c0{{.*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[B:.+]] = memref.view %[[WS]][%c4096{{.*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK: call @kernel(%[[B]], %[[OUT]])
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: memref.dealloc %[[WS]]
// CHECK-NEXT: return
func.func @chain(%x: memref<1024xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  call @kernel(%x, %a) : (memref<1024xf32>, memref<1024xf32>) -> ()
  %b = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  call @kernel(%a, %b) : (memref<1024xf32>, memref<1024xf32>) -> ()
  %c = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  call @kernel(%b, %c) : (memref<1024xf32>, memref<1024xf32>) -> ()
  memref.copy %c, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// -----

func.func private @kernel(memref<1024xf32>, memref<1024xf32>)

// The copy stays where the buffer is read after it, or where the
// out-parameter has other uses (a result tied to an input, read first).
// CHECK-LABEL: func.func @copies_kept
// CHECK: memref.copy %{{.+}}, %arg1
// CHECK: memref.copy %{{.+}}, %arg2
func.func @copies_kept(%x: memref<1024xf32>, %out: memref<1024xf32>, %tied: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  call @kernel(%x, %a) : (memref<1024xf32>, memref<1024xf32>) -> ()
  memref.copy %a, %out : memref<1024xf32> to memref<1024xf32>
  call @kernel(%a, %x) : (memref<1024xf32>, memref<1024xf32>) -> ()
  %b = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  call @kernel(%tied, %b) : (memref<1024xf32>, memref<1024xf32>) -> ()
  memref.copy %b, %tied : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  return
}

// -----

// A buffer is live until the last use of any of its views (here inside a
// loop, which counts as the loop's); one returned, or without a
// deallocation, or of a dynamic size, keeps its own allocation.
// CHECK-LABEL: func.func @views_and_escapes
// CHECK: %[[WS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8192xi8>
// CHECK: memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: %[[KEPT:.+]] = memref.alloc() : memref<16xf32>
// CHECK: return %[[KEPT]]
func.func private @kernel(memref<1024xf32>, memref<1024xf32>)
func.func @views_and_escapes(%x: memref<1024xf32>, %n: index) -> memref<16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<1024xf32>
  %va = memref.expand_shape %a [[0, 1]] output_shape [32, 32] : memref<1024xf32> into memref<32x32xf32>
  %b = memref.alloc() : memref<1024xf32>
  call @kernel(%x, %b) : (memref<1024xf32>, memref<1024xf32>) -> ()
  scf.for %i = %c0 to %c4 step %c1 {
    %row = memref.subview %va[%i, 0] [1, 32] [1, 1] : memref<32x32xf32> to memref<32xf32, strided<[1], offset: ?>>
    %v = memref.load %row[%c0] : memref<32xf32, strided<[1], offset: ?>>
    memref.store %v, %b[%i] : memref<1024xf32>
  }
  %d = memref.alloc(%n) : memref<?xf32>
  %kept = memref.alloc() : memref<16xf32>
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  memref.dealloc %d : memref<?xf32>
  return %kept : memref<16xf32>
}
