// libFuzzer target: core/io/safetensors.h load_safetensors and load_safetensors_metadata on arbitrary bytes; what
// load_safetensors returns must agree with the metadata reader's verdict.
#include "core/io/safetensors.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = comet::fuzz::write_file("input.safetensors", data, size);
  bool tensors_ok = false, metadata_ok = false;
  comet::fuzz::expect_only_comet_errors([&] {
    const comet::io::NamedTensors tensors = comet::io::load_safetensors(path);
    for (const auto& [name, t] : tensors)
      if (t.numel() > 0) (void)t.item(t.numel() - 1);
    tensors_ok = true;
  });
  comet::fuzz::expect_only_comet_errors([&] {
    (void)comet::io::load_safetensors_metadata(path);
    metadata_ok = true;
  });
  // The metadata reader validates the header as load_safetensors does: it may not refuse a file that loads.
  if (tensors_ok && !metadata_ok) {
    std::fprintf(stderr, "fuzz: load_safetensors accepts a file load_safetensors_metadata refuses\n");
    std::abort();
  }
  return 0;
}
