//===- ReversedLoops.h - Loops a linalg op walks backwards -------*- C++ -*-===//
//
// A flip (a negative-step slice) lowers to a copy that reads `c - i`. Upstream
// tiling takes every indexing map to grow with its loops: a tile of such a
// loop would read past its slice. Tessel's tiling passes leave those loops
// whole, and do not fuse such ops into other tiles; a conv's register tiles
// read a flipped filter's taps from the unflipped one (tessel-vectorize).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_TRANSFORMS_REVERSEDLOOPS_H
#define TESSEL_COMPILER_TRANSFORMS_REVERSEDLOOPS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/SmallBitVector.h"

#include <optional>

namespace mlir::tessel {

/// The value of `e`, an expression in `numDims` dims, with dim `dim` at
/// `value` and the others at 0; nullopt where that is not a constant.
inline std::optional<int64_t> evaluateAlongDim(AffineExpr e, unsigned numDims, unsigned dim,
                                               int64_t value) {
  SmallVector<AffineExpr> at(numDims, getAffineConstantExpr(0, e.getContext()));
  at[dim] = getAffineConstantExpr(value, e.getContext());
  if (auto c = dyn_cast<AffineConstantExpr>(e.replaceDims(at)))
    return c.getValue();
  return std::nullopt;
}

/// The loops some indexing map of `op` walks with a negative coefficient.
inline llvm::SmallBitVector getReversedLoops(linalg::LinalgOp op) {
  llvm::SmallBitVector reversed(op.getNumLoops());
  for (AffineMap map : op.getIndexingMapsArray())
    for (unsigned loop = 0; loop < map.getNumDims(); ++loop)
      for (AffineExpr e : map.getResults()) {
        // The coefficient of `loop`: e at loop = 1 minus e at loop = 0, all
        // other loops 0 (the maps are linear).
        std::optional<int64_t> zero = evaluateAlongDim(e, map.getNumDims(), loop, 0);
        std::optional<int64_t> one = evaluateAlongDim(e, map.getNumDims(), loop, 1);
        if (zero && one && *one < *zero)
          reversed.set(loop);
      }
  return reversed;
}

/// Whether `op` is a copy: a linalg.transpose, or a generic whose body only
/// yields its one input (which may also flip dims).
inline bool isCopy(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1)
    return false;
  if (isa<linalg::TransposeOp>(op.getOperation()))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic)
    return false;
  Block &body = generic.getRegion().front();
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  return body.getOperations().size() == 1 && yield && yield.getNumOperands() == 1 &&
         yield.getOperand(0) == body.getArgument(0);
}

/// For a flip (a generic that copies its one input into a tensor of the
/// same type, the output in loop order, input dim j read as `d_j` or as
/// `c_j - d_j`): c_j for each reversed dim, nullopt for the others. Empty
/// when `op` is not a flip.
inline SmallVector<std::optional<int64_t>> getFlip(linalg::GenericOp op) {
  if (!isCopy(op) || !op.hasPureTensorSemantics() ||
      op.getDpsInputs()[0].getType() != op->getResult(0).getType())
    return {};
  AffineMap in = op.getIndexingMapsArray()[0], out = op.getIndexingMapsArray()[1];
  if (!out.isIdentity() || in.getNumResults() != in.getNumDims())
    return {};
  SmallVector<std::optional<int64_t>> reversed;
  for (auto [j, e] : llvm::enumerate(in.getResults())) {
    bool linear = true;
    e.walk([&](AffineExpr sub) {
      linear &= sub.getKind() != AffineExprKind::Mod &&
                sub.getKind() != AffineExprKind::FloorDiv &&
                sub.getKind() != AffineExprKind::CeilDiv;
    });
    if (!linear || e.isSymbolicOrConstant())
      return {};
    for (unsigned d = 0; d < in.getNumDims(); ++d)
      if (d != j && e.isFunctionOfDim(d))
        return {};
    std::optional<int64_t> c = evaluateAlongDim(e, in.getNumDims(), j, 0),
                           one = evaluateAlongDim(e, in.getNumDims(), j, 1);
    if (!c || !one)
      return {};
    if (*c == 0 && *one == 1)
      reversed.push_back(std::nullopt);
    else if (*one == *c - 1)
      reversed.push_back(*c);
    else
      return {};
  }
  if (llvm::none_of(reversed, [](auto c) { return c.has_value(); }))
    return {};
  return reversed;
}

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_TRANSFORMS_REVERSEDLOOPS_H
