//===- OnnxImporter.h - ONNX models to the tessel dialect -------*- C++ -*-===//
//
// Private to the compiler: the API (compileFile, compileFileToObject) and the
// tools reach it through files ending in .onnx (binary ModelProto) or
// .onnxtxt (ONNX's text syntax, used by the tests). The conformance runner
// and the fuzzer include it too.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_IMPORT_ONNXIMPORTER_H
#define TESSEL_COMPILER_IMPORT_ONNXIMPORTER_H

#include "tessel/Result.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace tessel::detail {

struct OnnxImportOptions {
  /// Initializers become function inputs, after the graph's own inputs,
  /// instead of constants compiled into the code.
  bool initializersAsInputs = false;
  /// Let an output be an integer constant (an i64 tessel.constant), which
  /// does not compile: for the conformance runner's --fold, which reads the
  /// evaluator's results from the imported module.
  bool integerConstantOutputs = false;
  /// Shapes for graph inputs by name: they fix symbolic dims (dynamic batch,
  /// as torch.onnx.export(dynamic_axes=...) writes) and must agree with the
  /// model's static ones. Every name must be an input of the graph.
  std::map<std::string, std::vector<int64_t>> inputShapes;
};

/// The opset range of the default ONNX domain the importer accepts. Opsets
/// 7 to 21 are where the supported ops differ (18: axes as inputs of the
/// reductions and Pad, Split's num_outputs, Resize's axes; 18/21:
/// GroupNormalization per group/per channel; 19: AveragePool's dilations);
/// older models (PyTorch's early
/// exporters wrote opset 6, some ops still say opset 1) import when their
/// nodes mean the same, with the legacy attributes (is_test, spatial,
/// consumed_inputs, broadcast) read.
constexpr int64_t kMinOnnxOpset = 1;
constexpr int64_t kMaxOnnxOpset = 21;

/// Imports the model in `path` into a module holding one function, named
/// after the graph, whose arguments and results carry the ONNX names as
/// `tessel.name` attributes. Shape subgraphs (Shape, Gather, Slice, Cast, ...)
/// are evaluated at import. Every error names the file, and for a node its
/// name, op type and the offending attribute or input.
Result<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxFile(mlir::MLIRContext &context, const std::string &path,
               const OnnxImportOptions &options = {});
/// The same for a serialized ModelProto held in memory; `name` stands for
/// the file in messages.
Result<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxBytes(mlir::MLIRContext &context, llvm::StringRef bytes, const std::string &name,
                const OnnxImportOptions &options = {});

/// A binary ModelProto with the raw_data of its large float32 initializers
/// cut out (OnnxWire.cpp): `skeleton` is the rest of the model, `rawData`
/// the cut bytes by initializer index (as the parsed graph numbers them;
/// empty where nothing was cut). They point into the model's bytes.
struct SplitModel {
  std::string skeleton;
  std::vector<llvm::StringRef> rawData;
};
/// Splits `model` so, cutting initializers of `minBytes` or more; nullopt
/// when the bytes are not a well-formed message (the parser then says why).
std::optional<SplitModel> splitLargeInitializers(llvm::StringRef model, size_t minBytes);

/// Whether `path` names an ONNX model (.onnx or .onnxtxt).
bool isOnnxPath(llvm::StringRef path);

/// The values of an ONNX tensor: floating-point types in `floats`, integer
/// and boolean types in `ints`.
struct OnnxTensor {
  std::vector<int64_t> shape;
  bool isFloat = true;
  std::vector<double> floats;
  std::vector<int64_t> ints;
  int64_t numElements() const;
};

/// Reads a TensorProto (typed fields or raw_data); `what` names it in errors.
/// `raw`, when given, stands for raw_data (the bytes of a cut initializer).
Result<OnnxTensor> readOnnxTensor(const onnx::TensorProto &tensor, const std::string &what,
                                  std::optional<llvm::StringRef> raw = std::nullopt);
/// Whether `tensor` holds float32 raw bytes in this machine's byte order
/// (in raw_data, or cut out of it when `cut`): then they are the layout of a
/// tensor constant as they are.
bool isRawFloat32(const onnx::TensorProto &tensor, bool cut = false);
/// Checks what readOnnxTensor would of such a tensor holding `raw`, without
/// decoding it.
Status checkRawFloat32(const onnx::TensorProto &tensor, llvm::StringRef raw,
                       const std::string &what);
/// Reads a serialized TensorProto file (the backend tests' input_N.pb).
Result<OnnxTensor> readOnnxTensorFile(const std::string &path);

} // namespace tessel::detail

#endif // TESSEL_COMPILER_IMPORT_ONNXIMPORTER_H
