# Finds the engine's dependencies (Debian packages: libeigen3-dev, libomp/gcc OpenMP, libfmt-dev,
# doctest-dev, libbenchmark-dev, nlohmann-json3-dev, libcli11-dev, zlib1g-dev) and decides on CUDA.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(ZLIB REQUIRED)  # gzip-compressed IDX files (MNIST, Fashion-MNIST): data/idx.cpp

set(COMET_WITH_CUDA OFF)
if(NOT COMET_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_ARCHITECTURES ${COMET_CUDA_ARCHITECTURES})
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(COMET_WITH_CUDA ON)
  elseif(COMET_CUDA STREQUAL "ON")
    message(FATAL_ERROR "COMET_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER or PATH)")
  endif()
endif()
message(STATUS "COMET-MoE: CUDA backend ${COMET_WITH_CUDA} (COMET_CUDA=${COMET_CUDA}, architectures ${COMET_CUDA_ARCHITECTURES})")
