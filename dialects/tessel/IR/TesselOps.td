//===- TesselOps.td - Every tessel op, for the dialect doc -*- tablegen -*-===//

#ifndef TESSEL_OPS_TD
#define TESSEL_OPS_TD

include "dialects/tessel/IR/ConvOps.td"
include "dialects/tessel/IR/PoolOps.td"
include "dialects/tessel/IR/NormOps.td"
include "dialects/tessel/IR/ElementwiseOps.td"
include "dialects/tessel/IR/LinearOps.td"
include "dialects/tessel/IR/TensorOps.td"
include "dialects/tessel/IR/ResampleOps.td"
include "dialects/tessel/IR/ReductionOps.td"
include "dialects/tessel/IR/OptimizerOps.td"

#endif // TESSEL_OPS_TD
