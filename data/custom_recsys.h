// The recommender layouts of a custom description (data/custom.h, docs/custom_data.md): "interactions", one
// (user, item[, rating]) record per row, and "matrix", one row per user and one column per item. Either is read
// into data/recsys.h's Interactions and made into the paper's recommender splits (sampled unobserved pairs, the
// stratified split), so the MovieLens, Jester and Book-Crossing readers are presets of it. Also the two pieces of
// custom.cpp's CSV reading both use. Test: tests/data/test_custom_recsys.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/custom.h"
#include "data/table.h"

namespace comet::data {

// The table reader's options for d's CSV files: separator, quotes, header, and d.columns as the header the file
// must have (or, without a header, the names of its columns).
TableOptions custom_table_options(const CustomDescription& d);

// The 0-based position of column `c` in `file`, which has `count` columns named `names` (empty: unnamed); `key` is
// the JSON key that gave it, for messages.
int64_t custom_column(const CustomDescription& d, const ColumnRef& c, const std::string& key, const std::string& file,
                      int64_t count, const std::vector<std::string>& names);

// The splits of d.interactions or d.matrix read from d.train's CSV file. Seeded.
Splits read_custom_recommender(const CustomDescription& d, uint64_t seed);

}  // namespace comet::data
