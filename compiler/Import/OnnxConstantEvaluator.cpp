//===- OnnxConstantEvaluator.cpp - Nodes of constants evaluated at import -===//
//
// Exporters compute shapes, pads and scales with subgraphs of constants
// (PyTorch's reflection pads: ConstantOfShape -> Concat -> Reshape -> Slice
// with step -1 -> Transpose -> Reshape -> Cast -> Pad). A node whose inputs
// are all import-time constants is evaluated here, in ONNX's shape types
// (integers and booleans exactly as int64, floats rounded to float32 after
// each op), whatever path the exporter took. Three primitives do the work:
// an element map with numpy broadcasting (arithmetic, comparisons, logic,
// Where, Cast), an index map (Transpose, Expand, Tile, GatherElements) and
// a reduction. The converters of the ops that change only a tensor's shape
// or pick its elements by constant geometry (Reshape, Squeeze, Slice,
// Gather, Concat, Shape, Range, ConstantOfShape) fold constants themselves.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporterImpl.h"

#include <cmath>
#include <functional>

using namespace tessel;
using namespace tessel::detail;

namespace tessel::detail::importer {

namespace {

/// Row-major strides of `shape`.
Shape stridesOf(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// Calls `f(i, index)` for every element of `shape` in row-major order,
/// `index` being its coordinates.
void forEachIndex(const Shape &shape, const std::function<void(int64_t, const Shape &)> &f) {
  int64_t n = product(shape);
  Shape index(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, index);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
}

/// An empty tensor of `like`'s element kind and shape `shape`.
OnnxTensor emptyLike(const OnnxTensor &like, Shape shape) {
  OnnxTensor r;
  r.isFloat = like.isFloat;
  r.shape = std::move(shape);
  return r;
}

/// Appends element `i` of `from` to `to` (same element kind).
void copyElement(const OnnxTensor &from, int64_t i, OnnxTensor &to) {
  if (from.isFloat)
    to.floats.push_back(from.floats[i]);
  else
    to.ints.push_back(from.ints[i]);
}

/// `v` toward zero, as a C cast, when it is an int64.
std::optional<int64_t> toInt64(double v) {
  if (!(std::fabs(v) < 9.2e18)) // also NaN
    return std::nullopt;
  return static_cast<int64_t>(v);
}

double asDouble(const OnnxTensor &t, int64_t i) {
  return t.isFloat ? t.floats[i] : static_cast<double>(t.ints[i]);
}

/// An element map's operation: on int64 when every operand holds integers,
/// else on doubles whose result is rounded to float32. `boolResult` ops
/// (comparisons, logic) produce integers 0/1 either way.
using IntFn = std::function<Result<int64_t>(llvm::ArrayRef<int64_t>)>;

struct ElementOp {
  IntFn ints; // null: not defined on integers
  std::function<double(llvm::ArrayRef<double>)> floats;
  bool boolResult = false;
};

ElementOp binary(std::function<int64_t(int64_t, int64_t)> i,
                 std::function<double(double, double)> f, bool boolResult = false) {
  return {[i](llvm::ArrayRef<int64_t> a) -> Result<int64_t> { return i(a[0], a[1]); },
          [f](llvm::ArrayRef<double> a) { return f(a[0], a[1]); }, boolResult};
}

/// An integer op that reports overflow (`f` returns true then), on one
/// operand or two.
ElementOp checked(bool (*f)(int64_t, int64_t, int64_t *), double (*g)(double, double)) {
  return {[f](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
            int64_t r;
            if (f(a[0], a.size() > 1 ? a[1] : 0, &r))
              return Result<int64_t>::error("integer overflow");
            return r;
          },
          [g](llvm::ArrayRef<double> a) { return g(a[0], a.size() > 1 ? a[1] : 0.0); }};
}

ElementOp unary(std::function<int64_t(int64_t)> i, std::function<double(double)> f) {
  return {i ? IntFn([i](llvm::ArrayRef<int64_t> a) -> Result<int64_t> { return i(a[0]); })
            : IntFn(),
          [f](llvm::ArrayRef<double> a) { return f(a[0]); }};
}

/// A fold of every operand (variadic Min, Max, Sum).
ElementOp variadic(std::function<int64_t(int64_t, int64_t)> i,
                   std::function<double(double, double)> f) {
  return {[i](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
            int64_t r = a[0];
            for (int64_t v : a.drop_front())
              r = i(r, v);
            return r;
          },
          [f](llvm::ArrayRef<double> a) {
            double r = a[0];
            for (double v : a.drop_front())
              r = f(r, v);
            return r;
          }};
}

/// The element maps, by op type.
const std::map<std::string, ElementOp> &elementOps() {
  static const std::map<std::string, ElementOp> ops = [] {
    std::map<std::string, ElementOp> m;
    m["Add"] = checked([](int64_t x, int64_t y, int64_t *r) {
      return __builtin_add_overflow(x, y, r);
    }, [](double x, double y) { return x + y; });
    m["Sub"] = checked([](int64_t x, int64_t y, int64_t *r) {
      return __builtin_sub_overflow(x, y, r);
    }, [](double x, double y) { return x - y; });
    m["Mul"] = checked([](int64_t x, int64_t y, int64_t *r) {
      return __builtin_mul_overflow(x, y, r);
    }, [](double x, double y) { return x * y; });
    m["Div"] = {[](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
                  if (a[1] == 0)
                    return Result<int64_t>::error("integer division by zero");
                  if (a[1] == -1 && a[0] == INT64_MIN)
                    return Result<int64_t>::error("integer overflow");
                  return a[0] / a[1]; // ONNX Runtime's: truncating
                },
                [](llvm::ArrayRef<double> a) { return a[0] / a[1]; }};
    m["Mod"] = {[](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
                  if (a[1] == 0)
                    return Result<int64_t>::error("integer modulo by zero");
                  if (a[1] == -1)
                    return 0;
                  int64_t r = a[0] % a[1]; // Python's: the sign of the divisor
                  return r != 0 && ((r < 0) != (a[1] < 0)) ? r + a[1] : r;
                },
                [](llvm::ArrayRef<double> a) { return std::fmod(a[0], a[1]); }};
    m["Pow"] = {[](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
                  std::optional<int64_t> r =
                      toInt64(std::pow(static_cast<double>(a[0]), static_cast<double>(a[1])));
                  if (!r)
                    return Result<int64_t>::error("an integer power is out of range");
                  return *r;
                },
                [](llvm::ArrayRef<double> a) { return std::pow(a[0], a[1]); }};
    m["Equal"] = binary(std::equal_to<int64_t>(), std::equal_to<double>(), true);
    m["Less"] = binary(std::less<int64_t>(), std::less<double>(), true);
    m["LessOrEqual"] = binary(std::less_equal<int64_t>(), std::less_equal<double>(), true);
    m["Greater"] = binary(std::greater<int64_t>(), std::greater<double>(), true);
    m["GreaterOrEqual"] =
        binary(std::greater_equal<int64_t>(), std::greater_equal<double>(), true);
    m["And"] = binary([](int64_t x, int64_t y) { return x && y; },
                      [](double x, double y) { return x != 0 && y != 0; }, true);
    m["Or"] = binary([](int64_t x, int64_t y) { return x || y; },
                     [](double x, double y) { return x != 0 || y != 0; }, true);
    m["Xor"] = binary([](int64_t x, int64_t y) { return (x != 0) != (y != 0); },
                      [](double x, double y) { return (x != 0) != (y != 0); }, true);
    m["Not"] = {[](llvm::ArrayRef<int64_t> a) -> Result<int64_t> { return a[0] == 0; },
                [](llvm::ArrayRef<double> a) { return a[0] == 0 ? 1.0 : 0.0; }, true};
    m["Neg"] = checked([](int64_t x, int64_t, int64_t *r) {
      return __builtin_sub_overflow(int64_t{0}, x, r);
    }, [](double x, double) { return -x; });
    m["Abs"] = checked([](int64_t x, int64_t, int64_t *r) {
      return x < 0 ? __builtin_sub_overflow(int64_t{0}, x, r) : (*r = x, false);
    }, [](double x, double) { return std::fabs(x); });
    m["Sign"] = unary([](int64_t x) -> int64_t { return (x > 0) - (x < 0); },
                      [](double x) { return static_cast<double>((x > 0) - (x < 0)); });
    m["Relu"] = unary([](int64_t x) { return std::max<int64_t>(x, 0); },
                      [](double x) { return std::max(x, 0.0); });
    m["Floor"] = unary(nullptr, [](double x) { return std::floor(x); });
    m["Ceil"] = unary(nullptr, [](double x) { return std::ceil(x); });
    m["Round"] = unary(nullptr, [](double x) { return std::nearbyint(x); });
    m["Sqrt"] = unary(nullptr, [](double x) { return std::sqrt(x); });
    m["Reciprocal"] = unary(nullptr, [](double x) { return 1.0 / x; });
    m["Exp"] = unary(nullptr, [](double x) { return std::exp(x); });
    m["Log"] = unary(nullptr, [](double x) { return std::log(x); });
    m["Min"] = variadic([](int64_t x, int64_t y) { return std::min(x, y); },
                        [](double x, double y) { return std::fmin(x, y); });
    m["Max"] = variadic([](int64_t x, int64_t y) { return std::max(x, y); },
                        [](double x, double y) { return std::fmax(x, y); });
    m["Sum"] = {[](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
                  int64_t r = a[0];
                  for (int64_t v : a.drop_front())
                    if (__builtin_add_overflow(r, v, &r))
                      return Result<int64_t>::error("integer overflow");
                  return r;
                },
                [](llvm::ArrayRef<double> a) {
                  double r = a[0];
                  for (double v : a.drop_front())
                    r += v;
                  return r;
                }};
    return m;
  }();
  return ops;
}

/// The ops evaluated by the index maps, Cast, Where, Size and reductions.
const std::set<std::string> &otherOps() {
  static const std::set<std::string> ops = {"Transpose", "Expand", "Tile", "GatherElements",
                                            "Where", "Cast", "Size", "ReduceProd",
                                            "ReduceSum", "ReduceMin", "ReduceMax",
                                            "ReduceMean", "ReduceSumSquare", "ReduceL1",
                                            "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"};
  return ops;
}

} // namespace

bool Importer::isEvaluable(const std::string &opType) {
  return elementOps().count(opType) || otherOps().count(opType);
}

Result<Shape> broadcastShapes(llvm::ArrayRef<Shape> shapes) {
  size_t rank = 0;
  for (const Shape &s : shapes)
    rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape &s : shapes)
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &o = out[rank - s.size() + i];
      if (s[i] == o || s[i] == 1)
        continue;
      if (o != 1)
        return Result<Shape>::error("shapes " + formatShape(s) + " and " + formatShape(out) +
                                    " do not broadcast");
      o = s[i];
    }
  return out;
}

/// The element map `op` of `operands` under numpy broadcasting.
static Result<OnnxTensor> mapElements(llvm::ArrayRef<const OnnxTensor *> operands,
                                      const ElementOp &op, const std::string &opType) {
  std::vector<Shape> shapes;
  bool anyFloat = false;
  for (const OnnxTensor *t : operands) {
    shapes.push_back(t->shape);
    anyFloat |= t->isFloat;
  }
  auto out = broadcastShapes(shapes);
  if (!out)
    return out.status();
  if (!anyFloat && !op.ints)
    return Result<OnnxTensor>::error(opType + " of integers is not defined");
  // Each operand's strides over the output, 0 along broadcast dims.
  std::vector<Shape> strides;
  for (const OnnxTensor *t : operands) {
    Shape own = stridesOf(t->shape), s(out->size(), 0);
    size_t skip = out->size() - t->shape.size();
    for (size_t d = 0; d < t->shape.size(); ++d)
      s[skip + d] = t->shape[d] == 1 ? 0 : own[d];
    strides.push_back(s);
  }
  OnnxTensor r;
  r.shape = *out;
  r.isFloat = anyFloat && !op.boolResult;
  Status error;
  std::vector<int64_t> ints(operands.size());
  std::vector<double> floats(operands.size());
  forEachIndex(*out, [&](int64_t, const Shape &index) {
    if (!error)
      return;
    for (size_t k = 0; k < operands.size(); ++k) {
      int64_t at = 0;
      for (size_t d = 0; d < index.size(); ++d)
        at += index[d] * strides[k][d];
      if (anyFloat)
        floats[k] = asDouble(*operands[k], at);
      else
        ints[k] = operands[k]->ints[at];
    }
    if (anyFloat) {
      double v = op.floats(floats);
      if (op.boolResult)
        r.ints.push_back(v != 0);
      else
        r.floats.push_back(static_cast<float>(v));
      return;
    }
    auto v = op.ints(ints);
    if (!v) {
      error = v.status();
      return;
    }
    r.ints.push_back(*v);
  });
  if (!error)
    return error;
  return r;
}

/// `in`'s elements rearranged: output element at `index` is input element
/// `source(index)`.
static OnnxTensor remap(const OnnxTensor &in, Shape out,
                        const std::function<int64_t(const Shape &)> &source) {
  OnnxTensor r = emptyLike(in, out);
  forEachIndex(out, [&](int64_t, const Shape &index) { copyElement(in, source(index), r); });
  return r;
}

Status Importer::evaluateConstantNode(llvm::ArrayRef<ConstPtr> inputs) {
  const std::string &type = node->op_type();
  auto required = [&](int i) -> Result<const OnnxTensor *> {
    if (i >= static_cast<int>(inputs.size()) || !inputs[i])
      return fail("input #" + std::to_string(i) + " is required");
    return inputs[i].get();
  };
  auto ints = [&](int i, llvm::StringRef what) -> Result<std::vector<int64_t>> {
    auto t = required(i);
    if (!t)
      return t.status();
    if ((*t)->isFloat)
      return fail("input '" + what.str() + "' must hold integers");
    return (*t)->ints;
  };
  auto located = [&](Result<OnnxTensor> r) -> Status {
    if (!r)
      return fail(r.message());
    if (product(r->shape) > kMaxEvaluatedElements)
      return fail("the result " + formatShape(r->shape) + " of constants is too large to " +
                  "evaluate at import (more than " + std::to_string(kMaxEvaluatedElements) +
                  " elements)");
    return setOutput(0, std::move(*r));
  };

  if (auto it = elementOps().find(type); it != elementOps().end()) {
    std::vector<const OnnxTensor *> operands;
    for (const ConstPtr &c : inputs) {
      if (!c)
        return fail("an input is missing");
      operands.push_back(c.get());
    }
    if (operands.empty())
      return fail("needs at least one input");
    ElementOp op = it->second;
    if (type == "Mod" && intAttr("fmod", 0) != 0) {
      // C's remainder: the sign of the dividend.
      op.ints = [](llvm::ArrayRef<int64_t> a) -> Result<int64_t> {
        if (a[1] == 0)
          return Result<int64_t>::error("integer modulo by zero");
        return a[1] == -1 ? 0 : a[0] % a[1];
      };
    } else if (type == "Mod" && llvm::any_of(operands, [](auto *t) { return t->isFloat; })) {
      return failAttribute("fmod", "must be 1 for float operands");
    }
    auto result = mapElements(operands, op, type);
    if (result && type == "Pow" && !operands[0]->isFloat && result->isFloat) {
      // Pow's result has the base's type: an integer base with a float
      // exponent gives integers (truncated, as a C cast).
      result->isFloat = false;
      for (double v : result->floats) {
        std::optional<int64_t> i = toInt64(v);
        if (!i)
          return fail("the integer power " + std::to_string(v) + " is out of range");
        result->ints.push_back(*i);
      }
      result->floats.clear();
    }
    return located(std::move(result));
  }

  if (type == "Where") {
    auto c = required(0), x = required(1), y = required(2);
    if (!c || !x || !y)
      return !c ? c.status() : !x ? x.status() : y.status();
    if ((*x)->isFloat != (*y)->isFloat)
      return fail("inputs 'X' and 'Y' hold different types");
    ElementOp select{
        [](llvm::ArrayRef<int64_t> a) -> Result<int64_t> { return a[0] ? a[1] : a[2]; },
        [](llvm::ArrayRef<double> a) { return a[0] != 0 ? a[1] : a[2]; }};
    return located(mapElements({*c, *x, *y}, select, type));
  }

  if (type == "Cast") {
    intAttr("saturate", 1); // opset 19: for float8 targets only
    const onnx::AttributeProto *to = attribute("to");
    if (!to)
      return failAttribute("to", "is required");
    auto x = required(0);
    if (!x)
      return x.status();
    OnnxTensor r = emptyLike(**x, (*x)->shape);
    switch (to->i()) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::DOUBLE:
      r.isFloat = true;
      for (int64_t i = 0, n = (*x)->numElements(); i < n; ++i) {
        double v = asDouble(**x, i);
        r.floats.push_back(to->i() == onnx::TensorProto::DOUBLE ? v : static_cast<float>(v));
      }
      break;
    case onnx::TensorProto::BOOL:
      r.isFloat = false;
      for (int64_t i = 0, n = (*x)->numElements(); i < n; ++i)
        r.ints.push_back(asDouble(**x, i) != 0);
      break;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      r.isFloat = false;
      for (int64_t i = 0, n = (*x)->numElements(); i < n; ++i) {
        if (!(*x)->isFloat) {
          r.ints.push_back((*x)->ints[i]);
          continue;
        }
        std::optional<int64_t> v = toInt64((*x)->floats[i]);
        if (!v)
          return fail("cannot cast " + std::to_string((*x)->floats[i]) + " to " +
                      dataTypeName(to->i()));
        r.ints.push_back(*v);
      }
      break;
    default:
      return failAttribute("to", std::string("casts to ") + dataTypeName(to->i()) +
                                     ", which is not supported");
    }
    return located(std::move(r));
  }

  if (type == "Size") {
    auto x = required(0);
    if (!x)
      return x.status();
    return located(scalarInts({(*x)->numElements()}, {}));
  }

  auto x = required(0);
  if (!x)
    return x.status();
  const OnnxTensor &in = **x;
  int64_t rank = static_cast<int64_t>(in.shape.size());
  Shape inStrides = stridesOf(in.shape);

  if (type == "Transpose") {
    std::vector<int64_t> perm(rank);
    for (int64_t d = 0; d < rank; ++d)
      perm[d] = rank - 1 - d;
    if (auto p = intsAttr("perm"))
      perm = *p;
    std::vector<bool> seen(rank, false);
    if (static_cast<int64_t>(perm.size()) != rank)
      return failAttribute("perm", "must have one entry per dim of the input");
    for (int64_t p : perm) {
      if (p < 0 || p >= rank || seen[p])
        return failAttribute("perm", "must be a permutation of [0, " + std::to_string(rank) +
                                         ")");
      seen[p] = true;
    }
    Shape out;
    for (int64_t p : perm)
      out.push_back(in.shape[p]);
    return located(remap(in, out, [&](const Shape &index) {
      int64_t at = 0;
      for (int64_t d = 0; d < rank; ++d)
        at += index[d] * inStrides[perm[d]];
      return at;
    }));
  }

  if (type == "Expand" || type == "Tile") {
    auto arg = ints(1, type == "Expand" ? "shape" : "repeats");
    if (!arg)
      return arg.status();
    Shape out;
    if (type == "Expand") {
      auto b = broadcastShapes({in.shape, *arg});
      if (!b)
        return fail(b.message());
      out = *b;
    } else {
      if (static_cast<int64_t>(arg->size()) != rank)
        return fail("input 'repeats' must have one entry per dim of the input");
      for (int64_t d = 0; d < rank; ++d) {
        if ((*arg)[d] < 0)
          return fail("input 'repeats' has a negative entry");
        out.push_back(in.shape[d] * (*arg)[d]);
      }
    }
    if (product(out) > kMaxEvaluatedElements)
      return located(emptyLike(in, out));
    size_t skip = out.size() - in.shape.size();
    return located(remap(in, out, [&](const Shape &index) {
      int64_t at = 0;
      for (size_t d = 0; d < in.shape.size(); ++d)
        at += (index[skip + d] % in.shape[d]) * inStrides[d];
      return at;
    }));
  }

  if (type == "GatherElements") {
    auto indices = required(1);
    if (!indices)
      return indices.status();
    if ((*indices)->isFloat)
      return fail("input 'indices' must hold integers");
    if (static_cast<int64_t>((*indices)->shape.size()) != rank)
      return fail("input 'indices' must have the rank of the data");
    auto axis = normalizeAxis(intAttr("axis", 0), rank);
    if (!axis)
      return failAttribute("axis", axis.message());
    int64_t dim = in.shape[*axis];
    for (int64_t i : (*indices)->ints)
      if (i < -dim || i >= dim)
        return fail("index " + std::to_string(i) + " is outside [" + std::to_string(-dim) +
                    ", " + std::to_string(dim) + ") along axis " + std::to_string(*axis));
    return located(remap(in, (*indices)->shape, [&](const Shape &index) {
      int64_t at = 0, flat = 0;
      Shape idxStrides = stridesOf((*indices)->shape);
      for (int64_t d = 0; d < rank; ++d)
        flat += index[d] * idxStrides[d];
      for (int64_t d = 0; d < rank; ++d) {
        int64_t coord = index[d];
        if (d == *axis) {
          coord = (*indices)->ints[flat];
          coord = coord < 0 ? coord + dim : coord;
        }
        at += coord * inStrides[d];
      }
      return at;
    }));
  }

  // Reductions: axes from the attribute, or from input 1 where the opset
  // made them one (ReduceSum at 13, the others at 18).
  std::vector<int64_t> axes;
  bool axesAsInput = opset >= (type == "ReduceSum" ? 13 : 18);
  if (axesAsInput && inputs.size() > 1 && inputs[1]) {
    auto a = ints(1, "axes");
    if (!a)
      return a.status();
    axes = *a;
  } else if (!axesAsInput) {
    axes = intsAttr("axes").value_or(std::vector<int64_t>());
  }
  bool keepDims = intAttr("keepdims", 1) != 0;
  if (axes.empty() && intAttr("noop_with_empty_axes", 0) != 0)
    return located(in);
  std::vector<bool> reduced(rank, axes.empty());
  for (int64_t a : axes) {
    auto axis = normalizeAxis(a, rank);
    if (!axis)
      return fail(axis.message());
    reduced[*axis] = true;
  }
  Shape out, kept;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      out.push_back(in.shape[d]);
    kept.push_back(reduced[d] ? 1 : in.shape[d]);
  }
  if (keepDims)
    out = kept;
  if (type == "ReduceMin" || type == "ReduceMax")
    for (int64_t d = 0; d < rank; ++d)
      if (reduced[d] && in.shape[d] == 0)
        return fail("cannot reduce an empty dim with " + type);
  Shape keptStrides = stridesOf(kept);
  int64_t count = product(kept) == 0 ? 0 : in.numElements() / std::max<int64_t>(product(kept), 1);
  std::vector<double> acc(product(kept), type == "ReduceProd" ? 1.0 : 0.0);
  std::vector<int64_t> iacc(product(kept), type == "ReduceProd" ? 1 : 0);
  std::vector<bool> first(product(kept), true);
  bool overflow = false;
  forEachIndex(in.shape, [&](int64_t i, const Shape &index) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      o += (reduced[d] ? 0 : index[d]) * keptStrides[d];
    double v = asDouble(in, i);
    int64_t w = in.isFloat ? 0 : in.ints[i];
    if (type == "ReduceProd") {
      acc[o] *= v;
      overflow |= __builtin_mul_overflow(iacc[o], w, &iacc[o]);
    } else if (type == "ReduceMin" || type == "ReduceMax") {
      bool better = type == "ReduceMin" ? v < acc[o] : v > acc[o];
      if (first[o] || better) {
        acc[o] = v;
        iacc[o] = w;
      }
      first[o] = false;
    } else {
      // Sums, of each element as the reduction maps it.
      if (type == "ReduceSumSquare" || type == "ReduceL2") {
        v *= v;
        overflow |= __builtin_mul_overflow(w, w, &w);
      } else if (type == "ReduceL1") {
        v = std::fabs(v);
        overflow |= w == INT64_MIN;
        w = w < 0 ? -w : w;
      } else if (type == "ReduceLogSumExp") {
        v = std::exp(v);
      }
      acc[o] += v;
      overflow |= __builtin_add_overflow(iacc[o], w, &iacc[o]);
    }
  });
  if (overflow && !in.isFloat)
    return fail("integer overflow");
  OnnxTensor r = emptyLike(in, out);
  bool floatOnly = type == "ReduceMean" || type == "ReduceL2" || type == "ReduceLogSum" ||
                   type == "ReduceLogSumExp";
  if (floatOnly && !in.isFloat)
    return fail(type + " of integers is not supported");
  for (size_t o = 0; o < acc.size(); ++o) {
    double v = acc[o];
    if (type == "ReduceMean")
      v /= count;
    else if (type == "ReduceL2")
      v = std::sqrt(v);
    else if (type == "ReduceLogSum" || type == "ReduceLogSumExp")
      v = std::log(v);
    if (in.isFloat)
      r.floats.push_back(static_cast<float>(v));
    else
      r.ints.push_back(iacc[o]);
  }
  return located(std::move(r));
}

} // namespace tessel::detail::importer
