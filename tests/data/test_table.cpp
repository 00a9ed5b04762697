// The delimited-text reader (data/table.h): separators of one and two characters, headers, quoted fields with ""
// escapes, CRLF and missing final newlines accepted; each kind of bad input refused with FILE:LINE and the column.
#include <doctest/doctest.h>

#include "data/table.h"
#include "recsys_test_util.h"

namespace comet::data {

namespace {

// Every row's fields, as strings.
std::vector<std::vector<std::string>> read_all(const std::string& path, const TableOptions& options) {
  std::vector<std::vector<std::string>> rows;
  read_table(path, options, [&](const TableRow& row) {
    rows.emplace_back();
    for (int64_t c = 0; c < row.size(); ++c) rows.back().emplace_back(row.text(c));
  });
  return rows;
}

TableOptions separated_by(const std::string& separator) {
  TableOptions o;
  o.separator = separator;
  return o;
}

using Rows = std::vector<std::vector<std::string>>;

std::string column_message(const std::string& path, int line, const std::string& rest) {
  return fmt::format("{}:{}: column {}", path, line, rest);
}

}  // namespace

TEST_CASE("table: separators, CRLF, missing final newline, trailing empty lines") {
  test::TempDir dir;
  CHECK(read_all(dir.write("tab", "1\t2\t3\n4\t5\t6\n"), separated_by("\t")) == Rows{{"1", "2", "3"}, {"4", "5", "6"}});
  CHECK(read_all(dir.write("colons", "1::2::3.5\n4::::6"), separated_by("::")) ==
        Rows{{"1", "2", "3.5"}, {"4", "", "6"}});
  CHECK(read_all(dir.write("crlf", "a,b\r\nc,d\r\n\r\n\n"), separated_by(",")) == Rows{{"a", "b"}, {"c", "d"}});
  TableOptions header = separated_by(",");
  header.has_header = true;
  int64_t first_line = 0;
  CHECK(read_table(dir.write("header", "x,y\n1,2\n3,4"), header, [&](const TableRow& row) {
          if (!first_line) first_line = row.line();
        }) == 2);
  CHECK(first_line == 2);  // lines count the header
}

TEST_CASE("table: quoted fields keep separators and unescape doubled quotes") {
  test::TempDir dir;
  TableOptions o = separated_by(";");
  o.quoted = true;
  const std::string path = dir.write("q", "\"276725\";\"03\"\"45;X\";\"0\"\n\"\";plain;\"a\"\"\"\"b\"\r\n");
  CHECK(read_all(path, o) == Rows{{"276725", "03\"45;X", "0"}, {"", "plain", "a\"\"b"}});
  CHECK_THROWS_WITH_AS(read_all(dir.write("open", "\"1\";\"2\n"), o),
                       doctest::Contains("open:1: column 2: quoted field without a closing quote"), Error);
  CHECK_THROWS_WITH_AS(read_all(dir.write("after", "\"1\"x;\"2\"\n"), o),
                       doctest::Contains("after:1: column 1: text after the closing quote"), Error);
}

TEST_CASE("table: numbers parsed with messages naming file, line and column") {
  test::TempDir dir;
  TableOptions o = separated_by(",");
  o.has_header = true;
  const std::string path = dir.write("n.csv", "id,score,rating\n7, 2.5 ,-3\n8,x,1e400\n9,nan,inf\n10,1.5,4\n");
  std::vector<std::string> errors;
  read_table(path, o, [&](const TableRow& row) {
    if (row.line() == 2) {
      CHECK(row.integer(0) == 7);
      CHECK(row.number(1) == 2.5);  // spaces around a number are allowed
      CHECK(row.number_in(2, -10, 10) == -3);
    }
    for (int64_t c = 0; c < row.size(); ++c) {
      try {
        c == 0 ? static_cast<double>(row.integer_in(0, 0, 9)) : row.number_in(c, -5, 5);
      } catch (const Error& e) {
        errors.push_back(e.what());
      }
    }
  });
  CHECK(errors == std::vector<std::string>{
                      column_message(path, 3, "2 ('score'): 'x' is not a number"),
                      column_message(path, 3, "3 ('rating'): '1e400' is out of range"),
                      column_message(path, 4, "2 ('score'): 'nan' is not a finite number"),
                      column_message(path, 4, "3 ('rating'): 'inf' is not a finite number"),
                      column_message(path, 5, "1 ('id'): 10 is outside [0, 9]"),
                  });
}

TEST_CASE("table: bad files refused") {
  test::TempDir dir;
  const TableOptions comma = separated_by(",");
  CHECK_THROWS_WITH_AS(read_all(dir.path("absent.csv"), comma),
                       doctest::Contains("absent.csv: cannot open (No such file or directory)"), Error);
  CHECK_THROWS_WITH_AS(read_all(dir.path(""), comma), doctest::Contains("is a directory"), Error);
  CHECK_THROWS_WITH_AS(read_all(dir.write("empty.csv", ""), comma), doctest::Contains("empty.csv: empty file"),
                       Error);
  CHECK_THROWS_WITH_AS(read_all(dir.write("blank.csv", "\r\n\n"), comma), doctest::Contains("blank.csv: empty file"),
                       Error);
  TableOptions header = comma;
  header.has_header = true;
  CHECK_THROWS_WITH_AS(read_all(dir.write("h.csv", "a,b\n"), header),
                       doctest::Contains("h.csv: no data rows after the header"), Error);
  TableOptions three = header;
  three.columns = 3;
  CHECK_THROWS_WITH_AS(read_all(dir.write("h3.csv", "a,b\n1,2\n"), three),
                       doctest::Contains("h3.csv:1: expected 3 columns, got 2"), Error);
  header.expected_header = {"a", "c"};
  CHECK_THROWS_WITH_AS(read_all(dir.write("h2.csv", "a,b\n1,2\n"), header),
                       doctest::Contains("h2.csv:1: header is 'a,b', expected 'a,c'"), Error);
  TableOptions four = separated_by("\t");
  four.columns = 4;
  CHECK_THROWS_WITH_AS(read_all(dir.write("short", "1\t2\t3\t4\n1\t2\t3\n"), four),
                       doctest::Contains("short:2: expected 4 columns, got 3"), Error);
  // A truncated last line: fine with all its columns, refused without.
  CHECK(read_all(dir.write("cut_ok", "1\t2\t3\t4\n5\t6\t7\t8"), four).size() == 2);
  CHECK_THROWS_WITH_AS(read_all(dir.write("cut", "1\t2\t3\t4\n5\t6\t7"), four),
                       doctest::Contains("cut:2: expected 4 columns, got 3"), Error);
  // Without an expected count, the first row sets it.
  CHECK_THROWS_WITH_AS(read_all(dir.write("ragged", "1,2\n3,4,5\n"), comma),
                       doctest::Contains("ragged:2: expected 2 columns, got 3"), Error);
  TableOptions ints = comma;
  read_table(dir.write("i", "1.5\n"), ints, [](const TableRow& row) {
    CHECK_THROWS_WITH_AS(row.integer(0), doctest::Contains("i:1: column 1: '1.5' is not an integer"), Error);
  });
}

}  // namespace comet::data
