//===- ElementwiseOps.td - Activations and arithmetic ------*- tablegen -*-===//

#ifndef TESSEL_ELEMENTWISE_OPS_TD
#define TESSEL_ELEMENTWISE_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

class Tessel_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Tessel_Op<mnemonic, !listconcat([SameOperandsAndResultType,
                                       InferTypeOpInterface], traits)> {
  let summary = "elementwise `" # formula # "`";
  let description = [{
    Applies `}] # formula # [{` to every element.

    ```mlir
    %y = tessel.}] # mnemonic # [{ %x : tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tessel_ReluOp : Tessel_UnaryOp<"relu", "max(x, 0)">;
def Tessel_SigmoidOp : Tessel_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Tessel_TanhOp : Tessel_UnaryOp<"tanh", "tanh(x)">;
def Tessel_AbsOp : Tessel_UnaryOp<"abs", "|x|">;
def Tessel_NegOp : Tessel_UnaryOp<"neg", "-x">;
def Tessel_SqrtOp : Tessel_UnaryOp<"sqrt", "sqrt(x)">;
def Tessel_ExpOp : Tessel_UnaryOp<"exp", "exp(x)">;
def Tessel_LogOp : Tessel_UnaryOp<"log", "log(x)">;
def Tessel_SignOp : Tessel_UnaryOp<"sign", "sign(x) (-1, 0 or 1)">;
def Tessel_ErfOp : Tessel_UnaryOp<"erf", "erf(x)"> {
  let description = [{
    The Gauss error function, `2/sqrt(pi) * integral(0, x) exp(-t^2) dt`:
    exact GELU is `0.5 * x * (1 + erf(x / sqrt(2)))`.

    ```mlir
    %y = tessel.erf %x : tensor<1x96x56x56xf32>
    ```
  }];
}

def Tessel_LeakyReluOp : Tessel_UnaryOp<"leaky_relu", "x >= 0 ? x : alpha * x"> {
  let description = [{
    `x >= 0 ? x : alpha * x`; `alpha` defaults to PyTorch's 0.01.

    ```mlir
    %y = tessel.leaky_relu %x {alpha = 1.000000e-01 : f64} : tensor<4x16xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input,
                   DefaultValuedAttr<F64Attr, "0.01">:$alpha);
  let hasVerifier = 1;
}

def Tessel_ClampOp : Tessel_UnaryOp<"clamp", "min(max(x, min), max)"> {
  let description = [{
    Clamps every element to `[min, max]`; either bound may be absent, not
    both. ReLU6 is `clamp` with `min = 0, max = 6`.

    ```mlir
    %y = tessel.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x32x112x112xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, OptionalAttr<F64Attr>:$min,
                   OptionalAttr<F64Attr>:$max);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Binary, with numpy broadcasting
//===----------------------------------------------------------------------===//

class Tessel_BinaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : Tessel_InferredOp<mnemonic, traits> {
  let summary = "elementwise `" # formula # "` with numpy broadcasting";
  let description = [{
    Computes `}] # formula # [{` elementwise. Shapes broadcast as in numpy:
    aligned from the last dim, each pair of sizes equal or one of them 1.

    ```mlir
    %y = tessel.}] # mnemonic # [{ %a, %b
           : (tensor<1x64x56x56xf32>, tensor<64x1x1xf32>) -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$lhs, Tessel_Tensor:$rhs);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferBroadcastType(loc, getOperationName(), adaptor.getLhs(),
                                adaptor.getRhs(), types);
    }
  }];
}

def Tessel_AddOp : Tessel_BinaryOp<"add", "lhs + rhs", [Commutative]>;
def Tessel_SubOp : Tessel_BinaryOp<"sub", "lhs - rhs">;
def Tessel_MulOp : Tessel_BinaryOp<"mul", "lhs * rhs", [Commutative]>;
def Tessel_DivOp : Tessel_BinaryOp<"div", "lhs / rhs">;
def Tessel_PowOp : Tessel_BinaryOp<"pow", "lhs ^ rhs">;
// NaN in either operand gives NaN (numpy's and PyTorch's maximum/minimum).
def Tessel_MaximumOp : Tessel_BinaryOp<"maximum", "max(lhs, rhs)", [Commutative]>;
def Tessel_MinimumOp : Tessel_BinaryOp<"minimum", "min(lhs, rhs)", [Commutative]>;

#endif // TESSEL_ELEMENTWISE_OPS_TD
