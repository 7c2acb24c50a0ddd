// RUN: tessel-opt --tessel-cpu-pipeline="threads=2" %s | FileCheck %s
// RUN: tessel-opt --tessel-cpu-pipeline %s | FileCheck %s --check-prefix=SERIAL

// The whole pipeline ends in the LLVM dialect; the result became an
// out-parameter (two memref descriptors in, none returned) and the parallel
// tiles became an OpenMP loop on two threads.
// CHECK-LABEL: llvm.func @main(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: i64, {{.*}}, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr,
// CHECK-NOT: -> !llvm.struct
// CHECK: omp.parallel num_threads
// CHECK: omp.wsloop
// CHECK-LABEL: llvm.func @_mlir_ciface_main
// SERIAL-LABEL: llvm.func @main(
// SERIAL-NOT: omp.
func.func @main(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32> attributes {llvm.emit_c_interface} {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x8x8x4xf32>, tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.relu %0 : tensor<1x8x8x16xf32>
  return %1 : tensor<1x8x8x16xf32>
}
