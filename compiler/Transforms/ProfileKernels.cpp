//===- ProfileKernels.cpp - The tessel-profile-kernels pass ---------------===//

#include "compiler/Passes.h"


#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::tessel {
#define GEN_PASS_DEF_TESSELPROFILEKERNELS
#include "compiler/Passes.h.inc"
} // namespace mlir::tessel

using namespace mlir;

std::string tessel::getOpLabel(Location loc) {
  std::string label;
  loc->walk([&](Location inner) {
    if (auto name = dyn_cast<NameLoc>(inner)) {
      if (!label.empty())
        label += " + ";
      label += name.getName().str();
      return WalkResult::skip();
    }
    return WalkResult::advance();
  });
  return label;
}

namespace {

struct ProfileKernelsPass : tessel::impl::TesselProfileKernelsBase<ProfileKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    OpBuilder b(context);
    auto i64 = b.getI64Type();
    auto declare = [&](StringRef name, FunctionType type) {
      if (auto existing = module.lookupSymbol<func::FuncOp>(name))
        return existing;
      b.setInsertionPointToStart(module.getBody());
      auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
      fn.setPrivate();
      return fn;
    };
    func::FuncOp clock = declare("tessel_profile_clock", b.getFunctionType({}, {i64}));
    func::FuncOp record = declare("tessel_profile_record", b.getFunctionType({i64, i64}, {}));

    DataLayout dataLayout(module);
    SmallVector<Attribute> sites;
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal() || fn.getSymName().starts_with(tessel::kKernelPrefix))
        continue;
      fn.walk([&](func::CallOp call) {
        if (!call.getCallee().starts_with(tessel::kKernelPrefix))
          return;
        int64_t bytes = 0;
        // Element sizes from the module's data layout: index buffers (a max
        // pool's argmax, kept for its gradient) included; a fill kernel's
        // buffer by its static type before the cast to dynamic sizes.
        for (Value v : call.getOperands()) {
          if (auto cast = v.getDefiningOp<memref::CastOp>())
            v = cast.getSource();
          if (auto type = dyn_cast<MemRefType>(v.getType()); type && type.hasStaticShape())
            bytes += type.getNumElements() *
                     static_cast<int64_t>(dataLayout.getTypeSize(type.getElementType()));
        }
        // The layers fused into the kernel: the names of its ops' locations.
        // Those whose multiply-adds it computes (a layer whose padding
        // or packing is a kernel of its own names both) come apart.
        llvm::SetVector<StringRef> names, computed;
        if (auto kernel = module.lookupSymbol<func::FuncOp>(call.getCallee()))
          kernel.walk([&](Operation *op) {
            auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
            bool multiplyAdds =
                isa<vector::ContractionOp, vector::FMAOp, vector::OuterProductOp>(op) ||
                (linalgOp && linalgOp.getNumReductionLoops() > 0);
            op->getLoc()->walk([&](Location inner) {
              if (auto name = dyn_cast<NameLoc>(inner)) {
                names.insert(name.getName().strref());
                if (multiplyAdds)
                  computed.insert(name.getName().strref());
                return WalkResult::skip();
              }
              return WalkResult::advance();
            });
          });
        std::string label = llvm::join(names, " + ");
        sites.push_back(b.getDictionaryAttr(
            {b.getNamedAttr("kernel", b.getStringAttr(call.getCallee())),
             b.getNamedAttr("label", b.getStringAttr(label)),
             b.getNamedAttr("computes", b.getStringAttr(llvm::join(computed, " + "))),
             b.getNamedAttr("bytes", b.getI64IntegerAttr(bytes))}));
        Location loc = call.getLoc();
        b.setInsertionPoint(call);
        Value start = func::CallOp::create(b, loc, clock, ValueRange{}).getResult(0);
        b.setInsertionPointAfter(call);
        Value site = arith::ConstantIntOp::create(b, loc, i64, sites.size() - 1);
        func::CallOp::create(b, loc, record, ValueRange{site, start});
      });
    }
    module->setAttr(tessel::kProfileSitesAttrName, b.getArrayAttr(sites));
  }
};

} // namespace
