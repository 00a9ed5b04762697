// Launcher of the scatter-add of rows (see scatter_rows.h; bodies and launch math in scatter_rows_kernels.h).
#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/scatter_rows.h"
#include "kernels/cuda/scatter_rows_kernels.h"

namespace comet::cuda {

template <class T>
void scatter_add_rows(int64_t m, int64_t d, const T* src, const int64_t* index, int64_t num_rows, T* out) {
  COMET_CHECK(m >= 0 && d >= 0 && num_rows >= 1, "cuda::scatter_add_rows: bad sizes m {} d {} rows {}", m, d,
              num_rows);
  const DispatchGrid grid = row_bucket_grid(m, num_rows);
  Tensor buckets = cuda_empty({grid.cells() + num_rows + 1 + m}, DType::I64);  // counts, offsets, order
  int64_t* counts = static_cast<int64_t*>(buckets.raw());
  int64_t *offsets = counts + grid.cells(), *order = offsets + num_rows + 1;
  launch(RowBucketCountKernel{m, num_rows, grid.rows_per_block, index, counts}, grid.launch(),
         "cuda::scatter_add_rows (count)");
  launch(ExclusiveScanKernel{grid.cells(), grid.blocks, counts, offsets}, Launch{1, kScanThreads},
         "cuda::scatter_add_rows (scan)");
  launch(RowBucketScatterKernel{{}, m, grid.rows_per_block, index, counts, order}, grid.launch(),
         "cuda::scatter_add_rows (scatter)");
  launch(SegmentSumKernel<T>{{}, num_rows, d, offsets, order, src, out}, elementwise_launch(num_rows * d),
         "cuda::scatter_add_rows (sum)");
}

template void scatter_add_rows<float>(int64_t, int64_t, const float*, const int64_t*, int64_t, float*);
template void scatter_add_rows<double>(int64_t, int64_t, const double*, const int64_t*, int64_t, double*);

}  // namespace comet::cuda
