// RUN: tessel-opt --split-input-file --verify-diagnostics --tessel-check-compilable %s

// Zero-size tensors verify, but the lowering cannot compile them: the error
// is located at the op that has one.
func.func @zero_size_result(%x: tensor<2x3xf32>) -> tensor<0x3xf32> {
  // expected-error @+1 {{'tessel.slice' has the zero-size tensor type tensor<0x3xf32>; Tessel does not compile zero-size tensors}}
  %0 = tessel.slice %x {offsets = array<i64: 0, 0>, sizes = array<i64: 0, 3>, strides = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<0x3xf32>
  return %0 : tensor<0x3xf32>
}

// -----

// A function argument is checked too: no tessel op verified its type.
// expected-error @+1 {{'func.func' has the tensor type tensor<100000x1000x1000x1000xf32>, more than the 2^47 bytes a Tessel tensor may hold}}
func.func @huge_argument(%x: tensor<100000x1000x1000x1000xf32>) -> tensor<100000x1000x1000x1000xf32> {
  return %x : tensor<100000x1000x1000x1000xf32>
}

// -----

// Nothing to refuse: no diagnostic.
func.func @fine(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tessel.relu %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
