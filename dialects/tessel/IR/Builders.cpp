//===- Builders.cpp - Typed creation of tessel ops ------------------------===//

#include "dialects/tessel/IR/Builders.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;

Operation *mlir::tessel::detail::insertIfValid(OpBuilder &b, OperationState &state) {
  Operation *op = Operation::create(state);
  if (failed(verify(op))) {
    op->destroy();
    return nullptr;
  }
  return b.insert(op);
}
