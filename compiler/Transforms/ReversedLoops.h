//===- ReversedLoops.h - Loops a linalg op walks backwards -------*- C++ -*-===//
//
// A flip (a negative-step slice) lowers to a copy that reads `c - i`. Upstream
// tiling takes every indexing map to grow with its loops: a tile of such a
// loop would read past its slice. Tessel's tiling passes leave those loops
// whole, and do not fuse such ops into other tiles.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_TRANSFORMS_REVERSEDLOOPS_H
#define TESSEL_COMPILER_TRANSFORMS_REVERSEDLOOPS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/SmallBitVector.h"

namespace mlir::tessel {

/// The loops some indexing map of `op` walks with a negative coefficient.
inline llvm::SmallBitVector getReversedLoops(linalg::LinalgOp op) {
  llvm::SmallBitVector reversed(op.getNumLoops());
  for (AffineMap map : op.getIndexingMapsArray())
    for (unsigned loop = 0; loop < map.getNumDims(); ++loop)
      for (AffineExpr e : map.getResults()) {
        // The coefficient of `loop`: e at loop = 1 minus e at loop = 0, all
        // other loops 0 (the maps are linear).
        SmallVector<AffineExpr> at(map.getNumDims(),
                                   getAffineConstantExpr(0, op.getContext()));
        AffineExpr zero = e.replaceDims(at);
        at[loop] = getAffineConstantExpr(1, op.getContext());
        AffineExpr one = e.replaceDims(at);
        auto z = dyn_cast<AffineConstantExpr>(zero);
        auto o = dyn_cast<AffineConstantExpr>(one);
        if (z && o && o.getValue() < z.getValue())
          reversed.set(loop);
      }
  return reversed;
}

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_TRANSFORMS_REVERSEDLOOPS_H
