// Fast reductions and row softmax: OpenMP over rows (or column blocks), the active ISA's vector loops inside
// (kernels/cpu/vector_loops.h), sums in double. Every output element is summed by one thread in an order fixed by
// the shape alone (fixed-size chunks added in order), so results are bit-identical for any thread count.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/mutation.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_loops.h"

namespace comet::cpu {
namespace {

constexpr int64_t kColBlock = 256;  // columns per task when column sums are split by column

// Sum of x[0..n) as chunks of kReduceChunk added in order; the chunks run in parallel when `parallel`.
template <class T>
double chunked_sum(const T* x, int64_t n, bool parallel) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  const int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
  std::vector<double> partial(chunks, 0.0);
  auto run = [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      partial[c] = loops.sum(std::min(n, (c + 1) * kReduceChunk) - c * kReduceChunk, x + c * kReduceChunk);
  };
  if (parallel) parallel_for(chunks, kReduceChunk, run);
  else run(0, chunks);
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

// y[i] = alpha * sum_j x[i, j]. Few long rows: the chunks of each row run in parallel; otherwise rows do.
template <class T>
void row_sums(int64_t rows, int64_t cols, T alpha, const T* x, T* y) {
  if (rows < 16 && cols > kReduceChunk) {
    for (int64_t i = 0; i < rows; ++i) y[i] = static_cast<T>(double(alpha) * chunked_sum(x + i * cols, cols, true));
    return;
  }
  parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) y[i] = static_cast<T>(double(alpha) * chunked_sum(x + i * cols, cols, false));
  });
}

// acc[j - c0] += sum over rows [r0, r1) of x[i, j] for j in [c0, c1), rows in order.
template <class T>
void add_rows(const T* x, int64_t cols, int64_t r0, int64_t r1, int64_t c0, int64_t c1, double* acc) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  for (int64_t i = r0; i < r1; ++i) loops.accumulate(c1 - c0, x + i * cols + c0, acc);
}

// y[j] = alpha * sum_i x[i, j]. Wide matrices: threads own blocks of columns and walk all rows. Narrow ones:
// fixed blocks of rows give partial column sums, added in block order.
template <class T>
void col_sums(int64_t rows, int64_t cols, T alpha, const T* x, T* y) {
  if (cols >= 2 * kColBlock) {
    const int64_t blocks = (cols + kColBlock - 1) / kColBlock;
    parallel_for(blocks, rows * kColBlock, [&](int64_t b0, int64_t b1) {
      std::vector<double> acc(kColBlock);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t c0 = b * kColBlock, c1 = std::min(cols, c0 + kColBlock);
        std::fill(acc.begin(), acc.end(), 0.0);
        add_rows(x, cols, 0, rows, c0, c1, acc.data());
        for (int64_t j = c0; j < c1; ++j) y[j] = static_cast<T>(double(alpha) * acc[j - c0]);
      }
    });
    return;
  }
  const int64_t block_rows = std::max<int64_t>(1, kReduceChunk / std::max<int64_t>(cols, 1));
  const int64_t blocks = (rows + block_rows - 1) / block_rows;
  std::vector<double> partial(blocks * cols, 0.0);
  parallel_for(blocks, block_rows * cols, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      add_rows(x, cols, b * block_rows, std::min(rows, (b + 1) * block_rows), 0, cols, partial.data() + b * cols);
  });
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t b = 0; b < blocks; ++b) s += partial[b * cols + j];
    y[j] = static_cast<T>(double(alpha) * s);
  }
}

}  // namespace

template <class T>
void sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* x, T* y) {
  switch (bc) {
    case Broadcast::Full: scale(rows * cols, alpha, x, y); break;
    case Broadcast::Row: col_sums(rows, cols, alpha, x, y); break;
    case Broadcast::Col: row_sums(rows, cols, alpha, x, y); break;
    case Broadcast::Scalar: y[0] = static_cast<T>(double(alpha) * chunked_sum(x, rows * cols, true)); break;
  }
}

template <class T>
void expand(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* gy, T* gx) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      T* gi = gx + i * cols;
      if (bc == Broadcast::Full || bc == Broadcast::Row) {
        loops.scale(cols, alpha, bc == Broadcast::Full ? gy + i * cols : gy, gi);
      } else {
        const T v = alpha * (bc == Broadcast::Col ? gy[i] : gy[0]);
        std::fill(gi, gi + cols, v);
      }
    }
  });
}

// The exponentials stay scalar loops in every path: the vector loops have no exp.
template <class T>
void softmax(bool log_space, int64_t rows, int64_t cols, const T* x, T* y) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(rows, 4 * cols, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T* xi = x + i * cols;
      T* yi = y + i * cols;
      T m = loops.max(cols, xi);
      if (COMET_MUTANT(softmax_no_max_shift)) m = T(0);
      for (int64_t j = 0; j < cols; ++j) yi[j] = std::exp(xi[j] - m);
      const double s = loops.sum(cols, yi);
      if (log_space) {  // (x - m) - log s: subtracting log s after m keeps large inputs exact
        loops.binary_scalar(Binary::Sub, cols, xi, m, yi);
        loops.binary_scalar(Binary::Sub, cols, yi, static_cast<T>(std::log(s)), yi);
      } else {
        loops.scale(cols, static_cast<T>(1.0 / s), yi, yi);
      }
    }
  });
}

template <class T>
void softmax_backward(bool log_space, int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(rows, 2 * cols, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const T *yi = y + i * cols, *gi = gy + i * cols;
      T* gxi = gx + i * cols;
      if (log_space) {
        const T s = static_cast<T>(loops.sum(cols, gi));
        for (int64_t j = 0; j < cols; ++j) gxi[j] = gi[j] - std::exp(yi[j]) * s;
      } else {  // y (g - s), rounded as written: g - s, then the product
        loops.binary_scalar(Binary::Sub, cols, gi, static_cast<T>(loops.dot(cols, gi, yi)), gxi);
        loops.binary(Binary::Mul, cols, yi, gxi, gxi);
      }
    }
  });
}

COMET_INSTANTIATE_REDUCE(float)
COMET_INSTANTIATE_REDUCE(double)

}  // namespace comet::cpu
