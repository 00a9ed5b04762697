#!/usr/bin/env bash
# Installs the Debian packages the build needs, only those that are missing (we are root on these machines;
# otherwise run it with sudo). Python packages are for interop tests and baselines only and are optional.
set -euo pipefail
packages=(cmake g++ make libeigen3-dev libfmt-dev nlohmann-json3-dev libcli11-dev doctest-dev libbenchmark-dev
          zlib1g-dev dataset-fashion-mnist python3-numpy python3-matplotlib python3-sklearn
          clang libclang-rt-14-dev libomp-14-dev
          python3-optuna python3-psycopg2 postgresql)  # tools/tune.py; its tests start a PostgreSQL server
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Optional: the safetensors reader for the interop test (skipped with a message when unavailable).
if ! /usr/bin/python3 -c "import safetensors" 2>/dev/null; then
  /usr/bin/python3 -m pip install --quiet --break-system-packages safetensors >/dev/null 2>&1 ||
    echo "install_deps: safetensors (Python) not installed; its interop test will be skipped"
fi
