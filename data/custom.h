// A user's own data set: CSV files or .npy arrays described by a small JSON file (which columns are categorical ids,
// which dense features, which targets with which task kind), read into the Dataset every model trains on. The format,
// with a complete example, is in docs/custom_data.md. Every bad input is refused with comet::Error naming the JSON
// file and key ("spec.json: 'tasks[1]': missing key 'kind'") or the data file with line and column
// ("train.csv:7: column 3 ('age'): 'x' is not a number"; .npy: "ids.npy: [4, 1]: ..."). CSV goes through the one
// delimited-text reader (data/table.h); ids are remapped with dense_ids and parts split with split_stratified
// (data/recsys.h). Test: tests/data/test_custom.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace comet::data {

// A column of a data file: by header name, or by 0-based index (files without a header, and .npy arrays).
struct ColumnRef {
  std::string name;    // when not empty
  int64_t index = -1;  // otherwise
  std::string str() const;  // "'user'" or "2", for messages
  static ColumnRef at(int64_t index) { return {"", index}; }
};

struct CustomIdColumn {
  ColumnRef column;
  std::string name;                // Dataset::id_names entry (default: the header name, else "id<index>")
  bool key = false;                // the Hash routing key column (at most one)
  std::optional<int64_t> vocab;    // ids already in [0, vocab), kept as they are; else remapped over all parts
  std::string where;               // JSON key, for messages ("ids[0]")
};

struct CustomTask {
  ColumnRef column;
  TaskSpec spec;                           // name defaults to the header name, else "t<position + 1>"
  std::optional<double> missing;           // a target equal to this is missing (masked)
  std::optional<std::string> missing_text; // CSV: a field with this text (spaces trimmed) is missing (masked)
  std::string where;                       // JSON key ("tasks[2]")
};

// The rating values of a recommender layout (interactions or matrix): how they are checked and which one means
// "no rating".
struct CustomRatings {
  std::optional<std::pair<double, double>> range;  // [min, max], inclusive
  std::optional<double> step;                       // a rating must be a multiple of it (half stars: 0.5)
  bool integer = false;                             // a rating must be written as an integer
  std::optional<double> implicit;                   // a record with this rating has none (T2 masked; Books: 0)
};

// A user or item column of interactions.
enum class CustomIdType { Auto, Integer, Text };  // Auto: by value when every id is an integer, else bytewise
struct CustomInteractionId {
  ColumnRef column;
  CustomIdType type = CustomIdType::Auto;  // Integer: a field that is not one is refused
};

// One (user, item[, rating]) record per row. The data set is the paper's recommender set (data/recsys.h): T1 "the
// pair is observed" (every record 1, sampled unobserved pairs 0), and with a rating column T2 the rating, masked
// where absent or implicit; split as the paper's generator splits.
struct CustomInteractions {
  CustomInteractionId user, item;
  std::optional<ColumnRef> rating;
  CustomRatings ratings;
  std::optional<ColumnRef> time;  // integer timestamps: checked, not used
  int64_t min_records = 1;        // users and items with fewer records are dropped (counted once, over all records)
};

// A wide matrix: one row per user (in file order, rows without a rating kept), one column per item. The data set is
// built as from interactions with a rating.
struct CustomMatrix {
  bool count = false;               // the first column counts the row's ratings, checked
  std::optional<double> not_rated;  // a cell with this value is no record (Jester: 99)
  CustomRatings ratings;
};

// The rows of one part: a CSV file, or .npy files (paths; empty = absent).
struct CustomSource {
  std::string csv;
  std::string ids, dense, targets, mask;
  std::string str() const;  // the CSV file, or the targets file's folder, for logs
};

// A parsed and checked description (parse_custom). Paths are resolved against the JSON file's folder.
struct CustomDescription {
  std::string json;              // the description's file (a preset: its name), named in every message about it
  bool npy = false;              // format "npy", else "csv"
  std::string separator = ",";   // csv: see TableOptions
  bool header = true;
  bool quoted = true;
  std::vector<std::string> columns;  // csv: the file's column names; with a header, what it must say exactly
  CustomSource train;                       // "files.train", or "file" (all rows, split by "split")
  std::optional<CustomSource> val, test;    // "files.val", "files.test"; absent ones are split off train's rows
  double val_fraction = 0, test_fraction = 0;  // of train's rows, for the parts without a file
  std::optional<int64_t> stratify;          // task index the split is stratified on (binary or multiclass)
  std::vector<CustomIdColumn> ids;
  std::vector<ColumnRef> dense;             // listed columns, or...
  std::optional<std::pair<ColumnRef, ColumnRef>> dense_range;  // ...an inclusive range "from".."to"
  bool dense_all = false;                   // npy without "dense": every column of dense.npy (if present)
  std::vector<int64_t> image;               // {C, H, W} or empty
  std::vector<CustomTask> tasks;
  std::optional<CustomInteractions> interactions;  // a recommender layout instead of ids and tasks...
  std::optional<CustomMatrix> matrix;              // ...or this one; either reads one file, split as the paper does
};

// Reads and checks a JSON description (`json_path` is named in messages; relative paths resolve against its folder).
CustomDescription parse_custom(const std::string& json_path);
// The same from JSON text: `where` names it in messages, `base_dir` resolves relative paths.
CustomDescription parse_custom_text(const std::string& text, const std::string& where, const std::string& base_dir);

// The rows of `sources` (CSV or .npy as d.npy says) concatenated in order, id columns without a vocab remapped to
// dense indices over all of them (integer ids by value, other ids bytewise), missing targets masked; the row count
// of each source in *rows_per_source when given. Not for the recommender layouts
// (interactions, matrix: negatives are sampled over the whole file before it is split; read_custom reads them).
Dataset custom_dataset(const CustomDescription& d, const std::vector<CustomSource>& sources,
                       std::vector<int64_t>* rows_per_source = nullptr);

// The parts of a description: the files given, the others split off train's rows (seeded, stratified on
// d.stratify when set; each split-off part and the rest shuffled); parts read from files keep their row order.
// Every part passes Dataset::validate. The same files and seed give the same splits. The MovieLens, Jester and
// Book-Crossing readers are presets of this: they fill a description in code and call it.
Splits read_custom(const CustomDescription& d, uint64_t seed);
Splits read_custom(const std::string& json_path, uint64_t seed);

}  // namespace comet::data
