// Helpers of the recommender-reader tests (test_table, test_movielens, test_jester_books, test_custom_recsys): a
// temporary folder that removes itself, a reader's observed records, and the check of the construction rules of
// data/recsys.h on a reader's splits.
#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "test_util.h"

namespace comet::test {


struct RecsysRow {
  int64_t user, item;
  float watched, rating, rating_observed;
};

inline std::vector<RecsysRow> recsys_rows(const data::Dataset& d) {
  std::vector<RecsysRow> rows;
  for (int64_t i = 0; i < d.rows(); ++i) {
    const int64_t* id = d.ids.data<int64_t>() + 2 * i;
    const float* y = d.targets.data<float>() + 2 * i;
    rows.push_back({id[0], id[1], y[0], y[1], d.mask.data<float>()[2 * i + 1]});
  }
  return rows;
}

inline std::vector<RecsysRow> recsys_rows(const data::Splits& s) {
  std::vector<RecsysRow> rows;
  for (const data::Dataset* d : {&s.train, &s.val, &s.test}) {
    const auto part = recsys_rows(*d);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  return rows;
}

// The observed records of a reader's splits (T1 = 1) as (dense user, dense item, rating, rating observed).
using Record = std::tuple<int64_t, int64_t, float, float>;
inline std::set<Record> positive_records(const data::Splits& s) {
  std::set<Record> out;
  for (const RecsysRow& r : recsys_rows(s))
    if (r.watched == 1.0f) out.insert({r.user, r.item, r.rating, r.rating_observed});
  return out;
}

inline int64_t watched_rows(const data::Dataset& d) {
  int64_t ones = 0;
  for (const RecsysRow& r : recsys_rows(d)) ones += r.watched == 1.0f;
  return ones;
}

// |watched rows of part - rows of part * share of whole| <= 1: the part is stratified on T1 within one row.
inline void check_stratified(const data::Dataset& part, int64_t whole_rows, int64_t whole_watched) {
  const double expected = static_cast<double>(part.rows()) * whole_watched / whole_rows;
  INFO("part of ", part.rows(), " rows: ", watched_rows(part), " watched, expected ", expected);
  CHECK(std::abs(watched_rows(part) - expected) <= 1.0);
}

// The rules of data/recsys.h on a reader's output: layout; no repeated (user, item); per user, negatives =
// min(positives, items - positives) and never a rated item; T2 masked on negatives; split sizes 90/10 then
// 87.5/12.5, each stratified on T1.
inline void check_recommender_splits(const data::Splits& s) {
  for (const data::Dataset* d : {&s.train, &s.val, &s.test}) {
    CHECK(d->id_names == std::vector<std::string>{"user", "item"});
    CHECK(d->key_column == std::optional<int64_t>(0));
    REQUIRE(d->tasks.size() == 2);
    CHECK(d->tasks[0].kind == data::TaskKind::Binary);
    CHECK(d->tasks[1].kind == data::TaskKind::Regression);
    CHECK(d->vocab == s.train.vocab);
  }
  const auto rows = recsys_rows(s);
  const int64_t items = s.train.vocab[1];
  std::set<std::pair<int64_t, int64_t>> pairs;
  std::map<int64_t, int64_t> positives, negatives;
  for (const RecsysRow& r : rows) {
    CHECK(pairs.insert({r.user, r.item}).second);
    (r.watched == 1.0f ? positives : negatives)[r.user]++;
    if (r.watched == 0.0f) {
      CHECK(r.rating_observed == 0.0f);
      CHECK(r.rating == 0.0f);
    }
  }
  for (const auto& [user, k] : positives) CHECK(negatives[user] == std::min(k, items - k));
  for (const auto& [user, m] : negatives) CHECK(positives.count(user) == 1);
  const int64_t n = static_cast<int64_t>(rows.size()), test_rows = (n + 9) / 10, rest = n - test_rows;
  CHECK(s.test.rows() == test_rows);
  CHECK(s.val.rows() == (rest + 7) / 8);
  CHECK(s.train.rows() == rest - (rest + 7) / 8);
  const int64_t watched = watched_rows(s.train) + watched_rows(s.val) + watched_rows(s.test);
  check_stratified(s.test, n, watched);
  check_stratified(s.train, rest, watched - watched_rows(s.test));
  check_stratified(s.val, rest, watched - watched_rows(s.test));
}

inline bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

inline bool same_splits(const data::Splits& a, const data::Splits& b) {
  for (auto part : {&data::Splits::train, &data::Splits::val, &data::Splits::test}) {
    const data::Dataset &x = a.*part, &y = b.*part;
    if (!same_tensor(x.ids, y.ids) || !same_tensor(x.targets, y.targets) || !same_tensor(x.mask, y.mask))
      return false;
  }
  return true;
}

}  // namespace comet::test
