// Launchers of the loss kernels (see loss.h; bodies in loss_kernels.h, the sums' launch math in reduce_kernels.h).
#include "kernels/cuda/loss.h"
#include "kernels/cuda/loss_kernels.h"
#include "kernels/cuda/sum.cuh"

namespace comet::cuda {

template <class T>
void squared_error(int64_t n, T alpha, const T* pred, const T* target, const T* mask, T* out) {
  launch_sum(n, double(alpha), SquaredError<T>{pred, target, mask}, out, "cuda::squared_error");
}

template <class T>
void squared_error_backward(int64_t n, T scale, const T* pred, const T* target, const T* mask, T* gp, T* gt) {
  launch(LossBackwardKernel<T, SquaredError<T>>{{}, n, scale, {pred, target, mask}, gp, gt}, elementwise_launch(n),
         "cuda::squared_error_backward");
}

template <class T>
int64_t count_observed(int64_t n, const T* mask) {
  Tensor count = cuda_empty({1}, DType::F64);
  launch_sum(n, 1.0, ObservedTerms<T>{mask}, static_cast<double*>(count.raw()), "cuda::count_observed");
  return static_cast<int64_t>(to_device(count, Device::CPU).item());
}

template <class T>
void bce_with_logits(int64_t n, T alpha, const T* x, const T* t, T* out) {
  launch_sum(n, double(alpha), BceWithLogits<T>{x, t}, out, "cuda::bce_with_logits");
}

template <class T>
void bce_with_logits_backward(int64_t n, T scale, const T* x, const T* t, T* gx, T* gt) {
  launch(LossBackwardKernel<T, BceWithLogits<T>>{{}, n, scale, {x, t}, gx, gt}, elementwise_launch(n),
         "cuda::bce_with_logits_backward");
}

template <class T>
void cross_entropy(int64_t rows, int64_t cols, T alpha, const T* x, const int64_t* labels, T* out) {
  Tensor row_loss = cuda_empty({rows}, DType::F64);
  double* losses = static_cast<double*>(row_loss.raw());
  launch(RowReduceKernel<CrossEntropyOp<T>>{rows, {{cols, false, x, nullptr}, labels, losses, T(0), nullptr}},
         row_reduce_launch(rows, cols), "cuda::cross_entropy (rows)");
  launch_sum(rows, double(alpha), Elements<double>{losses}, out, "cuda::cross_entropy (sum)");
}

template <class T>
void cross_entropy_backward(int64_t rows, int64_t cols, T scale, const T* x, const int64_t* labels, T* gx) {
  launch(RowReduceKernel<CrossEntropyOp<T>>{rows, {{cols, false, x, nullptr}, labels, nullptr, scale, gx}},
         row_reduce_launch(rows, cols), "cuda::cross_entropy_backward");
}

#define COMET_INSTANTIATE_CUDA_LOSS(T)                                                                     \
  template void squared_error<T>(int64_t, T, const T*, const T*, const T*, T*);                            \
  template void squared_error_backward<T>(int64_t, T, const T*, const T*, const T*, T*, T*);               \
  template int64_t count_observed<T>(int64_t, const T*);                                                   \
  template void bce_with_logits<T>(int64_t, T, const T*, const T*, T*);                                    \
  template void bce_with_logits_backward<T>(int64_t, T, const T*, const T*, T*, T*);                       \
  template void cross_entropy<T>(int64_t, int64_t, T, const T*, const int64_t*, T*);                       \
  template void cross_entropy_backward<T>(int64_t, int64_t, T, const T*, const int64_t*, T*);
COMET_INSTANTIATE_CUDA_LOSS(float)
COMET_INSTANTIATE_CUDA_LOSS(double)

}  // namespace comet::cuda
