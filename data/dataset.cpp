// Dataset: slicing, gathering and validation.
#include "data/dataset.h"

#include <cmath>

namespace comet::data {

const char* task_kind_name(TaskKind kind) {
  switch (kind) {
    case TaskKind::Binary: return "binary";
    case TaskKind::Regression: return "regression";
    case TaskKind::Multiclass: return "multiclass";
  }
  return "?";
}

TaskKind parse_task_kind(const std::string& name) {
  for (TaskKind k : {TaskKind::Binary, TaskKind::Regression, TaskKind::Multiclass})
    if (name == task_kind_name(k)) return k;
  throw Error(fmt::format("unknown task kind '{}' (expected binary, regression or multiclass)", name));
}

Tensor Dataset::keys() const {
  if (!key_column) return Tensor();
  const int64_t n = rows(), f = ids.dim(1), c = *key_column;
  Tensor k = Tensor::empty({n}, DType::I64);
  const int64_t* src = ids.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) k.data<int64_t>()[i] = src[i * f + c];
  return k;
}

namespace {

void check_finite(const std::string& what, const char* field, const Tensor& t) {
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    COMET_CHECK(std::isfinite(p[i]), "{}: {} has a non-finite value ({}) at row {}, column {}", what, field, p[i],
                i / t.cols(), i % t.cols());
}

// Rows of a 2-D tensor picked by index (copy), for any dtype.
Tensor gather_rows(const Tensor& t, const Tensor& index) {
  if (!t.defined()) return t;
  const int64_t m = index.numel(), width = t.cols(), bytes = width * static_cast<int64_t>(dtype_size(t.dtype()));
  Shape shape = t.shape();
  shape[0] = m;
  Tensor out = Tensor::empty(shape, t.dtype());
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(out.raw());
  const int64_t* idx = index.data<int64_t>();
  for (int64_t i = 0; i < m; ++i) {
    COMET_CHECK(idx[i] >= 0 && idx[i] < t.dim(0), "data::gather: row {} out of range [0, {})", idx[i], t.dim(0));
    std::memcpy(dst + i * bytes, src + idx[i] * bytes, static_cast<size_t>(bytes));
  }
  return out;
}

Tensor slice_defined(const Tensor& t, int64_t begin, int64_t end) {
  return t.defined() ? t.slice_rows(begin, end) : t;
}

}  // namespace

void Dataset::validate(const std::string& what) const {
  const int64_t n = rows(), T = static_cast<int64_t>(tasks.size());
  COMET_CHECK(targets.defined() && targets.ndim() == 2 && targets.dim(1) == T && targets.dtype() == DType::F32,
              "{}: targets must be f32 [rows, {} tasks], got {}", what, T,
              targets.defined() ? shape_str(targets.shape()) : "none");
  COMET_CHECK(T >= 1, "{}: no tasks", what);
  check_finite(what, "targets", targets);
  if (mask.defined()) {
    COMET_CHECK(mask.shape() == targets.shape() && mask.dtype() == DType::F32, "{}: mask {} must match targets {}",
                what, shape_str(mask.shape()), shape_str(targets.shape()));
    const float* m = mask.data<float>();
    for (int64_t i = 0; i < mask.numel(); ++i)
      COMET_CHECK(m[i] == 0.0f || m[i] == 1.0f, "{}: mask value {} at row {}, task {} is not 0 or 1", what, m[i],
                  i / T, i % T);
  }
  const float* y = targets.data<float>();
  for (int64_t t = 0; t < T; ++t) {
    const TaskSpec& task = tasks[t];
    for (int64_t i = 0; i < n; ++i) {
      if (mask.defined() && mask.data<float>()[i * T + t] == 0.0f) continue;
      const float v = y[i * T + t];
      if (task.kind == TaskKind::Binary)
        COMET_CHECK(v == 0.0f || v == 1.0f, "{}: task '{}' (binary) has label {} at row {}", what, task.name, v, i);
      if (task.kind == TaskKind::Multiclass)
        COMET_CHECK(v >= 0 && v < task.classes && v == std::floor(v),
                    "{}: task '{}' has label {} at row {}, outside the classes [0, {})", what, task.name, v, i,
                    task.classes);
    }
  }
  const int64_t F = static_cast<int64_t>(vocab.size());
  COMET_CHECK(static_cast<int64_t>(id_names.size()) == F, "{}: {} id names for {} vocabularies", what,
              id_names.size(), F);
  if (F > 0) {
    COMET_CHECK(ids.defined() && ids.shape() == Shape({n, F}) && ids.dtype() == DType::I64,
                "{}: ids must be i64 [{}, {}], got {}", what, n, F, ids.defined() ? shape_str(ids.shape()) : "none");
    const int64_t* p = ids.data<int64_t>();
    for (int64_t i = 0; i < n * F; ++i)
      COMET_CHECK(p[i] >= 0 && p[i] < vocab[i % F], "{}: id column '{}' has {} at row {}, outside [0, {})", what,
                  id_names[i % F], p[i], i / F, vocab[i % F]);
  } else {
    COMET_CHECK(!ids.defined(), "{}: ids given without vocabularies", what);
  }
  if (key_column)
    COMET_CHECK(*key_column >= 0 && *key_column < F, "{}: key column {} outside the {} id columns", what,
                *key_column, F);
  if (dense.defined()) {
    COMET_CHECK(dense.ndim() == 2 && dense.dim(0) == n && dense.dtype() == DType::F32,
                "{}: dense features must be f32 [{}, D], got {}", what, n, shape_str(dense.shape()));
    check_finite(what, "dense features", dense);
  }
  if (!image.empty())
    COMET_CHECK(image.size() == 3 && image[0] * image[1] * image[2] == dense_dim(),
                "{}: image shape {} does not match {} dense features", what, shape_str(image), dense_dim());
  COMET_CHECK(F > 0 || dense.defined(), "{}: no input (neither ids nor dense features)", what);
}

Dataset slice(const Dataset& d, int64_t begin, int64_t end) {
  COMET_CHECK(0 <= begin && begin <= end && end <= d.rows(), "data::slice: rows [{}, {}) outside [0, {})", begin, end,
              d.rows());
  Dataset out = d;
  out.ids = slice_defined(d.ids, begin, end);
  out.dense = slice_defined(d.dense, begin, end);
  out.targets = slice_defined(d.targets, begin, end);
  out.mask = slice_defined(d.mask, begin, end);
  return out;
}

Dataset gather(const Dataset& d, const Tensor& index) {
  Dataset out = d;
  out.ids = gather_rows(d.ids, index);
  out.dense = gather_rows(d.dense, index);
  out.targets = gather_rows(d.targets, index);
  out.mask = gather_rows(d.mask, index);
  return out;
}

}  // namespace comet::data
