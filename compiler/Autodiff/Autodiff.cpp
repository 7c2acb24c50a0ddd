//===- Autodiff.cpp - Reverse-mode differentiation of tessel graphs -------===//
//
// buildGradients walks the graph backwards from the outputs, asks each op's
// rule (Rules.h) for the gradients of its operands and sums the gradients
// that reach a value along several paths. Only ops on a path from a wrt
// value to an output are visited, so ops elsewhere in the graph (running
// statistics, other outputs) need no rule.
//
//===----------------------------------------------------------------------===//

#include "compiler/Autodiff/Autodiff.h"
#include "compiler/Autodiff/Rules.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tessel;

const RuleTables &mlir::tessel::getRuleTables() {
  static const RuleTables tables = [] {
    RuleTables t;
    registerConvRules(t.gradients, t.tangents);
    registerPoolRules(t.gradients, t.tangents);
    registerNormRules(t.gradients, t.tangents);
    registerElementwiseRules(t.gradients, t.tangents);
    registerLinearRules(t.gradients, t.tangents);
    registerTensorRules(t.gradients, t.tangents);
    registerResampleRules(t.gradients, t.tangents);
    registerReductionRules(t.gradients, t.tangents);
    return t;
  }();
  return tables;
}

static bool isFloatTensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && isa<FloatType>(type.getElementType());
}

/// Gradients of wrt[i], plus whether the outputs depend on it at all.
static FailureOr<SmallVector<Value>>
buildGradientsImpl(OpBuilder &b, Location loc, ArrayRef<Value> outputs,
                   ArrayRef<Value> seeds, ArrayRef<Value> wrt,
                   ArrayRef<std::string> wrtNames, SmallVectorImpl<bool> &reached) {
  for (auto [i, v] : llvm::enumerate(wrt)) {
    if (!isFloatTensor(v))
      return emitError(loc) << "cannot differentiate with respect to '"
                            << (i < wrtNames.size() ? wrtNames[i] : "?")
                            << "': its type " << v.getType()
                            << " is not a float tensor",
             failure();
  }
  Block *block = b.getInsertionBlock();
  SmallVector<Operation *> forward;
  for (Operation &op : llvm::make_range(block->begin(), b.getInsertionPoint()))
    forward.push_back(&op);

  // Values that depend on a wrt value, and ops an output depends on.
  DenseSet<Value> active(wrt.begin(), wrt.end());
  for (Operation *op : forward)
    if (llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
      for (Value r : op->getResults())
        if (isFloatTensor(r))
          active.insert(r);
  DenseSet<Value> wanted(outputs.begin(), outputs.end());
  for (Operation *op : llvm::reverse(forward))
    if (llvm::any_of(op->getResults(), [&](Value v) { return wanted.contains(v); }))
      for (Value v : op->getOperands())
        if (active.contains(v))
          wanted.insert(v);

  DenseMap<Value, Value> grads;
  GradientBuilder gb(b, loc);
  auto accumulate = [&](Value v, Value g) {
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted) {
      gb.setLoc(v.getLoc());
      it->second = gb.add(it->second, g);
    }
  };
  for (auto [output, seed] : llvm::zip_equal(outputs, seeds))
    if (active.contains(output))
      accumulate(output, seed);

  const RuleTable &rules = getRuleTables().gradients;
  for (Operation *op : llvm::reverse(forward)) {
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      resultGrads.push_back(grads.lookup(r));
      any |= static_cast<bool>(resultGrads.back());
    }
    SmallVector<bool> needed;
    for (Value v : op->getOperands())
      needed.push_back(wanted.contains(v));
    if (!any || llvm::none_of(needed, [](bool n) { return n; }))
      continue;
    auto rule = rules.find(op->getName().getStringRef());
    if (rule == rules.end())
      return op->emitError() << "no gradient rule for '" << op->getName()
                             << "': it lies between the differentiated outputs "
                                "and the values to differentiate with respect to",
             failure();
    gb.setLoc(op->getLoc());
    SmallVector<Value> operandGrads(op->getNumOperands());
    if (failed(rule->second(gb, GradientRequest{op, resultGrads, needed}, operandGrads)))
      return op->emitError() << "building the gradient of '" << op->getName()
                             << "' failed",
             failure();
    for (auto [i, g] : llvm::enumerate(operandGrads)) {
      if (!needed[i] || !g)
        continue;
      if (g.getType() != op->getOperand(i).getType())
        return op->emitError() << "internal error: the gradient of operand #" << i
                               << " has type " << g.getType() << ", expected "
                               << op->getOperand(i).getType(),
               failure();
      accumulate(op->getOperand(i), g);
    }
    if (gb.failed())
      return failure();
  }

  SmallVector<Value> result;
  gb.setLoc(loc);
  for (Value v : wrt) {
    Value g = grads.lookup(v);
    reached.push_back(static_cast<bool>(g));
    result.push_back(g ? g : gb.splat(0.0, cast<RankedTensorType>(v.getType())));
  }
  if (gb.failed())
    return failure();
  return result;
}

FailureOr<SmallVector<Value>>
mlir::tessel::buildGradients(OpBuilder &b, Location loc, ArrayRef<Value> outputs,
                             ArrayRef<Value> seeds, ArrayRef<Value> wrt,
                             ArrayRef<std::string> wrtNames) {
  SmallVector<bool> reached;
  return buildGradientsImpl(b, loc, outputs, seeds, wrt, wrtNames, reached);
}

std::string mlir::tessel::getArgumentName(func::FuncOp fn, unsigned i) {
  if (auto name = fn.getArgAttrOfType<StringAttr>(i, TesselDialect::kNameAttrName))
    return name.str();
  return "arg" + std::to_string(i);
}

std::string mlir::tessel::getResultName(func::FuncOp fn, unsigned i) {
  if (auto name = fn.getResultAttrOfType<StringAttr>(i, TesselDialect::kNameAttrName))
    return name.str();
  return "result" + std::to_string(i);
}

FailureOr<SmallVector<unsigned>>
mlir::tessel::lookupOutputs(func::FuncOp fn, ArrayRef<std::string> names,
                            StringRef optionName) {
  SmallVector<unsigned> indices;
  if (names.empty()) {
    if (fn.getNumResults() != 1)
      return fn.emitError() << "function '" << fn.getName() << "' has "
                            << fn.getNumResults()
                            << " outputs; name the one(s) to differentiate",
             failure();
    indices.push_back(0);
  }
  std::vector<std::string> known;
  for (unsigned i = 0; i < fn.getNumResults(); ++i)
    known.push_back(getResultName(fn, i));
  for (auto [position, name] : llvm::enumerate(names)) {
    if (llvm::is_contained(names.take_front(position), name))
      return fn.emitError() << "output '" << name << "' is named twice in "
                            << optionName,
             failure();
    auto it = llvm::find(known, name);
    if (it == known.end())
      return fn.emitError() << "function '" << fn.getName() << "' has no output named '"
                            << name << "' (outputs: " << llvm::join(known, ", ") << ")",
             failure();
    indices.push_back(it - known.begin());
  }
  return indices;
}

FailureOr<SmallVector<Value>>
mlir::tessel::lookupDifferentiable(func::FuncOp fn, std::vector<std::string> &names,
                                   StringRef optionName) {
  if (names.empty())
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (isFloatTensor(fn.getArgument(i)))
        names.push_back(getArgumentName(fn, i));
  SmallVector<Value> values;
  for (size_t position = 0; position < names.size(); ++position) {
    const std::string &name = names[position];
    if (llvm::is_contained(ArrayRef(names).take_front(position), name))
      return fn.emitError() << "'" << name << "' is named twice in " << optionName,
             failure();
    Value found;
    std::vector<std::string> known;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      known.push_back(getArgumentName(fn, i));
      if (known.back() == name)
        found = fn.getArgument(i);
    }
    fn.walk([&](Operation *op) {
      if (auto attr = op->getAttrOfType<StringAttr>(TesselDialect::kNameAttrName)) {
        known.push_back(attr.str());
        if (!found && attr.getValue() == name && op->getNumResults() == 1)
          found = op->getResult(0);
      }
    });
    if (!found)
      return fn.emitError() << "function '" << fn.getName()
                            << "' has no input or named constant '" << name
                            << "' to differentiate with respect to (known: "
                            << llvm::join(known, ", ") << ")",
             failure();
    if (!isFloatTensor(found))
      return fn.emitError() << "cannot differentiate with respect to '" << name
                            << "': its type " << found.getType()
                            << " is not a float tensor",
             failure();
    values.push_back(found);
  }
  return values;
}

LogicalResult mlir::tessel::differentiateFunction(func::FuncOp fn,
                                                  const DifferentiateOptions &options) {
  if (!fn.getBody().hasOneBlock())
    return fn.emitError("autodiff needs a function with one block");
  auto ret = dyn_cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  if (!ret)
    return fn.emitError("autodiff needs a function ending in func.return");
  auto outputIndices = lookupOutputs(fn, options.outputs, "loss");
  if (failed(outputIndices))
    return failure();
  std::vector<std::string> wrtNames = options.wrt;
  auto wrt = lookupDifferentiable(fn, wrtNames, "wrt");
  if (failed(wrt))
    return failure();

  OpBuilder b(ret);
  Location loc = fn.getLoc();
  SmallVector<Value> outputs, seeds;
  for (unsigned index : *outputIndices) {
    Value output = ret.getOperand(index);
    auto type = dyn_cast<RankedTensorType>(output.getType());
    std::string name = getResultName(fn, index);
    if (!type || !isa<FloatType>(type.getElementType()))
      return fn.emitError() << "output '" << name << "' has type " << output.getType()
                            << "; only float tensors can be differentiated";
    outputs.push_back(output);
    if (options.seedsAsInputs) {
      unsigned at = fn.getNumArguments();
      if (failed(fn.insertArgument(
              at, type,
              b.getDictionaryAttr(b.getNamedAttr(
                  TesselDialect::kNameAttrName, b.getStringAttr("seed_" + name))),
              loc)))
        return failure();
      seeds.push_back(fn.getArgument(at));
      continue;
    }
    if (type.getNumElements() != 1)
      return fn.emitError() << "output '" << name << "' has shape "
                            << formatArray(type.getShape())
                            << ", but a loss must be a scalar (one element); "
                               "give its cotangent instead (tessel-run --vjp, "
                               "seeds-as-inputs)";
    GradientBuilder gb(b, loc);
    seeds.push_back(gb.splat(1.0, type));
  }

  SmallVector<bool> reached;
  auto grads = buildGradientsImpl(b, loc, outputs, seeds, *wrt, wrtNames, reached);
  if (failed(grads))
    return failure();
  for (auto [name, hit] : llvm::zip_equal(wrtNames, reached))
    if (!hit)
      fn.emitWarning() << "the differentiated outputs do not depend on '" << name
                       << "'; its gradient is zero";

  SmallVector<Value> results(ret.getOperands());
  for (auto [name, g] : llvm::zip_equal(wrtNames, *grads)) {
    unsigned at = fn.getNumResults();
    if (failed(fn.insertResult(
            at, g.getType(),
            b.getDictionaryAttr(b.getNamedAttr(TesselDialect::kNameAttrName,
                                               b.getStringAttr("grad_" + name))))))
      return failure();
    results.push_back(g);
  }
  ret->setOperands(results);
  return success();
}
