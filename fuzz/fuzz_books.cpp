// libFuzzer target: data/books.h read_books on a single file of arbitrary bytes (a Book-Crossing ratings CSV),
// through negative sampling and the splits; the returned parts must pass Dataset::validate.
#include "data/books.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = comet::fuzz::write_file("BX-Book-Ratings.csv", data, size);
  comet::data::Splits s;
  bool read = false;
  comet::fuzz::expect_only_comet_errors([&] {
    s = comet::data::read_books(path, 1);
    read = true;
  });
  if (read) comet::fuzz::must_be_valid(s);
  return 0;
}
