// libFuzzer target: comet_train's --config parsing (tools/cli/train_options.h) on arbitrary JSON text, then CLI11's
// parse of the arguments it gives and the option checks, exactly as comet_train runs them before reading any data.
// Refusals are comet::Error (bad JSON, unknown key, options that do not apply) or CLI::ParseError (a value CLI11's
// validators refuse); anything else is a finding. The checks only look at paths (no file is read or written).
#include "fuzz/fuzz_common.h"
#include "tools/cli/train_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  comet::fuzz::expect_only_comet_errors([&] {
    comet::cli::TrainOptions o;
    CLI::App app{"fuzz"};
    comet::cli::add_train_options(app, o);
    std::vector<std::string> args;
    try {
      args = comet::cli::config_arguments(text, "config.json", app);
      std::reverse(args.begin(), args.end());  // as parse_train_arguments: CLI11 parses a vector from its back
      app.parse(args);
    } catch (const CLI::ParseError&) {
      return;  // CLI11 refused a value: an expected refusal
    }
    comet::cli::check_train_options(o, app);
  });
  return 0;
}
