#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (issue 7): builds build-asan/ (GCC, -O1
# -g1 for line tables in the reports, -fsanitize=address,undefined, every UB check fatal; CUDA and benchmarks off)
# and runs every ctest test in it except two groups that run in the plain build only: the downstream-consumer builds
# (they compile other projects against the libraries: build-system tests) and the tests of the Python tuning tools
# (label "tuning": they test Python code, which no sanitizer sees, by running comet_train dozens of times;
# comet_train itself runs under the sanitizers in the CLI tests). Any sanitizer report fails the test that caused
# it: ASan and UBSan abort, LeakSanitizer exits with status 86, and tests/tools/run_cli.cmake fails a command-line
# test whose output holds a report.
#   scripts/run_sanitizers.sh [ctest arguments...]      e.g. scripts/run_sanitizers.sh -R gates
# Environment: JOBS (build jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${SANITIZER_BUILD_DIR:-build-asan}"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCOMET_BUILD_BENCH=OFF -DCOMET_CUDA=OFF >/dev/null
fi
cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }
asan_defaults="detect_leaks=1:abort_on_error=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-$asan_defaults}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ctest --test-dir "$BUILD" -j"$(nproc)" -LE "consumer|tuning" --output-on-failure "$@"
