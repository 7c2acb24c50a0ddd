//===- Winograd.cpp - 3x3 convolutions by Winograd's minimal filtering ----===//
//
// A 3x3 stride-1 convolution computes each m x m block of its output from an
// (m+2) x (m+2) block of its input. Winograd's minimal filtering (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) does it
// with (m+2)^2 products per pair of input and output channels instead of
// 9 m^2:
//
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A.
//
// Summed over the input channels, the elementwise products are (m+2)^2
// independent matrix products [tiles x C] x [C x K], which tessel-vectorize
// register-tiles like 1x1 convolutions. On tensors, before the tiling:
//
//   U = G g G^T         at compile time from a constant filter, else an
//                       scf.forall over the input channels on every call;
//   V = B^T d B         an scf.forall over the tiles, vectors of channels;
//   M = V U             linalg.batch_matmul, one product per (i, j);
//   Y = init + A^T M A  an scf.forall over the tiles, added to the conv's
//                       initial value (its bias or zeros), its elementwise
//                       epilogue applied before the store.
//
// Tiles overhanging an odd side read a wider zero padding and write a
// larger output, whose slice an elementwise op adds to the initial value.
// A cost model picks F(4x4, 3x3), F(2x2, 3x3) or the direct algorithm.
//
// The transforms are generated from the matrices, skipping their zeros and
// turning their ones into additions. See the pass description in
// Passes.td and docs/performance.md.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"
#include "compiler/Transforms/ReversedLoops.h"

#include "dialects/tessel/IR/Constants.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Threading.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELWINOGRAD
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// One algorithm F(m x m, 3 x 3): its three transforms, row-major.
struct WinogradAlgorithm {
  int64_t m;             ///< Output tile: m x m pixels.
  ArrayRef<double> bt;   ///< alpha x alpha: the input transform B^T.
  ArrayRef<double> g;    ///< alpha x 3: the filter transform G.
  ArrayRef<double> at;   ///< m x alpha: the output transform A^T.
  int64_t alpha() const { return m + 2; }
};

// F(4x4, 3x3), interpolation points 0, +-1, +-2 and infinity.
constexpr double kBT4[] = {4, 0, -5, 0,  1, 0, 0, -4, -4, 1,  1, 0, 0, 4, -4, -1, 1, 0,
                           0, -2, -1, 2, 1, 0, 0, 2,  -1, -2, 1, 0, 0, 4, 0,  -5, 0, 1};
constexpr double kG4[] = {1.0 / 4,  0,         0,         -1.0 / 6, -1.0 / 6, -1.0 / 6,
                          -1.0 / 6, 1.0 / 6,   -1.0 / 6,  1.0 / 24, 1.0 / 12, 1.0 / 6,
                          1.0 / 24, -1.0 / 12, 1.0 / 6,   0,        0,        1};
constexpr double kAT4[] = {1, 1, 1,  1, 1,  0, 0, 1, -1, 2, -2, 0,
                           0, 1, 1,  4, 4,  0, 0, 1, -1, 8, -8, 1};
// F(2x2, 3x3), points 0, +-1 and infinity.
constexpr double kBT2[] = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};
constexpr double kG2[] = {1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1};
constexpr double kAT2[] = {1, 1, 1, 0, 0, 1, -1, -1};

const WinogradAlgorithm kF4{4, kBT4, kG4, kAT4};
const WinogradAlgorithm kF2{2, kBT2, kG2, kAT2};

/// The cost model's price of a byte that a Winograd convolution moves, in
/// FLOPs of its products: the transformed filter, read once a call, and
/// the transformed input and products, written and read back once each;
/// and the share of peak the direct convolution's register tiles reach on
/// these layers, against the products' (1x1-convolution tiles, near peak).
/// Fitted to this machine's measurements (docs/performance.md, 2026-12-06,
/// ninth session): 3x3 256->256 at 14x14 on one image is faster with
/// F(2x2, 3x3) (2.4x on two threads) though F(4x4, 3x3) has fewer FLOPs,
/// F(4x4, 3x3) is faster at batch 8 on every ResNet layer, and 3x3
/// 512->512 at 7x7 on one image is faster with F(2x2, 3x3) (134 MFLOP of
/// products, 16.8 MB of filter) than direct (231 MFLOP).
constexpr double kFilterByteCost = 8, kTransformByteCost = 2, kDirectEfficiency = 0.8;

/// The cost model's estimate for F(m x m, 3 x 3) on a convolution of
/// `images` x `height` x `width` outputs, `channels` -> `outChannels`, in
/// FLOPs: its products plus its traffic priced by the constants above
/// (with the filter's transform when it is done at run time).
double getCost(const WinogradAlgorithm &algorithm, int64_t images, int64_t height,
               int64_t width, int64_t channels, int64_t outChannels, bool filterAtRunTime) {
  double alpha2 = double(algorithm.alpha() * algorithm.alpha());
  double tiles = double(images) * double(llvm::divideCeil(height, algorithm.m)) *
                 double(llvm::divideCeil(width, algorithm.m));
  double products = 2 * alpha2 * tiles * double(channels) * double(outChannels);
  double filterBytes = 4 * alpha2 * double(channels) * double(outChannels);
  double transformBytes = 2 * 4 * alpha2 * tiles * double(channels + outChannels);
  // A filter that is not a constant is transformed on every call: the
  // filter read and the transformed one written.
  if (filterAtRunTime)
    transformBytes += 4 * (9 + alpha2) * double(channels) * double(outChannels);
  return products + kFilterByteCost * filterBytes + kTransformByteCost * transformBytes;
}

/// What a convolution Winograd applies to looks like.
struct Candidate {
  const WinogradAlgorithm *algorithm;
  int64_t images, height, width, inChannels, outChannels;
  ArrayRef<char> filter; ///< A constant filter's [3, 3, C, K] floats, unless
  float splat = 0;       ///< it is a splat: then its value.
  bool filterAtRunTime = false; ///< The filter is not a constant.
};

/// Whether every value of an integer elements attribute is one.
bool allOnes(DenseIntElementsAttr attr) {
  return llvm::all_of(attr.getValues<int64_t>(), [](int64_t v) { return v == 1; });
}

/// The algorithm and shapes for `conv`, or nullopt when Winograd does not
/// apply (it needs f32, a 3x3 filter, unit strides and dilations, channel
/// counts that fill vectors of `lanes`, a filter that is a constant with
/// its bytes at hand or not a constant at all) or, unless `everywhere`,
/// when the cost model prefers the direct convolution.
std::optional<Candidate> getCandidate(linalg::Conv2DNhwcHwcfOp conv, int64_t lanes,
                                      bool everywhere) {
  auto inputType = dyn_cast<RankedTensorType>(conv.getInputs()[0].getType());
  auto filterType = dyn_cast<RankedTensorType>(conv.getInputs()[1].getType());
  auto outputType = dyn_cast<RankedTensorType>(conv.getOutputs()[0].getType());
  if (!inputType || !filterType || !outputType || !inputType.hasStaticShape() ||
      !filterType.hasStaticShape() || !outputType.hasStaticShape() ||
      !inputType.getElementType().isF32() || !filterType.getElementType().isF32() ||
      !outputType.getElementType().isF32() || !allOnes(conv.getStrides()) ||
      !allOnes(conv.getDilations()))
    return std::nullopt;
  ArrayRef<int64_t> filterShape = filterType.getShape();
  ArrayRef<int64_t> outputShape = outputType.getShape();
  if (filterShape[0] != 3 || filterShape[1] != 3 || filterShape[2] % lanes != 0 ||
      filterShape[3] % lanes != 0 || outputShape[0] == 0)
    return std::nullopt;
  // A constant filter is transformed now; any other (a training step's
  // parameter, the flipped filter of an input gradient) on every call.
  ElementsAttr filter;
  std::optional<ArrayRef<char>> bytes;
  DenseElementsAttr dense;
  if (matchPattern(conv.getInputs()[1], m_Constant(&filter))) {
    bytes = tessel::getConstantBytes(filter);
    dense = dyn_cast<DenseElementsAttr>(filter);
    if (!bytes && !(dense && dense.isSplat()))
      return std::nullopt;
  }
  bool filterAtRunTime = !filter;
  int64_t height = outputShape[1], width = outputShape[2];
  // The cheaper of the two algorithms; tiles that overhang a side m does
  // not divide compute up to m - 1 more rows or columns (rewrite pads the
  // input and cuts the output). Unless `everywhere`, the direct algorithm
  // when it is cheaper still.
  int64_t images = outputShape[0], channels = filterShape[2], outChannels = filterShape[3];
  double cost4 = getCost(kF4, images, height, width, channels, outChannels, filterAtRunTime);
  double cost2 = getCost(kF2, images, height, width, channels, outChannels, filterAtRunTime);
  const WinogradAlgorithm *algorithm = cost4 <= cost2 ? &kF4 : &kF2;
  double direct = 18.0 * double(images) * double(height) * double(width) * double(channels) *
                  double(outChannels) / kDirectEfficiency;
  if (!everywhere && std::min(cost4, cost2) >= direct)
    return std::nullopt;
  Candidate candidate{algorithm, outputShape[0], height, width, filterShape[2],
                      filterShape[3]};
  if (bytes)
    candidate.filter = *bytes;
  else if (dense)
    candidate.splat = dense.getSplatValue<float>();
  candidate.filterAtRunTime = filterAtRunTime;
  return candidate;
}

/// U = G g G^T for every pair of channels, as a constant [alpha^2, C, K]:
/// computed in double, one input channel at a time (row (a, b) of the
/// filter, K contiguous floats, is read once per row of G). Null when the
/// storage cannot be allocated.
ElementsAttr transformFilter(const Candidate &candidate, MLIRContext *context) {
  const WinogradAlgorithm &algorithm = *candidate.algorithm;
  int64_t alpha = algorithm.alpha(), channels = candidate.inChannels,
          outChannels = candidate.outChannels;
  auto type = RankedTensorType::get({alpha * alpha, channels, outChannels},
                                    Float32Type::get(context));
  const auto *filter = reinterpret_cast<const float *>(candidate.filter.data());
  std::vector<float> splat;
  if (candidate.filter.empty()) {
    splat.assign(9 * channels * outChannels, candidate.splat);
    filter = splat.data();
  }
  return tessel::getConstantAttr(type, "winograd_filter", [&](MutableArrayRef<char> bytes) {
    auto *result = reinterpret_cast<float *>(bytes.data());
    // Input channels on the context's threads (a ResNet-18 takes 0.3 s on
    // one): rows[i][b][k] = sum_a G[i][a] g[a][b][c][k]; then
    // U[i][j][c][k] = sum_b rows[i][b][k] G[j][b].
    mlir::parallelFor(context, 0, channels, [&](size_t c) {
      std::vector<double> rows(alpha * 3 * outChannels, 0.0), sum(outChannels);
      for (int64_t i = 0; i < alpha; ++i)
        for (int64_t a = 0; a < 3; ++a) {
          double coefficient = algorithm.g[i * 3 + a];
          if (coefficient == 0)
            continue;
          for (int64_t b = 0; b < 3; ++b) {
            const float *tap = filter + ((a * 3 + b) * channels + c) * outChannels;
            double *row = rows.data() + (i * 3 + b) * outChannels;
            for (int64_t k = 0; k < outChannels; ++k)
              row[k] += coefficient * tap[k];
          }
        }
      for (int64_t i = 0; i < alpha; ++i)
        for (int64_t j = 0; j < alpha; ++j) {
          std::fill(sum.begin(), sum.end(), 0.0);
          for (int64_t b = 0; b < 3; ++b) {
            double coefficient = algorithm.g[j * 3 + b];
            if (coefficient == 0)
              continue;
            const double *row = rows.data() + (i * 3 + b) * outChannels;
            for (int64_t k = 0; k < outChannels; ++k)
              sum[k] += coefficient * row[k];
          }
          float *out = result + ((i * alpha + j) * channels + c) * outChannels;
          for (int64_t k = 0; k < outChannels; ++k)
            out[k] = static_cast<float>(sum[k]);
        }
    });
  });
}

/// Emits `matrix` (rows x columns, row-major) times the column of vectors
/// `in`: one vector per row, zeros skipped, +-1 as additions and
/// subtractions, other coefficients as FMAs.
SmallVector<Value> multiply(OpBuilder &b, Location loc, ArrayRef<double> matrix, int64_t rows,
                            ArrayRef<Value> in) {
  int64_t columns = in.size();
  auto type = cast<VectorType>(in.front().getType());
  SmallVector<Value> out;
  for (int64_t r = 0; r < rows; ++r) {
    Value sum;
    for (int64_t c = 0; c < columns; ++c) {
      double coefficient = matrix[r * columns + c];
      if (coefficient == 0)
        continue;
      Value term = in[c];
      if (coefficient == 1 && sum) {
        sum = arith::AddFOp::create(b, loc, sum, term);
      } else if (coefficient == -1 && sum) {
        sum = arith::SubFOp::create(b, loc, sum, term);
      } else if (coefficient == 1) {
        sum = term;
      } else {
        Value scale = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(coefficient)));
        sum = sum ? vector::FMAOp::create(b, loc, scale, term, sum).getResult()
                  : arith::MulFOp::create(b, loc, scale, term).getResult();
      }
    }
    if (!sum)
      sum = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
    out.push_back(sum);
  }
  return out;
}

/// `transform` applied on both sides of an n x n block of vectors (row-major
/// in `block`): transform . block . transform^T, rows x rows vectors.
SmallVector<Value> transformBlock(OpBuilder &b, Location loc, ArrayRef<double> transform,
                                  int64_t rows, ArrayRef<Value> block) {
  int64_t n = transform.size() / rows;
  // Columns first: left[r][q] = sum_p T[r][p] block[p][q].
  SmallVector<SmallVector<Value>> left(n);
  for (int64_t q = 0; q < n; ++q) {
    SmallVector<Value> column;
    for (int64_t p = 0; p < n; ++p)
      column.push_back(block[p * n + q]);
    left[q] = multiply(b, loc, transform, rows, column);
  }
  // Then rows: out[r][s] = sum_q T[s][q] left[r][q].
  SmallVector<Value> out;
  for (int64_t r = 0; r < rows; ++r) {
    SmallVector<Value> row;
    for (int64_t q = 0; q < n; ++q)
      row.push_back(left[q][r]);
    llvm::append_range(out, multiply(b, loc, transform, rows, row));
  }
  return out;
}

/// An scf.forall over the tiles [images, tile rows, tile columns] writing
/// `init`: `body` gets the tile's indices (image, tile row, tile column,
/// and the three linearized) and the slice of `init` it writes ([sliceSizes] at [sliceOffsets(indices)])
/// and returns that slice written.
Value buildTileLoop(
    OpBuilder &b, Location loc, ArrayRef<int64_t> tiles, Value init,
    function_ref<SmallVector<OpFoldResult>(OpBuilder &, ArrayRef<Value>)> sliceOffsets,
    ArrayRef<int64_t> sliceSizes,
    function_ref<Value(OpBuilder &, ArrayRef<Value>, Value)> body) {
  int64_t count = tiles[0] * tiles[1] * tiles[2];
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(count)}, ArrayRef<OpFoldResult>{b.getIndexAttr(1)},
      ValueRange{init}, std::nullopt);
  // A function of its own before the tiling passes (the transforms are
  // the same in every layer of a shape, tessel-outline-kernels{marked}).
  forall->setAttr(tessel::kOutlineAttrName, b.getUnitAttr());
  OpBuilder inner = OpBuilder::atBlockBegin(forall.getBody());
  Value tile = forall.getInductionVars()[0];
  Value columns = arith::ConstantIndexOp::create(inner, loc, tiles[2]);
  Value rows = arith::ConstantIndexOp::create(inner, loc, tiles[1]);
  Value column = arith::RemUIOp::create(inner, loc, tile, columns);
  Value rest = arith::DivUIOp::create(inner, loc, tile, columns);
  Value row = arith::RemUIOp::create(inner, loc, rest, rows);
  Value image = arith::DivUIOp::create(inner, loc, rest, rows);
  SmallVector<Value> indices{image, row, column, tile};
  SmallVector<OpFoldResult> offsets = sliceOffsets(inner, indices);
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(b.getContext(), sliceSizes);
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  Value shared = forall.getRegionIterArgs()[0];
  Value slice = tensor::ExtractSliceOp::create(inner, loc, shared, offsets, sizes, strides);
  Value written = body(inner, indices, slice);
  inner.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(inner, loc, written, shared, offsets, sizes, strides);
  return forall.getResult(0);
}

/// An scf.for over [0, extent) by `step` carrying `init`; `body` gets the
/// induction variable and the carried value and returns the next.
Value buildChannelLoop(OpBuilder &b, Location loc, int64_t extent, int64_t step, Value init,
                       function_ref<Value(OpBuilder &, Value, Value)> body) {
  Value lower = arith::ConstantIndexOp::create(b, loc, 0);
  Value upper = arith::ConstantIndexOp::create(b, loc, extent);
  Value stride = arith::ConstantIndexOp::create(b, loc, step);
  auto loop = scf::ForOp::create(
      b, loc, lower, upper, stride, ValueRange{init},
      [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
        scf::YieldOp::create(nested, loc, body(nested, iv, carried.front()));
      });
  return loop.getResult(0);
}

/// Whether `generic` can be evaluated one vector of channels at a time by
/// evaluateAt: elementwise over [N, H, W, K] (its result in loop order),
/// f32 operands each walking the loops in order (with broadcast dims, the
/// channels innermost where present), a body of elementwise arith and math
/// ops that does not read the destination. `skip` is an operand the caller
/// provides (the convolution's result), which must walk every loop.
bool isEvaluableByVectors(linalg::GenericOp generic, OpOperand *skip = nullptr) {
  if (generic.getNumLoops() != 4 || generic.getNumParallelLoops() != 4 ||
      generic.getNumDpsInits() != 1 ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0)).isIdentity() ||
      generic.payloadUsesValueFromOperand(generic.getDpsInitOperand(0)))
    return false;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type || !type.getElementType().isF32() || !map.isProjectedPermutation() ||
        (input == skip && !map.isIdentity()))
      return false;
    // Dims in loop order (no transposition); the channels, if read, last.
    for (unsigned r = 1; r < map.getNumResults(); ++r)
      if (map.getDimPosition(r) <= map.getDimPosition(r - 1))
        return false;
  }
  for (Operation &op : generic.getBody()->without_terminator())
    if (op.getNumRegions() != 0 || op.getNumResults() != 1 ||
        !op.hasTrait<OpTrait::Elementwise>() ||
        !isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return false;
  return true;
}

/// The value of `generic` (isEvaluableByVectors) at output position
/// [n, h, w, k..k+lanes), as a vector: its operands read there (a scalar
/// broadcast where they do not vary along the channels), `known` standing
/// for the skipped operand, its body applied to vectors.
Value evaluateAt(OpBuilder &b, Location loc, linalg::GenericOp generic, ArrayRef<Value> position,
                 int64_t lanes, OpOperand *skip = nullptr, Value known = {}) {
  IRMapping mapping;
  Block *body = generic.getBody();
  auto vectorOf = [&](Type type) { return VectorType::get({lanes}, type); };
  for (OpOperand *input : generic.getDpsInputOperands()) {
    Value value;
    if (input == skip) {
      value = known;
    } else {
      AffineMap map = generic.getMatchingIndexingMap(input);
      SmallVector<Value> indices;
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        indices.push_back(position[map.getDimPosition(r)]);
      Type element = cast<RankedTensorType>(input->get().getType()).getElementType();
      if (map.getNumResults() > 0 && map.getDimPosition(map.getNumResults() - 1) == 3) {
        Value padding = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
        value = vector::TransferReadOp::create(b, loc, vectorOf(element), input->get(), indices,
                                               padding, ArrayRef<bool>{true});
      } else {
        Value scalar = tensor::ExtractOp::create(b, loc, input->get(), indices);
        value = vector::BroadcastOp::create(b, loc, vectorOf(element), scalar);
      }
    }
    mapping.map(body->getArgument(input->getOperandNumber()), value);
  }
  auto lookup = [&](Value v) -> Value {
    if (Value mapped = mapping.lookupOrNull(v))
      return mapped;
    // A scalar from outside the body (a constant, a captured value).
    return vector::BroadcastOp::create(b, loc, vectorOf(v.getType()), v);
  };
  for (Operation &op : body->without_terminator()) {
    OperationState state(op.getLoc(), op.getName());
    for (Value operand : op.getOperands())
      state.addOperands(lookup(operand));
    state.addTypes(vectorOf(op.getResult(0).getType()));
    state.addAttributes(op.getAttrs());
    mapping.map(op.getResult(0), b.create(state)->getResult(0));
  }
  return lookup(body->getTerminator()->getOperand(0));
}

/// The elementwise op consuming `conv`'s result, when it is its only use and
/// can be evaluated by vectors: it is then computed in the output transform,
/// on each output vector before it is stored.
linalg::GenericOp getEpilogue(linalg::Conv2DNhwcHwcfOp conv) {
  Value result = conv->getResult(0);
  if (!result.hasOneUse())
    return {};
  OpOperand &use = *result.getUses().begin();
  auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
  if (!generic || !generic.isDpsInput(&use) || generic->getResult(0).getType() != result.getType() ||
      !isEvaluableByVectors(generic, &use))
    return {};
  return generic;
}

/// Rewrites `conv` as described at the top of the file.
LogicalResult rewrite(RewriterBase &rewriter, linalg::Conv2DNhwcHwcfOp conv,
                      const Candidate &candidate, int64_t lanes) {
  const WinogradAlgorithm &algorithm = *candidate.algorithm;
  ElementsAttr filterAttr;
  if (!candidate.filterAtRunTime) {
    filterAttr = transformFilter(candidate, rewriter.getContext());
    if (!filterAttr)
      return conv.emitError("tessel-winograd: out of memory for the transformed filter of ")
             << candidate.inChannels << "x" << candidate.outChannels << " channels";
  }
  Location loc = conv.getLoc();
  rewriter.setInsertionPoint(conv);
  int64_t m = algorithm.m, alpha = algorithm.alpha(), alpha2 = alpha * alpha;
  int64_t images = candidate.images, tileRows = llvm::divideCeil(candidate.height, m),
          tileColumns = llvm::divideCeil(candidate.width, m), channels = candidate.inChannels,
          outChannels = candidate.outChannels;
  // Whether the tiles overhang the output (a side m does not divide): the
  // input then gets zero rows and columns up to the tiles' reach, the
  // transform writes a larger output, and its slice is added to the
  // initial value by an elementwise op (tessel-tile-and-distribute fuses
  // the epilogue into it).
  int64_t extraRows = tileRows * m - candidate.height,
          extraColumns = tileColumns * m - candidate.width;
  bool overhangs = extraRows != 0 || extraColumns != 0;
  int64_t tiles = images * tileRows * tileColumns;
  Type f32 = rewriter.getF32Type();
  auto vectorType = VectorType::get({lanes}, f32);
  SmallVector<bool> inBounds{true};
  Value input = conv.getInputs()[0];
  Value padding = arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));
  if (overhangs) {
    // Widen the convolution's zero padding where it has one, so that the
    // input's producer still writes into the one padded buffer.
    SmallVector<OpFoldResult> low(4, rewriter.getIndexAttr(0)),
        high(4, rewriter.getIndexAttr(0));
    Value source = input;
    auto pad = input.getDefiningOp<tensor::PadOp>();
    Value value = pad ? pad.getConstantPaddingValue() : Value();
    FloatAttr zero;
    if (pad && value && matchPattern(value, m_Constant(&zero)) && zero.getValue().isPosZero() &&
        pad.getStaticLow().size() == 4 && !llvm::is_contained(pad.getStaticLow(), ShapedType::kDynamic) &&
        !llvm::is_contained(pad.getStaticHigh(), ShapedType::kDynamic)) {
      source = pad.getSource();
      for (int d = 0; d < 4; ++d) {
        low[d] = rewriter.getIndexAttr(pad.getStaticLow()[d]);
        high[d] = rewriter.getIndexAttr(pad.getStaticHigh()[d]);
      }
    }
    high[1] = rewriter.getIndexAttr(getConstantIntValue(high[1]).value_or(0) + extraRows);
    high[2] = rewriter.getIndexAttr(getConstantIntValue(high[2]).value_or(0) + extraColumns);
    ArrayRef<int64_t> shape = cast<RankedTensorType>(input.getType()).getShape();
    auto paddedType = RankedTensorType::get(
        {shape[0], shape[1] + extraRows, shape[2] + extraColumns, shape[3]}, f32);
    input = tensor::PadOp::create(rewriter, loc, paddedType, source, low, high, padding);
  }
  auto index = [&](OpBuilder &b, Value base, int64_t scale, int64_t offset) -> Value {
    Value scaled = arith::MulIOp::create(b, loc, base,
                                         arith::ConstantIndexOp::create(b, loc, scale));
    return arith::AddIOp::create(b, loc, scaled, arith::ConstantIndexOp::create(b, loc, offset));
  };
  auto constantIndex = [&](OpBuilder &b, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };

  // V = B^T d B: [alpha^2, tiles, C], the tiles linearized (not a reshape
  // of [alpha^2, images, tile rows, tile columns, C]: the transform is a
  // function of its own, whose result bufferizes to a strided view that a
  // reshape would copy).
  Value transformedEmpty =
      tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{alpha2, tiles, channels}, f32);
  Value products = buildTileLoop(
      rewriter, loc, {images, tileRows, tileColumns}, transformedEmpty,
      [&](OpBuilder &b, ArrayRef<Value> t) -> SmallVector<OpFoldResult> {
        return {b.getIndexAttr(0), t[3], b.getIndexAttr(0)};
      },
      {alpha2, 1, channels},
      [&](OpBuilder &b, ArrayRef<Value> t, Value slice) {
        return buildChannelLoop(b, loc, channels, lanes, slice, [&](OpBuilder &b, Value c, Value acc) {
          SmallVector<Value> block;
          for (int64_t p = 0; p < alpha; ++p)
            for (int64_t q = 0; q < alpha; ++q)
              block.push_back(vector::TransferReadOp::create(
                  b, loc, vectorType, input,
                  ValueRange{t[0], index(b, t[1], m, p), index(b, t[2], m, q), c}, padding,
                  inBounds));
          SmallVector<Value> values = transformBlock(b, loc, algorithm.bt, alpha, block);
          Value bZero = constantIndex(b, 0);
          for (int64_t ij = 0; ij < alpha2; ++ij)
            acc = vector::TransferWriteOp::create(b, loc, values[ij], acc,
                                                  ValueRange{constantIndex(b, ij), bZero, c},
                                                  inBounds)
                      .getResult();
          return acc;
        });
      });

  // M = V U, one [tiles x C] x [C x K] product per (i, j).
  Value filter;
  if (filterAttr) {
    filter = arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(filterAttr));
  } else {
    // U = G g G^T on every call: an scf.forall over the input channels, one
    // vector of output channels at a time (9 reads, (m+2)^2 writes). A
    // flipped filter (an input gradient's) is read flipped from the
    // unflipped one: the flip was a serial copy of the whole filter before
    // the parallel transform (9.4 MB for 3x3 512->512).
    Value weights = conv.getInputs()[1];
    SmallVector<std::optional<int64_t>> flip;
    if (auto generic = weights.getDefiningOp<linalg::GenericOp>()) {
      flip = tessel::getFlip(generic);
      if (!flip.empty() && flip[3]) // the vectors' lanes would be reversed
        flip.clear();
      if (!flip.empty())
        weights = generic.getDpsInputs()[0];
    }
    // The filter's element at (p, q, c, k) of the convolution's filter.
    auto filterIndices = [&](OpBuilder &b, int64_t p, int64_t q, Value c,
                             Value k) -> SmallVector<Value> {
      SmallVector<Value> at{constantIndex(b, p), constantIndex(b, q), c, k};
      if (flip.empty())
        return at;
      int64_t constants[] = {p, q};
      for (int64_t d = 0; d < 4; ++d) {
        if (!flip[d])
          continue;
        at[d] = d < 2 ? constantIndex(b, *flip[d] - constants[d])
                      : arith::SubIOp::create(b, loc, constantIndex(b, *flip[d]), at[d]);
      }
      return at;
    };
    auto filterType = RankedTensorType::get({alpha2, channels, outChannels}, f32);
    Value filterEmpty = tensor::EmptyOp::create(rewriter, loc, filterType.getShape(), f32);
    filter = buildTileLoop(
        rewriter, loc, {1, 1, channels}, filterEmpty,
        [&](OpBuilder &b, ArrayRef<Value> t) -> SmallVector<OpFoldResult> {
          return {b.getIndexAttr(0), t[2], b.getIndexAttr(0)};
        },
        {alpha2, 1, outChannels},
        [&](OpBuilder &b, ArrayRef<Value> t, Value slice) {
          return buildChannelLoop(b, loc, outChannels, lanes, slice,
                                  [&](OpBuilder &b, Value k, Value acc) {
            SmallVector<Value> taps;
            for (int64_t p = 0; p < 3; ++p)
              for (int64_t q = 0; q < 3; ++q)
                taps.push_back(vector::TransferReadOp::create(
                    b, loc, vectorType, weights, filterIndices(b, p, q, t[2], k), padding,
                    inBounds));
            SmallVector<Value> values = transformBlock(b, loc, algorithm.g, alpha, taps);
            Value bZero = constantIndex(b, 0);
            for (int64_t ij = 0; ij < alpha2; ++ij)
              acc = vector::TransferWriteOp::create(b, loc, values[ij], acc,
                                                    ValueRange{constantIndex(b, ij), bZero, k},
                                                    inBounds)
                        .getResult();
            return acc;
          });
        });
  }
  Value productsEmpty =
      tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{alpha2, tiles, outChannels}, f32);
  Value zeros = linalg::FillOp::create(rewriter, loc, ValueRange{padding},
                                       ValueRange{productsEmpty})
                    .getResult(0);
  auto batchMatmul = linalg::BatchMatmulOp::create(rewriter, loc, ValueRange{products, filter},
                                                   ValueRange{zeros});
  batchMatmul->setAttr(tessel::kOutlineAttrName, rewriter.getUnitAttr());
  Value multiplied = batchMatmul.getResult(0);

  // Y = init + A^T M A, written over the convolution's initial value, or
  // with the convolution's elementwise epilogue applied into the epilogue's
  // destination. An initial value that a fill or an evaluable generic (a
  // bias broadcast) computes is computed here too instead of read back.
  Value init = conv.getOutputs()[0];
  linalg::GenericOp epilogue = overhangs ? linalg::GenericOp() : getEpilogue(conv);
  auto initGeneric = init.getDefiningOp<linalg::GenericOp>();
  if (initGeneric && (!initGeneric->hasOneUse() || !isEvaluableByVectors(initGeneric)))
    initGeneric = {};
  auto initFill = init.getDefiningOp<linalg::FillOp>();
  Value destination = epilogue ? epilogue.getDpsInits()[0] : init;
  if (overhangs) {
    initGeneric = {};
    initFill = {};
    destination = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{images, tileRows * m, tileColumns * m, outChannels}, f32);
  } else if (!epilogue && initGeneric) {
    destination = initGeneric.getDpsInits()[0];
  } else if (!epilogue && initFill) {
    destination = initFill.getDpsInits()[0];
  }
  // At the epilogue, whose other operands (a residual) may be computed
  // after the convolution.
  if (epilogue)
    rewriter.setInsertionPoint(epilogue);
  Value result = buildTileLoop(
      rewriter, loc, {images, tileRows, tileColumns}, destination,
      [&](OpBuilder &b, ArrayRef<Value> t) -> SmallVector<OpFoldResult> {
        return {t[0], index(b, t[1], m, 0), index(b, t[2], m, 0), b.getIndexAttr(0)};
      },
      {1, m, m, outChannels},
      [&](OpBuilder &b, ArrayRef<Value> t, Value slice) {
        return buildChannelLoop(b, loc, outChannels, lanes, slice,
                                [&](OpBuilder &b, Value k, Value acc) {
          SmallVector<Value> block;
          for (int64_t ij = 0; ij < alpha2; ++ij)
            block.push_back(vector::TransferReadOp::create(
                b, loc, vectorType, multiplied, ValueRange{constantIndex(b, ij), t[3], k},
                padding, inBounds));
          SmallVector<Value> values = transformBlock(b, loc, algorithm.at, m, block);
          Value bZero = constantIndex(b, 0);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < m; ++j) {
              SmallVector<Value> position{t[0], index(b, t[1], m, i), index(b, t[2], m, j), k};
              Value start;
              if (overhangs)
                start = vector::BroadcastOp::create(b, loc, vectorType, padding);
              else if (initGeneric)
                start = evaluateAt(b, loc, initGeneric, position, lanes);
              else if (initFill)
                start = vector::BroadcastOp::create(b, loc, vectorType, initFill.getInputs()[0]);
              else
                start = vector::TransferReadOp::create(b, loc, vectorType, init, position,
                                                       padding, inBounds);
              Value sum = arith::AddFOp::create(b, loc, start, values[i * m + j]);
              if (epilogue)
                sum = evaluateAt(b, loc, epilogue, position, lanes,
                                 &*conv->getResult(0).getUses().begin(), sum);
              SmallVector<Value> at{bZero, constantIndex(b, i), constantIndex(b, j), k};
              acc = vector::TransferWriteOp::create(b, loc, sum, acc, at, inBounds).getResult();
            }
          return acc;
        });
      });
  if (epilogue) {
    rewriter.replaceOp(epilogue, result);
    rewriter.eraseOp(conv);
    return success();
  }
  if (overhangs) {
    auto outputType = cast<RankedTensorType>(conv->getResult(0).getType());
    SmallVector<OpFoldResult> zeros(4, rewriter.getIndexAttr(0)),
        ones(4, rewriter.getIndexAttr(1));
    Value cut = tensor::ExtractSliceOp::create(
        rewriter, loc, outputType, result, zeros,
        getAsIndexOpFoldResult(rewriter.getContext(), outputType.getShape()), ones);
    AffineMap identity = rewriter.getMultiDimIdentityMap(4);
    result = linalg::GenericOp::create(
                 rewriter, loc, TypeRange{outputType}, ValueRange{cut}, ValueRange{init},
                 ArrayRef<AffineMap>{identity, identity},
                 SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
                 [&](OpBuilder &b, Location nested, ValueRange args) {
                   linalg::YieldOp::create(
                       b, nested, ValueRange{arith::AddFOp::create(b, nested, args[1], args[0])});
                 })
                 .getResult(0);
  }
  rewriter.replaceOp(conv, result);
  return success();
}

struct WinogradPass : tessel::impl::TesselWinogradBase<WinogradPass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512)
      return emitError(UnknownLoc::get(context))
             << "tessel-winograd: vector-bits=" << static_cast<int64_t>(vectorBits)
             << " is not a vector register width; use 512 (AVX-512), 256 (AVX2) "
                "or 128 (NEON, SSE)";
    return success();
  }

  void runOnOperation() override {
    int64_t lanes = vectorBits / 32;
    SmallVector<std::pair<linalg::Conv2DNhwcHwcfOp, Candidate>> candidates;
    getOperation().walk([&](linalg::Conv2DNhwcHwcfOp conv) {
      if (std::optional<Candidate> candidate = getCandidate(conv, lanes, everywhere))
        candidates.emplace_back(conv, *candidate);
    });
    IRRewriter rewriter(&getContext());
    for (auto &[conv, candidate] : candidates)
      if (failed(rewrite(rewriter, conv, candidate, lanes)))
        return signalPassFailure();
  }
};

} // namespace
