//===- TesselBase.td - Tessel dialect, enums and op base classes -*- tablegen -*-===//
//
// The tessel dialect: static graphs of convolutional-network ops on ranked
// tensors, with explicit layouts and shape-inferred results.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BASE_TD
#define TESSEL_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tessel_Dialect : Dialect {
  let name = "tessel";
  let cppNamespace = "::mlir::tessel";
  let summary = "Convolutional-network graphs with explicit layouts";
  let description = [{
    The tessel dialect holds a static graph of convolution, pooling and
    surrounding ops on ranked tensors. Every op infers its result type from
    its operands and attributes with PyTorch's shape formulas; a result type
    written in the IR must equal the inferred one. Data layouts are explicit
    attributes (`nchw`, `nhwc`, ...) and no op changes layout on its own: a
    layout change is always a `tessel.relayout`.

    Spatial attribute arrays (`strides`, `dilations`, `kernel`, ...) hold one
    entry per spatial dimension in the order the layout names them (D, H, W).
    `padding` holds the low (leading) pads of every spatial dimension followed
    by the high (trailing) pads, as ONNX's `pads`:
    `[h_low, w_low, h_high, w_high]` for 2-D.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    /// A function argument's or result's name as users see it (graph input
    /// and output names, ONNX value names); also on named constants.
    static constexpr ::llvm::StringLiteral kNameAttrName = "tessel.name";
    /// On a function result: the index of the argument whose new value it
    /// is (a training step's updates), computed in that argument's buffer.
    static constexpr ::llvm::StringLiteral kUpdatesAttrName = "tessel.updates";

    // Each op family registers its ops from its own file.
    void registerConvOps();
    void registerPoolOps();
    void registerNormOps();
    void registerElementwiseOps();
    void registerLinearOps();
    void registerTensorOps();
    void registerResampleOps();
    void registerReductionOps();
    void registerOptimizerOps();
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tessel_ActivationLayoutEnum : I32EnumAttr<"ActivationLayout",
    "activation layout: batch, channels and 1-3 spatial dims", [
  I32EnumAttrCase<"NCW", 0, "ncw">,
  I32EnumAttrCase<"NCHW", 1, "nchw">,
  I32EnumAttrCase<"NCDHW", 2, "ncdhw">,
  I32EnumAttrCase<"NWC", 3, "nwc">,
  I32EnumAttrCase<"NHWC", 4, "nhwc">,
  I32EnumAttrCase<"NDHWC", 5, "ndhwc">
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tessel";
}
def Tessel_ActivationLayoutAttr : EnumAttr<Tessel_Dialect, Tessel_ActivationLayoutEnum, "layout">;

def Tessel_FilterLayoutEnum : I32EnumAttr<"FilterLayout",
    "convolution filter layout (O: output channels, I: input channels)", [
  I32EnumAttrCase<"OIW", 0, "oiw">,
  I32EnumAttrCase<"OIHW", 1, "oihw">,
  I32EnumAttrCase<"OIDHW", 2, "oidhw">,
  I32EnumAttrCase<"IOW", 3, "iow">,
  I32EnumAttrCase<"IOHW", 4, "iohw">,
  I32EnumAttrCase<"IODHW", 5, "iodhw">,
  I32EnumAttrCase<"WIO", 6, "wio">,
  I32EnumAttrCase<"HWIO", 7, "hwio">,
  I32EnumAttrCase<"DHWIO", 8, "dhwio">
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tessel";
}
def Tessel_FilterLayoutAttr : EnumAttr<Tessel_Dialect, Tessel_FilterLayoutEnum, "filter_layout">;

def Tessel_PoolKindEnum : I32EnumAttr<"PoolKind", "pooling reduction", [
  I32EnumAttrCase<"Max", 0, "max">,
  I32EnumAttrCase<"Avg", 1, "avg">,
  I32EnumAttrCase<"Lp", 2, "lp">
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tessel";
}
def Tessel_PoolKindAttr : EnumAttr<Tessel_Dialect, Tessel_PoolKindEnum, "pool_kind">;

def Tessel_PadModeEnum : I32EnumAttr<"PadMode", "padding mode", [
  I32EnumAttrCase<"Constant", 0, "constant">,
  I32EnumAttrCase<"Reflect", 1, "reflect">,
  I32EnumAttrCase<"Replicate", 2, "replicate">,
  I32EnumAttrCase<"Circular", 3, "circular">
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tessel";
}
def Tessel_PadModeAttr : EnumAttr<Tessel_Dialect, Tessel_PadModeEnum, "pad_mode">;

def Tessel_UpsampleModeEnum : I32EnumAttr<"UpsampleMode", "interpolation mode", [
  I32EnumAttrCase<"Nearest", 0, "nearest">,
  I32EnumAttrCase<"Linear", 1, "linear">
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tessel";
}
def Tessel_UpsampleModeAttr : EnumAttr<Tessel_Dialect, Tessel_UpsampleModeEnum, "upsample_mode">;

def Tessel_ReductionEnum : I32EnumAttr<"Reduction", "loss reduction", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Mean", 1, "mean">,
  I32EnumAttrCase<"Sum", 2, "sum">
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tessel";
}
def Tessel_ReductionAttr : EnumAttr<Tessel_Dialect, Tessel_ReductionEnum, "reduction">;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Tessel_Float : AnyTypeOf<[F16, BF16, F32, F64]>;
// Every tensor of a tessel op is statically shaped and at most
// kMaxTensorBytes (2^47 bytes) big, so that no size computation overflows.
class Tessel_TensorOf<list<Type> types>
    : ConfinedType<StaticShapeTensorOf<types>,
                   [CPred<"::mlir::tessel::fitsInMemory($_self)">],
                   StaticShapeTensorOf<types>.summary # " of at most 2^47 bytes",
                   "::mlir::TensorType">;

def Tessel_Tensor : Tessel_TensorOf<[F16, BF16, F32, F64]>;
def Tessel_LabelTensor : Tessel_TensorOf<[I32, I64]>;
def Tessel_AnyTensor : Tessel_TensorOf<[F16, BF16, F32, F64, I32, I64]>;

//===----------------------------------------------------------------------===//
// Op base classes
//===----------------------------------------------------------------------===//

// Every tessel op has value semantics and no side effects.
class Tessel_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tessel_Dialect, mnemonic, !listconcat([Pure], traits)>;

// An op whose result types are computed from operands and attributes by a
// shape function (ShapeInference.h). A written result type must match it.
class Tessel_InferredOp<string mnemonic, list<Trait> traits = []>
    : Tessel_Op<mnemonic, !listconcat([InferTypeOpAdaptor], traits)>;

#endif // TESSEL_BASE_TD
