#!/usr/bin/env python3
"""Markdown tables of the runs under a run root, one table per data set, one row per gate (docs/results.md).

Usage: tools/results_table.py RUN_ROOT   (the layout of scripts/run_paper_tasks.sh: RUN_ROOT/<data set>/<gate>-<search>/)
       tools/results_table.py --run RUN_DIR   (one finished run as one line, as scripts/run_paper_tasks.sh prints it)

A finished run (summary.json) gives its test metrics (ROC AUC where a task has one, else accuracy, and MSE), the
experts per sample averaged over its gates, the best epoch and the epochs run, and its epoch time. A run without
summary.json is shown as running, with its last epoch and best epoch so far.

Epoch time: the sum of the epochs' own times (metrics.jsonl "seconds"; a resumed run's earlier calls included). An
epoch longer than 3x the run's median epoch (the machine was paused or overloaded during it) counts at the median of
the 7 epochs around it; "raw" is the plain sum.
"""
import json
import os
import statistics
import sys

GATE_ORDER = ["softmax", "topk", "hash", "dselect", "comet"]


def fail(message):
    sys.exit(f"results_table.py: {message}")


def read_metrics(path):
    """The epoch lines of metrics.jsonl (epoch 0, the initial evaluation, left out)."""
    lines = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError as e:
                fail(f"{path}: line {number}: not JSON ({e.msg})")
    return [l for l in lines if l.get("epoch", 0) > 0]


def epoch_time(seconds):
    """(robust sum, raw sum) of the epochs' times."""
    if not seconds:
        return 0.0, 0.0
    median = statistics.median(seconds)
    robust = 0.0
    for i, s in enumerate(seconds):
        robust += s if s <= 3 * median else statistics.median(seconds[max(0, i - 3):i + 4])
    return robust, sum(seconds)


def label(run):
    gate, _, search = run.rpartition("-")
    return gate + ("+" if search != "none" else "") if gate else run


def order_key(run):
    gate, _, search = run.rpartition("-")
    return (GATE_ORDER.index(gate) if gate in GATE_ORDER else len(GATE_ORDER), gate, search != "none", run)


def metric_cells(summary):
    """[(column name, value)] of the test metrics: per task ROC AUC (or accuracy when there is no AUC), then MSE."""
    cells = []
    for task, m in summary["test"]["tasks"].items():
        for key in ("auc", "accuracy", "mse"):
            if m.get(key) is not None and not (key == "accuracy" and m.get("auc") is not None):
                cells.append((f"{task} {'ROC AUC' if key == 'auc' else key}", m[key]))
    return cells


def rows_of(dataset_dir):
    rows = []
    for run in sorted(os.listdir(dataset_dir), key=order_key):
        path = os.path.join(dataset_dir, run)
        metrics = os.path.join(path, "metrics.jsonl")
        if not os.path.isdir(path) or not os.path.exists(metrics):
            continue
        epochs = read_metrics(metrics)
        robust, raw = epoch_time([l.get("seconds", 0.0) for l in epochs])
        summary_path = os.path.join(path, "summary.json")
        if not os.path.exists(summary_path):
            best = max((l["epoch"] for l in epochs if l.get("best")), default=0)
            last = epochs[-1]["epoch"] if epochs else 0
            rows.append((label(run), None, f"running: epoch {last}, best so far {best}", robust, raw))
            continue
        try:
            summary = json.load(open(summary_path))
            gates = summary["test"]["gates"]
            experts = sum(g["experts_per_sample"] for g in gates) / len(gates)
            last = epochs[-1]["epoch"] if epochs else 0
            rows.append((label(run), metric_cells(summary), (experts, summary["best_epoch"], last), robust, raw))
        except (json.JSONDecodeError, KeyError, ZeroDivisionError) as e:
            fail(f"{summary_path}: not a run summary ({type(e).__name__}: {e})")
    return rows


def print_table(name, rows):
    columns = next((list(c for c, _ in r[1]) for r in rows if r[1] is not None), [])
    print(f"\n{name}\n")
    print("| gate | " + " | ".join(columns) + " | experts per sample | best epoch / epochs | epoch time s | raw s |")
    print("|---" * (len(columns) + 5) + "|")
    for gate, cells, rest, robust, raw in rows:
        if cells is None:
            print(f"| {gate} | " + " | ".join([rest] + [""] * (len(columns) + 1)) + f" | {robust:,.0f} | {raw:,.0f} |")
            continue
        values = dict(cells)
        experts, best, epochs = rest
        print(f"| {gate} | " + " | ".join(f"{values[c]:.4f}" if c in values else "-" for c in columns) +
              f" | {experts:.2f} | {best} / {epochs} | {robust:,.0f} | {raw:,.0f} |")


def run_line(run):
    """One finished run: its test metrics, experts per sample, best epoch and the time of its epochs (every call's)."""
    summary_path = os.path.join(run, "summary.json")
    try:
        summary = json.load(open(summary_path))
        gates = summary["test"]["gates"]
        experts = sum(g["experts_per_sample"] for g in gates) / len(gates)
        cells = "  ".join(f"{name} {value:.4f}" for name, value in metric_cells(summary))
        dataset_dir, run_name = os.path.split(os.path.normpath(run))
        name = os.path.join(os.path.basename(dataset_dir), run_name)
        return (f"{name:<40} {cells}  experts/sample {experts:.2f}  best epoch {summary['best_epoch']}  "
                f"epochs {summary['epoch_seconds']:.0f} s")
    except (OSError, json.JSONDecodeError, KeyError, ZeroDivisionError) as e:
        fail(f"{summary_path}: not a run summary ({type(e).__name__}: {e})")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--run":
        return print(run_line(sys.argv[2]))
    if len(sys.argv) != 2:
        fail("usage: results_table.py RUN_ROOT, or results_table.py --run RUN_DIR")
    root = sys.argv[1]
    if not os.path.isdir(root):
        fail(f"{root}: not a directory")
    found = False
    for dataset in sorted(os.listdir(root)):
        d = os.path.join(root, dataset)
        rows = rows_of(d) if os.path.isdir(d) else []
        if rows:
            found = True
            print_table(dataset, rows)
    if not found:
        fail(f"{root}: no run directories (<data set>/<run>/metrics.jsonl)")


if __name__ == "__main__":
    main()
