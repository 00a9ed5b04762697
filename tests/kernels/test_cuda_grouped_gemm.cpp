// The grouped expert GEMMs on the device (kernels/cuda/grouped_gemm_kernels.h) against ref::grouped_linear and
// ref::grouped_linear_backward:
// - tile math: the row tiles of expert segments cover every row once, in order, within its expert, none for an
//   expert with no rows, and never more than the grid's bound; the per-expert tiles of the weight gradient
//   cover every element of every expert once;
// - forward, backward data, backward weight and bias gradient on small-integer inputs (exact in float, so an
//   index or tile bug is an exact mismatch) and on random inputs (1e-5 relative in float, 1e-6 in double, the
//   absolute part scaled by the result's root mean square), over row counts with empty experts, partial tiles in
//   every dimension, in or out of 0; outputs start as 7s and must all be overwritten (gW_e = gb_e = 0 for an
//   expert with no rows).
// Host runs emulate every block and thread of the launch math's grids in both thread orders; device runs skip
// without a device.
#ifdef COMET_WITH_CUDA
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/grouped_gemm.h"
#include "kernels/cuda/grouped_gemm_kernels.h"
#include "kernels/grouped_gemm.h"

namespace comet {
namespace {

using cuda::kTile;
using test::ptr;
using test::Target;

std::vector<int64_t> offsets_of(const std::vector<int64_t>& counts) {
  std::vector<int64_t> offsets(counts.size() + 1, 0);
  std::partial_sum(counts.begin(), counts.end(), offsets.begin() + 1);
  return offsets;
}

// Rows per expert: empty experts first, last and in between, segments shorter than, equal to and longer than a
// tile, and no rows at all.
const std::vector<std::vector<int64_t>> kCounts = {{0},     {1},          {16},         {17},
                                                    {0, 0, 0}, {5, 0, 33}, {0, 16, 0, 1, 40}, {100, 3}};

// (in, out): partial tiles in both, whole tiles, in or out of 0.
const std::vector<std::pair<int64_t, int64_t>> kInOut = {{1, 1}, {5, 3}, {16, 16}, {37, 29}, {0, 5}, {4, 0}};

TEST_CASE("CUDA grouped GEMM tile math: segment row tiles cover every row once, within its expert") {
  Generator gen(23);
  std::vector<std::vector<int64_t>> all = kCounts;
  for (int k = 0; k < 20; ++k) {  // random splits, many with empty experts
    Tensor c = Tensor::empty({1 + k % 7}, DType::I64);
    gen.randint(c, -20, 50);
    std::vector<int64_t> counts = c.to_vector<int64_t>();
    for (int64_t& v : counts) v = v < 0 ? 0 : v;
    all.push_back(counts);
  }
  for (const std::vector<int64_t>& counts : all) {
    const std::vector<int64_t> offsets = offsets_of(counts);
    const int64_t experts = static_cast<int64_t>(counts.size()), rows = offsets.back();
    const int64_t bound = cuda::segment_row_tiles_bound(rows, experts);
    int64_t tiles = 0;
    for (const int64_t c : counts) tiles += cuda::ceil_div(c, kTile);
    CAPTURE(rows);
    CAPTURE(experts);
    CHECK(tiles <= bound);
    int64_t next_row = 0;
    for (int64_t i = 0; i < bound + 3; ++i) {
      CAPTURE(i);
      const cuda::GemmTile t = cuda::segment_row_tile(offsets.data(), experts, i);
      if (i >= tiles) {  // spare blocks come last
        CHECK(t.expert == -1);
        continue;
      }
      REQUIRE(t.expert >= 0);
      CHECK(t.row0 == next_row);  // tiles in row order: each row once
      CHECK(t.rows >= 1);
      CHECK(t.rows <= kTile);
      CHECK(t.row0 >= offsets[t.expert]);
      CHECK(t.row0 + t.rows <= offsets[t.expert + 1]);
      CHECK((t.rows == kTile || t.row0 + t.rows == offsets[t.expert + 1]));  // only an expert's last tile is partial
      next_row = t.row0 + t.rows;
    }
    CHECK(next_row == rows);
  }
}

TEST_CASE("CUDA grouped GEMM tile math: the grids' blocks cover every output element once") {
  for (const std::vector<int64_t>& counts : kCounts) {
    const std::vector<int64_t> offsets = offsets_of(counts);
    const int64_t experts = static_cast<int64_t>(counts.size()), rows = offsets.back();
    for (const auto& io : kInOut) {
      const int64_t in = io.first, out = io.second;  // not a structured binding: CAPTURE cannot take one in Clang
      CAPTURE(rows);
      CAPTURE(in);
      CAPTURE(out);
      // Forward: C = y [rows, out].
      std::vector<int> hits(rows * out, 0);
      const cuda::Launch fwd = cuda::segment_tiles_launch(rows, experts, out);
      CHECK(fwd.block == kTile * kTile);
      for (int64_t b = 0; b < fwd.grid; ++b) {
        const cuda::GemmTile t = cuda::segment_tile(offsets.data(), experts, b, out, in);
        if (t.expert < 0) continue;
        CHECK(t.inner == in);
        for (int64_t r = t.row0; r < t.row0 + t.rows; ++r)
          for (int64_t j = t.col0; j < t.col0 + t.cols; ++j) ++hits[r * out + j];
      }
      CHECK(hits == std::vector<int>(rows * out, 1));
      // Backward weight: C = gW [experts, in, out], inner = the expert's rows.
      std::vector<int> w_hits(experts * in * out, 0);
      const cuda::GroupedBackwardWeight<float> gw{experts, in, out, offsets.data(), nullptr, nullptr, nullptr};
      const cuda::Launch wgt = cuda::expert_tiles_launch(experts, in, out);
      for (int64_t b = 0; b < wgt.grid; ++b) {
        const cuda::GemmTile t = gw.locate(b);
        REQUIRE(t.expert >= 0);
        REQUIRE(t.expert < experts);
        CHECK(t.inner0 == offsets[t.expert]);
        CHECK(t.inner == counts[t.expert]);
        for (int64_t p = t.row0; p < t.row0 + t.rows; ++p)
          for (int64_t j = t.col0; j < t.col0 + t.cols; ++j) ++w_hits[(t.expert * in + p) * out + j];
      }
      CHECK(w_hits == std::vector<int>(experts * in * out, 1));
    }
  }
  CHECK(cuda::segment_tiles_launch(0, 4, 16).grid == 0);  // no rows: nothing to launch
}

// One grouped linear problem: rows split over experts by offsets, x [rows, in], w [experts, in, out],
// b [experts, out], gy [rows, out].
struct Grouped {
  std::vector<int64_t> offsets;
  int64_t in, out;
  Tensor x, w, b, gy;

  int64_t experts() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t rows() const { return offsets.back(); }
};

template <class T>
Grouped make_grouped(const std::vector<int64_t>& counts, int64_t in, int64_t out, bool integers, Generator& gen) {
  Grouped g{offsets_of(counts), in, out, {}, {}, {}, {}};
  auto fill = [&](const Shape& s) {
    return integers ? test::small_integers<T>(s, gen) : test::random_tensor(s, gen, -1, 1, dtype_of<T>());
  };
  g.x = fill({g.rows(), in});
  g.w = fill({g.experts(), in, out});
  g.b = fill({g.experts(), out});
  g.gy = fill({g.rows(), out});
  return g;
}

// {y, gx, gw, gb}; each output starts as 7s, so an element no thread writes shows.
template <class T>
std::vector<Tensor> outputs_like(const Grouped& g) {
  std::vector<Tensor> out;
  for (const Shape& s : {Shape{g.rows(), g.out}, Shape{g.rows(), g.in}, Shape{g.experts(), g.in, g.out},
                         Shape{g.experts(), g.out}}) {
    Tensor t = Tensor::empty(s, dtype_of<T>());
    for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = T(7);
    out.push_back(t);
  }
  return out;
}

template <class T>
std::vector<Tensor> ref_grouped(const Grouped& g) {
  std::vector<Tensor> o = outputs_like<T>(g);
  ref::grouped_linear(g.experts(), g.offsets.data(), g.in, g.out, g.x.data<T>(), g.w.data<T>(), g.b.data<T>(),
                      o[0].data<T>());
  ref::grouped_linear_backward(g.experts(), g.offsets.data(), g.in, g.out, g.x.data<T>(), g.w.data<T>(),
                               g.gy.data<T>(), o[1].data<T>(), o[2].data<T>(), o[3].data<T>());
  return o;
}

// The four products on `at`: on the host, the bodies emulated over the launch math's grids.
template <class T>
std::vector<Tensor> grouped_on(const Target& at, const Grouped& g) {
  const Tensor offsets = at.put(Tensor::from_vector({g.experts() + 1}, g.offsets));
  const Tensor x = at.put(g.x), w = at.put(g.w), b = at.put(g.b), gy = at.put(g.gy);
  std::vector<Tensor> o;
  for (const Tensor& t : outputs_like<T>(g)) o.push_back(at.put(t));
  const int64_t n = g.experts(), rows = g.rows();
  const int64_t* offs = ptr<int64_t>(offsets);
  if (at.device) {
    cuda::grouped_linear(n, offs, rows, g.in, g.out, ptr<T>(x), ptr<T>(w), ptr<T>(b), ptr<T>(o[0]));
    cuda::grouped_linear_backward(n, offs, rows, g.in, g.out, ptr<T>(x), ptr<T>(w), ptr<T>(gy), ptr<T>(o[1]),
                                  ptr<T>(o[2]), ptr<T>(o[3]));
  } else {
    using cuda::TiledGemmKernel;
    const cuda::GroupedForward<T> fwd{n, g.in, g.out, offs, ptr<T>(x), ptr<T>(w), ptr<T>(b), ptr<T>(o[0])};
    cuda::emulate(TiledGemmKernel<T, cuda::GroupedForward<T>>{fwd}, cuda::segment_tiles_launch(rows, n, g.out),
                  at.order);
    const cuda::GroupedBackwardData<T> data{n, g.in, g.out, offs, ptr<T>(gy), ptr<T>(w), ptr<T>(o[1])};
    cuda::emulate(TiledGemmKernel<T, cuda::GroupedBackwardData<T>>{data}, cuda::segment_tiles_launch(rows, n, g.in),
                  at.order);
    const cuda::GroupedBackwardWeight<T> weight{n, g.in, g.out, offs, ptr<T>(x), ptr<T>(gy), ptr<T>(o[2])};
    cuda::emulate(TiledGemmKernel<T, cuda::GroupedBackwardWeight<T>>{weight},
                  cuda::expert_tiles_launch(n, g.in, g.out), at.order);
    cuda::emulate(cuda::SegmentSumKernel<T>{{}, n, g.out, offs, nullptr, ptr<T>(gy), ptr<T>(o[3])},
                  cuda::elementwise_launch(n * g.out), at.order);
  }
  for (Tensor& t : o) t = at.get(t);
  return o;
}

template <class T>
void check_grouped(const Target& at, Generator& gen) {
  for (const std::vector<int64_t>& counts : kCounts) {
    for (const auto& io : kInOut) {
      const int64_t in = io.first, out = io.second;
      for (const bool integers : {true, false}) {
        CAPTURE(offsets_of(counts).back());
        CAPTURE(counts.size());
        CAPTURE(in);
        CAPTURE(out);
        CAPTURE(integers);
        const Grouped g = make_grouped<T>(counts, in, out, integers, gen);
        const std::vector<Tensor> got = grouped_on<T>(at, g), want = ref_grouped<T>(g);
        for (size_t k = 0; k < got.size(); ++k) {
          CAPTURE(k);  // 0 y, 1 gx, 2 gw, 3 gb
          const double rtol = test::kKernelRtol<T>;
          const double atol = rtol * test::rms(want[k]) + std::numeric_limits<double>::min();  // > 0 for all-0 results
          if (integers) COMET_CHECK_EXACT(got[k], want[k]);
          else COMET_CHECK_CLOSE(got[k], want[k], rtol, atol);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA grouped GEMMs, emulated on the host over every thread, equal ref::grouped_linear", T, float,
                   double) {
  Generator gen(29);
  test::for_each_host_target([&](const Target& at) { check_grouped<T>(at, gen); });
}

TEST_CASE_TEMPLATE("CUDA grouped GEMMs on the device equal ref::grouped_linear", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(29);
  check_grouped<T>(test::kDevice, gen);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
