//===- ResampleToLinalg.cpp - Lower padding -------------------------------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"
#include "compiler/Conversion/TesselToLinalg/TesselToLinalg.h"
#include "dialects/tessel/IR/ShapeInference.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::tessel;

namespace {

/// Constant padding is a tensor.pad.
struct ConstantPadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getMode() != PadMode::Constant)
      return rewriter.notifyMatchFailure(op, "only constant padding lowers yet");
    Location loc = op.getLoc();
    ArrayRef<int64_t> padding = op.getPadding();
    size_t rank = padding.size() / 2;
    double value = op.getValue() ? op.getValue()->convertToDouble() : 0.0;
    Value fill = createFloatConstant(
        rewriter, loc, cast<RankedTensorType>(op.getType()).getElementType(), value);
    rewriter.replaceOp(op, padTensor(rewriter, loc, adaptor.getInput(),
                                     padding.take_front(rank),
                                     padding.drop_front(rank), fill));
    return success();
  }
};

} // namespace

void mlir::tessel::populateResampleToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantPadLowering>(patterns.getContext());
}
