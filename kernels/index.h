// Row-index kernels on contiguous row-major buffers: the MoE dispatch primitives (gather rows by an index,
// scatter-add rows by an index, each the other's backward; the weighted combine of the experts' rows back into the
// samples' and its backward) and column-block copies (concat / split).
// Rows hold d elements; indices are int64 (the ops convert i32 index tensors) and already range-checked by the
// caller. scatter_add_rows is deterministic: every destination row sums its source rows in increasing source
// order, whatever the thread count (no float atomics).
// Tests: tests/kernels/test_index_conv.cpp (hand values, threads), tests/kernels/test_combine.cpp,
// tests/autograd/cases_index_nn.cpp, tests/autograd/cases_moe.cpp.
#pragma once
#include <cstdint>
#include <vector>

namespace comet {

#define COMET_INDEX_DECLS                                                                                   \
  /* out[i, :] = x[index[i], :] for i < m. */                                                               \
  template <class T> void gather_rows(int64_t m, int64_t d, const T* x, const int64_t* index, T* out);      \
  /* out[r, :] = sum of src[i, :] over i < m with index[i] == r, for r < num_rows (overwrites out). */      \
  template <class T>                                                                                        \
  void scatter_add_rows(int64_t m, int64_t d, const T* src, const int64_t* index, int64_t num_rows, T* out); \
  /* dst[r, j] = src[r, j] (or += when accumulate) for r < rows, j < width; lds / ldd: row strides. */      \
  template <class T>                                                                                        \
  void copy_cols(int64_t rows, int64_t width, const T* src, int64_t lds, T* dst, int64_t ldd, bool accumulate); \
  /* The MoE's weighted combine over a dispatch plan (kernels/dispatch.h; pair_of [batch, experts]: the pair  \
     of (b, e), or -1): y[b, :] = sum of g[b, e] ys[p, :] over b's pairs p = pair_of[b, e] in expert order    \
     (0 for a sample without pairs). */                                                                     \
  template <class T>                                                                                        \
  void combine_rows(int64_t batch, int64_t experts, int64_t d, const int64_t* pair_of, const T* g, const T* ys, \
                    T* y);                                                                                  \
  /* Its backward, null outputs skipped: gys[p, :] = gy[sample[p], :] g[flat[p]] for p < pairs, and          \
     gg[b, e] = gy[b, :] . ys[pair_of[b, e], :] (0 where b has no pair with e). */                          \
  template <class T>                                                                                        \
  void combine_rows_backward(int64_t batch, int64_t experts, int64_t d, int64_t pairs, const int64_t* sample, \
                             const int64_t* flat, const int64_t* pair_of, const T* g, const T* ys, const T* gy, \
                             T* gys, T* gg);

namespace ref { COMET_INDEX_DECLS }
namespace cpu { COMET_INDEX_DECLS }
#undef COMET_INDEX_DECLS

// Counting sort of an index into [0, num_rows): offsets has num_rows + 1 entries and the sources of row r are
// order[offsets[r] .. offsets[r + 1]), in increasing source order (stable). Shared by the kernels and tests.
struct RowBuckets {
  std::vector<int64_t> offsets;
  std::vector<int64_t> order;
};

inline RowBuckets bucket_rows(int64_t m, const int64_t* index, int64_t num_rows) {
  RowBuckets b;
  b.offsets.assign(num_rows + 1, 0);
  for (int64_t i = 0; i < m; ++i) ++b.offsets[index[i] + 1];
  for (int64_t r = 0; r < num_rows; ++r) b.offsets[r + 1] += b.offsets[r];
  b.order.resize(m);
  std::vector<int64_t> next(b.offsets.begin(), b.offsets.end() - 1);
  for (int64_t i = 0; i < m; ++i) b.order[next[index[i]]++] = i;
  return b;
}

}  // namespace comet

// Explicit instantiations of every kernel above for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_INDEX(T)                                                                  \
  template void gather_rows<T>(int64_t, int64_t, const T*, const int64_t*, T*);               \
  template void scatter_add_rows<T>(int64_t, int64_t, const T*, const int64_t*, int64_t, T*); \
  template void copy_cols<T>(int64_t, int64_t, const T*, int64_t, T*, int64_t, bool);                  \
  template void combine_rows<T>(int64_t, int64_t, int64_t, const int64_t*, const T*, const T*, T*);    \
  template void combine_rows_backward<T>(int64_t, int64_t, int64_t, int64_t, const int64_t*, const int64_t*, \
                                         const int64_t*, const T*, const T*, const T*, T*, T*);
