// Launchers of the row reductions (see reduce.h; bodies and launch math in reduce_kernels.h).
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/sum.cuh"

namespace comet::cuda {

template <class T>
void sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* x, T* y) {
  switch (bc) {
    case Broadcast::Row:
      launch(ColumnSumKernel<T>{{}, rows, cols, alpha, x, y}, elementwise_launch(cols), "cuda::sum_to (columns)");
      return;
    case Broadcast::Col:
      launch(RowReduceKernel<RowSumOp<T>>{rows, {cols, alpha, x, y}}, row_reduce_launch(rows, cols),
             "cuda::sum_to (rows)");
      return;
    case Broadcast::Scalar: launch_sum(rows * cols, double(alpha), Elements<T>{x}, y, "cuda::sum_to (all)"); return;
    case Broadcast::Full: break;
  }
  COMET_CHECK(false, "cuda::sum_to: Broadcast::Full is a scaled copy, not a reduction");
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
