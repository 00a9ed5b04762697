#!/usr/bin/env python3
"""Tables of scripts/gpu_check.sh's bench stage, from the JSON files in one folder:

  1. the grouped GEMM on the device against cuBLAS at equal FLOPs (bench_grouped.json): for each pass, shape and
     expert count, our FLOP/s, cuBLAS's (BM_OneGemm/cuda, the same rows and width as one GEMM) and our share of it
     (issue 11 asks for 0.70 or more);
  2. the MoE training step on the device (bench_moe.json) against PyTorch's on the same GPU (torch_cuda.json, from
     bench/torch_moe_baseline.py --device cuda): median ms per step and PyTorch ms / ours (> 1: we are faster). Our
     sparse rows (Top-k, converged COMET and DSelect-k) face PyTorch's sparse dispatch with a Top-k gate, our dense
     rows its masked dense, at the same n and k (Softmax, dense over all n, faces masked dense at k = 2).

A missing file leaves its table out with a line saying so. Run: python3 bench/gpu_table.py <folder>
"""
import json
import os
import re
import sys


def load(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        print(f"({name} not found: its table is left out)")
        return None
    with open(path) as f:
        return json.load(f)


def fields(name):
    """'BM_X/a/b/n:16/k:2/real_time' -> (['BM_X', 'a', 'b'], {'n': 16, 'k': 2})"""
    parts, args = [], {}
    for p in name.split("/"):
        m = re.fullmatch(r"(\w+):(\d+)", p)
        if m and m.group(1) != "min_time":
            args[m.group(1)] = int(m.group(2))
        elif not m and p != "real_time" and not p.startswith("min_time"):
            parts.append(p)
    return parts, args


def grouped_table(data):
    rows = [b for b in data["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    one = {}
    for b in rows:
        parts, args = fields(b["name"])
        if parts[0] == "BM_OneGemm":
            one[(parts[2], args["rows"], args["width"])] = b["FLOP/s"]
    print("| pass | rows x width | n | grouped TFLOP/s | cuBLAS TFLOP/s | share |")
    print("|---|---|---|---|---|---|")
    for b in rows:
        parts, args = fields(b["name"])
        if parts[0] != "BM_GroupedLinear":
            continue
        base = one.get((parts[2], args["rows"], args["width"]))
        share = f"{b['FLOP/s'] / base:.2f}" if base else "-"
        base_text = f"{base / 1e12:.3g}" if base else "-"
        print(f"| {parts[2]} | {args['rows']} x {args['width']} | {args['n']} | {b['FLOP/s'] / 1e12:.3g} | "
              f"{base_text} | {share} |")


def step_table(ours, torch):
    peer = {}
    if torch:
        for r in torch["results"]:
            peer[(r["mode"], r["n"], r["k"])] = r["ms_median"]
        print(f"PyTorch {torch['torch_version']} on {torch.get('device', '?')}")
    print("| our row | ms/step | PyTorch ms/step | PyTorch / ours | experts per sample |")
    print("|---|---|---|---|---|")
    for b in ours["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue
        parts, args = fields(b["name"])
        mode, n, k = parts[2], args["n"], args.get("k", 2)
        theirs = peer.get((mode, n, k))
        ratio = f"{theirs / b['median_step_ms']:.2f}x" if theirs else "-"
        theirs_text = f"{theirs:.2f}" if theirs else "-"
        print(f"| {'/'.join(parts[1:])} n={n} k={args.get('k', '-')} | {b['median_step_ms']:.2f} | {theirs_text} | "
              f"{ratio} | {b['experts_per_sample']:.2f} |")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gpu_table.py <folder with bench_grouped.json, bench_moe.json, torch_cuda.json>")
    folder = sys.argv[1]
    grouped = load(folder, "bench_grouped.json")
    if grouped:
        print(f"device: {grouped['context'].get('cuda_device', '?')}; commit {grouped['context'].get('comet_commit')}")
        grouped_table(grouped)
    ours = load(folder, "bench_moe.json")
    if ours:
        step_table(ours, load(folder, "torch_cuda.json"))


if __name__ == "__main__":
    main()
