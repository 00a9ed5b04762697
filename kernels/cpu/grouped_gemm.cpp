// Fast grouped linear: tiles (expert, block of rows; the last ones cut into column pieces) handed to threads
// dynamically; each tile is a serial GEMM (nested parallelism is off, core/threading.cpp), so every output element
// has one writer and a fixed k order.

#include <algorithm>
#include <cmath>
#include <type_traits>
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
// of the expert's W (its weight-gradient GEMM, over all of the expert's rows of x); columns [col0, col1) of the
// output's row (all of it unless run_tiles cut the tile into column pieces).
struct Tile {
  int64_t expert, begin, end;
  bool weight_rows;
  double work;  // multiply-adds
  int64_t col0 = 0, col1 = 0;
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
// expert's W (an expert without rows gets a zero gradient). cols is the width of the output's rows.
void add_tiles(std::vector<Tile>& tiles, int64_t experts, const int64_t* offsets, int64_t in, int64_t out,
               int64_t cols, bool weight_rows) {
  const int64_t block = tile_rows(weight_rows ? in * experts : offsets[experts]);
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t rows = offsets[e + 1] - offsets[e];
    if (rows == 0 && !weight_rows) continue;
    const int64_t b = weight_rows ? 0 : offsets[e];
    int64_t end = weight_rows ? in : offsets[e + 1];
    if (COMET_MUTANT(grouped_gemm_last_row_dropped) && !weight_rows && end - b > 1) --end;
    for (int64_t r = b; r < end; r += block) {
      const int64_t tile_end = std::min(end, r + block);
      tiles.push_back({e, r, tile_end, weight_rows, double(tile_end - r) * (weight_rows ? rows : in) * out, 0, cols});
    }
  }
}

// Cuts the last tiles of the claiming order into column pieces of whole micro-kernel panels (nr columns), so that
// the threads finish close together: each piece is at most the work that comes after it over the threads (the last
// tile into as many pieces as it has panels). Whole tiles left a thread idle for up to a tile's time at the end of
// every region. A piece computes its elements exactly as the whole tile does (the micro-kernels treat every element
// alike and the k slices depend on k alone, kernels/cpu/gemm.cpp), so no bit changes. Weight-gradient tiles stay
// whole when their rows go to take as contiguous pieces.
std::vector<Tile> cut_last_tiles(const std::vector<Tile>& tiles, int64_t nr, bool cut_weight_rows) {
  std::vector<Tile> cut;
  const double threads = num_threads();
  double after = 0;  // multiply-adds claimed after the tile at hand
  for (auto t = tiles.rbegin(); t != tiles.rend(); ++t) {
    const int64_t panels = (t->col1 - t->col0 + nr - 1) / nr;
    int64_t pieces = after > 0 ? static_cast<int64_t>(std::ceil(t->work * threads / after)) : panels;
    pieces = t->weight_rows && !cut_weight_rows ? 1 : std::clamp<int64_t>(pieces, 1, panels);
    for (int64_t p = pieces - 1; p >= 0; --p) {
      Tile piece = *t;
      piece.col0 = t->col0 + panels * p / pieces * nr;
      piece.col1 = std::min(t->col1, t->col0 + panels * (p + 1) / pieces * nr);
      piece.work = t->work * double(piece.col1 - piece.col0) / double(t->col1 - t->col0);
      cut.push_back(piece);
    }
    after += t->work;
  }
  std::reverse(cut.begin(), cut.end());
  return cut;
}

// Runs f on every tile, each claimed by whichever thread is free, the most work first: the last claims are then the
// smallest, so the threads finish close together (in expert order, a large expert claimed last kept one thread busy
// while the others had nothing left). In parallel only when there are several tiles and enough work to pay for
// waking the workers; then, for float (whose GEMM gives a column piece the whole tile's bits), with the last tiles
// cut into column pieces.
template <class T, class F>
void run_tiles(std::vector<Tile> tiles, bool cut_weight_rows, F f) {
  std::stable_sort(tiles.begin(), tiles.end(), [](const Tile& x, const Tile& y) { return x.work > y.work; });
  double work = 0;
  for (const Tile& t : tiles) work += t.work;
  if (tiles.size() > 1 && num_threads() > 1 && work > 1e6) {
    if constexpr (std::is_same_v<T, float>) tiles = cut_last_tiles(tiles, sgemm_kernel(active_isa()).nr, cut_weight_rows);
    return parallel_chunks(static_cast<int64_t>(tiles.size()), [&](int64_t i) { f(tiles[i]); });
  }
  for (const Tile& t : tiles) f(t);
}

}  // namespace

template <class T>
void grouped_linear(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x, const T* w,
                    const T* b, T* y) {
  std::vector<Tile> tiles;
  add_tiles(tiles, experts, offsets, in, out, out, false);
  run_tiles<T>(std::move(tiles), false, [&](const Tile& t) {
    GemmArgs<T> g;
    g.m = t.end - t.begin; g.n = t.col1 - t.col0; g.k = in;
    g.a = x + t.begin * in; g.lda = in; g.b = w + t.expert * in * out + t.col0; g.ldb = out;
    g.c = y + t.begin * out + t.col0; g.ldc = out; g.row_bias = b + t.expert * out + t.col0;
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
    g.trans_b = true; g.m = t.end - t.begin; g.n = t.col1 - t.col0; g.k = out;
    g.a = gy + t.begin * out; g.lda = out; g.b = w + (t.expert * in + t.col0) * out; g.ldb = out;
    g.c = gx + t.begin * in + t.col0; g.ldc = in;
    gemm(g);
  };
  // gW's rows [begin, end) and columns [col0, col1) of one expert; the bias sum rides on each expert's first rows.
  const auto weight_tile = [&](const Tile& t) {
    const int64_t r0 = offsets[t.expert], rows = offsets[t.expert + 1] - r0, cols = t.col1 - t.col0;
    const int64_t first = (t.expert * in + t.begin) * out + t.col0, count = (t.end - t.begin) * out;
    if (gw || take) {
      // A piece goes to a buffer that each thread reuses, so that it is still in cache when take reads it.
      thread_local std::vector<T> piece;
      if (take && piece.size() < static_cast<size_t>(count)) piece.resize(static_cast<size_t>(count));
      GemmArgs<T> g;
      g.trans_a = true; g.m = t.end - t.begin; g.n = cols; g.k = rows;
      g.a = x + r0 * in + t.begin; g.lda = in; g.b = gy + r0 * out + t.col0; g.ldb = out;
      g.c = take ? piece.data() : gw + first; g.ldc = out;
      gemm(g);
      if (take) (*take)(first, first + count, piece.data());
    }
    if (gb && t.begin == 0) {
      T* gbe = gb + t.expert * out + t.col0;
      std::fill_n(gbe, cols, T(0));
      for (int64_t r = r0; r < r0 + rows; ++r) loops.binary(Binary::Add, cols, gbe, gy + r * out + t.col0, gbe);
    }
  };
  const auto run = [&](const Tile& t) { t.weight_rows ? weight_tile(t) : input_tile(t); };
  std::vector<Tile> tiles;
  if (gx) add_tiles(tiles, experts, offsets, in, out, in, false);
  if (take && gx) {  // take may update W in place: every input-gradient tile must have read it first
    run_tiles<T>(std::move(tiles), false, run);
    tiles.clear();
  }
  if (gw || take || gb) add_tiles(tiles, experts, offsets, in, out, out, true);
  run_tiles<T>(std::move(tiles), !take, run);
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
