// Tensor construction, views and copies.
#include "core/tensor.h"

#include <algorithm>
#include <atomic>

#include "core/threading.h"

namespace comet {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    COMET_CHECK(d >= 0, "shape {} has a negative dimension", shape_str(s));
    n *= d;
  }
  return n;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, int64_t offset)
    : storage_(std::move(storage)), shape_(shape), numel_(shape_numel(shape)), offset_(offset), dtype_(dtype) {
  COMET_CHECK(storage_ && (offset_ + numel_) * static_cast<int64_t>(dtype_size(dtype_)) <=
                              static_cast<int64_t>(storage_->bytes),
              "Tensor: shape {} ({}) at offset {} does not fit its storage", shape_str(shape),
              dtype_name(dtype), offset);
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  const int64_t n = shape_numel(shape);
  return Tensor(cpu_storage(static_cast<size_t>(n) * dtype_size(dtype)), shape, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill(value);
  return t;
}

int64_t Tensor::rows() const {
  int64_t r = 1;  // the product of all but the last dimension (also right when the last one is 0)
  for (int i = 0; i + 1 < ndim(); ++i) r *= shape_[i];
  return r;
}

Shape Tensor::strides() const {
  Shape s(shape_.size());
  int64_t stride = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    s[i] = stride;
    stride *= shape_[i];
  }
  return s;
}

int64_t Tensor::dim(int i) const {
  const int n = ndim();
  COMET_CHECK(i >= -n && i < n, "Tensor::dim: index {} out of range for shape {}", i, shape_str(shape_));
  return shape_[i < 0 ? i + n : i];
}

void Tensor::check_dtype_of_buffer(DType want) const {
  COMET_CHECK(storage_, "Tensor: access to an undefined tensor");
  COMET_CHECK(want == dtype_, "Tensor::data: tensor of shape {} is {}, accessed as {}", shape_str(shape_),
              dtype_name(dtype_), dtype_name(want));
}

void Tensor::check_type(DType want) const {
  check_dtype_of_buffer(want);
  COMET_CHECK(device() == Device::CPU, "Tensor::data: tensor of shape {} lives on {}, not the CPU",
              shape_str(shape_), device_name(device()));
}

double Tensor::item(int64_t i) const {
  COMET_CHECK(i >= 0 && i < numel_, "Tensor::item: index {} out of range for shape {}", i, shape_str(shape_));
  switch (dtype_) {
    case DType::F32: return data<float>()[i];
    case DType::F64: return data<double>()[i];
    case DType::I32: return data<int32_t>()[i];
    case DType::I64: return static_cast<double>(data<int64_t>()[i]);
  }
  return 0;
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      COMET_CHECK(infer < 0, "reshape: more than one -1 in {}", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      COMET_CHECK(out[i] >= 0, "reshape: bad dimension in {}", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    COMET_CHECK(known > 0 && numel_ % known == 0, "reshape: cannot reshape {} into {}", shape_str(shape_),
                shape_str(shape));
    out[infer] = numel_ / known;
  }
  COMET_CHECK(shape_numel(out) == numel_, "reshape: cannot reshape {} ({} elements) into {}", shape_str(shape_),
              numel_, shape_str(shape));
  Tensor t = *this;
  t.shape_ = out;
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  COMET_CHECK(ndim() >= 1 && begin >= 0 && begin <= end && end <= shape_[0],
              "slice_rows: range [{}, {}) out of bounds for shape {}", begin, end, shape_str(shape_));
  Tensor t = *this;
  t.shape_[0] = end - begin;
  t.numel_ = shape_numel(t.shape_);
  t.offset_ = offset_ + begin * (shape_[0] ? numel_ / shape_[0] : 0);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  COMET_CHECK(src.shape_ == shape_ && src.dtype_ == dtype_, "copy_from: destination {} {} vs source {} {}",
              shape_str(shape_), dtype_name(dtype_), shape_str(src.shape_), dtype_name(src.dtype_));
  COMET_CHECK(device() == Device::CPU && src.device() == Device::CPU,
              "copy_from: a tensor of shape {} on {} into one on {}: CPU tensors only (to_device copies between "
              "devices)", shape_str(shape_), device_name(src.device()), device_name(device()));
  if (numel_) std::memmove(raw(), src.raw(), nbytes());
}

namespace {
template <class To, class From>
void convert(const From* src, To* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<To>(src[i]);
}

template <class From>
void convert_to(const From* src, Tensor& dst) {
  switch (dst.dtype()) {
    case DType::F32: convert(src, dst.data<float>(), dst.numel()); break;
    case DType::F64: convert(src, dst.data<double>(), dst.numel()); break;
    case DType::I32: convert(src, dst.data<int32_t>(), dst.numel()); break;
    case DType::I64: convert(src, dst.data<int64_t>(), dst.numel()); break;
  }
}
}  // namespace

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t = empty(shape_, dtype);
  switch (dtype_) {
    case DType::F32: convert_to(data<float>(), t); break;
    case DType::F64: convert_to(data<double>(), t); break;
    case DType::I32: convert_to(data<int32_t>(), t); break;
    case DType::I64: convert_to(data<int64_t>(), t); break;
  }
  return t;
}

void Tensor::fill(double value) {
  switch (dtype_) {
    case DType::F32: std::fill_n(data<float>(), numel_, static_cast<float>(value)); break;
    case DType::F64: std::fill_n(data<double>(), numel_, value); break;
    case DType::I32: std::fill_n(data<int32_t>(), numel_, static_cast<int32_t>(value)); break;
    case DType::I64: std::fill_n(data<int64_t>(), numel_, static_cast<int64_t>(value)); break;
  }
}

Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype()); }
Tensor zeros_like(const Tensor& t) { return Tensor::zeros(t.shape(), t.dtype()); }

namespace {
// An all-ones exponent field marks inf and NaN; an integer OR over the elements vectorises (a float sum would not,
// without reordering).
template <class Bits>
bool exponents_finite(const void* data, int64_t n, Bits exponent) {
  const Bits* bits = static_cast<const Bits*>(data);
  Bits bad = 0;
  for (int64_t i = 0; i < n; ++i) bad |= static_cast<Bits>((bits[i] & exponent) == exponent);
  return bad == 0;
}
}  // namespace

bool all_finite(const Tensor& t) {
  if (t.dtype() != DType::F32 && t.dtype() != DType::F64) return true;
  const size_t width = dtype_size(t.dtype());
  const auto finite = [&](int64_t begin, int64_t end) {
    const char* p = static_cast<const char*>(t.raw()) + begin * static_cast<int64_t>(width);
    return t.dtype() == DType::F32 ? exponents_finite<uint32_t>(p, end - begin, 0x7f800000u)
                                   : exponents_finite<uint64_t>(p, end - begin, 0x7ff0000000000000ull);
  };
  // A memory-bound scan: large tensors (a step's gradients) in parallel blocks.
  const int64_t n = t.numel(), blocks = n >= (1 << 18) ? 4 * num_threads() : 1;
  std::atomic<bool> ok{true};
  parallel_chunks(blocks, [&](int64_t b) {
    if (!finite(n * b / blocks, n * (b + 1) / blocks)) ok.store(false);
  });
  return ok.load();
}

void check_shape(const char* op, const Tensor& t, const Shape& shape, const char* what) {
  COMET_CHECK(t.shape() == shape, "{}: {} expected shape {}, got {}", op, what, shape_str(shape),
              shape_str(t.shape()));
}

void check_dtype(const char* op, const Tensor& t, DType dtype, const char* what) {
  COMET_CHECK(t.dtype() == dtype, "{}: {} expected dtype {}, got {} (shape {})", op, what, dtype_name(dtype),
              dtype_name(t.dtype()), shape_str(t.shape()));
}

}  // namespace comet
