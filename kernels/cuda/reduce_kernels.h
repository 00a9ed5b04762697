// Bodies and launch math of the row reductions on the device (launch seam: kernels/cuda/launch.h), x seen as a
// rows x cols row-major matrix as in kernels/reduce.h.
//
// RowReduceKernel<Op> is the one mechanism: a block per row (rows beyond the grid taken in later rounds), and per
// row Op::kPasses block reductions, each a strided accumulation of one double per thread followed by a fixed tree
// (thread t adds thread t + h, h = ceil(active / 2), until one value is left), then a write phase that sees every
// pass's result. The tree's shape depends on the block size alone, so a launch gives the same bits on every run:
// no atomics. An Op provides
//   kPasses, combine(pass) (Sum or Max),
//   COMET_HD int64_t length(row)                              elements of the row,
//   COMET_HD double term(pass, row, j, const double* results) element j's value in the pass (given the earlier
//                                                             passes' results),
//   COMET_HD void write_row(row, const double* results)       called once (by thread 0) after the last pass,
//   COMET_HD void write(row, j, const double* results)        and for every j < length(row).
// The Ops here: RowSumOp (sum_to Col), SoftmaxOp and SoftmaxBackwardOp (the CPU's max-subtracted numerics), and
// SumOp (a sum of n terms in chunks of kSumChunk, then one block over the chunks' sums: sum_to Scalar and the
// losses in kernels/cuda/loss_kernels.h). ColumnSumKernel (sum_to Row) sums each column in row order, one thread
// per column. run_sum_to reduces any terms onto a broadcast operand's shape: sum_to's (the matrix itself) and
// the broadcast operand's gradient of the binary ops (kernels/cuda/elementwise_kernels.h).
// Launchers: kernels/cuda/reduce.cu. Test: tests/kernels/test_cuda_reduce.cpp.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/cuda/launch.h"
#include "kernels/elementwise.h"

namespace comet::cuda {

constexpr int64_t kReduceThreads = 256;
constexpr int kMaxPasses = 2;

enum class Combine { Sum, Max };

COMET_HD double combine(Combine c, double a, double b) { return c == Combine::Sum ? a + b : (a < b ? b : a); }
COMET_HD double identity(Combine c) { return c == Combine::Sum ? 0.0 : -INFINITY; }

// A tree step over `active` values: thread t < active - half adds the value of thread t + half, and half of
// them (rounded up) hold a value after it.
COMET_HD int64_t tree_half(int64_t active) { return (active + 1) / 2; }

// Threads still holding a value before tree step `step` (step 0: all of them).
COMET_HD int64_t tree_active(int64_t threads, int64_t step) {
  for (int64_t s = 0; s < step; ++s) threads = tree_half(threads);
  return threads;
}

// Tree steps that bring `threads` values down to one.
COMET_HD int64_t tree_steps(int64_t threads) {
  int64_t steps = 0;
  for (; threads > 1; threads = tree_half(threads)) ++steps;
  return steps;
}

// A block per row, rows >= grid in rounds. Phases of a row: for each pass, an accumulation and tree_steps(block)
// tree steps; then the write. The shape (and so the order of the sums) depends on the block size only.
template <class Op>
struct RowReduceKernel {
  int64_t rows;
  Op op;

  struct Shared {
    double partial[kReduceThreads];
    double result[kMaxPasses];
  };
  struct Local {};

  COMET_HD bool phase(int p, const Thread& t, Shared& s, Local&) const {
    const int64_t steps = tree_steps(t.block_dim), per_pass = 1 + steps, per_row = Op::kPasses * per_pass + 1;
    const int64_t row = t.block + p / per_row * t.grid_dim, q = p % per_row;
    if (row >= rows) return false;  // the block's last round is done (the same answer for all its threads)
    const int64_t n = op.length(row);
    if (q == per_row - 1) {
      if (t.thread == 0) op.write_row(row, s.result);  // also for an empty row
      for (int64_t j = t.thread; j < n; j += t.block_dim) op.write(row, j, s.result);
      return row + t.grid_dim < rows;
    }
    const int pass = static_cast<int>(q / per_pass);
    const Combine c = Op::combine(pass);
    const int64_t step = q % per_pass;
    if (step == 0) {
      double acc = identity(c);
      for (int64_t j = t.thread; j < n; j += t.block_dim) acc = combine(c, acc, op.term(pass, row, j, s.result));
      s.partial[t.thread] = acc;
      if (steps == 0) s.result[pass] = acc;  // a one-thread block has no tree
      return true;
    }
    const int64_t active = tree_active(t.block_dim, step - 1), h = tree_half(active);
    if (t.thread < active - h) s.partial[t.thread] = combine(c, s.partial[t.thread], s.partial[t.thread + h]);
    if (h == 1 && t.thread == 0) s.result[pass] = s.partial[0];
    return true;
  }
};

// A block per row, at most kMaxGrid blocks (the rest in rounds), at most kReduceThreads threads; a power of two
// no larger than the row, so that short rows leave few threads idle.
inline Launch row_reduce_launch(int64_t rows, int64_t cols) {
  int64_t threads = 32;
  while (threads < kReduceThreads && threads < cols) threads *= 2;
  return {rows < kMaxGrid ? rows : kMaxGrid, threads};
}

// The terms of a matrix reduction: x[i, j] (sum_to's). A Terms functor is double(int64_t i, int64_t j).
template <class T>
struct MatrixElements {
  int64_t cols;
  const T* x;
  COMET_HD double operator()(int64_t i, int64_t j) const { return x[i * cols + j]; }
};

// y[i] = alpha * sum_j terms(i, j).
template <class T, class Terms>
struct RowSumOp {
  static constexpr int kPasses = 1;
  int64_t cols;
  T alpha;
  Terms terms;
  T* y;

  COMET_HD static Combine combine(int) { return Combine::Sum; }
  COMET_HD int64_t length(int64_t) const { return cols; }
  COMET_HD double term(int, int64_t i, int64_t j, const double*) const { return terms(i, j); }
  COMET_HD void write_row(int64_t i, const double* r) const { y[i] = static_cast<T>(double(alpha) * r[0]); }
  COMET_HD void write(int64_t, int64_t, const double*) const {}
};

// Row softmax or log-softmax as the CPU computes it: m = max, e = exp(x - m) in T, s = sum e in double; then
// y = e * (1 / s), or y = (x - m) - log s.
template <class T>
struct SoftmaxOp {
  static constexpr int kPasses = 2;  // the max, the sum of exponentials
  int64_t cols;
  bool log_space;
  const T* x;
  T* y;

  COMET_HD static Combine combine(int pass) { return pass == 0 ? Combine::Max : Combine::Sum; }
  COMET_HD int64_t length(int64_t) const { return cols; }
  COMET_HD T shifted(int64_t i, int64_t j, const double* r) const { return x[i * cols + j] - static_cast<T>(r[0]); }
  COMET_HD double term(int pass, int64_t i, int64_t j, const double* r) const {
    return pass == 0 ? double(x[i * cols + j]) : double(std::exp(shifted(i, j, r)));
  }
  COMET_HD void write_row(int64_t, const double*) const {}
  COMET_HD void write(int64_t i, int64_t j, const double* r) const {
    const T z = shifted(i, j, r);
    y[i * cols + j] = log_space ? z - static_cast<T>(std::log(r[1])) : std::exp(z) * static_cast<T>(1.0 / r[1]);
  }
};

// The backward from the forward output y: softmax gx = y (gy - sum gy y); log-softmax gx = gy - exp(y) sum gy.
template <class T>
struct SoftmaxBackwardOp {
  static constexpr int kPasses = 1;
  int64_t cols;
  bool log_space;
  const T* y;
  const T* gy;
  T* gx;

  COMET_HD static Combine combine(int) { return Combine::Sum; }
  COMET_HD int64_t length(int64_t) const { return cols; }
  COMET_HD double term(int, int64_t i, int64_t j, const double*) const {
    const int64_t k = i * cols + j;
    return log_space ? double(gy[k]) : double(gy[k]) * double(y[k]);
  }
  COMET_HD void write_row(int64_t, const double*) const {}
  COMET_HD void write(int64_t i, int64_t j, const double* r) const {
    const int64_t k = i * cols + j;
    const T s = static_cast<T>(r[0]);
    gx[k] = log_space ? gy[k] - std::exp(y[k]) * s : y[k] * (gy[k] - s);
  }
};

constexpr int64_t kSumChunk = 4096;  // terms per block in the first launch of a sum

// out[c] = alpha * sum of terms(i) for i in chunk c of `chunk` terms (of n): the first launch of a sum (chunk =
// kSumChunk, alpha = 1, out = the chunks' sums) and the second (chunk >= n: one row, the total). Terms is a
// COMET_HD functor double(int64_t i); Out: double for the chunks' sums, T for the total.
template <class Terms, class Out>
struct SumOp {
  static constexpr int kPasses = 1;
  int64_t n, chunk;
  double alpha;
  Terms terms;
  Out* out;

  COMET_HD static Combine combine(int) { return Combine::Sum; }
  COMET_HD int64_t length(int64_t c) const { return n - c * chunk < chunk ? n - c * chunk : chunk; }
  COMET_HD double term(int, int64_t c, int64_t j, const double*) const { return terms(c * chunk + j); }
  COMET_HD void write_row(int64_t c, const double* r) const { out[c] = static_cast<Out>(alpha * r[0]); }
  COMET_HD void write(int64_t, int64_t, const double*) const {}
};

// The terms of a buffer: x[i] as double (the chunks' sums of the second launch, the cross-entropy's rows).
template <class T>
struct Elements {
  const T* x;
  COMET_HD double operator()(int64_t i) const { return x[i]; }
};

// The terms of a matrix in row-major order: terms(e / cols, e % cols).
template <class Terms>
struct Flat {
  int64_t cols;
  Terms terms;
  COMET_HD double operator()(int64_t e) const { return terms(e / cols, e % cols); }
};

// The two launches of a sum of n terms: the chunks (at least one, so that n = 0 still writes its 0), then one
// block over their sums.
struct SumLaunch {
  int64_t chunks;
  Launch first, second;
};

inline SumLaunch sum_launch(int64_t n) {
  const int64_t chunks = n > kSumChunk ? ceil_div(n, kSumChunk) : 1;
  return {chunks, row_reduce_launch(chunks, kSumChunk), row_reduce_launch(1, chunks)};
}

// out[0] = alpha * sum of terms(i) for i < n through both launches, each given to run(kernel, launch) (the device
// launcher, or the host emulation); partials holds sum_launch(n).chunks doubles.
template <class Terms, class Out, class Run>
void run_sum(int64_t n, double alpha, const Terms& terms, Out* out, double* partials, Run run) {
  const SumLaunch l = sum_launch(n);
  run(RowReduceKernel<SumOp<Terms, double>>{l.chunks, {n, kSumChunk, 1.0, terms, partials}}, l.first);
  run(RowReduceKernel<SumOp<Elements<double>, Out>>{1, {l.chunks, l.chunks, alpha, {partials}, out}}, l.second);
}

// y[j] = alpha * sum_i terms(i, j) (sum_to Row): one thread per column, the rows in order, in double as the CPU.
template <class T, class Terms>
struct ColumnSumKernel : OnePhase<ColumnSumKernel<T, Terms>> {
  int64_t rows, cols;
  T alpha;
  Terms terms;
  T* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t j = t.global(); j < cols; j += t.grid_threads()) {
      double acc = 0;
      for (int64_t i = 0; i < rows; ++i) acc += terms(i, j);
      y[j] = static_cast<T>(double(alpha) * acc);
    }
  }
};

// y[e] = alpha * terms(e / cols, e % cols) (sum_to Full: nothing to reduce).
template <class T, class Terms>
struct ScaledTermsKernel : OnePhase<ScaledTermsKernel<T, Terms>> {
  int64_t n;
  T alpha;
  Flat<Terms> terms;
  T* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t e = t.global(); e < n; e += t.grid_threads()) y[e] = static_cast<T>(double(alpha) * terms(e));
  }
};

// y = alpha * terms(i, j) reduced onto the shape of a broadcast operand (kernels/reduce.h's sum_to, of any
// terms): Full, Row (column sums), Col (row sums) or Scalar (run_sum), each launch given to run(kernel, launch);
// `launch` replaces the launch math's for Full, Row and Col when set (the host tests' smaller launches).
// partials: sum_launch(rows * cols).chunks doubles, for Scalar.
template <class T, class Terms, class Run>
void run_sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const Terms& terms, T* y, double* partials, Run run,
                const Launch* launch = nullptr) {
  auto pick = [launch](const Launch& own) { return launch ? *launch : own; };
  switch (bc) {
    case Broadcast::Full:
      run(ScaledTermsKernel<T, Terms>{{}, rows * cols, alpha, {cols, terms}, y}, pick(elementwise_launch(rows * cols)));
      return;
    case Broadcast::Row:
      run(ColumnSumKernel<T, Terms>{{}, rows, cols, alpha, terms, y}, pick(elementwise_launch(cols)));
      return;
    case Broadcast::Col:
      run(RowReduceKernel<RowSumOp<T, Terms>>{rows, {cols, alpha, terms, y}}, pick(row_reduce_launch(rows, cols)));
      return;
    case Broadcast::Scalar: run_sum(rows * cols, double(alpha), Flat<Terms>{cols, terms}, y, partials, run); return;
  }
}

}  // namespace comet::cuda
