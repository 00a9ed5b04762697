// Layer ops: inverted dropout (elementwise kernels with a seeded mask), conv2d (im2col + GEMM, kernels/conv.h)
// and 2x2 max-pool. Tests: tests/autograd/cases_index_nn.cpp, tests/kernels/test_index_conv.cpp.
#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/conv.h"
#include "kernels/cpu/random.h"
#ifdef COMET_WITH_CUDA
#include "kernels/cuda/conv.h"
#include "kernels/cuda/random.h"
#endif

namespace comet::ag {
namespace {

// c = a * b elementwise (same shapes).
Tensor mul_tensors(const Tensor& a, const Tensor& b) {
  Tensor c = empty_as(a);
  COMET_DISPATCH_FLOAT(a.dtype(), "dropout", [&] {
    COMET_KERNEL_ON(a.device(), binary<scalar_t>)(Binary::Mul, Broadcast::Full, a.rows(), a.cols(), a.ptr<scalar_t>(),
                                                  b.ptr<scalar_t>(), c.ptr<scalar_t>());
  });
  return c;
}

const Tensor* optional_value(const std::optional<Var>& v) { return v ? &v->value() : nullptr; }

template <class T>
T* data_or_null(Tensor& t) { return t.defined() ? t.ptr<T>() : nullptr; }

// The inverted-dropout mask: 1 / keep with probability keep, else 0, from gen's sequence (the same draws on every
// device: kernels/cuda/random.h).
Tensor dropout_mask(const Tensor& like, double keep, Generator& gen) {
  Tensor mask = empty_as(like);
#ifdef COMET_WITH_CUDA
  if (like.device() == Device::CUDA) {
    COMET_DISPATCH_FLOAT(like.dtype(), "dropout", [&] {
      cuda::bernoulli<scalar_t>(gen, mask.numel(), keep, scalar_t(1 / keep), mask.ptr<scalar_t>());
    });
    return mask;
  }
#endif
  if (kernel_set() == KernelSet::Fast) {  // the draw and the scale in one pass on the vector loops
    COMET_DISPATCH_FLOAT(like.dtype(), "dropout", [&] {
      cpu::bernoulli<scalar_t>(gen, mask.numel(), keep, scalar_t(1 / keep), mask.data<scalar_t>());
    });
    return mask;
  }
  gen.bernoulli(mask, keep);  // the reference: the scalar draw, then the scale
  COMET_DISPATCH_FLOAT(like.dtype(), "dropout", [&] {
    ref::scale<scalar_t>(mask.numel(), scalar_t(1 / keep), mask.data<scalar_t>(), mask.data<scalar_t>());
  });
  return mask;
}

}  // namespace

Var dropout(const Var& x, double p, Generator& gen, bool training) {
  COMET_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0) return x;
  const Tensor& X = x.value();
  const Tensor mask = dropout_mask(X, 1 - p, gen);
  return record("dropout", mul_tensors(X, mask), {x}, [mask](Node& self) {
    accumulate_grad(*self.inputs[0], mul_tensors(self.grad, mask));
  });
}

Var conv2d(const Var& x, const Var& weight, const std::optional<Var>& bias, int64_t pad) {
  const Tensor &X = x.value(), &W = weight.value();
  const Tensor* B = optional_value(bias);
  COMET_CHECK(X.ndim() == 4 && W.ndim() == 4 && X.dtype() == W.dtype() && X.dim(1) == W.dim(1),
              "conv2d: need x [N, C, H, W] and weight [O, C, KH, KW] of one dtype, got x {} {} and weight {} {}",
              shape_str(X.shape()), dtype_name(X.dtype()), shape_str(W.shape()), dtype_name(W.dtype()));
  COMET_CHECK(!B || (B->shape() == Shape{W.dim(0)} && B->dtype() == X.dtype()),
              "conv2d: bias must be [{}] of dtype {}, got {} {}", W.dim(0), dtype_name(X.dtype()),
              B ? shape_str(B->shape()) : "", B ? dtype_name(B->dtype()) : "");
  COMET_CHECK(pad >= 0, "conv2d: pad must be >= 0, got {}", pad);
  const ConvGeom g{X.dim(1), X.dim(2), X.dim(3), W.dim(2), W.dim(3), pad};
  COMET_CHECK(g.out_h() >= 1 && g.out_w() >= 1, "conv2d: kernel {} larger than the padded input {} (pad {})",
              shape_str(W.shape()), shape_str(X.shape()), pad);
  const int64_t batch = X.dim(0), out_ch = W.dim(0);
  const Device device = B ? common_device("conv2d", {&X, &W, B}) : common_device("conv2d", {&X, &W});
  Tensor Y = empty_on(device, {batch, out_ch, g.out_h(), g.out_w()}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "conv2d", [&] {
    COMET_KERNEL_ON(device, conv2d<scalar_t>)(g, batch, out_ch, X.ptr<scalar_t>(), W.ptr<scalar_t>(),
                                              B ? B->ptr<scalar_t>() : nullptr, Y.ptr<scalar_t>());
  });
  std::vector<Var> inputs{x, weight};
  if (bias) inputs.push_back(*bias);
  return record("conv2d", Y, inputs, [g, batch, out_ch](Node& self) {
    const Tensor &X = self.inputs[0]->value, &W = self.inputs[1]->value;
    const bool with_bias = self.inputs.size() == 3;
    Tensor GX = self.needs(0) ? empty_as(X) : Tensor();
    Tensor GW = self.needs(1) ? empty_as(W) : Tensor();
    Tensor GB = with_bias && self.needs(2) ? empty_as(self.inputs[2]->value) : Tensor();
    COMET_DISPATCH_FLOAT(X.dtype(), "conv2d backward", [&] {
      COMET_KERNEL_ON(X.device(), conv2d_backward<scalar_t>)(g, batch, out_ch, X.ptr<scalar_t>(), W.ptr<scalar_t>(),
                                                             self.grad.ptr<scalar_t>(), data_or_null<scalar_t>(GX),
                                                             data_or_null<scalar_t>(GW), data_or_null<scalar_t>(GB));
    });
    if (GX.defined()) accumulate_grad(*self.inputs[0], std::move(GX));
    if (GW.defined()) accumulate_grad(*self.inputs[1], std::move(GW));
    if (GB.defined()) accumulate_grad(*self.inputs[2], std::move(GB));
  });
}

Var maxpool2x2(const Var& x) {
  const Tensor& X = x.value();
  COMET_CHECK(X.ndim() == 4 && X.dim(2) % 2 == 0 && X.dim(3) % 2 == 0,
              "maxpool2x2: need x [N, C, H, W] with H and W even, got {}", shape_str(X.shape()));
  const int64_t planes = X.dim(0) * X.dim(1), h = X.dim(2), w = X.dim(3);
  Tensor Y = empty_on(X.device(), {X.dim(0), X.dim(1), h / 2, w / 2}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "maxpool2x2", [&] {
    COMET_KERNEL_ON(X.device(), maxpool2x2<scalar_t>)(planes, h, w, X.ptr<scalar_t>(), Y.ptr<scalar_t>());
  });
  return record("maxpool2x2", Y, {x}, [planes, h, w](Node& self) {
    const Tensor& X = self.inputs[0]->value;
    Tensor GX = empty_as(X);
    COMET_DISPATCH_FLOAT(X.dtype(), "maxpool2x2 backward", [&] {
      COMET_KERNEL_ON(X.device(), maxpool2x2_backward<scalar_t>)(planes, h, w, X.ptr<scalar_t>(),
                                                                 self.grad.ptr<scalar_t>(), GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

}  // namespace comet::ag
