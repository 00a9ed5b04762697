// libFuzzer target: data/custom.h read_custom on an arbitrary CSV file, under fixed descriptions (the first input
// byte picks one): the docs/custom_data.md example (header, id columns by name and remapped, dense columns, binary /
// regression-with-missing-text / multiclass tasks, a stratified split) and a headerless one (columns by index, an id
// column with a vocab, a dense range, a 1x2x2 image, a numeric missing value). The rest of the input is the file.
#include "data/custom.h"
#include "fuzz/fuzz_common.h"

namespace {

const char* const kSpecs[] = {
    R"({"format": "csv", "file": "data.csv", "split": {"val": 0.2, "test": 0.2, "stratify": "label"},
        "ids": [{"column": "user", "key": true}, {"column": "item"}], "dense": ["age", "price"],
        "tasks": [{"column": "clicked", "kind": "binary", "name": "t1"},
                  {"column": "rating", "kind": "regression", "missing": ""},
                  {"column": "label", "kind": "multiclass", "classes": 3}]})",
    R"({"format": "csv", "header": false, "separator": ";", "file": "data.csv", "split": {"val": 0.25, "test": 0.25},
        "ids": [{"column": 0, "vocab": 5, "name": "u"}], "dense": {"from": 1, "to": 4}, "image": [1, 2, 2],
        "tasks": [{"column": 5, "kind": "regression", "missing": -1}]})",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string dir = comet::fuzz::temp_dir() + "/csv";
  static const bool made = std::filesystem::create_directories(dir);
  (void)made;
  const int spec = data[0] % 2;
  const auto file = comet::fuzz::write_file("csv/data.csv", data + 1, size - 1);
  (void)file;
  comet::data::CustomDescription d = comet::data::parse_custom_text(kSpecs[spec], "spec.json", dir);
  comet::data::Splits s;
  bool read = false;
  comet::fuzz::expect_only_comet_errors([&] {
    s = comet::data::read_custom(d, 1);
    read = true;
  });
  if (read) comet::fuzz::must_be_valid(s);
  return 0;
}
