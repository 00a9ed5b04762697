// Losses, each a 0-d tensor: mse and masked_mse (mean squared error over all elements, or over the elements
// whose mask is 1), bce_with_logits (mean over elements, stable form) and cross_entropy (logits [B, C],
// labels [B] i32/i64, mean over rows). Backwards scale by the incoming 0-d gradient; targets that require a
// gradient get one too. Tests: tests/autograd/cases_reduce_loss.cpp, tests/kernels/test_reduce.cpp.
#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/loss.h"

namespace comet::ag {
namespace {

void check_pair(const char* op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name) {
  COMET_CHECK(a.shape() == b.shape() && a.dtype() == b.dtype(), "{}: {} {} {} and {} {} {} differ", op, a_name,
              shape_str(a.shape()), dtype_name(a.dtype()), b_name, shape_str(b.shape()), dtype_name(b.dtype()));
  COMET_CHECK(a.numel() > 0, "{}: empty {} of shape {}", op, a_name, shape_str(a.shape()));
}

// The mask in pred's dtype, after checking that it holds only 0 and 1; sets `count` to its number of ones.
Tensor float_mask(const Tensor& mask, const Tensor& pred, int64_t& count) {
  COMET_CHECK(mask.defined() && mask.shape() == pred.shape(), "masked_mse: mask of shape {} for pred of shape {}",
              mask.defined() ? shape_str(mask.shape()) : std::string("(undefined)"), shape_str(pred.shape()));
  Tensor m = copy_to(mask, Device::CPU).to(pred.dtype());  // checked on the host
  count = 0;
  COMET_DISPATCH_FLOAT(m.dtype(), "masked_mse", [&] {
    const scalar_t* p = m.data<scalar_t>();
    for (int64_t i = 0; i < m.numel(); ++i) {
      COMET_CHECK(p[i] == scalar_t(0) || p[i] == scalar_t(1), "masked_mse: mask value {} at index {} is not 0 or 1",
                  double(p[i]), i);
      count += p[i] == scalar_t(1);
    }
  });
  return m;
}

// Mean of mask * (pred - target)^2 over `count` elements (0 when count is 0); mask undefined means all ones.
Var squared_error_loss(const char* name, const Var& pred, const Var& target, const Tensor& host_mask,
                       int64_t count) {
  const Tensor &P = pred.value(), &T = target.value();
  const Device device = common_device(name, {&P, &T});
  const Tensor mask = host_mask.defined() ? copy_to(host_mask, device) : Tensor();
  const double alpha = count > 0 ? 1.0 / double(count) : 0.0;
  Tensor L = empty_on(device, {}, P.dtype());
  COMET_DISPATCH_FLOAT(P.dtype(), name, [&] {
    COMET_KERNEL_ON(device, squared_error<scalar_t>)(P.numel(), scalar_t(alpha), P.ptr<scalar_t>(), T.ptr<scalar_t>(),
                                                     mask.defined() ? mask.ptr<scalar_t>() : nullptr,
                                                     L.ptr<scalar_t>());
  });
  return record(name, L, {pred, target}, [alpha, mask](Node& self) {
    const Tensor &P = self.inputs[0]->value, &T = self.inputs[1]->value;
    Tensor GP = self.needs(0) ? empty_as(P) : Tensor(), GT = self.needs(1) ? empty_as(T) : Tensor();
    const double scale = host_item(self.grad) * alpha;
    COMET_DISPATCH_FLOAT(P.dtype(), "mse backward", [&] {
      COMET_KERNEL_ON(P.device(), squared_error_backward<scalar_t>)(
          P.numel(), scalar_t(scale), P.ptr<scalar_t>(), T.ptr<scalar_t>(),
          mask.defined() ? mask.ptr<scalar_t>() : nullptr, GP.defined() ? GP.ptr<scalar_t>() : nullptr,
          GT.defined() ? GT.ptr<scalar_t>() : nullptr);
    });
    if (GP.defined()) accumulate_grad(*self.inputs[0], std::move(GP));
    if (GT.defined()) accumulate_grad(*self.inputs[1], std::move(GT));
  });
}

// labels as i64 after checking their dtype and that each lies in [0, C) (the error names the first bad one).
Tensor checked_labels(const Tensor& labels, const Tensor& logits) {
  const int64_t B = logits.dim(0), C = logits.dim(1);
  COMET_CHECK(labels.defined() && labels.ndim() == 1 && labels.dim(0) == B &&
                  (labels.dtype() == DType::I32 || labels.dtype() == DType::I64),
              "cross_entropy: labels must be i32/i64 of shape [{}] for logits {}, got {} {}", B,
              shape_str(logits.shape()), labels.defined() ? dtype_name(labels.dtype()) : "(undefined)",
              labels.defined() ? shape_str(labels.shape()) : std::string());
  Tensor l = labels.to(DType::I64);
  const int64_t* p = l.data<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    COMET_CHECK(p[b] >= 0 && p[b] < C, "cross_entropy: label {} at row {} is out of range [0, {}) for logits {}",
                p[b], b, C, shape_str(logits.shape()));
  return l;
}

}  // namespace

Var mse(const Var& pred, const Var& target) {
  check_pair("mse", pred.value(), target.value(), "pred", "target");
  return squared_error_loss("mse", pred, target, Tensor(), pred.value().numel());
}

Var masked_mse(const Var& pred, const Var& target, const Tensor& mask) {
  check_pair("masked_mse", pred.value(), target.value(), "pred", "target");
  int64_t count = 0;
  Tensor m = float_mask(mask, pred.value(), count);
  return squared_error_loss("masked_mse", pred, target, m, count);
}

Var bce_with_logits(const Var& logits, const Var& target) {
  const Tensor &X = logits.value(), &T = target.value();
  check_pair("bce_with_logits", X, T, "logits", "target");
  const Device device = common_device("bce_with_logits", {&X, &T});
  const double alpha = 1.0 / double(X.numel());
  Tensor L = empty_on(device, {}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "bce_with_logits", [&] {
    COMET_KERNEL_ON(device, bce_with_logits<scalar_t>)(X.numel(), scalar_t(alpha), X.ptr<scalar_t>(),
                                                       T.ptr<scalar_t>(), L.ptr<scalar_t>());
  });
  return record("bce_with_logits", L, {logits, target}, [alpha](Node& self) {
    const Tensor &X = self.inputs[0]->value, &T = self.inputs[1]->value;
    Tensor GX = self.needs(0) ? empty_as(X) : Tensor(), GT = self.needs(1) ? empty_as(T) : Tensor();
    const double scale = host_item(self.grad) * alpha;
    COMET_DISPATCH_FLOAT(X.dtype(), "bce_with_logits backward", [&] {
      COMET_KERNEL_ON(X.device(), bce_with_logits_backward<scalar_t>)(
          X.numel(), scalar_t(scale), X.ptr<scalar_t>(), T.ptr<scalar_t>(),
          GX.defined() ? GX.ptr<scalar_t>() : nullptr, GT.defined() ? GT.ptr<scalar_t>() : nullptr);
    });
    if (GX.defined()) accumulate_grad(*self.inputs[0], std::move(GX));
    if (GT.defined()) accumulate_grad(*self.inputs[1], std::move(GT));
  });
}

Var cross_entropy(const Var& logits, const Tensor& labels) {
  const Tensor& X = logits.value();
  COMET_CHECK(X.ndim() == 2 && X.numel() > 0, "cross_entropy: logits must be a non-empty [B, C] matrix, got {}",
              shape_str(X.shape()));
  // Checked on the host, then on the logits' device.
  const Tensor L64 = copy_to(checked_labels(copy_to(labels, Device::CPU), X), X.device());
  const int64_t B = X.dim(0), C = X.dim(1);
  const double alpha = 1.0 / double(B);
  Tensor L = empty_on(X.device(), {}, X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), "cross_entropy", [&] {
    COMET_KERNEL_ON(X.device(), cross_entropy<scalar_t>)(B, C, scalar_t(alpha), X.ptr<scalar_t>(),
                                                         L64.ptr<int64_t>(), L.ptr<scalar_t>());
  });
  return record("cross_entropy", L, {logits}, [alpha, L64, B, C](Node& self) {
    const Tensor& X = self.inputs[0]->value;
    Tensor GX = empty_as(X);
    const double scale = host_item(self.grad) * alpha;
    COMET_DISPATCH_FLOAT(X.dtype(), "cross_entropy backward", [&] {
      COMET_KERNEL_ON(X.device(), cross_entropy_backward<scalar_t>)(B, C, scalar_t(scale), X.ptr<scalar_t>(),
                                                                    L64.ptr<int64_t>(), GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

}  // namespace comet::ag
