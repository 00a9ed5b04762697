#!/usr/bin/python3
"""PyTorch baseline for bench/bench_moe.cpp: one MoE training step (Top-k gate forward, MoE layer, MSE against a
fixed random target, backward, Adam over gate and expert parameters), batch 512, d_in = hidden = d_out = 256,
experts Linear-ReLU-Linear (one nn.Sequential per expert, PyTorch's default initialisation), for each n and k:

  sparse: PyTorch's usual sparse dispatch - per expert, the (sample, slot) pairs routed to it are found with a mask,
          their rows index_select-ed, run through the expert, multiplied by the gate weight and index_add-ed back.
  dense:  masked dense - every expert on every sample, weighted by the dense gate matrix g (zeros off the top k).

The gate is a learned Top-k gate (logits = Linear(x), keep the top k, softmax over them), so every sample uses
exactly k experts, as bench_moe's BM_MoeStep/topk. Timing: time.perf_counter per step, `--warmup` untimed steps,
then the median (and min and max) of `--steps` steps. Threads: torch.set_num_threads(--threads, default 2) and one
inter-op thread. OPENBLAS_CORETYPE is removed from the environment before torch loads, so OpenBLAS picks its own
kernels for this CPU (as it would by default). Debian's python3-torch calls whatever libblas.so.3 points to: with
only the reference libblas3 installed its GEMMs run at a few GFLOP/s, so install an optimised BLAS first
(apt-get install libopenblas0-openmp; OpenMP, like torch, so torch.set_num_threads also bounds OpenBLAS); the
script prints the BLAS it loaded and warns about the reference one. If torch is not installed, prints a skip
message and exits 0.

--device cuda runs the model and the data on the GPU (a PyTorch built with CUDA; without one, prints a skip message
and exits 0) and waits for the device (torch.cuda.synchronize) at the end of every timed step: the peer of
bench_moe's /cuda rows.

Run: /usr/bin/python3 bench/torch_moe_baseline.py [--threads 2] [--experts 8,16,64] [--ks 1,2,4] [--device cpu]
[--json out.json] (bench/run_moe_comparison.sh runs it next to bench_moe).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch_blas

os.environ.pop("OPENBLAS_CORETYPE", None)  # must happen before torch (and its BLAS) is loaded

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    print("torch_moe_baseline: PyTorch is not installed (python3-torch); skipping the PyTorch baseline.")
    sys.exit(0)


def int_list(text):
    return [int(v) for v in text.split(",") if v]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--dim", type=int, default=256, help="d_in = hidden = d_out")
    p.add_argument("--experts", type=int_list, default=[8, 16, 64])
    p.add_argument("--ks", type=int_list, default=[1, 2, 4])
    p.add_argument("--modes", default="sparse,dense")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--json", help="also write the results to this file")
    return p.parse_args()


class TopKMoe(nn.Module):
    def __init__(self, n, k, dim):
        super().__init__()
        self.n, self.k = n, k
        self.gate = nn.Linear(dim, n)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim)) for _ in range(n))

    def route(self, x):
        """Top-k gate: indices [B, k] and their softmax weights [B, k]."""
        top_logits, top_index = self.gate(x).topk(self.k, dim=1)
        return top_index, torch.softmax(top_logits, dim=1)

    def sparse(self, x):
        index, weight = self.route(x)
        expert = index.reshape(-1)
        sample = torch.arange(x.shape[0], device=x.device).repeat_interleave(self.k)
        weight = weight.reshape(-1)
        out = torch.zeros(x.shape[0], self.experts[0][2].out_features, dtype=x.dtype, device=x.device)
        for e, f in enumerate(self.experts):
            pairs = (expert == e).nonzero().squeeze(1)
            if pairs.numel() == 0:
                continue
            rows = sample.index_select(0, pairs)
            y = f(x.index_select(0, rows)) * weight.index_select(0, pairs).unsqueeze(1)
            out = out.index_add(0, rows, y)
        return out

    def dense(self, x):
        index, weight = self.route(x)
        g = torch.zeros(x.shape[0], self.n, dtype=x.dtype, device=x.device).scatter(1, index, weight)
        out = None
        for e, f in enumerate(self.experts):
            term = f(x) * g[:, e:e + 1]
            out = term if out is None else out + term
        return out


def time_case(n, k, mode, args):
    torch.manual_seed(0)
    model = TopKMoe(n, k, args.dim).to(args.device)
    x = torch.randn(args.batch, args.dim).to(args.device)
    target = torch.randn(args.batch, args.dim).to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward = model.sparse if mode == "sparse" else model.dense

    def step():
        opt.zero_grad(set_to_none=True)
        F.mse_loss(forward(x), target).backward()
        opt.step()
        if args.device == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return {"n": n, "k": k, "mode": mode, "ms_median": statistics.median(times), "ms_min": min(times),
            "ms_max": max(times)}


def main():
    args = parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"torch_moe_baseline: this PyTorch ({torch.__version__}) has no usable CUDA device; skipping.")
        sys.exit(0)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    info = torch.__config__.parallel_info()
    threads = [line.strip() for line in info.splitlines() if "get_num_threads" in line or "parallel backend" in line]
    print(f"torch {torch.__version__}; {'; '.join(threads)}; OPENBLAS_CORETYPE unset; "
          f"batch {args.batch}, dim {args.dim}, {args.warmup} warm-up + {args.steps} timed steps")
    blas = torch_blas.describe(torch)
    print(f"BLAS: {blas}")
    device = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    print(f"device: {device}")
    if "openblas" not in blas.lower() and "mkl" not in blas.lower() and "blis" not in blas.lower():
        print("WARNING: torch uses the reference BLAS here; install libopenblas0-openmp for a fair baseline")
    results = []
    print(f"{'mode':>6} {'n':>4} {'k':>3} {'median ms':>10} {'min ms':>8}")
    for mode in args.modes.split(","):
        for n in args.experts:
            for k in args.ks:
                if k > n:
                    continue
                r = time_case(n, k, mode, args)
                results.append(r)
                print(f"{mode:>6} {n:>4} {k:>3} {r['ms_median']:>10.2f} {r['ms_min']:>8.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
                       "device": device,
                       "batch": args.batch, "dim": args.dim, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
