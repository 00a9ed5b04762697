// File plumbing shared by the tensor formats (npy.cpp, safetensors.cpp): bounds-checked reads of byte ranges
// of a file, atomic writes (a temporary file in the target's directory, fsync, rename over the target, so a
// failed write never leaves a half-written file) and overflow-checked tensor sizes. Errors are comet::Error
// messages that start with the caller's op name and the path. Test: tests/core/test_io.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

// Both formats store little-endian data, which is read and written here as raw memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "comet::io supports little-endian hosts only");

namespace comet::io {

// Throws comet::Error "<op>: '<path>': <message>".
template <class... Args>
[[noreturn]] void fail(const char* op, const std::string& path, fmt::format_string<Args...> message,
                       Args&&... args) {
  throw Error(fmt::format("{}: '{}': {}", op, path, fmt::format(message, std::forward<Args>(args)...)));
}

// A regular file opened for reading; every read is checked against the file size.
class InputFile {
 public:
  InputFile(const std::string& path, const char* op);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }
  // Reads bytes [offset, offset + n) holding `what`; throws "file is truncated" when the file ends before.
  void read(uint64_t offset, void* dst, uint64_t n, const char* what) const;
  std::string read_string(uint64_t offset, uint64_t n, const char* what) const;
  // Throws "<op>: '<path>': <message>".
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> message, Args&&... args) const {
    io::fail(op_, path_, message, std::forward<Args>(args)...);
  }

 private:
  void check_range(uint64_t offset, uint64_t n, const char* what) const;

  std::string path_;
  const char* op_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// One piece of the bytes to write.
struct ByteSpan {
  const void* data;
  size_t size;
};

// Writes the concatenation of `pieces` to `path` atomically; on failure the target is untouched and the
// temporary file is removed.
void write_file_atomic(const std::string& path, const std::vector<ByteSpan>& pieces, const char* op);

// Bytes held by a tensor of `shape` (dimensions >= 0) and `dtype`; nullopt when that overflows int64.
std::optional<uint64_t> checked_nbytes(const Shape& shape, DType dtype);

// Throws unless `t` can be written as it is: a defined CPU tensor (`what` names it in the message).
void check_saveable(const char* op, const std::string& path, const Tensor& t, const std::string& what);

}  // namespace comet::io
