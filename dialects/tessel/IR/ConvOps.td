//===- ConvOps.td - Convolution ops ------------------------*- tablegen -*-===//

#ifndef TESSEL_CONV_OPS_TD
#define TESSEL_CONV_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

class Tessel_ConvBase<string mnemonic> : Tessel_InferredOp<mnemonic>;

def Tessel_ConvOp : Tessel_ConvBase<"conv"> {
  let summary = "1-D, 2-D or 3-D convolution (cross-correlation)";
  let description = [{
    PyTorch's `conv1d`/`conv2d`/`conv3d`: strides, dilations, per-side
    padding, groups (depthwise when groups equals the input channels) and an
    optional bias of size C_out. `layout` names the activation layout of the
    input and the result; `filter_layout` is `oi*` (PyTorch, `[C_out,
    C_in/groups, k...]`) or `*io` (`[k..., C_in/groups, C_out]`).

    Each output spatial size is
    `floor((in + pad_low + pad_high - dilation * (k - 1) - 1) / stride) + 1`.
    Absent `strides`/`dilations` mean 1, absent `padding` means 0.

    ```mlir
    %y = tessel.conv %x, %w, %b layout nchw, oihw
           {strides = array<i64: 2, 2>, padding = array<i64: 3, 3, 3, 3>}
           : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>)
           -> tensor<1x64x112x112xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$filter,
                   Optional<Tessel_Tensor>:$bias,
                   Tessel_ActivationLayoutAttr:$layout,
                   Tessel_FilterLayoutAttr:$filter_layout,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? `layout` `` $layout `,` `` $filter_layout
    attr-dict `:` functional-type(operands, results)
  }];
}

def Tessel_ConvTransposeOp : Tessel_ConvBase<"conv_transpose"> {
  let summary = "1-D, 2-D or 3-D transposed convolution";
  let description = [{
    PyTorch's `conv_transpose1d/2d/3d`, the gradient of `tessel.conv` with
    respect to its input. `filter_layout` is `io*` (PyTorch, `[C_in,
    C_out/groups, k...]`) or `*io` (`[k..., C_in, C_out/groups]`).

    Each output spatial size is `(in - 1) * stride - pad_low - pad_high +
    dilation * (k - 1) + output_padding + 1`; every `output_padding` entry
    must be smaller than its stride or its dilation.

    `tessel-decompose` turns a transposed convolution with unit strides (and
    pads no larger than `dilation * (k - 1)`) into a `tessel.conv` of the
    spatially flipped filter with its channel dims swapped, so it runs on
    the convolution's register-tiled path (it is the input gradient of every
    stride-1 conv). A strided one with unit dilations becomes one unit-stride
    transposed conv per output phase (the outputs `o = stride * j + r` for
    each `r`, which meet every stride-th kernel tap), interleaved by
    `tessel.concat` and `tessel.reshape`.

    ```mlir
    %y = tessel.conv_transpose %x, %w layout nchw, iohw
           {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>,
            output_padding = array<i64: 1, 1>}
           : (tensor<1x64x28x28xf32>, tensor<64x32x3x3xf32>) -> tensor<1x32x56x56xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$filter,
                   Optional<Tessel_Tensor>:$bias,
                   Tessel_ActivationLayoutAttr:$layout,
                   Tessel_FilterLayoutAttr:$filter_layout,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   OptionalAttr<DenseI64ArrayAttr>:$output_padding,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? `layout` `` $layout `,` `` $filter_layout
    attr-dict `:` functional-type(operands, results)
  }];
}

def Tessel_ConvBackwardFilterOp : Tessel_InferredOp<"conv_backward_filter"> {
  let summary = "gradient of a convolution with respect to its filter";
  let description = [{
    For `y = tessel.conv %input, %filter` with these attributes, computes
    `dL/dfilter` from `grad_output = dL/dy`: each filter element sums
    `grad_output * input` over the batch and every output position that
    filter element touched (padding reads zeros). `kernel` gives the filter's
    spatial sizes, which the shapes alone do not determine; the result has the
    filter's shape in `filter_layout` (`oi*` or `*io`). `grad_output` must
    have the shape the forward conv produces. The gradient with respect to
    the input is a `tessel.conv_transpose` of `grad_output` with the filter.

    ```mlir
    %dw = tessel.conv_backward_filter %x, %dy layout nchw, oihw
            {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>}
            : (tensor<8x64x56x56xf32>, tensor<8x64x56x56xf32>) -> tensor<64x64x3x3xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$grad_output,
                   Tessel_ActivationLayoutAttr:$layout,
                   Tessel_FilterLayoutAttr:$filter_layout,
                   DenseI64ArrayAttr:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$dilations,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $grad_output `layout` `` $layout `,` `` $filter_layout
    attr-dict `:` functional-type(operands, results)
  }];
}

#endif // TESSEL_CONV_OPS_TD
