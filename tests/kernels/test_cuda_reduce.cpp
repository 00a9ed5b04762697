// The row reductions on the device (kernels/cuda/reduce_kernels.h) against the CPU reference:
// - the tree's launch math: every thread's value is added once, for any block size; the row and sum launches;
// - the scaled copy, row sums, column sums and the total (sum_to Full, Col, Row, Scalar) of small integers equal
//   ref::sum_to exactly (every partial sum is an exact integer), including totals over several chunks and empty
//   inputs;
// - softmax and log-softmax, forward and backward, equal ref:: within 1e-5 relative in float, 1e-6 in double,
//   also for rows shifted by 1000 (without the max subtraction they overflow);
// - a result does not depend on the thread order (bit for bit): the sums' order is fixed by the launch.
// Host runs emulate every block and thread of the launch math's launch and of smaller ones (one thread, blocks
// of 3 threads, fewer blocks than rows; the total always runs its own two launches); device runs skip without a
// device.
#ifdef COMET_WITH_CUDA
#include <algorithm>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/reduce_kernels.h"
#include "kernels/reduce.h"

namespace comet {
namespace {

using cuda::Launch;
using test::emulate_on;
using test::ptr;
using test::Target;

const std::vector<int64_t> kRows = {0, 1, 5, 70};
const std::vector<int64_t> kCols = {1, 7, 33, 300};

// The launches a host run emulates for a row reduction (null: the launch math's).
std::vector<const Launch*> host_launches() {
  static const Launch one{1, 1}, odd{2, 3}, warp{3, 32}, wide{1, 256};
  return {nullptr, &one, &odd, &warp, &wide};
}

template <class T>
Tensor sum_to_on(const Target& at, const Launch* launch, Broadcast bc, T alpha, const Tensor& x) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  const Tensor in = at.put(x);
  Tensor y = at.put(Tensor::zeros(test::broadcast_shape(bc, rows, cols), x.dtype()));
  if (at.device) {
    cuda::sum_to(bc, rows, cols, alpha, ptr<T>(in), ptr<T>(y));
  } else {
    std::vector<double> partials(cuda::sum_launch(x.numel()).chunks, -7.0);
    cuda::run_sum_to(
        bc, rows, cols, alpha, cuda::MatrixElements<T>{cols, ptr<T>(in)}, ptr<T>(y), partials.data(),
        [&](const auto& kernel, const Launch& l) { cuda::emulate(kernel, l, at.order); }, launch);
  }
  return at.get(y);
}

// softmax (gy undefined) or its backward from y = the forward output.
template <class T>
Tensor softmax_on(const Target& at, const Launch* launch, bool log_space, const Tensor& x, const Tensor& gy) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  const Tensor in = at.put(x), g = gy.defined() ? at.put(gy) : Tensor();
  Tensor out = at.put(Tensor::zeros(x.shape(), x.dtype()));
  const Launch own = cuda::row_reduce_launch(rows, cols);
  if (at.device && g.defined()) {
    cuda::softmax_backward(log_space, rows, cols, ptr<T>(in), ptr<T>(g), ptr<T>(out));
  } else if (at.device) {
    cuda::softmax(log_space, rows, cols, ptr<T>(in), ptr<T>(out));
  } else if (g.defined()) {
    emulate_on(at, cuda::RowReduceKernel<cuda::SoftmaxBackwardOp<T>>{rows, {cols, log_space, ptr<T>(in), ptr<T>(g),
                                                                            ptr<T>(out)}},
               launch, own);
  } else {
    emulate_on(at, cuda::RowReduceKernel<cuda::SoftmaxOp<T>>{rows, {cols, log_space, ptr<T>(in), ptr<T>(out)}},
               launch, own);
  }
  return at.get(out);
}

template <class T>
void check_sums(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t rows : kRows) {
    for (const int64_t cols : kCols) {
      const Tensor x = test::small_integers<T>({rows, cols}, gen);
      for (const Broadcast bc : {Broadcast::Full, Broadcast::Row, Broadcast::Col, Broadcast::Scalar}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(static_cast<int>(bc));
        Tensor want = Tensor::zeros(test::broadcast_shape(bc, rows, cols), x.dtype());
        ref::sum_to(bc, rows, cols, T(0.5), x.data<T>(), want.data<T>());
        COMET_CHECK_EXACT(sum_to_on<T>(at, launch, bc, T(0.5), x), want);
      }
    }
  }
}

template <class T>
void check_softmax(const Target& at, const Launch* launch, Generator& gen) {
  const double rtol = test::kKernelRtol<T>, atol = rtol;  // the values are of order 1
  for (const int64_t rows : kRows) {
    for (const int64_t cols : kCols) {
      for (const double shift : {0.0, 1000.0}) {
        for (const bool log_space : {false, true}) {
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(shift);
          CAPTURE(log_space);
          const Tensor x = test::random_tensor({rows, cols}, gen, shift - 4, shift + 4, dtype_of<T>());
          const Tensor gy = test::random_tensor({rows, cols}, gen, -1, 1, dtype_of<T>());
          Tensor y = empty_like(x), gx = empty_like(x);
          ref::softmax(log_space, rows, cols, x.data<T>(), y.data<T>());
          ref::softmax_backward(log_space, rows, cols, y.data<T>(), gy.data<T>(), gx.data<T>());
          COMET_CHECK_CLOSE(softmax_on<T>(at, launch, log_space, x, Tensor()), y, rtol, atol);
          COMET_CHECK_CLOSE(softmax_on<T>(at, launch, log_space, y, gy), gx, rtol, atol);
        }
      }
    }
  }
}

TEST_CASE("CUDA reduction tree: every thread's value reaches thread 0 once, for any block size") {
  for (int64_t threads = 1; threads <= cuda::kReduceThreads; ++threads) {
    CAPTURE(threads);
    std::vector<int64_t> count(threads, 1);  // how many values each slot holds
    const int64_t steps = cuda::tree_steps(threads);
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t active = cuda::tree_active(threads, step), h = cuda::tree_half(active);
      for (int64_t t = 0; t < active - h; ++t) {
        CHECK(t + h >= active - h);  // no slot is read and written in the same step (a race on the device)
        count[t] += count[t + h];
      }
    }
    CHECK(count[0] == threads);
    CHECK(cuda::tree_active(threads, steps) == 1);
    CHECK((steps == 0 || cuda::tree_active(threads, steps - 1) == 2));
  }
}

TEST_CASE("CUDA row reduction launch math: a block per row up to the grid limit, whole warps, sums in chunks") {
  for (const int64_t rows : {int64_t{0}, int64_t{1}, int64_t{70}, int64_t{100000}}) {
    for (const int64_t cols : {int64_t{1}, int64_t{33}, int64_t{300}}) {
      CAPTURE(rows);
      CAPTURE(cols);
      const Launch l = cuda::row_reduce_launch(rows, cols);
      CHECK(l.grid == std::min(rows, cuda::kMaxGrid));
      CHECK(l.block % 32 == 0);
      CHECK(l.block <= cuda::kReduceThreads);
      CHECK(l.block >= std::min(cols, cuda::kReduceThreads));
    }
  }
  for (const int64_t n : {int64_t{0}, int64_t{1}, cuda::kSumChunk, cuda::kSumChunk + 1, int64_t{1000000}}) {
    CAPTURE(n);
    const cuda::SumLaunch s = cuda::sum_launch(n);
    CHECK(s.chunks >= 1);  // an empty sum still writes its 0
    CHECK(s.chunks * cuda::kSumChunk >= n);
    CHECK((s.chunks == 1 || (s.chunks - 1) * cuda::kSumChunk < n));
    CHECK(s.first.grid == s.chunks);
    CHECK(s.second.grid == 1);
  }
}

TEST_CASE_TEMPLATE("CUDA row, column and total sums, emulated on the host over every thread, equal the CPU", T, float,
                   double) {
  Generator gen(23);
  test::for_each_host_run(host_launches(),
                          [&](const Target& at, const Launch* launch) { check_sums<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA total over several chunks, emulated on the host, equals the CPU", T, float, double) {
  Generator gen(29);
  for (const int64_t n : {cuda::kSumChunk, cuda::kSumChunk + 1, 3 * cuda::kSumChunk + 17}) {
    CAPTURE(n);
    const Tensor x = test::small_integers<T>({1, n}, gen);
    Tensor want = Tensor::zeros({1}, x.dtype());
    ref::sum_to(Broadcast::Scalar, 1, n, T(1), x.data<T>(), want.data<T>());
    test::for_each_host_target(
        [&](const Target& at) { COMET_CHECK_EXACT(sum_to_on<T>(at, nullptr, Broadcast::Scalar, T(1), x), want); });
  }
}

TEST_CASE_TEMPLATE("CUDA softmax and log-softmax, emulated on the host over every thread, equal the CPU", T, float,
                   double) {
  Generator gen(31);
  test::for_each_host_run(host_launches(),
                          [&](const Target& at, const Launch* launch) { check_softmax<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA softmax sums do not depend on the thread order (bit for bit)", T, float, double) {
  Generator gen(37);
  const Tensor x = test::random_tensor({5, 300}, gen, -4, 4, dtype_of<T>());
  const Tensor gy = test::random_tensor({5, 300}, gen, -1, 1, dtype_of<T>());
  for (const Launch* launch : host_launches()) {
    const Target forward{false, cuda::Order::Forward}, reverse{false, cuda::Order::Reverse};
    COMET_CHECK_EXACT(softmax_on<T>(forward, launch, false, x, Tensor()),
                      softmax_on<T>(reverse, launch, false, x, Tensor()));
    COMET_CHECK_EXACT(softmax_on<T>(forward, launch, true, x, gy), softmax_on<T>(reverse, launch, true, x, gy));
  }
}

TEST_CASE_TEMPLATE("CUDA reductions and softmax on the device equal the CPU and repeat bit for bit", T, float,
                   double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(23);
  check_sums<T>(test::kDevice, nullptr, gen);
  check_softmax<T>(test::kDevice, nullptr, gen);
  const Tensor x = test::random_tensor({70, 300}, gen, -4, 4, dtype_of<T>());
  COMET_CHECK_EXACT(softmax_on<T>(test::kDevice, nullptr, false, x, Tensor()),
                    softmax_on<T>(test::kDevice, nullptr, false, x, Tensor()));
  COMET_CHECK_EXACT(sum_to_on<T>(test::kDevice, nullptr, Broadcast::Scalar, T(1), x),
                    sum_to_on<T>(test::kDevice, nullptr, Broadcast::Scalar, T(1), x));
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
