//===- LinearOps.td - Fully connected and matmul ops -------*- tablegen -*-===//

#ifndef TESSEL_LINEAR_OPS_TD
#define TESSEL_LINEAR_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

def Tessel_LinearOp : Tessel_InferredOp<"linear"> {
  let summary = "fully connected layer: input * weight^T + bias";
  let description = [{
    PyTorch's `linear`: `input` is `[..., in]`, `weight` is `[out, in]`,
    the optional `bias` is `[out]`; the result is `[..., out]`.

    ```mlir
    %y = tessel.linear %x, %w, %b
           : (tensor<8x512xf32>, tensor<1000x512xf32>, tensor<1000xf32>) -> tensor<8x1000xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$weight,
                   Optional<Tessel_Tensor>:$bias);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Tessel_MatmulOp : Tessel_InferredOp<"matmul"> {
  let summary = "matrix product with numpy semantics";
  let description = [{
    numpy's `matmul` (ONNX `MatMul`): 1-D operands are promoted to a matrix
    and the added dim removed again; batch dims broadcast.

    ```mlir
    %y = tessel.matmul %a, %b
           : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$lhs, Tessel_Tensor:$rhs);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

#endif // TESSEL_LINEAR_OPS_TD
