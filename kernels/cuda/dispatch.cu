// Launchers of the dispatch kernels (see dispatch.h; bodies and launch math in dispatch_kernels.h).
#include "kernels/cuda/device.h"
#include "kernels/cuda/dispatch.h"
#include "kernels/cuda/dispatch_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace comet::cuda {
namespace {

int64_t read_back(const int64_t* device_value) {
  int64_t v = 0;
  copy_to_host(&v, device_value, sizeof v, "cuda::plan_dispatch: read back");
  return v;
}

int64_t* i64(Tensor& t) { return static_cast<int64_t*>(t.raw()); }

}  // namespace

template <class T>
DeviceDispatchPlan plan_dispatch(int64_t batch, int64_t experts, const T* g) {
  COMET_CHECK(batch >= 0 && experts >= 1, "cuda::plan_dispatch: bad sizes batch {} experts {}", batch, experts);
  const DispatchGrid grid = dispatch_grid(batch, experts);
  Tensor counts = cuda_empty({grid.cells() + 1}, DType::I64);  // the last entry: the NaN flag
  int64_t* nan_seen = i64(counts) + grid.cells();
  set_zero(nan_seen, sizeof(int64_t), "cuda::plan_dispatch: clearing the NaN flag");
  launch(DispatchCountKernel<T>{{}, batch, experts, grid.rows_per_block, g, i64(counts), nan_seen}, grid.launch(),
         "cuda::plan_dispatch (count)");

  DeviceDispatchPlan plan;
  plan.batch = batch;
  plan.experts = experts;
  plan.offsets = cuda_empty({experts + 1}, DType::I64);
  launch(ExclusiveScanKernel{grid.cells(), grid.blocks, i64(counts), i64(plan.offsets)}, Launch{1, kScanThreads},
         "cuda::plan_dispatch (scan)");
  COMET_CHECK(read_back(nan_seen) == 0, "cuda::plan_dispatch: a gate weight is NaN");
  plan.pairs = read_back(i64(plan.offsets) + experts);

  plan.sample = cuda_empty({plan.pairs}, DType::I64);
  plan.flat = cuda_empty({plan.pairs}, DType::I64);
  plan.pair_of = cuda_empty({batch, experts}, DType::I64);
  launch(DispatchScatterKernel<T>{{}, batch, experts, grid.rows_per_block, g, i64(counts), i64(plan.sample),
                                  i64(plan.flat), i64(plan.pair_of)},
         grid.launch(), "cuda::plan_dispatch (scatter)");
  return plan;
}

template <class T>
void gather_rows(int64_t m, int64_t d, const T* x, const int64_t* index, T* out) {
  launch(GatherRowsKernel<T>{{}, m, d, x, index, out}, elementwise_launch(m * d), "cuda::gather_rows");
}

template <class T>
void combine_rows(int64_t batch, int64_t experts, int64_t d, const int64_t* pair_of, const T* g, const T* ys, T* y) {
  launch(CombineKernel<T>{{}, batch, experts, d, pair_of, g, ys, y}, elementwise_launch(batch * d),
         "cuda::combine_rows");
}

template <class T>
void combine_rows_backward(int64_t batch, int64_t experts, int64_t d, int64_t pairs, const int64_t* sample,
                           const int64_t* flat, const int64_t* pair_of, const T* g, const T* ys, const T* gy, T* gys,
                           T* gg) {
  if (gys) {
    launch(GatherRowsKernel<T>{{}, pairs, d, gy, sample, gys, g, flat}, elementwise_launch(pairs * d),
           "cuda::combine_rows_backward (rows)");
  }
  if (gg) {
    launch(CombineGateGradKernel<T>{{}, batch, experts, d, pair_of, ys, gy, gg}, elementwise_launch(batch * experts),
           "cuda::combine_rows_backward (gate)");
  }
}

#define COMET_INSTANTIATE_CUDA_DISPATCH(T)                                                               \
  template DeviceDispatchPlan plan_dispatch<T>(int64_t, int64_t, const T*);                              \
  template void gather_rows<T>(int64_t, int64_t, const T*, const int64_t*, T*);                          \
  template void combine_rows<T>(int64_t, int64_t, int64_t, const int64_t*, const T*, const T*, T*);     \
  template void combine_rows_backward<T>(int64_t, int64_t, int64_t, int64_t, const int64_t*, const int64_t*, \
                                         const int64_t*, const T*, const T*, const T*, T*, T*);
COMET_INSTANTIATE_CUDA_DISPATCH(float)
COMET_INSTANTIATE_CUDA_DISPATCH(double)

}  // namespace comet::cuda
