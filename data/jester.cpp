// Jester matrix reader: a preset of the custom description's matrix layout (data/custom.h).
// Test: tests/data/test_jester_books.cpp.
#include "data/jester.h"

#include "data/custom.h"

namespace comet::data {

Splits read_jester(const std::string& path, uint64_t seed) {
  CustomDescription d;
  d.json = "Jester";
  d.train.csv = path;
  d.header = false;
  d.quoted = false;
  CustomMatrix& m = d.matrix.emplace();
  m.count = true;
  m.not_rated = kJesterNotRated;
  m.ratings.range = {-10.0, 10.0};
  return read_custom(d, seed);
}

}  // namespace comet::data
