//===- PadInPlace.cpp - Producers write into padded buffers ---------------===//
//
// A padded convolution or pool input used to be a buffer filled whole with
// the padding value plus a copy of the unpadded tensor into it (the two
// kernels took a third of a depthwise convolution's time). Here the pad
// becomes fills of its border strips and an insertion of its source, and
// the source's producer computes into the padded buffer's interior; the
// inputs of a concatenation likewise compute into their parts of it. See the
// pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELPADINPLACE
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

namespace {

/// The operands of `call` (a kernel outlined on tensors) that its results
/// are computed in; empty when it does not say.
ArrayRef<int64_t> getDestinations(func::CallOp call) {
  auto destinations = call->getAttrOfType<DenseI64ArrayAttr>(tessel::kDestinationsAttrName);
  if (!destinations || destinations.size() != call.getNumResults() ||
      llvm::any_of(destinations.asArrayRef(),
                   [&](int64_t i) { return i < 0 || i >= call.getNumOperands(); }))
    return {};
  return destinations.asArrayRef();
}

/// The `tensor.empty` whose buffer `value` is computed in, following
/// destinations through destination-style ops, loops and kernel calls;
/// null when there is none (a function argument, a constant).
tensor::EmptyOp findDestinationEmpty(Value value) {
  while (auto result = dyn_cast<OpResult>(value)) {
    Operation *op = result.getOwner();
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return empty;
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
      value = dps.getTiedOpOperand(result)->get();
    else if (auto forall = dyn_cast<scf::ForallOp>(op))
      value = forall.getOutputs()[result.getResultNumber()];
    else if (auto loop = dyn_cast<scf::ForOp>(op))
      value = loop.getInitArgs()[result.getResultNumber()];
    else if (auto call = dyn_cast<func::CallOp>(op); call && !getDestinations(call).empty())
      value = call.getOperand(getDestinations(call)[result.getResultNumber()]);
    else
      return {};
  }
  return {};
}

/// Whether `use` is a destination its owner computes in (not an operand it
/// only reads, such as a pooling op's window).
bool isDestination(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(owner))
    return dps.isDpsInit(&use);
  if (auto forall = dyn_cast<scf::ForallOp>(owner))
    return llvm::is_contained(forall.getOutputsMutable(), use);
  if (auto loop = dyn_cast<scf::ForOp>(owner))
    return llvm::is_contained(loop.getInitArgsMutable(), use);
  if (auto call = dyn_cast<func::CallOp>(owner))
    return llvm::is_contained(getDestinations(call), int64_t(use.getOperandNumber()));
  return false;
}

/// Merges pads of one source by one constant (the phases of a strided
/// transposed convolution each pad the output gradient by their own rows
/// and columns): one pad by the largest padding on each side, of which each
/// takes its part. Only one pad of a source can be computed in place by
/// its producer, so each other one was a copy of the whole source.
void mergeSiblingPads(RewriterBase &rewriter, ArrayRef<tensor::PadOp> pads) {
  llvm::MapVector<std::pair<Value, Attribute>, SmallVector<tensor::PadOp>> groups;
  for (tensor::PadOp pad : pads) {
    Value padValue = pad.getConstantPaddingValue();
    Attribute value;
    if (pad.getResultType().hasStaticShape() && pad.getSourceType().hasStaticShape() &&
        padValue && matchPattern(padValue, m_Constant(&value)) &&
        llvm::none_of(llvm::concat<const int64_t>(pad.getStaticLow(), pad.getStaticHigh()),
                      [](int64_t p) { return ShapedType::isDynamic(p) || p < 0; }))
      groups[{pad.getSource(), value}].push_back(pad);
  }
  for (auto &entry : groups) {
    ArrayRef<tensor::PadOp> group = entry.second;
    if (group.size() < 2 || llvm::any_of(group, [&](tensor::PadOp pad) {
          return pad->getBlock() != group.front()->getBlock();
        }))
      continue;
    tensor::PadOp first = group.front();
    for (tensor::PadOp pad : group)
      if (pad->isBeforeInBlock(first))
        first = pad;
    int64_t rank = first.getResultType().getRank();
    SmallVector<int64_t> low(rank, 0), high(rank, 0), shape(first.getSourceType().getShape());
    for (tensor::PadOp pad : group)
      for (int64_t d = 0; d < rank; ++d) {
        low[d] = std::max(low[d], pad.getStaticLow()[d]);
        high[d] = std::max(high[d], pad.getStaticHigh()[d]);
      }
    for (int64_t d = 0; d < rank; ++d)
      shape[d] += low[d] + high[d];
    rewriter.setInsertionPoint(first);
    auto type = RankedTensorType::get(shape, first.getResultType().getElementType());
    MLIRContext *context = rewriter.getContext();
    auto merged = tensor::PadOp::create(
        rewriter, first.getLoc(), type, first.getSource(), getAsIndexOpFoldResult(context, low),
        getAsIndexOpFoldResult(context, high), first.getConstantPaddingValue(),
        first.getNofold());
    for (tensor::PadOp pad : group) {
      SmallVector<int64_t> offsets;
      for (int64_t d = 0; d < rank; ++d)
        offsets.push_back(low[d] - pad.getStaticLow()[d]);
      rewriter.setInsertionPoint(pad);
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          pad, merged, getAsIndexOpFoldResult(context, offsets),
          getAsIndexOpFoldResult(context, pad.getResultType().getShape()),
          getAsIndexOpFoldResult(context, SmallVector<int64_t>(rank, 1)));
    }
  }
}

/// Rewrites a statically shaped pad with a constant padding value into fills
/// of its border strips and an insertion of its source; others stay.
void rewritePad(RewriterBase &rewriter, DominanceInfo &dominance, tensor::PadOp pad) {
  RankedTensorType sourceType = pad.getSourceType(), resultType = pad.getResultType();
  if (!sourceType.hasStaticShape() || !resultType.hasStaticShape())
    return;
  SmallVector<int64_t> low(pad.getStaticLow()), high(pad.getStaticHigh());
  if (llvm::any_of(llvm::concat<int64_t>(low, high),
                   [](int64_t p) { return ShapedType::isDynamic(p) || p < 0; }))
    return;
  Value padValue = pad.getConstantPaddingValue();
  Attribute padAttr;
  if (!padValue || !matchPattern(padValue, m_Constant(&padAttr)))
    return;

  // Build the padded buffer where the source's own buffer would have been
  // created, so that the source's producer can be given a part of it.
  tensor::EmptyOp sourceEmpty = findDestinationEmpty(pad.getSource());
  if (sourceEmpty && sourceEmpty->getBlock() == pad->getBlock())
    rewriter.setInsertionPoint(sourceEmpty);
  else
    rewriter.setInsertionPoint(pad);
  Location loc = pad.getLoc();
  Value fillValue = padValue;
  if (!dominance.properlyDominates(padValue, &*rewriter.getInsertionPoint()))
    fillValue = rewriter.clone(*padValue.getDefiningOp())->getResult(0);
  Value padded =
      tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                              resultType.getElementType());

  // The border strips: along dim d, its low and high parts, spanning the
  // interior of the dims before d and the whole of the dims after it, so
  // that the strips cover the border once.
  ArrayRef<int64_t> sourceShape = sourceType.getShape(), shape = resultType.getShape();
  int64_t rank = resultType.getRank();
  MLIRContext *context = rewriter.getContext();
  auto indices = [&](ArrayRef<int64_t> values) {
    return getAsIndexOpFoldResult(context, values);
  };
  SmallVector<OpFoldResult> unit = indices(SmallVector<int64_t>(rank, 1));
  SmallVector<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>> strips;
  for (int64_t d = 0; d < rank; ++d) {
    for (auto [start, size] : {std::pair(int64_t(0), low[d]),
                               std::pair(low[d] + sourceShape[d], high[d])}) {
      if (size == 0)
        continue;
      SmallVector<int64_t> offsets(rank, 0), sizes(shape);
      for (int64_t e = 0; e < d; ++e) {
        offsets[e] = low[e];
        sizes[e] = sourceShape[e];
      }
      offsets[d] = start;
      sizes[d] = size;
      strips.emplace_back(offsets, sizes);
    }
  }
  // Strips whose contiguous runs are shorter than a cache line (the
  // columns of a [C, H, W, 1] filter gradient's input: one float a row)
  // write part of a line per run, a miss each; where those runs touch a
  // quarter of the buffer's lines or more, the whole buffer is filled once
  // instead (the interior is then overwritten), which streams whole lines
  // and, between parallel layers, is split across the threads
  // (tessel-copies-to-linalg). A 3x3/2 filter gradient's [128, 57, 57, 1]
  // input (28% of its lines) on two threads: strips 0.047 ms, whole 0.015.
  int64_t elementBytes = std::max<int64_t>(1, resultType.getElementTypeBitWidth() / 8);
  double partialLines = 0;
  for (auto &[offsets, sizes] : strips) {
    int64_t run = 1, elements = 1;
    bool whole = true;
    for (int64_t e = rank - 1; e >= 0; --e) {
      elements *= sizes[e];
      if (whole)
        run *= sizes[e];
      whole &= sizes[e] == shape[e];
    }
    if (run * elementBytes < tessel::kLineBytes)
      partialLines += double(elements / run);
  }
  if (4 * partialLines >=
      double(resultType.getNumElements() * elementBytes) / tessel::kLineBytes) {
    // One fill of the buffer as a vector of its elements (a fill of
    // [C, H, W, 1] as such is scalar loops).
    ReassociationIndices all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, padded,
                                                 ArrayRef<ReassociationIndices>{all});
    flat = linalg::FillOp::create(rewriter, loc, fillValue, flat).getResult(0);
    padded = tensor::ExpandShapeOp::create(rewriter, loc, resultType, flat,
                                           ArrayRef<ReassociationIndices>{all});
    strips.clear();
  }
  for (auto &[offsets, sizes] : strips) {
    Value strip = tensor::ExtractSliceOp::create(rewriter, loc, padded, indices(offsets),
                                                 indices(sizes), unit);
    strip = linalg::FillOp::create(rewriter, loc, fillValue, strip).getResult(0);
    padded = tensor::InsertSliceOp::create(rewriter, loc, strip, padded, indices(offsets),
                                           indices(sizes), unit);
  }
  // The source's producer computes into the interior. Replacing an empty
  // tensor by any other value of its type keeps the meaning (its contents
  // are undefined); bufferization then finds the interior's buffer the same
  // as the padded one's and the insertion below a no-op.
  if (sourceEmpty && sourceEmpty->getBlock() == pad->getBlock()) {
    Value interior = tensor::ExtractSliceOp::create(rewriter, loc, padded, indices(low),
                                                    indices(sourceShape), unit);
    rewriter.replaceOp(sourceEmpty, interior);
  }
  rewriter.setInsertionPoint(pad);
  rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
      pad, pad.getSource(), padded, indices(low), indices(sourceShape), unit);
}

/// Gives the producer of an insertion's source its subset of the insertion's
/// destination when that destination is built from a `tensor.empty` by
/// insertions only (a concatenation, decomposed): the producer then
/// computes straight into the concatenated buffer. A DenseNet block's
/// concatenations chain this way (each one's first input is the previous
/// one), so the whole block shares one buffer and nothing is copied.
///
/// The subset is taken from the value the insertion writes into (the chain
/// so far, the previous insertion moved up to just before the producer's
/// buffer) rather than from the empty itself: one-shot bufferization then
/// sees each write into the buffer as the matching extraction of the
/// insertion that follows it, and keeps every one in place. Where the
/// previous insertion cannot move that far up, the subset is the empty's.
void rewriteInsertion(RewriterBase &rewriter, tensor::InsertSliceOp insert) {
  if (!insert.hasUnitStride() || !insert.getSourceType().hasStaticShape() ||
      llvm::any_of(insert.getStaticOffsets(), ShapedType::isDynamic) ||
      insert.getSourceType().getRank() != insert.getDestType().getRank())
    return;
  // An input that only gains unit dims for its insertion (the phases of a
  // strided transposed convolution, interleaved by concatenations along
  // unit dims after each spatial dim) is inserted as it is, rank-reduced.
  Value source = insert.getSource();
  if (auto expand = source.getDefiningOp<tensor::ExpandShapeOp>();
      expand && expand.getSrcType().hasStaticShape() &&
      llvm::all_of(expand.getReassociationIndices(), [&](const ReassociationIndices &group) {
        return llvm::count_if(group, [&](int64_t d) {
                 return expand.getResultType().getDimSize(d) != 1;
               }) <= 1;
      })) {
    source = expand.getSrc();
  }
  Block *block = insert->getBlock();
  Value root = insert.getDest();
  while (auto previous = root.getDefiningOp<tensor::InsertSliceOp>())
    root = previous.getDest();
  auto destEmpty = root.getDefiningOp<tensor::EmptyOp>();
  tensor::EmptyOp sourceEmpty = findDestinationEmpty(source);
  if (!destEmpty || !sourceEmpty || destEmpty == sourceEmpty ||
      !destEmpty.getType().hasStaticShape() || sourceEmpty->getBlock() != block ||
      destEmpty->getBlock() != block)
    return;
  // The destination's buffer must exist where the source's is created.
  if (sourceEmpty->isBeforeInBlock(destEmpty))
    rewriter.moveOpBefore(destEmpty, sourceEmpty);
  auto definedBefore = [&](Value value, Operation *op) {
    Operation *def = value.getDefiningOp();
    return !def || def->getBlock() != block || def->isBeforeInBlock(op);
  };
  Value base = destEmpty.getResult();
  auto previous = insert.getDest().getDefiningOp<tensor::InsertSliceOp>();
  if (previous && previous->getBlock() == block) {
    bool before = previous->isBeforeInBlock(sourceEmpty);
    if (!before && previous->hasOneUse() && definedBefore(previous.getSource(), sourceEmpty) &&
        definedBefore(previous.getDest(), sourceEmpty)) {
      rewriter.moveOpBefore(previous, sourceEmpty);
      before = true;
    }
    if (before)
      base = previous.getResult();
  }
  rewriter.setInsertionPoint(sourceEmpty);
  Value subset = tensor::ExtractSliceOp::create(
      rewriter, insert.getLoc(), cast<RankedTensorType>(source.getType()), base,
      insert.getMixedOffsets(), insert.getMixedSizes(), insert.getMixedStrides());
  rewriter.replaceOp(sourceEmpty, subset);
  if (source != insert.getSource()) {
    Operation *expand = insert.getSource().getDefiningOp();
    rewriter.setInsertionPoint(insert);
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        insert, source, insert.getDest(), insert.getMixedOffsets(), insert.getMixedSizes(),
        insert.getMixedStrides());
    if (expand->use_empty())
      rewriter.eraseOp(expand);
  }
}

/// Flattens a concatenation of concatenations (the interleaving of a
/// strided transposed convolution's phases: along the unit dim after each
/// spatial dim in turn): where `insert`'s source is a chain of insertions
/// into a `tensor.empty`, used only here, each of them inserts into
/// `insert`'s destination instead, at the sum of the two offsets. Every
/// input is then one insertion into the final buffer, which
/// rewriteInsertion gives its producer. Returns whether it did.
bool flattenInsertion(RewriterBase &rewriter, tensor::InsertSliceOp insert) {
  auto staticUnit = [](tensor::InsertSliceOp op) {
    return op.hasUnitStride() && !llvm::any_of(op.getStaticOffsets(), ShapedType::isDynamic) &&
           !llvm::any_of(op.getStaticSizes(), ShapedType::isDynamic);
  };
  if (!staticUnit(insert) ||
      insert.getSourceType().getRank() != insert.getDestType().getRank())
    return false;
  SmallVector<tensor::InsertSliceOp> chain;
  Value value = insert.getSource();
  while (auto inner = value.getDefiningOp<tensor::InsertSliceOp>()) {
    if (!value.hasOneUse() || !staticUnit(inner) ||
        inner.getSourceType().getRank() != inner.getDestType().getRank())
      return false;
    chain.push_back(inner);
    value = inner.getDest();
  }
  if (chain.empty() || !value.getDefiningOp<tensor::EmptyOp>() || !value.hasOneUse())
    return false;
  ArrayRef<int64_t> outer = insert.getStaticOffsets();
  rewriter.setInsertionPoint(insert);
  Value dest = insert.getDest();
  for (tensor::InsertSliceOp inner : llvm::reverse(chain)) {
    SmallVector<int64_t> offsets;
    for (auto [a, b] : llvm::zip_equal(outer, inner.getStaticOffsets()))
      offsets.push_back(a + b);
    dest = tensor::InsertSliceOp::create(
        rewriter, inner.getLoc(), inner.getSource(), dest,
        getAsIndexOpFoldResult(rewriter.getContext(), offsets), inner.getMixedSizes(),
        inner.getMixedStrides());
  }
  rewriter.replaceOp(insert, dest);
  for (tensor::InsertSliceOp inner : chain)
    rewriter.eraseOp(inner);
  rewriter.eraseOp(value.getDefiningOp());
  return true;
}

struct PadInPlacePass : tessel::impl::TesselPadInPlaceBase<PadInPlacePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    // One empty per destination it is, just before the op computing in it.
    SmallVector<tensor::EmptyOp> shared;
    func.walk([&](tensor::EmptyOp empty) {
      if (!empty->hasOneUse() && !empty->use_empty())
        shared.push_back(empty);
    });
    for (tensor::EmptyOp empty : shared) {
      for (OpOperand &use : llvm::make_early_inc_range(empty->getUses())) {
        if (!isDestination(use) || empty->hasOneUse())
          continue;
        rewriter.setInsertionPoint(use.getOwner());
        use.set(rewriter.clone(*empty)->getResult(0));
      }
    }

    SmallVector<tensor::PadOp> pads;
    func.walk([&](tensor::PadOp pad) { pads.push_back(pad); });
    mergeSiblingPads(rewriter, pads);
    pads.clear();
    func.walk([&](tensor::PadOp pad) { pads.push_back(pad); });
    DominanceInfo dominance(func);
    for (tensor::PadOp pad : pads)
      rewritePad(rewriter, dominance, pad);

    // Concatenations of concatenations flattened, innermost first.
    for (bool changed = true; changed;) {
      changed = false;
      SmallVector<tensor::InsertSliceOp> outer;
      func.walk([&](tensor::InsertSliceOp insert) { outer.push_back(insert); });
      for (tensor::InsertSliceOp insert : outer)
        if (flattenInsertion(rewriter, insert)) {
          changed = true;
          break;
        }
    }

    SmallVector<tensor::InsertSliceOp> insertions;
    func.walk([&](tensor::InsertSliceOp insert) { insertions.push_back(insert); });
    for (tensor::InsertSliceOp insert : insertions)
      rewriteInsertion(rewriter, insert);

    // A value computed in an empty and then collapsed (the interleaved
    // phases, [N, H, 2, W, 2, C] -> [N, 2H, 2W, C]) is computed in the
    // expansion of an empty of the collapsed shape instead: the collapse is
    // then the buffer itself, and a function result needs no copy into
    // the caller's buffer.
    SmallVector<tensor::CollapseShapeOp> collapses;
    func.walk([&](tensor::CollapseShapeOp collapse) { collapses.push_back(collapse); });
    for (tensor::CollapseShapeOp collapse : collapses) {
      tensor::EmptyOp empty = findDestinationEmpty(collapse.getSrc());
      if (!empty || !empty.getType().hasStaticShape() ||
          !collapse.getResultType().hasStaticShape())
        continue;
      rewriter.setInsertionPoint(empty);
      Value flat = tensor::EmptyOp::create(rewriter, empty.getLoc(),
                                           collapse.getResultType().getShape(),
                                           empty.getType().getElementType());
      rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
          empty, empty.getType(), flat, collapse.getReassociationIndices());
    }
  }
};

} // namespace
