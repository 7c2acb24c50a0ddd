// RUN: tessel-opt --split-input-file --tessel-copies-to-linalg %s | FileCheck %s
// RUN: tessel-opt --split-input-file --tessel-copies-to-linalg=threads=2 %s | FileCheck %s --check-prefix=THREADS

// A copy between strided views becomes a linalg.copy (loops LLVM vectorizes,
// not a memrefCopy call); a copy between contiguous buffers stays a memcpy.
// CHECK-LABEL: func @copies
// CHECK: linalg.copy ins(%{{.+}} : memref<4x8xf32, strided<[16, 1], offset: ?>>) outs(%{{.+}} : memref<4x8xf32, strided<[10, 1], offset: 1>>)
// CHECK: memref.copy %{{.+}}, %{{.+}} : memref<4x8xf32> to memref<4x8xf32>
func.func @copies(%a: memref<4x16xf32>, %b: memref<6x10xf32>, %c: memref<4x8xf32>, %d: memref<4x8xf32>, %i: index) {
  %sa = memref.subview %a[0, %i] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1], offset: ?>>
  %sb = memref.subview %b[0, 1] [4, 8] [1, 1] : memref<6x10xf32> to memref<4x8xf32, strided<[10, 1], offset: 1>>
  memref.copy %sa, %sb : memref<4x8xf32, strided<[16, 1], offset: ?>> to memref<4x8xf32, strided<[10, 1], offset: 1>>
  memref.copy %c, %d : memref<4x8xf32> to memref<4x8xf32>
  return
}

// -----

// With two threads, in a function whose layers run on both (it has parallel
// loops), a copy of 256 KB or more between them is split across the
// threads along its outermost dim they divide (56 rows: 28 each); a smaller
// copy, or any copy on one thread, stays whole.
// CHECK-LABEL: func @padded_input
// CHECK-NOT: scf.parallel
// CHECK: linalg.copy ins(%arg0 : memref<1x56x56x64xf32>)
// THREADS-LABEL: func @padded_input
// THREADS: scf.parallel (%[[ROW:.+]]) = (%c0{{(_[0-9]+)?}}) to (%c56) step (%c28{{(_[0-9]+)?}}) {
// THREADS: %[[IN:.+]] = memref.subview %arg0[0, %[[ROW]], 0, 0] [1, 28, 56, 64] [1, 1, 1, 1]
// THREADS: %[[OUT:.+]] = memref.subview %{{.+}}[0, %[[ROW]], 0, 0] [1, 28, 56, 64] [1, 1, 1, 1]
// THREADS: linalg.copy ins(%[[IN]] : {{.+}}) outs(%[[OUT]] : {{.+}})
// THREADS: linalg.copy ins(%arg2 : memref<1x8x8x64xf32>)
func.func @padded_input(%x: memref<1x56x56x64xf32>, %padded: memref<1x58x58x64xf32>,
                        %small: memref<1x8x8x64xf32>, %smallPadded: memref<1x10x10x64xf32>) {
  %interior = memref.subview %padded[0, 1, 1, 0] [1, 56, 56, 64] [1, 1, 1, 1]
      : memref<1x58x58x64xf32> to memref<1x56x56x64xf32, strided<[215296, 3712, 64, 1], offset: 3776>>
  memref.copy %x, %interior : memref<1x56x56x64xf32> to memref<1x56x56x64xf32, strided<[215296, 3712, 64, 1], offset: 3776>>
  %smallInterior = memref.subview %smallPadded[0, 1, 1, 0] [1, 8, 8, 64] [1, 1, 1, 1]
      : memref<1x10x10x64xf32> to memref<1x8x8x64xf32, strided<[6400, 640, 64, 1], offset: 704>>
  memref.copy %small, %smallInterior : memref<1x8x8x64xf32> to memref<1x8x8x64xf32, strided<[6400, 640, 64, 1], offset: 704>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    scf.reduce
  }
  return
}

// -----

// Fills between the layers are split too: a flat fill of 256 KB or more in
// halves, and a border strip of one float a row (128 x 56 rows, a line each)
// along its channels; a small strip (128 rows of 57 floats) stays whole.
// CHECK-LABEL: func @border_fills
// CHECK-NEXT: arith.constant
// CHECK-NEXT: linalg.fill ins(%{{.+}} : f32) outs(%arg0 : memref<415872xf32>)
// THREADS-LABEL: func @border_fills
// THREADS: scf.parallel (%[[I:.+]]) = (%c0{{(_[0-9]+)?}}) to (%c415872) step (%c207936{{(_[0-9]+)?}}) {
// THREADS: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<207936xf32, strided<[1], offset: ?>>)
// THREADS: scf.parallel (%[[C:.+]]) = (%c0{{(_[0-9]+)?}}) to (%c128) step (%c64{{(_[0-9]+)?}}) {
// THREADS: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<64x56x1x1xf32, strided<[3249, 57, 1, 1], offset: ?>>)
// THREADS-NOT: scf.parallel
// THREADS: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : memref<128x1x57x1xf32, strided<[3249, 57, 1, 1]>>)
func.func @border_fills(%flat: memref<415872xf32>, %padded: memref<128x57x57x1xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%flat : memref<415872xf32>)
  %column = memref.subview %padded[0, 1, 0, 0] [128, 56, 1, 1] [1, 1, 1, 1]
      : memref<128x57x57x1xf32> to memref<128x56x1x1xf32, strided<[3249, 57, 1, 1], offset: 57>>
  linalg.fill ins(%zero : f32) outs(%column : memref<128x56x1x1xf32, strided<[3249, 57, 1, 1], offset: 57>>)
  %row = memref.subview %padded[0, 0, 0, 0] [128, 1, 57, 1] [1, 1, 1, 1]
      : memref<128x57x57x1xf32> to memref<128x1x57x1xf32, strided<[3249, 57, 1, 1]>>
  linalg.fill ins(%zero : f32) outs(%row : memref<128x1x57x1xf32, strided<[3249, 57, 1, 1]>>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    scf.reduce
  }
  return
}
