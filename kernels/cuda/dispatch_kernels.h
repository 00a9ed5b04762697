// Bodies and launch math of the MoE dispatch kernels on the device (launch seam: kernels/cuda/launch.h).
//
// The dispatch plan of a dense gate matrix g [batch, experts] is kernels/dispatch.h's plan_dispatch, computed in
// three integer-only launches, so it is exact and deterministic:
//   1. DispatchCountKernel: the batch is cut into row blocks; for every (expert, row block) the number of
//      nonzero gate weights, laid out expert-major: counts[e * blocks + block].
//   2. ExclusiveScanKernel (one block): the exclusive prefix sum of those counts in place, so each cell holds where
//      its pairs start; in expert-major order that start is also the expert's offset when the row block is 0.
//   3. DispatchScatterKernel: each (expert, row block) writes its pairs from that start in sample order, so
//      every expert's pairs are stable in sample order, as on the CPU. It also writes pair_of[b * experts + e],
//      the pair of (b, e) or -1, the inverse index the combine reads.
// GatherRowsKernel (xs[p] = x[sample[p]]) and CombineKernel (y[b] = sum of b's pairs' g * ys[p], the pairs in
// expert order, which is the CPU scatter_add_rows order) are grid-stride loops with one output element per
// thread: nothing is accumulated across threads, so no atomics. The combine's backward: to the expert outputs, the
// gather with weights (gys[p] = gy[sample[p]] g[flat[p]]), to the gate weights CombineGateGradKernel (a dot product
// per used gate weight). Launchers: kernels/cuda/dispatch.cu.
// Test: tests/kernels/test_cuda_dispatch.cpp.
#pragma once
#include <cstdint>

#include "kernels/cuda/launch.h"

namespace comet::cuda {

// Launch math shared by the count and scatter launches: a block per row block of rows_per_block samples (at
// least one block, so an empty batch still gets its offsets), threads striding over the experts.
struct DispatchGrid {
  int64_t batch = 0, experts = 0, rows_per_block = 0, blocks = 0, threads = 0;

  int64_t cells() const { return experts * blocks; }  // (expert, row block) counts
  Launch launch() const { return {blocks, threads}; }
};

constexpr int64_t kDispatchRowsPerBlock = 64;

inline DispatchGrid dispatch_grid(int64_t batch, int64_t experts, int64_t rows_per_block = kDispatchRowsPerBlock) {
  const int64_t blocks = batch > rows_per_block ? ceil_div(batch, rows_per_block) : 1;
  const int64_t warps = ceil_div(experts, 32);
  return {batch, experts, rows_per_block, blocks, warps < 8 ? 32 * warps : 256};
}

// Rows [first, last) of a row block.
struct RowRange {
  int64_t first, last;
};

COMET_HD RowRange block_rows(int64_t batch, int64_t rows_per_block, int64_t block) {
  const int64_t first = block * rows_per_block, last = first + rows_per_block;
  return {first, last < batch ? last : batch};
}

template <class T>
struct DispatchCountKernel : OnePhase<DispatchCountKernel<T>> {
  int64_t batch, experts, rows_per_block;
  const T* g;
  int64_t* counts;    // [experts * blocks]
  int64_t* nan_seen;  // set to 1 when a gate weight is NaN (the host refuses the plan, as plan_dispatch does)

  COMET_HD void run(const Thread& t) const {
    const RowRange rows = block_rows(batch, rows_per_block, t.block);
    for (int64_t e = t.thread; e < experts; e += t.block_dim) {
      int64_t count = 0;
      for (int64_t b = rows.first; b < rows.last; ++b) {
        const T v = g[b * experts + e];
        if (v != v) *nan_seen = 1;  // every writer writes the same value
        count += v != T(0);
      }
      counts[e * t.grid_dim + t.block] = count;
    }
  }
};

constexpr int64_t kScanThreads = 256;

// In-place exclusive prefix sum of data[0, n) by one block of at most kScanThreads threads, each owning a
// contiguous run: the runs' totals (phase 0), their exclusive scan by thread 0 (phase 1), each run rewritten from
// its start (phase 2). Also writes sampled[k] = the scan at k * stride for k < n / stride, and sampled[n / stride]
// = the total (n is a multiple of stride): with the expert-major counts and stride = blocks, the experts' offsets.
struct ExclusiveScanKernel {
  int64_t n, stride;
  int64_t* data;
  int64_t* sampled;

  struct Shared {
    int64_t run_start[kScanThreads];
    int64_t total;
  };
  struct Local {};

  COMET_HD bool phase(int p, const Thread& t, Shared& s, Local&) const {
    const int64_t per = ceil_div(n, t.block_dim), first = t.thread * per;
    const int64_t last = first + per < n ? first + per : n;
    if (p == 0) {
      int64_t sum = 0;
      for (int64_t i = first; i < last; ++i) sum += data[i];
      s.run_start[t.thread] = sum;
      return true;
    }
    if (p == 1) {
      if (t.thread == 0) {
        int64_t start = 0;
        for (int64_t r = 0; r < t.block_dim; ++r) {
          const int64_t sum = s.run_start[r];
          s.run_start[r] = start;
          start += sum;
        }
        s.total = start;
      }
      return true;
    }
    int64_t start = s.run_start[t.thread];
    for (int64_t i = first; i < last; ++i) {
      const int64_t count = data[i];
      data[i] = start;
      if (i % stride == 0) sampled[i / stride] = start;
      start += count;
    }
    if (t.thread == 0) sampled[n / stride] = s.total;
    return false;
  }
};

template <class T>
struct DispatchScatterKernel : OnePhase<DispatchScatterKernel<T>> {
  int64_t batch, experts, rows_per_block;
  const T* g;
  const int64_t* starts;  // the scanned counts
  int64_t* sample;        // [pairs]
  int64_t* flat;          // [pairs]
  int64_t* pair_of;       // [batch * experts]

  COMET_HD void run(const Thread& t) const {
    const RowRange rows = block_rows(batch, rows_per_block, t.block);
    for (int64_t e = t.thread; e < experts; e += t.block_dim) {
      int64_t next = starts[e * t.grid_dim + t.block];
      for (int64_t b = rows.first; b < rows.last; ++b) {
        const int64_t i = b * experts + e;
        if (g[i] == T(0)) {
          pair_of[i] = -1;
          continue;
        }
        sample[next] = b;
        flat[next] = i;
        pair_of[i] = next++;
      }
    }
  }
};

// out[i, :] = x[index[i], :] for i < m (rows of d elements), as cpu::gather_rows; with weights, out[i, :] =
// x[index[i], :] * weights[weight_index[i]]: the combine's backward to the expert outputs, gys[p, :] =
// gy[sample[p], :] * g[flat[p]] (the product the CPU's mul backward rounds).
template <class T>
struct GatherRowsKernel : OnePhase<GatherRowsKernel<T>> {
  int64_t m, d;
  const T* x;
  const int64_t* index;
  T* out;
  const T* weights = nullptr;
  const int64_t* weight_index = nullptr;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < m * d; i += t.grid_threads()) {
      const T v = x[index[i / d] * d + i % d];
      out[i] = weights ? v * weights[weight_index[i / d]] : v;
    }
  }
};

// y[b, :] = sum over experts e with pair_of[b, e] = p >= 0 of g[b, e] * ys[p, :], in expert order (rows of d).
template <class T>
struct CombineKernel : OnePhase<CombineKernel<T>> {
  int64_t batch, experts, d;
  const int64_t* pair_of;
  const T* g;
  const T* ys;
  T* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < batch * d; i += t.grid_threads()) {
      const int64_t b = i / d, col = i % d;
      T acc = T(0);
      for (int64_t e = 0; e < experts; ++e) {
        const int64_t p = pair_of[b * experts + e];
        if (p >= 0) acc += g[b * experts + e] * ys[p * d + col];
      }
      y[i] = acc;
    }
  }
};

// The combine's backward to the gate weights: gg[b, e] = sum_j gy[b, j] ys[p, j] for p = pair_of[b, e] >= 0, else
// 0; one thread per gate weight, products in T summed in double in column order (the CPU's mul backward: the
// products, then a row sum in double).
template <class T>
struct CombineGateGradKernel : OnePhase<CombineGateGradKernel<T>> {
  int64_t batch, experts, d;
  const int64_t* pair_of;
  const T* ys;
  const T* gy;
  T* gg;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < batch * experts; i += t.grid_threads()) {
      const int64_t b = i / experts, p = pair_of[i];
      double acc = 0;
      if (p >= 0)
        for (int64_t j = 0; j < d; ++j) acc += double(gy[b * d + j] * ys[p * d + j]);
      gg[i] = static_cast<T>(acc);
    }
  }
};

}  // namespace comet::cuda
