// libFuzzer target: data/jester.h read_jester on a single file of arbitrary bytes (a Jester matrix CSV), through
// negative sampling and the
// splits; the returned parts must pass Dataset::validate.
#include "data/jester.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return comet::fuzz::fuzz_reader("jester.csv", comet::data::read_jester, data, size);
}
