#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
# ctest runs tests side by side and each uses every core: threads that sleep while waiting (instead of spinning)
# keep oversubscribed OpenMP teams from stalling each other. Results do not depend on it.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ctest --test-dir build -j"$(nproc)" --output-on-failure
