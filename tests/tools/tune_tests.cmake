# Tests of the tuning tools (tools/tune.py, tools/tune_space.py, tools/tune_report.py), one ctest test per case of
# tests/tools/test_tune.py, each with the comet_train just built. Under Debian's /usr/bin/python3, which has
# python3-optuna (scripts/install_deps.sh); a case prints "skipped: <reason>" and exits 0 where optuna, PostgreSQL or
# matplotlib is missing, and ctest counts it as skipped.
find_program(COMET_TUNE_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT COMET_TUNE_PYTHON)
  find_program(COMET_TUNE_PYTHON NAMES python3)
endif()
if(NOT COMET_TUNE_PYTHON)
  return()
endif()
foreach(case space_errors space_variants_run seeded_sampling search_override failed_trials two_workers_sqlite two_workers_postgresql killed_worker
             heartbeat_clock report_top5 budget_curve)
  add_test(NAME tools/tune_${case}
           COMMAND ${COMET_TUNE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_tune.py ${case} $<TARGET_FILE:comet_train>)
  set_tests_properties(tools/tune_${case} PROPERTIES SKIP_REGULAR_EXPRESSION "skipped: " TIMEOUT 300
                       LABELS tuning)
endforeach()
