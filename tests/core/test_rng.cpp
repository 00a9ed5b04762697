// Counter-based RNG: fixed values, independence from the thread count, distribution moments, permutations.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/philox.h"
#include "core/rng.h"
#include "core/threading.h"

namespace comet {

TEST_CASE("Philox-4x32-10 matches the Random123 known-answer vectors") {
  // Known-answer tests from Random123 (kat_vectors): counter 0, key 0 and counter/key all ones.
  auto zero = philox4x32(0, 0, 0);
  CHECK(zero[0] == 0x6627e8d5u);
  CHECK(zero[1] == 0xe169c58du);
  CHECK(zero[2] == 0xbc57ac4cu);
  CHECK(zero[3] == 0x9b00dbd8u);
  auto ones = philox4x32(~0ull, ~0ull, ~0ull);
  CHECK(ones[0] == 0x408f276du);
  CHECK(ones[1] == 0x41c83b0eu);
  CHECK(ones[2] == 0xa20bc7c6u);
  CHECK(ones[3] == 0x6d5451fdu);
  // The "pi" vector pins the word order: ctr = 243f6a88 85a308d3 13198a2e 03707344, key = a4093822 299f31d0.
  auto pi = philox4x32(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull);
  CHECK(pi[0] == 0xd16cfe09u);
  CHECK(pi[1] == 0x94fdccebu);
  CHECK(pi[2] == 0x5001e420u);
  CHECK(pi[3] == 0x24126ea1u);
}

TEST_CASE("the same seed gives the same numbers at 1 and 2 threads") {
  Tensor a = Tensor::empty({300000}), b = Tensor::empty({300000});
  {
    ThreadScope one(1);
    Generator g(42);
    g.normal(a, 0, 1);
  }
  {
    ThreadScope two(2);
    Generator g(42);
    g.normal(b, 0, 1);
  }
  CHECK(std::equal(a.data<float>(), a.data<float>() + a.numel(), b.data<float>()));
}

TEST_CASE("successive draws differ and moments are right") {
  Generator g(7);
  Tensor u = Tensor::empty({200000}, DType::F64), n = Tensor::empty({200000}, DType::F64);
  g.uniform(u, -1, 3);
  g.normal(n, 2, 0.5);
  double su = 0, sn = 0, sn2 = 0, umin = 10, umax = -10;
  for (int64_t i = 0; i < u.numel(); ++i) {
    const double x = u.data<double>()[i], y = n.data<double>()[i];
    su += x; sn += y; sn2 += y * y;
    umin = std::min(umin, x); umax = std::max(umax, x);
  }
  const double N = static_cast<double>(u.numel());
  CHECK(su / N == doctest::Approx(1.0).epsilon(0.01));
  CHECK(umin >= -1.0);
  CHECK(umax < 3.0);
  CHECK(sn / N == doctest::Approx(2.0).epsilon(0.01));
  CHECK(std::sqrt(sn2 / N - (sn / N) * (sn / N)) == doctest::Approx(0.5).epsilon(0.01));
  CHECK(g.offset() == 400000);
}

TEST_CASE("randint and permutation") {
  Generator g(3);
  Tensor t = Tensor::empty({10000}, DType::I64);
  g.randint(t, 5, 9);
  const int64_t* p = t.data<int64_t>();
  CHECK(*std::min_element(p, p + t.numel()) == 5);
  CHECK(*std::max_element(p, p + t.numel()) == 8);
  auto perm = g.permutation(100);
  auto sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  CHECK(perm != sorted);
  CHECK_THROWS_AS(g.randint(t, 3, 3), Error);
}

TEST_CASE("permutation: the indices stably sorted by their Philox keys, from the generator's position") {
  for (int64_t n : {0, 1, 2, 1000, 100003}) {
    Generator g(17);
    g.seek(12345);
    const std::vector<int64_t> perm = g.permutation(n);
    CHECK(g.offset() == 12345 + static_cast<uint64_t>(n));
    std::vector<uint64_t> keys(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const auto w = philox4x32(17, static_cast<uint64_t>(PhiloxStream::Permutation), 12345 + static_cast<uint64_t>(i));
      keys[i] = (static_cast<uint64_t>(w[0]) << 32) | w[1];
    }
    std::vector<int64_t> expected(static_cast<size_t>(n));
    std::iota(expected.begin(), expected.end(), 0);
    std::stable_sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
    INFO("n = " << n);
    CHECK(perm == expected);
  }
}

}  // namespace comet
