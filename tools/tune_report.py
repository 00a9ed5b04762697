#!/usr/bin/env python3
"""The paper's tables and tuning-budget curves from the studies of tools/tune.py (spec comet.md 6.5).

usage: tools/tune_report.py --storage URL [--study NAME ...] [--out DIR] [--top 0.05] [--budget-task 1]

Per (dataset, gate variant) study: the COMPLETE trials sorted by validation loss (the objective; ties by trial number),
the top 5% of them (ceil(0.05 n), at least 1), and over those the mean and standard error (sample standard deviation
with n - 1, over sqrt(m); none for m = 1) of the test loss, the T1 metric, the T2 metric and the experts per sample
(test, mean over the gates), next to the numbers of complete, failed and unfinished trials and the trial time (the
summed durations of the finished trials: the compute a study took, whatever ran beside it). A task's metric is its
ROC AUC (binary), accuracy (multiclass) or MSE (regression). Written as DIR/table.md (a table per dataset) and
DIR/table.csv.

The tuning-budget curve: for budgets b = 1, 2, 4, ... (and n), the expected test metric of the best-by-validation trial
among b trials drawn at random without replacement from the n complete trials. Exact, by order statistics: with the
trials sorted by validation loss, trial i (0-based) is the best of a random b-subset with probability
C(n - 1 - i, b - 1) / C(n, b). Written as DIR/budget.csv and a PNG per dataset, DIR/budget_<dataset>.png (matplotlib),
one line per gate variant, so that "how many trials does Top-k+ need to match Top-k's best" can be read off.
Test: tests/tools/test_tune.py."""
import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tune_space import VARIANTS  # noqa: E402

LOCK_SUFFIX = ":lock"
PRIMARY_METRIC = {"binary": "auc", "multiclass": "accuracy", "regression": "mse"}


def top_count(n, fraction):
    """How many of n trials are the top `fraction` (at least 1; none of none)."""
    return 0 if n == 0 else max(1, math.ceil(fraction * n - 1e-9))


def mean_se(values):
    """(mean, standard error) of a list; the standard error is None for fewer than 2 values."""
    m = len(values)
    if m == 0:
        return None, None
    mean = sum(values) / m
    if m < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (m - 1)
    return mean, math.sqrt(var / m)


def ranked(trials):
    """Trials (dicts with "number", "value") by validation loss, ties by trial number."""
    return sorted(trials, key=lambda t: (t["value"], t["number"]))


def task_metric_key(trial, index):
    """("test.<task>.<metric>", "<task> <metric>") of the index-th task (0-based), or (None, None)."""
    tasks = trial["attrs"].get("tasks") or []
    if index >= len(tasks):
        return None, None
    task = tasks[index]
    metric = PRIMARY_METRIC.get(task.get("kind"))
    if metric is None:
        return None, None
    return f"test.{task['name']}.{metric}", f"{task['name']} {metric}"


def top_stats(trials, fraction=0.05):
    """The table row of one study from its COMPLETE trials: dicts {"number", "value", "attrs"}."""
    order = ranked(trials)
    top = order[:top_count(len(order), fraction)]
    row = {"complete": len(order), "top": len(top)}

    def stat(name, key):
        values = [t["attrs"].get(key) for t in top]
        ok = bool(values) and all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
        row[name + "_mean"], row[name + "_se"] = mean_se(values) if ok else (None, None)

    stat("test_loss", "test.loss")
    for i, label in ((0, "t1"), (1, "t2")):
        key, title = task_metric_key(top[0], i) if top else (None, None)
        row[label + "_name"] = title
        if key:
            stat(label, key)
        else:
            row[label + "_mean"] = row[label + "_se"] = None
    stat("experts", "test.experts_per_sample")
    return row


def expected_best(metrics_by_rank, budget):
    """E[metric of the best-by-validation trial of a random `budget`-subset], metrics_by_rank sorted by validation
    loss (best first). Exact: P(rank i is the subset's best) = C(n-1-i, b-1) / C(n, b)."""
    n = len(metrics_by_rank)
    if not 1 <= budget <= n:
        raise ValueError(f"budget {budget} outside 1..{n}")
    total = math.comb(n, budget)
    return sum(m * (math.comb(n - 1 - i, budget - 1) / total) for i, m in enumerate(metrics_by_rank[:n - budget + 1]))


def budgets(n):
    out, b = [], 1
    while b <= n:
        out.append(b)
        b *= 2
    if n and out[-1] != n:
        out.append(n)
    return out


def budget_curve(trials, task_index=0):
    """[(budget, expected metric)] and the metric's title, from COMPLETE trials."""
    order = ranked(trials)
    if not order:
        return [], None
    key, title = task_metric_key(order[0], task_index)
    if key is None:
        return [], None
    order = [t for t in order if isinstance(t["attrs"].get(key), (int, float))]
    metrics = [t["attrs"][key] for t in order]
    return [(b, expected_best(metrics, b)) for b in budgets(len(metrics))], title


def load_studies(storage_url, names=None):
    """[{"study", "dataset", "gate", "complete": [...], "failed", "unfinished"}] from an Optuna storage."""
    import warnings

    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage = optuna.storages.RDBStorage(storage_url)
    all_names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
                 if not s.study_name.endswith(LOCK_SUFFIX)]
    if names:
        missing = [n for n in names if n not in all_names]
        if missing:
            raise SystemExit(f"tune_report: no study {', '.join(missing)} in {storage_url} (it has: "
                             f"{', '.join(all_names) or 'none'})")
        all_names = names
    studies = []
    for name in all_names:
        study = optuna.load_study(study_name=name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        state = optuna.trial.TrialState
        studies.append({
            "study": name,
            "dataset": study.user_attrs.get("dataset", name.split(".")[0]),
            "gate": study.user_attrs.get("variant", name.split(".", 1)[-1]),
            "complete": [{"number": t.number, "value": t.value, "attrs": t.user_attrs}
                         for t in trials if t.state == state.COMPLETE],
            "failed": sum(t.state == state.FAIL for t in trials),
            "unfinished": sum(t.state in (state.RUNNING, state.WAITING) for t in trials),
            # Compute spent: the durations of the finished trials (complete or failed), whatever ran in parallel.
            "seconds": sum(t.duration.total_seconds() for t in trials if t.duration is not None),
        })
    order = list(VARIANTS)
    studies.sort(key=lambda s: (s["dataset"], order.index(s["gate"]) if s["gate"] in order else len(order), s["study"]))
    return studies


def fmt(mean, se, digits=4):
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" + ("" if se is None else f" ± {se:.{digits}f}")


def write_tables(studies, out, fraction):
    rows = []
    for s in studies:
        r = top_stats(s["complete"], fraction)
        r.update({"dataset": s["dataset"], "gate": s["gate"], "study": s["study"], "failed": s["failed"],
                  "unfinished": s["unfinished"], "trial_seconds": s["seconds"]})
        rows.append(r)
    columns = ["dataset", "gate", "study", "complete", "failed", "unfinished", "top", "test_loss_mean", "test_loss_se",
               "t1_name", "t1_mean", "t1_se", "t2_name", "t2_mean", "t2_se", "experts_mean", "experts_se",
               "trial_seconds"]
    with open(os.path.join(out, "table.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else (repr(r[c]) if isinstance(r[c], float) else r[c])
                        for c in columns])
    lines = [f"Top {100 * fraction:g}% of the complete trials by validation loss (at least 1): mean ± standard "
             "error of the test metrics (tools/tune_report.py).", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        part = [r for r in rows if r["dataset"] == dataset]
        t1 = next((r["t1_name"] for r in part if r["t1_name"]), None) or "-"
        t2 = next((r["t2_name"] for r in part if r["t2_name"]), None) or "-"
        lines += [f"## {dataset}", "",
                  f"| gate | trials (complete / failed / unfinished) | top | test loss | T1 {t1} | T2 {t2} | "
                  "experts per sample | trial time |", "|---|---|---|---|---|---|---|---|"]
        for r in part:
            lines.append(f"| {r['gate']} | {r['complete']} / {r['failed']} / {r['unfinished']} | {r['top']} | "
                         f"{fmt(r['test_loss_mean'], r['test_loss_se'])} | {fmt(r['t1_mean'], r['t1_se'])} | "
                         f"{fmt(r['t2_mean'], r['t2_se'])} | {fmt(r['experts_mean'], r['experts_se'], 2)} | "
                         f"{r['trial_seconds']:.0f} s |")
        lines.append("")
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(lines))
    return rows


def write_budget(studies, out, task_index):
    curves = []
    for s in studies:
        points, title = budget_curve(s["complete"], task_index)
        curves.append((s, points, title))
    with open(os.path.join(out, "budget.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dataset", "gate", "study", "complete", "metric", "budget", "expected"])
        for s, points, title in curves:
            for b, e in points:
                w.writerow([s["dataset"], s["gate"], s["study"], len(s["complete"]), title, b, repr(e)])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    pngs = []
    for dataset in dict.fromkeys(s["dataset"] for s, _, _ in curves):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.set_prop_cycle(color=plt.cm.tab20.colors)  # 11 variants: the default cycle of 10 would repeat a colour
        titles = set()
        for s, points, title in curves:
            if s["dataset"] != dataset or not points:
                continue
            titles.add(title)
            ax.plot([b for b, _ in points], [e for _, e in points], marker="o", label=f"{s['gate']} (n = "
                    f"{len(s['complete'])})")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))  # 1, 2, 4, not 1.00
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("tuning budget (trials)")
        ax.set_ylabel("expected test " + (" / ".join(sorted(titles)) or "metric") + " of the best-by-validation trial")
        ax.set_title(f"{dataset}: tuning-budget curve")
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
        path = os.path.join(out, f"budget_{dataset}.png")
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        pngs.append(path)
    return pngs


def main(argv):
    parser = argparse.ArgumentParser(prog="tune_report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", required=True, help="Optuna RDB URL of the studies (sqlite:///... or "
                                                         "postgresql://...)")
    parser.add_argument("--study", action="append", help="a study to report (repeatable; default: every study)")
    parser.add_argument("--out", default="runs/tune/report", help="output folder (default runs/tune/report)")
    parser.add_argument("--top", type=float, default=0.05, help="fraction of trials kept (default 0.05)")
    parser.add_argument("--budget-task", type=int, default=1, choices=(1, 2),
                        help="the task whose metric the budget curve shows (default 1: T1)")
    args = parser.parse_args(argv)
    if not 0 < args.top <= 1:
        parser.error(f"--top {args.top}: expected a fraction in (0, 1]")
    if args.storage.startswith("sqlite:///"):
        path = args.storage[len("sqlite:///"):]
        if not os.path.isfile(path):
            print(f"tune_report: {path}: no such file", file=sys.stderr)
            return 2
    os.makedirs(args.out, exist_ok=True)
    studies = load_studies(args.storage, args.study)
    if not studies:
        print(f"tune_report: no study in {args.storage}", file=sys.stderr)
        return 2
    write_tables(studies, args.out, args.top)
    pngs = write_budget(studies, args.out, args.budget_task - 1)
    print(f"tune_report: {len(studies)} studies -> {os.path.join(args.out, 'table.md')}, table.csv, budget.csv, "
          + ", ".join(os.path.basename(p) for p in pngs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
