//===- LinearToLinalg.cpp - Lower tessel.linear and tessel.matmul ---------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// acc + a * b; with `flags` reassoc, LLVM may vectorize a reduction along
/// the innermost loop with partial sums in vector lanes.
Value multiplyAccumulate(OpBuilder &b, Location loc, ValueRange args,
                         arith::FastMathFlags flags = arith::FastMathFlags::none) {
  Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
  return arith::AddFOp::create(b, loc, args[2], product, flags);
}

/// input [..., K] x weight [N, K]^T (+ bias [N]) as a [M, K] x [N, K]
/// contraction on the flattened input.
struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    Type elementType = resultType.getElementType();
    int64_t k = inputType.getShape().back();
    int64_t n = resultType.getShape().back();
    int64_t m = inputType.getNumElements() / k;
    Value input = reshapeTensor(rewriter, loc, adaptor.getInput(),
                                RankedTensorType::get({m, k}, elementType));
    auto matrixType = RankedTensorType::get({m, n}, elementType);

    AffineExpr dm = getAffineDimExpr(0, context), dn = getAffineDimExpr(1, context),
               dk = getAffineDimExpr(2, context);
    Value init;
    if (Value bias = adaptor.getBias()) {
      Value empty = tensor::EmptyOp::create(rewriter, loc, {m, n}, elementType);
      init = buildGeneric(
          rewriter, loc, bias, empty,
          {AffineMap::get(2, 0, dn), rewriter.getMultiDimIdentityMap(2)},
          {utils::IteratorType::parallel, utils::IteratorType::parallel},
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    } else {
      init = createFilledTensor(rewriter, loc, matrixType,
                                createFloatConstant(rewriter, loc, elementType, 0.0));
    }
    Value product = buildGeneric(
        rewriter, loc, ValueRange{input, adaptor.getWeight()}, init,
        {AffineMap::get(3, 0, {dm, dk}, context),
         AffineMap::get(3, 0, {dn, dk}, context),
         AffineMap::get(3, 0, {dm, dn}, context)},
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [](OpBuilder &b, Location loc, ValueRange args) {
          return multiplyAccumulate(b, loc, args, arith::FastMathFlags::reassoc);
        });
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, product, resultType));
    return success();
  }
};

/// numpy matmul: 1-D operands are promoted to matrices, batch dims broadcast
/// through the indexing maps.
struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elementType = resultType.getElementType();
    auto promote = [&](Value v, bool isLhs) {
      auto type = cast<RankedTensorType>(v.getType());
      if (type.getRank() != 1)
        return v;
      SmallVector<int64_t> shape = isLhs ? SmallVector<int64_t>{1, type.getShape()[0]}
                                         : SmallVector<int64_t>{type.getShape()[0], 1};
      return reshapeTensor(rewriter, loc, v,
                           RankedTensorType::get(shape, elementType));
    };
    Value lhs = promote(adaptor.getLhs(), true);
    Value rhs = promote(adaptor.getRhs(), false);
    ArrayRef<int64_t> lhsShape = cast<RankedTensorType>(lhs.getType()).getShape();
    ArrayRef<int64_t> rhsShape = cast<RankedTensorType>(rhs.getType()).getShape();
    llvm::Expected<Shape> batch =
        inferBroadcastShape(lhsShape.drop_back(2), rhsShape.drop_back(2));
    if (!batch) {
      llvm::consumeError(batch.takeError());
      return rewriter.notifyMatchFailure(op, "batch dims do not broadcast");
    }
    int64_t b = batch->size();
    int64_t m = lhsShape[lhsShape.size() - 2], n = rhsShape.back();
    SmallVector<int64_t> fullShape(*batch);
    fullShape.append({m, n});
    auto fullType = RankedTensorType::get(fullShape, elementType);

    // Loops: batch dims, m (parallel), k (reduction), n (parallel): the
    // innermost loop walks a row of rhs and of the result, which LLVM
    // vectorizes; each result still sums its k terms in order.
    unsigned numLoops = b + 3;
    auto operandMap = [&](ArrayRef<int64_t> shape, AffineExpr row, AffineExpr col) {
      SmallVector<AffineExpr> exprs;
      size_t offset = b - (shape.size() - 2);
      for (size_t i = 0; i + 2 < shape.size(); ++i)
        exprs.push_back(shape[i] == 1 && (*batch)[offset + i] != 1
                            ? getAffineConstantExpr(0, context)
                            : getAffineDimExpr(offset + i, context));
      exprs.append({row, col});
      return AffineMap::get(numLoops, 0, exprs, context);
    };
    AffineExpr dm = getAffineDimExpr(b, context), dk = getAffineDimExpr(b + 1, context),
               dn = getAffineDimExpr(b + 2, context);
    SmallVector<utils::IteratorType> iterators(b + 1, utils::IteratorType::parallel);
    iterators.append({utils::IteratorType::reduction, utils::IteratorType::parallel});
    SmallVector<AffineExpr> resultExprs;
    for (int64_t i = 0; i < b; ++i)
      resultExprs.push_back(getAffineDimExpr(i, context));
    resultExprs.append({dm, dn});
    Value init = createFilledTensor(rewriter, loc, fullType,
                                    createFloatConstant(rewriter, loc, elementType, 0.0));
    Value product = buildGeneric(
        rewriter, loc, ValueRange{lhs, rhs}, init,
        {operandMap(lhsShape, dm, dk), operandMap(rhsShape, dk, dn),
         AffineMap::get(numLoops, 0, resultExprs, context)},
        iterators, [](OpBuilder &b, Location loc, ValueRange args) {
          return multiplyAccumulate(b, loc, args);
        });
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, product, resultType));
    return success();
  }
};

} // namespace

void mlir::tessel::populateLinearToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearLowering, MatmulLowering>(patterns.getContext());
}
