// The scatter-add of rows on the device (kernels/cuda/scatter_rows_kernels.h), the embedding's backward, against
// the CPU, exactly:
// - the buckets (count, scan, scatter) equal bucket_rows (offsets and the stable source order) for empty and odd
//   index lengths, repeated ids, table rows no id names, any ids per block (lengths not a multiple of it), block
//   sizes below and above the row count, scan blocks of 1, 3 and 256 threads;
// - the scatter-add equals cpu::scatter_add_rows bit for bit (the same sums in the same order), and the embedding
//   forward (gather_rows of the table by the ids, more ids than table rows) equals cpu::gather_rows;
// - the segmented sum over contiguous rows (order null, the grouped GEMM's bias gradient) is tested there.
// Host runs emulate every block and thread in both thread orders; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/dispatch.h"
#include "kernels/cuda/scatter_rows.h"
#include "kernels/cuda/scatter_rows_kernels.h"
#include "kernels/index.h"

namespace comet {
namespace {

using cuda::Launch;
using test::ptr;
using test::Target;

const std::vector<int64_t> kLengths = {0, 1, 5, 255, 256, 257, 1000};
const std::vector<int64_t> kTableRows = {1, 3, 50, 1000};

// m ids in [0, num_rows), every third row never named when there are at least 3 (rows without gradient), so
// that ids repeat.
std::vector<int64_t> random_ids(int64_t m, int64_t num_rows, Generator& gen) {
  Tensor t = Tensor::empty({m}, DType::I64);
  gen.randint(t, 0, num_rows);
  std::vector<int64_t> ids = t.to_vector<int64_t>();
  for (int64_t& id : ids)
    if (num_rows >= 3 && id % 3 == 2) --id;
  return ids;
}

// How a host run cuts the work: ids per block, threads of the count and scatter blocks, of the scan block.
struct HostShape {
  int64_t ids_per_block, threads, scan_threads;
};

// The buckets of `ids` built by the three kernels emulated on the host.
RowBuckets host_buckets(const std::vector<int64_t>& ids, int64_t num_rows, const HostShape& hs, cuda::Order order) {
  const int64_t m = static_cast<int64_t>(ids.size());
  cuda::DispatchGrid grid = cuda::row_bucket_grid(m, num_rows, hs.ids_per_block);
  grid.threads = hs.threads;
  std::vector<int64_t> counts(grid.cells(), -7);
  RowBuckets b{std::vector<int64_t>(num_rows + 1, -7), std::vector<int64_t>(m, -7)};
  cuda::emulate(cuda::RowBucketCountKernel{m, num_rows, grid.rows_per_block, ids.data(), counts.data()},
                grid.launch(), order);
  cuda::emulate(cuda::ExclusiveScanKernel{grid.cells(), grid.blocks, counts.data(), b.offsets.data()},
                Launch{1, hs.scan_threads}, order);
  cuda::emulate(cuda::RowBucketScatterKernel{{}, m, grid.rows_per_block, ids.data(), counts.data(), b.order.data()},
                grid.launch(), order);
  return b;
}

TEST_CASE("CUDA row buckets, emulated on the host over every thread, equal bucket_rows") {
  Generator gen(53);
  for (const int64_t m : kLengths) {
    for (const int64_t num_rows : kTableRows) {
      const std::vector<int64_t> ids = random_ids(m, num_rows, gen);
      const RowBuckets want = bucket_rows(m, ids.data(), num_rows);
      for (const int64_t per_block : {int64_t{1}, int64_t{7}, cuda::kScatterIdsPerBlock}) {
        const int64_t own_threads = cuda::row_bucket_grid(m, num_rows, per_block).threads;
        for (const HostShape hs : {HostShape{per_block, 1, 1}, HostShape{per_block, 5, 3},
                                   HostShape{per_block, own_threads, cuda::kScanThreads}}) {
          CAPTURE(m);
          CAPTURE(num_rows);
          CAPTURE(hs.ids_per_block);
          CAPTURE(hs.threads);
          CAPTURE(hs.scan_threads);
          test::for_each_order([&](cuda::Order order) {
            const RowBuckets got = host_buckets(ids, num_rows, hs, order);
            CHECK(got.offsets == want.offsets);
            CHECK(got.order == want.order);
          });
        }
      }
    }
  }
}

// {embedding rows = table[ids], table gradient = scatter-add of gy by ids} on `at`.
template <class T>
std::vector<Tensor> embedding_on(const Target& at, const Launch* launch, const Tensor& table,
                                 const std::vector<int64_t>& ids, const Tensor& gy) {
  const int64_t m = static_cast<int64_t>(ids.size()), num_rows = table.dim(0), d = table.dim(1);
  const Tensor tab = at.put(table), g = at.put(gy), index = at.put(Tensor::from_vector({m}, ids));
  Tensor rows = at.put(Tensor::zeros({m, d}, table.dtype())), gt = at.put(Tensor::zeros(table.shape(), table.dtype()));
  if (at.device) {
    cuda::gather_rows(m, d, ptr<T>(tab), ptr<int64_t>(index), ptr<T>(rows));
    cuda::scatter_add_rows(m, d, ptr<T>(g), ptr<int64_t>(index), num_rows, ptr<T>(gt));
  } else {
    test::emulate_on(at, cuda::GatherRowsKernel<T>{{}, m, d, ptr<T>(tab), ptr<int64_t>(index), ptr<T>(rows)}, launch,
                     cuda::elementwise_launch(m * d));
    const RowBuckets b = host_buckets(ids, num_rows, {cuda::kScatterIdsPerBlock, 32, cuda::kScanThreads}, at.order);
    test::emulate_on(
        at, cuda::SegmentSumKernel<T>{{}, num_rows, d, b.offsets.data(), b.order.data(), ptr<T>(g), ptr<T>(gt)},
        launch, cuda::elementwise_launch(num_rows * d));
  }
  return {at.get(rows), at.get(gt)};
}

template <class T>
void check_embedding(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t m : {int64_t{0}, int64_t{1}, int64_t{257}, int64_t{1000}}) {
    for (const int64_t num_rows : {int64_t{1}, int64_t{3}, int64_t{50}}) {
      for (const int64_t d : {int64_t{1}, int64_t{5}}) {
        CAPTURE(m);
        CAPTURE(num_rows);
        CAPTURE(d);
        const std::vector<int64_t> ids = random_ids(m, num_rows, gen);
        const Tensor table = test::random_tensor({num_rows, d}, gen, -1, 1, dtype_of<T>());
        const Tensor gy = test::random_tensor({m, d}, gen, -1, 1, dtype_of<T>());
        Tensor rows = Tensor::zeros({m, d}, table.dtype()), gt = Tensor::zeros(table.shape(), table.dtype());
        cpu::gather_rows(m, d, table.data<T>(), ids.data(), rows.data<T>());
        cpu::scatter_add_rows(m, d, gy.data<T>(), ids.data(), num_rows, gt.data<T>());
        const std::vector<Tensor> got = embedding_on<T>(at, launch, table, ids, gy);
        COMET_CHECK_EXACT(got[0], rows);
        COMET_CHECK_EXACT(got[1], gt);
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA embedding forward and backward, emulated on the host over every thread, equal the CPU", T,
                   float, double) {
  Generator gen(59);
  test::for_each_host_run({nullptr, &test::kSmallLaunch},
                          [&](const Target& at, const Launch* launch) { check_embedding<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA embedding forward and backward on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(59);
  check_embedding<T>(test::kDevice, nullptr, gen);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
