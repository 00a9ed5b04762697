#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains on the bundled synthetic data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
./build/tools/comet_train "$@"
