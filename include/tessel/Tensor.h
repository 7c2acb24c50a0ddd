//===- Tensor.h - A small dense tensor --------------------------*- C++ -*-===//

#ifndef TESSEL_TENSOR_H
#define TESSEL_TENSOR_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tessel {

/// Element types a Tessel tensor holds. Graphs compute in float32 today.
enum class DType { Float32 };

/// A dense float32 tensor: shape, strides (in elements) and memory that the
/// tensor either owns or borrows from the caller. Copies share the memory.
class Tensor {
public:
  Tensor() = default;

  // The factories return an empty tensor (empty() is true; running a graph
  // on it is an error naming the input) for a shape with a negative size or
  // more than 2^47 bytes of elements, and zeros/fromValues also when memory
  // runs out. Nothing here throws.

  /// An owning, zero-filled, row-major tensor.
  static Tensor zeros(std::vector<int64_t> shape);
  /// An owning row-major tensor holding `values`, as many as the shape has
  /// elements (empty otherwise).
  static Tensor fromValues(std::vector<int64_t> shape, std::vector<float> values);
  /// An owning row-major tensor over `storage`, which must hold at least as
  /// many floats as the shape has elements (not checked); copies share it,
  /// and the last one releases it through the shared_ptr's deleter. Empty
  /// for a null `storage`.
  static Tensor adopt(std::shared_ptr<float[]> storage, std::vector<int64_t> shape);
  /// A view of caller-owned memory, row-major unless `strides` (one per
  /// dim) is given. The memory must outlive every use of the tensor.
  static Tensor borrow(float *data, std::vector<int64_t> shape,
                       std::vector<int64_t> strides = {});

  DType dtype() const { return DType::Float32; }
  const std::vector<int64_t> &shape() const { return shape_; }
  const std::vector<int64_t> &strides() const { return strides_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numElements() const;
  /// Whether the elements are stored row-major without gaps.
  bool isContiguous() const;
  bool ownsMemory() const { return static_cast<bool>(storage_); }
  bool empty() const { return data_ == nullptr; }

  float *data() { return data_; }
  const float *data() const { return data_; }
  /// The element at a multi-index, one index per dim, each in range: like
  /// std::vector's operator[], it does not check (validate indices that come
  /// from outside the program first).
  float &at(const std::vector<int64_t> &index);
  float at(const std::vector<int64_t> &index) const;

  /// A contiguous owning copy (empty when this one is, or when memory runs
  /// out).
  Tensor clone() const;
  /// "[1, 3, 224, 224]".
  std::string shapeString() const;

private:
  std::shared_ptr<float[]> storage_;
  float *data_ = nullptr;
  std::vector<int64_t> shape_, strides_;
};

/// "[1, 3, 224, 224]".
std::string shapeString(const std::vector<int64_t> &shape);

/// Row-major strides of `shape`.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape);

} // namespace tessel

#endif // TESSEL_TENSOR_H
