//===- OnnxMathConverters.cpp - Elementwise ops, Gemm, softmax, reductions ---===//
//
// Activations, broadcasting arithmetic (integer arithmetic on constants is
// evaluated here), Clip, PRelu, Gemm, Softmax/LogSoftmax and the Reduce ops.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporterImpl.h"

#include <cmath>
#include <numeric>

using namespace tessel;
using namespace tessel::detail;

namespace tessel::detail::importer {

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpTy>
Status Importer::convertUnary() {
  auto x = input(0);
  if (!x)
    return x.status();
  mt::PropertiesOf<OpTy> p;
  if constexpr (std::is_same_v<OpTy, mt::LeakyReluOp>)
    p.setAlpha(f64(floatAttr("alpha", 0.01)));
  return setOutput(0, build1<OpTy>(*x, p));
}

/// numpy broadcasting of two constant shapes; empty optional when they clash.
std::optional<Shape> broadcastShapes(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t x = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t y = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// Index into a tensor of `shape` broadcast to `out` at the flat index `i`.
int64_t broadcastIndex(const Shape &shape, const Shape &out, int64_t i) {
  int64_t index = 0, stride = 1;
  for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
    int64_t coord = i % out[d];
    i /= out[d];
    int64_t sd = d - static_cast<int64_t>(out.size() - shape.size());
    if (sd >= 0) {
      if (shape[sd] != 1)
        index += coord * stride;
      stride *= shape[sd];
    }
  }
  return index;
}

/// `OpTy` on two integers; false for a division by zero.
template <typename OpTy>
bool evaluate(int64_t x, int64_t y, int64_t &result) {
  if constexpr (std::is_same_v<OpTy, mt::AddOp>)
    result = x + y;
  else if constexpr (std::is_same_v<OpTy, mt::SubOp>)
    result = x - y;
  else if constexpr (std::is_same_v<OpTy, mt::MulOp>)
    result = x * y;
  else if constexpr (std::is_same_v<OpTy, mt::DivOp>)
    result = y == 0 ? 0 : x / y;
  else
    result = static_cast<int64_t>(std::pow(x, y));
  return !(std::is_same_v<OpTy, mt::DivOp> && y == 0);
}

template <typename OpTy>
Status Importer::convertBinary() {
  auto ca = constantInput(0);
  if (!ca)
    return ca.status();
  auto cb = constantInput(1);
  if (!cb)
    return cb.status();
  // Integer arithmetic on constants: shape computations, done here.
  if (*ca && *cb && !(*ca)->isFloat && !(*cb)->isFloat) {
    std::optional<Shape> out = broadcastShapes((*ca)->shape, (*cb)->shape);
    if (!out)
      return fail("operand shapes " + formatShape((*ca)->shape) + " and " +
                  formatShape((*cb)->shape) + " do not broadcast");
    OnnxTensor r = scalarInts({}, *out);
    for (int64_t i = 0, n = product(*out); i < n; ++i) {
      int64_t x = (*ca)->ints[broadcastIndex((*ca)->shape, *out, i)];
      int64_t y = (*cb)->ints[broadcastIndex((*cb)->shape, *out, i)];
      int64_t v;
      if (!evaluate<OpTy>(x, y, v))
        return fail("integer division by zero");
      r.ints.push_back(v);
    }
    return setOutput(0, std::move(r));
  }
  // Integer constants feeding float math (e.g. Pow's exponent) become floats.
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < 2; ++i) {
    ConstPtr c = i == 0 ? *ca : *cb;
    if (c && !c->isFloat) {
      OnnxTensor f = *c;
      f.isFloat = true;
      f.floats.assign(c->ints.begin(), c->ints.end());
      operands.push_back(materialize(f));
      continue;
    }
    auto v = input(i);
    if (!v)
      return v.status();
    operands.push_back(*v);
  }
  return setOutput(0, build1<OpTy>(operands));
}

Status Importer::convertClip() {
  auto x = input(0);
  if (!x)
    return x.status();
  std::optional<double> low, high;
  if (opset < 11) {
    if (const onnx::AttributeProto *a = attribute("min"))
      low = a->f();
    if (const onnx::AttributeProto *a = attribute("max"))
      high = a->f();
  } else {
    for (int i = 1; i <= 2; ++i) {
      if (!hasInput(i))
        continue;
      auto c = requireConstant(i, i == 1 ? "min" : "max");
      if (!c)
        return c.status();
      if ((*c)->numElements() != 1)
        return fail(std::string("input '") + (i == 1 ? "min" : "max") + "' must be a scalar");
      double v = (*c)->isFloat ? (*c)->floats[0] : static_cast<double>((*c)->ints[0]);
      (i == 1 ? low : high) = v;
    }
  }
  if (!low && !high)
    return setOutput(0, *x);
  mt::ClampOp::Properties p;
  if (low)
    p.setMin(f64(*low));
  if (high)
    p.setMax(f64(*high));
  auto y = build1<mt::ClampOp>(*x, p);
  return setOutput(0, y);
}

/// PRelu(x, slope) = relu(x) - slope * relu(-x).
Status Importer::convertPRelu() {
  auto x = input(0);
  if (!x)
    return x.status();
  auto slope = input(1);
  if (!slope)
    return slope.status();
  auto positive = build1<mt::ReluOp>(*x);
  if (!positive)
    return positive.status();
  auto negated = build1<mt::NegOp>(*x);
  if (!negated)
    return negated.status();
  auto negative = build1<mt::ReluOp>(*negated);
  if (!negative)
    return negative.status();
  auto scaled = build1<mt::MulOp>({*negative, *slope});
  if (!scaled)
    return scaled.status();
  auto y = build1<mt::SubOp>({*positive, *scaled});
  return setOutput(0, y);
}

/// Y = alpha * A' B' + beta * C; PyTorch's Linear (transB, alpha = beta = 1,
/// a vector bias) becomes tessel.linear.
Status Importer::convertGemm() {
  auto a = input(0);
  if (!a)
    return a.status();
  auto b = input(1);
  if (!b)
    return b.status();
  double alpha = floatAttr("alpha", 1.0), beta = floatAttr("beta", 1.0);
  bool transA = intAttr("transA", 0), transB = intAttr("transB", 0);
  intAttr("broadcast", 1); // opsets before 7: always broadcast here
  if (shapeOf(*a).size() != 2 || shapeOf(*b).size() != 2)
    return fail("A and B must be matrices");
  std::optional<Value> c;
  if (hasInput(2)) {
    auto v = input(2);
    if (!v)
      return v.status();
    c = *v;
  }
  if (transA) {
    auto t = transpose(*a, {1, 0});
    if (!t)
      return t.status();
    a = *t;
  }
  if (transB && alpha == 1.0 && beta == 1.0 &&
      (!c || (shapeOf(*c).size() == 1 && shapeOf(*c)[0] == shapeOf(*b)[0]))) {
    llvm::SmallVector<Value> operands = {*a, *b};
    if (c)
      operands.push_back(*c);
    auto y = build1<mt::LinearOp>(operands);
    return setOutput(0, y);
  }
  if (transB) {
    auto t = transpose(*b, {1, 0});
    if (!t)
      return t.status();
    b = *t;
  }
  auto y = build1<mt::MatmulOp>({*a, *b});
  if (!y)
    return y.status();
  if (alpha != 1.0) {
    y = scale(*y, alpha);
    if (!y)
      return y.status();
  }
  if (c && beta != 0.0) {
    Value bias = *c;
    if (beta != 1.0) {
      auto scaled = scale(bias, beta);
      if (!scaled)
        return scaled.status();
      bias = *scaled;
    }
    y = build1<mt::AddOp>({*y, bias});
    if (!y)
      return y.status();
  }
  return setOutput(0, *y);
}

/// Opsets before 13 flatten the input to 2-D at `axis` (default 1) and
/// normalize each row; from 13 on, `axis` (default -1) is one dim.
template <typename OpTy>
Status Importer::convertSoftmax() {
  auto x = input(0);
  if (!x)
    return x.status();
  Shape xs = shapeOf(*x);
  int64_t rank = static_cast<int64_t>(xs.size());
  auto softmax = [&](Value v, int64_t axis) {
    typename OpTy::Properties p;
    p.setAxis(i64(axis));
    return build1<OpTy>(v, p);
  };
  if (opset >= 13)
    return setOutput(0, softmax(*x, intAttr("axis", -1)));
  auto axis = normalizeAxis(intAttr("axis", 1), rank);
  if (!axis)
    return failAttribute("axis", axis.message());
  Shape flat = {product(llvm::ArrayRef(xs).take_front(*axis)),
                product(llvm::ArrayRef(xs).drop_front(*axis))};
  auto y = reshape(*x, flat);
  if (y)
    y = softmax(*y, 1);
  if (y)
    y = reshape(*y, xs);
  return setOutput(0, y);
}

template <typename OpTy>
Status Importer::convertReduce() {
  auto x = input(0);
  if (!x)
    return x.status();
  if (node->op_type() == "ReduceSumSquare") {
    x = build1<mt::MulOp>({*x, *x});
    if (!x)
      return x.status();
  }
  bool keepDims = intAttr("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes;
  if (node->op_type() == "ReduceSum" && opset >= 13) {
    if (hasInput(1)) {
      auto a = intsInput(1, "axes");
      if (!a)
        return a.status();
      axes = *a;
    }
    bool noopWithEmpty = intAttr("noop_with_empty_axes", 0) != 0;
    if ((!axes || axes->empty()) && noopWithEmpty)
      return setOutput(0, *x);
    if (axes && axes->empty())
      axes.reset();
  } else {
    axes = intsAttr("axes");
  }
  typename OpTy::Properties p;
  if (axes)
    p.setAxes(i64s(*axes));
  p.setKeepdims(flag(keepDims));
  return setOutput(0, build1<OpTy>(*x, p));
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void Importer::registerMathConverters() {
  auto add = [&](const char *name, Converter c) { converters[name] = std::move(c); };
  add("Relu", [this] { return convertUnary<mt::ReluOp>(); });
  add("Sigmoid", [this] { return convertUnary<mt::SigmoidOp>(); });
  add("Tanh", [this] { return convertUnary<mt::TanhOp>(); });
  add("Abs", [this] { return convertUnary<mt::AbsOp>(); });
  add("Neg", [this] { return convertUnary<mt::NegOp>(); });
  add("Sqrt", [this] { return convertUnary<mt::SqrtOp>(); });
  add("Exp", [this] { return convertUnary<mt::ExpOp>(); });
  add("Log", [this] { return convertUnary<mt::LogOp>(); });
  add("Sign", [this] { return convertUnary<mt::SignOp>(); });
  add("LeakyRelu", [this] { return convertUnary<mt::LeakyReluOp>(); });
  add("Add", [this] { return convertBinary<mt::AddOp>(); });
  add("Sub", [this] { return convertBinary<mt::SubOp>(); });
  add("Mul", [this] { return convertBinary<mt::MulOp>(); });
  add("Div", [this] { return convertBinary<mt::DivOp>(); });
  add("Pow", [this] { return convertBinary<mt::PowOp>(); });
  add("Sum", [this]() -> Status {
    auto acc = input(0);
    for (int i = 1; acc && i < numInputs(); ++i) {
      auto next = input(i);
      if (!next)
        return next.status();
      acc = build1<mt::AddOp>({*acc, *next});
    }
    return setOutput(0, acc);
  });
  add("Clip", [this] { return convertClip(); });
  add("PRelu", [this] { return convertPRelu(); });
  add("Gemm", [this] { return convertGemm(); });
  add("MatMul", [this]() -> Status {
    auto a = input(0);
    if (!a)
      return a.status();
    auto b = input(1);
    if (!b)
      return b.status();
    return setOutput(0, build1<mt::MatmulOp>({*a, *b}));
  });
  add("Softmax", [this] { return convertSoftmax<mt::SoftmaxOp>(); });
  add("LogSoftmax", [this] { return convertSoftmax<mt::LogSoftmaxOp>(); });
  add("ReduceMean", [this] { return convertReduce<mt::MeanOp>(); });
  add("ReduceSum", [this] { return convertReduce<mt::SumOp>(); });
  add("ReduceSumSquare", [this] { return convertReduce<mt::SumOp>(); });
  add("ReduceMax", [this] { return convertReduce<mt::MaxOp>(); });
  add("ReduceMin", [this] { return convertReduce<mt::MinOp>(); });
}


} // namespace tessel::detail::importer
