// Element types of tensors. F32 is the compute type; F64 exists so that gradient checks run in double
// precision through the same ops; I32/I64 hold indices. Test: tests/core/test_tensor.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

namespace comet {

enum class DType : uint8_t { F32, F64, I32, I64 };
enum class Device : uint8_t { CPU, CUDA };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
const char* device_name(Device d);

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }

}  // namespace comet

// Runs BODY with `scalar_t` bound to float or double according to a floating dtype.
#define COMET_DISPATCH_FLOAT(DTYPE, OPNAME, ...)                                              \
  [&] {                                                                                       \
    switch (DTYPE) {                                                                          \
      case ::comet::DType::F32: { using scalar_t = float; return __VA_ARGS__(); }              \
      case ::comet::DType::F64: { using scalar_t = double; return __VA_ARGS__(); }             \
      default:                                                                                \
        throw ::comet::Error(::fmt::format("{}: expected a floating dtype, got {}", OPNAME,    \
                                           ::comet::dtype_name(DTYPE)));                      \
    }                                                                                         \
  }()

// Runs BODY with `index_t` bound to int32_t or int64_t according to an index dtype.
#define COMET_DISPATCH_INDEX(DTYPE, OPNAME, ...)                                              \
  [&] {                                                                                       \
    switch (DTYPE) {                                                                          \
      case ::comet::DType::I32: { using index_t = int32_t; return __VA_ARGS__(); }             \
      case ::comet::DType::I64: { using index_t = int64_t; return __VA_ARGS__(); }             \
      default:                                                                                \
        throw ::comet::Error(::fmt::format("{}: expected an index dtype (i32/i64), got {}",   \
                                           OPNAME, ::comet::dtype_name(DTYPE)));              \
    }                                                                                         \
  }()
