# Runs one downstream-consumer test (cmake -P); every failing step fails the test. Variables (-D):
#   MODE          package: install COMET_BUILD_DIR into WORK_DIR/prefix, then find_package(comet) from there;
#                 subdirectory: the consumer builds COMET_SOURCE_DIR itself with add_subdirectory
#   CONSUMER_DIR  tests/consumer;  COMET_SOURCE_DIR  the repository root;  COMET_BUILD_DIR  the built project
#   WORK_DIR      scratch directory (kept between runs, so rebuilds are incremental)
#   CONFIG, GENERATOR, CXX_COMPILER, CUDA_ROOT (optional)  passed on to the consumer's configure
foreach(var MODE CONSUMER_DIR COMET_SOURCE_DIR COMET_BUILD_DIR WORK_DIR CONFIG GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

# run(<step> <command>...): runs a command, echoing its output, and fails the test if it fails.
function(run step)
  message(STATUS "consumer/${MODE}: ${step}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer/${MODE}: ${step} failed (exit status ${rc})")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(build_dir ${WORK_DIR}/build)
set(configure_args -S ${CONSUMER_DIR} -B ${build_dir} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=${CONFIG}
                   -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCOMET_CONSUMER_MODE=${MODE})
if(MODE STREQUAL "package")
  set(prefix ${WORK_DIR}/prefix)
  file(REMOVE_RECURSE ${prefix})
  run(install ${CMAKE_COMMAND} --install ${COMET_BUILD_DIR} --prefix ${prefix} --config ${CONFIG})
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${prefix})
  if(CUDA_ROOT)
    list(APPEND configure_args -DCUDAToolkit_ROOT=${CUDA_ROOT})
  endif()
elseif(MODE STREQUAL "subdirectory")
  list(APPEND configure_args -DCOMET_SOURCE_DIR=${COMET_SOURCE_DIR})
else()
  message(FATAL_ERROR "run_consumer.cmake: MODE must be package or subdirectory, got '${MODE}'")
endif()

run(configure ${CMAKE_COMMAND} ${configure_args})
run(build ${CMAKE_COMMAND} --build ${build_dir} --config ${CONFIG} --parallel 2)
set(exe ${build_dir}/comet_consumer)
if(EXISTS ${build_dir}/${CONFIG}/comet_consumer)  # multi-config generators
  set(exe ${build_dir}/${CONFIG}/comet_consumer)
endif()
run(run ${exe})
if(NOT step_output MATCHES "consumer ok")
  message(FATAL_ERROR "consumer/${MODE}: the program did not report success")
endif()
