// Tests of the cuBLAS loader (kernels/cuda/cublas_loader.h), compiled only with COMET_WITH_CUDA; none needs a device.
// Each test case runs in a process of its own (ctest), so "not loaded yet" is the state a fresh process starts in.
#ifdef COMET_WITH_CUDA
#include <fstream>
#include <string>

#include "kernels/cuda/cublas_loader.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace comet {
namespace {

bool mapped(const std::string& library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(library) != std::string::npos) return true;
  return false;
}

TEST_CASE("a process that never asks for cuBLAS does not load it (nor the CUDA runtime's shared library)") {
  GemmArgs<float> g;  // some CPU work through the kernels this test program links
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {};
  g.m = g.n = g.k = 2, g.a = a, g.b = b, g.c = c, g.lda = g.ldb = g.ldc = 2;
  cpu::gemm(g);
  CHECK(c[3] == 4.0f);
  CHECK_FALSE(cuda::cublas_loaded());
  CHECK_FALSE(mapped("libcublas"));
  CHECK_FALSE(mapped("libcudart"));
}

TEST_CASE("cuBLAS loads on first use and resolves every function the backend calls") {
  try {
    cuda::load_cublas(cuda::cublas_library_name());
  } catch (const Error& e) {
    COMET_SKIP_TEST(std::string("the toolkit's cuBLAS is not on the loader's path: ") + e.what());
  }
  const cuda::CublasApi& api = cuda::cublas_api();
  CHECK(cuda::cublas_loaded());
  CHECK(mapped(cuda::cublas_library_name()));
  CHECK(bool(api.create));
  CHECK(bool(api.sgemm));
  CHECK(bool(api.dgemm));
  CHECK(bool(api.sgemm_strided_batched));
  CHECK(bool(api.dgemm_strided_batched));
  REQUIRE(bool(api.status_string));
  const std::string success = api.status_string(CUBLAS_STATUS_SUCCESS);  // callable without a device
  CHECK(success == "success");
  CHECK(std::string(api.status_string(CUBLAS_STATUS_NOT_INITIALIZED)) != success);
  CHECK(&cuda::cublas_api() == &api);  // loaded once
}

TEST_CASE("cuBLAS loader errors name the library and what is missing") {
  CHECK_THROWS_WITH(cuda::load_cublas("libcublas-that-does-not-exist.so.0"),
                    doctest::Contains("cannot load libcublas-that-does-not-exist.so.0"));
  CHECK_THROWS_WITH(cuda::load_cublas("libcublas-that-does-not-exist.so.0"), doctest::Contains("LD_LIBRARY_PATH"));
  // A library that loads but is not cuBLAS: the first function looked up is named.
  CHECK_THROWS_WITH(cuda::load_cublas("libm.so.6"), doctest::Contains("libm.so.6 has no function cublasCreate_v2"));
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
