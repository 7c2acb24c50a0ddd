// RUN: tessel-opt --tessel-merge-kernels --split-input-file %s | FileCheck %s

// Three kernels that differ only in a loop bound and a float constant become
// the first one, which takes both as trailing arguments; the constant they
// share (the step) stays in its body. Each call passes its kernel's values,
// and the profile's call sites name the kernel that remains.
// CHECK-LABEL: module attributes
// CHECK-SAME: kernel = "__tessel_kernel_0", label = "a"
// CHECK-SAME: kernel = "__tessel_kernel_0", label = "b"
// CHECK-SAME: kernel = "__tessel_kernel_0", label = "c"
// CHECK: llvm.func internal @__tessel_kernel_0(%[[P:.+]]: !llvm.ptr, %[[N:.+]]: i64, %[[S:.+]]: f32)
// CHECK-NOT: llvm.mlir.constant(8 : i64)
// CHECK-NOT: llvm.mlir.constant(2.0
// CHECK: %[[ONE:.+]] = llvm.mlir.constant(1 : i64)
// CHECK: llvm.icmp "slt" %{{.+}}, %[[N]]
// CHECK: llvm.fmul %{{.+}}, %[[S]]
// CHECK: llvm.add %{{.+}}, %[[ONE]]
// CHECK-NOT: @__tessel_kernel_1(
// CHECK-NOT: @__tessel_kernel_2(
// CHECK-LABEL: llvm.func @entry(
// CHECK: %[[N0:.+]] = llvm.mlir.constant(8 : i64)
// CHECK: %[[S0:.+]] = llvm.mlir.constant(2.000000e+00 : f32)
// CHECK: llvm.call @__tessel_kernel_0(%arg0, %[[N0]], %[[S0]])
// CHECK: %[[N1:.+]] = llvm.mlir.constant(16 : i64)
// CHECK: %[[S1:.+]] = llvm.mlir.constant(3.000000e+00 : f32)
// CHECK: llvm.call @__tessel_kernel_0(%arg0, %[[N1]], %[[S1]])
// CHECK: %[[N2:.+]] = llvm.mlir.constant(8 : i64)
// CHECK: %[[S2:.+]] = llvm.mlir.constant(3.000000e+00 : f32)
// CHECK: llvm.call @__tessel_kernel_0(%arg0, %[[N2]], %[[S2]])
module attributes {tessel.profile_sites = [
    {kernel = "__tessel_kernel_0", label = "a"},
    {kernel = "__tessel_kernel_1", label = "b"},
    {kernel = "__tessel_kernel_2", label = "c"}]} {
  llvm.func internal @__tessel_kernel_0(%p: !llvm.ptr) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c1 = llvm.mlir.constant(1 : i64) : i64
    %n = llvm.mlir.constant(8 : i64) : i64
    %s = llvm.mlir.constant(2.0 : f32) : f32
    llvm.br ^loop(%c0 : i64)
  ^loop(%i: i64):
    %more = llvm.icmp "slt" %i, %n : i64
    llvm.cond_br %more, ^body, ^done
  ^body:
    %a = llvm.getelementptr %p[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %v = llvm.load %a : !llvm.ptr -> f32
    %w = llvm.fmul %v, %s : f32
    llvm.store %w, %a : f32, !llvm.ptr
    %next = llvm.add %i, %c1 : i64
    llvm.br ^loop(%next : i64)
  ^done:
    llvm.return
  }
  llvm.func internal @__tessel_kernel_1(%p: !llvm.ptr) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c1 = llvm.mlir.constant(1 : i64) : i64
    %n = llvm.mlir.constant(16 : i64) : i64
    %s = llvm.mlir.constant(3.0 : f32) : f32
    llvm.br ^loop(%c0 : i64)
  ^loop(%i: i64):
    %more = llvm.icmp "slt" %i, %n : i64
    llvm.cond_br %more, ^body, ^done
  ^body:
    %a = llvm.getelementptr %p[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %v = llvm.load %a : !llvm.ptr -> f32
    %w = llvm.fmul %v, %s : f32
    llvm.store %w, %a : f32, !llvm.ptr
    %next = llvm.add %i, %c1 : i64
    llvm.br ^loop(%next : i64)
  ^done:
    llvm.return
  }
  llvm.func internal @__tessel_kernel_2(%p: !llvm.ptr) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c1 = llvm.mlir.constant(1 : i64) : i64
    %n = llvm.mlir.constant(8 : i64) : i64
    %s = llvm.mlir.constant(3.0 : f32) : f32
    llvm.br ^loop(%c0 : i64)
  ^loop(%i: i64):
    %more = llvm.icmp "slt" %i, %n : i64
    llvm.cond_br %more, ^body, ^done
  ^body:
    %a = llvm.getelementptr %p[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %v = llvm.load %a : !llvm.ptr -> f32
    %w = llvm.fmul %v, %s : f32
    llvm.store %w, %a : f32, !llvm.ptr
    %next = llvm.add %i, %c1 : i64
    llvm.br ^loop(%next : i64)
  ^done:
    llvm.return
  }
  llvm.func @entry(%p: !llvm.ptr) {
    llvm.call @__tessel_kernel_0(%p) : (!llvm.ptr) -> ()
    llvm.call @__tessel_kernel_1(%p) : (!llvm.ptr) -> ()
    llvm.call @__tessel_kernel_2(%p) : (!llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// Constants that must stay immediate keep kernels apart: an alloca's size
// (a dynamic alloca would not be promoted to registers) and a vector lane.
// CHECK-LABEL: llvm.func internal @__tessel_kernel_0(%{{.+}}: !llvm.ptr)
// CHECK: llvm.mlir.constant(4 : i64)
// CHECK: llvm.alloca
// CHECK-LABEL: llvm.func internal @__tessel_kernel_1(%{{.+}}: !llvm.ptr)
// CHECK: llvm.mlir.constant(8 : i64)
// CHECK: llvm.alloca
// CHECK-LABEL: llvm.func internal @__tessel_kernel_2(%{{.+}}: vector<4xf32>, %{{.+}}: !llvm.ptr)
// CHECK: llvm.mlir.constant(1 : i32)
// CHECK: llvm.extractelement
// CHECK-LABEL: llvm.func internal @__tessel_kernel_3(%{{.+}}: vector<4xf32>, %{{.+}}: !llvm.ptr)
// CHECK: llvm.mlir.constant(2 : i32)
// CHECK: llvm.extractelement
// CHECK-LABEL: llvm.func @entry(
// CHECK: llvm.call @__tessel_kernel_0(%{{.+}}) :
// CHECK: llvm.call @__tessel_kernel_1(%{{.+}}) :
// CHECK: llvm.call @__tessel_kernel_2(%{{.+}}, %{{.+}}) :
// CHECK: llvm.call @__tessel_kernel_3(%{{.+}}, %{{.+}}) :
module {
  llvm.func internal @__tessel_kernel_0(%p: !llvm.ptr) {
    %n = llvm.mlir.constant(4 : i64) : i64
    %a = llvm.alloca %n x f32 : (i64) -> !llvm.ptr
    %v = llvm.load %a : !llvm.ptr -> f32
    llvm.store %v, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func internal @__tessel_kernel_1(%p: !llvm.ptr) {
    %n = llvm.mlir.constant(8 : i64) : i64
    %a = llvm.alloca %n x f32 : (i64) -> !llvm.ptr
    %v = llvm.load %a : !llvm.ptr -> f32
    llvm.store %v, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func internal @__tessel_kernel_2(%x: vector<4xf32>, %p: !llvm.ptr) {
    %lane = llvm.mlir.constant(1 : i32) : i32
    %v = llvm.extractelement %x[%lane : i32] : vector<4xf32>
    llvm.store %v, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func internal @__tessel_kernel_3(%x: vector<4xf32>, %p: !llvm.ptr) {
    %lane = llvm.mlir.constant(2 : i32) : i32
    %v = llvm.extractelement %x[%lane : i32] : vector<4xf32>
    llvm.store %v, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func @entry(%x: vector<4xf32>, %p: !llvm.ptr) {
    llvm.call @__tessel_kernel_0(%p) : (!llvm.ptr) -> ()
    llvm.call @__tessel_kernel_1(%p) : (!llvm.ptr) -> ()
    llvm.call @__tessel_kernel_2(%x, %p) : (vector<4xf32>, !llvm.ptr) -> ()
    llvm.call @__tessel_kernel_3(%x, %p) : (vector<4xf32>, !llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// Kernels that differ in anything else (here an op) and functions that are
// not kernels are left as they are.
// CHECK-LABEL: llvm.func internal @__tessel_kernel_0(
// CHECK: llvm.fadd
// CHECK-LABEL: llvm.func internal @__tessel_kernel_1(
// CHECK: llvm.fmul
// CHECK-LABEL: llvm.func internal @helper_0(
// CHECK-LABEL: llvm.func internal @helper_1(
module {
  llvm.func internal @__tessel_kernel_0(%p: !llvm.ptr) {
    %s = llvm.mlir.constant(2.0 : f32) : f32
    %v = llvm.load %p : !llvm.ptr -> f32
    %w = llvm.fadd %v, %s : f32
    llvm.store %w, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func internal @__tessel_kernel_1(%p: !llvm.ptr) {
    %s = llvm.mlir.constant(3.0 : f32) : f32
    %v = llvm.load %p : !llvm.ptr -> f32
    %w = llvm.fmul %v, %s : f32
    llvm.store %w, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func internal @helper_0(%p: !llvm.ptr) {
    %s = llvm.mlir.constant(2.0 : f32) : f32
    llvm.store %s, %p : f32, !llvm.ptr
    llvm.return
  }
  llvm.func internal @helper_1(%p: !llvm.ptr) {
    %s = llvm.mlir.constant(3.0 : f32) : f32
    llvm.store %s, %p : f32, !llvm.ptr
    llvm.return
  }
}

// -----

// Arguments a kernel never reads are dropped from it and from its calls,
// and what computed them in the caller goes too; arguments it reads stay.
// CHECK: llvm.func internal @__tessel_kernel_0(%[[P:.+]]: !llvm.ptr, %[[N:.+]]: i64)
// CHECK: llvm.getelementptr %[[P]][%[[N]]]
// CHECK: llvm.func @entry(%[[D:[^:]+]]: !llvm.struct
// CHECK-NOT: llvm.mul
// CHECK-NOT: llvm.extractvalue %[[D]][2]
// CHECK: %[[PTR:.+]] = llvm.extractvalue %[[D]][1]
// CHECK-NOT: llvm.mul
// CHECK: llvm.call @__tessel_kernel_0(%[[PTR]], %{{.+}}) : (!llvm.ptr, i64) -> ()
module {
  llvm.func internal @__tessel_kernel_0(%base: !llvm.ptr, %p: !llvm.ptr, %offset: i64, %n: i64, %stride: i64) {
    %one = llvm.mlir.constant(1.0 : f32) : f32
    %a = llvm.getelementptr %p[%n] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    llvm.store %one, %a : f32, !llvm.ptr
    llvm.return
  }
  llvm.func @entry(%d: !llvm.struct<(ptr, ptr, i64)>, %n: i64) {
    %base = llvm.extractvalue %d[0] : !llvm.struct<(ptr, ptr, i64)>
    %p = llvm.extractvalue %d[1] : !llvm.struct<(ptr, ptr, i64)>
    %offset = llvm.extractvalue %d[2] : !llvm.struct<(ptr, ptr, i64)>
    %c4 = llvm.mlir.constant(4 : i64) : i64
    %stride = llvm.mul %n, %c4 : i64
    llvm.call @__tessel_kernel_0(%base, %p, %offset, %n, %stride) : (!llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
    llvm.return
  }
}

// -----

// Constants are compared by their uses, not by where they stand: kernel 0
// uses one constant (8) as its bound and as its scale where kernel 1 has two
// (16 and 8), and defines its constants in another order. Only the bound
// varies, so it is the one argument; the scale stays 8 in the body. The
// constant first index of a getelementptr (a buffer offset) is a parameter
// too, and parameters with the same values in every member (that offset and
// the constant added to the index: 4, 6, 4) share one argument.
// CHECK-LABEL: llvm.func internal @__tessel_kernel_10(
// CHECK-SAME: %[[P:[^:]+]]: !llvm.ptr, %[[N:[^:]+]]: i64, %[[OFF:[^:]+]]: i64)
// CHECK-DAG: %[[EIGHT:.+]] = llvm.mlir.constant(8 : i64)
// CHECK: llvm.icmp "slt" %{{.+}}, %[[N]]
// CHECK: %[[Q:.+]] = llvm.getelementptr %[[P]][%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: llvm.mul %{{.+}}, %[[EIGHT]]
// CHECK: llvm.add %{{.+}}, %[[OFF]]
// CHECK-NOT: @__tessel_kernel_11(
// CHECK-NOT: @__tessel_kernel_12(
// CHECK-LABEL: llvm.func @entry(
// CHECK: %[[N0:.+]] = llvm.mlir.constant(8 : i64)
// CHECK: %[[O0:.+]] = llvm.mlir.constant(4 : i64)
// CHECK: llvm.call @__tessel_kernel_10(%arg0, %[[N0]], %[[O0]])
// CHECK: %[[N1:.+]] = llvm.mlir.constant(16 : i64)
// CHECK: %[[O1:.+]] = llvm.mlir.constant(6 : i64)
// CHECK: llvm.call @__tessel_kernel_10(%arg0, %[[N1]], %[[O1]])
// CHECK: llvm.call @__tessel_kernel_10(%arg0, %{{.+}}, %{{.+}})
module {
  llvm.func internal @__tessel_kernel_10(%p: !llvm.ptr) {
    %n = llvm.mlir.constant(8 : i64) : i64
    %c4 = llvm.mlir.constant(4 : i64) : i64
    %c0 = llvm.mlir.constant(0 : i64) : i64
    llvm.br ^loop(%c0 : i64)
  ^loop(%i: i64):
    %more = llvm.icmp "slt" %i, %n : i64
    llvm.cond_br %more, ^body, ^done
  ^body:
    %q = llvm.getelementptr %p[4] : (!llvm.ptr) -> !llvm.ptr, f32
    %j = llvm.mul %i, %n : i64
    %k = llvm.add %j, %c4 : i64
    %a = llvm.getelementptr %q[%k] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %v = llvm.load %a : !llvm.ptr -> f32
    llvm.store %v, %p : f32, !llvm.ptr
    %next = llvm.add %i, %k : i64
    llvm.br ^loop(%next : i64)
  ^done:
    llvm.return
  }
  llvm.func internal @__tessel_kernel_11(%p: !llvm.ptr) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c6 = llvm.mlir.constant(6 : i64) : i64
    %c8 = llvm.mlir.constant(8 : i64) : i64
    %n = llvm.mlir.constant(16 : i64) : i64
    llvm.br ^loop(%c0 : i64)
  ^loop(%i: i64):
    %more = llvm.icmp "slt" %i, %n : i64
    llvm.cond_br %more, ^body, ^done
  ^body:
    %q = llvm.getelementptr %p[6] : (!llvm.ptr) -> !llvm.ptr, f32
    %j = llvm.mul %i, %c8 : i64
    %k = llvm.add %j, %c6 : i64
    %a = llvm.getelementptr %q[%k] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %v = llvm.load %a : !llvm.ptr -> f32
    llvm.store %v, %p : f32, !llvm.ptr
    %next = llvm.add %i, %k : i64
    llvm.br ^loop(%next : i64)
  ^done:
    llvm.return
  }
  llvm.func internal @__tessel_kernel_12(%p: !llvm.ptr) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c4 = llvm.mlir.constant(4 : i64) : i64
    %c8 = llvm.mlir.constant(8 : i64) : i64
    %n = llvm.mlir.constant(32 : i64) : i64
    llvm.br ^loop(%c0 : i64)
  ^loop(%i: i64):
    %more = llvm.icmp "slt" %i, %n : i64
    llvm.cond_br %more, ^body, ^done
  ^body:
    %q = llvm.getelementptr %p[4] : (!llvm.ptr) -> !llvm.ptr, f32
    %j = llvm.mul %i, %c8 : i64
    %k = llvm.add %j, %c4 : i64
    %a = llvm.getelementptr %q[%k] : (!llvm.ptr, i64) -> !llvm.ptr, f32
    %v = llvm.load %a : !llvm.ptr -> f32
    llvm.store %v, %p : f32, !llvm.ptr
    %next = llvm.add %i, %k : i64
    llvm.br ^loop(%next : i64)
  ^done:
    llvm.return
  }
  llvm.func @entry(%p: !llvm.ptr) {
    llvm.call @__tessel_kernel_10(%p) : (!llvm.ptr) -> ()
    llvm.call @__tessel_kernel_11(%p) : (!llvm.ptr) -> ()
    llvm.call @__tessel_kernel_12(%p) : (!llvm.ptr) -> ()
    llvm.return
  }
}
