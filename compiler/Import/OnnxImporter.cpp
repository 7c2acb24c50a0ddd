//===- OnnxImporter.cpp - ONNX models to the tessel dialect ---------------===//
//
// The model is parsed by libonnx's protobuf classes (or its text parser) and
// walked node by node in graph order. Every ONNX value is either a run-time
// tensor (an mlir::Value of f32) or a constant known at import (an
// OnnxTensor): initializers, Constant nodes and everything computed from
// constants only — which is how the shape subgraphs of exported models
// (Shape -> Gather -> Concat -> Reshape, ...) fold away. Constants become
// tessel.constant ops when a run-time op needs them.
//
// Ops are created with createInferredOp, so the dialect's own shape rules
// check every node; their messages get the node's name and op type.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporter.h"

#include "dialects/tessel/IR/ShapeInference.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <set>

using namespace tessel;
using namespace tessel::detail;
namespace mt = mlir::tessel;
using mlir::NamedAttribute;
using mlir::Value;
using Shape = std::vector<int64_t>;

int64_t OnnxTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool tessel::detail::isOnnxPath(llvm::StringRef path) {
  return path.ends_with(".onnx") || path.ends_with(".onnxtxt");
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

namespace {

const char *dataTypeName(int type) {
  switch (type) {
  case onnx::TensorProto::FLOAT: return "FLOAT";
  case onnx::TensorProto::UINT8: return "UINT8";
  case onnx::TensorProto::INT8: return "INT8";
  case onnx::TensorProto::UINT16: return "UINT16";
  case onnx::TensorProto::INT16: return "INT16";
  case onnx::TensorProto::INT32: return "INT32";
  case onnx::TensorProto::INT64: return "INT64";
  case onnx::TensorProto::STRING: return "STRING";
  case onnx::TensorProto::BOOL: return "BOOL";
  case onnx::TensorProto::FLOAT16: return "FLOAT16";
  case onnx::TensorProto::DOUBLE: return "DOUBLE";
  case onnx::TensorProto::UINT32: return "UINT32";
  case onnx::TensorProto::UINT64: return "UINT64";
  case onnx::TensorProto::BFLOAT16: return "BFLOAT16";
  default: return "an unknown data type";
  }
}

int64_t product(llvm::ArrayRef<int64_t> values) {
  return std::accumulate(values.begin(), values.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

/// Decodes `count` little-endian values of `Raw` from `bytes` into `out`.
template <typename Raw, typename Out>
void decodeRaw(const std::string &bytes, int64_t count, std::vector<Out> &out) {
  out.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    Raw v;
    std::memcpy(&v, bytes.data() + i * sizeof(Raw), sizeof(Raw));
    out[i] = static_cast<Out>(v);
  }
}

double halfToDouble(uint16_t bits, bool brain) {
  if (brain) {
    uint32_t f = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &f, sizeof(value));
    return value;
  }
  return llvm::APFloat(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits)).convertToDouble();
}

} // namespace

Result<OnnxTensor> tessel::detail::readOnnxTensor(const onnx::TensorProto &proto,
                                                  const std::string &what) {
  using R = Result<OnnxTensor>;
  OnnxTensor t;
  for (int64_t d : proto.dims()) {
    if (d < 0)
      return R::error(what + " has a negative dim (" + std::to_string(d) + ")");
    t.shape.push_back(d);
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return R::error(what + " keeps its data in an external file, which is not supported");
  int64_t count = t.numElements();
  if (count > (int64_t{1} << 34))
    return R::error(what + " has " + std::to_string(count) + " elements, too many");
  int type = proto.data_type();
  size_t width = 0;
  switch (type) {
  case onnx::TensorProto::FLOAT: case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32: width = 4; break;
  case onnx::TensorProto::DOUBLE: case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64: width = 8; break;
  case onnx::TensorProto::FLOAT16: case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16: case onnx::TensorProto::UINT16: width = 2; break;
  case onnx::TensorProto::INT8: case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL: width = 1; break;
  default:
    return R::error(what + " has data type " + dataTypeName(type) +
                    ", which Tessel does not read");
  }
  t.isFloat = type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE ||
              type == onnx::TensorProto::FLOAT16 || type == onnx::TensorProto::BFLOAT16;
  auto sizeError = [&](int64_t got) {
    return R::error(llvm::formatv("{0} has shape {1} ({2} elements) but holds {3} values",
                                  what, formatShape(t.shape), count, got)
                        .str());
  };
  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (raw.size() != static_cast<size_t>(count) * width)
      return sizeError(static_cast<int64_t>(raw.size() / width));
    switch (type) {
    case onnx::TensorProto::FLOAT: decodeRaw<float>(raw, count, t.floats); break;
    case onnx::TensorProto::DOUBLE: decodeRaw<double>(raw, count, t.floats); break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      std::vector<int64_t> bits;
      decodeRaw<uint16_t>(raw, count, bits);
      for (int64_t b : bits)
        t.floats.push_back(halfToDouble(static_cast<uint16_t>(b),
                                        type == onnx::TensorProto::BFLOAT16));
      break;
    }
    case onnx::TensorProto::INT32: decodeRaw<int32_t>(raw, count, t.ints); break;
    case onnx::TensorProto::UINT32: decodeRaw<uint32_t>(raw, count, t.ints); break;
    case onnx::TensorProto::INT64: decodeRaw<int64_t>(raw, count, t.ints); break;
    case onnx::TensorProto::UINT64: decodeRaw<uint64_t>(raw, count, t.ints); break;
    case onnx::TensorProto::INT16: decodeRaw<int16_t>(raw, count, t.ints); break;
    case onnx::TensorProto::UINT16: decodeRaw<uint16_t>(raw, count, t.ints); break;
    case onnx::TensorProto::INT8: decodeRaw<int8_t>(raw, count, t.ints); break;
    default: decodeRaw<uint8_t>(raw, count, t.ints); break;
    }
    return t;
  }
  switch (type) {
  case onnx::TensorProto::FLOAT:
    t.floats.assign(proto.float_data().begin(), proto.float_data().end());
    break;
  case onnx::TensorProto::DOUBLE:
    t.floats.assign(proto.double_data().begin(), proto.double_data().end());
    break;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    for (int32_t b : proto.int32_data())
      t.floats.push_back(halfToDouble(static_cast<uint16_t>(b),
                                      type == onnx::TensorProto::BFLOAT16));
    break;
  case onnx::TensorProto::INT64:
    t.ints.assign(proto.int64_data().begin(), proto.int64_data().end());
    break;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    t.ints.assign(proto.uint64_data().begin(), proto.uint64_data().end());
    break;
  default:
    t.ints.assign(proto.int32_data().begin(), proto.int32_data().end());
    break;
  }
  int64_t got = static_cast<int64_t>(t.isFloat ? t.floats.size() : t.ints.size());
  if (got != count)
    return sizeError(got);
  return t;
}

Result<OnnxTensor> tessel::detail::readOnnxTensorFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return Result<OnnxTensor>::error("cannot read '" + path +
                                     "': " + buffer.getError().message());
  onnx::TensorProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            static_cast<int>((*buffer)->getBufferSize())))
    return Result<OnnxTensor>::error("'" + path + "' is not a serialized ONNX TensorProto");
  return readOnnxTensor(proto, "tensor '" + path + "'");
}

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

namespace {

using ConstPtr = std::shared_ptr<const OnnxTensor>;

/// An ONNX value: a run-time tensor, a constant, or a constant that has
/// also been materialized as a tessel.constant.
struct Entry {
  Value value;
  ConstPtr constant;
};

OnnxTensor scalarInts(std::vector<int64_t> values, Shape shape) {
  OnnxTensor t;
  t.isFloat = false;
  t.ints = std::move(values);
  t.shape = std::move(shape);
  return t;
}

class Importer {
public:
  Importer(mlir::MLIRContext &context, std::string file, const OnnxImportOptions &options)
      : context(context), builder(&context), file(std::move(file)), options(options),
        handler(&context, [this](mlir::Diagnostic &diag) {
          if (diag.getSeverity() == mlir::DiagnosticSeverity::Error &&
              diagnostics.empty())
            diagnostics = diag.str();
          return mlir::success();
        }) {
    context.loadDialect<mt::TesselDialect, mlir::func::FuncDialect>();
  }

  Result<mlir::OwningOpRef<mlir::ModuleOp>> run(const onnx::ModelProto &model);

private:
  using Converter = std::function<Status()>;

  // --- errors ---
  Status fail(const std::string &message) const {
    return Status::error(file + ": node '" + nodeLabel() + "' (" + node->op_type() +
                         "): " + message);
  }
  Status failAttribute(llvm::StringRef name, const std::string &why) const {
    return fail("attribute '" + name.str() + "' " + why);
  }
  std::string nodeLabel() const {
    return node->name().empty() ? "#" + std::to_string(nodeIndex) : node->name();
  }

  // --- inputs and outputs of the current node ---
  int numInputs() const { return node->input_size(); }
  bool hasInput(int i) const { return i < node->input_size() && !node->input(i).empty(); }
  Result<Entry *> entry(int i);
  Result<Value> input(int i);
  /// The constant input i, or null when it is computed at run time.
  Result<ConstPtr> constantInput(int i);
  /// The constant input i; an error when it is computed at run time.
  Result<ConstPtr> requireConstant(int i, llvm::StringRef what);
  Result<std::vector<int64_t>> intsInput(int i, llvm::StringRef what);
  Status setOutput(int i, Value value);
  Status setOutput(int i, OnnxTensor constant);
  /// Output i from a built value, or the error that building it gave.
  Status setOutput(int i, const Result<Value> &value) {
    return value ? setOutput(i, *value) : value.status();
  }
  bool outputUsed(int i) const { return i < node->output_size() && !node->output(i).empty(); }

  // --- attributes (each read marks it handled) ---
  const onnx::AttributeProto *attribute(llvm::StringRef name) {
    for (const onnx::AttributeProto &a : node->attribute())
      if (a.name() == name) {
        handled.insert(a.name());
        return &a;
      }
    return nullptr;
  }
  int64_t intAttr(llvm::StringRef name, int64_t fallback) {
    const onnx::AttributeProto *a = attribute(name);
    return a ? a->i() : fallback;
  }
  double floatAttr(llvm::StringRef name, double fallback) {
    const onnx::AttributeProto *a = attribute(name);
    return a ? a->f() : fallback;
  }
  std::string stringAttr(llvm::StringRef name, const std::string &fallback) {
    const onnx::AttributeProto *a = attribute(name);
    return a ? a->s() : fallback;
  }
  std::optional<std::vector<int64_t>> intsAttr(llvm::StringRef name) {
    const onnx::AttributeProto *a = attribute(name);
    if (!a)
      return std::nullopt;
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }
  std::optional<std::vector<double>> floatsAttr(llvm::StringRef name) {
    const onnx::AttributeProto *a = attribute(name);
    if (!a)
      return std::nullopt;
    return std::vector<double>(a->floats().begin(), a->floats().end());
  }

  // --- building ops ---
  Result<mlir::Operation *> build(llvm::StringRef name, mlir::ValueRange operands,
                                  llvm::ArrayRef<NamedAttribute> attrs,
                                  unsigned numResults = 1);
  Result<Value> build1(llvm::StringRef name, mlir::ValueRange operands,
                       llvm::ArrayRef<NamedAttribute> attrs = {}) {
    auto op = build(name, operands, attrs);
    if (!op)
      return op.status();
    return (*op)->getResult(0);
  }
  Value materialize(const OnnxTensor &t);
  NamedAttribute named(llvm::StringRef name, mlir::Attribute value) {
    return builder.getNamedAttr(name, value);
  }
  NamedAttribute i64s(llvm::StringRef name, llvm::ArrayRef<int64_t> values) {
    return named(name, builder.getDenseI64ArrayAttr(values));
  }
  NamedAttribute i64(llvm::StringRef name, int64_t value) {
    return named(name, builder.getI64IntegerAttr(value));
  }
  NamedAttribute f64(llvm::StringRef name, double value) {
    return named(name, builder.getF64FloatAttr(value));
  }
  NamedAttribute layoutAttr(size_t rank) {
    mt::ActivationLayout layout = rank == 3   ? mt::ActivationLayout::NCW
                                  : rank == 4 ? mt::ActivationLayout::NCHW
                                              : mt::ActivationLayout::NCDHW;
    return named("layout", mt::ActivationLayoutAttr::get(&context, layout));
  }
  static Shape shapeOf(Value v) {
    auto shape = llvm::cast<mlir::RankedTensorType>(v.getType()).getShape();
    return Shape(shape.begin(), shape.end());
  }
  Result<Value> reshape(Value v, const Shape &shape) {
    if (shapeOf(v) == shape)
      return v;
    return build1("tessel.reshape", v, {i64s("shape", shape)});
  }
  Result<Value> transpose(Value v, llvm::ArrayRef<int64_t> perm) {
    return build1("tessel.transpose", v, {i64s("perm", perm)});
  }
  Result<Value> scalarOp(llvm::StringRef name, Value v, double scalar);

  // --- converters ---
  void registerConverters();
  Status convertNode();
  Status convertConv(bool transposed);
  Status convertPool(mt::PoolKind kind);
  Status convertGlobalPool(mt::PoolKind kind);
  Status convertBatchNorm();
  Status convertUnary(llvm::StringRef name);
  Status convertBinary(llvm::StringRef name);
  Status convertClip();
  Status convertPRelu();
  Status convertGemm();
  Status convertReshapeLike(llvm::StringRef opType);
  Status convertTranspose();
  Status convertConcat();
  Status convertPad();
  Status convertResize(bool upsample);
  Status convertDepthToSpace(bool inverse);
  Status convertSoftmax(bool log);
  Status convertReduce(llvm::StringRef name);
  Status convertSlice();
  Status convertSplit();
  Status convertGather();
  Status convertConstant();
  Status convertShapeOps();

  /// Spatial attributes of convs and pools, with auto_pad resolved.
  struct Window {
    Shape kernel, strides, dilations, padding;
  };
  Result<Window> readWindow(const Shape &inputShape, std::optional<Shape> kernel,
                            bool hasDilations);

  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  std::string file;
  OnnxImportOptions options;
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler;

  int64_t opset = 0;
  std::map<std::string, Entry> values;
  std::map<std::string, Converter> converters;
  const onnx::NodeProto *node = nullptr;
  int nodeIndex = 0;
  std::set<std::string> handled;
  mlir::Location loc = builder.getUnknownLoc();
};

Result<Entry *> Importer::entry(int i) {
  if (!hasInput(i))
    return fail("input #" + std::to_string(i) + " is missing");
  auto it = values.find(node->input(i));
  if (it == values.end())
    return fail("input #" + std::to_string(i) + " '" + node->input(i) +
                "' is not defined by an earlier node, an input or an initializer");
  return &it->second;
}

Value Importer::materialize(const OnnxTensor &t) {
  mlir::Attribute attr;
  if (t.isFloat) {
    auto type = mlir::RankedTensorType::get(t.shape, builder.getF32Type());
    std::vector<float> data(t.floats.begin(), t.floats.end());
    attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(data));
  } else {
    auto type = mlir::RankedTensorType::get(t.shape, builder.getI64Type());
    attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<int64_t>(t.ints));
  }
  return mt::ConstantOp::create(builder, loc, llvm::cast<mlir::TypedAttr>(attr))
      .getResult();
}

Result<Value> Importer::input(int i) {
  auto e = entry(i);
  if (!e)
    return e.status();
  if (!(*e)->value)
    (*e)->value = materialize(*(*e)->constant);
  return (*e)->value;
}

Result<ConstPtr> Importer::constantInput(int i) {
  auto e = entry(i);
  if (!e)
    return e.status();
  return (*e)->constant;
}

Result<ConstPtr> Importer::requireConstant(int i, llvm::StringRef what) {
  auto c = constantInput(i);
  if (!c)
    return c.status();
  if (!*c)
    return fail("input '" + what.str() + "' must be a constant (an initializer or "
                "computed from constants); Tessel compiles static shapes");
  return *c;
}

Result<std::vector<int64_t>> Importer::intsInput(int i, llvm::StringRef what) {
  auto c = requireConstant(i, what);
  if (!c)
    return c.status();
  if ((*c)->isFloat)
    return fail("input '" + what.str() + "' must hold integers");
  return (*c)->ints;
}

Status Importer::setOutput(int i, Value value) {
  if (!outputUsed(i))
    return Status();
  values[node->output(i)] = Entry{value, nullptr};
  return Status();
}

Status Importer::setOutput(int i, OnnxTensor constant) {
  if (!outputUsed(i))
    return Status();
  values[node->output(i)] = Entry{Value(), std::make_shared<const OnnxTensor>(std::move(constant))};
  return Status();
}

Result<mlir::Operation *> Importer::build(llvm::StringRef name, mlir::ValueRange operands,
                                          llvm::ArrayRef<NamedAttribute> attrs,
                                          unsigned numResults) {
  diagnostics.clear();
  mlir::Operation *op = mt::createInferredOp(builder, loc, name, operands, attrs, numResults);
  if (!op)
    return fail(diagnostics.empty() ? "'" + name.str() + "' is invalid" : diagnostics);
  return op;
}

Result<Value> Importer::scalarOp(llvm::StringRef name, Value v, double scalar) {
  OnnxTensor s;
  s.floats = {scalar};
  return build1(name, {v, materialize(s)});
}

//===----------------------------------------------------------------------===//
// Windows: convs and pools
//===----------------------------------------------------------------------===//

Result<Importer::Window> Importer::readWindow(const Shape &inputShape,
                                              std::optional<Shape> kernel,
                                              bool hasDilations) {
  size_t rank = inputShape.size() - 2;
  Window w;
  if (auto k = intsAttr("kernel_shape")) {
    if (kernel && *k != *kernel)
      return failAttribute("kernel_shape", formatShape(*k) + " differs from the weights' " +
                                               formatShape(*kernel));
    kernel = *k;
  }
  if (!kernel)
    return failAttribute("kernel_shape", "is required");
  w.kernel = *kernel;
  w.strides = intsAttr("strides").value_or(Shape(rank, 1));
  w.dilations = hasDilations ? intsAttr("dilations").value_or(Shape(rank, 1)) : Shape(rank, 1);
  w.padding = intsAttr("pads").value_or(Shape(2 * rank, 0));
  if (w.kernel.size() != rank)
    return failAttribute("kernel_shape", "has " + std::to_string(w.kernel.size()) +
                                             " entries for " + std::to_string(rank) +
                                             " spatial dims");
  if (w.strides.size() != rank)
    return failAttribute("strides", "needs " + std::to_string(rank) + " entries");
  if (w.dilations.size() != rank)
    return failAttribute("dilations", "needs " + std::to_string(rank) + " entries");
  if (w.padding.size() != 2 * rank)
    return failAttribute("pads", "needs " + std::to_string(2 * rank) + " entries");
  for (size_t i = 0; i < rank; ++i)
    if (w.strides[i] <= 0 || w.dilations[i] <= 0 || w.kernel[i] <= 0)
      return fail("kernel_shape, strides and dilations must be positive");
  std::string autoPad = stringAttr("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    w.padding.assign(2 * rank, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < rank; ++i) {
      int64_t in = inputShape[2 + i];
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - in);
      int64_t small = total / 2, large = total - small;
      w.padding[i] = autoPad == "SAME_UPPER" ? small : large;
      w.padding[rank + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return failAttribute("auto_pad", "value '" + autoPad + "' is not one of NOTSET, "
                                     "SAME_UPPER, SAME_LOWER, VALID");
  }
  return w;
}

Status Importer::convertConv(bool transposed) {
  auto x = input(0);
  if (!x)
    return x.status();
  auto w = input(1);
  if (!w)
    return w.status();
  Shape xs = shapeOf(*x), ws = shapeOf(*w);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) +
                "; Tessel convolves 1-D, 2-D and 3-D data (rank 3 to 5)");
  if (ws.size() != xs.size())
    return fail("weights have rank " + std::to_string(ws.size()) + ", the input rank " +
                std::to_string(xs.size()));
  size_t rank = xs.size() - 2;
  auto window = readWindow(xs, Shape(ws.begin() + 2, ws.end()), true);
  if (!window)
    return window.status();
  int64_t groups = intAttr("group", 1);
  std::vector<NamedAttribute> attrs = {
      layoutAttr(xs.size()), i64s("strides", window->strides),
      i64s("dilations", window->dilations), i64("groups", groups)};
  mt::FilterLayout filter =
      transposed ? (rank == 1 ? mt::FilterLayout::IOW
                    : rank == 2 ? mt::FilterLayout::IOHW
                                : mt::FilterLayout::IODHW)
                 : (rank == 1 ? mt::FilterLayout::OIW
                    : rank == 2 ? mt::FilterLayout::OIHW
                                : mt::FilterLayout::OIDHW);
  attrs.push_back(named("filter_layout", mt::FilterLayoutAttr::get(&context, filter)));
  Shape padding = window->padding;
  if (transposed) {
    Shape outputPadding = intsAttr("output_padding").value_or(Shape(rank, 0));
    if (outputPadding.size() != rank)
      return failAttribute("output_padding", "needs " + std::to_string(rank) + " entries");
    if (auto outputShape = intsAttr("output_shape")) {
      // The spatial sizes asked for (or N, C, spatial): pads follow from them.
      Shape spatial = *outputShape;
      if (spatial.size() == rank + 2)
        spatial.erase(spatial.begin(), spatial.begin() + 2);
      if (spatial.size() != rank)
        return failAttribute("output_shape", "needs " + std::to_string(rank) + " entries");
      std::string autoPad = stringAttr("auto_pad", "NOTSET");
      for (size_t i = 0; i < rank; ++i) {
        int64_t extent = (window->kernel[i] - 1) * window->dilations[i] + 1;
        int64_t total = window->strides[i] * (xs[2 + i] - 1) + outputPadding[i] + extent -
                        spatial[i];
        if (total < 0) {
          outputPadding[i] -= total;
          total = 0;
        }
        int64_t half = total / 2;
        padding[i] = autoPad == "SAME_UPPER" ? half : total - half;
        padding[rank + i] = total - padding[i];
      }
    } else if (std::string autoPad = stringAttr("auto_pad", "NOTSET");
               autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      // Output size input * stride; the total padding is split like above.
      for (size_t i = 0; i < rank; ++i) {
        int64_t extent = (window->kernel[i] - 1) * window->dilations[i] + 1;
        int64_t total = std::max<int64_t>(
            0, window->strides[i] * (xs[2 + i] - 1) + outputPadding[i] + extent -
                   xs[2 + i] * window->strides[i]);
        int64_t half = total / 2;
        padding[i] = autoPad == "SAME_UPPER" ? half : total - half;
        padding[rank + i] = total - padding[i];
      }
    }
    attrs.push_back(i64s("output_padding", outputPadding));
  }
  attrs.push_back(i64s("padding", padding));
  llvm::SmallVector<Value> operands = {*x, *w};
  if (hasInput(2)) {
    auto b = input(2);
    if (!b)
      return b.status();
    operands.push_back(*b);
  }
  auto y = build1(transposed ? "tessel.conv_transpose" : "tessel.conv", operands, attrs);
  return setOutput(0, y);
}

Status Importer::convertPool(mt::PoolKind kind) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) +
                "; Tessel pools 1-D, 2-D and 3-D data (rank 3 to 5)");
  bool hasDilations = kind == mt::PoolKind::Max;
  auto window = readWindow(xs, std::nullopt, hasDilations);
  if (!window)
    return window.status();
  if (kind == mt::PoolKind::Max) {
    intAttr("storage_order", 0); // only affects the Indices output
    if (outputUsed(1))
      return fail("the Indices output is not supported");
  }
  std::vector<NamedAttribute> attrs = {
      named("kind", mt::PoolKindAttr::get(&context, kind)), layoutAttr(xs.size()),
      i64s("kernel", window->kernel), i64s("strides", window->strides),
      i64s("dilations", window->dilations), i64s("padding", window->padding)};
  if (kind != mt::PoolKind::Lp && intAttr("ceil_mode", 0))
    attrs.push_back(named("ceil_mode", builder.getUnitAttr()));
  if (kind == mt::PoolKind::Avg && intAttr("count_include_pad", 0))
    attrs.push_back(named("count_include_pad", builder.getUnitAttr()));
  if (kind == mt::PoolKind::Lp)
    attrs.push_back(f64("p", static_cast<double>(intAttr("p", 2))));
  auto y = build1("tessel.pool", *x, attrs);
  return setOutput(0, y);
}

Status Importer::convertGlobalPool(mt::PoolKind kind) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() < 3 || xs.size() > 5)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 3 to 5");
  std::vector<NamedAttribute> attrs = {named("kind", mt::PoolKindAttr::get(&context, kind)),
                                       layoutAttr(xs.size())};
  if (kind == mt::PoolKind::Lp)
    attrs.push_back(f64("p", static_cast<double>(intAttr("p", 2))));
  auto y = build1("tessel.global_pool", *x, attrs);
  return setOutput(0, y);
}

Status Importer::convertBatchNorm() {
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < 5; ++i) {
    auto v = input(i);
    if (!v)
      return v.status();
    operands.push_back(*v);
  }
  Shape xs = shapeOf(operands[0]);
  double epsilon = floatAttr("epsilon", 1e-5);
  double momentum = floatAttr("momentum", 0.9);
  intAttr("is_test", 1);             // opsets before 7
  intsAttr("consumed_inputs");        // opsets before 6
  if (opset < 9 && intAttr("spatial", 1) != 1)
    return failAttribute("spatial", "= 0 (per-element statistics) is not supported");
  bool training = intAttr("training_mode", 0) != 0;
  std::vector<NamedAttribute> attrs = {f64("epsilon", epsilon)};
  if (xs.size() >= 3 && xs.size() <= 5)
    attrs.push_back(layoutAttr(xs.size()));
  else if (xs.size() != 2)
    return fail("input has rank " + std::to_string(xs.size()) + "; expected 2 to 5");
  if (!training) {
    for (int i = 1; i < node->output_size(); ++i)
      if (outputUsed(i))
        return fail("output #" + std::to_string(i) +
                    " (running statistics) exists only with training_mode = 1");
    auto y = build1("tessel.batch_norm", operands, attrs);
    return setOutput(0, y);
  }
  // Training mode: normalize with the batch statistics and update the
  // running ones, running = running * momentum + batch * (1 - momentum).
  auto op = build("tessel.batch_norm_train", {operands[0], operands[1], operands[2]},
                  attrs, 3);
  if (!op)
    return op.status();
  if (Status s = setOutput(0, (*op)->getResult(0)); !s)
    return s;
  for (int k = 1; k <= 2; ++k) {
    if (!outputUsed(k))
      continue;
    auto kept = scalarOp("tessel.mul", operands[2 + k], momentum);
    if (!kept)
      return kept.status();
    auto fresh = scalarOp("tessel.mul", (*op)->getResult(k), 1.0 - momentum);
    if (!fresh)
      return fresh.status();
    auto sum = build1("tessel.add", {*kept, *fresh});
    if (!sum)
      return sum.status();
    if (Status s = setOutput(k, *sum); !s)
      return s;
  }
  return Status();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Status Importer::convertUnary(llvm::StringRef name) {
  auto x = input(0);
  if (!x)
    return x.status();
  std::vector<NamedAttribute> attrs;
  if (name == "tessel.leaky_relu")
    attrs.push_back(f64("alpha", floatAttr("alpha", 0.01)));
  auto y = build1(name, *x, attrs);
  return setOutput(0, y);
}

/// numpy broadcasting of two constant shapes; empty optional when they clash.
std::optional<Shape> broadcastShapes(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t x = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t y = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// Index into a tensor of `shape` broadcast to `out` at the flat index `i`.
int64_t broadcastIndex(const Shape &shape, const Shape &out, int64_t i) {
  int64_t index = 0, stride = 1;
  for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
    int64_t coord = i % out[d];
    i /= out[d];
    int64_t sd = d - static_cast<int64_t>(out.size() - shape.size());
    if (sd >= 0) {
      if (shape[sd] != 1)
        index += coord * stride;
      stride *= shape[sd];
    }
  }
  return index;
}

Status Importer::convertBinary(llvm::StringRef name) {
  auto ca = constantInput(0);
  if (!ca)
    return ca.status();
  auto cb = constantInput(1);
  if (!cb)
    return cb.status();
  // Integer arithmetic on constants: shape computations, done here.
  if (*ca && *cb && !(*ca)->isFloat && !(*cb)->isFloat) {
    std::optional<Shape> out = broadcastShapes((*ca)->shape, (*cb)->shape);
    if (!out)
      return fail("operand shapes " + formatShape((*ca)->shape) + " and " +
                  formatShape((*cb)->shape) + " do not broadcast");
    OnnxTensor r = scalarInts({}, *out);
    for (int64_t i = 0, n = product(*out); i < n; ++i) {
      int64_t x = (*ca)->ints[broadcastIndex((*ca)->shape, *out, i)];
      int64_t y = (*cb)->ints[broadcastIndex((*cb)->shape, *out, i)];
      if ((name == "tessel.div") && y == 0)
        return fail("integer division by zero");
      int64_t v = name == "tessel.add"   ? x + y
                  : name == "tessel.sub" ? x - y
                  : name == "tessel.mul" ? x * y
                  : name == "tessel.div" ? x / y
                                         : static_cast<int64_t>(std::pow(x, y));
      r.ints.push_back(v);
    }
    return setOutput(0, std::move(r));
  }
  // Integer constants feeding float math (e.g. Pow's exponent) become floats.
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < 2; ++i) {
    ConstPtr c = i == 0 ? *ca : *cb;
    if (c && !c->isFloat) {
      OnnxTensor f = *c;
      f.isFloat = true;
      f.floats.assign(c->ints.begin(), c->ints.end());
      operands.push_back(materialize(f));
      continue;
    }
    auto v = input(i);
    if (!v)
      return v.status();
    operands.push_back(*v);
  }
  auto y = build1(name, operands);
  return setOutput(0, y);
}

Status Importer::convertClip() {
  auto x = input(0);
  if (!x)
    return x.status();
  std::optional<double> low, high;
  if (opset < 11) {
    if (const onnx::AttributeProto *a = attribute("min"))
      low = a->f();
    if (const onnx::AttributeProto *a = attribute("max"))
      high = a->f();
  } else {
    for (int i = 1; i <= 2; ++i) {
      if (!hasInput(i))
        continue;
      auto c = requireConstant(i, i == 1 ? "min" : "max");
      if (!c)
        return c.status();
      if ((*c)->numElements() != 1)
        return fail(std::string("input '") + (i == 1 ? "min" : "max") + "' must be a scalar");
      double v = (*c)->isFloat ? (*c)->floats[0] : static_cast<double>((*c)->ints[0]);
      (i == 1 ? low : high) = v;
    }
  }
  if (!low && !high)
    return setOutput(0, *x);
  std::vector<NamedAttribute> attrs;
  if (low)
    attrs.push_back(f64("min", *low));
  if (high)
    attrs.push_back(f64("max", *high));
  auto y = build1("tessel.clamp", *x, attrs);
  return setOutput(0, y);
}

/// PRelu(x, slope) = relu(x) - slope * relu(-x).
Status Importer::convertPRelu() {
  auto x = input(0);
  if (!x)
    return x.status();
  auto slope = input(1);
  if (!slope)
    return slope.status();
  auto positive = build1("tessel.relu", *x);
  if (!positive)
    return positive.status();
  auto negated = build1("tessel.neg", *x);
  if (!negated)
    return negated.status();
  auto negative = build1("tessel.relu", *negated);
  if (!negative)
    return negative.status();
  auto scaled = build1("tessel.mul", {*negative, *slope});
  if (!scaled)
    return scaled.status();
  auto y = build1("tessel.sub", {*positive, *scaled});
  return setOutput(0, y);
}

/// Y = alpha * A' B' + beta * C; PyTorch's Linear (transB, alpha = beta = 1,
/// a vector bias) becomes tessel.linear.
Status Importer::convertGemm() {
  auto a = input(0);
  if (!a)
    return a.status();
  auto b = input(1);
  if (!b)
    return b.status();
  double alpha = floatAttr("alpha", 1.0), beta = floatAttr("beta", 1.0);
  bool transA = intAttr("transA", 0), transB = intAttr("transB", 0);
  intAttr("broadcast", 1); // opsets before 7: always broadcast here
  if (shapeOf(*a).size() != 2 || shapeOf(*b).size() != 2)
    return fail("A and B must be matrices");
  std::optional<Value> c;
  if (hasInput(2)) {
    auto v = input(2);
    if (!v)
      return v.status();
    c = *v;
  }
  if (transA) {
    auto t = transpose(*a, {1, 0});
    if (!t)
      return t.status();
    a = *t;
  }
  if (transB && alpha == 1.0 && beta == 1.0 &&
      (!c || (shapeOf(*c).size() == 1 && shapeOf(*c)[0] == shapeOf(*b)[0]))) {
    llvm::SmallVector<Value> operands = {*a, *b};
    if (c)
      operands.push_back(*c);
    auto y = build1("tessel.linear", operands);
    return setOutput(0, y);
  }
  if (transB) {
    auto t = transpose(*b, {1, 0});
    if (!t)
      return t.status();
    b = *t;
  }
  auto y = build1("tessel.matmul", {*a, *b});
  if (!y)
    return y.status();
  if (alpha != 1.0) {
    y = scalarOp("tessel.mul", *y, alpha);
    if (!y)
      return y.status();
  }
  if (c && beta != 0.0) {
    Value bias = *c;
    if (beta != 1.0) {
      auto scaled = scalarOp("tessel.mul", bias, beta);
      if (!scaled)
        return scaled.status();
      bias = *scaled;
    }
    y = build1("tessel.add", {*y, bias});
    if (!y)
      return y.status();
  }
  return setOutput(0, *y);
}

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

/// A negative axis counts from the end; `inclusiveEnd` also accepts `rank`
/// itself (Flatten's axis).
Result<int64_t> normalizeAxis(int64_t axis, int64_t rank, bool inclusiveEnd = false) {
  int64_t high = rank + (inclusiveEnd ? 1 : 0);
  if (axis < -rank || axis >= high)
    return Result<int64_t>::error("axis " + std::to_string(axis) + " is out of range for rank " +
                                  std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

/// Flatten, Reshape, Squeeze, Unsqueeze: a new shape for the same elements.
Status Importer::convertReshapeLike(llvm::StringRef opType) {
  auto e = entry(0);
  if (!e)
    return e.status();
  Shape in = (*e)->constant ? (*e)->constant->shape : shapeOf((*e)->value);
  int64_t rank = static_cast<int64_t>(in.size());
  Shape out;
  auto axesOf = [&](int inputIndex) -> Result<std::vector<int64_t>> {
    if (opset >= 13) {
      if (!hasInput(inputIndex))
        return std::vector<int64_t>();
      return intsInput(inputIndex, "axes");
    }
    return intsAttr("axes").value_or(std::vector<int64_t>());
  };
  if (opType == "Flatten") {
    auto axis = normalizeAxis(intAttr("axis", 1), rank, /*inclusiveEnd=*/true);
    if (!axis)
      return failAttribute("axis", axis.message());
    out = {product(llvm::ArrayRef(in).take_front(*axis)),
           product(llvm::ArrayRef(in).drop_front(*axis))};
  } else if (opType == "Reshape") {
    auto shape = intsInput(1, "shape");
    if (!shape)
      return shape.status();
    bool allowZero = intAttr("allowzero", 0) != 0;
    int64_t inferred = -1, known = 1;
    for (auto [i, d] : llvm::enumerate(*shape)) {
      if (d == 0 && !allowZero) {
        if (i >= in.size())
          return fail("shape entry #" + std::to_string(i) + " is 0 (copy), beyond the input rank");
        d = in[i];
      }
      if (d == -1) {
        if (inferred >= 0)
          return fail("shape " + formatShape(*shape) + " has more than one -1");
        inferred = static_cast<int64_t>(i);
      } else if (d < 0) {
        return fail("shape " + formatShape(*shape) + " has a negative entry");
      } else {
        known *= d;
      }
      out.push_back(d);
    }
    if (inferred >= 0) {
      if (known == 0 || product(in) % known != 0)
        return fail("cannot reshape " + formatShape(in) + " to " + formatShape(*shape));
      out[inferred] = product(in) / known;
    }
  } else if (opType == "Squeeze") {
    auto axes = axesOf(1);
    if (!axes)
      return axes.status();
    std::set<int64_t> drop;
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, rank);
      if (!axis)
        return fail(axis.message());
      if (in[*axis] != 1)
        return fail("cannot squeeze dim " + std::to_string(*axis) + " of size " +
                    std::to_string(in[*axis]));
      drop.insert(*axis);
    }
    for (int64_t d = 0; d < rank; ++d)
      if (!(axes->empty() ? in[d] == 1 : drop.count(d) > 0))
        out.push_back(in[d]);
  } else { // Unsqueeze
    auto axes = axesOf(1);
    if (!axes)
      return axes.status();
    int64_t outRank = rank + static_cast<int64_t>(axes->size());
    std::set<int64_t> insert;
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, outRank);
      if (!axis)
        return fail(axis.message());
      insert.insert(*axis);
    }
    for (int64_t d = 0, next = 0; d < outRank; ++d)
      out.push_back(insert.count(d) ? 1 : in[next++]);
  }
  if (product(out) != product(in))
    return fail("cannot reshape " + formatShape(in) + " to " + formatShape(out));
  if ((*e)->constant) {
    OnnxTensor r = *(*e)->constant;
    r.shape = out;
    return setOutput(0, std::move(r));
  }
  auto y = reshape((*e)->value, out);
  return setOutput(0, y);
}

Status Importer::convertTranspose() {
  auto e = entry(0);
  if (!e)
    return e.status();
  Shape in = (*e)->constant ? (*e)->constant->shape : shapeOf((*e)->value);
  std::vector<int64_t> perm(in.size());
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = intsAttr("perm"))
    perm = *p;
  auto value = input(0);
  if (!value)
    return value.status();
  auto y = transpose(*value, perm);
  return setOutput(0, y);
}

Status Importer::convertConcat() {
  const onnx::AttributeProto *axisAttr = attribute("axis");
  if (!axisAttr)
    return failAttribute("axis", "is required");
  int64_t axis = axisAttr->i();
  bool allConstant = true, anyFloat = false;
  std::vector<ConstPtr> constants;
  for (int i = 0; i < numInputs(); ++i) {
    auto c = constantInput(i);
    if (!c)
      return c.status();
    allConstant &= *c != nullptr;
    anyFloat |= *c && (*c)->isFloat;
    constants.push_back(*c);
  }
  if (allConstant && !anyFloat && !constants.empty()) {
    // Integer concatenation: shape vectors.
    Shape shape = constants.front()->shape;
    auto a = normalizeAxis(axis, static_cast<int64_t>(shape.size()));
    if (!a)
      return failAttribute("axis", a.message());
    int64_t outer = product(llvm::ArrayRef(shape).take_front(*a));
    OnnxTensor r = scalarInts({}, shape);
    r.shape[*a] = 0;
    for (const ConstPtr &c : constants) {
      if (c->shape.size() != shape.size())
        return fail("inputs have different ranks");
      r.shape[*a] += c->shape[*a];
    }
    for (int64_t o = 0; o < outer; ++o)
      for (const ConstPtr &c : constants) {
        int64_t chunk = c->numElements() / std::max<int64_t>(outer, 1);
        r.ints.insert(r.ints.end(), c->ints.begin() + o * chunk,
                      c->ints.begin() + (o + 1) * chunk);
      }
    return setOutput(0, std::move(r));
  }
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < numInputs(); ++i) {
    auto v = input(i);
    if (!v)
      return v.status();
    operands.push_back(*v);
  }
  auto y = build1("tessel.concat", operands, {i64("axis", axis)});
  return setOutput(0, y);
}

Status Importer::convertPad() {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  std::string mode = stringAttr("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0.0;
  if (opset < 11) {
    auto p = intsAttr(opset < 2 ? "paddings" : "pads");
    if (!p)
      return failAttribute("pads", "is required");
    pads = *p;
    value = floatAttr("value", 0.0);
  } else {
    auto p = intsInput(1, "pads");
    if (!p)
      return p.status();
    pads = *p;
    if (hasInput(2)) {
      auto c = requireConstant(2, "constant_value");
      if (!c)
        return c.status();
      if ((*c)->numElements() != 1)
        return fail("input 'constant_value' must be a scalar");
      value = (*c)->isFloat ? (*c)->floats[0] : static_cast<double>((*c)->ints[0]);
    }
    if (hasInput(3))
      return fail("input 'axes' (opset 18) is not supported");
  }
  size_t rank = xs.size();
  if (pads.size() != 2 * rank)
    return fail("pads " + formatShape(pads) + " needs " + std::to_string(2 * rank) +
                " entries (begin and end of each dim)");
  mt::PadMode padMode;
  if (mode == "constant")
    padMode = mt::PadMode::Constant;
  else if (mode == "reflect")
    padMode = mt::PadMode::Reflect;
  else if (mode == "edge")
    padMode = mt::PadMode::Replicate;
  else if (mode == "wrap")
    padMode = mt::PadMode::Circular;
  else
    return failAttribute("mode", "value '" + mode + "' is not one of constant, reflect, "
                                 "edge, wrap");
  // Negative pads remove elements: slice them off first.
  Value data = *x;
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; })) {
    Shape offsets(rank), sizes(rank), strides(rank, 1);
    for (size_t d = 0; d < rank; ++d) {
      offsets[d] = std::max<int64_t>(0, -pads[d]);
      sizes[d] = xs[d] - offsets[d] - std::max<int64_t>(0, -pads[rank + d]);
      if (sizes[d] < 0)
        return fail("pads " + formatShape(pads) + " remove more than dim " +
                    std::to_string(d) + " holds");
    }
    auto sliced = build1("tessel.slice", data,
                         {i64s("offsets", offsets), i64s("sizes", sizes), i64s("strides", strides)});
    if (!sliced)
      return sliced.status();
    data = *sliced;
    for (int64_t &p : pads)
      p = std::max<int64_t>(0, p);
  }
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return setOutput(0, data);
  std::vector<NamedAttribute> attrs = {named("mode", mt::PadModeAttr::get(&context, padMode)),
                                       i64s("padding", pads)};
  if (padMode == mt::PadMode::Constant && value != 0.0)
    attrs.push_back(f64("value", value));
  auto y = build1("tessel.pad", data, attrs);
  return setOutput(0, y);
}

/// Resize (opset 10+) and Upsample. tessel.upsample is PyTorch's
/// interpolate: nearest is the asymmetric transform with floor, linear the
/// half-pixel transform or align_corners. Other combinations are refused,
/// except nearest with half_pixel rounding on integer upscaling factors,
/// which picks the same pixels.
Status Importer::convertResize(bool upsample) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  size_t rank = xs.size();
  if (rank < 3 || rank > 5)
    return fail("input has rank " + std::to_string(rank) +
                "; Tessel resizes 1-D, 2-D and 3-D data (rank 3 to 5)");
  std::string mode = stringAttr("mode", "nearest");
  std::string transform = "asymmetric", nearest = "floor";
  std::optional<std::vector<double>> scales;
  std::optional<Shape> sizes;
  auto readScales = [&](int i) -> Status {
    auto c = requireConstant(i, "scales");
    if (!c)
      return c.status();
    if (!(*c)->isFloat)
      return fail("input 'scales' must hold floats");
    if ((*c)->numElements() > 0)
      scales = (*c)->floats;
    return Status();
  };
  if (upsample) {
    if (opset >= 9) {
      if (Status s = readScales(1); !s)
        return s;
    } else {
      scales = floatsAttr("scales");
    }
    if (!scales)
      return fail("scales are required");
  } else {
    if (opset >= 11) {
      transform = stringAttr("coordinate_transformation_mode", "half_pixel");
      nearest = stringAttr("nearest_mode", "round_prefer_floor");
      floatAttr("cubic_coeff_a", -0.75);
      if (intAttr("exclude_outside", 0) != 0)
        return failAttribute("exclude_outside", "= 1 is not supported");
      floatAttr("extrapolation_value", 0.0);
      if (hasInput(2))
        if (Status s = readScales(2); !s)
          return s;
      if (hasInput(3)) {
        auto c = intsInput(3, "sizes");
        if (!c)
          return c.status();
        sizes = *c;
      }
    } else if (Status s = readScales(1); !s) {
      return s;
    }
  }
  if (scales && sizes)
    return fail("give either 'scales' or 'sizes', not both");
  if (!scales && !sizes)
    return fail("needs 'scales' or 'sizes'");
  if ((scales && scales->size() != rank) || (sizes && sizes->size() != rank))
    return fail("scales or sizes need " + std::to_string(rank) + " entries (one per dim)");
  if ((scales && ((*scales)[0] != 1.0 || (*scales)[1] != 1.0)) ||
      (sizes && ((*sizes)[0] != xs[0] || (*sizes)[1] != xs[1])))
    return fail("resizing the batch or channel dim is not supported");

  Shape out(rank - 2);
  std::vector<double> spatialScales;
  for (size_t i = 2; i < rank; ++i) {
    out[i - 2] = sizes ? (*sizes)[i]
                       : static_cast<int64_t>(std::floor(xs[i] * (*scales)[i]));
    if (scales)
      spatialScales.push_back((*scales)[i]);
  }
  mt::UpsampleMode upsampleMode;
  bool alignCorners = false;
  if (mode == "nearest") {
    upsampleMode = mt::UpsampleMode::Nearest;
    bool integerUpscale = true;
    for (size_t i = 2; i < rank; ++i) {
      double factor = sizes ? static_cast<double>((*sizes)[i]) / xs[i] : (*scales)[i];
      integerUpscale &= factor >= 1.0 && factor == std::floor(factor) &&
                        out[i - 2] == xs[i] * static_cast<int64_t>(factor);
    }
    bool asymmetricFloor = transform == "asymmetric" && nearest == "floor";
    bool halfPixelRound =
        (transform == "half_pixel" || transform == "pytorch_half_pixel") &&
        (nearest == "round_prefer_floor" || nearest == "round_prefer_ceil") && integerUpscale;
    if (!asymmetricFloor && !halfPixelRound)
      return fail("nearest resizing with coordinate_transformation_mode '" + transform +
                  "' and nearest_mode '" + nearest +
                  "' is not supported (supported: asymmetric with floor, or half_pixel "
                  "rounding for integer upscaling factors)");
  } else if (mode == "linear" || mode == "bilinear" || mode == "trilinear") {
    upsampleMode = mt::UpsampleMode::Linear;
    bool allAboveOne = llvm::all_of(out, [](int64_t o) { return o > 1; });
    if (transform == "align_corners") {
      alignCorners = true;
      // ONNX aligns corners on the unrounded size in * scale; PyTorch's (and
      // tessel's) on the rounded output size. They agree on whole sizes only.
      for (size_t i = 2; scales && i < rank; ++i)
        if (xs[i] * (*scales)[i] != std::floor(xs[i] * (*scales)[i]))
          return fail("linear resizing with align_corners and a scale that does not "
                      "give a whole output size is not supported");
    }
    else if (!(transform == "half_pixel" ||
               (transform == "pytorch_half_pixel" && allAboveOne)))
      return fail("linear resizing with coordinate_transformation_mode '" + transform +
                  "' is not supported (supported: half_pixel, pytorch_half_pixel, "
                  "align_corners)");
  } else {
    return failAttribute("mode", "value '" + mode + "' is not supported (nearest, linear)");
  }
  std::vector<NamedAttribute> attrs = {
      named("mode", mt::UpsampleModeAttr::get(&context, upsampleMode)), layoutAttr(rank)};
  if (scales && !alignCorners)
    attrs.push_back(named("scales", builder.getDenseF64ArrayAttr(spatialScales)));
  else
    attrs.push_back(i64s("size", out));
  if (alignCorners)
    attrs.push_back(named("align_corners", builder.getUnitAttr()));
  auto y = build1("tessel.upsample", *x, attrs);
  return setOutput(0, y);
}

/// DepthToSpace in CRD mode is PyTorch's pixel_shuffle; DCR mode and
/// SpaceToDepth are a reshape, a transpose and a reshape.
Status Importer::convertDepthToSpace(bool inverse) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  if (xs.size() != 4)
    return fail("input must have rank 4 (NCHW)");
  const onnx::AttributeProto *blockAttr = attribute("blocksize");
  if (!blockAttr || blockAttr->i() <= 0)
    return failAttribute("blocksize", "must be given and positive");
  int64_t b = blockAttr->i();
  int64_t n = xs[0], c = xs[1], h = xs[2], w = xs[3];
  Result<Value> y = *x;
  if (!inverse) {
    std::string mode = stringAttr("mode", "DCR");
    if (c % (b * b) != 0)
      return fail("channels (" + std::to_string(c) + ") must be divisible by blocksize^2");
    if (mode == "CRD") {
      y = build1("tessel.pixel_shuffle", *x,
                 {layoutAttr(4), i64("factor", b)});
    } else if (mode == "DCR") {
      y = reshape(*x, {n, b, b, c / (b * b), h, w});
      if (y)
        y = transpose(*y, {0, 3, 4, 1, 5, 2});
      if (y)
        y = reshape(*y, {n, c / (b * b), h * b, w * b});
    } else {
      return failAttribute("mode", "value '" + mode + "' is not DCR or CRD");
    }
  } else {
    if (h % b != 0 || w % b != 0)
      return fail("height and width must be divisible by blocksize");
    y = reshape(*x, {n, c, h / b, b, w / b, b});
    if (y)
      y = transpose(*y, {0, 3, 5, 1, 2, 4});
    if (y)
      y = reshape(*y, {n, c * b * b, h / b, w / b});
  }
  return setOutput(0, y);
}

/// Opsets before 13 flatten the input to 2-D at `axis` (default 1) and
/// normalize each row; from 13 on, `axis` (default -1) is one dim.
Status Importer::convertSoftmax(bool log) {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  int64_t rank = static_cast<int64_t>(xs.size());
  llvm::StringRef name = log ? "tessel.log_softmax" : "tessel.softmax";
  if (opset >= 13) {
    auto y = build1(name, *x, {i64("axis", intAttr("axis", -1))});
    return setOutput(0, y);
  }
  auto axis = normalizeAxis(intAttr("axis", 1), rank);
  if (!axis)
    return failAttribute("axis", axis.message());
  Shape flat = {product(llvm::ArrayRef(xs).take_front(*axis)),
                product(llvm::ArrayRef(xs).drop_front(*axis))};
  auto y = reshape(*x, flat);
  if (y)
    y = build1(name, *y, {i64("axis", 1)});
  if (y)
    y = reshape(*y, xs);
  return setOutput(0, y);
}

Status Importer::convertReduce(llvm::StringRef name) {
  auto x = input(0);
  if (!x)
    return x.status();
  if (node->op_type() == "ReduceSumSquare") {
    x = build1("tessel.mul", {*x, *x});
    if (!x)
      return x.status();
  }
  bool keepDims = intAttr("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes;
  if (node->op_type() == "ReduceSum" && opset >= 13) {
    if (hasInput(1)) {
      auto a = intsInput(1, "axes");
      if (!a)
        return a.status();
      axes = *a;
    }
    bool noopWithEmpty = intAttr("noop_with_empty_axes", 0) != 0;
    if ((!axes || axes->empty()) && noopWithEmpty)
      return setOutput(0, *x);
    if (axes && axes->empty())
      axes.reset();
  } else {
    axes = intsAttr("axes");
  }
  std::vector<NamedAttribute> attrs;
  if (axes)
    attrs.push_back(i64s("axes", *axes));
  if (keepDims)
    attrs.push_back(named("keepdims", builder.getUnitAttr()));
  auto y = build1(name, *x, attrs);
  return setOutput(0, y);
}

/// Slice with ONNX's clamping rules, on constants (shape vectors) or as a
/// tessel.slice.
Status Importer::convertSlice() {
  auto e = entry(0);
  if (!e)
    return e.status();
  ConstPtr constant = (*e)->constant;
  Shape in = constant ? constant->shape : shapeOf((*e)->value);
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = intsAttr("starts").value_or(std::vector<int64_t>());
    ends = intsAttr("ends").value_or(std::vector<int64_t>());
    axes = intsAttr("axes").value_or(std::vector<int64_t>());
  } else {
    auto s = intsInput(1, "starts");
    if (!s)
      return s.status();
    starts = *s;
    auto en = intsInput(2, "ends");
    if (!en)
      return en.status();
    ends = *en;
    if (hasInput(3)) {
      auto a = intsInput(3, "axes");
      if (!a)
        return a.status();
      axes = *a;
    }
    if (hasInput(4)) {
      auto st = intsInput(4, "steps");
      if (!st)
        return st.status();
      steps = *st;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return fail("starts, ends, axes and steps must have the same length");
  Shape offsets(rank, 0), sizes(in), strides(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto axis = normalizeAxis(axes[i], rank);
    if (!axis)
      return fail(axis.message());
    int64_t dim = in[*axis], step = steps[i];
    if (step == 0)
      return fail("step of axis " + std::to_string(*axis) + " is 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      sizes[*axis] = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      sizes[*axis] = start > end ? (start - end - step - 1) / -step : 0;
    }
    offsets[*axis] = sizes[*axis] > 0 ? start : 0;
    strides[*axis] = step;
  }
  if (constant) {
    // Walk the result's elements and pick each from the input.
    OnnxTensor r = *constant;
    r.shape = sizes;
    r.floats.clear();
    r.ints.clear();
    Shape inStrides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      inStrides[d] = inStrides[d + 1] * in[d + 1];
    for (int64_t i = 0, n = product(sizes); i < n; ++i) {
      int64_t rest = i, index = 0;
      for (int64_t d = rank - 1; d >= 0; --d) {
        int64_t coord = rest % sizes[d];
        rest /= sizes[d];
        index += (offsets[d] + coord * strides[d]) * inStrides[d];
      }
      if (r.isFloat)
        r.floats.push_back(constant->floats[index]);
      else
        r.ints.push_back(constant->ints[index]);
    }
    return setOutput(0, std::move(r));
  }
  auto y = build1("tessel.slice", (*e)->value,
                  {i64s("offsets", offsets), i64s("sizes", sizes), i64s("strides", strides)});
  return setOutput(0, y);
}

Status Importer::convertSplit() {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  auto axis = normalizeAxis(intAttr("axis", 0), static_cast<int64_t>(xs.size()));
  if (!axis)
    return failAttribute("axis", axis.message());
  std::vector<int64_t> parts;
  if (opset >= 13 && hasInput(1)) {
    auto s = intsInput(1, "split");
    if (!s)
      return s.status();
    parts = *s;
  } else if (auto s = intsAttr("split")) {
    parts = *s;
  }
  int outputs = node->output_size();
  if (parts.empty()) {
    if (xs[*axis] % outputs != 0)
      return fail("dim " + std::to_string(*axis) + " (" + std::to_string(xs[*axis]) +
                  ") does not split into " + std::to_string(outputs) + " equal parts");
    parts.assign(outputs, xs[*axis] / outputs);
  }
  if (static_cast<int>(parts.size()) != outputs ||
      std::accumulate(parts.begin(), parts.end(), int64_t{0}) != xs[*axis])
    return fail("split " + formatShape(parts) + " does not cover dim " +
                std::to_string(*axis) + " (" + std::to_string(xs[*axis]) + ") with " +
                std::to_string(outputs) + " outputs");
  int64_t offset = 0;
  for (int i = 0; i < outputs; ++i) {
    Shape offsets(xs.size(), 0), sizes(xs), strides(xs.size(), 1);
    offsets[*axis] = offset;
    sizes[*axis] = parts[i];
    offset += parts[i];
    if (!outputUsed(i))
      continue;
    auto y = build1("tessel.slice", *x,
                    {i64s("offsets", offsets), i64s("sizes", sizes), i64s("strides", strides)});
    if (!y)
      return y.status();
    if (Status s = setOutput(i, *y); !s)
      return s;
  }
  return Status();
}

Status Importer::convertGather() {
  auto e = entry(0);
  if (!e)
    return e.status();
  auto indices = requireConstant(1, "indices");
  if (!indices)
    return indices.status();
  if ((*indices)->isFloat)
    return fail("input 'indices' must hold integers");
  ConstPtr data = (*e)->constant;
  Shape in = data ? data->shape : shapeOf((*e)->value);
  auto axis = normalizeAxis(intAttr("axis", 0), static_cast<int64_t>(in.size()));
  if (!axis)
    return failAttribute("axis", axis.message());
  int64_t dim = in[*axis];
  for (int64_t i : (*indices)->ints)
    if (i < -dim || i >= dim)
      return fail("index " + std::to_string(i) + " is outside [" + std::to_string(-dim) +
                  ", " + std::to_string(dim) + ") along axis " + std::to_string(*axis));
  if (data) {
    OnnxTensor r = *data;
    r.floats.clear();
    r.ints.clear();
    r.shape = Shape(in.begin(), in.begin() + *axis);
    llvm::append_range(r.shape, (*indices)->shape);
    r.shape.insert(r.shape.end(), in.begin() + *axis + 1, in.end());
    int64_t outer = product(llvm::ArrayRef(in).take_front(*axis));
    int64_t inner = product(llvm::ArrayRef(in).drop_front(*axis + 1));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t index : (*indices)->ints) {
        int64_t base = (o * dim + (index < 0 ? index + dim : index)) * inner;
        for (int64_t k = 0; k < inner; ++k) {
          if (r.isFloat)
            r.floats.push_back(data->floats[base + k]);
          else
            r.ints.push_back(data->ints[base + k]);
        }
      }
    return setOutput(0, std::move(r));
  }
  auto y = build1("tessel.gather", {(*e)->value, materialize(**indices)},
                  {i64("axis", *axis)});
  return setOutput(0, y);
}

Status Importer::convertConstant() {
  if (const onnx::AttributeProto *a = attribute("value")) {
    auto t = readOnnxTensor(a->t(), "attribute 'value'");
    if (!t)
      return fail(t.message());
    return setOutput(0, std::move(*t));
  }
  if (const onnx::AttributeProto *a = attribute("value_float")) {
    OnnxTensor t;
    t.floats = {a->f()};
    return setOutput(0, std::move(t));
  }
  if (const onnx::AttributeProto *a = attribute("value_floats")) {
    OnnxTensor t;
    t.floats.assign(a->floats().begin(), a->floats().end());
    t.shape = {static_cast<int64_t>(t.floats.size())};
    return setOutput(0, std::move(t));
  }
  if (const onnx::AttributeProto *a = attribute("value_int"))
    return setOutput(0, scalarInts({a->i()}, {}));
  if (const onnx::AttributeProto *a = attribute("value_ints")) {
    std::vector<int64_t> v(a->ints().begin(), a->ints().end());
    Shape shape = {static_cast<int64_t>(v.size())};
    return setOutput(0, scalarInts(std::move(v), shape));
  }
  return fail("needs one of the attributes value, value_float(s), value_int(s) "
              "(sparse and string values are not supported)");
}

/// Shape, Cast, ConstantOfShape, Range, Identity, Dropout.
Status Importer::convertShapeOps() {
  const std::string &type = node->op_type();
  if (type == "Identity" || type == "Dropout") {
    if (type == "Dropout") {
      intAttr("is_test", 1); // opsets before 7
      if (opset < 12)
        floatAttr("ratio", 0.5);
      floatAttr("seed", 0);
      intAttr("seed", 0);
      if (outputUsed(1))
        return fail("the mask output is not supported");
      if (opset >= 12 && hasInput(2)) {
        auto training = requireConstant(2, "training_mode");
        if (!training)
          return training.status();
        if (!(*training)->ints.empty() && (*training)->ints[0] != 0)
          return fail("training_mode = true is not supported (inference only)");
      }
    }
    auto e = entry(0);
    if (!e)
      return e.status();
    values[node->output(0)] = **e;
    return Status();
  }
  if (type == "Shape") {
    auto e = entry(0);
    if (!e)
      return e.status();
    Shape in = (*e)->constant ? (*e)->constant->shape : shapeOf((*e)->value);
    int64_t rank = static_cast<int64_t>(in.size());
    int64_t start = intAttr("start", 0), end = intAttr("end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    std::vector<int64_t> dims(in.begin() + start, in.begin() + std::max(start, end));
    Shape shape = {static_cast<int64_t>(dims.size())};
    return setOutput(0, scalarInts(std::move(dims), shape));
  }
  if (type == "Cast") {
    const onnx::AttributeProto *to = attribute("to");
    if (!to)
      return failAttribute("to", "is required");
    bool toFloat = to->i() == onnx::TensorProto::FLOAT ||
                   to->i() == onnx::TensorProto::DOUBLE ||
                   to->i() == onnx::TensorProto::FLOAT16;
    bool toInt = to->i() == onnx::TensorProto::INT64 || to->i() == onnx::TensorProto::INT32 ||
                 to->i() == onnx::TensorProto::INT8 || to->i() == onnx::TensorProto::UINT8 ||
                 to->i() == onnx::TensorProto::INT16 || to->i() == onnx::TensorProto::BOOL;
    if (!toFloat && !toInt)
      return failAttribute("to", std::string("casts to ") + dataTypeName(to->i()) +
                                     ", which is not supported");
    auto e = entry(0);
    if (!e)
      return e.status();
    if (ConstPtr c = (*e)->constant) {
      OnnxTensor r = *c;
      if (toFloat && !c->isFloat) {
        r.isFloat = true;
        r.floats.assign(c->ints.begin(), c->ints.end());
        r.ints.clear();
      } else if (toInt && c->isFloat) {
        r.isFloat = false;
        r.ints.clear();
        for (double v : c->floats)
          r.ints.push_back(to->i() == onnx::TensorProto::BOOL ? v != 0.0
                                                               : static_cast<int64_t>(v));
        r.floats.clear();
      } else if (to->i() == onnx::TensorProto::BOOL) {
        for (int64_t &v : r.ints)
          v = v != 0;
      }
      return setOutput(0, std::move(r));
    }
    if (!toFloat)
      return fail(std::string("casting a run-time tensor to ") + dataTypeName(to->i()) +
                  " is not supported; Tessel computes in float32");
    values[node->output(0)] = **e;
    return Status();
  }
  if (type == "ConstantOfShape") {
    auto shape = intsInput(0, "input");
    if (!shape)
      return shape.status();
    for (int64_t d : *shape)
      if (d < 0)
        return fail("shape " + formatShape(*shape) + " has a negative entry");
    OnnxTensor r;
    r.shape = *shape;
    r.floats.assign(product(*shape), 0.0);
    if (const onnx::AttributeProto *a = attribute("value")) {
      auto v = readOnnxTensor(a->t(), "attribute 'value'");
      if (!v)
        return fail(v.message());
      if (v->numElements() != 1)
        return failAttribute("value", "must hold one element");
      r.isFloat = v->isFloat;
      if (v->isFloat) {
        r.floats.assign(product(*shape), v->floats[0]);
      } else {
        r.floats.clear();
        r.ints.assign(product(*shape), v->ints[0]);
      }
    }
    return setOutput(0, std::move(r));
  }
  if (type == "Range") {
    ConstPtr c[3];
    for (int i = 0; i < 3; ++i) {
      auto v = requireConstant(i, i == 0 ? "start" : i == 1 ? "limit" : "delta");
      if (!v)
        return v.status();
      if ((*v)->numElements() != 1)
        return fail("start, limit and delta must be scalars");
      c[i] = *v;
    }
    auto get = [&](int i) {
      return c[i]->isFloat ? c[i]->floats[0] : static_cast<double>(c[i]->ints[0]);
    };
    double start = get(0), limit = get(1), delta = get(2);
    if (delta == 0)
      return fail("delta is 0");
    int64_t count = std::max<int64_t>(
        0, static_cast<int64_t>(std::ceil((limit - start) / delta)));
    if (count > (int64_t{1} << 26))
      return fail("the range has " + std::to_string(count) + " elements, too many");
    OnnxTensor r;
    r.isFloat = c[0]->isFloat;
    r.shape = {count};
    for (int64_t i = 0; i < count; ++i) {
      if (r.isFloat)
        r.floats.push_back(start + i * delta);
      else
        r.ints.push_back(static_cast<int64_t>(start) + i * static_cast<int64_t>(delta));
    }
    return setOutput(0, std::move(r));
  }
  return fail("internal: no shape rule");
}

//===----------------------------------------------------------------------===//
// Dispatch and the graph
//===----------------------------------------------------------------------===//

void Importer::registerConverters() {
  auto add = [&](std::initializer_list<const char *> names, Converter c) {
    for (const char *n : names)
      converters[n] = c;
  };
  add({"Conv"}, [this] { return convertConv(false); });
  add({"ConvTranspose"}, [this] { return convertConv(true); });
  add({"MaxPool"}, [this] { return convertPool(mt::PoolKind::Max); });
  add({"AveragePool"}, [this] { return convertPool(mt::PoolKind::Avg); });
  add({"LpPool"}, [this] { return convertPool(mt::PoolKind::Lp); });
  add({"GlobalAveragePool"}, [this] { return convertGlobalPool(mt::PoolKind::Avg); });
  add({"GlobalMaxPool"}, [this] { return convertGlobalPool(mt::PoolKind::Max); });
  add({"GlobalLpPool"}, [this] { return convertGlobalPool(mt::PoolKind::Lp); });
  add({"BatchNormalization"}, [this] { return convertBatchNorm(); });
  const std::pair<const char *, const char *> unary[] = {
      {"Relu", "tessel.relu"}, {"Sigmoid", "tessel.sigmoid"}, {"Tanh", "tessel.tanh"},
      {"Abs", "tessel.abs"},   {"Neg", "tessel.neg"},         {"Sqrt", "tessel.sqrt"},
      {"Exp", "tessel.exp"},   {"Log", "tessel.log"},         {"Sign", "tessel.sign"},
      {"LeakyRelu", "tessel.leaky_relu"}};
  for (auto [onnxName, tesselName] : unary) {
    std::string op = tesselName;
    add({onnxName}, [this, op] { return convertUnary(op); });
  }
  const std::pair<const char *, const char *> binary[] = {
      {"Add", "tessel.add"}, {"Sub", "tessel.sub"}, {"Mul", "tessel.mul"},
      {"Div", "tessel.div"}, {"Pow", "tessel.pow"}};
  for (auto [onnxName, tesselName] : binary) {
    std::string op = tesselName;
    add({onnxName}, [this, op] { return convertBinary(op); });
  }
  add({"Sum"}, [this]() -> Status {
    auto acc = input(0);
    for (int i = 1; acc && i < numInputs(); ++i) {
      auto next = input(i);
      if (!next)
        return next.status();
      acc = build1("tessel.add", {*acc, *next});
    }
    return setOutput(0, acc);
  });
  add({"Clip"}, [this] { return convertClip(); });
  add({"PRelu"}, [this] { return convertPRelu(); });
  add({"Gemm"}, [this] { return convertGemm(); });
  add({"MatMul"}, [this]() -> Status {
    auto a = input(0);
    if (!a)
      return a.status();
    auto b = input(1);
    if (!b)
      return b.status();
    auto y = build1("tessel.matmul", {*a, *b});
    return setOutput(0, y);
  });
  for (const char *name : {"Flatten", "Reshape", "Squeeze", "Unsqueeze"}) {
    std::string type = name;
    add({name}, [this, type] { return convertReshapeLike(type); });
  }
  add({"Transpose"}, [this] { return convertTranspose(); });
  add({"Concat"}, [this] { return convertConcat(); });
  add({"Pad"}, [this] { return convertPad(); });
  add({"Resize"}, [this] { return convertResize(false); });
  add({"Upsample"}, [this] { return convertResize(true); });
  add({"DepthToSpace"}, [this] { return convertDepthToSpace(false); });
  add({"SpaceToDepth"}, [this] { return convertDepthToSpace(true); });
  add({"Softmax"}, [this] { return convertSoftmax(false); });
  add({"LogSoftmax"}, [this] { return convertSoftmax(true); });
  add({"ReduceMean"}, [this] { return convertReduce("tessel.mean"); });
  add({"ReduceSum", "ReduceSumSquare"}, [this] { return convertReduce("tessel.sum"); });
  add({"ReduceMax"}, [this] { return convertReduce("tessel.max"); });
  add({"ReduceMin"}, [this] { return convertReduce("tessel.min"); });
  add({"Slice"}, [this] { return convertSlice(); });
  add({"Split"}, [this] { return convertSplit(); });
  add({"Gather"}, [this] { return convertGather(); });
  add({"Constant"}, [this] { return convertConstant(); });
  add({"Shape", "Cast", "ConstantOfShape", "Range", "Identity", "Dropout"},
      [this] { return convertShapeOps(); });
}

Status Importer::convertNode() {
  if (!node->domain().empty() && node->domain() != "ai.onnx")
    return fail("domain '" + node->domain() + "' is not supported (only the default ONNX domain)");
  auto it = converters.find(node->op_type());
  if (it == converters.end())
    return fail("op type '" + node->op_type() + "' is not supported");
  handled.clear();
  std::string label = nodeLabel() + " (" + node->op_type() + ")";
  loc = mlir::NameLoc::get(builder.getStringAttr(label),
                           mlir::FileLineColLoc::get(&context, file, 0, 0));
  if (Status s = it->second(); !s)
    return s;
  for (const onnx::AttributeProto &a : node->attribute())
    if (!handled.count(a.name()))
      return failAttribute(a.name(), "is not supported");
  for (int i = 0; i < node->output_size(); ++i)
    if (outputUsed(i) && !values.count(node->output(i)))
      return fail("output #" + std::to_string(i) + " is not supported");
  return Status();
}

Result<mlir::OwningOpRef<mlir::ModuleOp>> Importer::run(const onnx::ModelProto &model) {
  using R = Result<mlir::OwningOpRef<mlir::ModuleOp>>;
  for (const onnx::OperatorSetIdProto &set : model.opset_import())
    if (set.domain().empty() || set.domain() == "ai.onnx")
      opset = set.version();
  if (opset == 0)
    return R::error(file + ": the model imports no opset of the default ONNX domain");
  if (opset < kMinOnnxOpset || opset > kMaxOnnxOpset)
    return R::error(file + ": opset " + std::to_string(opset) +
                    " is not supported (Tessel imports opsets " +
                    std::to_string(kMinOnnxOpset) + " to " + std::to_string(kMaxOnnxOpset) +
                    ")");
  const onnx::GraphProto &graph = model.graph();
  registerConverters();

  std::string name;
  for (char c : graph.name())
    name += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    name = "main" + name;
  loc = mlir::FileLineColLoc::get(&context, file, 0, 0);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  auto fn = mlir::func::FuncOp::create(builder, loc, name, builder.getFunctionType({}, {}));
  mlir::Block *body = fn.addEntryBlock();
  builder.setInsertionPointToStart(body);

  // Initializers are constants (or, when asked, inputs after the graph's).
  std::vector<std::pair<std::string, Shape>> arguments;
  std::set<std::string> initializerNames;
  for (const onnx::TensorProto &init : graph.initializer()) {
    auto t = readOnnxTensor(init, "initializer '" + init.name() + "'");
    if (!t)
      return R::error(file + ": " + t.message());
    initializerNames.insert(init.name());
    if (options.initializersAsInputs && t->isFloat)
      arguments.emplace_back(init.name(), t->shape);
    else
      values[init.name()] = Entry{Value(), std::make_shared<const OnnxTensor>(std::move(*t))};
  }
  std::vector<std::pair<std::string, Shape>> graphInputs;
  for (const onnx::ValueInfoProto &in : graph.input()) {
    if (initializerNames.count(in.name()))
      continue;
    std::string what = file + ": input '" + in.name() + "'";
    if (!in.type().has_tensor_type())
      return R::error(what + " is not a tensor");
    const onnx::TypeProto::Tensor &tensor = in.type().tensor_type();
    if (tensor.elem_type() != onnx::TensorProto::FLOAT)
      return R::error(what + " has data type " + dataTypeName(tensor.elem_type()) +
                      "; Tessel compiles float32 inputs");
    if (!tensor.has_shape())
      return R::error(what + " has no shape; Tessel compiles static shapes");
    Shape shape;
    for (const onnx::TensorShapeProto::Dimension &d : tensor.shape().dim()) {
      if (!d.has_dim_value() || d.dim_value() < 0)
        return R::error(what + " has a symbolic or unknown dim" +
                        (d.has_dim_param() ? " '" + d.dim_param() + "'" : std::string()) +
                        "; Tessel compiles static shapes");
      shape.push_back(d.dim_value());
    }
    graphInputs.emplace_back(in.name(), shape);
  }
  graphInputs.insert(graphInputs.end(), arguments.begin(), arguments.end());
  if (options.initializersAsInputs)
    for (const auto &[argName, shape] : arguments)
      values.erase(argName);
  for (const auto &[inName, shape] : graphInputs) {
    auto type = mlir::RankedTensorType::get(shape, builder.getF32Type());
    Value arg = body->addArgument(type, loc);
    values[inName] = Entry{arg, nullptr};
  }

  for (const onnx::NodeProto &n : graph.node()) {
    node = &n;
    if (Status s = convertNode(); !s)
      return s;
    ++nodeIndex;
  }

  builder.setInsertionPointToEnd(body);
  llvm::SmallVector<Value> results;
  for (const onnx::ValueInfoProto &out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      return R::error(file + ": output '" + out.name() + "' is not computed by any node");
    if (!it->second.value) {
      if (!it->second.constant->isFloat)
        return R::error(file + ": output '" + out.name() +
                        "' is an integer constant; Tessel returns float32 tensors");
      it->second.value = materialize(*it->second.constant);
    }
    results.push_back(it->second.value);
  }
  if (results.empty())
    return R::error(file + ": the graph has no outputs");
  mlir::func::ReturnOp::create(builder, loc, results);
  fn.setType(builder.getFunctionType(body->getArgumentTypes(),
                                     mlir::ValueRange(results).getTypes()));
  for (auto [i, in] : llvm::enumerate(graphInputs))
    fn.setArgAttr(i, "tessel.name", builder.getStringAttr(in.first));
  for (int i = 0; i < graph.output_size(); ++i)
    fn.setResultAttr(i, "tessel.name", builder.getStringAttr(graph.output(i).name()));
  return module;
}

Result<onnx::ModelProto> parseModel(llvm::StringRef bytes, const std::string &name,
                                    bool text) {
  using R = Result<onnx::ModelProto>;
  onnx::ModelProto model;
  if (text) {
    // libonnx's text parser reports some errors by throwing (std::stof on a
    // malformed number); this file is built with exceptions to catch them.
    std::string source = bytes.str();
    try {
      onnx::Common::Status status = onnx::OnnxParser::Parse(model, source.c_str());
      if (!status.IsOK())
        return R::error(name + ": cannot parse the ONNX text: " + status.ErrorMessage());
    } catch (const std::exception &e) {
      return R::error(name + ": cannot parse the ONNX text: " + e.what());
    } catch (...) {
      return R::error(name + ": cannot parse the ONNX text");
    }
    if (!model.has_graph())
      return R::error(name + ": the model has no graph");
    return model;
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return R::error(name + ": not a valid ONNX model (the protobuf does not parse; "
                           "truncated or corrupt file?)");
  if (!model.has_graph())
    return R::error(name + ": the model has no graph");
  return model;
}

} // namespace

Result<mlir::OwningOpRef<mlir::ModuleOp>>
tessel::detail::importOnnxBytes(mlir::MLIRContext &context, llvm::StringRef bytes,
                                const std::string &name, const OnnxImportOptions &options) {
  auto model = parseModel(bytes, name, llvm::StringRef(name).ends_with(".onnxtxt"));
  if (!model)
    return model.status();
  return Importer(context, name, options).run(*model);
}

Result<mlir::OwningOpRef<mlir::ModuleOp>>
tessel::detail::importOnnxFile(mlir::MLIRContext &context, const std::string &path,
                               const OnnxImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return Result<mlir::OwningOpRef<mlir::ModuleOp>>::error(
        "cannot read '" + path + "': " + buffer.getError().message());
  return importOnnxBytes(context, (*buffer)->getBuffer(), path, options);
}
