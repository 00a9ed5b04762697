// Shared test helpers: the one tolerance rule of the project, |a - b| <= atol + rtol * |ref|, with a failure
// message that names the worst index, both values and the normalised error; random tensors; shape sets.
#pragma once
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

// Ends the current test case as skipped, with the reason: ctest reports it as skipped, not passed (its
// SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt matches the message). Use it only before any assertion.
#define COMET_SKIP_TEST(REASON)                                               \
  do {                                                                        \
    const std::string comet_skip_message_ = std::string("skipped: ") + (REASON); \
    MESSAGE(comet_skip_message_);                                             \
    return;                                                                   \
  } while (0)

// Ends a device test as skipped when no CUDA device is usable (the host emulation, COMET_CUDA_EMULATE=1, counts as
// one) or the build has no CUDA backend.
#ifdef COMET_WITH_CUDA
#include "kernels/cuda/device.h"
#define COMET_SKIP_WITHOUT_CUDA() \
  if (!::comet::cuda_available()) COMET_SKIP_TEST("no CUDA device: " + ::comet::cuda_status())
#else
#define COMET_SKIP_WITHOUT_CUDA() COMET_SKIP_TEST("this build has no CUDA backend")
#endif

namespace comet::test {

// The first interpreter among python3 (PATH) and /usr/bin/python3 that imports `modules` (e.g. "numpy, sklearn"),
// or "" (optional interop checks skip then).
inline std::string find_python(const std::string& modules) {
  for (const char* py : {"python3", "/usr/bin/python3"})
    if (std::system(fmt::format("{} -c 'import {}' >/dev/null 2>&1", py, modules).c_str()) == 0) return py;
  return "";
}

// A fresh directory under the system temp directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          fmt::format("comet-test-{}-{}", static_cast<long>(::getpid()), counter++);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::string operator/(const std::string& name) const { return path(name); }
  // Writes `content` byte for byte to `name` (sub-folders created) and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::filesystem::path p = dir / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  // The names of the files in the directory, sorted (e.g. to see that no temporary file was left behind).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::filesystem::path dir;
};

// The message of the exception f() throws, or "(no error)".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// Sizes every op is checked on (odd sizes catch remainder loops).
inline const std::vector<int64_t> kOddSizes = {1, 7, 33, 257};

struct Closeness {
  bool ok = true;
  double worst = 0;  // max |a - b| / (atol + rtol |ref|)
  std::string message;
};

inline Closeness compare(const Tensor& got, const Tensor& ref, double rtol, double atol) {
  Closeness c;
  if (got.shape() != ref.shape()) {
    c.ok = false;
    c.message = fmt::format("shape {} vs reference {}", shape_str(got.shape()), shape_str(ref.shape()));
    return c;
  }
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double a = got.item(i), b = ref.item(i);
    const double err = std::fabs(a - b) / (atol + rtol * std::fabs(b));
    if (!(err <= c.worst)) {
      c.worst = std::isnan(err) ? INFINITY : err;
      c.message = fmt::format("worst at index {}: got {:.9g}, reference {:.9g}, normalised error {:.3g}", i, a, b, c.worst);
    }
  }
  c.ok = c.worst <= 1.0;
  return c;
}

#define COMET_CHECK_CLOSE(GOT, REF, RTOL, ATOL)                                 \
  do {                                                                          \
    const auto comet_close_ = ::comet::test::compare((GOT), (REF), (RTOL), (ATOL)); \
    INFO(comet_close_.message);                                                 \
    CHECK(comet_close_.ok);                                                     \
  } while (0)

// Root mean square of a tensor: the scale for "relative" comparisons of values that come out of long sums,
// where an element can cancel to near 0 while its rounding error is set by the size of its terms.
inline double rms(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); ++i) s += t.item(i) * t.item(i);
  return t.numel() ? std::sqrt(s / t.numel()) : 0.0;
}

inline Tensor random_tensor(const Shape& shape, Generator& gen, double lo = -1.0, double hi = 1.0,
                            DType dtype = DType::F64) {
  Tensor t = Tensor::empty(shape, dtype);
  gen.uniform(t, lo, hi);
  return t;
}

}  // namespace comet::test
