// Each output and each wrt value is named once; with no wrt, every float
// input is differentiated.
// RUN: not tessel-opt --tessel-autodiff="wrt=x,w,x" %s 2>&1 | FileCheck %s --check-prefix=WRT
// RUN: not tessel-opt --tessel-autodiff="loss=result0,result0 wrt=x" %s 2>&1 | FileCheck %s --check-prefix=LOSS
// RUN: tessel-opt --tessel-autodiff %s | FileCheck %s --check-prefix=ALL

// WRT: error: 'x' is named twice in wrt
// LOSS: error: output 'result0' is named twice in loss

// ALL-LABEL: func.func @f
// ALL-SAME: -> (tensor<f32>, tensor<4xf32> {tessel.name = "grad_x"}, tensor<4xf32> {tessel.name = "grad_w"})
func.func @f(%x: tensor<4xf32> {tessel.name = "x"}, %w: tensor<4xf32> {tessel.name = "w"},
             %labels: tensor<1xi64> {tessel.name = "labels"}) -> tensor<f32> {
  %0 = tessel.mul %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = tessel.reshape %0 {shape = array<i64: 1, 4>} : tensor<4xf32> -> tensor<1x4xf32>
  %2 = tessel.cross_entropy mean %1, %labels : (tensor<1x4xf32>, tensor<1xi64>) -> tensor<f32>
  return %2 : tensor<f32>
}
