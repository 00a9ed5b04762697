// Launchers of the row reductions (see reduce.h; bodies and launch math in reduce_kernels.h).
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/sum.cuh"

namespace comet::cuda {

template <class T>
void sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* x, T* y) {
  launch_sum_to(bc, rows, cols, alpha, MatrixElements<T>{cols, x}, y, "cuda::sum_to");
}

template <class T>
void softmax(bool log_space, int64_t rows, int64_t cols, const T* x, T* y) {
  launch(RowReduceKernel<SoftmaxOp<T>>{rows, {cols, log_space, x, y}}, row_reduce_launch(rows, cols),
         "cuda::softmax");
}

template <class T>
void softmax_backward(bool log_space, int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  launch(RowReduceKernel<SoftmaxBackwardOp<T>>{rows, {cols, log_space, y, gy, gx}}, row_reduce_launch(rows, cols),
         "cuda::softmax_backward");
}

#define COMET_INSTANTIATE_CUDA_REDUCE(T)                                                    \
  template void sum_to<T>(Broadcast, int64_t, int64_t, T, const T*, T*);                    \
  template void softmax<T>(bool, int64_t, int64_t, const T*, T*);                           \
  template void softmax_backward<T>(bool, int64_t, int64_t, const T*, const T*, T*);
COMET_INSTANTIATE_CUDA_REDUCE(float)
COMET_INSTANTIATE_CUDA_REDUCE(double)

}  // namespace comet::cuda
