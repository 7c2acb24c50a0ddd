//===- fuzz-importer.cpp - libFuzzer target for the ONNX importer ---------===//
//
// Feeds arbitrary bytes to the importer, as a binary ModelProto and as ONNX
// text, and verifies whatever module comes out. Any crash, sanitizer report
// or verifier failure on an accepted model is a bug: bad input must become
// an error message. fuzz-importer.test runs it for a bounded number of
// inputs from a seed corpus of libonnx-testdata models.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporter.h"
#include "compiler/InitAll.h"

#include "mlir/IR/Verifier.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry;
    mlir::tessel::registerAllDialects(*r);
    return r;
  }();
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  for (const char *name : {"fuzz.onnx", "fuzz.onnxtxt"}) {
    mlir::MLIRContext context(*registry);
    context.printOpOnDiagnostic(false);
    auto module = tessel::detail::importOnnxBytes(context, bytes, name);
    if (module && mlir::failed(mlir::verify(**module))) {
      std::fprintf(stderr, "the importer accepted a model that does not verify\n");
      std::abort();
    }
  }
  return 0;
}
