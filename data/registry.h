// The data sets the tools know, written once: each kind's name, what its reader takes, the default location of its
// files, its model family and the paper's settings for it (spec comet.md 6.2-6.4). comet_train --dataset NAME looks
// kinds up here; models/presets.h builds the paper's model of a kind. Test: tests/data/test_registry.cpp.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace comet::data {

// Auto: from the data — images make a vision model, ids a recommender (embedded ids, plus any dense features),
// anything else a dense one.
enum class Family { Recommender, Vision, Dense, Auto };

// The paper's settings of a data set (spec 6.2 architectures, 6.3 budget, 6.4 grids; one point of each grid).
struct PaperSettings {
  int64_t experts = 16, k = 2;
  int64_t embedding_dim = 0;               // recommender: per id column
  std::vector<int64_t> expert_sizes;       // MLP experts' widths (recommender: Dense(h) + ReLU + Dropout)
  std::vector<int64_t> tower_hidden;       // ReLU layers of each tower before its output layer
  double expert_dropout = 0.0;
  int64_t batch = 512;
  double lr = 1e-3;                        // within the paper's log-uniform range
  int epochs = 100, patience = 25;
  double gamma = 1.0;                      // COMET+'s fixed gamma (also the default of COMET and DSelect-k)
  double entropy = 1.0;                    // lambda, from the paper's grid
  std::vector<double> task_weights{0.5, 0.5};
};

struct ReadRequest {
  std::string path;              // file or folder in the publisher's layout (empty: the kind's default)
  uint64_t seed = 0;
  // Caps on the rows of each split (seeded random subsets; readers that build rows, like MultiMNIST, build fewer).
  std::optional<int64_t> train_rows, val_rows, test_rows;
  int64_t synthetic_samples = 65536;  // synthetic: training rows (validation and test: a quarter each)
  double synthetic_relatedness = 0.5;
};

struct DatasetKind {
  std::string name;
  std::string description;
  std::string default_path;  // empty: --data is required (or, for synthetic, not used)
  Family family;
  PaperSettings paper;
  std::function<Splits(const ReadRequest&)> read;  // before the caps are applied
};

const std::vector<DatasetKind>& dataset_kinds();
const DatasetKind& find_dataset(const std::string& name);  // throws listing the known names
std::vector<std::string> dataset_names();

// Reads the splits of `kind` and applies the request's caps.
Splits read_dataset(const DatasetKind& kind, const ReadRequest& request);

}  // namespace comet::data
