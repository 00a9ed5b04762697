// The recommender layouts of a custom description: records read through data/table.h into Interactions (dense ids
// over the kept records), then data/recsys.h's construction. Test: tests/data/test_custom_recsys.cpp.
#include "data/custom_recsys.h"

#include <cmath>

#include "core/error.h"
#include "data/recsys.h"

namespace comet::data {

namespace {

// The user or item ids of the records as read, in one of the forms their CustomIdType asks for.
struct IdColumn {
  CustomIdType type;
  std::vector<int64_t> number;    // Integer
  std::vector<std::string> text;  // Auto, Text

  void add(const TableRow& row, int64_t c) {
    if (type == CustomIdType::Integer) {
      number.push_back(row.integer(c));
      return;
    }
    const std::string_view t = row.text(c);
    if (t.empty()) row.fail(c, "empty id");
    text.emplace_back(t);
  }
  DenseIds dense() const {
    return type == CustomIdType::Integer ? dense_ids(number)
           : type == CustomIdType::Text  ? dense_ids(text)
                                         : dense_ids_auto(text);
  }
  // Only the records where keep is true.
  IdColumn kept(const std::vector<bool>& keep) const {
    IdColumn out{type, {}, {}};
    for (size_t i = 0; i < keep.size(); ++i) {
      if (!keep[i]) continue;
      if (type == CustomIdType::Integer) out.number.push_back(number[i]);
      else out.text.push_back(text[i]);
    }
    return out;
  }
};

// A rating field as `r` says it is written (an integer or a number).
double rating_value(const TableRow& row, int64_t c, const CustomRatings& r) {
  return r.integer ? static_cast<double>(row.integer(c)) : row.number(c);
}

// The range and step checks of rating v; range messages are "<prefix>V is outside [MIN, MAX]<suffix>".
void check_rating(const TableRow& row, int64_t c, double v, const CustomRatings& r, const std::string& prefix = "",
                  const std::string& suffix = "") {
  // An integer is shown as parsed, a number as written.
  const std::string shown = r.integer ? std::to_string(static_cast<int64_t>(v)) : std::string(row.text(c));
  if (r.range && (v < r.range->first || v > r.range->second))
    row.fail(c, fmt::format("{}{} is outside [{}, {}]{}", prefix, shown, r.range->first, r.range->second, suffix));
  if (r.step && std::fmod(v, *r.step) != 0.0) row.fail(c, fmt::format("{} is not a multiple of {}", shown, *r.step));
}

bool has_rating(double v, const CustomRatings& r) { return !(r.implicit && v == *r.implicit); }

// Which records have a user and an item with at least `min_records` records each (counted over all records).
std::vector<bool> frequent(const DenseIds& users, const DenseIds& items, int64_t min_records) {
  std::vector<int64_t> per_user(static_cast<size_t>(users.size)), per_item(static_cast<size_t>(items.size));
  for (size_t i = 0; i < users.index.size(); ++i) {
    ++per_user[static_cast<size_t>(users.index[i])];
    ++per_item[static_cast<size_t>(items.index[i])];
  }
  std::vector<bool> keep(users.index.size());
  for (size_t i = 0; i < keep.size(); ++i)
    keep[i] = per_user[static_cast<size_t>(users.index[i])] >= min_records &&
              per_item[static_cast<size_t>(items.index[i])] >= min_records;
  return keep;
}

template <class T>
std::vector<T> kept(const std::vector<T>& v, const std::vector<bool>& keep) {
  std::vector<T> out;
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) out.push_back(v[i]);
  return out;
}

// The data set without T2 (interactions without a rating column): the targets' first column, nothing masked.
Dataset observed_task_only(Dataset d) {
  const int64_t n = d.rows();
  Tensor t1 = Tensor::empty({n, 1}, DType::F32);
  for (int64_t i = 0; i < n; ++i) t1.data<float>()[i] = d.targets.data<float>()[2 * i];
  d.targets = t1;
  d.mask = Tensor();
  d.tasks.resize(1);
  return d;
}

Splits read_interactions(const CustomDescription& d, const CustomInteractions& spec, uint64_t seed) {
  const std::string& path = d.train.csv;
  IdColumn user{spec.user.type, {}, {}}, item{spec.item.type, {}, {}};
  std::vector<float> rating;
  std::vector<uint8_t> rated;
  std::vector<int64_t> line;
  int64_t user_col = 0, item_col = 0, rating_col = -1, time_col = -1;
  bool resolved = false;
  read_table(path, custom_table_options(d), [&](const TableRow& row) {
    if (!resolved) {  // by the header's names, at the first row
      auto resolve = [&](const ColumnRef& c, const char* key) {
        return custom_column(d, c, fmt::format("interactions.{}", key), path, row.size(), row.names());
      };
      user_col = resolve(spec.user.column, "user");
      item_col = resolve(spec.item.column, "item");
      if (spec.rating) rating_col = resolve(*spec.rating, "rating");
      if (spec.time) time_col = resolve(*spec.time, "time");
      resolved = true;
    }
    user.add(row, user_col);
    item.add(row, item_col);
    if (spec.rating) {
      const double v = rating_value(row, rating_col, spec.ratings);
      check_rating(row, rating_col, v, spec.ratings);
      rating.push_back(static_cast<float>(v));
      rated.push_back(has_rating(v, spec.ratings));
    }
    if (spec.time) row.integer(time_col);  // checked, not used
    line.push_back(row.line());
  });
  const size_t read = line.size();
  std::string kept_note;
  if (spec.min_records > 1) {
    const std::vector<bool> keep = frequent(user.dense(), item.dense(), spec.min_records);
    user = user.kept(keep);
    item = item.kept(keep);
    if (spec.rating) {
      rating = kept(rating, keep);
      rated = kept(rated, keep);
    }
    line = kept(line, keep);
    COMET_CHECK(!line.empty(), "{}: no user and item with at least {} records ({} records read)", path,
                spec.min_records, read);
    kept_note = fmt::format(", {} kept (users and items with >= {} records)", line.size(), spec.min_records);
  }
  const DenseIds users = user.dense(), items = item.dense();
  Interactions records;
  records.file = path;
  records.users = users.size;
  records.items = items.size;
  for (size_t i = 0; i < line.size(); ++i)
    records.add(users.index[i], items.index[i], line[i], spec.rating ? rating[i] : 0.0f, spec.rating && rated[i]);
  Splits s = recommender_splits(records, seed,
                                fmt::format("{} {}: {} records read{}, {} users, {} items", d.json, path, read,
                                            kept_note, users.size, items.size));
  if (!spec.rating) {
    s.train = observed_task_only(s.train);
    s.val = observed_task_only(s.val);
    s.test = observed_task_only(s.test);
  }
  return s;
}

Splits read_matrix(const CustomDescription& d, const CustomMatrix& spec, uint64_t seed) {
  const std::string& path = d.train.csv;
  TableOptions options = custom_table_options(d);
  if (spec.count && options.column_names.empty() && !d.header) options.column_names = {"count"};
  const int64_t first = spec.count ? 1 : 0;  // the first item column
  const std::string not_rated = spec.not_rated ? fmt::format(" ({} = not rated)", *spec.not_rated) : "";
  Interactions records;
  records.file = path;
  int64_t items = -1;
  read_table(path, options, [&](const TableRow& row) {
    if (items < 0) items = row.size() - first;
    if (items < 1) row.fail("a row needs the count column and at least one item column");
    const int64_t count = spec.count ? row.integer_in(0, 0, items) : 0;
    int64_t rated = 0;
    for (int64_t c = first; c < row.size(); ++c) {
      const double v = rating_value(row, c, spec.ratings);
      if (spec.not_rated && v == *spec.not_rated) continue;
      check_rating(row, c, v, spec.ratings, fmt::format("item {}: ", c - first + 1), not_rated);
      records.add(records.users, c - first, row.line(), static_cast<float>(v), has_rating(v, spec.ratings));
      ++rated;
    }
    if (spec.count && rated != count)
      row.fail(0, fmt::format("the count says {} items rated, but the row has {} ratings", count, rated));
    ++records.users;
  });
  records.items = items;
  return recommender_splits(records, seed,
                            fmt::format("{} {}: {} ratings, {} users, {} items", d.json, path, records.size(),
                                        records.users, records.items));
}

}  // namespace

Splits read_custom_recommender(const CustomDescription& d, uint64_t seed) {
  COMET_CHECK(!d.npy && !d.val && !d.test && d.val_fraction == 0 && d.test_fraction == 0,
              "{}: a recommender layout reads one CSV file and splits it as the paper does", d.json);
  return d.interactions ? read_interactions(d, *d.interactions, seed) : read_matrix(d, *d.matrix, seed);
}

}  // namespace comet::data
