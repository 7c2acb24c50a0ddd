//===- Tensor.cpp - tessel::Tensor ----------------------------------------===//

#include "tessel/Tensor.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>

using namespace tessel;

std::vector<int64_t> tessel::rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

static int64_t product(const std::vector<int64_t> &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

Tensor Tensor::zeros(std::vector<int64_t> shape) {
  Tensor t;
  int64_t n = product(shape);
  t.storage_ = std::shared_ptr<float[]>(new float[std::max<int64_t>(n, 1)]());
  t.data_ = t.storage_.get();
  t.strides_ = rowMajorStrides(shape);
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::fromValues(std::vector<int64_t> shape, std::vector<float> values) {
  if (static_cast<int64_t>(values.size()) != product(shape))
    return Tensor();
  Tensor t = zeros(std::move(shape));
  std::copy(values.begin(), values.end(), t.data_);
  return t;
}

Tensor Tensor::borrow(float *data, std::vector<int64_t> shape,
                      std::vector<int64_t> strides) {
  Tensor t;
  t.data_ = data;
  t.strides_ = strides.empty() ? rowMajorStrides(shape) : std::move(strides);
  t.shape_ = std::move(shape);
  return t;
}

int64_t Tensor::numElements() const { return product(shape_); }

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

std::string Tensor::shapeString() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape_.size(); ++i)
    os << (i ? ", " : "") << shape_[i];
  os << "]";
  return os.str();
}
