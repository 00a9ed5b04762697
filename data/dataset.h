// The in-memory data set every reader produces and every model trains on: per row, optional categorical ids
// (embedded by recommender models; one column may serve as Hash routing key), optional dense features (an image is
// its pixels flattened row-major, with its shape in `image`), and one target per task, with a mask where a target is
// missing (e.g. the rating of an unwatched movie). Readers of published formats live beside this file
// (data/movielens.h, data/idx.h, ...); splits are seeded. Test: tests/data/test_dataset.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace comet::data {

enum class TaskKind { Binary, Regression, Multiclass };
const char* task_kind_name(TaskKind kind);         // "binary", "regression", "multiclass"
TaskKind parse_task_kind(const std::string& name);  // the inverse; throws naming the value

struct TaskSpec {
  std::string name;         // e.g. "t1", "watched", "top_left"
  TaskKind kind = TaskKind::Regression;
  int64_t classes = 0;      // Multiclass: labels in [0, classes); otherwise 0
};

struct Dataset {
  Tensor ids;                         // [N, F] i64, column f in [0, vocab[f]); undefined when F = 0
  std::vector<std::string> id_names;  // [F], e.g. {"user", "item"}
  std::vector<int64_t> vocab;         // [F]
  std::optional<int64_t> key_column;  // the id column Hash routing keys on (the user id), if any
  Tensor dense;                       // [N, D] f32; undefined when D = 0
  std::vector<int64_t> image;         // {C, H, W} when dense holds images (D = C H W); empty otherwise
  Tensor targets;                     // [N, T] f32; a Multiclass target holds the class index
  Tensor mask;                        // [N, T] f32, 1 = observed, 0 = missing; undefined when all are observed
  std::vector<TaskSpec> tasks;        // [T]

  int64_t rows() const { return targets.defined() ? targets.dim(0) : 0; }
  int64_t dense_dim() const { return dense.defined() ? dense.dim(1) : 0; }
  // The Hash routing keys [N] (i64), a copy of ids[:, key_column]; undefined without a key column.
  Tensor keys() const;
  // Throws, naming `what` and the field, unless shapes, dtypes, id ranges, labels and masks are consistent and every
  // value is finite.
  void validate(const std::string& what) const;
};

// Rows [begin, end) (views where the layout allows, else copies).
Dataset slice(const Dataset& d, int64_t begin, int64_t end);
// The rows listed in index (i64 [m]), copied.
Dataset gather(const Dataset& d, const Tensor& index);

struct Splits {
  Dataset train, val, test;
  std::string source;  // what was read, for logs (e.g. "MovieLens ratings.dat (ml-1m), 1000209 ratings")
};

}  // namespace comet::data
