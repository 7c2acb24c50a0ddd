// RUN: tessel-opt --tessel-prepare-entry="entry=main c-interface" %s | FileCheck %s
// RUN: tessel-opt --tessel-prepare-entry %s | FileCheck %s --check-prefix=NONE
// RUN: tessel-opt --tessel-entry-pipeline="entry=main" %s | FileCheck %s --check-prefix=STAGE
// RUN: not tessel-opt --tessel-prepare-entry="entry=absent" %s 2>&1 | FileCheck %s --check-prefix=ABSENT

// The entry point takes the reserved name (a graph named like a libm
// function must not capture the lowered code's math calls), its callers'
// references follow it, and c-interface asks for the C wrapper.
// CHECK-LABEL: func.func @helper(
// CHECK-LABEL: func.func @__tessel_entry_main(
// CHECK-SAME: llvm.emit_c_interface
// CHECK: call @helper
// CHECK-LABEL: func.func @unused(

// Without an entry the pass leaves the module as it is.
// NONE: func.func @main(
// NONE-NOT: __tessel_entry

// Stage 1 of the CPU pipeline also makes the helper the entry calls
// private and drops the function nobody calls.
// STAGE: func.func private @helper(
// STAGE: func.func @__tessel_entry_main(
// STAGE-NOT: llvm.emit_c_interface
// STAGE-NOT: @unused

// ABSENT: error: tessel-prepare-entry: no function named 'absent' to compile

func.func @helper(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tessel.relu %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = call @helper(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

func.func @unused(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tessel.neg %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
