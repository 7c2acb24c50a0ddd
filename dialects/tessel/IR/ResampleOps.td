//===- ResampleOps.td - Pad, upsample and pixel shuffle ----*- tablegen -*-===//

#ifndef TESSEL_RESAMPLE_OPS_TD
#define TESSEL_RESAMPLE_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

def Tessel_PadOp : Tessel_InferredOp<"pad"> {
  let summary = "pad every dim with a constant, reflection, replication or wrap";
  let description = [{
    `padding` has `2 * rank` non-negative entries: the low pads of every dim,
    then the high pads (ONNX `pads` order). Modes follow PyTorch's `F.pad`:
    `constant` fills with `value` (default 0), `reflect` mirrors without
    repeating the edge (each pad smaller than its dim), `replicate` repeats
    the edge, `circular` wraps around (each pad at most its dim).

    ```mlir
    %y = tessel.pad reflect %x {padding = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>}
           : tensor<1x3x32x32xf32> -> tensor<1x3x34x34xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_PadModeAttr:$mode,
                   DenseI64ArrayAttr:$padding, OptionalAttr<F64Attr>:$value);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $mode $input attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tessel_UpsampleOp : Tessel_InferredOp<"upsample"> {
  let summary = "nearest or (bi/tri)linear resize of the spatial dims";
  let description = [{
    PyTorch's `interpolate`: either `size` (output spatial sizes) or `scales`
    (output size `floor(in * scale)`) is given, not both. `linear` is linear,
    bilinear or trilinear by the layout's spatial rank; `align_corners`
    applies to it only.

    ```mlir
    %y = tessel.upsample linear %x layout nchw {scales = array<f64: 2.0, 2.0>, align_corners}
           : tensor<1x16x8x8xf32> -> tensor<1x16x16x16xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_UpsampleModeAttr:$mode,
                   Tessel_ActivationLayoutAttr:$layout,
                   OptionalAttr<DenseI64ArrayAttr>:$size,
                   OptionalAttr<DenseF64ArrayAttr>:$scales,
                   UnitAttr:$align_corners);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $mode $input `layout` `` $layout attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

class Tessel_PixelShuffleBase<string mnemonic, string inverse>
    : Tessel_InferredOp<mnemonic> {
  let arguments = (ins Tessel_Tensor:$input, Tessel_ActivationLayoutAttr:$layout,
                   I64Attr:$factor);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `layout` `` $layout attr-dict `:` type($input) `->` type($result)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferFromOperand(
          loc, getOperationName(), adaptor.getInput(),
          [&](::llvm::ArrayRef<int64_t> input) {
            return inferPixelShuffleShape(
                input, adaptor.getLayout(),
                static_cast<int64_t>(adaptor.getFactor()),
                /*inverse=*/}] # inverse # [{);
          },
          types);
    }
  }];
}

def Tessel_PixelShuffleOp : Tessel_PixelShuffleBase<"pixel_shuffle", "false"> {
  let summary = "move channel blocks into space (depth-to-space, CRD order)";
  let description = [{
    PyTorch's `pixel_shuffle` on a 2-D layout: `[N, C*r*r, H, W]` becomes
    `[N, C, H*r, W*r]` with `r = factor`; output channel `c` at `(h*r+i,
    w*r+j)` reads input channel `c*r*r + i*r + j` (ONNX DepthToSpace CRD).

    ```mlir
    %y = tessel.pixel_shuffle %x layout nchw {factor = 2 : i64}
           : tensor<1x64x16x16xf32> -> tensor<1x16x32x32xf32>
    ```
  }];
}

def Tessel_PixelUnshuffleOp : Tessel_PixelShuffleBase<"pixel_unshuffle", "true"> {
  let summary = "move spatial blocks into channels, the inverse of pixel_shuffle";
  let description = [{
    PyTorch's `pixel_unshuffle`: `[N, C, H*r, W*r]` becomes
    `[N, C*r*r, H, W]`.

    ```mlir
    %y = tessel.pixel_unshuffle %x layout nhwc {factor = 2 : i64}
           : tensor<1x32x32x16xf32> -> tensor<1x16x16x64xf32>
    ```
  }];
}

#endif // TESSEL_RESAMPLE_OPS_TD
