//===- PoolOps.td - Pooling ops ----------------------------*- tablegen -*-===//

#ifndef TESSEL_POOL_OPS_TD
#define TESSEL_POOL_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

class Tessel_PoolBase<string mnemonic> : Tessel_InferredOp<mnemonic> {
  let hasVerifier = 1;
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $kind $input `layout` `` $layout attr-dict `:` type($input) `->` type($result)
  }];
}

def Tessel_PoolOp : Tessel_PoolBase<"pool"> {
  let summary = "max, average or Lp pooling over a sliding window, 1-D to 3-D";
  let description = [{
    PyTorch's `max_pool*d`, `avg_pool*d` and `lp_pool*d`. `kernel` is
    required; `strides` defaults to `kernel`, `dilations` to 1 and `padding`
    to 0. With `ceil_mode` the output size rounds up, but the last window must
    start inside the input or its low padding. `count_include_pad` (avg only)
    divides by the full window including padding; `p` (lp only, default 2) is
    the norm. Max pooling treats padding as -inf, avg and lp as 0.

    ```mlir
    %y = tessel.pool max %x layout nchw
           {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
            padding = array<i64: 1, 1, 1, 1>}
           : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   DenseI64ArrayAttr:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   UnitAttr:$ceil_mode,
                   UnitAttr:$count_include_pad,
                   OptionalAttr<F64Attr>:$p);
}

def Tessel_AdaptivePoolOp : Tessel_PoolBase<"adaptive_pool"> {
  let summary = "adaptive max or average pooling to a given output size";
  let description = [{
    PyTorch's `adaptive_{max,avg}_pool*d`: output index `o` of a spatial dim
    of size `in` pools `[floor(o * in / out), ceil((o + 1) * in / out))`.

    ```mlir
    %y = tessel.adaptive_pool avg %x layout nchw {output_size = array<i64: 7, 7>}
           : tensor<1x512x14x14xf32> -> tensor<1x512x7x7xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   DenseI64ArrayAttr:$output_size);
}

def Tessel_GlobalPoolOp : Tessel_PoolBase<"global_pool"> {
  let summary = "max, average or Lp pooling over all spatial dims";
  let description = [{
    ONNX's `GlobalAveragePool`/`GlobalMaxPool`/`GlobalLpPool`: every spatial
    dim of the result has size 1. `p` (lp only) defaults to 2.

    ```mlir
    %y = tessel.global_pool avg %x layout nhwc
           : tensor<8x7x7x2048xf32> -> tensor<8x1x1x2048xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   OptionalAttr<F64Attr>:$p);
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

class Tessel_PoolBackwardBase<string mnemonic> : Tessel_InferredOp<mnemonic> {
  let hasVerifier = 1;
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $kind $input `,` $grad_output `layout` `` $layout attr-dict
    `:` functional-type(operands, results)
  }];
}

def Tessel_PoolBackwardOp : Tessel_PoolBackwardBase<"pool_backward"> {
  let summary = "gradient of window pooling with respect to its input";
  let description = [{
    For `y = tessel.pool kind %input` with the same attributes, spreads
    `grad_output = dL/dy` back over the input windows; the result has the
    input's shape. `max`: each window's gradient goes to the first element
    holding the window's maximum, in row-major order of the window
    (PyTorch's rule for ties). `avg`: each window's gradient is divided by
    the window's divisor (as the forward op counts it) and added to every
    element of the window. `lp`: each window's gradient is added to every
    element of the window unscaled (the gradient of a sum pool); the
    elementwise factor `sign(x) |x|^(p-1) y^(1-p)` of the Lp rule is left to
    the graph. Global pooling's gradient is this op with the whole spatial
    extent as its kernel.

    ```mlir
    %dx = tessel.pool_backward max %x, %dy layout nchw
            {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
             padding = array<i64: 1, 1, 1, 1>}
            : (tensor<1x64x112x112xf32>, tensor<1x64x56x56xf32>) -> tensor<1x64x112x112xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$grad_output,
                   Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   DenseI64ArrayAttr:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   UnitAttr:$ceil_mode,
                   UnitAttr:$count_include_pad);
}

def Tessel_AdaptivePoolBackwardOp : Tessel_PoolBackwardBase<"adaptive_pool_backward"> {
  let summary = "gradient of adaptive pooling with respect to its input";
  let description = [{
    For `y = tessel.adaptive_pool kind %input {output_size}`, spreads
    `grad_output` back over the (possibly overlapping) adaptive windows:
    `max` to the first maximum of each window, `avg` divided by each window's
    size. The result has the input's shape.

    ```mlir
    %dx = tessel.adaptive_pool_backward avg %x, %dy layout nchw
            {output_size = array<i64: 3, 3>}
            : (tensor<1x8x7x7xf32>, tensor<1x8x3x3xf32>) -> tensor<1x8x7x7xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$grad_output,
                   Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   DenseI64ArrayAttr:$output_size);
}

//===----------------------------------------------------------------------===//
// Tangents (forward mode)
//===----------------------------------------------------------------------===//

class Tessel_PoolTangentBase<string mnemonic> : Tessel_InferredOp<mnemonic> {
  let hasVerifier = 1;
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $kind $input `,` $tangent `layout` `` $layout attr-dict
    `:` functional-type(operands, results)
  }];
}

def Tessel_PoolTangentOp : Tessel_PoolTangentBase<"pool_tangent"> {
  let summary = "tangent of window pooling (forward-mode derivative)";
  let description = [{
    The transpose of `tessel.pool_backward` in its gradient operand: for
    `y = tessel.pool kind %input` with the same attributes, maps a tangent
    of the input (the input's shape) to one of the result's shape. `max`:
    each window takes the tangent at the first element holding the window's
    maximum (the element `pool_backward` sends the window's gradient to),
    which is the Jacobian-vector product of max pooling. `avg`: each window
    averages the tangent with the forward op's divisor, which equals
    `tessel.pool avg` of the tangent. `lp`: each window sums the tangent
    unscaled; the Lp rule multiplies the elementwise factors around it.

    ```mlir
    %dy = tessel.pool_tangent max %x, %dx layout nchw
            {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
             padding = array<i64: 1, 1, 1, 1>}
            : (tensor<1x64x112x112xf32>, tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$tangent,
                   Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   DenseI64ArrayAttr:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   UnitAttr:$ceil_mode,
                   UnitAttr:$count_include_pad);
}

def Tessel_AdaptivePoolTangentOp : Tessel_PoolTangentBase<"adaptive_pool_tangent"> {
  let summary = "tangent of adaptive pooling (forward-mode derivative)";
  let description = [{
    The transpose of `tessel.adaptive_pool_backward` in its gradient
    operand: `max` takes each window's tangent at the window's first
    maximum of `input`, `avg` averages the tangent over each window. The
    result has the shape of `tessel.adaptive_pool` of the input.

    ```mlir
    %dy = tessel.adaptive_pool_tangent max %x, %dx layout nchw
            {output_size = array<i64: 3, 3>}
            : (tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>) -> tensor<1x8x3x3xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$tangent,
                   Tessel_PoolKindAttr:$kind,
                   Tessel_ActivationLayoutAttr:$layout,
                   DenseI64ArrayAttr:$output_size);
}

#endif // TESSEL_POOL_OPS_TD
