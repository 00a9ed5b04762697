// IDX reader: the whole file is read, gunzipped with zlib's inflate when it starts with the gzip magic, then the
// header is parsed and the data length checked against the dimensions.
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "core/mutation.h"

namespace comet::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;
constexpr uint8_t kUnsignedByte = 0x08;

std::vector<uint8_t> read_file(const std::string& path) {
  COMET_CHECK(std::filesystem::exists(path), "{}: cannot open (no such file)", path);
  COMET_CHECK(!std::filesystem::is_directory(path), "{}: cannot open (a directory, not a file)", path);
  std::ifstream in(path, std::ios::binary);
  COMET_CHECK(in.good(), "{}: cannot open ({})", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  COMET_CHECK(!in.bad(), "{}: read error ({})", path, std::strerror(errno));
  return bytes;
}

// Writes bytes to path, through gzip when `gzip`.
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  if (!gzip) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    COMET_CHECK(out.good(), "{}: cannot write ({})", path, std::strerror(errno));
    return;
  }
  COMET_CHECK(bytes.size() < INT_MAX, "{}: {} bytes are too many for one gzwrite", path, bytes.size());
  gzFile f = gzopen(path.c_str(), "wb");
  COMET_CHECK(f != nullptr, "{}: cannot open for writing ({})", path, std::strerror(errno));
  const bool written = bytes.empty() || gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                                            static_cast<int>(bytes.size());
  COMET_CHECK(gzclose(f) == Z_OK && written, "{}: gzip write failed", path);
}

bool is_gzip(const std::vector<uint8_t>& b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

// Ends the inflate stream however gunzip leaves.
struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

// The decompressed content of a gzip file (one or more concatenated members; CRC and length checked by zlib).
std::vector<uint8_t> gunzip(const std::string& path, const std::vector<uint8_t>& in) {
  COMET_CHECK(in.size() < UINT_MAX, "{}: compressed file of {} bytes is too large", path, in.size());
  z_stream zs{};
  COMET_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "{}: zlib inflateInit2 failed", path);
  InflateGuard guard{&zs};
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  // The gzip trailer's last 4 bytes hold the (last member's) size mod 2^32, little-endian: the usual exact size. A
  // corrupt trailer could claim gigabytes, so the first buffer trusts it only up to 16x the compressed size.
  const uint8_t* t = in.data() + in.size() - std::min<size_t>(in.size(), 4);
  const size_t hint = in.size() >= 18 ? (uint32_t{t[0]} | uint32_t{t[1]} << 8 | uint32_t{t[2]} << 16 |
                                         uint32_t{t[3]} << 24) : 0;
  std::vector<uint8_t> out(std::max<size_t>(std::min(hint, 16 * in.size()), 1 << 16));
  size_t produced = 0;
  for (;;) {
    if (produced == out.size()) out.resize(2 * out.size());
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, UINT_MAX));
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced = static_cast<size_t>(zs.next_out - out.data());
    const size_t consumed = in.size() - zs.avail_in;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 || COMET_MUTANT(idx_gzip_member_dropped)) break;
      inflateReset(&zs);  // another gzip member follows
      continue;
    }
    COMET_CHECK(!(rc == Z_BUF_ERROR && zs.avail_in == 0),
                "{}: corrupt gzip stream: it ends after {} compressed bytes, before its end marker (truncated?)",
                path, consumed);
    COMET_CHECK(rc == Z_OK, "{}: corrupt gzip stream at compressed byte {} ({})", path, consumed,
                zs.msg ? zs.msg : "zlib error " + std::to_string(rc));
  }
  out.resize(produced);
  out.shrink_to_fit();
  return out;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string dims_str(const std::vector<int64_t>& dims) { return fmt::format("{}", fmt::join(dims, " x ")); }

// The header and data of decoded IDX bytes; `what` names the file in messages.
IdxArray parse_idx(const std::string& what, std::vector<uint8_t> bytes) {
  const size_t size = bytes.size();
  COMET_CHECK(size >= 4 && bytes[0] == 0 && bytes[1] == 0,
              "{}: neither gzip nor IDX ({} bytes, first bytes {:02x}; gzip starts 1f 8b, IDX with two zero bytes)",
              what, size, fmt::join(bytes.begin(), bytes.begin() + std::min<size_t>(size, 4), " "));
  IdxArray a;
  a.magic = big_endian_u32(bytes.data());
  const uint8_t type = bytes[2], ndims = bytes[3];
  COMET_CHECK(type == kUnsignedByte,
              "{}: unsupported IDX data type 0x{:02X} at byte 2 (magic 0x{:08X}); only 0x08 (unsigned byte) is read",
              what, type, a.magic);
  COMET_CHECK(ndims >= 1, "{}: IDX magic 0x{:08X} declares 0 dimensions", what, a.magic);
  const size_t header = 4 + 4 * size_t{ndims};
  COMET_CHECK(size >= header, "{}: header truncated: {} dimensions need a {}-byte header, got {} bytes", what, ndims,
              header, size);
  int64_t expected = 1;
  for (size_t i = 0; i < ndims; ++i) {
    const int64_t d = big_endian_u32(bytes.data() + 4 + 4 * i);
    COMET_CHECK(d > 0, "{}: dimension {} (header bytes {}..{}) is 0", what, i, 4 + 4 * i, 7 + 4 * i);
    COMET_CHECK(expected <= std::numeric_limits<int64_t>::max() / d, "{}: dimensions overflow 64 bits at dimension {}",
                what, i);
    expected *= d;
    a.dims.push_back(d);
  }
  const int64_t got = static_cast<int64_t>(size - header);
  COMET_CHECK(got >= expected, "{}: expected {} bytes of data, got {} (dims {} after the {}-byte header; truncated?)",
              what, expected, got, dims_str(a.dims), header);
  COMET_CHECK(got == expected, "{}: {} trailing bytes after the {} bytes of data (dims {})", what, got - expected,
              expected, dims_str(a.dims));
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  a.data = std::move(bytes);
  return a;
}

IdxArray read_idx_with_magic(const std::string& path, uint32_t magic, const char* kind) {
  IdxArray a = read_idx(path);
  COMET_CHECK(a.magic == magic, "{}: magic 0x{:08X} is not that of an IDX {} file (0x{:08X})", path, a.magic, kind,
              magic);
  return a;
}

}  // namespace

int64_t IdxArray::item_size() const {
  int64_t s = 1;
  for (size_t i = 1; i < dims.size(); ++i) s *= dims[i];
  return s;
}

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> raw = read_file(path);
  if (is_gzip(raw)) return parse_idx(path + " (decompressed)", gunzip(path, raw));
  return parse_idx(path, std::move(raw));
}

IdxArray read_idx_images(const std::string& path) { return read_idx_with_magic(path, kImagesMagic, "images"); }
IdxArray read_idx_labels(const std::string& path) { return read_idx_with_magic(path, kLabelsMagic, "labels"); }

LabeledImages read_idx_labeled(const std::string& images_path, const std::string& labels_path) {
  LabeledImages l{read_idx_images(images_path), read_idx_labels(labels_path)};
  COMET_CHECK(l.images.count() == l.labels.count(), "{}: {} images, but {} has {} labels", images_path,
              l.images.count(), labels_path, l.labels.count());
  return l;
}

void write_idx(const std::string& path, const IdxArray& a, bool gzip) {
  COMET_CHECK(!a.dims.empty() && a.dims.size() < 256 && a.magic == (0x0800u | a.dims.size()),
              "write_idx {}: magic 0x{:08X} does not describe {} unsigned-byte dimensions", path, a.magic,
              a.dims.size());
  int64_t numel = 1;
  std::vector<uint8_t> bytes = {0, 0, kUnsignedByte, static_cast<uint8_t>(a.dims.size())};
  for (int64_t d : a.dims) {
    COMET_CHECK(d > 0 && d <= 0xffffffffLL, "write_idx {}: dimension {} is not in [1, 2^32)", path, d);
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<uint8_t>(d >> shift));
    numel *= d;
  }
  COMET_CHECK(static_cast<int64_t>(a.data.size()) == numel, "write_idx {}: dims {} need {} bytes of data, got {}",
              path, dims_str(a.dims), numel, a.data.size());
  bytes.insert(bytes.end(), a.data.begin(), a.data.end());
  write_bytes(path, bytes, gzip);
}

IdxArray take_items(const IdxArray& a, const std::vector<int64_t>& rows) {
  IdxArray out;
  out.magic = a.magic;
  out.dims = a.dims;
  out.dims.at(0) = static_cast<int64_t>(rows.size());
  const int64_t item = a.item_size();
  out.data.resize(rows.size() * static_cast<size_t>(item));
  for (size_t i = 0; i < rows.size(); ++i) {
    COMET_CHECK(rows[i] >= 0 && rows[i] < a.count(), "data::take_items: item {} out of range [0, {})", rows[i],
                a.count());
    std::memcpy(out.data.data() + i * item, a.data.data() + rows[i] * item, static_cast<size_t>(item));
  }
  return out;
}

}  // namespace comet::data
