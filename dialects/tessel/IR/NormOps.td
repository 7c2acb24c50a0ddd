//===- NormOps.td - Normalization ops ----------------------*- tablegen -*-===//

#ifndef TESSEL_NORM_OPS_TD
#define TESSEL_NORM_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

def Tessel_BatchNormOp : Tessel_InferredOp<"batch_norm"> {
  let summary = "batch normalization with running statistics (inference)";
  let description = [{
    `result = (input - mean) / sqrt(variance + epsilon) * scale + bias`, per
    channel. The channel dim comes from `layout`; without a layout the input
    is channels-first (`[N, C, ...]`, any rank >= 2, as PyTorch's
    `BatchNorm1d` on `[N, C]`). `scale`, `bias`, `mean` and `variance` have
    shape `[C]`.

    ```mlir
    %y = tessel.batch_norm %x, %gamma, %beta, %mean, %var layout nchw
           {epsilon = 1.0e-05 : f64}
           : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>,
              tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$scale,
                   Tessel_Tensor:$bias, Tessel_Tensor:$mean,
                   Tessel_Tensor:$variance,
                   OptionalAttr<Tessel_ActivationLayoutAttr>:$layout,
                   DefaultValuedAttr<F64Attr, "1e-5">:$epsilon);
  let results = (outs Tessel_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance
    (`layout` `` $layout^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tessel_BatchNormTrainOp : Tessel_InferredOp<"batch_norm_train"> {
  let summary = "batch normalization with batch statistics (training)";
  let description = [{
    Normalizes with the mean and biased variance of the batch, computed over
    every dim but the channel dim, and returns them as `batch_mean` and
    `batch_variance` (`[C]`) so that a graph can update running statistics
    (PyTorch's running variance uses the unbiased estimate: multiply by
    `n / (n - 1)`).

    ```mlir
    %y, %m, %v = tessel.batch_norm_train %x, %gamma, %beta layout nhwc
           : (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)
           -> (tensor<8x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins Tessel_Tensor:$input, Tessel_Tensor:$scale,
                   Tessel_Tensor:$bias,
                   OptionalAttr<Tessel_ActivationLayoutAttr>:$layout,
                   DefaultValuedAttr<F64Attr, "1e-5">:$epsilon);
  let results = (outs Tessel_Tensor:$result, Tessel_Tensor:$batch_mean,
                 Tessel_Tensor:$batch_variance);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias (`layout` `` $layout^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // TESSEL_NORM_OPS_TD
