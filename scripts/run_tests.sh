#!/usr/bin/env bash
# Installs what is missing, builds everything, runs the fuzz targets briefly and every test through ctest, then the
# whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (scripts/run_sanitizers.sh; SANITIZERS=0 skips
# that step, e.g. for a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
# The libFuzzer targets of every parser of outside bytes (fuzz/, clang + ASan + UBSan), a short fixed run each.
scripts/run_fuzz.sh
# ctest runs tests side by side and each uses every core: threads that sleep while waiting (instead of spinning)
# keep oversubscribed OpenMP teams from stalling each other. Results do not depend on it.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ctest --test-dir build -j"$(nproc)" --output-on-failure
if [[ "${SANITIZERS:-1}" != 0 ]]; then
  echo "== the whole suite under ASan + UBSan (build-asan/)"
  scripts/run_sanitizers.sh
fi
