// RUN: tessel-opt --split-input-file %s | FileCheck %s
// RUN: tessel-opt --split-input-file --mlir-print-op-generic %s | tessel-opt --split-input-file | FileCheck %s

// Inference batch norm over the channel dim of NCHW data.
// CHECK-LABEL: func @batch_norm
func.func @batch_norm(%x: tensor<1x64x56x56xf32>, %c: tensor<64xf32>) -> tensor<1x64x56x56xf32> {
  // CHECK: tessel.batch_norm %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} layout nchw {epsilon = 1.000000e-03 : f64}
  %0 = tessel.batch_norm %x, %c, %c, %c, %c layout nchw {epsilon = 1.0e-3 : f64}
         : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
  return %0 : tensor<1x64x56x56xf32>
}

// -----

// Without a layout the input is [N, C, ...] of any rank, as BatchNorm1d on [N, C].
// CHECK-LABEL: func @batch_norm_1d
func.func @batch_norm_1d(%x: tensor<16x64xf32>, %c: tensor<64xf32>) -> tensor<16x64xf32> {
  // CHECK: tessel.batch_norm {{.*}} : (tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %0 = tessel.batch_norm %x, %c, %c, %c, %c
         : (tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}

// -----

// Training batch norm returns the batch statistics of the channels-last dim.
// CHECK-LABEL: func @batch_norm_train
func.func @batch_norm_train(%x: tensor<8x28x28x32xf32>, %c: tensor<32xf32>) -> (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>) {
  // CHECK: %{{.+}}, %{{.+}}, %{{.+}} = tessel.batch_norm_train %{{.+}}, %{{.+}}, %{{.+}} layout nhwc : (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)
  %y, %m, %v = tessel.batch_norm_train %x, %c, %c layout nhwc
         : (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)
  return %y, %m, %v : tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>
}
