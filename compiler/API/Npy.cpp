//===- Npy.cpp - Read and write NumPy .npy files --------------------------===//
//
// The format: the magic "\x93NUMPY", a version, a little-endian header length
// and a Python dict literal with 'descr', 'fortran_order' and 'shape', then
// the raw data.
//
//===----------------------------------------------------------------------===//

#include "tessel/Npy.h"
#include "compiler/API/NpyFormat.h"

#include "dialects/tessel/IR/TesselDialect.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace tessel;

namespace {

/// The text after `key` in the header dict, or empty.
std::string valueOf(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return {};
  size_t colon = header.find(':', at);
  if (colon == std::string::npos)
    return {};
  return header.substr(colon + 1);
}

} // namespace

Result<Tensor> tessel::parseNpy(std::istream &in, const std::string &what) {
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    return Result<Tensor>::error(what + " is not a .npy file");
  uint32_t headerLength = 0;
  unsigned char bytes[4] = {0, 0, 0, 0};
  int lengthBytes = magic[6] == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char *>(bytes), lengthBytes))
    return Result<Tensor>::error(what + " has a truncated header");
  for (int i = lengthBytes - 1; i >= 0; --i)
    headerLength = (headerLength << 8) | bytes[i];
  if (headerLength > (1u << 20))
    return Result<Tensor>::error(what + " has an implausible header length");
  std::string header(headerLength, '\0');
  if (!in.read(header.data(), headerLength))
    return Result<Tensor>::error(what + " has a truncated header");

  std::string descr = valueOf(header, "descr");
  // float32 is read as is; float64 and integers are converted.
  static const std::pair<const char *, size_t> dtypes[] = {
      {"'<f4'", 4}, {"'<f8'", 8}, {"'<i8'", 8}, {"'<i4'", 4}};
  int dtype = -1;
  for (int i = 0; i < 4; ++i)
    if (descr.find(dtypes[i].first) != std::string::npos)
      dtype = i;
  if (dtype < 0)
    return Result<Tensor>::error(
        what + " holds a dtype other than little-endian float32/float64/int64/int32");
  std::string fortran = valueOf(header, "fortran_order");
  size_t fortranStart = fortran.find_first_not_of(' ');
  if (fortranStart == std::string::npos)
    return Result<Tensor>::error(what + " has no fortran_order in its header");
  if (fortran.compare(fortranStart, 4, "True") == 0)
    return Result<Tensor>::error(what + " is in Fortran order; save it in C order");
  std::string shapeText = valueOf(header, "shape");
  size_t open = shapeText.find('('), close = shapeText.find(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return Result<Tensor>::error(what + " has no shape in its header");
  std::vector<int64_t> shape;
  std::stringstream dims(shapeText.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(dims, item, ',')) {
    size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(item.c_str() + first, &end, 10);
    if (end == item.c_str() + first || item.find_first_not_of(' ', end - item.c_str()) !=
                                           std::string::npos || errno == ERANGE)
      return Result<Tensor>::error(what + " has the malformed dim '" + item + "'");
    if (v < 0)
      return Result<Tensor>::error(what + " has a negative dim");
    shape.push_back(v);
  }

  // Compare the data's size with the file's before allocating anything.
  size_t elementBytes = dtypes[dtype].second;
  std::streampos dataStart = in.tellg();
  in.seekg(0, std::ios::end);
  int64_t available = static_cast<int64_t>(in.tellg() - dataStart);
  in.seekg(dataStart);
  std::optional<int64_t> count = mlir::tessel::getCheckedNumElements(shape);
  int64_t n = count.value_or(0);
  if (!count || n > available / int64_t(elementBytes))
    return Result<Tensor>::error(what + " holds fewer values than its shape " +
                                 shapeString(shape));
  Tensor tensor = Tensor::zeros(shape);
  if (tensor.empty())
    return Result<Tensor>::error(what + ": out of memory for its shape " + shapeString(shape));
  auto convert = [&](auto sample) -> bool {
    using T = decltype(sample);
    std::vector<T> values(n);
    if (!in.read(reinterpret_cast<char *>(values.data()), n * sizeof(T)))
      return false;
    for (int64_t i = 0; i < n; ++i)
      tensor.data()[i] = static_cast<float>(values[i]);
    return true;
  };
  bool read = dtype == 0 ? static_cast<bool>(
                               in.read(reinterpret_cast<char *>(tensor.data()), n * sizeof(float)))
            : dtype == 1 ? convert(double())
            : dtype == 2 ? convert(int64_t())
                         : convert(int32_t());
  if (!read)
    return Result<Tensor>::error(what + " holds fewer values than its shape");
  return tensor;
}

Result<Tensor> tessel::readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Result<Tensor>::error("cannot open '" + path + "'");
  return parseNpy(in, "'" + path + "'");
}

std::string tessel::encodeNpy(const Tensor &tensor) {
  Tensor dense = tensor.isContiguous() ? tensor : tensor.clone();
  std::string shape = "(";
  for (int64_t d : dense.shape())
    shape += std::to_string(d) + ",";
  if (dense.rank() > 1)
    shape.pop_back();
  shape += ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts on a 64-byte boundary; end with a newline.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  uint16_t length = static_cast<uint16_t>(header.size());
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(length & 0xff);
  out += static_cast<char>(length >> 8);
  out += header;
  out.append(reinterpret_cast<const char *>(dense.data()), dense.numElements() * sizeof(float));
  return out;
}

Status tessel::writeNpy(const std::string &path, const Tensor &tensor) {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    return Status::error("cannot write '" + path + "'");
  std::string bytes = encodeNpy(tensor);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    return Status::error("writing '" + path + "' failed");
  return Status();
}
