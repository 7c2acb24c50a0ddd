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

#endif // TESSEL_POOL_OPS_TD
