//===- Graph.h - Build a Tessel graph in C++ --------------------*- C++ -*-===//
//
// A Graph is a static dataflow graph of tessel ops. Each method adds one op
// and returns a handle to its result. Shapes are checked as the graph is
// built: the first invalid op makes status() an error naming the op and the
// rule, and every later op on an invalid handle is skipped.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_GRAPH_H
#define TESSEL_GRAPH_H

#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessel {

/// Activation layouts: batch, channels and 1-3 spatial dims.
enum class Layout { NCW, NCHW, NCDHW, NWC, NHWC, NDHWC };
/// Convolution filter layouts: O first (PyTorch conv), I first (PyTorch
/// transposed conv), spatial dims first.
enum class FilterLayout { OIW, OIHW, OIDHW, IOW, IOHW, IODHW, WIO, HWIO, DHWIO };
enum class PoolKind { Max, Avg, Lp };
enum class PadMode { Constant, Reflect, Replicate, Circular };
enum class UpsampleMode { Nearest, Linear };
enum class Reduction { None, Mean, Sum };

/// A handle to one value of a Graph.
class Value {
public:
  Value() = default;
  /// Values come from a Graph's methods; this is how they make one.
  Value(int id, uint64_t graph) : id_(id), graph_(graph) {}
  bool valid() const { return id_ >= 0; }
  /// Position of the value in its graph.
  int id() const { return id_; }
  /// The graph that made the value. A value is used only in that graph and
  /// in the graphs derived from it (gradient(), trainingStep()) — anything
  /// else is an error naming the op, not another graph's value at the same
  /// position.
  uint64_t graph() const { return graph_; }

private:
  int id_ = -1;
  uint64_t graph_ = 0;
};

/// Attributes of conv and conv_transpose. Empty vectors take the defaults:
/// strides and dilations 1, padding and output padding 0. `padding` lists the
/// low pads of every spatial dim, then the high pads.
struct ConvOptions {
  Layout layout = Layout::NCHW;
  FilterLayout filterLayout = FilterLayout::OIHW;
  std::vector<int64_t> strides, dilations, padding, outputPadding;
  int64_t groups = 1;
};

/// Attributes of window pooling; empty strides default to the kernel.
struct PoolOptions {
  Layout layout = Layout::NCHW;
  std::vector<int64_t> kernel, strides, padding, dilations;
  bool ceilMode = false;
  bool countIncludePad = false; // avg only
  double p = 2.0;               // lp only
};

class Graph {
public:
  explicit Graph(std::string name = "main");
  ~Graph();
  Graph(Graph &&) noexcept;
  Graph &operator=(Graph &&) noexcept;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  // Inputs and outputs --------------------------------------------------------
  /// A float32 input fed at run time, in declaration order.
  Value input(const std::string &name, std::vector<int64_t> shape);
  /// A float32 constant baked into the compiled code (weights).
  Value constant(const Tensor &value);
  /// Integer class labels (for crossEntropy), baked into the code.
  Value labels(std::vector<int64_t> shape, const std::vector<int64_t> &values);
  /// Marks `value` as an output, in declaration order.
  void output(const std::string &name, Value value);
  /// The input named `name`, or an invalid handle.
  Value findInput(const std::string &name) const;

  // Convolution and pooling ---------------------------------------------------
  Value conv(Value input, Value filter, const ConvOptions &options,
             std::optional<Value> bias = std::nullopt);
  Value convTranspose(Value input, Value filter, const ConvOptions &options,
                      std::optional<Value> bias = std::nullopt);
  Value pool(PoolKind kind, Value input, const PoolOptions &options);
  Value maxPool(Value input, const PoolOptions &options) {
    return pool(PoolKind::Max, input, options);
  }
  Value avgPool(Value input, const PoolOptions &options) {
    return pool(PoolKind::Avg, input, options);
  }
  Value adaptivePool(PoolKind kind, Value input, Layout layout,
                     std::vector<int64_t> outputSize);
  Value globalPool(PoolKind kind, Value input, Layout layout, double p = 2.0);

  // Normalization -------------------------------------------------------------
  Value batchNorm(Value input, Value scale, Value bias, Value mean,
                  Value variance, std::optional<Layout> layout = Layout::NCHW,
                  double epsilon = 1e-5);
  /// Training form: returns {result, batch mean, batch (biased) variance}.
  std::vector<Value> batchNormTrain(Value input, Value scale, Value bias,
                                    std::optional<Layout> layout = Layout::NCHW,
                                    double epsilon = 1e-5);

  // Elementwise ---------------------------------------------------------------
  Value relu(Value x);
  Value sigmoid(Value x);
  Value tanh(Value x);
  Value abs(Value x);
  Value neg(Value x);
  Value sqrt(Value x);
  Value exp(Value x);
  /// The Gauss error function (exact GELU is 0.5 x (1 + erf(x / sqrt 2))).
  Value erf(Value x);
  Value log(Value x);
  Value sign(Value x);
  Value leakyRelu(Value x, double alpha = 0.01);
  Value clamp(Value x, std::optional<double> min, std::optional<double> max);
  Value add(Value lhs, Value rhs);
  Value sub(Value lhs, Value rhs);
  Value mul(Value lhs, Value rhs);
  Value div(Value lhs, Value rhs);
  Value pow(Value lhs, Value rhs);
  /// Elementwise max and min (torch.maximum/minimum): NaN propagates; at a
  /// tie each operand gets half the gradient, as in PyTorch.
  Value maximum(Value lhs, Value rhs);
  Value minimum(Value lhs, Value rhs);

  // Linear algebra ------------------------------------------------------------
  Value linear(Value input, Value weight, std::optional<Value> bias = std::nullopt);
  Value matmul(Value lhs, Value rhs);

  // Shapes and layouts --------------------------------------------------------
  Value reshape(Value x, std::vector<int64_t> shape);
  Value flatten(Value x, int64_t startDim = 1, int64_t endDim = -1);
  Value transpose(Value x, std::vector<int64_t> perm);
  Value concat(const std::vector<Value> &values, int64_t axis);
  Value relayout(Value x, Layout from, Layout to);
  /// Strided slice: element i of dim d reads offsets[d] + i * strides[d]
  /// (strides may be negative; empty strides are all 1).
  Value slice(Value x, std::vector<int64_t> offsets, std::vector<int64_t> sizes,
              std::vector<int64_t> strides = {});
  /// numpy `take` along `axis` with integer `indices` (from labels()).
  Value gather(Value x, Value indices, int64_t axis);

  // Resampling ----------------------------------------------------------------
  Value pad(Value x, PadMode mode, std::vector<int64_t> padding, double value = 0.0);
  /// Resize to `size`, or by `scales` (exactly one of them is given).
  Value upsample(Value x, UpsampleMode mode, Layout layout,
                 std::vector<int64_t> size, std::vector<double> scales = {},
                 bool alignCorners = false);
  Value pixelShuffle(Value x, Layout layout, int64_t factor);
  Value pixelUnshuffle(Value x, Layout layout, int64_t factor);

  // Reductions ----------------------------------------------------------------
  Value softmax(Value x, int64_t axis);
  Value logSoftmax(Value x, int64_t axis);
  Value sum(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims = false);
  Value mean(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims = false);
  Value reduceMax(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims = false);
  Value reduceMin(Value x, std::optional<std::vector<int64_t>> axes, bool keepDims = false);
  Value mseLoss(Value lhs, Value rhs, Reduction reduction = Reduction::Mean);
  Value crossEntropy(Value logits, Value labels, Reduction reduction = Reduction::Mean);

  // Inspection ----------------------------------------------------------------
  /// Ok, or the first error met while building (later ops were skipped).
  const Status &status() const;
  /// Records `message` as the graph's error when it has none yet, for code
  /// that builds graphs and checks rules of its own (tessel::nn's layers).
  void fail(const std::string &message);
  /// Appends " [context]" to the graph's error, if it has one.
  void addErrorContext(const std::string &context);
  /// The shape of a valid value; empty for an invalid handle.
  std::vector<int64_t> shape(Value value) const;
  /// Unique per graph in this process: Value::graph() of its values.
  uint64_t id() const;
  /// The graph as tessel-dialect MLIR.
  std::string toMlir() const;

  /// Implementation detail for the compiler.
  struct Impl;
  const Impl &impl() const { return *impl_; }
  Impl &impl() { return *impl_; }

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace tessel

#endif // TESSEL_GRAPH_H
