//===- Npy.h - Read and write NumPy .npy files ------------------*- C++ -*-===//

#ifndef TESSEL_NPY_H
#define TESSEL_NPY_H

#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <string>

namespace tessel {

/// Reads a C-order .npy file of float32 values (float64, int64 and int32
/// are converted to float32).
Result<Tensor> readNpy(const std::string &path);
/// Writes `tensor` as a C-order float32 .npy file (version 1.0).
Status writeNpy(const std::string &path, const Tensor &tensor);

} // namespace tessel

#endif // TESSEL_NPY_H
