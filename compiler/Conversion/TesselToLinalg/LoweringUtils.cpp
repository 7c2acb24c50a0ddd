//===- LoweringUtils.cpp - Helpers shared by the tessel lowerings ---------===//

#include "compiler/Conversion/TesselToLinalg/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::tessel;

Value mlir::tessel::createFloatConstant(OpBuilder &b, Location loc, Type type,
                                        double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value mlir::tessel::createNegativeInfinity(OpBuilder &b, Location loc, Type type) {
  return arith::getIdentityValue(arith::AtomicRMWKind::maximumf, type, b, loc);
}

Value mlir::tessel::createFilledTensor(OpBuilder &b, Location loc,
                                       RankedTensorType type, Value scalar) {
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

Value mlir::tessel::padTensor(OpBuilder &b, Location loc, Value input,
                              ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                              Value padValue) {
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (auto [size, lo, hi] : llvm::zip_equal(type.getShape(), low, high))
    shape.push_back(size + lo + hi);
  auto paddedType = RankedTensorType::get(shape, type.getElementType());
  return tensor::PadOp::create(b, loc, paddedType, input,
                               getAsIndexOpFoldResult(b.getContext(), low),
                               getAsIndexOpFoldResult(b.getContext(), high),
                               padValue, /*nofold=*/false);
}

Value mlir::tessel::buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                                 Value init, ArrayRef<AffineMap> maps,
                                 ArrayRef<utils::IteratorType> iterators,
                                 BodyBuilder body) {
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc, body(nested, nestedLoc, args));
      });
  return generic.getResult(0);
}

AffineMap mlir::tessel::getBroadcastMap(ArrayRef<int64_t> shape,
                                        ArrayRef<int64_t> resultShape,
                                        MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  size_t offset = resultShape.size() - shape.size();
  for (auto [i, size] : llvm::enumerate(shape)) {
    if (size == 1 && resultShape[offset + i] != 1)
      exprs.push_back(getAffineConstantExpr(0, context));
    else
      exprs.push_back(getAffineDimExpr(offset + i, context));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, context);
}

Value mlir::tessel::buildElementwise(OpBuilder &b, Location loc,
                                     RankedTensorType resultType,
                                     ValueRange inputs, BodyBuilder body) {
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(getBroadcastMap(
        cast<RankedTensorType>(input.getType()).getShape(),
        resultType.getShape(), context));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  return buildGeneric(b, loc, inputs, init, maps, iterators, body);
}

Value mlir::tessel::reshapeTensor(OpBuilder &b, Location loc, Value value,
                                  RankedTensorType type) {
  auto sourceType = cast<RankedTensorType>(value.getType());
  if (sourceType == type)
    return value;
  // One collapse or one expand when whole dims group into the others.
  if (sourceType.getRank() > 0 && type.getRank() > 0 &&
      sourceType.getRank() != type.getRank()) {
    if (auto groups = getReassociationIndicesForReshape(sourceType, type)) {
      if (sourceType.getRank() > type.getRank())
        return tensor::CollapseShapeOp::create(b, loc, type, value, *groups);
      return tensor::ExpandShapeOp::create(b, loc, type, value, *groups);
    }
  }
  // Otherwise collapse everything into one dim (or none for a 0-D source),
  // then expand.
  Value flat = value;
  if (sourceType.getRank() > 1) {
    SmallVector<ReassociationIndices> all(1);
    for (int64_t i = 0; i < sourceType.getRank(); ++i)
      all[0].push_back(i);
    auto flatType = RankedTensorType::get({sourceType.getNumElements()},
                                          sourceType.getElementType());
    flat = tensor::CollapseShapeOp::create(b, loc, flatType, value, all);
  }
  auto flatType = cast<RankedTensorType>(flat.getType());
  if (flatType == type)
    return flat;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, flat,
                                           ArrayRef<ReassociationIndices>{});
  SmallVector<ReassociationIndices> groups;
  if (flatType.getRank() == 1) {
    groups.emplace_back();
    for (int64_t i = 0; i < type.getRank(); ++i)
      groups[0].push_back(i);
  }
  return tensor::ExpandShapeOp::create(b, loc, type, flat, groups);
}
