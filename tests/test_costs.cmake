# Included by ctest after the doctest-discovered tests (tests/CMakeLists.txt: TEST_INCLUDE_FILES). ctest -j starts the
# tests of the highest COST first; on a fresh clone it has no timing data (Testing/Temporary/CTestCostData.txt), so a
# long test starts where its number puts it and runs on alone at the end. The crash-resume test took 182 s of the
# 284-s ASan run (scripts/run_sanitizers.sh) that way, started 294th of 339 (2026-12-02). ctest ignores a name that
# matches no test: rename a test here too.
set(comet_long_test "tools/SIGKILL at random moments: the last checkpoint loads and the resumed run equals the uninterrupted one")
set_tests_properties("${comet_long_test}" PROPERTIES COST 1000)
