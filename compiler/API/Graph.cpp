//===- Graph.cpp - tessel::Graph ------------------------------------------===//
//
// Every builder method creates its tessel op with placeholder result types,
// then asks the op's own type inference and verifier for the real types: the
// graph API checks exactly the rules the dialect checks, with its messages.
//
//===----------------------------------------------------------------------===//

#include "compiler/API/GraphImpl.h"
#include "compiler/InitAll.h"
#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/Constants.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>

using namespace tessel;
namespace mt = mlir::tessel;
using mlir::NamedAttribute;

//===----------------------------------------------------------------------===//
// Graph::Impl
//===----------------------------------------------------------------------===//

Graph::Impl::Impl(std::string graphName)
    : name(std::move(graphName)),
      builder(static_cast<mlir::MLIRContext *>(nullptr)) {
  static std::atomic<uint64_t> graphs{0};
  token = ++graphs;
  mlir::DialectRegistry registry;
  mt::registerAllDialects(registry);
  context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadDialect<mt::TesselDialect, mlir::func::FuncDialect>();
  builder = mlir::OpBuilder(context.get());
  mlir::Location loc = mlir::NameLoc::get(builder.getStringAttr(name));
  module = mlir::ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  function = mlir::func::FuncOp::create(builder, loc, name,
                                        builder.getFunctionType({}, {}));
  builder.setInsertionPointToStart(function.addEntryBlock());
}

bool Graph::Impl::owns(Value v) const {
  if (v.id() < 0 || v.id() >= static_cast<int>(values.size()))
    return false;
  return v.graph() == token ||
         llvm::any_of(ancestors, [&](const std::pair<uint64_t, int> &ancestor) {
           return v.graph() == ancestor.first && v.id() < ancestor.second;
         });
}

mlir::OwningOpRef<mlir::ModuleOp> Graph::Impl::finish() const {
  mlir::IRMapping mapping;
  mlir::ModuleOp original = module.get();
  mlir::func::FuncOp source = function;
  mlir::OwningOpRef<mlir::ModuleOp> copy(
      llvm::cast<mlir::ModuleOp>(original->clone(mapping)));
  auto fn = llvm::cast<mlir::func::FuncOp>(mapping.lookup(source.getOperation()));
  mlir::OpBuilder b(fn.getContext());
  b.setInsertionPointToEnd(&fn.getBody().front());
  llvm::SmallVector<mlir::Value> results;
  for (const auto &output : outputs)
    results.push_back(mapping.lookup(values[output.second]));
  mlir::func::ReturnOp::create(b, fn.getLoc(), results);
  fn.setType(b.getFunctionType(fn.getArgumentTypes(),
                               mlir::ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(outputs))
    if (auto it = updates.find(output.first); it != updates.end())
      fn.setResultAttr(i, mt::TesselDialect::kUpdatesAttrName,
                       b.getI64IntegerAttr(it->second));
  return copy;
}

namespace {

/// Records the first error of a graph; later ops are skipped.
void recordError(Graph::Impl &g, const std::string &message) {
  if (g.status.ok())
    g.status = Status::error("graph '" + g.name + "', op #" +
                             std::to_string(g.opCount) + ": " + message);
}

/// Checks and maps `operands`, then creates the op with `create` at a location
/// naming the graph and the op's position. Returns handles to its results, or
/// none after recording the op's diagnostic as the graph's error.
std::vector<Value>
createWith(Graph::Impl &g, llvm::StringRef opName, const std::vector<Value> &operands,
           llvm::function_ref<mlir::Operation *(mlir::Location, mlir::ValueRange)> create) {
  ++g.opCount;
  if (!g.status.ok())
    return {};
  llvm::SmallVector<mlir::Value> ins;
  for (auto [i, v] : llvm::enumerate(operands)) {
    if (!g.owns(v)) {
      recordError(g, "'" + opName.str() + "' operand #" + std::to_string(i) +
                  " is not a value of this graph");
      return {};
    }
    ins.push_back(g.values[v.id()]);
  }
  mlir::MLIRContext *ctx = g.context.get();
  mlir::Location loc = mlir::NameLoc::get(mlir::StringAttr::get(
      ctx, llvm::formatv("{0}/op{1}", g.name, g.opCount).str()));
  std::string message;
  mlir::ScopedDiagnosticHandler handler(ctx, [&](mlir::Diagnostic &diag) {
    if (message.empty())
      message = diag.str();
    return mlir::success();
  });

  mlir::Operation *op = create(loc, ins);
  if (!op) {
    recordError(g, message.empty() ? "'" + opName.str() + "' is invalid" : message);
    return {};
  }
  std::vector<Value> handles;
  for (mlir::Value result : op->getResults()) {
    handles.push_back(g.value(static_cast<int>(g.values.size())));
    g.values.push_back(result);
  }
  return handles;
}

/// Creates an `OpTy` on `operands` with `properties` (its inherent
/// attributes); its result types come from the op's shape function.
template <typename OpTy>
std::vector<Value> createOp(Graph::Impl &g, const std::vector<Value> &operands,
                            const mt::PropertiesOf<OpTy> &properties = {}) {
  return createWith(g, OpTy::getOperationName(), operands,
                    [&](mlir::Location loc, mlir::ValueRange ins) -> mlir::Operation * {
                      return mt::createInferred<OpTy>(g.builder, loc, ins, properties);
                    });
}

template <typename OpTy>
Value createOne(Graph::Impl &g, const std::vector<Value> &operands,
                const mt::PropertiesOf<OpTy> &properties = {}) {
  std::vector<Value> results = createOp<OpTy>(g, operands, properties);
  return results.empty() ? Value() : results.front();
}

mt::ActivationLayout toMlir(Layout layout) {
  return static_cast<mt::ActivationLayout>(static_cast<int>(layout));
}
mt::FilterLayout toMlir(FilterLayout layout) {
  return static_cast<mt::FilterLayout>(static_cast<int>(layout));
}

/// Attribute values of the op properties the builder methods fill in.
struct AttrValues {
  mlir::Builder b;
  explicit AttrValues(mlir::MLIRContext *ctx) : b(ctx) {}
  /// An optional array: unset when empty.
  mlir::DenseI64ArrayAttr array(const std::vector<int64_t> &values) {
    return mt::optionalArray(b.getContext(), values);
  }
  mlir::IntegerAttr i64(int64_t value) { return b.getI64IntegerAttr(value); }
  mlir::FloatAttr f64(double value) { return b.getF64FloatAttr(value); }
  /// A unit attribute: unset when false.
  mlir::UnitAttr flag(bool set) { return set ? b.getUnitAttr() : mlir::UnitAttr(); }
  mt::ActivationLayoutAttr layout(Layout value) {
    return mt::ActivationLayoutAttr::get(b.getContext(), toMlir(value));
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Graph::Graph(std::string name) : impl_(std::make_unique<Impl>(std::move(name))) {
  if (impl_->name.empty())
    impl_->status = Status::error("a graph needs a name: Graph(\"\") has none");
}
Graph::~Graph() = default;
Graph::Graph(Graph &&) noexcept = default;
Graph &Graph::operator=(Graph &&) noexcept = default;

const Status &Graph::status() const { return impl_->status; }

std::vector<int64_t> Graph::shape(Value value) const {
  if (!impl_->owns(value))
    return {};
  auto type = llvm::cast<mlir::RankedTensorType>(impl_->values[value.id()].getType());
  return std::vector<int64_t>(type.getShape().begin(), type.getShape().end());
}

uint64_t Graph::id() const { return impl_->token; }

std::string Graph::toMlir() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  impl_->finish()->print(os);
  return text;
}

Value Graph::input(const std::string &name, std::vector<int64_t> shape) {
  Impl &g = *impl_;
  ++g.opCount;
  if (!g.status.ok())
    return {};
  if (name.empty()) {
    recordError(g, "an input needs a name");
    return {};
  }
  if (llvm::is_contained(g.inputNames, name)) {
    recordError(g, "input '" + name + "' is declared twice; input names must be unique");
    return {};
  }
  for (int64_t size : shape)
    if (size < 0) {
      recordError(g, "input '" + name + "' has a negative size");
      return {};
    }
  auto type = mlir::RankedTensorType::get(shape, g.builder.getF32Type());
  if (!mt::fitsInMemory(type)) {
    recordError(g, "input '" + name + "' has shape " + shapeString(shape) +
                ", more than the 2^47 bytes a Tessel tensor may hold");
    return {};
  }
  mlir::Block &body = g.function.getBody().front();
  mlir::Value arg = body.addArgument(type, g.function.getLoc());
  g.function.setType(g.builder.getFunctionType(body.getArgumentTypes(), {}));
  g.inputNames.push_back(name);
  g.values.push_back(arg);
  return g.value(static_cast<int>(g.values.size()) - 1);
}

Value Graph::constant(const Tensor &value) {
  Impl &g = *impl_;
  ++g.opCount;
  if (!g.status.ok())
    return {};
  if (value.empty()) {
    recordError(g, "constant tensor is empty (was it built with the wrong number of values?)");
    return {};
  }
  Tensor dense = value.isContiguous() ? value : value.clone();
  auto type = mlir::RankedTensorType::get(dense.shape(), g.builder.getF32Type());
  mlir::ElementsAttr attr = mt::getConstantAttr(
      type, "graph_constant",
      llvm::ArrayRef<char>(reinterpret_cast<const char *>(dense.data()),
                           dense.numElements() * sizeof(float)));
  if (!attr) {
    recordError(g, "out of memory for a constant of shape " + shapeString(dense.shape()));
    return {};
  }
  auto op = mt::ConstantOp::create(g.builder, g.function.getLoc(),
                                   llvm::cast<mlir::TypedAttr>(attr));
  g.values.push_back(op.getResult());
  return g.value(static_cast<int>(g.values.size()) - 1);
}

Value Graph::labels(std::vector<int64_t> shape, const std::vector<int64_t> &values) {
  Impl &g = *impl_;
  ++g.opCount;
  if (!g.status.ok())
    return {};
  std::optional<int64_t> count = mt::getCheckedNumElements(shape);
  if (!count || static_cast<int64_t>(values.size()) != *count) {
    recordError(g, "labels hold " + std::to_string(values.size()) + " values, their shape " +
                shapeString(shape) +
                (count ? " has " + std::to_string(*count) : std::string(" is invalid")));
    return {};
  }
  auto type = mlir::RankedTensorType::get(shape, g.builder.getI64Type());
  auto attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<int64_t>(values));
  auto op = mt::ConstantOp::create(g.builder, g.function.getLoc(), attr);
  g.values.push_back(op.getResult());
  return g.value(static_cast<int>(g.values.size()) - 1);
}

void Graph::output(const std::string &name, Value value) {
  Impl &g = *impl_;
  if (!g.status.ok())
    return;
  if (!g.owns(value)) {
    recordError(g, "output '" + name + "' is not a value of this graph");
    return;
  }
  if (name.empty()) {
    recordError(g, "an output needs a name");
    return;
  }
  if (llvm::any_of(g.outputs, [&](const auto &output) { return output.first == name; })) {
    recordError(g, "output '" + name + "' is declared twice; output names must be unique");
    return;
  }
  g.outputs.emplace_back(name, value.id());
}

Value Graph::findInput(const std::string &name) const {
  const Impl &g = *impl_;
  auto it = llvm::find(g.inputNames, name);
  if (it == g.inputNames.end())
    return {};
  mlir::Value arg = mlir::func::FuncOp(g.function).getArgument(it - g.inputNames.begin());
  return g.value(static_cast<int>(llvm::find(g.values, arg) - g.values.begin()));
}

void Graph::fail(const std::string &message) {
  ++impl_->opCount;
  ::recordError(*impl_, message);
}

void Graph::addErrorContext(const std::string &context) {
  if (!impl_->status.ok())
    impl_->status = Status::error(impl_->status.message() + " [" + context + "]");
}

/// The operand list with an optional trailing operand.
static std::vector<Value> withOptional(std::vector<Value> operands,
                                       std::optional<Value> extra) {
  if (extra)
    operands.push_back(*extra);
  return operands;
}

template <typename Properties>
static Properties convProperties(mlir::MLIRContext *ctx, const ConvOptions &o) {
  AttrValues a(ctx);
  Properties p;
  p.setLayout(a.layout(o.layout));
  p.setFilterLayout(mt::FilterLayoutAttr::get(ctx, toMlir(o.filterLayout)));
  p.setStrides(a.array(o.strides));
  p.setDilations(a.array(o.dilations));
  p.setPadding(a.array(o.padding));
  p.setGroups(a.i64(o.groups));
  return p;
}

Value Graph::conv(Value input, Value filter, const ConvOptions &options,
                  std::optional<Value> bias) {
  Impl &g = *impl_;
  if (!options.outputPadding.empty()) {
    ++g.opCount;
    recordError(g, "'tessel.conv' output padding applies to conv_transpose only");
    return {};
  }
  return createOne<mt::ConvOp>(
      g, withOptional({input, filter}, bias),
      convProperties<mt::ConvOp::Properties>(g.context.get(), options));
}

Value Graph::convTranspose(Value input, Value filter, const ConvOptions &options,
                           std::optional<Value> bias) {
  Impl &g = *impl_;
  auto p = convProperties<mt::ConvTransposeOp::Properties>(g.context.get(), options);
  p.setOutputPadding(AttrValues(g.context.get()).array(options.outputPadding));
  return createOne<mt::ConvTransposeOp>(g, withOptional({input, filter}, bias), p);
}

static mt::PoolKindAttr poolKind(mlir::MLIRContext *ctx, PoolKind kind) {
  return mt::PoolKindAttr::get(ctx, static_cast<mt::PoolKind>(static_cast<int>(kind)));
}

Value Graph::pool(PoolKind kind, Value input, const PoolOptions &o) {
  Impl &g = *impl_;
  AttrValues a(g.context.get());
  mt::PoolOp::Properties p;
  p.setKind(poolKind(g.context.get(), kind));
  p.setLayout(a.layout(o.layout));
  p.setKernel(a.b.getDenseI64ArrayAttr(o.kernel));
  p.setStrides(a.array(o.strides));
  p.setPadding(a.array(o.padding));
  p.setDilations(a.array(o.dilations));
  p.setCeilMode(a.flag(o.ceilMode));
  p.setCountIncludePad(a.flag(o.countIncludePad));
  if (kind == PoolKind::Lp)
    p.setP(a.f64(o.p));
  return createOne<mt::PoolOp>(g, {input}, p);
}

Value Graph::adaptivePool(PoolKind kind, Value input, Layout layout,
                          std::vector<int64_t> outputSize) {
  Impl &g = *impl_;
  AttrValues a(g.context.get());
  mt::AdaptivePoolOp::Properties p;
  p.setKind(poolKind(g.context.get(), kind));
  p.setLayout(a.layout(layout));
  p.setOutputSize(a.b.getDenseI64ArrayAttr(outputSize));
  return createOne<mt::AdaptivePoolOp>(g, {input}, p);
}

Value Graph::globalPool(PoolKind kind, Value input, Layout layout, double pNorm) {
  Impl &g = *impl_;
  AttrValues a(g.context.get());
  mt::GlobalPoolOp::Properties p;
  p.setKind(poolKind(g.context.get(), kind));
  p.setLayout(a.layout(layout));
  if (kind == PoolKind::Lp)
    p.setP(a.f64(pNorm));
  return createOne<mt::GlobalPoolOp>(g, {input}, p);
}

Value Graph::batchNorm(Value input, Value scale, Value bias, Value mean,
                       Value variance, std::optional<Layout> layout,
                       double epsilon) {
  Impl &g = *impl_;
  AttrValues a(g.context.get());
  mt::BatchNormOp::Properties p;
  if (layout)
    p.setLayout(a.layout(*layout));
  p.setEpsilon(a.f64(epsilon));
  return createOne<mt::BatchNormOp>(g, {input, scale, bias, mean, variance}, p);
}

std::vector<Value> Graph::batchNormTrain(Value input, Value scale, Value bias,
                                         std::optional<Layout> layout, double epsilon) {
  Impl &g = *impl_;
  AttrValues a(g.context.get());
  mt::BatchNormTrainOp::Properties p;
  if (layout)
    p.setLayout(a.layout(*layout));
  p.setEpsilon(a.f64(epsilon));
  return createOp<mt::BatchNormTrainOp>(g, {input, scale, bias}, p);
}

Value Graph::relu(Value x) { return createOne<mt::ReluOp>(*impl_, {x}); }
Value Graph::sigmoid(Value x) { return createOne<mt::SigmoidOp>(*impl_, {x}); }
Value Graph::tanh(Value x) { return createOne<mt::TanhOp>(*impl_, {x}); }
Value Graph::abs(Value x) { return createOne<mt::AbsOp>(*impl_, {x}); }
Value Graph::neg(Value x) { return createOne<mt::NegOp>(*impl_, {x}); }
Value Graph::sqrt(Value x) { return createOne<mt::SqrtOp>(*impl_, {x}); }
Value Graph::exp(Value x) { return createOne<mt::ExpOp>(*impl_, {x}); }
Value Graph::erf(Value x) { return createOne<mt::ErfOp>(*impl_, {x}); }
Value Graph::log(Value x) { return createOne<mt::LogOp>(*impl_, {x}); }
Value Graph::sign(Value x) { return createOne<mt::SignOp>(*impl_, {x}); }

Value Graph::leakyRelu(Value x, double alpha) {
  mt::LeakyReluOp::Properties p;
  p.setAlpha(AttrValues(impl_->context.get()).f64(alpha));
  return createOne<mt::LeakyReluOp>(*impl_, {x}, p);
}

Value Graph::clamp(Value x, std::optional<double> min, std::optional<double> max) {
  AttrValues a(impl_->context.get());
  mt::ClampOp::Properties p;
  if (min)
    p.setMin(a.f64(*min));
  if (max)
    p.setMax(a.f64(*max));
  return createOne<mt::ClampOp>(*impl_, {x}, p);
}

Value Graph::add(Value l, Value r) { return createOne<mt::AddOp>(*impl_, {l, r}); }
Value Graph::sub(Value l, Value r) { return createOne<mt::SubOp>(*impl_, {l, r}); }
Value Graph::mul(Value l, Value r) { return createOne<mt::MulOp>(*impl_, {l, r}); }
Value Graph::div(Value l, Value r) { return createOne<mt::DivOp>(*impl_, {l, r}); }
Value Graph::pow(Value l, Value r) { return createOne<mt::PowOp>(*impl_, {l, r}); }
Value Graph::maximum(Value l, Value r) { return createOne<mt::MaximumOp>(*impl_, {l, r}); }
Value Graph::minimum(Value l, Value r) { return createOne<mt::MinimumOp>(*impl_, {l, r}); }

Value Graph::linear(Value input, Value weight, std::optional<Value> bias) {
  return createOne<mt::LinearOp>(*impl_, withOptional({input, weight}, bias));
}

Value Graph::matmul(Value lhs, Value rhs) {
  return createOne<mt::MatmulOp>(*impl_, {lhs, rhs});
}

Value Graph::reshape(Value x, std::vector<int64_t> shape) {
  mt::ReshapeOp::Properties p;
  p.setShape(mlir::DenseI64ArrayAttr::get(impl_->context.get(), shape));
  return createOne<mt::ReshapeOp>(*impl_, {x}, p);
}

Value Graph::flatten(Value x, int64_t startDim, int64_t endDim) {
  AttrValues a(impl_->context.get());
  mt::FlattenOp::Properties p;
  p.setStartDim(a.i64(startDim));
  p.setEndDim(a.i64(endDim));
  return createOne<mt::FlattenOp>(*impl_, {x}, p);
}

Value Graph::transpose(Value x, std::vector<int64_t> perm) {
  mt::TransposeOp::Properties p;
  p.setPerm(mlir::DenseI64ArrayAttr::get(impl_->context.get(), perm));
  return createOne<mt::TransposeOp>(*impl_, {x}, p);
}

Value Graph::concat(const std::vector<Value> &values, int64_t axis) {
  if (values.empty()) {
    ++impl_->opCount;
    recordError(*impl_, "'tessel.concat' needs at least one input");
    return {};
  }
  mt::ConcatOp::Properties p;
  p.setAxis(AttrValues(impl_->context.get()).i64(axis));
  return createOne<mt::ConcatOp>(*impl_, values, p);
}

Value Graph::relayout(Value x, Layout from, Layout to) {
  AttrValues a(impl_->context.get());
  mt::RelayoutOp::Properties p;
  p.setSource(a.layout(from));
  p.setTarget(a.layout(to));
  return createOne<mt::RelayoutOp>(*impl_, {x}, p);
}

Value Graph::pad(Value x, PadMode mode, std::vector<int64_t> padding, double value) {
  mlir::MLIRContext *ctx = impl_->context.get();
  mt::PadOp::Properties p;
  p.setMode(mt::PadModeAttr::get(ctx, static_cast<mt::PadMode>(static_cast<int>(mode))));
  p.setPadding(mlir::DenseI64ArrayAttr::get(ctx, padding));
  if (mode == PadMode::Constant)
    p.setValue(AttrValues(ctx).f64(value));
  return createOne<mt::PadOp>(*impl_, {x}, p);
}

Value Graph::upsample(Value x, UpsampleMode mode, Layout layout,
                      std::vector<int64_t> size, std::vector<double> scales,
                      bool alignCorners) {
  mlir::MLIRContext *ctx = impl_->context.get();
  AttrValues a(ctx);
  mt::UpsampleOp::Properties p;
  p.setMode(mt::UpsampleModeAttr::get(
      ctx, static_cast<mt::UpsampleMode>(static_cast<int>(mode))));
  p.setLayout(a.layout(layout));
  p.setSize(a.array(size));
  p.setAlignCorners(a.flag(alignCorners));
  if (!scales.empty())
    p.setScales(a.b.getDenseF64ArrayAttr(scales));
  return createOne<mt::UpsampleOp>(*impl_, {x}, p);
}

template <typename OpTy>
static Value shuffle(Graph::Impl &g, Value x, Layout layout, int64_t factor) {
  AttrValues a(g.context.get());
  typename OpTy::Properties p;
  p.setLayout(a.layout(layout));
  p.setFactor(a.i64(factor));
  return createOne<OpTy>(g, {x}, p);
}

Value Graph::pixelShuffle(Value x, Layout layout, int64_t factor) {
  return shuffle<mt::PixelShuffleOp>(*impl_, x, layout, factor);
}

Value Graph::pixelUnshuffle(Value x, Layout layout, int64_t factor) {
  return shuffle<mt::PixelUnshuffleOp>(*impl_, x, layout, factor);
}

template <typename OpTy>
static Value softmaxOp(Graph::Impl &g, Value x, int64_t axis) {
  typename OpTy::Properties p;
  p.setAxis(AttrValues(g.context.get()).i64(axis));
  return createOne<OpTy>(g, {x}, p);
}

Value Graph::softmax(Value x, int64_t axis) {
  return softmaxOp<mt::SoftmaxOp>(*impl_, x, axis);
}

Value Graph::logSoftmax(Value x, int64_t axis) {
  return softmaxOp<mt::LogSoftmaxOp>(*impl_, x, axis);
}

template <typename OpTy>
static Value reduce(Graph::Impl &g, Value x,
                    const std::optional<std::vector<int64_t>> &axes, bool keepDims) {
  AttrValues a(g.context.get());
  typename OpTy::Properties p;
  if (axes)
    p.setAxes(a.b.getDenseI64ArrayAttr(*axes));
  p.setKeepdims(a.flag(keepDims));
  return createOne<OpTy>(g, {x}, p);
}

Value Graph::sum(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims) {
  return reduce<mt::SumOp>(*impl_, x, axes, keepDims);
}

Value Graph::mean(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims) {
  return reduce<mt::MeanOp>(*impl_, x, axes, keepDims);
}

Value Graph::reduceMax(Value x, std::optional<std::vector<int64_t>> axes,
                       bool keepDims) {
  return reduce<mt::MaxOp>(*impl_, x, axes, keepDims);
}

Value Graph::reduceMin(Value x, std::optional<std::vector<int64_t>> axes,
                       bool keepDims) {
  return reduce<mt::MinOp>(*impl_, x, axes, keepDims);
}

Value Graph::slice(Value x, std::vector<int64_t> offsets, std::vector<int64_t> sizes,
                   std::vector<int64_t> strides) {
  mlir::MLIRContext *ctx = impl_->context.get();
  if (strides.empty())
    strides.assign(offsets.size(), 1);
  mt::SliceOp::Properties p;
  p.setOffsets(mlir::DenseI64ArrayAttr::get(ctx, offsets));
  p.setSizes(mlir::DenseI64ArrayAttr::get(ctx, sizes));
  p.setStrides(mlir::DenseI64ArrayAttr::get(ctx, strides));
  return createOne<mt::SliceOp>(*impl_, {x}, p);
}

Value Graph::gather(Value x, Value indices, int64_t axis) {
  mt::GatherOp::Properties p;
  p.setAxis(AttrValues(impl_->context.get()).i64(axis));
  return createOne<mt::GatherOp>(*impl_, {x, indices}, p);
}

template <typename OpTy>
static Value loss(Graph::Impl &g, Value lhs, Value rhs, Reduction reduction) {
  typename OpTy::Properties p;
  p.setReduction(mt::ReductionAttr::get(
      g.context.get(), static_cast<mt::Reduction>(static_cast<int>(reduction))));
  return createOne<OpTy>(g, {lhs, rhs}, p);
}

Value Graph::mseLoss(Value lhs, Value rhs, Reduction reduction) {
  return loss<mt::MseLossOp>(*impl_, lhs, rhs, reduction);
}

Value Graph::crossEntropy(Value logits, Value labels, Reduction reduction) {
  return loss<mt::CrossEntropyOp>(*impl_, logits, labels, reduction);
}
