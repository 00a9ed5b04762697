// libFuzzer target: data/custom.h parse_custom_text on arbitrary JSON text, then, when the description parses and
// names only files inside this target's temporary folder, read_custom over the small CSV and .npy files written there
// at start (see make_files: data.csv, train/val/test.csv, digits.csv, folders train/ and val/ of .npy arrays, and
// loose arrays), whose parts must pass Dataset::validate. Descriptions naming other files are only parsed (an absolute
// path could name /dev/zero or a FIFO).
#include <vector>

#include "core/io/npy.h"
#include "data/custom.h"
#include "fuzz/fuzz_common.h"

namespace {

using namespace comet;

std::string& folder() {
  static std::string dir;
  return dir;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// 12 rows: user (text), item, age, price, clicked (0/1), rating (empty = missing), label (0..2).
void make_files(const std::string& dir) {
  std::string csv = "user,item,age,price,clicked,rating,label\n";
  const char* users[] = {"alice", "bob", "carol", "dan"};
  for (int i = 0; i < 12; ++i)
    csv += fmt::format("{},{},{},{},{},{},{}\n", users[i % 4], (i * 7) % 5, 20 + i, 0.25 * i, i % 2,
                       i % 3 == 0 ? "" : std::to_string(1 + i % 5), i % 3);
  for (const char* name : {"data.csv", "train.csv", "val.csv", "test.csv"}) write_text(dir + "/" + name, csv);
  std::string digits;  // headerless: label, then a 1x2x2 image
  for (int i = 0; i < 12; ++i) digits += fmt::format("{},{},{},{},{}\n", i % 3, i, i + 1, i % 4, 255 - i);
  write_text(dir + "/digits.csv", digits);
  std::vector<int64_t> ids;
  std::vector<float> dense, targets, mask;
  for (int i = 0; i < 12; ++i) {
    ids.insert(ids.end(), {i % 4, (i * 7) % 5});
    dense.insert(dense.end(), {0.5f * i, 1.0f - i, 3.0f});
    targets.insert(targets.end(), {static_cast<float>(i % 2), i % 3 == 0 ? -1.0f : 1.0f + i % 5});
    mask.insert(mask.end(), {1.0f, i % 4 == 0 ? 0.0f : 1.0f});
  }
  const Tensor ti = Tensor::from_vector<int64_t>({12, 2}, ids);
  const Tensor td = Tensor::from_vector<float>({12, 3}, dense);
  const Tensor tt = Tensor::from_vector<float>({12, 2}, targets);
  const Tensor tm = Tensor::from_vector<float>({12, 2}, mask);
  for (const char* part : {"train", "val", "test"}) {
    std::filesystem::create_directories(dir + "/" + part);
    io::save_npy(dir + "/" + part + "/ids.npy", ti);
    io::save_npy(dir + "/" + part + "/dense.npy", td);
    io::save_npy(dir + "/" + part + "/targets.npy", tt);
    io::save_npy(dir + "/" + part + "/mask.npy", tm);
  }
  io::save_npy(dir + "/t_ids.npy", ti);
  io::save_npy(dir + "/t_y.npy", tt);
  io::save_npy(dir + "/x.npy", td);
  io::save_npy(dir + "/y.npy", tt);
  io::save_npy(dir + "/m.npy", tm);
  std::vector<float> labels;
  for (int i = 0; i < 12; ++i) labels.push_back(static_cast<float>(i % 2));
  io::save_npy(dir + "/y1.npy", Tensor::from_vector<float>({12}, labels));
}

bool inside(const std::string& path) {
  if (path.empty()) return true;
  const std::string p = std::filesystem::path(path).lexically_normal().string();
  return p.compare(0, folder().size() + 1, folder() + "/") == 0;
}

bool only_own_files(const data::CustomSource& s) {
  return inside(s.csv) && inside(s.ids) && inside(s.dense) && inside(s.targets) && inside(s.mask);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder() = fuzz::temp_dir() + "/json";
  std::filesystem::create_directories(folder());
  make_files(folder());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  data::CustomDescription d;
  bool parsed = false;
  fuzz::expect_only_comet_errors([&] {
    d = data::parse_custom_text(text, "spec.json", folder());
    parsed = true;
  });
  if (!parsed || !only_own_files(d.train) || (d.val && !only_own_files(*d.val)) ||
      (d.test && !only_own_files(*d.test)))
    return 0;
  data::Splits s;
  bool read = false;
  fuzz::expect_only_comet_errors([&] {
    s = data::read_custom(d, 1);
    read = true;
  });
  if (read) fuzz::must_be_valid(s);
  return 0;
}
