//===- Builders.h - Typed creation of tessel ops ----------------*- C++ -*-===//
//
// createInferred<OpTy> builds a tessel op from its operands and its typed
// properties (the inherent attributes, set through the generated setters),
// takes the result types from the op's shape function and verifies the op
// before anything is inserted. The graph API, the ONNX importer, the gradient
// rules and the decompositions create every op this way (onnx-mlir's
// createOpAndInferShapes and TOSA's CreateOpAndInferShape are the models), so
// they check exactly the dialect's rules and a misspelt op or attribute is a
// compile error.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TESSEL_IR_BUILDERS_H
#define TESSEL_DIALECTS_TESSEL_IR_BUILDERS_H

#include "dialects/tessel/IR/TesselDialect.h"

#include "mlir/IR/Builders.h"

namespace mlir::tessel {

/// The properties struct of `OpTy` (EmptyProperties for ops without inherent
/// attributes).
template <typename OpTy>
using PropertiesOf = typename OpTy::template InferredProperties<OpTy>;

namespace detail {
/// Creates the op `state` describes, verifies it while it is still detached,
/// and inserts it at `b`'s insertion point (so listeners such as a pattern
/// rewriter hear of it) only if it verifies. Otherwise the op is destroyed
/// unseen and null is returned; the verifier's diagnostics have been emitted.
Operation *insertIfValid(OpBuilder &b, OperationState &state);
} // namespace detail

/// Creates an `OpTy` on `operands` with inherent attributes `properties` and
/// the `discardable` attributes (such as tessel.name), its result types
/// inferred from its shape function. Returns null, having inserted nothing,
/// if an attribute is missing or invalid, the shape function refuses the
/// operands, or the op does not verify; the diagnostics are emitted at `loc`.
template <typename OpTy>
OpTy createInferred(OpBuilder &b, Location loc, ValueRange operands,
                    const PropertiesOf<OpTy> &properties = {},
                    ArrayRef<NamedAttribute> discardable = {}) {
  PropertiesOf<OpTy> props = properties;
  // Unset default-valued attributes take their defaults, as the parser does.
  OpTy::populateDefaultProperties(OperationName(OpTy::getOperationName(), b.getContext()),
                                  props);
  if (failed(typename OpTy::Adaptor(operands, DictionaryAttr(), props).verify(loc)))
    return nullptr;
  SmallVector<Type> types;
  if (failed(OpTy::inferReturnTypes(b.getContext(), loc, operands, DictionaryAttr(),
                                    OpaqueProperties(&props), RegionRange(), types)))
    return nullptr;
  OperationState state(loc, OpTy::getOperationName());
  state.addOperands(operands);
  state.addTypes(types);
  state.useProperties(props);
  state.addAttributes(discardable);
  return cast_or_null<OpTy>(detail::insertIfValid(b, state));
}

/// Creates ops through createInferred at one location, in a chain: after the
/// first op that fails (its diagnostics emitted), and for any null operand,
/// every later creation returns null, so a chain needs one check at its end.
/// Remembers the ops it created. The gradient rules and the decompositions
/// build on it.
class InferredOpBuilder {
public:
  InferredOpBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpBuilder &builder() { return b; }
  Location getLoc() const { return loc; }
  void setLoc(Location l) { loc = l; }
  bool failed() const { return hasFailed; }
  ArrayRef<Operation *> getCreated() const { return created; }

  /// Creates an `OpTy` with `properties` and returns its results (none once
  /// the chain failed).
  template <typename OpTy>
  SmallVector<Value> create(ValueRange operands,
                            const PropertiesOf<OpTy> &properties = {}) {
    if (hasFailed || llvm::any_of(operands, [](Value v) { return !v; })) {
      hasFailed = true;
      return {};
    }
    OpTy op = createInferred<OpTy>(b, loc, operands, properties);
    if (!op) {
      hasFailed = true;
      return {};
    }
    created.push_back(op);
    return op->getResults();
  }
  /// Creates a single-result `OpTy` (null once the chain failed).
  template <typename OpTy>
  Value create1(ValueRange operands, const PropertiesOf<OpTy> &properties = {}) {
    SmallVector<Value> results = create<OpTy>(operands, properties);
    return results.empty() ? Value() : results.front();
  }

  DenseI64ArrayAttr i64Array(ArrayRef<int64_t> values) {
    return b.getDenseI64ArrayAttr(values);
  }
  IntegerAttr i64(int64_t value) { return b.getI64IntegerAttr(value); }

  /// `a` as `shape` (itself when it has that shape).
  Value reshape(Value a, ArrayRef<int64_t> shape);
  Value transpose(Value a, ArrayRef<int64_t> perm);
  Value slice(Value a, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
              ArrayRef<int64_t> strides);
  /// Sums `a` over `axes` (itself for no axes).
  Value sum(Value a, ArrayRef<int64_t> axes, bool keepDims = false);

protected:
  OpBuilder &b;
  Location loc;

private:
  bool hasFailed = false;
  SmallVector<Operation *> created;
};

/// A dense i64 array attribute, or null for an empty `values`: the way an
/// optional array attribute is left unset.
inline DenseI64ArrayAttr optionalArray(MLIRContext *ctx, ArrayRef<int64_t> values) {
  return values.empty() ? DenseI64ArrayAttr() : DenseI64ArrayAttr::get(ctx, values);
}

} // namespace mlir::tessel

#endif // TESSEL_DIALECTS_TESSEL_IR_BUILDERS_H
