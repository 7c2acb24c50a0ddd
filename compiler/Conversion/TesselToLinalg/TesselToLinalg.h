//===- TesselToLinalg.h - Lower tessel to linalg on tensors -----*- C++ -*-===//

#ifndef TESSEL_COMPILER_CONVERSION_TESSELTOLINALG_H
#define TESSEL_COMPILER_CONVERSION_TESSELTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::tessel {

/// Adds the patterns that lower every tessel op with a lowering to linalg,
/// tensor, arith and math ops on tensors.
void populateTesselToLinalgPatterns(RewritePatternSet &patterns);

// One populate function per op family, each in its own file.
void populateConvToLinalgPatterns(RewritePatternSet &patterns);
void populatePoolToLinalgPatterns(RewritePatternSet &patterns);
void populateNormToLinalgPatterns(RewritePatternSet &patterns);
void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);
void populateLinearToLinalgPatterns(RewritePatternSet &patterns);
void populateTensorToLinalgPatterns(RewritePatternSet &patterns);
void populateResampleToLinalgPatterns(RewritePatternSet &patterns);
void populateReductionToLinalgPatterns(RewritePatternSet &patterns);
void populateOptimizerToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::tessel

#endif // TESSEL_COMPILER_CONVERSION_TESSELTOLINALG_H
