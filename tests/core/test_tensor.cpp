// Tensor core: shapes, views, copies, dtype conversion, alignment, error messages, allocator reuse.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "core/rng.h"
#include "core/tensor.h"

namespace comet {

TEST_CASE("tensor shapes, strides and views") {
  Tensor t = Tensor::from_vector<float>({2, 3, 4}, std::vector<float>(24, 1.0f));
  CHECK(t.numel() == 24);
  CHECK(t.strides() == Shape{12, 4, 1});
  CHECK(t.rows() == 6);
  CHECK(t.cols() == 4);
  CHECK(t.dim(-1) == 4);
  CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);

  Tensor r = t.reshape({6, -1});
  CHECK(r.shape() == Shape{6, 4});
  r.data<float>()[5] = 7.0f;  // a view shares storage
  CHECK(t.data<float>()[5] == 7.0f);

  Tensor s = t.slice_rows(1, 2);
  CHECK(s.shape() == Shape{1, 3, 4});
  CHECK(s.data<float>() == t.data<float>() + 12);

  Tensor c = t.clone();
  c.data<float>()[5] = 1.0f;
  CHECK(t.data<float>()[5] == 7.0f);

  Tensor scalar = Tensor::full({}, 2.5, DType::F64);
  CHECK(scalar.numel() == 1);
  CHECK(scalar.item() == 2.5);
  CHECK(Tensor::zeros({0, 5}).numel() == 0);
  CHECK(Tensor::zeros({3, 0}).rows() == 3);  // a zero-width matrix still has its rows
  CHECK(Tensor::zeros({2, 3, 0}).cols() == 0);
}

TEST_CASE("all_finite: NaN and both infinities found at any position, in f32 and f64; the largest finite and subnormals pass") {
  for (DType dtype : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dtype));
    const double big = dtype == DType::F32 ? 3.4028234663852886e38 : 1.7976931348623157e308;
    Tensor t = Tensor::from_vector<double>({7}, {0.0, -0.0, big, -big, 1e-40, -1e-310, 1.0}).to(dtype);
    CHECK(all_finite(t));
    for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL})
      for (int64_t at : {0, 3, 6}) {
        Tensor u = t.clone();
        if (dtype == DType::F32) u.data<float>()[at] = static_cast<float>(bad);
        else u.data<double>()[at] = bad;
        CHECK_FALSE(all_finite(u));
      }
  }
  CHECK(all_finite(Tensor::from_vector<int64_t>({2}, {-1, 1})));
}

TEST_CASE("dtype conversion and access checks") {
  Tensor i = Tensor::from_vector<int64_t>({3}, {1, -2, 3});
  Tensor f = i.to(DType::F32);
  CHECK(f.data<float>()[1] == -2.0f);
  CHECK_THROWS_WITH_AS(i.data<float>(), doctest::Contains("accessed as f32"), Error);
  CHECK_THROWS_WITH_AS(i.reshape({2, 2}), doctest::Contains("cannot reshape [3]"), Error);
  CHECK_THROWS_WITH_AS(i.slice_rows(2, 4), doctest::Contains("[2, 4) out of bounds for shape [3]"), Error);
  CHECK_THROWS_WITH_AS(Tensor::from_vector<float>({2, 2}, {1, 2, 3}), doctest::Contains("needs 4 values, got 3"),
                       Error);
  CHECK_THROWS_WITH_AS(check_shape("linear", f, {3, 1}, "bias"),
                       doctest::Contains("linear: bias expected shape [3, 1], got [3]"), Error);
}

TEST_CASE("the caching allocator reuses freed blocks") {
  cpu_allocator_release_cache();  // blocks cached by earlier test cases in this process would be picked instead
  cpu_allocator_reset_peak();
  void* first = nullptr;
  {
    Tensor a = Tensor::empty({1000, 1000});
    first = a.raw();
  }
  const auto before = cpu_allocator_stats();
  Tensor b = Tensor::empty({1000, 1000});
  CHECK(b.raw() == first);
  CHECK(cpu_allocator_stats().cached + 4000000 <= before.cached + 64);
  CHECK(cpu_allocator_stats().in_use >= 4000000);
}

TEST_CASE("the caching allocator's cache stays within the peak bytes in use when sizes vary every step") {
  // The sparse MoE's case: the rows per expert, and so the buffer sizes, change from step to step. An exact-size
  // cache kept every size ever freed (a vision run grew to 24 GB); the size classes reuse nearby sizes and the
  // cache never holds more than the peak in use.
  cpu_allocator_release_cache();
  cpu_allocator_reset_peak();
  Generator gen(3);
  for (int step = 0; step < 300; ++step) {
    std::vector<Tensor> live;
    for (int i = 0; i < 8; ++i)
      live.push_back(Tensor::empty({1000 + static_cast<int64_t>(gen.next_uniform() * 100000)}));
  }
  const AllocatorStats s = cpu_allocator_stats();
  INFO("cached " << s.cached << " bytes, peak in use " << s.peak);
  CHECK(s.cached <= s.peak);
  CHECK(s.peak <= 8 * 101000 * sizeof(float) * 9 / 8 + 8 * 4096);  // 8 live tensors, each at most 12.5% rounded up
}

}  // namespace comet
