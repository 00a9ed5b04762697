// libFuzzer target: data/idx.h read_idx, plain and gzip. The first input byte picks the mode: even, the rest is the
// file as it is (raw IDX, or a gzip stream with its own damage); odd, the rest is gzip-compressed first, so the IDX
// parser behind the decompressor sees the fuzzed bytes.
#include <zlib.h>

#include <vector>

#include "data/idx.h"
#include "fuzz/fuzz_common.h"

namespace {

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&z, size) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string path;
  if (data[0] & 1) {
    const std::vector<uint8_t> gz = gzip(data + 1, size - 1);
    path = comet::fuzz::write_file("input.idx", gz.data(), gz.size());
  } else {
    path = comet::fuzz::write_file("input.idx", data + 1, size - 1);
  }
  comet::fuzz::expect_only_comet_errors([&] {
    const comet::data::IdxArray a = comet::data::read_idx(path);
    int64_t n = 1;
    for (int64_t d : a.dims) n *= d;
    if (static_cast<size_t>(n) != a.data.size()) {
      std::fprintf(stderr, "fuzz: read_idx returned %zu bytes for dims of %lld\n", a.data.size(),
                   static_cast<long long>(n));
      std::abort();
    }
  });
  return 0;
}
