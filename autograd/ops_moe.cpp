// grouped_linear: forward and backward side by side (kernels/grouped_gemm.h).
#include "autograd/ops.h"
#include "kernels/backend.h"
#include "kernels/grouped_gemm.h"

namespace comet::ag {

Var grouped_linear(const Var& x, const Var& w, const Var& b, const std::vector<int64_t>& offsets) {
  const Tensor &X = x.value(), &W = w.value(), &B = b.value();
  COMET_CHECK(W.ndim() == 3 && X.ndim() == 2 && X.dim(1) == W.dim(1) && B.shape() == Shape({W.dim(0), W.dim(2)}) &&
                  X.dtype() == W.dtype() && B.dtype() == W.dtype(),
              "grouped_linear: x {} weights {} bias {} do not fit ([M, in], [n, in, out], [n, out], one dtype)",
              shape_str(X.shape()), shape_str(W.shape()), shape_str(B.shape()));
  const int64_t n = W.dim(0), in = W.dim(1), out = W.dim(2);
  COMET_CHECK(static_cast<int64_t>(offsets.size()) == n + 1 && offsets.front() == 0 && offsets.back() == X.dim(0),
              "grouped_linear: offsets must have {} entries from 0 to {} (got {} entries)", n + 1, X.dim(0),
              offsets.size());
  for (int64_t e = 0; e < n; ++e)
    COMET_CHECK(offsets[e] <= offsets[e + 1], "grouped_linear: offsets decrease at expert {}", e);
  Tensor Y = Tensor::empty({X.dim(0), out}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "grouped_linear", [&] {
    COMET_KERNEL(grouped_linear<scalar_t>)(n, offsets.data(), in, out, X.data<scalar_t>(), W.data<scalar_t>(),
                                           B.data<scalar_t>(), Y.data<scalar_t>());
  });
  return record("grouped_linear", Y, {x, w, b}, [offsets, n, in, out](Node& self) {
    const Tensor &X = self.inputs[0]->value, &W = self.inputs[1]->value, &B = self.inputs[2]->value;
    Tensor GX = self.needs(0) ? empty_like(X) : Tensor();
    Tensor GW = self.needs(1) ? empty_like(W) : Tensor();
    Tensor GB = self.needs(2) ? empty_like(B) : Tensor();
    COMET_DISPATCH_FLOAT(X.dtype(), "grouped_linear backward", [&] {
      auto ptr = [](Tensor& t) { return t.defined() ? t.data<scalar_t>() : nullptr; };
      COMET_KERNEL(grouped_linear_backward<scalar_t>)(n, offsets.data(), in, out, X.data<scalar_t>(),
                                                      W.data<scalar_t>(), self.grad.data<scalar_t>(), ptr(GX),
                                                      ptr(GW), ptr(GB));
    });
    if (GX.defined()) accumulate_grad(*self.inputs[0], std::move(GX));
    if (GW.defined()) accumulate_grad(*self.inputs[1], std::move(GW));
    if (GB.defined()) accumulate_grad(*self.inputs[2], std::move(GB));
  });
}

}  // namespace comet::ag
