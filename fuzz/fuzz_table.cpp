// libFuzzer target: data/table.h read_table, with the options of the data sets that use it. The first input byte
// picks them: bits 0-1 the separator ("," "\t" ";" "::"), bit 2 a header, bit 3 quoted fields, bit 4 a fixed
// column count of 3, bit 5 an expected header ("a","b","c" in that separator); the rest is the file. Every field of
// every row goes through the integer and number parsers (their refusals are comet::Error too).
#include "data/table.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const separators[] = {",", "\t", ";", "::"};
  const uint8_t mode = data[0];
  comet::data::TableOptions o;
  o.separator = separators[mode & 3];
  o.has_header = (mode & 4) != 0;
  o.quoted = (mode & 8) != 0;
  if (mode & 16) o.columns = 3;
  if ((mode & 32) && o.has_header) o.expected_header = {"a", "b", "c"};
  const std::string path = comet::fuzz::write_file("input.csv", data + 1, size - 1);
  comet::fuzz::expect_only_comet_errors([&] {
    int64_t rows = 0;
    const int64_t n = comet::data::read_table(path, o, [&](const comet::data::TableRow& row) {
      ++rows;
      for (int64_t c = 0; c < row.size(); ++c) {
        (void)row.text(c);
        comet::fuzz::expect_only_comet_errors([&] { (void)row.integer(c); });
        comet::fuzz::expect_only_comet_errors([&] { (void)row.number(c); });
        comet::fuzz::expect_only_comet_errors([&] { (void)row.integer_in(c, -10, 10); });
        comet::fuzz::expect_only_comet_errors([&] { (void)row.number_in(c, 0.5, 5.0); });
      }
    });
    if (n != rows) {
      std::fprintf(stderr, "fuzz: read_table returned %lld rows, called back %lld times\n",
                   static_cast<long long>(n), static_cast<long long>(rows));
      std::abort();
    }
  });
  comet::fuzz::expect_only_comet_errors([&] { (void)comet::data::read_first_line(path); });
  return 0;
}
