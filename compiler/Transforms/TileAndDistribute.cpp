//===- TileAndDistribute.cpp - Tile fusion groups across threads ----------===//

#include "compiler/Passes.h"
#include "compiler/Transforms/LoopOrder.h"
#include "compiler/Transforms/ReversedLoops.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELTILEANDDISTRIBUTE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Threads' tiles: sizes of each loop's tiles (0: not tiled), and the order
/// of the tiled loops (empty: loop order).
struct ThreadTiles {
  SmallVector<OpFoldResult> sizes;
  SmallVector<int64_t> interchange;
};

/// Tiles that split one parallel loop into `threads` equal chunks: the
/// outermost one whose extent `threads` divides (equal static tiles keep the
/// register tiling and vectorization inside them possible), else the
/// outermost with more than one iteration. No sizes when there is none.
/// `registerTiled`: the op's group holds a convolution or pool, whose
/// register tiles take the channels of the thread's tile, and no filter cut
/// into reduction blocks (tessel::kFilterFitsBytes; tiles of one row would
/// each sweep it from memory).
ThreadTiles getThreadTiles(OpBuilder &b, linalg::LinalgOp op, unsigned threads,
                           bool registerTiled) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // An op over an empty tensor has nothing to distribute.
  if (llvm::is_contained(ranges, 0))
    return {};
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  // Ops that read backwards stay whole (see ReversedLoops.h).
  if (tessel::getReversedLoops(op).any())
    return {};
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
  AffineMap result = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  bool contiguous = result.getNumResults() > 0 &&
                    result.getResults().back() == b.getAffineDimExpr(*chosen);
  SmallVector<OpFoldResult> sizes(ranges.size(), b.getIndexAttr(0));
  // Where only the contiguous dim (channels) divides and an outer one (the
  // rows of a 7x7 map) does not, a convolution's threads take tiles of one
  // row by as many channels as the widest register tile that divides them,
  // channel chunks outermost (each chunk's filter slice stays in cache for
  // its rows): one share of the channels a thread (160 -> 2 x 80) leaves
  // register tiles of 16 channels where the whole op takes 32, and a 1x1
  // 960->160 conv at 7x7 ran 1.12x faster on two threads than on one. The
  // tiles are static and dealt out in contiguous runs (5 chunks x 7 rows:
  // 18 and 17).
  if (registerTiled && even && contiguous && any && *any < *even) {
    int64_t channels = ranges[*even], chunk = channels;
    for (int64_t c : {4 * tessel::kLineElements, 2 * tessel::kLineElements,
                      tessel::kLineElements})
      if (channels % c == 0) {
        chunk = c;
        break;
      }
    sizes[*any] = b.getIndexAttr(1);
    sizes[*even] = b.getIndexAttr(chunk);
    SmallVector<int64_t> interchange{static_cast<int64_t>(*even)};
    for (int64_t i = 0, e = ranges.size(); i < e; ++i)
      if (i != static_cast<int64_t>(*even))
        interchange.push_back(i);
    return {sizes, interchange};
  }
  int64_t size = llvm::divideCeil(ranges[*chosen], threads);
  // Split the contiguous dim of the result at cache lines: two threads
  // writing one line (a matrix-vector product's row, read and written once
  // per reduction step) pass it back and forth between their cores.
  if (size > tessel::kLineElements && contiguous)
    size = llvm::alignTo(size, tessel::kLineElements);
  sizes[*chosen] = b.getIndexAttr(size);
  return {sizes, {}};
}

/// Whether `op` is a linalg op with only parallel loops (an epilogue).
bool isElementwise(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumLoops() == linalgOp.getNumParallelLoops();
}

/// Whether every result of `op` maps to its loops by a projected
/// permutation: only then can a tile of the result be computed by a tile of
/// the op (a reduction into a broadcast shape cannot).
bool hasTileableResults(linalg::LinalgOp op) {
  return llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
    return op.getMatchingIndexingMap(&init).isProjectedPermutation();
  });
}

/// Whether `op` is a convolution whose output position reads exactly the
/// input position it sits at: 1x1 kernel, unit strides. An input tile is
/// then the output tile's, so a producer fused into it is computed once.
bool isPointwiseConvolution(linalg::LinalgOp op) {
  if (!isa<linalg::ConvolutionOpInterface>(op.getOperation()))
    return false;
  FailureOr<linalg::ConvolutionDimensions> dims = linalg::inferConvolutionDims(op);
  if (failed(dims))
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  return llvm::all_of(dims->filterLoop, [&](unsigned loop) { return ranges[loop] == 1; }) &&
         llvm::all_of(dims->strides, [](int64_t stride) { return stride == 1; });
}

llvm::SmallPtrSet<Operation *, 8> getFusedProducers(Operation *root);

/// Whether `consumer` reads `use` broadcast along its leading loop: the
/// first with more than one iteration (or a dynamic count) is not in the
/// operand's map.
bool broadcastsAlongLeadingLoop(linalg::LinalgOp consumer, OpOperand &use) {
  AffineMap map = consumer.getMatchingIndexingMap(&use);
  for (auto [i, range] : llvm::enumerate(consumer.getStaticLoopRanges()))
    if (range != 1)
      return !map.isFunctionOfDim(i);
  return false;
}

/// Whether `op`, or an op fusing into it, has reduction loops.
bool reduces(linalg::LinalgOp op) {
  return op.getNumReductionLoops() > 0 ||
         llvm::any_of(getFusedProducers(op), [](Operation *producer) {
           return cast<linalg::LinalgOp>(producer).getNumReductionLoops() > 0;
         });
}

/// Whether `producer` is fused into the tiles of its one consumer: a result
/// used once, by an elementwise linalg op (a conv into its bias/norm/ReLU
/// epilogue, one epilogue into the next), or as the destination of a linalg
/// op (the fill of an accumulator), or an elementwise op read as the input
/// of a 1x1 stride-1 convolution (squeeze-and-excitation's scaling of the
/// channels before the projection: each row tile computes its input row,
/// and the scaled tensor is never written whole). Otherwise convolutions,
/// pools and reductions do not pull in their inputs, so each layer is a
/// fusion group of its own instead of the whole network being fused into
/// the last op.
///
/// A producer that reduces (or that a reduction fuses into) and that the
/// consumer broadcasts along its leading loop (the first of more than one
/// iteration, the one threads and row tiles split) stays a group of its
/// own: each tile would recompute all of it. Batch norm's per-channel sums
/// over the batch, or squeeze-and-excitation's global average pool at batch
/// 1, were computed whole by every thread, so they ran no faster on two.
bool fusesIntoConsumer(Operation *producer) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(producer);
  if (!linalgOp || !hasTileableResults(linalgOp) || producer->getNumResults() != 1 ||
      !producer->getResult(0).hasOneUse() || tessel::getReversedLoops(linalgOp).any())
    return false;
  OpOperand &use = *producer->getResult(0).getUses().begin();
  auto consumer = dyn_cast<linalg::LinalgOp>(use.getOwner());
  if (!consumer)
    return false;
  if (consumer.isDpsInit(&use))
    return true;
  if (isElementwise(consumer))
    return !broadcastsAlongLeadingLoop(consumer, use) || !reduces(linalgOp);
  // Into a convolution only an op whose own operands are computed whole
  // (none fuses into it in turn): the previous layer's convolution and
  // epilogue would otherwise be recomputed in every tile. Squeeze-and-
  // excitation's scale (a sigmoid of small matrix products of a global
  // pool, broadcast over the rows) is computed whole, so its multiply
  // fuses into the projection even where the scale has no other use.
  return isElementwise(producer) && isa<linalg::GenericOp>(producer) &&
         use.getOperandNumber() == 0 && isPointwiseConvolution(consumer) &&
         llvm::none_of(producer->getOperands(), [](Value operand) {
           Operation *def = operand.getDefiningOp();
           return def && fusesIntoConsumer(def);
         });
}

/// The ops fusing into `root` (fusesIntoConsumer, transitively).
llvm::SmallPtrSet<Operation *, 8> getFusedProducers(Operation *root) {
  llvm::SmallPtrSet<Operation *, 8> group;
  SmallVector<Operation *> stack{root};
  while (!stack.empty()) {
    Operation *op = stack.pop_back_val();
    for (Value operand : op->getOperands()) {
      Operation *producer = operand.getDefiningOp();
      if (producer && fusesIntoConsumer(producer) && group.insert(producer).second)
        stack.push_back(producer);
    }
  }
  return group;
}

/// The ops fusing into `root`, or none when they hold no convolution or
/// pool.
llvm::SmallPtrSet<Operation *, 8> getConvolutionGroup(Operation *root) {
  llvm::SmallPtrSet<Operation *, 8> group = getFusedProducers(root);
  if (llvm::none_of(group, [](Operation *op) {
        return isa<linalg::ConvolutionOpInterface>(op);
      }))
    group.clear();
  return group;
}

/// The loop iterations of `root` and of the ops fusing into it; dynamic
/// loops count as 2^40.
double getGroupIterations(linalg::LinalgOp root) {
  auto iterations = [](Operation *op) {
    double volume = 1;
    for (int64_t range : cast<linalg::LinalgOp>(op).getStaticLoopRanges())
      volume *= ShapedType::isDynamic(range) ? 0x1p40 : double(range);
    return volume;
  };
  double total = iterations(root);
  for (Operation *op : getFusedProducers(root))
    total += iterations(op);
  return total;
}

/// Tiles `root` with `sizes` into loops of `loopType`, fusing into each tile
/// the destinations it computes in and the producers in `group` (never a
/// pad: padding once, with static shapes, beats a pad per tile with
/// tile-dependent bounds), and replaces it. Returns the root's tile; a
/// failure leaves the root as it was.
FailureOr<Operation *>
tileAndFuse(RewriterBase &rewriter, linalg::LinalgOp root, ArrayRef<OpFoldResult> sizes,
            scf::SCFTilingOptions::LoopType loopType,
            const llvm::SmallPtrSetImpl<Operation *> &group,
            ArrayRef<int64_t> interchange = {}) {
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setTileSizes(sizes).setLoopType(loopType).setInterchange(interchange);
  options.setFusionControlFn(
      [&](tensor::ExtractSliceOp, OpResult producer, bool isDestinationOperand)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        Operation *op = producer.getOwner();
        if (isa<tensor::PadOp>(op))
          return std::nullopt;
        if (isDestinationOperand || group.contains(op))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  rewriter.setInsertionPoint(root);
  FailureOr<scf::SCFTileAndFuseResult> result = scf::tileConsumerAndFuseProducersUsingSCF(
      rewriter, cast<TilingInterface>(root.getOperation()), options);
  if (failed(result))
    return failure();
  for (OpResult value : root->getResults())
    rewriter.replaceAllUsesWith(value, result->replacements.lookup(value));
  rewriter.eraseOp(root);
  // The first of the tiled ops is the root's tile.
  return result->tiledAndFusedOps.front();
}

/// Whether `op` is a dense convolution whose static filter is larger than
/// tessel::kFilterFitsBytes.
bool hasBlockedFilter(Operation *op) {
  auto conv = dyn_cast<linalg::LinalgOp>(op);
  if (!conv || !isa<linalg::ConvolutionOpInterface>(op) || conv.getNumDpsInputs() != 2 ||
      isa<linalg::DepthwiseConv1DNwcWcOp, linalg::DepthwiseConv2DNhwcHwcOp,
          linalg::DepthwiseConv3DNdhwcDhwcOp>(op))
    return false;
  auto filter = dyn_cast<RankedTensorType>(conv.getDpsInputs()[1].getType());
  return filter && filter.hasStaticShape() &&
         filter.getNumElements() * filter.getElementTypeBitWidth() / 8 >
             tessel::kFilterFitsBytes;
}

/// Tiles a convolution's epilogue (the elementwise op ending its fusion
/// group) into output rows with the convolution and the rest of the group
/// fused into each: a row of the convolution's output is still in L1 when
/// its bias, batch norm, activation or residual add reads it, instead of a
/// second pass over the whole output from memory.
void tileIntoRows(RewriterBase &rewriter, linalg::LinalgOp root) {
  int64_t loops = root.getNumLoops();
  // A 1x1 convolution without an epilogue, into which an elementwise op
  // fuses (squeeze-and-excitation's scaling of its input channels): each
  // output row computes its input row, still in L1 when the convolution
  // reads it, instead of the scaled tensor being written whole and read
  // back. Not where the filter is cut into reduction blocks (each row
  // would sweep it whole, see below).
  if (isPointwiseConvolution(root) && root->getNumResults() == 1) {
    if (hasBlockedFilter(root))
      return;
    llvm::SmallPtrSet<Operation *, 8> group = getFusedProducers(root);
    Operation *input = root.getDpsInputs()[0].getDefiningOp();
    if (!input || !group.contains(input))
      return;
    AffineMap output = root.getMatchingIndexingMap(root.getDpsInitOperand(0));
    SmallVector<OpFoldResult> sizes(loops, rewriter.getIndexAttr(0));
    for (unsigned i = 0; i + 2 < output.getNumResults(); ++i)
      sizes[output.getDimPosition(i)] = rewriter.getIndexAttr(1);
    (void)tileAndFuse(rewriter, root, sizes, scf::SCFTilingOptions::LoopType::ForOp, group);
    return;
  }
  // Rows are the leading loops only where the group walks the convolution's
  // output in order: a layout change (to NCHW) in it would make them
  // channels, and the convolution's tiles single channels. A copy that
  // reorders only the leading dims is tiled along the first (below).
  if (loops < 3 || !isElementwise(root) || root->getNumResults() != 1 ||
      !root.getMatchingIndexingMap(root.getDpsInitOperand(0)).isIdentity())
    return;
  // Decided before tiling, which gives the producers new uses.
  llvm::SmallPtrSet<Operation *, 8> group = getConvolutionGroup(root);
  if (group.empty() || llvm::any_of(group, [](Operation *op) {
        auto linalgOp = cast<linalg::LinalgOp>(op);
        return isElementwise(linalgOp) && !tessel::walksLoopsInOrder(linalgOp);
      }))
    return;
  SmallVector<OpFoldResult> sizes(loops, rewriter.getIndexAttr(0));
  if (tessel::walksLoopsInOrder(root)) {
    // Not where a convolution's filter is cut into reduction blocks
    // (tessel::kFilterFitsBytes): each row would sweep the whole filter
    // from memory (ResNet-50's 7x7 layers, 4-9 MB filters, seven times a
    // call), where whole, each block is read once for every row.
    if (llvm::any_of(group, hasBlockedFilter))
      return;
    // Every loop but the last two (a row's columns and channels) steps by
    // one.
    for (int64_t i = 0; i + 2 < loops; ++i)
      sizes[i] = rewriter.getIndexAttr(1);
  } else {
    // A copy of the convolution's output into another order of its dims (a
    // filter gradient [C_in, kh, kw, C_out] into HWIO or OIHW), tiled along
    // the convolution's first dim so that each tile of it (a few images,
    // here input channels, by kernel taps by C_out) is copied from cache
    // instead of the whole gradient being written, read back and written
    // again. Where the innermost dim is kept (HWIO), by as many as a
    // register tile takes images where they divide it. Where it moves
    // (OIHW: C_out first), by 16: the copy is then 16x16 transposes whose
    // rows are whole cache lines of an OIHW row (16 input channels' taps
    // are contiguous in it), streamed to memory by tessel-lower-vectors;
    // written a vector of output channels at a time, each vector touched
    // 16 lines (ResNet-18's 3x3 512->512 filter gradients at 2x2 took
    // 1.8-2.0 ms a call, 4.7 GB/s).
    if (root.getNumDpsInputs() != 1)
      return;
    OpOperand *input = root.getDpsInputOperand(0);
    AffineMap map = root.getMatchingIndexingMap(input);
    if (!input->get().getDefiningOp<linalg::ConvolutionOpInterface>() || !map.isPermutation())
      return;
    unsigned first = map.getDimPosition(0);
    int64_t extent = root.getStaticLoopRanges()[first];
    if (ShapedType::isDynamic(extent))
      return;
    if (map.getDimPosition(loops - 1) == loops - 1) {
      int64_t images = tessel::kRegisterTileImages;
      sizes[first] = rewriter.getIndexAttr(extent % images == 0 ? images : 1);
    } else if (map.getDimPosition(loops - 1) == 0 && extent % tessel::kLineElements == 0) {
      sizes[first] = rewriter.getIndexAttr(tessel::kLineElements);
    } else {
      return;
    }
  }
  (void)tileAndFuse(rewriter, root, sizes, scf::SCFTilingOptions::LoopType::ForOp, group);
}

struct TileAndDistributePass
    : tessel::impl::TesselTileAndDistributeBase<TileAndDistributePass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    if (minParallelIterations < 0)
      return emitError(UnknownLoc::get(context))
             << "tessel-tile-and-distribute: min-parallel-iterations="
             << static_cast<int64_t>(minParallelIterations) << " is negative";
    if (threads > mlir::tessel::kMaxThreads)
      return emitError(UnknownLoc::get(context))
             << "tessel-tile-and-distribute: threads=" << static_cast<unsigned>(threads)
             << " exceeds "
             << mlir::tessel::kMaxThreads << ", the most Tessel runs on";
    return success();
  }

  void runOnOperation() override {
    // Generics that only write a constant (a zero bias broadcast into a
    // convolution's accumulator, folded) are fills: as generics, CSE merged
    // equal ones, and a MobileNetV2 zeroed its 12.8 MB stem output as a
    // kernel of its own for two layers to copy rows of back.
    getOperation().walk([](linalg::GenericOp generic) {
      std::optional<Value> value = linalg::isaFillOpInterface(generic);
      if (!value || generic->getNumResults() != 1)
        return;
      IRRewriter rewriter(generic);
      rewriter.replaceOpWithNewOp<linalg::FillOp>(generic, *value, generic.getDpsInits()[0]);
    });
    // A fill that several ops accumulate into (CSE merges equal ones) is
    // copied for each: then each is fused into its consumer's tiles, here
    // and into the register tiles of tessel-vectorize, which start from
    // zeros in registers instead of reading back a zeroed tensor. Each
    // copy takes its user's location, so that a kernel profile names the
    // layer it belongs to, not the one CSE kept.
    getOperation().walk([](linalg::FillOp fill) {
      if (!fill->getNumResults() || fill->getResult(0).hasOneUse())
        return;
      OpBuilder b(fill);
      for (OpOperand &use : llvm::make_early_inc_range(fill->getResult(0).getUses())) {
        Operation *copy = b.clone(*fill);
        copy->setLoc(use.getOwner()->getLoc());
        use.set(copy->getResult(0));
      }
      fill->erase();
    });
    // The ends of fusion groups: linalg ops not fused into a consumer,
    // decided before any tiling adds uses.
    SmallVector<linalg::LinalgOp> roots;
    llvm::SmallPtrSet<Operation *, 32> fused;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (fusesIntoConsumer(op))
        fused.insert(op);
      else
        roots.push_back(op);
    });

    // A function whose layers are small on average (a LeNet) runs on one
    // thread: each parallel region costs microseconds to start and join,
    // and moves its data to the other core and back when the next layer
    // runs on one thread. Mixing threaded and single-threaded layers was
    // slower than either, so the choice is the whole function's.
    double iterations = 0;
    for (linalg::LinalgOp root : roots)
      iterations += getGroupIterations(root);
    bool parallel = threads > 1 && !roots.empty() &&
                    iterations / double(roots.size()) >= double(minParallelIterations);

    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp root : roots) {
      ThreadTiles tiles;
      if (parallel) {
        llvm::SmallPtrSet<Operation *, 8> group = getConvolutionGroup(root);
        group.insert(root);
        bool registerTiled =
            llvm::any_of(group, [](Operation *op) {
              return isa<linalg::ConvolutionOpInterface>(op);
            }) && llvm::none_of(group, hasBlockedFilter);
        tiles = getThreadTiles(rewriter, root, threads, registerTiled);
      }
      // A reduction into a broadcast shape stays whole, on one thread.
      if (tiles.sizes.empty() || !hasTileableResults(root)) {
        tileIntoRows(rewriter, root);
        continue;
      }
      FailureOr<Operation *> tiledRoot =
          tileAndFuse(rewriter, root, tiles.sizes, scf::SCFTilingOptions::LoopType::ForallOp,
                      fused, tiles.interchange);
      if (failed(tiledRoot))
        tileIntoRows(rewriter, root); // Left whole, it runs on one thread.
      else if (auto tile = dyn_cast<linalg::LinalgOp>(*tiledRoot))
        tileIntoRows(rewriter, tile);
    }
  }
};

} // namespace
