//===- TileAndDistribute.cpp - Tile fusion groups across threads ----------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELTILEANDDISTRIBUTE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Tile sizes that split the first parallel loop with more than one iteration
/// into `threads` chunks; empty when the op has no such loop.
SmallVector<OpFoldResult> getThreadTileSizes(OpBuilder &b, linalg::LinalgOp op,
                                             unsigned threads) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<OpFoldResult> sizes(ranges.size(), b.getIndexAttr(0));
  for (auto [i, range] : llvm::enumerate(ranges)) {
    if (iterators[i] != utils::IteratorType::parallel || range <= 1 ||
        ShapedType::isDynamic(range))
      continue;
    sizes[i] = b.getIndexAttr(llvm::divideCeil(range, threads));
    return sizes;
  }
  return {};
}

struct TileAndDistributePass
    : tessel::impl::TesselTileAndDistributeBase<TileAndDistributePass> {
  using Base::Base;

  void runOnOperation() override {
    if (threads <= 1)
      return;
    // The ends of fusion chains: linalg ops no other tileable op consumes.
    SmallVector<linalg::LinalgOp> roots;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (llvm::none_of(op->getUsers(),
                        [](Operation *user) { return isa<TilingInterface>(user); }))
        roots.push_back(op);
    });

    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp root : roots) {
      SmallVector<OpFoldResult> tileSizes =
          getThreadTileSizes(rewriter, root, threads);
      if (tileSizes.empty())
        continue;
      scf::SCFTilingOptions tiling;
      tiling.setTileSizes(tileSizes).setLoopType(
          scf::SCFTilingOptions::LoopType::ForallOp);
      scf::SCFTileAndFuseOptions options;
      options.setTilingOptions(tiling);
      rewriter.setInsertionPoint(root);
      FailureOr<scf::SCFTileAndFuseResult> result =
          scf::tileConsumerAndFuseProducersUsingSCF(
              rewriter, cast<TilingInterface>(root.getOperation()), options);
      if (failed(result))
        continue; // Leave the op whole; it still runs, on one thread.
      for (OpResult value : root->getResults())
        rewriter.replaceAllUsesWith(value, result->replacements.lookup(value));
      rewriter.eraseOp(root);
    }
  }
};

} // namespace
