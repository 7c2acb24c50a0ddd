//===- Decompositions.h - Rewrites of one tessel op into several -*- C++ -*-===//
//
// The patterns of tessel-decompose, one populate function per family, for
// passes and pipelines that want some of them. Canonicalization runs none of
// them: it never changes the op mix.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_TRANSFORMS_DECOMPOSITIONS_H
#define TESSEL_COMPILER_TRANSFORMS_DECOMPOSITIONS_H

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::tessel {

/// conv_transpose as convolutions: with unit strides, a conv of the flipped
/// filter with swapped channel dims; strided with unit dilations, one
/// unit-stride transposed conv per output phase, interleaved.
void populateConvTransposeDecompositionPatterns(RewritePatternSet &patterns);

/// An ungrouped conv_backward_filter as a channels-last conv whose batch and
/// channels are exchanged and whose filter is the output gradient.
void populateFilterGradientDecompositionPatterns(RewritePatternSet &patterns);

/// An inference batch_norm with constant statistics folded into the conv
/// (constant weights, used once) that feeds it.
void populateBatchNormFoldingPatterns(RewritePatternSet &patterns);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_TRANSFORMS_DECOMPOSITIONS_H
