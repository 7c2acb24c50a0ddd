//===- Tensor.cpp - tessel::Tensor ----------------------------------------===//

#include "tessel/Tensor.h"

#include "dialects/tessel/IR/TesselDialect.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

using namespace tessel;

std::vector<int64_t> tessel::rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// The element count of a shape that a tensor may have: no negative size,
/// at most kMaxTensorBytes of floats. Nullopt otherwise.
static std::optional<int64_t> validCount(const std::vector<int64_t> &shape) {
  std::optional<int64_t> n = mlir::tessel::getCheckedNumElements(shape);
  if (!n || *n > mlir::tessel::kMaxTensorBytes / int64_t(sizeof(float)))
    return std::nullopt;
  return n;
}

Tensor Tensor::zeros(std::vector<int64_t> shape) {
  std::optional<int64_t> n = validCount(shape);
  if (!n)
    return Tensor();
  Tensor t;
  // calloc: fresh pages come zeroed without being touched, and a size beyond
  // the machine's memory is a null pointer, not an exception.
  auto *memory = static_cast<float *>(std::calloc(std::max<int64_t>(*n, 1), sizeof(float)));
  if (!memory)
    return Tensor();
  t.storage_ = std::shared_ptr<float[]>(memory, std::free);
  t.data_ = memory;
  t.strides_ = rowMajorStrides(shape);
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::adopt(std::shared_ptr<float[]> storage, std::vector<int64_t> shape) {
  if (!storage || !validCount(shape))
    return Tensor();
  Tensor t;
  t.data_ = storage.get();
  t.storage_ = std::move(storage);
  t.strides_ = rowMajorStrides(shape);
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::fromValues(std::vector<int64_t> shape, std::vector<float> values) {
  std::optional<int64_t> n = validCount(shape);
  if (!n || static_cast<int64_t>(values.size()) != *n)
    return Tensor();
  Tensor t = zeros(std::move(shape));
  if (!t.empty())
    std::copy(values.begin(), values.end(), t.data_);
  return t;
}

Tensor Tensor::borrow(float *data, std::vector<int64_t> shape,
                      std::vector<int64_t> strides) {
  if (!validCount(shape) || (!strides.empty() && strides.size() != shape.size()))
    return Tensor();
  Tensor t;
  t.data_ = data;
  t.strides_ = strides.empty() ? rowMajorStrides(shape) : std::move(strides);
  t.shape_ = std::move(shape);
  return t;
}

int64_t Tensor::numElements() const {
  return mlir::tessel::getCheckedNumElements(shape_).value_or(0);
}

bool Tensor::isContiguous() const {
  std::vector<int64_t> expected = rowMajorStrides(shape_);
  for (size_t i = 0; i < shape_.size(); ++i)
    if (shape_[i] != 1 && strides_[i] != expected[i])
      return false;
  return true;
}

float &Tensor::at(const std::vector<int64_t> &index) {
  int64_t offset = 0;
  for (size_t i = 0; i < index.size(); ++i)
    offset += index[i] * strides_[i];
  return data_[offset];
}

float Tensor::at(const std::vector<int64_t> &index) const {
  return const_cast<Tensor *>(this)->at(index);
}

Tensor Tensor::clone() const {
  Tensor copy = zeros(shape_);
  if (copy.empty() || empty())
    return Tensor();
  int64_t n = numElements();
  if (isContiguous()) {
    std::memcpy(copy.data_, data_, sizeof(float) * n);
    return copy;
  }
  std::vector<int64_t> index(shape_.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    copy.data_[flat] = at(index);
    for (int64_t d = static_cast<int64_t>(index.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape_[d])
        break;
      index[d] = 0;
    }
  }
  return copy;
}

std::string tessel::shapeString(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

std::string Tensor::shapeString() const { return tessel::shapeString(shape_); }
