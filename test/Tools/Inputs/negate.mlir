func.func @negate(%x: tensor<2x3xf32> {tessel.name = "x"})
    -> (tensor<2x3xf32> {tessel.name = "same"}, tensor<2x3xf32> {tessel.name = "negated"}) {
  %0 = tessel.neg %x : tensor<2x3xf32>
  return %x, %0 : tensor<2x3xf32>, tensor<2x3xf32>
}
