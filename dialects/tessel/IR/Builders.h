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

/// A dense i64 array attribute, or null for an empty `values`: the way an
/// optional array attribute is left unset.
inline DenseI64ArrayAttr optionalArray(MLIRContext *ctx, ArrayRef<int64_t> values) {
  return values.empty() ? DenseI64ArrayAttr() : DenseI64ArrayAttr::get(ctx, values);
}

} // namespace mlir::tessel

#endif // TESSEL_DIALECTS_TESSEL_IR_BUILDERS_H
