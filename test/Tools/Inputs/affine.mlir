// y = x w + b, for tessel-run --wrt.
func.func @affine(%x: tensor<2x3xf32> {tessel.name = "x"}, %w: tensor<3x2xf32> {tessel.name = "w"},
                  %b: tensor<2xf32> {tessel.name = "b"}) -> (tensor<2x2xf32> {tessel.name = "y"}) {
  %0 = tessel.matmul %x, %w : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %1 = tessel.add %0, %b : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}
