# Tests of tools/results_table.py (the tables of docs/results.md from run directories), one ctest test per case of
# tests/tools/test_results_table.py; any python3 (the tool uses the standard library only).
find_program(COMET_RESULTS_PYTHON NAMES python3)
if(NOT COMET_RESULTS_PYTHON)
  return()
endif()
foreach(case tables bad_input run_line)
  add_test(NAME tools/results_table_${case}
           COMMAND ${COMET_RESULTS_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_results_table.py ${case})
endforeach()
