// Bounds-checked file reads, atomic file writes (POSIX) and checked tensor sizes. Test:
// tests/core/test_io.cpp.
#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace comet::io {
namespace {

std::string errno_str() { return std::strerror(errno); }

std::string parent_dir(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Writes all of [data, data + size) to fd, retrying short writes and interrupts; false on error (errno set).
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Makes a new file next to `path` with a unique name; returns its descriptor, or -1 (errno set).
int create_temporary(const std::string& path, std::string& tmp_path) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp_path = fmt::format("{}.tmp.{}.{}", path, ::getpid(), counter++);
    const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace

InputFile::InputFile(const std::string& path, const char* op) : path_(path), op_(op) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open the file: {}", errno_str());
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string why = S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file";
    ::close(fd_);
    fail("cannot read the file: {}", why);
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

void InputFile::check_range(uint64_t offset, uint64_t n, const char* what) const {
  if (offset > size_ || n > size_ - offset)
    fail("file is truncated: the {} needs {} bytes at offset {} but the file has {} bytes", what, n, offset,
         size_);
}

void InputFile::read(uint64_t offset, void* dst, uint64_t n, const char* what) const {
  check_range(offset, n, what);
  char* out = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail("read error in the {} at byte {}: {}", what, offset, errno_str());
    if (got == 0)
      fail("file is truncated: it ended at byte {} inside the {} (it shrank while read)", offset, what);
    out += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<uint64_t>(got);
  }
}

std::string InputFile::read_string(uint64_t offset, uint64_t n, const char* what) const {
  check_range(offset, n, what);
  std::string s(n, '\0');
  read(offset, s.data(), n, what);
  return s;
}

void write_file_atomic(const std::string& path, const std::vector<ByteSpan>& pieces, const char* op) {
  std::string tmp;
  const int fd = create_temporary(path, tmp);
  if (fd < 0)
    fail(op, path, "cannot create a temporary file in directory '{}': {}", parent_dir(path), errno_str());
  struct stat target {};
  if (::stat(path.c_str(), &target) == 0 && S_ISREG(target.st_mode)) ::fchmod(fd, target.st_mode & 07777);

  const char* failed = nullptr;  // the first step that failed
  int err = 0;
  auto step = [&](const char* name, auto&& action) {
    if (!failed && !action()) {
      failed = name;
      err = errno;
    }
  };
  for (const ByteSpan& p : pieces)
    step("write", [&] { return write_all(fd, static_cast<const char*>(p.data), p.size); });
  step("fsync", [&] { return ::fsync(fd) == 0; });
  const bool closed = ::close(fd) == 0;
  step("close", [&] { return closed; });
  step("rename", [&] { return ::rename(tmp.c_str(), path.c_str()) == 0; });
  if (failed) {
    ::unlink(tmp.c_str());
    fail(op, path, "{} of temporary file '{}' failed: {} (the target is unchanged)", failed, tmp,
         std::strerror(err));
  }
  // Make the rename durable; the data is already in place, so a failure here is not an error.
  const int dir_fd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::optional<uint64_t> checked_nbytes(const Shape& shape, DType dtype) {
  int64_t n = static_cast<int64_t>(dtype_size(dtype));
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  return static_cast<uint64_t>(n);
}

void check_saveable(const char* op, const std::string& path, const Tensor& t, const std::string& what) {
  if (!t.defined()) fail(op, path, "{} is an undefined tensor", what);
  if (t.device() != Device::CPU)
    fail(op, path, "{} lives on {}; copy it to the CPU first", what, device_name(t.device()));
}

}  // namespace comet::io
