// libFuzzer target: data/custom.h parse_custom_text on arbitrary JSON text (relative paths resolve against an empty
// temporary folder; no data file is read).
#include "data/custom.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string dir = comet::fuzz::temp_dir() + "/json";
  static const bool made = std::filesystem::create_directories(dir);
  (void)made;
  comet::fuzz::expect_only_comet_errors(
      [&] { (void)comet::data::parse_custom_text(text, "spec.json", dir); });
  return 0;
}
