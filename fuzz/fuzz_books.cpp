// libFuzzer target: data/books.h read_books on a single file of arbitrary bytes (a Book-Crossing ratings CSV),
// through negative sampling and the splits; the returned parts must pass Dataset::validate.
#include "data/books.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return comet::fuzz::fuzz_reader("BX-Book-Ratings.csv", comet::data::read_books, data, size);
}
