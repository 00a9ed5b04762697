// libFuzzer target: data/movielens.h read_movielens on a single file of arbitrary bytes (a MovieLens ratings file:
// u.data, ratings.dat or ratings.csv, detected from the first line), through negative sampling and the
// splits; the returned parts must pass Dataset::validate.
#include "data/movielens.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return comet::fuzz::fuzz_reader("ratings.dat", comet::data::read_movielens, data, size);
}
