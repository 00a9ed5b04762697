// comet_train --device cuda (a child process; in ctest's tools/emulated-device/ run on the host emulation of the
// device, COMET_CUDA_EMULATE=1, which the child inherits): two epochs on the synthetic data against the same run on the
// CPU. The device sums in other orders, and Adam turns last-bit differences of small gradients into visible ones, so
// the saved models are compared within 1e-3 of each tensor's rms (2.3e-4 seen with Top-k); the tree gates' training is
// sensitive to the last bit even on the CPU alone (COMET's test loss moves by 2% between the scalar and the AVX-512
// kernels after two epochs), so for them the device run only has to finish. Two device runs with the same seed must
// write bit-identical models. Skipped without a device.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "child_process.h"
#include "test_util.h"

namespace comet {
namespace {

// Runs comet_train on the small synthetic data with `extra` options, saving the model to `save`; its exit status.
int train(const std::string& device, const std::vector<std::string>& extra, const std::string& save) {
  std::vector<std::string> args{COMET_TRAIN_PATH, "--experts", "4", "--samples", "2048", "--batch", "256",
                                "--epochs", "2", "--threads", "1", "--progress", "off", "--device", device,
                                "--save", save};
  args.insert(args.end(), extra.begin(), extra.end());
  return test::run_to_end(args);
}

// Whether a and b hold the same names, dtypes, shapes and bytes.
bool bit_identical(const io::NamedTensors& a, const io::NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Tensor &x = a[i].second, &y = b[i].second;
    if (a[i].first != b[i].first || x.dtype() != y.dtype() || x.shape() != y.shape() ||
        std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0)
      return false;
  }
  return true;
}

// Whatever the file at `path` holds.
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("comet_train --device cuda without a usable device stops before reading the data, saying why") {
#ifdef COMET_WITH_CUDA
  if (cuda_available()) COMET_SKIP_TEST("a CUDA device is usable here: " + cuda_status());
#endif
  const std::string err = (std::filesystem::temp_directory_path() /
                           ("comet_no_device_" + std::to_string(getpid()) + ".txt")).string();
  const int status = test::run_to_end({COMET_TRAIN_PATH, "--dataset", "movielens", "--data",
                                       "/nonexistent/comet-movielens", "--device", "cuda"}, err);
  const std::string text = read_text(err);
  std::filesystem::remove(err);
  INFO("standard error: ", text);
  CHECK(status == 1);
  CHECK(text.find("error: --device cuda: ") != std::string::npos);
  CHECK(text.find("/nonexistent") == std::string::npos);  // the check came before the data
#ifdef COMET_WITH_CUDA
  CHECK(text.find("no usable CUDA device (") != std::string::npos);
#else
  CHECK(text.find("this build has no CUDA backend") != std::string::npos);
#endif
}

TEST_CASE("comet_train --device cuda trains on the device: Top-k and Softmax end near the CPU's model; every gate, "
          "the swap pass and the fused update finish") {
  COMET_SKIP_WITHOUT_CUDA();
  const test::TempDir dir;
  using Options = std::vector<std::string>;
  for (const Options& options : {Options{"--gate", "topk", "--local-search", "learned"},
                                 Options{"--gate", "softmax", "--local-search", "none"}}) {
    INFO(options[1] << " " << options[3]);
    REQUIRE(train("cuda", options, dir.path("device.safetensors")) == 0);
    REQUIRE(train("cpu", options, dir.path("cpu.safetensors")) == 0);
    const io::NamedTensors device = io::load_safetensors(dir.path("device.safetensors"));
    const io::NamedTensors cpu = io::load_safetensors(dir.path("cpu.safetensors"));
    REQUIRE(device.size() == cpu.size());
    // The device's sums run in other orders, so some bit differs: equal files would mean it trained on the CPU.
    CHECK_FALSE(bit_identical(device, cpu));
    for (size_t i = 0; i < cpu.size(); ++i) {
      INFO(cpu[i].first);
      CHECK(device[i].first == cpu[i].first);
      const bool floating = cpu[i].second.dtype() == DType::F32 || cpu[i].second.dtype() == DType::F64;
      // integers (the permutation) exactly: an atol of 0 would divide 0 by 0
      const double atol = floating ? 1e-3 * test::rms(cpu[i].second) : std::numeric_limits<double>::min();
      COMET_CHECK_CLOSE(device[i].second, cpu[i].second, 0.0, atol);
    }
  }
  for (const char* gate : {"comet", "dselect"}) {
    INFO(gate);
    CHECK(train("cuda", {"--gate", gate, "--local-search", "learned"}, dir.path(std::string(gate) + ".st")) == 0);
  }
  // The swap pass, and the options that change the optimizer's steps.
  CHECK(train("cuda", {"--gate", "topk", "--local-search", "swap"}, dir.path("swap.safetensors")) == 0);
  CHECK(train("cuda", {"--gate", "topk", "--idle-experts", "skip", "--expert-update", "backward"},
              dir.path("fused.safetensors")) == 0);
}

// No float atomics in an order-dependent sum on the device (issue 11): the same seed gives the same bits, run after
// run. On the host emulation this holds by construction; on a GPU it is the check.
TEST_CASE("comet_train on the device: two runs with the same seed write bit-identical models") {
  COMET_SKIP_WITHOUT_CUDA();
  const test::TempDir dir;
  using Options = std::vector<std::string>;
  for (const Options& options : {Options{"--gate", "comet", "--local-search", "learned"},
                                 Options{"--gate", "topk", "--local-search", "swap"}}) {
    INFO(options[1] << " " << options[3]);
    REQUIRE(train("cuda", options, dir.path("first.safetensors")) == 0);
    REQUIRE(train("cuda", options, dir.path("second.safetensors")) == 0);
    CHECK(bit_identical(io::load_safetensors(dir.path("first.safetensors")),
                        io::load_safetensors(dir.path("second.safetensors"))));
  }
}

}  // namespace comet
