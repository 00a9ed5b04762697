// Jester (data/jester.h) and Book-Crossing (data/books.h) readers: the Jester matrix with 99 = not rated, the quoted
// ';'-separated Book-Crossing file with "" inside a field and its >= 5 records filter (one pass), hand-worked
// records and negatives, the shared construction rules, seeding, and every kind of bad input.
#include <doctest/doctest.h>

#include <set>
#include <tuple>

#include "core/rng.h"
#include "data/books.h"
#include "data/jester.h"
#include "recsys_test_util.h"

namespace comet::data {

namespace {

using test::positive_records;
using test::Record;

std::set<std::pair<int64_t, int64_t>> negative_pairs(const Splits& s) {
  std::set<std::pair<int64_t, int64_t>> out;
  for (const test::RecsysRow& r : test::recsys_rows(s))
    if (r.watched == 0.0f) out.insert({r.user, r.item});
  return out;
}

// `users` rows of `jokes` ratings, about a third 99, with a correct count column.
std::string generated_jester(int64_t users, int64_t jokes) {
  Generator gen(9);
  Tensor u = Tensor::empty({users * jokes}, DType::F64);
  gen.uniform(u, 0.0, 1.0);
  std::string text;
  for (int64_t r = 0; r < users; ++r) {
    std::string cells;
    int64_t count = 0;
    for (int64_t j = 0; j < jokes; ++j) {
      const double x = u.data<double>()[r * jokes + j];
      const bool rated = x > 0.33;
      count += rated;
      cells += rated ? fmt::format(",{:.2f}", (x - 0.33) / 0.67 * 20 - 10) : ",99";
    }
    text += fmt::format("{}{}\r\n", count, cells);
  }
  return text;
}

}  // namespace

TEST_CASE("jester: the matrix with 99 = not rated, hand-worked") {
  test::TempDir dir;
  const std::string path = dir.write("jester.csv", "3,5.5,99,-10,99,2.25\n5,1,2,3,4,-1.5\n0,99,99,99,99,99\n");
  const Splits s = read_jester(path, 2);
  CHECK(s.train.vocab == std::vector<int64_t>{3, 5});
  CHECK(positive_records(s) == std::set<Record>{{0, 0, 5.5f, 1.f}, {0, 2, -10.f, 1.f}, {0, 4, 2.25f, 1.f},
                                                {1, 0, 1.f, 1.f},   {1, 1, 2.f, 1.f},    {1, 2, 3.f, 1.f},
                                                {1, 3, 4.f, 1.f},   {1, 4, -1.5f, 1.f}});
  // user 0 rated 3 of 5: its 2 negatives are its 2 unrated jokes; user 1 rated all, user 2 none.
  CHECK(negative_pairs(s) == std::set<std::pair<int64_t, int64_t>>{{0, 1}, {0, 3}});
  test::check_recommender_splits(s);
}

TEST_CASE("jester: construction rules and seeding on a generated matrix (CRLF)") {
  test::TempDir dir;
  const std::string path = dir.write("jester.csv", generated_jester(30, 12));
  const Splits a = read_jester(path, 3);
  CHECK(a.train.vocab == std::vector<int64_t>{30, 12});
  test::check_recommender_splits(a);
  CHECK(test::same_splits(a, read_jester(path, 3)));
  CHECK_FALSE(test::same_splits(a, read_jester(path, 4)));
}

TEST_CASE("jester: bad matrices refused with line and column") {
  test::TempDir dir;
  auto refuses = [&](const std::string& text, const std::string& message) {
    const std::string path = dir.write("j.csv", text);
    CHECK_THROWS_WITH_AS(read_jester(path, 1), doctest::Contains((path + message).c_str()), Error);
  };
  // The messages are those of the custom matrix layout Jester is a preset of: items, not jokes.
  refuses("2,1,2,99\n3,1,2,99\n", ":2: column 1 ('count'): the count says 3 items rated, but the row has 2 ratings");
  refuses("2,1,10.5,99\n", ":1: column 3: item 2: 10.5 is outside [-10, 10] (99 = not rated)");
  refuses("2,1,-11,99\n", ":1: column 3: item 2: -11 is outside [-10, 10] (99 = not rated)");
  refuses("2,1,abc,99\n", ":1: column 3: 'abc' is not a number");
  refuses("2,1,2,99\n1,1,99\n", ":2: expected 4 columns, got 3");
  refuses("4,1,2,99\n", ":1: column 1 ('count'): 4 is outside [0, 3]");
  refuses("3\n", ":1: a row needs the count column and at least one item column");
  refuses("", ": empty file");
  CHECK_THROWS_WITH_AS(read_jester(dir.path("absent.csv"), 1), doctest::Contains("absent.csv: cannot open"), Error);
}

namespace {

const std::string kBooksHeader = "\"User-ID\";\"ISBN\";\"Book-Rating\"\n";

// Book j < 9 has ISBN "j00000000X", book 9 the ISBN 9"9;X (a quote and the separator inside): dense ids follow j.
std::string isbn(int64_t j) { return j < 9 ? fmt::format("{}00000000X", j) : "9\"9;X"; }

std::string book_line(int64_t user, const std::string& book, int64_t rating) {
  std::string quoted;
  for (char c : book) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return fmt::format("\"{}\";\"{}\";\"{}\"\r\n", user, quoted, rating);
}

int64_t book_rating(int64_t u, int64_t t) { return (u + t) % 3 == 0 ? 0 : 1 + (u * t) % 10; }

// Users 100..109 read 5 of the 10 books each (each book read 5 times). User 998 has 4 records (dropped); user 999
// has 5, one of them of a book read once (dropped), so 999 is kept with 4 records: the filter is one pass.
std::string books_file() {
  std::string text = kBooksHeader;
  for (int64_t u = 0; u < 10; ++u)
    for (int64_t t = 0; t < 5; ++t) text += book_line(100 + u, isbn((u + t) % 10), book_rating(u, t));
  for (int64_t j = 0; j < 4; ++j) text += book_line(998, isbn(j), 7);
  for (int64_t j = 0; j < 4; ++j) text += book_line(999, isbn(j), j == 0 ? 0 : 8);
  return text + book_line(999, "RARE", 5);
}

}  // namespace

TEST_CASE("books: quoted ';' fields, the >= 5 records filter, implicit ratings masked") {
  test::TempDir dir;
  const std::string path = dir.write("BX-Book-Ratings.csv", books_file());
  const Splits s = read_books(path, 6);
  CHECK(s.train.vocab == std::vector<int64_t>{11, 10});
  std::set<Record> expected;
  for (int64_t u = 0; u < 10; ++u)
    for (int64_t t = 0; t < 5; ++t) {
      const int64_t r = book_rating(u, t);
      expected.insert({u, (u + t) % 10, static_cast<float>(r), r > 0 ? 1.f : 0.f});
    }
  for (int64_t j = 0; j < 4; ++j) expected.insert({10, j, j == 0 ? 0.f : 8.f, j == 0 ? 0.f : 1.f});
  CHECK(positive_records(s) == expected);
  CHECK(s.train.rows() + s.val.rows() + s.test.rows() == 54 + 50 + 4);
  test::check_recommender_splits(s);
  CHECK(test::same_splits(s, read_books(path, 6)));
  CHECK_FALSE(test::same_splits(s, read_books(path, 7)));
  CHECK(s.source.find("59 records read, 54 kept") != std::string::npos);
}

TEST_CASE("books: bad files refused with line and column") {
  test::TempDir dir;
  auto refuses = [&](const std::string& text, const std::string& message) {
    const std::string path = dir.write("b.csv", text);
    CHECK_THROWS_WITH_AS(read_books(path, 1), doctest::Contains((path + message).c_str()), Error);
  };
  refuses("\"User\";\"ISBN\";\"Book-Rating\"\n\"1\";\"X\";\"5\"\n",
          ":1: header is 'User;ISBN;Book-Rating', expected 'User-ID;ISBN;Book-Rating'");
  refuses(kBooksHeader + book_line(1, "X", 5) + book_line(1, "Y", 11), ":3: column 3 ('Book-Rating'): 11 is outside [0, 10]");
  refuses(kBooksHeader + "\"abc\";\"X\";\"5\"\n", ":2: column 1 ('User-ID'): 'abc' is not an integer");
  refuses(kBooksHeader + "\"1\";\"X\";\"5\n", ":2: column 3: quoted field without a closing quote");
  refuses(kBooksHeader + "\"1\";\"X\"\n", ":2: expected 3 columns, got 2");
  // The messages are those of the custom interactions Book-Crossing is a preset of: ids and items, not ISBN, books.
  refuses(kBooksHeader + "\"1\";\"\";\"5\"\n", ":2: column 2 ('ISBN'): empty id");
  refuses(kBooksHeader, ": no data rows after the header");
  refuses(kBooksHeader + book_line(1, "X", 5), ": no user and item with at least 5 records (1 records read)");
  refuses(books_file() + book_line(100, isbn(0), 3), ":61: the (user, item) pair of line 2 again");
}

}  // namespace comet::data
