// The one reader of delimited text behind every data-set format: a separator of any length ("," "\t" ";" "::"),
// an optional header, optional double-quoted fields ("" inside a quoted field is one quote, as Book-Crossing writes
// them), CRLF or LF line ends. The whole file is read at once and split in place; each row goes to a callback as
// views of its fields, with parsers whose errors name FILE:LINE, the column (1-based) and its name.
// Test: tests/data/test_table.cpp.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace comet::data {

struct TableOptions {
  std::string separator = ",";
  bool has_header = false;
  bool quoted = false;                        // fields may be enclosed in double quotes
  std::optional<int64_t> columns;             // expected column count; else the header's or the first row's
  std::vector<std::string> column_names;      // names for messages; else the header's
  std::vector<std::string> expected_header;   // when set, the header must be exactly this
};

// One data row: views into the file's buffer, valid during the callback only.
class TableRow {
 public:
  const std::string& file() const { return *file_; }
  int64_t line() const { return line_; }  // 1-based, counting the header
  int64_t size() const { return static_cast<int64_t>(fields_->size()); }
  std::string_view text(int64_t column) const { return (*fields_)[static_cast<size_t>(column)]; }
  // The names messages give the columns: options.column_names, else the header's; empty when neither.
  const std::vector<std::string>& names() const { return *names_; }
  // Parsers; `column` is 0-based here, messages say it 1-based:
  // "FILE:LINE: column 3 ('rating'): 'x' is not a number".
  int64_t integer(int64_t column) const;
  int64_t integer_in(int64_t column, int64_t lo, int64_t hi) const;  // an integer in [lo, hi]
  double number(int64_t column) const;                         // finite only
  double number_in(int64_t column, double lo, double hi) const;  // finite and in [lo, hi]
  // Throws comet::Error "FILE:LINE: column C ('name'): <what>" / "FILE:LINE: <what>".
  [[noreturn]] void fail(int64_t column, const std::string& what) const;
  [[noreturn]] void fail(const std::string& what) const;

 private:
  friend class TableReader;
  const std::string* file_ = nullptr;
  const std::vector<std::string>* names_ = nullptr;
  const std::vector<std::string_view>* fields_ = nullptr;
  int64_t line_ = 0;
};

// Calls on_row for every data row of `path` in file order and returns the number of data rows. Refuses (comet::Error
// naming the file, and the line where there is one): a missing or unreadable file, an empty file or one with a header
// only, a row whose column count differs, a bad quoted field, a header other than options.expected_header.
// A last line without a newline is accepted; trailing empty lines are skipped; a '\r' before '\n' is dropped.
int64_t read_table(const std::string& path, const TableOptions& options,
                   const std::function<void(const TableRow&)>& on_row);

// The first line of a file (without its line end), for format detection; refuses a missing or empty file.
std::string read_first_line(const std::string& path);

// A field without its leading and trailing spaces; parts joined with a separator (for messages).
std::string_view trim_spaces(std::string_view s);
std::string join(const std::vector<std::string>& parts, const std::string& separator);

}  // namespace comet::data
