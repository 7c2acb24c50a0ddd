// RUN: tessel-opt --tessel-cpu-pipeline="threads=2 min-parallel-iterations=0" %s | FileCheck %s
// RUN: tessel-opt --tessel-cpu-pipeline %s | FileCheck %s --check-prefix=SERIAL
// RUN: tessel-opt --tessel-cpu-pipeline="threads=2 min-parallel-iterations=0" %s | FileCheck %s --check-prefix=EPILOGUE
// RUN: tessel-opt --tessel-cpu-pipeline="profile=true" %s | FileCheck %s --check-prefix=PROFILE
// With profile, each kernel call is timed and the module lists the sites.
// PROFILE: module attributes {tessel.profile_sites = [{bytes = {{[0-9]+}} : i64, computes = "", kernel = "__tessel_kernel_{{[0-9]+}}", label = ""},
// PROFILE: %[[START:.+]] = llvm.call @tessel_profile_clock() : () -> i64
// PROFILE: llvm.call @__tessel_kernel_
// PROFILE: llvm.call @tessel_profile_record(%{{.+}}, %[[START]]) : (i64, i64) -> ()
// The pipeline's options reach the passes' checks.
// RUN: not tessel-opt --tessel-cpu-pipeline="vector-bits=100" %s 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not tessel-opt --tessel-cpu-pipeline="threads=100000" %s 2>&1 | FileCheck %s --check-prefix=THREADS
// BITS: error: tessel-winograd: vector-bits=100 is not a vector register width
// THREADS: error: tessel-tile-and-distribute: threads=100000 exceeds 256

// The whole pipeline ends in the LLVM dialect. Each layer's loops are a
// kernel function of their own (noinline, and told to keep the 512-bit
// vectors the register tiles assume), defined before the function that
// calls it; the parallel tiles became an OpenMP loop on two threads; the
// result became an out-parameter (two memref descriptors in, none returned).
// CHECK: llvm.func internal @[[PAD:__tessel_kernel_[0-9]+]](
// CHECK-SAME: passthrough = [{{.*}}["prefer-vector-width", "512"], "noinline"]
// CHECK: llvm.func internal @[[CONV:__tessel_kernel_[0-9]+]](
// CHECK-SAME: passthrough = [{{.*}}["prefer-vector-width", "512"], "noinline"]
// CHECK: omp.parallel num_threads
// CHECK: omp.wsloop
// CHECK-LABEL: llvm.func @main(
// CHECK-SAME: %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: i64, {{.*}}, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr,
// CHECK-NOT: -> !llvm.struct
// CHECK: llvm.call @[[PAD]](
// CHECK: llvm.call @[[CONV]](
// CHECK-LABEL: llvm.func @_mlir_ciface_main
// On one thread the conv writes straight into the out-parameter too (its
// loops' carried buffer folded to the allocation the out-parameter
// replaces), not into a temporary copied into it.
// SERIAL-LABEL: llvm.func @main(
// SERIAL-SAME: passthrough = {{\[\["prefer-vector-width", "512"\], "noinline", "optnone"\]}}
// SERIAL-NOT: omp.
// SERIAL-NOT: llvm.intr.memcpy
// SERIAL: llvm.call @__tessel_kernel_{{[0-9]+}}(%{{.+}}, %arg23, %arg12)
// SERIAL-NOT: llvm.intr.memcpy
// SERIAL-LABEL: llvm.func @_mlir_ciface_main
func.func @main(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32> attributes {llvm.emit_c_interface} {
  %0 = tessel.conv %x, %w layout nhwc, hwio {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x8x8x4xf32>, tensor<3x3x4x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.relu %0 : tensor<1x8x8x16xf32>
  return %1 : tensor<1x8x8x16xf32>
}

// The batch-norm epilogue applies to each register tile of the conv while
// it is in registers: no temporary holds the conv's result (there was one
// per thread and output row, allocated and freed in the OpenMP loop body).
// EPILOGUE-LABEL: llvm.func @_mlir_ciface_main
// EPILOGUE: llvm.func internal @__tessel_kernel
// EPILOGUE: omp.loop_nest
// EPILOGUE-NOT: llvm.call @_mlir_memref_to_llvm_aligned_alloc
// EPILOGUE: llvm.intr.sqrt
// EPILOGUE-NOT: llvm.call @_mlir_memref_to_llvm_aligned_alloc
// EPILOGUE: omp.yield
// EPILOGUE-LABEL: llvm.func @conv_epilogue
func.func @conv_epilogue(%x: tensor<1x8x8x4xf32>, %s: tensor<16xf32>) -> tensor<1x8x8x16xf32> {
  %w = tessel.constant dense<0.5> : tensor<1x1x4x16xf32>
  %0 = tessel.conv %x, %w layout nhwc, hwio : (tensor<1x8x8x4xf32>, tensor<1x1x4x16xf32>) -> tensor<1x8x8x16xf32>
  %1 = tessel.batch_norm %0, %s, %s, %s, %s layout nhwc
         : (tensor<1x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x8x8x16xf32>
  return %1 : tensor<1x8x8x16xf32>
}
