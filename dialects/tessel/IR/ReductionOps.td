//===- ReductionOps.td - Softmax, reductions and losses ----*- tablegen -*-===//

#ifndef TESSEL_REDUCTION_OPS_TD
#define TESSEL_REDUCTION_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

class Tessel_SoftmaxBase<string mnemonic, string formula>
    : Tessel_Op<mnemonic, [SameOperandsAndResultType, InferTypeOpInterface]> {
  let summary = "`" # formula # "` along one axis";
  let description = [{
    Computes `}] # formula # [{` along `axis` (negative counts from the end),
    in the numerically stable form (the maximum is subtracted first).

    ```mlir
    %y = tessel.}] # mnemonic # [{ %x {axis = 1 : i64} : tensor<8x1000xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, I64Attr:$axis);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return verifyAxis(*this, static_cast<int64_t>(getAxis()));
    }
  }];
}

def Tessel_SoftmaxOp : Tessel_SoftmaxBase<"softmax", "exp(x) / sum(exp(x))">;
def Tessel_LogSoftmaxOp : Tessel_SoftmaxBase<"log_softmax", "x - log(sum(exp(x)))">;

class Tessel_ReduceBase<string mnemonic, string what> : Tessel_InferredOp<mnemonic> {
  let summary = what # " over axes";
  let description = [{
    Reduces `axes` (negative counts from the end; absent means every dim)
    with the }] # what # [{. With `keepdims` the reduced dims stay as size 1.

    ```mlir
    %y = tessel.}] # mnemonic # [{ %x {axes = array<i64: 2, 3>, keepdims}
           : tensor<8x64x7x7xf32> -> tensor<8x64x1x1xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input,
                   OptionalAttr<DenseI64ArrayAttr>:$axes, UnitAttr:$keepdims);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferFromOperand(
          loc, getOperationName(), adaptor.getInput(),
          [&](::llvm::ArrayRef<int64_t> input) {
            return inferReduceShape(input, adaptor.getAxes(),
                                    adaptor.getKeepdims());
          },
          types);
    }
  }];
}

def Tessel_SumOp : Tessel_ReduceBase<"sum", "sum">;
def Tessel_MeanOp : Tessel_ReduceBase<"mean", "arithmetic mean">;
def Tessel_MaxOp : Tessel_ReduceBase<"max", "maximum">;
def Tessel_MinOp : Tessel_ReduceBase<"min", "minimum">;

def Tessel_CrossEntropyOp : Tessel_InferredOp<"cross_entropy"> {
  let summary = "cross-entropy of logits against integer class labels";
  let description = [{
    PyTorch's `cross_entropy` with class indices: `logits` is `[N, C]` or
    `[N, C, d1, ...]`, `labels` is `[N]` or `[N, d1, ...]` with values in
    `[0, C)`. `reduction` is `none` (the per-element loss, shaped like
    `labels`), `mean` or `sum` (a 0-D tensor). Constant labels outside
    `[0, C)` are rejected by the verifier (PyTorch raises); a label computed
    at run time outside it gives a NaN loss.

    ```mlir
    %loss = tessel.cross_entropy mean %logits, %labels
              : (tensor<32x10xf32>, tensor<32xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$logits, Tessel_LabelTensor:$labels,
                   Tessel_ReductionAttr:$reduction);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $reduction $logits `,` $labels attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tessel_MseLossOp : Tessel_InferredOp<"mse_loss"> {
  let summary = "mean squared error between two tensors of one shape";
  let description = [{
    `(lhs - rhs)^2`, reduced by `reduction` (`none`, `mean` or `sum`).

    ```mlir
    %loss = tessel.mse_loss mean %pred, %target
              : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$lhs, Tessel_Tensor:$rhs,
                   Tessel_ReductionAttr:$reduction);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    `` $reduction $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

#endif // TESSEL_REDUCTION_OPS_TD
