// The JSON form of a custom description (docs/custom_data.md): every key checked, every message naming the file
// and the key path ("spec.json: 'tasks[1]': missing key 'kind'"). Reading the rows is custom.cpp's.
// Test: tests/data/test_custom.cpp, tests/data/test_custom_recsys.cpp.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "data/custom.h"
#include "data/table.h"

namespace comet::data {

using nlohmann::json;

namespace {

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
        fail(key, fmt::format("unknown key '{}' (expected one of {})", name, join(allowed, ", ")));
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

std::string read_text(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw Error(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

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

}  // namespace comet::data
