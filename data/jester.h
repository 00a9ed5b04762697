// Jester (Goldberg et al. 2001) as the paper's two-task recommender set (spec comet.md 6.1): T1 "will the user rate
// the joke" (0/1), T2 the rating in [-10, 10], masked where not rated. Input: the dataset 1/2/3 matrix as CSV (comma,
// no header), one row per user: the number of jokes the user rated, then one column per joke (100 in datasets 1 and
// 2), 99 = not rated. Users are the rows in file order (row r -> user r, rows with no rating kept in the vocabulary),
// jokes the columns. Unrated pairs are sampled as negatives by the rule of data/recsys.h, then split. A preset of
// the custom description's matrix layout (data/custom.h, docs/custom_data.md).
// Test: tests/data/test_jester_books.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace comet::data {

inline constexpr double kJesterNotRated = 99.0;

// Refuses a count column that disagrees with the row's ratings, ratings outside [-10, 10] other than 99, and rows
// of another width than the first (each naming the line and column). Seeded.
Splits read_jester(const std::string& path, uint64_t seed);

}  // namespace comet::data
