// RUN: tessel-opt --split-input-file --tessel-copies-to-linalg %s | FileCheck %s

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
