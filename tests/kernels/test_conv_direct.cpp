// The direct single-channel convolution (kernels/cpu/conv_direct.h) inside cpu::conv2d and cpu::conv2d_backward,
// against the reference kernels on every ISA this CPU supports: exact on small integers (every product and sum is
// exact in float, so any order gives the reference's bits), within 1e-5 on random floats, bit-equal at 1 and 2
// threads. Geometries: the paper's first CNN layer, output widths with whole vector blocks, single vectors and single
// columns left over, 1 x 1 outputs, kernels 1 to 8 wide, channel counts across the forward's channel blocks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "core/threading.h"
#include "kernels/conv.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/isa.h"
#include "test_util.h"

namespace comet {
namespace {

struct Case {
  int64_t height, width, kh, kw, out_ch, batch;
};

// Single-channel geometries (out width = width - kw + 1): 32 (the paper's, whole blocks), 34 (blocks, then a single
// AVX2 vector and columns), 1, 3, 40, 3 and 23.
const Case kCases[] = {{36, 36, 5, 5, 10, 37}, {9, 40, 3, 7, 13, 5}, {5, 5, 5, 5, 9, 3},  {6, 3, 1, 1, 1, 2},
                       {4, 42, 2, 3, 17, 4},   {10, 10, 3, 8, 6, 2}, {7, 30, 7, 8, 8, 16}};

ConvGeom geometry(const Case& c) {
  ConvGeom g;
  g.channels = 1, g.height = c.height, g.width = c.width, g.kh = c.kh, g.kw = c.kw;
  return g;
}

std::vector<float> values(int64_t n, Generator& gen, bool integers) {
  Tensor t = Tensor::empty({n});
  gen.uniform(t, -3.0, 4.0);
  std::vector<float> v(t.data<float>(), t.data<float>() + n);
  if (integers)
    for (float& x : v) x = std::floor(x);
  return v;
}

struct Outputs {
  std::vector<float> y, gw, gb;
};

template <class Forward, class Backward>
Outputs run(const Case& c, const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
            const std::vector<float>& gy, Forward forward, Backward backward) {
  const ConvGeom g = geometry(c);
  Outputs o{std::vector<float>(static_cast<size_t>(c.batch * c.out_ch * g.positions()), -7.0f),
            std::vector<float>(w.size(), -7.0f), std::vector<float>(b.size(), -7.0f)};
  forward(g, c.batch, c.out_ch, x.data(), w.data(), b.data(), o.y.data());
  backward(g, c.batch, c.out_ch, x.data(), w.data(), gy.data(), nullptr, o.gw.data(), o.gb.data());
  return o;
}

Outputs reference(const Case& c, const std::vector<float>& x, const std::vector<float>& w,
                  const std::vector<float>& b, const std::vector<float>& gy) {
  return run(c, x, w, b, gy, &ref::conv2d<float>, &ref::conv2d_backward<float>);
}

Outputs fast(const Case& c, const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
             const std::vector<float>& gy) {
  return run(c, x, w, b, gy, &cpu::conv2d<float>, &cpu::conv2d_backward<float>);
}

void check_equal(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  double worst = 0, scale = 0;
  for (float v : want) scale = std::max(scale, std::fabs(double(v)));
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
  INFO(what << ": worst error " << worst << " at scale " << scale);
  CHECK(worst <= 1e-5 * (1.0 + scale));
}

}  // namespace

TEST_CASE("direct convolution: which convolutions it takes") {
  ConvGeom g;
  g.channels = 1, g.height = 36, g.width = 36, g.kh = 5, g.kw = 5;
  CHECK(cpu::direct_conv_applies(g));
  ConvGeom two = g;
  two.channels = 2;
  CHECK_FALSE(cpu::direct_conv_applies(two));
  ConvGeom padded = g;
  padded.pad = 1;
  CHECK_FALSE(cpu::direct_conv_applies(padded));
  ConvGeom wide = g;
  wide.kw = cpu::kDirectConvMaxKw + 1;
  CHECK_FALSE(cpu::direct_conv_applies(wide));
  wide.kw = cpu::kDirectConvMaxKw;
  CHECK(cpu::direct_conv_applies(wide));
}

TEST_CASE("direct convolution: forward, weight and bias gradients equal the reference on every ISA, at 1 and 2 "
          "threads") {
  for (cpu::Isa isa : cpu::supported_isas())
    for (const Case& c : kCases) {
      const cpu::IsaScope isa_scope(isa);
      const ConvGeom g = geometry(c);
      INFO(cpu::isa_name(isa) << " image " << c.height << "x" << c.width << " kernel " << c.kh << "x" << c.kw
                              << " channels " << c.out_ch << " batch " << c.batch);
      REQUIRE(cpu::direct_conv_applies(g));
      for (bool integers : {true, false}) {
        Generator gen(integers ? 3 : 4);
        const auto x = values(c.batch * g.in_size(), gen, integers), w = values(c.out_ch * g.patch(), gen, integers);
        const auto b = values(c.out_ch, gen, integers);
        const auto gy = values(c.batch * c.out_ch * g.positions(), gen, integers);
        const Outputs want = reference(c, x, w, b, gy);
        Outputs got[2];
        for (int threads : {1, 2}) {
          const ThreadScope thread_scope(threads);
          got[threads - 1] = fast(c, x, w, b, gy);
        }
        check_equal(got[0].y, got[1].y, "y, 1 against 2 threads");
        check_equal(got[0].gw, got[1].gw, "gw, 1 against 2 threads");
        check_equal(got[0].gb, got[1].gb, "gb, 1 against 2 threads");
        if (integers) {
          check_equal(got[1].y, want.y, "y on integers");
          check_equal(got[1].gw, want.gw, "gw on integers");
          check_equal(got[1].gb, want.gb, "gb on integers");
        } else {
          check_close(got[1].y, want.y, "y");
          check_close(got[1].gw, want.gw, "gw");
          check_close(got[1].gb, want.gb, "gb");
        }
      }
    }
}

TEST_CASE("direct convolution: without a bias, with an empty batch, and with an input gradient (the im2col path)") {
  for (cpu::Isa isa : cpu::supported_isas()) {
    const cpu::IsaScope isa_scope(isa);
    INFO(cpu::isa_name(isa));
    const Case c{9, 40, 3, 7, 13, 5};
    const ConvGeom g = geometry(c);
    Generator gen(5);
    const auto x = values(c.batch * g.in_size(), gen, true), w = values(c.out_ch * g.patch(), gen, true);
    const auto gy = values(c.batch * c.out_ch * g.positions(), gen, true);
    std::vector<float> y(gy.size()), want(gy.size());
    cpu::conv2d<float>(g, c.batch, c.out_ch, x.data(), w.data(), nullptr, y.data());
    ref::conv2d<float>(g, c.batch, c.out_ch, x.data(), w.data(), nullptr, want.data());
    check_equal(y, want, "y without a bias");
    std::vector<float> gw(w.size(), -7.0f), gx(x.size(), -7.0f), gw_ref(w.size()), gx_ref(x.size());
    cpu::conv2d_backward<float>(g, 0, c.out_ch, x.data(), w.data(), gy.data(), nullptr, gw.data(), nullptr);
    check_equal(gw, std::vector<float>(w.size(), 0.0f), "gw of an empty batch");
    cpu::conv2d_backward<float>(g, c.batch, c.out_ch, x.data(), w.data(), gy.data(), gx.data(), gw.data(), nullptr);
    ref::conv2d_backward<float>(g, c.batch, c.out_ch, x.data(), w.data(), gy.data(), gx_ref.data(), gw_ref.data(),
                                nullptr);
    check_equal(gx, gx_ref, "gx");
    check_equal(gw, gw_ref, "gw beside gx");
  }
}

}  // namespace comet
