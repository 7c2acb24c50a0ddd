//===- Training.cpp - tessel::gradient, trainingStep and Trainer ----------===//
//
// Both transforms copy the graph (through its text, since each Graph owns
// its MLIR context), then append to the copy what buildGradients and the
// optimizer ops produce.
//
//===----------------------------------------------------------------------===//

#include "tessel/Training.h"

#include "compiler/API/GraphImpl.h"
#include "compiler/API/LearningRate.h"
#include "compiler/Autodiff/Autodiff.h"
#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace tessel;
namespace mt = mlir::tessel;

namespace {

/// Where a value of a function's body sits: (-1, argument index) or
/// (op index, result index).
using Position = std::pair<int, unsigned>;

Position positionOf(mlir::Value v, mlir::Block &body) {
  if (auto arg = llvm::dyn_cast<mlir::BlockArgument>(v))
    return {-1, arg.getArgNumber()};
  auto result = llvm::cast<mlir::OpResult>(v);
  int index = 0;
  for (mlir::Operation &op : body) {
    if (&op == result.getOwner())
      return {index, result.getResultNumber()};
    ++index;
  }
  return {-2, 0};
}

/// A copy of `graph` in a context of its own; value handles stay valid.
Result<Graph> copyGraph(const Graph &graph) {
  const Graph::Impl &src = graph.impl();
  Graph copy(src.name);
  Graph::Impl &dst = copy.impl();
  std::string text;
  llvm::raw_string_ostream os(text);
  src.finish()->print(os, mlir::OpPrintingFlags().printGenericOpForm());
  auto parsed = mlir::parseSourceString<mlir::ModuleOp>(text, dst.context.get());
  if (!parsed)
    return Result<Graph>::error("internal error: graph '" + src.name +
                                "' does not parse back");
  dst.module = std::move(parsed);
  dst.function = *dst.module->getOps<mlir::func::FuncOp>().begin();
  mlir::Block &body = dst.function.getBody().front();
  body.getTerminator()->erase();
  dst.function.setType(dst.builder.getFunctionType(body.getArgumentTypes(), {}));
  dst.builder.setInsertionPointToEnd(&body);

  std::vector<mlir::Operation *> ops;
  for (mlir::Operation &op : body)
    ops.push_back(&op);
  mlir::func::FuncOp srcFunction = src.function;
  mlir::Block &srcBody = srcFunction.getBody().front();
  for (mlir::Value v : src.values) {
    Position p = positionOf(v, srcBody);
    dst.values.push_back(p.first == -1 ? mlir::Value(body.getArgument(p.second))
                                       : ops[p.first]->getResult(p.second));
  }
  dst.inputNames = src.inputNames;
  dst.outputs = src.outputs;
  dst.opCount = src.opCount;
  dst.ancestors = src.ancestors;
  dst.ancestors.emplace_back(src.token, static_cast<int>(src.values.size()));
  return copy;
}

bool isValid(const Graph::Impl &g, Value v) { return g.owns(v); }

/// The name of a value in gradient outputs: its input name, else v<id>.
std::string valueName(const Graph::Impl &g, Value v) {
  if (auto arg = llvm::dyn_cast<mlir::BlockArgument>(g.values[v.id()]))
    return g.inputNames[arg.getArgNumber()];
  return "v" + std::to_string(v.id());
}

Value addValue(Graph::Impl &g, mlir::Value v) {
  g.values.push_back(v);
  return g.value(static_cast<int>(g.values.size()) - 1);
}

Value addInput(Graph::Impl &g, const std::string &name, mlir::Type type) {
  mlir::Block &body = g.function.getBody().front();
  mlir::Value arg = body.addArgument(type, g.function.getLoc());
  g.function.setType(g.builder.getFunctionType(body.getArgumentTypes(), {}));
  g.inputNames.push_back(name);
  return addValue(g, arg);
}

/// Checks that every wrt value is a float value of `graph`, named once;
/// `what` names the transform in the message.
Status checkWrt(const Graph::Impl &src, const std::vector<Value> &wrt,
                const std::string &what) {
  for (size_t i = 0; i < wrt.size(); ++i) {
    Value v = wrt[i];
    if (!isValid(src, v))
      return Status::error(what + " of graph '" + src.name +
                           "': a wrt value is not a value of it");
    if (!llvm::cast<mlir::RankedTensorType>(src.values[v.id()].getType())
             .getElementType()
             .isF32())
      return Status::error(what + " of graph '" + src.name + "': '" + valueName(src, v) +
                           "' is not a float tensor");
    if (llvm::any_of(llvm::ArrayRef(wrt).take_front(i),
                     [&](Value other) { return other.id() == v.id(); }))
      return Status::error(what + " of graph '" + src.name + "': '" + valueName(src, v) +
                           "' is named twice in wrt");
  }
  return Status();
}

/// Checks the loss and wrt handles, copies the graph and appends the
/// gradients of `loss` with respect to `wrt`.
Result<std::pair<Graph, std::vector<Value>>>
buildGradientGraph(const Graph &graph, Value loss, const std::vector<Value> &wrt) {
  using R = Result<std::pair<Graph, std::vector<Value>>>;
  const Graph::Impl &src = graph.impl();
  if (!graph.status())
    return graph.status();
  if (!isValid(src, loss))
    return R::error("gradient of graph '" + src.name + "': the loss is not a value of it");
  auto lossType = llvm::cast<mlir::RankedTensorType>(src.values[loss.id()].getType());
  if (lossType.getNumElements() != 1 || !lossType.getElementType().isF32())
    return R::error("gradient of graph '" + src.name + "': the loss must be a float " +
                    "scalar (one element), got shape " +
                    mt::formatArray(lossType.getShape()));
  if (Status s = checkWrt(src, wrt, "gradient"); !s)
    return s;
  auto copy = copyGraph(graph);
  if (!copy)
    return copy.status();
  Graph::Impl &g = copy->impl();

  std::vector<std::string> names;
  llvm::SmallVector<mlir::Value> wrtValues;
  for (Value v : wrt) {
    names.push_back(valueName(g, v));
    wrtValues.push_back(g.values[v.id()]);
  }
  std::string message;
  mlir::ScopedDiagnosticHandler handler(g.context.get(), [&](mlir::Diagnostic &diag) {
    if (message.empty() && diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      message = diag.str();
    return mlir::success();
  });
  mlir::Location loc = g.function.getLoc();
  mlir::Value lossValue = g.values[loss.id()];
  auto seed = mt::ConstantOp::create(
      g.builder, loc,
      mlir::DenseElementsAttr::get(llvm::cast<mlir::ShapedType>(lossValue.getType()),
                                   1.0f));
  auto grads = mt::buildGradients(g.builder, loc, {lossValue}, {seed.getResult()},
                                  wrtValues, names);
  if (mlir::failed(grads))
    return R::error("gradient of graph '" + src.name + "': " +
                    (message.empty() ? "autodiff failed" : message));
  std::vector<Value> handles;
  for (mlir::Value v : *grads)
    handles.push_back(addValue(g, v));
  return std::make_pair(std::move(*copy), std::move(handles));
}

/// Marks the gradient of each wrt value as the output `grad_<name>`.
void addGradientOutputs(Graph &copy, const std::vector<Value> &wrt,
                        const std::vector<Value> &grads) {
  Graph::Impl &g = copy.impl();
  for (auto [v, grad] : llvm::zip_equal(wrt, grads))
    g.outputs.emplace_back("grad_" + valueName(g, v), grad.id());
}

} // namespace

Result<Graph> tessel::gradient(const Graph &graph, Value loss,
                               const std::vector<Value> &wrt) {
  auto built = buildGradientGraph(graph, loss, wrt);
  if (!built)
    return built.status();
  addGradientOutputs(built->first, wrt, built->second);
  return std::move(built->first);
}

namespace {

/// Adds an input `tangent_<name>` per wrt value of `g` and appends the
/// tangents of `outputs` along them; `what` names the transform in errors.
Result<std::vector<Value>> appendTangents(Graph &copy, const std::vector<Value> &wrt,
                                          const std::vector<Value> &outputs,
                                          const std::string &what) {
  using R = Result<std::vector<Value>>;
  Graph::Impl &g = copy.impl();
  llvm::SmallVector<mlir::Value> wrtValues, tangents, outputValues;
  for (Value v : wrt) {
    mlir::Value value = g.values[v.id()];
    std::string name = valueName(g, v);
    wrtValues.push_back(value);
    tangents.push_back(g.values[addInput(g, "tangent_" + name, value.getType()).id()]);
  }
  for (Value v : outputs)
    outputValues.push_back(g.values[v.id()]);
  std::string message;
  mlir::ScopedDiagnosticHandler handler(g.context.get(), [&](mlir::Diagnostic &diag) {
    if (message.empty() && diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      message = diag.str();
    return mlir::success();
  });
  auto result = mt::buildTangents(g.builder, g.function.getLoc(), wrtValues, tangents,
                                  outputValues);
  if (mlir::failed(result))
    return R::error(what + " of graph '" + g.name + "': " +
                    (message.empty() ? "autodiff failed" : message));
  std::vector<Value> handles;
  for (mlir::Value v : *result)
    handles.push_back(addValue(g, v));
  return handles;
}

} // namespace

Result<Graph> tessel::jvp(const Graph &graph, const std::vector<Value> &wrt) {
  const Graph::Impl &src = graph.impl();
  if (!graph.status())
    return graph.status();
  if (Status s = checkWrt(src, wrt, "jvp"); !s)
    return s;
  for (const auto &[name, id] : src.outputs)
    if (!llvm::cast<mlir::RankedTensorType>(src.values[id].getType())
             .getElementType()
             .isF32())
      return Result<Graph>::error("jvp of graph '" + src.name + "': output '" + name +
                                  "' is not a float tensor and has no tangent");
  auto copy = copyGraph(graph);
  if (!copy)
    return copy.status();
  Graph::Impl &g = copy->impl();
  std::vector<Value> outputs;
  for (const auto &output : src.outputs)
    outputs.push_back(g.value(output.second));
  auto tangents = appendTangents(*copy, wrt, outputs, "jvp");
  if (!tangents)
    return tangents.status();
  for (auto [output, t] : llvm::zip_equal(src.outputs, *tangents))
    g.outputs.emplace_back("jvp_" + output.first, t.id());
  return std::move(*copy);
}

Result<Graph> tessel::hvp(const Graph &graph, Value loss, const std::vector<Value> &wrt) {
  auto built = buildGradientGraph(graph, loss, wrt);
  if (!built)
    return built.status();
  auto &[copy, grads] = *built;
  addGradientOutputs(copy, wrt, grads);
  Graph::Impl &g = copy.impl();
  auto tangents = appendTangents(copy, wrt, grads, "hvp");
  if (!tangents)
    return tangents.status();
  for (auto [v, t] : llvm::zip_equal(wrt, *tangents))
    g.outputs.emplace_back("hvp_" + valueName(g, v), t.id());
  return std::move(copy);
}

Optimizer Optimizer::sgd(double learningRate, double momentum, double weightDecay,
                         bool nesterov) {
  Optimizer o;
  o.kind = Kind::Sgd;
  o.learningRate = learningRate;
  o.momentum = momentum;
  o.weightDecay = weightDecay;
  o.nesterov = nesterov;
  return o;
}

Optimizer Optimizer::adam(double learningRate, double weightDecay, bool decoupled) {
  Optimizer o;
  o.kind = Kind::Adam;
  o.learningRate = learningRate;
  o.weightDecay = weightDecay;
  o.decoupled = decoupled;
  return o;
}

/// The names of Adam's step-number input and of the learning-rate input.
static const char *const kStepInput = "optimizer.step";
static const char *const kRateInput = "optimizer.lr";

/// Checks the optimizer's hyperparameters that the ops do not check.
static Status checkOptimizer(const Optimizer &o, const std::string &graphName) {
  auto bad = [&](const std::string &what) {
    return Status::error("training step of graph '" + graphName + "': " + what);
  };
  if (Status s = checkLearningRate(o.learningRate, "training step of graph '" + graphName + "'");
      !s)
    return s;
  if (!(o.maxGradNorm >= 0) || !std::isfinite(o.maxGradNorm))
    return bad("maxGradNorm must be a non-negative number (0: no clipping), got " +
               std::to_string(o.maxGradNorm));
  for (const auto &[name, decay] : o.parameterWeightDecay)
    if (!(decay >= 0) || !std::isfinite(decay))
      return bad("the weight decay of '" + name + "' must be a non-negative number, got " +
                 std::to_string(decay));
  return Status();
}

/// Scales `grads` so that their joint L2 norm is at most `maxNorm`, as
/// torch.nn.utils.clip_grad_norm_: g * min(1, maxNorm / (norm + 1e-6)).
static void clipGradients(Graph &graph, std::vector<Value> &grads, double maxNorm) {
  auto scalar = [&](double v) {
    return graph.constant(Tensor::fromValues({}, {static_cast<float>(v)}));
  };
  Value total;
  for (Value g : grads) {
    Value squares = graph.sum(graph.mul(g, g), std::nullopt);
    total = total.valid() ? graph.add(total, squares) : squares;
  }
  Value norm = graph.sqrt(total);
  Value coefficient =
      graph.minimum(graph.div(scalar(maxNorm), graph.add(norm, scalar(1e-6))), scalar(1.0));
  for (Value &g : grads)
    g = graph.mul(g, coefficient);
}

Result<Graph> tessel::trainingStep(const Graph &graph, Value loss,
                                   const std::vector<Value> &parameters,
                                   const Optimizer &optimizer) {
  const Graph::Impl &src = graph.impl();
  for (Value p : parameters)
    if (!isValid(src, p) || !llvm::isa<mlir::BlockArgument>(src.values[p.id()]))
      return Result<Graph>::error("training step of graph '" + src.name +
                                  "': every parameter must be an input of the graph");
  if (Status s = checkOptimizer(optimizer, src.name); !s)
    return s;
  for (const auto &entry : optimizer.parameterWeightDecay)
    if (llvm::none_of(parameters, [&](Value p) {
          return src.inputNames[llvm::cast<mlir::BlockArgument>(src.values[p.id()])
                                    .getArgNumber()] == entry.first;
        }))
      return Result<Graph>::error("training step of graph '" + src.name +
                                  "': parameterWeightDecay names '" + entry.first +
                                  "', which is not a parameter");
  auto built = buildGradientGraph(graph, loss, parameters);
  if (!built)
    return built.status();
  auto &[copy, grads] = *built;
  Graph::Impl &g = copy.impl();
  mlir::OpBuilder &b = g.builder;
  if (optimizer.maxGradNorm > 0)
    clipGradients(copy, grads, optimizer.maxGradNorm);
  if (!g.status.ok())
    return g.status;
  bool adam = optimizer.kind == Optimizer::Kind::Adam;
  // The learning rate is an input (optimizer.lr) that the op multiplies by
  // its attribute, 1: schedulers change it without recompiling.
  auto properties = [&](double weightDecay) {
    mt::AdamUpdateOp::Properties adamProperties;
    mt::SgdUpdateOp::Properties sgdProperties;
    if (adam) {
      adamProperties.setLearningRate(b.getF64FloatAttr(1.0));
      adamProperties.setWeightDecay(b.getF64FloatAttr(weightDecay));
      adamProperties.setBeta1(b.getF64FloatAttr(optimizer.beta1));
      adamProperties.setBeta2(b.getF64FloatAttr(optimizer.beta2));
      adamProperties.setEpsilon(b.getF64FloatAttr(optimizer.epsilon));
      if (optimizer.decoupled)
        adamProperties.setDecoupled(b.getUnitAttr());
    } else {
      sgdProperties.setLearningRate(b.getF64FloatAttr(1.0));
      sgdProperties.setWeightDecay(b.getF64FloatAttr(weightDecay));
      sgdProperties.setMomentum(b.getF64FloatAttr(optimizer.momentum));
      if (optimizer.nesterov)
        sgdProperties.setNesterov(b.getUnitAttr());
    }
    return std::make_pair(adamProperties, sgdProperties);
  };
  // The step's new inputs and its outputs are found by name: no name may
  // stand for two tensors.
  auto taken = [&](const std::string &name) -> Status {
    if (llvm::is_contained(g.inputNames, name))
      return Status::error("training step of graph '" + src.name + "': the optimizer input '" +
                           name + "' has the name of an input of the graph; rename that input");
    return Status();
  };
  Value step;
  if (adam) {
    if (Status s = taken(kStepInput); !s)
      return s;
    step = addInput(g, kStepInput, mlir::RankedTensorType::get({}, b.getF32Type()));
  }
  if (Status s = taken(kRateInput); !s)
    return s;
  Value rate = addInput(g, kRateInput, mlir::RankedTensorType::get({}, b.getF32Type()));

  std::string message;
  mlir::ScopedDiagnosticHandler handler(g.context.get(), [&](mlir::Diagnostic &diag) {
    if (message.empty())
      message = diag.str();
    return mlir::success();
  });
  std::vector<std::pair<std::string, int>> outputs{{"loss", loss.id()}}, state;
  for (auto [p, grad] : llvm::zip_equal(parameters, grads)) {
    std::string name = valueName(g, p);
    mlir::Value param = g.values[p.id()];
    std::vector<std::string> stateNames =
        adam ? std::vector<std::string>{name + ".m", name + ".v"}
             : std::vector<std::string>{name + ".velocity"};
    if (name == "loss")
      return Result<Graph>::error("training step of graph '" + src.name +
                                  "': a parameter named 'loss' would share its output name "
                                  "with the loss; rename that input");
    llvm::SmallVector<mlir::Value> operands{param, g.values[grad.id()]};
    for (const std::string &s : stateNames) {
      if (Status status = taken(s); !status)
        return status;
      operands.push_back(g.values[addInput(g, s, param.getType()).id()]);
    }
    if (adam)
      operands.push_back(g.values[step.id()]);
    operands.push_back(g.values[rate.id()]);
    auto decay = optimizer.parameterWeightDecay.find(name);
    auto [adamProperties, sgdProperties] =
        properties(decay != optimizer.parameterWeightDecay.end() ? decay->second
                                                                 : optimizer.weightDecay);
    mlir::Location loc = g.function.getLoc();
    mlir::Operation *update =
        adam ? mt::createInferred<mt::AdamUpdateOp>(b, loc, operands, adamProperties)
                   .getOperation()
             : mt::createInferred<mt::SgdUpdateOp>(b, loc, operands, sgdProperties)
                   .getOperation();
    if (!update)
      return Result<Graph>::error("training step of graph '" + src.name + "': " + message);
    // The updates are the new values of their inputs, written in place.
    outputs.emplace_back(name, addValue(g, update->getResult(0)).id());
    g.updates[name] = llvm::cast<mlir::BlockArgument>(param).getArgNumber();
    for (auto [i, s] : llvm::enumerate(stateNames)) {
      state.emplace_back(s, addValue(g, update->getResult(i + 1)).id());
      g.updates[s] = llvm::cast<mlir::BlockArgument>(operands[2 + i]).getArgNumber();
    }
  }
  // Outputs of the graph named as one of its other inputs are that input's
  // new value (batch norm's running statistics): kept, and tied to it.
  std::vector<std::pair<std::string, int>> buffers;
  for (const auto &[name, id] : src.outputs) {
    auto input = llvm::find(src.inputNames, name);
    if (input == src.inputNames.end() || g.updates.count(name))
      continue;
    buffers.emplace_back(name, id);
    g.updates[name] = static_cast<unsigned>(input - src.inputNames.begin());
  }
  outputs.insert(outputs.end(), state.begin(), state.end());
  outputs.insert(outputs.end(), buffers.begin(), buffers.end());
  g.outputs = std::move(outputs);
  return std::move(copy);
}

//===----------------------------------------------------------------------===//
// Trainer
//===----------------------------------------------------------------------===//

struct Trainer::Impl {
  Executable step;
  /// Parameters and optimizer state by input name; each step updates them
  /// in place (the step's outputs of the same name are tied to them).
  std::map<std::string, Tensor> parameters, state;
  int64_t steps = 0;
  double learningRate = 0;
};

Result<Trainer> Trainer::create(const Graph &graph, Value loss,
                                const std::map<std::string, Tensor> &parameters,
                                const Optimizer &optimizer,
                                const CompileOptions &options) {
  const Graph::Impl &src = graph.impl();
  std::vector<Value> handles;
  std::map<std::string, Tensor> owned;
  for (const auto &[name, value] : parameters) {
    auto it = std::find(src.inputNames.begin(), src.inputNames.end(), name);
    if (it == src.inputNames.end())
      return Result<Trainer>::error("trainer: graph '" + src.name +
                                    "' has no input named '" + name + "'");
    unsigned arg = it - src.inputNames.begin();
    mlir::Value v = mlir::func::FuncOp(src.function).getArgument(arg);
    auto type = llvm::cast<mlir::RankedTensorType>(v.getType());
    if (value.empty() || value.shape() != std::vector<int64_t>(type.getShape().begin(),
                                                                 type.getShape().end()))
      return Result<Trainer>::error("trainer: parameter '" + name + "' has shape " +
                                    value.shapeString() + ", the graph's input " +
                                    mt::formatArray(type.getShape()));
    handles.push_back(src.value(static_cast<int>(
        std::find(src.values.begin(), src.values.end(), v) - src.values.begin())));
    owned.emplace(name, value.clone());
  }
  auto stepGraph = trainingStep(graph, loss, handles, optimizer);
  if (!stepGraph)
    return stepGraph.status();
  auto exe = compile(*stepGraph, options);
  if (!exe)
    return exe.status();
  auto impl =
      std::make_shared<Impl>(Impl{*exe, std::move(owned), {}, 0, optimizer.learningRate});
  for (const TensorInfo &info : exe->inputs())
    if (!impl->parameters.count(info.name) &&
        std::find(src.inputNames.begin(), src.inputNames.end(), info.name) ==
            src.inputNames.end() &&
        info.name != kStepInput && info.name != kRateInput)
      impl->state.emplace(info.name, Tensor::zeros(info.shape));
  return Trainer(std::move(impl));
}

Result<float> Trainer::step(const std::map<std::string, Tensor> &batch) {
  Impl &t = *impl_;
  std::vector<Tensor> inputs;
  Tensor stepNumber = Tensor::fromValues({}, {static_cast<float>(t.steps + 1)});
  Tensor rate = Tensor::fromValues({}, {static_cast<float>(t.learningRate)});
  size_t fed = 0;
  for (const TensorInfo &info : t.step.inputs()) {
    if (auto it = t.parameters.find(info.name); it != t.parameters.end()) {
      inputs.push_back(it->second);
    } else if (auto it = t.state.find(info.name); it != t.state.end()) {
      inputs.push_back(it->second);
    } else if (info.name == kStepInput) {
      inputs.push_back(stepNumber);
    } else if (info.name == kRateInput) {
      inputs.push_back(rate);
    } else if (auto it = batch.find(info.name); it != batch.end()) {
      inputs.push_back(it->second);
      ++fed;
    } else {
      return Result<float>::error("trainer: batch input '" + info.name + "' is missing");
    }
  }
  if (fed != batch.size())
    for (const auto &entry : batch)
      if (!std::any_of(t.step.inputs().begin(), t.step.inputs().end(),
                       [&](const TensorInfo &i) { return i.name == entry.first; }) ||
          t.parameters.count(entry.first))
        return Result<float>::error("trainer: '" + entry.first +
                                    "' is not a batch input of the graph");
  // The step writes the new parameters and state into the trainer's tensors.
  auto outputs = t.step.runInPlace(inputs);
  if (!outputs)
    return outputs.status();
  ++t.steps;
  return (*outputs)[0].data()[0];
}

Tensor Trainer::parameter(const std::string &name) const {
  auto it = impl_->parameters.find(name);
  return it == impl_->parameters.end() ? Tensor() : it->second;
}

std::map<std::string, Tensor> Trainer::parameters() const { return impl_->parameters; }

int64_t Trainer::steps() const { return impl_->steps; }

Status Trainer::setLearningRate(double rate) {
  if (Status s = checkLearningRate(rate, "trainer"); !s)
    return s;
  impl_->learningRate = rate;
  return Status();
}

double Trainer::learningRate() const { return impl_->learningRate; }
