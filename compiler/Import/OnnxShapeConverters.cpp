//===- OnnxShapeConverters.cpp - Shapes, slices, gathers and constants ----===//
//
// Reshape-like ops, Transpose, Concat, Slice, Split, Gather, Constant and
// the shape ops folded at import (Shape, ConstantOfShape, Range).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporterImpl.h"

#include <cmath>
#include <numeric>

using namespace tessel;
using namespace tessel::detail;

namespace tessel::detail::importer {

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

/// A negative axis counts from the end; `inclusiveEnd` also accepts `rank`
/// itself (Flatten's axis).
Result<int64_t> normalizeAxis(int64_t axis, int64_t rank, bool inclusiveEnd) {
  int64_t high = rank + (inclusiveEnd ? 1 : 0);
  if (axis < -rank || axis >= high)
    return Result<int64_t>::error("axis " + std::to_string(axis) + " is out of range for rank " +
                                  std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

/// Flatten, Reshape, Squeeze, Unsqueeze: a new shape for the same elements.
Status Importer::convertReshapeLike(llvm::StringRef opType) {
  auto x = operand(0);
  if (!x)
    return x.status();
  const Shape &in = x->shape;
  int64_t rank = static_cast<int64_t>(in.size());
  Shape out;
  auto axesOf = [&](int inputIndex) -> Result<std::vector<int64_t>> {
    if (opset >= 13) {
      if (!hasInput(inputIndex))
        return std::vector<int64_t>();
      return intsInput(inputIndex, "axes");
    }
    return intsAttr("axes").value_or(std::vector<int64_t>());
  };
  if (opType == "Flatten") {
    auto axis = normalizeAxis(intAttr("axis", 1), rank, /*inclusiveEnd=*/true);
    if (!axis)
      return failAttribute("axis", axis.message());
    out = {product(llvm::ArrayRef(in).take_front(*axis)),
           product(llvm::ArrayRef(in).drop_front(*axis))};
  } else if (opType == "Reshape") {
    auto shape = intsInput(1, "shape");
    if (!shape)
      return shape.status();
    bool allowZero = intAttr("allowzero", 0) != 0;
    int64_t inferred = -1, known = 1;
    for (auto [i, d] : llvm::enumerate(*shape)) {
      if (d == 0 && !allowZero) {
        if (i >= in.size())
          return fail("shape entry #" + std::to_string(i) + " is 0 (copy), beyond the input rank");
        d = in[i];
      }
      if (d == -1) {
        if (inferred >= 0)
          return fail("shape " + formatShape(*shape) + " has more than one -1");
        inferred = static_cast<int64_t>(i);
      } else if (d < 0) {
        return fail("shape " + formatShape(*shape) + " has a negative entry");
      } else {
        known *= d;
      }
      out.push_back(d);
    }
    if (inferred >= 0) {
      if (known == 0 || product(in) % known != 0)
        return fail("cannot reshape " + formatShape(in) + " to " + formatShape(*shape));
      out[inferred] = product(in) / known;
    }
  } else if (opType == "Squeeze") {
    auto axes = axesOf(1);
    if (!axes)
      return axes.status();
    std::set<int64_t> drop;
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, rank);
      if (!axis)
        return fail(axis.message());
      if (in[*axis] != 1)
        return fail("cannot squeeze dim " + std::to_string(*axis) + " of size " +
                    std::to_string(in[*axis]));
      drop.insert(*axis);
    }
    for (int64_t d = 0; d < rank; ++d)
      if (!(axes->empty() ? in[d] == 1 : drop.count(d) > 0))
        out.push_back(in[d]);
  } else { // Unsqueeze
    auto axes = axesOf(1);
    if (!axes)
      return axes.status();
    int64_t outRank = rank + static_cast<int64_t>(axes->size());
    std::set<int64_t> insert;
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, outRank);
      if (!axis)
        return fail(axis.message());
      insert.insert(*axis);
    }
    for (int64_t d = 0, next = 0; d < outRank; ++d)
      out.push_back(insert.count(d) ? 1 : in[next++]);
  }
  if (product(out) != product(in))
    return fail("cannot reshape " + formatShape(in) + " to " + formatShape(out));
  if (x->constant) {
    OnnxTensor r = *x->constant;
    r.shape = out;
    return setOutput(0, std::move(r));
  }
  auto y = reshape(x->value, out);
  return setOutput(0, y);
}

Status Importer::convertTranspose() {
  auto e = entry(0);
  if (!e)
    return e.status();
  Shape in = (*e)->constant ? (*e)->constant->shape : shapeOf((*e)->value);
  std::vector<int64_t> perm(in.size());
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = intsAttr("perm"))
    perm = *p;
  auto value = input(0);
  if (!value)
    return value.status();
  auto y = transpose(*value, perm);
  return setOutput(0, y);
}

Status Importer::convertConcat() {
  const onnx::AttributeProto *axisAttr = attribute("axis");
  if (!axisAttr)
    return failAttribute("axis", "is required");
  int64_t axis = axisAttr->i();
  // Constants (not weights) of one element kind are concatenated here:
  // shape vectors, Resize's scales.
  bool allConstant = true;
  std::vector<ConstPtr> constants;
  for (int i = 0; i < numInputs(); ++i) {
    auto c = isWeight(i) ? Result<ConstPtr>(ConstPtr()) : constantInput(i);
    if (!c)
      return c.status();
    allConstant &= *c != nullptr &&
                   (constants.empty() || (*c)->isFloat == constants.front()->isFloat);
    if (!allConstant)
      break;
    constants.push_back(*c);
  }
  if (allConstant && !constants.empty()) {
    Shape shape = constants.front()->shape;
    auto a = normalizeAxis(axis, static_cast<int64_t>(shape.size()));
    if (!a)
      return failAttribute("axis", a.message());
    int64_t outer = product(llvm::ArrayRef(shape).take_front(*a));
    OnnxTensor r = scalarInts({}, shape);
    r.isFloat = constants.front()->isFloat;
    r.shape[*a] = 0;
    for (const ConstPtr &c : constants) {
      if (c->shape.size() != shape.size())
        return fail("inputs have different ranks");
      r.shape[*a] += c->shape[*a];
    }
    for (int64_t o = 0; o < outer; ++o)
      for (const ConstPtr &c : constants) {
        int64_t chunk = c->numElements() / std::max<int64_t>(outer, 1);
        if (c->isFloat)
          r.floats.insert(r.floats.end(), c->floats.begin() + o * chunk,
                          c->floats.begin() + (o + 1) * chunk);
        else
          r.ints.insert(r.ints.end(), c->ints.begin() + o * chunk,
                        c->ints.begin() + (o + 1) * chunk);
      }
    return setOutput(0, std::move(r));
  }
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < numInputs(); ++i) {
    auto v = input(i);
    if (!v)
      return v.status();
    operands.push_back(*v);
  }
  mt::ConcatOp::Properties p;
  p.setAxis(i64(axis));
  auto y = build1<mt::ConcatOp>(operands, p);
  return setOutput(0, y);
}

/// Slice with ONNX's clamping rules, on constants (shape vectors) or as a
/// tessel.slice.
Status Importer::convertSlice() {
  auto x = operand(0);
  if (!x)
    return x.status();
  ConstPtr constant = x->constant;
  const Shape &in = x->shape;
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = intsAttr("starts").value_or(std::vector<int64_t>());
    ends = intsAttr("ends").value_or(std::vector<int64_t>());
    axes = intsAttr("axes").value_or(std::vector<int64_t>());
  } else {
    auto s = intsInput(1, "starts");
    if (!s)
      return s.status();
    starts = *s;
    auto en = intsInput(2, "ends");
    if (!en)
      return en.status();
    ends = *en;
    if (hasInput(3)) {
      auto a = intsInput(3, "axes");
      if (!a)
        return a.status();
      axes = *a;
    }
    if (hasInput(4)) {
      auto st = intsInput(4, "steps");
      if (!st)
        return st.status();
      steps = *st;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return fail("starts, ends, axes and steps must have the same length");
  Shape offsets(rank, 0), sizes(in), strides(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto axis = normalizeAxis(axes[i], rank);
    if (!axis)
      return fail(axis.message());
    int64_t dim = in[*axis], step = steps[i];
    if (step == 0)
      return fail("step of axis " + std::to_string(*axis) + " is 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      sizes[*axis] = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      sizes[*axis] = start > end ? (start - end - step - 1) / -step : 0;
    }
    offsets[*axis] = sizes[*axis] > 0 ? start : 0;
    strides[*axis] = step;
  }
  if (constant) {
    // Walk the result's elements and pick each from the input.
    OnnxTensor r = *constant;
    r.shape = sizes;
    r.floats.clear();
    r.ints.clear();
    Shape inStrides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      inStrides[d] = inStrides[d + 1] * in[d + 1];
    for (int64_t i = 0, n = product(sizes); i < n; ++i) {
      int64_t rest = i, index = 0;
      for (int64_t d = rank - 1; d >= 0; --d) {
        int64_t coord = rest % sizes[d];
        rest /= sizes[d];
        index += (offsets[d] + coord * strides[d]) * inStrides[d];
      }
      if (r.isFloat)
        r.floats.push_back(constant->floats[index]);
      else
        r.ints.push_back(constant->ints[index]);
    }
    return setOutput(0, std::move(r));
  }
  auto y = slice(x->value, offsets, sizes, strides);
  return setOutput(0, y);
}

Status Importer::convertSplit() {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  auto axis = normalizeAxis(intAttr("axis", 0), static_cast<int64_t>(xs.size()));
  if (!axis)
    return failAttribute("axis", axis.message());
  std::vector<int64_t> parts;
  if (opset >= 13 && hasInput(1)) {
    auto s = intsInput(1, "split");
    if (!s)
      return s.status();
    parts = *s;
  } else if (auto s = intsAttr("split")) {
    parts = *s;
  }
  int outputs = node->output_size();
  if (parts.empty() && opset >= 18) {
    // Opset 18: num_outputs parts of ceil(dim / num_outputs), the last smaller.
    const onnx::AttributeProto *n = attribute("num_outputs");
    if (!n)
      return failAttribute("num_outputs", "is required without input 'split'");
    if (n->i() != outputs)
      return failAttribute("num_outputs", "(" + std::to_string(n->i()) + ") must equal the " +
                                              std::to_string(outputs) + " outputs");
    int64_t part = llvm::divideCeil(xs[*axis], outputs);
    for (int64_t left = xs[*axis]; left > 0; left -= part)
      parts.push_back(std::min(part, left));
  }
  if (parts.empty()) {
    if (xs[*axis] % outputs != 0)
      return fail("dim " + std::to_string(*axis) + " (" + std::to_string(xs[*axis]) +
                  ") does not split into " + std::to_string(outputs) + " equal parts");
    parts.assign(outputs, xs[*axis] / outputs);
  }
  if (static_cast<int>(parts.size()) != outputs ||
      std::accumulate(parts.begin(), parts.end(), int64_t{0}) != xs[*axis])
    return fail("split " + formatShape(parts) + " does not cover dim " +
                std::to_string(*axis) + " (" + std::to_string(xs[*axis]) + ") with " +
                std::to_string(outputs) + " outputs");
  int64_t offset = 0;
  for (int i = 0; i < outputs; ++i) {
    Shape offsets(xs.size(), 0), sizes(xs), strides(xs.size(), 1);
    offsets[*axis] = offset;
    sizes[*axis] = parts[i];
    offset += parts[i];
    if (!outputUsed(i))
      continue;
    auto y = slice(*x, offsets, sizes, strides);
    if (!y)
      return y.status();
    if (Status s = setOutput(i, *y); !s)
      return s;
  }
  return Status();
}

Status Importer::convertGather() {
  auto x = operand(0);
  if (!x)
    return x.status();
  auto indices = requireConstant(1, "indices");
  if (!indices)
    return indices.status();
  if ((*indices)->isFloat)
    return fail("input 'indices' must hold integers");
  ConstPtr data = x->constant;
  const Shape &in = x->shape;
  auto axis = normalizeAxis(intAttr("axis", 0), static_cast<int64_t>(in.size()));
  if (!axis)
    return failAttribute("axis", axis.message());
  int64_t dim = in[*axis];
  for (int64_t i : (*indices)->ints)
    if (i < -dim || i >= dim)
      return fail("index " + std::to_string(i) + " is outside [" + std::to_string(-dim) +
                  ", " + std::to_string(dim) + ") along axis " + std::to_string(*axis));
  if (data) {
    OnnxTensor r = *data;
    r.floats.clear();
    r.ints.clear();
    r.shape = Shape(in.begin(), in.begin() + *axis);
    llvm::append_range(r.shape, (*indices)->shape);
    r.shape.insert(r.shape.end(), in.begin() + *axis + 1, in.end());
    int64_t outer = product(llvm::ArrayRef(in).take_front(*axis));
    int64_t inner = product(llvm::ArrayRef(in).drop_front(*axis + 1));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t index : (*indices)->ints) {
        int64_t base = (o * dim + (index < 0 ? index + dim : index)) * inner;
        for (int64_t k = 0; k < inner; ++k) {
          if (r.isFloat)
            r.floats.push_back(data->floats[base + k]);
          else
            r.ints.push_back(data->ints[base + k]);
        }
      }
    return setOutput(0, std::move(r));
  }
  mt::GatherOp::Properties p;
  p.setAxis(i64(*axis));
  auto y = build1<mt::GatherOp>({x->value, materialize(**indices)}, p);
  return setOutput(0, y);
}

Status Importer::convertConstant() {
  if (const onnx::AttributeProto *a = attribute("value")) {
    auto t = readOnnxTensor(a->t(), "attribute 'value'");
    if (!t)
      return fail(t.message());
    return setOutput(0, std::move(*t));
  }
  if (const onnx::AttributeProto *a = attribute("value_float")) {
    OnnxTensor t;
    t.floats = {a->f()};
    return setOutput(0, std::move(t));
  }
  if (const onnx::AttributeProto *a = attribute("value_floats")) {
    OnnxTensor t;
    t.floats.assign(a->floats().begin(), a->floats().end());
    t.shape = {static_cast<int64_t>(t.floats.size())};
    return setOutput(0, std::move(t));
  }
  if (const onnx::AttributeProto *a = attribute("value_int"))
    return setOutput(0, scalarInts({a->i()}, {}));
  if (const onnx::AttributeProto *a = attribute("value_ints")) {
    std::vector<int64_t> v(a->ints().begin(), a->ints().end());
    Shape shape = {static_cast<int64_t>(v.size())};
    return setOutput(0, scalarInts(std::move(v), shape));
  }
  return fail("needs one of the attributes value, value_float(s), value_int(s) "
              "(sparse and string values are not supported)");
}

/// Dropout in inference is the identity; its mask output is refused.
Status Importer::convertDropout() {
  intAttr("is_test", 1); // opsets before 7
  if (opset < 12)
    floatAttr("ratio", 0.5);
  intAttr("seed", 0);
  if (outputUsed(1))
    return fail("the mask output is not supported");
  if (opset >= 12 && hasInput(2)) {
    auto training = requireConstant(2, "training_mode");
    if (!training)
      return training.status();
    if (!(*training)->ints.empty() && (*training)->ints[0] != 0)
      return fail("training_mode = true is not supported (inference only)");
  }
  return convertIdentity();
}

/// The output is the input (Identity, and Dropout in inference).
Status Importer::convertIdentity() {
  auto e = entry(0);
  if (!e)
    return e.status();
  values[node->output(0)] = **e;
  return Status();
}

/// Shape: always known at import.
Status Importer::convertShape() {
  auto e = entry(0);
  if (!e)
    return e.status();
  Shape in = (*e)->constant ? (*e)->constant->shape : shapeOf((*e)->value);
  int64_t rank = static_cast<int64_t>(in.size());
  int64_t start = intAttr("start", 0), end = intAttr("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  std::vector<int64_t> dims(in.begin() + start, in.begin() + std::max(start, end));
  Shape shape = {static_cast<int64_t>(dims.size())};
  return setOutput(0, scalarInts(std::move(dims), shape));
}

/// Expand of a run-time tensor: x times ones of the broadcast shape (exact:
/// x * 1 is x, signed zeros, infinities and NaNs included), so the
/// broadcasting multiply does the work and its gradient sums back.
Status Importer::convertExpand() {
  auto x = input(0);
  if (!x)
    return x.status();
  auto shape = intsInput(1, "shape");
  if (!shape)
    return shape.status();
  if (llvm::any_of(*shape, [](int64_t d) { return d < 0; }))
    return fail("input 'shape' " + formatShape(*shape) + " has a negative entry");
  Shape in = shapeOf(*x);
  auto broadcast = broadcastShapes({in, *shape});
  if (!broadcast)
    return fail("cannot expand " + formatShape(in) + " to " + formatShape(*shape) + ": " +
                broadcast.message());
  return setOutput(0, expandTo(*x, *broadcast));
}

Result<Value> Importer::expandTo(Value x, const Shape &shape) {
  if (shapeOf(x) == shape)
    return x;
  auto type = mlir::RankedTensorType::get(shape, builder.getF32Type());
  if (!mt::fitsInMemory(type))
    return fail("the expanded shape " + formatShape(shape) + " is too large");
  Value ones = mt::ConstantOp::create(
      builder, loc, mlir::DenseElementsAttr::get(type, builder.getF32FloatAttr(1.0f)));
  return build1<mt::MulOp>({x, ones});
}

/// Where of run-time tensors under a constant condition: X and Y broadcast
/// to the result, flattened and concatenated, and a gather picks each
/// element from one of them: exact for every value (a blend by a mask
/// would turn inf into NaN) and differentiable.
Status Importer::convertWhere() {
  auto condition = constantInput(0);
  if (!condition)
    return condition.status();
  if (!*condition)
    return fail("input 'condition' must be a constant (an initializer or computed from "
                "constants); Where of a run-time condition is not supported");
  const OnnxTensor &c = **condition;
  auto x = input(1);
  if (!x)
    return x.status();
  auto y = input(2);
  if (!y)
    return y.status();
  auto out = broadcastShapes({c.shape, shapeOf(*x), shapeOf(*y)});
  if (!out)
    return fail(out.message());
  int64_t n = product(*out);
  if (n > kMaxEvaluatedElements)
    return fail("the result " + formatShape(*out) + " of a constant condition is too large "
                "(more than " + std::to_string(kMaxEvaluatedElements) + " elements)");
  // Which of X (index i) and Y (n + i) each element of the result takes.
  std::vector<int64_t> pick(n);
  size_t rank = out->size(), offset = rank - c.shape.size();
  bool anyX = false, anyY = false;
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, at = 0, stride = 1;
    for (size_t d = rank; d-- > 0;) {
      int64_t coordinate = rest % (*out)[d];
      rest /= (*out)[d];
      if (d >= offset) {
        if (c.shape[d - offset] != 1)
          at += coordinate * stride;
        stride *= c.shape[d - offset];
      }
    }
    bool takeX = c.isFloat ? c.floats[at] != 0.0 : c.ints[at] != 0;
    anyX |= takeX;
    anyY |= !takeX;
    pick[i] = takeX ? i : n + i;
  }
  auto xb = expandTo(*x, *out);
  if (!xb || !anyY)
    return setOutput(0, xb);
  auto yb = expandTo(*y, *out);
  if (!yb || !anyX)
    return setOutput(0, yb);
  auto xFlat = reshape(*xb, {n});
  if (!xFlat)
    return xFlat.status();
  auto yFlat = reshape(*yb, {n});
  if (!yFlat)
    return yFlat.status();
  mt::ConcatOp::Properties concat;
  concat.setAxis(i64(0));
  auto both = build1<mt::ConcatOp>({*xFlat, *yFlat}, concat);
  if (!both)
    return both.status();
  mt::GatherOp::Properties gather;
  gather.setAxis(i64(0));
  return setOutput(
      0, build1<mt::GatherOp>({*both, materialize(scalarInts(std::move(pick), *out))}, gather));
}

/// Tile of a run-time tensor: along each dim, `repeats` copies concatenated.
Status Importer::convertTile() {
  auto x = input(0);
  if (!x)
    return x.status();
  auto repeats = intsInput(1, "repeats");
  if (!repeats)
    return repeats.status();
  Shape in = shapeOf(*x);
  if (repeats->size() != in.size())
    return fail("input 'repeats' has " + std::to_string(repeats->size()) +
                " entries; the input has rank " + std::to_string(in.size()));
  Value y = *x;
  for (auto [axis, count] : llvm::enumerate(*repeats)) {
    if (count < 1 || count > 4096)
      return fail("repeat " + std::to_string(count) + " of dim " + std::to_string(axis) +
                  " is not in [1, 4096]");
    if (count == 1)
      continue;
    mt::ConcatOp::Properties p;
    p.setAxis(i64(static_cast<int64_t>(axis)));
    auto tiled = build1<mt::ConcatOp>(llvm::SmallVector<Value>(count, y), p);
    if (!tiled)
      return tiled.status();
    y = *tiled;
  }
  return setOutput(0, y);
}

/// Cast of a run-time tensor: only to a float type (the evaluator casts
/// constants).
Status Importer::convertCast() {
  const onnx::AttributeProto *to = attribute("to");
  if (!to)
    return failAttribute("to", "is required");
  intAttr("saturate", 1); // opset 19: for float8 targets only
  bool toFloat = to->i() == onnx::TensorProto::FLOAT ||
                 to->i() == onnx::TensorProto::DOUBLE ||
                 to->i() == onnx::TensorProto::FLOAT16;
  if (!toFloat)
    return fail(std::string("casting a run-time tensor to ") + dataTypeName(to->i()) +
                " is not supported; Tessel computes in float32");
  return convertIdentity();
}

Status Importer::convertConstantOfShape() {
  auto shape = intsInput(0, "input");
  if (!shape)
    return shape.status();
  for (int64_t d : *shape)
    if (d < 0)
      return fail("shape " + formatShape(*shape) + " has a negative entry");
  OnnxTensor r;
  r.shape = *shape;
  r.floats.assign(product(*shape), 0.0);
  if (const onnx::AttributeProto *a = attribute("value")) {
    auto v = readOnnxTensor(a->t(), "attribute 'value'");
    if (!v)
      return fail(v.message());
    if (v->numElements() != 1)
      return failAttribute("value", "must hold one element");
    r.isFloat = v->isFloat;
    if (v->isFloat) {
      r.floats.assign(product(*shape), v->floats[0]);
    } else {
      r.floats.clear();
      r.ints.assign(product(*shape), v->ints[0]);
    }
  }
  return setOutput(0, std::move(r));
}

Status Importer::convertRange() {
  ConstPtr c[3];
  for (int i = 0; i < 3; ++i) {
    auto v = requireConstant(i, i == 0 ? "start" : i == 1 ? "limit" : "delta");
    if (!v)
      return v.status();
    if ((*v)->numElements() != 1)
      return fail("start, limit and delta must be scalars");
    c[i] = *v;
  }
  auto get = [&](int i) {
    return c[i]->isFloat ? c[i]->floats[0] : static_cast<double>(c[i]->ints[0]);
  };
  double start = get(0), limit = get(1), delta = get(2);
  if (delta == 0)
    return fail("delta is 0");
  double steps = std::ceil((limit - start) / delta);
  if (!std::isfinite(steps) || steps > double(int64_t{1} << 26))
    return fail("the range has more than 2^26 elements");
  int64_t count = std::max<int64_t>(0, static_cast<int64_t>(steps));
  OnnxTensor r;
  r.isFloat = c[0]->isFloat;
  r.shape = {count};
  for (int64_t i = 0; i < count; ++i) {
    if (r.isFloat)
      r.floats.push_back(start + i * delta);
    else
      r.ints.push_back(static_cast<int64_t>(start) + i * static_cast<int64_t>(delta));
  }
  return setOutput(0, std::move(r));
}

} // namespace tessel::detail::importer
