// grouped_linear and combine_rows: forward and backward side by side (kernels/grouped_gemm.h and kernels/index.h; on
// a CUDA device kernels/cuda/grouped_gemm.h, which reads the offsets from device memory, and kernels/cuda/dispatch.h).
#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/grouped_gemm.h"
#ifdef COMET_WITH_CUDA
#include "kernels/cuda/grouped_gemm.h"
#endif

namespace comet::ag {
namespace {

// The expert offsets where the kernels read them: host memory for the CPU's, a device copy for the device's.
Tensor offsets_on(Device device, const std::vector<int64_t>& offsets) {
  return copy_to(Tensor::from_vector<int64_t>({static_cast<int64_t>(offsets.size())}, offsets), device);
}

template <class T>
void grouped_forward(const Tensor& offsets, int64_t n, int64_t in, int64_t out, const Tensor& X, const Tensor& W,
                     const Tensor& B, Tensor& Y) {
#ifdef COMET_WITH_CUDA
  if (X.device() == Device::CUDA) {
    return cuda::grouped_linear<T>(n, offsets.ptr<int64_t>(), X.dim(0), in, out, X.ptr<T>(), W.ptr<T>(), B.ptr<T>(),
                                   Y.ptr<T>());
  }
#endif
  COMET_KERNEL(grouped_linear<T>)(n, offsets.ptr<int64_t>(), in, out, X.ptr<T>(), W.ptr<T>(), B.ptr<T>(), Y.ptr<T>());
}

template <class T>
void grouped_backward(const Tensor& offsets, int64_t n, int64_t in, int64_t out, const Tensor& X, const Tensor& W,
                      const Tensor& GY, T* gx, T* gw, T* gb) {
#ifdef COMET_WITH_CUDA
  if (X.device() == Device::CUDA) {
    return cuda::grouped_linear_backward<T>(n, offsets.ptr<int64_t>(), X.dim(0), in, out, X.ptr<T>(), W.ptr<T>(),
                                            GY.ptr<T>(), gx, gw, gb);
  }
#endif
  COMET_KERNEL(grouped_linear_backward<T>)(n, offsets.ptr<int64_t>(), in, out, X.ptr<T>(), W.ptr<T>(), GY.ptr<T>(),
                                           gx, gw, gb);
}

}  // namespace

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
  const Device device = common_device("grouped_linear", {&X, &W, &B});
  const Tensor expert_offsets = offsets_on(device, offsets);
  Tensor Y = empty_on(device, {X.dim(0), out}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "grouped_linear",
                       [&] { grouped_forward<scalar_t>(expert_offsets, n, in, out, X, W, B, Y); });
  return record("grouped_linear", Y, {x, w, b}, [expert_offsets, n, in, out](Node& self) {
    const Tensor &X = self.inputs[0]->value, &W = self.inputs[1]->value, &B = self.inputs[2]->value;
    // The fast CPU kernel can hand W's gradient over tile by tile (Node::grad_pieces); it is then never written out.
    Node& w_node = *self.inputs[1];
    const bool pieces = self.needs(1) && gives_pieces(w_node) && X.device() == Device::CPU &&
                        kernel_set() == KernelSet::Fast;
    Tensor GX = self.needs(0) ? empty_as(X) : Tensor();
    Tensor GW = self.needs(1) && !pieces ? empty_as(W) : Tensor();
    Tensor GB = self.needs(2) ? empty_as(B) : Tensor();
    COMET_DISPATCH_FLOAT(X.dtype(), "grouped_linear backward", [&] {
      auto ptr = [](Tensor& t) { return t.defined() ? t.ptr<scalar_t>() : nullptr; };
      if (pieces) {
        w_node.grad_pieces.begin(w_node);
        const cpu::GradPiece<scalar_t> take = [&](int64_t b, int64_t e, const scalar_t* g) {
          w_node.grad_pieces.take(b, e, g);
        };
        cpu::grouped_linear_backward_pieces<scalar_t>(n, expert_offsets.ptr<int64_t>(), in, out, X.ptr<scalar_t>(),
                                                      W.ptr<scalar_t>(), self.grad.ptr<scalar_t>(), ptr(GX), take,
                                                      ptr(GB));
      } else {
        grouped_backward<scalar_t>(expert_offsets, n, in, out, X, W, self.grad, ptr(GX), ptr(GW), ptr(GB));
      }
    });
    if (GX.defined()) accumulate_grad(*self.inputs[0], std::move(GX));
    if (GW.defined()) accumulate_grad(*self.inputs[1], std::move(GW));
    if (GB.defined()) accumulate_grad(*self.inputs[2], std::move(GB));
  });
}

Var combine_rows(const Var& ys, const Var& g, const DispatchPlan& plan) {
  const Tensor &YS = ys.value(), &G = g.value();
  const int64_t batch = plan.batch, experts = plan.experts, pairs = plan.pairs();
  COMET_CHECK(YS.ndim() == 2 && YS.dim(0) == pairs && G.shape() == Shape({batch, experts}) && YS.dtype() == G.dtype(),
              "combine_rows: ys {} and g {} do not fit the plan ([{}, d] and [{}, {}], one dtype)", shape_str(YS.shape()),
              shape_str(G.shape()), pairs, batch, experts);
  const Device device = common_device("combine_rows", {&YS, &G});
  std::vector<int64_t> pair_of(static_cast<size_t>(batch * experts), -1);
  for (int64_t p = 0; p < pairs; ++p) pair_of[plan.flat[p]] = p;
  auto index = [device](const std::vector<int64_t>& v) {
    return copy_to(Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v), device);
  };
  const Tensor sample = index(plan.sample), flat = index(plan.flat), pair_index = index(pair_of);
  const int64_t d = YS.dim(1);
  Tensor Y = empty_on(device, {batch, d}, YS.dtype());
  COMET_DISPATCH_FLOAT(YS.dtype(), "combine_rows", [&] {
    COMET_KERNEL_ON(device, combine_rows<scalar_t>)(batch, experts, d, pair_index.ptr<int64_t>(), G.ptr<scalar_t>(),
                                                    YS.ptr<scalar_t>(), Y.ptr<scalar_t>());
  });
  return record("combine_rows", Y, {ys, g}, [sample, flat, pair_index, batch, experts, pairs, d](Node& self) {
    const Tensor &YS = self.inputs[0]->value, &G = self.inputs[1]->value;
    Tensor GYS = self.needs(0) ? empty_as(YS) : Tensor(), GG = self.needs(1) ? empty_as(G) : Tensor();
    COMET_DISPATCH_FLOAT(YS.dtype(), "combine_rows backward", [&] {
      auto ptr = [](Tensor& t) { return t.defined() ? t.ptr<scalar_t>() : nullptr; };
      COMET_KERNEL_ON(YS.device(), combine_rows_backward<scalar_t>)(
          batch, experts, d, pairs, sample.ptr<int64_t>(), flat.ptr<int64_t>(), pair_index.ptr<int64_t>(),
          G.ptr<scalar_t>(), YS.ptr<scalar_t>(), self.grad.ptr<scalar_t>(), ptr(GYS), ptr(GG));
    });
    if (GYS.defined()) accumulate_grad(*self.inputs[0], std::move(GYS));
    if (GG.defined()) accumulate_grad(*self.inputs[1], std::move(GG));
  });
}

}  // namespace comet::ag
