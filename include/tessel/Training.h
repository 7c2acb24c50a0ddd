//===- Training.h - Gradients, optimizers and training steps ----*- C++ -*-===//
//
// Autodiff in Tessel is a transform on the graph: gradient() returns a new
// graph that also computes gradients (reverse mode), jvp() one that computes
// Jacobian-vector products (forward mode) and hvp() Hessian-vector products,
// all with ordinary tessel ops that are compiled like the forward ones. trainingStep() adds an optimizer update
// per parameter, so forward, backward and update compile into one function;
// Trainer holds the parameters and optimizer state and runs that function.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TRAINING_H
#define TESSEL_TRAINING_H

#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessel {

/// A copy of `graph` whose outputs are `graph`'s outputs followed by one
/// output `grad_<name>` per value of `wrt`: the gradient of the scalar
/// `loss` (a value with one element) with respect to it. `wrt` holds inputs
/// (named by their input name), constants or intermediate values (named
/// `v<id>`); they must be float tensors. A value the loss does not depend
/// on gets a zero gradient. Handles of `graph` stay valid in the copy.
/// Errors: an invalid graph, a non-scalar or non-float loss, a non-float wrt
/// value, or an op on the way without a gradient rule (named).
Result<Graph> gradient(const Graph &graph, Value loss, const std::vector<Value> &wrt);

/// Compiles the vector-Jacobian product of a model file (.mlir, .onnx,
/// .onnxtxt; `function` as for compileFile): the function's outputs, then
/// one output `grad_<name>` per name in `wrt` (inputs by name; ONNX
/// initializers by their name too, as constants) holding the gradient of
/// sum_o <seed_o, o> over every output o. Each output's cotangent is an
/// extra input `seed_<output>`; seeds of ones give the gradient of the sum
/// of the outputs (of a scalar loss: its plain gradient).
Result<Executable> compileFileGradient(const std::string &path,
                                       const std::vector<std::string> &wrt,
                                       const CompileOptions &options = {},
                                       const std::string &function = "");

/// An optimizer applied to every parameter (PyTorch's semantics).
/// `learningRate` is the initial rate: a compiled step reads the rate from
/// its input `optimizer.lr`, so schedulers change it without recompiling.
struct Optimizer {
  enum class Kind { Sgd, Adam };
  Kind kind = Kind::Sgd;
  double learningRate = 0.01;
  double momentum = 0.0;    // SGD
  bool nesterov = false;    // SGD
  double beta1 = 0.9;       // Adam
  double beta2 = 0.999;     // Adam
  double epsilon = 1e-8;    // Adam
  bool decoupled = false;   // Adam: AdamW's decoupled weight decay
  double weightDecay = 0.0; // both
  /// Weight decay of the named parameters, overriding weightDecay (PyTorch's
  /// parameter groups; e.g. 0 for biases and batch-norm weights).
  std::map<std::string, double> parameterWeightDecay;
  /// When positive, the gradients are scaled together so that their joint
  /// L2 norm is at most this before the update
  /// (torch.nn.utils.clip_grad_norm_).
  double maxGradNorm = 0.0;

  static Optimizer sgd(double learningRate, double momentum = 0.0,
                       double weightDecay = 0.0, bool nesterov = false);
  static Optimizer adam(double learningRate = 1e-3, double weightDecay = 0.0,
                        bool decoupled = false);
};

/// A copy of `graph` with one more input `tangent_<name>` per value of
/// `wrt` (of that value's shape; names as for gradient()) and, after
/// `graph`'s outputs, one output `jvp_<output>` per output: the
/// Jacobian-vector product, the derivative of the output when each wrt
/// value moves along its tangent (forward mode). Values not in `wrt` have
/// tangent zero. Errors: an invalid graph, a non-float or repeated wrt
/// value, or an op on the way without a tangent rule (named).
Result<Graph> jvp(const Graph &graph, const std::vector<Value> &wrt);

/// Hessian-vector products by forward over reverse: gradient(graph, loss,
/// wrt) with one more input `tangent_<name>` per wrt value (the vector v,
/// split by value) and, after the `grad_<name>` outputs, one output
/// `hvp_<name>` per wrt value: the part of H v for that value, H the Hessian
/// of the scalar `loss` with respect to all of `wrt`.
Result<Graph> hvp(const Graph &graph, Value loss, const std::vector<Value> &wrt);

/// Compiles the Jacobian-vector product of a model file (arguments as for
/// compileFileGradient): the function's outputs, then `jvp_<output>` per
/// output; one more input `tangent_<name>` per name in `wrt` (inputs, or
/// ONNX initializers as constants). Values not named have tangent zero.
Result<Executable> compileFileJvp(const std::string &path,
                                  const std::vector<std::string> &wrt,
                                  const CompileOptions &options = {},
                                  const std::string &function = "");

/// Compiles the Hessian-vector product of a model file: compileFileGradient's
/// function (cotangent inputs `seed_<output>`, outputs `grad_<name>`) with
/// one more input `tangent_<name>` per name in `wrt` and outputs
/// `hvp_<name>`: the Hessian of sum_o <seed_o, o> with respect to `wrt`
/// times the tangents.
Result<Executable> compileFileHvp(const std::string &path,
                                  const std::vector<std::string> &wrt,
                                  const CompileOptions &options = {},
                                  const std::string &function = "");

/// One training step as a graph. Inputs: `graph`'s inputs, then, for Adam,
/// `optimizer.step` (0-D, the 1-based step number), then `optimizer.lr`
/// (0-D, the learning rate), then the optimizer state of each parameter
/// (`<p>.velocity` for SGD; `<p>.m`, `<p>.v` for Adam). Outputs: `loss`,
/// the updated parameters under their input names, the updated state under
/// the state inputs' names, then the outputs of `graph` named as one of its
/// inputs (a new value of that input: batch norm's running statistics);
/// each of these is tied to its input (TensorInfo::updates once compiled),
/// so that Executable::runInPlace updates the inputs without a copy.
/// `parameters` must be inputs of `graph`; `loss` must be a scalar.
Result<Graph> trainingStep(const Graph &graph, Value loss,
                           const std::vector<Value> &parameters,
                           const Optimizer &optimizer);

/// Trains the parameters of a graph: compiles its training step once and
/// keeps the parameters and optimizer state between steps.
class Trainer {
public:
  /// `parameters` maps input names of `graph` to their initial values (the
  /// Trainer keeps its own copies); every other input is fed per batch.
  static Result<Trainer> create(const Graph &graph, Value loss,
                                const std::map<std::string, Tensor> &parameters,
                                const Optimizer &optimizer,
                                const CompileOptions &options = {});
  /// Runs forward, backward and update on one batch (the non-parameter
  /// inputs by name). The parameter tensors are updated in place: tensors
  /// obtained from parameter() see the new values. Returns the batch loss
  /// before the update.
  Result<float> step(const std::map<std::string, Tensor> &batch);
  /// The current value of a parameter (shares the Trainer's memory), or an
  /// empty tensor for an unknown name.
  Tensor parameter(const std::string &name) const;
  /// Every parameter by name (sharing the Trainer's memory).
  std::map<std::string, Tensor> parameters() const;
  /// Steps run so far.
  int64_t steps() const;
  /// The learning rate of the next steps (the optimizer's until set); a
  /// non-positive or non-finite rate is an error and changes nothing.
  Status setLearningRate(double rate);
  double learningRate() const;

  struct Impl;
  explicit Trainer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace tessel

#endif // TESSEL_TRAINING_H
