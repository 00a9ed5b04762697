// Custom data sets: the JSON description parsed with every key checked, CSV read through data/table.h (column names
// resolved at each file's first row, from its header), .npy through core/io/npy.h, ids remapped with dense_ids,
// parts split with split_stratified; the recommender layouts are read by custom_recsys.cpp.
// Test: tests/data/test_custom.cpp, tests/data/test_custom_recsys.cpp.
#include "data/custom.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "core/io/npy.h"
#include "core/rng.h"
#include "data/custom_recsys.h"
#include "data/recsys.h"
#include "data/table.h"

namespace comet::data {

using nlohmann::json;

std::string ColumnRef::str() const { return name.empty() ? std::to_string(index) : "'" + name + "'"; }

std::string CustomSource::str() const {
  return csv.empty() ? std::filesystem::path(targets).parent_path().string() : csv;
}

namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// The JSON description: every message is "FILE: 'key.path': what" (or "FILE: what" at the top level).

class Parser {
 public:
  Parser(std::string file, std::string base) : file_(std::move(file)), base_(std::move(base)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(key.empty() ? fmt::format("{}: {}", file_, what) : fmt::format("{}: '{}': {}", file_, key, what));
  }

  static std::string at(const std::string& key, const std::string& sub) { return key.empty() ? sub : key + "." + sub; }
  static std::string at(const std::string& key, size_t i) { return fmt::format("{}[{}]", key, i); }

  void expect(const json& v, bool ok, const std::string& key, const char* wanted) const {
    if (!ok) fail(key, fmt::format("expected {}, got {}", wanted, v.type_name()));
  }
  const json& object(const json& v, const std::string& key, const std::vector<std::string>& allowed) const {
    expect(v, v.is_object(), key, "an object");
    for (const auto& [name, value] : v.items()) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
        fail(key, fmt::format("unknown key '{}' (expected one of {})", name, join(allowed)));
    }
    return v;
  }
  const json& required(const json& obj, const std::string& key, const std::string& name) const {
    if (!obj.contains(name)) fail(key, fmt::format("missing key '{}'", name));
    return obj[name];
  }
  std::string string(const json& v, const std::string& key) const {
    expect(v, v.is_string(), key, "a string");
    return v.get<std::string>();
  }
  bool boolean(const json& v, const std::string& key) const {
    expect(v, v.is_boolean(), key, "true or false");
    return v.get<bool>();
  }
  int64_t integer(const json& v, const std::string& key, int64_t lo) const {
    expect(v, v.is_number_integer(), key, "an integer");
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) fail(key, "too large");
    const int64_t x = v.get<int64_t>();
    if (x < lo) fail(key, fmt::format("{} is below {}", x, lo));
    return x;
  }
  double number(const json& v, const std::string& key) const {
    expect(v, v.is_number(), key, "a number");
    return v.get<double>();
  }
  ColumnRef column(const json& v, const std::string& key) const {
    expect(v, v.is_string() || v.is_number_integer(), key, "a column name (string) or 0-based index (integer)");
    ColumnRef c;
    if (v.is_string()) {
      c.name = v.get<std::string>();
      if (c.name.empty()) fail(key, "empty column name");
    } else {
      c.index = integer(v, key, 0);
    }
    return c;
  }
  std::string path(const json& v, const std::string& key) const {
    const std::string p = string(v, key);
    if (p.empty()) fail(key, "empty path");
    const std::filesystem::path fp(p);
    return fp.is_absolute() || base_.empty() ? p : (std::filesystem::path(base_) / fp).string();
  }

  CustomSource source(const json& v, const std::string& key, bool npy) const {
    CustomSource s;
    if (!npy) {
      s.csv = path(v, key);
      return s;
    }
    if (v.is_string()) {  // a folder of ids.npy / dense.npy / targets.npy / mask.npy
      const std::string dir = path(v, key);
      if (!std::filesystem::is_directory(dir)) fail(key, fmt::format("{} is not a folder", dir));
      auto file = [&](const char* name) {
        const std::string f = (std::filesystem::path(dir) / name).string();
        return std::filesystem::exists(f) ? f : std::string();
      };
      s.ids = file("ids.npy");
      s.dense = file("dense.npy");
      s.targets = file("targets.npy");
      s.mask = file("mask.npy");
      if (s.targets.empty()) fail(key, fmt::format("{} has no targets.npy", dir));
      return s;
    }
    expect(v, v.is_object(), key, "a folder (string) or an object of .npy files");
    object(v, key, {"ids", "dense", "targets", "mask"});
    s.targets = path(required(v, key, "targets"), at(key, "targets"));
    if (v.contains("ids")) s.ids = path(v["ids"], at(key, "ids"));
    if (v.contains("dense")) s.dense = path(v["dense"], at(key, "dense"));
    if (v.contains("mask")) s.mask = path(v["mask"], at(key, "mask"));
    return s;
  }

  CustomDescription parse(const json& j) const {
    CustomDescription d;
    d.json = file_;
    object(j, "", {"format", "files", "file", "split", "separator", "header", "quoted", "columns", "ids", "dense",
                   "image", "tasks", "interactions", "matrix"});
    const std::string format = string(required(j, "", "format"), "format");
    if (format != "csv" && format != "npy") fail("format", fmt::format("'{}' is neither csv nor npy", format));
    d.npy = format == "npy";
    for (const char* csv_only : {"separator", "header", "quoted", "columns", "interactions", "matrix"})
      if (d.npy && j.contains(csv_only)) fail(csv_only, "only for format csv");
    if (j.contains("separator")) d.separator = string(j["separator"], "separator");
    if (d.separator.empty()) fail("separator", "empty separator");
    if (j.contains("header")) d.header = boolean(j["header"], "header");
    if (j.contains("quoted")) d.quoted = boolean(j["quoted"], "quoted");
    if (j.contains("columns")) parse_columns(j["columns"], d);

    parse_files(j, d);
    if (j.contains("interactions") || j.contains("matrix")) {
      parse_recommender(j, d);
      return d;
    }
    parse_tasks(j, d);
    parse_split(j, d);
    parse_ids(j, d);
    parse_dense(j, d);
    if (j.contains("image")) {
      const json& v = j["image"];
      expect(v, v.is_array() && v.size() == 3, "image", "an array [C, H, W]");
      for (size_t i = 0; i < 3; ++i) d.image.push_back(integer(v[i], at("image", i), 1));
      // C*H*W is compared with the dense column count: it must not overflow (reproduced by fuzz/fuzz_custom_json).
      int64_t pixels = 0;
      if (__builtin_mul_overflow(d.image[0], d.image[1], &pixels) ||
          __builtin_mul_overflow(pixels, d.image[2], &pixels))
        fail("image", fmt::format("{} has more than 2^63 features", shape_str(d.image)));
    }
    if (d.ids.empty() && d.dense.empty() && !d.dense_range && !d.dense_all)
      fail("", "no input: give 'ids' or 'dense' columns");
    if (!d.image.empty() && d.dense.empty() && !d.dense_range && !d.dense_all)
      fail("image", "an image needs 'dense' columns");
    return d;
  }

 private:
  void parse_files(const json& j, CustomDescription& d) const {
    if (j.contains("files") == j.contains("file")) fail("", "give either 'files' (train, val, test) or 'file'");
    if (j.contains("file")) {
      d.train = source(j["file"], "file", d.npy);
      return;
    }
    const json& f = object(j["files"], "files", {"train", "val", "test"});
    d.train = source(required(f, "files", "train"), "files.train", d.npy);
    if (f.contains("val")) d.val = source(f["val"], "files.val", d.npy);
    if (f.contains("test")) d.test = source(f["test"], "files.test", d.npy);
  }

  void parse_columns(const json& v, CustomDescription& d) const {
    expect(v, v.is_array() && !v.empty(), "columns", "a non-empty array of column names");
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string name = string(v[i], at("columns", i));
      if (name.empty()) fail(at("columns", i), "empty column name");
      if (std::find(d.columns.begin(), d.columns.end(), name) != d.columns.end())
        fail(at("columns", i), fmt::format("column '{}' again", name));
      d.columns.push_back(name);
    }
  }

  // "interactions" or "matrix": the recommender set of one file, which makes its own ids and tasks and is split as
  // the paper's generator splits.
  void parse_recommender(const json& j, CustomDescription& d) const {
    if (j.contains("interactions") && j.contains("matrix")) fail("", "give either 'interactions' or 'matrix'");
    const char* layout = j.contains("interactions") ? "interactions" : "matrix";
    for (const char* other : {"files", "split", "ids", "dense", "image", "tasks"})
      if (j.contains(other))
        fail(other, fmt::format("not with '{}' (it reads one 'file', makes its own ids and tasks, and splits as "
                                "the paper does)",
                                layout));
    if (j.contains("interactions")) {
      d.interactions = parse_interactions(j["interactions"]);
      return;
    }
    const json& m = object(j["matrix"], "matrix", {"count", "not_rated", "rating"});
    CustomMatrix matrix;
    if (m.contains("count")) matrix.count = boolean(m["count"], "matrix.count");
    if (m.contains("not_rated")) matrix.not_rated = number(m["not_rated"], "matrix.not_rated");
    if (m.contains("rating")) {
      object(m["rating"], "matrix.rating", {"range", "step", "integer", "implicit"});
      matrix.ratings = ratings(m["rating"], "matrix.rating");
    }
    d.matrix = matrix;
  }

  CustomInteractions parse_interactions(const json& v) const {
    const std::string key = "interactions";
    object(v, key, {"user", "item", "rating", "time", "min_records"});
    CustomInteractions r;
    r.user = interaction_id(required(v, key, "user"), at(key, "user"));
    r.item = interaction_id(required(v, key, "item"), at(key, "item"));
    if (v.contains("rating")) {
      const json& rating = v["rating"];
      const std::string where = at(key, "rating");
      if (rating.is_object()) {
        object(rating, where, {"column", "range", "step", "integer", "implicit"});
        r.rating = column(required(rating, where, "column"), at(where, "column"));
        r.ratings = ratings(rating, where);
      } else {
        r.rating = column(rating, where);
      }
    }
    if (v.contains("time")) r.time = column(v["time"], at(key, "time"));
    if (v.contains("min_records")) r.min_records = integer(v["min_records"], at(key, "min_records"), 1);
    return r;
  }

  CustomInteractionId interaction_id(const json& v, const std::string& key) const {
    CustomInteractionId id;
    if (!v.is_object()) {
      id.column = column(v, key);
      return id;
    }
    object(v, key, {"column", "type"});
    id.column = column(required(v, key, "column"), at(key, "column"));
    if (v.contains("type")) {
      const std::string type = string(v["type"], at(key, "type"));
      if (type != "integer" && type != "text")
        fail(at(key, "type"), fmt::format("unknown id type '{}' (expected integer or text)", type));
      id.type = type == "integer" ? CustomIdType::Integer : CustomIdType::Text;
    }
    return id;
  }

  // The checks of a rating object (its keys checked by the caller).
  CustomRatings ratings(const json& v, const std::string& key) const {
    CustomRatings r;
    if (v.contains("range")) {
      const json& range = v["range"];
      expect(range, range.is_array() && range.size() == 2, at(key, "range"), "an array [min, max]");
      r.range = {number(range[0], at(at(key, "range"), 0)), number(range[1], at(at(key, "range"), 1))};
      if (r.range->first > r.range->second)
        fail(at(key, "range"), fmt::format("min {} is above max {}", r.range->first, r.range->second));
    }
    if (v.contains("step")) {
      r.step = number(v["step"], at(key, "step"));
      if (!(*r.step > 0)) fail(at(key, "step"), fmt::format("{} is not above 0", *r.step));
    }
    if (v.contains("integer")) r.integer = boolean(v["integer"], at(key, "integer"));
    if (v.contains("implicit")) r.implicit = number(v["implicit"], at(key, "implicit"));
    return r;
  }

  void parse_split(const json& j, CustomDescription& d) const {
    const bool needs_split = !d.val || !d.test;
    if (!j.contains("split")) {
      if (needs_split)
        fail("", fmt::format("no file for the {} part: give it in 'files' or a fraction in 'split'",
                             !d.val ? "val" : "test"));
      return;
    }
    const json& s = object(j["split"], "split", {"val", "test", "stratify"});
    for (auto [name, has_file, fraction] : {std::tuple{"val", d.val.has_value(), &d.val_fraction},
                                            std::tuple{"test", d.test.has_value(), &d.test_fraction}}) {
      const std::string key = at("split", name);
      if (has_file && s.contains(name)) fail(key, fmt::format("the {} part has a file already", name));
      if (!has_file && !s.contains(name))
        fail("split", fmt::format("missing key '{}' (the {} part has no file)", name, name));
      if (!has_file) {
        *fraction = number(s[name], key);
        if (!(*fraction > 0 && *fraction < 1)) fail(key, fmt::format("{} is outside (0, 1)", *fraction));
      }
    }
    if (d.val_fraction + d.test_fraction >= 1)
      fail("split", fmt::format("val + test = {} leaves nothing for train (must be below 1)",
                                d.val_fraction + d.test_fraction));
    if (s.contains("stratify")) {
      const std::string name = string(s["stratify"], "split.stratify");
      for (size_t t = 0; t < d.tasks.size(); ++t)
        if (d.tasks[t].spec.name == name || d.tasks[t].column.name == name) d.stratify = static_cast<int64_t>(t);
      if (!d.stratify) fail("split.stratify", fmt::format("no task named '{}' or reading column '{}'", name, name));
      const TaskSpec& spec = d.tasks[static_cast<size_t>(*d.stratify)].spec;
      if (spec.kind == TaskKind::Regression)
        fail("split.stratify", fmt::format("task '{}' is a regression task; stratify needs binary or multiclass",
                                           spec.name));
    }
  }

  void parse_ids(const json& j, CustomDescription& d) const {
    if (!j.contains("ids")) return;
    expect(j["ids"], j["ids"].is_array(), "ids", "an array of id columns");
    std::optional<size_t> key_at;
    for (size_t i = 0; i < j["ids"].size(); ++i) {
      const std::string key = at("ids", i);
      const json& v = j["ids"][i];
      CustomIdColumn c;
      c.where = key;
      if (v.is_string() || v.is_number_integer()) {
        c.column = column(v, key);
      } else {
        object(v, key, {"column", "name", "key", "vocab"});
        c.column = column(required(v, key, "column"), at(key, "column"));
        if (v.contains("name")) c.name = string(v["name"], at(key, "name"));
        if (v.contains("key")) c.key = boolean(v["key"], at(key, "key"));
        if (v.contains("vocab")) c.vocab = integer(v["vocab"], at(key, "vocab"), 1);
      }
      if (c.name.empty()) c.name = c.column.name.empty() ? fmt::format("id{}", c.column.index) : c.column.name;
      if (c.key && key_at)
        fail(at(key, "key"), fmt::format("a second key column (ids[{}] is the key already)", *key_at));
      if (c.key) key_at = i;
      for (const CustomIdColumn& o : d.ids)
        if (o.name == c.name) fail(key, fmt::format("id name '{}' again ({})", c.name, o.where));
      d.ids.push_back(c);
    }
  }

  void parse_dense(const json& j, CustomDescription& d) const {
    if (!j.contains("dense")) {
      d.dense_all = d.npy;
      return;
    }
    const json& v = j["dense"];
    if (v.is_object()) {
      object(v, "dense", {"from", "to"});
      d.dense_range = {column(required(v, "dense", "from"), "dense.from"),
                       column(required(v, "dense", "to"), "dense.to")};
      return;
    }
    expect(v, v.is_array(), "dense", "an array of columns or {\"from\": ..., \"to\": ...}");
    for (size_t i = 0; i < v.size(); ++i) d.dense.push_back(column(v[i], at("dense", i)));
  }

  void parse_tasks(const json& j, CustomDescription& d) const {
    const json& v = required(j, "", "tasks");
    expect(v, v.is_array() && !v.empty(), "tasks", "a non-empty array of tasks");
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string key = at("tasks", i);
      const json& t = object(v[i], key, {"column", "kind", "name", "classes", "missing"});
      CustomTask task;
      task.where = key;
      task.column = column(required(t, key, "column"), at(key, "column"));
      const std::string kind = string(required(t, key, "kind"), at(key, "kind"));
      try {
        task.spec.kind = parse_task_kind(kind);
      } catch (const Error& e) {
        fail(at(key, "kind"), e.what());
      }
      task.spec.name = t.contains("name") ? string(t["name"], at(key, "name"))
                       : task.column.name.empty() ? fmt::format("t{}", i + 1)
                                                  : task.column.name;
      if (task.spec.kind == TaskKind::Multiclass) {
        if (!t.contains("classes")) fail(key, "missing key 'classes' (a multiclass task needs it)");
        task.spec.classes = integer(t["classes"], at(key, "classes"), 2);
      } else if (t.contains("classes")) {
        fail(at(key, "classes"), fmt::format("only for multiclass tasks, this one is {}", kind));
      }
      if (t.contains("missing")) {
        const json& m = t["missing"];
        expect(m, m.is_number() || m.is_string(), at(key, "missing"), "a number or a string");
        if (m.is_string() && d.npy) fail(at(key, "missing"), "must be a number for format npy");
        if (m.is_number()) task.missing = m.get<double>();
        else task.missing_text = std::string(trim_spaces(m.get<std::string>()));
      }
      for (const CustomTask& o : d.tasks)
        if (o.spec.name == task.spec.name) fail(key, fmt::format("task name '{}' again ({})", task.spec.name, o.where));
      d.tasks.push_back(task);
    }
  }

  std::string file_, base_;
};

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

std::string read_text(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw Error(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
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

CustomDescription parse_custom_text(const std::string& text, const std::string& where, const std::string& base_dir) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", where, e.what()));
  }
  return Parser(where, base_dir).parse(j);
}

CustomDescription parse_custom(const std::string& json_path) {
  return parse_custom_text(read_text(json_path), json_path, std::filesystem::path(json_path).parent_path().string());
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
