// Bodies and launch math of the scatter-add of rows on the device (launch seam: kernels/cuda/launch.h): out[r, :] =
// sum of src[i, :] over the i < m with index[i] == r, for r < num_rows, as cpu::scatter_add_rows. It is the
// backward of the gather (gather_rows, kernels/cuda/dispatch_kernels.h), so of the embedding: the table's
// gradient sums the gradients of the rows that looked up each id.
//
// The CPU sums each destination row's sources in increasing source order (kernels/index.h: bucket_rows, a stable
// counting sort of the index). The device builds the same buckets with the dispatch plan's machinery, integers
// only, so exactly and the same every run:
//   1. RowBucketCountKernel: the index is cut into blocks of ids; for every (row, id block) the number of ids
//      equal to row, laid out row-major: counts[row * blocks + block] (each block zeroes its own column first);
//   2. ExclusiveScanKernel (dispatch_kernels.h): the counts' exclusive scan, and every row's offset;
//   3. RowBucketScatterKernel: each id block writes its sources from those starts in source order.
// A block's ids are counted and placed by its thread 0 alone: threads of a block incrementing one count would
// need atomics and would lose the source order. Then SegmentSumKernel sums every destination element over its
// bucket in order (one thread per element; zeros for a row no id names): no atomics.
// SegmentSumKernel also sums contiguous segments (order null): the grouped GEMM's bias gradient.
// Launchers: kernels/cuda/scatter_rows.cu. Test: tests/kernels/test_cuda_scatter_rows.cpp.
#pragma once
#include <cstdint>

#include "kernels/cuda/dispatch_kernels.h"
#include "kernels/cuda/launch.h"

namespace comet::cuda {

constexpr int64_t kScatterIdsPerBlock = 256;

// The count and scatter launches of m ids into num_rows rows: the dispatch plan's grid, ids for its samples and
// rows for its experts.
inline DispatchGrid row_bucket_grid(int64_t m, int64_t num_rows, int64_t ids_per_block = kScatterIdsPerBlock) {
  return dispatch_grid(m, num_rows, ids_per_block);
}

struct RowBucketCountKernel {
  int64_t m, num_rows, ids_per_block;
  const int64_t* index;
  int64_t* counts;  // [num_rows * blocks]

  struct Shared {};
  struct Local {};

  COMET_HD bool phase(int p, const Thread& t, Shared&, Local&) const {
    if (p == 0) {
      for (int64_t r = t.thread; r < num_rows; r += t.block_dim) counts[r * t.grid_dim + t.block] = 0;
      return true;
    }
    if (t.thread == 0) {
      const RowRange ids = block_rows(m, ids_per_block, t.block);
      for (int64_t i = ids.first; i < ids.last; ++i) ++counts[index[i] * t.grid_dim + t.block];
    }
    return false;
  }
};

struct RowBucketScatterKernel : OnePhase<RowBucketScatterKernel> {
  int64_t m, ids_per_block;
  const int64_t* index;
  int64_t* starts;  // the scanned counts; each block advances its own column's
  int64_t* order;   // [m]: the sources bucket by bucket

  COMET_HD void run(const Thread& t) const {
    if (t.thread != 0) return;
    const RowRange ids = block_rows(m, ids_per_block, t.block);
    for (int64_t i = ids.first; i < ids.last; ++i) order[starts[index[i] * t.grid_dim + t.block]++] = i;
  }
};

// y[s, j] = sum of x[row, j] over the rows of segment s in order (0 for an empty segment), rows of d elements:
// segment s holds order[offsets[s]], ..., order[offsets[s + 1] - 1], or rows offsets[s], ... when order is null.
template <class T>
struct SegmentSumKernel : OnePhase<SegmentSumKernel<T>> {
  int64_t segments, d;
  const int64_t* offsets;
  const int64_t* order;
  const T* x;
  T* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < segments * d; i += t.grid_threads()) {
      const int64_t s = i / d, j = i % d;
      T acc = T(0);
      for (int64_t k = offsets[s]; k < offsets[s + 1]; ++k) acc += x[(order ? order[k] : k) * d + j];
      y[i] = acc;
    }
  }
};

}  // namespace comet::cuda
