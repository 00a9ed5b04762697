// MovieLens readers (data/movielens.h) and the shared recommender construction (data/recsys.h): the three published
// ratings layouts, the COMET processed folder, hand-worked id remapping and negatives, split sizes and
// stratification, seeding, every kind of bad input; the real ml-100k and COMET files when present.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <tuple>

#include "core/rng.h"
#include "data/movielens.h"
#include "data/recsys.h"
#include "recsys_test_util.h"
#include "test_util.h"

namespace comet::data {

namespace {

struct Rating {
  int64_t user, item;
  std::string rating;
};

// The records as a ratings file of one release: "\t" (u.data), "::" (ratings.dat), "," with header (ratings.csv).
std::string ratings_text(const std::vector<Rating>& records, const std::string& sep, const std::string& line_end = "\n") {
  std::string text = sep == "," ? "userId,movieId,rating,timestamp" + line_end : "";
  for (const Rating& r : records)
    text += fmt::format("{}{}{}{}{}{}881250949{}", r.user, sep, r.item, sep, r.rating, sep, line_end);
  return text;
}

using Positive = std::tuple<int64_t, int64_t, float>;  // dense user, dense item, rating

std::set<Positive> positives(const Splits& s) {
  std::set<Positive> out;
  for (const test::RecsysRow& r : test::recsys_rows(s))
    if (r.watched == 1.0f) out.insert({r.user, r.item, r.rating});
  return out;
}

// Raw users 10, 3, 7 and items 5, 100, 20: dense ids in ascending raw order.
const std::vector<Rating> kSmall = {{10, 5, "4"}, {3, 100, "3"}, {7, 20, "1"}, {10, 20, "5"}};
const std::set<Positive> kSmallDense = {{2, 0, 4.0f}, {0, 2, 3.0f}, {1, 1, 1.0f}, {2, 1, 5.0f}};

// A u.data of `users` users over `items` items; user u rates 1 + 7u mod (items - 2) items, so some rate more than
// half of them (their negatives are all their unrated items).
std::string generated_udata(int64_t users, int64_t items) {
  Generator gen(5);
  std::vector<Rating> records;
  for (int64_t u = 1; u <= users; ++u) {
    const auto order = gen.permutation(items);
    for (int64_t j = 0; j < 1 + (7 * u) % (items - 2); ++j) records.push_back({u, order[j] + 1, std::to_string(1 + (u + j) % 5)});
  }
  return ratings_text(records, "\t");
}

}  // namespace

TEST_CASE("movielens: u.data, ratings.dat and ratings.csv give the same dense records (ids sorted by raw id)") {
  test::TempDir dir;
  const Splits tab = read_movielens(dir.write("u.data", ratings_text(kSmall, "\t")), 1);
  CHECK(positives(tab) == kSmallDense);
  CHECK(tab.train.vocab == std::vector<int64_t>{3, 3});
  CHECK(read_movielens(dir.write("ratings.dat", ratings_text(kSmall, "::")), 1).train.vocab == tab.train.vocab);
  CHECK(positives(read_movielens(dir.write("ratings.dat", ratings_text(kSmall, "::")), 1)) == kSmallDense);
  CHECK(positives(read_movielens(dir.write("ratings.csv", ratings_text(kSmall, ",")), 1)) == kSmallDense);
  CHECK(positives(read_movielens(dir.write("crlf.data", ratings_text(kSmall, "\t", "\r\n")), 1)) == kSmallDense);
  // user 2 (raw 10) rated items 0 and 1 of 3: its one negative is item 2; 3 negatives in all, 7 rows 5 / 1 / 1.
  std::set<std::pair<int64_t, int64_t>> negatives;
  for (const test::RecsysRow& r : test::recsys_rows(tab))
    if (r.watched == 0.0f) negatives.insert({r.user, r.item});
  CHECK(negatives.size() == 3);
  CHECK(negatives.count({2, 2}) == 1);
  CHECK(tab.train.rows() == 5);
  CHECK(tab.val.rows() == 1);
  CHECK(tab.test.rows() == 1);
  CHECK(tab.source.find("u.data (ml-100k layout)") != std::string::npos);
  test::check_recommender_splits(tab);
}

TEST_CASE("movielens: ratings.csv half stars") {
  test::TempDir dir;
  const std::vector<Rating> half = {{1, 1, "0.5"}, {1, 2, "4.5"}, {2, 1, "5.0"}, {3, 3, "2.5"}};
  const Splits s = read_movielens(dir.write("ratings.csv", ratings_text(half, ",")), 3);
  CHECK(positives(s) == std::set<Positive>{{0, 0, 0.5f}, {0, 1, 4.5f}, {1, 0, 5.0f}, {2, 2, 2.5f}});
  test::check_recommender_splits(s);
}

TEST_CASE("movielens: negatives, split sizes, stratification and seeding on a generated file") {
  test::TempDir dir;
  const std::string path = dir.write("u.data", generated_udata(40, 30));
  const Splits a = read_movielens(path, 11);
  test::check_recommender_splits(a);
  CHECK(a.train.vocab == std::vector<int64_t>{40, 30});
  CHECK(test::same_splits(a, read_movielens(path, 11)));
  CHECK_FALSE(test::same_splits(a, read_movielens(path, 12)));
}

TEST_CASE("movielens: bad ratings files refused with file, line and column") {
  test::TempDir dir;
  auto refuses = [&](const std::string& name, const std::string& text, const std::string& message) {
    const std::string path = dir.write(name, text);
    CHECK_THROWS_WITH_AS(read_movielens(path, 1), doctest::Contains((path + message).c_str()), Error);
  };
  refuses("u.data", "1\t1\t5\t0\n2\t1\t6\t0\n", ":2: column 3 ('rating'): 6 is outside [1, 5]");
  refuses("u.data", "1\t1\t3.5\t0\n", ":1: column 3 ('rating'): 3.5 is not a multiple of 1");
  refuses("u.data", "1\t1\t3\t0\nabc\t1\t3\t0\n", ":2: column 1 ('user'): 'abc' is not an integer");
  refuses("u.data", "1\t1\tx\t0\n", ":1: column 3 ('rating'): 'x' is not a number");
  refuses("u.data", "1\t1\t3\t0\n1\t2\t3\n", ":2: expected 4 columns, got 3");
  refuses("u.data", "1\t1\t3\t0\n1\t2", ":2: expected 4 columns, got 2");  // truncated
  refuses("u.data", "1\t1\t3\t0\n2\t1\t3\t0\n1\t1\t4\t0\n", ":3: the (user, item) pair of line 1 again");
  refuses("ratings.dat", "1::1::5::0\n1::2::4\n", ":2: expected 4 columns, got 3");
  refuses("ratings.csv", "userId,movieId,rating,timestamp\n1,1,5.5,0\n", ":2: column 3 ('rating'): 5.5 is outside [0.5, 5]");
  refuses("ratings.csv", "userId,movieId,rating,timestamp\n1,1,2.25,0\n", ":2: column 3 ('rating'): 2.25 is not a multiple of 0.5");
  refuses("ratings.csv", "userId,movieId,rating,timestamp\n", ": no data rows after the header");
  refuses("other.csv", "user,item,rating\n1,1,5\n", ": not a MovieLens ratings file: line 1 'user,item,rating'");
  refuses("empty.data", "", ": empty file");
  CHECK_THROWS_WITH_AS(read_movielens(dir.path("absent.data"), 1), doctest::Contains("absent.data: cannot open"), Error);
}

namespace {

struct CometRow {
  int64_t user, movie;
  int watched, rating;
};

void write_comet_split(const test::TempDir& dir, const std::string& split, const std::vector<CometRow>& rows) {
  std::string features, watch, rating;
  for (const CometRow& r : rows) {
    features += fmt::format("{},{}\n", r.user, r.movie);
    watch += fmt::format("{}\n", r.watched);
    rating += fmt::format("{}\n", r.rating);
  }
  dir.write("comet/shared_features/shared_features_" + split + ".csv", features);
  dir.write("comet/watch_classification_targets/watch_classification_targets_" + split + ".csv", watch);
  dir.write("comet/rating_regression_targets/rating_regression_targets_" + split + ".csv", rating);
}

// n rows, users 0.., every other row watched with a rating 1..5.
std::vector<CometRow> comet_rows(int64_t n, int64_t first_user) {
  std::vector<CometRow> rows;
  for (int64_t i = 0; i < n; ++i)
    rows.push_back({first_user + i, (7 * i) % 3952, static_cast<int>(i % 2), i % 2 ? static_cast<int>(1 + i % 5) : 0});
  return rows;
}

}  // namespace

TEST_CASE("movielens: the COMET folder, without train features, splits val into train and val") {
  test::TempDir dir;
  write_comet_split(dir, "val", comet_rows(40, 0));
  write_comet_split(dir, "test", comet_rows(10, 6030));
  const Splits s = read_movielens(dir.path("comet"), 4);
  CHECK(s.train.rows() == 40 * kCometTrainRowsFromVal / kCometPublishedValRows);  // 33
  CHECK(s.val.rows() == 7);
  CHECK(s.test.rows() == 10);
  CHECK(s.train.vocab == std::vector<int64_t>{6040, 3952});
  test::check_stratified(s.train, 40, 20);
  test::check_stratified(s.val, 40, 20);
  const auto test_rows = test::recsys_rows(s.test);  // the test files row for row
  CHECK(test_rows[1].user == 6031);
  CHECK(test_rows[1].item == 7);
  CHECK(test_rows[1].watched == 1.0f);
  CHECK(test_rows[1].rating == 2.0f);
  CHECK(test_rows[1].rating_observed == 1.0f);
  CHECK(test_rows[0].rating_observed == 0.0f);
  CHECK(test::same_splits(s, read_movielens(dir.path("comet"), 4)));
  CHECK_FALSE(test::same_splits(s, read_movielens(dir.path("comet"), 5)));
  write_comet_split(dir, "train", comet_rows(12, 100));  // with train features, every split is used as it is
  const Splits full = read_movielens(dir.path("comet"), 4);
  CHECK(full.train.rows() == 12);
  CHECK(full.val.rows() == 40);
}

TEST_CASE("movielens: a bad COMET folder is refused naming the files") {
  test::TempDir dir;
  write_comet_split(dir, "val", comet_rows(6, 0));
  write_comet_split(dir, "test", comet_rows(4, 0));
  const std::string folder = dir.path("comet");
  const std::string features = folder + "/shared_features/shared_features_test.csv",
                    watch = folder + "/watch_classification_targets/watch_classification_targets_test.csv",
                    rating = folder + "/rating_regression_targets/rating_regression_targets_test.csv";
  auto refuses = [&](const std::string& file, const std::string& text, const std::string& message) {
    dir.write(file.substr(dir.path("").size()), text);
    CHECK_THROWS_WITH_AS(read_movielens(folder, 1), doctest::Contains(message.c_str()), Error);
    write_comet_split(dir, "test", comet_rows(4, 0));
  };
  refuses(rating, "0\n2\n0\n", fmt::format("{} has 4 rows but {} has 3", features, rating));
  refuses(watch, "0\n1\n0\n1\n0\n", fmt::format("{} has 4 rows but {} has 5", features, watch));
  refuses(watch, "0\n2\n0\n1\n", fmt::format("{}:2: column 1 ('watched'): 2 is outside [0, 1]", watch));
  refuses(rating, "0\n2\n0\n6\n", fmt::format("{}:4: column 1 ('rating'): 6 is outside [0, 5]", rating));
  refuses(rating, "3\n2\n0\n4\n", fmt::format("{}:1: column 1 ('rating'): rating 3 disagrees with {}:1 (watched = 0)", rating, watch));
  refuses(features, "0,0\n6040,1\n2,2\n3,3\n", fmt::format("{}:2: column 1 ('user'): 6040 is outside [0, 6039]", features));
  refuses(features, "0,0\n1,1\n2,2\n3\n", fmt::format("{}:4: expected 2 columns, got 1", features));
  std::filesystem::remove(watch);
  CHECK_THROWS_WITH_AS(read_movielens(folder, 1), doctest::Contains((watch + ": cannot open").c_str()), Error);
}

TEST_CASE("movielens: real ml-100k u.data") {
  const std::string path = COMET_SHARED_DATA_DIR "/movielens-100k/u.data";
  if (!std::filesystem::exists(path)) COMET_SKIP_TEST(path + " not found");
  const Splits s = read_movielens(path, 0);
  CHECK(s.train.vocab == std::vector<int64_t>{943, 1682});
  CHECK(s.train.rows() + s.val.rows() + s.test.rows() == 200000);
  CHECK(s.test.rows() == 20000);
  CHECK(s.val.rows() == 22500);
  CHECK(s.train.rows() == 157500);
  test::check_recommender_splits(s);
}

TEST_CASE("movielens: real COMET processed folder") {
  const std::string path = COMET_SHARED_DATA_DIR "/comet-movielens";
  if (!std::filesystem::exists(path + "/shared_features/shared_features_val.csv")) COMET_SKIP_TEST(path + " not found");
  const Splits s = read_movielens(path, 0);
  CHECK(s.train.rows() == 190000);
  CHECK(s.val.rows() == 34944);
  CHECK(s.test.rows() == 199950);
  CHECK(s.train.vocab == std::vector<int64_t>{6040, 3952});
  CHECK(test::watched_rows(s.test) == 100021);
  CHECK(test::watched_rows(s.train) + test::watched_rows(s.val) == 112524);
  test::check_stratified(s.train, 224944, 112524);
  test::check_stratified(s.val, 224944, 112524);
}

}  // namespace comet::data
