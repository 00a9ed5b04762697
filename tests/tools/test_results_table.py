#!/usr/bin/env python3
"""Tests of tools/results_table.py on run roots written here:

  tables       finished runs in the gate order (plain before "+"), ROC AUC over accuracy, MSE, experts per sample
               averaged over the gates, best epoch / last epoch, an epoch over 3x the median counted at its
               neighbours' median (raw sum beside it), a run still training shown as running
  bad_input    a malformed metrics line named by file and line; a summary without test metrics named; an empty root
  run_line     --run: one finished run as the line scripts/run_paper_tasks.sh prints; a run without summary named

usage: python3 tests/tools/test_results_table.py CASE   (exit 0 on success)"""
import json
import os
import subprocess
import sys
import tempfile

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "results_table.py")


def write_run(root, name, seconds, best, summary=None, metrics_text=None):
    run = os.path.join(root, name)
    os.makedirs(run)
    with open(os.path.join(run, "metrics.jsonl"), "w") as f:
        if metrics_text is not None:
            f.write(metrics_text)
        else:
            f.write(json.dumps({"epoch": 0, "best": True}) + "\n")
            for e, s in enumerate(seconds, 1):
                f.write(json.dumps({"epoch": e, "best": e == best, "seconds": s}) + "\n")
    if summary is not None:
        with open(os.path.join(run, "summary.json"), "w") as f:
            json.dump(summary, f)


def summary(best, tasks, experts):
    return {"best_epoch": best, "test": {"tasks": tasks, "gates": [{"experts_per_sample": e} for e in experts]}}


def run_tool(root):
    p = subprocess.run([sys.executable, TOOL, root], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def expect(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


def tables():
    with tempfile.TemporaryDirectory() as root:
        ml = {"t1": {"auc": 0.84456, "accuracy": 0.7, "mse": None}, "t2": {"auc": None, "mse": 0.89191}}
        write_run(root, "ml/comet-learned", [10, 10, 10], 2, summary(2, ml, [2.5, 2.0]))
        write_run(root, "ml/comet-none", [10, 12, 100, 11, 10], 3, summary(3, ml, [2.0, 2.0]))
        write_run(root, "ml/topk-none", [5, 5], 1, summary(1, ml, [2.0, 2.0]))
        write_run(root, "ml/softmax-none", [20, 21, 22], 2)  # still training: no summary.json
        code, out, err = run_tool(root)
        expect(code == 0, f"exit {code}: {err}")
        want = """
ml

| gate | t1 ROC AUC | t2 mse | experts per sample | best epoch / epochs | epoch time s | raw s |
|---|---|---|---|---|---|---|
| softmax | running: epoch 3, best so far 2 |  |  |  | 63 | 63 |
| topk | 0.8446 | 0.8919 | 2.00 | 1 / 2 | 10 | 10 |
| comet | 0.8446 | 0.8919 | 2.00 | 3 / 5 | 54 | 143 |
| comet+ | 0.8446 | 0.8919 | 2.25 | 2 / 3 | 30 | 30 |
"""
        # comet: median 11; epoch 3 (100 s) counts as the median of epochs 1-5 (10, 12, 100, 11, 10) = 11.
        expect(out == want, f"output:\n{out}\nwanted:\n{want}")


def bad_input():
    with tempfile.TemporaryDirectory() as root:
        write_run(root, "ml/comet-none", [], 0, metrics_text='{"epoch": 0}\n{"epoch": 1, \n')
        code, _, err = run_tool(root)
        expect(code != 0 and "comet-none/metrics.jsonl: line 2: not JSON" in err, f"exit {code}: {err}")
    with tempfile.TemporaryDirectory() as root:
        write_run(root, "ml/comet-none", [1], 1, {"best_epoch": 1})
        code, _, err = run_tool(root)
        expect(code != 0 and "comet-none/summary.json: not a run summary (KeyError: 'test')" in err,
               f"exit {code}: {err}")
    with tempfile.TemporaryDirectory() as root:
        code, _, err = run_tool(root)
        expect(code != 0 and "no run directories" in err, f"exit {code}: {err}")


def run_line():
    with tempfile.TemporaryDirectory() as root:
        ml = {"t1": {"auc": 0.84456, "accuracy": 0.7, "mse": None}, "t2": {"auc": None, "mse": 0.89191}}
        done = summary(3, ml, [2.5, 2.0])
        done["epoch_seconds"] = 1234.4
        write_run(root, "ml/comet-learned", [10, 10, 10], 3, done)
        p = subprocess.run([sys.executable, TOOL, "--run", os.path.join(root, "ml/comet-learned")],
                           capture_output=True, text=True)
        want = f"{'ml/comet-learned':<40} t1 ROC AUC 0.8446  t2 mse 0.8919  experts/sample 2.25  best epoch 3  epochs 1234 s\n"
        expect(p.returncode == 0 and p.stdout == want, f"exit {p.returncode}: {p.stdout!r} {p.stderr}")
        write_run(root, "ml/topk-none", [10], 1)
        p = subprocess.run([sys.executable, TOOL, "--run", os.path.join(root, "ml/topk-none")],
                           capture_output=True, text=True)
        expect(p.returncode != 0 and "topk-none/summary.json: not a run summary (FileNotFoundError" in p.stderr,
               f"exit {p.returncode}: {p.stderr}")


if __name__ == "__main__":
    {"tables": tables, "bad_input": bad_input, "run_line": run_line}[sys.argv[1]]()
    print("passed")
