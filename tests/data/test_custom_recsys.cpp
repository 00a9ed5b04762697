// The recommender layouts of custom descriptions (data/custom_recsys.h): interactions with and without a rating,
// typed ids, rating checks, an implicit rating, the min-records filter, the wide matrix with a count column; the
// ml-100k description of docs/custom_data.md read as --dataset movielens reads u.data; every bad key and bad value
// refused with its exact message.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/rng.h"
#include "data/custom.h"
#include "data/movielens.h"
#include "recsys_test_util.h"

namespace comet::data {

namespace {

using test::positive_records;
using test::Record;

Splits read_spec(const test::TempDir& dir, const std::string& spec, uint64_t seed = 1) {
  return read_custom(dir.write("spec.json", spec), seed);
}

// The worked example of docs/custom_data.md, word for word.
const char* kMl100k = R"({
  "format": "csv",
  "file": "u.data",
  "separator": "\t",
  "header": false,
  "quoted": false,
  "columns": ["user", "item", "rating", "timestamp"],
  "interactions": {
    "user": {"column": "user", "type": "integer"},
    "item": {"column": "item", "type": "integer"},
    "rating": {"column": "rating", "range": [1, 5], "step": 1},
    "time": "timestamp"
  }
})";

// A u.data of 25 users over 20 items; user u rates 1 + 7u mod 18 items (some more than half of them).
std::string generated_udata() {
  Generator gen(5);
  std::string text;
  for (int64_t u = 1; u <= 25; ++u) {
    const auto order = gen.permutation(20);
    for (int64_t j = 0; j < 1 + (7 * u) % 18; ++j)
      text += fmt::format("{}\t{}\t{}\t88125{}\n", 10 * u, order[j] + 1, 1 + (u + j) % 5, j);
  }
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("custom interactions: the ml-100k description reads u.data as the MovieLens reader does") {
  test::TempDir dir;
  const std::string path = dir.write("u.data", generated_udata());
  for (uint64_t seed : {1, 8}) {
    const Splits custom = read_spec(dir, kMl100k, seed), movielens = read_movielens(path, seed);
    CHECK(test::same_splits(custom, movielens));
    for (auto part : {&Splits::train, &Splits::val, &Splits::test}) {
      CHECK((custom.*part).vocab == (movielens.*part).vocab);
      CHECK((custom.*part).id_names == (movielens.*part).id_names);
      CHECK((custom.*part).key_column == (movielens.*part).key_column);
      REQUIRE((custom.*part).tasks.size() == 2);
      CHECK((custom.*part).tasks[1].name == (movielens.*part).tasks[1].name);
    }
  }
  CHECK(read_file(COMET_SOURCE_DIR "/docs/custom_data.md").find(kMl100k) != std::string::npos);
}

TEST_CASE("custom interactions: text ids, no rating column: one task, every record observed") {
  test::TempDir dir;
  dir.write("clicks.csv", "who,what\nbob,b\nalice,a\nbob,c\ncarol,a\nalice,c\n");
  const Splits s = read_spec(dir, R"({"format": "csv", "file": "clicks.csv",
                                      "interactions": {"user": "who", "item": "what"}})");
  CHECK(s.train.vocab == std::vector<int64_t>{3, 3});
  std::set<std::pair<int64_t, int64_t>> positives, negatives;
  int64_t rows = 0;
  for (const Dataset* d : {&s.train, &s.val, &s.test}) {
    REQUIRE(d->tasks.size() == 1);
    CHECK(d->tasks[0].name == "t1");
    CHECK(d->tasks[0].kind == TaskKind::Binary);
    CHECK_FALSE(d->mask.defined());
    for (int64_t i = 0; i < d->rows(); ++i) {
      const int64_t* id = d->ids.data<int64_t>() + 2 * i;
      (d->targets.data<float>()[i] == 1.0f ? positives : negatives).insert({id[0], id[1]});
    }
    rows += d->rows();
  }
  // alice 0, bob 1, carol 2; a 0, b 1, c 2 (bytewise). Each user rated k items: min(k, 3 - k) negatives.
  CHECK(positives == std::set<std::pair<int64_t, int64_t>>{{1, 1}, {0, 0}, {1, 2}, {2, 0}, {0, 2}});
  CHECK(negatives.size() == 3);  // alice's and bob's one unrated item, one of carol's two
  CHECK(negatives.count({0, 1}) == 1);
  CHECK(negatives.count({1, 0}) == 1);
  CHECK(rows == 8);
}

TEST_CASE("custom interactions: typed ids, an implicit rating, the min-records filter (one pass)") {
  test::TempDir dir;
  // Users 1, 2, 3 read w, x, y; user 4 one record (dropped); item z is read by users 5 and 1 only (dropped), so
  // user 5, kept with 3 records, ends with 2: the filter is one pass.
  dir.write("r.csv", "u;i;stars\n1;x;0\n1;y;4\n1;w;1\n2;x;5\n2;y;0\n2;w;2\n3;x;3\n3;y;2\n3;w;5\n4;x;1\n"
                     "5;x;2\n5;y;3\n5;z;5\n1;z;5\n");
  const Splits s = read_spec(dir, R"({"format": "csv", "file": "r.csv", "separator": ";",
    "interactions": {"user": {"column": "u", "type": "integer"}, "item": {"column": "i", "type": "text"},
                     "rating": {"column": "stars", "range": [0, 5], "integer": true, "implicit": 0},
                     "min_records": 3}})");
  CHECK(s.train.vocab == std::vector<int64_t>{4, 3});  // users 1 2 3 5 -> 0..3 by value, items w x y bytewise
  CHECK(positive_records(s) == std::set<Record>{{0, 1, 0.f, 0.f}, {0, 2, 4.f, 1.f}, {0, 0, 1.f, 1.f},
                                                {1, 1, 5.f, 1.f}, {1, 2, 0.f, 0.f}, {1, 0, 2.f, 1.f},
                                                {2, 1, 3.f, 1.f}, {2, 2, 2.f, 1.f}, {2, 0, 5.f, 1.f},
                                                {3, 1, 2.f, 1.f}, {3, 2, 3.f, 1.f}});
  CHECK(s.source.find("14 records read, 11 kept (users and items with >= 3 records), 4 users, 3 items") !=
        std::string::npos);
  test::check_recommender_splits(s);
}

TEST_CASE("custom matrix: a count column, a not-rated value, a header naming the items") {
  test::TempDir dir;
  const std::string spec = R"({"format": "csv", "file": "m.csv",
    "matrix": {"count": true, "not_rated": -2, "rating": {"range": [-1, 3], "implicit": 0}}})";
  dir.write("m.csv", "n,a,b,c\n2,1.5,-2,3\n0,-2,-2,-2\n3,0,2,-1\n");
  const Splits s = read_spec(dir, spec);
  CHECK(s.train.vocab == std::vector<int64_t>{3, 3});  // the row without a rating is a user
  CHECK(positive_records(s) == std::set<Record>{{0, 0, 1.5f, 1.f}, {0, 2, 3.f, 1.f}, {2, 0, 0.f, 0.f},
                                                {2, 1, 2.f, 1.f}, {2, 2, -1.f, 1.f}});
  test::check_recommender_splits(s);
  CHECK(test::same_splits(s, read_spec(dir, spec)));
  // Without a count column and a header every column is an item and every row a user.
  dir.write("plain.csv", "1,5\n2,3\n");
  const Splits plain = read_spec(dir, R"({"format": "csv", "file": "plain.csv", "header": false, "matrix": {}})");
  CHECK(plain.train.vocab == std::vector<int64_t>{2, 2});
  CHECK(positive_records(plain) == std::set<Record>{{0, 0, 1.f, 1.f}, {0, 1, 5.f, 1.f}, {1, 0, 2.f, 1.f},
                                                    {1, 1, 3.f, 1.f}});
}

TEST_CASE("custom recommender layouts: bad descriptions refused naming the key") {
  test::TempDir dir;
  dir.write("r.csv", "u,i,r\n1,2,3\n");
  const std::string json = dir.path("spec.json");
  auto refuses = [&](const std::string& spec, const std::string& message) {
    INFO(spec);
    CHECK_THROWS_WITH_AS(read_spec(dir, spec), doctest::Contains((json + message).c_str()), Error);
  };
  const std::string head = R"({"format": "csv", "file": "r.csv", )";
  refuses(head + R"("interactions": {"user": "u", "item": "i", "ratings": "r"}})",
          ": 'interactions': unknown key 'ratings' (expected one of user, item, rating, time, min_records)");
  refuses(head + R"("interactions": {"user": "u"}})", ": 'interactions': missing key 'item'");
  refuses(head + R"("interactions": {"user": {"column": "u", "type": "int"}, "item": "i"}})",
          ": 'interactions.user.type': unknown id type 'int' (expected integer or text)");
  refuses(head + R"("interactions": {"user": "u", "item": "i", "rating": {"range": [1, 5]}}})",
          ": 'interactions.rating': missing key 'column'");
  refuses(head + R"("interactions": {"user": "u", "item": "i", "rating": {"column": "r", "range": [5, 1]}}})",
          ": 'interactions.rating.range': min 5 is above max 1");
  refuses(head + R"("interactions": {"user": "u", "item": "i", "rating": {"column": "r", "range": [1]}}})",
          ": 'interactions.rating.range': expected an array [min, max], got array");
  refuses(head + R"("interactions": {"user": "u", "item": "i", "rating": {"column": "r", "step": 0}}})",
          ": 'interactions.rating.step': 0 is not above 0");
  refuses(head + R"("interactions": {"user": "u", "item": "i", "rating": {"column": "r", "implicit": "0"}}})",
          ": 'interactions.rating.implicit': expected a number, got string");
  refuses(head + R"("interactions": {"user": "u", "item": "i", "min_records": 0}})",
          ": 'interactions.min_records': 0 is below 1");
  refuses(head + R"("matrix": {"count": 1}})", ": 'matrix.count': expected true or false, got number");
  refuses(head + R"("matrix": {"rating": {"column": 2}}})",
          ": 'matrix.rating': unknown key 'column' (expected one of range, step, integer, implicit)");
  refuses(head + R"("matrix": {}, "interactions": {"user": "u", "item": "i"}})",
          ": give either 'interactions' or 'matrix'");
  refuses(head + R"("matrix": {}, "tasks": []})",
          ": 'tasks': not with 'matrix' (it reads one 'file', makes its own ids and tasks, and splits as the paper "
          "does)");
  refuses(R"({"format": "csv", "files": {"train": "r.csv"}, "interactions": {"user": "u", "item": "i"}})",
          ": 'files': not with 'interactions' (it reads one 'file', makes its own ids and tasks, and splits as the "
          "paper does)");
  refuses(R"({"format": "npy", "file": ".", "matrix": {}})", ": 'matrix': only for format csv");
  refuses(head + R"("columns": ["u", "u", "r"], "matrix": {}})", ": 'columns[1]': column 'u' again");
  refuses(head + R"("columns": [], "matrix": {}})",
          ": 'columns': expected a non-empty array of column names, got array");
  refuses(head + R"("interactions": {"user": "user", "item": "i"}})",
          ": 'interactions.user': no column 'user' in the header of " + dir.path("r.csv"));
}

TEST_CASE("custom recommender layouts: bad data refused naming file, line and column") {
  test::TempDir dir;
  auto refuses = [&](const std::string& data, const std::string& spec, const std::string& message) {
    const std::string path = dir.write("d.csv", data);
    INFO(spec);
    CHECK_THROWS_WITH_AS(read_spec(dir, R"({"format": "csv", "file": "d.csv", )" + spec + "}"),
                         doctest::Contains((path + message).c_str()), Error);
  };
  const std::string rated = R"("interactions": {"user": {"column": "u", "type": "integer"}, "item": "i",
    "rating": {"column": "r", "range": [1, 5], "step": 0.5}, "time": "t"})";
  refuses("u,i,r,t\n1,2,3,0\nx,2,3,0\n", rated, ":3: column 1 ('u'): 'x' is not an integer");
  refuses("u,i,r,t\n1,,3,0\n", rated, ":2: column 2 ('i'): empty id");
  refuses("u,i,r,t\n1,2,6,0\n", rated, ":2: column 3 ('r'): 6 is outside [1, 5]");
  refuses("u,i,r,t\n1,2,2.25,0\n", rated, ":2: column 3 ('r'): 2.25 is not a multiple of 0.5");
  refuses("u,i,r,t\n1,2,3,noon\n", rated, ":2: column 4 ('t'): 'noon' is not an integer");
  refuses("u,i,r,t\n1,2,3,0\n1,2,4,1\n", rated, ":3: the (user, item) pair of line 2 again");
  refuses("u,i,r\n1,2,3.5\n",
          R"("interactions": {"user": "u", "item": "i", "rating": {"column": "r", "integer": true}})",
          ":2: column 3 ('r'): '3.5' is not an integer");
  refuses("u,i\n1,2\n2,3\n", R"("interactions": {"user": "u", "item": "i", "min_records": 2})",
          ": no user and item with at least 2 records (2 records read)");
  refuses("a,b\n1,2\n", R"("columns": ["user", "item"], "interactions": {"user": "user", "item": "item"})",
          ":1: header is 'a,b', expected 'user,item'");
  refuses("1,2\n1,3,4\n", R"("header": false, "columns": ["user", "item"],
    "interactions": {"user": "user", "item": "item"})", ":2: expected 2 columns, got 3");
  const std::string matrix =
      R"("header": false, "matrix": {"count": true, "not_rated": 99, "rating": {"range": [-10, 10]}})";
  refuses("2,1,2,99\n3,1,2,99\n", matrix,
          ":2: column 1 ('count'): the count says 3 items rated, but the row has 2 ratings");
  refuses("2,1,10.5,99\n", matrix, ":1: column 3: item 2: 10.5 is outside [-10, 10] (99 = not rated)");
  refuses("4,1,2,99\n", matrix, ":1: column 1 ('count'): 4 is outside [0, 3]");
  refuses("3\n", matrix, ":1: a row needs the count column and at least one item column");
  refuses("1,2\n3,4,5\n", R"("header": false, "matrix": {})", ":2: expected 2 columns, got 3");
}

}  // namespace comet::data
