//===- LoopOrder.h - Whether a linalg op walks its operands in order -*- C++ -*-===//
//
// An op whose operands all walk its loops in order (identity or broadcast
// maps) reads and writes memory in the order it iterates; a transposing op
// (a layout change) does not, which decides how it is best tiled.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_TRANSFORMS_LOOPORDER_H
#define TESSEL_COMPILER_TRANSFORMS_LOOPORDER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::tessel {

/// Whether every indexing map of `op` is a projected permutation keeping
/// the loops in order (identity or broadcast maps, no transposition).
inline bool walksLoopsInOrder(linalg::LinalgOp op) {
  return llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return false;
    int64_t previous = -1;
    for (AffineExpr e : map.getResults()) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      if (!dim)
        continue; // a zero of a broadcast
      if (static_cast<int64_t>(dim.getPosition()) <= previous)
        return false;
      previous = dim.getPosition();
    }
    return true;
  });
}

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_TRANSFORMS_LOOPORDER_H
