// Errors: one exception type; messages name the op and the shapes involved. Test: tests/core/test_tensor.cpp.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace comet {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<int64_t>;

inline std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace comet

// COMET_CHECK(cond, "fmt string", args...): throws comet::Error with the formatted message.
#define COMET_CHECK(COND, ...)                                  \
  do {                                                          \
    if (!(COND)) throw ::comet::Error(::fmt::format(__VA_ARGS__)); \
  } while (0)
