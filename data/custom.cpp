// Custom data sets, reading the rows of a parsed description (custom_parse.cpp parses the JSON): CSV through
// data/table.h (column names resolved at each file's first row, from its header), .npy through core/io/npy.h, ids remapped with dense_ids,
// parts split with split_stratified; the recommender layouts are read by custom_recsys.cpp.
// Test: tests/data/test_custom.cpp, tests/data/test_custom_recsys.cpp.
#include "data/custom.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/io/npy.h"
#include "core/rng.h"
#include "data/custom_recsys.h"
#include "data/recsys.h"
#include "data/table.h"

namespace comet::data {

std::string ColumnRef::str() const { return name.empty() ? std::to_string(index) : "'" + name + "'"; }

std::string CustomSource::str() const {
  return csv.empty() ? std::filesystem::path(targets).parent_path().string() : csv;
}

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Reading the rows.

// The checks of a target value; `fail` throws with the location.
template <class Fail>
float label(double v, const TaskSpec& spec, const Fail& fail) {
  if (spec.kind == TaskKind::Binary && v != 0 && v != 1) fail(fmt::format("{} is not a binary label (0 or 1)", v));
  if (spec.kind == TaskKind::Multiclass && !(v >= 0 && v < spec.classes && v == std::floor(v)))
    fail(fmt::format("{} is not a class in [0, {})", v, spec.classes));
  const float f = static_cast<float>(v);
  if (!std::isfinite(f)) fail(fmt::format("{} does not fit in float32", v));
  return f;
}

// Everything read so far, all sources appended.
struct Columns {
  int64_t rows = 0;
  std::optional<int64_t> dense_dim;
  std::string dense_from;                        // the source that set dense_dim, for messages
  std::vector<std::vector<std::string>> id_text;  // [F][rows], CSV ids without a vocab
  std::vector<std::vector<int64_t>> id_int;       // [F][rows], .npy ids or ids with a vocab
  std::vector<float> dense, targets, mask;        // row-major
  bool any_masked = false;
};

class Reader {
 public:
  explicit Reader(const CustomDescription& d) : d_(d) {
    c_.id_text.resize(d.ids.size());
    c_.id_int.resize(d.ids.size());
  }

  Columns& columns() { return c_; }

  void set_dense_dim(int64_t dim, const std::string& source) {
    if (dim == 0) throw Error(fmt::format("{}: {}: 'dense' selects no columns", d_.json, source));
    if (c_.dense_dim && *c_.dense_dim != dim)
      throw Error(fmt::format("{}: 'dense' selects {} columns of {}, but {} of {}", d_.json, dim, source,
                              *c_.dense_dim, c_.dense_from));
    if (!d_.image.empty() && d_.image[0] * d_.image[1] * d_.image[2] != dim)
      throw Error(fmt::format("{}: 'image': {} needs {} dense features, 'dense' selects {} of {}", d_.json,
                              shape_str(d_.image), d_.image[0] * d_.image[1] * d_.image[2], dim, source));
    c_.dense_dim = dim;
    c_.dense_from = source;
  }

  // ---- CSV
  void csv(const std::string& path) {
    std::vector<int64_t> id_col, dense_col, task_col;
    bool resolved = false;
    read_table(path, custom_table_options(d_), [&](const TableRow& row) {
      if (!resolved) {  // names are per file (the header's): resolved at its first row
        resolve(path, row.size(), row.names(), id_col, dense_col, task_col);
        resolved = true;
      }
      csv_row(row, id_col, dense_col, task_col);
    });
  }

  // ---- .npy
  void npy(const CustomSource& s) {
    const Tensor targets = load_2d(s.targets, "targets");
    const int64_t n = targets.dim(0);
    Tensor ids, dense, mask;
    if (!d_.ids.empty()) {
      if (s.ids.empty()) throw Error(fmt::format("{}: 'ids' is given, but {} has no ids file", d_.json, s.str()));
      ids = load_2d(s.ids, "ids", n, s.targets);
      if (ids.dtype() != DType::I64 && ids.dtype() != DType::I32)
        throw Error(fmt::format("{}: ids must be integers (int32 or int64), got {}", s.ids,
                                ids.dtype() == DType::F32 ? "float32" : "float64"));
      ids = ids.to(DType::I64);
    }
    const bool want_dense = !d_.dense.empty() || d_.dense_range || d_.dense_all;
    if (want_dense && !s.dense.empty()) dense = load_2d(s.dense, "dense", n, s.targets).to(DType::F64);
    if (want_dense && s.dense.empty() && (!(d_.dense_all && !d_.ids.empty()) || c_.dense_dim))
      throw Error(fmt::format("{}: dense features are asked for, but {} has no dense file", d_.json, s.str()));
    if (dense.defined() && c_.rows > 0 && !c_.dense_dim)
      throw Error(fmt::format("{}: {} has dense features, but the parts before it have none", d_.json, s.dense));
    if (!s.mask.empty()) {
      mask = load_2d(s.mask, "mask", n, s.targets).to(DType::F64);
      if (mask.shape() != targets.shape())
        throw Error(fmt::format("{}: shape {} differs from {} of {}", s.mask, shape_str(mask.shape()),
                                shape_str(targets.shape()), s.targets));
    }
    std::vector<std::string> none;
    std::vector<int64_t> id_col, dense_col, task_col;
    for (size_t f = 0; f < d_.ids.size(); ++f)
      id_col.push_back(index_of(d_.ids[f].column, d_.ids[f].where + ".column", s.ids, ids.dim(1), none));
    if (dense.defined()) {
      dense_col = dense_columns(s.dense, dense.dim(1), none);
      set_dense_dim(static_cast<int64_t>(dense_col.size()), s.dense);
    }
    for (const CustomTask& t : d_.tasks)
      task_col.push_back(index_of(t.column, t.where + ".column", s.targets, targets.dim(1), none));

    const Tensor y = targets.to(DType::F64);
    for (int64_t i = 0; i < n; ++i) {
      for (size_t f = 0; f < d_.ids.size(); ++f) {
        const int64_t v = ids.data<int64_t>()[i * ids.dim(1) + id_col[f]];
        const CustomIdColumn& spec = d_.ids[f];
        if (v < 0 || (spec.vocab && v >= *spec.vocab))
          throw Error(fmt::format("{}: [{}, {}] ('{}'): id {} is {}", s.ids, i, id_col[f], spec.name, v,
                                  spec.vocab ? fmt::format("outside [0, {})", *spec.vocab) : "negative"));
        c_.id_int[f].push_back(v);
      }
      for (int64_t c : dense_col) {
        const double v = dense.data<double>()[i * dense.dim(1) + c];
        if (!std::isfinite(static_cast<float>(v)))
          throw Error(fmt::format("{}: [{}, {}]: {} is not a finite float32", s.dense, i, c, v));
        c_.dense.push_back(static_cast<float>(v));
      }
      for (size_t t = 0; t < d_.tasks.size(); ++t) {
        const CustomTask& task = d_.tasks[t];
        const int64_t c = task_col[t];
        const double v = y.data<double>()[i * targets.dim(1) + c];
        bool observed = !(task.missing && v == *task.missing);
        if (mask.defined()) {
          const double m = mask.data<double>()[i * targets.dim(1) + c];
          if (m != 0 && m != 1) throw Error(fmt::format("{}: [{}, {}]: mask value {} is not 0 or 1", s.mask, i, c, m));
          observed = observed && m == 1;
        }
        push_target(observed ? label(v, task.spec,
                                     [&](const std::string& what) {
                                       throw Error(fmt::format("{}: [{}, {}] ('{}'): {}", s.targets, i, c,
                                                               task.spec.name, what));
                                     })
                             : 0.0f,
                    observed);
      }
    }
    c_.rows += n;
  }

 private:
  void push_target(float v, bool observed) {
    c_.targets.push_back(observed ? v : 0.0f);
    c_.mask.push_back(observed ? 1.0f : 0.0f);
    c_.any_masked = c_.any_masked || !observed;
  }

  // A 2-D array (a 1-D one is one column), with `rows` rows when given.
  Tensor load_2d(const std::string& path, const char* what, std::optional<int64_t> rows = std::nullopt,
                 const std::string& rows_from = "") {
    Tensor t = io::load_npy(path);
    if (t.ndim() == 1) t = t.reshape({t.dim(0), 1});
    if (t.ndim() != 2)
      throw Error(fmt::format("{}: {} must be a 2-D array [rows, columns], got shape {}", path, what,
                              shape_str(t.shape())));
    if (rows && t.dim(0) != *rows)
      throw Error(fmt::format("{}: {} rows, but {} has {}", path, t.dim(0), rows_from, *rows));
    if (!rows && t.dim(0) == 0) throw Error(fmt::format("{}: no rows", path));
    return t;
  }

  int64_t index_of(const ColumnRef& c, const std::string& key, const std::string& file, int64_t count,
                   const std::vector<std::string>& names) const {
    return custom_column(d_, c, key, file, count, names);
  }

  std::vector<int64_t> dense_columns(const std::string& file, int64_t count,
                                     const std::vector<std::string>& names) const {
    std::vector<int64_t> cols;
    if (d_.dense_range) {
      const int64_t from = index_of(d_.dense_range->first, "dense.from", file, count, names);
      const int64_t to = index_of(d_.dense_range->second, "dense.to", file, count, names);
      if (from > to)
        throw Error(fmt::format("{}: 'dense': 'from' {} comes after 'to' {} in {}", d_.json,
                                d_.dense_range->first.str(), d_.dense_range->second.str(), file));
      for (int64_t c = from; c <= to; ++c) cols.push_back(c);
    } else if (d_.dense_all) {
      for (int64_t c = 0; c < count; ++c) cols.push_back(c);
    } else {
      for (size_t i = 0; i < d_.dense.size(); ++i)
        cols.push_back(index_of(d_.dense[i], fmt::format("dense[{}]", i), file, count, names));
    }
    return cols;
  }

  void resolve(const std::string& path, int64_t count, const std::vector<std::string>& names,
               std::vector<int64_t>& id_col, std::vector<int64_t>& dense_col, std::vector<int64_t>& task_col) {
    for (const CustomIdColumn& c : d_.ids)
      id_col.push_back(index_of(c.column, c.where + ".column", path, count, names));
    if (!d_.dense.empty() || d_.dense_range) {
      dense_col = dense_columns(path, count, names);
      set_dense_dim(static_cast<int64_t>(dense_col.size()), path);
    }
    for (const CustomTask& t : d_.tasks)
      task_col.push_back(index_of(t.column, t.where + ".column", path, count, names));
  }

  void csv_row(const TableRow& row, const std::vector<int64_t>& id_col, const std::vector<int64_t>& dense_col,
               const std::vector<int64_t>& task_col) {
    for (size_t f = 0; f < d_.ids.size(); ++f) {
      const CustomIdColumn& spec = d_.ids[f];
      if (spec.vocab) {
        c_.id_int[f].push_back(row.integer_in(id_col[f], 0, *spec.vocab - 1));
      } else {
        const std::string_view text = row.text(id_col[f]);
        if (text.empty()) row.fail(id_col[f], "empty id");
        c_.id_text[f].emplace_back(text);
      }
    }
    for (int64_t c : dense_col) {
      const double v = row.number(c);
      if (!std::isfinite(static_cast<float>(v))) row.fail(c, fmt::format("{} does not fit in float32", v));
      c_.dense.push_back(static_cast<float>(v));
    }
    for (size_t t = 0; t < d_.tasks.size(); ++t) {
      const CustomTask& task = d_.tasks[t];
      const int64_t c = task_col[t];
      if (task.missing_text && trim_spaces(row.text(c)) == *task.missing_text) {
        push_target(0.0f, false);
        continue;
      }
      const double v = row.number(c);
      if (task.missing && v == *task.missing) {
        push_target(0.0f, false);
        continue;
      }
      push_target(label(v, task.spec, [&](const std::string& what) { row.fail(c, what); }), true);
    }
    ++c_.rows;
  }

  const CustomDescription& d_;
  Columns c_;
};

// Splits the rows of d into (rest, part) with `part_rows` in part, stratified on task `stratify` (its masked rows a
// stratum of their own) or not stratified; split_stratified does the work on a stand-in whose ids are row numbers.
std::pair<Dataset, Dataset> split_off(const Dataset& d, int64_t part_rows, std::optional<int64_t> stratify,
                                      Generator& gen) {
  const int64_t n = d.rows(), T = static_cast<int64_t>(d.tasks.size());
  Dataset stand_in;
  stand_in.ids = Tensor::empty({n, 1}, DType::I64);
  stand_in.targets = Tensor::zeros({n, 1});
  for (int64_t i = 0; i < n; ++i) {
    stand_in.ids.data<int64_t>()[i] = i;
    if (!stratify) continue;
    const bool observed = !d.mask.defined() || d.mask.data<float>()[i * T + *stratify] == 1.0f;
    stand_in.targets.data<float>()[i] = observed ? d.targets.data<float>()[i * T + *stratify] : -1.0f;
  }
  auto [rest, part] = split_stratified(stand_in, part_rows, gen);
  return {gather(d, rest.ids.reshape({rest.rows()})), gather(d, part.ids.reshape({part.rows()}))};
}


}  // namespace

TableOptions custom_table_options(const CustomDescription& d) {
  TableOptions options;
  options.separator = d.separator;
  options.quoted = d.quoted;
  options.has_header = d.header;
  if (!d.columns.empty()) {
    options.columns = static_cast<int64_t>(d.columns.size());
    if (d.header) options.expected_header = d.columns;
    else options.column_names = d.columns;
  }
  return options;
}

int64_t custom_column(const CustomDescription& d, const ColumnRef& c, const std::string& key, const std::string& file,
                      int64_t count, const std::vector<std::string>& names) {
  if (c.name.empty()) {
    if (c.index >= count)
      throw Error(fmt::format("{}: '{}': column {} is outside the {} columns of {}", d.json, key, c.index, count,
                              file));
    return c.index;
  }
  if (names.empty())
    throw Error(fmt::format("{}: '{}': column '{}' named, but {} has no header (name columns by index)", d.json,
                            key, c.name, file));
  int64_t found = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != c.name) continue;
    if (found >= 0)
      throw Error(fmt::format("{}: '{}': column '{}' appears twice in the header of {}", d.json, key, c.name,
                              file));
    found = static_cast<int64_t>(i);
  }
  if (found < 0) throw Error(fmt::format("{}: '{}': no column '{}' in the header of {}", d.json, key, c.name, file));
  return found;
}

Dataset custom_dataset(const CustomDescription& d, const std::vector<CustomSource>& sources,
                       std::vector<int64_t>* rows_per_source) {
  COMET_CHECK(!d.interactions && !d.matrix, "{}: custom_dataset: a recommender layout is read by read_custom",
              d.json);
  Reader reader(d);
  Columns& c = reader.columns();
  if (rows_per_source) rows_per_source->clear();
  for (const CustomSource& s : sources) {
    const int64_t before = c.rows;
    if (d.npy) reader.npy(s);
    else reader.csv(s.csv);
    if (rows_per_source) rows_per_source->push_back(c.rows - before);
  }
  const int64_t n = c.rows, F = static_cast<int64_t>(d.ids.size()), T = static_cast<int64_t>(d.tasks.size());
  Dataset out;
  if (F > 0) {
    out.ids = Tensor::empty({n, F}, DType::I64);
    int64_t* p = out.ids.data<int64_t>();
    for (int64_t f = 0; f < F; ++f) {
      const CustomIdColumn& spec = d.ids[static_cast<size_t>(f)];
      std::vector<int64_t> index;
      int64_t vocab = 0;
      if (spec.vocab) {
        index = std::move(c.id_int[f]);
        vocab = *spec.vocab;
      } else {
        DenseIds dense = d.npy ? dense_ids(c.id_int[f]) : dense_ids_auto(c.id_text[f]);
        index = std::move(dense.index);
        vocab = dense.size;
      }
      for (int64_t i = 0; i < n; ++i) p[i * F + f] = index[static_cast<size_t>(i)];
      out.id_names.push_back(spec.name);
      out.vocab.push_back(std::max<int64_t>(vocab, 1));
      if (spec.key) out.key_column = f;
    }
  }
  if (c.dense_dim) out.dense = Tensor::from_vector({n, *c.dense_dim}, c.dense);
  out.image = d.image;
  out.targets = Tensor::from_vector({n, T}, c.targets);
  if (c.any_masked) out.mask = Tensor::from_vector({n, T}, c.mask);
  for (const CustomTask& t : d.tasks) out.tasks.push_back(t.spec);
  out.validate(d.json);
  return out;
}

Splits read_custom(const CustomDescription& d, uint64_t seed) {
  if (d.interactions || d.matrix) return read_custom_recommender(d, seed);
  std::vector<CustomSource> sources = {d.train};
  if (d.val) sources.push_back(*d.val);
  if (d.test) sources.push_back(*d.test);
  std::vector<int64_t> rows;
  const Dataset all = custom_dataset(d, sources, &rows);
  Splits s;
  int64_t begin = 0;
  s.train = slice(all, begin, begin + rows[0]);
  begin += rows[0];
  if (d.val) {
    s.val = slice(all, begin, begin + rows[1]);
    begin += rows[1];
  }
  if (d.test) s.test = slice(all, begin, begin + rows.back());
  std::string source = fmt::format("{} ({}): {}", d.json, d.npy ? "npy" : "csv",
                                   d.train.str() + fmt::format(" {} rows", rows[0]));
  if (!d.val || !d.test) {
    const int64_t n = s.train.rows();
    const int64_t val_rows = d.val ? 0 : std::llround(static_cast<double>(n) * d.val_fraction);
    const int64_t test_rows = d.test ? 0 : std::llround(static_cast<double>(n) * d.test_fraction);
    for (auto [name, fraction, part] : {std::tuple{"val", d.val_fraction, val_rows},
                                        std::tuple{"test", d.test_fraction, test_rows}})
      if (fraction > 0 && part == 0)
        throw Error(fmt::format("{}: 'split.{}': {} of {} rows of {} is no row", d.json, name, fraction, n,
                                d.train.str()));
    if (n - val_rows - test_rows < 1)
      throw Error(fmt::format("{}: 'split': no rows of the {} of {} left for train", d.json, n, d.train.str()));
    Generator gen(seed);
    if (!d.test) std::tie(s.train, s.test) = split_off(s.train, test_rows, d.stratify, gen);
    if (!d.val) std::tie(s.train, s.val) = split_off(s.train, val_rows, d.stratify, gen);
    source += fmt::format(", split seed {}{}", seed,
                          d.stratify ? fmt::format(" stratified on '{}'",
                                                   d.tasks[static_cast<size_t>(*d.stratify)].spec.name)
                                     : std::string());
  }
  source += fmt::format(" -> train {}, val {}, test {} rows", s.train.rows(), s.val.rows(), s.test.rows());
  s.source = source;
  s.train.validate(d.json + ": train");
  s.val.validate(d.json + ": val");
  s.test.validate(d.json + ": test");
  return s;
}

Splits read_custom(const std::string& json_path, uint64_t seed) { return read_custom(parse_custom(json_path), seed); }

}  // namespace comet::data
