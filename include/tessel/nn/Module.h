//===- Module.h - PyTorch-style modules that own their parameters -*- C++ -*-===//
//
// A tessel::nn::Module owns named parameters, buffers and submodules, as
// torch.nn.Module does, and builds its ops into a Graph in forward(). Its
// parameters and buffers enter the graph as inputs named by their dotted
// names ("layer1.0.conv1.weight"), so one graph serves any parameter values
// and the module's own tensors are fed to it when it runs (nn::compile).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_NN_MODULE_H
#define TESSEL_NN_MODULE_H

#include "tessel/Compiler.h"
#include "tessel/Graph.h"
#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

/// Declares an option `name` of type `T` with a fluent setter, as
/// torch::nn's TORCH_ARG: `Conv2dOptions(3, 16, 3).stride(2).padding(1)`.
#define TESSEL_ARG(T, name)                                                    \
public:                                                                        \
  auto &name(const T &value) {                                                 \
    name##_ = value;                                                           \
    return *this;                                                              \
  }                                                                            \
  const T &name() const { return name##_; }                                    \
                                                                               \
private:                                                                       \
  T name##_

namespace tessel {
namespace nn {

/// A size per spatial dim given as one number for all (`3`) or one each
/// (`{3, 5}`), as torch::ExpandingArray.
class Sizes {
public:
  Sizes(int64_t all) : values_{all}, expand_(true) {}
  Sizes(std::initializer_list<int64_t> each) : values_(each) {}
  Sizes(std::vector<int64_t> each) : values_(std::move(each)) {}
  /// The sizes of `rank` dims, or an empty vector when a list of another
  /// length was given.
  std::vector<int64_t> expand(size_t rank) const;
  const std::vector<int64_t> &values() const { return values_; }
  /// No sizes given (a pool's stride then defaults to its kernel).
  bool empty() const { return values_.empty(); }

private:
  std::vector<int64_t> values_;
  bool expand_ = false;
};

/// Convolution padding: sizes per dim, or "same" / "valid" as PyTorch takes.
class Padding {
public:
  enum class Kind { Explicit, Same, Valid, Invalid };
  Padding(int64_t all) : sizes_(all) {}
  Padding(int all) : sizes_(int64_t(all)) {}
  Padding(std::initializer_list<int64_t> each) : sizes_(each) {}
  Padding(std::vector<int64_t> each) : sizes_(std::move(each)) {}
  Padding(const char *mode);
  Padding(const std::string &mode) : Padding(mode.c_str()) {}
  Kind kind() const { return kind_; }
  const Sizes &sizes() const { return sizes_; }
  /// The string given when kind() is Invalid.
  const std::string &text() const { return text_; }

private:
  Sizes sizes_{0};
  Kind kind_ = Kind::Explicit;
  std::string text_;
};

/// Where activations keep their channels: PyTorch's NCHW (the default), or
/// channels last (NHWC); parameters keep PyTorch's shapes either way.
enum class DataFormat { ChannelsFirst, ChannelsLast };

/// The tessel Layout of a `spatialRank`-D activation in `format`.
Layout layoutOf(DataFormat format, int64_t spatialRank);

class Module;

/// A named parameter or buffer of a module tree, sharing the module's memory.
struct NamedTensor {
  std::string name;
  Tensor value;
};

/// The base of every layer and of user-written modules.
///
/// A subclass registers its parameters, buffers and submodules in its
/// constructor and overrides forward(). Call a module through operator(),
/// which reports a failing layer by its dotted name and type.
class Module {
public:
  explicit Module(std::string typeName = "Module");
  virtual ~Module();
  Module(Module &&other) noexcept;
  Module &operator=(Module &&) = delete;
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  /// Builds the module's ops on `input` into `graph`; returns the result.
  virtual Value forward(Graph &graph, Value input) = 0;
  /// forward(), plus error context: a module that was built with invalid
  /// options, or a graph error raised inside forward(), names this module.
  Value operator()(Graph &graph, Value input);

  /// "Conv2d", "Sequential", or the name a custom module gave.
  const std::string &typeName() const { return typeName_; }
  /// The dotted name from the root ("layer1.0.conv1"); empty for a root.
  std::string qualifiedName() const;
  /// "Conv2d 'layer1.0.conv1'" (a root: "Sequential (root)").
  std::string describe() const;

  /// Parameters of this module and its submodules, in registration order,
  /// by dotted name (`"0.weight"`); a tensor shared by two modules once.
  std::vector<NamedTensor> namedParameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  /// Buffers (batch norm's running statistics), likewise.
  std::vector<NamedTensor> namedBuffers(bool recurse = true) const;
  /// Parameters then buffers: what PyTorch's state_dict() holds.
  std::vector<NamedTensor> stateDict() const;
  /// Submodules by dotted name, depth first (this module excluded).
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> namedModules() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>> &children() const {
    return children_;
  }
  /// The parameter or buffer `name` (dotted below this module), or an
  /// empty tensor.
  Tensor tensor(const std::string &name) const;
  /// Number of parameter elements (this module and its submodules).
  int64_t numParameters() const;

  /// Training mode (the default): batch norm uses and updates batch
  /// statistics, dropout drops. eval() is train(false). Recursive.
  void train(bool on = true);
  void eval() { train(false); }
  bool isTraining() const { return training_; }

  /// Lays this module and its submodules out channels last (or first).
  virtual void setDataFormat(DataFormat format);

  /// The first error met building this module or a submodule (an invalid
  /// option, or no memory for a parameter).
  Status status() const;

  /// Floating-point operations of one forward pass from `input` to
  /// `output` shapes, 2 per multiply-add (conv and linear layers; 0
  /// elsewhere). nn::summary() prints it.
  virtual double flops(const std::vector<int64_t> &input,
                       const std::vector<int64_t> &output) const;

  /// Running-statistics updates this module's forward() added to `graph`
  /// in training mode, by buffer dotted name, with its submodules'.
  std::vector<std::pair<std::string, Value>> bufferUpdates(const Graph &graph) const;

protected:
  /// Registers a parameter (learned by training) and returns its tensor.
  Tensor registerParameter(const std::string &name, Tensor value);
  /// Registers a buffer (state that is not learned).
  Tensor registerBuffer(const std::string &name, Tensor value);
  /// Registers a submodule under `name` and returns it.
  template <typename M>
  std::shared_ptr<M> registerModule(const std::string &name, std::shared_ptr<M> module) {
    adopt(name, module);
    return module;
  }
  template <typename M, typename = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>>>
  std::shared_ptr<std::decay_t<M>> registerModule(const std::string &name, M &&module) {
    return registerModule(name, std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }

  /// The graph value of this module's parameter or buffer `name`: the
  /// graph input of its dotted name (declared on first use).
  Value use(Graph &graph, const std::string &name) const;
  /// Records that `update` is the new value of buffer `name` after this
  /// forward pass in training mode (see bufferUpdates()).
  void updateBuffer(Graph &graph, const std::string &name, Value update);
  /// Records an invalid option; operator() reports it.
  void invalid(const std::string &message);
  /// A parameter of `shape` for the constructor: zeros, or an empty tensor
  /// and an error for an impossible shape.
  Tensor newTensor(const std::vector<int64_t> &shape);

private:
  void adopt(const std::string &name, std::shared_ptr<Module> module);
  void collect(const std::string &prefix, bool buffers, bool recurse,
               std::vector<NamedTensor> &out) const;

  std::string typeName_;
  std::string name_;
  Module *parent_ = nullptr;
  bool training_ = true;
  Status status_;
  std::vector<NamedTensor> parameters_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  struct PendingUpdate {
    uint64_t graph;
    std::string buffer;
    Value value;
  };
  std::vector<PendingUpdate> updates_;
};

/// Modules applied in order; their names are their positions ("0", "1", ...)
/// unless given.
class Sequential : public Module {
public:
  Sequential() : Module("Sequential") {}
  /// `Sequential(Conv2d(...), ReLU(), ...)`: modules by value or shared_ptr.
  template <typename... Ms, typename = std::enable_if_t<(sizeof...(Ms) > 0)>>
  explicit Sequential(Ms &&...modules) : Module("Sequential") {
    (push_back(std::forward<Ms>(modules)), ...);
  }
  template <typename M> void push_back(std::shared_ptr<M> module) {
    registerModule(std::to_string(children().size()), std::move(module));
  }
  template <typename M, typename = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>>>
  void push_back(M &&module) {
    registerModule(std::to_string(children().size()), std::forward<M>(module));
  }
  /// Appends under a name of its own (PyTorch's OrderedDict form).
  template <typename M> void push_back(const std::string &name, M &&module) {
    registerModule(name, std::forward<M>(module));
  }
  size_t size() const { return children().size(); }
  std::shared_ptr<Module> operator[](size_t index) const { return children().at(index).second; }

  Value forward(Graph &graph, Value input) override;
};

/// A forward pass of `module` compiled for inputs of one shape. The
/// parameters and buffers are read from the module's tensors at each run
/// (loading or training the module changes what it computes, without
/// recompiling); the mode (train/eval) is the module's at compile time.
class CompiledModule {
public:
  /// Runs on `input`; in training mode also writes batch norm's running
  /// statistics back into the module and draws new dropout masks.
  Result<Tensor> run(const Tensor &input) const;
  const Executable &executable() const;

  struct Impl;
  explicit CompiledModule(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

private:
  std::shared_ptr<Impl> impl_;
};

/// Builds `module`'s forward pass for an input of `inputShape` (graph input
/// "input", output "output") and compiles it.
Result<CompiledModule> compile(Module &module, std::vector<int64_t> inputShape,
                               const CompileOptions &options = {});

/// Builds `module`'s forward pass into a new graph: input "input" of
/// `inputShape`, output "output". The graph's other inputs are the
/// module's parameters and buffers by dotted name (and "<name>.mask" per
/// dropout layer in training mode).
Result<Graph> buildGraph(Module &module, std::vector<int64_t> inputShape,
                         const std::string &graphName = "forward");

/// Writes `module`'s eval-mode forward pass for an input of `inputShape`
/// as a tessel .mlir file with its parameters and buffers as constants: a
/// model `tessel-compile` compiles ahead of time and `tessel-run` runs
/// (function `graphName`, input "input", output "output").
Status exportMlir(Module &module, std::vector<int64_t> inputShape, const std::string &path,
                  const std::string &graphName = "forward");

/// A table of the layers of `module` run on an input of `inputShape`: type
/// and name, output shape, parameters and FLOPs per layer, then totals (as
/// torchsummary prints).
Result<std::string> summary(Module &module, std::vector<int64_t> inputShape);

/// Saves the module's state (stateDict()) as NumPy's .npz, keyed by dotted
/// names: `np.load(path)` in Python reads it.
Status save(const Module &module, const std::string &path);
/// Loads a .npz written by save() or by NumPy from a PyTorch state_dict
/// (`np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})`)
/// into the module's tensors, in place. Every name of the module must be in
/// the file with its shape and the file may hold no other name; otherwise
/// nothing is loaded and the error lists the names that differ.
Status load(Module &module, const std::string &path);

} // namespace nn
} // namespace tessel

#endif // TESSEL_NN_MODULE_H
