//===- LowerVectors.cpp - n-D vector ops to LLVM-ready forms --------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELLOWERVECTORS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// A vector math.erf with no polynomial approximation (float64) as one
/// scalar erf per element, which MathToLibm turns into calls.
struct ScalarizeErf : OpRewritePattern<math::ErfOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::ErfOp op, PatternRewriter &rewriter) const override {
    auto type = dyn_cast<VectorType>(op.getType());
    if (!type || type.getElementType().isF32() || type.isScalable())
      return failure();
    Location loc = op.getLoc();
    Value result = arith::ConstantOp::create(rewriter, loc, type,
                                             rewriter.getZeroAttr(type));
    SmallVector<int64_t> strides = computeStrides(type.getShape());
    for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
      SmallVector<int64_t> position = delinearize(i, strides);
      Value x = vector::ExtractOp::create(rewriter, loc, op.getOperand(), position);
      Value y = math::ErfOp::create(rewriter, loc, x);
      result = vector::InsertOp::create(rewriter, loc, y, result, position);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerVectorsPass : tessel::impl::TesselLowerVectorsBase<LowerVectorsPass> {
  using Base::Base;

  /// math.erf has no LLVM intrinsic, and MathToLibm cannot unroll a vector
  /// one once vectors are LLVM's: MLIR's float32 polynomial approximation
  /// instead, scalar calls for other types.
  template <typename Apply>
  LogicalResult lowerErf(Apply &apply) {
    WalkResult found =
        getOperation()->walk([](math::ErfOp) { return WalkResult::interrupt(); });
    if (!found.wasInterrupted())
      return success();
    return apply([](RewritePatternSet &p) {
      populatePolynomialApproximateErfPattern(p);
      p.add<ScalarizeErf>(p.getContext());
    });
  }

  /// 16x16 transposes of 32-bit elements (tessel-vectorize's transposing
  /// copies and transposed tile reads) as AVX-512's 16x16 shuffle network;
  /// every other transpose stays element by element (below), which the 1-D
  /// shuffle lowering would turn into one shuffle of the whole vector.
  LogicalResult lowerSquareTransposes() {
    SmallVector<Operation *> squares;
    getOperation()->walk([&](vector::TransposeOp op) {
      VectorType type = op.getResultVectorType();
      if (type.getShape() == ArrayRef<int64_t>{16, 16} && type.getElementType().isIntOrFloat() &&
          type.getElementType().getIntOrFloatBitWidth() == 32)
        squares.push_back(op);
    });
    if (squares.empty())
      return success();
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::Shuffle16x16);
    return applyOpPatternsGreedily(squares, std::move(patterns));
  }

  /// A convolution's result copied out transposed (a filter gradient into
  /// OIHW, tessel-tile-and-distribute's 16-channel tiles) goes to memory by
  /// non-temporal stores: its 16x16 transposes write rows of whole cache
  /// lines into an argument of at least kStreamBytes (after the outlining,
  /// a buffer the kernel only produces). Plain stores first read each line
  /// from memory (45 MB of filter gradients a step of ResNet-18's
  /// gradient): 4.2-5.8 -> 2.3-2.6 ms per run for its three 3x3 512->512
  /// filter gradients (docs/performance.md). Such stores are weakly
  /// ordered: the kernel's readers are the caller and the next kernels,
  /// after the parallel region's join, whose atomics (locked instructions
  /// on x86, barriers on AArch64) order them first.
  void streamTransposedResults() {
    constexpr int64_t kStreamBytes = 1 << 20;
    bool hasRegisterTile = getOperation()
                               ->walk([](Operation *op) {
                                 return isa<vector::ContractionOp, vector::FMAOp>(op)
                                            ? WalkResult::interrupt()
                                            : WalkResult::advance();
                               })
                               .wasInterrupted();
    if (!hasRegisterTile)
      return;
    SmallVector<vector::TransferWriteOp> writes;
    getOperation()->walk([&](vector::TransferWriteOp write) {
      VectorType type = write.getVectorType();
      auto view = dyn_cast<MemRefType>(write.getBase().getType());
      if (type.getShape() != ArrayRef<int64_t>{16, 16} || !type.getElementType().isF32() ||
          write.getMask() || !view || !view.isLastDimUnitStride() ||
          !write.getPermutationMap().isMinorIdentity() ||
          !write.getValueToStore().getDefiningOp<vector::TransposeOp>() ||
          !llvm::all_of(write.getInBoundsValues(), [](bool b) { return b; }))
        return;
      auto buffer = memref::skipViewLikeOps(cast<TypedValue<MemRefType>>(write.getBase()));
      auto bufferType = dyn_cast<MemRefType>(buffer.getType());
      if (isa<BlockArgument>(buffer) && bufferType && bufferType.hasStaticShape() &&
          bufferType.getNumElements() * 4 >= kStreamBytes)
        writes.push_back(write);
    });
    for (vector::TransferWriteOp write : writes) {
      OpBuilder b(write);
      Location loc = write.getLoc();
      // The vector's rows run along the view's next-to-last dim.
      SmallVector<Value> indices(write.getIndices());
      Value &rowIndex = indices[indices.size() - 2];
      Value first = rowIndex;
      for (int64_t row = 0; row < 16; ++row) {
        Value value = vector::ExtractOp::create(b, loc, write.getValueToStore(),
                                                ArrayRef<int64_t>{row});
        rowIndex = arith::AddIOp::create(b, loc, first,
                                         arith::ConstantIndexOp::create(b, loc, row));
        vector::StoreOp::create(b, loc, value, write.getBase(), indices)
            .setNontemporal(true);
      }
      write.erase();
    }
  }

  /// A transfer_write of a tile whose vector ends in unit dims (a gathered
  /// 16x16 transpose written into [C, H, W, 1], or into one phase of a
  /// stride-2 interleave, [.., W, 1] of [.., W, 2]) writes the vector
  /// without them into a rank-reduced view: VectorToSCF's rank-1 pieces
  /// would be single elements, 256 a tile, whose single-element shuffles
  /// took LLVM's instruction selection 0.45 s a kernel (four such kernels
  /// were a third of a ResNet-18 gradient's compile). Small transfers (a
  /// register tile's broadcast operands, reads) keep their form: without
  /// their unit dims a tile's strided operand reads became element by
  /// element. (The subview needs the memref dialect, a dependent dialect
  /// of the pass: without it the pattern's ops could not be built.)
  LogicalResult dropTrailingUnitDims() {
    SmallVector<Operation *> writes;
    getOperation()->walk([&](vector::TransferWriteOp write) {
      VectorType type = write.getVectorType();
      if (type.getRank() >= 2 && type.getShape().back() == 1 && type.getNumElements() >= 16)
        writes.push_back(write);
    });
    if (writes.empty())
      return success();
    RewritePatternSet patterns(&getContext());
    vector::populateDropInnerMostUnitDimsXferOpPatterns(patterns);
    return applyOpPatternsGreedily(writes, std::move(patterns));
  }

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    streamTransposedResults();
    if (failed(dropTrailingUnitDims()))
      return signalPassFailure();
    auto apply = [&](function_ref<void(RewritePatternSet &)> populate) {
      RewritePatternSet patterns(context);
      populate(patterns);
      return applyPatternsGreedily(getOperation(), std::move(patterns));
    };
    // Reductions over leading dims only (a channels-last sum over batch and
    // space, keeping the channels) become elementwise adds of whole rows;
    // the inner-reduction lowering below would first transpose them.
    SmallVector<Operation *> outerReductions;
    getOperation()->walk([&](vector::MultiDimReductionOp op) {
      SmallVector<bool> mask = op.getReductionMask();
      if (llvm::is_sorted(mask, std::greater<bool>()) && !mask.back())
        outerReductions.push_back(op);
    });
    if (!outerReductions.empty()) {
      RewritePatternSet patterns(context);
      vector::populateVectorMultiReductionLoweringPatterns(
          patterns, vector::VectorMultiReductionLowering::InnerParallel);
      GreedyRewriteConfig config;
      config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
      if (failed(applyOpPatternsGreedily(outerReductions, std::move(patterns), config)))
        return signalPassFailure();
    }
    if (failed(apply([](RewritePatternSet &p) {
          vector::populateVectorContractLoweringPatterns(
              p, vector::VectorContractLowering::OuterProduct);
          vector::populateVectorMaskOpLoweringPatterns(p);
        })) ||
        failed(apply([](RewritePatternSet &p) {
          vector::populateVectorOuterProductLoweringPatterns(p);
          vector::populateVectorMultiReductionLoweringPatterns(
              p, vector::VectorMultiReductionLowering::InnerReduction);
        })) ||
        failed(lowerErf(apply)) ||
        // float32 exp and tanh (sigmoid, SiLU, softmax, GELU's tanh form) as
        // MLIR's polynomial approximations: LLVM would call libm once per
        // element (it has no vector library here), 2 ns an element, and
        // EfficientNet's SiLU epilogues spent most of its run time there.
        // Within a few ulp, NaN, infinities, overflow and underflow kept
        // (Jit.TranscendentalsAgreeWithLibm). MLIR's log approximation is
        // wrong on subnormal inputs: logs, and float64, still call libm.
        failed(apply([](RewritePatternSet &p) {
          populateMathPolynomialApproximationPatterns(p, [](StringRef name) {
            return name == "math.exp" || name == "math.tanh";
          });
        })) ||
        // Transposed reads and writes (an elementwise op's tile reading an
        // operand transposed) as transposes, then square ones as shuffles.
        failed(apply([](RewritePatternSet &p) {
          vector::populateVectorTransferPermutationMapLoweringPatterns(p);
        })) ||
        failed(lowerSquareTransposes()) ||
        failed(apply([](RewritePatternSet &p) {
          vector::populateVectorBroadcastLoweringPatterns(p);
          vector::populateVectorTransposeLoweringPatterns(
              p, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorShapeCastLoweringPatterns(p);
        })))
      return signalPassFailure();
    // Vector max/min (max pooling, ReLU, clamps) without the sign-of-zero
    // rule: x86 has no instruction for IEEE maximum, and LLVM spends four
    // of its six instructions per vector telling -0 from +0, which only
    // decides the sign of a zero result. NaNs still propagate.
    getOperation()->walk([](Operation *op) {
      if (!isa<arith::MaximumFOp, arith::MinimumFOp>(op) ||
          !isa<VectorType>(op->getResult(0).getType()))
        return;
      auto fastmath = cast<arith::ArithFastMathInterface>(op);
      arith::FastMathFlags flags = fastmath.getFastMathFlagsAttr().getValue();
      op->setAttr(fastmath.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(op->getContext(),
                                                flags | arith::FastMathFlags::nsz));
    });
  }
};

} // namespace
