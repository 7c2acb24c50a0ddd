//===- Rules.h - Gradient rules of the tessel ops ---------------*- C++ -*-===//
//
// A rule builds, for one forward op, the gradients of its operands from the
// gradients of its results (vector-Jacobian products). Each op family
// registers its rules from its own file.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_AUTODIFF_RULES_H
#define TESSEL_COMPILER_AUTODIFF_RULES_H

#include "compiler/Autodiff/GradientBuilder.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "llvm/ADT/StringMap.h"

#include <functional>

namespace mlir::tessel {

/// What a rule sees: the op, the gradient of each result (null where the
/// loss does not depend on that result) and which operands need one.
struct GradientRequest {
  Operation *op;
  ArrayRef<Value> resultGrads;
  ArrayRef<bool> needed;
};

/// Fills `operandGrads` (one entry per operand, null meaning no
/// contribution) for the operands marked needed. Returns failure after
/// emitting a diagnostic at the op.
using GradientRule = std::function<LogicalResult(
    GradientBuilder &, const GradientRequest &, SmallVectorImpl<Value> &)>;

using RuleTable = llvm::StringMap<GradientRule>;

/// Registers the rules of a single-result op type: `fn(gb, op, resultGrad,
/// needed, operandGrads)`.
template <typename OpTy, typename Fn>
void addRule(RuleTable &table, Fn fn) {
  table[OpTy::getOperationName()] = [fn](GradientBuilder &gb,
                                         const GradientRequest &request,
                                         SmallVectorImpl<Value> &grads) {
    fn(gb, cast<OpTy>(request.op), request.resultGrads.front(), request.needed,
       grads);
    return failure(gb.failed());
  };
}

void registerConvRules(RuleTable &table);
void registerPoolRules(RuleTable &table);
void registerNormRules(RuleTable &table);
void registerElementwiseRules(RuleTable &table);
void registerLinearRules(RuleTable &table);
void registerTensorRules(RuleTable &table);
void registerResampleRules(RuleTable &table);
void registerReductionRules(RuleTable &table);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_AUTODIFF_RULES_H
