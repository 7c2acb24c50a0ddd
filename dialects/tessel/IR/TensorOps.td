//===- TensorOps.td - Constants, shape and layout ops ------*- tablegen -*-===//

#ifndef TESSEL_TENSOR_OPS_TD
#define TESSEL_TENSOR_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

def Tessel_ConstantOp : Tessel_InferredOp<"constant", [ConstantLike]> {
  let summary = "a constant tensor (weights, labels, ...)";
  let description = [{
    ```mlir
    %w = tessel.constant dense<0.5> : tensor<64x3x7x7xf32>
    ```
  }];
  let arguments = (ins TypedAttrInterface:$value);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Tessel_ReshapeOp : Tessel_InferredOp<"reshape"> {
  let summary = "reshape to a static shape with the same element count";
  let description = [{
    `shape` holds the new sizes; one entry may be -1, inferred from the
    element count.

    ```mlir
    %y = tessel.reshape %x {shape = array<i64: 8, -1>}
           : tensor<8x512x1x1xf32> -> tensor<8x512xf32>
    ```
  }];
  let arguments = (ins Tessel_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Tessel_FlattenOp : Tessel_InferredOp<"flatten"> {
  let summary = "merge the dims start_dim..end_dim into one";
  let description = [{
    PyTorch's `flatten`; negative dims count from the end. A 0-D input
    becomes 1-D.

    ```mlir
    %y = tessel.flatten %x {start_dim = 1 : i64}
           : tensor<8x512x1x1xf32> -> tensor<8x512xf32>
    ```
  }];
  let arguments = (ins Tessel_AnyTensor:$input,
                   DefaultValuedAttr<I64Attr, "1">:$start_dim,
                   DefaultValuedAttr<I64Attr, "-1">:$end_dim);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Tessel_TransposeOp : Tessel_InferredOp<"transpose"> {
  let summary = "permute dims";
  let description = [{
    Result dim `i` is input dim `perm[i]`. For a change of activation layout
    use `tessel.relayout`, which says what the dims mean.

    ```mlir
    %y = tessel.transpose %x {perm = array<i64: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
    ```
  }];
  let arguments = (ins Tessel_AnyTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tessel_SliceOp : Tessel_InferredOp<"slice"> {
  let summary = "strided slice: a box of elements, steps may be negative";
  let description = [{
    Result element `[i0, i1, ...]` is input element
    `[offsets[0] + i0 * strides[0], offsets[1] + i1 * strides[1], ...]`; the
    result shape is `sizes`. Every stride is non-zero (negative walks
    backwards) and every element read lies inside the input. The ONNX
    importer turns `Slice` (starts, ends, axes, steps, clamped) and `Split`
    into this form.

    ```mlir
    %y = tessel.slice %x {offsets = array<i64: 0, 7>, sizes = array<i64: 2, 4>, strides = array<i64: 1, -2>}
           : tensor<2x8xf32> -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Tessel_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                   DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Tessel_GatherOp : Tessel_InferredOp<"gather"> {
  let summary = "pick entries along an axis by integer indices";
  let description = [{
    ONNX `Gather` (numpy `take`): the result shape is
    `input.shape[:axis] + indices.shape + input.shape[axis+1:]`, and each
    index picks an entry of the input along `axis` (negative `axis` counts
    from the end). Negative indices count from the end of the axis; constant
    indices must lie in `[-dim, dim)` (checked by the verifier), indices
    computed at run time are clamped into the axis, so a bad index never
    reads outside the input.

    ```mlir
    %y = tessel.gather %x, %i {axis = 1 : i64}
           : (tensor<2x5x3xf32>, tensor<4xi64>) -> tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins Tessel_AnyTensor:$input, Tessel_LabelTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tessel_ConcatOp : Tessel_InferredOp<"concat"> {
  let summary = "concatenate tensors along an axis";
  let description = [{
    Every input has the same rank, element type and sizes except along
    `axis` (negative counts from the end).

    Canonicalization makes a concatenation whose leading inputs are those of
    an earlier one along the same axis (a DenseNet block as PyTorch exports
    it: each layer concatenates the block's input and every feature map so
    far) concatenate that earlier result instead: the block's
    concatenations then chain, and each one's buffer extends the previous
    one's rather than copying every input again.

    ```mlir
    %y = tessel.concat %a, %b {axis = 1 : i64}
           : (tensor<1x64x28x28xf32>, tensor<1x32x28x28xf32>) -> tensor<1x96x28x28xf32>
    ```
  }];
  let arguments = (ins Variadic<Tessel_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Tessel_AnyTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasCanonicalizer = 1;
}

def Tessel_RelayoutOp : Tessel_InferredOp<"relayout"> {
  let summary = "change the activation layout of a tensor";
  let description = [{
    The only op that changes a layout: moves the channel dim between
    channels-first and channels-last. Both layouts have the input's rank.

    ```mlir
    %y = tessel.relayout %x from nchw to nhwc
           : tensor<1x3x224x224xf32> -> tensor<1x224x224x3xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_ActivationLayoutAttr:$source,
                   Tessel_ActivationLayoutAttr:$target);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `from` `` $source `to` `` $target attr-dict `:` type($input) `->` type($result)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

#endif // TESSEL_TENSOR_OPS_TD
