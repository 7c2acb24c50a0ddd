//===- Aot.cpp - Compile to an object file and a C header -----------------===//
//
// The function goes through the same pipeline as the JIT (Lowering.h); the
// LLVM-dialect module then gains the exported entry points, which check
// their arguments and build the memref descriptors the lowered function
// takes. LLVM's TargetMachine writes the object; the header is printed from
// the signature. Outputs are written to temporary files and kept only when
// everything succeeded.
//
//===----------------------------------------------------------------------===//

#include "tessel/Aot.h"
#include "tessel/Runtime.h"
#include "tessel/Version.h"

#include "compiler/API/GraphImpl.h"
#include "compiler/API/Lowering.h"
#include "compiler/Passes.h"

#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <set>

using namespace tessel;
namespace LLVM = mlir::LLVM;

namespace {

/// `name` as a C identifier: other characters become '_', a leading digit
/// gets a '_' in front.
std::string toIdentifier(const std::string &name) {
  std::string id;
  for (char c : name)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id.front())))
    id = "_" + id;
  return id;
}

std::string toUpper(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// Replaces the inputs named in `embed` with constants of their values.
Status embedInputs(mlir::func::FuncOp fn, detail::Signature &signature,
                   const std::map<std::string, Tensor> &embed) {
  std::vector<std::string> unused;
  for (const auto &entry : embed)
    unused.push_back(entry.first);
  mlir::OpBuilder b(fn.getBody());
  llvm::BitVector erase(fn.getNumArguments());
  std::vector<TensorInfo> kept;
  for (auto [i, info] : llvm::enumerate(signature.inputs)) {
    auto it = embed.find(info.name);
    if (it == embed.end()) {
      kept.push_back(info);
      continue;
    }
    llvm::erase(unused, info.name);
    const Tensor &value = it->second;
    if (value.shape() != info.shape)
      return Status::error("the value embedded for input '" + info.name + "' has shape " +
                           value.shapeString() + ", the function takes " +
                           shapeString(info.shape));
    Tensor dense = value.isContiguous() ? value : value.clone();
    auto type = llvm::cast<mlir::RankedTensorType>(fn.getArgument(i).getType());
    auto attr = mlir::DenseElementsAttr::get(
        type, llvm::ArrayRef<float>(dense.data(), dense.numElements()));
    auto constant = mlir::tessel::ConstantOp::create(b, fn.getLoc(), type, attr);
    fn.getArgument(i).replaceAllUsesWith(constant);
    erase.set(i);
  }
  if (!unused.empty())
    return Status::error("the function has no input named '" + unused.front() +
                         "' to embed");
  if (mlir::failed(fn.eraseArguments(erase)))
    return Status::error("cannot remove the embedded inputs of '" +
                         fn.getName().str() + "'");
  signature.inputs = kept;
  return Status();
}

/// The weights of a module, packed by packWeights.
struct PackedWeights {
  /// Every large constant, each at a multiple of 64 bytes (of its own
  /// alignment if larger) from the start.
  std::string bytes;
  /// Identifies `bytes` in a weights file: the first 8 bytes of their
  /// BLAKE3 hash, little-endian (computed for the file only).
  uint64_t id = 0;
  /// With the weights in a file: the global holding the loaded weights'
  /// address (null until <prefix>_load_weights succeeds).
  LLVM::GlobalOp slot;
};

/// Moves the module's large constants (detail::getLargeConstantData: the
/// weights) into one blob, and points every use at its offset there: a
/// constant global `__tessel_<prefix>_weights` holding the blob, or with
/// `toFile` a pointer global of that name the weights are loaded to at run
/// time. LLVM then translates and emits one byte array, not an array per
/// tensor row.
PackedWeights packWeights(mlir::ModuleOp module, const std::string &prefix, bool toFile) {
  PackedWeights packed;
  llvm::StringMap<uint64_t> offsets;
  std::vector<std::pair<LLVM::GlobalOp, llvm::ArrayRef<char>>> globals;
  uint64_t alignment = 64, size = 0;
  for (auto global : module.getOps<LLVM::GlobalOp>()) {
    std::optional<llvm::ArrayRef<char>> data = detail::getLargeConstantData(global);
    if (!data)
      continue;
    uint64_t align = std::max<uint64_t>(64, global.getAlignment().value_or(0));
    // The runtime loads a weights file 64-byte aligned: a constant that needs
    // more stays in the object.
    if (toFile && align > 64)
      continue;
    alignment = std::max(alignment, align);
    size = llvm::alignTo(size, align);
    offsets[global.getSymName()] = size;
    size += data->size();
    globals.push_back({global, *data});
  }
  if (globals.empty())
    return packed;
  // One allocation, each tensor copied once (appending would copy the blob
  // again at every growth: seconds for a VGG's 528 MB).
  packed.bytes.resize(size);
  for (auto [global, data] : globals)
    std::memcpy(&packed.bytes[offsets[global.getSymName()]], data.data(), data.size());
  if (toFile) {
    auto digest = llvm::BLAKE3::hash<8>(llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(packed.bytes.data()), packed.bytes.size()));
    for (int i = 7; i >= 0; --i)
      packed.id = packed.id << 8 | digest[i];
  }

  mlir::MLIRContext *context = module.getContext();
  mlir::Location loc = module.getLoc();
  mlir::OpBuilder b = mlir::OpBuilder::atBlockEnd(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(context);
  auto i8 = b.getI8Type();
  std::string name = "__tessel_" + prefix + "_weights";
  LLVM::GlobalOp blob;
  if (toFile) {
    blob = LLVM::GlobalOp::create(b, loc, ptr, /*isConstant=*/false, LLVM::Linkage::Internal,
                                  name, mlir::Attribute());
    b.setInsertionPointToStart(b.createBlock(&blob.getInitializerRegion()));
    LLVM::ReturnOp::create(b, loc, LLVM::ZeroOp::create(b, loc, ptr).getResult());
    packed.slot = blob;
  } else {
    // A resource referring to the blob (which outlives the translation to
    // LLVM IR), not a dense attribute: no copy into the context, no hashing.
    auto size = static_cast<int64_t>(packed.bytes.size());
    auto value = mlir::DenseResourceElementsAttr::get(
        mlir::RankedTensorType::get({size}, i8), name,
        mlir::UnmanagedAsmResourceBlob::allocateInferAlign(
            llvm::ArrayRef<char>(packed.bytes.data(), packed.bytes.size())));
    blob = LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(i8, size),
                                  /*isConstant=*/true, LLVM::Linkage::Internal, name, value,
                                  alignment);
  }
  llvm::SmallVector<LLVM::AddressOfOp> uses;
  module.walk([&](LLVM::AddressOfOp op) {
    if (offsets.count(op.getGlobalName()))
      uses.push_back(op);
  });
  for (LLVM::AddressOfOp op : uses) {
    b.setInsertionPoint(op);
    mlir::Value base = LLVM::AddressOfOp::create(b, op.getLoc(), blob);
    if (toFile)
      base = LLVM::LoadOp::create(b, op.getLoc(), ptr, base);
    mlir::Value offset = LLVM::ConstantOp::create(
        b, op.getLoc(), b.getI64Type(),
        b.getI64IntegerAttr(static_cast<int64_t>(offsets[op.getGlobalName()])));
    auto address = LLVM::GEPOp::create(b, op.getLoc(), ptr, i8, base,
                                       llvm::ArrayRef<LLVM::GEPArg>{offset},
                                       LLVM::GEPNoWrapFlags::inbounds);
    op.replaceAllUsesWith(address.getResult());
    op.erase();
  }
  for (auto [global, data] : globals)
    global.erase();
  return packed;
}

/// Adds `<prefix>_run` and `<prefix>_run_tensors` to the lowered module,
/// and with the weights in a file `<prefix>_load_weights` and
/// `<prefix>_free_weights` (a run before a load is TESSEL_ERROR_NO_WEIGHTS).
/// `body` is the lowered function: for each tensor, inputs then outputs, a
/// memref descriptor (allocated, aligned, offset, sizes, strides).
void buildEntryPoints(mlir::ModuleOp module, LLVM::LLVMFuncOp body,
                      const detail::Signature &signature, const std::string &prefix,
                      const PackedWeights &weights) {
  mlir::MLIRContext *context = module.getContext();
  mlir::Location loc = body.getLoc();
  mlir::OpBuilder b = mlir::OpBuilder::atBlockEnd(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(context);
  auto i32 = b.getI32Type();
  auto i64 = b.getI64Type();
  auto constant = [&](mlir::Type type, int64_t value) -> mlir::Value {
    return LLVM::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, value));
  };
  auto declare = [&](llvm::StringRef name, mlir::Type result,
                     llvm::ArrayRef<mlir::Type> args) {
    return LLVM::LLVMFuncOp::create(b, loc, name,
                                    LLVM::LLVMFunctionType::get(result, args));
  };
  auto abiVersion = declare("tessel_runtime_abi_version", i32, {});
  auto checkTensors =
      declare("tessel_runtime_check_tensors", i32, {ptr, i64, ptr, i64});

  std::vector<TensorInfo> tensors = signature.inputs;
  tensors.insert(tensors.end(), signature.outputs.begin(), signature.outputs.end());

  // Returns `status` from the current block when it is not TESSEL_OK, and
  // moves the insertion point to the block that goes on.
  auto returnOnError = [&](LLVM::LLVMFuncOp fn, mlir::Value status) {
    mlir::Block *fail = fn.addBlock(), *next = fn.addBlock();
    mlir::Value failed = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, status,
                                              constant(i32, TESSEL_OK));
    LLVM::CondBrOp::create(b, loc, failed, fail, next);
    b.setInsertionPointToStart(fail);
    LLVM::ReturnOp::create(b, loc, status);
    b.setInsertionPointToStart(next);
  };

  // int32_t <prefix>_run(const float *in..., float *out...)
  auto run = declare(prefix + "_run", i32,
                     llvm::SmallVector<mlir::Type>(tensors.size(), ptr));
  b.setInsertionPointToStart(run.addEntryBlock(b));
  // Later selects override earlier ones: the first failing rule in the
  // order ABI, null, alignment wins.
  mlir::Value status = constant(i32, TESSEL_OK);
  mlir::Value null = LLVM::ZeroOp::create(b, loc, ptr);
  for (mlir::Value arg : llvm::reverse(run.getArguments())) {
    mlir::Value address = LLVM::PtrToIntOp::create(b, loc, i64, arg);
    mlir::Value low = LLVM::AndOp::create(b, loc, address, constant(i64, 3));
    mlir::Value misaligned =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, low, constant(i64, 0));
    status = LLVM::SelectOp::create(b, loc, misaligned,
                                    constant(i32, TESSEL_ERROR_MISALIGNED), status);
  }
  for (mlir::Value arg : llvm::reverse(run.getArguments())) {
    mlir::Value isNull = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, arg, null);
    status = LLVM::SelectOp::create(b, loc, isNull,
                                    constant(i32, TESSEL_ERROR_NULL_POINTER), status);
  }
  mlir::Value abi = LLVM::CallOp::create(b, loc, abiVersion, mlir::ValueRange{})
                        .getResult();
  mlir::Value abiMismatch = LLVM::ICmpOp::create(
      b, loc, LLVM::ICmpPredicate::ne, abi, constant(i32, TESSEL_RUNTIME_ABI_VERSION));
  status = LLVM::SelectOp::create(b, loc, abiMismatch, constant(i32, TESSEL_ERROR_ABI),
                                  status);
  returnOnError(run, status);
  // Outputs are written while inputs are still read (and results computed
  // in the caller's buffers as they go): overlapping buffers are an error.
  if (!signature.outputs.empty()) {
    LLVM::GlobalOp sizes;
    {
      mlir::OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(module.getBody());
      std::vector<int64_t> bytes;
      for (const TensorInfo &info : tensors) {
        int64_t count = 1;
        for (int64_t size : info.shape)
          count *= size;
        bytes.push_back(count * static_cast<int64_t>(sizeof(float)));
      }
      auto n = static_cast<int64_t>(bytes.size());
      sizes = LLVM::GlobalOp::create(
          b, loc, LLVM::LLVMArrayType::get(i64, n), /*isConstant=*/true,
          LLVM::Linkage::Internal, "__tessel_" + prefix + "_bytes",
          mlir::DenseElementsAttr::get(mlir::RankedTensorType::get({n}, i64),
                                       llvm::ArrayRef<int64_t>(bytes)));
    }
    auto arrayType = LLVM::LLVMArrayType::get(ptr, tensors.size());
    mlir::Value slots = LLVM::AllocaOp::create(b, loc, ptr, arrayType, constant(i64, 1));
    for (auto [i, arg] : llvm::enumerate(run.getArguments())) {
      mlir::Value slot = LLVM::GEPOp::create(
          b, loc, ptr, arrayType, slots,
          llvm::ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      LLVM::StoreOp::create(b, loc, arg, slot);
    }
    auto checkOverlap = [&] {
      mlir::OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(module.getBody());
      return declare("tessel_runtime_check_overlap", i32, {ptr, ptr, i64, i64});
    }();
    mlir::Value overlap =
        LLVM::CallOp::create(
            b, loc, checkOverlap,
            mlir::ValueRange{slots, LLVM::AddressOfOp::create(b, loc, sizes),
                             constant(i64, static_cast<int64_t>(tensors.size())),
                             constant(i64, static_cast<int64_t>(signature.inputs.size()))})
            .getResult();
    returnOnError(run, overlap);
  }
  if (weights.slot) {
    mlir::Value loaded =
        LLVM::LoadOp::create(b, loc, ptr, LLVM::AddressOfOp::create(b, loc, weights.slot));
    mlir::Value missing = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, loaded, null);
    returnOnError(run, LLVM::SelectOp::create(b, loc, missing,
                                              constant(i32, TESSEL_ERROR_NO_WEIGHTS),
                                              constant(i32, TESSEL_OK)));
  }
  llvm::SmallVector<mlir::Value> descriptors;
  for (auto [info, data] : llvm::zip(tensors, run.getArguments())) {
    descriptors.append({data, data, constant(i64, 0)});
    for (int64_t size : info.shape)
      descriptors.push_back(constant(i64, size));
    for (int64_t stride : rowMajorStrides(info.shape))
      descriptors.push_back(constant(i64, stride));
  }
  LLVM::CallOp::create(b, loc, body, descriptors);
  LLVM::ReturnOp::create(b, loc, constant(i32, TESSEL_OK));

  // The compiled ranks and shapes, as tessel_runtime_check_tensors reads them.
  auto shapeTable = [&](const std::vector<TensorInfo> &infos,
                        const std::string &name) -> LLVM::GlobalOp {
    std::vector<int64_t> table;
    for (const TensorInfo &info : infos) {
      table.push_back(static_cast<int64_t>(info.shape.size()));
      table.insert(table.end(), info.shape.begin(), info.shape.end());
    }
    if (table.empty())
      return nullptr;
    b.setInsertionPointToEnd(module.getBody());
    auto size = static_cast<int64_t>(table.size());
    auto value = mlir::DenseElementsAttr::get(mlir::RankedTensorType::get({size}, i64),
                                              llvm::ArrayRef<int64_t>(table));
    return LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(i64, size),
                                  /*isConstant=*/true, LLVM::Linkage::Internal, name,
                                  value);
  };
  LLVM::GlobalOp inputShapes = shapeTable(signature.inputs, "__tessel_" + prefix + "_inputs");
  LLVM::GlobalOp outputShapes =
      shapeTable(signature.outputs, "__tessel_" + prefix + "_outputs");

  // int32_t <prefix>_run_tensors(const tessel_tensor *inputs, int64_t n,
  //                              tessel_tensor *outputs, int64_t m)
  auto runTensors = declare(prefix + "_run_tensors", i32, {ptr, i64, ptr, i64});
  b.setInsertionPointToStart(runTensors.addEntryBlock(b));
  auto tensorType = LLVM::LLVMStructType::getLiteral(context, {ptr, i64, ptr});
  llvm::SmallVector<mlir::Value> dataPointers;
  for (int side = 0; side < 2; ++side) {
    mlir::Value array = runTensors.getArgument(2 * side);
    mlir::Value count = runTensors.getArgument(2 * side + 1);
    LLVM::GlobalOp table = side == 0 ? inputShapes : outputShapes;
    size_t expected = side == 0 ? signature.inputs.size() : signature.outputs.size();
    mlir::Value tableAddress =
        table ? mlir::Value(LLVM::AddressOfOp::create(b, loc, table))
              : mlir::Value(LLVM::ZeroOp::create(b, loc, ptr));
    mlir::Value checked =
        LLVM::CallOp::create(b, loc, checkTensors,
                             mlir::ValueRange{array, count, tableAddress,
                                              constant(i64, expected)})
            .getResult();
    returnOnError(runTensors, checked);
    for (size_t i = 0; i < expected; ++i) {
      mlir::Value field = LLVM::GEPOp::create(
          b, loc, ptr, tensorType, array,
          llvm::ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i), 0});
      dataPointers.push_back(LLVM::LoadOp::create(b, loc, ptr, field));
    }
  }
  mlir::Value result = LLVM::CallOp::create(b, loc, run, dataPointers).getResult();
  LLVM::ReturnOp::create(b, loc, result);

  if (!weights.slot)
    return;
  // int32_t <prefix>_load_weights(const char *path)
  b.setInsertionPointToEnd(module.getBody());
  auto loadWeights = declare("tessel_runtime_load_weights", i32, {ptr, i64, i64, ptr});
  auto freeWeights = declare("tessel_runtime_free_weights", LLVM::LLVMVoidType::get(context),
                             {ptr});
  auto load = declare(prefix + "_load_weights", i32, {ptr});
  b.setInsertionPointToStart(load.addEntryBlock(b));
  mlir::Value loaded =
      LLVM::CallOp::create(
          b, loc, loadWeights,
          mlir::ValueRange{load.getArgument(0),
                           constant(i64, static_cast<int64_t>(weights.bytes.size())),
                           constant(i64, static_cast<int64_t>(weights.id)),
                           LLVM::AddressOfOp::create(b, loc, weights.slot)})
          .getResult();
  LLVM::ReturnOp::create(b, loc, loaded);
  // void <prefix>_free_weights(void)
  b.setInsertionPointToEnd(module.getBody());
  auto release = declare(prefix + "_free_weights", LLVM::LLVMVoidType::get(context), {});
  b.setInsertionPointToStart(release.addEntryBlock(b));
  LLVM::CallOp::create(b, loc, freeWeights,
                       mlir::ValueRange{LLVM::AddressOfOp::create(b, loc, weights.slot)});
  LLVM::ReturnOp::create(b, loc, mlir::ValueRange{});
}

/// The generated C header.
std::string printHeader(const detail::Signature &signature, const std::string &prefix,
                        const std::string &source, const llvm::TargetMachine &machine,
                        unsigned threads, const std::string &linkLine,
                        const std::string &weightsFile, uint64_t weightsSize) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string macro = toUpper(prefix);
  os << "/* " << prefix << ": generated by Tessel " TESSEL_VERSION_STRING " from " << source
     << ". Do not edit.\n"
     << " *\n"
     << " * Target: " << machine.getTargetTriple().str() << ", CPU "
     << machine.getTargetCPU() << ", " << threads
     << (threads == 1 ? " thread" : " threads") << ".\n"
     << " * Link:   " << linkLine << "\n"
     << " *\n"
     << " * Tensors are float32, row-major and contiguous; the caller owns every\n"
     << " * buffer. The entry points are re-entrant and thread-safe for distinct\n"
     << " * output buffers; they return TESSEL_OK or a tessel_status code\n"
     << " * (tessel_status_string() describes it) before touching any buffer.\n"
     << " */\n\n"
     << "#ifndef TESSEL_MODEL_" << macro << "_H\n"
     << "#define TESSEL_MODEL_" << macro << "_H\n\n"
     << "/* The Tessel version that generated this model. */\n"
     << "#define " << macro << "_TESSEL_VERSION \"" TESSEL_VERSION_STRING "\"\n\n"
     << "#include <stdint.h>\n\n"
     << "#include \"tessel/Runtime.h\"\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";

  std::set<std::string> used;
  auto uniqueIdentifier = [&](const std::string &name) {
    std::string id = toIdentifier(name);
    std::string candidate = id;
    for (int n = 2; !used.insert(toUpper(candidate)).second; ++n)
      candidate = id + "_" + std::to_string(n);
    return candidate;
  };
  auto join = [](const std::vector<int64_t> &values) {
    std::string s;
    for (int64_t v : values)
      s += (s.empty() ? "" : ", ") + std::to_string(v);
    return s;
  };
  std::vector<std::string> parameters;
  auto describe = [&](const std::vector<TensorInfo> &infos, bool isInput) {
    const char *kind = isInput ? "INPUT" : "OUTPUT";
    std::vector<int64_t> ranks, shapes, sizes;
    std::string names;
    for (const TensorInfo &info : infos) {
      std::string id = uniqueIdentifier(info.name);
      std::string m = macro + "_" + toUpper(id);
      // getSignature refused types beyond kMaxTensorBytes: no overflow.
      int64_t elements = *mlir::tessel::getCheckedNumElements(info.shape);
      os << "/* " << (isInput ? "Input" : "Output") << " \"" << info.name << "\": ["
         << join(info.shape) << "] */\n"
         << "#define " << m << "_RANK " << info.shape.size() << "\n"
         << "#define " << m << "_SHAPE {" << join(info.shape) << "}\n"
         << "#define " << m << "_SIZE " << elements << "\n\n";
      ranks.push_back(static_cast<int64_t>(info.shape.size()));
      shapes.insert(shapes.end(), info.shape.begin(), info.shape.end());
      sizes.push_back(elements);
      names += (names.empty() ? "\"" : ", \"") + info.name + "\"";
      parameters.push_back((isInput ? "const float *" : "float *") + id);
    }
    os << "#define " << macro << "_NUM_" << kind << "S " << infos.size() << "\n"
       << "#define " << macro << "_" << kind << "_NAMES {" << names << "}\n"
       << "#define " << macro << "_" << kind << "_RANKS {" << join(ranks) << "}\n"
       << "#define " << macro << "_" << kind << "_SHAPES {" << join(shapes)
       << "} /* concatenated */\n"
       << "#define " << macro << "_" << kind << "_SIZES {" << join(sizes) << "}\n\n";
  };
  describe(signature.inputs, true);
  describe(signature.outputs, false);

  os << "/* Runs the model: reads the inputs, writes the outputs. Null or\n"
     << " * misaligned pointers: TESSEL_ERROR_NULL_POINTER / _MISALIGNED; an\n"
     << " * output overlapping another buffer: TESSEL_ERROR_OVERLAP. */\n"
     << "int32_t " << prefix << "_run(";
  for (size_t i = 0; i < parameters.size(); ++i)
    os << (i ? ", " : "") << parameters[i];
  if (parameters.empty())
    os << "void";
  os << ");\n\n"
     << "/* The same with the shapes passed along and checked against the\n"
     << " * compiled ones (counts, ranks, sizes) before any buffer is read. */\n"
     << "int32_t " << prefix << "_run_tensors(const tessel_tensor *inputs, "
     << "int64_t num_inputs,\n"
     << "        tessel_tensor *outputs, int64_t num_outputs);\n\n";
  if (!weightsFile.empty())
    os << "/* The weights are not in the object: " << prefix << "_load_weights reads\n"
       << " * them from the file tessel-compile wrote with it (" << weightsFile << ", "
       << weightsSize << " bytes\n"
       << " * of weights after its header) and must succeed before the first run\n"
       << " * (else TESSEL_ERROR_NO_WEIGHTS). A file of other weights is refused\n"
       << " * (TESSEL_ERROR_WEIGHTS_MISMATCH). Not to be called while a run is in\n"
       << " * progress; loading again replaces the weights. */\n"
       << "#define " << macro << "_WEIGHTS_FILE \"" << weightsFile << "\"\n"
       << "int32_t " << prefix << "_load_weights(const char *path);\n"
       << "/* Frees the loaded weights. */\n"
       << "void " << prefix << "_free_weights(void);\n\n";
  os << "#ifdef __cplusplus\n}\n#endif\n\n"
     << "#endif /* TESSEL_MODEL_" << macro << "_H */\n";
  return text;
}

/// Opens `path` for writing; the file is removed unless keep() is called.
Result<std::unique_ptr<llvm::ToolOutputFile>> openOutput(const std::string &path) {
  std::error_code ec;
  auto file = std::make_unique<llvm::ToolOutputFile>(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return Result<std::unique_ptr<llvm::ToolOutputFile>>::error(
        "cannot write '" + path + "': " + ec.message());
  return file;
}

/// A static archive of the model object and the runtime archive's members.
Result<std::string> makeArchive(llvm::StringRef object, const std::string &objectName,
                                const std::string &runtimePath) {
  using R = Result<std::string>;
  auto buffer = llvm::MemoryBuffer::getFile(runtimePath);
  if (!buffer)
    return R::error("cannot read the runtime archive '" + runtimePath +
                    "': " + buffer.getError().message());
  auto runtime = llvm::object::Archive::create((*buffer)->getMemBufferRef());
  if (!runtime)
    return R::error("'" + runtimePath + "' is not an archive: " +
                    llvm::toString(runtime.takeError()));
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(llvm::MemoryBufferRef(object, objectName));
  llvm::Error error = llvm::Error::success();
  for (const llvm::object::Archive::Child &child : (*runtime)->children(error)) {
    auto member = llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!member)
      return R::error("cannot read a member of '" + runtimePath +
                      "': " + llvm::toString(member.takeError()));
    members.push_back(std::move(*member));
  }
  if (error)
    return R::error("cannot read '" + runtimePath + "': " + llvm::toString(std::move(error)));
  std::string archive;
  llvm::raw_string_ostream os(archive);
  if (llvm::Error e = llvm::writeArchiveToStream(
          os, members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true, /*Thin=*/false))
    return R::error("cannot build the archive: " + llvm::toString(std::move(e)));
  return archive;
}

std::string defaultRuntimeArchive() {
  // Any function of this library gives the executable's path on Linux.
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(path, "..", "lib", "libtessel_runtime.a");
  return path.str().str();
}

/// Compiles function `name` of `module` (which it consumes).
Status compileModuleToObject(mlir::ModuleOp module, const std::string &name,
                             const std::vector<std::string> &inputNames,
                             const std::vector<std::string> &outputNames,
                             const std::string &source, const AotOptions &options) {
  if (options.outputPath.empty())
    return Status::error("no output path given for the object file");
  auto fn = module.lookupSymbol<mlir::func::FuncOp>(name);
  if (!fn)
    return Status::error("no function named '" + name + "' to compile");
  // The C entry points write every output to a buffer of its own: results
  // tied to an input (a training step's updates) are written out too.
  for (unsigned i = 0; i < fn.getNumResults(); ++i)
    fn.removeResultAttr(i, mlir::StringAttr::get(fn.getContext(),
                                               mlir::tessel::TesselDialect::kUpdatesAttrName));
  auto signature = detail::getSignature(fn, inputNames, outputNames);
  if (!signature)
    return signature.status();
  if (Status s = embedInputs(fn, *signature, options.embed); !s)
    return s;
  // A prefix the user chose must be usable as it is; the function's name
  // (an ONNX graph's may be "torch-jit-export") is made an identifier.
  if (!options.prefix.empty() && toIdentifier(options.prefix) != options.prefix)
    return Status::error("prefix '" + options.prefix +
                         "' is not a C identifier (letters, digits and '_', not "
                         "starting with a digit)");
  std::string prefix = toIdentifier(options.prefix.empty() ? name : options.prefix);
  unsigned threads = std::max(1u, options.threads);

  auto machine =
      detail::createTargetMachine(options.triple, options.cpu, options.features);
  if (!machine)
    return machine.status();
  // Only the chosen function is compiled and exported.
  detail::LoweringOptions lowering;
  lowering.entry = name;
  lowering.threads = threads;
  lowering.minParallelIterations = options.minParallelIterations;
  lowering.winograd = options.winograd;
  lowering.dumpIR = options.dumpIR;
  lowering.timing = options.timing;
  if (Status s = detail::lowerToLLVMDialect(module, **machine, lowering); !s)
    return s;

  // The lowered function becomes internal; the entry points wrap it.
  auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(mlir::tessel::getEntrySymbol(name));
  if (!body)
    return Status::error("the lowered module lost function '" + name + "'");
  std::string bodyName = "__tessel_" + prefix + "_body";
  if (mlir::failed(mlir::SymbolTable::replaceAllSymbolUses(
          body, mlir::StringAttr::get(module.getContext(), bodyName), module)))
    return Status::error("cannot rename function '" + name + "'");
  body.setSymName(bodyName);
  body.setLinkage(LLVM::Linkage::Internal);
  for (llvm::StringRef taken : {prefix + "_run", prefix + "_run_tensors"})
    if (module.lookupSymbol(taken))
      return Status::error("the module already defines '" + taken.str() +
                           "'; choose another prefix");
  bool weightsToFile = options.weights == AotOptions::Weights::File;
  PackedWeights weights;
  {
    detail::ScopedPhase phase(options.timing, "weights");
    weights = packWeights(module, prefix, weightsToFile);
  }
  buildEntryPoints(module, body, *signature, prefix, weights);

  llvm::LLVMContext llvmContext;
  detail::DiagnosticCollector diagnostics(module.getContext());
  std::unique_ptr<llvm::Module> llvmModule;
  {
    detail::ScopedPhase phase(options.timing, "translation to LLVM IR");
    llvmModule = mlir::translateModuleToLLVMIR(module, llvmContext, prefix);
  }
  if (!llvmModule)
    return Status::error("translating '" + name + "' to LLVM IR failed:\n" +
                         diagnostics.str("no message"));
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  // One object (the header and archive describe one), from the same
  // optimization and code generation as the JIT's.
  auto objects = detail::generateObjects(
      std::move(llvmModule),
      [&options] {
        return detail::createTargetMachine(options.triple, options.cpu, options.features);
      },
      /*threads=*/1, options.timing);
  if (!objects)
    return Status::error("compiling '" + name + "' failed: " + objects.message());
  const llvm::SmallString<0> &object = objects->front();

  std::string objectName = llvm::sys::path::filename(options.outputPath).str();
  std::string contents = object.str().str();
  if (options.archive) {
    std::string memberName = prefix + ".o";
    auto archive = makeArchive(object.str(), memberName,
                               options.runtimeArchive.empty() ? defaultRuntimeArchive()
                                                              : options.runtimeArchive);
    if (!archive)
      return archive.status();
    contents = std::move(*archive);
  }
  std::string headerPath = options.headerPath;
  if (headerPath.empty()) {
    llvm::SmallString<256> path(options.outputPath);
    llvm::sys::path::replace_extension(path, "h");
    headerPath = path.str().str();
  }
  if (headerPath == options.outputPath)
    return Status::error("the header and the object would both be written to '" +
                         headerPath + "'");
  // An archive holds the runtime; an object needs it on the link line.
  std::string linkLine = objectName + (options.archive ? "" : " -ltessel_runtime") +
                         " -lpthread -lm" +
                         (threads > 1 ? " -lomp (LLVM's OpenMP runtime)" : "");
  // The weights file, when there are weights to put there.
  std::string weightsPath;
  if (weights.slot) {
    weightsPath = options.weightsPath;
    if (weightsPath.empty()) {
      llvm::SmallString<256> path(options.outputPath);
      llvm::sys::path::replace_extension(path, "bin");
      weightsPath = path.str().str();
    }
    if (weightsPath == options.outputPath || weightsPath == headerPath)
      return Status::error("the weights would be written to '" + weightsPath +
                           "', over the object or the header");
  }
  std::string header = printHeader(
      *signature, prefix, source, **machine, threads, linkLine,
      weightsPath.empty() ? "" : llvm::sys::path::filename(weightsPath).str(),
      weights.bytes.size());

  std::vector<std::unique_ptr<llvm::ToolOutputFile>> files;
  for (const std::string &path : {options.outputPath, headerPath, weightsPath}) {
    if (path.empty())
      continue;
    auto file = openOutput(path);
    if (!file)
      return file.status();
    files.push_back(std::move(*file));
  }
  files[0]->os() << contents;
  files[1]->os() << header;
  if (weights.slot) {
    tessel_weights_header fileHeader = {{'T', 'E', 'S', 'S', 'E', 'L', 'W', 'T'},
                                        weights.bytes.size(), weights.id};
    files[2]->os().write(reinterpret_cast<const char *>(&fileHeader), sizeof fileHeader);
    files[2]->os() << weights.bytes;
  }
  for (auto &file : files) {
    file->os().close();
    if (file->os().has_error())
      return Status::error("cannot write '" + file->getFilename().str() +
                           "': " + file->os().error().message());
  }
  for (auto &file : files)
    file->keep();
  return Status();
}

} // namespace

Status tessel::compileToObject(const Graph &graph, const AotOptions &options) {
  const Graph::Impl &g = graph.impl();
  if (!graph.status())
    return graph.status();
  if (g.outputs.empty())
    return Status::error("graph '" + g.name + "' has no outputs; mark them with output()");
  mlir::OwningOpRef<mlir::ModuleOp> module = g.finish();
  std::vector<std::string> outputNames;
  for (const auto &output : g.outputs)
    outputNames.push_back(output.first);
  return compileModuleToObject(*module, g.name, g.inputNames, outputNames,
                               "graph \"" + g.name + "\"", options);
}

Status tessel::compileFileToObject(const std::string &path, const AotOptions &options,
                                   const std::string &function) {
  Result<detail::LoadedModel> model = [&] {
    detail::ScopedPhase phase(options.timing, "import");
    return detail::loadModelFile(path, options.initializersAsInputs, options.inputShapes);
  }();
  if (!model)
    return model.status();
  auto name = detail::pickFunction(*model->module, path, function);
  if (!name)
    return name.status();
  return compileModuleToObject(*model->module, *name, {}, {},
                               llvm::sys::path::filename(path).str() + ", function \"" +
                                   *name + "\"",
                               options);
}
