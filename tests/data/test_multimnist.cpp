// The MultiMNIST generator (data/multimnist.h): pixel-exact canvases on a hand-made case, pairing and labels, seeding,
// refusals; the splits of a folder it writes (train file present, or t10k only); the shared MNIST t10k and the
// installed Fashion-MNIST (skipped when absent).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "data/multimnist.h"
#include "test_util.h"

namespace comet::data {
namespace {


IdxArray images_of(int64_t n, int64_t h, int64_t w, std::vector<uint8_t> pixels) {
  return IdxArray{0x00000803, {n, h, w}, std::move(pixels)};
}
IdxArray labels_of(std::vector<uint8_t> labels) {
  const int64_t n = static_cast<int64_t>(labels.size());
  return IdxArray{0x00000801, {n}, std::move(labels)};
}

// n images 2 x 2 with pixels (id, 7, 9, 100 + id), id = i + 1, and labels i % 10: on a 3 x 3 canvas at offset 1 the
// corner (0, 0) shows the source's id alone and the corner (2, 2) 100 + the partner's id alone.
LabeledImages tagged_images(int64_t n) {
  LabeledImages l{images_of(n, 2, 2, {}), labels_of({})};
  for (int64_t i = 0; i < n; ++i) {
    const auto id = static_cast<uint8_t>(i + 1);
    l.images.data.insert(l.images.data.end(), {id, 7, 9, static_cast<uint8_t>(100 + id)});
    l.labels.data.push_back(static_cast<uint8_t>(i % 10));
  }
  l.labels.dims = {n};
  return l;
}

// (source, partner) of each row of a data set made from tagged_images on a 3 x 3 canvas at offset 1.
std::vector<std::pair<int64_t, int64_t>> tagged_pairs(const Dataset& d) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t r = 0; r < d.rows(); ++r) {
    const float* x = d.dense.data<float>() + r * 9;
    pairs.emplace_back(std::lround(x[0] * 255) - 1, std::lround(x[8] * 255) - 101);
  }
  return pairs;
}

bool same_data(const Dataset& a, const Dataset& b) {
  return a.dense.shape() == b.dense.shape() &&
         std::memcmp(a.dense.raw(), b.dense.raw(), a.dense.nbytes()) == 0 &&
         std::memcmp(a.targets.raw(), b.targets.raw(), a.targets.nbytes()) == 0;
}

void check_layout(const Dataset& d, int64_t rows, int64_t canvas) {
  d.validate("MultiMNIST");
  CHECK(d.rows() == rows);
  CHECK(d.dense.shape() == Shape{rows, canvas * canvas});
  CHECK(d.image == std::vector<int64_t>{1, canvas, canvas});
  REQUIRE(d.tasks.size() == 2);
  CHECK(d.tasks[0].name == "top_left");
  CHECK(d.tasks[1].name == "bottom_right");
  for (const TaskSpec& t : d.tasks) {
    CHECK(t.kind == TaskKind::Multiclass);
    CHECK(t.classes == 10);
  }
  CHECK(!d.ids.defined());
  CHECK(!d.mask.defined());
}

}  // namespace

TEST_CASE("MultiMNIST: two 2x2 images on a 3x3 canvas at offset 1, pixel-exact, summed without clipping") {
  const IdxArray images = images_of(2, 2, 2, {10, 20, 30, 255,     // A, label 3
                                              255, 40, 50, 60});   // B, label 7
  Generator gen(5);
  const Dataset d = make_multimnist(images, labels_of({3, 7}), 3, 1, 2, gen);
  check_layout(d, 4, 3);
  // With two images the partner of each is the other one; A's bottom-right 255 meets B's top-left 255 -> 510 / 255.
  const std::vector<float> a_b = {10, 20, 0,  30, 510, 40,  0, 50, 60};
  const std::vector<float> b_a = {255, 40, 0,  50, 70, 20,  0, 30, 255};
  std::vector<float> expected;
  for (const auto* canvas : {&a_b, &a_b, &b_a, &b_a})
    for (float v : *canvas) expected.push_back(v / 255.0f);
  CHECK(d.dense.to_vector<float>() == expected);
  CHECK(d.dense.data<float>()[4] == 2.0f);
  CHECK(d.targets.to_vector<float>() == std::vector<float>{3, 7, 3, 7, 7, 3, 7, 3});
}

TEST_CASE("MultiMNIST: every image a source exactly twice, partners other images of the set, source label first") {
  const LabeledImages l = tagged_images(20);
  Generator gen(11);
  const Dataset d = make_multimnist(l.images, l.labels, 3, 1, 2, gen);
  check_layout(d, 40, 3);
  std::map<int64_t, int> as_source;
  std::set<int64_t> partners;
  const auto pairs = tagged_pairs(d);
  for (size_t r = 0; r < pairs.size(); ++r) {
    const auto [s, p] = pairs[r];
    CAPTURE(r);
    REQUIRE((s >= 0 && s < 20 && p >= 0 && p < 20));
    CHECK(p != s);
    CHECK(d.targets.data<float>()[2 * r] == l.labels.data[s]);
    CHECK(d.targets.data<float>()[2 * r + 1] == l.labels.data[p]);
    // The overlap pixel (1, 1): source (1, 1) + partner (0, 0).
    CHECK(d.dense.data<float>()[r * 9 + 4] == static_cast<float>(100 + s + 1 + p + 1) / 255.0f);
    as_source[s]++;
    partners.insert(p);
  }
  CHECK(as_source.size() == 20);
  for (const auto& [s, count] : as_source) CHECK(count == 2);
  CHECK(partners.size() > 10);  // drawn at random, not a fixed neighbour
}

TEST_CASE("MultiMNIST: seeded (same seed same data, another seed other partners)") {
  const LabeledImages l = tagged_images(30);
  Generator g1(42), g2(42), g3(43);
  const Dataset a = make_multimnist(l.images, l.labels, 3, 1, 2, g1);
  const Dataset b = make_multimnist(l.images, l.labels, 3, 1, 2, g2);
  const Dataset c = make_multimnist(l.images, l.labels, 3, 1, 2, g3);
  CHECK(same_data(a, b));
  CHECK(!same_data(a, c));
}

TEST_CASE("MultiMNIST: bad inputs refused") {
  const LabeledImages l = tagged_images(3);
  Generator gen(1);
  CHECK_THROWS_WITH_AS(make_multimnist(images_of(1, 2, 2, {1, 2, 3, 4}), labels_of({1}), 3, 1, 2, gen),
                       doctest::Contains("needs at least 2 images"), Error);
  CHECK_THROWS_WITH_AS(make_multimnist(l.images, l.labels, 3, 2, 2, gen),
                       doctest::Contains("canvas 3 cannot hold a 2x2 image at offset 2"), Error);
  CHECK_THROWS_WITH_AS(make_multimnist(l.images, labels_of({1, 2}), 3, 1, 2, gen),
                       doctest::Contains("labels must be [3] to match the images, got dims [2]"), Error);
  CHECK_THROWS_WITH_AS(make_multimnist(l.images, labels_of({1, 10, 2}), 3, 1, 2, gen),
                       doctest::Contains("label 10 of image 1 is outside the classes [0, 10)"), Error);
  CHECK_THROWS_WITH_AS(make_multimnist(l.images, l.labels, 3, 1, 0, gen),
                       doctest::Contains("pairs_per_image must be >= 1, got 0"), Error);
}

TEST_CASE("MultiMNIST: the splits of a folder, with a train file (either compression) or t10k only") {
  test::TempDir dir;
  const LabeledImages train = tagged_images(12), t10k = tagged_images(20);
  write_idx(dir / "train-images-idx3-ubyte", train.images, false);
  write_idx(dir / "train-labels-idx1-ubyte.gz", train.labels, true);
  write_idx(dir / "t10k-images-idx3-ubyte.gz", t10k.images, true);
  write_idx(dir / "t10k-labels-idx1-ubyte", t10k.labels, false);
  MultiMnistOptions o;
  o.canvas = 3;
  o.offset = 1;
  o.val_images = 4;
  const Splits s = read_multimnist(dir.dir.string(), 7, o);
  check_layout(s.train, 16, 3);
  check_layout(s.val, 8, 3);
  check_layout(s.test, 40, 3);
  CHECK(s.source.find("train file 12 images (8 train / 4 val), t10k 20 test") != std::string::npos);
  CHECK(same_data(s.train, read_multimnist(dir.dir.string(), 7, o).train));

  o.max_train_images = 3;
  o.max_test_images = 5;
  const Splits capped = read_multimnist(dir.dir.string(), 7, o);
  CHECK(capped.train.rows() == 6);
  CHECK(capped.val.rows() == 8);
  CHECK(capped.test.rows() == 10);

  // Without the train images: the 20 t10k images split 14 / 3 / 3 into disjoint source sets.
  std::filesystem::remove(dir / "train-images-idx3-ubyte");
  const Splits mini = read_multimnist(dir.dir.string(), 7, MultiMnistOptions{3, 1});
  CHECK(mini.source.find("t10k only") != std::string::npos);
  std::set<int64_t> seen;
  size_t sources = 0;
  using SplitRows = std::pair<const Dataset*, int64_t>;
  for (const auto& [split, rows] : {SplitRows{&mini.train, 28}, SplitRows{&mini.val, 6}, SplitRows{&mini.test, 6}}) {
    check_layout(*split, rows, 3);
    std::set<int64_t> own;
    for (const auto& [src, partner] : tagged_pairs(*split)) own.insert(src);
    sources += own.size();
    seen.insert(own.begin(), own.end());
  }
  CHECK(sources == 20);
  CHECK(seen.size() == 20);

  std::filesystem::remove(dir / "t10k-images-idx3-ubyte.gz");
  CHECK_THROWS_WITH_AS(read_multimnist(dir.dir.string(), 7, o),
                       doctest::Contains("no t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz)"), Error);
}

TEST_CASE("MultiMNIST: the mini set from the shared MNIST t10k (7000 / 1500 / 1500 sources)") {
  const std::string mnist = COMET_SHARED_DATA_DIR "/mnist";
  if (!std::filesystem::exists(mnist + "/t10k-images-idx3-ubyte.gz")) COMET_SKIP_TEST(mnist + " not found");
  const Splits s = read_multimnist(mnist, 1);
  INFO(s.source);
  CHECK(s.source.find("t10k only") != std::string::npos);
  check_layout(s.train, 14000, 36);
  check_layout(s.val, 3000, 36);
  check_layout(s.test, 3000, 36);
  const std::vector<float> x = s.val.dense.to_vector<float>();
  const float top = *std::max_element(x.begin(), x.end());
  CHECK(top > 1.0f);  // overlapping ink adds up
  CHECK(top <= 2.0f);
}

TEST_CASE("MultiFashionMNIST: the installed Fashion-MNIST, capped to a few thousand sources") {
  const std::string fashion = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(fashion + "/train-images-idx3-ubyte.gz"))
    COMET_SKIP_TEST(fashion + " not found (apt-get install dataset-fashion-mnist)");
  MultiMnistOptions o;
  o.max_train_images = 1000;
  o.max_val_images = 200;
  o.max_test_images = 300;
  const Splits s = read_multimnist(fashion, 3, o);
  INFO(s.source);
  CHECK(s.source.find("train file 60000 images (50000 train / 10000 val), t10k 10000 test") != std::string::npos);
  check_layout(s.train, 2000, 36);
  check_layout(s.val, 400, 36);
  check_layout(s.test, 600, 36);
}

}  // namespace comet::data
