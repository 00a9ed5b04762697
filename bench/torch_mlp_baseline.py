#!/usr/bin/env python3
"""PyTorch baseline of bench_mlp: one training step of a 256-256-256 ReLU MLP (batch 512, MSE, Adam).

Run with Debian's python3-torch: /usr/bin/python3 bench/torch_mlp_baseline.py [--threads 2] [--steps 50].
Prints the median ms/step over --steps timed steps after 5 warm-up steps (exits 0 with a message if torch is absent).
"""
import argparse
import os
import statistics
import sys
import time

os.environ.pop("OPENBLAS_CORETYPE", None)  # let OpenBLAS pick this CPU's kernels

try:
    import torch
except ImportError:
    print("torch_mlp_baseline: skipped: PyTorch is not installed (apt-get install python3-torch)")
    sys.exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(512, 256), torch.randn(512, 256)
    times = []
    for step in range(5 + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        opt.step()
        if step >= 5:
            times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    flops = 3 * 2 * 512 * (256 * 256 * 2)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: MLP step {ms:.2f} ms "
          f"({flops / ms / 1e6:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
