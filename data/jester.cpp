// Jester matrix reader. Test: tests/data/test_jester_books.cpp.
#include "data/jester.h"

#include "core/error.h"
#include "data/recsys.h"
#include "data/table.h"

namespace comet::data {

Splits read_jester(const std::string& path, uint64_t seed) {
  TableOptions options;
  options.separator = ",";
  options.column_names = {"count"};
  Interactions records;
  records.file = path;
  int64_t jokes = -1;
  read_table(path, options, [&](const TableRow& row) {
    if (jokes < 0) jokes = row.size() - 1;
    if (jokes < 1) row.fail("a Jester row needs the count column and at least one joke column");
    const int64_t count = row.integer_in(0, 0, jokes);
    int64_t rated = 0;
    for (int64_t c = 1; c <= jokes; ++c) {
      const double v = row.number(c);
      if (v == kJesterNotRated) continue;
      if (v < -10.0 || v > 10.0)
        row.fail(c, fmt::format("joke {}: {} is outside [-10, 10] (99 = not rated)", c, row.text(c)));
      records.add(records.users, c - 1, row.line(), static_cast<float>(v), true);
      ++rated;
    }
    if (rated != count)
      row.fail(0, fmt::format("the count says {} jokes rated, but {} ratings are not 99", count, rated));
    ++records.users;
  });
  records.items = jokes;
  return recommender_splits(records, seed,
                            fmt::format("Jester {}: {} ratings, {} users, {} jokes", path, records.size(),
                                        records.users, records.items));
}

}  // namespace comet::data
