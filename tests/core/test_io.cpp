// Tests of core/io: .npy and safetensors round trips for every dtype and shapes [], [0], [1], [7, 33],
// [2, 3, 4]; exact byte layouts; hand-built corrupt files (every truncation, flipped bytes, bad magic, bad
// JSON, bad offsets) that must throw comet::Error naming the file; atomic writes; interop with numpy and
// safetensors.numpy through tests/core/io_interop.py when a Python with those modules is found.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "test_util.h"

namespace comet {
namespace {

namespace fs = std::filesystem;
using io::NamedTensors;

const std::vector<DType> kDTypes = {DType::F32, DType::F64, DType::I32, DType::I64};
const std::vector<Shape> kShapes = {{}, {0}, {1}, {7, 33}, {2, 3, 4}};


void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
std::string read_bytes(const std::string& path) {
  std::ostringstream s;
  s << std::ifstream(path, std::ios::binary).rdbuf();
  return s.str();
}
std::string bytes_of(const Tensor& t) { return std::string(static_cast<const char*>(t.raw()), t.nbytes()); }
template <class T>
std::string raw(T value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof value);
}

const char* npy_code(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f4";
    case DType::F64: return "f8";
    case DType::I32: return "i4";
    case DType::I64: return "i8";
  }
  return "";
}

// The value pattern shared with io_interop.py: f = (i - 10) / 7 (in double; one correctly rounded operation,
// so FMA contraction cannot change it), i4 = 7 i - 100, i8 = 1000003 i - 2^40.
Tensor pattern(DType dtype, const Shape& shape) {
  Tensor t = Tensor::empty(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double f = static_cast<double>(i - 10) / 7.0;
    switch (dtype) {
      case DType::F32: t.data<float>()[i] = static_cast<float>(f); break;
      case DType::F64: t.data<double>()[i] = f; break;
      case DType::I32: t.data<int32_t>()[i] = static_cast<int32_t>(7 * i - 100); break;
      case DType::I64: t.data<int64_t>()[i] = 1000003 * i - (int64_t{1} << 40); break;
    }
  }
  return t;
}

void check_same(const Tensor& got, const Tensor& want) {
  REQUIRE(got.defined());
  CHECK(got.dtype() == want.dtype());
  CHECK(got.shape() == want.shape());
  CHECK(bytes_of(got) == bytes_of(want));
}

// Runs f, which must throw comet::Error whose message names `path` and contains `what`.
template <class F>
void check_fails(F&& f, const std::string& path, const std::string& what) {
  bool threw = false;
  try {
    f();
  } catch (const Error& e) {
    threw = true;
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(what) != std::string::npos);
  }
  INFO("expected comet::Error containing: " << what);
  CHECK(threw);
}

// A .npy file with the given header dict (a newline is appended; no padding) and data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::string header = dict + "\n";
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const uint32_t len = static_cast<uint32_t>(header.size());
  out.append(reinterpret_cast<const char*>(&len), major == 1 ? 2 : 4);
  return out + header + data;
}
std::string st_bytes(const std::string& json, const std::string& data) {
  return raw<uint64_t>(json.size()) + json + data;
}

// Runs io_interop.py; returns its exit status.
int interop(const std::string& python, const std::string& args) {
  const std::string cmd = fmt::format("{} '{}/tests/core/io_interop.py' {}", python, COMET_SOURCE_DIR, args);
  INFO("command: " << cmd);
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
std::string spec(const std::string& name, DType dtype, const Shape& shape) {
  return fmt::format("'{}={}:{}'", name, npy_code(dtype), fmt::join(shape, "x"));
}
std::string tensor_name(DType dtype, size_t shape_index) {
  return fmt::format("{}_{}", dtype_name(dtype), shape_index);
}

// Every dtype at every test shape, named "<dtype>_<shape index>".
NamedTensors all_patterns() {
  NamedTensors out;
  for (DType dtype : kDTypes)
    for (size_t s = 0; s < kShapes.size(); ++s)
      out.emplace_back(tensor_name(dtype, s), pattern(dtype, kShapes[s]));
  return out;
}

TEST_CASE("npy round trip for every dtype and shape") {
  test::TempDir tmp;
  for (DType dtype : kDTypes)
    for (const Shape& shape : kShapes) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(shape_str(shape));
      const std::string path = tmp / "t.npy";
      io::save_npy(path, pattern(dtype, shape));
      check_same(io::load_npy(path), pattern(dtype, shape));
    }
  CHECK(tmp.names() == std::vector<std::string>{"t.npy"});  // no temporary files left
}

TEST_CASE("npy writes numpy's exact layout: version 1.0, header padded to 64 bytes") {
  test::TempDir tmp;
  const Tensor t = Tensor::from_vector<float>({2}, {1.5f, -2.0f});
  io::save_npy(tmp / "a.npy", t);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  dict.append(64 * 2 - 10 - dict.size() - 1, ' ');
  CHECK(read_bytes(tmp / "a.npy") == npy_bytes(dict, bytes_of(t)));
  io::save_npy(tmp / "b.npy", Tensor::from_vector<int64_t>({2, 1}, {3, 4}));
  const std::string b_dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), } ";
  CHECK(read_bytes(tmp / "b.npy").substr(10, b_dict.size()) == b_dict);
  io::save_npy(tmp / "c.npy", Tensor::full({}, 7.0, DType::F64));
  const std::string c_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (), } ";
  CHECK(read_bytes(tmp / "c.npy").substr(10, c_dict.size()) == c_dict);
}

TEST_CASE("npy reads versions 2.0 and 3.0, '=' and '|' markers, other spellings of the dict") {
  test::TempDir tmp;
  const std::string path = tmp / "a.npy";
  const Tensor t = pattern(DType::I32, {2, 3});
  const std::vector<std::pair<std::string, int>> cases = {
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 2},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 3},
      {"{'descr': '=i4', 'fortran_order': False, 'shape': (2,3)}", 1},
      {"{'descr': '|i4', 'fortran_order': False, 'shape': (2, 3,), }", 1},
      {"{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<i4\"}   \t", 1}};
  for (const auto& [dict, major] : cases) {
    CAPTURE(dict);
    write_bytes(path, npy_bytes(dict, bytes_of(t), major));
    check_same(io::load_npy(path), t);
  }
  // Fortran order is the same layout when at most one dimension exceeds 1.
  write_bytes(path, npy_bytes("{'descr': '<i4', 'fortran_order': True, 'shape': (1, 6, 1), }", bytes_of(t)));
  check_same(io::load_npy(path), t.reshape({1, 6, 1}));
}

TEST_CASE("npy rejects malformed files with a message naming the file and the problem") {
  test::TempDir tmp;
  const std::string path = tmp / "bad.npy";
  const std::string data = bytes_of(pattern(DType::F32, {2, 3}));
  const auto fails = [&](const std::string& bytes, const std::string& what) {
    CAPTURE(what);
    write_bytes(path, bytes);
    check_fails([&] { io::load_npy(path); }, path, what);
  };
  const auto with_dict = [&](const std::string& dict, const std::string& what) {
    fails(npy_bytes(dict, data), what);
  };
  check_fails([&] { io::load_npy(tmp / "missing.npy"); }, tmp / "missing.npy", "cannot open");
  check_fails([&] { io::load_npy(tmp.dir.string()); }, tmp.dir.string(), "directory");
  fails("", "truncated");
  fails("\x93NUMP", "truncated");
  fails("PK\x03\x04 this is a zip file", "bad magic");
  fails(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data, 4), "version 4.0");
  fails(std::string("\x93NUMPY\x01\x00\xff\x7f{'descr'", 18), "header length 32767 is larger");
  with_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", "big-endian");
  with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "Fortran-order");
  with_dict("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", "unsupported dtype '<f2'");
  with_dict("{'descr': '<u4', 'fortran_order': False, 'shape': (2, 3), }", "unsupported dtype '<u4'");
  with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }",
            "expected a quoted string");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "negative dimension");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "not a tuple");
  with_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", "expected True or False");
  with_dict("{'descr': '<f4', 'fortran_order': False}", "needs the keys");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", "unexpected key 'x'");
  with_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "appears twice");
  with_dict("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", "expected '}'");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", "unexpected text");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "expected '}'");
  with_dict("['descr', '<f4']", "expected '{'");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
            "dimension too large");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            "too many elements");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", "truncated");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", "4 trailing bytes");
  with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n\n\xff", "unexpected text");
}

TEST_CASE("safetensors round trip for every dtype and shape, with metadata") {
  test::TempDir tmp;
  const std::string path = tmp / "all.safetensors";
  NamedTensors tensors = all_patterns();
  std::reverse(tensors.begin(), tensors.end());  // the file keeps name order whatever the caller's order
  const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                       {"note", "\xc3\xa9t\xc3\xa9 \"quoted\""}};
  io::save_safetensors(path, tensors, metadata);
  const NamedTensors loaded = io::load_safetensors(path);
  const NamedTensors want = all_patterns();
  REQUIRE(loaded.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(want[i].first);
    CHECK(loaded[i].first == want[i].first);
    check_same(loaded[i].second, want[i].second);
  }
  CHECK(io::load_safetensors_metadata(path) == metadata);
  io::save_safetensors(path, {});
  CHECK(io::load_safetensors(path).empty());
  CHECK(io::load_safetensors_metadata(path).empty());
  CHECK(tmp.names() == std::vector<std::string>{"all.safetensors"});
}

TEST_CASE("safetensors layout: header size, space padding to 8 bytes, offsets in name order") {
  test::TempDir tmp;
  const std::string path = tmp / "a.safetensors";
  const Tensor b = Tensor::from_vector<int32_t>({3}, {1, 2, 3});
  const Tensor a = Tensor::from_vector<double>({1}, {0.5});
  io::save_safetensors(path, {{"b", b}, {"a", a}});
  const std::string json =
      R"({"a":{"data_offsets":[0,8],"dtype":"F64","shape":[1]},"b":{"data_offsets":[8,20],"dtype":"I32","shape":[3]}})";
  std::string padded = json;
  padded.append((8 - json.size() % 8) % 8, ' ');
  CHECK(read_bytes(path) == st_bytes(padded, bytes_of(a) + bytes_of(b)));
}

TEST_CASE("safetensors rejects malformed files with a message naming the file and the problem") {
  test::TempDir tmp;
  const std::string path = tmp / "bad.safetensors";
  const std::string data = bytes_of(pattern(DType::F32, {4}));
  const auto fails = [&](const std::string& bytes, const std::string& what) {
    CAPTURE(what);
    write_bytes(path, bytes);
    check_fails([&] { io::load_safetensors(path); }, path, what);
  };
  // Two F32 [2] tensors "a" and "b" with the given fields after "dtype" (and a fixed "a").
  const auto two = [&](const std::string& b_fields, const std::string& b_dtype = "F32") {
    return fmt::format(
        R"({{"a":{{"dtype":"F32","shape":[2],"data_offsets":[0,8]}},"b":{{"dtype":"{}",{}}}}})", b_dtype,
        b_fields);
  };
  const auto with_json = [&](const std::string& json, const std::string& what, const std::string& d = "") {
    fails(st_bytes(json, d.empty() ? data : d), what);
  };
  write_bytes(path, st_bytes(two(R"("shape":[2],"data_offsets":[8,16])"), data));
  REQUIRE(io::load_safetensors(path).size() == 2);  // the base case is valid

  check_fails([&] { io::load_safetensors(tmp / "missing.st"); }, tmp / "missing.st", "cannot open");
  fails("", "truncated");
  fails(std::string("\x10\0\0", 3), "truncated");
  fails(raw<uint64_t>(1000) + "{}", "header size 1000 is larger");
  fails(raw<uint64_t>(~uint64_t{0}) + "{}", "is larger than the rest of the file");
  with_json("", "invalid JSON", " ");
  with_json("{\"a\":", "invalid JSON");
  with_json("{\"\xff\":1}", "invalid JSON");
  with_json("[1,2]", "not an object");
  with_json(std::string(100, '[') + std::string(100, ']'), "nested deeper");
  with_json(R"({"a":5})", "expected an object");
  with_json(two(R"("shape":[2],"data_offsets":[8,16])", "BF16"), "unsupported dtype \"BF16\"");
  with_json(two(R"("shape":[3],"data_offsets":[8,16])"), "needs 12 bytes but data_offsets [8, 16] hold 8");
  with_json(two(R"("shape":[4],"data_offsets":[8,24])"), "outside the data buffer");
  with_json(two(R"("shape":[0],"data_offsets":[16,8])"), "end before they begin");
  with_json(two(R"("shape":[2],"data_offsets":[4,12])"), "overlap");
  with_json(two(R"("shape":[2],"data_offsets":[12,20])"), "4 unused bytes before tensor 'b'", data + "1234");
  with_json(two(R"("shape":[2],"data_offsets":[8,16])"), "4 trailing bytes", data + "1234");
  with_json(two(R"("shape":[-2],"data_offsets":[8,16])"), "negative value -2 in shape");
  with_json(two(R"("shape":[2.0],"data_offsets":[8,16])"), "must hold integers");
  with_json(two(R"("shape":[18446744073709551615],"data_offsets":[8,16])"), "too large");
  with_json(two(R"("shape":[4294967296,4294967296],"data_offsets":[8,16])"), "too many elements");
  with_json(two(R"("shape":[2],"data_offsets":[8])"), "data_offsets must be [begin, end]");
  with_json(two(R"("shape":[2],"data_offsets":[8,-16])"), "negative value");
  with_json(two(R"("shape":2,"data_offsets":[8,16])"), "shape must be an array");
  with_json(two(R"("shape":[2])"), "missing key 'data_offsets'");
  with_json(two(R"("shape":[2],"data_offsets":[8,16],"x":1)"), "unexpected key 'x'");
  with_json(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
      "duplicate key 'a'");
  with_json(R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
            "not a string");
  with_json(R"({"__metadata__":[],"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
            "must be an object");
}

// Every prefix of a valid file must throw comet::Error; every single-byte change must load or throw it.
// Each variant goes to a new file (removed with the test::TempDir): rewriting one file in place makes ext4 flush it
// to disk on every close, which takes seconds over thousands of variants.
template <class Load>
void check_truncations_and_flips(const std::string& path, Load load) {
  const std::string valid = read_bytes(path);
  REQUIRE(!valid.empty());
  int count = 0;
  const auto load_variant = [&](const std::string& bytes) {
    const std::string variant = fmt::format("{}.{}", path, count++);
    write_bytes(variant, bytes);
    load(variant);
  };
  for (size_t n = 0; n < valid.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(load_variant(valid.substr(0, n)), Error);
  }
  for (size_t i = 0; i < valid.size(); ++i)
    for (const char c : {'\0', '\xff', '9', ' ', '-', '"', '}', '\x93'}) {
      std::string bytes = valid;
      bytes[i] = c;
      try {
        load_variant(bytes);
      } catch (const Error&) {
      }
    }
}

TEST_CASE("every truncation and byte flip of a valid file throws comet::Error or loads") {
  test::TempDir tmp;
  io::save_npy(tmp / "a.npy", pattern(DType::F64, {3, 5}));
  check_truncations_and_flips(tmp / "a.npy", io::load_npy);
  io::save_safetensors(
      tmp / "a.st",
      {{"x", pattern(DType::F32, {2, 3})}, {"y", pattern(DType::I64, {})}, {"z", pattern(DType::I32, {0})}},
      {{"k", "v"}});
  check_truncations_and_flips(tmp / "a.st", io::load_safetensors);
}

TEST_CASE("writes are atomic: a failed write leaves the target as it was and no temporary file") {
  test::TempDir tmp;
  const Tensor t = pattern(DType::F32, {7, 33});
  check_fails([&] { io::save_npy(tmp / "no/such/dir/a.npy", t); }, tmp / "no/such/dir/a.npy",
              "cannot create a temporary file in directory '" + tmp / "no/such/dir");
  check_fails([&] { io::save_safetensors(tmp / "no/a.st", {{"t", t}}); }, tmp / "no/a.st", "No such file");

  const std::string npy = tmp / "a.npy", st = tmp / "a.st";
  io::save_npy(npy, t);
  io::save_safetensors(st, {{"t", t}});
  const std::string npy_before = read_bytes(npy), st_before = read_bytes(st);
  check_fails([&] { io::save_npy(npy, Tensor()); }, npy, "undefined tensor");
  check_fails([&] { io::save_safetensors(st, {{"t", t}, {"t", t}}); }, st, "'t' appears twice");
  check_fails([&] { io::save_safetensors(st, {{"__metadata__", t}}); }, st, "reserved");
  check_fails([&] { io::save_safetensors(st, {{"t", Tensor()}}); }, st, "tensor 't' is an undefined tensor");
  check_fails([&] { io::save_safetensors(st, {{"\xff", t}}); }, st, "UTF-8");

  // The rename fails when the target is a directory.
  fs::create_directory(tmp / "d.npy");
  check_fails([&] { io::save_npy(tmp / "d.npy", t); }, tmp / "d.npy", "rename of temporary file");

  // A write that fails midway: a file-size limit below the data size (SIGXFSZ ignored so write() fails).
  {
    rlimit old{};
    getrlimit(RLIMIT_FSIZE, &old);
    const auto old_handler = signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 4096;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const Tensor big = pattern(DType::F64, {1000});
    const auto restore = [&] {
      setrlimit(RLIMIT_FSIZE, &old);
      signal(SIGXFSZ, old_handler);
    };
    try {
      check_fails([&] { io::save_npy(npy, big); }, npy, "write of temporary file");
      check_fails([&] { io::save_safetensors(st, {{"big", big}}); }, st, "write of temporary file");
    } catch (...) {
      restore();
      throw;
    }
    restore();
  }
  CHECK(read_bytes(npy) == npy_before);
  CHECK(read_bytes(st) == st_before);
  CHECK(tmp.names() == std::vector<std::string>{"a.npy", "a.st", "d.npy"});
  // Overwriting an existing file works.
  io::save_npy(npy, pattern(DType::I32, {2}));
  check_same(io::load_npy(npy), pattern(DType::I32, {2}));
}

TEST_CASE("npy interop with numpy in both directions") {
  const std::string py = test::find_python("numpy");
  if (py.empty()) COMET_SKIP_TEST("neither python3 nor /usr/bin/python3 can import numpy");
  test::TempDir from_engine, from_numpy;
  std::string specs;
  for (DType dtype : kDTypes)
    for (size_t s = 0; s < kShapes.size(); ++s) {
      io::save_npy(from_engine / (tensor_name(dtype, s) + ".npy"), pattern(dtype, kShapes[s]));
      specs += " " + spec(tensor_name(dtype, s), dtype, kShapes[s]);
    }
  CHECK(interop(py, fmt::format("check npy '{}' --{}", from_engine.dir.string(), specs)) == 0);
  REQUIRE(interop(py, fmt::format("write npy '{}' --{}", from_numpy.dir.string(), specs)) == 0);
  for (DType dtype : kDTypes)
    for (size_t s = 0; s < kShapes.size(); ++s) {
      CAPTURE(tensor_name(dtype, s));
      check_same(io::load_npy(from_numpy / (tensor_name(dtype, s) + ".npy")), pattern(dtype, kShapes[s]));
    }
  REQUIRE(interop(py, fmt::format("write npy '{}' --order F -- {}", from_numpy.dir.string(),
                                  spec("f", DType::F32, {2, 3}))) == 0);
  check_fails([&] { io::load_npy(from_numpy / "f.npy"); }, from_numpy / "f.npy", "Fortran-order");
  REQUIRE(interop(py, fmt::format("write npy '{}' --byteorder '>' -- {}", from_numpy.dir.string(),
                                  spec("b", DType::I64, {4}))) == 0);
  check_fails([&] { io::load_npy(from_numpy / "b.npy"); }, from_numpy / "b.npy", "big-endian data ('>i8')");
}

TEST_CASE("safetensors interop with safetensors.numpy in both directions") {
  const std::string py = test::find_python("numpy, safetensors.numpy");
  if (py.empty())
    COMET_SKIP_TEST("neither python3 nor /usr/bin/python3 can import numpy and safetensors.numpy "
                    "(pip install numpy safetensors)");
  test::TempDir tmp;
  const std::string path = tmp / "x.safetensors";
  std::string specs;
  for (DType dtype : kDTypes)
    for (size_t s = 0; s < kShapes.size(); ++s) specs += " " + spec(tensor_name(dtype, s), dtype, kShapes[s]);
  io::save_safetensors(path, all_patterns(), {{"format", "np"}, {"k", "v w"}});
  CHECK(interop(py, fmt::format("check st '{}' --meta format=np 'k=v w' --{}", path, specs)) == 0);
  fs::remove(path);
  REQUIRE(interop(py, fmt::format("write st '{}' --meta a=b --{}", path, specs)) == 0);
  const NamedTensors loaded = io::load_safetensors(path), want = all_patterns();
  REQUIRE(loaded.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(want[i].first);
    CHECK(loaded[i].first == want[i].first);
    check_same(loaded[i].second, want[i].second);
  }
  CHECK(io::load_safetensors_metadata(path) == std::map<std::string, std::string>{{"a", "b"}});
}

}  // namespace
}  // namespace comet
