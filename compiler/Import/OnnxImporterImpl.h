//===- OnnxImporterImpl.h - The ONNX importer's state and converters ----*- C++ -*-===//
//
// Private to compiler/Import/: the Importer class that walks a model, shared
// by OnnxImporter.cpp (tensors, values, dispatch, the graph) and the
// converter files, one per op family (OnnxNNConverters.cpp: conv, pool,
// batch norm; OnnxMathConverters.cpp: elementwise, Gemm, softmax,
// reductions; OnnxShapeConverters.cpp: shapes, slices, gathers, constants;
// OnnxResampleConverters.cpp: pad, resize, depth/space) and the evaluator
// of nodes whose inputs are all constants (OnnxConstantEvaluator.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_IMPORT_ONNXIMPORTERIMPL_H
#define TESSEL_COMPILER_IMPORT_ONNXIMPORTERIMPL_H

#include "compiler/Import/OnnxImporter.h"

#include "dialects/tessel/IR/Builders.h"
#include "dialects/tessel/IR/ShapeInference.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tessel::detail::importer {

namespace mt = mlir::tessel;
using mlir::Value;
using Shape = std::vector<int64_t>;

/// The name of an ONNX data type, for messages.
const char *dataTypeName(int type);
/// numpy's broadcast of `shapes`; an error naming two that clash.
Result<Shape> broadcastShapes(llvm::ArrayRef<Shape> shapes);
/// The element count of a shape; INT64_MAX when it overflows (the tessel ops
/// then reject the type as larger than kMaxTensorBytes).
int64_t product(llvm::ArrayRef<int64_t> values);
/// "[1, 2, 3]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);
/// A negative axis counts from the end; `inclusiveEnd` also accepts `rank`
/// itself (Flatten's axis).
Result<int64_t> normalizeAxis(int64_t axis, int64_t rank, bool inclusiveEnd = false);


using ConstPtr = std::shared_ptr<const OnnxTensor>;

/// An ONNX value: a run-time tensor, a constant, or a constant that has
/// also been materialized as a tessel.constant. A float initializer stored
/// as raw bytes starts as `raw` alone: a tessel.constant is made from its
/// bytes directly, and it is decoded into `constant` only when a converter
/// reads its values (weights, megabytes of them, never are). `rawBytes` are
/// its bytes: in `raw`, or where the model file holds them when the
/// importer cut them out (splitLargeInitializers).
struct Entry {
  Value value;
  ConstPtr constant;
  const onnx::TensorProto *raw = nullptr;
  llvm::StringRef rawBytes;
  /// The constant holding `rawBytes`, made before the nodes are converted.
  mlir::ElementsAttr rawAttr;
};

inline OnnxTensor scalarInts(std::vector<int64_t> values, Shape shape) {
  OnnxTensor t;
  t.isFloat = false;
  t.ints = std::move(values);
  t.shape = std::move(shape);
  return t;
}

/// Walks one model, node by node, building the tessel function.
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

  /// Imports `model`; `cutRawData` holds the raw_data of the initializers
  /// the model's bytes had cut out, by index (splitLargeInitializers).
  Result<mlir::OwningOpRef<mlir::ModuleOp>>
  run(const onnx::ModelProto &model, llvm::ArrayRef<llvm::StringRef> cutRawData = {});

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
  /// Input i's entry, its constant decoded when it is one.
  Result<Entry *> entry(int i);
  Result<Value> input(int i);
  /// Inputs 0 to count - 1.
  Result<llvm::SmallVector<Value>> inputs(int count);
  /// Every input combined with the binary `OpTy`, left to right (Sum, Mean,
  /// Max, Min).
  template <typename OpTy>
  Result<Value> foldInputs() {
    auto acc = input(0);
    for (int i = 1; acc && i < numInputs(); ++i) {
      auto next = input(i);
      if (!next)
        return next.status();
      acc = build1<OpTy>({*acc, *next});
    }
    return acc;
  }
  /// Whether input i is a weight: a float initializer. Weights stay named
  /// operands (never folded into new constants), so that autodiff can
  /// differentiate with respect to them.
  bool isWeight(int i) const;
  /// Input i as a converter that folds constants sees it: its constant
  /// (not a weight's), or else its value; and its shape.
  struct Operand {
    ConstPtr constant;
    Value value;
    Shape shape;
  };
  Result<Operand> operand(int i);
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
  /// Whether output i has a name (ONNX's way of asking for an optional
  /// output).
  bool outputNamed(int i) const { return i < node->output_size() && !node->output(i).empty(); }
  /// Whether output i is read: by a later node or as a graph output.
  /// Exporters name outputs nothing reads (batch norm's saved statistics).
  bool outputUsed(int i) const { return outputNamed(i) && consumed.count(node->output(i)); }

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
  /// Creates an `OpTy` with `properties` through mt::createInferred; its
  /// diagnostics become the node's error.
  template <typename OpTy>
  Result<OpTy> build(mlir::ValueRange operands,
                     const mt::PropertiesOf<OpTy> &properties = {}) {
    diagnostics.clear();
    OpTy op = mt::createInferred<OpTy>(builder, loc, operands, properties);
    if (!op)
      return fail(diagnostics.empty()
                      ? "'" + OpTy::getOperationName().str() + "' is invalid"
                      : diagnostics);
    return op;
  }
  template <typename OpTy>
  Result<Value> build1(mlir::ValueRange operands,
                       const mt::PropertiesOf<OpTy> &properties = {}) {
    auto op = build<OpTy>(operands, properties);
    if (!op)
      return op.status();
    return (*op)->getResult(0);
  }
  Value materialize(const OnnxTensor &t);
  /// `e`'s value, materializing its constant (named `name` when it is an
  /// initializer) if it has none yet.
  Result<Value> materialize(Entry &e, const std::string &name);
  /// The constant of a raw float32 initializer, a resource named after
  /// `resource` (null when out of memory); thread-safe.
  mlir::ElementsAttr makeRawAttr(const Entry &e, const std::string &resource);
  /// Decodes `e.raw` into `e.constant`.
  Status decode(Entry &e);
  mlir::DenseI64ArrayAttr i64s(llvm::ArrayRef<int64_t> values) {
    return builder.getDenseI64ArrayAttr(values);
  }
  mlir::IntegerAttr i64(int64_t value) { return builder.getI64IntegerAttr(value); }
  mlir::FloatAttr f64(double value) { return builder.getF64FloatAttr(value); }
  mlir::UnitAttr flag(bool set) { return set ? builder.getUnitAttr() : mlir::UnitAttr(); }
  /// The channels-first layout of a rank-`rank` activation.
  mt::ActivationLayoutAttr layoutAttr(size_t rank) {
    mt::ActivationLayout layout = rank == 3   ? mt::ActivationLayout::NCW
                                  : rank == 4 ? mt::ActivationLayout::NCHW
                                              : mt::ActivationLayout::NCDHW;
    return mt::ActivationLayoutAttr::get(&context, layout);
  }
  static Shape shapeOf(Value v) {
    auto shape = llvm::cast<mlir::RankedTensorType>(v.getType()).getShape();
    return Shape(shape.begin(), shape.end());
  }
  Result<Value> reshape(Value v, const Shape &shape) {
    if (shapeOf(v) == shape)
      return v;
    mt::ReshapeOp::Properties p;
    p.setShape(i64s(shape));
    return build1<mt::ReshapeOp>(v, p);
  }
  Result<Value> transpose(Value v, llvm::ArrayRef<int64_t> perm) {
    mt::TransposeOp::Properties p;
    p.setPerm(i64s(perm));
    return build1<mt::TransposeOp>(v, p);
  }
  Result<Value> slice(Value v, llvm::ArrayRef<int64_t> offsets, llvm::ArrayRef<int64_t> sizes,
                      llvm::ArrayRef<int64_t> strides) {
    mt::SliceOp::Properties p;
    p.setOffsets(i64s(offsets));
    p.setSizes(i64s(sizes));
    p.setStrides(i64s(strides));
    return build1<mt::SliceOp>(v, p);
  }
  /// `v * scalar`.
  Result<Value> scale(Value v, double scalar);
  /// A rank-0 float constant.
  Value scalar(double value) {
    OnnxTensor t;
    t.floats = {value};
    return materialize(t);
  }
  /// Builds an `OpTy` for a composition of ops unless `status` already
  /// holds an error, which then makes every later step a no-op; records
  /// the op's own error there.
  template <typename OpTy>
  Value chain(Status &status, mlir::ValueRange operands,
              const mt::PropertiesOf<OpTy> &properties = {}) {
    if (!status)
      return Value();
    auto v = build1<OpTy>(operands, properties);
    if (!v) {
      status = v.status();
      return Value();
    }
    return *v;
  }

  // --- the evaluator of constant nodes (OnnxConstantEvaluator.cpp) ---
  /// The most elements a constant node's result may have.
  static constexpr int64_t kMaxEvaluatedElements = int64_t{1} << 20;
  /// Whether the evaluator knows op `opType`.
  static bool isEvaluable(const std::string &opType);
  /// The inputs of the current node when each is an import-time constant
  /// other than a float initializer (a weight, which stays an op's operand
  /// so autodiff can differentiate with respect to it); absent optional
  /// inputs are null. nullopt otherwise.
  std::optional<std::vector<ConstPtr>> evaluableInputs();
  /// Evaluates the current node on `inputs`.
  Status evaluateConstantNode(llvm::ArrayRef<ConstPtr> inputs);

  // --- converters ---
  void registerConverters();
  /// Registers the converters of OnnxMathConverters.cpp.
  void registerMathConverters();
  Status convertNode();
  Status convertConv(bool transposed);
  Status convertPool(mt::PoolKind kind);
  Status convertGlobalPool(mt::PoolKind kind);
  Status convertBatchNorm();
  template <typename OpTy> Status convertUnary();
  template <typename OpTy> Status convertBinary();
  Status convertClip();
  Status convertPRelu();
  /// The activations composed of other tessel ops: HardSigmoid, HardSwish,
  /// Elu, Selu, Celu, Softplus, Softsign, Mish, Gelu, Reciprocal.
  Status convertComposedActivation(llvm::StringRef opType);
  Status convertMean();
  /// Expand and Tile of run-time tensors (the evaluator does constants).
  Status convertExpand();
  /// `x` broadcast to `shape` (a multiply by ones).
  Result<Value> expandTo(Value x, const Shape &shape);
  /// Where of run-time tensors under a constant condition.
  Status convertWhere();
  Status convertTile();
  /// `(x - mean) / sqrt(var + epsilon)` over the dims `axes` of `x`, with
  /// the mean and `1 / sqrt(var + epsilon)` (dims kept): the norms composed
  /// of reductions and arithmetic. Errors go to `s` (see chain).
  struct Normalized {
    Value y, mean, invStdDev;
  };
  Normalized normalize(Status &s, Value x, llvm::ArrayRef<int64_t> axes, double epsilon);
  Status convertLayerNorm();
  /// `y * scale + bias`, scale and bias (a norm's inputs 1 and 2) each
  /// holding `count` values, one `per` (named in the error), reshaped to
  /// `shape` to broadcast against `y`.
  Result<Value> scaleAndShift(Value y, Value scale, Value bias, llvm::StringRef biasName,
                              int64_t count, const Shape &shape, llvm::StringRef per);
  Status convertInstanceNorm();
  Status convertGroupNorm();
  Status convertGemm();
  Status convertReshapeLike(llvm::StringRef opType);
  Status convertTranspose();
  Status convertConcat();
  Status convertPad();
  Status convertResize(bool upsample);
  Status convertDepthToSpace(bool inverse);
  template <typename OpTy> Status convertSoftmax();
  Status convertReduce(llvm::StringRef opType);
  /// The reduction `OpTy` of `v` over `axes` (every dim when absent).
  template <typename OpTy>
  Result<Value> reduceOver(Value v, const std::optional<std::vector<int64_t>> &axes,
                           bool keepDims) {
    typename OpTy::Properties p;
    if (axes)
      p.setAxes(i64s(*axes));
    p.setKeepdims(flag(keepDims));
    return build1<OpTy>(v, p);
  }
  Status convertSlice();
  Status convertSplit();
  Status convertGather();
  Status convertConstant();
  Status convertIdentity();
  Status convertDropout();
  Status convertShape();
  Status convertCast();
  Status convertConstantOfShape();
  Status convertRange();

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
  /// Names of the graph's initializers: their constants keep the name (as
  /// `tessel.name`), so autodiff can differentiate with respect to them.
  std::set<std::string> initializerNames;
  /// The values some node or the graph's outputs read.
  std::set<std::string> consumed;
  mlir::Location loc = builder.getUnknownLoc();
};

} // namespace tessel::detail::importer

#endif // TESSEL_COMPILER_IMPORT_ONNXIMPORTERIMPL_H
