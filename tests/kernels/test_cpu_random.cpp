// The Bernoulli draw on the CPU's vector loops (kernels/cpu/random.h) against Generator::bernoulli, exactly, on every
// ISA this CPU supports, at 1 and 2 threads: sizes that are and are not multiples of the four words of a Philox block
// and span the vector widths and the thread split (0, 1, 3, 4, 5, 63, 1,001, 100,003), probabilities 0, 0.3, 0.5, 0.75
// and 1, after earlier draws (a sequence position other than 0), with the value 1 (the draw) and 1 / (1 - p_drop) (the
// dropout mask); the generator ends at the same position either way. And the integer threshold of the vector loops
// against the double test of the reference, at the words around it.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/philox.h"
#include "core/threading.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/random.h"
#include "used_generator.h"

namespace comet {
namespace {

template <class T>
void check_against_generator(int64_t n, double p, T value) {
  Generator ref_gen = test::used_generator(), gen = test::used_generator();
  Tensor want = Tensor::empty({n}, dtype_of<T>());
  ref_gen.bernoulli(want, p);
  for (int64_t i = 0; i < n; ++i) want.data<T>()[i] *= value;
  std::vector<T> got(static_cast<size_t>(n), T(-7));
  cpu::bernoulli<T>(gen, n, p, value, got.data());
  if (n > 0) CHECK(std::memcmp(got.data(), want.data<T>(), static_cast<size_t>(n) * sizeof(T)) == 0);
  CHECK(gen.offset() == ref_gen.offset());
}

}  // namespace

TEST_CASE("cpu::bernoulli equals Generator::bernoulli bit for bit on every ISA, at 1 and 2 threads") {
  for (cpu::Isa isa : cpu::supported_isas())
    for (int threads : {1, 2}) {
      const cpu::IsaScope isa_scope(isa);
      const ThreadScope thread_scope(threads);
      for (int64_t n : {0, 1, 3, 4, 5, 63, 1001, 100003})
        for (double p : {0.0, 0.3, 0.5, 0.75, 1.0}) {
          INFO(cpu::isa_name(isa) << ", " << threads << " threads, n " << n << ", p " << p);
          check_against_generator<float>(n, p, 1.0f);
          check_against_generator<float>(n, p, static_cast<float>(1 / 0.7));
          check_against_generator<double>(n, p, 1 / 0.7);
        }
    }
}

TEST_CASE("the integer Bernoulli threshold gives the double test's answer at the words around it") {
  // p 2^24 not an integer (0.3: 5033164.8, so words up to 5033164 draw 1), an integer (0.5: 2^23; 0.75), 0 and 1.
  CHECK(bernoulli_threshold_bits(0.3) == 5033165u);
  CHECK(bernoulli_threshold_bits(0.5) == 8388608u);
  CHECK(bernoulli_threshold_bits(0.0) == 0u);
  CHECK(bernoulli_threshold_bits(1.0) == 16777216u);
  for (double p : {0.0, 0.3, 0.5, 0.75, 1.0, 1.0 / 3, 0.9999999})
    for (int64_t d = -2; d <= 2; ++d) {
      const int64_t x = static_cast<int64_t>(bernoulli_threshold_bits(p)) + d;
      if (x < 0 || x >= (int64_t{1} << 24)) continue;
      const uint32_t word = static_cast<uint32_t>(x) << 8 | 0xA5u;  // the low 8 bits are ignored
      INFO("p " << p << " x " << x);
      CHECK(philox_bernoulli(word, bernoulli_threshold(p)) == ((word >> 8) < bernoulli_threshold_bits(p)));
    }
}

}  // namespace comet
