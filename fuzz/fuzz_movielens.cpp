// libFuzzer target: data/movielens.h read_movielens on a single file of arbitrary bytes (a MovieLens ratings file:
// u.data, ratings.dat or ratings.csv, detected from the first line), through negative sampling and the
// splits; the returned parts must pass Dataset::validate.
#include "data/movielens.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = comet::fuzz::write_file("ratings.dat", data, size);
  comet::data::Splits s;
  bool read = false;
  comet::fuzz::expect_only_comet_errors([&] {
    s = comet::data::read_movielens(path, 1);
    read = true;
  });
  if (read) comet::fuzz::must_be_valid(s);
  return 0;
}
