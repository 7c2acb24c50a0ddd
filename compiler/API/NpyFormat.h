//===- NpyFormat.h - The .npy format in memory ------------------*- C++ -*-===//
//
// readNpy/writeNpy (tessel/Npy.h) and the .npz archives of tessel::nn share
// these: an .npz is a zip of .npy files.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_COMPILER_API_NPYFORMAT_H
#define TESSEL_COMPILER_API_NPYFORMAT_H

#include "tessel/Result.h"
#include "tessel/Tensor.h"

#include <istream>
#include <string>

namespace tessel {

/// Parses the .npy read from `in` (float32; float64, int64 and int32
/// converted to float32); `what` names it in messages ("'x.npy'").
Result<Tensor> parseNpy(std::istream &in, const std::string &what);
/// `tensor` as the bytes of a C-order float32 .npy file (version 1.0).
std::string encodeNpy(const Tensor &tensor);

} // namespace tessel

#endif // TESSEL_COMPILER_API_NPYFORMAT_H
