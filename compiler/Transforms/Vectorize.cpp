//===- Vectorize.cpp - Register tiles and vectors for convolutions --------===//
//
// The upstream vectorizer puts a 1-D channels-last convolution's output
// channels on vector lanes and unrolls its output columns; what decides speed
// is the register tile around it (see docs/performance.md): an output tile of
// up to 64 channels (4 zmm) by a few columns, kept in registers across the
// input-channel and kernel loops, with contractions lowered to FMAs.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "compiler/Transforms/LoopOrder.h"
#include "compiler/Transforms/ReversedLoops.h"
#include "dialects/tessel/IR/Constants.h"

#include "llvm/ADT/SmallBitVector.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELVECTORIZE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// Ops with more iterations than this (16 zmm) are not vectorized whole:
/// the per-channel ops of a training step's batch norms (vectors of up to
/// 1280 floats, left in the entry function) made LLVM's register allocator
/// take most of a 43 s MobileNetV2 compile. Nor are transposing ops (not
/// tessel::walksLoopsInOrder): vectorized whole, one becomes a scalar load
/// and store per element, which bloats the function it sits in, and its
/// loop nest is as fast and far smaller.
constexpr int64_t kMaxVectorElements = 256;

/// Nor are ops whose innermost loop is short beside the rest (a per-channel
/// op on a [C, 1, 1] tensor): their n-D vectors lower to one 1-D vector per
/// row of the leading dims, so vector<576x1x1xf32> became 576 scalar
/// operations per op, and a MobileNetV2 training step's entry function
/// 200,000 lines of LLVM dialect. As loops they stay a few lines.
constexpr int64_t kMaxVectorRows = 32;

/// The largest divisor of `size` that is at most `limit`.
int64_t divisorAtMost(int64_t size, int64_t limit) {
  for (int64_t d = std::min(size, limit); d > 1; --d)
    if (size % d == 0)
      return d;
  return 1;
}

/// The channels-last named convolutions Tessel tiles: their spatial rank,
/// and whether they are depthwise (no separate output channel loop: the
/// channel loop is shared). Pooling loops are those of a depthwise conv.
struct TiledConv {
  unsigned spatialRank;
  bool depthwise;
};
std::optional<TiledConv> getTiledConv(linalg::LinalgOp op) {
  if (isa<linalg::Conv1DNwcWcfOp>(op))
    return TiledConv{1, false};
  if (isa<linalg::Conv2DNhwcHwcfOp>(op))
    return TiledConv{2, false};
  if (isa<linalg::Conv3DNdhwcDhwcfOp>(op))
    return TiledConv{3, false};
  if (isa<linalg::DepthwiseConv1DNwcWcOp, linalg::PoolingNwcMaxOp, linalg::PoolingNwcSumOp>(op))
    return TiledConv{1, true};
  if (isa<linalg::DepthwiseConv2DNhwcHwcOp, linalg::PoolingNhwcMaxOp,
          linalg::PoolingNhwcSumOp>(op))
    return TiledConv{2, true};
  if (isa<linalg::DepthwiseConv3DNdhwcDhwcOp, linalg::PoolingNdhwcMaxOp,
          linalg::PoolingNdhwcSumOp>(op))
    return TiledConv{3, true};
  return std::nullopt;
}

/// Register-tile sizes for a channels-last named convolution, loop by loop:
/// batch, output spatial dims, [output channels,] kernel dims, [input
/// channels]; empty when the op is not one we tile.
SmallVector<int64_t> getRegisterTile(linalg::LinalgOp op, int64_t lanes,
                                     int64_t accumulators, int64_t channelStep) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  std::optional<TiledConv> kind = getTiledConv(op);
  if (!kind || llvm::any_of(ranges, ShapedType::isDynamic) || llvm::is_contained(ranges, 0))
    return {};
  auto [spatialRank, depthwise] = *kind;

  // Loops: n, o_0..o_{s-1}, c (output or depthwise channels), k_0..k_{s-1},
  // and for dense convs the input channels last; upstream's 3-D depthwise
  // conv alone has its channels after the kernel loops. Pick the column and
  // channel tile with the most accumulator vectors that fit; ties go to
  // wider channel tiles (contiguous weight rows).
  bool channelsLast = isa<linalg::DepthwiseConv3DNdhwcDhwcOp>(op);
  unsigned channelLoop = channelsLast ? ranges.size() - 1 : 1 + spatialRank;
  unsigned rowLoop = 2 * spatialRank + (channelsLast ? 0 : 1); // the last kernel loop
  int64_t channels = ranges[channelLoop], columns = ranges[spatialRank];
  int64_t registers = lanes >= 16 ? 32 : 16;
  // A depthwise tile (or a pool's) takes its kernel rows whole: the
  // vectorizer then reads each input column of a row once and uses it for
  // every tap that covers it (a 3-tap row of 8 columns reads 10 input vectors
  // instead of 24), weights and inputs held in registers beside the
  // accumulators. Their count bounds the tile.
  int64_t taps = ranges[rowLoop], stride = 1, dilation = 1;
  if (depthwise) {
    if (auto attr = op->getAttrOfType<DenseIntElementsAttr>("strides"))
      stride = attr.getValues<int64_t>()[attr.size() - 1];
    if (auto attr = op->getAttrOfType<DenseIntElementsAttr>("dilations"))
      dilation = attr.getValues<int64_t>()[attr.size() - 1];
  }
  auto depthwiseRegisters = [&](int64_t w, int64_t vectors) {
    int64_t inputs = (w - 1) * stride + (taps - 1) * dilation + 1;
    return vectors * (w + inputs + taps);
  };
  int64_t channelTile = 1, width = 1, best = 0;
  auto chooseChannelsAndColumns = [&](bool wholeRows) {
    for (int64_t c : {64, 32, 16, 8}) {
      if (channels % c != 0)
        continue;
      int64_t vectors = llvm::divideCeil(c, lanes);
      int64_t w = divisorAtMost(columns, std::min<int64_t>(8, accumulators / vectors));
      if (wholeRows)
        while (w > 1 && depthwiseRegisters(w, vectors) > registers)
          w = divisorAtMost(columns, w - 1);
      if (wholeRows && depthwiseRegisters(w, vectors) > registers)
        continue;
      if (w * vectors > best) {
        best = w * vectors;
        channelTile = c;
        width = w;
      }
    }
  };
  chooseChannelsAndColumns(/*wholeRows=*/depthwise);
  // Rows too long to hold whole (a depthwise filter gradient's taps are the
  // output gradient's columns; a pool's window as wide as its input) are
  // taken a tap at a step, the accumulators still channel vectors.
  bool wholeRows = depthwise && best > 0;
  if (best == 0 && depthwise)
    chooseChannelsAndColumns(/*wholeRows=*/false);
  if (best == 0) {
    channelTile = channels <= 64 ? channels : 1;
    width = divisorAtMost(columns, 4);
  }

  SmallVector<int64_t> tile(ranges.size(), 1);
  tile[spatialRank] = width;
  tile[channelLoop] = channelTile;
  if (wholeRows)
    tile[rowLoop] = 0; // the kernel row whole
  if (!depthwise) {
    // Where the registers hold twice the tile (a filter gradient's 3 taps,
    // 7-column maps: 2 x 7 x 32 channels in 28 zmm), two images per tile
    // share each weight vector loaded, one input channel a step: the
    // accumulators, that step's weight vectors and one broadcast input fill
    // the register file (32 with AVX-512, else 16).
    int64_t weights = llvm::divideCeil(channelTile, lanes);
    int64_t step = channelStep;
    int64_t images = tessel::kRegisterTileImages;
    if (best > 0 && images * best + weights + 1 <= registers && ranges[0] % images == 0) {
      tile[0] = images;
      step = 1;
    }
    int64_t inChannels = ranges.back();
    tile.back() = inChannels % step == 0 ? step : 1;
  }
  return tile;
}

/// Whether `op` only initializes a convolution's accumulator: a fill, or
/// an elementwise op that writes a constant or broadcasts a smaller operand
/// (a bias) without reading its destination. Fused into each register tile,
/// the tile starts from those values in registers; left alone, it was a
/// separate pass over each output row (written with the bias, or a memset,
/// then read back by every tile).
bool isAccumulatorInit(Operation *op) {
  if (isa<linalg::FillOp>(op))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      generic.payloadUsesValueFromOperand(generic.getDpsInitOperand(0)) ||
      !generic.getIndexingMapsArray().back().isIdentity())
    return false;
  return llvm::all_of(generic.getDpsInputOperands(), [&](OpOperand *input) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    return map.isProjectedPermutation() && map.getNumResults() < map.getNumDims();
  });
}

/// Tiles `op` by `sizes` with `producers` (ops it reads, e.g. the
/// convolution an epilogue applies to) and the ops that initialize
/// accumulators (isAccumulatorInit, wherever one is a destination in the
/// tile) fused into each tile, and replaces it, erasing the producers left
/// unused; the tiled and fused ops, or failure (the op left as it was).
FailureOr<SmallVector<Operation *>> tileWithAccumulatorInit(RewriterBase &rewriter,
                                                            linalg::LinalgOp op,
                                                            ArrayRef<int64_t> sizes,
                                                            ArrayRef<Operation *> producers = {}) {
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setTileSizes(getAsIndexOpFoldResult(op.getContext(), sizes));
  options.setFusionControlFn(
      [producers](tensor::ExtractSliceOp slice, OpResult producer, bool isDestinationOperand)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        auto isDestination = [](OpOperand &use) {
          auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
          return dps && dps.isDpsInit(&use);
        };
        if (llvm::is_contained(producers, producer.getOwner()) ||
            (isAccumulatorInit(producer.getOwner()) &&
             (isDestinationOperand || llvm::any_of(slice->getUses(), isDestination))))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTileAndFuseResult> tiled = scf::tileConsumerAndFuseProducersUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  // (a producer that could not be fused leaves the new loops unused)
  if (failed(tiled) || llvm::any_of(producers, [&](Operation *producer) {
        return !tiled->fusedProducers.contains(producer);
      }))
    return failure();
  for (OpResult value : op->getResults())
    rewriter.replaceAllUsesWith(value, tiled->replacements.lookup(value));
  rewriter.eraseOp(op);
  for (Operation *producer : producers)
    if (producer->use_empty())
      rewriter.eraseOp(producer);
  return SmallVector<Operation *>(tiled->tiledAndFusedOps.begin(),
                                  tiled->tiledAndFusedOps.end());
}

/// The elementwise op that is the only user of `conv`'s result, reading it
/// in order and writing a result of its shape: the convolution's (or
/// pool's) epilogue — bias, batch norm, activation, residual add, an
/// average pool's division — that tessel-tile-and-distribute put beside it
/// in each output row. Its other operands may broadcast but not transpose.
linalg::GenericOp getEpilogue(linalg::LinalgOp conv) {
  if (conv->getNumResults() != 1 || !conv->getResult(0).hasOneUse())
    return {};
  OpOperand &use = *conv->getResult(0).getUses().begin();
  auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
  if (!generic || generic.getNumDpsInits() != 1 || !generic.isDpsInput(&use) ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !generic.getMatchingIndexingMap(&use).isIdentity() ||
      !generic.getIndexingMapsArray().back().isIdentity() ||
      generic->getResult(0).getType() != conv->getResult(0).getType() ||
      !tessel::walksLoopsInOrder(generic))
    return {};
  return generic;
}

/// Each matrix of a statically shaped `linalg.batch_matmul` (the products of
/// tessel-winograd) as a 1-D channels-last convolution: one matrix a tile,
/// [1, rows, C] x [1, C, K] is conv_1d_nwc_wcf's [N, W, C] x [KW, C, F] with
/// N = KW = 1, which the register tiles below then take like a 1x1
/// convolution. The fill of the accumulator is fused into each matrix.
void batchMatmulsAsConvolutions(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<linalg::BatchMatmulOp> matmuls;
  func.walk([&](linalg::BatchMatmulOp op) {
    if (op.hasPureTensorSemantics() && !op.hasUserDefinedMaps() &&
        !llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
      matmuls.push_back(op);
  });
  for (linalg::BatchMatmulOp matmul : matmuls) {
    FailureOr<SmallVector<Operation *>> tiled =
        tileWithAccumulatorInit(rewriter, matmul, {1, 0, 0, 0});
    if (failed(tiled))
      continue;
    for (Operation *op : *tiled) {
      auto tile = dyn_cast<linalg::BatchMatmulOp>(op);
      if (!tile)
        continue;
      auto unit = DenseIntElementsAttr::get(
          RankedTensorType::get({1}, rewriter.getI64Type()), ArrayRef<int64_t>{1});
      rewriter.setInsertionPoint(tile);
      rewriter.replaceOpWithNewOp<linalg::Conv1DNwcWcfOp>(
          tile, tile->getResultTypes(), tile.getDpsInputs(), tile.getDpsInits(), unit, unit);
    }
  }
}

/// The same for a block that is also cut across output channels: its
/// filter rows are strided (64 of C_out floats each), which maps the block
/// to a fraction of L2's sets; 512 KB blocks of 3x3 512->512 thrashed (100
/// GFLOP/s at 4x4 maps, batch 16), 128 KB ones ran at 157.
constexpr int64_t kChannelBlockBytes = 128 * 1024;

/// Fewest reduction steps (FMAs per accumulator) a reduction block of a
/// register tile runs.
constexpr int64_t kMinBlockSteps = 128;

/// Reduction-block tile sizes for a dense channels-last convolution whose
/// filter does not fit in L2 (over tessel::kFilterFitsBytes): the register
/// tiles sweep the whole filter for every output position, so a larger one
/// streams from L3 or memory at each.
/// Blocking the outermost kernel loop into rows whose filter slice fits
/// keeps that slice in L2 across all output tiles, for one more read and
/// write of the (small) output per block. This is the shape of a filter
/// gradient computed as a convolution (DecomposeConv.cpp: a 3x3 output, the
/// output gradient as a filter of size N x H x W x C). Where one kernel row
/// of the filter is already too large (wide layers: a row of 3x3 256->256
/// is 786 KB), the block is one kernel row of 64 output channels (the
/// widest register tile) and as many input channels as fit. Empty when the
/// filter fits, or when no block fits with enough steps.
SmallVector<int64_t> getReductionBlock(linalg::LinalgOp op) {
  std::optional<TiledConv> kind = getTiledConv(op);
  if (!kind || kind->depthwise)
    return {};
  auto filterType = dyn_cast<RankedTensorType>(op.getDpsInputOperand(1)->get().getType());
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (!filterType || !filterType.hasStaticShape() || !filterType.getElementType().isF32() ||
      llvm::any_of(ranges, ShapedType::isDynamic))
    return {};
  // Loops: n, o_0..o_{s-1}, f, k_0..k_{s-1}, c; the filter is [k..., c, f].
  unsigned channelLoop = kind->spatialRank + 1, firstKernelLoop = kind->spatialRank + 2;
  int64_t rows = ranges[firstKernelLoop];
  int64_t rowBytes = filterType.getNumElements() / rows * 4;
  if (rows * rowBytes <= tessel::kFilterFitsBytes)
    return {};
  SmallVector<int64_t> tile(ranges.size(), 0);
  // Each block reloads and stores the register tile: blocks of a few
  // reduction steps would spend more on that than they save.
  int64_t steps = 1;
  for (unsigned i = firstKernelLoop + 1; i < ranges.size(); ++i)
    steps *= ranges[i];
  if (rowBytes <= tessel::kFilterBlockBytes) {
    tile[firstKernelLoop] = divisorAtMost(rows, tessel::kFilterBlockBytes / rowBytes);
    steps *= tile[firstKernelLoop];
  } else {
    int64_t outChannels = ranges[channelLoop], inChannels = ranges.back();
    int64_t channelBlock = 64;
    while (channelBlock >= 16 && outChannels % channelBlock != 0)
      channelBlock /= 2;
    if (channelBlock < 16 || channelBlock == outChannels)
      return {};
    int64_t bytesPerInChannel = rowBytes / inChannels / outChannels * channelBlock;
    int64_t inBlock = divisorAtMost(inChannels, kChannelBlockBytes / bytesPerInChannel);
    tile[firstKernelLoop] = 1;
    tile[channelLoop] = channelBlock;
    if (inBlock < inChannels)
      tile.back() = inBlock;
    steps = steps / inChannels * inBlock;
  }
  if (steps < kMinBlockSteps)
    return {};
  return tile;
}

/// An operand's dims, as the loop each one walks (a dim may be walked
/// backwards, c - i: a flip); empty unless every loop is walked by exactly
/// one dim.
SmallVector<unsigned> getDimLoops(AffineMap map) {
  SmallVector<unsigned> loops;
  llvm::SmallBitVector seen(map.getNumDims());
  for (AffineExpr e : map.getResults()) {
    std::optional<unsigned> loop;
    bool single = true;
    e.walk([&](AffineExpr sub) {
      if (auto dim = dyn_cast<AffineDimExpr>(sub)) {
        single &= !loop || *loop == dim.getPosition();
        loop = dim.getPosition();
      }
    });
    if (!loop || !single || seen.test(*loop))
      return {};
    seen.set(*loop);
    loops.push_back(*loop);
  }
  return loops.size() == map.getNumDims() ? loops : SmallVector<unsigned>();
}

/// Cache tiles for a layout change: an op whose operands are laid out in
/// different loop orders reads or writes a new cache line per element, and
/// on a tensor larger than the cache touches every line once per element in
/// it. A tile that spans about a line of each operand's trailing dims uses
/// every line it touches whole while it is in L1. For copies of any rank
/// (linalg.transpose, or a generic whose body only yields its one input) and
/// for 2-D elementwise ops (collapseTogetherWalkedLoops makes an SGD update
/// reading its gradient transposed one); operands that do not walk every
/// loop (a scalar, a broadcast row) take no part. Empty for other ops and
/// in-order ones.
SmallVector<int64_t> getCacheTile(linalg::LinalgOp op) {
  if (op.getNumLoops() != op.getNumParallelLoops() ||
      !(tessel::isCopy(op) ||
        (op.getNumLoops() == 2 && isa<linalg::GenericOp>(op.getOperation()))))
    return {};
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic) || llvm::is_contained(ranges, 0) ||
      tessel::getReversedLoops(op).any())
    return {};
  SmallVector<SmallVector<unsigned>> orders;
  for (AffineMap map : op.getIndexingMapsArray())
    if (SmallVector<unsigned> loops = getDimLoops(map); !loops.empty())
      orders.push_back(std::move(loops));
  if (llvm::all_of(orders, [&](ArrayRef<unsigned> loops) {
        return loops.back() == orders.front().back();
      }))
    return {};
  SmallVector<int64_t> tile(ranges.size(), 1);
  // Each operand's trailing dims, whole while their product fits a line.
  // A dim that a line's remainder does not divide takes the largest
  // power-of-two part of it that does, and the next dim out the rest: a
  // batch-1 filter gradient's input, [1, 56, 56, C] copied to [C, 56, 56,
  // 1], takes 2 rows by 8 columns, where 16 columns left a partial tile
  // (16 + 16 + 16 + 8) whose dynamic sizes kept the whole copy scalar.
  for (ArrayRef<unsigned> loops : orders) {
    int64_t product = 1;
    for (unsigned loop : llvm::reverse(loops)) {
      int64_t need = llvm::divideCeil(tessel::kLineElements, product);
      if (product * ranges[loop] <= tessel::kLineElements) {
        tile[loop] = std::max(tile[loop], ranges[loop]);
        product *= ranges[loop];
        continue;
      }
      int64_t part = need;
      while (part > 1 && ranges[loop] % part != 0)
        part /= 2;
      if (part < 2 || tessel::kLineElements % product != 0 || need % part != 0)
        part = need;
      tile[loop] = std::max(tile[loop], part);
      if (part == need)
        break;
      product *= part;
    }
  }
  return tile;
}

/// An elementwise generic whose operands walk some of its loops in
/// different orders (an SGD update of an OIHW parameter reading the filter
/// gradient as [C_in, kh, kw, C_out]) as a generic over two loops, each a run
/// of loops that every operand walks together, in order: the update
/// becomes a 2-D transpose, [C_out, C_in*kh*kw] against [C_in*kh*kw, C_out],
/// which getCacheTile cuts into 16x16 tiles. Operands are collapsed
/// (tensor.collapse_shape) and results expanded back. Every operand must
/// walk all loops or be a scalar (a learning rate); upstream's
/// linalg::collapseOpIterationDims builds invalid maps for 0-D operands
/// (LLVM 22). Returns the new op, or null when the op is not such a generic
/// or its loops do not fall into two runs.
linalg::LinalgOp collapseTogetherWalkedLoops(RewriterBase &rewriter, linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || !op.hasPureTensorSemantics() || generic.hasIndexSemantics() ||
      op.getNumLoops() != op.getNumParallelLoops() || tessel::walksLoopsInOrder(op) ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!llvm::all_of(maps, [](AffineMap map) {
        return map.isPermutation() || map.getNumResults() == 0;
      }))
    return {};
  // The run of each loop: a loop joins the previous one's run when every
  // operand walks the two one after the other.
  SmallVector<ReassociationIndices> runs;
  for (int64_t loop = 0; loop < op.getNumLoops(); ++loop) {
    if (!runs.empty()) {
      ReassociationIndices longer = runs.back();
      longer.push_back(loop);
      if (linalg::areDimSequencesPreserved(maps, longer)) {
        runs.back() = std::move(longer);
        continue;
      }
    }
    runs.push_back({loop});
  }
  if (runs.size() != 2)
    return {};
  SmallVector<unsigned> runOf(op.getNumLoops());
  for (auto [index, run] : llvm::enumerate(runs))
    for (int64_t loop : run)
      runOf[loop] = index;
  // Each operand's dims grouped by run, and its map over the two runs.
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands;
  SmallVector<AffineMap> newMaps;
  SmallVector<SmallVector<ReassociationIndices>> groups;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    SmallVector<ReassociationIndices> dims;
    SmallVector<AffineExpr> exprs;
    for (unsigned position = 0; position < map.getNumResults(); ++position) {
      unsigned run = runOf[map.getDimPosition(position)];
      if (position == 0 || runOf[map.getDimPosition(position - 1)] != run) {
        dims.emplace_back();
        exprs.push_back(rewriter.getAffineDimExpr(run));
      }
      dims.back().push_back(position);
    }
    Value value = operand.get();
    if (map.getNumResults() != 0)
      value = tensor::CollapseShapeOp::create(rewriter, loc, value, dims);
    operands.push_back(value);
    newMaps.push_back(AffineMap::get(2, 0, exprs, rewriter.getContext()));
    groups.push_back(std::move(dims));
  }
  int64_t inputs = op.getNumDpsInputs();
  ValueRange ins = ValueRange(operands).take_front(inputs);
  ValueRange outs = ValueRange(operands).drop_front(inputs);
  auto collapsed = linalg::GenericOp::create(
      rewriter, loc, outs.getTypes(), ins, outs, newMaps,
      SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel));
  rewriter.inlineRegionBefore(generic.getRegion(), collapsed.getRegion(),
                              collapsed.getRegion().begin());
  SmallVector<Value> results;
  for (auto [index, result] : llvm::enumerate(collapsed->getResults()))
    results.push_back(tensor::ExpandShapeOp::create(rewriter, loc,
                                                    op->getResult(index).getType(), result,
                                                    groups[inputs + index]));
  rewriter.replaceOp(op, results);
  return collapsed;
}

/// A cache tile of a copy that moves a dim of 16 (loop A: the input's last
/// dim) before dims whose sizes multiply to 16 (loops B, the output's last
/// one among them), all other dims 1: a filter gradient's input, [N, H, W,
/// C] copied to [C, H, W, N] with N = 8, has tiles [8, 1, 2, 16] ->
/// [16, 1, 2, 8]. A's dim must come before B's in the output, so that the
/// output tile in row-major order is a 16x16 square, A by B in the output's
/// order. The tile is read whole (its rows B's indices in the input's
/// order), its rows permuted into the output's order (a shuffle along the
/// square's leading dim), transposed and written with one transfer_write,
/// which lowers to runs of stores along the output's last dim. 256 scalar
/// copies with a cache line per element ran at 3 GB/s; a chain of one write
/// per run (up to 64) made one-shot bufferization's analysis, quadratic in
/// such chains, take a ResNet-18 gradient's bufferization from 0.3 to 1.2 s.
LogicalResult vectorizeRowsTransposeTile(RewriterBase &rewriter, linalg::LinalgOp op,
                                         ArrayRef<unsigned> inLoops,
                                         ArrayRef<unsigned> outLoops) {
  Value input = op.getDpsInputOperand(0)->get(), init = op.getDpsInitOperand(0)->get();
  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(init.getType());
  int64_t inRank = inType.getRank(), outRank = outType.getRank();
  if (inRank == 0 || outRank == 0 || inType.getDimSize(inRank - 1) != 16)
    return failure();
  unsigned a = inLoops.back();
  // Each loop's size, from the input's dims; the output must agree.
  llvm::SmallDenseMap<unsigned, int64_t> loopSize;
  for (int64_t d = 0; d < inRank; ++d)
    loopSize[inLoops[d]] = inType.getDimSize(d);
  int64_t product = 1;
  SmallVector<int64_t> bDims; // the output's dims walking B loops, in order
  for (int64_t d = 0; d < outRank; ++d) {
    auto it = loopSize.find(outLoops[d]);
    if (it == loopSize.end() || it->second != outType.getDimSize(d))
      return failure();
    if (outLoops[d] != a && it->second != 1) {
      bDims.push_back(d);
      product *= it->second;
    }
  }
  // B's dims multiply to 16, the output's last among them (but unit dims),
  // all after A's; the stores' runs are at least 4 long.
  int64_t aDim = llvm::find(outLoops, a) - outLoops.begin();
  int64_t lastDim = outRank - 1;
  while (lastDim > 0 && outType.getDimSize(lastDim) == 1)
    --lastDim;
  if (product != 16 || bDims.empty() || bDims.back() != lastDim || aDim > bDims.front() ||
      outType.getDimSize(lastDim) < 4)
    return failure();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Type element = inType.getElementType();
  Value padding = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(element));
  // Column j of the square is B's j-th index in the output's row-major order.
  auto bIndex = [&](int64_t j) {
    llvm::SmallDenseMap<unsigned, int64_t> at;
    for (int64_t d : llvm::reverse(bDims)) {
      int64_t size = outType.getDimSize(d);
      at[outLoops[d]] = j % size;
      j /= size;
    }
    return at;
  };
  // The tile as one read, its rows (B's indices in the input's row-major
  // order) stacked into a square: the transpose stays a vector.transpose,
  // which tessel-lower-vectors lowers to the shuffle network. (16 row reads
  // inserted into a square were folded into element inserts.)
  SmallVector<bool> inBounds(inRank, true);
  SmallVector<Value> zeros(inRank, arith::ConstantIndexOp::create(rewriter, loc, 0));
  Value tile = vector::TransferReadOp::create(
      rewriter, loc, VectorType::get(inType.getShape(), element), input, zeros, padding,
      inBounds);
  Value square = vector::ShapeCastOp::create(rewriter, loc, VectorType::get({16, 16}, element),
                                             tile);
  // Where the output walks B in another order, the square's rows are
  // permuted: row j (the output's order) is B's index in the input's order.
  SmallVector<int64_t> inputOrder(16);
  bool inOrder = true;
  for (int64_t j = 0; j < 16; ++j) {
    llvm::SmallDenseMap<unsigned, int64_t> at = bIndex(j);
    int64_t flat = 0;
    for (int64_t d = 0; d < inRank - 1; ++d)
      flat = flat * inType.getDimSize(d) + at.lookup(inLoops[d]);
    inputOrder[j] = flat;
    inOrder &= flat == j;
  }
  if (!inOrder)
    square = vector::ShuffleOp::create(rewriter, loc, square, square, inputOrder);
  Value columns = vector::TransposeOp::create(rewriter, loc, square, ArrayRef<int64_t>{1, 0});
  Value whole = vector::ShapeCastOp::create(rewriter, loc,
                                            VectorType::get(outType.getShape(), element), columns);
  rewriter.replaceOp(op, vector::TransferWriteOp::create(
                             rewriter, loc, whole, init,
                             SmallVector<Value>(outRank, zeros.front()),
                             SmallVector<bool>(outRank, true))
                             .getResult());
  return success();
}

/// A cache tile of a 2-D transpose (getCacheTile's tile of a copy whose
/// input and output each have two dims of 16 and the rest 1, in opposite
/// loop orders) as one 16x16 vector transpose: 16 row loads, a shuffle
/// network (tessel-lower-vectors lowers 16x16 transposes with shuffles),
/// 16 row stores, instead of 256 scalar copies. Its one 16x16 write into
/// the collapsed output is what tessel-lower-vectors streams into large
/// arguments. Other copy tiles are tried as gathered transposes
/// (vectorizeRowsTransposeTile); fails on the rest.
LogicalResult vectorizeTransposeTile(RewriterBase &rewriter, linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return failure();
  Value input = op.getDpsInputOperand(0)->get(), init = op.getDpsInitOperand(0)->get();
  auto inType = dyn_cast<RankedTensorType>(input.getType());
  auto outType = dyn_cast<RankedTensorType>(init.getType());
  if (!inType || !outType || !inType.hasStaticShape() || !outType.hasStaticShape() ||
      !inType.getElementType().isIntOrFloat() ||
      inType.getElementType().getIntOrFloatBitWidth() != 32)
    return failure();
  // Each operand's dims other than 1: two of 16, walking the same two loops
  // in opposite orders.
  auto wideDims = [](RankedTensorType type) {
    SmallVector<int64_t> positions;
    for (auto [i, size] : llvm::enumerate(type.getShape()))
      if (size != 1)
        positions.push_back(i);
    return positions;
  };
  SmallVector<int64_t> inDims = wideDims(inType), outDims = wideDims(outType);
  SmallVector<unsigned> inLoops = getDimLoops(op.getMatchingIndexingMap(op.getDpsInputOperand(0)));
  SmallVector<unsigned> outLoops = getDimLoops(op.getMatchingIndexingMap(op.getDpsInitOperand(0)));
  auto sixteen = [](RankedTensorType type, ArrayRef<int64_t> dims) {
    return llvm::all_of(dims, [&](int64_t d) { return type.getDimSize(d) == 16; });
  };
  if (inLoops.empty() || outLoops.empty())
    return failure();
  if (inDims.size() != 2 || outDims.size() != 2 || !sixteen(inType, inDims) ||
      !sixteen(outType, outDims) || inLoops[inDims[0]] != outLoops[outDims[1]] ||
      inLoops[inDims[1]] != outLoops[outDims[0]])
    return vectorizeRowsTransposeTile(rewriter, op, inLoops, outLoops);
  // Unit dims join the group of a wide dim: [..., wide0], [..., wide1, ...].
  auto groups = [](RankedTensorType type, ArrayRef<int64_t> wide) {
    SmallVector<ReassociationIndices> result(2);
    for (int64_t i = 0; i < type.getRank(); ++i)
      result[i <= wide[0] ? 0 : 1].push_back(i);
    return result;
  };
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto square = VectorType::get({16, 16}, inType.getElementType());
  auto squareTensor = RankedTensorType::get({16, 16}, inType.getElementType());
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value padding = arith::ConstantOp::create(rewriter, loc,
                                            rewriter.getZeroAttr(inType.getElementType()));
  SmallVector<ReassociationIndices> outGroups = groups(outType, outDims);
  Value source = tensor::CollapseShapeOp::create(rewriter, loc, squareTensor, input,
                                                 groups(inType, inDims));
  Value dest = tensor::CollapseShapeOp::create(rewriter, loc, squareTensor, init, outGroups);
  SmallVector<bool> inBounds(2, true);
  Value rows = vector::TransferReadOp::create(rewriter, loc, square, source,
                                              ValueRange{zero, zero}, padding, inBounds);
  Value columns = vector::TransposeOp::create(rewriter, loc, rows, ArrayRef<int64_t>{1, 0});
  Value written = vector::TransferWriteOp::create(rewriter, loc, columns, dest,
                                                  ValueRange{zero, zero}, inBounds)
                      .getResult();
  rewriter.replaceOp(op, tensor::ExpandShapeOp::create(rewriter, loc, outType, written,
                                                       outGroups));
  return success();
}

/// Whether `slice` keeps its source's rank and steps by 1.
bool isPlainSlice(tensor::ExtractSliceOp slice) {
  return slice.getSourceType().getRank() == slice.getType().getRank() &&
         llvm::all_of(slice.getMixedStrides(),
                      [](OpFoldResult s) { return isConstantIntValue(s, 1); });
}

/// The op `value` is a plain slice of, through any number of plain slices
/// (the value itself where it is none), null past a slice that is not
/// plain; the slices, innermost first, go to `chain` when given.
Operation *getSlicedOp(Value value, SmallVectorImpl<tensor::ExtractSliceOp> *chain = nullptr) {
  while (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (!isPlainSlice(slice))
      return nullptr;
    if (chain)
      chain->push_back(slice);
    value = slice.getSource();
  }
  return value.getDefiningOp();
}

/// The offsets of the innermost slice of `chain` (plain slices, innermost
/// first: getSlicedOp's) in the value the chain starts from, dim by dim the
/// sum of the chain's offsets, as `map` rewrites that sum.
SmallVector<OpFoldResult>
getChainOffsets(RewriterBase &rewriter, Location loc, ArrayRef<tensor::ExtractSliceOp> chain,
                function_ref<AffineExpr(unsigned dim, AffineExpr offset)> map) {
  unsigned rank = tensor::ExtractSliceOp(chain.front()).getType().getRank();
  SmallVector<OpFoldResult> offsets;
  for (unsigned d = 0; d < rank; ++d) {
    AffineExpr sum = getAffineConstantExpr(0, rewriter.getContext());
    SmallVector<OpFoldResult> operands;
    for (tensor::ExtractSliceOp s : chain) {
      sum = sum + getAffineSymbolExpr(operands.size(), rewriter.getContext());
      operands.push_back(s.getMixedOffsets()[d]);
    }
    offsets.push_back(affine::makeComposedFoldedAffineApply(
        rewriter, loc, AffineMap::get(0, operands.size(), map(d, sum)), operands));
  }
  return offsets;
}

/// Flipped filters at least this large are read in place. Measured on
/// ResNet's backward-data layers (docs/performance.md, 2026-12-06), all of
/// the same FLOPs: the flipped copy, two passes over the filter per call,
/// cost more than reading the mirrored taps for 3x3 512->512 (9.4 MB: 1.92
/// -> 1.43 ms on one thread) and 256->256 (2.4 MB, on two threads), while
/// 128->128 (0.6 MB) ran 12-20% slower reading the mirrored taps than
/// copying (not understood).
constexpr int64_t kMinFilterBytesForTapsInPlace = 2 << 20;

/// Smaller flipped filters are read in place too where the convolution's
/// tile (a thread's, when it is split across threads) uses each weight at
/// most this many times, once per output position: the copy runs on one
/// thread while the convolution runs on all, and the weights' reuse no
/// longer pays for it. The phase convolutions of a stride-2 input gradient
/// at 14x14 (ResNet's 3x3/2 256->256, batch 1, two threads) copied their
/// four flipped filter slices in 0.22 of 1.05 ms; read in place the layer
/// took 0.76-0.78 ms instead of 1.13-1.18 (docs/performance.md,
/// 2026-12-07). At 28x28 (784 uses, 392 a thread) reading in place was no
/// faster.
constexpr int64_t kMaxWeightUsesForFlipCopy = 128;

/// Flips and their reversed dims (tessel::getFlip).
using FlipMap = llvm::DenseMap<Operation *, SmallVector<std::optional<int64_t>>>;

/// The flips that convolutions read taps of in place.
FlipMap getFlipsToReadInPlace(ArrayRef<linalg::LinalgOp> convs) {
  FlipMap flips;
  for (linalg::LinalgOp conv : convs) {
    if (conv.getNumDpsInputs() != 2 || conv.getNumDpsInits() != 1)
      continue;
    auto flip = dyn_cast_if_present<linalg::GenericOp>(getSlicedOp(conv.getDpsInputs()[1]));
    if (!flip)
      continue;
    auto type = cast<RankedTensorType>(flip->getResult(0).getType());
    auto output = cast<RankedTensorType>(conv.getDpsInits()[0].getType());
    if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat() ||
        !output.hasStaticShape() || output.getRank() == 0)
      continue;
    // Channels last: the output's positions are all its dims but the last.
    int64_t weightUses = output.getNumElements() / std::max<int64_t>(1, output.getShape().back());
    if (type.getNumElements() * type.getElementTypeBitWidth() / 8 <
            kMinFilterBytesForTapsInPlace &&
        weightUses > kMaxWeightUsesForFlipCopy)
      continue;
    if (SmallVector<std::optional<int64_t>> reversed = tessel::getFlip(flip); !reversed.empty())
      flips[flip] = std::move(reversed);
  }
  return flips;
}

/// Register tiles read one kernel tap of a filter at a time. Where the
/// filter is one of `flips` (the gradient of a conv's input convolves
/// with its filter flipped), a tap's slice, size 1 in every flipped dim, is
/// read from the unflipped filter at the mirrored tap instead: the flipped
/// copy (9.4 MB for a 3x3 512->512 filter, written and read back on every
/// call) is no longer made. The slice may reach the flip through slices of
/// slices (the threads' and the reduction blocks').
void readFlippedTapsInPlace(RewriterBase &rewriter, func::FuncOp func, const FlipMap &flips) {
  SmallVector<tensor::ExtractSliceOp> slices;
  func.walk([&](tensor::ExtractSliceOp slice) { slices.push_back(slice); });
  for (tensor::ExtractSliceOp slice : slices) {
    SmallVector<tensor::ExtractSliceOp> chain;
    auto it = flips.find(getSlicedOp(slice.getResult(), &chain));
    if (it == flips.end())
      continue;
    auto flip = cast<linalg::GenericOp>(it->first);
    ArrayRef<std::optional<int64_t>> reversed = it->second;
    SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
    if (llvm::any_of(llvm::enumerate(reversed), [&](auto r) {
          return r.value() && !isConstantIntValue(sizes[r.index()], 1);
        }))
      continue;
    rewriter.setInsertionPoint(slice);
    // A flipped dim's tap read is c - offset.
    SmallVector<OpFoldResult> offsets =
        getChainOffsets(rewriter, slice.getLoc(), chain, [&](unsigned d, AffineExpr offset) {
          return reversed[d] ? *reversed[d] - offset : offset;
        });
    SmallVector<OpFoldResult> strides(offsets.size(), rewriter.getIndexAttr(1));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        slice, slice.getType(), flip.getDpsInputs()[0], offsets, sizes, strides);
  }
}

/// Register tiles read a filter's output channels `ct` (their channel
/// tile) at a time: a slice [k..., c, ct] of a [k..., C, F] filter whose rows
/// lie F floats apart. Where F is wide that stride maps the rows a tile
/// sweeps onto a few of the cache's sets (a 1x1 512->2048 filter: 8 KB
/// apart, every row of a 32-channel tile in the same L1 and L2 sets), and
/// each tile streams its weights from memory again. A constant filter is
/// packed now, at compile time, into [F / ct, k..., C, ct] — the order the
/// tile reads it, one contiguous block per channel tile — and each tile's
/// slice (reached through the threads', reduction blocks' and register
/// tiles' slices) reads its block of the packed constant. Tiles of a filter
/// are all of one width and at multiples of it (every tiling of F divides
/// it by sizes the channel tile divides), so the block is offset / ct.
void packConstantFilters(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<linalg::LinalgOp> convs;
  func.walk([&](linalg::LinalgOp op) {
    std::optional<TiledConv> kind = getTiledConv(op);
    if (kind && !kind->depthwise && op.hasPureTensorSemantics())
      convs.push_back(op);
  });
  llvm::DenseMap<std::pair<Operation *, int64_t>, Value> packed;
  for (linalg::LinalgOp conv : convs) {
    auto slice = conv.getDpsInputs()[1].getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice)
      continue;
    SmallVector<tensor::ExtractSliceOp> chain;
    auto constant = dyn_cast_if_present<arith::ConstantOp>(getSlicedOp(slice.getResult(), &chain));
    if (!constant)
      continue;
    auto type = dyn_cast<RankedTensorType>(constant.getType());
    std::optional<ArrayRef<char>> bytes = tessel::getConstantBytes(constant.getValue());
    RankedTensorType tileType = slice.getType();
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32() || !bytes ||
        !tileType.hasStaticShape())
      continue;
    int64_t rank = type.getRank(), width = type.getShape().back(),
            ct = tileType.getShape().back();
    if (ct >= width || width % ct != 0)
      continue;
    auto key = std::make_pair(constant.getOperation(), ct);
    Value &blocks = packed[key];
    if (!blocks) {
      SmallVector<int64_t> shape{width / ct};
      llvm::append_range(shape, type.getShape().drop_back());
      shape.push_back(ct);
      auto packedType = RankedTensorType::get(shape, type.getElementType());
      const auto *from = reinterpret_cast<const float *>(bytes->data());
      int64_t rows = type.getNumElements() / width;
      ElementsAttr attr = tessel::getConstantAttr(
          packedType, "packed_filter", [&](MutableArrayRef<char> out) {
            auto *to = reinterpret_cast<float *>(out.data());
            for (int64_t b = 0; b < width / ct; ++b)
              for (int64_t r = 0; r < rows; ++r)
                std::copy_n(from + r * width + b * ct, ct, to + (b * rows + r) * ct);
          });
      if (!attr)
        continue;
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointAfter(constant);
      blocks = arith::ConstantOp::create(rewriter, constant.getLoc(), packedType,
                                         cast<TypedAttr>(attr));
    }
    // The tile's offsets in the filter; the last one in blocks of ct.
    rewriter.setInsertionPoint(slice);
    SmallVector<OpFoldResult> offsets =
        getChainOffsets(rewriter, slice.getLoc(), chain, [&](unsigned d, AffineExpr offset) {
          return d == rank - 1 ? offset.floorDiv(ct) : offset;
        });
    SmallVector<OpFoldResult> blockOffsets{offsets.back()}, sizes{rewriter.getIndexAttr(1)};
    llvm::append_range(blockOffsets, ArrayRef(offsets).drop_back());
    blockOffsets.push_back(rewriter.getIndexAttr(0));
    llvm::append_range(sizes, slice.getMixedSizes());
    SmallVector<OpFoldResult> strides(rank + 1, rewriter.getIndexAttr(1));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(slice, tileType, blocks, blockOffsets,
                                                        sizes, strides);
  }
}

/// Pads that only depthwise convolutions and pools read (as their input):
/// their tiles read the pad's source in place (readPaddedRowsInPlace).
llvm::SmallPtrSet<Operation *, 8> getPadsToReadInPlace(func::FuncOp func) {
  llvm::SmallPtrSet<Operation *, 8> pads;
  func.walk([&](tensor::PadOp pad) {
    if (!pad.getConstantPaddingValue() || !pad.getSourceType().hasStaticShape() ||
        !pad.getResultType().hasStaticShape() || pad.getResult().use_empty() ||
        llvm::any_of(pad.getStaticLow(), ShapedType::isDynamic) ||
        llvm::any_of(pad.getStaticHigh(), ShapedType::isDynamic))
      return;
    // Its uses, through slices (the threads' parts of the map).
    SmallVector<Value> values{pad.getResult()};
    while (!values.empty()) {
      Value value = values.pop_back_val();
      for (OpOperand &use : value.getUses()) {
        if (auto slice = dyn_cast<tensor::ExtractSliceOp>(use.getOwner())) {
          values.push_back(slice.getResult());
          continue;
        }
        auto op = dyn_cast<linalg::LinalgOp>(use.getOwner());
        std::optional<TiledConv> kind = op ? getTiledConv(op) : std::nullopt;
        if (!kind || !kind->depthwise || use.getOperandNumber() != 0)
          return;
      }
    }
    pads.insert(pad);
  });
  return pads;
}

/// A vector read, inside a register tile, of a slice of one of `pads`
/// (through any chain of unit-stride slices) becomes one read per row of
/// the vector from the pad's source: its row index clamped into the
/// source, the row replaced by the padding value where it lay in the
/// padding. The innermost (channel) dim must not be padded. Once all its
/// reads are rewritten the pad is dead: a depthwise convolution or pool
/// reads its input in place (no padded copy), padding applied in registers.
LogicalResult readPaddedRowsInPlace(RewriterBase &rewriter, vector::TransferReadOp read,
                                    const llvm::SmallPtrSet<Operation *, 8> &pads) {
  SmallVector<tensor::ExtractSliceOp> chain;
  Value base = read.getBase();
  while (auto slice = base.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (!slice.hasUnitStride())
      return failure();
    chain.push_back(slice);
    base = slice.getSource();
  }
  auto pad = base.getDefiningOp<tensor::PadOp>();
  if (!pad || !pads.contains(pad))
    return failure();
  VectorType vectorType = read.getVectorType();
  int64_t rank = pad.getResultType().getRank();
  if (read.getMask() || vectorType.getRank() < 1 ||
      !read.getPermutationMap().isMinorIdentity() ||
      read.getPermutationMap().getNumResults() != vectorType.getRank() ||
      !read.getBase().getType().hasStaticShape())
    return failure();
  // In bounds of the slice (the vectorizer may not have said so).
  for (auto [i, index] : llvm::enumerate(read.getIndices())) {
    std::optional<int64_t> start = getConstantIntValue(index);
    if (!start || *start + vectorType.getShape()[i] > read.getBase().getType().getDimSize(i))
      return failure();
  }
  Location loc = read.getLoc();
  rewriter.setInsertionPoint(read);
  // Offsets into the padded tensor, and which padded dim each dim of the
  // read's tensor is, following the chain from the pad to the read.
  SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
  SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  for (tensor::ExtractSliceOp slice : llvm::reverse(chain)) {
    for (auto [i, offset] : llvm::enumerate(slice.getMixedOffsets()))
      offsets[dims[i]] = affine::makeComposedFoldedAffineApply(
          rewriter, loc, rewriter.getAffineSymbolExpr(0) + rewriter.getAffineSymbolExpr(1),
          {offsets[dims[i]], offset});
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    SmallVector<int64_t> kept;
    for (auto [i, d] : llvm::enumerate(dims))
      if (!dropped.test(i))
        kept.push_back(d);
    dims = std::move(kept);
  }
  for (auto [i, index] : llvm::enumerate(read.getIndices()))
    offsets[dims[i]] = affine::makeComposedFoldedAffineApply(
        rewriter, loc, rewriter.getAffineSymbolExpr(0) + rewriter.getAffineSymbolExpr(1),
        {offsets[dims[i]], index});
  // The vector's leading dims are the rows; its last dim, read whole.
  unsigned vectorDim0 = dims.size() - vectorType.getRank();
  int64_t innerDim = dims.back();
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
  ArrayRef<int64_t> sourceShape = pad.getSourceType().getShape();
  if (low[innerDim] != 0 || high[innerDim] != 0)
    return failure();
  int64_t rows = vectorType.getNumElements() / vectorType.getShape().back();
  if (rows > 64)
    return failure();
  auto rowType = VectorType::get({vectorType.getShape().back()}, vectorType.getElementType());
  Value padding = vector::BroadcastOp::create(rewriter, loc, rowType, pad.getConstantPaddingValue());
  // The rows are joined by shuffles along a leading dim (a chain of
  // vector.insert would canonicalize into element-by-element from_elements).
  Value joined;
  SmallVector<int64_t> rowShape(vectorType.getShape().drop_back());
  for (int64_t row = 0; row < rows; ++row) {
    SmallVector<int64_t> position = delinearize(row, computeStrides(rowShape));
    SmallVector<Value> indices;
    Value valid;
    for (int64_t d = 0; d < rank; ++d) {
      // The read's vector dim of padded dim d, if any.
      int64_t step = 0;
      for (unsigned v = 0; v + 1 < static_cast<unsigned>(vectorType.getRank()); ++v)
        if (dims[vectorDim0 + v] == d)
          step = position[v];
      AffineExpr index = rewriter.getAffineSymbolExpr(0) + step - low[d];
      Value source = getValueOrCreateConstantIndexOp(
          rewriter, loc, affine::makeComposedFoldedAffineApply(rewriter, loc, index, {offsets[d]}));
      if (low[d] == 0 && high[d] == 0) {
        indices.push_back(source);
        continue;
      }
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value size = arith::ConstantIndexOp::create(rewriter, loc, sourceShape[d]);
      Value last = arith::ConstantIndexOp::create(rewriter, loc, sourceShape[d] - 1);
      // One unsigned compare: a negative index wraps above the size.
      Value inside = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, source, size);
      valid = valid ? arith::AndIOp::create(rewriter, loc, valid, inside).getResult() : inside;
      Value clamped = arith::MaxSIOp::create(rewriter, loc, source, zero);
      indices.push_back(arith::MinSIOp::create(rewriter, loc, clamped, last));
    }
    Value value = vector::TransferReadOp::create(
        rewriter, loc, rowType, pad.getSource(), indices,
        arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(vectorType.getElementType())),
        ArrayRef<bool>{true});
    if (valid)
      value = arith::SelectOp::create(rewriter, loc, valid, value, padding);
    value = vector::ShapeCastOp::create(
        rewriter, loc, VectorType::get({1, rowType.getShape()[0]}, rowType.getElementType()),
        value);
    if (!joined) {
      joined = value;
      continue;
    }
    SmallVector<int64_t> mask = llvm::to_vector(llvm::seq<int64_t>(0, row + 1));
    joined = vector::ShuffleOp::create(rewriter, loc, joined, value, mask);
  }
  rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(read, vectorType, joined);
  return success();
}

/// Whether the transfer `op` reads or writes all of its (static) tensor, in
/// order, from index 0.
bool coversWholeTensor(VectorTransferOpInterface op) {
  auto type = dyn_cast<RankedTensorType>(op.getBase().getType());
  return type && type.hasStaticShape() && !op.getMask() && !op.hasOutOfBoundsDim() &&
         op.getPermutationMap().isMinorIdentity() &&
         op.getVectorType().getShape() == type.getShape() &&
         llvm::all_of(op.getIndices(), [](Value i) { return isConstantIntValue(i, 0); });
}

/// Whether `slice` is all of its source (it only drops unit dims).
bool isWholeSlice(OffsetSizeAndStrideOpInterface slice, RankedTensorType small,
                  RankedTensorType large) {
  return slice.hasUnitStride() && slice.hasZeroOffset() && small.hasStaticShape() &&
         large.hasStaticShape() && small.getNumElements() == large.getNumElements();
}

/// A whole tensor read back right after a vector was written over all of
/// it, through a slice that only adds or drops unit dims:
///   %z = vector.transfer_write %fill, %slice
///   %a = vector.transfer_read (tensor.extract_slice %z)   (all of it)
/// (a register tile's accumulator starting from its fill or bias), or
///   %w = vector.transfer_write %acc, %t                  (all of %t)
///   %r = vector.transfer_read (tensor.insert_slice %w into %e)  (all of %e)
/// (an epilogue tiled with its convolution fused in, tileWithAccumulatorInit,
/// reading the tile the decomposition to 1-D made rank-reduced). The read
/// is the written vector, reshaped: the tile starts from its fill, or the
/// epilogue applies to the accumulators, in registers. (Upstream's subset
/// folding turns the first pair into a read and a write of %z with vectors
/// of different ranks, which its read-after-write fold does not match.)
struct ForwardWholeWrite : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    Value written;
    if (auto slice = read.getBase().getDefiningOp<tensor::ExtractSliceOp>();
        slice && isWholeSlice(slice, slice.getType(), slice.getSourceType()))
      written = slice.getSource();
    else if (auto insert = read.getBase().getDefiningOp<tensor::InsertSliceOp>();
             insert && isWholeSlice(insert, insert.getSourceType(), insert.getDestType()))
      written = insert.getSource();
    auto write = written ? written.getDefiningOp<vector::TransferWriteOp>()
                         : vector::TransferWriteOp();
    if (!write || !coversWholeTensor(read) || !coversWholeTensor(write))
      return failure();
    Value value = write.getVector();
    if (value.getType() == read.getVectorType())
      rewriter.replaceOp(read, value);
    else
      rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(read, read.getVectorType(), value);
    return success();
  }
};

/// Once that read is gone, the fill's write is dead: the tile's result is
/// written over all of it,
///   %r = vector.transfer_write %acc, (tensor.extract_slice %z)
///   tensor.insert_slice %r into %z       (covering all of %z)
/// and bufferized it stored every output vector twice, a store per row of
/// FMAs in a depthwise tile. Both uses of %z take %slice instead.
struct DropOverwrittenFill : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::InsertSliceOp insert,
                                PatternRewriter &rewriter) const override {
    auto fill = insert.getDest().getDefiningOp<vector::TransferWriteOp>();
    auto result = insert.getSource().getDefiningOp<vector::TransferWriteOp>();
    if (!fill || !result || !coversWholeTensor(fill) || !coversWholeTensor(result) ||
        !isWholeSlice(insert, insert.getSourceType(), insert.getDestType()))
      return failure();
    // The fill's other users may only be the slice the result overwrites.
    auto slice = result.getBase().getDefiningOp<tensor::ExtractSliceOp>();
    for (Operation *user : fill->getUsers())
      if (user != insert && (user != slice || !slice->hasOneUse()))
        return failure();
    if (slice && slice.getSource() == fill.getResult())
      rewriter.modifyOpInPlace(slice, [&] { slice.getSourceMutable().assign(fill.getBase()); });
    rewriter.modifyOpInPlace(insert, [&] { insert.getDestMutable().assign(fill.getBase()); });
    return success();
  }
};

/// A 3-D depthwise convolution tile of one output plane and one kernel
/// plane (od = kd = 1) is a 2-D one on the rank-reduced slices, which
/// upstream's patterns then make 1-D; upstream decomposes only 2-D
/// convolutions. Depthwise filter gradients are such 3-D convolutions, the
/// batch their depth (DecomposeConv.cpp).
struct DownscaleDepthwiseConv3D : OpRewritePattern<linalg::DepthwiseConv3DNdhwcDhwcOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::DepthwiseConv3DNdhwcDhwcOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    Value input = op.getInputs().front(), filter = op.getInputs().back();
    Value output = op.getOutputs().front();
    auto inputType = dyn_cast<RankedTensorType>(input.getType());
    auto filterType = dyn_cast<RankedTensorType>(filter.getType());
    auto outputType = dyn_cast<RankedTensorType>(output.getType());
    if (!inputType || !filterType || !outputType || inputType.getDimSize(1) != 1 ||
        filterType.getDimSize(0) != 1 || outputType.getDimSize(1) != 1)
      return failure();
    using Builder = RankedTensorType::Builder;
    Location loc = op.getLoc();
    Value newInput = tensor::createCanonicalRankReducingExtractSliceOp(
        rewriter, loc, input, Builder(inputType).dropDim(1));
    Value newFilter = tensor::createCanonicalRankReducingExtractSliceOp(
        rewriter, loc, filter, Builder(filterType).dropDim(0));
    RankedTensorType newOutputType = Builder(outputType).dropDim(1);
    Value newOutput =
        tensor::createCanonicalRankReducingExtractSliceOp(rewriter, loc, output, newOutputType);
    auto dropDepth = [&](DenseIntElementsAttr attr) {
      SmallVector<int64_t> values = llvm::to_vector(attr.getValues<int64_t>());
      values.erase(values.begin());
      return rewriter.getI64VectorAttr(values);
    };
    auto conv = linalg::DepthwiseConv2DNhwcHwcOp::create(
        rewriter, loc, newOutputType, ValueRange{newInput, newFilter}, ValueRange{newOutput},
        dropDepth(op.getStrides()), dropDepth(op.getDilations()));
    rewriter.replaceOp(op, tensor::createCanonicalRankReducingInsertSliceOp(
                               rewriter, loc, conv.getResult(0), output));
    return success();
  }
};

struct VectorizePass : tessel::impl::TesselVectorizeBase<VectorizePass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512)
      return emitError(UnknownLoc::get(context))
             << "tessel-vectorize: vector-bits=" << static_cast<int64_t>(vectorBits)
             << " is not a vector register width; use 512 (AVX-512), 256 (AVX2) "
                "or 128 (NEON, SSE)";
    if (accumulators < 1 || accumulators > 64 || channelStep < 1 || channelStep > 64)
      return emitError(UnknownLoc::get(context))
             << "tessel-vectorize: accumulators (" << static_cast<int64_t>(accumulators)
             << ") and channel-step (" << static_cast<int64_t>(channelStep) << ") must lie in [1, 64]";
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *context = &getContext();
    IRRewriter rewriter(context);

    llvm::SmallPtrSet<Operation *, 8> inPlacePads = getPadsToReadInPlace(func);

    // 1. Register tiles for the convolutions (batched matrix products
    // first become convolutions).
    batchMatmulsAsConvolutions(rewriter, func);
    SmallVector<linalg::LinalgOp> convs;
    func.walk([&](linalg::LinalgOp op) {
      if (isa<linalg::ConvolutionOpInterface>(op.getOperation()))
        convs.push_back(op);
    });
    FlipMap flips = getFlipsToReadInPlace(convs);
    // Epilogues tiled with their convolution: vectorized whatever their size
    // (a register tile's).
    llvm::SmallPtrSet<Operation *, 16> epilogueTiles;
    for (linalg::LinalgOp conv : convs) {
      // Blocks of the reduction first, outside the register tiles.
      if (SmallVector<int64_t> block = getReductionBlock(conv); !block.empty()) {
        scf::SCFTilingOptions options;
        options.setTileSizes(getAsIndexOpFoldResult(context, block));
        rewriter.setInsertionPoint(conv);
        FailureOr<scf::SCFTilingResult> tiled =
            scf::tileUsingSCF(rewriter, cast<TilingInterface>(conv.getOperation()), options);
        if (succeeded(tiled)) {
          rewriter.replaceOp(conv, tiled->replacements);
          conv = cast<linalg::LinalgOp>(tiled->tiledOps.front());
        }
      }
      SmallVector<int64_t> tile =
          getRegisterTile(conv, std::max<int64_t>(1, vectorBits / 32), accumulators,
                          channelStep);
      if (tile.empty())
        continue;
      // First the output tile, with the fill of the accumulator fused into
      // it: the tile starts from zeros in registers instead of reading back
      // a zeroed output (step 4 forwards the fill to the read).
      SmallVector<utils::IteratorType> iterators = conv.getIteratorTypesArray();
      SmallVector<int64_t> outputTile(tile), reductionTile(tile);
      for (auto [i, iterator] : llvm::enumerate(iterators))
        (iterator == utils::IteratorType::parallel ? reductionTile : outputTile)[i] = 0;
      // Where an elementwise epilogue follows, it is tiled alike (the
      // output tile's sizes, dim by dim of the output) with the conv fused
      // into each of its tiles.
      FailureOr<SmallVector<Operation *>> fused = failure();
      linalg::GenericOp epilogue = getEpilogue(conv);
      if (epilogue) {
        AffineMap output = conv.getMatchingIndexingMap(conv.getDpsInitOperand(0));
        SmallVector<int64_t> epilogueTile;
        for (unsigned d = 0; d < output.getNumResults(); ++d)
          epilogueTile.push_back(outputTile[output.getDimPosition(d)]);
        fused = tileWithAccumulatorInit(rewriter, epilogue, epilogueTile, {conv.getOperation()});
      }
      if (failed(fused)) {
        epilogue = {};
        fused = tileWithAccumulatorInit(rewriter, conv, outputTile);
      }
      if (failed(fused))
        continue;
      // The tiles: the conv's, its initialization's (a fill, or a bias
      // broadcast, which unlike the epilogue reads no tensor of the
      // output's rank) and the epilogue's.
      Operation *inner = nullptr;
      for (Operation *op : *fused) {
        if (isa<linalg::ConvolutionOpInterface>(op))
          inner = op;
        else if (epilogue && isa<linalg::GenericOp>(op) && !isAccumulatorInit(op))
          epilogueTiles.insert(op);
      }
      if (!inner)
        continue;
      // Then its reduction loops (kernel taps, input-channel steps).
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(context, reductionTile));
      rewriter.setInsertionPoint(inner);
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, cast<TilingInterface>(inner), options);
      if (succeeded(tiled))
        rewriter.replaceOp(inner, tiled->replacements);
    }

    readFlippedTapsInPlace(rewriter, func, flips);
    packConstantFilters(rewriter, func);

    // 1b. Cache tiles for layout changes: transposing copies, and
    // elementwise ops that read an operand transposed once collapsed to 2-D.
    // Collected first: collapsing replaces ops.
    SmallVector<linalg::LinalgOp> linalgOps;
    func.walk([&](linalg::LinalgOp op) { linalgOps.push_back(op); });
    SmallVector<std::pair<linalg::LinalgOp, SmallVector<int64_t>>> copies;
    for (linalg::LinalgOp op : linalgOps) {
      if (linalg::LinalgOp collapsed = collapseTogetherWalkedLoops(rewriter, op))
        op = collapsed;
      if (SmallVector<int64_t> tile = getCacheTile(op); !tile.empty())
        copies.emplace_back(op, std::move(tile));
    }
    for (auto &[copy, tile] : copies) {
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(context, tile));
      rewriter.setInsertionPoint(copy);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(copy.getOperation()), options);
      if (failed(tiled))
        continue;
      bool isCopyOp = tessel::isCopy(copy);
      rewriter.replaceOp(copy, tiled->replacements);
      // 16 floats are one AVX-512 register; narrower targets keep the loops
      // (not measured there). A copy's 16x16 tile is one vector transpose;
      // an elementwise op's is vectorized whole, its transposed read a
      // transpose that tessel-lower-vectors turns into the same shuffles.
      if (vectorBits != 512)
        continue;
      for (Operation *op : tiled->tiledOps) {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
        if (!linalgOp)
          continue;
        if (isCopyOp) {
          (void)vectorizeTransposeTile(rewriter, linalgOp);
        } else if (linalgOp.getStaticLoopRanges() == ArrayRef<int64_t>{16, 16}) {
          rewriter.setInsertionPoint(op);
          FailureOr<linalg::VectorizationResult> result = linalg::vectorize(rewriter, op);
          if (succeeded(result))
            rewriter.replaceOp(op, result->replacements);
        }
      }
    }

    // 2. 2-D/3-D tiles with unit kernel rows become 1-D convolutions.
    {
      RewritePatternSet patterns(context);
      patterns.add<DownscaleDepthwiseConv3D>(context);
      linalg::populateDecomposeConvolutionPatterns(patterns);
      tensor::populateFoldTensorEmptyPatterns(patterns);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    // 3. Vectorize the 1-D convolution tiles, and other statically shaped
    // ops small enough to live in registers (larger elementwise loops are
    // left to LLVM's loop vectorizer).
    SmallVector<Operation *> candidates;
    func.walk([&](linalg::LinalgOp op) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      if (llvm::any_of(ranges, ShapedType::isDynamic))
        return;
      // Full reductions into a 0-D result stay loops: upstream's
      // reduction-to-contract rewrite (step 4) builds an invalid
      // vector.contract with a scalar accumulator when an operand of the
      // product was broadcast (LLVM 22).
      if (llvm::any_of(op.getDpsInits(), [](Value init) {
            return cast<ShapedType>(init.getType()).getRank() == 0;
          }))
        return;
      int64_t volume = 1;
      for (int64_t r : ranges)
        volume *= r;
      bool registerTile = isa<linalg::ConvolutionOpInterface>(op.getOperation()) &&
                          op.getNumLoops() <= 6;
      bool fewRows =
          ranges.empty() || volume / std::max<int64_t>(1, ranges.back()) <= kMaxVectorRows;
      if (registerTile || epilogueTiles.contains(op) ||
          (volume <= kMaxVectorElements && fewRows && tessel::walksLoopsInOrder(op)))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> result = linalg::vectorize(rewriter, op);
      if (succeeded(result))
        rewriter.replaceOp(op, result->replacements);
    }

    // 3b. Depthwise and pooling tiles read their padded input in place.
    if (!inPlacePads.empty()) {
      SmallVector<vector::TransferReadOp> reads;
      func.walk([&](vector::TransferReadOp read) { reads.push_back(read); });
      for (vector::TransferReadOp read : reads)
        (void)readPaddedRowsInPlace(rewriter, read, inPlacePads);
    }

    // 4. Keep each output tile in registers across its reduction loops, once
    // canonicalization has removed single-iteration loops (1x1 kernels), so
    // that only real reduction loops carry it.
    {
      OpPassManager canonicalize(func::FuncOp::getOperationName());
      canonicalize.addPass(createCanonicalizerPass());
      if (failed(runPipeline(canonicalize, func)))
        return signalPassFailure();
    }
    {
      RewritePatternSet patterns(context);
      vector::populateVectorReductionToContractPatterns(patterns);
      vector::TransferReadOp::getCanonicalizationPatterns(patterns, context);
      vector::TransferWriteOp::getCanonicalizationPatterns(patterns, context);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); }); // innermost first
    for (scf::ForOp loop : loops)
      hoistLoopInvariantSubsets(rewriter, loop);
    {
      // The hoisted tiles start from their fill in registers, not memory.
      RewritePatternSet patterns(context);
      patterns.add<ForwardWholeWrite, DropOverwrittenFill>(context);
      // (the hoisting leaves the slices as loop-carried values it yields
      // unchanged)
      scf::ForOp::getCanonicalizationPatterns(patterns, context);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    // 5. The register tiles assume vectors this wide stay whole: say so to
    // LLVM (an `llvm.func` passthrough once lowered), whose X86 backend would
    // otherwise split 512-bit vectors in two on CPUs that prefer 256 bits
    // (Skylake-X).
    if (vectorBits > 256)
      tessel::addPassthrough(func, "prefer-vector-width", std::to_string(vectorBits));
  }
};

} // namespace
