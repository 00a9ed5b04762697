// Tensor: a row-major contiguous view (shape, element offset) into shared Storage. Views are made only where
// they stay contiguous and cost nothing: reshape and row slices along dim 0. Copies are explicit (clone).
// Shapes are int64; a 0-d tensor has shape [] and one element. Test: tests/core/test_tensor.cpp.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/storage.h"

namespace comet {

int64_t shape_numel(const Shape& s);

class Tensor {
 public:
  Tensor() = default;

  // Factories (CPU). `empty` leaves contents unspecified.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32);
  template <class T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values);
  // Wraps existing storage (used by device backends and I/O).
  Tensor(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, int64_t offset = 0);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  Shape strides() const;  // in elements, row-major
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device::CPU; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  // Rows and columns of the tensor seen as a matrix [numel / last_dim, last_dim] (a 0-d tensor is 1 x 1).
  int64_t rows() const;
  int64_t cols() const { return ndim() == 0 ? 1 : shape_.back(); }

  void* raw() { return static_cast<char*>(storage_->data) + offset_ * dtype_size(dtype_); }
  const void* raw() const { return static_cast<const char*>(storage_->data) + offset_ * dtype_size(dtype_); }
  template <class T> T* data() { check_type(dtype_of<T>()); return static_cast<T*>(raw()); }
  template <class T> const T* data() const { check_type(dtype_of<T>()); return static_cast<const T*>(raw()); }
  // The typed buffer on the tensor's own device (a device pointer for a CUDA tensor), for kernels that run there;
  // data<T>() is the CPU-side access and refuses device tensors.
  template <class T> T* ptr() { check_dtype_of_buffer(dtype_of<T>()); return static_cast<T*>(raw()); }
  template <class T> const T* ptr() const { check_dtype_of_buffer(dtype_of<T>()); return static_cast<const T*>(raw()); }
  // Element i of the flattened tensor converted to double (slow; for tests and printing).
  double item(int64_t i = 0) const;
  template <class T> std::vector<T> to_vector() const;

  Tensor reshape(const Shape& shape) const;            // view; one -1 is inferred
  Tensor slice_rows(int64_t begin, int64_t end) const;  // view of dim-0 range [begin, end)
  Tensor clone() const;
  Tensor to(DType dtype) const;  // converting copy (a plain copy when the dtype is the same)
  void copy_from(const Tensor& src);  // same shape and dtype, CPU
  void fill(double value);
  bool same_shape(const Tensor& o) const { return shape_ == o.shape_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

 private:
  void check_type(DType want) const;  // dtype, and that the buffer is on the CPU
  void check_dtype_of_buffer(DType want) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  int64_t numel_ = 0;
  int64_t offset_ = 0;
  DType dtype_ = DType::F32;
};

Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
// Whether no element is NaN or infinite (integer tensors: always).
bool all_finite(const Tensor& t);

// Throws "<op>: expected shape A, got B" unless t has exactly `shape`.
void check_shape(const char* op, const Tensor& t, const Shape& shape, const char* what = "input");
void check_dtype(const char* op, const Tensor& t, DType dtype, const char* what = "input");

template <class T>
Tensor Tensor::from_vector(const Shape& shape, const std::vector<T>& values) {
  COMET_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()),
              "Tensor::from_vector: shape {} needs {} values, got {}", shape_str(shape),
              shape_numel(shape), values.size());
  Tensor t = empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const T* p = data<T>();
  return std::vector<T>(p, p + numel_);
}

}  // namespace comet
