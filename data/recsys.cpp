// Recommender construction shared by the rating readers: dense ids, sampled negatives, the two-task layout and the
// paper's stratified split. Test: tests/data/test_movielens.cpp, tests/data/test_jester_books.cpp.
#include "data/recsys.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <numeric>

#include "core/error.h"
#include "core/mutation.h"

namespace comet::data {

namespace {

template <class Key>
DenseIds dense_ids_sorted(const std::vector<Key>& raw) {
  std::vector<Key> keys(raw);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  DenseIds out;
  out.size = static_cast<int64_t>(keys.size());
  out.index.resize(raw.size());
  for (size_t i = 0; i < raw.size(); ++i)
    out.index[i] = std::lower_bound(keys.begin(), keys.end(), raw[i]) - keys.begin();
  return out;
}

// Records grouped by user (CSR): the items of user u are items[start[u] .. start[u + 1]).
struct ItemsByUser {
  std::vector<int64_t> start, items;
};

ItemsByUser group_by_user(const Interactions& r) {
  ItemsByUser g;
  g.start.assign(static_cast<size_t>(r.users) + 1, 0);
  for (int64_t u : r.user) ++g.start[static_cast<size_t>(u) + 1];
  std::partial_sum(g.start.begin(), g.start.end(), g.start.begin());
  g.items.resize(r.user.size());
  std::vector<int64_t> fill(g.start.begin(), g.start.end() - 1);
  for (size_t i = 0; i < r.user.size(); ++i) g.items[static_cast<size_t>(fill[r.user[i]]++)] = r.item[i];
  return g;
}

// Appends `count` distinct items not yet marked (and marks them), uniformly among the `unmarked` ones. Rejection
// from uniform draws while at least half the unmarked items remain to choose from; else a shuffle of the unmarked.
void sample_unmarked(std::vector<uint8_t>& marked, int64_t unmarked, int64_t count, Generator& gen,
                     std::vector<int64_t>& out) {
  if (count <= 0) return;
  const int64_t items = static_cast<int64_t>(marked.size());
  if (2 * count <= unmarked) {
    Tensor draws = Tensor::empty({2 * count + 16}, DType::I64);
    int64_t used = draws.numel();
    for (int64_t taken = 0; taken < count;) {
      if (used == draws.numel()) {
        gen.randint(draws, 0, items);
        used = 0;
      }
      const int64_t c = draws.data<int64_t>()[used++];
      if (marked[static_cast<size_t>(c)] && !COMET_MUTANT(negatives_may_be_rated)) continue;
      marked[static_cast<size_t>(c)] = 1;
      out.push_back(c);
      ++taken;
    }
    return;
  }
  std::vector<int64_t> pool;
  pool.reserve(static_cast<size_t>(unmarked));
  for (int64_t i = 0; i < items; ++i)
    if (!marked[static_cast<size_t>(i)]) pool.push_back(i);
  const std::vector<int64_t> order = gen.permutation(static_cast<int64_t>(pool.size()));
  for (int64_t j = 0; j < count; ++j) {
    const int64_t c = pool[static_cast<size_t>(order[static_cast<size_t>(j)])];
    marked[static_cast<size_t>(c)] = 1;
    out.push_back(c);
  }
}

Tensor column_pair(const std::vector<float>& a, const std::vector<float>& b) {
  Tensor t = Tensor::empty({static_cast<int64_t>(a.size()), 2}, DType::F32);
  float* p = t.data<float>();
  for (size_t i = 0; i < a.size(); ++i) {
    p[2 * i] = a[i];
    p[2 * i + 1] = b[i];
  }
  return t;
}

// Rows per T1 value in the second part: floor(n_c * second / n) plus one for the largest remainders.
std::vector<int64_t> stratum_quotas(const std::vector<int64_t>& sizes, int64_t n, int64_t second) {
  std::vector<int64_t> quota(sizes.size()), order(sizes.size());
  int64_t left = second;
  for (size_t c = 0; c < sizes.size(); ++c) {
    quota[c] = sizes[c] * second / n;
    left -= quota[c];
  }
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return sizes[a] * second % n > sizes[b] * second % n;
  });
  for (int64_t j = 0; j < left; ++j) ++quota[static_cast<size_t>(order[static_cast<size_t>(j)])];
  return quota;
}

Tensor shuffled_index(const std::vector<int64_t>& rows, Generator& gen) {
  const std::vector<int64_t> order = gen.permutation(static_cast<int64_t>(rows.size()));
  Tensor index = Tensor::empty({static_cast<int64_t>(rows.size())}, DType::I64);
  for (size_t j = 0; j < rows.size(); ++j) index.data<int64_t>()[j] = rows[static_cast<size_t>(order[j])];
  return index;
}

}  // namespace

DenseIds dense_ids(const std::vector<int64_t>& raw) { return dense_ids_sorted(raw); }
DenseIds dense_ids(const std::vector<std::string>& raw) { return dense_ids_sorted(raw); }

DenseIds dense_ids_auto(const std::vector<std::string>& raw) {
  std::vector<int64_t> numbers;
  numbers.reserve(raw.size());
  for (const std::string& s : raw) {
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return dense_ids(raw);
    numbers.push_back(v);
  }
  return dense_ids(numbers);
}

void Interactions::add(int64_t u, int64_t i, int64_t source_line, float value, bool has_rating) {
  user.push_back(u);
  item.push_back(i);
  line.push_back(source_line);
  rating.push_back(has_rating ? value : 0.0f);
  rated.push_back(has_rating ? 1.0f : 0.0f);
}

void check_unique_pairs(const Interactions& r) {
  std::vector<int64_t> order(static_cast<size_t>(r.size()));
  std::iota(order.begin(), order.end(), 0);
  auto pair_key = [&](int64_t j) { return r.user[j] * r.items + r.item[j]; };
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return pair_key(a) < pair_key(b); });
  for (size_t j = 1; j < order.size(); ++j)
    COMET_CHECK(pair_key(order[j]) != pair_key(order[j - 1]), "{}:{}: the (user, item) pair of line {} again",
                r.file, r.line[order[j]], r.line[order[j - 1]]);
}

Dataset recommender_dataset(const std::vector<int64_t>& user, const std::vector<int64_t>& item, int64_t users,
                            int64_t items, const std::vector<float>& watched, const std::vector<float>& rating,
                            const std::vector<float>& rating_observed) {
  const int64_t n = static_cast<int64_t>(user.size());
  Dataset d;
  d.ids = Tensor::empty({n, 2}, DType::I64);
  for (int64_t i = 0; i < n; ++i) {
    d.ids.data<int64_t>()[2 * i] = user[i];
    d.ids.data<int64_t>()[2 * i + 1] = item[i];
  }
  d.id_names = {"user", "item"};
  d.vocab = {users, items};
  d.key_column = 0;
  d.tasks = {{"t1", TaskKind::Binary, 0}, {"t2", TaskKind::Regression, 0}};
  d.targets = column_pair(watched, rating);
  d.mask = column_pair(std::vector<float>(user.size(), 1.0f), rating_observed);
  return d;
}

Dataset with_sampled_negatives(const Interactions& r, Generator& gen) {
  std::vector<int64_t> user(r.user), item(r.item);
  std::vector<float> watched(r.user.size(), 1.0f), rating(r.rating), rated(r.rated);
  const ItemsByUser by_user = group_by_user(r);
  std::vector<uint8_t> marked(static_cast<size_t>(r.items), 0);
  std::vector<int64_t> negatives;
  for (int64_t u = 0; u < r.users; ++u) {
    const auto first = by_user.items.begin() + by_user.start[u], last = by_user.items.begin() + by_user.start[u + 1];
    const int64_t k = last - first;
    for (auto it = first; it != last; ++it) marked[static_cast<size_t>(*it)] = 1;
    negatives.clear();
    sample_unmarked(marked, r.items - k, std::min(k, r.items - k), gen, negatives);
    for (int64_t c : negatives) {
      user.push_back(u);
      item.push_back(c);
      marked[static_cast<size_t>(c)] = 0;
    }
    for (auto it = first; it != last; ++it) marked[static_cast<size_t>(*it)] = 0;
  }
  const size_t total = user.size();
  watched.resize(total, 0.0f);
  rating.resize(total, 0.0f);
  rated.resize(total, 0.0f);
  return recommender_dataset(user, item, r.users, r.items, watched, rating, rated);
}

std::pair<Dataset, Dataset> split_stratified(const Dataset& d, int64_t second_rows, Generator& gen) {
  const int64_t n = d.rows(), T = d.targets.cols();
  COMET_CHECK(second_rows >= 0 && second_rows <= n, "split_stratified: {} rows asked of {}", second_rows, n);
  std::map<float, std::vector<int64_t>> strata;  // T1 value -> its rows
  for (int64_t i = 0; i < n; ++i) strata[d.targets.data<float>()[i * T]].push_back(i);
  std::vector<int64_t> sizes;
  for (const auto& [label, rows] : strata) sizes.push_back(static_cast<int64_t>(rows.size()));
  const std::vector<int64_t> quota = n ? stratum_quotas(sizes, n, second_rows) : std::vector<int64_t>();
  std::vector<int64_t> first, second;
  size_t c = 0;
  for (const auto& [label, rows] : strata) {
    const std::vector<int64_t> order = gen.permutation(static_cast<int64_t>(rows.size()));
    for (size_t j = 0; j < rows.size(); ++j)
      (static_cast<int64_t>(j) < quota[c] ? second : first).push_back(rows[static_cast<size_t>(order[j])]);
    ++c;
  }
  return {gather(d, shuffled_index(first, gen)), gather(d, shuffled_index(second, gen))};
}

Splits split_paper(const Dataset& all, Generator& gen, const std::string& source) {
  Splits s;
  Dataset rest;
  std::tie(rest, s.test) = split_stratified(all, (all.rows() + 9) / 10, gen);
  std::tie(s.train, s.val) = split_stratified(rest, (rest.rows() + 7) / 8, gen);
  s.source = source;
  s.train.validate(source + ": train");
  s.val.validate(source + ": val");
  s.test.validate(source + ": test");
  return s;
}

Splits recommender_splits(const Interactions& records, uint64_t seed, const std::string& source) {
  check_unique_pairs(records);
  Generator gen(seed);
  const Dataset all = with_sampled_negatives(records, gen);
  return split_paper(all, gen,
                     fmt::format("{}, {} sampled unrated pairs, seed {}", source, all.rows() - records.size(), seed));
}

}  // namespace comet::data
