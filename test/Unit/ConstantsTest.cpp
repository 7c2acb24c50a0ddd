//===- ConstantsTest.cpp - Constant storage freed and reused --------------===//
//
// tessel::ConstantRecycling and releaseUnusedConstants: storage that no op
// refers to is freed, the next constant reuses it, and storage that an op
// refers to, an executable shares, or a context without recycling holds is
// left alone. Bytes are checked against the values written. Transposes of
// constants fold to what index arithmetic reads.
//
//===----------------------------------------------------------------------===//

#include "dialects/tessel/IR/Constants.h"
#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace mlir;

namespace {

/// An f32 constant of `shape` whose i-th element (row-major) is `seed + i`.
ElementsAttr makeConstant(MLIRContext &ctx, ArrayRef<int64_t> shape, float seed) {
  auto type = RankedTensorType::get(shape, Float32Type::get(&ctx));
  return tessel::getConstantAttr(type, "test", [&](MutableArrayRef<char> bytes) {
    for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
      float v = seed + static_cast<float>(i);
      std::memcpy(bytes.data() + 4 * i, &v, 4);
    }
  });
}

/// Whether `attr` still has its bytes and they are `seed + i`.
bool holds(ElementsAttr attr, float seed) {
  std::optional<ArrayRef<char>> bytes = tessel::getConstantBytes(attr);
  if (!bytes)
    return false;
  int64_t floats = attr.getShapedType().getNumElements();
  if (bytes->size() != static_cast<size_t>(4 * floats))
    return false;
  for (int64_t i = 0; i < floats; ++i) {
    float v;
    std::memcpy(&v, bytes->data() + 4 * i, 4);
    if (v != seed + static_cast<float>(i))
      return false;
  }
  return true;
}

/// A module whose arith.constants refer to `attrs`.
OwningOpRef<ModuleOp> makeModule(MLIRContext &ctx, ArrayRef<ElementsAttr> attrs) {
  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());
  for (ElementsAttr attr : attrs)
    arith::ConstantOp::create(b, b.getUnknownLoc(), cast<TypedAttr>(attr));
  return module;
}

constexpr int64_t kMegaFloats = int64_t{3} << 18; // 3 MiB: on huge pages
constexpr int64_t kSmallFloats = 8192;            // 32 KiB: a resource too

TEST(ConstantRecycling, FreesUnreferencedAndReusesTheirStorage) {
  MLIRContext ctx;
  ctx.loadDialect<arith::ArithDialect>();
  tessel::ConstantRecycling recycling(&ctx);
  ElementsAttr kept = makeConstant(ctx, {kMegaFloats}, 1.0f);
  ElementsAttr dropped = makeConstant(ctx, {kMegaFloats}, 2.0f);
  ElementsAttr small = makeConstant(ctx, {kSmallFloats}, 3.0f);
  ASSERT_TRUE(holds(kept, 1.0f) && holds(dropped, 2.0f) && holds(small, 3.0f));
  const char *droppedData = tessel::getConstantBytes(dropped)->data();

  OwningOpRef<ModuleOp> module = makeModule(ctx, {kept});
  tessel::releaseUnusedConstants(*module);
  EXPECT_TRUE(holds(kept, 1.0f));
  EXPECT_FALSE(tessel::getConstantBytes(dropped).has_value());
  EXPECT_FALSE(tessel::getConstantBytes(small).has_value());

  // The next constant of that size writes into the freed storage.
  ElementsAttr next = makeConstant(ctx, {kMegaFloats}, 4.0f);
  EXPECT_EQ(tessel::getConstantBytes(next)->data(), droppedData);
  EXPECT_TRUE(holds(next, 4.0f));
  EXPECT_TRUE(holds(kept, 1.0f));

  // Releasing again keeps what the module refers to; `next` is not in it.
  tessel::releaseUnusedConstants(*module);
  EXPECT_TRUE(holds(kept, 1.0f));
  EXPECT_FALSE(tessel::getConstantBytes(next).has_value());
}

TEST(ConstantRecycling, KeepsSharedStorage) {
  MLIRContext ctx;
  ctx.loadDialect<arith::ArithDialect>();
  tessel::ConstantRecycling recycling(&ctx);
  ElementsAttr shared = makeConstant(ctx, {kMegaFloats}, 5.0f);
  std::shared_ptr<const char> executable =
      tessel::shareConstantStorage(*tessel::getConstantBytes(shared));
  ASSERT_TRUE(executable);
  OwningOpRef<ModuleOp> module = makeModule(ctx, {});
  tessel::releaseUnusedConstants(*module);
  EXPECT_TRUE(holds(shared, 5.0f));
}

TEST(ConstantRecycling, NothingFreedWithoutRecycling) {
  MLIRContext ctx;
  ctx.loadDialect<arith::ArithDialect>();
  ElementsAttr a = makeConstant(ctx, {kMegaFloats}, 6.0f);
  ElementsAttr b = makeConstant(ctx, {kSmallFloats}, 7.0f);
  OwningOpRef<ModuleOp> module = makeModule(ctx, {});
  tessel::releaseUnusedConstants(*module);
  EXPECT_TRUE(holds(a, 6.0f));
  EXPECT_TRUE(holds(b, 7.0f));
  // Constants made before recycling began are not its to free either.
  tessel::ConstantRecycling recycling(&ctx);
  tessel::releaseUnusedConstants(*module);
  EXPECT_TRUE(holds(a, 6.0f));
  EXPECT_TRUE(holds(b, 7.0f));
}

// Transposes of constants fold (tessel-convert-layout's OIHW -> HWIO
// filters) to the elements naive index arithmetic reads: the fold copies
// the plane of the source's contiguous dim and the result's last dim in
// 16x16 blocks, here with partial blocks (37 by 3, 5 or 20), unit dims and
// planes around them, and without blocks where the last dim stays last.
TEST(ConstantFolding, TransposeMatchesIndexArithmetic) {
  MLIRContext ctx;
  ctx.loadDialect<tessel::TesselDialect>();
  const SmallVector<int64_t> shape{3, 20, 1, 5, 37};
  const SmallVector<SmallVector<int64_t>> perms{
      {4, 3, 2, 1, 0}, {4, 0, 2, 3, 1}, {0, 4, 2, 1, 3}, {3, 1, 2, 0, 4}, {2, 0, 1, 3, 4}};
  ElementsAttr input = makeConstant(ctx, shape, 0.0f);
  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());
  Value source = tessel::ConstantOp::create(b, b.getUnknownLoc(), input.getType(),
                                            cast<TypedAttr>(input));
  SmallVector<int64_t> inStrides(shape.size(), 1);
  for (int64_t d = shape.size() - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * shape[d + 1];
  for (ArrayRef<int64_t> perm : perms) {
    SmallVector<int64_t> outShape;
    for (int64_t p : perm)
      outShape.push_back(shape[p]);
    auto type = RankedTensorType::get(outShape, Float32Type::get(&ctx));
    auto transpose = tessel::TransposeOp::create(b, b.getUnknownLoc(), type, source,
                                                 b.getDenseI64ArrayAttr(perm));
    SmallVector<OpFoldResult> folded;
    ASSERT_TRUE(succeeded(transpose->fold({input}, folded)));
    ASSERT_EQ(folded.size(), 1u);
    auto attr = dyn_cast_if_present<ElementsAttr>(dyn_cast<Attribute>(folded[0]));
    ASSERT_TRUE(attr);
    std::optional<ArrayRef<char>> bytes = tessel::getConstantBytes(attr);
    ASSERT_TRUE(bytes);
    int64_t count = type.getNumElements(), mismatches = 0;
    SmallVector<int64_t> index(outShape.size(), 0);
    for (int64_t i = 0; i < count; ++i) {
      // Result index -> source offset, then the next result index.
      int64_t offset = 0;
      for (auto [d, p] : llvm::enumerate(perm))
        offset += index[d] * inStrides[p];
      float v;
      std::memcpy(&v, bytes->data() + 4 * i, 4);
      mismatches += v != static_cast<float>(offset);
      for (int64_t d = outShape.size() - 1; d >= 0 && ++index[d] == outShape[d]; --d)
        index[d] = 0;
    }
    EXPECT_EQ(mismatches, 0) << "perm " << llvm::join(llvm::map_range(perm, [](int64_t p) {
                                  return std::to_string(p);
                                }), ",");
  }
}

} // namespace
