#!/usr/bin/env python3
"""Table of bench/run_gemm_peer.sh: GFLOP/s per n of our GEMM per ISA path, Eigen and each PyTorch, medians over
the rounds, and the ratio of our best path (or of the path ISA alone) to each PyTorch (> 1: ours is faster).
Usage: gemm_peer_table.py OUT_DIR ROUNDS [ISA]"""
import glob
import json
import os
import statistics
import sys


def peaks(path):
    """Each ISA path's register-only FMA rate, measured by bench_gemm in the same run (GFLOP/s)."""
    return {b["name"].split("/")[0].removeprefix("BM_fma_peak_"): b["FLOP/s"] / 1e9
            for b in json.load(open(path))["benchmarks"] if b["name"].startswith("BM_fma_peak_") and "FLOP/s" in b}


def ours(path):
    rates = {}
    for b in json.load(open(path))["benchmarks"]:
        name, _, args = b["name"].partition("/")  # e.g. BM_sgemm_comet_avx512/1024/real_time
        if name.startswith("BM_sgemm_") and "FLOP/s" in b:
            rates.setdefault(name.removeprefix("BM_sgemm_"), {})[int(args.split("/")[0])] = b["FLOP/s"] / 1e9
    return rates


def main():
    out, rounds = sys.argv[1], int(sys.argv[2])
    compared = "comet_" + sys.argv[3] if len(sys.argv) > 3 else "comet_"  # the paths the ratios take
    runs = [ours(os.path.join(out, f"ours_{r}.json")) for r in range(1, rounds + 1)]
    paths = sorted(runs[0])
    peers = {}
    for f in sorted(glob.glob(os.path.join(out, "torch*_*.json"))):
        key = os.path.basename(f).split("_")[0]
        d = json.load(open(f))
        p = peers.setdefault(key, {"label": f"torch {d['torch']} ({d['blas']})", "gflops": {}})
        for n, g in d["gflops"].items():
            p["gflops"].setdefault(int(n), []).append(g)
    sizes = sorted(runs[0][paths[0]])
    med = {p: {n: statistics.median(r[p][n] for r in runs) for n in sizes} for p in paths}
    header = ["n"] + paths + [p["label"] for p in peers.values()]
    ours_label = "ours " + compared.removeprefix("comet_") if compared != "comet_" else "best ours"
    header += [f"{ours_label} / {p['label'].split(' (')[0]}" for p in peers.values()]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for n in sizes:
        best = max(med[p][n] for p in paths if p.startswith(compared))
        torch = [statistics.median(p["gflops"][n]) for p in peers.values()]
        cells = [str(n)] + [f"{med[p][n]:.1f}" for p in paths] + [f"{t:.1f}" for t in torch]
        cells += [f"{best / t:.2f}" for t in torch]
        print("| " + " | ".join(cells) + " |")
    peak = {}
    for r in range(1, rounds + 1):
        for isa, g in peaks(os.path.join(out, f"ours_{r}.json")).items():
            peak.setdefault(isa, []).append(g)
    best_n = max(sizes, key=lambda n: max(med[p][n] for p in paths if p.startswith(compared)))
    print("FMA peak measured in the run (GFLOP/s, median over rounds); our best n's share of it: " + ", ".join(
        f"{isa} {statistics.median(g):.1f} ({med['comet_' + isa][best_n] / statistics.median(g):.0%})"
        for isa, g in sorted(peak.items()) if "comet_" + isa in med))


if __name__ == "__main__":
    main()
