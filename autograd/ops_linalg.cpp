// matmul, linear, bmm and transpose: forward and backward (dA = dC op(B)^T, dB = op(A)^T dC, with the transposes folded
// into GEMM flags).
#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"

namespace comet::ag {
namespace {

// C = op(A) op(B) for `batch` row-major matrices stored back to back (A: a_rows x a_cols each, etc.) on `device`.
template <class T>
void gemm_call(Device device, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t a_cols,
               const T* b, int64_t b_cols, T* c, int64_t batch = 1) {
  const int64_t a_size = m * k, b_size = k * n, c_size = m * n;
  for (int64_t i = 0; i < batch; ++i) {
    GemmArgs<T> g;
    g.trans_a = ta; g.trans_b = tb; g.m = m; g.n = n; g.k = k;
    g.a = a + i * a_size; g.lda = a_cols;
    g.b = b + i * b_size; g.ldb = b_cols;
    g.beta = 0; g.c = c + i * c_size; g.ldc = n;
    COMET_KERNEL_ON(device, gemm<T>)(g);
  }
}

template <class T>
void gemm_call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const Tensor& a, const Tensor& b, Tensor& c) {
  gemm_call<T>(c.device(), ta, tb, m, n, k, a.ptr<T>(), a.cols(), b.ptr<T>(), b.cols(), c.ptr<T>());
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
  Tensor C = empty_on(common_device("matmul", {&A, &B}), {m, n}, A.dtype());
  COMET_DISPATCH_FLOAT(A.dtype(), "matmul", [&] { gemm_call<scalar_t>(ta, tb, m, n, k, A, B, C); });
  return record("matmul", C, {a, b}, [ta, tb, m, n, k](Node& self) {
    const Tensor &A = self.inputs[0]->value, &B = self.inputs[1]->value, &G = self.grad;
    COMET_DISPATCH_FLOAT(G.dtype(), "matmul backward", [&] {
      if (self.needs(0)) {  // dA (m x k, or k x m when ta)
        Tensor dA = empty_as(A);
        if (!ta) gemm_call<scalar_t>(false, !tb, m, k, n, G, B, dA);
        else gemm_call<scalar_t>(tb, true, k, m, n, B, G, dA);
        accumulate_grad(*self.inputs[0], std::move(dA));
      }
      if (self.needs(1)) {  // dB (k x n, or n x k when tb)
        Tensor dB = empty_as(B);
        if (!tb) gemm_call<scalar_t>(!ta, false, k, n, m, A, G, dB);
        else gemm_call<scalar_t>(true, ta, n, k, m, G, A, dB);
        accumulate_grad(*self.inputs[1], std::move(dB));
      }
    });
  });
}

Var linear(const Var& x, const Var& w, const Var& b) {
  const Tensor &X = x.value(), &W = w.value(), &B = b.value();
  COMET_CHECK(X.ndim() == 2 && W.ndim() == 2 && X.dim(1) == W.dim(0) && B.shape() == Shape({W.dim(1)}) &&
                  X.dtype() == W.dtype() && B.dtype() == W.dtype(),
              "linear: x {} weight {} bias {} do not fit ([B, in], [in, out], [out], one dtype)", shape_str(X.shape()),
              shape_str(W.shape()), shape_str(B.shape()));
  const int64_t rows = X.dim(0), in = X.dim(1), out = W.dim(1);
  const Device device = common_device("linear", {&X, &W, &B});
  Tensor Y = empty_on(device, {rows, out}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "linear", [&] {
    GemmArgs<scalar_t> g;
    g.m = rows; g.n = out; g.k = in;
    g.a = X.ptr<scalar_t>(); g.lda = in; g.b = W.ptr<scalar_t>(); g.ldb = out;
    g.c = Y.ptr<scalar_t>(); g.ldc = out; g.row_bias = B.ptr<scalar_t>();
    COMET_KERNEL_ON(device, gemm<scalar_t>)(g);
  });
  return record("linear", Y, {x, w, b}, [rows, in, out](Node& self) {
    const Tensor &X = self.inputs[0]->value, &W = self.inputs[1]->value, &G = self.grad;
    COMET_DISPATCH_FLOAT(G.dtype(), "linear backward", [&] {
      if (self.needs(0)) {  // dX = G W^T
        Tensor dX = empty_as(X);
        gemm_call<scalar_t>(false, true, rows, in, out, G, W, dX);
        accumulate_grad(*self.inputs[0], std::move(dX));
      }
      if (self.needs(1)) {  // dW = X^T G
        Tensor dW = empty_as(W);
        gemm_call<scalar_t>(true, false, in, out, rows, X, G, dW);
        accumulate_grad(*self.inputs[1], std::move(dW));
      }
      if (self.needs(2)) {  // db = column sums of G
        Tensor db = empty_on(G.device(), {out}, G.dtype());
        COMET_KERNEL_ON(G.device(), sum_to<scalar_t>)(Broadcast::Row, rows, out, scalar_t(1), G.ptr<scalar_t>(),
                                                      db.ptr<scalar_t>());
        accumulate_grad(*self.inputs[2], std::move(db));
      }
    });
  });
}

Var bmm(const Var& a, const Var& b) {
  const Tensor &A = a.value(), &B = b.value();
  COMET_CHECK(A.ndim() == 3 && B.ndim() == 3 && A.dim(0) == B.dim(0) && A.dim(2) == B.dim(1) && A.dtype() == B.dtype(),
              "bmm: need [G, M, K] and [G, K, N] of one dtype, got {} {} and {} {}", shape_str(A.shape()),
              dtype_name(A.dtype()), shape_str(B.shape()), dtype_name(B.dtype()));
  const int64_t g = A.dim(0), m = A.dim(1), k = A.dim(2), n = B.dim(2);
  const Device device = common_device("bmm", {&A, &B});
  Tensor C = empty_on(device, {g, m, n}, A.dtype());
  COMET_DISPATCH_FLOAT(A.dtype(), "bmm", [&] {
    gemm_call<scalar_t>(device, false, false, m, n, k, A.ptr<scalar_t>(), k, B.ptr<scalar_t>(), n, C.ptr<scalar_t>(),
                        g);
  });
  return record("bmm", C, {a, b}, [g, m, n, k](Node& self) {
    const Tensor &A = self.inputs[0]->value, &B = self.inputs[1]->value, &G = self.grad;
    COMET_DISPATCH_FLOAT(G.dtype(), "bmm backward", [&] {
      const scalar_t *pa = A.ptr<scalar_t>(), *pb = B.ptr<scalar_t>(), *pg = G.ptr<scalar_t>();
      const Device device = G.device();
      if (self.needs(0)) {  // dA_i = G_i B_i^T
        Tensor dA = empty_as(A);
        for (int64_t i = 0; i < g; ++i)
          gemm_call<scalar_t>(device, false, true, m, k, n, pg + i * m * n, n, pb + i * k * n, n,
                              dA.ptr<scalar_t>() + i * m * k);
        accumulate_grad(*self.inputs[0], std::move(dA));
      }
      if (self.needs(1)) {  // dB_i = A_i^T G_i
        Tensor dB = empty_as(B);
        for (int64_t i = 0; i < g; ++i)
          gemm_call<scalar_t>(device, true, false, k, n, m, pa + i * m * k, k, pg + i * m * n, n,
                              dB.ptr<scalar_t>() + i * k * n);
        accumulate_grad(*self.inputs[1], std::move(dB));
      }
    });
  });
}

namespace {
// out[j, i] = in[i, j] for an r x c matrix (a pure copy: one loop serves the reference and the fast path).
template <class T>
void transpose_copy(int64_t r, int64_t c, const T* in, T* out) {
  cpu::parallel_for(c, r, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      for (int64_t i = 0; i < r; ++i) out[j * r + i] = in[i * c + j];
  });
}

Tensor transposed(const Tensor& X) {
  Tensor Y = empty_on(X.device(), {X.dim(1), X.dim(0)}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "transpose", [&] {
    COMET_ON_DEVICE(X.device(), &transpose_copy<scalar_t>, transpose<scalar_t>)(X.dim(0), X.dim(1), X.ptr<scalar_t>(),
                                                                                Y.ptr<scalar_t>());
  });
  return Y;
}
}  // namespace

Var transpose(const Var& x) {
  COMET_CHECK(x.value().ndim() == 2, "transpose: need a 2-D tensor, got {}", shape_str(x.shape()));
  return record("transpose", transposed(x.value()), {x},
                [](Node& self) { accumulate_grad(*self.inputs[0], transposed(self.grad)); });
}

}  // namespace comet::ag
