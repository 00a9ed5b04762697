// Custom data sets (data/custom.h): CSV with and without a header, string and integer ids remapped over all parts,
// masked targets, dense ranges and images, the .npy layout (folders and explicit files), the seeded single-file split
// (same seed same split, stratified shares), CRLF; every bad description and bad data value refused with the JSON
// file and key, or the data file, line and column.
#include <doctest/doctest.h>

#include <set>

#include "core/io/npy.h"
#include "data/custom.h"
#include "recsys_test_util.h"

namespace comet::data {

namespace {

doctest::Contains contains(const std::string& s) { return doctest::Contains(doctest::String(s.c_str())); }

std::vector<float> column(const Tensor& t, int64_t c) {
  std::vector<float> out;
  for (int64_t i = 0; i < t.dim(0); ++i) out.push_back(static_cast<float>(t.item(i * t.dim(1) + c)));
  return out;
}

std::vector<int64_t> id_column(const Dataset& d, int64_t f) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < d.rows(); ++i) out.push_back(d.ids.data<int64_t>()[i * d.ids.dim(1) + f]);
  return out;
}

const char* kRecsysSpec = R"({
  "format": "csv",
  "files": {"train": "train.csv", "val": "val.csv", "test": "test.csv"},
  "ids": [{"column": "user", "key": true}, {"column": "item"}],
  "dense": ["age"],
  "tasks": [{"column": "clicked", "kind": "binary", "name": "t1"},
            {"column": "rating", "kind": "regression", "missing": ""}]
})";

// The recommender files: string users, a rating missing where not clicked.
void write_recsys(const test::TempDir& dir) {
  dir.write("train.csv", "user,item,age,clicked,rating\nbob,7,31,1,4.5\nalice,3,25,0,\ncarol,7,40,1,3\n");
  dir.write("val.csv", "item,user,clicked,rating,age\n3,dave,1,5,19\n");  // other column order
  dir.write("test.csv", "user,item,age,clicked,rating\nalice,11,25,1,2\n");
}

// Writes `spec` as spec.json and reads it.
Splits read_spec(const test::TempDir& dir, const std::string& spec, uint64_t seed = 1) {
  return read_custom(dir.write("spec.json", spec), seed);
}

}  // namespace

TEST_CASE("custom: recommender CSV, string ids remapped over all parts, masked rating") {
  test::TempDir dir;
  write_recsys(dir);
  const Splits s = read_spec(dir, kRecsysSpec);
  CHECK(s.train.rows() == 3);
  CHECK(s.val.rows() == 1);
  CHECK(s.test.rows() == 1);
  CHECK(s.train.id_names == std::vector<std::string>{"user", "item"});
  CHECK(s.train.vocab == std::vector<int64_t>{4, 3});  // alice bob carol dave; items 3 7 11 (by value)
  CHECK(s.train.key_column == 0);
  CHECK(id_column(s.train, 0) == std::vector<int64_t>{1, 0, 2});
  CHECK(id_column(s.train, 1) == std::vector<int64_t>{1, 0, 1});
  CHECK(id_column(s.val, 0) == std::vector<int64_t>{3});
  CHECK(id_column(s.test, 1) == std::vector<int64_t>{2});
  CHECK(column(s.train.dense, 0) == std::vector<float>{31, 25, 40});
  CHECK(column(s.val.dense, 0) == std::vector<float>{19});
  REQUIRE(s.train.tasks.size() == 2);
  CHECK(s.train.tasks[0].name == "t1");
  CHECK(s.train.tasks[0].kind == TaskKind::Binary);
  CHECK(s.train.tasks[1].name == "rating");
  CHECK(s.train.tasks[1].kind == TaskKind::Regression);
  CHECK(column(s.train.targets, 0) == std::vector<float>{1, 0, 1});
  CHECK(column(s.train.targets, 1) == std::vector<float>{4.5f, 0, 3});
  REQUIRE(s.train.mask.defined());
  CHECK(column(s.train.mask, 0) == std::vector<float>{1, 1, 1});
  CHECK(column(s.train.mask, 1) == std::vector<float>{1, 0, 1});
  CHECK(column(s.val.targets, 1) == std::vector<float>{5});
  CHECK(s.source.find("train 3, val 1, test 1 rows") != std::string::npos);
}

TEST_CASE("custom: the complete example of docs/custom_data.md") {
  test::TempDir dir;
  const std::string rows = "user,item,age,price,clicked,rating,label\nalice,17,25,9.5,1,4,2\nbob,3,31,20,0,,0\n"
                           "carol,17,40,3.25,1,3.5,1\n";
  for (const char* part : {"train.csv", "val.csv", "test.csv"}) dir.write(part, rows);
  const Splits s = read_spec(dir, R"({
  "format": "csv",
  "files": {"train": "train.csv", "val": "val.csv", "test": "test.csv"},
  "separator": ",",
  "header": true,
  "ids": [{"column": "user", "key": true}, {"column": "item"}],
  "dense": ["age", "price"],
  "tasks": [
    {"column": "clicked", "kind": "binary", "name": "t1"},
    {"column": "rating", "kind": "regression", "missing": ""},
    {"column": "label", "kind": "multiclass", "classes": 3}
  ]
})");
  CHECK(s.train.ids.shape() == Shape{3, 2});
  CHECK(s.train.dense.shape() == Shape{3, 2});
  CHECK(s.train.targets.shape() == Shape{3, 3});
  CHECK(column(s.test.mask, 1) == std::vector<float>{1, 0, 1});
  CHECK(column(s.val.targets, 2) == std::vector<float>{2, 0, 1});
  CHECK(s.train.vocab == std::vector<int64_t>{3, 2});
}

TEST_CASE("custom: CSV without a header, columns by index, integer ids by value, a numeric missing value") {
  test::TempDir dir;
  dir.write("a.csv", "10;0.5;1.5;2\n9;1;2;0\n10;-1;0;1\n");
  dir.write("b.csv", "100;2;3;0\n");
  dir.write("c.csv", "9;0;0;1\n");
  const Splits s = read_spec(dir, R"({"format": "csv", "separator": ";", "header": false,
      "files": {"train": "a.csv", "val": "b.csv", "test": "c.csv"},
      "ids": [0], "dense": {"from": 1, "to": 2},
      "tasks": [{"column": 3, "kind": "regression", "missing": 0}]})");
  CHECK(s.train.id_names == std::vector<std::string>{"id0"});
  CHECK(s.train.vocab == std::vector<int64_t>{3});
  CHECK(!s.train.key_column);
  CHECK(id_column(s.train, 0) == std::vector<int64_t>{1, 0, 1});  // 9 < 10 < 100 by value, not bytewise
  CHECK(id_column(s.val, 0) == std::vector<int64_t>{2});
  CHECK(s.train.dense_dim() == 2);
  CHECK(column(s.train.dense, 1) == std::vector<float>{1.5f, 2, 0});
  CHECK(s.train.tasks[0].name == "t1");
  CHECK(column(s.train.mask, 0) == std::vector<float>{1, 0, 1});
  CHECK(column(s.val.mask, 0) == std::vector<float>{0});
}

TEST_CASE("custom: dense image features with a multiclass label, CRLF line ends read the same") {
  test::TempDir dir;
  const std::string rows = "f0,f1,f2,f3,label,x\n0,0.25,0.5,1,2,9\n1,1,0,0,0,9\n0.5,0.5,0.5,0.5,1,9\n";
  std::string crlf;
  for (char ch : rows) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  dir.write("lf.csv", rows);
  dir.write("crlf.csv", crlf);
  const std::string spec = R"({"format": "csv", "files": {"train": "FILE", "val": "FILE", "test": "FILE"},
      "dense": {"from": "f0", "to": "f3"}, "image": [1, 2, 2],
      "tasks": [{"column": "label", "kind": "multiclass", "classes": 3, "name": "digit"}]})";
  auto with = [&](const std::string& file) {
    std::string s = spec;
    for (size_t at; (at = s.find("FILE")) != std::string::npos;) s.replace(at, 4, file);
    return s;
  };
  const Splits lf = read_spec(dir, with("lf.csv"));
  const Splits cr = read_spec(dir, with("crlf.csv"));
  CHECK(lf.train.image == std::vector<int64_t>{1, 2, 2});
  CHECK(lf.train.dense_dim() == 4);
  CHECK(!lf.train.ids.defined());
  CHECK(lf.train.tasks[0].kind == TaskKind::Multiclass);
  CHECK(lf.train.tasks[0].classes == 3);
  CHECK(column(lf.train.targets, 0) == std::vector<float>{2, 0, 1});
  CHECK(!lf.train.mask.defined());
  CHECK(column(lf.train.dense, 1) == std::vector<float>{0.25f, 1, 0.5f});
  CHECK(cr.train.dense.to_vector<float>() == lf.train.dense.to_vector<float>());
  CHECK(cr.test.targets.to_vector<float>() == lf.test.targets.to_vector<float>());
}

TEST_CASE("custom: the npy layout, folders and explicit files, mask.npy and a given vocab") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path("train"));
  io::save_npy(dir.path("train/ids.npy"), Tensor::from_vector<int64_t>({3, 2}, {5, 0, 7, 1, 5, 2}));
  io::save_npy(dir.path("train/dense.npy"), Tensor::from_vector<double>({3, 2}, {1, 2, 3, 4, 5, 6}));
  io::save_npy(dir.path("train/targets.npy"), Tensor::from_vector<float>({3, 2}, {1, 0.5f, 0, 9, 1, 2}));
  io::save_npy(dir.path("train/mask.npy"), Tensor::from_vector<float>({3, 2}, {1, 1, 1, 0, 1, 1}));
  io::save_npy(dir.path("v_ids.npy"), Tensor::from_vector<int32_t>({1, 2}, {9, 3}));
  io::save_npy(dir.path("v_dense.npy"), Tensor::from_vector<float>({1, 2}, {7, 8}));
  io::save_npy(dir.path("v_y.npy"), Tensor::from_vector<float>({1, 2}, {0, -1}));
  std::filesystem::create_directories(dir.path("test"));
  io::save_npy(dir.path("test/ids.npy"), Tensor::from_vector<int64_t>({1, 2}, {7, 0}));
  io::save_npy(dir.path("test/dense.npy"), Tensor::from_vector<float>({1, 2}, {0, 0}));
  io::save_npy(dir.path("test/targets.npy"), Tensor::from_vector<float>({1, 2}, {1, 1}));
  const Splits s = read_spec(dir, R"({"format": "npy",
      "files": {"train": "train", "val": {"ids": "v_ids.npy", "dense": "v_dense.npy", "targets": "v_y.npy"},
                "test": "test"},
      "ids": [{"column": 0, "name": "user", "key": true}, {"column": 1, "name": "item", "vocab": 4}],
      "tasks": [{"column": 0, "kind": "binary", "name": "click"},
                {"column": 1, "kind": "regression", "name": "score", "missing": -1}]})");
  CHECK(s.train.id_names == std::vector<std::string>{"user", "item"});
  CHECK(s.train.vocab == std::vector<int64_t>{3, 4});  // users 5 7 9 remapped; items kept, vocab 4
  CHECK(s.train.key_column == 0);
  CHECK(id_column(s.train, 0) == std::vector<int64_t>{0, 1, 0});
  CHECK(id_column(s.train, 1) == std::vector<int64_t>{0, 1, 2});
  CHECK(id_column(s.val, 0) == std::vector<int64_t>{2});
  CHECK(id_column(s.val, 1) == std::vector<int64_t>{3});
  CHECK(s.train.dense_dim() == 2);  // every column of dense.npy when "dense" is not given
  CHECK(column(s.train.dense, 1) == std::vector<float>{2, 4, 6});
  CHECK(column(s.train.targets, 1) == std::vector<float>{0.5f, 0, 2});  // masked by mask.npy
  CHECK(column(s.train.mask, 1) == std::vector<float>{1, 0, 1});
  CHECK(column(s.val.mask, 1) == std::vector<float>{0});  // the missing value -1
  CHECK(column(s.test.mask, 1) == std::vector<float>{1});
}

TEST_CASE("custom: one file split by a seed, stratified on a binary task") {
  test::TempDir dir;
  std::string csv = "row,clicked,x\n";
  for (int i = 0; i < 100; ++i) csv += fmt::format("r{},{},{}\n", i, i % 5 == 0 ? 1 : 0, i);
  dir.write("all.csv", csv);
  const std::string spec = R"({"format": "csv", "file": "all.csv",
      "split": {"val": 0.1, "test": 0.2, "stratify": "clicked"},
      "ids": ["row"], "dense": ["x"], "tasks": [{"column": "clicked", "kind": "binary"}]})";
  const Splits a = read_spec(dir, spec, 7), b = read_spec(dir, spec, 7), c = read_spec(dir, spec, 8);
  CHECK(a.train.rows() == 70);
  CHECK(a.val.rows() == 10);
  CHECK(a.test.rows() == 20);
  auto positives = [](const Dataset& d) {
    int n = 0;
    for (float v : column(d.targets, 0)) n += v == 1.0f;
    return n;
  };
  CHECK(positives(a.test) == 4);  // 20 % of each part, as in the file
  CHECK(positives(a.val) == 2);
  CHECK(positives(a.train) == 14);
  CHECK(a.test.dense.to_vector<float>() == b.test.dense.to_vector<float>());
  CHECK(a.train.dense.to_vector<float>() == b.train.dense.to_vector<float>());
  CHECK(a.test.dense.to_vector<float>() != c.test.dense.to_vector<float>());
  std::set<float> seen;  // every row in exactly one part
  for (const Dataset* d : {&a.train, &a.val, &a.test})
    for (float v : column(d->dense, 0)) CHECK(seen.insert(v).second);
  CHECK(seen.size() == 100);
  CHECK(a.train.vocab == std::vector<int64_t>{100});
  CHECK(a.source.find("split seed 7 stratified on 'clicked'") != std::string::npos);

  // Only the val part split off train's rows; no stratification: still seeded.
  dir.write("test.csv", "row,clicked,x\nq,1,0\n");
  const Splits d = read_spec(dir, R"({"format": "csv", "files": {"train": "all.csv", "test": "test.csv"},
      "split": {"val": 0.25}, "dense": ["x"], "tasks": [{"column": "clicked", "kind": "binary"}]})");
  CHECK(d.train.rows() == 75);
  CHECK(d.val.rows() == 25);
  CHECK(d.test.rows() == 1);
}

TEST_CASE("custom: bad descriptions name the JSON file and key") {
  test::TempDir dir;
  write_recsys(dir);
  const std::string json = dir.path("spec.json");
  auto refuses = [&](const std::string& spec, const std::string& message) {
    INFO(spec);
    CHECK_THROWS_WITH_AS(read_spec(dir, spec), contains(message), Error);
  };
  const std::string files = R"("files": {"train": "train.csv", "val": "val.csv", "test": "test.csv"})";
  const std::string task = R"("tasks": [{"column": "clicked", "kind": "binary"}])";
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], " + task + ", \"colums\": 1}",
          json + ": unknown key 'colums' (expected one of format, files, file,");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], " +
              R"("tasks": [{"column": "clicked", "knd": "binary"}]})",
          json + ": 'tasks[0]': unknown key 'knd'");
  refuses("{" + files + ", \"ids\": [\"user\"], " + task + "}", json + ": missing key 'format'");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], " + R"("tasks": [{"column": "clicked"}]})",
          json + ": 'tasks[0]': missing key 'kind'");
  refuses("{\"format\": \"csv\", \"header\": \"yes\", " + files + ", \"ids\": [\"user\"], " + task + "}",
          json + ": 'header': expected true or false, got string");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [{\"column\": 1.5}], " + task + "}",
          json + ": 'ids[0].column': expected a column name (string) or 0-based index (integer), got number");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], \"dense\": [\"age\", \"prize\"], " + task + "}",
          json + ": 'dense[1]': no column 'prize' in the header of " + dir.path("train.csv"));
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [7], " + task + "}",
          json + ": 'ids[0].column': column 7 is outside the 5 columns of " + dir.path("train.csv"));
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], " +
              R"("tasks": [{"column": "clicked", "kind": "ordinal"}]})",
          json + ": 'tasks[0].kind': unknown task kind 'ordinal' (expected binary, regression or multiclass)");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], " +
              R"("tasks": [{"column": "clicked", "kind": "multiclass"}]})",
          json + ": 'tasks[0]': missing key 'classes' (a multiclass task needs it)");
  refuses("{\"format\": \"csv\", " + files + R"(, "ids": [{"column": "user", "key": true},
          {"column": "item", "key": true}], )" + task + "}",
          json + ": 'ids[1].key': a second key column (ids[0] is the key already)");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 1.5, "test": 0.1}, "ids": ["user"], )" + task +
              "}",
          json + ": 'split.val': 1.5 is outside (0, 1)");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 0, "test": 0.1}, "ids": ["user"], )" + task +
              "}",
          json + ": 'split.val': 0 is outside (0, 1)");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 0.5, "test": 0.5}, "ids": ["user"], )" + task +
              "}",
          json + ": 'split': val + test = 1 leaves nothing for train (must be below 1)");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 0.1}, "ids": ["user"], )" + task + "}",
          json + ": 'split': missing key 'test' (the test part has no file)");
  refuses(R"({"format": "csv", "file": "train.csv", "ids": ["user"], )" + task + "}",
          json + ": no file for the val part: give it in 'files' or a fraction in 'split'");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 0.1, "test": 0.1, "stratify": "rating"},
          "ids": ["user"], "tasks": [{"column": "rating", "kind": "regression", "missing": ""}]})",
          json + ": 'split.stratify': task 'rating' is a regression task; stratify needs binary or multiclass");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 0.1, "test": 0.1, "stratify": "nope"},
          "ids": ["user"], )" + task + "}",
          json + ": 'split.stratify': no task named 'nope' or reading column 'nope'");
  refuses(R"({"format": "csv", "file": "train.csv", "split": {"val": 0.1, "test": 0.1}, "ids": ["user"], )" + task +
              "}",
          json + ": 'split.val': 0.1 of 3 rows of " + dir.path("train.csv") + " is no row");
  refuses("{\"format\": \"parquet\", " + files + ", \"ids\": [\"user\"], " + task + "}",
          json + ": 'format': 'parquet' is neither csv nor npy");
  refuses("{\"format\": \"csv\", " + files + ", " + task + "}",
          json + ": no input: give 'ids' or 'dense' columns");
  refuses("{\"format\": \"csv\", " + files + ", \"dense\": [\"age\"], \"image\": [1, 2, 2], " + task + "}",
          json + ": 'image': [1, 2, 2] needs 4 dense features, 'dense' selects 1 of " + dir.path("train.csv"));
  // Found by fuzz/fuzz_custom_json: C*H*W overflowed int64 (undefined behaviour) when compared with the dense count.
  refuses("{\"format\": \"csv\", " + files + ", \"dense\": [\"age\"], \"image\": [4294967296, 4294967296, 1], " +
              task + "}",
          json + ": 'image': [4294967296, 4294967296, 1] has more than 2^63 features");
  refuses("{\"format\": \"npy\", \"separator\": \";\", " + files + ", \"ids\": [0], " + task + "}",
          json + ": 'separator': only for format csv");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"], " +
              R"("tasks": [{"column": "clicked", "kind": "binary"}, {"column": "rating", "kind": "regression",
              "name": "clicked"}]})",
          json + ": 'tasks[1]': task name 'clicked' again (tasks[0])");
  refuses("{\"format\": \"csv\", \"header\": false, " + files + ", \"ids\": [\"user\"], " + task + "}",
          json + ": 'ids[0].column': column 'user' named, but " + dir.path("train.csv") +
              " has no header (name columns by index)");
  refuses("{\"format\": \"csv\", " + files + ", \"ids\": [\"user\"] " + task + "}", json + ": not valid JSON: ");
  CHECK_THROWS_WITH_AS(read_custom(dir.path("none.json"), 1), contains(dir.path("none.json") + ": cannot open"),
                       Error);
}

TEST_CASE("custom: bad data values name the file, line and column") {
  test::TempDir dir;
  const std::string spec = R"({"format": "csv", "files": {"train": "t.csv", "val": "v.csv", "test": "v.csv"},
      "ids": ["user"], "dense": ["age"],
      "tasks": [{"column": "clicked", "kind": "binary"}, {"column": "digit", "kind": "multiclass", "classes": 10},
                {"column": "rating", "kind": "regression"}]})";
  dir.write("v.csv", "user,age,clicked,digit,rating\na,1,0,3,2.5\n");
  auto refuses = [&](const std::string& train, const std::string& message) {
    INFO(train);
    dir.write("t.csv", train);
    CHECK_THROWS_WITH_AS(read_spec(dir, spec), contains(message), Error);
  };
  const std::string t = dir.path("t.csv");
  const std::string header = "user,age,clicked,digit,rating\n";
  refuses(header + "a,1,0,3,2.5\nb,x,0,3,2.5\n", t + ":3: column 2 ('age'): 'x' is not a number");
  refuses(header + "a,1,2,3,2.5\n", t + ":2: column 3 ('clicked'): 2 is not a binary label (0 or 1)");
  refuses(header + "a,1,1,10,2.5\n", t + ":2: column 4 ('digit'): 10 is not a class in [0, 10)");
  refuses(header + "a,1,1,2.5,2.5\n", t + ":2: column 4 ('digit'): 2.5 is not a class in [0, 10)");
  refuses(header + "a,1,1,2,nan\n", t + ":2: column 5 ('rating'): 'nan' is not a finite number");
  refuses(header + "a,1,1,2,\n", t + ":2: column 5 ('rating'): '' is not a number");
  refuses(header + ",1,1,2,3\n", t + ":2: column 1 ('user'): empty id");
  refuses(header + "a,1,1,2\n", t + ":2: expected 5 columns, got 4");
  refuses(header, t + ": no data rows after the header");
  refuses("user,age,click,digit,rating\na,1,1,2,3\n",
          dir.path("spec.json") + ": 'tasks[0].column': no column 'clicked' in the header of " + t);
  refuses("user,age,clicked,digit,age\na,1,1,2,3\n",
          dir.path("spec.json") + ": 'dense[0]': column 'age' appears twice in the header of " + t);

  // A vocab: ids must already be in [0, vocab).
  dir.write("t.csv", header + "4,1,1,2,3\n");
  dir.write("v.csv", header + "0,1,1,2,3\n");
  CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "csv", "files": {"train": "t.csv", "val": "v.csv",
      "test": "v.csv"}, "ids": [{"column": "user", "vocab": 4}], "tasks": [{"column": "clicked", "kind": "binary"}]})"),
                       contains(t + ":2: column 1 ('user'): 4 is outside [0, 3]"), Error);
}

TEST_CASE("custom: bad npy data names the file and the element") {
  test::TempDir dir;
  const std::string spec = R"({"format": "npy", "files": {"train": "p", "val": "p", "test": "p"},
      "ids": [0], "tasks": [{"column": 0, "kind": "binary", "name": "click"}]})";
  std::filesystem::create_directories(dir.path("p"));
  const std::string ids = dir.path("p/ids.npy"), y = dir.path("p/targets.npy");
  io::save_npy(ids, Tensor::from_vector<int64_t>({2, 1}, {3, 4}));
  io::save_npy(y, Tensor::from_vector<float>({2, 1}, {1, 2}));
  CHECK_THROWS_WITH_AS(read_spec(dir, spec), contains(y + ": [1, 0] ('click'): 2 is not a binary label"),
                       Error);
  io::save_npy(y, Tensor::from_vector<float>({3}, {1, 0, 1}));
  CHECK_THROWS_WITH_AS(read_spec(dir, spec), contains(ids + ": 2 rows, but " + y + " has 3"), Error);
  io::save_npy(y, Tensor::from_vector<float>({2}, {1, 0}));
  io::save_npy(ids, Tensor::from_vector<float>({2, 1}, {3, 4}));
  CHECK_THROWS_WITH_AS(read_spec(dir, spec),
                       contains(ids + ": ids must be integers (int32 or int64), got float32"), Error);
  io::save_npy(ids, Tensor::from_vector<int64_t>({2, 1}, {3, -4}));
  CHECK_THROWS_WITH_AS(read_spec(dir, spec), contains(ids + ": [1, 0] ('id0'): id -4 is negative"),
                       Error);
  io::save_npy(ids, Tensor::from_vector<int64_t>({2, 1}, {3, 4}));
  CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "npy", "files": {"train": "p", "val": "p", "test": "p"},
      "ids": [{"column": 0, "vocab": 4}], "tasks": [{"column": 0, "kind": "binary"}]})"),
                       contains(ids + ": [1, 0] ('id0'): id 4 is outside [0, 4)"), Error);
  io::save_npy(dir.path("p/mask.npy"), Tensor::from_vector<float>({2, 1}, {1, 0.5f}));
  CHECK_THROWS_WITH_AS(read_spec(dir, spec),
                       contains(dir.path("p/mask.npy") + ": [1, 0]: mask value 0.5 is not 0 or 1"), Error);
  std::filesystem::remove(dir.path("p/mask.npy"));
  CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "npy", "files": {"train": "p", "val": "p", "test": "p"},
      "ids": [0], "tasks": [{"column": 1, "kind": "binary"}]})"),
                       contains(dir.path("spec.json") + ": 'tasks[0].column': column 1 is outside the 1 "
                                                                 "columns of " + y),
                       Error);
  CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "npy", "files": {"train": "q", "val": "p", "test": "p"},
      "ids": [0], "tasks": [{"column": 0, "kind": "binary"}]})"),
                       contains(dir.path("spec.json") + ": 'files.train': " + dir.path("q") +
                                         " is not a folder"),
                       Error);
  CHECK(read_spec(dir, spec).train.rows() == 2);
  std::filesystem::create_directories(dir.path("d"));  // dense features in one part only
  io::save_npy(dir.path("d/ids.npy"), Tensor::from_vector<int64_t>({1, 1}, {3}));
  io::save_npy(dir.path("d/dense.npy"), Tensor::from_vector<float>({1, 2}, {0, 1}));
  io::save_npy(dir.path("d/targets.npy"), Tensor::from_vector<float>({1, 1}, {1}));
  CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "npy", "files": {"train": "d", "val": "p", "test": "p"},
      "ids": [0], "tasks": [{"column": 0, "kind": "binary"}]})"),
                       contains(dir.path("spec.json") + ": dense features are asked for, but " + dir.path("p") +
                                " has no dense file"),
                       Error);
  CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "npy", "files": {"train": "p", "val": "d", "test": "p"},
      "ids": [0], "tasks": [{"column": 0, "kind": "binary"}]})"),
                       contains(dir.path("spec.json") + ": " + dir.path("d/dense.npy") +
                                " has dense features, but the parts before it have none"),
                       Error);
}

}  // namespace comet::data
