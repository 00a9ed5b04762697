// Shared by the libFuzzer targets (fuzz/fuzz_*.cpp): the fuzz input is written to a per-process temporary file and
// handed to a reader that takes a path. A reader may refuse its input only with comet::Error; anything else (a
// crash, a sanitizer report, std::bad_alloc, another exception, a hang) is a finding. See fuzz/CMakeLists.txt.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "data/dataset.h"

namespace comet::fuzz {

// A folder of this process's own (created once, removed at exit), under $TMPDIR when set, else /dev/shm when there is
// one (every input is written to a file: on a disk-backed /tmp that costs milliseconds an execution), else /tmp.
inline const std::string& temp_dir() {
  static const std::string dir = [] {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    std::error_code ec;
    if (std::getenv("TMPDIR") == nullptr && std::filesystem::is_directory("/dev/shm", ec)) base = "/dev/shm";
    const auto d = base / ("comet_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static std::string to_remove;
    to_remove = d.string();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return d.string();
  }();
  return dir;
}

// Writes `size` bytes to temp_dir()/name and returns the path.
inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// Runs f(); comet::Error is an expected refusal (printed when COMET_FUZZ_VERBOSE is set, e.g. to check that the
// seeds are accepted), any other exception aborts (a finding).
template <class F>
void expect_only_comet_errors(F&& f) {
  try {
    f();
  } catch (const comet::Error& e) {
    static const bool verbose = std::getenv("COMET_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "fuzz: refused: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: unexpected exception (not comet::Error): %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: unexpected non-std exception\n");
    std::abort();
  }
}

// The parts a reader returned must pass Dataset::validate (a refusal here is a finding, not an expected error).
inline void must_be_valid(const data::Splits& s) {
  try {
    s.train.validate("train");
    s.val.validate("val");
    s.test.validate("test");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: a reader returned an invalid data set: %s\n", e.what());
    std::abort();
  }
}

// The body of a reader target: the input as file `name`, read with read(path, seed 1); a comet::Error is an expected
// refusal, and what the reader returns must be valid.
inline int fuzz_reader(const char* name, data::Splits (*read)(const std::string&, uint64_t), const uint8_t* data,
                       size_t size) {
  const std::string path = write_file(name, data, size);
  data::Splits s;
  bool done = false;
  expect_only_comet_errors([&] {
    s = read(path, 1);
    done = true;
  });
  if (done) must_be_valid(s);
  return 0;
}

}  // namespace comet::fuzz
