// Book-Crossing ratings reader: a preset of the custom description's interactions (data/custom.h).
// Test: tests/data/test_jester_books.cpp.
#include "data/books.h"

#include "data/custom.h"

namespace comet::data {

Splits read_books(const std::string& path, uint64_t seed) {
  CustomDescription d;
  d.json = "Book-Crossing";
  d.train.csv = path;
  d.separator = ";";
  d.quoted = true;
  d.header = true;
  d.columns = {"User-ID", "ISBN", "Book-Rating"};
  CustomInteractions& r = d.interactions.emplace();
  r.user = {ColumnRef::at(0), CustomIdType::Integer};
  r.item = {ColumnRef::at(1), CustomIdType::Text};
  r.rating = ColumnRef::at(2);
  r.ratings.range = {0.0, 10.0};
  r.ratings.integer = true;
  r.ratings.implicit = 0.0;
  r.min_records = kBooksMinRecords;
  return read_custom(d, seed);
}

}  // namespace comet::data
