// MovieLens readers: published ratings files (three layouts, each a preset of the custom description's interactions)
// and the COMET processed folder.
// Test: tests/data/test_movielens.cpp.
#include "data/movielens.h"

#include <filesystem>

#include "core/error.h"
#include "data/custom.h"
#include "data/recsys.h"
#include "data/table.h"

namespace comet::data {

namespace {

// A ratings file of a published release as a custom description (data/custom.h): interactions `user item rating
// timestamp`, integer ids, ratings in [min_rating, 5] in steps of `step`, timestamps checked.
CustomDescription ratings_file(const std::string& path, const std::string& layout, const std::string& separator,
                               bool header, std::vector<std::string> columns, double min_rating, double step) {
  CustomDescription d;
  d.json = "MovieLens " + layout;
  d.train.csv = path;
  d.separator = separator;
  d.header = header;
  d.quoted = false;
  d.columns = std::move(columns);
  CustomInteractions& r = d.interactions.emplace();
  r.user = {ColumnRef::at(0), CustomIdType::Integer};
  r.item = {ColumnRef::at(1), CustomIdType::Integer};
  r.rating = ColumnRef::at(2);
  r.ratings.range = {min_rating, 5.0};
  r.ratings.step = step;
  r.time = ColumnRef::at(3);
  return d;
}

// The release, from the first line: the ml-latest header, else "::" (ml-1m / ml-10m), else a tab (ml-100k).
CustomDescription detect_format(const std::string& path) {
  const std::string first = read_first_line(path);
  const std::vector<std::string> columns = {"user", "item", "rating", "timestamp"};
  if (first == "userId,movieId,rating,timestamp")
    return ratings_file(path, "ratings.csv (ml-latest layout)", ",", true,
                        {"userId", "movieId", "rating", "timestamp"}, 0.5, 0.5);
  if (first.find("::") != std::string::npos)
    return ratings_file(path, "ratings.dat (ml-1m / ml-10m layout)", "::", false, columns, 0.5, 0.5);
  if (first.find('\t') != std::string::npos)
    return ratings_file(path, "u.data (ml-100k layout)", "\t", false, columns, 1.0, 1.0);
  throw Error(fmt::format(
      "{}: not a MovieLens ratings file: line 1 '{}' is neither tab-separated (ml-100k u.data), '::'-separated "
      "(ml-1m ratings.dat) nor the header 'userId,movieId,rating,timestamp' (ml-latest ratings.csv)",
      path, first.substr(0, 80)));
}

// The COMET folder is not a preset of the custom description: each part is three headerless files read row for row
// side by side (ids, watched, rating), already holding their unobserved pairs, with the ML-1M vocabularies fixed,
// and train is split off val in the published proportion. None of that is a ratings file's layout.
// One split of the COMET folder: its three files, row for row.
struct CometPart {
  std::vector<int64_t> user, movie;
  std::vector<float> watched, rating;
};

std::string comet_file(const std::string& dir, const std::string& kind, const std::string& split) {
  return (std::filesystem::path(dir) / kind / fmt::format("{}_{}.csv", kind, split)).string();
}

int64_t read_one_column(const std::string& file, const std::string& name,
                        const std::function<void(const TableRow&)>& on_row) {
  TableOptions options;
  options.columns = 1;
  options.column_names = {name};
  return read_table(file, options, on_row);
}

CometPart read_comet_part(const std::string& dir, const std::string& split) {
  CometPart p;
  const std::string features = comet_file(dir, "shared_features", split),
                    watch = comet_file(dir, "watch_classification_targets", split),
                    rating = comet_file(dir, "rating_regression_targets", split);
  TableOptions options;
  options.columns = 2;
  options.column_names = {"user", "movie"};
  const int64_t rows = read_table(features, options, [&](const TableRow& row) {
    p.user.push_back(row.integer_in(0, 0, kCometMovieLensUsers - 1));
    p.movie.push_back(row.integer_in(1, 0, kCometMovieLensMovies - 1));
  });
  const int64_t watch_rows = read_one_column(watch, "watched", [&](const TableRow& row) {
    p.watched.push_back(static_cast<float>(row.integer_in(0, 0, 1)));
  });
  COMET_CHECK(watch_rows == rows, "{} has {} rows but {} has {}", features, rows, watch, watch_rows);
  const int64_t rating_rows = read_one_column(rating, "rating", [&](const TableRow& row) {
    const double r = row.number_in(0, 0.0, 5.0);
    const size_t i = p.rating.size();
    if (i < p.watched.size() && (r > 0) != (p.watched[i] == 1.0f))  // (a longer file fails the count check)
      row.fail(0, fmt::format("rating {} disagrees with {}:{} (watched = {})", row.text(0), watch, row.line(),
                              p.watched[i]));
    p.rating.push_back(static_cast<float>(r));
  });
  COMET_CHECK(rating_rows == rows, "{} has {} rows but {} has {}", features, rows, rating, rating_rows);
  return p;
}

Dataset comet_dataset(const CometPart& p) {
  return recommender_dataset(p.user, p.movie, kCometMovieLensUsers, kCometMovieLensMovies, p.watched, p.rating,
                             p.watched);
}

Splits read_comet_folder(const std::string& dir, uint64_t seed) {
  Splits s;
  s.test = comet_dataset(read_comet_part(dir, "test"));
  const Dataset val = comet_dataset(read_comet_part(dir, "val"));
  std::string train_from;
  if (std::filesystem::exists(comet_file(dir, "shared_features", "train"))) {
    s.train = comet_dataset(read_comet_part(dir, "train"));
    s.val = val;
    train_from = "train files";
  } else {
    Generator gen(seed);
    const int64_t train_rows = val.rows() * kCometTrainRowsFromVal / kCometPublishedValRows;
    std::tie(s.train, s.val) = split_stratified(val, val.rows() - train_rows, gen);
    train_from = fmt::format("split from val: no train features; seed {}", seed);
  }
  s.source = fmt::format("MovieLens-1M, COMET processed folder {}: train {} rows ({}), val {}, test {}", dir,
                         s.train.rows(), train_from, s.val.rows(), s.test.rows());
  s.train.validate(s.source + ": train");
  s.val.validate(s.source + ": val");
  s.test.validate(s.source + ": test");
  return s;
}

}  // namespace

Splits read_movielens(const std::string& path, uint64_t seed) {
  if (std::filesystem::is_directory(path)) return read_comet_folder(path, seed);
  return read_custom(detect_format(path), seed);
}

}  // namespace comet::data
