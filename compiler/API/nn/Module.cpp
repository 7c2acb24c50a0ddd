//===- Module.cpp - tessel::nn::Module, Sequential, compile, summary -------===//
//
// A module's parameters and buffers become graph inputs named by their
// dotted names the first time forward() uses them; compile() feeds the
// module's own tensors to those inputs at every run, so the compiled code
// never holds a copy of the weights.
//
//===----------------------------------------------------------------------===//

#include "tessel/nn.h"

#include "compiler/API/nn/Internal.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

using namespace tessel;
using namespace tessel::nn;

//===----------------------------------------------------------------------===//
// Sizes, Padding, layouts
//===----------------------------------------------------------------------===//

std::vector<int64_t> Sizes::expand(size_t rank) const {
  if (expand_)
    return std::vector<int64_t>(rank, values_.front());
  if (values_.size() != rank)
    return {};
  return values_;
}

Padding::Padding(const char *mode) {
  std::string text = mode ? mode : "";
  if (text == "same")
    kind_ = Kind::Same;
  else if (text == "valid")
    kind_ = Kind::Valid;
  else
    kind_ = Kind::Invalid;
  text_ = text;
}

Layout nn::layoutOf(DataFormat format, int64_t spatialRank) {
  static const Layout first[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW};
  static const Layout last[] = {Layout::NWC, Layout::NHWC, Layout::NDHWC};
  int64_t i = std::clamp<int64_t>(spatialRank, 1, 3) - 1;
  return format == DataFormat::ChannelsLast ? last[i] : first[i];
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

namespace {

/// One row of nn::summary(): a module called while a summary is recorded.
struct SummaryRow {
  int depth;
  std::string type, name;
  std::vector<int64_t> output;
  int64_t parameters = 0;
  double flops = 0;
  bool container = false;
};

/// Set while nn::summary() runs a forward pass on this thread.
thread_local std::vector<SummaryRow> *recording = nullptr;
thread_local int recordingDepth = 0;
/// Set while nn::exportMlir() builds its graph: parameters and buffers
/// become constants, each once, by dotted name.
thread_local std::map<std::string, Value> *baking = nullptr;

} // namespace

Module::Module(std::string typeName) : typeName_(std::move(typeName)) {}

Module::~Module() {
  for (auto &child : children_)
    if (child.second->parent_ == this)
      child.second->parent_ = nullptr;
}

Module::Module(Module &&other) noexcept
    : typeName_(std::move(other.typeName_)), name_(std::move(other.name_)),
      training_(other.training_), status_(std::move(other.status_)),
      parameters_(std::move(other.parameters_)), buffers_(std::move(other.buffers_)),
      children_(std::move(other.children_)), updates_(std::move(other.updates_)) {
  for (auto &child : children_)
    child.second->parent_ = this;
}

std::string Module::qualifiedName() const {
  std::string name;
  for (const Module *m = this; m && m->parent_; m = m->parent_)
    name = name.empty() ? m->name_ : m->name_ + "." + name;
  return name;
}

std::string Module::describe() const {
  std::string name = qualifiedName();
  return name.empty() ? typeName_ + " (root)" : typeName_ + " '" + name + "'";
}

void Module::adopt(const std::string &name, std::shared_ptr<Module> module) {
  if (!module) {
    invalid("submodule '" + name + "' is null");
    return;
  }
  if (name.empty() || name.find('.') != std::string::npos)
    invalid("a submodule name must be non-empty and without '.', got '" + name + "'");
  for (const auto &child : children_)
    if (child.first == name)
      invalid("two submodules are named '" + name + "'");
  // A module shared by two parents keeps the name of the first (as PyTorch
  // lists a shared module once, under its first name).
  if (!module->parent_) {
    module->parent_ = this;
    module->name_ = name;
  }
  children_.emplace_back(name, std::move(module));
}

Tensor Module::registerParameter(const std::string &name, Tensor value) {
  parameters_.push_back({name, value});
  return value;
}

Tensor Module::registerBuffer(const std::string &name, Tensor value) {
  buffers_.push_back({name, value});
  return value;
}

void Module::invalid(const std::string &message) {
  if (status_.ok())
    status_ = Status::error(message);
}

Tensor Module::newTensor(const std::vector<int64_t> &shape) {
  for (int64_t size : shape)
    if (size < 0) {
      invalid("a parameter would have the negative shape " + shapeString(shape));
      return Tensor();
    }
  Tensor t = Tensor::zeros(shape);
  if (t.empty())
    invalid("no memory for a parameter of shape " + shapeString(shape));
  return t;
}

void Module::collect(const std::string &prefix, bool buffers, bool recurse,
                     std::vector<NamedTensor> &out) const {
  for (const NamedTensor &entry : buffers ? buffers_ : parameters_) {
    bool seen = !entry.value.empty() &&
                std::any_of(out.begin(), out.end(), [&](const NamedTensor &e) {
                  return e.value.data() == entry.value.data();
                });
    if (!seen)
      out.push_back({prefix + entry.name, entry.value});
  }
  if (recurse)
    for (const auto &[name, child] : children_)
      child->collect(prefix + name + ".", buffers, true, out);
}

std::vector<NamedTensor> Module::namedParameters(bool recurse) const {
  std::vector<NamedTensor> out;
  collect("", false, recurse, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (NamedTensor &entry : namedParameters(recurse))
    out.push_back(entry.value);
  return out;
}

std::vector<NamedTensor> Module::namedBuffers(bool recurse) const {
  std::vector<NamedTensor> out;
  collect("", true, recurse, out);
  return out;
}

std::vector<NamedTensor> Module::stateDict() const {
  std::vector<NamedTensor> out = namedParameters();
  for (NamedTensor &entry : namedBuffers())
    out.push_back(entry);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::namedModules() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  for (const auto &[name, child] : children_) {
    out.emplace_back(name, child);
    for (auto &[sub, module] : child->namedModules())
      out.emplace_back(name + "." + sub, module);
  }
  return out;
}

Tensor Module::tensor(const std::string &name) const {
  for (const NamedTensor &entry : stateDict())
    if (entry.name == name)
      return entry.value;
  return Tensor();
}

int64_t Module::numParameters() const {
  int64_t n = 0;
  for (const NamedTensor &entry : namedParameters())
    n += entry.value.empty() ? 0 : entry.value.numElements();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto &child : children_)
    child.second->train(on);
}

void Module::setDataFormat(DataFormat format) {
  for (auto &child : children_)
    child.second->setDataFormat(format);
}

Status Module::status() const {
  if (!status_.ok())
    return Status::error(describe() + ": " + status_.message());
  for (const auto &child : children_)
    if (Status s = child.second->status(); !s.ok())
      return s;
  return Status();
}

double Module::flops(const std::vector<int64_t> &, const std::vector<int64_t> &) const {
  return 0;
}

Value Module::use(Graph &graph, const std::string &name) const {
  std::string prefix = qualifiedName();
  std::string full = prefix.empty() ? name : prefix + "." + name;
  const NamedTensor *entry = nullptr;
  for (const auto *list : {&parameters_, &buffers_})
    for (const NamedTensor &e : *list)
      if (e.name == name)
        entry = &e;
  if (!entry || entry->value.empty()) {
    graph.fail(describe() + " has no tensor '" + name + "'");
    return Value();
  }
  if (baking) {
    auto [it, added] = baking->emplace(full, Value());
    if (added)
      it->second = graph.constant(entry->value);
    return it->second;
  }
  if (Value existing = graph.findInput(full); existing.valid()) {
    if (graph.shape(existing) != entry->value.shape()) {
      graph.fail(describe() + ": the graph already has an input '" + full + "' of shape " +
                 shapeString(graph.shape(existing)) + ", not " +
                 entry->value.shapeString());
      return Value();
    }
    return existing;
  }
  return graph.input(full, entry->value.shape());
}

void Module::updateBuffer(Graph &graph, const std::string &name, Value update) {
  updates_.push_back({graph.id(), name, update});
}

std::vector<std::pair<std::string, Value>> Module::bufferUpdates(const Graph &graph) const {
  std::vector<std::pair<std::string, Value>> out;
  std::string prefix = qualifiedName();
  for (const PendingUpdate &u : updates_)
    if (u.graph == graph.id())
      out.emplace_back(prefix.empty() ? u.buffer : prefix + "." + u.buffer, u.value);
  for (const auto &child : children_)
    for (auto &entry : child.second->bufferUpdates(graph))
      out.push_back(std::move(entry));
  return out;
}

Value Module::operator()(Graph &graph, Value input) {
  if (!graph.status().ok())
    return Value();
  if (Status s = status(); !s.ok()) {
    graph.fail(s.message());
    return Value();
  }
  size_t row = 0;
  if (recording) {
    row = recording->size();
    int64_t own = 0;
    for (const NamedTensor &entry : namedParameters(false))
      own += entry.value.numElements();
    recording->push_back({recordingDepth, typeName_, qualifiedName(), {}, own, 0,
                          !children_.empty()});
    ++recordingDepth;
  }
  Value output = forward(graph, input);
  if (recording) {
    --recordingDepth;
    (*recording)[row].output = graph.shape(output);
    if (graph.status().ok())
      (*recording)[row].flops = flops(graph.shape(input), graph.shape(output));
  }
  if (!graph.status().ok()) {
    // The innermost module names itself; the modules around it add nothing.
    if (graph.status().message().find(" [in ") == std::string::npos)
      graph.addErrorContext("in " + describe());
    return Value();
  }
  return output;
}

Value Sequential::forward(Graph &graph, Value input) {
  Value x = input;
  for (const auto &child : children())
    x = (*child.second)(graph, x);
  return x;
}

//===----------------------------------------------------------------------===//
// Building and compiling
//===----------------------------------------------------------------------===//

Result<Graph> nn::buildGraph(Module &module, std::vector<int64_t> inputShape,
                             const std::string &graphName) {
  Graph graph(graphName);
  Value x = graph.input("input", std::move(inputShape));
  Value y = module(graph, x);
  graph.output("output", y);
  if (module.isTraining())
    for (const auto &[name, value] : module.bufferUpdates(graph))
      graph.output(name, value);
  if (!graph.status().ok())
    return graph.status();
  return std::move(graph);
}

std::map<std::string, double> nn::dropoutMasks(const Module &module) {
  std::map<std::string, double> masks;
  auto visit = [&](const std::string &name, const Module &m) {
    if (auto *d = dynamic_cast<const Dropout *>(&m))
      masks.emplace(name.empty() ? "mask" : name + ".mask", d->p());
  };
  visit("", module);
  for (const auto &[name, m] : module.namedModules())
    visit(name, *m);
  return masks;
}

std::map<std::string, Tensor> nn::stateByName(const Module &module) {
  std::map<std::string, Tensor> state;
  for (NamedTensor &entry : module.stateDict())
    state.emplace(entry.name, entry.value);
  return state;
}

Result<std::vector<Tensor>> nn::gatherInputs(const std::vector<TensorInfo> &infos,
                                             const std::map<std::string, Tensor> &fixed,
                                             const std::map<std::string, double> &dropouts,
                                             const std::map<std::string, Tensor> &perRun) {
  std::vector<Tensor> inputs;
  for (const TensorInfo &info : infos) {
    if (auto it = fixed.find(info.name); it != fixed.end())
      inputs.push_back(it->second);
    else if (auto it = perRun.find(info.name); it != perRun.end())
      inputs.push_back(it->second);
    else if (auto it = dropouts.find(info.name); it != dropouts.end())
      inputs.push_back(dropoutMask(it->second, info.shape));
    else
      return Result<std::vector<Tensor>>::error("no tensor for the input '" + info.name + "'");
  }
  return inputs;
}

Status nn::exportMlir(Module &module, std::vector<int64_t> inputShape, const std::string &path,
                      const std::string &graphName) {
  bool wasTraining = module.isTraining();
  module.eval();
  std::map<std::string, Value> constants;
  baking = &constants;
  auto graph = buildGraph(module, std::move(inputShape), graphName);
  baking = nullptr;
  module.train(wasTraining);
  if (!graph)
    return graph.status();
  std::ofstream out(path);
  out << graph->toMlir();
  if (!out)
    return Status::error("nn::exportMlir: cannot write '" + path + "'");
  return Status();
}

struct CompiledModule::Impl {
  Executable executable;
  std::map<std::string, Tensor> state;
  std::map<std::string, double> dropouts;
  size_t output = 0;
  /// Outputs that are new buffer values, and the buffers they go to.
  std::vector<std::pair<size_t, Tensor>> updates;
};

Result<CompiledModule> nn::compile(Module &module, std::vector<int64_t> inputShape,
                                   const CompileOptions &options) {
  auto graph = buildGraph(module, std::move(inputShape));
  if (!graph)
    return graph.status();
  auto executable = tessel::compile(*graph, options);
  if (!executable)
    return executable.status();
  auto impl = std::make_shared<CompiledModule::Impl>(
      CompiledModule::Impl{*executable, stateByName(module), dropoutMasks(module), 0, {}});
  for (size_t i = 0; i < executable->outputs().size(); ++i) {
    const TensorInfo &info = executable->outputs()[i];
    if (info.name == "output")
      impl->output = i;
    else if (auto it = impl->state.find(info.name); it != impl->state.end())
      impl->updates.emplace_back(i, it->second);
  }
  return CompiledModule(std::move(impl));
}

Result<Tensor> CompiledModule::run(const Tensor &input) const {
  auto inputs = gatherInputs(impl_->executable.inputs(), impl_->state, impl_->dropouts,
                             {{"input", input}});
  if (!inputs)
    return inputs.status();
  auto outputs = impl_->executable.run(*inputs);
  if (!outputs)
    return outputs.status();
  for (const auto &[index, buffer] : impl_->updates) {
    Tensor target = buffer;
    std::memcpy(target.data(), (*outputs)[index].data(),
                target.numElements() * sizeof(float));
  }
  return (*outputs)[impl_->output];
}

const Executable &CompiledModule::executable() const { return impl_->executable; }

//===----------------------------------------------------------------------===//
// Summary
//===----------------------------------------------------------------------===//

namespace {

std::string withCommas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string scaled(double value, const char *unit) {
  static const char *prefixes[] = {"", "K", "M", "G", "T"};
  int i = 0;
  while (value >= 1000 && i < 4) {
    value /= 1000;
    ++i;
  }
  std::ostringstream os;
  os << std::fixed << std::setprecision(i ? 2 : 0) << value << " " << prefixes[i] << unit;
  return os.str();
}

} // namespace

Result<std::string> nn::summary(Module &module, std::vector<int64_t> inputShape) {
  std::vector<SummaryRow> rows;
  Graph graph("summary");
  Value x = graph.input("input", inputShape);
  recording = &rows;
  recordingDepth = 0;
  Value y = module(graph, x);
  recording = nullptr;
  if (!graph.status().ok())
    return graph.status();
  // A container's row shows its submodules' totals.
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].container)
      for (size_t j = i + 1; j < rows.size() && rows[j].depth > rows[i].depth; ++j) {
        rows[i].parameters += rows[j].parameters;
        if (!rows[j].container)
          rows[i].flops += rows[j].flops;
      }
  std::ostringstream os;
  auto line = [&](const std::string &layer, const std::string &shape, const std::string &params,
                  const std::string &flops) {
    os << std::left << std::setw(40) << layer << std::setw(22) << shape << std::right
       << std::setw(14) << params << std::setw(16) << flops << "\n";
  };
  std::string rule(92, '-');
  line("Layer (type)", "Output shape", "Param #", "FLOPs");
  os << rule << "\n";
  line("Input", shapeString(inputShape), "", "");
  for (const SummaryRow &r : rows) {
    std::string label = std::string(2 * r.depth, ' ') + r.type;
    if (!r.name.empty())
      label += " " + r.name;
    line(label, shapeString(r.output), withCommas(r.parameters), scaled(r.flops, "FLOP"));
  }
  os << rule << "\n";
  int64_t buffers = 0;
  for (const NamedTensor &entry : module.namedBuffers())
    buffers += entry.value.numElements();
  double flops = 0;
  for (const SummaryRow &r : rows)
    if (!r.container)
      flops += r.flops;
  int64_t params = module.numParameters();
  os << "Total params: " << withCommas(params) << "\n"
     << "Buffers: " << withCommas(buffers) << " elements\n"
     << "Forward FLOPs: " << scaled(flops, "FLOP") << " (conv and linear layers, 2 per "
     << "multiply-add)\n"
     << "Parameter size: " << std::fixed << std::setprecision(2)
     << double(params) * sizeof(float) / (1 << 20) << " MiB\n"
     << "Output: " << shapeString(graph.shape(y)) << "\n";
  return os.str();
}
