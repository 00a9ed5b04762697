#!/usr/bin/env python3
"""Tables of bench/run_moe_comparison.sh from its JSON results (one set per round).

Usage: moe_comparison_table.py DIR ROUNDS   (DIR holds ours_R.json, floor_R.json, torch_R.json for R = 1..ROUNDS)

Each round's figure is Google Benchmark's median aggregate (or the median of the single runs); a row's figure is the
median over the rounds, so a load spike during one round moves it less.
Table 1: ms/step of ours (Top-k gate and converged COMET) and PyTorch per row, speed-up = PyTorch ms / our ms.
Table 2: each row's floor = 2 layers x (BM_OneGemm forward + backward, scaled to the row's rows) + BM_AdamStep at n,
and PyTorch / floor, the largest speed-up an implementation with this GEMM and this Adam could show on this machine;
ours / floor also within each round (median and range over the rounds). Adam alone runs warm (step after step, its
data in the caches as far as they fit: the floor) and cold (caches evicted before each step, as a training step
finds them after its forward and backward passes): the last columns give the floor and ours / floor with cold Adam.
Table 3 (when bench_moe ran its interleaved_floor rows): the same floor timed right after every step, so that both
meet the same phase of a shared host; each step over the floor after it, median [10th-90th percentile] over the steps
of one round, and the median of those medians over the rounds; the floor with Adam as it finds its data after the
step (cold) and again at once (warm).
"""
import json
import os
import re
import statistics
import sys

MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
STEP = r"BM_MoeStep/(topk|comet)/(sparse|dense)(?:/converged)?/n:(\d+)/k:(\d+)(/fused)?/min_time"
INTERLEAVED = r"BM_MoeStep/(topk|comet)/sparse(?:/converged)?/n:(\d+)/k:(\d+)/interleaved_floor/"


def round_figures(path, pattern, key_of):
    """key -> (ms, counters) for one round's Google Benchmark JSON: medians win over single runs."""
    runs, medians = {}, {}
    if not os.path.exists(path):
        return {}
    for b in json.load(open(path))["benchmarks"]:
        aggregate = b.get("run_type") == "aggregate"
        if aggregate and b.get("aggregate_name") != "median":
            continue
        m = re.match(pattern, b["name"])
        if m:
            (medians if aggregate else runs).setdefault(key_of(m), []).append((b["real_time"] * MS[b["time_unit"]], b))
    runs.update(medians)
    return {k: (statistics.median(t for t, _ in v), v[0][1]) for k, v in runs.items()}


def across_rounds(per_round):
    """key -> (median ms over the rounds that have it, counters of the first)."""
    keys = {k for r in per_round for k in r}
    return {k: (statistics.median(r[k][0] for r in per_round if k in r),
                next(r[k][1] for r in per_round if k in r)) for k in keys}


def print_head(notes, head):
    """A table's notes (one line each, after a blank line), its column heads and a rule under them."""
    print("\n" + "\n".join(notes))
    print(head + "\n" + "-" * len(head))


def main():
    out, rounds = sys.argv[1], int(sys.argv[2])
    files = lambda name: [os.path.join(out, f"{name}_{r}.json") for r in range(1, rounds + 1)]
    ours_rounds = [round_figures(p, STEP, lambda m: (m[1], m[2], int(m[3]), int(m[4]), bool(m[5])))
                   for p in files("ours")]
    adam_rounds = [round_figures(p, r"BM_AdamStep/n:(\d+)(?:/cold:0)?/real_time", lambda m: int(m[1])) for p in files("ours")]
    cold_rounds = [round_figures(p, r"BM_AdamStep/n:(\d+)/cold:1/", lambda m: int(m[1])) for p in files("ours")]
    gemm_rounds = [round_figures(p, r"BM_OneGemm/(fwd|bwd)", lambda m: m[1]) for p in files("floor")]
    ours, adam, gemm = across_rounds(ours_rounds), across_rounds(adam_rounds), across_rounds(gemm_rounds)
    cold = across_rounds(cold_rounds)
    torch_rounds = []
    for p in files("torch"):
        if os.path.exists(p):
            torch_rounds.append({(r["mode"], r["n"], r["k"]): (r["ms_median"], {}) for r in json.load(open(p))["results"]})
    theirs = {k: v[0] for k, v in across_rounds(torch_rounds).items()}

    def ms(key, fused=False):
        return ours[key + (fused,)][0] if key + (fused,) in ours else None

    def counter(key, name):
        return ours[key + (False,)][1].get(name) if key + (False,) in ours else None

    def fmt(v, spec):
        return format(v, spec) if v is not None else format("-", ">" + spec.split(".")[0])

    def ratio(a, b):
        return a / b if a and b else None

    def floor_from(gemm, adam, path, n, k):
        if "fwd" not in gemm or "bwd" not in gemm or n not in adam:
            return None
        rows = 512 * (k if path == "sparse" else n)
        return 2 * (gemm["fwd"][0] + gemm["bwd"][0]) * rows / 1024 + adam[n][0]

    def floor_ms(path, n, k, adam_runs=adam):
        return floor_from(gemm, adam_runs, path, n, k)

    def ratios_by_round(path, n, k):
        """Our Top-k step over the floor within each round: the host's slow and fast phases cancel better there than
        between medians taken over different rounds."""
        out = []
        for o, a, g in zip(ours_rounds, adam_rounds, gemm_rounds):
            key, f = ("topk", path, n, k, False), floor_from(g, a, path, n, k)
            if key in o and f:
                out.append(o[key][0] / f)
        return out

    def spread(values):
        return (f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]" if values else "-")

    rows = [(path, n, k) for path in ("sparse", "dense") for n in (8, 16, 64) for k in (1, 2, 4)]
    print_head([f"ms/step, median over {rounds} round(s); speed-up = PyTorch ms / our ms (> 1: we are faster); "
                "comet = converged routing;",
                "torch 'sparse' = per-expert index_select/index_add dispatch, torch 'dense' = masked dense over all "
                "experts;",
                "e/s = our measured experts per sample; MiB = our peak step memory above the bytes in use before the "
                "step;",
                "act = topk MiB minus the parameter gradients (activations and temporaries: should grow with k, not "
                "with n)"],
               f"{'path':>6} {'n':>3} {'k':>2} | {'topk ms':>8} {'comet ms':>8} {'torch ms':>8} | "
               f"{'torch/topk':>10} {'torch/comet':>11} | {'comet e/s':>9} {'topk MiB':>8} {'comet MiB':>9} "
               f"{'topk act':>8}")
    for path, n, k in rows:
        t, c, p = ms(("topk", path, n, k)), ms(("comet", path, n, k)), theirs.get((path, n, k))
        if t is None and c is None and p is None:
            continue
        topk_key, comet_key = ("topk", path, n, k), ("comet", path, n, k)
        peak, grads = counter(topk_key, "peak_MiB"), counter(topk_key, "grad_MiB")
        print(f"{path:>6} {n:>3} {k:>2} | {fmt(t, '8.2f')} {fmt(c, '8.2f')} {fmt(p, '8.2f')} | "
              f"{fmt(ratio(p, t), '10.2f')} {fmt(ratio(p, c), '11.2f')} | "
              f"{fmt(counter(comet_key, 'experts_per_sample'), '9.2f')} {fmt(peak, '8.1f')} "
              f"{fmt(counter(comet_key, 'peak_MiB'), '9.1f')} {fmt(peak - grads if peak is not None and grads is not None else None, '8.1f')}")

    print_head(["floor = 2 layers x (BM_OneGemm forward + backward) scaled to the row's rows + BM_AdamStep at n (ms);",
                "torch/floor = the largest speed-up this machine allows; topk/floor = how far our step is from it;",
                "by round = topk/floor within each round: median [min-max] over the rounds",
                "cold = the same with Adam timed cold (BM_AdamStep/cold:1)"],
               f"{'path':>6} {'n':>3} {'k':>2} | {'floor ms':>8} {'torch/floor':>11} {'topk/floor':>10} | "
               f"{'topk/floor by round':>21} | {'cold floor':>10} {'topk/cold':>9}")
    for path, n, k in rows:
        f, fc = floor_ms(path, n, k), floor_ms(path, n, k, cold)
        if f is not None:
            print(f"{path:>6} {n:>3} {k:>2} | {f:8.2f} {fmt(ratio(theirs.get((path, n, k)), f), '11.2f')} "
                  f"{fmt(ratio(ms(('topk', path, n, k)), f), '10.2f')} | {spread(ratios_by_round(path, n, k)):>21} | "
                  f"{fmt(fc, '10.2f')} {fmt(ratio(ms(('topk', path, n, k)), fc), '9.2f')}")

    interleaved_rounds = [round_figures(p, INTERLEAVED, lambda m: (m[1], int(m[2]), int(m[3]))) for p in files("ours")]
    interleaved = sorted({key for r in interleaved_rounds for key in r}, key=lambda key: (key[1], key[0] != "topk"))
    if interleaved:
        print_head(["interleaved floor = the floor above timed right after every step (GEMMs at their best rate + Adam "
                    "warm;",
                    "cold: Adam as it finds its data after the step); ours/floor = each step over the floor after it,",
                    "median [p10-p90] over the steps, per round; 'over rounds' = the median of the rounds' medians"],
                   f"{'gate':>5} {'n':>3} {'k':>2} | {'step ms':>7} {'floor ms':>8} {'cold ms':>7} | "
                   f"{'ours/floor per round':>{21 * rounds}} | {'over rounds':>11} {'ours/cold':>9}")
        for key in interleaved:
            per = [r[key][1] for r in interleaved_rounds if key in r]
            med = lambda name: statistics.median(c[name] for c in per)
            each = " ".join(f"{c['over_floor']:.2f} [{c['over_floor_p10']:.2f}-{c['over_floor_p90']:.2f}]" for c in per)
            print(f"{key[0]:>5} {key[1]:>3} {key[2]:>2} | {med('median_step_ms'):7.2f} {med('floor_ms'):8.2f} "
                  f"{med('cold_floor_ms'):7.2f} | {each:>{21 * rounds}} | {med('over_floor'):11.2f} "
                  f"{med('over_cold_floor'):9.2f}")

    fused_rows = [(n, k) for n in (8, 16, 64) for k in (1, 2, 4) if ms(("topk", "sparse", n, k), True) is not None]
    if fused_rows:
        print_head(["fused = the experts' Adam update inside backward (--expert-update backward), sparse path;",
                    "step/fused = the separate step's ms over the fused one's (> 1: fusing is faster); "
                    "speed-up = PyTorch ms / fused ms (topk / comet)"],
                   f"{'n':>3} {'k':>2} | {'topk ms':>8} {'fused':>8} {'step/fused':>10} | {'comet ms':>8} {'fused':>8} "
                   f"{'step/fused':>10} | {'fused/floor':>11} | {'speed-up fused':>15}")
        for n, k in fused_rows:
            t, tf = ms(("topk", "sparse", n, k)), ms(("topk", "sparse", n, k), True)
            c, cf = ms(("comet", "sparse", n, k)), ms(("comet", "sparse", n, k), True)
            peer = theirs.get(("sparse", n, k))
            speedup = f"{fmt(ratio(peer, tf), '.2f')} / {fmt(ratio(peer, cf), '.2f')}"
            print(f"{n:>3} {k:>2} | {fmt(t, '8.2f')} {fmt(tf, '8.2f')} {fmt(ratio(t, tf), '10.3f')} | "
                  f"{fmt(c, '8.2f')} {fmt(cf, '8.2f')} {fmt(ratio(c, cf), '10.3f')} | "
                  f"{fmt(ratio(tf, floor_ms('sparse', n, k)), '11.2f')} | {speedup:>15}")


if __name__ == "__main__":
    main()
