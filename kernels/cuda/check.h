// Error checks for CUDA runtime and cuBLAS calls inside comet_cuda: a failed call throws comet::Error with
// the caller's message followed by the CUDA error string. Internal to kernels/cuda/ (includes CUDA headers).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/error.h"
#include "kernels/cuda/cublas_loader.h"

// COMET_CUDA_CHECK(call, "fmt", args...): throws "<message>: <CUDA error>" unless call returns cudaSuccess.
#define COMET_CUDA_CHECK(CALL, ...)                                                               \
  do {                                                                                            \
    const cudaError_t comet_err_ = (CALL);                                                        \
    COMET_CHECK(comet_err_ == cudaSuccess, "{}: {}", ::fmt::format(__VA_ARGS__),                  \
                cudaGetErrorString(comet_err_));                                                  \
  } while (0)

// COMET_CUBLAS_CHECK(call, "fmt", args...): the same for cuBLAS status codes.
#define COMET_CUBLAS_CHECK(CALL, ...)                                                             \
  do {                                                                                            \
    const cublasStatus_t comet_st_ = (CALL);                                                      \
    COMET_CHECK(comet_st_ == CUBLAS_STATUS_SUCCESS, "{}: {}", ::fmt::format(__VA_ARGS__),         \
                ::comet::cuda::cublas_api().status_string(comet_st_));                            \
  } while (0)
