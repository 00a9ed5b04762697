// Fast grouped linear: tiles (expert, block of rows) handed to threads dynamically; each tile is a serial GEMM
// (nested parallelism is off, core/threading.cpp), so every output element has one writer and a fixed k order.

#include <algorithm>
#include <utility>
#include <vector>

#include "core/mutation.h"
#include "core/threading.h"
#include "kernels/cpu/sgemm_kernel.h"
#include "kernels/cpu/vector_loops.h"
#include "kernels/gemm.h"
#include "kernels/grouped_gemm.h"

namespace comet::cpu {
namespace {

constexpr int64_t kMinTileRows = 96;    // rounded up to whole micro-tiles of the float kernel (tile_rows)
constexpr int64_t kTilesPerThread = 4;  // enough tiles for the dynamic schedule to even out uneven experts

// A block of rows of one expert: rows [begin, end) of x (a forward or input-gradient GEMM) or, with weight_rows,
// of the expert's W (its weight-gradient GEMM, over all of the expert's rows of x).
struct Tile {
  int64_t expert, begin, end;
  bool weight_rows;
  double work;  // multiply-adds
};

// Rows per tile: kMinTileRows, or more when there are rows enough for kTilesPerThread tiles per thread anyway. Each
// tile packs its expert's weights (or, for weight gradients, its rows of the output gradient) once, so fewer,
// taller tiles pack less: at full density (every sample on every expert) 96-row tiles packed each weight matrix
// 5 times. No element's value depends on the tiling (a tile boundary never splits a sum).
int64_t tile_rows(int64_t total_rows) {
  const int64_t rows = std::max(kMinTileRows, total_rows / (kTilesPerThread * num_threads()));
  const int64_t mr = sgemm_kernel(active_isa()).mr;
  return (rows + mr - 1) / mr * mr;
}

// Appends the tiles over [offsets[e], offsets[e+1]) (rows of x) or, with weight_rows, over the in rows of every
// expert's W (an expert without rows gets a zero gradient).
void add_tiles(std::vector<Tile>& tiles, int64_t experts, const int64_t* offsets, int64_t in, int64_t out,
               bool weight_rows) {
  const int64_t block = tile_rows(weight_rows ? in * experts : offsets[experts]);
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t rows = offsets[e + 1] - offsets[e];
    if (rows == 0 && !weight_rows) continue;
    const int64_t b = weight_rows ? 0 : offsets[e];
    int64_t end = weight_rows ? in : offsets[e + 1];
    if (COMET_MUTANT(grouped_gemm_last_row_dropped) && !weight_rows && end - b > 1) --end;
    for (int64_t r = b; r < end; r += block) {
      const int64_t tile_end = std::min(end, r + block);
      tiles.push_back({e, r, tile_end, weight_rows, double(tile_end - r) * (weight_rows ? rows : in) * out});
    }
  }
}

// Runs f on every tile, each claimed by whichever thread is free, the most work first: the last claims are then the
// smallest, so the threads finish close together (in expert order, a large expert claimed last kept one thread busy
// while the others had nothing left). In parallel only when there are several tiles and enough work to pay for
// waking the workers.
template <class F>
void run_tiles(std::vector<Tile> tiles, F f) {
  std::stable_sort(tiles.begin(), tiles.end(), [](const Tile& x, const Tile& y) { return x.work > y.work; });
  const int64_t n = static_cast<int64_t>(tiles.size());
  double work = 0;
  for (const Tile& t : tiles) work += t.work;
  if (n > 1 && num_threads() > 1 && work > 1e6) return parallel_chunks(n, [&](int64_t i) { f(tiles[i]); });
  for (const Tile& t : tiles) f(t);
}

}  // namespace

template <class T>
void grouped_linear(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x, const T* w,
                    const T* b, T* y) {
  std::vector<Tile> tiles;
  add_tiles(tiles, experts, offsets, in, out, false);
  run_tiles(std::move(tiles), [&](const Tile& t) {
    const int64_t rows = t.end - t.begin;
    GemmArgs<T> g;
    g.m = rows; g.n = out; g.k = in;
    g.a = x + t.begin * in; g.lda = in; g.b = w + t.expert * in * out; g.ldb = out;
    g.c = y + t.begin * out; g.ldc = out; g.row_bias = b + t.expert * out;
    gemm(g);
  });
}

namespace {

// The backward with gW written to gw, or, when gw is null and take is set, handed to take tile by tile from a
// per-thread buffer (grouped_linear_backward_pieces). The input-gradient tiles (rows of x) and the weight-gradient
// tiles (rows of W) write different outputs, so they share one parallel region: one wait for the last tile, not two.
// Not with take, which may update W (the fused optimizer step) while an input-gradient tile still needs it.
template <class T>
void backward(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x, const T* w, const T* gy,
              T* gx, T* gw, const GradPiece<T>* take, T* gb) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  const auto input_tile = [&](const Tile& t) {
    GemmArgs<T> g;
    g.trans_b = true; g.m = t.end - t.begin; g.n = in; g.k = out;
    g.a = gy + t.begin * out; g.lda = out; g.b = w + t.expert * in * out; g.ldb = out;
    g.c = gx + t.begin * in; g.ldc = in;
    gemm(g);
  };
  // gW's rows [begin, end) of one expert; the bias sum rides on each expert's first tile.
  const auto weight_tile = [&](const Tile& t) {
    const int64_t r0 = offsets[t.expert], rows = offsets[t.expert + 1] - r0;
    const int64_t first = (t.expert * in + t.begin) * out, count = (t.end - t.begin) * out;
    if (gw || take) {
      // A piece goes to a buffer that each thread reuses, so that it is still in cache when take reads it.
      thread_local std::vector<T> piece;
      if (take && piece.size() < static_cast<size_t>(count)) piece.resize(static_cast<size_t>(count));
      GemmArgs<T> g;
      g.trans_a = true; g.m = t.end - t.begin; g.n = out; g.k = rows;
      g.a = x + r0 * in + t.begin; g.lda = in; g.b = gy + r0 * out; g.ldb = out;
      g.c = take ? piece.data() : gw + first; g.ldc = out;
      gemm(g);
      if (take) (*take)(first, first + count, piece.data());
    }
    if (gb && t.begin == 0) {
      T* gbe = gb + t.expert * out;
      std::fill_n(gbe, out, T(0));
      for (int64_t r = r0; r < r0 + rows; ++r) loops.binary(Binary::Add, out, gbe, gy + r * out, gbe);
    }
  };
  const auto run = [&](const Tile& t) { t.weight_rows ? weight_tile(t) : input_tile(t); };
  std::vector<Tile> tiles;
  if (gx) add_tiles(tiles, experts, offsets, in, out, false);
  if (take && gx) {  // take may update W in place: every input-gradient tile must have read it first
    run_tiles(std::move(tiles), run);
    tiles.clear();
  }
  if (gw || take || gb) add_tiles(tiles, experts, offsets, in, out, true);
  run_tiles(std::move(tiles), run);
}

}  // namespace

template <class T>
void grouped_linear_backward(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x,
                             const T* w, const T* gy, T* gx, T* gw, T* gb) {
  backward<T>(experts, offsets, in, out, x, w, gy, gx, gw, nullptr, gb);
}

template <class T>
void grouped_linear_backward_pieces(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x,
                                    const T* w, const T* gy, T* gx, const GradPiece<T>& take, T* gb) {
  backward<T>(experts, offsets, in, out, x, w, gy, gx, nullptr, &take, gb);
}

COMET_INSTANTIATE_GROUPED_GEMM(float)
COMET_INSTANTIATE_GROUPED_GEMM(double)
template void grouped_linear_backward_pieces<float>(int64_t, const int64_t*, int64_t, int64_t, const float*,
                                                    const float*, const float*, float*, const GradPiece<float>&,
                                                    float*);
template void grouped_linear_backward_pieces<double>(int64_t, const int64_t*, int64_t, int64_t, const double*,
                                                     const double*, const double*, double*, const GradPiece<double>&,
                                                     double*);

}  // namespace comet::cpu
