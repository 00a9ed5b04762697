// .npy reader and writer: a small parser for the header's Python dict literal, then the raw C-order data.
// Test: tests/core/test_io.cpp.
#include "core/io/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

#include "core/io/atomic_file.h"
#include "core/mutation.h"

namespace comet::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct NpyType {
  DType dtype;
  const char* code;  // kind and item size, after the byte-order marker
};
constexpr NpyType kTypes[] = {{DType::F32, "f4"}, {DType::F64, "f8"}, {DType::I32, "i4"}, {DType::I64, "i8"}};

const char* npy_code(DType dtype) {
  for (const NpyType& t : kTypes)
    if (t.dtype == dtype) return t.code;
  throw Error(fmt::format("save_npy: dtype {} has no .npy code", dtype_name(dtype)));
}

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" followed by spaces and a newline:
// keys in any order, each exactly once; strings in single or double quotes; shape a tuple of ints.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const InputFile& file) : s_(text), file_(file) {}

  NpyHeader parse() {
    NpyHeader h;
    std::vector<std::string> seen;
    expect('{');
    while (!consume('}')) {
      const std::string key = parse_string();
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) error("key '{}' appears twice", key);
      seen.push_back(key);
      expect(':');
      if (key == "descr")
        h.descr = parse_string();
      else if (key == "fortran_order")
        h.fortran_order = parse_bool();
      else if (key == "shape")
        h.shape = parse_shape();
      else
        error("unexpected key '{}' (expected descr, fortran_order, shape)", key);
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != s_.size()) error("unexpected text after the dict");
    if (seen.size() != 3) error("the dict needs the keys descr, fortran_order and shape");
    return h;
  }

 private:
  template <class... Args>
  [[noreturn]] void error(fmt::format_string<Args...> message, Args&&... args) const {
    std::string shown = s_.substr(0, 200);
    for (char& c : shown)
      if (c < 0x20 || c > 0x7e) c = '?';
    file_.fail("invalid header at character {}: {} (header: \"{}\")", pos_,
               fmt::format(message, std::forward<Args>(args)...), shown);
  }
  void skip_space() {
    while (pos_ < s_.size() && std::string_view(" \t\r\n").find(s_[pos_]) != std::string_view::npos) ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  void expect(char c) {
    if (!consume(c)) error("expected '{}'", c);
  }
  bool consume_word(const char* word) {
    skip_space();
    if (s_.compare(pos_, std::strlen(word), word) != 0) return false;
    pos_ += std::strlen(word);
    return true;
  }

  std::string parse_string() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) error("expected a quoted string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) error("unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    if (out.find('\\') != std::string::npos) error("escape sequences in strings are not supported");
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (consume_word("True")) return true;
    if (consume_word("False")) return false;
    error("expected True or False");
  }
  int64_t parse_int() {
    skip_space();
    const bool negative = consume('-');
    if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_])))
      error("expected an integer");
    int64_t v = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s_[pos_] - '0', &v))
        error("dimension too large");
      ++pos_;
    }
    if (negative) error("negative dimension -{}", v);
    return v;
  }
  Shape parse_shape() {
    Shape shape;
    bool comma = false;
    expect('(');
    while (!consume(')')) {
      shape.push_back(parse_int());
      comma = consume(',');
      if (!comma) {
        expect(')');
        break;
      }
    }
    // "(5)" is the int 5 in Python, not a tuple; numpy writes "(5,)".
    if (shape.size() == 1 && !comma) error("shape '({})' is not a tuple", shape[0]);
    if (COMET_MUTANT(npy_shape_reversed)) std::reverse(shape.begin(), shape.end());
    return shape;
  }

  const std::string& s_;
  const InputFile& file_;
  size_t pos_ = 0;
};

DType parse_descr(const std::string& descr, const InputFile& file) {
  if (descr.size() == 3 && (descr[0] == '>' || descr[0] == '!'))
    file.fail("big-endian data ('{}') is not supported; convert it with arr.astype('<{}')", descr,
              descr.substr(1));
  if (descr.size() == 3 && std::string_view("<=|").find(descr[0]) != std::string_view::npos)
    for (const NpyType& t : kTypes)
      if (descr.compare(1, 2, t.code) == 0) return t.dtype;
  file.fail("unsupported dtype '{}' (supported: <f4, <f8, <i4, <i8)", descr);
}

// Fortran order lays out the data as C order does when at most one dimension exceeds 1.
bool same_as_c_order(const Shape& shape) {
  return std::count_if(shape.begin(), shape.end(), [](int64_t d) { return d > 1; }) <= 1;
}

}  // namespace

void save_npy(const std::string& path, const Tensor& t) {
  check_saveable("save_npy", path, t, "the tensor");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) shape += fmt::format("{}{},", i ? " " : "", t.shape()[i]);
  if (t.ndim() > 1) shape.pop_back();  // "(2, 3)", but "(5,)" and "()"
  shape += ")";
  std::string dict =
      fmt::format("{{'descr': '<{}', 'fortran_order': False, 'shape': {}, }}", npy_code(t.dtype()), shape);
  // Version 1.0 stores the header length in 2 bytes, 2.0 in 4; spaces and a newline pad the whole header
  // (magic, version, length, dict) to a multiple of 64 bytes.
  const auto padded = [&](size_t preamble) { return (preamble + dict.size() + 1 + 63) / 64 * 64 - preamble; };
  const bool v1 = padded(kMagicSize + 4) <= 65535;
  const size_t preamble = kMagicSize + 2 + (v1 ? 2 : 4);
  dict.append(padded(preamble) - dict.size() - 1, ' ');
  dict += '\n';
  std::string header(kMagic, kMagicSize);
  header += static_cast<char>(v1 ? 1 : 2);
  header += '\0';
  const uint32_t len = static_cast<uint32_t>(dict.size());
  header.append(reinterpret_cast<const char*>(&len), v1 ? 2 : 4);
  header += dict;
  write_file_atomic(path, {{header.data(), header.size()}, {t.raw(), t.nbytes()}}, "save_npy");
}

Tensor load_npy(const std::string& path) {
  const InputFile file(path, "load_npy");
  char start[kMagicSize + 2];
  file.read(0, start, sizeof start, "magic string and version");
  if (std::memcmp(start, kMagic, kMagicSize) != 0) file.fail("bad magic: not a .npy file");
  const int major = static_cast<unsigned char>(start[kMagicSize]);
  const int minor = static_cast<unsigned char>(start[kMagicSize + 1]);
  if (major < 1 || major > 3 || minor != 0) file.fail("unsupported .npy format version {}.{}", major, minor);
  const uint64_t len_size = major == 1 ? 2 : 4;
  uint32_t header_len = 0;
  file.read(sizeof start, &header_len, len_size, "header length");
  const uint64_t header_start = sizeof start + len_size;
  if (header_len > file.size() - header_start)
    file.fail("header length {} is larger than the rest of the file ({} bytes)", header_len,
              file.size() - header_start);
  const std::string text = file.read_string(header_start, header_len, "header");
  const NpyHeader h = HeaderParser(text, file).parse();

  const DType dtype = parse_descr(h.descr, file);
  if (h.fortran_order && !same_as_c_order(h.shape))
    file.fail("Fortran-order data (shape {}) is not supported; save np.ascontiguousarray(arr)",
              shape_str(h.shape));
  const std::optional<uint64_t> nbytes = checked_nbytes(h.shape, dtype);
  if (!nbytes) file.fail("shape {} has too many elements", shape_str(h.shape));
  const uint64_t data_start = header_start + header_len, have = file.size() - data_start;
  if (have < *nbytes)
    file.fail("file is truncated: shape {} of {} needs {} data bytes, the file has {}", shape_str(h.shape),
              dtype_name(dtype), *nbytes, have);
  if (have > *nbytes)
    file.fail("{} trailing bytes after the data of shape {} ({})", have - *nbytes, shape_str(h.shape),
              dtype_name(dtype));
  Tensor t = Tensor::empty(h.shape, dtype);
  file.read(data_start, t.raw(), *nbytes, "data");
  return t;
}

}  // namespace comet::io
