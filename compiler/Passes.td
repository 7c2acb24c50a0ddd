//===- Passes.td - Tessel's passes ---------------------------*- tablegen -*-===//
//
// Every Tessel pass is declared here; compiler/Passes.h generates their
// declarations and registration.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_PASSES_TD
#define TESSEL_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def TesselConvertLayout : Pass<"tessel-convert-layout"> {
  let summary = "Compute convolutions, pooling and batch norm channels-last";
  let description = [{
    Rewrites every channels-first convolution, pooling and batch norm into
    its channels-last form between two `tessel.relayout` ops, and every
    O-first or I-first filter into a spatial-first one with a
    `tessel.transpose` (folded at compile time for constant weights). It
    then sinks relayouts through elementwise ops and cancels the pairs that
    meet, so a channels-first graph converts its layout once at each edge.
  }];
}

def TesselAutodiff : Pass<"tessel-autodiff", "::mlir::ModuleOp"> {
  let summary = "Append gradients (vector-Jacobian products) to a function";
  let description = [{
    Reverse-mode differentiation on the tessel dialect. For the function
    `function` (default: the module's only function), adds one result
    `grad_<name>` per value named in `wrt` (arguments by their `tessel.name`
    or `arg<i>`, or constants carrying a `tessel.name` attribute; default:
    every float argument): the gradient of the outputs named in `loss`
    (default: the only output) with respect to it. A loss must be a scalar
    (its cotangent is 1) unless `seeds-as-inputs` is set, which adds an
    argument `seed_<output>` holding each output's cotangent.

    The backward ops are ordinary tessel ops (conv_transpose and
    conv_backward_filter for convolutions, pool_backward for pooling,
    elementwise and reduction ops for the rest), so they are laid out,
    tiled, fused and vectorized like forward ops. Only ops on a path from a
    wrt value to a loss are differentiated; an op there without a gradient
    rule is an error naming it. A wrt value the loss does not depend on gets
    a zero gradient and a warning.

    ```
    tessel-opt --tessel-autodiff="loss=loss wrt=w1,b1" model.mlir
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"\"",
           "Function to differentiate (default: the only one)">,
    ListOption<"loss", "loss", "std::string",
               "Outputs to differentiate (default: the only output)">,
    ListOption<"wrt", "wrt", "std::string",
               "Inputs or named constants to differentiate with respect to "
               "(default: every float input)">,
    Option<"seedsAsInputs", "seeds-as-inputs", "bool", "false",
           "Take each output's cotangent as an argument seed_<output>">,
  ];
}

def TesselJvp : Pass<"tessel-jvp", "::mlir::ModuleOp"> {
  let summary = "Append Jacobian-vector products (forward-mode derivatives) to a function";
  let description = [{
    Forward-mode differentiation on the tessel dialect. For the function
    `function` (default: the module's only function), adds one argument
    `tangent_<name>` per value named in `wrt` (arguments by their
    `tessel.name` or `arg<i>`, or constants carrying a `tessel.name`
    attribute; default: every float argument) and one result
    `jvp_<output>` per output named in `outputs` (default: every float
    output): the derivative of that output when each wrt value moves along
    its tangent. Values not named in `wrt` have tangent zero.

    Each op's tangent is built from ordinary tessel ops (the op itself on the
    tangents for linear ops, both operand orders for bilinear ones such as
    conv, `pool_tangent` for max pooling), so it compiles like a forward
    graph. Only ops reading a value with a tangent are differentiated; an op
    there without a tangent rule (the optimizer updates) is an error naming
    it. Run after `tessel-autodiff`, it gives forward-over-reverse
    Hessian-vector products: the tangent of `grad_<name>` is the Hessian
    times the tangents.

    ```
    tessel-opt --tessel-jvp="wrt=x,w1" model.mlir
    tessel-opt --tessel-autodiff="wrt=w" --tessel-jvp="wrt=w outputs=grad_w" model.mlir
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"\"",
           "Function to differentiate (default: the only one)">,
    ListOption<"wrt", "wrt", "std::string",
               "Inputs or named constants given a tangent argument "
               "(default: every float input)">,
    ListOption<"outputs", "outputs", "std::string",
               "Outputs whose tangent to append (default: every float output)">,
  ];
}

def TesselToLinalg : Pass<"tessel-to-linalg"> {
  let summary = "Lower tessel ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Rewrites every tessel op into ops on tensors: channels-last convolutions
    with spatial-first filters and depthwise convolutions become linalg's named
    convolution ops (which the decomposition and vectorization patterns know);
    every other convolution, pooling and the remaining ops become
    `linalg.generic`. Padding becomes `tensor.pad`, which tiling fuses into
    its consumer. An op without a lowering is reported by name.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def TesselFuseElementwise : Pass<"tessel-fuse-elementwise", "::mlir::ModuleOp"> {
  let summary = "Upstream elementwise fusion, without reshaping large constants";
  let description = [{
    What upstream `linalg-fuse-elementwise-ops` does — elementwise
    producers fused into their consumers, reshapes moved through
    `linalg.generic` ops by expanding their loops, constants folded — except
    that a reshape is not moved through a generic with a constant operand
    larger than `max-reshaped-constant-bytes` (64 KiB). Expanding such a generic would reshape the constant: a
    copy of it at compile time (a classifier's weights after a flatten:
    VGG-16's first is 411 MB) and one reduction loop split into several.
    `linalg.transpose` ops are generalized first, so that consecutive
    transposes (a transposed conv's filter, its channels swapped, then laid
    out for the conv) fuse into one copy; ops that read backwards (a flip,
    `c - i` in an indexing map) are not fused with anything, since no tile
    could cut the result (upstream tiling slices every operand as if its map
    grew with the loops). A copy that permutes a flip's result instead
    permutes the unflipped tensor and is followed by the flip (of the dims
    they became): a conv_transpose's OIHW filter is laid out as HWIO first
    and its kernel dims, now leading, flipped last, next to the conv, where
    `tessel-vectorize` reads each tap from the unflipped copy. Upstream
    fuses only producers with one user; a cheap elementwise producer (up to
    four ops) that reads one tensor of its own size and whose users are all
    generics it would fuse into (directly or through an `expand_shape`) is
    copied for each, so that it fuses into all of them and is never written
    (a training step's batch-norm gradient wrote (x - mean) * inv and
    dy * scale for three reductions and dx to read back; each now reads x
    and dy; a stride-2 depthwise conv's input gradient reads the ReLU6 mask
    in four phases through a reshape, which kept the normalized tensor and
    its clamp apart).
  }];
  let options = [
    Option<"maxConstantBytes", "max-reshaped-constant-bytes", "int64_t", "65536",
           "Largest constant a reshape may be moved through (bytes)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def TesselTileAndDistribute : Pass<"tessel-tile-and-distribute",
                                   "::mlir::func::FuncOp"> {
  let summary = "Tile each layer's fusion group across threads, and epilogues into rows";
  let description = [{
    A fusion group is a layer: a linalg op whose result is used once, by an
    elementwise linalg op (a conv into its bias, batch norm and ReLU
    epilogue) or as a destination (a fill), fuses into that consumer; so
    does an elementwise op read as the input of a 1x1 stride-1 convolution
    whose own operands are computed whole (squeeze-and-excitation's scaling
    before the projection: a tile's input is its output tile, nothing is
    recomputed, and the scaled tensor is never written whole). A producer
    that reduces (or that a reduction fuses into) and that its consumer
    broadcasts along the consumer's leading loop (batch norm's per-channel
    sums read by every image, a global pool's read by every pixel at batch
    1) is not fused: every tile would compute all of it; it is a group of
    its own. Every other linalg op ends a group. Convolutions, pools and reductions do not
    otherwise pull in their inputs, so each layer of a network is
    distributed on its own. The op ending each group gets one parallel loop tiled into
    `threads` chunks with an `scf.forall` (the outermost loop whose extent
    the thread count divides, so that every chunk has the same static shape;
    else the outermost with more than one iteration), and its group's
    producers are fused into the tile with the TilingInterface utilities.
    Ops whose results are not projected permutations of their loops (a
    reduction into a broadcast shape) stay whole. A `tensor.pad` is not
    fused: padding once, outside the threads, keeps static shapes instead of
    a per-thread pad with tile-dependent bounds. After bufferization the
    `scf.forall` becomes an OpenMP parallel loop. Generics that only write a
    constant (a folded zero bias) are first made fills, and a fill that
    several ops accumulate into is copied for each, so that it fuses into
    each one's tiles; ops that read backwards (flips) are never tiled.

    A group ending in an elementwise op that holds a convolution or pool
    (its bias, batch norm, activation or residual add) is then tiled again,
    within each thread's tile (or whole, with one thread), into output rows
    with an `scf.for`, the group fused into each row: the epilogue reads a
    row of the convolution's output while it is in L1 instead of making a
    second pass over the whole output. Groups that change layout (an
    epilogue writing NCHW) are not, as their leading loops are not rows, nor
    groups whose convolution's filter tessel-vectorize cuts into reduction
    blocks (over 768 KB): each row would sweep the whole filter, where
    the blocks of a whole convolution read it once for all rows. A filter
    gradient (a convolution over the batch whose `[C_in, kh, kw, C_out]`
    result is copied into the filter's layout) is tiled along C_in with the
    convolution fused, so that each tile is copied while in cache: by two
    into HWIO, by 16 into OIHW, whose copy is then 16x16 transposes writing
    whole cache lines of OIHW rows (see tessel-lower-vectors).

    A function whose groups iterate fewer than `min-parallel-iterations`
    times on average (the loop iterations of a group's ops summed) runs on
    one thread: starting and joining a parallel region costs microseconds,
    and the next single-threaded op reads the data back from the other
    core, so a LeNet ran several times faster on one thread than split
    across two (and slower still with only its larger layers split).
  }];
  let options = [
    Option<"threads", "threads", "unsigned", "1",
           "Number of parallel tiles (1: no parallel loop, row tiles only; at most 256)">,
    Option<"minParallelIterations", "min-parallel-iterations", "int64_t",
           "::mlir::tessel::kDefaultMinParallelIterations",
           "Fewest loop iterations per group, on average over the function, "
           "worth threads (default 2^20); a function below it runs on one "
           "thread (0: always split)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def TesselPrepareEntry : Pass<"tessel-prepare-entry", "::mlir::ModuleOp"> {
  let summary = "Make one function the compiled entry point";
  let description = [{
    Renames function `entry` to `__tessel_entry_<entry>`: the reserved prefix
    keeps a graph named like a libm function (`tanh`, `expf`) from capturing
    the math library calls of the lowered code. With `c-interface`, marks it
    `llvm.emit_c_interface` (the JIT calls it through that wrapper). The CPU
    pipeline then makes every other function private (`symbol-privatize`)
    and drops those the entry does not call (`symbol-dce`). Without `entry`
    the pass does nothing.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"\"",
           "The function to compile (empty: keep the module as it is)">,
    Option<"cInterface", "c-interface", "bool", "false",
           "Give the entry point MLIR's C interface wrapper">,
  ];
}

def TesselCheckCompilable : Pass<"tessel-check-compilable", "::mlir::ModuleOp"> {
  let summary = "Refuse what the lowering cannot compile";
  let description = [{
    Zero-size tensors are valid IR, but tiling and the bufferized slices do
    not handle them; tensors beyond 2^47 bytes (a function's own arguments,
    which no tessel op verified) would overflow the size computations. Each
    is an error located at the op or argument that has it, naming its type.
  }];
}

def TesselOutlineKernels : Pass<"tessel-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Give each layer's loop nest a function of its own";
  let description = [{
    After bufferization, each top-level op with regions of a function (a
    layer's parallel tiles, loop nest or linalg op on buffers, a strided
    copy as `tessel-copies-to-linalg` leaves it) moves into a
    private function `__tessel_kernel_<n>` that takes the buffers and values
    it uses from outside as arguments (constants are cloned in) and is called
    in its place. Layers that are the same up to their buffers — ResNet and
    DenseNet repeat theirs many times — then give identical functions, which
    upstream `duplicate-function-elimination` merges, so LLVM optimizes and
    generates code once per distinct kernel and never for one giant
    function. The kernels are `noinline` (an LLVM `passthrough`
    attribute): inlining them back would undo that; and internal, so that
    the kernels of two ahead-of-time compiled models never clash. A
    `linalg.fill` takes its buffer cast to dynamic sizes, strides and offset
    (a unit innermost stride kept): the border strips of padded buffers,
    which differ in shape and offset, then share one kernel per rank before
    the lowering (a ResNet-18 gradient had a hundred of them, merged only
    by `tessel-merge-kernels` after it).

    With `marked`, before bufferization, only the top-level ops that are or
    contain an op marked `tessel.outline` (`tessel-winograd`'s transforms
    and products, tiled or not) move, each into a function on tensors that
    returns the op's results; constant tensors other than splats are
    arguments rather than cloned, so that layers with different weights
    still share the function. The destinations (the tensors the results are
    computed in) are the last arguments, one each, even where the op also
    reads the same tensor (then passed twice, so that the kernel's result is
    always its destination's buffer and the caller makes the copy the read
    needs); a destination filled with a constant is filled inside the
    kernel. Each call lists in `tessel.destinations` the operand each result
    is computed in (`tessel-pad-in-place` gives such a producer its
    consumer's buffer as for a loop). Vectorization,
    bufferization and the lowering then work on each distinct kernel once
    instead of once per layer; `tessel-bufferize` gives the kernels'
    arguments strided layouts and drops the results that are an argument's
    buffer.
  }];
  let options = [
    Option<"marked", "marked", "bool", "false",
           "Outline only the ops marked tessel.outline, on tensors (before "
           "bufferization)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect"];
}

def TesselBufferize : Pass<"tessel-bufferize", "::mlir::ModuleOp"> {
  let summary = "One-shot bufferization across functions, kernels with strided arguments";
  let description = [{
    Upstream one-shot bufferization of the whole module, function boundaries
    included (`one-shot-bufferize{bufferize-function-boundaries
    function-boundary-type-conversion=identity-layout-map}` for every other
    function), except that the arguments and results of kernels outlined
    before bufferization (`tessel-outline-kernels{marked}`, functions named
    `__tessel_kernel_<n>`) are memrefs with a dynamic offset and dynamic
    strides but a unit innermost one: the layers that share a kernel pass
    it views of different buffers (a slice of a concatenation, a padded
    interior) without a copy, and its vector loads and stores stay
    contiguous. Kernel results that are an argument's buffer (the tiles'
    destination, also through the loops of one thread's tiles, which
    upstream `drop-equivalent-buffer-results` does not see through) are
    then dropped, the callers using what they pass, so that no
    out-parameter and copy is made for them. Last, each kernel argument
    gets the layout all its callers' buffers share (static strides where
    they agree, e.g. a concatenation's), so that its index arithmetic folds
    as before the outlining.
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def TesselReleaseConstants : Pass<"tessel-release-constants", "::mlir::ModuleOp"> {
  let summary = "Free the storage of constants that no op refers to any more";
  let description = [{
    The pipeline rewrites each weight several times (batch norms folded in
    by `tessel-decompose`, transposed by `tessel-convert-layout`,
    transformed by `tessel-winograd`, packed by `tessel-vectorize`), each
    time into new storage. Between those passes this pass frees the
    storage of the constants made while the module was being compiled that
    no op of the module refers to any more; the next rewrite then reuses it
    instead of faulting in fresh pages (`tessel::ConstantRecycling`,
    `dialects/tessel/IR/Constants.h`). It does nothing unless the caller
    compiles the module in a context of its own with constant recycling on
    (the JIT and `tessel-compile` for model files), so in `tessel-opt` it
    changes nothing.
  }];
}

def TesselPlanMemory : Pass<"tessel-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Place a function's buffers in one workspace, reusing memory by liveness";
  let description = [{
    After bufferization, deallocation and `tessel-outline-kernels`, a
    network's entry function is a straight line of kernel calls between
    `memref.alloc`s and `memref.dealloc`s. Every statically shaped buffer
    allocated and freed in the function's body (not inside a loop or a
    kernel) is live from its allocation to its deallocation; the buffers are
    placed at 64-byte aligned offsets of one workspace, largest first, each
    at the lowest offset where it overlaps no buffer live at the same time
    (first fit), and become `memref.view`s of it; their deallocations go,
    and the workspace is allocated at the function's start and freed before
    it returns. A run then makes one allocation instead of one per layer,
    and each buffer takes its own size in memory, where the runtime's
    caching allocator rounds every block up to a power of two and reuses it
    only for the same size class. The workspace's size is the function's
    `tessel.workspace_bytes` (`tessel-run --timing` prints it).

    First, a result that the body computed in a buffer of its own and then
    copied into an out-parameter, as that buffer's last use, is computed in
    the out-parameter: the buffer, its copy and its deallocation go. A
    kernel outlined on tensors (Winograd's output transform) gets a fresh
    destination, which bufferization copied into the function's result: a
    serial copy of the whole output (6.4 MB for a batch-8 3x3 64->64 layer
    at 56x56) after the last kernel of every call.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def TesselMergeKernels : Pass<"tessel-merge-kernels", "::mlir::ModuleOp"> {
  let summary = "Merge kernels that differ only in scalar constants; drop unread arguments";
  let description = [{
    On the LLVM dialect, after `tessel-outline-kernels` and the lowering.
    First every kernel loses the arguments it never reads — most fields of
    its buffers' descriptors, whose sizes and strides are constants in its
    code — and its calls lose them too, with what computed them.

    Then kernels whose code is the same up to the values of some scalar
    integer or float constants — loop bounds, strides, the constant offset
    of a `getelementptr`: DenseNet's dense layers differ only in their
    input's channel count — become one function that takes those values as
    trailing arguments, and their calls pass them. Constants are compared
    use by use, not by where the canonicalizer put them: one constant used
    twice in a kernel matches two equal-or-not constants in another.
    Parameters whose values agree in every member share an argument.
    Constants that must stay immediate are left alone: an alloca's size,
    a vector lane index or shuffle, an `i1`, any operand of an op outside
    the LLVM and OpenMP dialects or of a generic intrinsic call. LLVM then
    optimizes and generates code once per group instead of once per layer.
    The module's `tessel.profile_sites` name the merged kernel.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def TesselProfileKernels : Pass<"tessel-profile-kernels", "::mlir::ModuleOp"> {
  let summary = "Time every kernel call";
  let description = [{
    After `tessel-outline-kernels`, brackets each call of a
    `__tessel_kernel_<n>` function by a call of `tessel_profile_clock()`
    (nanoseconds) and one of `tessel_profile_record(site, start)`, which the
    JIT provides (`CompileOptions::profile`, `tessel-run --profile`). The
    module's `tessel.profile_sites` attribute lists the call sites in order:
    each one's kernel, its label (the ONNX node names of the ops fused into
    the kernel, from their locations, joined by " + "), those of them whose
    multiply-adds it computes (`computes`, for FLOP counts) and the bytes of
    the buffers it is passed.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect"];
}

def TesselDecompose : Pass<"tessel-decompose", "::mlir::func::FuncOp"> {
  let summary = "Rewrite ops into others that take a faster path";
  let description = [{
    Rewrites that change the op mix, kept out of canonicalization (which
    only simplifies) and chosen by option, as TOSA's optional
    decompositions are:

    - `conv-transpose`: a `tessel.conv_transpose` with unit strides becomes
      a `tessel.conv` of the spatially flipped filter with its channel dims
      swapped; a strided one with unit dilations becomes one unit-stride
      transposed conv per output phase, interleaved by `concat` and
      `reshape`. Both then run on the forward conv's register-tiled path
      (the input gradient of every conv is a transposed conv).
    - `filter-gradient`: an ungrouped `tessel.conv_backward_filter` becomes
      a channels-last `tessel.conv` with batch and channels exchanged and
      the output gradient as its filter.
    - `fold-batch-norm`: an inference `tessel.batch_norm` with constant
      statistics after a `tessel.conv` with constant weights (used only
      there) folds into that conv's filter and bias.

    The CPU pipeline runs all three first.
  }];
  let options = [
    Option<"convTranspose", "conv-transpose", "bool", "true",
           "Transposed convolutions as convolutions">,
    Option<"filterGradient", "filter-gradient", "bool", "true",
           "Filter gradients as convolutions">,
    Option<"foldBatchNorm", "fold-batch-norm", "bool", "true",
           "Inference batch norms folded into the conv before them">,
  ];
  let dependentDialects = ["::mlir::tessel::TesselDialect"];
}

def TesselWinograd : Pass<"tessel-winograd", "::mlir::func::FuncOp"> {
  let summary = "3x3 stride-1 convolutions by Winograd's minimal filtering";
  let description = [{
    Rewrites a channels-last `linalg.conv_2d_nhwc_hwcf` with a 3x3 f32
    filter, unit strides and dilations, and input and output channel counts
    that fill vectors of `vector-bits` as Winograd's F(4x4, 3x3) or
    F(2x2, 3x3), output tiles of m x m computed from (m+2) x (m+2) input
    tiles:

    - the filter transform `U = G g G^T` is computed at compile time (in
      double) into a constant `[(m+2)^2, C, K]` for a constant filter, else
      on every call by an `scf.forall` over the input channels; a filter
      that is a flip of another (an input gradient's) is read from that one
      at the mirrored taps, and the flipped copy is left unused;
    - the input transform `V = B^T d B` is an `scf.forall` over the output
      tiles, one vector of channels at a time, into `[(m+2)^2, tiles, C]`;
    - the products are one `linalg.batch_matmul` (tessel-vectorize
      register-tiles each of its `[tiles x C] x [C x K]` matrices as a 1x1
      convolution);
    - the output transform `A^T M A` is an `scf.forall` over the tiles that
      adds each output vector to the convolution's initial value (a fill or
      a bias broadcast is evaluated there, not read back) and applies the
      convolution's elementwise epilogue (bias, ReLU, residual add) before
      storing it.

    Where m does not divide the output's height or width, the tiles
    overhang it: the convolution's zero padding is widened to their reach,
    the output transform writes whole tiles, and the slice the convolution
    produces is added to its initial value by an elementwise op. The
    transforms are generated from their matrices (zeros skipped, ones as
    additions). A cost model picks the algorithm: the products' FLOPs plus
    the transformed filter's bytes (read once a call) and the transforms'
    bytes, each priced in FLOPs, for each m; the cheaper of the two unless
    the direct convolution's FLOPs (at the direct tiles' share of peak) cost
    less still, in which case the convolution is left alone. `everywhere`
    skips the last comparison. Error bounds and measurements:
    docs/performance.md.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Vector register width of the target (512: AVX-512, 256: AVX2, "
           "128: NEON/SSE; nothing else); channel counts must be multiples of "
           "its floats">,
    Option<"everywhere", "everywhere", "bool", "false",
           "Rewrite every convolution the algorithm applies to, not only "
           "those the cost model picks">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def TesselVectorize : Pass<"tessel-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Register-tile channels-last convolutions and vectorize linalg ops";
  let description = [{
    Tiles every named channels-last convolution (and depthwise convolution
    and max/sum pooling, whose loops are a depthwise convolution's) with
    `scf.for` loops into register tiles: one output row, up to 8 output
    columns by up to 64 output channels, the pair with the most accumulator
    vectors that still fit in the registers, one kernel row and column, and
    one input channel a step (`channel-step`: each input value is then
    broadcast straight from memory; two a step load a pair and broadcast
    each from a register, which on Intel cores takes the shuffle port that
    half of the FMAs issue on). A constant filter wider than the tile's
    output channels is packed at compile time into blocks of the tile's
    width, `[F / ct, k..., C, ct]`, the order the tile reads it: in the
    `[k..., C, F]` filter the rows a tile reads lie F floats apart, which
    maps them onto a few cache sets (every row of a 1x1 512->2048 filter's
    32-channel tile in the same L1 and L2 sets) and streams the weights from
    memory again for every output row. Each tile is then decomposed
    from 2-D/3-D to a 1-D convolution, vectorized with the upstream linalg
    vectorizer (output channels on the vector lanes), and the output tile is
    hoisted out of the reduction loops so it stays in registers. A dense
    convolution whose filter exceeds three quarters of L2 (768 KB) is first
    cut into reduction blocks of half of L2 (whole kernel rows, or where a
    row is larger, one kernel row of 64 output channels by the input
    channels that fit in 128 KB), each swept by every register tile before
    the next. Statically shaped ops of up to 256 iterations in at most 32
    rows that read and write their operands in loop order (no
    transposition: a transposing one would become a scalar load and store
    per element) are vectorized whole too; anything the vectorizer declines
    stays as it is and lowers to loops. The initial value of a convolution's
    output (a fill, or a bias broadcast) is fused into its output tiles (the
    tile's accumulators start from it in registers, not from an initialized
    tensor read back, and is not stored before the tile's result). Where the convolution's only user
    is an elementwise op that reads it in order (its epilogue: bias, batch
    norm, activation, residual add, an average pool's division; other
    operands may broadcast), that op is tiled like the output tile with the
    convolution fused into each of its tiles and vectorized whole: the
    epilogue applies to the accumulators in registers and only its result
    is stored (before, each output row of the convolution was written to a
    temporary and read back). A depthwise convolution's or
    pool's tile takes each kernel row whole, so that each input column of
    the row is read once for all the taps that cover it, and is sized so
    that accumulators, input columns and weights fit the register file;
    where no row fits (a depthwise filter gradient's taps are the output
    gradient's columns) it takes a tap at a step. A 3-D depthwise tile of
    one output and kernel plane becomes a 2-D one first.
    Where only depthwise convolutions and pools read a padded tensor, their
    tiles read the pad's source in place: each input column at a clamped
    index, replaced by the padding value (zero, or -inf for a max pool)
    where it lies in the padding, so the padded copy is never made. And
    layout changes — copies whose input and output
    dims run in different orders — are cut into cache tiles: about a cache
    line of the input's trailing dims by a line of the output's, so that
    every line a tile touches is used whole. With 512-bit vectors, a tile
    that is 16 by 16 in the two innermost dims (unit elsewhere) becomes one
    `vector<16x16>` transpose between 16 row reads and 16 row writes; one
    that moves the input's last dim of 16 before dims whose sizes multiply
    to 16 (a filter gradient's input, `[N, H, W, C]` to `[C, H, W, N]` at a
    batch of 8: tiles `[8, 1, 2, 16]`; the moved dim before the others in
    the output) is read whole as 16 rows of 16, its rows permuted into the
    output's order and transposed the same way, and written with one write
    (a chain of writes made bufferization's analysis quadratic). An
    elementwise op that reads an operand transposed (an SGD update of an
    OIHW filter reading its `[I, kh, kw, O]` gradient) has the loops that
    every operand walks together, in order, collapsed; where two remain it
    is a 2-D transpose (`[O, I*kh*kw]` against `[I*kh*kw, O]`), cut into
    16x16 tiles vectorized whole. A register tile whose filter is a flip of
    another of 2 MiB or more (the gradient of a conv's input convolves with
    the flipped filter) reads each kernel tap from the unflipped filter at
    the mirrored tap (`2 - kh`, `2 - kw` for 3x3), so the flipped copy is
    not made (smaller filters are still copied: their convolutions ran
    slower reading mirrored taps than the copy cost, see
    docs/performance.md).
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Vector register width of the target (512: AVX-512, 256: AVX2, "
           "128: NEON/SSE; nothing else)">,
    Option<"accumulators", "accumulators", "int64_t", "24",
           "Most accumulator vectors a register tile may hold (24 of the 32 "
           "AVX-512 registers; 12 of AVX2's 16 suit 256-bit targets; 1-64)">,
    Option<"channelStep", "channel-step", "int64_t", "1",
           "Input channels per step of the reduction loop (1-64)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def TesselPadInPlace : Pass<"tessel-pad-in-place", "::mlir::func::FuncOp"> {
  let summary = "Write each producer straight into its consumer's padded or concatenated buffer";
  let description = [{
    Runs before bufferization. A statically shaped `tensor.pad` bufferizes
    to a new buffer filled whole with the padding value and a copy of its
    source into the interior: for a depthwise convolution or a pool that is
    a third of its time. This pass rewrites each such pad into fills of the
    border strips only (one per padded side, the strips partitioning the
    border) and an insertion of the source into the interior, and gives the
    op that computes the source (a convolution's epilogue, a ReLU, an add; a
    tile loop of them), found through the destinations it computes in, the
    interior as its destination instead of its `tensor.empty`: it then
    computes straight into the padded buffer, and no copy is made. A source
    that is a function argument, or that a second pad already took, is
    still copied, into the interior only. (Upstream empty-tensor elimination
    does the same, but its one-shot analysis of the whole function doubled
    DenseNet-121's bufferization time.)

    Concatenations (a `tensor.concat` decomposed into insertions into a
    `tensor.empty`) are treated the same way: the producer of each input
    computes into its part of the concatenation's buffer, so nothing is
    copied. The part is taken from the chain of insertions so far (the
    previous insertion is moved up to just before the producer's buffer),
    which lets one-shot bufferization see each write as the matching
    extraction of the insertion after it; a DenseNet block, whose
    concatenations chain (`tessel.concat`'s canonicalization chains the flat
    lists PyTorch exports, each layer concatenating the block's input and
    every feature map so far), then shares one buffer. An input that is a
    function argument, that is concatenated twice, or whose producer reads
    another part of the same buffer is still copied.

    Pads of one source by one constant (the phases of a strided transposed
    convolution, each padding the output gradient by its own rows and
    columns) become one pad by the largest padding on each side, of which
    each takes its part: only one pad of a source can be computed in place,
    and each other one was a copy. Concatenations of concatenations (the
    phases' interleaving, along the unit dim after each spatial dim in turn)
    are flattened into one chain of insertions into the outer buffer, and an
    input that only gains unit dims for its insertion is inserted as it is,
    rank-reduced: each phase's convolution then computes into its strided
    part of the result. A value computed in an empty and then collapsed is
    computed in the expansion of an empty of the collapsed shape, so that a
    function's interleaved result is the caller's buffer, not a copy into it.
    (ResNet's 3x3/2 128->128 input gradient at batch 8 on two threads: 7.0-7.5
    -> 5.3-5.4 ms.)

    Where the border strips' contiguous runs are shorter than a cache line
    and touch a quarter of the buffer's lines or more (a filter gradient's
    input as `[C, H, W, 1]`: its column strips write one float a row, a
    line each), the whole buffer is filled once instead, as a vector of its
    elements, and the source then overwrites the interior.

    Before that, every `tensor.empty` used more than once (CSE makes all
    empties of one shape one op) is split into one per use, placed just
    before its user, so that each result gets a buffer of its own where it
    is computed: a producer's empty can then be replaced by its subset of a
    padded buffer, and a function's last op writes the caller's buffer
    directly instead of a shared temporary copied out at the end.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def TesselTieResults : Pass<"tessel-tie-results", "::mlir::func::FuncOp"> {
  let summary = "Write results marked tessel.updates into their argument's buffer";
  let description = [{
    Runs before bufferization. A result with the attribute
    `tessel.updates = <index>` is the new value of that argument (a training
    step's parameters and optimizer state): its returned value becomes a
    `bufferization.materialize_in_destination` into the argument, and the
    argument is marked writable, so one-shot bufferization computes it in
    the caller's buffer (copying only where the analysis finds a conflict).
    A returned value that expands a value computed in a collapsed view of
    the argument (`tensor.collapse_shape`) is materialized in that view
    before the expansion: one-shot bufferization does not see through the
    two reshapes that it is the argument's buffer.
    Every other argument is marked read-only: compiled code never writes an
    input that is not tied. After bufferization, `tessel-drop-tied-results`
    removes the tied results, which are then the arguments themselves.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def TesselDropTiedResults : Pass<"tessel-drop-tied-results",
                                 "::mlir::func::FuncOp"> {
  let summary = "Drop the bufferized results that tessel-tie-results tied";
  let description = [{
    Runs after one-shot bufferization, before results become out-parameters.
    Each result marked `tessel.updates = <index>` must now return that
    argument's buffer; it is removed from the function, whose caller finds
    the new value in the argument. Anything else is an error. A buffer
    returned as two results is copied into a second buffer for the later
    one, so that each result can become an out-parameter of its own (results
    computed in a buffer of their own are then computed in the caller's).
  }];
}

def TesselCopiesToLinalg : Pass<"tessel-copies-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Turn strided memref.copy ops into linalg.copy";
  let description = [{
    A `memref.copy` between non-contiguous views (a padded tile, a slice)
    lowers to a call of MLIR's generic element-by-element `memrefCopy`. As a
    `linalg.copy` it becomes loops whose contiguous innermost dimension LLVM
    vectorizes. Contiguous copies stay `memref.copy` (a memcpy).

    With `threads` above 1, in a function whose layers were split across
    threads (it has `scf.parallel` loops), a copy of at least 256 KB — a
    graph input copied into the interior of its padded buffer, a
    concatenation's part that no producer wrote in place — is split across
    the threads too, along its outermost dimension that they divide: left
    on one thread it was serial glue between parallel layers (a 3x3/2
    convolution of 128 channels at 56x56 spent 17% of its time on two
    threads copying its input, at a third of the one-thread copy's speed).
    So is a fill between the layers (a padded buffer's border strips) of at
    least 256 KB or 2048 cache lines: a strip of one float a row writes a
    line per element (a batch-1 filter gradient's `[C, H, W, 1]` input).
  }];
  let options = [
    Option<"threads", "threads", "unsigned", "1",
           "Threads the function's parallel loops run on">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect"];
}

def TesselLowerVectors : Pass<"tessel-lower-vectors", "::mlir::func::FuncOp"> {
  let summary = "Lower n-D vector ops to the forms the LLVM conversion takes";
  let description = [{
    Lowers contractions to outer products and then FMAs, multi-reductions to
    inner reductions, and broadcasts, transposes, shape casts, masks and
    transfer permutation maps to simpler vector ops, and `math.erf` (no
    LLVM intrinsic; libm's cannot be called on LLVM vectors) to MLIR's
    float32 polynomial approximation. float32 `math.exp` and `math.tanh`,
    scalar or vector, also become MLIR's polynomial approximations (within
    a few ulp; NaN, infinities, overflow and underflow kept): LLVM has no
    vector math library here and would call libm once per element, which
    made sigmoid and SiLU the bulk of EfficientNet's run time (logs stay
    libm calls: MLIR's approximation is wrong on subnormal inputs). Each
    group runs as its own greedy
    application: running contraction lowering together with
    canonicalization can loop (docs/performance.md). Vector
    `arith.maximumf`/`minimumf` (max pooling, ReLU, clamps) get the `nsz`
    fast-math flag: the sign of a zero result is left open, which halves
    their x86 code (NaNs still propagate). 16x16 transposes of 32-bit
    elements (tessel-vectorize's transposing copies, and the transposed
    reads of its 16x16 elementwise tiles, lowered to transposes first)
    lower to upstream's AVX-512 shuffle network; other transposes element
    by element. In a function with a register tile (a contraction or FMA),
    a 16x16 transpose written whole into an argument of 1 MB or more (a
    filter gradient copied into OIHW) is written row by row with
    non-temporal stores: the lines go to memory without first being read
    from it. A write of 16 or more elements whose vector ends in unit dims
    (a gathered transpose written into one phase of a stride-2 interleave,
    `[.., W, 1]` of `[.., W, 2]`) writes the vector without them into a
    rank-reduced subview: its rank-1 pieces would otherwise be single
    elements, which LLVM's instruction selection took half a second a
    kernel over.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // TESSEL_COMPILER_PASSES_TD
