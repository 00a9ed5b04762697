# comet_add_library(NAME DIR DEPS...): a static library from every .cpp (and .cu, for the CUDA backend) in DIR
# (recursively), exported as comet::<short name>, with the repository root as include root (headers are
# included as "core/tensor.h"); DIR's headers are installed under include/comet/DIR.
# The engine's own compile flags (C++ only). -fno-math-errno: nothing reads errno, and setting it keeps sqrt/exp
# loops from vectorising. -fno-trapping-math: nothing reads floating-point exception flags, and without it GCC will
# not turn a select over a comparison (the smooth-step's band tests) into a blend, so such loops stay scalar.
# Neither changes a computed value.
set(COMET_CXX_FLAGS -Wall -Wextra -fno-math-errno -fno-trapping-math)

function(comet_add_library name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp ${PROJECT_SOURCE_DIR}/${dir}/*.cu)
  add_library(${name} STATIC ${sources})
  string(REPLACE "comet_" "" short ${name})
  add_library(comet::${short} ALIAS ${name})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${short})
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                            $<INSTALL_INTERFACE:include/comet>)
  target_link_libraries(${name} PUBLIC ${ARGN})
  target_compile_options(${name} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${COMET_CXX_FLAGS}>")
  if(COMET_NATIVE)
    target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  endif()
  install(TARGETS ${name} EXPORT comet-targets ARCHIVE DESTINATION lib)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION include/comet/${dir}
          FILES_MATCHING PATTERN "*.h")
endfunction()

# Translation units of one ISA path (kernels/cpu/isa.h), named by suffix: *_avx2.cpp is compiled for AVX2 + FMA
# and never AVX-512, *_avx512.cpp for AVX-512 F + VL with FMA, *_scalar.cpp without AVX; these options follow the
# target's own, so they hold under COMET_NATIVE's -march=native too (a -march=native AVX-512 instruction must not
# leak into the AVX2 path, which then runs on CPUs without it). comet_isa_sources(<list variable>) sets them on
# the files of the list and, on a non-x86 target, removes the x86 files from it (COMET_X86 says which).
# -ffp-contract=off on all of them: a compiler must not fuse a * b + c into an FMA where the code does not ask for
# one, so the auto-vectorised loops (kernels/cpu/vector_loops_body.h) round alike on every path (GCC's ISO mode
# does so already; Clang fuses by default). -mprefer-vector-width=512: those loops use the full zmm width (some
# -mtune settings prefer 256-bit vectors).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$")
  set(COMET_X86 ON)
else()
  set(COMET_X86 OFF)
endif()

function(comet_isa_sources sources_var)
  set(sources ${${sources_var}})
  if(NOT COMET_X86)
    list(FILTER sources EXCLUDE REGEX "_avx(2|512)\\.cpp$")
    set(${sources_var} ${sources} PARENT_SCOPE)
    return()
  endif()
  foreach(src ${sources})
    if(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mno-avx512f;-ffp-contract=off")
    elseif(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512vl;-mfma;-mprefer-vector-width=512;-ffp-contract=off")
    elseif(src MATCHES "_scalar\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mno-avx;-ffp-contract=off")
    endif()
  endforeach()
endfunction()
