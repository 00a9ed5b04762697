// Fast row-index kernels: rows copied with memcpy and added with the active ISA's vector loops
// (kernels/cpu/vector_loops.h). scatter_add_rows counting-sorts the index (kernels/index.h: bucket_rows), then
// each thread owns a block of destination rows, balanced by source-row count, and sums each row's sources in
// increasing source order: the result does not depend on the thread count and no float is shared between threads.
// With little work, one thread, or one-element rows it makes the same sums in one serial pass instead. combine_rows
// makes the sums of scatter_add_rows over the rows of ys * g[flat] without writing those rows.

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_loops.h"
#include "kernels/index.h"

namespace comet::cpu {
namespace {

// out = sum of src rows order[0..count) (zeros when count == 0), in that order.
template <class T>
void sum_rows(const VectorLoops<T>& loops, int64_t d, const T* src, const int64_t* order, int64_t count, T* out) {
  if (count == 0) {
    std::fill_n(out, d, T(0));
    return;
  }
  std::memcpy(out, src + order[0] * d, sizeof(T) * d);
  for (int64_t k = 1; k < count; ++k) loops.binary(Binary::Add, d, out, src + order[k] * d, out);
}

// The same sums in one serial pass over the sources: each destination row starts as its first source row and adds
// the later ones in source order, which are the bucketed path's operations in its order (the same bits), without the
// counting sort and without a call per destination row. The cheap way when there is little work, or when rows are
// one element wide (a gate's weights scattered into [B n, 1]: up to B n destination rows for B k sources).
template <class T>
void scatter_add_rows_serial(const VectorLoops<T>& loops, int64_t m, int64_t d, const T* src, const int64_t* index,
                             int64_t num_rows, T* out) {
  std::vector<uint8_t> started(static_cast<size_t>(num_rows), 0);
  std::fill_n(out, num_rows * d, T(0));
  for (int64_t i = 0; i < m; ++i) {
    T* o = out + index[i] * d;
    const T* s = src + i * d;
    if (!started[index[i]]) {
      started[index[i]] = 1;
      std::copy_n(s, d, o);
    } else if (d == 1) {
      o[0] = o[0] + s[0];
    } else {
      loops.binary(Binary::Add, d, o, s, o);
    }
  }
}

}  // namespace

template <class T>
void gather_rows(int64_t m, int64_t d, const T* x, const int64_t* index, T* out) {
  parallel_for(m, d, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::memcpy(out + i * d, x + index[i] * d, sizeof(T) * d);
  });
}

template <class T>
void scatter_add_rows(int64_t m, int64_t d, const T* src, const int64_t* index, int64_t num_rows, T* out) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  // Cost of rows [0, r): their source rows plus one per row (zero-filling); strictly increasing in r.
  const int64_t total = m + num_rows;
  const int threads = num_threads();
  if (threads == 1 || total * d < kParallelGrain || num_rows < 2 || d == 1)
    return scatter_add_rows_serial(loops, m, d, src, index, num_rows, out);
  const RowBuckets b = bucket_rows(m, index, num_rows);
  auto rows = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      sum_rows(loops, d, src, b.order.data() + b.offsets[r], b.offsets[r + 1] - b.offsets[r], out + r * d);
  };
  auto row_at_cost = [&](int64_t c) {  // the first r with cost(r) >= c
    int64_t lo = 0, hi = num_rows;
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (b.offsets[mid] + mid < c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const int64_t parts = kBlocksPerThread * threads;  // of equal cost, claimed by whichever thread is free
  parallel_chunks(parts, [&](int64_t t) { rows(row_at_cost(total * t / parts), row_at_cost(total * (t + 1) / parts)); });
}

template <class T>
void copy_cols(int64_t rows, int64_t width, const T* src, int64_t lds, T* dst, int64_t ldd, bool accumulate) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(rows, width, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* s = src + r * lds;
      T* o = dst + r * ldd;
      if (accumulate) loops.binary(Binary::Add, width, o, s, o);
      else std::memcpy(o, s, sizeof(T) * width);
    }
  });
}

// Each sample's row by one thread, in expert order: the first product written, each later one rounded and added,
// which are the operations of scatter_add_rows over the rows of ys * g[flat] (the same bits) without those rows.
// A later product is added by axpy, which rounds the product and then the sum (no FMA contraction in the vector
// loops): the bits of a product row written out and then added, in one pass over the output row instead of two.
template <class T>
void combine_rows(int64_t batch, int64_t experts, int64_t d, const int64_t* pair_of, const T* g, const T* ys, T* y) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(batch, d * experts, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* out = y + b * d;
      bool first = true;
      for (int64_t e = 0; e < experts; ++e) {
        const int64_t p = pair_of[b * experts + e];
        if (p < 0) continue;
        if (first) loops.binary_scalar(Binary::Mul, d, ys + p * d, g[b * experts + e], out);
        else loops.axpy(d, g[b * experts + e], ys + p * d, out);
        first = false;
      }
      if (first) std::fill_n(out, d, T(0));
    }
  });
}

// The operations of the composition's backward (gather of gy, the column-broadcast product's two gradients,
// the scatter of the gate weights' gradient into g's shape), so the same bits.
template <class T>
void combine_rows_backward(int64_t batch, int64_t experts, int64_t d, int64_t pairs, const int64_t* sample,
                           const int64_t* flat, const int64_t* pair_of, const T* g, const T* ys, const T* gy, T* gys,
                           T* gg) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  if (gys) {
    parallel_for(pairs, d, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) loops.binary_scalar(Binary::Mul, d, gy + sample[p] * d, g[flat[p]], gys + p * d);
    });
  }
  if (!gg) return;
  parallel_for(batch * experts, d, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      gg[c] = pair_of[c] < 0 ? T(0) : static_cast<T>(loops.dot(d, gy + c / experts * d, ys + pair_of[c] * d));
  });
}

COMET_INSTANTIATE_INDEX(float)
COMET_INSTANTIATE_INDEX(double)

}  // namespace comet::cpu
