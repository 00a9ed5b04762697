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
