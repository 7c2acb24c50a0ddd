func.func @wide(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %0 = tessel.relu %x : tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}
