//===- tessel-opt.cpp - Run tessel passes on .mlir files ------------------===//
//
// MlirOptMain with every tessel dialect and pass, from compiler/InitAll.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/InitAll.h"
#include "tools/common/Version.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  tessel::tools::setVersionPrinter("tessel-opt");
  mlir::DialectRegistry registry;
  mlir::tessel::registerAllDialects(registry);
  mlir::tessel::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Tessel optimizer driver\n", registry));
}
