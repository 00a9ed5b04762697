#!/usr/bin/env bash
# Configures and builds everything (Release) into ./build. Extra arguments go to cmake's configure step. The default
# build is portable (COMET_NATIVE=OFF: no -march=native; the kernels pick their ISA path at run time);
# -DCOMET_NATIVE=ON compiles the rest of the engine for this machine's CPU as well.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
