//===- Graph.cpp - tessel::Graph ------------------------------------------===//
//
// Every builder method creates its tessel op with placeholder result types,
// then asks the op's own type inference and verifier for the real types: the
// graph API checks exactly the rules the dialect checks, with its messages.
//
//===----------------------------------------------------------------------===//

#include "compiler/API/GraphImpl.h"
#include "compiler/InitAll.h"
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
void fail(Graph::Impl &g, const std::string &message) {
  if (g.status.ok())
    g.status = Status::error("graph '" + g.name + "', op #" +
                             std::to_string(g.opCount) + ": " + message);
}

/// Creates `opName` on `operands` with `attrs`, takes its result types from
/// the op's type inference and verifies it. Returns handles to its results,
/// or none after recording the op's diagnostic as the graph's error.
std::vector<Value> createOp(Graph::Impl &g, llvm::StringRef opName,
                            const std::vector<Value> &operands,
                            llvm::ArrayRef<NamedAttribute> attrs,
                            unsigned numResults = 1) {
  ++g.opCount;
  if (!g.status.ok())
    return {};
  llvm::SmallVector<mlir::Value> ins;
  for (auto [i, v] : llvm::enumerate(operands)) {
    if (!g.owns(v)) {
      fail(g, "'" + opName.str() + "' operand #" + std::to_string(i) +
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

  mlir::Operation *op =
      mt::createInferredOp(g.builder, loc, opName, ins, attrs, numResults);
  if (!op) {
    fail(g, message.empty() ? "'" + opName.str() + "' is invalid" : message);
    return {};
  }
  std::vector<Value> handles;
  for (mlir::Value result : op->getResults()) {
    handles.push_back(g.value(static_cast<int>(g.values.size())));
    g.values.push_back(result);
  }
  return handles;
}

Value createOne(Graph::Impl &g, llvm::StringRef opName,
                const std::vector<Value> &operands,
                llvm::ArrayRef<NamedAttribute> attrs = {}) {
  std::vector<Value> results = createOp(g, opName, operands, attrs);
  return results.empty() ? Value() : results.front();
}

mt::ActivationLayout toMlir(Layout layout) {
  return static_cast<mt::ActivationLayout>(static_cast<int>(layout));
}
mt::FilterLayout toMlir(FilterLayout layout) {
  return static_cast<mt::FilterLayout>(static_cast<int>(layout));
}

/// Builds the attribute list of an op.
struct Attrs {
  mlir::Builder b;
  llvm::SmallVector<NamedAttribute> list;
  explicit Attrs(mlir::MLIRContext *ctx) : b(ctx) {}
  Attrs &add(llvm::StringRef name, mlir::Attribute value) {
    list.push_back(b.getNamedAttr(name, value));
    return *this;
  }
  Attrs &array(llvm::StringRef name, const std::vector<int64_t> &values) {
    if (!values.empty())
      add(name, b.getDenseI64ArrayAttr(values));
    return *this;
  }
  Attrs &i64(llvm::StringRef name, int64_t value) {
    return add(name, b.getI64IntegerAttr(value));
  }
  Attrs &f64(llvm::StringRef name, double value) {
    return add(name, b.getF64FloatAttr(value));
  }
  Attrs &flag(llvm::StringRef name, bool set) {
    if (set)
      add(name, b.getUnitAttr());
    return *this;
  }
  Attrs &layout(llvm::StringRef name, Layout value) {
    return add(name, mt::ActivationLayoutAttr::get(b.getContext(), toMlir(value)));
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
    fail(g, "an input needs a name");
    return {};
  }
  if (llvm::is_contained(g.inputNames, name)) {
    fail(g, "input '" + name + "' is declared twice; input names must be unique");
    return {};
  }
  for (int64_t size : shape)
    if (size < 0) {
      fail(g, "input '" + name + "' has a negative size");
      return {};
    }
  auto type = mlir::RankedTensorType::get(shape, g.builder.getF32Type());
  if (!mt::fitsInMemory(type)) {
    fail(g, "input '" + name + "' has shape " + shapeString(shape) +
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
    fail(g, "constant tensor is empty (was it built with the wrong number of values?)");
    return {};
  }
  Tensor dense = value.isContiguous() ? value : value.clone();
  auto type = mlir::RankedTensorType::get(dense.shape(), g.builder.getF32Type());
  auto attr = mlir::DenseElementsAttr::get(
      type, llvm::ArrayRef<float>(dense.data(), dense.numElements()));
  auto op = mt::ConstantOp::create(g.builder, g.function.getLoc(), attr);
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
    fail(g, "labels hold " + std::to_string(values.size()) + " values, their shape " +
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
    fail(g, "output '" + name + "' is not a value of this graph");
    return;
  }
  if (name.empty()) {
    fail(g, "an output needs a name");
    return;
  }
  if (llvm::any_of(g.outputs, [&](const auto &output) { return output.first == name; })) {
    fail(g, "output '" + name + "' is declared twice; output names must be unique");
    return;
  }
  g.outputs.emplace_back(name, value.id());
}

/// The operand list with an optional trailing operand.
static std::vector<Value> withOptional(std::vector<Value> operands,
                                       std::optional<Value> extra) {
  if (extra)
    operands.push_back(*extra);
  return operands;
}

static Attrs convAttrs(mlir::MLIRContext *ctx, const ConvOptions &o) {
  Attrs a(ctx);
  a.layout("layout", o.layout)
      .add("filter_layout", mt::FilterLayoutAttr::get(ctx, toMlir(o.filterLayout)))
      .array("strides", o.strides)
      .array("dilations", o.dilations)
      .array("padding", o.padding)
      .i64("groups", o.groups);
  return a;
}

Value Graph::conv(Value input, Value filter, const ConvOptions &options,
                  std::optional<Value> bias) {
  Impl &g = *impl_;
  Attrs a = convAttrs(g.context.get(), options);
  if (!options.outputPadding.empty()) {
    ++g.opCount;
    fail(g, "'tessel.conv' output padding applies to conv_transpose only");
    return {};
  }
  return createOne(g, "tessel.conv", withOptional({input, filter}, bias), a.list);
}

Value Graph::convTranspose(Value input, Value filter, const ConvOptions &options,
                           std::optional<Value> bias) {
  Impl &g = *impl_;
  Attrs a = convAttrs(g.context.get(), options);
  a.array("output_padding", options.outputPadding);
  return createOne(g, "tessel.conv_transpose", withOptional({input, filter}, bias),
                   a.list);
}

static mt::PoolKindAttr poolKind(mlir::MLIRContext *ctx, PoolKind kind) {
  return mt::PoolKindAttr::get(ctx, static_cast<mt::PoolKind>(static_cast<int>(kind)));
}

Value Graph::pool(PoolKind kind, Value input, const PoolOptions &o) {
  Impl &g = *impl_;
  Attrs a(g.context.get());
  a.add("kind", poolKind(g.context.get(), kind))
      .layout("layout", o.layout)
      .add("kernel", a.b.getDenseI64ArrayAttr(o.kernel))
      .array("strides", o.strides)
      .array("padding", o.padding)
      .array("dilations", o.dilations)
      .flag("ceil_mode", o.ceilMode)
      .flag("count_include_pad", o.countIncludePad);
  if (kind == PoolKind::Lp)
    a.f64("p", o.p);
  return createOne(g, "tessel.pool", {input}, a.list);
}

Value Graph::adaptivePool(PoolKind kind, Value input, Layout layout,
                          std::vector<int64_t> outputSize) {
  Impl &g = *impl_;
  Attrs a(g.context.get());
  a.add("kind", poolKind(g.context.get(), kind))
      .layout("layout", layout)
      .add("output_size", a.b.getDenseI64ArrayAttr(outputSize));
  return createOne(g, "tessel.adaptive_pool", {input}, a.list);
}

Value Graph::globalPool(PoolKind kind, Value input, Layout layout, double p) {
  Impl &g = *impl_;
  Attrs a(g.context.get());
  a.add("kind", poolKind(g.context.get(), kind)).layout("layout", layout);
  if (kind == PoolKind::Lp)
    a.f64("p", p);
  return createOne(g, "tessel.global_pool", {input}, a.list);
}

Value Graph::batchNorm(Value input, Value scale, Value bias, Value mean,
                       Value variance, std::optional<Layout> layout,
                       double epsilon) {
  Impl &g = *impl_;
  Attrs a(g.context.get());
  if (layout)
    a.layout("layout", *layout);
  a.f64("epsilon", epsilon);
  return createOne(g, "tessel.batch_norm", {input, scale, bias, mean, variance},
                   a.list);
}

std::vector<Value> Graph::batchNormTrain(Value input, Value scale, Value bias,
                                         std::optional<Layout> layout, double epsilon) {
  Impl &g = *impl_;
  Attrs a(g.context.get());
  if (layout)
    a.layout("layout", *layout);
  a.f64("epsilon", epsilon);
  return createOp(g, "tessel.batch_norm_train", {input, scale, bias}, a.list,
                  /*numResults=*/3);
}

Value Graph::relu(Value x) { return createOne(*impl_, "tessel.relu", {x}); }
Value Graph::sigmoid(Value x) { return createOne(*impl_, "tessel.sigmoid", {x}); }
Value Graph::tanh(Value x) { return createOne(*impl_, "tessel.tanh", {x}); }
Value Graph::abs(Value x) { return createOne(*impl_, "tessel.abs", {x}); }
Value Graph::neg(Value x) { return createOne(*impl_, "tessel.neg", {x}); }
Value Graph::sqrt(Value x) { return createOne(*impl_, "tessel.sqrt", {x}); }
Value Graph::exp(Value x) { return createOne(*impl_, "tessel.exp", {x}); }
Value Graph::log(Value x) { return createOne(*impl_, "tessel.log", {x}); }
Value Graph::sign(Value x) { return createOne(*impl_, "tessel.sign", {x}); }

Value Graph::leakyRelu(Value x, double alpha) {
  Attrs a(impl_->context.get());
  a.f64("alpha", alpha);
  return createOne(*impl_, "tessel.leaky_relu", {x}, a.list);
}

Value Graph::clamp(Value x, std::optional<double> min, std::optional<double> max) {
  Attrs a(impl_->context.get());
  if (min)
    a.f64("min", *min);
  if (max)
    a.f64("max", *max);
  return createOne(*impl_, "tessel.clamp", {x}, a.list);
}

Value Graph::add(Value l, Value r) { return createOne(*impl_, "tessel.add", {l, r}); }
Value Graph::sub(Value l, Value r) { return createOne(*impl_, "tessel.sub", {l, r}); }
Value Graph::mul(Value l, Value r) { return createOne(*impl_, "tessel.mul", {l, r}); }
Value Graph::div(Value l, Value r) { return createOne(*impl_, "tessel.div", {l, r}); }
Value Graph::pow(Value l, Value r) { return createOne(*impl_, "tessel.pow", {l, r}); }

Value Graph::linear(Value input, Value weight, std::optional<Value> bias) {
  return createOne(*impl_, "tessel.linear", withOptional({input, weight}, bias));
}

Value Graph::matmul(Value lhs, Value rhs) {
  return createOne(*impl_, "tessel.matmul", {lhs, rhs});
}

Value Graph::reshape(Value x, std::vector<int64_t> shape) {
  Attrs a(impl_->context.get());
  a.add("shape", a.b.getDenseI64ArrayAttr(shape));
  return createOne(*impl_, "tessel.reshape", {x}, a.list);
}

Value Graph::flatten(Value x, int64_t startDim, int64_t endDim) {
  Attrs a(impl_->context.get());
  a.i64("start_dim", startDim).i64("end_dim", endDim);
  return createOne(*impl_, "tessel.flatten", {x}, a.list);
}

Value Graph::transpose(Value x, std::vector<int64_t> perm) {
  Attrs a(impl_->context.get());
  a.add("perm", a.b.getDenseI64ArrayAttr(perm));
  return createOne(*impl_, "tessel.transpose", {x}, a.list);
}

Value Graph::concat(const std::vector<Value> &values, int64_t axis) {
  if (values.empty()) {
    ++impl_->opCount;
    fail(*impl_, "'tessel.concat' needs at least one input");
    return {};
  }
  Attrs a(impl_->context.get());
  a.i64("axis", axis);
  return createOne(*impl_, "tessel.concat", values, a.list);
}

Value Graph::relayout(Value x, Layout from, Layout to) {
  Attrs a(impl_->context.get());
  a.layout("source", from).layout("target", to);
  return createOne(*impl_, "tessel.relayout", {x}, a.list);
}

Value Graph::pad(Value x, PadMode mode, std::vector<int64_t> padding, double value) {
  Attrs a(impl_->context.get());
  a.add("mode", mt::PadModeAttr::get(impl_->context.get(),
                                     static_cast<mt::PadMode>(static_cast<int>(mode))))
      .add("padding", a.b.getDenseI64ArrayAttr(padding));
  if (mode == PadMode::Constant)
    a.f64("value", value);
  return createOne(*impl_, "tessel.pad", {x}, a.list);
}

Value Graph::upsample(Value x, UpsampleMode mode, Layout layout,
                      std::vector<int64_t> size, std::vector<double> scales,
                      bool alignCorners) {
  Attrs a(impl_->context.get());
  a.add("mode", mt::UpsampleModeAttr::get(
                    impl_->context.get(),
                    static_cast<mt::UpsampleMode>(static_cast<int>(mode))))
      .layout("layout", layout)
      .array("size", size)
      .flag("align_corners", alignCorners);
  if (!scales.empty())
    a.add("scales", a.b.getDenseF64ArrayAttr(scales));
  return createOne(*impl_, "tessel.upsample", {x}, a.list);
}

Value Graph::pixelShuffle(Value x, Layout layout, int64_t factor) {
  Attrs a(impl_->context.get());
  a.layout("layout", layout).i64("factor", factor);
  return createOne(*impl_, "tessel.pixel_shuffle", {x}, a.list);
}

Value Graph::pixelUnshuffle(Value x, Layout layout, int64_t factor) {
  Attrs a(impl_->context.get());
  a.layout("layout", layout).i64("factor", factor);
  return createOne(*impl_, "tessel.pixel_unshuffle", {x}, a.list);
}

Value Graph::softmax(Value x, int64_t axis) {
  Attrs a(impl_->context.get());
  a.i64("axis", axis);
  return createOne(*impl_, "tessel.softmax", {x}, a.list);
}

Value Graph::logSoftmax(Value x, int64_t axis) {
  Attrs a(impl_->context.get());
  a.i64("axis", axis);
  return createOne(*impl_, "tessel.log_softmax", {x}, a.list);
}

static Attrs reduceAttrs(mlir::MLIRContext *ctx,
                         const std::optional<std::vector<int64_t>> &axes,
                         bool keepDims) {
  Attrs a(ctx);
  if (axes)
    a.add("axes", a.b.getDenseI64ArrayAttr(*axes));
  a.flag("keepdims", keepDims);
  return a;
}

Value Graph::sum(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims) {
  return createOne(*impl_, "tessel.sum", {x},
                   reduceAttrs(impl_->context.get(), axes, keepDims).list);
}

Value Graph::mean(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims) {
  return createOne(*impl_, "tessel.mean", {x},
                   reduceAttrs(impl_->context.get(), axes, keepDims).list);
}

Value Graph::reduceMax(Value x, std::optional<std::vector<int64_t>> axes,
                       bool keepDims) {
  return createOne(*impl_, "tessel.max", {x},
                   reduceAttrs(impl_->context.get(), axes, keepDims).list);
}

Value Graph::reduceMin(Value x, std::optional<std::vector<int64_t>> axes,
                       bool keepDims) {
  return createOne(*impl_, "tessel.min", {x},
                   reduceAttrs(impl_->context.get(), axes, keepDims).list);
}

Value Graph::slice(Value x, std::vector<int64_t> offsets, std::vector<int64_t> sizes,
                   std::vector<int64_t> strides) {
  Attrs a(impl_->context.get());
  if (strides.empty())
    strides.assign(offsets.size(), 1);
  a.add("offsets", a.b.getDenseI64ArrayAttr(offsets))
      .add("sizes", a.b.getDenseI64ArrayAttr(sizes))
      .add("strides", a.b.getDenseI64ArrayAttr(strides));
  return createOne(*impl_, "tessel.slice", {x}, a.list);
}

Value Graph::gather(Value x, Value indices, int64_t axis) {
  Attrs a(impl_->context.get());
  a.i64("axis", axis);
  return createOne(*impl_, "tessel.gather", {x, indices}, a.list);
}

Value Graph::mseLoss(Value lhs, Value rhs, Reduction reduction) {
  Attrs a(impl_->context.get());
  a.add("reduction",
        mt::ReductionAttr::get(impl_->context.get(),
                               static_cast<mt::Reduction>(static_cast<int>(reduction))));
  return createOne(*impl_, "tessel.mse_loss", {lhs, rhs}, a.list);
}

Value Graph::crossEntropy(Value logits, Value labels, Reduction reduction) {
  Attrs a(impl_->context.get());
  a.add("reduction",
        mt::ReductionAttr::get(impl_->context.get(),
                               static_cast<mt::Reduction>(static_cast<int>(reduction))));
  return createOne(*impl_, "tessel.cross_entropy", {logits, labels}, a.list);
}
