// The MoE dispatch primitives against plain loops: the dispatch plan (histogram, offsets, stable order) on a
// hand-worked case, and the grouped linear kernels (fast vs reference) with integer-valued inputs, where float
// arithmetic is exact, so an index or offset bug is an exact mismatch; empty experts; any thread count; the weight
// gradient handed over in pieces (the fused update's path) equal to the written one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "core/rng.h"
#include "core/threading.h"
#include "kernels/cpu/isa.h"
#include "kernels/dispatch.h"
#include "kernels/grouped_gemm.h"

namespace comet {
namespace {

// Small integers in [-3, 3] (products and sums of a few hundred of them are exact in float).
std::vector<float> small_ints(int64_t n, uint64_t seed) {
  Tensor t = Tensor::empty({n}, DType::I64);
  Generator(seed).randint(t, -3, 4);
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(t.data<int64_t>()[i]);
  return out;
}

// Standard normal floats.
std::vector<float> normal_floats(int64_t n, Generator& gen) {
  Tensor t = Tensor::empty({n});
  gen.normal(t, 0.0, 1.0);
  return t.to_vector<float>();
}

// y, gx, gW and gb (concatenated) of cpu::grouped_linear and grouped_linear_backward at `threads` threads, over
// experts at `offsets` with standard normal inputs drawn from `seed`.
std::vector<float> grouped_outputs(int64_t in, int64_t out, const std::vector<int64_t>& offsets, uint64_t seed,
                                   int threads) {
  const int64_t n = static_cast<int64_t>(offsets.size()) - 1, m = offsets.back();
  Generator gen(seed);
  auto random = [&](int64_t count) { return normal_floats(count, gen); };
  const auto x = random(m * in), w = random(n * in * out), b = random(n * out), gy = random(m * out);
  ThreadScope scope(threads);
  std::vector<float> y(m * out), gx(m * in), gw(n * in * out), gb(n * out);
  cpu::grouped_linear<float>(n, offsets.data(), in, out, x.data(), w.data(), b.data(), y.data());
  cpu::grouped_linear_backward<float>(n, offsets.data(), in, out, x.data(), w.data(), gy.data(), gx.data(), gw.data(),
                                      gb.data());
  for (const auto* v : {&gx, &gw, &gb}) y.insert(y.end(), v->begin(), v->end());
  return y;
}

}  // namespace

TEST_CASE("dispatch plan: histogram, offsets, stable sample order within each expert") {
  // 4 samples x 3 experts; sample 0 -> {0, 2}, 1 -> {2}, 2 -> {}, 3 -> {0, 1, 2}.
  const std::vector<float> g{0.5f, 0, 0.5f, 0, 0, 1, 0, 0, 0, 0.2f, 0.3f, 0.5f};
  const DispatchPlan p = plan_dispatch<float>(4, 3, g.data());
  CHECK(p.offsets == std::vector<int64_t>{0, 2, 3, 6});
  CHECK(p.sample == std::vector<int64_t>{0, 3, 3, 0, 1, 3});
  CHECK(p.flat == std::vector<int64_t>{0, 9, 10, 2, 5, 11});
  CHECK(p.count(1) == 1);
  const std::vector<float> nan{0, std::nanf("")};
  CHECK_THROWS_WITH_AS(plan_dispatch<float>(1, 2, nan.data()), doctest::Contains("sample 0 expert 1 is NaN"), Error);
  const std::vector<float> later_nan{0.5f, 0, 0, 0, 0.2f, std::nanf(""), std::nanf(""), 0, 0};
  CHECK_THROWS_WITH_AS(plan_dispatch<float>(3, 3, later_nan.data()), doctest::Contains("sample 1 expert 2 is NaN"),
                       Error);
}

TEST_CASE("dispatch plan: random sparse gates against the plain loops (count, prefix sum, place in sample order)") {
  Generator gen(21);
  for (const auto& [batch, experts] : {std::pair<int64_t, int64_t>{1, 1}, {37, 5}, {64, 16}, {100, 64}, {0, 3}}) {
    Tensor draws = Tensor::empty({std::max<int64_t>(1, batch * experts)}, DType::I64);
    gen.randint(draws, 0, 8);
    std::vector<double> g(static_cast<size_t>(batch * experts));
    for (int64_t i = 0; i < batch * experts; ++i) {
      const int64_t d = draws.data<int64_t>()[i];
      g[i] = d < 5 ? 0.0 : d == 5 ? -0.0 : d == 6 ? 0.25 : -1.5;  // mostly zeros (some -0.0), negative weights too
    }
    DispatchPlan want;
    want.offsets.assign(experts + 1, 0);
    for (int64_t e = 0; e < experts; ++e) {
      for (int64_t b = 0; b < batch; ++b)
        if (g[b * experts + e] != 0.0) {
          want.sample.push_back(b);
          want.flat.push_back(b * experts + e);
        }
      want.offsets[e + 1] = static_cast<int64_t>(want.sample.size());
    }
    const DispatchPlan got = plan_dispatch<double>(batch, experts, g.data());
    INFO("batch " << batch << " experts " << experts);
    CHECK(got.offsets == want.offsets);
    CHECK(got.sample == want.sample);
    CHECK(got.flat == want.flat);
  }
}

TEST_CASE("grouped linear: fast equals reference exactly on integer inputs, empty experts, any thread count") {
  const int64_t in = 37, out = 29, n = 5;
  const std::vector<int64_t> offsets{0, 0, 101, 101, 300, 300};  // experts 0, 2 and 4 get no rows
  const int64_t m = offsets.back();
  const auto x = small_ints(m * in, 1), w = small_ints(n * in * out, 2), b = small_ints(n * out, 3);
  const auto gy = small_ints(m * out, 4);
  auto run = [&](bool fast, int threads) {
    ThreadScope scope(threads);
    std::vector<float> y(m * out), gx(m * in), gw(n * in * out, 7.0f), gb(n * out, 7.0f);  // 7: must be overwritten
    (fast ? cpu::grouped_linear<float> : ref::grouped_linear<float>)(n, offsets.data(), in, out, x.data(), w.data(),
                                                                     b.data(), y.data());
    (fast ? cpu::grouped_linear_backward<float> : ref::grouped_linear_backward<float>)(
        n, offsets.data(), in, out, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data());
    std::vector<float> all = y;
    for (const auto* v : {&gx, &gw, &gb}) all.insert(all.end(), v->begin(), v->end());
    return all;
  };
  const auto ref = run(false, 1);
  for (int threads : {1, 2, 3}) {
    const auto fast = run(true, threads);
    INFO("threads " << threads);
    REQUIRE(fast.size() == ref.size());
    CHECK(std::memcmp(fast.data(), ref.data(), ref.size() * sizeof(float)) == 0);
  }
  // Empty experts: zero weight and bias gradients (not the 7s the buffers started with).
  const size_t gw_at = m * out + m * in;
  for (int64_t e : {0, 2, 4}) {
    for (int64_t i = 0; i < in * out; ++i) REQUIRE(ref[gw_at + e * in * out + i] == 0.0f);
    for (int64_t j = 0; j < out; ++j) REQUIRE(ref[gw_at + n * in * out + e * out + j] == 0.0f);
  }
}

TEST_CASE("grouped linear: random float inputs give the same bits at 1, 2 and 3 threads (tiles vary with them)") {
  // 3000 rows over 3 experts: the tile height follows the thread count (750, 375 and 250 rows here).
  const std::vector<int64_t> offsets{0, 1400, 1401, 3000};
  const auto one = grouped_outputs(64, 48, offsets, 21, 1);
  for (int threads : {2, 3}) {
    INFO("threads " << threads);
    CHECK(grouped_outputs(64, 48, offsets, 21, threads) == one);
  }
}

TEST_CASE("grouped linear: the last tiles cut into column pieces give the whole tiles' bits, on every ISA") {
  // At 2 and 3 threads the last tiles of each region run as column pieces (several micro-kernel panels wide here on
  // every ISA: in = 200 and out = 320 against nr <= 64); at 1 thread every tile runs whole. Experts of 0, 1, 3 and
  // up to 100 rows take the transposed and the direct route of the input gradient, and the narrow kernel.
  const std::vector<int64_t> offsets{0, 3, 3, 40, 41, 141, 150};
  for (cpu::Isa isa : cpu::supported_isas()) {
    const cpu::IsaScope forced(isa);
    const auto whole = grouped_outputs(200, 320, offsets, 29, 1);
    for (int threads : {2, 3}) {
      INFO(cpu::isa_name(isa), ", threads ", threads);
      CHECK(grouped_outputs(200, 320, offsets, 29, threads) == whole);
    }
  }
}

TEST_CASE("grouped linear: the weight gradient in pieces is the written one, bit for bit, each element once") {
  // Tall experts (pieces of several tiles), an empty one (zeros), one with a single row; random floats.
  const int64_t in = 200, out = 40, n = 4;
  const std::vector<int64_t> offsets{0, 700, 700, 701, 1500};
  const int64_t m = offsets.back();
  Generator gen(23);
  auto random = [&](int64_t count) { return normal_floats(count, gen); };
  const auto x = random(m * in), w = random(n * in * out), gy = random(m * out);
  for (int threads : {1, 2, 3}) {
    INFO("threads " << threads);
    ThreadScope scope(threads);
    std::vector<float> gx(m * in), gw(n * in * out), gb(n * out);
    cpu::grouped_linear_backward<float>(n, offsets.data(), in, out, x.data(), w.data(), gy.data(), gx.data(),
                                        gw.data(), gb.data());
    std::vector<float> pieces_gx(m * in), pieces_gw(n * in * out, std::nanf("")), pieces_gb(n * out);
    std::vector<int> times(n * in * out, 0);
    std::mutex mutex;
    bool within_an_expert = true;
    const cpu::GradPiece<float> take = [&](int64_t begin, int64_t end, const float* g) {
      const std::lock_guard<std::mutex> lock(mutex);
      within_an_expert = within_an_expert && begin < end && begin / (in * out) == (end - 1) / (in * out);
      for (int64_t i = begin; i < end; ++i) {
        pieces_gw[i] = g[i - begin];
        ++times[i];
      }
    };
    cpu::grouped_linear_backward_pieces<float>(n, offsets.data(), in, out, x.data(), w.data(), gy.data(),
                                               pieces_gx.data(), take, pieces_gb.data());
    CHECK(within_an_expert);
    CHECK(std::count(times.begin(), times.end(), 1) == static_cast<std::ptrdiff_t>(times.size()));
    CHECK(std::memcmp(pieces_gw.data(), gw.data(), gw.size() * sizeof(float)) == 0);
    CHECK(pieces_gx == gx);
    CHECK(pieces_gb == gb);
  }
}

}  // namespace comet
