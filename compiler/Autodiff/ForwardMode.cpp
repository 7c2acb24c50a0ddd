//===- ForwardMode.cpp - Forward-mode differentiation of tessel graphs ----===//
//
// buildTangents walks the graph forwards from the values given tangents and
// asks each op's tangent rule (Rules.h) for the tangents of its results.
// Only ops that read a value with a tangent are visited, so ops elsewhere
// (running statistics, optimizer updates of other values) need no rule.
// Hessian-vector products run it over a gradient graph: the tangent of a
// gradient along v is the Hessian times v.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Autodiff.h"
#include "compiler/Autodiff/Rules.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tessel;

FailureOr<SmallVector<Value>>
mlir::tessel::buildTangents(OpBuilder &b, Location loc, ArrayRef<Value> wrt,
                            ArrayRef<Value> tangents, ArrayRef<Value> outputs) {
  Block *block = b.getInsertionBlock();
  SmallVector<Operation *> forward;
  for (Operation &op : llvm::make_range(block->begin(), b.getInsertionPoint()))
    forward.push_back(&op);

  // The callers reject a wrt value named twice.
  DenseMap<Value, Value> tangentOf;
  for (auto [v, t] : llvm::zip_equal(wrt, tangents))
    tangentOf.try_emplace(v, t);
  GradientBuilder gb(b, loc);

  const TangentRuleTable &rules = getRuleTables().tangents;
  for (Operation *op : forward) {
    SmallVector<Value> operandTangents;
    for (Value v : op->getOperands())
      operandTangents.push_back(tangentOf.lookup(v));
    if (llvm::none_of(operandTangents, [](Value t) { return static_cast<bool>(t); }))
      continue;
    auto rule = rules.find(op->getName().getStringRef());
    if (rule == rules.end())
      return op->emitError() << "no tangent rule for '" << op->getName()
                             << "': it lies between the values given tangents and "
                                "the differentiated outputs",
             failure();
    gb.setLoc(op->getLoc());
    SmallVector<Value> resultTangents(op->getNumResults());
    if (failed(rule->second(gb, TangentRequest{op, operandTangents}, resultTangents)))
      return op->emitError() << "building the tangent of '" << op->getName()
                             << "' failed",
             failure();
    for (auto [i, t] : llvm::enumerate(resultTangents)) {
      if (!t)
        continue;
      if (t.getType() != op->getResult(i).getType())
        return op->emitError() << "internal error: the tangent of result #" << i
                               << " has type " << t.getType() << ", expected "
                               << op->getResult(i).getType(),
               failure();
      // A wrt value defined by an op (a named constant) keeps its seed.
      tangentOf.try_emplace(op->getResult(i), t);
    }
    if (gb.failed())
      return failure();
  }

  SmallVector<Value> result;
  gb.setLoc(loc);
  for (Value v : outputs) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !isa<FloatType>(type.getElementType()))
      return emitError(loc) << "an output of type " << v.getType()
                            << " has no tangent: only float tensors do",
             failure();
    Value t = tangentOf.lookup(v);
    result.push_back(t ? t : gb.splat(0.0, type));
  }
  if (gb.failed())
    return failure();
  return result;
}

/// Adds to `fn` an argument `tangent_<name>` per value of `wrt`, builds the
/// tangents of the results at `outputIndices` before the return and appends
/// them as results named by `resultName`.
static LogicalResult appendTangents(func::FuncOp fn, ArrayRef<Value> wrt,
                                    ArrayRef<std::string> wrtNames,
                                    ArrayRef<unsigned> outputIndices,
                                    function_ref<std::string(StringRef)> resultName) {
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  OpBuilder b(ret);
  Location loc = fn.getLoc();
  SmallVector<Value> tangents;
  for (auto [v, name] : llvm::zip_equal(wrt, wrtNames)) {
    unsigned at = fn.getNumArguments();
    if (failed(fn.insertArgument(
            at, v.getType(),
            b.getDictionaryAttr(b.getNamedAttr(TesselDialect::kNameAttrName,
                                               b.getStringAttr("tangent_" + name))),
            loc)))
      return failure();
    tangents.push_back(fn.getArgument(at));
  }
  SmallVector<Value> outputs;
  for (unsigned index : outputIndices) {
    Value output = ret.getOperand(index);
    auto type = dyn_cast<RankedTensorType>(output.getType());
    if (!type || !isa<FloatType>(type.getElementType()))
      return fn.emitError() << "output '" << getResultName(fn, index) << "' has type "
                            << output.getType()
                            << "; only float tensors have tangents";
    outputs.push_back(output);
  }
  auto result = buildTangents(b, loc, wrt, tangents, outputs);
  if (failed(result))
    return failure();
  SmallVector<Value> results(ret.getOperands());
  for (auto [index, t] : llvm::zip_equal(outputIndices, *result)) {
    unsigned at = fn.getNumResults();
    std::string name = resultName(getResultName(fn, index));
    if (failed(fn.insertResult(
            at, t.getType(),
            b.getDictionaryAttr(
                b.getNamedAttr(TesselDialect::kNameAttrName, b.getStringAttr(name))))))
      return failure();
    results.push_back(t);
  }
  ret->setOperands(results);
  return success();
}

LogicalResult mlir::tessel::jvpFunction(func::FuncOp fn, const JvpOptions &options) {
  if (!fn.getBody().hasOneBlock() ||
      !isa<func::ReturnOp>(fn.getBody().front().getTerminator()))
    return fn.emitError("forward-mode autodiff needs a function of one block ending "
                        "in func.return");
  SmallVector<unsigned> outputIndices;
  if (options.outputs.empty()) {
    // Every output that can have a tangent (not integer indices).
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      if (auto type = dyn_cast<RankedTensorType>(fn.getResultTypes()[i]);
          type && isa<FloatType>(type.getElementType()))
        outputIndices.push_back(i);
  } else {
    auto found = lookupOutputs(fn, options.outputs, "outputs");
    if (failed(found))
      return failure();
    outputIndices = *found;
  }
  std::vector<std::string> wrtNames = options.wrt;
  auto wrt = lookupDifferentiable(fn, wrtNames, "wrt");
  if (failed(wrt))
    return failure();
  return appendTangents(fn, *wrt, wrtNames, outputIndices, options.resultName);
}

LogicalResult mlir::tessel::hvpFunction(func::FuncOp fn,
                                        const DifferentiateOptions &options) {
  // The wrt values are looked up first: differentiation adds seed arguments.
  DifferentiateOptions reverse = options;
  auto wrt = lookupDifferentiable(fn, reverse.wrt, "wrt");
  if (failed(wrt))
    return failure();
  unsigned before = fn.getNumResults();
  if (failed(differentiateFunction(fn, reverse)))
    return failure();
  ArrayRef<std::string> wrtNames = reverse.wrt;
  SmallVector<unsigned> gradients;
  for (unsigned i = before; i < fn.getNumResults(); ++i)
    gradients.push_back(i);
  return appendTangents(fn, *wrt, wrtNames, gradients, [](StringRef name) {
    return ("hvp_" + name.drop_front(StringRef("grad_").size())).str();
  });
}
