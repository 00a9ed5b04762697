#!/usr/bin/env bash
# Prepares, on a machine without a GPU, what scripts/gpu_check.sh runs on a lent GPU machine (the `device` tool of
# this workplace): a CUDA build in BUILD_DIR (default build-gpu; Release, tests, tools and benchmarks on, CUDA
# architectures ARCH, default 90 for the H100 and H200; an existing build tree keeps its own settings), then
# gpu-bundle/bundle.tar.gz holding
#   build/      that build tree without its objects (the programs, stripped, ctest's files, the same relative paths);
#   lib/        the shared libraries the programs need beyond glibc, libstdc++ and CUDA's (fmt, Google Benchmark,
#               OpenMP), which a CUDA image may lack;
#   source_dir, build_dir  the absolute paths the build was made with (ctest's files and the tests name them).
# scripts/gpu_check.sh unpacks it into gpu-bundle/. Compressed because every CUDA program carries the same device code
# and static CUDA runtime: 61 MB of programs (two architectures) pack into 22 MB. The bundle (ignored by git) travels
# with the working tree (`carry: ["gpu-bundle"]`, 64 MiB at most); the script says its size.
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
stage=gpu-bundle/stage
mkdir -p "$stage/lib" "$stage/build"
tar -C "$build" --exclude=CMakeFiles --exclude='*.o' --exclude='*.a' --exclude=consumer-package -cf - . |
  tar -C "$stage/build" -xf -
pwd >"$stage/source_dir"
(cd "$build" && pwd) >"$stage/build_dir"
programs=$(find "$stage/build" -type f -perm -u+x)
# shellcheck disable=SC2086
ldd $programs 2>/dev/null | awk '$3 ~ /^\// {print $3}' | sort -u | grep -E '/lib(fmt|benchmark|gomp)[.]so' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
for f in $programs; do  # symbol tables are not needed to run them
  if head -c 4 "$f" | grep -q ELF; then strip --strip-unneeded "$f"; fi
done
tar -C "$stage" -czf gpu-bundle/bundle.tar.gz .
echo "gpu_bundle: gpu-bundle/bundle.tar.gz, $(du -sh gpu-bundle/bundle.tar.gz | cut -f1) ($(du -sh "$stage" | cut -f1)" \
  "unpacked; libraries: $(ls "$stage/lib" | tr '\n' ' '))"
rm -rf "$stage"
