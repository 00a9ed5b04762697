// The elementwise CUDA kernels (kernels/cuda/elementwise_kernels.h) against the CPU: every unary op and the
// smooth-step forward and backward, and every binary op under every broadcast forward and backward (b's gradient
// summed onto its shape), against the double reference (1e-5 relative in float, 1e-6 in double), the
// Adam step against the CPU's scalar vector loop (bit for bit on the host, where the body rounds exactly as that
// loop does; within the tolerance on the device, where the compiler may fuse multiply-adds). Host runs emulate
// every thread of several launches: the launch math's, one thread, and a grid too small for n (the grid-stride
// loop wraps); sizes 0, odd and larger than a block. Device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <cmath>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cpu/vector_loops.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/elementwise_kernels.h"
#include "kernels/cuda/reduce_kernels.h"
#include "kernels/index.h"
#include "kernels/reduce.h"
#include "kernels/elementwise.h"
#include "kernels/gate.h"

namespace comet {
namespace {

using test::ptr;
using test::Target;

const std::vector<int64_t> kSizes = {0, 1, 7, 33, 257, 1000};

// The launches a host run emulates for n elements.
std::vector<cuda::Launch> host_launches(int64_t n) {
  return {cuda::elementwise_launch(n), cuda::Launch{1, 1}, cuda::Launch{3, 32}};
}

// y = f(x), or gx = gy f'(x) from the forward's y when gy is defined.
template <class T>
Tensor unary_on(const Target& at, const cuda::Launch& launch, Unary op, const Tensor& x, const Tensor& y,
                const Tensor& gy) {
  const Tensor in = at.put(x), yd = gy.defined() ? at.put(y) : Tensor(), g = gy.defined() ? at.put(gy) : Tensor();
  const T* yp = yd.defined() ? ptr<T>(yd) : nullptr;
  const T* gp = g.defined() ? ptr<T>(g) : nullptr;
  Tensor out = at.put(empty_like(x));
  const int64_t n = x.numel();
  if (!at.device) cuda::emulate(cuda::UnaryKernel<T>{{}, op, n, ptr<T>(in), ptr<T>(out), yp, gp}, launch, at.order);
  else if (gp) cuda::unary_backward(op, n, ptr<T>(in), yp, gp, ptr<T>(out));
  else cuda::unary(op, n, ptr<T>(in), ptr<T>(out));
  return at.get(out);
}

// y = S_gamma(x), or gx = gy S'_gamma(x) when gy is defined.
template <class T>
Tensor smooth_step_on(const Target& at, const cuda::Launch& launch, T gamma, const Tensor& x, const Tensor& gy) {
  const Tensor in = at.put(x), g = gy.defined() ? at.put(gy) : Tensor();
  const T* gp = g.defined() ? ptr<T>(g) : nullptr;
  Tensor out = at.put(empty_like(x));
  const int64_t n = x.numel();
  if (!at.device) cuda::emulate(cuda::SmoothStepKernel<T>{{}, n, gamma, ptr<T>(in), gp, ptr<T>(out)}, launch, at.order);
  else if (gp) cuda::smooth_step_backward(n, gamma, ptr<T>(in), gp, ptr<T>(out));
  else cuda::smooth_step(n, gamma, ptr<T>(in), ptr<T>(out));
  return at.get(out);
}

// Two Adam steps (t = 1, 2; L2 and decoupled decay both on) from state {p, g, m, v} on `at`, or with the CPU
// scalar vector loop when at is null; returns {p, m, v}.
template <class T>
std::vector<Tensor> adam_on(const Target* at, const cuda::Launch& launch, const std::vector<Tensor>& state) {
  const T b1 = T(0.9), b2 = T(0.999), lr = T(0.01);
  std::vector<Tensor> s;
  for (const Tensor& t : state) s.push_back(at ? at->put(t) : t.clone());
  const int64_t n = state[0].numel();
  for (int step = 1; step <= 2; ++step) {
    const cpu::AdamStep<T> a{b1, b2, T(1e-8), lr / (T(1) - std::pow(b1, T(step))),
                             T(1) / (T(1) - std::pow(b2, T(step))), T(1e-2), T(1) - lr * T(1e-3)};
    T *p = ptr<T>(s[0]), *m = ptr<T>(s[2]), *v = ptr<T>(s[3]);
    const T* g = ptr<T>(s[1]);
    if (!at) cpu::vector_loops<T>(cpu::Isa::scalar).adam(n, a, p, g, m, v);
    else if (at->device) cuda::adam(n, a, p, g, m, v);
    else cuda::emulate(cuda::AdamKernel<T>{{}, n, a, p, g, m, v}, launch, at->order);
  }
  if (at) for (Tensor& t : s) t = at->get(t);
  return {s[0], s[2], s[3]};
}

// Two SGD steps (momentum with weight decay, Nesterov, or plain when `momentum` is 0) from state {p, g, v} on `at`, or
// with sgd_element on the CPU when at is null; returns {p, v}.
template <class T>
std::vector<Tensor> sgd_on(const Target* at, const cuda::Launch& launch, const std::vector<Tensor>& state,
                           const SgdStep<T>& step) {
  std::vector<Tensor> s;
  for (const Tensor& t : state) s.push_back(at ? at->put(t) : t.clone());
  const int64_t n = state[0].numel();
  T* v = step.momentum != T(0) ? ptr<T>(s[2]) : nullptr;
  for (int k = 0; k < 2; ++k) {
    if (!at) {
      for (int64_t i = 0; i < n; ++i) sgd_element(step, ptr<T>(s[0])[i], ptr<T>(s[1])[i], v ? v + i : nullptr);
    } else if (at->device) {
      cuda::sgd(n, step, ptr<T>(s[0]), ptr<T>(s[1]), v);
    } else {
      cuda::emulate(cuda::SgdKernel<T>{{}, n, step, ptr<T>(s[0]), ptr<T>(s[1]), v}, launch, at->order);
    }
  }
  if (at) for (Tensor& t : s) t = at->get(t);
  return {s[0], s[2]};
}

// Every kernel of this file on `at` for n elements, against the CPU; `exact_adam`: Adam and SGD bit for bit.
template <class T>
void check_elementwise(const Target& at, const cuda::Launch& launch, int64_t n, bool exact_adam, Generator& gen) {
  const double rtol = test::kKernelRtol<T>, atol = rtol;  // the values are of order 1
  const DType dt = dtype_of<T>();
  for (const Unary op : {Unary::Relu, Unary::Sigmoid, Unary::Tanh, Unary::Exp, Unary::Log, Unary::Softplus}) {
    CAPTURE(static_cast<int>(op));
    const Tensor x = test::random_tensor({n}, gen, op == Unary::Log ? 0.1 : -4.0, 4.0, dt);
    const Tensor gy = test::random_tensor({n}, gen, -1, 1, dt);
    Tensor y = empty_like(x), gx = empty_like(x);
    ref::unary(op, n, x.data<T>(), y.data<T>());
    ref::unary_backward(op, n, x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>());
    COMET_CHECK_CLOSE(unary_on<T>(at, launch, op, x, Tensor(), Tensor()), y, rtol, atol);
    COMET_CHECK_CLOSE(unary_on<T>(at, launch, op, x, y, gy), gx, rtol, atol);
  }
  for (const T gamma : {T(1), T(0.25)}) {
    CAPTURE(gamma);
    const Tensor x = test::random_tensor({n}, gen, -gamma, gamma, dt);  // half inside the band, half outside
    const Tensor gy = test::random_tensor({n}, gen, -1, 1, dt);
    Tensor y = empty_like(x), gx = empty_like(x);
    ref::smooth_step(n, gamma, x.data<T>(), y.data<T>());
    ref::smooth_step_backward(n, gamma, x.data<T>(), gy.data<T>(), gx.data<T>());
    COMET_CHECK_CLOSE(smooth_step_on<T>(at, launch, gamma, x, Tensor()), y, rtol, atol);
    // |gy S'| <= 1.5 / gamma: the terms of the gradient are of that order, so its floor is scaled by it.
    COMET_CHECK_CLOSE(smooth_step_on<T>(at, launch, gamma, x, gy), gx, rtol, atol * 1.5 / gamma);
  }
  std::vector<Tensor> state;
  for (const double lo : {-1.0, -1.0, -0.1, 0.0}) state.push_back(test::random_tensor({n}, gen, lo, lo + 1.0, dt));
  const std::vector<Tensor> got = adam_on<T>(&at, launch, state), want = adam_on<T>(nullptr, launch, state);
  for (size_t k = 0; k < got.size(); ++k) {
    CAPTURE(k);
    if (exact_adam) COMET_CHECK_EXACT(got[k], want[k]);
    else COMET_CHECK_CLOSE(got[k], want[k], rtol, atol);
  }
  for (const SgdStep<T>& step : {SgdStep<T>{T(0.1), T(0.9), T(0.01), false}, SgdStep<T>{T(0.1), T(0.9), T(0), true},
                                 SgdStep<T>{T(0.1), T(0), T(0), false}}) {
    CAPTURE(step.momentum);
    CAPTURE(step.nesterov);
    const std::vector<Tensor> sgd_state(state.begin(), state.begin() + 3);
    const std::vector<Tensor> got_sgd = sgd_on<T>(&at, launch, sgd_state, step);
    const std::vector<Tensor> want_sgd = sgd_on<T>(nullptr, launch, sgd_state, step);
    for (size_t k = 0; k < got_sgd.size(); ++k) {
      CAPTURE(k);
      if (exact_adam) COMET_CHECK_EXACT(got_sgd[k], want_sgd[k]);
      else COMET_CHECK_CLOSE(got_sgd[k], want_sgd[k], rtol, atol);
    }
  }
}

TEST_CASE_TEMPLATE("CUDA elementwise bodies, emulated on the host over every thread, equal the CPU", T, float, double) {
  Generator gen(7);
  for (const int64_t n : kSizes) {
    for (const cuda::Launch& launch : host_launches(n)) {
      CAPTURE(n);
      CAPTURE(launch.grid);
      CAPTURE(launch.block);
      test::for_each_host_target([&](const Target& at) { check_elementwise<T>(at, launch, n, true, gen); });
    }
  }
}

// {c, ga, gb} of a op b (b broadcast by bc over a's rows x cols) and its backward on `at`.
template <class T>
std::vector<Tensor> binary_on(const Target& at, const cuda::Launch* launch, Binary op, Broadcast bc, const Tensor& a,
                              const Tensor& b, const Tensor& gc) {
  const int64_t rows = a.dim(0), cols = a.dim(1);
  const Tensor ad = at.put(a), bd = at.put(b), gcd = at.put(gc);
  Tensor c = at.put(Tensor::zeros(a.shape(), a.dtype())), ga = at.put(Tensor::zeros(a.shape(), a.dtype()));
  Tensor gb = at.put(Tensor::zeros(b.shape(), b.dtype()));
  if (at.device) {
    cuda::binary(op, bc, rows, cols, ptr<T>(ad), ptr<T>(bd), ptr<T>(c));
    cuda::binary_backward(op, bc, rows, cols, ptr<T>(ad), ptr<T>(bd), ptr<T>(gcd), ptr<T>(ga), ptr<T>(gb));
  } else {
    const cuda::Launch own = cuda::elementwise_launch(rows * cols);
    test::emulate_on(at, cuda::BinaryKernel<T>{{}, op, bc, rows, cols, ptr<T>(ad), ptr<T>(bd), ptr<T>(c)}, launch, own);
    test::emulate_on(at, cuda::BinaryKernel<T>{{}, op, bc, rows, cols, ptr<T>(ad), ptr<T>(bd), ptr<T>(ga), ptr<T>(gcd)},
                     launch, own);
    std::vector<double> partials(cuda::sum_launch(rows * cols).chunks, -7.0);
    cuda::run_sum_to(
        bc, rows, cols, T(1), cuda::BinaryGradBTerms<T>{op, bc, cols, ptr<T>(ad), ptr<T>(bd), ptr<T>(gcd)}, ptr<T>(gb),
        partials.data(), [&](const auto& kernel, const cuda::Launch& l) { cuda::emulate(kernel, l, at.order); },
        launch);
  }
  return {at.get(c), at.get(ga), at.get(gb)};
}

// Every binary op under every broadcast, forward and backward, against ref:: (b kept away from 0 for Div).
template <class T>
void check_binary(const Target& at, const cuda::Launch* launch, Generator& gen) {
  const double rtol = test::kKernelRtol<T>;
  const DType dt = dtype_of<T>();
  for (const int64_t rows : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{70}}) {
    for (const int64_t cols : {int64_t{1}, int64_t{7}, int64_t{33}}) {
      for (const Broadcast bc : {Broadcast::Full, Broadcast::Row, Broadcast::Col, Broadcast::Scalar}) {
        for (const Binary op : {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div}) {
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(static_cast<int>(bc));
          CAPTURE(static_cast<int>(op));
          const Tensor a = test::random_tensor({rows, cols}, gen, -2, 2, dt);
          const Tensor gc = test::random_tensor({rows, cols}, gen, -1, 1, dt);
          const Tensor b = test::random_tensor(test::broadcast_shape(bc, rows, cols), gen, 0.5, 2, dt);
          Tensor c = empty_like(a), ga = empty_like(a), gb = empty_like(b);
          ref::binary(op, bc, rows, cols, a.data<T>(), b.data<T>(), c.data<T>());
          ref::binary_backward(op, bc, rows, cols, a.data<T>(), b.data<T>(), gc.data<T>(), ga.data<T>(), gb.data<T>());
          const std::vector<Tensor> got = binary_on<T>(at, launch, op, bc, a, b, gc);
          COMET_CHECK_CLOSE(got[0], c, rtol, rtol);
          COMET_CHECK_CLOSE(got[1], ga, rtol, rtol);
          COMET_CHECK_CLOSE(got[2], gb, rtol, rtol);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA binary ops with broadcasting, emulated on the host over every thread, equal the CPU", T,
                   float, double) {
  Generator gen(73);
  const cuda::Launch one{1, 1};
  test::for_each_host_run({nullptr, &one, &test::kSmallLaunch},
                          [&](const Target& at, const cuda::Launch* launch) { check_binary<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA binary ops with broadcasting on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(73);
  check_binary<T>(test::kDevice, nullptr, gen);
}

// y after one case of AxpyKernel, k (its x and y: x's and y's buffers from element `first` on) emulated on `at`,
// or device(x, y) run on the device.
template <class T, class DeviceRun>
Tensor axpy_on(const Target& at, const cuda::Launch* launch, cuda::AxpyKernel<T> k, const Tensor& x, const Tensor& y,
               DeviceRun device, int64_t x_first = 0, int64_t y_first = 0) {
  const Tensor xd = at.put(x);
  Tensor yd = at.put(y);
  k.x = ptr<T>(xd) + x_first;
  k.y = ptr<T>(yd) + y_first;
  if (at.device) device(k.x, k.y);
  else test::emulate_on(at, k, launch, cuda::elementwise_launch(k.rows * k.cols));
  return at.get(yd);
}

// scale, axpy, expand (every broadcast) and copy_cols (strided, both modes) of small integers against the CPU:
// exact, every product and sum is.
template <class T>
void check_axpy(const Target& at, const cuda::Launch* launch, Generator& gen) {
  const T alpha = T(0.5);
  for (const int64_t n : kSizes) {
    CAPTURE(n);
    const Tensor x = test::small_integers<T>({n}, gen), y = test::small_integers<T>({n}, gen);
    Tensor scaled = y.clone(), added = y.clone();
    ref::scale(n, alpha, x.data<T>(), scaled.data<T>());
    ref::axpy(n, alpha, x.data<T>(), added.data<T>());
    const cuda::AxpyKernel<T> k{{}, 1, n, alpha, Broadcast::Full, nullptr, n, nullptr, n, false};
    COMET_CHECK_EXACT(axpy_on(at, launch, k, x, y, [&](const T* xp, T* yp) { cuda::scale(n, alpha, xp, yp); }), scaled);
    cuda::AxpyKernel<T> acc = k;
    acc.accumulate = true;
    COMET_CHECK_EXACT(axpy_on(at, launch, acc, x, y, [&](const T* xp, T* yp) { cuda::axpy(n, alpha, xp, yp); }), added);
  }
  for (const Broadcast bc : {Broadcast::Full, Broadcast::Row, Broadcast::Col, Broadcast::Scalar}) {
    const int64_t rows = 5, cols = 33;
    CAPTURE(static_cast<int>(bc));
    const Tensor gy = test::small_integers<T>(test::broadcast_shape(bc, rows, cols), gen);
    const Tensor gx0 = Tensor::zeros({rows, cols}, gy.dtype());
    Tensor want = gx0.clone();
    ref::expand(bc, rows, cols, alpha, gy.data<T>(), want.data<T>());
    const cuda::AxpyKernel<T> k{{}, rows, cols, alpha, bc, nullptr, cols, nullptr, cols, false};
    COMET_CHECK_EXACT(axpy_on(at, launch, k, gy, gx0,
                              [&](const T* g, T* gx) { cuda::expand(bc, rows, cols, alpha, g, gx); }),
                      want);
  }
  for (const bool accumulate : {false, true}) {
    const int64_t rows = 40, width = 3, lds = 7, ldd = 9;  // a block of columns out of wider matrices
    CAPTURE(accumulate);
    const Tensor src = test::small_integers<T>({rows, lds}, gen), dst = test::small_integers<T>({rows, ldd}, gen);
    Tensor want = dst.clone();
    cpu::copy_cols(rows, width, src.data<T>() + 2, lds, want.data<T>() + 5, ldd, accumulate);
    cuda::AxpyKernel<T> k{{}, rows, width, T(1), Broadcast::Full, nullptr, lds, nullptr, ldd, accumulate};
    const Tensor got = axpy_on(
        at, launch, k, src, dst, [&](const T* s, T* d) { cuda::copy_cols(rows, width, s, lds, d, ldd, accumulate); },
        2, 5);
    COMET_CHECK_EXACT(got, want);
  }
}

TEST_CASE_TEMPLATE("CUDA scale, axpy, expand and copy_cols, emulated on the host over every thread, equal the CPU", T,
                   float, double) {
  Generator gen(79);
  const cuda::Launch one{1, 1};
  test::for_each_host_run({nullptr, &one, &test::kSmallLaunch},
                          [&](const Target& at, const cuda::Launch* launch) { check_axpy<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA scale, axpy, expand and copy_cols on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(79);
  check_axpy<T>(test::kDevice, nullptr, gen);
}

TEST_CASE_TEMPLATE("CUDA elementwise kernels on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(7);
  for (const int64_t n : kSizes) {
    CAPTURE(n);
    check_elementwise<T>(test::kDevice, cuda::elementwise_launch(n), n, false, gen);
  }
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
