// The losses on the device (kernels/cuda/loss_kernels.h) against the CPU reference (kernels/ref/loss.cpp):
// - squared error, plain and masked, of small integers equals ref::squared_error exactly (every term and partial
//   sum is an exact integer), over one and several sum chunks; the masked MSE's count of observed targets exactly;
// - BCE with logits and cross-entropy forward within 1e-5 relative in float, 1e-6 in double, logits shifted by
//   1000 included (the stable forms must not overflow), a one-class cross-entropy included;
// - every backward (both outputs, and with the target's gradient skipped) within the same tolerance.
// Host runs emulate every block and thread of the launch math's launches and of smaller ones (one thread, a
// grid smaller than the work), in both thread orders; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/loss.h"
#include "kernels/cuda/loss_kernels.h"
#include "kernels/loss.h"

namespace comet {
namespace {

using cuda::Launch;
using test::emulate_on;
using test::ptr;
using test::Target;

const std::vector<int64_t> kSizes = {0, 1, 7, 257, 2 * cuda::kSumChunk + 5};

// The launches a host run emulates (null: the launch math's).
std::vector<const Launch*> host_launches() {
  static const Launch one{1, 1};
  return {nullptr, &one, &test::kSmallLaunch};
}

// out[0] = alpha * sum of terms(i < n) on the host, through both launches of run_sum.
template <class Terms, class Out>
void host_sum(const Target& at, int64_t n, double alpha, const Terms& terms, Out* out) {
  std::vector<double> partials(cuda::sum_launch(n).chunks, -7.0);
  cuda::run_sum(n, alpha, terms, out, partials.data(),
                [&](const auto& kernel, const Launch& l) { cuda::emulate(kernel, l, at.order); });
}

enum class Loss { SquaredError, Bce };

// {loss, gradient of the first input, gradient of the second} of an elementwise loss on `at`; mask may be
// undefined (all ones; squared error only); skip_gt: the second input's gradient is not asked for (null).
template <class T>
std::vector<Tensor> elementwise_loss_on(const Target& at, const Launch* launch, Loss loss, const Tensor& a,
                                        const Tensor& b, const Tensor& mask, bool skip_gt) {
  const int64_t n = a.numel();
  const T alpha = T(0.5), scale = T(0.25);
  const Tensor ad = at.put(a), bd = at.put(b), md = mask.defined() ? at.put(mask) : Tensor();
  const T* m = md.defined() ? ptr<T>(md) : nullptr;
  Tensor out = at.put(Tensor::zeros({1}, a.dtype())), ga = at.put(Tensor::zeros(a.shape(), a.dtype()));
  Tensor gb = at.put(Tensor::zeros(a.shape(), a.dtype()));
  T* gbp = skip_gt ? nullptr : ptr<T>(gb);
  const cuda::SquaredError<T> se{ptr<T>(ad), ptr<T>(bd), m};
  const cuda::BceWithLogits<T> bce{ptr<T>(ad), ptr<T>(bd)};
  if (at.device && loss == Loss::SquaredError) {
    cuda::squared_error(n, alpha, ptr<T>(ad), ptr<T>(bd), m, ptr<T>(out));
    cuda::squared_error_backward(n, scale, ptr<T>(ad), ptr<T>(bd), m, ptr<T>(ga), gbp);
  } else if (at.device) {
    cuda::bce_with_logits(n, alpha, ptr<T>(ad), ptr<T>(bd), ptr<T>(out));
    cuda::bce_with_logits_backward(n, scale, ptr<T>(ad), ptr<T>(bd), ptr<T>(ga), gbp);
  } else if (loss == Loss::SquaredError) {
    host_sum(at, n, double(alpha), se, ptr<T>(out));
    emulate_on(at, cuda::LossBackwardKernel<T, cuda::SquaredError<T>>{{}, n, scale, se, ptr<T>(ga), gbp}, launch,
               cuda::elementwise_launch(n));
  } else {
    host_sum(at, n, double(alpha), bce, ptr<T>(out));
    emulate_on(at, cuda::LossBackwardKernel<T, cuda::BceWithLogits<T>>{{}, n, scale, bce, ptr<T>(ga), gbp}, launch,
               cuda::elementwise_launch(n));
  }
  return {at.get(out), at.get(ga), at.get(gb)};
}

// The same through ref::.
template <class T>
std::vector<Tensor> ref_elementwise_loss(Loss loss, const Tensor& a, const Tensor& b, const Tensor& mask,
                                         bool skip_gt) {
  const int64_t n = a.numel();
  const T* m = mask.defined() ? mask.data<T>() : nullptr;
  Tensor out = Tensor::zeros({1}, a.dtype()), ga = Tensor::zeros(a.shape(), a.dtype());
  Tensor gb = Tensor::zeros(a.shape(), a.dtype());
  T* gbp = skip_gt ? nullptr : gb.data<T>();
  if (loss == Loss::SquaredError) {
    ref::squared_error(n, T(0.5), a.data<T>(), b.data<T>(), m, out.data<T>());
    ref::squared_error_backward(n, T(0.25), a.data<T>(), b.data<T>(), m, ga.data<T>(), gbp);
  } else {
    ref::bce_with_logits(n, T(0.5), a.data<T>(), b.data<T>(), out.data<T>());
    ref::bce_with_logits_backward(n, T(0.25), a.data<T>(), b.data<T>(), ga.data<T>(), gbp);
  }
  return {out, ga, gb};
}

template <class T>
void check_elementwise_losses(const Target& at, const Launch* launch, Generator& gen) {
  const double rtol = test::kKernelRtol<T>;
  for (const int64_t n : kSizes) {
    for (const bool skip_gt : {false, true}) {
      CAPTURE(n);
      CAPTURE(skip_gt);
      // Squared error of small integers, with and without a 0/1 mask: exact.
      const Tensor p = test::small_integers<T>({n}, gen), t = test::small_integers<T>({n}, gen);
      Tensor mask = test::small_integers<T>({n}, gen);
      for (int64_t i = 0; i < n; ++i) mask.data<T>()[i] = mask.data<T>()[i] > T(0) ? T(1) : T(0);
      for (const Tensor& m : {Tensor(), mask}) {
        CAPTURE(m.defined());
        const std::vector<Tensor> got = elementwise_loss_on<T>(at, launch, Loss::SquaredError, p, t, m, skip_gt);
        const std::vector<Tensor> want = ref_elementwise_loss<T>(Loss::SquaredError, p, t, m, skip_gt);
        for (size_t k = 0; k < got.size(); ++k) COMET_CHECK_EXACT(got[k], want[k]);
      }
      // BCE with logits: targets in [0, 1], logits near 0 and shifted by +-1000.
      for (const double shift : {0.0, 1000.0, -1000.0}) {
        CAPTURE(shift);
        const Tensor x = test::random_tensor({n}, gen, shift - 4, shift + 4, dtype_of<T>());
        const Tensor y = test::random_tensor({n}, gen, 0, 1, dtype_of<T>());
        const std::vector<Tensor> got = elementwise_loss_on<T>(at, launch, Loss::Bce, x, y, Tensor(), skip_gt);
        const std::vector<Tensor> want = ref_elementwise_loss<T>(Loss::Bce, x, y, Tensor(), skip_gt);
        COMET_CHECK_CLOSE(got[0], want[0], rtol, rtol);
        COMET_CHECK_CLOSE(got[1], want[1], rtol, rtol);
        COMET_CHECK_CLOSE(got[2], want[2], rtol, rtol);
      }
    }
  }
}

// {loss, gx} of the cross-entropy of logits x [rows, cols] with labels on `at`.
template <class T>
std::vector<Tensor> cross_entropy_on(const Target& at, const Launch* launch, const Tensor& x, const Tensor& labels) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  const T alpha = T(0.5), scale = T(0.25);
  const Tensor xd = at.put(x), ld = at.put(labels);
  Tensor out = at.put(Tensor::zeros({1}, x.dtype())), gx = at.put(Tensor::zeros(x.shape(), x.dtype()));
  if (at.device) {
    cuda::cross_entropy(rows, cols, alpha, ptr<T>(xd), ptr<int64_t>(ld), ptr<T>(out));
    cuda::cross_entropy_backward(rows, cols, scale, ptr<T>(xd), ptr<int64_t>(ld), ptr<T>(gx));
  } else {
    const cuda::SoftmaxOp<T> softmax{cols, false, ptr<T>(xd), nullptr};
    const Launch own = cuda::row_reduce_launch(rows, cols);
    std::vector<double> row_loss(rows, -7.0);
    using Kernel = cuda::RowReduceKernel<cuda::CrossEntropyOp<T>>;
    emulate_on(at, Kernel{rows, {softmax, ptr<int64_t>(ld), row_loss.data(), T(0), nullptr}}, launch, own);
    host_sum(at, rows, double(alpha), cuda::Elements<double>{row_loss.data()}, ptr<T>(out));
    emulate_on(at, Kernel{rows, {softmax, ptr<int64_t>(ld), nullptr, scale, ptr<T>(gx)}}, launch, own);
  }
  return {at.get(out), at.get(gx)};
}

template <class T>
void check_cross_entropy(const Target& at, const Launch* launch, Generator& gen) {
  const double rtol = test::kKernelRtol<T>;
  for (const int64_t rows : {int64_t{1}, int64_t{5}, int64_t{70}}) {
    for (const int64_t cols : {int64_t{1}, int64_t{7}, int64_t{33}, int64_t{300}}) {
      for (const double shift : {0.0, 1000.0}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(shift);
        const Tensor x = test::random_tensor({rows, cols}, gen, shift - 4, shift + 4, dtype_of<T>());
        Tensor labels = Tensor::empty({rows}, DType::I64);
        gen.randint(labels, 0, cols);
        Tensor loss = Tensor::zeros({1}, x.dtype()), gx = Tensor::zeros(x.shape(), x.dtype());
        ref::cross_entropy(rows, cols, T(0.5), x.data<T>(), labels.data<int64_t>(), loss.data<T>());
        ref::cross_entropy_backward(rows, cols, T(0.25), x.data<T>(), labels.data<int64_t>(), gx.data<T>());
        const std::vector<Tensor> got = cross_entropy_on<T>(at, launch, x, labels);
        COMET_CHECK_CLOSE(got[0], loss, rtol, rtol);
        COMET_CHECK_CLOSE(got[1], gx, rtol, rtol);
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA squared error and BCE, emulated on the host over every thread, equal the CPU", T, float,
                   double) {
  Generator gen(41);
  test::for_each_host_run(host_launches(), [&](const Target& at, const Launch* launch) {
    check_elementwise_losses<T>(at, launch, gen);
  });
}

TEST_CASE_TEMPLATE("CUDA count of observed targets, emulated on the host, counts the mask's nonzeros", T, float,
                   double) {
  Generator gen(43);
  for (const int64_t n : kSizes) {
    CAPTURE(n);
    const Tensor mask = test::small_integers<T>({n}, gen);  // about 1 in 7 zero
    int64_t want = 0;
    for (int64_t i = 0; i < n; ++i) want += mask.data<T>()[i] != T(0);
    test::for_each_host_target([&](const Target& at) {
      double count = -1;
      host_sum(at, n, 1.0, cuda::ObservedTerms<T>{mask.data<T>()}, &count);
      CHECK(count == double(want));
    });
  }
}

TEST_CASE_TEMPLATE("CUDA cross-entropy, emulated on the host over every thread, equals the CPU", T, float, double) {
  Generator gen(47);
  test::for_each_host_run(host_launches(),
                          [&](const Target& at, const Launch* launch) { check_cross_entropy<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA losses on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(41);
  check_elementwise_losses<T>(test::kDevice, nullptr, gen);
  check_cross_entropy<T>(test::kDevice, nullptr, gen);
  const Tensor mask = test::small_integers<T>({5000}, gen);
  int64_t want = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) want += mask.data<T>()[i] != T(0);
  const Tensor md = to_device(mask, Device::CUDA);
  CHECK(cuda::count_observed<T>(mask.numel(), ptr<T>(md)) == want);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
