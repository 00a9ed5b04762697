// MultiMNIST / MultiFashionMNIST, the paper's construction (spec comet.md 6.1, from the released
// generate_mnist_dataset.py): each sample is a canvas (36 x 36) holding one source image at the top-left (offset 0, 0)
// and a partner image at the bottom-right (offset 8, 8), pixel values added without clipping and divided by 255
// (overlaps reach 2.0); each source image gets two partners drawn at random from the same split, so a split of n
// images yields 2n samples; labels are (source label, partner label). Seeded through comet::Generator.
// Layout: dense [N, canvas^2] f32 (canvas row-major), image {1, canvas, canvas}, tasks "top_left" and "bottom_right"
// (multiclass, 10 classes), targets [N, 2] f32 class indices, no ids, no mask.
// Test: tests/data/test_multimnist.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "core/rng.h"
#include "data/dataset.h"
#include "data/idx.h"

namespace comet::data {

// Samples for the images [n, h, w] (u8) and labels [n] (values in [0, 10)): row s * pairs_per_image + j is source
// image s with its j-th partner, a different image of the same set drawn uniformly (partners drawn independently).
// Needs n >= 2 and offset + max(h, w) <= canvas.
Dataset make_multimnist(const IdxArray& images, const IdxArray& labels, int64_t canvas, int64_t offset,
                        int64_t pairs_per_image, Generator& gen);

struct MultiMnistOptions {
  int64_t canvas = 36;
  int64_t offset = 8;
  int64_t pairs_per_image = 2;
  // With a train file: the images of the train file held out as validation sources (the paper: 60k = 50k + 10k).
  int64_t val_images = 10000;
  // Without train images (our MNIST copy has only t10k): the 10k test images split into train / val / test sources
  // by these fractions (the rest is test): 7000 / 1500 / 1500 sources -> 14000 / 3000 / 3000 samples.
  double t10k_train_fraction = 0.70;
  double t10k_val_fraction = 0.15;
  // Caps on the source images per split after the seeded split (0 = all), for quick runs.
  int64_t max_train_images = 0;
  int64_t max_val_images = 0;
  int64_t max_test_images = 0;
};

// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each plain
// or .gz) from `folder` and builds the three splits; the source images are assigned to splits by a seeded
// permutation. Without the train images, builds the smaller t10k-only set (Splits.source says so).
Splits read_multimnist(const std::string& folder, uint64_t seed, const MultiMnistOptions& options = {});

}  // namespace comet::data
