// Tests of the CUDA backend's device memory and cuBLAS GEMM (kernels/cuda/), compiled only with COMET_WITH_CUDA (the
// custom kernels: tests/kernels/test_cuda_*.cpp). Host tests always run: the row-major -> column-major cuBLAS argument
// mapping, single and strided-batched (bmm), is checked against ref::gemm through the host emulation of cublas<t>gemm
// (kernels/cuda/cublas_emulation.h: column-major, op codes, cuBLAS's leading-dimension rules), and the error path of
// copies without a device. Device tests (copies, cuBLAS GEMM and batched GEMM vs cpu::gemm) report "skipped: no CUDA
// device: <reason>" and return when no device is present; ctest runs them once more on the host emulation of the device
// (COMET_CUDA_EMULATE=1, tests/CMakeLists.txt). Inputs of the GEMM tests are small integers, so every product and sum
// is exact and an index or leading-dimension bug is an exact mismatch.
#ifdef COMET_WITH_CUDA
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/cublas_emulation.h"
#include "kernels/cuda/cublas_mapping.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gemm.h"
#include "kernels/gemm.h"

namespace comet {
namespace {

// A GEMM problem in row-major storage with padded leading dimensions and integer-valued entries.
template <class T>
struct GemmProblem {
  GemmArgs<T> args;
  Tensor a, b, c;  // CPU tensors holding the buffers args points into (c is the initial C)

  GemmProblem(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, T beta, Generator& gen) {
    const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    const int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    a = test::small_integers<T>({a_rows, a_cols + pad}, gen);
    b = test::small_integers<T>({b_rows, b_cols + pad}, gen);
    c = test::small_integers<T>({m, n + pad}, gen);
    args.trans_a = ta;
    args.trans_b = tb;
    args.m = m;
    args.n = n;
    args.k = k;
    args.alpha = T(2);
    args.lda = a_cols + pad;
    args.ldb = b_cols + pad;
    args.beta = beta;
    args.ldc = n + pad;
  }

  // The result of `run` on fresh copies of A, B and the initial C, on the CPU or (on_device) on the CUDA device.
  template <class Run>
  Tensor result(Run run, bool on_device = false) const {
    const Device d = on_device ? Device::CUDA : Device::CPU;
    const Tensor da = to_device(a, d), db = to_device(b, d);
    Tensor out = on_device ? to_device(c, d) : c.clone();
    GemmArgs<T> g = args;
    g.a = static_cast<const T*>(da.raw());
    g.b = static_cast<const T*>(db.raw());
    g.c = static_cast<T*>(out.raw());
    run(g);
    return to_device(out, Device::CPU);
  }
};

// Transpose flags and (m, n, k, leading-dimension padding): odd sizes, vectors, k = 0 with unpadded
// (possibly zero) leading dimensions.
const std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>> kGemmShapes = {
    {1, 1, 1, 0}, {7, 33, 5, 3}, {33, 7, 257, 1}, {1, 257, 7, 0}, {257, 1, 33, 2}, {3, 4, 0, 0}, {4, 3, 0, 5}};

template <class Check>
void for_each_gemm_case(Check check) {
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      for (const auto& [m, n, k, pad] : kGemmShapes) {
        for (const double beta : {0.0, -1.0}) {
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(m);
          CAPTURE(n);
          CAPTURE(k);
          CAPTURE(pad);
          CAPTURE(beta);
          check(ta, tb, m, n, k, pad, beta);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("cuBLAS argument mapping reproduces the row-major GEMM (CPU emulation of cuBLAS)", T, float,
                   double) {
  Generator gen(11);
  for_each_gemm_case([&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, double beta) {
    const GemmProblem<T> p(ta, tb, m, n, k, pad, static_cast<T>(beta), gen);
    const Tensor want = p.result([](const GemmArgs<T>& g) { ref::gemm(g); });
    const Tensor got = p.result([](const GemmArgs<T>& g) { cuda::cublas_gemm_emulated(cuda::to_cublas(g)); });
    COMET_CHECK_EXACT(got, want);
  });
}

// A batch of GEMM problems (each as GemmProblem's) in three buffers, matrix i of each at i * stride with a gap of 3
// elements between matrices, so that a wrong stride reads or writes the wrong elements. result() points g at the
// first matrices.
template <class T>
struct BatchedGemmProblem : GemmProblem<T> {
  static constexpr int64_t kGap = 3;
  int64_t batch, stride_a, stride_b, stride_c;

  BatchedGemmProblem(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, T beta, int64_t batch_,
                     Generator& gen)
      : GemmProblem<T>(ta, tb, m, n, k, pad, beta, gen), batch(batch_) {
    const GemmArgs<T>& g = this->args;
    stride_a = (ta ? k : m) * g.lda + kGap;
    stride_b = (tb ? n : k) * g.ldb + kGap;
    stride_c = m * g.ldc + kGap;
    this->a = test::small_integers<T>({std::max<int64_t>(1, batch * stride_a)}, gen);
    this->b = test::small_integers<T>({std::max<int64_t>(1, batch * stride_b)}, gen);
    this->c = test::small_integers<T>({std::max<int64_t>(1, batch * stride_c)}, gen);
  }
};

TEST_CASE_TEMPLATE("cuBLAS strided-batched mapping reproduces a loop of row-major GEMMs (CPU emulation)", T, float,
                   double) {
  Generator gen(13);
  for_each_gemm_case([&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, double beta) {
    for (const int64_t batch : {0, 1, 3}) {
      CAPTURE(batch);
      const BatchedGemmProblem<T> p(ta, tb, m, n, k, pad, static_cast<T>(beta), batch, gen);
      const Tensor want = p.result([&](GemmArgs<T> g) {
        for (int64_t i = 0; i < batch; ++i, g.a += p.stride_a, g.b += p.stride_b, g.c += p.stride_c) ref::gemm(g);
      });
      const Tensor got = p.result([&](const GemmArgs<T>& g) {
        cuda::CublasGemmArgs<T> c = cuda::to_cublas(g);
        const cuda::CublasStrides s = cuda::to_cublas_strides(p.stride_a, p.stride_b, p.stride_c);
        for (int64_t i = 0; i < batch; ++i, c.a += s.a, c.b += s.b, c.c += s.c) cuda::cublas_gemm_emulated(c);
      });
      COMET_CHECK_EXACT(got, want);
    }
  });
}

TEST_CASE("cuBLAS mapping swaps the operands, their transpose flags and m with n") {
  GemmArgs<float> g;
  const float a = 0, b = 0;
  float c = 0;
  g.trans_a = true;
  g.m = 2;
  g.n = 3;
  g.k = 4;
  g.a = &a;
  g.lda = 2;
  g.b = &b;
  g.ldb = 3;
  g.c = &c;
  g.ldc = 5;
  const cuda::CublasGemmArgs<float> m = cuda::to_cublas(g);
  CHECK(m.a == &b);
  CHECK(m.b == &a);
  CHECK(!m.trans_a);
  CHECK(m.trans_b);
  CHECK(m.m == 3);
  CHECK(m.n == 2);
  CHECK(m.k == 4);
  CHECK(m.lda == 3);
  CHECK(m.ldb == 2);
  CHECK(m.ldc == 5);
}

TEST_CASE("cuda status and the copy error without a device") {
  const std::string status = cuda_status();
  CHECK(!status.empty());
  CHECK(cuda_available() == (cuda_device_count() > 0));
  if (cuda_available()) return;
  MESSAGE(("no CUDA device: " + status));
  const Tensor t = Tensor::zeros({2, 3});
  try {
    to_device(t, Device::CUDA);
    FAIL("to_device succeeded without a CUDA device");
  } catch (const Error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("[2, 3]") != std::string::npos);
    CHECK(what.find(": ") != std::string::npos);
  }
}

TEST_CASE("to_device round trip CPU -> CUDA -> CPU") {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(3);
  for (const DType dtype : {DType::F32, DType::F64}) {
    for (const int64_t n : test::kOddSizes) {
      const Tensor host = test::random_tensor({n, 3}, gen, -1, 1, dtype);
      const Tensor dev = to_device(host, Device::CUDA);
      CHECK(dev.device() == Device::CUDA);
      CHECK(dev.shape() == host.shape());
      CHECK(to_device(dev, Device::CUDA).storage().get() == dev.storage().get());  // no copy
      const Tensor back = to_device(dev, Device::CPU);
      CHECK(back.device() == Device::CPU);
      COMET_CHECK_EXACT(back, host);
      // A row slice (non-zero offset) copies only its rows.
      const Tensor rows = host.slice_rows(n / 2, n);
      COMET_CHECK_EXACT(to_device(to_device(rows, Device::CUDA), Device::CPU), rows);
    }
  }
  const Tensor empty = Tensor::zeros({0, 4});
  CHECK(to_device(to_device(empty, Device::CUDA), Device::CPU).shape() == empty.shape());
}

TEST_CASE_TEMPLATE("cuBLAS GEMM matches cpu::gemm", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(5);
  for_each_gemm_case([&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, double beta) {
    const GemmProblem<T> p(ta, tb, m, n, k, pad, static_cast<T>(beta), gen);
    const Tensor want = p.result([](const GemmArgs<T>& g) { cpu::gemm(g); });
    COMET_CHECK_EXACT(p.result([](const GemmArgs<T>& g) { cuda::gemm(g); }, true), want);
  });
}

// A row bias (GemmArgs::row_bias) on the device is written into C by the expand kernel before cuBLAS adds the product
// with beta = 1: the same values as cpu::gemm's. It needs C's rows contiguous (ldc = n) and beta = 0, else an error.
TEST_CASE_TEMPLATE("cuBLAS GEMM matches cpu::gemm with a row bias", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(6);
  for_each_gemm_case([&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, double beta) {
    const GemmProblem<T> p(ta, tb, m, n, k, 0, T(0), gen);
    const Tensor bias = test::small_integers<T>({n}, gen), device_bias = to_device(bias, Device::CUDA);
    const auto with_bias = [](const Tensor& b) {
      return [&b](GemmArgs<T> g) {
        g.row_bias = static_cast<const T*>(b.raw());
        return g;
      };
    };
    const Tensor want = p.result([&](const GemmArgs<T>& g) { cpu::gemm(with_bias(bias)(g)); });
    COMET_CHECK_EXACT(p.result([&](const GemmArgs<T>& g) { cuda::gemm(with_bias(device_bias)(g)); }, true), want);
    // A beta is refused, and so are padded rows of a C that is not empty.
    if (beta == 0.0 && (pad == 0 || m * n == 0)) return;
    const GemmProblem<T> refused(ta, tb, m, n, k, pad, T(beta), gen);
    CHECK_THROWS_AS(refused.result([&](const GemmArgs<T>& g) { cuda::gemm(with_bias(device_bias)(g)); }, true),
                    Error);
  });
}

TEST_CASE("CUDA tensors come from the block cache: a released block is handed out again") {
  COMET_SKIP_WITHOUT_CUDA();
  cuda_allocator_release_cache();
  const void* first = nullptr;
  {
    const Tensor t = cuda_empty({1000});
    first = t.raw();
    CHECK(cuda_allocator_stats().in_use >= 4000);
  }
  CHECK(cuda_allocator_stats().cached >= 4000);
  const Tensor again = cuda_empty({1000});
  CHECK(again.raw() == first);
  cuda_allocator_release_cache();
}

TEST_CASE_TEMPLATE("cuBLAS strided-batched GEMM matches a loop of cpu::gemm", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(17);
  for_each_gemm_case([&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, double beta) {
    const BatchedGemmProblem<T> p(ta, tb, m, n, k, pad, static_cast<T>(beta), 3, gen);
    const Tensor want = p.result([&](GemmArgs<T> g) {
      for (int64_t i = 0; i < p.batch; ++i, g.a += p.stride_a, g.b += p.stride_b, g.c += p.stride_c) cpu::gemm(g);
    });
    const auto on_device = [&](const GemmArgs<T>& g) {
      cuda::gemm_batched(g, p.batch, p.stride_a, p.stride_b, p.stride_c);
    };
    COMET_CHECK_EXACT(p.result(on_device, true), want);
  });
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
