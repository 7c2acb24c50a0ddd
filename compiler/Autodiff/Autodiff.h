//===- Autodiff.h - Differentiation of tessel graphs ------------*- C++ -*-===//
//
// Autodiff is a transform on the tessel dialect: it appends to a function
// the tessel ops that compute vector-Jacobian products (reverse mode) or
// Jacobian-vector products (forward mode), so derivatives go through the
// same lowering, tiling, fusion and vectorization as forward passes. The
// tessel-autodiff pass, tessel::gradient, tessel-run --wrt and the training
// steps build on buildGradients; the tessel-jvp pass, tessel::jvp,
// tessel::hvp and tessel-run --jvp/--hvp on buildTangents.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_AUTODIFF_AUTODIFF_H
#define TESSEL_COMPILER_AUTODIFF_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir::tessel {

/// Builds, at `b`'s insertion point (after every op of the graph), the
/// gradient of `sum_i <seeds[i], outputs[i]>` with respect to each value of
/// `wrt` (function arguments or results of ops, float tensors). A value the
/// outputs do not depend on gets a zero gradient. `wrtNames` names the wrt
/// values in diagnostics. Fails with a diagnostic naming the op that has no
/// gradient rule or the wrt value that is not a float tensor.
FailureOr<SmallVector<Value>> buildGradients(OpBuilder &b, Location loc,
                                             ArrayRef<Value> outputs,
                                             ArrayRef<Value> seeds,
                                             ArrayRef<Value> wrt,
                                             ArrayRef<std::string> wrtNames);

/// Builds, at `b`'s insertion point (after every op of the graph), the
/// tangents of `outputs` when each value of `wrt` moves along the matching
/// value of `tangents` (of its type): the Jacobian-vector products. An
/// output that does not depend on any wrt value gets a zero tangent. Fails
/// with a diagnostic naming the op that has no tangent rule.
FailureOr<SmallVector<Value>> buildTangents(OpBuilder &b, Location loc,
                                            ArrayRef<Value> wrt,
                                            ArrayRef<Value> tangents,
                                            ArrayRef<Value> outputs);

/// The name of a function argument or result: its `tessel.name` attribute,
/// else `arg<i>` / `result<i>`.
std::string getArgumentName(func::FuncOp fn, unsigned i);
std::string getResultName(func::FuncOp fn, unsigned i);

struct DifferentiateOptions {
  /// Outputs to differentiate, by name; empty means the only output.
  std::vector<std::string> outputs;
  /// Values to differentiate with respect to, by name: arguments, or
  /// constants carrying a `tessel.name` attribute (ONNX initializers); empty
  /// means every float argument.
  std::vector<std::string> wrt;
  /// Take each output's cotangent as a new argument `seed_<output>` instead
  /// of requiring a scalar output (whose cotangent is 1).
  bool seedsAsInputs = false;
};

/// The indices of the results of `fn` named `names` (empty: the only
/// result). Emits an error naming `optionName` and the known outputs on an
/// unknown or repeated name.
FailureOr<SmallVector<unsigned>> lookupOutputs(func::FuncOp fn,
                                               ArrayRef<std::string> names,
                                               StringRef optionName);

/// The float tensors of `fn` named `names`: arguments by name or constants
/// carrying a `tessel.name` attribute. Empty `names` is filled with every
/// float argument's name. Emits an error on an unknown, repeated or
/// non-float name.
FailureOr<SmallVector<Value>> lookupDifferentiable(func::FuncOp fn,
                                                   std::vector<std::string> &names,
                                                   StringRef optionName);

/// Appends one result `grad_<name>` per wrt value to `fn` (a single-block
/// function of tessel ops), keeping its results. Emits an error at the
/// function and fails on a bad name, a non-scalar output without seeds, a
/// non-float wrt value or an op without a gradient rule; warns for a wrt
/// value the outputs do not depend on (its gradient is zero).
LogicalResult differentiateFunction(func::FuncOp fn,
                                    const DifferentiateOptions &options);

struct JvpOptions {
  /// Values given a tangent, by name (as DifferentiateOptions::wrt); empty
  /// means every float argument.
  std::vector<std::string> wrt;
  /// Outputs whose tangent to return, by name; empty means every float
  /// output.
  std::vector<std::string> outputs;
  /// The name of the result holding the tangent of output `name`.
  std::function<std::string(StringRef)> resultName = [](StringRef name) {
    return ("jvp_" + name).str();
  };
};

/// Appends to `fn` one argument `tangent_<name>` per wrt value and one result
/// (named by `resultName`) per chosen output holding its Jacobian-vector
/// product, keeping the function's arguments and results. Emits an error at
/// the function and fails on a bad name or an op without a tangent rule.
LogicalResult jvpFunction(func::FuncOp fn, const JvpOptions &options);

/// Forward over reverse: appends `grad_<name>` results as
/// differentiateFunction does, then arguments `tangent_<name>` (the vector
/// v, per wrt value) and results `hvp_<name>`: the Hessian of
/// sum_o <seed_o, o> times v, the tangent of each gradient.
LogicalResult hvpFunction(func::FuncOp fn, const DifferentiateOptions &options);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_AUTODIFF_AUTODIFF_H
