//===- OptimizerOps.td - Parameter updates -----------------*- tablegen -*-===//
//
// Optimizer steps as graph ops, so that forward, backward and update of a
// training step compile into one function.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_OPTIMIZER_OPS_TD
#define TESSEL_OPTIMIZER_OPS_TD

include "dialects/tessel/IR/TesselBase.td"

def Tessel_SgdUpdateOp : Tessel_InferredOp<"sgd_update"> {
  let summary = "one step of stochastic gradient descent with momentum";
  let description = [{
    PyTorch's `SGD` with `dampening = 0`, elementwise over a parameter:
    ```
    g = grad + weight_decay * param
    v = momentum * velocity + g
    g = nesterov ? g + momentum * v : v
    param' = param - learning_rate * g
    ```
    and returns `(param', v)`. With `momentum = 0` the velocity is the
    gradient itself. All three operands have one shape. The optional 0-D
    operand `lr` multiplies `learning_rate` at run time, so that one
    compiled training step serves a learning-rate schedule.

    ```mlir
    %w2, %v2 = tessel.sgd_update %w, %dw, %v
                 {learning_rate = 0.1 : f64, momentum = 0.9 : f64}
                 : (tensor<64x3x3x3xf32>, tensor<64x3x3x3xf32>, tensor<64x3x3x3xf32>)
                 -> (tensor<64x3x3x3xf32>, tensor<64x3x3x3xf32>)
    %w3, %v3 = tessel.sgd_update %w, %dw, %v lr %rate
                 {learning_rate = 1.0 : f64, momentum = 0.9 : f64}
                 : (tensor<64x3x3x3xf32>, tensor<64x3x3x3xf32>, tensor<64x3x3x3xf32>,
                    tensor<f32>) -> (tensor<64x3x3x3xf32>, tensor<64x3x3x3xf32>)
    ```
  }];
  let arguments = (ins Tessel_Tensor:$param, Tessel_Tensor:$grad,
                   Tessel_Tensor:$velocity,
                   Optional<0DTensorOf<[F16, BF16, F32, F64]>>:$lr,
                   F64Attr:$learning_rate,
                   DefaultValuedAttr<F64Attr, "0.0">:$momentum,
                   DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                   UnitAttr:$nesterov);
  let results = (outs Tessel_Tensor:$new_param, Tessel_Tensor:$new_velocity);
  let assemblyFormat = [{
    $param `,` $grad `,` $velocity (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tessel_AdamUpdateOp : Tessel_InferredOp<"adam_update"> {
  let summary = "one step of Adam (or AdamW)";
  let description = [{
    PyTorch's `Adam` (`decoupled` unset) or `AdamW` (`decoupled` set),
    elementwise over a parameter, at step `step` (a 0-D tensor holding the
    1-based step number, so one compiled step serves every iteration):
    ```
    g  = grad + weight_decay * param            (Adam)
    p  = param * (1 - lr * weight_decay)        (AdamW; else p = param)
    m' = beta1 * m + (1 - beta1) * g
    v' = beta2 * v + (1 - beta2) * g^2
    param' = p - lr * (m' / (1 - beta1^step)) / (sqrt(v' / (1 - beta2^step)) + epsilon)
    ```
    and returns `(param', m', v')`. The optional 0-D operand `lr`
    multiplies `learning_rate` at run time (`lr` above is their product).

    ```mlir
    %w2, %m2, %v2 = tessel.adam_update %w, %dw, %m, %v, %t
                      {learning_rate = 1.0e-03 : f64}
                      : (tensor<10x84xf32>, tensor<10x84xf32>, tensor<10x84xf32>,
                         tensor<10x84xf32>, tensor<f32>)
                      -> (tensor<10x84xf32>, tensor<10x84xf32>, tensor<10x84xf32>)
    ```
  }];
  let arguments = (ins Tessel_Tensor:$param, Tessel_Tensor:$grad,
                   Tessel_Tensor:$m, Tessel_Tensor:$v, 0DTensorOf<[F16, BF16, F32, F64]>:$step,
                   Optional<0DTensorOf<[F16, BF16, F32, F64]>>:$lr,
                   F64Attr:$learning_rate,
                   DefaultValuedAttr<F64Attr, "0.9">:$beta1,
                   DefaultValuedAttr<F64Attr, "0.999">:$beta2,
                   DefaultValuedAttr<F64Attr, "1e-8">:$epsilon,
                   DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                   UnitAttr:$decoupled);
  let results = (outs Tessel_Tensor:$new_param, Tessel_Tensor:$new_m,
                 Tessel_Tensor:$new_v);
  let assemblyFormat = [{
    $param `,` $grad `,` $m `,` $v `,` $step (`lr` $lr^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // TESSEL_OPTIMIZER_OPS_TD
