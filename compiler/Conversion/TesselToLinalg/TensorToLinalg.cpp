//===- TensorToLinalg.cpp - Lower constants, shape and layout ops ---------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getValue());
    return success();
  }
};

/// reshape and flatten only reinterpret the row-major order.
template <typename OpTy>
struct ReshapeLikeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, reshapeTensor(rewriter, op.getLoc(), adaptor.getInput(),
                                         cast<RankedTensorType>(op.getType())));
    return success();
  }
};

Value createTranspose(OpBuilder &b, Location loc, Value input,
                      RankedTensorType resultType, ArrayRef<int64_t> perm) {
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, perm).getResult()[0];
}

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, createTranspose(rewriter, op.getLoc(), adaptor.getInput(),
                                           cast<RankedTensorType>(op.getType()),
                                           op.getPerm()));
    return success();
  }
};

struct RelayoutLowering : OpConversionPattern<RelayoutOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RelayoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, createTranspose(rewriter, op.getLoc(), adaptor.getInput(),
                                           cast<RankedTensorType>(op.getType()),
                                           getRelayoutPermutation(op.getSource(),
                                                                  op.getTarget())));
    return success();
  }
};

/// tensor.concat, decomposed at once (upstream's decomposition) into
/// insert_slices of each input at its offset along the axis of an empty
/// result: the form tiling, fusion and bufferization take.
struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    auto concat = tensor::ConcatOp::create(rewriter, op.getLoc(), resultType,
                                           wrapAxis(op.getAxis(), resultType.getRank()),
                                           adaptor.getInputs());
    FailureOr<SmallVector<Value>> decomposed = concat.decomposeOperation(rewriter);
    if (failed(decomposed))
      return rewriter.notifyMatchFailure(op, "tensor.concat did not decompose");
    rewriter.replaceOp(op, decomposed->front());
    rewriter.eraseOp(concat);
    return success();
  }
};

/// Positive strides are a tensor.extract_slice; any negative one makes a
/// generic copy that reads index offset + stride * i along each dim (an
/// affine map, so that elementwise fusion can fold a flip into the
/// transpose or op that reads it).
struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> offsets = op.getOffsets(), strides = op.getStrides();
    if (llvm::all_of(strides, [](int64_t s) { return s > 0; })) {
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          op, resultType, adaptor.getInput(), ValueRange{}, ValueRange{}, ValueRange{},
          offsets, op.getSizes(), strides);
      return success();
    }
    int64_t rank = resultType.getRank();
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineExpr> reads;
    for (int64_t d = 0; d < rank; ++d)
      reads.push_back(getAffineConstantExpr(offsets[d], context) +
                      getAffineDimExpr(d, context) * strides[d]);
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    Value result = buildGeneric(
        rewriter, loc, adaptor.getInput(), init,
        {AffineMap::get(rank, 0, reads, context), rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &, Location, ValueRange args) { return args[0]; });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Each result element reads its index, wraps a negative one and clamps it
/// into the axis, then extracts the input element.
struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto indicesType = cast<RankedTensorType>(adaptor.getIndices().getType());
    int64_t rank = resultType.getRank(), indexRank = indicesType.getRank();
    int64_t axis = wrapAxis(op.getAxis(), inputType.getRank());
    int64_t size = inputType.getDimSize(axis);
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineExpr> indexDims;
    for (int64_t d = 0; d < indexRank; ++d)
      indexDims.push_back(getAffineDimExpr(axis + d, context));
    AffineMap indicesMap = AffineMap::get(rank, 0, indexDims, context);
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    Value input = adaptor.getInput();
    Value result = buildGeneric(
        rewriter, loc, {adaptor.getIndices()}, init,
        {indicesMap, rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value index = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value dim = arith::ConstantIndexOp::create(b, l, size);
          Value negative =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, index, zero);
          index = arith::SelectOp::create(b, l, negative,
                                          arith::AddIOp::create(b, l, index, dim), index);
          index = arith::MaxSIOp::create(b, l, index, zero);
          index = arith::MinSIOp::create(
              b, l, index, arith::ConstantIndexOp::create(b, l, size - 1));
          SmallVector<Value> at;
          for (int64_t d = 0; d < axis; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          at.push_back(index);
          for (int64_t d = axis + indexRank; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          return tensor::ExtractOp::create(b, l, input, at).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tessel::populateTensorToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantLowering, ReshapeLikeLowering<ReshapeOp>,
               ReshapeLikeLowering<FlattenOp>, TransposeLowering,
               RelayoutLowering, ConcatLowering, SliceLowering, GatherLowering>(
      patterns.getContext());
}
