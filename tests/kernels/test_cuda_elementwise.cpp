// The elementwise CUDA kernels (kernels/cuda/elementwise_kernels.h) against the CPU: every unary op and the
// smooth-step forward and backward against the double reference (1e-5 relative in float, 1e-6 in double), the
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

template <class T>
Tensor unary_on(const Target& at, const cuda::Launch& launch, Unary op, const Tensor& x) {
  const Tensor in = at.put(x);
  Tensor y = at.put(empty_like(x));
  if (at.device) cuda::unary(op, x.numel(), ptr<T>(in), ptr<T>(y));
  else cuda::emulate(cuda::UnaryKernel<T>{{}, op, x.numel(), ptr<T>(in), ptr<T>(y)}, launch, at.order);
  return at.get(y);
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

// Every kernel of this file on `at` for n elements, against the CPU; `exact_adam`: bit for bit.
template <class T>
void check_elementwise(const Target& at, const cuda::Launch& launch, int64_t n, bool exact_adam, Generator& gen) {
  const double rtol = test::kKernelRtol<T>, atol = rtol;  // the values are of order 1
  const DType dt = dtype_of<T>();
  for (const Unary op : {Unary::Relu, Unary::Sigmoid, Unary::Tanh, Unary::Exp, Unary::Log, Unary::Softplus}) {
    CAPTURE(static_cast<int>(op));
    const Tensor x = test::random_tensor({n}, gen, op == Unary::Log ? 0.1 : -4.0, 4.0, dt);
    Tensor want = empty_like(x);
    ref::unary(op, n, x.data<T>(), want.data<T>());
    COMET_CHECK_CLOSE(unary_on<T>(at, launch, op, x), want, rtol, atol);
  }
  for (const T gamma : {T(1), T(0.25)}) {
    CAPTURE(gamma);
    const Tensor x = test::random_tensor({n}, gen, -gamma, gamma, dt);  // half inside the band, half outside
    const Tensor gy = test::random_tensor({n}, gen, -1, 1, dt);
    Tensor y = empty_like(x), gx = empty_like(x);
    ref::smooth_step(n, gamma, x.data<T>(), y.data<T>());
    ref::smooth_step_backward(n, gamma, x.data<T>(), gy.data<T>(), gx.data<T>());
    COMET_CHECK_CLOSE(smooth_step_on<T>(at, launch, gamma, x, Tensor()), y, rtol, atol);
    COMET_CHECK_CLOSE(smooth_step_on<T>(at, launch, gamma, x, gy), gx, rtol, atol * 4 / gamma);  // |S'| <= 1.5 / gamma
  }
  std::vector<Tensor> state;
  for (const double lo : {-1.0, -1.0, -0.1, 0.0}) state.push_back(test::random_tensor({n}, gen, lo, lo + 1.0, dt));
  const std::vector<Tensor> got = adam_on<T>(&at, launch, state), want = adam_on<T>(nullptr, launch, state);
  for (size_t k = 0; k < got.size(); ++k) {
    CAPTURE(k);
    if (exact_adam) COMET_CHECK_EXACT(got[k], want[k]);
    else COMET_CHECK_CLOSE(got[k], want[k], rtol, atol);
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
