// Crash safety of training checkpoints: comet_train runs as a child process with --checkpoint and is killed with
// SIGKILL at seeded random moments, again and again, some of them inside a checkpoint write (its temporary file is
// left behind). After every kill the last checkpoint must load, and the run resumed from it to the end must give a
// final model equal bit for bit to an uninterrupted run's.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/io/safetensors.h"
#include "core/rng.h"
#include "child_process.h"
#include "test_util.h"

namespace comet {
namespace {

namespace fs = std::filesystem;

// A model large enough that writing its checkpoint (weights and Adam state, about 20 MB) takes a noticeable share of
// each epoch, so that random kills land inside writes too.
std::vector<std::string> run_args(const std::string& checkpoint, const std::string& save) {
  return {COMET_TRAIN_PATH, "--experts", "128", "--samples", "2048", "--batch", "512", "--epochs", "6", "--threads",
          "1", "--progress", "off", "--gate", "topk", "--local-search", "learned", "--perm-epochs", "2",
          "--checkpoint", checkpoint, "--save", save};
}

using test::run_to_end;
using test::spawn;

bool same_tensors(const std::string& a, const std::string& b) {
  const io::NamedTensors x = io::load_safetensors(a), y = io::load_safetensors(b);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i].first != y[i].first || x[i].second.nbytes() != y[i].second.nbytes() ||
        std::memcmp(x[i].second.raw(), y[i].second.raw(), x[i].second.nbytes()) != 0)
      return false;
  return true;
}

bool has_temporary(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path(), ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  return false;
}

// Temporary files of interrupted writes next to `path` (removed).
int leftovers(const std::string& path) {
  int count = 0;
  const std::string prefix = fs::path(path).filename().string() + ".tmp.";
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) {
      ++count;
      fs::remove(e.path());
    }
  return count;
}

// Polls (every 50 us) until `ready` holds or the child has exited; false when it exited (it is reaped then).
template <class F>
bool wait_for(pid_t pid, F ready) {
  for (;;) {
    if (ready()) return true;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// When a kill lands, chosen by progress rather than by the clock alone, so that every kind occurs however loaded the
// machine is: anywhere in the run; inside a checkpoint write that follows a complete checkpoint; or a random time
// after a checkpoint exists.
enum class KillAt { Anywhere, InsideWrite, AfterCheckpoint };

}  // namespace

TEST_CASE("SIGKILL at random moments: the last checkpoint loads and the resumed run equals the uninterrupted one") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("comet_crash_{}", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string reference = (dir / "reference.safetensors").string();
  REQUIRE(run_to_end(run_args((dir / "reference_run.ckpt").string(), reference)) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_end(run_args((dir / "timing.ckpt").string(), (dir / "timing.safetensors").string())) == 0);
  const double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  Generator gen(2026);
  int kills = 0, inside_writes = 0, resumed_from_checkpoint = 0;
  for (int round = 0; round < 24; ++round) {
    const std::string checkpoint = (dir / fmt::format("run{}.ckpt", round)).string();
    const std::string final_model = (dir / fmt::format("final{}.safetensors", round)).string();
    const KillAt when = static_cast<KillAt>(round % 3);
    // Kill once or twice per round (the second time in the resumed run).
    const int kills_this_round = 1 + round % 2;
    for (int k = 0; k < kills_this_round; ++k) {
      const pid_t pid = spawn(run_args(checkpoint, final_model));
      bool alive = true;
      if (when != KillAt::Anywhere) alive = wait_for(pid, [&] { return fs::exists(checkpoint); });
      if (alive && when == KillAt::InsideWrite) alive = wait_for(pid, [&] { return has_temporary(checkpoint); });
      if (alive && when != KillAt::InsideWrite) {
        const double share = when == KillAt::Anywhere ? 1.0 : 1.0 / 3.0;
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(gen.next_uniform() * share * run_ms));
      }
      if (!alive) continue;  // the run ended before the moment came: no kill
      kill(pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
      if (WIFSIGNALED(status)) ++kills;
      inside_writes += leftovers(checkpoint);
    }
    resumed_from_checkpoint += fs::exists(checkpoint);
    INFO("round " << round);
    REQUIRE(run_to_end(run_args(checkpoint, final_model)) == 0);  // resumes (or starts over) and finishes
    CHECK(same_tensors(final_model, reference));
  }
  MESSAGE(kills << " SIGKILLs, " << inside_writes << " inside a checkpoint write, " << resumed_from_checkpoint
                << " of 24 rounds resumed from a checkpoint; every final model equal to the uninterrupted run's");
  CHECK(kills >= 20);
  CHECK(inside_writes >= 4);
  CHECK(resumed_from_checkpoint >= 16);
  fs::remove_all(dir);
}

}  // namespace comet
