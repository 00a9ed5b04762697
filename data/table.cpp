// Delimited-text reader: whole file in one buffer, lines and fields split in place (quoted fields unescaped in
// place, which never lengthens them), numbers parsed with std::from_chars. Test: tests/data/test_table.cpp.
#include "data/table.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/mutation.h"

namespace comet::data {

namespace {

std::string read_whole_file(const std::string& path) {
  COMET_CHECK(!std::filesystem::is_directory(path), "{}: is a directory, not a file", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  COMET_CHECK(f != nullptr, "{}: cannot open ({})", path, std::strerror(errno));
  std::string data;
  char chunk[1 << 16];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof(chunk), f)) > 0) data.append(chunk, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  COMET_CHECK(!failed, "{}: cannot read", path);
  return data;
}

}  // namespace

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

// One pass over a file: lines split at \n (a \r before it dropped), fields at the separator, quoted fields
// unescaped in place; checks the header and the column count, then hands each data row to the callback.
class TableReader {
 public:
  TableReader(const std::string& path, const TableOptions& options) : path_(path), options_(options) {}

  int64_t run(const std::function<void(const TableRow&)>& on_row) {
    std::string data = read_whole_file(path_);
    size_t end = data.size();
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r')) --end;  // trailing empty lines
    COMET_CHECK(end > 0, "{}: empty file", path_);
    std::vector<std::string_view> fields;
    std::vector<std::string> header;
    TableRow row;
    row.file_ = &path_;
    row.fields_ = &fields;
    row.names_ = &options_.column_names;
    std::optional<int64_t> columns = options_.columns;
    int64_t rows = 0, line = 0;
    for (size_t begin = 0; begin < end;) {
      const char* nl = static_cast<const char*>(std::memchr(data.data() + begin, '\n', end - begin));
      size_t stop = nl ? static_cast<size_t>(nl - data.data()) : end;
      const size_t next = stop + 1;
      if (stop > begin && data[stop - 1] == '\r') --stop;
      ++line;
      split(data.data() + begin, data.data() + stop, line, fields);
      if (!columns) columns = static_cast<int64_t>(fields.size());  // the header's or the first row's
      if (line == 1 && options_.has_header) {
        header.assign(fields.begin(), fields.end());
        check_header(header);
        if (options_.column_names.empty()) row.names_ = &header;
      }
      COMET_CHECK(static_cast<int64_t>(fields.size()) == *columns, "{}:{}: expected {} columns, got {}", path_, line,
                  *columns, fields.size());
      if (line > 1 || !options_.has_header) {
        row.line_ = line;
        on_row(row);
        ++rows;
      }
      begin = next;
    }
    COMET_CHECK(rows > 0, "{}: no data rows after the header", path_);
    return rows;
  }

 private:
  void split(char* p, char* stop, int64_t line, std::vector<std::string_view>& fields) const {
    fields.clear();
    const std::string& sep = options_.separator;
    while (true) {
      char* field_end = nullptr;
      char* resume = nullptr;  // where the next field starts, or nullptr at the end of the line
      if (options_.quoted && p < stop && *p == '"') {
        field_end = unquote(p, stop, line, fields.size() + 1, &resume);
        fields.emplace_back(p + 1, static_cast<size_t>(field_end - (p + 1)));
      } else {
        const std::string_view rest(p, static_cast<size_t>(stop - p));
        const size_t at = rest.find(sep);
        field_end = at == std::string_view::npos ? stop : p + at;
        resume = at == std::string_view::npos ? nullptr : field_end + sep.size();
        fields.emplace_back(p, static_cast<size_t>(field_end - p));
      }
      if (!resume) return;
      p = resume;
    }
  }

  // Unescapes the quoted field starting at *open (a '"') in place; returns the end of the unescaped text and sets
  // *resume to the start of the next field (nullptr at the end of the line).
  char* unquote(char* open, char* stop, int64_t line, size_t column, char** resume) const {
    char* out = open + 1;
    for (char* in = open + 1; in < stop; ++in) {
      if (*in != '"') {
        *out++ = *in;
        continue;
      }
      if (in + 1 < stop && in[1] == '"') {
        *out++ = '"';
        ++in;
        continue;
      }
      if (COMET_MUTANT(table_quote_kept)) *out++ = '"';
      char* after = in + 1;  // just past the closing quote
      const std::string_view rest(after, static_cast<size_t>(stop - after));
      COMET_CHECK(rest.empty() || rest.substr(0, options_.separator.size()) == options_.separator,
                  "{}:{}: column {}: text after the closing quote", path_, line, column);
      *resume = rest.empty() ? nullptr : after + options_.separator.size();
      return out;
    }
    throw Error(fmt::format("{}:{}: column {}: quoted field without a closing quote", path_, line, column));
  }

  void check_header(const std::vector<std::string>& header) const {
    if (options_.expected_header.empty()) return;
    COMET_CHECK(header == options_.expected_header, "{}:1: header is '{}', expected '{}'", path_,
                join(header, options_.separator), join(options_.expected_header, options_.separator));
  }

  const std::string path_;
  const TableOptions& options_;
};

int64_t read_table(const std::string& path, const TableOptions& options,
                   const std::function<void(const TableRow&)>& on_row) {
  COMET_CHECK(!options.separator.empty(), "read_table({}): empty separator", path);
  return TableReader(path, options).run(on_row);
}

std::string read_first_line(const std::string& path) {
  COMET_CHECK(!std::filesystem::is_directory(path), "{}: is a directory, not a file", path);
  std::ifstream in(path, std::ios::binary);
  COMET_CHECK(in.good(), "{}: cannot open ({})", path, std::strerror(errno));
  std::string line;
  while (line.empty() && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }
  COMET_CHECK(!line.empty(), "{}: empty file", path);
  return line;
}

void TableRow::fail(int64_t column, const std::string& what) const {
  const bool named = names_ && column < static_cast<int64_t>(names_->size());
  throw Error(fmt::format("{}:{}: column {}{}: {}", *file_, line_, column + 1,
                          named ? fmt::format(" ('{}')", (*names_)[static_cast<size_t>(column)]) : "", what));
}

void TableRow::fail(const std::string& what) const { throw Error(fmt::format("{}:{}: {}", *file_, line_, what)); }

int64_t TableRow::integer(int64_t column) const {
  const std::string_view s = trim_spaces(text(column));
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) fail(column, fmt::format("'{}' is out of range", s));
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty())
    fail(column, fmt::format("'{}' is not an integer", text(column)));
  return v;
}

int64_t TableRow::integer_in(int64_t column, int64_t lo, int64_t hi) const {
  const int64_t v = integer(column);
  if (v < lo || v > hi) fail(column, fmt::format("{} is outside [{}, {}]", v, lo, hi));
  return v;
}

double TableRow::number(int64_t column) const {
  const std::string_view s = trim_spaces(text(column));
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) fail(column, fmt::format("'{}' is out of range", s));
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty())
    fail(column, fmt::format("'{}' is not a number", text(column)));
  if (!std::isfinite(v)) fail(column, fmt::format("'{}' is not a finite number", s));
  return v;
}

double TableRow::number_in(int64_t column, double lo, double hi) const {
  const double v = number(column);
  if (v < lo || v > hi) fail(column, fmt::format("{} is outside [{}, {}]", text(column), lo, hi));
  return v;
}

}  // namespace comet::data
