# Downstream-consumer tests (included by tests/CMakeLists.txt): build tests/consumer against this project
#   consumer/find_package     - installed into <build>/consumer-package/prefix, then find_package(comet)
#   consumer/add_subdirectory - the source tree added with add_subdirectory (tests, bench, tools, CUDA off)
# and run it. Each runs tests/consumer/run_consumer.cmake; the package test needs the project built first.
set(comet_consumer_cuda_root "")
if(COMET_WITH_CUDA AND CUDAToolkit_BIN_DIR)
  get_filename_component(comet_consumer_cuda_root ${CUDAToolkit_BIN_DIR} DIRECTORY)
endif()
foreach(mode package subdirectory)
  set(name find_package)
  if(mode STREQUAL "subdirectory")
    set(name add_subdirectory)
  endif()
  add_test(NAME consumer/${name}
           COMMAND ${CMAKE_COMMAND} -DMODE=${mode} -DCONSUMER_DIR=${CMAKE_CURRENT_LIST_DIR}
                   -DCOMET_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DCOMET_BUILD_DIR=${PROJECT_BINARY_DIR}
                   -DWORK_DIR=${PROJECT_BINARY_DIR}/consumer-${mode} -DCONFIG=$<CONFIG>
                   -DGENERATOR=${CMAKE_GENERATOR} -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
                   -DCUDA_ROOT=${comet_consumer_cuda_root} -P ${CMAKE_CURRENT_LIST_DIR}/run_consumer.cmake)
  set_tests_properties(consumer/${name} PROPERTIES TIMEOUT 1800 PROCESSORS 2 LABELS consumer)
endforeach()
