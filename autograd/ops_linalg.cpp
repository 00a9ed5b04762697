// matmul: forward and backward (dA = dC op(B)^T, dB = op(A)^T dC, with the transposes folded into GEMM flags).
#include "autograd/ops.h"
#include "kernels/backend.h"
#include "kernels/gemm.h"

namespace comet::ag {
namespace {

template <class T>
void gemm_call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const Tensor& a, const Tensor& b, Tensor& c,
               T beta = 0) {
  GemmArgs<T> g;
  g.trans_a = ta; g.trans_b = tb; g.m = m; g.n = n; g.k = k;
  g.a = a.data<T>(); g.lda = a.cols();
  g.b = b.data<T>(); g.ldb = b.cols();
  g.beta = beta; g.c = c.data<T>(); g.ldc = c.cols();
  COMET_KERNEL(gemm<T>)(g);
}

}  // namespace

Var matmul(const Var& a, const Var& b, bool ta, bool tb) {
  const Tensor &A = a.value(), &B = b.value();
  COMET_CHECK(A.ndim() == 2 && B.ndim() == 2 && A.dtype() == B.dtype(),
              "matmul: need two 2-D tensors of one dtype, got {} {} and {} {}", shape_str(A.shape()),
              dtype_name(A.dtype()), shape_str(B.shape()), dtype_name(B.dtype()));
  const int64_t m = ta ? A.dim(1) : A.dim(0), k = ta ? A.dim(0) : A.dim(1);
  const int64_t kb = tb ? B.dim(1) : B.dim(0), n = tb ? B.dim(0) : B.dim(1);
  COMET_CHECK(k == kb, "matmul: inner sizes differ: {}{} @ {}{}", shape_str(A.shape()), ta ? "^T" : "",
              shape_str(B.shape()), tb ? "^T" : "");
  Tensor C = Tensor::empty({m, n}, A.dtype());
  COMET_DISPATCH_FLOAT(A.dtype(), "matmul", [&] { gemm_call<scalar_t>(ta, tb, m, n, k, A, B, C); });
  return record("matmul", C, {a, b}, [ta, tb, m, n, k](Node& self) {
    const Tensor &A = self.inputs[0]->value, &B = self.inputs[1]->value, &G = self.grad;
    COMET_DISPATCH_FLOAT(G.dtype(), "matmul backward", [&] {
      if (self.needs(0)) {  // dA (m x k, or k x m when ta)
        Tensor dA = empty_like(A);
        if (!ta) gemm_call<scalar_t>(false, !tb, m, k, n, G, B, dA);
        else gemm_call<scalar_t>(tb, true, k, m, n, B, G, dA);
        accumulate_grad(*self.inputs[0], dA);
      }
      if (self.needs(1)) {  // dB (k x n, or n x k when tb)
        Tensor dB = empty_like(B);
        if (!tb) gemm_call<scalar_t>(!ta, false, k, n, m, A, G, dB);
        else gemm_call<scalar_t>(true, ta, n, k, m, G, A, dB);
        accumulate_grad(*self.inputs[1], dB);
      }
    });
  });
}

}  // namespace comet::ag
