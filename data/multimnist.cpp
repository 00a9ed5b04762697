// MultiMNIST generator: canvases from pairs of IDX images, and the train / val / test splits of an MNIST-style folder.
#include "data/multimnist.h"

#include <array>
#include <cmath>
#include <filesystem>

#include "core/mutation.h"

namespace comet::data {
namespace {

constexpr int64_t kClasses = 10;

void check_generator_inputs(const IdxArray& images, const IdxArray& labels, int64_t canvas, int64_t offset,
                            int64_t pairs_per_image) {
  COMET_CHECK(images.dims.size() == 3, "make_multimnist: images must be [n, rows, cols], got dims {}",
              shape_str(images.dims));
  COMET_CHECK(labels.dims.size() == 1 && labels.count() == images.count(),
              "make_multimnist: labels must be [{}] to match the images, got dims {}", images.count(),
              shape_str(labels.dims));
  COMET_CHECK(images.count() >= 2, "make_multimnist: needs at least 2 images (a partner differs from its source), "
              "got {}", images.count());
  const int64_t h = images.dims[1], w = images.dims[2];
  COMET_CHECK(offset >= 0 && offset + std::max(h, w) <= canvas,
              "make_multimnist: canvas {} cannot hold a {}x{} image at offset {}", canvas, h, w, offset);
  COMET_CHECK(pairs_per_image >= 1, "make_multimnist: pairs_per_image must be >= 1, got {}", pairs_per_image);
  for (int64_t i = 0; i < labels.count(); ++i)
    COMET_CHECK(labels.data[i] < kClasses, "make_multimnist: label {} of image {} is outside the classes [0, {})",
                labels.data[i], i, kClasses);
}

// Adds the h x w image to the canvas (canvas x canvas, row-major) with its top-left corner at (offset, offset).
void add_image(float* out, int64_t canvas, const uint8_t* image, int64_t h, int64_t w, int64_t offset) {
  const int64_t column_offset = COMET_MUTANT(multimnist_partner_offset) && offset > 0 ? offset - 1 : offset;
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c)
      out[(offset + r) * canvas + column_offset + c] += static_cast<float>(image[r * w + c]);
}

std::string find_idx(const std::string& folder, const std::string& name) {
  for (const std::string& candidate : {folder + "/" + name, folder + "/" + name + ".gz"})
    if (std::filesystem::is_regular_file(candidate)) return candidate;
  return "";
}

std::string require_idx(const std::string& folder, const std::string& name) {
  const std::string path = find_idx(folder, name);
  COMET_CHECK(!path.empty(), "{}: no {} (or {}.gz)", folder, name, name);
  return path;
}

// The source images of one split: rows of one labelled image file.
struct SplitSources {
  const LabeledImages* set;
  std::vector<int64_t> rows;
};

// perm[begin, end), at most `cap` of them when cap > 0.
std::vector<int64_t> take_range(const std::vector<int64_t>& perm, int64_t begin, int64_t end, int64_t cap) {
  if (cap > 0) end = std::min(end, begin + cap);
  return std::vector<int64_t>(perm.begin() + begin, perm.begin() + end);
}

void check_options(const MultiMnistOptions& o) {
  COMET_CHECK(o.t10k_train_fraction > 0 && o.t10k_val_fraction > 0 &&
                  o.t10k_train_fraction + o.t10k_val_fraction < 1,
              "read_multimnist: t10k fractions train {} and val {} must be positive and sum below 1",
              o.t10k_train_fraction, o.t10k_val_fraction);
  COMET_CHECK(o.max_train_images >= 0 && o.max_val_images >= 0 && o.max_test_images >= 0,
              "read_multimnist: caps on source images must be >= 0 (0 = all), got {}, {}, {}", o.max_train_images,
              o.max_val_images, o.max_test_images);
}

}  // namespace

Dataset make_multimnist(const IdxArray& images, const IdxArray& labels, int64_t canvas, int64_t offset,
                        int64_t pairs_per_image, Generator& gen) {
  check_generator_inputs(images, labels, canvas, offset, pairs_per_image);
  const int64_t n = images.count(), h = images.dims[1], w = images.dims[2], hw = h * w;
  const int64_t rows = n * pairs_per_image, pixels = canvas * canvas;
  Tensor partner_draws = Tensor::empty({rows}, DType::I64);
  gen.randint(partner_draws, 0, n - 1);  // a draw d >= s stands for image d + 1, so never the source s itself
  Dataset d;
  d.dense = Tensor::zeros({rows, pixels});
  d.targets = Tensor::empty({rows, 2});
  d.image = {1, canvas, canvas};
  d.tasks = {{"top_left", TaskKind::Multiclass, kClasses}, {"bottom_right", TaskKind::Multiclass, kClasses}};
  float* x = d.dense.data<float>();
  float* y = d.targets.data<float>();
  const int64_t* draws = partner_draws.data<int64_t>();
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t j = 0; j < pairs_per_image; ++j) {
      const int64_t row = s * pairs_per_image + j;
      const int64_t p = draws[row] >= s ? draws[row] + 1 : draws[row];
      float* out = x + row * pixels;
      add_image(out, canvas, images.data.data() + s * hw, h, w, 0);
      add_image(out, canvas, images.data.data() + p * hw, h, w, offset);
      for (int64_t k = 0; k < pixels; ++k) out[k] /= 255.0f;
      y[row * 2] = labels.data[s];
      y[row * 2 + 1] = labels.data[p];
    }
  }
  d.validate("make_multimnist");
  return d;
}

Splits read_multimnist(const std::string& folder, uint64_t seed, const MultiMnistOptions& o) {
  check_options(o);
  const LabeledImages t10k =
      read_idx_labeled(require_idx(folder, "t10k-images-idx3-ubyte"), require_idx(folder, "t10k-labels-idx1-ubyte"));
  const std::string train_images = find_idx(folder, "train-images-idx3-ubyte");
  Generator gen(seed);
  LabeledImages train;
  std::array<SplitSources, 3> sources;
  std::string what;
  const int64_t n_test_file = t10k.images.count();
  if (!train_images.empty()) {
    train = read_idx_labeled(train_images, require_idx(folder, "train-labels-idx1-ubyte"));
    const int64_t n = train.images.count();
    COMET_CHECK(o.val_images >= 1 && o.val_images < n,
                "read_multimnist: val_images {} must be in [1, {}) (the train file's images)", o.val_images, n);
    const std::vector<int64_t> perm = gen.permutation(n), test_perm = gen.permutation(n_test_file);
    sources = {SplitSources{&train, take_range(perm, 0, n - o.val_images, o.max_train_images)},
               SplitSources{&train, take_range(perm, n - o.val_images, n, o.max_val_images)},
               SplitSources{&t10k, take_range(test_perm, 0, n_test_file, o.max_test_images)}};
    what = fmt::format("{}: train file {} images ({} train / {} val), t10k {} test", folder, n, n - o.val_images,
                       o.val_images, n_test_file);
  } else {
    const int64_t n = n_test_file;
    const int64_t n_train = std::llround(o.t10k_train_fraction * n), n_val = std::llround(o.t10k_val_fraction * n);
    COMET_CHECK(n_train >= 2 && n_val >= 2 && n - n_train - n_val >= 2,
                "read_multimnist: {} t10k images are too few to split {} / {} / rest", n, o.t10k_train_fraction,
                o.t10k_val_fraction);
    const std::vector<int64_t> perm = gen.permutation(n);
    sources = {SplitSources{&t10k, take_range(perm, 0, n_train, o.max_train_images)},
               SplitSources{&t10k, take_range(perm, n_train, n_train + n_val, o.max_val_images)},
               SplitSources{&t10k, take_range(perm, n_train + n_val, n, o.max_test_images)}};
    what = fmt::format("{}: t10k only (no train-images-idx3-ubyte(.gz)): {} test images split {} / {} / {}", folder,
                       n, n_train, n_val, n - n_train - n_val);
  }
  Splits out;
  std::array<Dataset*, 3> targets = {&out.train, &out.val, &out.test};
  for (size_t i = 0; i < 3; ++i) {
    const SplitSources& src = sources[i];
    *targets[i] = make_multimnist(take_items(src.set->images, src.rows), take_items(src.set->labels, src.rows),
                                  o.canvas, o.offset, o.pairs_per_image, gen);
  }
  out.source = fmt::format("MultiMNIST from {}; sources used {} / {} / {}, x{} partners -> {} / {} / {} samples "
                           "({}x{} canvas, partner at offset {})",
                           what, sources[0].rows.size(), sources[1].rows.size(), sources[2].rows.size(),
                           o.pairs_per_image, out.train.rows(), out.val.rows(), out.test.rows(), o.canvas, o.canvas,
                           o.offset);
  return out;
}

}  // namespace comet::data
