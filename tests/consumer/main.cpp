// Downstream-consumer program (tests/consumer/): builds a tiny graph through the installed or embedded
// COMET-MoE headers and libraries and checks its gradients against hand-computed values.
//   a [2, 3], b [3, 2], r = relu(a @ b), out = r * r, backward with a seed of ones:
//   d out / d r = 2 r, so grad_a = (2 r) @ b^T and grad_b = a^T @ (2 r) (r is 0 where a @ b < 0).
// Prints "consumer ok ..." and exits 0 when every gradient matches, else prints the mismatch and exits 1.
#include <cmath>
#include <cstdio>
#include <vector>

#include "autograd/ops.h"
#ifdef COMET_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

namespace {

bool matches(const char* name, const comet::Tensor& got, const std::vector<float>& want) {
  const std::vector<float> v = got.to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i) {
    if (v.size() != want.size() || std::fabs(v[i] - want[i]) > 1e-5f) {
      std::printf("consumer FAILED: %s[%zu] = %g, expected %g\n", name, i, v.size() > i ? v[i] : NAN, want[i]);
      return false;
    }
  }
  return true;
}

}  // namespace

int main() {
  using namespace comet;
  ag::Var a = ag::param(Tensor::from_vector<float>({2, 3}, {1, -2, 3, 4, 5, -6}));
  ag::Var b = ag::param(Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6}));
  ag::Var h = ag::matmul(a, b);  // [[10, 12], [-11, -8]]
  ag::Var r = ag::relu(h);       // [[10, 12], [0, 0]]
  ag::Var out = ag::mul(r, r);
  ag::backward(out, Tensor::full({2, 2}, 1.0));
  const bool ok = matches("out", out.value(), {100, 144, 0, 0}) &&
                  matches("grad_a", a.grad(), {68, 156, 244, 0, 0, 0}) &&
                  matches("grad_b", b.grad(), {20, 24, -40, -48, 60, 72});
  if (!ok) return 1;
  std::printf("consumer ok: grad_a[0, 2] = %g\n", a.grad().item(2));
#ifdef COMET_WITH_CUDA
  std::printf("consumer: CUDA backend linked, status: %s\n", cuda_status().c_str());
#endif
  return 0;
}
