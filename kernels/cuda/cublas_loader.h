// cuBLAS, loaded on first use (dlopen) rather than at process start: libcublas and the libcublasLt it pulls in are
// ~600 MB of code whose loading and relocation cost every process ~0.4 s and ~200 MB of resident memory, so a
// CPU-only run (every test, every comet_train without --device cuda) paid for a GPU library it never called. The
// library is libcublas.so.<major> of the toolkit the build used (CUBLAS_VER_MAJOR), found on the loader's path.
// Internal to kernels/cuda/. Tests: tests/kernels/test_cuda.cpp.
#pragma once
#include <cublas_v2.h>

#include <string>

namespace comet::cuda {

// The cuBLAS functions this backend calls (cublas_v2.h names; decltype keeps the signatures exact).
struct CublasApi {
  decltype(&cublasCreate) create;
  decltype(&cublasSgemm) sgemm;
  decltype(&cublasDgemm) dgemm;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched;
  decltype(&cublasDgemmStridedBatched) dgemm_strided_batched;
  decltype(&cublasGetStatusString) status_string;
};

// The file name dlopen looks for, e.g. "libcublas.so.13".
std::string cublas_library_name();

// Loads the library on the first call (once per process, thread-safe) and returns its functions; throws
// comet::Error naming the library and the loader's message, or the missing function, when that fails (the error
// is kept and thrown again on later calls).
const CublasApi& cublas_api();

// What cublas_api does once, from the library `file` (a name for dlopen or a path): its functions, or comet::Error
// naming the file and the loader's message, or the function it lacks. For tests of those errors.
CublasApi load_cublas(const std::string& file);

// Whether this process has loaded cuBLAS (its API was asked for and the load succeeded).
bool cublas_loaded();

}  // namespace comet::cuda
