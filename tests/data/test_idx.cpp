// The IDX reader (data/idx.h): plain and gzip files it writes itself read back equal, whatever the name says; every
// malformed input refused with its message; the real MNIST t10k and Fashion-MNIST files (skipped when absent).
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "data/idx.h"
#include "test_util.h"

namespace comet::data {
namespace {


// IDX bytes as given, consistent or not: big-endian magic, dims, then data.
std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b;
  auto put = [&](uint32_t v) {
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<uint8_t>(v >> shift));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    if (!bytes.empty()) REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
    REQUIRE(gzclose(f) == Z_OK);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<int64_t> label_counts(const IdxArray& labels) {
  std::vector<int64_t> counts(10, 0);
  for (uint8_t l : labels.data) counts.at(l)++;
  return counts;
}

const std::vector<uint8_t> kPixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};  // 2 images, 2 x 3

}  // namespace

TEST_CASE("IDX: plain and gzip files read the same, told apart by their bytes, not their names") {
  test::TempDir dir;
  const std::vector<uint8_t> bytes = idx_bytes(0x00000803, {2, 2, 3}, kPixels);
  write_bytes(dir / "plain", bytes, false);
  write_bytes(dir / "plain.gz", bytes, false);  // misnamed: plain content
  write_bytes(dir / "packed.gz", bytes, true);
  write_bytes(dir / "packed.idx", bytes, true);  // misnamed: gzip content
  for (const char* name : {"plain", "plain.gz", "packed.gz", "packed.idx"}) {
    CAPTURE(name);
    const IdxArray a = read_idx_images(dir / name);
    CHECK(a.magic == 0x00000803);
    CHECK(a.dims == std::vector<int64_t>{2, 2, 3});
    CHECK(a.count() == 2);
    CHECK(a.item_size() == 6);
    CHECK(a.data == kPixels);
  }
  write_bytes(dir / "labels.gz", idx_bytes(0x00000801, {2}, {7, 9}), true);
  const LabeledImages l = read_idx_labeled(dir / "packed.gz", dir / "labels.gz");
  CHECK(l.labels.data == std::vector<uint8_t>{7, 9});
  write_idx(dir / "written", l.images, true);  // write_idx round trip, gzip
  CHECK(read_idx_images(dir / "written").data == kPixels);
  write_idx(dir / "written", l.labels, false);
  CHECK(read_idx_labels(dir / "written").data == std::vector<uint8_t>{7, 9});
  const IdxArray second = take_items(l.images, {1});
  CHECK(second.dims == std::vector<int64_t>{1, 2, 3});
  CHECK(second.data == std::vector<uint8_t>(kPixels.begin() + 6, kPixels.end()));
}

TEST_CASE("IDX: a gzip file of several members reads as their concatenation") {
  test::TempDir dir;
  const std::vector<uint8_t> bytes = idx_bytes(0x00000801, {4}, {1, 2, 3, 4});
  write_bytes(dir / "a.gz", {bytes.begin(), bytes.begin() + 6}, true);
  write_bytes(dir / "b.gz", {bytes.begin() + 6, bytes.end()}, true);
  std::vector<uint8_t> both = read_bytes(dir / "a.gz"), tail = read_bytes(dir / "b.gz");
  both.insert(both.end(), tail.begin(), tail.end());
  write_bytes(dir / "ab.gz", both, false);
  CHECK(read_idx_labels(dir / "ab.gz").data == std::vector<uint8_t>{1, 2, 3, 4});
}

TEST_CASE("IDX: malformed files are refused, naming the file and the field") {
  test::TempDir dir;
  const std::string p = dir / "bad";
  auto refuse = [&](const std::vector<uint8_t>& bytes, bool gz, const std::string& message) {
    CAPTURE(message);
    write_bytes(p, bytes, gz);
    CHECK_THROWS_WITH_AS(read_idx(p), doctest::Contains(message.c_str()), Error);
  };
  CHECK_THROWS_WITH_AS(read_idx(dir / "missing.gz"),
                       doctest::Contains((dir / "missing.gz" + ": cannot open (no such file)").c_str()), Error);
  CHECK_THROWS_WITH_AS(read_idx(dir.dir.string()), doctest::Contains(": cannot open (a directory, not a file)"), Error);
  refuse({'P', 'K', 3, 4, 5}, false, p + ": neither gzip nor IDX (5 bytes, first bytes 50 4b 03 04;");
  refuse({0, 0}, false, p + ": neither gzip nor IDX (2 bytes, first bytes 00 00;");
  refuse(idx_bytes(0x00000D03, {1, 1, 1}, {0, 0, 0, 0}), false,
         p + ": unsupported IDX data type 0x0D at byte 2 (magic 0x00000D03)");
  refuse(idx_bytes(0x00000800, {}, {}), false, p + ": IDX magic 0x00000800 declares 0 dimensions");
  refuse({0, 0, 8, 3, 0, 0, 0, 1, 0, 0}, false, p + ": header truncated: 3 dimensions need a 16-byte header, got 10");
  refuse(idx_bytes(0x00000803, {5, 0, 2}, {}), false, p + ": dimension 1 (header bytes 8..11) is 0");
  std::vector<uint8_t> truncated = idx_bytes(0x00000803, {10000, 28, 28}, std::vector<uint8_t>(1000, 7));
  refuse(truncated, false, p + ": expected 7840000 bytes of data, got 1000 (dims 10000 x 28 x 28 after the 16-byte");
  refuse(truncated, true, p + " (decompressed): expected 7840000 bytes of data, got 1000");
  refuse(idx_bytes(0x00000801, {3}, {1, 2, 3, 4, 5}), false, p + ": 2 trailing bytes after the 3 bytes of data (dims 3)");

  // gzip streams: a flipped byte in the deflate data or the CRC, and a file cut short.
  write_bytes(p, idx_bytes(0x00000801, {3000}, std::vector<uint8_t>(3000, 5)), true);
  const std::vector<uint8_t> gz = read_bytes(p);
  std::vector<uint8_t> flipped = gz, bad_crc = gz;
  flipped[12] ^= 0xff;
  bad_crc[gz.size() - 6] ^= 0x01;
  refuse(flipped, false, p + ": corrupt gzip stream at compressed byte");
  refuse(bad_crc, false, p + ": corrupt gzip stream at compressed byte");
  refuse({gz.begin(), gz.begin() + gz.size() / 2}, false,
         p + fmt::format(": corrupt gzip stream: it ends after {} compressed bytes, before its end marker",
                         gz.size() / 2));

  // Wrong magic for the kind of file asked for, and mismatched counts.
  write_bytes(dir / "labels", idx_bytes(0x00000801, {3}, {1, 2, 3}), false);
  write_bytes(dir / "images", idx_bytes(0x00000803, {2, 1, 1}, {1, 2}), false);
  CHECK_THROWS_WITH_AS(read_idx_images(dir / "labels"),
                       doctest::Contains("labels: magic 0x00000801 is not that of an IDX images file (0x00000803)"),
                       Error);
  CHECK_THROWS_WITH_AS(read_idx_labels(dir / "images"),
                       doctest::Contains("images: magic 0x00000803 is not that of an IDX labels file (0x00000801)"),
                       Error);
  CHECK_THROWS_WITH_AS(read_idx_labeled(dir / "images", dir / "labels"),
                       doctest::Contains(("images: 2 images, but " + dir / "labels" + " has 3 labels").c_str()),
                       Error);
}

TEST_CASE("IDX: the shared MNIST t10k images and labels") {
  const std::string mnist = COMET_SHARED_DATA_DIR "/mnist";
  if (!std::filesystem::exists(mnist + "/t10k-images-idx3-ubyte.gz")) COMET_SKIP_TEST(mnist + " not found");
  const LabeledImages t10k =
      read_idx_labeled(mnist + "/t10k-images-idx3-ubyte.gz", mnist + "/t10k-labels-idx1-ubyte.gz");
  CHECK(t10k.images.dims == std::vector<int64_t>{10000, 28, 28});
  CHECK(label_counts(t10k.labels) ==
        std::vector<int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
  const IdxArray train_labels = read_idx_labels(mnist + "/train-labels-idx1-ubyte.gz");
  CHECK(label_counts(train_labels) ==
        std::vector<int64_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
  CHECK_THROWS_WITH_AS(read_idx_labeled(mnist + "/t10k-images-idx3-ubyte.gz", mnist + "/train-labels-idx1-ubyte.gz"),
                       doctest::Contains("10000 images, but"), Error);
}

TEST_CASE("IDX: the installed Fashion-MNIST (60k + 10k)") {
  const std::string fashion = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(fashion + "/train-images-idx3-ubyte.gz"))
    COMET_SKIP_TEST(fashion + " not found (apt-get install dataset-fashion-mnist)");
  const LabeledImages train =
      read_idx_labeled(fashion + "/train-images-idx3-ubyte.gz", fashion + "/train-labels-idx1-ubyte.gz");
  const LabeledImages test =
      read_idx_labeled(fashion + "/t10k-images-idx3-ubyte.gz", fashion + "/t10k-labels-idx1-ubyte.gz");
  CHECK(train.images.dims == std::vector<int64_t>{60000, 28, 28});
  CHECK(test.images.dims == std::vector<int64_t>{10000, 28, 28});
  CHECK(label_counts(train.labels) == std::vector<int64_t>(10, 6000));
  CHECK(label_counts(test.labels) == std::vector<int64_t>(10, 1000));
}

}  // namespace comet::data
