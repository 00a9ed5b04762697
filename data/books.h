// Book-Crossing (Ziegler et al. 2005) as the paper's two-task recommender set (spec comet.md 6.1): T1 "will the user
// read the book" (every record is 1, sampled unread books 0), T2 the rating 1..10, masked where the record is
// implicit (rating 0) or the book unread. Input: BX-Book-Ratings.csv, ';'-separated, every field double-quoted,
// header "User-ID";"ISBN";"Book-Rating", ISBN a string. Only users and books with at least kBooksMinRecords records
// are kept, counted once over the whole file (a single pass, not iterated to a fixed point: a kept user may end with
// fewer records once rare books are dropped). Ids are then made dense (data/recsys.h), negatives sampled, and split.
// A preset of the custom description's interactions (data/custom.h, docs/custom_data.md).
// Test: tests/data/test_jester_books.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace comet::data {

inline constexpr int64_t kBooksMinRecords = 5;

// Refuses a wrong header, a non-integer User-ID, an empty ISBN, a rating outside 0..10, a repeated (user, ISBN).
Splits read_books(const std::string& path, uint64_t seed);

}  // namespace comet::data
