//===- conformance.cpp - ONNX's backend tests through Tessel --------------===//
//
// tessel-onnx-conformance [--fold] --data DIR --coverage docs/onnx-coverage.md PATTERN...
//
// Runs every backend test of Debian's libonnx-testdata (DIR/node/*,
// DIR/pytorch-converted/*) whose name matches a PATTERN (shell globs):
// imports model.onnx, JIT-compiles it, runs each test_data_set_N on its
// recorded inputs and compares with the recorded outputs (|got - want| <=
// 1e-5 + 1e-3 * |want|, ONNX's backend tolerance with a float32 absolute
// floor). Tests listed in the coverage document's table are expected to be
// unsupported: they must fail to import, and passing one is an error too
// (the document would be stale). Prints one line per test and a summary;
// exits 1 on any unexpected result.
//
// --fold tests the importer's evaluator of constant nodes instead: every
// input becomes a Constant node, so the whole graph is evaluated at import,
// and each output must be a constant equal to the recorded one (integers
// and booleans exactly). The table's tests may pass then (it lists what the
// JIT does not support, e.g. integer outputs).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OnnxImporter.h"
#include "tessel/Compiler.h"

#include "onnx/onnx_pb.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <functional>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace tessel;

namespace {

/// `| test_name | reason |` rows of the coverage document.
std::map<std::string, std::string> readCoverage(const std::string &path) {
  std::map<std::string, std::string> known;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    llvm::errs() << "cannot read " << path << "\n";
    std::exit(2);
  }
  llvm::SmallVector<llvm::StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (llvm::StringRef line : lines) {
    line = line.trim();
    if (!line.starts_with("| `test_"))
      continue;
    auto [name, rest] = line.drop_front(3).split('`');
    known[name.str()] = rest.trim().trim('|').trim().str();
  }
  return known;
}

/// Compares one output; returns an empty string when it matches.
std::string compare(const Tensor &got, const detail::OnnxTensor &want) {
  if (got.shape() != want.shape)
    return "shape " + got.shapeString() + ", expected " +
           Tensor::borrow(nullptr, want.shape).shapeString();
  if (!want.isFloat)
    return "expected an integer output";
  double worst = 0;
  int64_t worstAt = 0;
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double g = got.data()[i], w = want.floats[i];
    bool bothNan = std::isnan(g) && std::isnan(w);
    double excess = bothNan ? 0 : std::fabs(g - w) - (1e-5 + 1e-3 * std::fabs(w));
    if (std::isnan(excess) || excess > worst) {
      worst = std::isnan(excess) ? INFINITY : excess;
      worstAt = i;
    }
  }
  if (worst <= 0)
    return "";
  return "element " + std::to_string(worstAt) + " is " + std::to_string(got.data()[worstAt]) +
         ", expected " + std::to_string(want.floats[worstAt]);
}

/// Compares a folded output with the recorded one; empty when they match.
std::string compareFolded(mlir::ElementsAttr got, const detail::OnnxTensor &want) {
  auto type = llvm::cast<mlir::ShapedType>(got.getType());
  if (std::vector<int64_t>(type.getShape().begin(), type.getShape().end()) != want.shape)
    return "a folded output of another shape";
  std::vector<double> values;
  if (type.getElementType().isInteger()) {
    if (want.isFloat)
      return "an integer output, expected floats";
    int64_t i = 0;
    for (const llvm::APInt &v : got.getValues<llvm::APInt>()) {
      if (v.getSExtValue() != want.ints[i])
        return "element " + std::to_string(i) + " is " + std::to_string(v.getSExtValue()) +
               ", expected " + std::to_string(want.ints[i]);
      ++i;
    }
    return "";
  }
  if (!want.isFloat)
    return "a float output, expected integers";
  int64_t i = 0;
  for (const llvm::APFloat &v : got.getValues<llvm::APFloat>()) {
    double g = v.convertToDouble(), w = want.floats[i];
    if (!(std::isnan(g) && std::isnan(w)) && !(std::fabs(g - w) <= 1e-5 + 1e-3 * std::fabs(w)))
      return "element " + std::to_string(i) + " is " + std::to_string(g) + ", expected " +
             std::to_string(w);
    ++i;
  }
  return "";
}

/// Imports `model` with every input made a Constant node of its recorded
/// value (`inputFile(i)`), and compares the folded outputs.
std::string runFolded(const onnx::ModelProto &model,
                      const std::vector<const onnx::ValueInfoProto *> &inputs,
                      const std::function<std::string(const std::string &)> &file) {
  onnx::ModelProto folded = model;
  onnx::GraphProto *graph = folded.mutable_graph();
  graph->clear_input();
  graph->clear_node();
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string path = file("input_" + std::to_string(i) + ".pb");
    auto raw = llvm::MemoryBuffer::getFile(path);
    onnx::NodeProto *constant = graph->add_node();
    constant->set_op_type("Constant");
    constant->add_output(inputs[i]->name());
    onnx::AttributeProto *value = constant->add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    if (!raw || !value->mutable_t()->ParseFromArray((*raw)->getBufferStart(),
                                                    static_cast<int>((*raw)->getBufferSize())))
      return "cannot read " + path;
  }
  for (const onnx::NodeProto &node : model.graph().node())
    *graph->add_node() = node;
  mlir::MLIRContext context;
  detail::OnnxImportOptions options;
  options.integerConstantOutputs = true;
  auto module =
      detail::importOnnxBytes(context, folded.SerializeAsString(), "model.onnx", options);
  if (!module)
    return module.message();
  auto fn = *(*module)->getOps<mlir::func::FuncOp>().begin();
  mlir::Operation *ret = fn.getBody().front().getTerminator();
  for (int i = 0; i < model.graph().output_size(); ++i) {
    mlir::ElementsAttr got;
    if (!mlir::matchPattern(ret->getOperand(i), mlir::m_Constant(&got)))
      return "output " + std::to_string(i) + " is not folded";
    auto want = detail::readOnnxTensorFile(file("output_" + std::to_string(i) + ".pb"));
    if (!want)
      return want.message();
    std::string mismatch = compareFolded(got, *want);
    if (!mismatch.empty())
      return "output " + std::to_string(i) + ": " + mismatch;
  }
  return "";
}

/// Whether graph input `name` must be bound to its recorded value: Tessel
/// compiles static shapes, so integer inputs and the parameters of Resize,
/// Upsample, Clip and Pad (scales, sizes, pads, bounds) become initializers.
bool mustBind(const onnx::ModelProto &model, const onnx::ValueInfoProto &input) {
  if (input.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
    return true;
  for (const onnx::NodeProto &node : model.graph().node()) {
    const std::string &type = node.op_type();
    if (type != "Resize" && type != "Upsample" && type != "Clip" && type != "Pad")
      continue;
    for (int i = 1; i < node.input_size(); ++i)
      if (node.input(i) == input.name())
        return true;
  }
  return false;
}

/// Runs one backend test directory; returns an empty string on success.
std::string runTest(const std::string &dir, bool fold) {
  llvm::SmallString<256> modelPath(dir);
  llvm::sys::path::append(modelPath, "model.onnx");
  auto bytes = llvm::MemoryBuffer::getFile(modelPath);
  if (!bytes)
    return "cannot read " + modelPath.str().str();
  onnx::ModelProto model;
  if (!model.ParseFromArray((*bytes)->getBufferStart(),
                            static_cast<int>((*bytes)->getBufferSize())))
    return "model.onnx does not parse";
  std::set<std::string> initializers;
  for (const onnx::TensorProto &t : model.graph().initializer())
    initializers.insert(t.name());
  std::vector<const onnx::ValueInfoProto *> inputs;
  for (const onnx::ValueInfoProto &in : model.graph().input())
    if (!initializers.count(in.name()))
      inputs.push_back(&in);

  int sets = 0;
  for (int set = 0;; ++set) {
    llvm::SmallString<256> setDir(dir);
    llvm::sys::path::append(setDir, "test_data_set_" + std::to_string(set));
    if (!llvm::sys::fs::is_directory(setDir))
      break;
    ++sets;
    auto file = [&](const std::string &name) {
      llvm::SmallString<256> path(setDir);
      llvm::sys::path::append(path, name);
      return path.str().str();
    };
    if (fold) {
      if (std::string error = runFolded(model, inputs, file); !error.empty())
        return "data set " + std::to_string(set) + ": " + error;
      continue;
    }
    // Bind the inputs that fix shapes, run on the others.
    onnx::ModelProto specialized = model;
    specialized.mutable_graph()->clear_input();
    std::map<std::string, Tensor> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string path = file("input_" + std::to_string(i) + ".pb");
      if (mustBind(model, *inputs[i])) {
        auto raw = llvm::MemoryBuffer::getFile(path);
        onnx::TensorProto *bound = specialized.mutable_graph()->add_initializer();
        if (!raw || !bound->ParseFromArray((*raw)->getBufferStart(),
                                           static_cast<int>((*raw)->getBufferSize())))
          return "cannot read " + path;
        bound->set_name(inputs[i]->name());
        continue;
      }
      *specialized.mutable_graph()->add_input() = *inputs[i];
      auto t = detail::readOnnxTensorFile(path);
      if (!t)
        return t.message();
      Tensor input = Tensor::zeros(t->shape);
      std::copy(t->floats.begin(), t->floats.end(), input.data());
      feeds[inputs[i]->name()] = input;
    }
    llvm::SmallString<256> temporary;
    int fd;
    if (llvm::sys::fs::createTemporaryFile("conformance", "onnx", fd, temporary))
      return "cannot create a temporary file";
    {
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      os << specialized.SerializeAsString();
    }
    CompileOptions options;
    options.threads = 1;
    Result<Executable> exe = compileFile(temporary.str().str(), options);
    llvm::sys::fs::remove(temporary);
    if (!exe)
      return exe.message();
    auto outputs = exe->run(feeds);
    if (!outputs)
      return outputs.message();
    for (int i = 0; i < model.graph().output_size(); ++i) {
      auto want = detail::readOnnxTensorFile(file("output_" + std::to_string(i) + ".pb"));
      if (!want)
        return want.message();
      std::string mismatch = compare(outputs->at(model.graph().output(i).name()), *want);
      if (!mismatch.empty())
        return "data set " + std::to_string(set) + ", output " + std::to_string(i) + ": " +
               mismatch;
    }
  }
  return sets ? "" : "no test_data_set_0";
}

} // namespace

int main(int argc, char **argv) {
  std::string data, coverage;
  bool fold = false;
  // GlobPattern refers to its text: keep the arguments alive.
  std::vector<std::string> texts;
  std::vector<llvm::GlobPattern> patterns;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (arg == "--fold") {
      fold = true;
    } else if (arg == "--coverage" && i + 1 < argc) {
      coverage = argv[++i];
    } else {
      texts.push_back(arg);
    }
  }
  for (const std::string &arg : texts) {
    auto pattern = llvm::GlobPattern::create(arg);
    if (!pattern) {
      llvm::errs() << "bad pattern '" << arg << "'\n";
      return 2;
    }
    patterns.push_back(std::move(*pattern));
  }
  if (data.empty() || coverage.empty() || patterns.empty()) {
    llvm::errs() << "usage: " << argv[0] << " [--fold] --data DIR --coverage FILE PATTERN...\n";
    return 2;
  }
  std::map<std::string, std::string> known = readCoverage(coverage);

  std::vector<std::pair<std::string, std::string>> tests; // name, directory
  for (const char *suite : {"node", "pytorch-converted"}) {
    llvm::SmallString<256> root(data);
    llvm::sys::path::append(root, suite);
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(root, ec), end; it != end && !ec;
         it.increment(ec)) {
      std::string name = llvm::sys::path::filename(it->path()).str();
      if (llvm::any_of(patterns, [&](const llvm::GlobPattern &p) { return p.match(name); }))
        tests.emplace_back(name, it->path());
    }
  }
  std::sort(tests.begin(), tests.end());
  if (tests.empty()) {
    llvm::errs() << "no backend test under " << data << " matches\n";
    return 2;
  }

  int passed = 0, failed = 0, unsupported = 0;
  for (const auto &[name, dir] : tests) {
    std::string error = runTest(dir, fold);
    auto listed = known.find(name);
    // The table is about the JIT: under --fold a listed test may pass.
    if (error.empty() && (listed == known.end() || fold)) {
      ++passed;
      llvm::outs() << "PASS " << name << "\n";
    } else if (error.empty()) {
      ++failed;
      llvm::outs() << "UNEXPECTED PASS " << name
                   << " (listed as unsupported in the coverage document)\n";
    } else if (listed != known.end()) {
      ++unsupported;
      llvm::outs() << "UNSUPPORTED " << name << ": " << listed->second << "\n";
    } else {
      ++failed;
      llvm::outs() << "FAIL " << name << ": " << error << "\n";
    }
  }
  llvm::outs() << passed << " passed, " << failed << " failed, " << unsupported
               << " listed as unsupported\n";
  return failed ? 1 : 0;
}
