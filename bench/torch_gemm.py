#!/usr/bin/env python3
"""PyTorch's float GEMM as the peer of bench/bench_gemm.cpp: torch.matmul of square row-major n x n matrices,
n = 256 .. 2048, at the given thread count (torch.set_num_threads, one inter-op thread). Per n: `--warmup` untimed
products, then the median of `--reps` timed ones (time.perf_counter), as GFLOP/s (2 n^3 flops per product).
Prints one line per n and the BLAS that this torch build uses (MKL in the PyPI wheels, whatever libblas.so.3 points
to in Debian's python3-torch), and writes a JSON file with --json. Runs under any interpreter that has torch
(bench/run_gemm_peer.sh runs it under Debian's torch and under the PyPI torch of its virtual environment); without
torch it prints a skip message and exits 0.
"""
import argparse
import json
import statistics
import sys
import time

import torch_blas

try:
    import torch
except ImportError:
    print(f"torch_gemm: no torch under {sys.executable}; skipped")
    sys.exit(0)


def gflops(n, warmup, reps):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    for _ in range(warmup):
        torch.matmul(a, b)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    result = {"torch": torch.__version__, "blas": torch_blas.describe(torch), "threads": torch.get_num_threads(),
              "python": sys.executable, "gflops": {}}
    for n in (int(s) for s in args.sizes.split(",")):
        result["gflops"][n] = gflops(n, args.warmup, args.reps)
        print(f"torch {torch.__version__} ({result['blas']}, {result['threads']} threads): n = {n:5d} "
              f"{result['gflops'][n]:7.1f} GFLOP/s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
