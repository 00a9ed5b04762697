// Philox-4x32-10 and the tensor fills built on it.
#include "core/rng.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/mutation.h"
#include "core/philox.h"
#include "core/threading.h"

namespace comet {
namespace {

// f(i) for i in [0, n); in parallel above 65536 (every value depends on i alone, so the split does not matter).
template <class F>
void for_blocks(int64_t n, F f) {
  const int threads = num_threads();
  const int64_t blocks = n > 65536 ? 4 * threads : 1;
  parallel_chunks(blocks, [&](int64_t b) {
    for (int64_t i = n * b / blocks; i < n * (b + 1) / blocks; ++i) f(i);
  });
}

template <class T, class F>
void fill(Tensor& t, const char* op, F value_at) {
  COMET_CHECK(t.dtype() == dtype_of<T>(), "Generator::{}: tensor {} has dtype {}", op, shape_str(t.shape()),
              dtype_name(t.dtype()));
  T* p = t.data<T>();
  for_blocks(t.numel(), [&](int64_t i) { p[i] = static_cast<T>(value_at(i)); });
}

template <class F>
void fill_float(Tensor& t, const char* op, F value_at) {
  if (t.dtype() == DType::F64) fill<double>(t, op, value_at);
  else fill<float>(t, op, value_at);
}

}  // namespace

std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo) {
  const PhiloxWords w = philox_block(key, counter_hi, counter_lo, COMET_MUTANT(philox_round_lost) ? 9 : 10);
  return {w.w[0], w.w[1], w.w[2], w.w[3]};
}

double philox_uniform(uint64_t seed, uint64_t pos) {
  return philox_unit(philox4x32(seed, static_cast<uint64_t>(PhiloxStream::Uniform), pos)[0]);
}

double philox_normal(uint64_t seed, uint64_t pos) {
  const auto w = philox4x32(seed, static_cast<uint64_t>(PhiloxStream::Normal), pos);
  const double u1 = ((w[0] >> 8) + 1.0) * (1.0 / 16777217.0);  // (0, 1): log is finite
  const double u2 = philox_unit(w[1]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

void Generator::uniform(Tensor& t, double lo, double hi) {
  const uint64_t base = take(t.numel());
  fill_float(t, "uniform", [&](int64_t i) { return lo + (hi - lo) * philox_uniform(seed_, base + i); });
}

void Generator::normal(Tensor& t, double mean, double stddev) {
  const uint64_t base = take(t.numel());
  fill_float(t, "normal", [&](int64_t i) { return mean + stddev * philox_normal(seed_, base + i); });
}

void Generator::bernoulli(Tensor& t, double p) {
  // Dropout draws a mask per step, so all four words of each Philox block are used (element i: word i % 4 of block
  // i / 4), compared as 24-bit integers with p 2^24: the same test as philox_uniform(...) < p.
  COMET_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, "Generator::bernoulli: tensor {} has dtype {}",
              shape_str(t.shape()), dtype_name(t.dtype()));
  const int64_t n = t.numel(), blocks = bernoulli_blocks(n);
  const uint64_t base = take(blocks);
  const double threshold = bernoulli_threshold(p);
  auto run = [&](auto* out) {
    for_blocks(blocks, [&](int64_t b) {
      const auto w = philox4x32(seed_, static_cast<uint64_t>(PhiloxStream::Bernoulli), base + static_cast<uint64_t>(b));
      for (int64_t j = 0; j < 4 && 4 * b + j < n; ++j) out[4 * b + j] = philox_bernoulli(w[j], threshold) ? 1 : 0;
    });
  };
  if (t.dtype() == DType::F32) run(t.data<float>());
  else run(t.data<double>());
}

void Generator::randint(Tensor& t, int64_t lo, int64_t hi) {
  COMET_CHECK(lo < hi, "Generator::randint: empty range [{}, {})", lo, hi);
  const uint64_t base = take(t.numel());
  const uint64_t span = static_cast<uint64_t>(hi - lo);
  auto value_at = [&](int64_t i) {
    const auto w = philox4x32(seed_, static_cast<uint64_t>(PhiloxStream::Randint), base + i);
    const uint64_t r = (static_cast<uint64_t>(w[0]) << 32) | w[1];
    return lo + static_cast<int64_t>(r % span);
  };
  if (t.dtype() == DType::I32) fill<int32_t>(t, "randint", value_at);
  else fill<int64_t>(t, "randint", value_at);
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  // The indices in the order of their keys, ties in index order: sorting (key, index) pairs by value gives the same
  // order as a stable sort of the indices by key, without an indirect read per comparison (several times faster).
  const uint64_t base = take(n);
  std::vector<std::pair<uint64_t, int64_t>> keyed(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto w = philox4x32(seed_, static_cast<uint64_t>(PhiloxStream::Permutation), base + i);
    keyed[i] = {(static_cast<uint64_t>(w[0]) << 32) | w[1], i};
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[i] = keyed[i].second;
  return perm;
}

double Generator::next_uniform() { return philox_uniform(seed_, take(1)); }

Generator Generator::split() {
  // A Philox block under this seed at a counter outside the value draws' range (high word all ones) gives the key.
  const auto w = philox4x32(seed_, ~uint64_t{0}, take(1));
  return Generator((static_cast<uint64_t>(w[0]) << 32) | w[1]);
}

}  // namespace comet
