#!/usr/bin/python3
"""The table of bench/run_twin_comparison.sh: reads OUT_DIR/<dataset>/seed*/ours/summary.json (comet_train) and
OUT_DIR/<dataset>/seed*/twin.json (bench/torch_twin.py) and prints, per data set and metric, ours mean +- standard
error over the seeds, the twin's, |difference of the means|, 2 SE of the difference (2 sqrt(se_ours^2 + se_twin^2))
and whether |difference| < 2 SE. Metrics: the binary tasks' ROC AUC, the regression tasks' MSE (on observed
targets), the multiclass tasks' accuracy (test split). Standard error = sample standard deviation / sqrt(seeds).

Run: /usr/bin/python3 bench/twin_table.py OUT_DIR DATASET...
"""
import glob
import json
import math
import os
import statistics
import sys


def metric_of(kind):
    return {"binary": "auc", "regression": "mse", "multiclass": "accuracy"}[kind]


def mean_se(values):
    m = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return m, se


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, datasets = sys.argv[1], sys.argv[2:]
    header = ("data set", "task", "metric", "seeds", "ours", "twin", "|diff|", "2 SE", "|diff| < 2 SE")
    rows, all_ok = [], True
    for d in datasets:
        seeds = sorted(glob.glob(os.path.join(out, d, "seed*")))
        pairs = []
        for s in seeds:
            ours_path, twin_path = os.path.join(s, "ours", "summary.json"), os.path.join(s, "twin.json")
            if os.path.exists(ours_path) and os.path.exists(twin_path):
                with open(ours_path) as f, open(twin_path) as g:
                    pairs.append((json.load(f), json.load(g)))
        if not pairs:
            print(f"twin_table: no finished seed for {d} in {out}")
            continue
        with open(os.path.join(seeds[0], "data", "meta.json")) as f:
            tasks = json.load(f)["tasks"]
        for t in tasks:
            metric = metric_of(t["kind"])
            ours = [p[0]["test"]["tasks"][t["name"]][metric] for p in pairs]
            twin = [p[1]["test"]["tasks"][t["name"]][metric] for p in pairs]
            (mo, so), (mt, st) = mean_se(ours), mean_se(twin)
            diff, two_se = abs(mo - mt), 2 * math.sqrt(so * so + st * st)
            ok = diff < two_se
            all_ok = all_ok and ok
            rows.append((d, t["name"], metric.upper() if metric != "accuracy" else "accuracy", str(len(pairs)),
                         f"{mo:.4f} ± {so:.4f}", f"{mt:.4f} ± {st:.4f}", f"{diff:.4f}", f"{two_se:.4f}",
                         "yes" if ok else "NO"))
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print("all within 2 SE" if all_ok else "NOT all within 2 SE")


if __name__ == "__main__":
    main()
