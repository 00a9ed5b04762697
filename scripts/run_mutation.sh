#!/usr/bin/env bash
# Mutation check (issue 7): builds the tests with the deliberate defects of core/mutation.h compiled in (build-mutation/,
# -DCOMET_MUTATION=ON), runs every test executable once per mutant (COMET_MUTANT=<name>) and once without, and writes
# which test files notice which mutant: the kill rate per test file and the mutants no test notices.
#   scripts/run_mutation.sh [MUTANT...]        default: every mutant in core/mutation.h
# Output: mutation-report/report.md (and report.csv, the raw doctest XML per run). Exits non-zero when the build
# fails or when the suite fails without a mutant (the check means nothing then). Not part of .ci/run (about 10 minutes
# on 2 cores); see README "Tests".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${MUTATION_BUILD_DIR:-build-mutation}"
OUT="${MUTATION_OUT:-mutation-report}"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCOMET_MUTATION=ON -DCOMET_CUDA=OFF -DCOMET_BUILD_BENCH=OFF \
    -DCOMET_BUILD_TOOLS=OFF >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
mutants=("$@")
if [[ ${#mutants[@]} -eq 0 ]]; then
  # The registry: one `X(name, "description")` per line of COMET_MUTANTS.
  mapfile -t mutants < <(sed -n 's/^ *X(\([a-z0-9_]*\),.*/\1/p' core/mutation.h)
fi
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec python3 scripts/mutation_report.py --build "$BUILD" --out "$OUT" --registry core/mutation.h "${mutants[@]}"
