// Unary ops, broadcasting binary ops, scale and cast: forward and backward side by side.
#include "autograd/device.h"
#include "autograd/ops.h"

namespace comet::ag {
namespace {

// How b broadcasts onto a (see ops.h), or an error naming both shapes.
Broadcast broadcast_mode(const char* op, const Tensor& a, const Tensor& b) {
  if (b.shape() == a.shape()) return Broadcast::Full;
  if (b.numel() == 1) return Broadcast::Scalar;
  const Shape& s = b.shape();
  if (a.ndim() >= 1 && ((s.size() == 1 && s[0] == a.cols()) || (s.size() == 2 && s[0] == 1 && s[1] == a.cols())))
    return Broadcast::Row;
  if (a.ndim() >= 2 && s.size() == 2 && s[0] == a.rows() && s[1] == 1) return Broadcast::Col;
  throw Error(fmt::format("{}: cannot broadcast {} onto {} (allowed: same shape, [C], [1, C], [R, 1], one element)",
                          op, shape_str(b.shape()), shape_str(a.shape())));
}

const char* binary_name(Binary op) {
  switch (op) {
    case Binary::Add: return "add";
    case Binary::Sub: return "sub";
    case Binary::Mul: return "mul";
    case Binary::Div: return "div";
  }
  return "binary";
}

const char* unary_name(Unary op) {
  switch (op) {
    case Unary::Relu: return "relu";
    case Unary::Sigmoid: return "sigmoid";
    case Unary::Tanh: return "tanh";
    case Unary::Exp: return "exp";
    case Unary::Log: return "log";
    case Unary::Softplus: return "softplus";
  }
  return "unary";
}

}  // namespace

Var unary(Unary op, const Var& x) {
  const Tensor& X = x.value();
  Tensor Y = empty_as(X);
  COMET_DISPATCH_FLOAT(X.dtype(), unary_name(op), [&] {
    COMET_KERNEL_ON(X.device(), unary<scalar_t>)(op, X.numel(), X.ptr<scalar_t>(), Y.ptr<scalar_t>());
  });
  return record(unary_name(op), Y, {x}, [op, Y](Node& self) {
    const Tensor& X = self.inputs[0]->value;
    Tensor GX = empty_as(X);
    COMET_DISPATCH_FLOAT(X.dtype(), "unary backward", [&] {
      COMET_KERNEL_ON(X.device(), unary_backward<scalar_t>)(op, X.numel(), X.ptr<scalar_t>(), Y.ptr<scalar_t>(),
                                                            self.grad.ptr<scalar_t>(), GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

Var binary(Binary op, const Var& a, const Var& b) {
  const Tensor &A = a.value(), &B = b.value();
  const char* name = binary_name(op);
  COMET_CHECK(A.dtype() == B.dtype(), "{}: dtypes differ ({} {} vs {} {})", name, shape_str(A.shape()),
              dtype_name(A.dtype()), shape_str(B.shape()), dtype_name(B.dtype()));
  const Broadcast bc = broadcast_mode(name, A, B);
  const Device device = common_device(name, {&A, &B});
  Tensor C = empty_as(A);
  COMET_DISPATCH_FLOAT(A.dtype(), name, [&] {
    COMET_KERNEL_ON(device, binary<scalar_t>)(op, bc, A.rows(), A.cols(), A.ptr<scalar_t>(), B.ptr<scalar_t>(),
                                              C.ptr<scalar_t>());
  });
  return record(name, C, {a, b}, [op, bc](Node& self) {
    const Tensor &A = self.inputs[0]->value, &B = self.inputs[1]->value;
    Tensor GA = self.needs(0) ? empty_as(A) : Tensor();
    Tensor GB = self.needs(1) ? empty_as(B) : Tensor();
    COMET_DISPATCH_FLOAT(A.dtype(), "binary backward", [&] {
      COMET_KERNEL_ON(A.device(), binary_backward<scalar_t>)(
          op, bc, A.rows(), A.cols(), A.ptr<scalar_t>(), B.ptr<scalar_t>(), self.grad.ptr<scalar_t>(),
          GA.defined() ? GA.ptr<scalar_t>() : nullptr, GB.defined() ? GB.ptr<scalar_t>() : nullptr);
    });
    if (GA.defined()) accumulate_grad(*self.inputs[0], std::move(GA));
    if (GB.defined()) accumulate_grad(*self.inputs[1], std::move(GB));
  });
}

Var scale(const Var& x, double alpha) {
  const Tensor& X = x.value();
  Tensor Y = empty_as(X);
  COMET_DISPATCH_FLOAT(X.dtype(), "scale", [&] {
    COMET_KERNEL_ON(X.device(), scale<scalar_t>)(X.numel(), scalar_t(alpha), X.ptr<scalar_t>(), Y.ptr<scalar_t>());
  });
  return record("scale", Y, {x}, [alpha](Node& self) {
    Tensor GX = empty_as(self.grad);
    COMET_DISPATCH_FLOAT(GX.dtype(), "scale backward", [&] {
      COMET_KERNEL_ON(GX.device(), scale<scalar_t>)(GX.numel(), scalar_t(alpha), self.grad.ptr<scalar_t>(),
                                                    GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

namespace {
// A converting copy of a floating tensor on its own device.
Tensor converted(const Tensor& x, DType dtype) {
  if (x.device() == Device::CPU) return x.to(dtype);
  if (x.dtype() == dtype) return clone_on_device(x);
  Tensor y = empty_on(x.device(), x.shape(), dtype);
#ifdef COMET_WITH_CUDA  // f32 <-> f64, the dtypes differing
  if (dtype == DType::F64) cuda::cast<float, double>(x.numel(), x.ptr<float>(), y.ptr<double>());
  else cuda::cast<double, float>(x.numel(), x.ptr<double>(), y.ptr<float>());
#endif
  return y;
}
}  // namespace

Var cast(const Var& x, DType dtype) {
  COMET_CHECK(dtype == DType::F32 || dtype == DType::F64, "cast: target dtype must be f32 or f64, got {}",
              dtype_name(dtype));
  return record("cast", converted(x.value(), dtype), {x}, [](Node& self) {
    accumulate_grad(*self.inputs[0], converted(self.grad, self.inputs[0]->value.dtype()));
  });
}

}  // namespace comet::ag
