// RUN: tessel-opt --split-input-file --tessel-to-linalg %s | FileCheck %s
//
// The lowering of the optimizer family (OptimizerToLinalg.cpp): one
// elementwise generic per update whose outs are the parameter and the state
// it updates (bufferization then writes them in place), as torch.optim.

// SGD with weight decay and Nesterov momentum:
//   g' = g + wd * w;  v' = momentum * v + g';  w' = w - lr * (g' + momentum * v').
// CHECK-LABEL: func @sgd_nesterov
// CHECK: %{{.+}}:2 = linalg.generic {{.*}} ins(%[[G:.+]] : tensor<4xf32>) outs(%[[W:.+]], %[[V:.+]] : tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[g:.+]]: f32, %[[w:.+]]: f32, %[[v:.+]]: f32):
// CHECK: %[[WD:.+]] = arith.constant 0.00999999977 : f32
// CHECK: %[[DECAY:.+]] = arith.mulf %[[WD]], %[[w]] : f32
// CHECK: %[[GRAD:.+]] = arith.addf %[[g]], %[[DECAY]] : f32
// CHECK: %[[MOM:.+]] = arith.mulf %{{.+}}, %[[v]] : f32
// CHECK: %[[VNEW:.+]] = arith.addf %[[MOM]], %[[GRAD]] : f32
// CHECK: %[[LOOK:.+]] = arith.mulf %{{.+}}, %[[VNEW]] : f32
// CHECK: %[[STEP:.+]] = arith.addf %[[GRAD]], %[[LOOK]] : f32
// CHECK: %[[LR:.+]] = arith.constant 1.000000e-01 : f32
// CHECK: %[[SCALED:.+]] = arith.mulf %[[LR]], %[[STEP]] : f32
// CHECK: %[[WNEW:.+]] = arith.subf %[[w]], %[[SCALED]] : f32
// CHECK: linalg.yield %[[WNEW]], %[[VNEW]] : f32, f32
func.func @sgd_nesterov(%w: tensor<4xf32>, %g: tensor<4xf32>, %v: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0, %1 = tessel.sgd_update %w, %g, %v {learning_rate = 0.1 : f64, momentum = 0.9 : f64, weight_decay = 0.01 : f64, nesterov} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// AdamW (decoupled): w is first scaled by 1 - lr * wd = 0.99999; the moments
// update, the bias corrections read the 0-D step through the () map, and
// w' = w * 0.99999 - lr * m_hat / (sqrt(v_hat) + eps).
// CHECK-DAG: #[[E:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[STEP:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func @adam
// CHECK: linalg.generic {indexing_maps = [#[[E]], #[[STEP]], #[[E]], #[[E]], #[[E]]], iterator_types = ["parallel"]}
// CHECK-NEXT: ^bb0(%[[g:.+]]: f32, %[[t:.+]]: f32, %[[w:.+]]: f32, %[[m:.+]]: f32, %[[v:.+]]: f32):
// CHECK: %[[KEEP:.+]] = arith.constant 0.999989986 : f32
// CHECK: %[[DECAYED:.+]] = arith.mulf %[[w]], %[[KEEP]] : f32
// CHECK: %[[MNEW:.+]] = arith.addf
// CHECK: arith.mulf %[[g]], %[[g]] : f32
// CHECK: %[[VNEW:.+]] = arith.addf
// CHECK: math.powf %{{.+}}, %[[t]] : f32
// CHECK: %[[MHAT:.+]] = arith.divf %[[MNEW]], %{{.+}} : f32
// CHECK: math.powf %{{.+}}, %[[t]] : f32
// CHECK: %[[VHAT:.+]] = arith.divf %[[VNEW]], %{{.+}} : f32
// CHECK: %[[ROOT:.+]] = math.sqrt %[[VHAT]] : f32
// CHECK: %[[DEN:.+]] = arith.addf %[[ROOT]], %{{.+}} : f32
// CHECK: %[[RATIO:.+]] = arith.divf %[[MHAT]], %[[DEN]] : f32
// CHECK: %[[UPDATE:.+]] = arith.mulf %{{.+}}, %[[RATIO]] : f32
// CHECK: %[[WNEW:.+]] = arith.subf %[[DECAYED]], %[[UPDATE]] : f32
// CHECK: linalg.yield %[[WNEW]], %[[MNEW]], %[[VNEW]] : f32, f32, f32
func.func @adam(%w: tensor<4xf32>, %g: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>, %t: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0, %1, %2 = tessel.adam_update %w, %g, %m, %v, %t {learning_rate = 0.001 : f64, decoupled, weight_decay = 0.01 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A run-time rate: the 0-D `lr` is read through the () map and multiplies
// the attribute's rate before it scales the step.
// CHECK-DAG: #[[E:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[S:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func @sgd_runtime_rate
// CHECK: linalg.generic {indexing_maps = [#[[E]], #[[S]], #[[E]], #[[E]]], iterator_types = ["parallel"]}
// CHECK-NEXT: ^bb0(%[[g:.+]]: f32, %[[lr:.+]]: f32, %[[w:.+]]: f32, %[[v:.+]]: f32):
// CHECK: %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[RATE:.+]] = arith.mulf %[[HALF]], %[[lr]] : f32
// CHECK: %[[SCALED:.+]] = arith.mulf %[[RATE]], %{{.+}} : f32
// CHECK: %[[WNEW:.+]] = arith.subf %[[w]], %[[SCALED]] : f32
func.func @sgd_runtime_rate(%w: tensor<4xf32>, %g: tensor<4xf32>, %v: tensor<4xf32>, %lr: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0, %1 = tessel.sgd_update %w, %g, %v lr %lr {learning_rate = 0.5 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>)
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// AdamW with a run-time rate: the decay factor 1 - rate * wd is computed
// from it in the body.
// CHECK-LABEL: func @adamw_runtime_rate
// CHECK: ^bb0(%[[g:.+]]: f32, %[[t:.+]]: f32, %[[lr:.+]]: f32, %[[w:.+]]: f32, %[[m:.+]]: f32, %[[v:.+]]: f32):
// CHECK: %[[RATE:.+]] = arith.mulf %{{.+}}, %[[lr]] : f32
// CHECK: %[[DECAY:.+]] = arith.mulf %[[RATE]], %{{.+}} : f32
// CHECK: %[[KEEP:.+]] = arith.subf %{{.+}}, %[[DECAY]] : f32
// CHECK: arith.mulf %[[w]], %[[KEEP]] : f32
func.func @adamw_runtime_rate(%w: tensor<4xf32>, %g: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>, %t: tensor<f32>, %lr: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0, %1, %2 = tessel.adam_update %w, %g, %m, %v, %t lr %lr {learning_rate = 1.0 : f64, decoupled, weight_decay = 0.01 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
