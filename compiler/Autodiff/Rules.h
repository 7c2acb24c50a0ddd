//===- Rules.h - Gradient rules of the tessel ops ---------------*- C++ -*-===//
//
// A gradient rule builds, for one forward op, the gradients of its operands
// from the gradients of its results (vector-Jacobian products, reverse
// mode); a tangent rule builds the tangents of its results from the tangents
// of its operands (Jacobian-vector products, forward mode). Each op family
// registers both kinds from its own file.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_AUTODIFF_RULES_H
#define TESSEL_COMPILER_AUTODIFF_RULES_H

#include "compiler/Autodiff/GradientBuilder.h"
#include "dialects/tessel/IR/Builders.h"
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

/// What a tangent rule sees: the op and the tangent of each operand (null
/// where the operand does not depend on the values given tangents).
struct TangentRequest {
  Operation *op;
  ArrayRef<Value> operandTangents;
};

/// Fills `resultTangents` (one entry per result, null meaning zero).
/// Returns failure after emitting a diagnostic at the op.
using TangentRule = std::function<LogicalResult(
    GradientBuilder &, const TangentRequest &, SmallVectorImpl<Value> &)>;

using TangentRuleTable = llvm::StringMap<TangentRule>;

/// Registers the tangent rule of a single-result op type: `fn(gb, op,
/// operandTangents)` returns the result's tangent (null for zero).
template <typename OpTy, typename Fn>
void addTangentRule(TangentRuleTable &table, Fn fn) {
  table[OpTy::getOperationName()] = [fn](GradientBuilder &gb,
                                         const TangentRequest &request,
                                         SmallVectorImpl<Value> &tangents) {
    tangents[0] = fn(gb, cast<OpTy>(request.op), request.operandTangents);
    return failure(gb.failed());
  };
}

/// `op` built again on `operands` with the same attributes (fewer operands
/// drop optional trailing ones, such as a bias).
template <typename OpTy>
Value recreate(GradientBuilder &gb, OpTy op, ValueRange operands) {
  PropertiesOf<OpTy> p = op.getProperties();
  return gb.create1<OpTy>(operands, p);
}

/// The tangent of an op linear in its float operands together (reshapes,
/// slices, concat, sums, upsampling, ...): the op applied to the tangents,
/// zeros standing in for operands without one. Null when no operand has a
/// tangent.
template <typename OpTy>
Value linearTangent(GradientBuilder &gb, OpTy op, ArrayRef<Value> tangents) {
  if (llvm::all_of(tangents, [](Value t) { return !t; }))
    return {};
  SmallVector<Value> operands;
  for (auto [operand, tangent] : llvm::zip_equal(op->getOperands(), tangents)) {
    auto type = cast<RankedTensorType>(operand.getType());
    if (tangent || !isa<FloatType>(type.getElementType()))
      operands.push_back(tangent ? tangent : operand);
    else
      operands.push_back(gb.splat(0.0, type));
  }
  return recreate(gb, op, operands);
}

/// `a + c` where either may be null (zero).
inline Value addTangents(GradientBuilder &gb, Value a, Value c) {
  if (!a)
    return c;
  if (!c)
    return a;
  return gb.add(a, c);
}

/// The tangent of an op bilinear in its first two operands (conv,
/// conv_transpose, conv_backward_filter, linear, matmul), further operands
/// such as a bias aside: op(da, b) + op(a, db).
template <typename OpTy>
Value bilinearTangent(GradientBuilder &gb, OpTy op, ArrayRef<Value> tangents) {
  Value a = op->getOperand(0), b = op->getOperand(1);
  Value t;
  if (tangents[0])
    t = recreate(gb, op, {tangents[0], b});
  if (tangents[1])
    t = addTangents(gb, t, recreate(gb, op, {a, tangents[1]}));
  return t;
}

/// Every op family's rules of both kinds.
struct RuleTables {
  RuleTable gradients;
  TangentRuleTable tangents;
};
const RuleTables &getRuleTables();

void registerConvRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerPoolRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerNormRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerElementwiseRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerLinearRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerTensorRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerResampleRules(RuleTable &vjp, TangentRuleTable &jvp);
void registerReductionRules(RuleTable &vjp, TangentRuleTable &jvp);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_AUTODIFF_RULES_H
