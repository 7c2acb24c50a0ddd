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
// Ops are created with mt::createInferred, so the dialect's own shape rules
// check every node; their messages get the node's name and op type. The
// converters live in one file per op family (OnnxImporterImpl.h).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporterImpl.h"
#include "dialects/tessel/IR/Constants.h"

#include "mlir/IR/Threading.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SwapByteOrder.h"

#include "onnx/defs/parser.h"

#include <cstring>
#include <limits>

using namespace tessel;
using namespace tessel::detail;
using namespace tessel::detail::importer;

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

namespace tessel::detail::importer {

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
  return mt::getCheckedNumElements(values).value_or(
      std::numeric_limits<int64_t>::max());
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

} // namespace tessel::detail::importer

namespace {

/// Decodes `count` little-endian values of `Raw` from `bytes` into `out`.
template <typename Raw, typename Out>
void decodeRaw(llvm::StringRef bytes, int64_t count, std::vector<Out> &out) {
  out.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    Raw v;
    std::memcpy(&v, bytes.data() + i * sizeof(Raw), sizeof(Raw));
    out[i] = static_cast<Out>(v);
  }
}

/// A resource key for initializer `name`: keys are identifiers in the
/// printed IR, so other characters become '_'.
std::string resourceName(llvm::StringRef name) {
  std::string key = "onnx_";
  for (char c : name)
    key += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return key;
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

namespace {

/// The shape of `proto`, checked: no negative dims, data in the file, a
/// readable element count.
Result<std::vector<int64_t>> checkedShape(const onnx::TensorProto &proto,
                                          const std::string &what) {
  using R = Result<std::vector<int64_t>>;
  std::vector<int64_t> shape;
  for (int64_t d : proto.dims()) {
    if (d < 0)
      return R::error(what + " has a negative dim (" + std::to_string(d) + ")");
    shape.push_back(d);
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return R::error(what + " keeps its data in an external file, which is not supported");
  int64_t count = product(shape);
  if (count > (int64_t{1} << 34))
    return R::error(what + " has " + std::to_string(count) + " elements, too many");
  return shape;
}

Status sizeMismatch(const std::string &what, llvm::ArrayRef<int64_t> shape, int64_t got) {
  return Status::error(llvm::formatv("{0} has shape {1} ({2} elements) but holds {3} values",
                                     what, formatShape(shape), product(shape), got)
                           .str());
}

} // namespace

bool tessel::detail::isRawFloat32(const onnx::TensorProto &proto, bool cut) {
  return llvm::sys::IsLittleEndianHost && proto.data_type() == onnx::TensorProto::FLOAT &&
         (cut || proto.has_raw_data()) &&
         proto.data_location() != onnx::TensorProto::EXTERNAL;
}

Status tessel::detail::checkRawFloat32(const onnx::TensorProto &proto, llvm::StringRef raw,
                                       const std::string &what) {
  auto shape = checkedShape(proto, what);
  if (!shape)
    return shape.status();
  size_t bytes = raw.size();
  if (bytes != static_cast<size_t>(product(*shape)) * sizeof(float))
    return sizeMismatch(what, *shape, static_cast<int64_t>(bytes / sizeof(float)));
  return Status();
}

Result<OnnxTensor> tessel::detail::readOnnxTensor(const onnx::TensorProto &proto,
                                                  const std::string &what,
                                                  std::optional<llvm::StringRef> cutRaw) {
  using R = Result<OnnxTensor>;
  OnnxTensor t;
  auto shape = checkedShape(proto, what);
  if (!shape)
    return shape.status();
  t.shape = std::move(*shape);
  int64_t count = t.numElements();
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
  auto sizeError = [&](int64_t got) -> R { return sizeMismatch(what, t.shape, got); };
  if (cutRaw || proto.has_raw_data()) {
    llvm::StringRef raw = cutRaw ? *cutRaw : llvm::StringRef(proto.raw_data());
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
//===----------------------------------------------------------------------===//
// Values of the current node
//===----------------------------------------------------------------------===//

namespace tessel::detail::importer {

Result<Entry *> Importer::entry(int i) {
  if (!hasInput(i))
    return fail("input #" + std::to_string(i) + " is missing");
  auto it = values.find(node->input(i));
  if (it == values.end())
    return fail("input #" + std::to_string(i) + " '" + node->input(i) +
                "' is not defined by an earlier node, an input or an initializer");
  if (Status s = decode(it->second); !s)
    return s;
  return &it->second;
}

Status Importer::decode(Entry &e) {
  if (!e.raw || e.constant)
    return Status();
  auto t = readOnnxTensor(*e.raw, "initializer '" + e.raw->name() + "'", e.rawBytes);
  if (!t)
    return Status::error(file + ": " + t.message());
  e.constant = std::make_shared<const OnnxTensor>(std::move(*t));
  return Status();
}

mlir::ElementsAttr Importer::makeRawAttr(const Entry &e, const std::string &resource) {
  // Raw float32 bytes are the element attribute's own layout.
  std::vector<int64_t> shape(e.raw->dims().begin(), e.raw->dims().end());
  auto type = mlir::RankedTensorType::get(shape, mlir::Float32Type::get(&context));
  return mt::getConstantAttr(type, resource,
                             llvm::ArrayRef<char>(e.rawBytes.data(), e.rawBytes.size()));
}

Result<Value> Importer::materialize(Entry &e, const std::string &name) {
  if (e.value)
    return e.value;
  if (e.raw && (e.rawAttr || !e.constant)) {
    mlir::ElementsAttr attr = e.rawAttr ? e.rawAttr : makeRawAttr(e, resourceName(name));
    if (!attr)
      return Status::error(llvm::formatv("{0}: out of memory for the {1} bytes of "
                                         "initializer '{2}'",
                                         file, e.rawBytes.size(), name)
                               .str());
    e.value = mt::ConstantOp::create(builder, loc, llvm::cast<mlir::TypedAttr>(attr))
                  .getResult();
  } else {
    e.value = materialize(*e.constant);
  }
  if (initializerNames.count(name))
    e.value.getDefiningOp()->setAttr(mt::TesselDialect::kNameAttrName,
                                     builder.getStringAttr(name));
  return e.value;
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
  if (!hasInput(i))
    return entry(i).status();
  auto it = values.find(node->input(i));
  if (it == values.end())
    return entry(i).status();
  return materialize(it->second, node->input(i));
}

Result<llvm::SmallVector<Value>> Importer::inputs(int count) {
  llvm::SmallVector<Value> values;
  for (int i = 0; i < count; ++i) {
    auto v = input(i);
    if (!v)
      return v.status();
    values.push_back(*v);
  }
  return values;
}

bool Importer::isWeight(int i) const {
  if (!hasInput(i) || !initializerNames.count(node->input(i)))
    return false;
  auto it = values.find(node->input(i));
  return it != values.end() &&
         (it->second.raw || (it->second.constant && it->second.constant->isFloat));
}

Result<Importer::Operand> Importer::operand(int i) {
  Operand o;
  if (!isWeight(i)) {
    auto e = entry(i);
    if (!e)
      return e.status();
    if ((*e)->constant) {
      o.constant = (*e)->constant;
      o.shape = o.constant->shape;
      return o;
    }
  }
  auto v = input(i);
  if (!v)
    return v.status();
  o.value = *v;
  o.shape = shapeOf(*v);
  return o;
}

std::optional<std::vector<ConstPtr>> Importer::evaluableInputs() {
  std::vector<ConstPtr> constants;
  for (int i = 0; i < numInputs(); ++i) {
    if (!hasInput(i)) {
      constants.push_back(nullptr);
      continue;
    }
    auto it = values.find(node->input(i));
    if (it == values.end() || isWeight(i))
      return std::nullopt;
    const ConstPtr &c = it->second.constant;
    if (!c || c->numElements() > kMaxEvaluatedElements)
      return std::nullopt;
    constants.push_back(c);
  }
  return constants;
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

Result<Value> Importer::scale(Value v, double scalar) {
  OnnxTensor s;
  s.floats = {scalar};
  return build1<mt::MulOp>({v, materialize(s)});
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
  add({"LayerNormalization"}, [this] { return convertLayerNorm(); });
  add({"InstanceNormalization"}, [this] { return convertInstanceNorm(); });
  add({"GroupNormalization"}, [this] { return convertGroupNorm(); });
  registerMathConverters();
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
  add({"Slice"}, [this] { return convertSlice(); });
  add({"Split"}, [this] { return convertSplit(); });
  add({"Gather"}, [this] { return convertGather(); });
  add({"Constant"}, [this] { return convertConstant(); });
  add({"Identity"}, [this] { return convertIdentity(); });
  add({"Dropout"}, [this] { return convertDropout(); });
  add({"Shape"}, [this] { return convertShape(); });
  add({"Size"}, [this]() -> Status {
    auto x = operand(0);
    if (!x)
      return x.status();
    return setOutput(0, scalarInts({product(x->shape)}, {}));
  });
  add({"Cast"}, [this] { return convertCast(); });
  add({"ConstantOfShape"}, [this] { return convertConstantOfShape(); });
  add({"Range"}, [this] { return convertRange(); });
  add({"Expand"}, [this] { return convertExpand(); });
  add({"Where"}, [this] { return convertWhere(); });
  add({"Tile"}, [this] { return convertTile(); });
}

Status Importer::convertNode() {
  if (!node->domain().empty() && node->domain() != "ai.onnx")
    return fail("domain '" + node->domain() + "' is not supported (only the default ONNX domain)");
  // A node of constants is evaluated, whatever its op; others are converted.
  std::optional<std::vector<ConstPtr>> constants;
  if (isEvaluable(node->op_type()))
    constants = evaluableInputs();
  auto it = converters.find(node->op_type());
  if (!constants && it == converters.end())
    return fail("op type '" + node->op_type() + "' is not supported" +
                (isEvaluable(node->op_type()) ? " on run-time tensors (only on constants)"
                                              : ""));
  handled.clear();
  std::string label = nodeLabel() + " (" + node->op_type() + ")";
  loc = mlir::NameLoc::get(builder.getStringAttr(label),
                           mlir::FileLineColLoc::get(&context, file, 0, 0));
  if (Status s = constants ? evaluateConstantNode(*constants) : it->second(); !s)
    return s;
  for (const onnx::AttributeProto &a : node->attribute())
    if (!handled.count(a.name()))
      return failAttribute(a.name(), "is not supported");
  for (int i = 0; i < node->output_size(); ++i)
    if (outputUsed(i) && !values.count(node->output(i)))
      return fail("output #" + std::to_string(i) + " is not supported");
  return Status();
}

Result<mlir::OwningOpRef<mlir::ModuleOp>>
Importer::run(const onnx::ModelProto &model, llvm::ArrayRef<llvm::StringRef> cutRawData) {
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
  for (const auto &[index, init] : llvm::enumerate(graph.initializer())) {
    std::optional<llvm::StringRef> cut;
    if (index < cutRawData.size() && !cutRawData[index].empty())
      cut = cutRawData[index];
    if (isRawFloat32(init, cut.has_value()) && !options.initializersAsInputs) {
      llvm::StringRef bytes = cut ? *cut : llvm::StringRef(init.raw_data());
      if (Status s = checkRawFloat32(init, bytes, "initializer '" + init.name() + "'"); !s)
        return R::error(file + ": " + s.message());
      initializerNames.insert(init.name());
      values[init.name()] = Entry{Value(), nullptr, &init, bytes};
      continue;
    }
    auto t = readOnnxTensor(init, "initializer '" + init.name() + "'", cut);
    if (!t)
      return R::error(file + ": " + t.message());
    initializerNames.insert(init.name());
    if (options.initializersAsInputs && t->isFloat)
      arguments.emplace_back(init.name(), t->shape);
    else
      values[init.name()] = Entry{Value(), std::make_shared<const OnnxTensor>(std::move(*t))};
  }
  for (const auto &[inputName, shape] : options.inputShapes)
    if (initializerNames.count(inputName) ||
        llvm::none_of(graph.input(), [&, &inputName = inputName](const auto &in) {
          return in.name() == inputName;
        }))
      return R::error(file + ": a shape is given for '" + inputName +
                      "', which is not an input of the graph");
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
    auto given = options.inputShapes.find(in.name());
    std::string hint = "; Tessel compiles static shapes: give them with --input-shape " +
                       in.name() + "=DxDx... (CompileOptions::inputShapes)";
    if (!tensor.has_shape() && given == options.inputShapes.end())
      return R::error(what + " has no shape" + hint);
    Shape shape;
    if (given != options.inputShapes.end()) {
      shape = given->second;
      if (tensor.has_shape() && tensor.shape().dim_size() != static_cast<int>(shape.size()))
        return R::error(what + " has rank " + std::to_string(tensor.shape().dim_size()) +
                        ", but its given shape " + formatShape(shape) + " has rank " +
                        std::to_string(shape.size()));
      for (auto [i, d] : llvm::enumerate(shape))
        if (d <= 0)
          return R::error(what + ": its given shape " + formatShape(shape) +
                          " has a dim that is not positive");
    }
    for (const auto &[i, d] : llvm::enumerate(tensor.shape().dim())) {
      bool known = d.has_dim_value() && d.dim_value() >= 0;
      if (given != options.inputShapes.end()) {
        if (known && d.dim_value() != shape[i])
          return R::error(what + " has dim " + std::to_string(i) + " = " +
                          std::to_string(d.dim_value()) + ", but its given shape is " +
                          formatShape(shape));
        continue;
      }
      if (!known)
        return R::error(what + " has a symbolic or unknown dim" +
                        (d.has_dim_param() ? " '" + d.dim_param() + "'" : std::string()) +
                        hint);
      shape.push_back(d.dim_value());
    }
    if (!mt::fitsInMemory(mlir::RankedTensorType::get(shape, builder.getF32Type())))
      return R::error(what + " has shape " + formatShape(shape) +
                      ", more than the 2^47 bytes a Tessel tensor may hold");
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

  for (const onnx::NodeProto &n : graph.node())
    for (const std::string &in : n.input())
      consumed.insert(in);
  for (const onnx::ValueInfoProto &out : graph.output())
    consumed.insert(out.name());
  // The weights that nodes read are copied into their constants' storage
  // on every core first: the copies fault in fresh pages, which a VM's
  // host backs slowly (VGG-16's 528 MB took 0.15-1.9 s on one thread).
  // Their resource names are made unique here, in order, so that they do
  // not depend on which thread creates its constant first.
  std::vector<std::pair<std::string, Entry *>> raws;
  llvm::StringSet<> resourceNames;
  for (auto &[valueName, entry] : values) {
    if (!entry.raw || entry.value || !consumed.count(valueName))
      continue;
    std::string resource = resourceName(valueName);
    for (int n = 1; !resourceNames.insert(resource).second; ++n)
      resource = resourceName(valueName) + "_" + std::to_string(n);
    raws.emplace_back(std::move(resource), &entry);
  }
  mlir::parallelForEach(&context, raws, [&](const std::pair<std::string, Entry *> &raw) {
    raw.second->rawAttr = makeRawAttr(*raw.second, raw.first);
  });
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
    if (!it->second.value && it->second.constant && !it->second.constant->isFloat &&
        !options.integerConstantOutputs)
      return R::error(file + ": output '" + out.name() +
                      "' is an integer constant; Tessel returns float32 tensors");
    auto value = materialize(it->second, out.name());
    if (!value)
      return value.status();
    results.push_back(*value);
  }
  if (results.empty())
    return R::error(file + ": the graph has no outputs");
  mlir::func::ReturnOp::create(builder, loc, results);
  fn.setType(builder.getFunctionType(body->getArgumentTypes(),
                                     mlir::ValueRange(results).getTypes()));
  for (auto [i, in] : llvm::enumerate(graphInputs))
    fn.setArgAttr(i, mt::TesselDialect::kNameAttrName, builder.getStringAttr(in.first));
  for (int i = 0; i < graph.output_size(); ++i)
    fn.setResultAttr(i, mt::TesselDialect::kNameAttrName,
                     builder.getStringAttr(graph.output(i).name()));
  return module;
}

} // namespace tessel::detail::importer

namespace {

/// Parses a binary or (`text`) a text model. A binary one's large
/// initializers are cut out first (their bytes go to `cutRawData`), so that
/// protobuf does not copy them.
Result<onnx::ModelProto> parseModel(llvm::StringRef bytes, const std::string &name,
                                    bool text, std::vector<llvm::StringRef> &cutRawData) {
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
  std::optional<SplitModel> split = splitLargeInitializers(bytes, mt::kResourceConstantBytes);
  if (split && llvm::any_of(split->rawData, [](llvm::StringRef r) { return !r.empty(); })) {
    bytes = split->skeleton;
    cutRawData = std::move(split->rawData);
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return R::error(name + ": not a valid ONNX model (the protobuf does not parse; "
                           "truncated or corrupt file?)");
  if (!model.has_graph())
    return R::error(name + ": the model has no graph");
  return model;
}

/// Reads the initializers that keep their data in external files (as
/// exporters write large models: `location` relative to the model's
/// directory `directory`, optional `offset` and `length`) into their
/// raw_data. Without a directory (a model from bytes) they are an error.
Status readExternalData(onnx::ModelProto &model, const std::string &name,
                        std::optional<llvm::StringRef> directory) {
  for (onnx::TensorProto &init : *model.mutable_graph()->mutable_initializer()) {
    if (init.data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    std::string what = name + ": initializer '" + init.name() + "'";
    std::string location;
    uint64_t offset = 0;
    std::optional<uint64_t> length;
    for (const onnx::StringStringEntryProto &entry : init.external_data()) {
      uint64_t value = 0;
      bool number = !llvm::StringRef(entry.value()).getAsInteger(10, value);
      if (entry.key() == "location")
        location = entry.value();
      else if (entry.key() == "offset" && number)
        offset = value;
      else if (entry.key() == "length" && number)
        length = value;
      else if (entry.key() != "checksum")
        return Status::error(what + ": external data entry '" + entry.key() + "' = '" +
                             entry.value() + "' is not supported");
    }
    if (location.empty())
      return Status::error(what + " keeps its data in an external file but names none");
    if (!directory)
      return Status::error(what + " keeps its data in the external file '" + location +
                           "', which only a model read from its own file can find");
    // Beside the model, never elsewhere: no absolute paths, no '..'.
    llvm::SmallString<256> path(*directory);
    llvm::sys::path::append(path, location);
    if (llvm::sys::path::is_absolute(location) ||
        llvm::is_contained(llvm::make_range(llvm::sys::path::begin(location),
                                            llvm::sys::path::end(location)),
                           ".."))
      return Status::error(what + ": its external data file '" + location +
                           "' must be a path inside the model's directory");
    uint64_t fileSize = 0;
    if (std::error_code ec = llvm::sys::fs::file_size(path, fileSize))
      return Status::error(what + ": cannot read its external data file '" +
                           path.str().str() + "': " + ec.message());
    uint64_t bytes = length.value_or(fileSize >= offset ? fileSize - offset : 0);
    if (offset > fileSize || bytes > fileSize - offset)
      return Status::error(llvm::formatv("{0}: its external data ({1} bytes at offset {2}) "
                                         "lies beyond the end of '{3}' ({4} bytes)",
                                         what, bytes, offset, path, fileSize)
                               .str());
    auto buffer = llvm::MemoryBuffer::getFileSlice(path, bytes, offset, /*IsVolatile=*/false);
    if (!buffer)
      return Status::error(what + ": cannot read its external data file '" +
                           path.str().str() + "': " + buffer.getError().message());
    init.set_raw_data((*buffer)->getBufferStart(), (*buffer)->getBufferSize());
    init.clear_external_data();
    init.set_data_location(onnx::TensorProto::DEFAULT);
  }
  return Status();
}

Result<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, llvm::StringRef bytes, const std::string &name,
            const OnnxImportOptions &options, std::optional<llvm::StringRef> directory) {
  std::vector<llvm::StringRef> cutRawData;
  auto model =
      parseModel(bytes, name, llvm::StringRef(name).ends_with(".onnxtxt"), cutRawData);
  if (!model)
    return model.status();
  if (Status s = readExternalData(*model, name, directory); !s)
    return s;
  return Importer(context, name, options).run(*model, cutRawData);
}

} // namespace

Result<mlir::OwningOpRef<mlir::ModuleOp>>
tessel::detail::importOnnxBytes(mlir::MLIRContext &context, llvm::StringRef bytes,
                                const std::string &name, const OnnxImportOptions &options) {
  return importModel(context, bytes, name, options, std::nullopt);
}

Result<mlir::OwningOpRef<mlir::ModuleOp>>
tessel::detail::importOnnxFile(mlir::MLIRContext &context, const std::string &path,
                               const OnnxImportOptions &options) {
  // Mapped, not read: the weights are copied once, into their constants.
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return Result<mlir::OwningOpRef<mlir::ModuleOp>>::error(
        "cannot read '" + path + "': " + buffer.getError().message());
  return importModel(context, (*buffer)->getBuffer(), path, options,
                     llvm::sys::path::parent_path(path));
}

