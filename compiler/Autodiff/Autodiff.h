//===- Autodiff.h - Reverse-mode differentiation of tessel graphs -*- C++ -*-===//
//
// Autodiff is a transform on the tessel dialect: it appends to a function
// the tessel ops that compute vector-Jacobian products, so backward passes
// go through the same lowering, tiling, fusion and vectorization as forward
// ones. The tessel-autodiff pass, tessel::gradient, tessel-run --wrt and the
// training steps all build on buildGradients.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_AUTODIFF_AUTODIFF_H
#define TESSEL_COMPILER_AUTODIFF_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

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

/// Appends one result `grad_<name>` per wrt value to `fn` (a single-block
/// function of tessel ops), keeping its results. Emits an error at the
/// function and fails on a bad name, a non-scalar output without seeds, a
/// non-float wrt value or an op without a gradient rule; warns for a wrt
/// value the outputs do not depend on (its gradient is zero).
LogicalResult differentiateFunction(func::FuncOp fn,
                                    const DifferentiateOptions &options);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_AUTODIFF_AUTODIFF_H
