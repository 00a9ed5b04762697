// The recommender construction shared by the MovieLens, Jester and Book-Crossing readers (spec comet.md 6.1):
// raw ids to dense indices (sorted by raw id), sampled "implicit negatives" (per user, as many unrated items as the
// user rated), the two-task Dataset layout (T1 watched/read/rated 0/1, T2 the rating, masked where there is none)
// and the paper generator's seeded split, stratified on T1: 90 % / 10 % (train+val / test), then 87.5 % / 12.5 %
// (train / val). Test: tests/data/test_movielens.cpp, tests/data/test_jester_books.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"

namespace comet::data {

// Raw ids mapped to 0..size-1 in ascending order of the raw id (numbers by value, strings bytewise), so the mapping
// does not depend on row order; MovieLens ids 1..n become id - 1, as in the COMET authors' processed files.
struct DenseIds {
  std::vector<int64_t> index;  // per record
  int64_t size = 0;            // distinct raw ids (the vocabulary)
};
DenseIds dense_ids(const std::vector<int64_t>& raw);
DenseIds dense_ids(const std::vector<std::string>& raw);
// Ids read as text: by numeric value when every one is an integer, else bytewise.
DenseIds dense_ids_auto(const std::vector<std::string>& raw);

// Observed (user, item) records, ids already dense; the rows of the two tasks before negatives are added.
struct Interactions {
  std::string file;             // where the records came from, for messages
  int64_t users = 0, items = 0;  // vocabularies
  std::vector<int64_t> user, item;
  std::vector<int64_t> line;     // source line of each record (for messages)
  std::vector<float> rating;     // T2 target (0 where not rated)
  std::vector<float> rated;      // T2 mask: 1 where rating is an observed rating

  int64_t size() const { return static_cast<int64_t>(user.size()); }
  void add(int64_t u, int64_t i, int64_t source_line, float value, bool has_rating);
};

// Refuses a (user, item) pair that occurs twice, naming the file and both lines.
void check_unique_pairs(const Interactions& records);

// The two-task Dataset (ids (user, item), T1 = 1, T2 = rating masked by `rated`) of the records followed by sampled
// negatives: for each user, min(k, items - k) distinct items among those the user did not rate (uniform, seeded),
// with T1 = 0 and T2 masked, k being the user's record count. Rows: the records in order, then the negatives by user.
Dataset with_sampled_negatives(const Interactions& records, Generator& gen);

// The two-task layout (ids, id_names, vocab, key_column = user, tasks t1 binary / t2 regression) around the given
// columns; targets = (watched, rating), mask = (1, rating_observed).
Dataset recommender_dataset(const std::vector<int64_t>& user, const std::vector<int64_t>& item, int64_t users,
                            int64_t items, const std::vector<float>& watched, const std::vector<float>& rating,
                            const std::vector<float>& rating_observed);

// Splits the rows of `d` into (first, second) with `second_rows` rows in the second part, stratified on T1 (each T1
// value's share of the second part is within one row of its share of `d`, largest remainders), each part shuffled.
std::pair<Dataset, Dataset> split_stratified(const Dataset& d, int64_t second_rows, Generator& gen);

// The paper generator's split: test = ceil(N / 10) rows, val = ceil(rest / 8), train the others, all stratified.
Splits split_paper(const Dataset& all, Generator& gen, const std::string& source);

// The whole construction for a reader: unique pairs checked, negatives sampled, split; seeded; every part validated.
Splits recommender_splits(const Interactions& records, uint64_t seed, const std::string& source);

}  // namespace comet::data
