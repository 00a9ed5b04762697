// libFuzzer target: data/jester.h read_jester on a single file of arbitrary bytes (a Jester matrix CSV), through
// negative sampling and the
// splits; the returned parts must pass Dataset::validate.
#include "data/jester.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = comet::fuzz::write_file("jester.csv", data, size);
  comet::data::Splits s;
  bool read = false;
  comet::fuzz::expect_only_comet_errors([&] {
    s = comet::data::read_jester(path, 1);
    read = true;
  });
  if (read) comet::fuzz::must_be_valid(s);
  return 0;
}
