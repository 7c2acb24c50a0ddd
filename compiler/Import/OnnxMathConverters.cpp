//===- OnnxMathConverters.cpp - Elementwise ops, Gemm, softmax, reductions ---===//
//
// Activations (those without a tessel op composed of others), broadcasting
// arithmetic, Clip, PRelu, Gemm, Softmax/LogSoftmax and the Reduce ops.
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

template <typename OpTy>
Status Importer::convertBinary() {
  auto ca = constantInput(0);
  if (!ca)
    return ca.status();
  auto cb = constantInput(1);
  if (!cb)
    return cb.status();
  // Integer arithmetic on constants is the evaluator's; it declines only
  // results beyond its size limit.
  if (*ca && *cb && !(*ca)->isFloat && !(*cb)->isFloat)
    return fail("integer arithmetic on more than " + std::to_string(kMaxEvaluatedElements) +
                " elements is not supported");
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

/// Activations without a tessel op of their own, as compositions of those
/// that have one (their lowering and gradients are the parts'):
///   HardSigmoid  clamp(alpha x + beta, 0, 1)          (alpha 0.2, beta 0.5)
///   HardSwish    x hardsigmoid(x) with alpha 1/6
///   Elu          relu(x) + alpha (exp(min(x, 0)) - 1)   (alpha 1)
///   Selu         gamma elu(x) with its alpha            (ONNX's constants)
///   Celu         relu(x) + alpha (exp(min(x, 0) / alpha) - 1)
///   Softplus     log(1 + exp(min(x, 20))) + relu(x - 20)  (PyTorch's
///                threshold: exact in float32 beyond it, and no overflow)
///   Reciprocal   1 / x
///   Softsign     x / (1 + |x|)
///   Mish         x tanh(softplus(x))
///   Gelu         0.5 x (1 + erf(x / sqrt 2)), or with approximate = "tanh"
///                0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
/// The kinks (min, clamp, relu) follow PyTorch's gradients at the kink:
/// Elu's at 0 is alpha, HardSigmoid's at its bounds passes.
Status Importer::convertComposedActivation(llvm::StringRef type) {
  auto in = input(0);
  if (!in)
    return in.status();
  Value x = *in;
  Status s;
  auto add = [&](Value a, Value b) { return chain<mt::AddOp>(s, {a, b}); };
  auto sub = [&](Value a, Value b) { return chain<mt::SubOp>(s, {a, b}); };
  auto mul = [&](Value a, Value b) { return chain<mt::MulOp>(s, {a, b}); };
  auto div = [&](Value a, Value b) { return chain<mt::DivOp>(s, {a, b}); };
  auto unary = [&](auto op, Value a) { return chain<decltype(op)>(s, {a}); };
  auto clamp = [&](Value a, std::optional<double> low, std::optional<double> high) {
    mt::ClampOp::Properties p;
    if (low)
      p.setMin(f64(*low));
    if (high)
      p.setMax(f64(*high));
    return chain<mt::ClampOp>(s, {a}, p);
  };
  auto hardSigmoid = [&](Value a, double alpha, double beta) {
    return clamp(add(mul(a, scalar(alpha)), scalar(beta)), 0.0, 1.0);
  };
  // relu(a) + alpha (exp(min(a, 0) / divisor) - 1)
  auto elu = [&](Value a, double alpha, double divisor) {
    Value negative = clamp(a, std::nullopt, 0.0);
    if (divisor != 1.0)
      negative = mul(negative, scalar(1.0 / divisor));
    Value e = sub(unary(mt::ExpOp(), negative), scalar(1.0));
    return add(unary(mt::ReluOp(), a), mul(e, scalar(alpha)));
  };
  auto softplus = [&](Value a) {
    constexpr double threshold = 20.0;
    Value low = clamp(a, std::nullopt, threshold);
    Value soft = unary(mt::LogOp(), add(unary(mt::ExpOp(), low), scalar(1.0)));
    return add(soft, unary(mt::ReluOp(), sub(a, scalar(threshold))));
  };

  Value y;
  if (type == "HardSigmoid") {
    y = hardSigmoid(x, floatAttr("alpha", 0.2), floatAttr("beta", 0.5));
  } else if (type == "HardSwish") {
    y = mul(x, hardSigmoid(x, 1.0 / 6.0, 0.5));
  } else if (type == "Elu") {
    y = elu(x, floatAttr("alpha", 1.0), 1.0);
  } else if (type == "Selu") {
    double alpha = floatAttr("alpha", 1.67326319217681884765625);
    double gamma = floatAttr("gamma", 1.05070102214813232421875);
    y = mul(elu(x, alpha, 1.0), scalar(gamma));
  } else if (type == "Celu") {
    double alpha = floatAttr("alpha", 1.0);
    if (alpha == 0)
      return failAttribute("alpha", "must not be 0");
    y = elu(x, alpha, alpha);
  } else if (type == "Softplus") {
    y = softplus(x);
  } else if (type == "Reciprocal") {
    y = div(scalar(1.0), x);
  } else if (type == "Softsign") {
    y = div(x, add(unary(mt::AbsOp(), x), scalar(1.0)));
  } else if (type == "Mish") {
    y = mul(x, unary(mt::TanhOp(), softplus(x)));
  } else { // Gelu
    std::string approximate = stringAttr("approximate", "none");
    Value inner;
    if (approximate == "none") {
      inner = unary(mt::ErfOp(), mul(x, scalar(M_SQRT1_2)));
    } else if (approximate == "tanh") {
      Value cube = mul(mul(x, x), x);
      Value arg = mul(add(x, mul(cube, scalar(0.044715))), scalar(std::sqrt(2.0 / M_PI)));
      inner = unary(mt::TanhOp(), arg);
    } else {
      return failAttribute("approximate", "value '" + approximate +
                                              "' is not one of none, tanh");
    }
    y = mul(mul(x, scalar(0.5)), add(inner, scalar(1.0)));
  }
  if (!s)
    return s;
  return setOutput(0, y);
}

/// Mean of run-time tensors: their sum over their count.
Status Importer::convertMean() {
  auto acc = foldInputs<mt::AddOp>();
  if (!acc)
    return acc.status();
  return setOutput(0, scale(*acc, 1.0 / numInputs()));
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

/// The Reduce ops. Axes are an attribute, or input 1 from opset 13
/// (ReduceSum) or 18 (the others). ReduceL1, ReduceL2, ReduceSumSquare,
/// ReduceLogSum and ReduceLogSumExp are composed of a sum and elementwise
/// ops (LogSumExp shifted by the max, so that exp cannot overflow);
/// ReduceProd is evaluated on constants only.
Status Importer::convertReduce(llvm::StringRef opType) {
  auto x = input(0);
  if (!x)
    return x.status();
  bool keepDims = intAttr("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes;
  if (opset >= (opType == "ReduceSum" ? 13 : 18)) {
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
  if (opType == "ReduceMean")
    return setOutput(0, reduceOver<mt::MeanOp>(*x, axes, keepDims));
  if (opType == "ReduceMax")
    return setOutput(0, reduceOver<mt::MaxOp>(*x, axes, keepDims));
  if (opType == "ReduceMin")
    return setOutput(0, reduceOver<mt::MinOp>(*x, axes, keepDims));
  auto sum = [&](Result<Value> v, bool keep) -> Result<Value> {
    return v ? reduceOver<mt::SumOp>(*v, axes, keep) : v;
  };
  if (opType == "ReduceSum")
    return setOutput(0, sum(*x, keepDims));
  if (opType == "ReduceL1")
    return setOutput(0, sum(build1<mt::AbsOp>(*x), keepDims));
  if (opType == "ReduceSumSquare")
    return setOutput(0, sum(build1<mt::MulOp>({*x, *x}), keepDims));
  if (opType == "ReduceL2") {
    auto y = sum(build1<mt::MulOp>({*x, *x}), keepDims);
    return setOutput(0, y ? build1<mt::SqrtOp>(*y) : y);
  }
  if (opType == "ReduceLogSum") {
    auto y = sum(*x, keepDims);
    return setOutput(0, y ? build1<mt::LogOp>(*y) : y);
  }
  // ReduceLogSumExp: log(sum(exp(x - m))) + m, m the max over the axes.
  auto shift = reduceOver<mt::MaxOp>(*x, axes, true);
  auto m = reduceOver<mt::MaxOp>(*x, axes, keepDims);
  if (!shift || !m)
    return !shift ? shift.status() : m.status();
  Status s;
  Value e = chain<mt::ExpOp>(s, chain<mt::SubOp>(s, {*x, *shift}));
  auto total = s ? sum(e, keepDims) : Result<Value>(s);
  if (!total)
    return total.status();
  Value y = chain<mt::AddOp>(s, {chain<mt::LogOp>(s, *total), *m});
  return s ? setOutput(0, y) : s;
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
  add("Erf", [this] { return convertUnary<mt::ErfOp>(); });
  for (const char *name : {"HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "Softplus",
                           "Softsign", "Mish", "Gelu", "Reciprocal"}) {
    std::string type = name;
    add(name, [this, type] { return convertComposedActivation(type); });
  }
  add("Mean", [this] { return convertMean(); });
  add("LeakyRelu", [this] { return convertUnary<mt::LeakyReluOp>(); });
  add("Add", [this] { return convertBinary<mt::AddOp>(); });
  add("Sub", [this] { return convertBinary<mt::SubOp>(); });
  add("Mul", [this] { return convertBinary<mt::MulOp>(); });
  add("Div", [this] { return convertBinary<mt::DivOp>(); });
  add("Pow", [this] { return convertBinary<mt::PowOp>(); });
  add("Sum", [this] { return setOutput(0, foldInputs<mt::AddOp>()); });
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
  for (const char *name : {"ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceMax",
                           "ReduceMin", "ReduceL1", "ReduceL2", "ReduceLogSum",
                           "ReduceLogSumExp"}) {
    std::string type = name;
    add(name, [this, type] { return convertReduce(type); });
  }
  add("Max", [this] { return setOutput(0, foldInputs<mt::MaximumOp>()); });
  add("Min", [this] { return setOutput(0, foldInputs<mt::MinimumOp>()); });
}


} // namespace tessel::detail::importer
