// Hand-worked values and determinism of the index, conv and pooling kernels (through their autograd ops, under
// both kernel sets): conv2d on a 1x1x3x3 input and on a batch against its definition (forward and backward), scatter-add with repeated indices, max-pool ties, bit-equal
// results at 1 and 2 threads, dropout statistics and seeding, and the errors for bad indices and shapes.
// Integer-valued inputs keep every sum exact, so fast and reference kernels must agree exactly.
#include <doctest/doctest.h>

#include <cstring>

#include "autograd/ops.h"
#include "core/threading.h"
#include "kernels/backend.h"
#include "kernels/index.h"
#include "test_util.h"

namespace comet::test {
namespace {

using ag::Var;

const KernelSet kBothSets[] = {KernelSet::Fast, KernelSet::Reference};

Tensor f32(const Shape& shape, const std::vector<float>& v) { return Tensor::from_vector<float>(shape, v); }

void check_exact(const Tensor& got, const std::vector<float>& want) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    CHECK(got.item(i) == want[i]);
  }
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Integer values in [lo, hi] as F32 (sums of them stay exact).
Tensor integer_tensor(const Shape& shape, Generator& gen, int lo = -4, int hi = 4) {
  Tensor t = Tensor::empty(shape, DType::I64);
  gen.randint(t, lo, hi + 1);
  return t.to(DType::F32);
}


TEST_CASE("conv2d on a 1x1x3x3 input with a 2x2 kernel: forward and backward by hand") {
  for (KernelSet set : kBothSets) {
    KernelSetScope scope(set);
    Var x = ag::param(f32({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    Var w = ag::param(f32({1, 1, 2, 2}, {1, 2, 3, 4}));
    Var b = ag::param(f32({1}, {1}));
    Var y = ag::conv2d(x, w, b, 0);
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    check_exact(y.value(), {38, 48, 68, 78});  // e.g. 1*1 + 2*2 + 4*3 + 5*4 + 1
    ag::backward(y, Tensor::full({1, 1, 2, 2}, 1.0));
    check_exact(x.grad(), {1, 3, 2, 4, 10, 6, 3, 7, 4});  // sum of the kernel taps that read each input
    check_exact(w.grad(), {12, 16, 24, 28});              // sum of the inputs under each tap
    check_exact(b.grad(), {4});
    // Padding 1: a 4x4 output whose corners see one input element each.
    Var yp = ag::conv2d(ag::constant(x.value()), ag::constant(w.value()), std::nullopt, 1);
    CHECK(yp.shape() == Shape{1, 1, 4, 4});
    check_exact(yp.value(), {4, 11, 18, 9, 18, 37, 47, 21, 36, 67, 77, 33, 14, 23, 26, 9});
  }
}

// The convolution and its input and weight gradients summed directly from their definitions, independent of
// im2col and col2im (which both kernel sets share): {y, gx, gw}.
std::vector<std::vector<float>> direct_conv(const Tensor& x, const Tensor& w, const Tensor& gy, int64_t pad) {
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const int64_t o = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  const int64_t oh = h + 2 * pad - kh + 1, ow = wd + 2 * pad - kw + 1;
  std::vector<float> y(static_cast<size_t>(n * o * oh * ow)), gx(static_cast<size_t>(x.numel())),
      gw(static_cast<size_t>(w.numel()));
  for (int64_t s = 0; s < n; ++s)
    for (int64_t f = 0; f < o; ++f)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iy = oy + i - pad, ix = ox + j - pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const int64_t xi = ((s * c + ch) * h + iy) * wd + ix, wi = ((f * c + ch) * kh + i) * kw + j;
                const int64_t yi = ((s * o + f) * oh + oy) * ow + ox;
                y[yi] += static_cast<float>(x.item(xi) * w.item(wi));
                gx[xi] += static_cast<float>(gy.item(yi) * w.item(wi));
                gw[wi] += static_cast<float>(gy.item(yi) * x.item(xi));
              }
  return {y, gx, gw};
}

}  // namespace

TEST_CASE("conv2d on a batch and its gradients equal the sums of their definitions, with and without padding") {
  // Several samples, so that a column buffer left over from the previous sample would show: the backward reuses it
  // for the input gradient, and im2col clears it only when there is padding. Runs 1 to 12 wide.
  Generator gen(3);
  for (int64_t width : {3, 14})
    for (int64_t pad : {0, 1, 2}) {
      const Tensor x = integer_tensor({5, 2, 6, width}, gen), w = integer_tensor({3, 2, 3, 2}, gen);
      const Tensor gy = integer_tensor({5, 3, 6 + 2 * pad - 2, width + 2 * pad - 1}, gen);
      const auto want = direct_conv(x, w, gy, pad);
      for (KernelSet set : kBothSets) {
        INFO("width " << width << " pad " << pad << (set == KernelSet::Fast ? " fast" : " reference"));
        KernelSetScope scope(set);
        Var vx = ag::param(x), vw = ag::param(w);
        Var y = ag::conv2d(vx, vw, std::nullopt, pad);
        ag::backward(y, gy);
        check_exact(y.value(), want[0]);
        check_exact(vx.grad(), want[1]);
        check_exact(vw.grad(), want[2]);
      }
    }
}

namespace {

TEST_CASE("scatter_add_rows with repeated indices and gather_rows, i32 and i64") {
  for (KernelSet set : kBothSets)
    for (DType it : {DType::I32, DType::I64}) {
      KernelSetScope scope(set);
      Var src = ag::param(f32({5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
      const Tensor index = Tensor::from_vector<int64_t>({5}, {2, 0, 2, 2, 0}).to(it);
      Var out = ag::scatter_add_rows(src, index, 4);
      check_exact(out.value(), {12, 14, 0, 0, 13, 16, 0, 0});  // rows 1 and 3 receive nothing
      ag::backward(out, f32({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
      check_exact(src.grad(), {5, 6, 1, 2, 5, 6, 5, 6, 1, 2});  // the gather of the gradient rows

      Var x = ag::param(f32({3, 2}, {1, 2, 3, 4, 5, 6}));
      Var g = ag::gather_rows(x, Tensor::from_vector<int64_t>({4}, {2, 2, 0, 2}).to(it));
      check_exact(g.value(), {5, 6, 5, 6, 1, 2, 5, 6});
      ag::backward(g, Tensor::full({4, 2}, 1.0));
      check_exact(x.grad(), {1, 1, 0, 0, 3, 3});
    }
}

TEST_CASE("embedding is its own op and scatter-adds into the table") {
  Var table = ag::param(f32({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}));
  Var e = ag::embedding(table, Tensor::from_vector<int32_t>({3}, {3, 1, 3}));
  CHECK(std::string(e.node()->op) == "embedding");
  check_exact(e.value(), {30, 31, 10, 11, 30, 31});
  ag::backward(e, Tensor::full({3, 2}, 1.0));
  check_exact(table.grad(), {0, 0, 1, 1, 0, 0, 2, 2});
}

TEST_CASE("maxpool2x2: ties go to the first element in row-major order") {
  for (KernelSet set : kBothSets) {
    KernelSetScope scope(set);
    Var x = ag::param(f32({1, 1, 2, 4}, {1, 3, 2, 2, 3, 0, 2, 2}));
    Var y = ag::maxpool2x2(x);
    check_exact(y.value(), {3, 2});
    ag::backward(y, f32({1, 1, 1, 2}, {5, 7}));
    check_exact(x.grad(), {0, 5, 7, 0, 0, 0, 0, 0});
  }
}

TEST_CASE("split_cols then concat_cols is the identity; gradients of several outputs accumulate") {
  Var x = ag::param(f32({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}));
  auto parts = ag::split_cols(x, {1, 3});
  check_exact(parts[1].value(), {2, 3, 4, 6, 7, 8});
  Var y = ag::concat_cols({parts[0], parts[1], parts[0]});
  check_exact(y.value(), {1, 2, 3, 4, 1, 5, 6, 7, 8, 5});
  ag::backward(y, Tensor::full({2, 5}, 1.0));
  check_exact(x.grad(), {2, 1, 1, 1, 2, 1, 1, 1});
}

TEST_CASE("fast index and conv kernels: exact on integers, bit-equal at 1 and 2 threads") {
  Generator gen(7);
  const int64_t m = 20000, d = 33, rows = 1000;
  Tensor idx = Tensor::empty({m}, DType::I64);
  gen.randint(idx, 0, rows / 2);  // half of the rows unused, ~40 sources per used row
  const Tensor ints = integer_tensor({m, d}, gen), reals = random_tensor({m, d}, gen, -1, 1, DType::F32);
  auto scatter = [&](KernelSet set, int threads, const Tensor& src) {
    KernelSetScope scope(set);
    ThreadScope ts(threads);
    return ag::scatter_add_rows(ag::constant(src), idx, rows).value();
  };
  CHECK(bit_equal(scatter(KernelSet::Fast, 2, ints), scatter(KernelSet::Reference, 1, ints)));
  // 2 threads: the bucketed path; 1 thread: the serial pass in source order; the same sums, so the same bits.
  CHECK(bit_equal(scatter(KernelSet::Fast, 1, reals), scatter(KernelSet::Fast, 2, reals)));
  // One-element rows (a gate's weights scattered into [B n, 1]) take the serial pass at any thread count: its sums
  // equal the first column of the bucketed path's.
  auto first_column = [](const Tensor& t) {  // F32 in, F32 out: the values are copied, not converted
    Tensor c = Tensor::empty({t.dim(0), 1}, DType::F32);
    for (int64_t i = 0; i < t.dim(0); ++i) c.data<float>()[i] = t.data<float>()[i * t.dim(1)];
    return c;
  };
  CHECK(bit_equal(scatter(KernelSet::Fast, 2, first_column(reals)), first_column(scatter(KernelSet::Fast, 2, reals))));
  CHECK(bit_equal(scatter(KernelSet::Fast, 2, first_column(ints)), scatter(KernelSet::Reference, 1, first_column(ints))));

  // conv2d forward and all three gradients; a batch of 37 spreads over the weight-gradient chunks.
  const Tensor xi = integer_tensor({37, 3, 9, 11}, gen), wi = integer_tensor({5, 3, 3, 3}, gen);
  const Tensor bi = integer_tensor({5}, gen), gy = integer_tensor({37, 5, 9, 11}, gen);
  const Tensor xr = random_tensor({37, 3, 9, 11}, gen, -1, 1, DType::F32);
  const Tensor wr = random_tensor({5, 3, 3, 3}, gen, -1, 1, DType::F32);
  auto conv = [&](KernelSet set, int threads, const Tensor& x, const Tensor& w) {
    KernelSetScope scope(set);
    ThreadScope ts(threads);
    Var vx = ag::param(x), vw = ag::param(w), vb = ag::param(bi);
    Var y = ag::conv2d(vx, vw, vb, 1);
    ag::backward(y, gy);
    return std::vector<Tensor>{y.value(), vx.grad(), vw.grad(), vb.grad()};
  };
  const auto fast = conv(KernelSet::Fast, 2, xi, wi), ref = conv(KernelSet::Reference, 1, xi, wi);
  const auto fast1 = conv(KernelSet::Fast, 1, xr, wr), fast2 = conv(KernelSet::Fast, 2, xr, wr);
  for (size_t i = 0; i < fast.size(); ++i) {
    INFO("output " << i);
    CHECK(bit_equal(fast[i], ref[i]));
    CHECK(bit_equal(fast1[i], fast2[i]));
  }
}

TEST_CASE("dropout keeps about 1 - p of the elements, scaled, and the same seed gives the same mask") {
  const Tensor x = Tensor::full({300, 300}, 1.0);  // above the RNG's parallel threshold
  auto run = [&](uint64_t seed, int threads) {
    ThreadScope ts(threads);
    Generator gen(seed);
    return ag::dropout(ag::constant(x), 0.3, gen, true).value();
  };
  const Tensor y = run(5, 2);
  int64_t kept = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double v = y.item(i);
    kept += v != 0;
    if (v != 0) REQUIRE(v == doctest::Approx(1 / 0.7));
  }
  CHECK(double(kept) / y.numel() == doctest::Approx(0.7).epsilon(0.02));
  CHECK(bit_equal(y, run(5, 1)));
  CHECK(!bit_equal(y, run(6, 2)));
  Generator gen(5);
  Var vx = ag::constant(x);
  CHECK((ag::dropout(vx, 0.3, gen, false).node() == vx.node()));
  CHECK((ag::dropout(vx, 0.0, gen, true).node() == vx.node()));
  CHECK(test::error_of([&] { ag::dropout(vx, 1.0, gen, true); }) == "dropout: p must be in [0, 1), got 1");
  CHECK(test::error_of([&] { ag::dropout(vx, -0.1, gen, true); }).find("got -0.1") != std::string::npos);
}

TEST_CASE("index and shape errors name the op, the bad entry and the bound") {
  Var table = ag::param(Tensor::zeros({5, 2}));
  CHECK(test::error_of([&] { ag::embedding(table, Tensor::from_vector<int64_t>({3}, {0, 4, 9})); }) ==
        "embedding: id 9 at position 2 is out of range [0, 5) (vocabulary of table [5, 2])");
  CHECK(test::error_of([&] { ag::gather_rows(table, Tensor::from_vector<int32_t>({1}, {-1})); }) ==
        "gather_rows: index -1 at position 0 is out of range [0, 5) (rows of x [5, 2])");
  CHECK(test::error_of([&] { ag::scatter_add_rows(table, Tensor::from_vector<int64_t>({5}, {0, 1, 2, 3, 3}), 3); }) ==
        "scatter_add_rows: index 3 at position 3 is out of range [0, 3) (num_rows 3)");
  CHECK(test::error_of([&] { ag::scatter_add_rows(table, Tensor::from_vector<int64_t>({2}, {0, 1}), 3); })
            .find("has 2 entries, expected 5") != std::string::npos);
  CHECK(test::error_of([&] { ag::gather_rows(table, Tensor::zeros({2})); }).find("must be i32 or i64") != std::string::npos);
  CHECK(test::error_of([&] { ag::maxpool2x2(ag::constant(Tensor::zeros({1, 1, 3, 4}))); }) ==
        "maxpool2x2: need x [N, C, H, W] with H and W even, got [1, 1, 3, 4]");
  CHECK(test::error_of([&] { ag::split_cols(table, {1, 2}); }).find("add up to 3") != std::string::npos);
  CHECK(test::error_of([&] { ag::conv2d(ag::constant(Tensor::zeros({1, 2, 3, 3})), ag::constant(Tensor::zeros({1, 3, 2, 2})),
                                  std::nullopt, 0); })
            .find("conv2d: need x [N, C, H, W]") != std::string::npos);
}

}  // namespace
}  // namespace comet::test
