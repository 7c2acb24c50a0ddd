//===- GraphImpl.h - What a tessel::Graph holds -----------------*- C++ -*-===//

#ifndef TESSEL_COMPILER_API_GRAPHIMPL_H
#define TESSEL_COMPILER_API_GRAPHIMPL_H

#include "tessel/Graph.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>

namespace tessel {

/// The graph is tessel IR from the start: a module with one function whose
/// arguments are the inputs; the outputs become its return when the graph is
/// printed or compiled.
struct Graph::Impl {
  explicit Impl(std::string name);

  std::string name;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp function;
  mlir::OpBuilder builder;
  std::vector<mlir::Value> values;
  std::vector<std::string> inputNames;
  std::vector<std::pair<std::string, int>> outputs;
  /// Outputs (by name) that are the new value of an input (by index), which
  /// compiled code updates in place: a training step's parameters and state.
  std::map<std::string, unsigned> updates;
  Status status;
  int opCount = 0;
  /// Stamped on this graph's values (Value::graph()), unique per graph.
  uint64_t token;
  /// The graphs this one was copied from, with how many values each had
  /// then: their values up to that count are this graph's too.
  std::vector<std::pair<uint64_t, int>> ancestors;

  /// The handle of values[id].
  Value value(int id) const { return Value(id, token); }
  /// Whether `v` is a value of this graph (its own, or an ancestor's that
  /// existed when this graph was copied from it).
  bool owns(Value v) const;

  /// A module holding the finished function (with its return), ready to
  /// print or compile.
  mlir::OwningOpRef<mlir::ModuleOp> finish() const;
};

} // namespace tessel

#endif // TESSEL_COMPILER_API_GRAPHIMPL_H
