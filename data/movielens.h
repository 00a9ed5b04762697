// MovieLens as the paper's two-task recommender set (spec comet.md 6.1): T1 watched (0/1), T2 the rating, masked
// where unwatched. Reads either a ratings file of a published release (format detected from its first line):
//   ml-100k u.data            tab-separated `user item rating timestamp`, no header, ratings 1..5
//   ml-1m / ml-10m ratings.dat `::`-separated, same columns, no header, ratings 0.5..5 in half stars (ml-1m: whole)
//   ml-latest(-small), ml-20m+ ratings.csv, header `userId,movieId,rating,timestamp`, ratings 0.5..5 in half stars
// then adds sampled unwatched pairs and splits (data/recsys.h), each layout a preset of the custom description's
// interactions (data/custom.h); or a folder in the COMET authors' processed ML-1M layout (shared_features/,
// watch_classification_targets/, rating_regression_targets/, no headers), used as it is.
// Test: tests/data/test_movielens.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace comet::data {

// The COMET folder's vocabularies: ML-1M's largest user and movie ids (the ids there are ML-1M id - 1).
inline constexpr int64_t kCometMovieLensUsers = 6040;
inline constexpr int64_t kCometMovieLensMovies = 3952;
// The folder lacks train features: its val file (224,944 rows) is split into this many train rows and the rest
// (34,944) as val; a val file of another size is split in the same proportion (rows * 190000 / 224944, floored).
inline constexpr int64_t kCometTrainRowsFromVal = 190000;
inline constexpr int64_t kCometPublishedValRows = 224944;

// `path`: a ratings file (see above) or a COMET-layout folder. Seeded: the same file and seed give the same splits.
Splits read_movielens(const std::string& path, uint64_t seed);

}  // namespace comet::data
