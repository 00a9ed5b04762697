// The data-set registry.
#include "data/registry.h"

#include <algorithm>

#include "data/books.h"
#include "data/custom.h"
#include "data/jester.h"
#include "data/movielens.h"
#include "data/multimnist.h"
#include "data/synthetic.h"

namespace comet::data {
namespace {

std::string required(const ReadRequest& r, const char* name) {
  COMET_CHECK(!r.path.empty(), "dataset {}: give the file or folder with --data", name);
  return r.path;
}

PaperSettings recommender(int64_t experts, int64_t k, int64_t embedding, int64_t hidden, int64_t batch, double gamma,
                          double entropy) {
  PaperSettings p;
  p.experts = experts;
  p.k = k;
  p.embedding_dim = embedding;
  p.expert_sizes = {hidden};
  p.tower_hidden = {256};
  p.expert_dropout = 0.5;
  p.batch = batch;
  p.lr = 2.5e-4;  // the paper's range is [5e-5, 5e-4]
  p.epochs = 100;
  p.gamma = gamma;
  p.entropy = entropy;
  return p;
}

PaperSettings vision(int64_t experts, int64_t k) {
  PaperSettings p;
  p.experts = experts;
  p.k = k;
  p.tower_hidden = {50, 50};
  p.batch = 512;
  p.lr = 1e-3;  // the paper's range is [1e-4, 1e-3]
  p.epochs = 200;
  p.gamma = 0.01;
  p.entropy = 0.1;
  return p;
}

PaperSettings synthetic_settings() {
  PaperSettings p;
  p.experts = 16;
  p.k = 2;
  p.expert_sizes = {64, 32};
  p.tower_hidden = {32};
  p.batch = 512;
  p.lr = 5e-3;
  p.epochs = 12;
  p.patience = 12;
  p.gamma = 1e-3;  // the narrow band (the grids reach 0.001) saturates the trees within a few epochs
  p.entropy = 1.0;
  return p;
}

// A user's data: the recommender sizes of Books / Jester, MLP experts of 128 for dense inputs.
PaperSettings custom_settings() {
  PaperSettings p = recommender(8, 2, 64, 128, 512, 1.0, 1.0);
  p.lr = 1e-3;
  p.epochs = 50;
  p.patience = 10;
  return p;
}

Splits read_multimnist_capped(const ReadRequest& r) {
  MultiMnistOptions o;
  // Each source image makes pairs_per_image rows: build no more sources than the caps need.
  const auto images = [&](const std::optional<int64_t>& rows) {
    return rows ? (*rows + o.pairs_per_image - 1) / o.pairs_per_image : 0;
  };
  o.max_train_images = images(r.train_rows);
  o.max_val_images = images(r.val_rows);
  o.max_test_images = images(r.test_rows);
  return read_multimnist(r.path, r.seed, o);
}

Splits synthetic_splits(const ReadRequest& r) {
  SyntheticConfig c;
  const int64_t quarter = std::max<int64_t>(1, r.synthetic_samples / 4);
  c.samples = r.synthetic_samples + 2 * quarter;
  c.relatedness = r.synthetic_relatedness;
  c.seed = r.seed;
  const Dataset all = make_synthetic_multitask(c);
  const int64_t n = r.synthetic_samples;
  return {slice(all, 0, n), slice(all, n, n + quarter), slice(all, n + quarter, n + 2 * quarter),
          fmt::format("synthetic MMoE data (rho = {}), {} / {} / {} rows", c.relatedness, n, quarter, quarter)};
}

std::vector<DatasetKind> make_kinds() {
  const auto file_reader = [](const char* name, Splits (*reader)(const std::string&, uint64_t)) {
    return [name, reader](const ReadRequest& r) { return reader(required(r, name), r.seed); };
  };
  return {
      {"synthetic", "the MMoE synthetic two-task regression (Ma et al. 2018), generated from the seed", "",
       Family::Dense, synthetic_settings(), synthetic_splits},
      {"movielens",
       "MovieLens (watched: binary, rating: regression masked where unwatched): a ratings file (ml-100k u.data, "
       "ml-1m ratings.dat, ml-latest ratings.csv) or the COMET authors' processed folder",
       "", Family::Recommender, recommender(16, 2, 128, 256, 512, 10.0, 1.0),
       file_reader("movielens", read_movielens)},
      {"jester", "Jester ratings matrix (CSV, 99 = not rated): rated (binary), rating (regression)", "",
       Family::Recommender, recommender(16, 2, 64, 128, 2048, 0.01, 1.0), file_reader("jester", read_jester)},
      {"books", "Book-Crossing BX-Book-Ratings.csv: read (binary), rating 1-10 (regression)", "",
       Family::Recommender, recommender(9, 4, 64, 128, 2048, 0.5, 1.0), file_reader("books", read_books)},
      {"multimnist", "MultiMNIST from an MNIST IDX folder (t10k alone gives a smaller set)", "", Family::Vision,
       vision(16, 4),
       [](const ReadRequest& r) {
         ReadRequest q = r;
         q.path = required(r, "multimnist");
         return read_multimnist_capped(q);
       }},
      {"multifashionmnist", "MultiFashionMNIST from a Fashion-MNIST IDX folder (Debian's dataset-fashion-mnist)",
       "/usr/share/datasets/fashion-mnist", Family::Vision, vision(6, 2), read_multimnist_capped},
      {"custom", "your own CSV or .npy files described by a JSON file (docs/custom_data.md)", "", Family::Auto,
       custom_settings(), [](const ReadRequest& r) { return read_custom(required(r, "custom"), r.seed); }},
  };
}

Dataset capped(const Dataset& d, const std::optional<int64_t>& rows, Generator& gen) {
  if (!rows || *rows >= d.rows()) return d;
  COMET_CHECK(*rows >= 1, "row cap must be >= 1, got {}", *rows);
  std::vector<int64_t> order = gen.permutation(d.rows());
  order.resize(static_cast<size_t>(*rows));
  std::sort(order.begin(), order.end());  // keep the reader's row order
  return gather(d, Tensor::from_vector<int64_t>({*rows}, order));
}

}  // namespace

const std::vector<DatasetKind>& dataset_kinds() {
  static const std::vector<DatasetKind> kinds = make_kinds();
  return kinds;
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const DatasetKind& k : dataset_kinds()) names.push_back(k.name);
  return names;
}

const DatasetKind& find_dataset(const std::string& name) {
  for (const DatasetKind& k : dataset_kinds())
    if (k.name == name) return k;
  throw Error(fmt::format("unknown dataset '{}' (known: {})", name, fmt::join(dataset_names(), ", ")));
}

Splits read_dataset(const DatasetKind& kind, const ReadRequest& request) {
  ReadRequest r = request;
  if (r.path.empty()) r.path = kind.default_path;
  Splits s = kind.read(r);
  Generator gen = Generator(r.seed).split();  // the caps' own stream: a cap never changes the reader's draws
  s.train = capped(s.train, r.train_rows, gen);
  s.val = capped(s.val, r.val_rows, gen);
  s.test = capped(s.test, r.test_rows, gen);
  s.train.validate(kind.name + " training split");
  s.val.validate(kind.name + " validation split");
  s.test.validate(kind.name + " test split");
  return s;
}

}  // namespace comet::data
