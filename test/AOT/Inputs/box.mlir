// A 3x3 box filter with bias and a 2x2 max pool: outputs a person can
// compute by hand for the image 0..15 (see c-program.test).
func.func @box(%image: tensor<1x1x4x4xf32> {tessel.name = "image"},
               %filter: tensor<1x1x3x3xf32> {tessel.name = "filter"},
               %bias: tensor<1xf32> {tessel.name = "bias"})
    -> (tensor<1x1x4x4xf32> {tessel.name = "sums"}, tensor<1x1x2x2xf32> {tessel.name = "peaks"}) {
  %0 = tessel.conv %image, %filter, %bias layout nchw, oihw {padding = array<i64: 1, 1, 1, 1>}
         : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  %1 = tessel.pool max %0 layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
         : tensor<1x1x4x4xf32> -> tensor<1x1x2x2xf32>
  return %0, %1 : tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>
}
