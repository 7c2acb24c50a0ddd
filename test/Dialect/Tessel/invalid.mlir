// RUN: tessel-opt --split-input-file --verify-diagnostics %s

// One case per verifier rule. Rules that decide the result shape run in
// type inference, which reports the rule and then that inference failed.

// Conv: the input rank must match the layout.
func.func @f(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{input rank 3 does not match layout nchw (expects rank 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x3x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: the filter layout must have the data layout's spatial rank.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3x3xf32>) {
  // expected-error @+2 {{filter layout oidhw is 3-D but layout nchw is 2-D}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oidhw : (tensor<1x3x8x8xf32>, tensor<4x3x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: an io* filter layout belongs to conv_transpose.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<3x4x3x3xf32>) {
  // expected-error @+2 {{filter layout iohw is for conv_transpose}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, iohw : (tensor<1x3x8x8xf32>, tensor<3x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: the filter rank must match the filter layout.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+2 {{filter rank 3 does not match filter layout oihw (expects rank 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: one stride per spatial dim.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{strides [1, 1, 1] must have 2 entries, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {strides = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: strides must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{strides [1, 0] must be positive, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {strides = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: dilations must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{dilations [-1, 1] must be positive, got -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {dilations = array<i64: -1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: padding has a low and a high entry per spatial dim.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{padding [1, 1] must have 4 entries, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {padding = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

// Conv: padding must be non-negative.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{padding [0, -1, 0, 0] must be non-negative, got -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {padding = array<i64: 0, -1, 0, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: groups must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{groups must be positive, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {groups = 0 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: the input channels must divide into the groups.
func.func @f(%x: tensor<1x64x8x8xf32>, %w: tensor<64x21x3x3xf32>) {
  // expected-error @+2 {{input channels (64) must be divisible by groups (3)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {groups = 3 : i64} : (tensor<1x64x8x8xf32>, tensor<64x21x3x3xf32>) -> tensor<1x64x6x6xf32>
  return
}

// -----

// Conv: the output channels must divide into the groups.
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<5x2x3x3xf32>) {
  // expected-error @+2 {{filter output channels (5) must be divisible by groups (2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<5x2x3x3xf32>) -> tensor<1x5x6x6xf32>
  return
}

// -----

// Conv: filter and input channels must agree.
func.func @f(%x: tensor<1x8x8x8xf32>, %w: tensor<3x3x4x16xf32>) {
  // expected-error @+2 {{filter input channels (4) times groups (1) must equal input channels (8)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, hwio : (tensor<1x8x8x8xf32>, tensor<3x3x4x16xf32>) -> tensor<1x16x6x6xf32>
  return
}

// -----

// Conv: the bias has one entry per output channel.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{bias shape [3] must be [4] (output channels)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w, %b layout nchw, oihw : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: the dilated kernel must fit in the padded input.
func.func @f(%x: tensor<1x3x4x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{dilated kernel extent 5 exceeds padded input size 4 in spatial dim 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw {dilations = array<i64: 2, 1>} : (tensor<1x3x4x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x6xf32>
  return
}

// -----

// Conv: kernel sizes must be positive.
func.func @f(%x: tensor<1x3x4x8xf32>, %w: tensor<4x3x0x3xf32>) {
  // expected-error @+2 {{filter kernel sizes [0, 3] must be positive}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x3x4x8xf32>, tensor<4x3x0x3xf32>) -> tensor<1x4x1x6xf32>
  return
}

// -----

// Conv: operands share one element type.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf16>) {
  // expected-error @+2 {{operands must share one element type, got 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf16>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv: a written result type must equal the inferred one.
func.func @f(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{'tessel.conv' op inferred type(s) 'tensor<1x4x6x6xf32>' are incompatible with return type(s) of operation 'tensor<1x4x8x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

// Conv: shapes must be static.
func.func @f(%x: tensor<?x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor}}
  %0 = tessel.conv %x, %w layout nchw, oihw : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// Conv_transpose: an oi* filter layout belongs to conv.
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+2 {{filter layout oihw is for conv; conv_transpose takes an io* or *io filter layout}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv_transpose %x, %w layout nchw, oihw : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x2x10x10xf32>
  return
}

// -----

// Conv_transpose: the filter's input channels equal the input's.
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<3x2x3x3xf32>) {
  // expected-error @+2 {{filter input channels (3) must equal input channels (4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw : (tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32>) -> tensor<1x2x10x10xf32>
  return
}

// -----

// Conv_transpose: output padding must be below the stride or the dilation.
func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+2 {{output_padding 2 must be smaller than stride 2 or dilation 1 in spatial dim 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw {strides = array<i64: 2, 2>, output_padding = array<i64: 0, 2>} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x2x17x19xf32>
  return
}

// -----

// Conv_transpose: the output must not be empty.
func.func @f(%x: tensor<1x4x1x1xf32>, %w: tensor<4x2x1x1xf32>) {
  // expected-error @+2 {{output size 0 in spatial dim 0 is not positive}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv_transpose %x, %w layout nchw, iohw {padding = array<i64: 1, 0, 0, 0>} : (tensor<1x4x1x1xf32>, tensor<4x2x1x1xf32>) -> tensor<1x2x1x1xf32>
  return
}

// -----

// Pool: the input rank must match the layout.
func.func @f(%x: tensor<1x8x8xf32>) {
  // expected-error @+2 {{input rank 3 does not match layout nhwc (expects rank 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool max %x layout nhwc {kernel = array<i64: 2, 2>} : tensor<1x8x8xf32> -> tensor<1x4x4xf32>
  return
}

// -----

// Pool: one kernel size per spatial dim.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{kernel [2] must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool max %x layout nchw {kernel = array<i64: 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return
}

// -----

// Pool: kernel sizes must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{kernel [2, 0] must be positive, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool avg %x layout nchw {kernel = array<i64: 2, 0>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return
}

// -----

// Pool: strides must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{strides [0, 1] must be positive, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool avg %x layout nchw {kernel = array<i64: 2, 2>, strides = array<i64: 0, 1>} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return
}

// -----

// Pool: the window must fit in the padded input.
func.func @f(%x: tensor<1x3x2x8xf32>) {
  // expected-error @+2 {{dilated kernel extent 3 exceeds padded input size 2 in spatial dim 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool max %x layout nchw {kernel = array<i64: 3, 3>, padding = array<i64: 0, 0, 0, 0>} : tensor<1x3x2x8xf32> -> tensor<1x3x1x2xf32>
  return
}

// -----

// Pool: count_include_pad applies to avg pooling only.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{count_include_pad applies to avg pooling only, not max}}
  %0 = tessel.pool max %x layout nchw {kernel = array<i64: 2, 2>, count_include_pad} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return
}

// -----

// Pool: p applies to lp pooling only.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{p applies to lp pooling only, not avg}}
  %0 = tessel.pool avg %x layout nchw {kernel = array<i64: 2, 2>, p = 2.0 : f64} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return
}

// -----

// Pool: p must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{p must be positive, got 0}}
  %0 = tessel.pool lp %x layout nchw {kernel = array<i64: 2, 2>, p = 0.0 : f64} : tensor<1x3x8x8xf32> -> tensor<1x3x4x4xf32>
  return
}

// -----

// Adaptive_pool: supports max and avg only.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{adaptive pooling supports max and avg, not lp}}
  %0 = tessel.adaptive_pool lp %x layout nchw {output_size = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x2x2xf32>
  return
}

// -----

// Adaptive_pool: output sizes must be positive.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{output_size [0, 2] must be positive, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.adaptive_pool avg %x layout nchw {output_size = array<i64: 0, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x1x2xf32>
  return
}

// -----

// Adaptive_pool: one output size per spatial dim.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{output_size [2, 2, 2] must have 2 entries, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.adaptive_pool max %x layout nchw {output_size = array<i64: 2, 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x2x2xf32>
  return
}

// -----

// Adaptive_pool: the input must not be empty.
func.func @f(%x: tensor<1x3x0x8xf32>) {
  // expected-error @+2 {{adaptive pooling needs a non-empty input, got size 0 in dim 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.adaptive_pool max %x layout nchw {output_size = array<i64: 2, 2>} : tensor<1x3x0x8xf32> -> tensor<1x3x2x2xf32>
  return
}

// -----

// Global_pool: p applies to lp pooling only.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{p applies to lp pooling only, not max}}
  %0 = tessel.global_pool max %x layout nchw {p = 2.0 : f64} : tensor<1x3x8x8xf32> -> tensor<1x3x1x1xf32>
  return
}

// -----

// Global_pool: the input rank must match the layout.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{input rank 4 does not match layout ncdhw (expects rank 5)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.global_pool avg %x layout ncdhw : tensor<1x3x8x8xf32> -> tensor<1x3x1x1xf32>
  return
}

// -----

// Batch_norm: per-channel operands have one entry per channel.
func.func @f(%x: tensor<1x8x8x3xf32>, %c: tensor<3xf32>) {
  // expected-error @+2 {{scale shape [3] must be [8] (channels)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.batch_norm %x, %c, %c, %c, %c layout nchw : (tensor<1x8x8x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

// Batch_norm: without a layout the input is at least [N, C].
func.func @f(%x: tensor<8xf32>, %c: tensor<8xf32>) {
  // expected-error @+2 {{input rank 1 must be at least 2 ([N, C, ...]) without a layout}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.batch_norm %x, %c, %c, %c, %c : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

// Batch_norm: epsilon must be non-negative.
func.func @f(%x: tensor<2x3xf32>, %c: tensor<3xf32>) {
  // expected-error @+1 {{epsilon must be non-negative, got -1}}
  %0 = tessel.batch_norm %x, %c, %c, %c, %c {epsilon = -1.0 : f64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// Batch_norm_train: the bias has one entry per channel.
func.func @f(%x: tensor<2x3x4x4xf32>, %c: tensor<3xf32>, %d: tensor<4xf32>) {
  // expected-error @+2 {{bias shape [4] must be [3] (channels)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = tessel.batch_norm_train %x, %c, %d layout nchw : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<4xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

// Add: shapes must broadcast.
func.func @f(%a: tensor<4x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+2 {{shapes [4, 3] and [2, 3] do not broadcast: sizes 4 and 2 at dim -2 (counted from the end) must be equal or 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.add %a, %b : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

// Mul: operands share one element type.
func.func @f(%a: tensor<4x3xf32>, %b: tensor<4x3xf64>) {
  // expected-error @+2 {{operands must share one element type, got 'f32' and 'f64'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.mul %a, %b : (tensor<4x3xf32>, tensor<4x3xf64>) -> tensor<4x3xf32>
  return
}

// -----

// Relu: the result type equals the operand type.
func.func @f(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "tessel.relu"(%a) : (tensor<4x3xf32>) -> tensor<4x3xf16>
  return
}

// -----

// Relu: integer tensors are not activations.
func.func @f(%a: tensor<4x3xi32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %0 = tessel.relu %a : tensor<4x3xi32>
  return
}

// -----

// Clamp: needs at least one bound.
func.func @f(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{needs a min or a max bound, or both}}
  %0 = tessel.clamp %a : tensor<4x3xf32>
  return
}

// -----

// Clamp: min must not exceed max.
func.func @f(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{min (6.00) must not exceed max (0.00)}}
  %0 = tessel.clamp %a {min = 6.0 : f64, max = 0.0 : f64} : tensor<4x3xf32>
  return
}

// -----

// Leaky_relu: alpha must be finite.
func.func @f(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{alpha must be finite, got INF}}
  %0 = tessel.leaky_relu %a {alpha = 0x7FF0000000000000 : f64} : tensor<4x3xf32>
  return
}

// -----

// Linear: the weight is [out, in].
func.func @f(%x: tensor<8x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+2 {{weight shape [16] must be 2-D ([out, in])}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.linear %x, %w : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return
}

// -----

// Linear: the weight's in features match the input's.
func.func @f(%x: tensor<8x16xf32>, %w: tensor<4x15xf32>) {
  // expected-error @+2 {{weight shape [4, 15] does not match input features 16 (expects [out, 16])}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.linear %x, %w : (tensor<8x16xf32>, tensor<4x15xf32>) -> tensor<8x4xf32>
  return
}

// -----

// Linear: the bias has one entry per out feature.
func.func @f(%x: tensor<8x16xf32>, %w: tensor<4x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+2 {{bias shape [16] must be [4] (out features)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.linear %x, %w, %b : (tensor<8x16xf32>, tensor<4x16xf32>, tensor<16xf32>) -> tensor<8x4xf32>
  return
}

// -----

// Matmul: contraction sizes must agree.
func.func @f(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) {
  // expected-error @+2 {{contraction sizes differ: lhs [3, 4] has 4 columns, rhs [5, 6] has 5 rows}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.matmul %a, %b : (tensor<3x4xf32>, tensor<5x6xf32>) -> tensor<3x6xf32>
  return
}

// -----

// Matmul: batch dims must broadcast.
func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  // expected-error @+2 {{batch dims: shapes [2] and [3] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

// Matmul: 0-D operands have no matrix.
func.func @f(%a: tensor<f32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{matmul operands must have rank 1 or more}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.matmul %a, %b : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

// Constant: the value must be a tensor.
func.func @f() {
  // expected-error @+1 {{result #0 must be statically shaped tensor}}
  %0 = tessel.constant 1.0 : f32
  return
}

// -----

// Reshape: the element count must not change.
func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{shape [3, 3] holds 9 elements but input [2, 4] holds 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.reshape %x {shape = array<i64: 3, 3>} : tensor<2x4xf32> -> tensor<3x3xf32>
  return
}

// -----

// Reshape: at most one size is inferred.
func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{shape [-1, -1] may hold at most one -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.reshape %x {shape = array<i64: -1, -1>} : tensor<2x4xf32> -> tensor<2x4xf32>
  return
}

// -----

// Reshape: sizes are non-negative or -1.
func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{shape [-2, 4] entries must be non-negative or -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.reshape %x {shape = array<i64: -2, 4>} : tensor<2x4xf32> -> tensor<2x4xf32>
  return
}

// -----

// Reshape: the -1 must divide the element count.
func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{cannot infer the -1 in shape [3, -1] from input [2, 4] (8 elements)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.reshape %x {shape = array<i64: 3, -1>} : tensor<2x4xf32> -> tensor<3x3xf32>
  return
}

// -----

// Flatten: start_dim must not come after end_dim.
func.func @f(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{start_dim 2 comes after end_dim 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.flatten %x {start_dim = 2 : i64, end_dim = 1 : i64} : tensor<2x3x4xf32> -> tensor<2x12xf32>
  return
}

// -----

// Flatten: dims must be in range.
func.func @f(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{end_dim 3 is out of range for rank 3 (expected [-3, 2])}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.flatten %x {end_dim = 3 : i64} : tensor<2x3x4xf32> -> tensor<2x12xf32>
  return
}

// -----

// Transpose: perm must be a permutation.
func.func @f(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{perm [0, 0, 1] is not a permutation of [0, 3)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.transpose %x {perm = array<i64: 0, 0, 1>} : tensor<2x3x4xf32> -> tensor<2x2x3xf32>
  return
}

// -----

// Transpose: one perm entry per dim.
func.func @f(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{perm [1, 0] must have 3 entries (the rank)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.transpose %x {perm = array<i64: 1, 0>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  return
}

// -----

// Concat: inputs share the rank.
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3x1xf32>) {
  // expected-error @+2 {{input #1 has rank 3, input #0 rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3x1xf32>) -> tensor<4x3xf32>
  return
}

// -----

// Concat: sizes off the axis must agree.
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+2 {{input #1 shape [2, 4] differs from input #0 shape [2, 3] in dim 1, which is not the concatenation axis 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

// Concat: the axis must be in range.
func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2 (expected [-2, 1])}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.concat %a, %b {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

// Relayout: both layouts have the same rank.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{layouts nchw and ndhwc have different ranks}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.relayout %x from nchw to ndhwc : tensor<1x3x8x8xf32> -> tensor<1x8x8x3xf32>
  return
}

// -----

// Relayout: the input rank matches the source layout.
func.func @f(%x: tensor<1x3x8xf32>) {
  // expected-error @+2 {{input rank 3 does not match layout nchw (expects rank 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.relayout %x from nchw to nhwc : tensor<1x3x8xf32> -> tensor<1x8x3xf32>
  return
}

// -----

// Pad: a low and a high pad per dim.
func.func @f(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{padding [1, 1] must have 4 entries, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pad constant %x {padding = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

// Pad: pads are non-negative.
func.func @f(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{padding [0, -1, 0, 0] must be non-negative, got -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pad constant %x {padding = array<i64: 0, -1, 0, 0>} : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

// Pad: reflection needs pads smaller than the dim.
func.func @f(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{reflect padding 3 of dim 1 must be smaller than the dim's size 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pad reflect %x {padding = array<i64: 0, 3, 0, 0>} : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

// Pad: circular pads are at most the dim.
func.func @f(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{circular padding 4 of dim 1 must be at most the dim's size 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pad circular %x {padding = array<i64: 0, 0, 0, 4>} : tensor<2x3xf32> -> tensor<2x7xf32>
  return
}

// -----

// Pad: replication needs a non-empty dim.
func.func @f(%x: tensor<2x0xf32>) {
  // expected-error @+2 {{replicate padding 1 of dim 1 must be applied to a non-empty dim, not one of size the dim's size 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pad replicate %x {padding = array<i64: 0, 1, 0, 0>} : tensor<2x0xf32> -> tensor<2x1xf32>
  return
}

// -----

// Pad: a fill value applies to constant padding only.
func.func @f(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{value applies to constant padding only, not reflect}}
  %0 = tessel.pad reflect %x {padding = array<i64: 0, 1, 0, 1>, value = 1.0 : f64} : tensor<2x3xf32> -> tensor<2x5xf32>
  return
}

// -----

// Upsample: size and scales are exclusive.
func.func @f(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{needs exactly one of size and scales}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.upsample nearest %x layout nchw {size = array<i64: 8, 8>, scales = array<f64: 2.0, 2.0>} : tensor<1x3x4x4xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Upsample: one of size and scales is needed.
func.func @f(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{needs exactly one of size and scales}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.upsample nearest %x layout nchw : tensor<1x3x4x4xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Upsample: scales are positive.
func.func @f(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{scales must be positive and finite, got -1.00 in spatial dim 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.upsample nearest %x layout nchw {scales = array<f64: 2.0, -1.0>} : tensor<1x3x4x4xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Upsample: scales must not empty the output.
func.func @f(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{scale 0.20 maps input size 4 to an empty output in spatial dim 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.upsample nearest %x layout nchw {scales = array<f64: 0.2, 1.0>} : tensor<1x3x4x4xf32> -> tensor<1x3x1x4xf32>
  return
}

// -----

// Upsample: one size per spatial dim.
func.func @f(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{size [8] must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.upsample nearest %x layout nchw {size = array<i64: 8>} : tensor<1x3x4x4xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Upsample: align_corners applies to linear mode only.
func.func @f(%x: tensor<1x3x4x4xf32>) {
  // expected-error @+1 {{align_corners applies to linear mode only, not nearest}}
  %0 = tessel.upsample nearest %x layout nchw {size = array<i64: 8, 8>, align_corners} : tensor<1x3x4x4xf32> -> tensor<1x3x8x8xf32>
  return
}

// -----

// Pixel_shuffle: needs a 2-D layout.
func.func @f(%x: tensor<1x4x8xf32>) {
  // expected-error @+2 {{needs a 2-D layout (nchw or nhwc), got ncw}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pixel_shuffle %x layout ncw {factor = 2 : i64} : tensor<1x4x8xf32> -> tensor<1x1x32xf32>
  return
}

// -----

// Pixel_shuffle: channels divide by factor squared.
func.func @f(%x: tensor<1x6x8x8xf32>) {
  // expected-error @+2 {{input channels (6) must be divisible by factor^2 (4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pixel_shuffle %x layout nchw {factor = 2 : i64} : tensor<1x6x8x8xf32> -> tensor<1x1x16x16xf32>
  return
}

// -----

// Pixel_unshuffle: spatial sizes divide by the factor.
func.func @f(%x: tensor<1x7x8x2xf32>) {
  // expected-error @+2 {{spatial size 7 in dim 1 must be divisible by factor (2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pixel_unshuffle %x layout nhwc {factor = 2 : i64} : tensor<1x7x8x2xf32> -> tensor<1x3x4x8xf32>
  return
}

// -----

// Pixel_shuffle: the factor is positive.
func.func @f(%x: tensor<1x4x8x8xf32>) {
  // expected-error @+2 {{factor must be positive, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pixel_shuffle %x layout nchw {factor = 0 : i64} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  return
}

// -----

// Softmax: the axis is in range.
func.func @f(%x: tensor<8x10xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2 (expected [-2, 1])}}
  %0 = tessel.softmax %x {axis = 2 : i64} : tensor<8x10xf32>
  return
}

// -----

// Log_softmax: negative axes count from the end.
func.func @f(%x: tensor<8x10xf32>) {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %0 = tessel.log_softmax %x {axis = -3 : i64} : tensor<8x10xf32>
  return
}

// -----

// Sum: axes are in range.
func.func @f(%x: tensor<8x10xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.sum %x {axes = array<i64: 2>} : tensor<8x10xf32> -> tensor<8xf32>
  return
}

// -----

// Mean: an axis is reduced once.
func.func @f(%x: tensor<8x10xf32>) {
  // expected-error @+2 {{axes [1, -1] name dim 1 twice}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.mean %x {axes = array<i64: 1, -1>} : tensor<8x10xf32> -> tensor<8xf32>
  return
}

// -----

// Cross_entropy: logits are [N, C, ...].
func.func @f(%l: tensor<10xf32>, %y: tensor<10xi64>) {
  // expected-error @+2 {{logits shape [10] must be [N, C] or [N, C, d1, ...]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.cross_entropy mean %l, %y : (tensor<10xf32>, tensor<10xi64>) -> tensor<f32>
  return
}

// -----

// Cross_entropy: labels are the logits shape without the class dim.
func.func @f(%l: tensor<4x10x3xf32>, %y: tensor<4x10xi64>) {
  // expected-error @+2 {{labels shape [4, 10] must be [4, 3]: logits shape [4, 10, 3] without the class dim}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.cross_entropy none %l, %y : (tensor<4x10x3xf32>, tensor<4x10xi64>) -> tensor<4x3xf32>
  return
}

// -----

// Cross_entropy: labels are integer class indices.
func.func @f(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = tessel.cross_entropy mean %l, %y : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

// Mse_loss: operands have one shape.
func.func @f(%a: tensor<4x10xf32>, %b: tensor<10x4xf32>) {
  // expected-error @+2 {{operand shapes [4, 10] and [10, 4] must be equal}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.mse_loss mean %a, %b : (tensor<4x10xf32>, tensor<10x4xf32>) -> tensor<f32>
  return
}

// -----

func.func @f(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{dim 1 reads elements 7 to 9 (offset 7, size 2, stride 2), outside [0, 8)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.slice %x {offsets = array<i64: 0, 7>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 2>} : tensor<2x8xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @f(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{stride of dim 0 is 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.slice %x {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 2>, strides = array<i64: 0, 1>} : tensor<2x8xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @f(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{offsets [0], sizes [2] and strides [1] must each have 2 entries (the rank)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.slice %x {offsets = array<i64: 0>, sizes = array<i64: 2>, strides = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @f(%x: tensor<2x8xf32>) {
  %i = tessel.constant dense<[0, -9]> : tensor<2xi64>
  // expected-error @+1 {{index -9 is outside [-8, 8) along axis 1}}
  %0 = tessel.gather %x, %i {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return
}

// -----

func.func @f(%x: tensor<2x8xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{axis 2 is out of range}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.gather %x, %i {axis = 2 : i64} : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return
}

// -----

// conv_backward_filter: grad_output must have the forward conv's shape.
func.func @f(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x7x7xf32>) {
  // expected-error @+2 {{grad_output shape [1, 4, 7, 7] differs from the forward conv's result shape [1, 4, 6, 6]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv_backward_filter %x, %dy layout nchw, oihw {kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<1x4x7x7xf32>) -> tensor<4x3x3x3xf32>
  return
}

// -----

// conv_backward_filter: io* filters belong to conv_transpose.
func.func @f(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x6x6xf32>) {
  // expected-error @+2 {{filter layout iohw is for conv_transpose}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.conv_backward_filter %x, %dy layout nchw, iohw {kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<1x4x6x6xf32>) -> tensor<3x4x3x3xf32>
  return
}

// -----

// pool_backward: grad_output must have the forward pooling's shape.
func.func @f(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x3x3x3xf32>) {
  // expected-error @+2 {{grad_output shape [1, 3, 3, 3] differs from the forward pooling's result shape [1, 3, 4, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool_backward max %x, %dy layout nchw {kernel = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<1x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return
}

// -----

// adaptive_pool_backward: lp has no adaptive form.
func.func @f(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x3x3x3xf32>) {
  // expected-error @+1 {{adaptive pooling supports max and avg, not lp}}
  %0 = tessel.adaptive_pool_backward lp %x, %dy layout nchw {output_size = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<1x3x3x3xf32>) -> tensor<1x3x8x8xf32>
  return
}

// -----

// pool_tangent: the tangent has the input's shape.
func.func @f(%x: tensor<1x3x8x8xf32>, %t: tensor<1x3x4x4xf32>) {
  // expected-error @+2 {{tangent shape [1, 3, 4, 4] differs from the input shape [1, 3, 8, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tessel.pool_tangent max %x, %t layout nchw {kernel = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

// pool_tangent: p belongs to the forward op, count_include_pad to avg.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{count_include_pad}}
  %0 = tessel.pool_tangent max %x, %x layout nchw {kernel = array<i64: 2, 2>, count_include_pad} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

// adaptive_pool_tangent: lp has no adaptive form.
func.func @f(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{adaptive pooling supports max and avg, not lp}}
  %0 = tessel.adaptive_pool_tangent lp %x, %x layout nchw {output_size = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<1x3x8x8xf32>) -> tensor<1x3x3x3xf32>
  return
}

// -----

// sgd_update: hyperparameters are checked.
func.func @f(%w: tensor<4xf32>) {
  // expected-error @+1 {{momentum must be non-negative, got -5.000000e-01}}
  %0, %1 = tessel.sgd_update %w, %w, %w {learning_rate = 0.1 : f64, momentum = -0.5 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// sgd_update: the state has the parameter's type.
func.func @f(%w: tensor<4xf32>, %v: tensor<2x2xf32>) {
  // expected-error @+2 {{every state operand must have the parameter's type 'tensor<4xf32>', got 'tensor<2x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0, %1 = tessel.sgd_update %w, %w, %v {learning_rate = 0.1 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<2x2xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// adam_update: beta1 lies in [0, 1).
func.func @f(%w: tensor<4xf32>, %t: tensor<f32>) {
  // expected-error @+1 {{beta1 must lie in [0, 1), got 1.000000e+00}}
  %0, %1, %2 = tessel.adam_update %w, %w, %w, %w, %t {learning_rate = 0.1 : f64, beta1 = 1.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// sgd_update: a run-time rate has the parameter's element type.
func.func @f(%w: tensor<4xf32>, %lr: tensor<f64>) {
  // expected-error @+2 {{lr must have the parameter's element type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0, %1 = tessel.sgd_update %w, %w, %w lr %lr {learning_rate = 1.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f64>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// adam_update: the step number is a 0-D tensor.
func.func @f(%w: tensor<4xf32>, %t: tensor<1xf32>) {
  // expected-error @+1 {{operand #4 must be 0D tensor}}
  %0, %1, %2 = tessel.adam_update %w, %w, %w, %w, %t {learning_rate = 0.1 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}
