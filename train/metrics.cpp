// Evaluation metrics (spec §6.5). Test: tests/train/test_metrics.cpp.
#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/mutation.h"

namespace comet::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_sizes(const char* fn, const char* a_name, size_t a, const char* b_name, size_t b) {
  COMET_CHECK(a == b, "{}: {} has {} entries but {} has {}", fn, a_name, a, b_name, b);
}

// Throws unless every entry is 0 or 1 (`what`: "label", "mask").
void check_zero_one(const char* fn, const char* what, const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    COMET_CHECK(v[i] == 0.0 || v[i] == 1.0, "{}: {} {} of {} is {}; must be 0 or 1", fn, what, i, v.size(), v[i]);
}

void check_not_nan(const char* fn, const char* what, size_t i, size_t n, double value) {
  COMET_CHECK(!std::isnan(value), "{}: {} {} of {} is NaN", fn, what, i, n);
}

void check_not_nan(const char* fn, const char* what, const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i) check_not_nan(fn, what, i, v.size(), v[i]);
}

// The floating tensor's elements as doubles (any shape).
std::vector<double> doubles_of(const char* fn, const Tensor& t) {
  COMET_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, "{}: expected an f32 or f64 tensor, got {} {}",
              fn, dtype_name(t.dtype()), shape_str(t.shape()));
  return t.to(DType::F64).to_vector<double>();
}

// Number of entries equal to 1 in a 0/1 vector.
size_t count_ones(const std::vector<double>& v) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), 1.0));
}

// Mean of f(i) over the indices i < n where `keep(i)`; NaN when none is kept. Summed in long double.
template <class Keep, class F>
double masked_mean(size_t n, Keep keep, F f) {
  long double sum = 0;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep(i)) {
      sum += f(i);
      ++count;
    }
  return count ? static_cast<double>(sum / count) : kNaN;
}

template <class F>
double mean_over(size_t n, F f) {
  return masked_mean(n, [](size_t) { return true; }, f);
}

// Checks shared by the binary metrics: equal sizes, 0/1 labels, no NaN score (`score_name`: "score", "logit").
void check_binary_inputs(const char* fn, const char* score_name, const std::vector<double>& scores,
                         const std::vector<double>& labels) {
  COMET_CHECK(scores.size() == labels.size(), "{}: {}s has {} entries but labels has {}", fn, score_name,
              scores.size(), labels.size());
  check_zero_one(fn, "label", labels);
  check_not_nan(fn, score_name, scores);
}

}  // namespace

double roc_auc(const std::vector<double>& scores, const std::vector<double>& labels) {
  const char* fn = "roc_auc";
  check_binary_inputs(fn, "score", scores, labels);
  const size_t n = scores.size();
  for (size_t i = 0; i < n; ++i)
    COMET_CHECK(std::isfinite(scores[i]), "roc_auc: score {} of {} is {}; scores must be finite", i, n, scores[i]);
  const uint64_t pos = count_ones(labels), neg = n - pos;
  COMET_CHECK(pos > 0 && neg > 0, "roc_auc: needs both classes, got {} positive and {} negative labels of {}", pos,
              neg, n);

  std::vector<std::pair<double, bool>> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = {scores[i], labels[i] == 1.0};
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // 2U = sum over groups of tied scores of positives_in_group * (2 negatives_below + negatives_in_group).
  uint64_t twice_u = 0, neg_below = 0;
  for (size_t begin = 0; begin < n;) {
    uint64_t pos_group = 0, neg_group = 0;
    size_t end = begin;
    for (; end < n && sorted[end].first == sorted[begin].first; ++end) (sorted[end].second ? pos_group : neg_group)++;
    twice_u += pos_group * (2 * neg_below + (COMET_MUTANT(auc_ties_full) ? 2 : 1) * neg_group);
    neg_below += neg_group;
    begin = end;
  }
  return static_cast<double>(static_cast<long double>(twice_u) / (2.0L * pos * neg));
}

double binary_accuracy(const std::vector<double>& logits, const std::vector<double>& labels) {
  check_binary_inputs("binary_accuracy", "logit", logits, labels);
  return mean_over(logits.size(), [&](size_t i) { return (logits[i] > 0) == (labels[i] == 1.0) ? 1.0 : 0.0; });
}

double multiclass_accuracy(const Tensor& logits, const std::vector<int64_t>& labels) {
  const char* fn = "multiclass_accuracy";
  COMET_CHECK(logits.ndim() == 2, "{}: expected logits [N, C], got {}", fn, shape_str(logits.shape()));
  const int64_t rows = logits.dim(0), classes = logits.dim(1);
  check_sizes(fn, "logits", static_cast<size_t>(rows), "labels", labels.size());
  const std::vector<double> z = doubles_of(fn, logits);
  auto argmax = [&](int64_t r) {
    const double* row = z.data() + r * classes;
    int64_t best = 0;
    for (int64_t c = 0; c < classes; ++c) {
      check_not_nan(fn, "logit", static_cast<size_t>(r * classes + c), z.size(), row[c]);
      if (row[c] > row[best]) best = c;
    }
    return best;
  };
  return mean_over(labels.size(), [&](size_t r) {
    COMET_CHECK(labels[r] >= 0 && labels[r] < classes, "{}: label {} of {} is {}; must be in [0, C = {})", fn, r,
                labels.size(), labels[r], classes);
    return argmax(static_cast<int64_t>(r)) == labels[r] ? 1.0 : 0.0;
  });
}

double mean_squared_error(const std::vector<double>& pred, const std::vector<double>& target,
                          const std::vector<double>* mask) {
  const char* fn = "mean_squared_error";
  check_sizes(fn, "pred", pred.size(), "target", target.size());
  if (mask) {
    check_sizes(fn, "pred", pred.size(), "mask", mask->size());
    check_zero_one(fn, "mask entry", *mask);
  }
  auto keep = [&](size_t i) { return !mask || (*mask)[i] == 1.0; };
  return masked_mean(pred.size(), keep, [&](size_t i) {
    check_not_nan(fn, "pred", i, pred.size(), pred[i]);
    check_not_nan(fn, "target", i, target.size(), target[i]);
    const long double d = static_cast<long double>(pred[i]) - target[i];
    return d * d;
  });
}

double binary_cross_entropy_with_logits(const std::vector<double>& logits, const std::vector<double>& labels) {
  check_binary_inputs("binary_cross_entropy_with_logits", "logit", logits, labels);
  return mean_over(logits.size(), [&](size_t i) {
    const double z = logits[i];
    return std::max(z, 0.0) - z * labels[i] + std::log1p(std::exp(-std::fabs(z)));
  });
}

double gate_sparsity(const Tensor& g, double threshold) {
  const char* fn = "gate_sparsity";
  COMET_CHECK(g.ndim() == 2, "{}: expected gate weights [B, n], got {}", fn, shape_str(g.shape()));
  COMET_CHECK(!std::isnan(threshold), "{}: threshold is NaN", fn);
  // Compared in the tensor's precision: an f32 weight equal to 1e-5f is not below the threshold 1e-5.
  const double t = g.dtype() == DType::F32 ? static_cast<float>(threshold) : threshold;
  const std::vector<double> w = doubles_of(fn, g);
  return mean_over(w.size(), [&](size_t i) {
    check_not_nan(fn, "gate weight", i, w.size(), w[i]);
    return w[i] < t ? 1.0 : 0.0;
  });
}

void TaskScores::append(const Tensor& s, const Tensor& l, const Tensor* m) {
  const char* fn = "TaskScores::append";
  check_sizes(fn, "score", static_cast<size_t>(s.numel()), "label", static_cast<size_t>(l.numel()));
  if (m) check_sizes(fn, "score", static_cast<size_t>(s.numel()), "mask", static_cast<size_t>(m->numel()));
  const std::vector<double> s_new = doubles_of(fn, s), l_new = doubles_of(fn, l);
  const std::vector<double> m_new = m ? doubles_of(fn, *m) : std::vector<double>(s_new.size(), 1.0);
  check_zero_one(fn, "mask entry", m_new);
  score.insert(score.end(), s_new.begin(), s_new.end());
  label.insert(label.end(), l_new.begin(), l_new.end());
  mask.insert(mask.end(), m_new.begin(), m_new.end());
}

void TaskScores::clear() {
  score.clear();
  label.clear();
  mask.clear();
}

TaskScores TaskScores::observed() const {
  TaskScores out;
  for (size_t i = 0; i < score.size(); ++i)
    if (mask[i] == 1.0) {
      out.score.push_back(score[i]);
      out.label.push_back(label[i]);
      out.mask.push_back(1.0);
    }
  return out;
}

}  // namespace comet::train
