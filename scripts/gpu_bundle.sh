#!/usr/bin/env bash
# Prepares, on a machine without a GPU, what scripts/gpu_check.sh runs on a lent GPU machine (the `device` tool of
# this workplace): a CUDA build in BUILD_DIR (default build-gpu; Release, tests, tools and benchmarks on, CUDA
# architectures ARCH, default 90 for the H100 and H200; an existing build tree keeps its own settings), then
# gpu-bundle/ with
#   build/      that build tree without its objects (the programs, ctest's files, the same relative paths);
#   lib/        the shared libraries the programs need beyond glibc, libstdc++ and CUDA's (fmt, Google Benchmark,
#               OpenMP), which a CUDA image may lack;
#   source_dir, build_dir  the absolute paths the build was made with (ctest's files and the tests name them).
# The bundle (ignored by git) travels with the working tree (`carry: ["gpu-bundle"]`, 64 MiB at most); the script
# says its size.
# Run from the repository root: scripts/gpu_bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build-gpu}"
if [ -f "$build/CMakeCache.txt" ]; then
  cmake "$build" >/dev/null
else
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCOMET_CUDA=ON -DCOMET_CUDA_ARCHITECTURES="${ARCH:-90}" \
    -DCOMET_BUILD_TESTS=ON -DCOMET_BUILD_BENCH=ON -DCOMET_BUILD_TOOLS=ON >/dev/null
fi
grep -q '^COMET_CUDA_ARCHITECTURES:STRING=.*90' "$build/CMakeCache.txt" ||
  echo "gpu_bundle: warning: $build is not built for architecture 90 (H100/H200):" \
    "$(grep '^COMET_CUDA_ARCH' "$build/CMakeCache.txt")"
cmake --build "$build" -j"$(nproc)"
rm -rf gpu-bundle
mkdir -p gpu-bundle/lib
mkdir gpu-bundle/build
tar -C "$build" --exclude=CMakeFiles --exclude='*.o' --exclude='*.a' -cf - . | tar -C gpu-bundle/build -xf -
pwd >gpu-bundle/source_dir
(cd "$build" && pwd) >gpu-bundle/build_dir
programs=$(find gpu-bundle/build -type f -perm -u+x)
# shellcheck disable=SC2086
ldd $programs 2>/dev/null | awk '$3 ~ /^\// {print $3}' | sort -u | grep -E '/lib(fmt|benchmark|gomp)[.]so' |
  while read -r lib; do cp -L "$lib" gpu-bundle/lib/; done
echo "gpu_bundle: $(du -sh gpu-bundle | cut -f1) in gpu-bundle/ (libraries: $(ls gpu-bundle/lib | tr '\n' ' '))"
