// See cublas_loader.h.
#include "kernels/cuda/cublas_loader.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>

#include "core/error.h"

namespace comet::cuda {
namespace {

// The exported name of a cuBLAS function: the cublas_v2.h macro's expansion (cublasSgemm -> "cublasSgemm_v2").
#define COMET_CUBLAS_NAME_(NAME) #NAME
#define COMET_CUBLAS_NAME(NAME) COMET_CUBLAS_NAME_(NAME)

std::atomic<bool> loaded{false};

template <class F>
void resolve(void* library, const std::string& file, const char* name, F& out) {
  dlerror();
  out = reinterpret_cast<F>(dlsym(library, name));
  if (out == nullptr) {
    const char* why = dlerror();
    throw Error(fmt::format("cuBLAS: {} has no function {} ({})", file, name, why ? why : "the symbol is null"));
  }
}

}  // namespace

CublasApi load_cublas(const std::string& file) {
  // RTLD_LOCAL: cuBLAS's symbols stay out of the global namespace; the library is never closed (the handles live
  // until exit).
  void* library = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    throw Error(fmt::format("cuBLAS: cannot load {} ({}); put the CUDA toolkit's library folder on LD_LIBRARY_PATH",
                            file, why ? why : "unknown reason"));
  }
  CublasApi api{};
  resolve(library, file, COMET_CUBLAS_NAME(cublasCreate), api.create);
  resolve(library, file, COMET_CUBLAS_NAME(cublasSgemm), api.sgemm);
  resolve(library, file, COMET_CUBLAS_NAME(cublasDgemm), api.dgemm);
  resolve(library, file, COMET_CUBLAS_NAME(cublasSgemmStridedBatched), api.sgemm_strided_batched);
  resolve(library, file, COMET_CUBLAS_NAME(cublasDgemmStridedBatched), api.dgemm_strided_batched);
  resolve(library, file, COMET_CUBLAS_NAME(cublasGetStatusString), api.status_string);
  return api;
}

std::string cublas_library_name() { return "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR); }

const CublasApi& cublas_api() {
  static std::mutex mu;
  static CublasApi api{};
  static std::string error;
  if (loaded.load(std::memory_order_acquire)) return api;  // every GEMM call: no lock once loaded
  std::lock_guard<std::mutex> lock(mu);
  if (!loaded && error.empty()) {
    try {
      api = load_cublas(cublas_library_name());
      loaded.store(true, std::memory_order_release);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  COMET_CHECK(error.empty(), "{}", error);
  return api;
}

bool cublas_loaded() { return loaded; }

}  // namespace comet::cuda
