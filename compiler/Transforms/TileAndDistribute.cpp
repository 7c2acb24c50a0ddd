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

/// Tile sizes that split one parallel loop into `threads` equal chunks: the
/// outermost one whose extent `threads` divides (equal static tiles keep the
/// register tiling and vectorization inside them possible), else the
/// outermost with more than one iteration. Empty when there is none.
SmallVector<OpFoldResult> getThreadTileSizes(OpBuilder &b, linalg::LinalgOp op,
                                             unsigned threads) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  std::optional<size_t> even, any;
  for (auto [i, range] : llvm::enumerate(ranges)) {
    if (iterators[i] != utils::IteratorType::parallel || range <= 1 ||
        ShapedType::isDynamic(range))
      continue;
    if (!any)
      any = i;
    if (!even && range % threads == 0)
      even = i;
  }
  std::optional<size_t> chosen = even ? even : any;
  if (!chosen)
    return {};
  SmallVector<OpFoldResult> sizes(ranges.size(), b.getIndexAttr(0));
  sizes[*chosen] = b.getIndexAttr(llvm::divideCeil(ranges[*chosen], threads));
  return sizes;
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
      // Padding stays outside the threads: padded once with static shapes,
      // instead of a pad per thread with tile-dependent bounds.
      options.setFusionControlFn(
          [](tensor::ExtractSliceOp, OpResult producer, bool isDestinationOperand)
              -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
            if (isa<tensor::PadOp>(producer.getOwner()))
              return std::nullopt;
            return scf::SCFTileAndFuseOptions::ControlFnResult{};
          });
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
