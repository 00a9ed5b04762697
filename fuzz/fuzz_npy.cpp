// libFuzzer target: core/io/npy.h load_npy on arbitrary bytes.
#include "core/io/npy.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = comet::fuzz::write_file("input.npy", data, size);
  comet::fuzz::expect_only_comet_errors([&] {
    const comet::Tensor t = comet::io::load_npy(path);
    if (t.numel() > 0) (void)t.item(t.numel() - 1);  // the last element must be readable
  });
  return 0;
}
