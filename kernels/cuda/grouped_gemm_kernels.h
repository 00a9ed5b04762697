// Bodies and launch math of the grouped expert GEMMs on the device (launch seam: kernels/cuda/launch.h), the
// products of kernels/grouped_gemm.h over expert-contiguous rows (rows [offsets[e], offsets[e + 1]) are expert e's):
//   forward         y[r] = x[r] W_e + b_e           C = the expert's rows x out, inner size in
//   backward data   gx[r] = gy[r] W_e^T             C = the expert's rows x in, inner size out
//   backward weight gW_e = x_e^T gy_e               C = in x out per expert, inner size = the expert's rows
//   bias gradient   gb_e = sum of gy_e's rows        a segmented column sum (SegmentSumKernel, scatter_rows_kernels.h)
// All three products are one tiled kernel (TiledGemmKernel) over a problem struct that says where a block's
// tile is and how to read A and B and write C. A block computes one kTile x kTile tile of C, a thread one element;
// the inner dimension goes through shared memory kTile at a time (a load phase, then an accumulate phase).
// Each output element is summed by one thread in increasing inner order: no atomics, the same bits every run.
//
// Tile numbering. Forward and backward data: block = row_tile * column tiles + column tile, where row tiles are
// numbered expert after expert (segment_row_tile); an expert with no rows has no row tile, and since the host
// knows only the total row count, the grid is the bound segment_row_tiles_bound and spare blocks exit at once.
// Backward weight: block = (expert * row tiles + row tile) * column tiles + column tile, every expert alike; an
// expert with no rows gets gW_e = 0. Launchers: kernels/cuda/grouped_gemm.cu.
// Test: tests/kernels/test_cuda_grouped_gemm.cpp.
#pragma once
#include <cstdint>

#include "kernels/cuda/launch.h"
#include "kernels/cuda/scatter_rows_kernels.h"

namespace comet::cuda {

constexpr int64_t kTile = 16;  // a tile is kTile x kTile elements of C; the inner dimension goes kTile at a time

// One block's tile of one expert's C = A B: rows [row0, row0 + rows) and columns [col0, col0 + cols) of C
// (clipped at the edges), inner indices [inner0, inner0 + inner). expert < 0: a spare block, no tile.
struct GemmTile {
  int64_t expert, row0, rows, col0, cols, inner0, inner;
};

// Row tile `index` of the expert-contiguous rows, counted expert after expert: {expert, row0, rows}, expert -1
// past the last tile.
COMET_HD GemmTile segment_row_tile(const int64_t* offsets, int64_t experts, int64_t index) {
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t count = offsets[e + 1] - offsets[e], tiles = ceil_div(count, kTile);
    if (index < tiles) {
      const int64_t skip = index * kTile;
      return {e, offsets[e] + skip, count - skip < kTile ? count - skip : kTile, 0, 0, 0, 0};
    }
    index -= tiles;
  }
  return {-1, 0, 0, 0, 0, 0, 0};
}

// At least the number of row tiles of `rows` rows split over `experts` in any way: each expert's partial tile adds
// at most one to ceil(rows / kTile), and one of them is already counted there.
inline int64_t segment_row_tiles_bound(int64_t rows, int64_t experts) {
  return rows == 0 ? 0 : ceil_div(rows, kTile) + experts - 1;
}

// Columns of column tile `index` of a C with `cols` columns.
COMET_HD void set_columns(GemmTile& tile, int64_t index, int64_t cols) {
  tile.col0 = index * kTile;
  tile.cols = cols - tile.col0 < kTile ? cols - tile.col0 : kTile;
}

// The tile of block `block` when C's rows are the expert segments (forward, backward data).
COMET_HD GemmTile segment_tile(const int64_t* offsets, int64_t experts, int64_t block, int64_t cols, int64_t inner) {
  const int64_t col_tiles = ceil_div(cols, kTile);
  GemmTile tile = segment_row_tile(offsets, experts, block / col_tiles);
  set_columns(tile, block % col_tiles, cols);
  tile.inner = inner;
  return tile;
}

inline Launch segment_tiles_launch(int64_t rows, int64_t experts, int64_t cols) {
  return {segment_row_tiles_bound(rows, experts) * ceil_div(cols, kTile), kTile * kTile};
}

inline Launch expert_tiles_launch(int64_t experts, int64_t rows, int64_t cols) {
  return {experts * ceil_div(rows, kTile) * ceil_div(cols, kTile), kTile * kTile};
}

// C = A B over one tile a block: phase 0 finds the tile, then load (even phases) and accumulate (odd phases)
// alternate over the inner chunks, and the last phase stores. Thread t computes element (t / kTile, t % kTile)
// of the tile and loads that element of the A and B chunks (zero outside the matrices, so partial tiles need
// no special case). The block must have kTile * kTile threads.
template <class T, class Problem>
struct TiledGemmKernel {
  Problem problem;

  struct Shared {
    T a[kTile][kTile], b[kTile][kTile];
  };
  struct Local {
    GemmTile tile;
    T acc;
  };

  COMET_HD bool phase(int p, const Thread& t, Shared& s, Local& l) const {
    const int64_t i = t.thread / kTile, j = t.thread % kTile;
    if (p == 0) {
      l.tile = problem.locate(t.block);
      l.acc = T(0);
      if (l.tile.expert < 0) return false;
    }
    const GemmTile& c = l.tile;
    if (p % 2 == 1) {
      for (int64_t k = 0; k < kTile; ++k) l.acc += s.a[i][k] * s.b[k][j];
      return true;
    }
    const int64_t k0 = p / 2 * kTile;
    if (k0 < c.inner) {
      const bool a_in = i < c.rows && k0 + j < c.inner, b_in = k0 + i < c.inner && j < c.cols;
      s.a[i][j] = a_in ? problem.a_at(c, c.row0 + i, c.inner0 + k0 + j) : T(0);
      s.b[i][j] = b_in ? problem.b_at(c, c.inner0 + k0 + i, c.col0 + j) : T(0);
      return true;
    }
    if (i < c.rows && j < c.cols) problem.store(c, c.row0 + i, c.col0 + j, l.acc);
    return false;
  }
};

// Forward: y[r] = x[r] W_e + b_e. C rows are x's rows, A = x, B = W_e.
template <class T>
struct GroupedForward {
  int64_t experts, in, out;
  const int64_t* offsets;
  const T* x;
  const T* w;
  const T* bias;
  T* y;

  COMET_HD GemmTile locate(int64_t block) const { return segment_tile(offsets, experts, block, out, in); }
  COMET_HD T a_at(const GemmTile&, int64_t r, int64_t k) const { return x[r * in + k]; }
  COMET_HD T b_at(const GemmTile& c, int64_t k, int64_t j) const { return w[(c.expert * in + k) * out + j]; }
  COMET_HD void store(const GemmTile& c, int64_t r, int64_t j, T acc) const {
    y[r * out + j] = acc + bias[c.expert * out + j];
  }
};

// Backward data: gx[r] = gy[r] W_e^T. C rows are gy's rows, A = gy, B = W_e^T.
template <class T>
struct GroupedBackwardData {
  int64_t experts, in, out;
  const int64_t* offsets;
  const T* gy;
  const T* w;
  T* gx;

  COMET_HD GemmTile locate(int64_t block) const { return segment_tile(offsets, experts, block, in, out); }
  COMET_HD T a_at(const GemmTile&, int64_t r, int64_t k) const { return gy[r * out + k]; }
  COMET_HD T b_at(const GemmTile& c, int64_t k, int64_t j) const { return w[(c.expert * in + j) * out + k]; }
  COMET_HD void store(const GemmTile&, int64_t r, int64_t j, T acc) const { gx[r * in + j] = acc; }
};

// Backward weight: gW_e = x_e^T gy_e. C = gW_e [in, out]; the inner index is the row r of x and gy, over the
// expert's rows in increasing order; A = x_e^T, B = gy_e.
template <class T>
struct GroupedBackwardWeight {
  int64_t experts, in, out;
  const int64_t* offsets;
  const T* x;
  const T* gy;
  T* gw;

  COMET_HD GemmTile locate(int64_t block) const {
    const int64_t row_tiles = ceil_div(in, kTile), col_tiles = ceil_div(out, kTile);
    const int64_t e = block / (row_tiles * col_tiles), row_tile = block / col_tiles % row_tiles;
    GemmTile tile{e, row_tile * kTile, 0, 0, 0, offsets[e], offsets[e + 1] - offsets[e]};
    tile.rows = in - tile.row0 < kTile ? in - tile.row0 : kTile;
    set_columns(tile, block % col_tiles, out);
    return tile;
  }
  COMET_HD T a_at(const GemmTile&, int64_t p, int64_t r) const { return x[r * in + p]; }
  COMET_HD T b_at(const GemmTile&, int64_t r, int64_t j) const { return gy[r * out + j]; }
  COMET_HD void store(const GemmTile& c, int64_t p, int64_t j, T acc) const { gw[(c.expert * in + p) * out + j] = acc; }
};

}  // namespace comet::cuda
