#!/usr/bin/env python3
"""Test of tools/plot_run.py: builds two small run directories (COMET+ with a binary and a regression task, Top-k with
the same tasks and no summary.json) in a temporary folder, plots each alone and both overlaid, and checks that the three
PNGs exist and start with the PNG signature; then that malformed or missing files give exit status 2 with a message
naming the file (and the line of metrics.jsonl).

usage: /usr/bin/python3 tests/tools/test_plot_run.py   (exit 0 on success; prints "skipped: ..." and exits 0 without
matplotlib)"""
import json
import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "plot_run.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OUTPUTS = ["learning_curves.png", "experts_per_sample.png", "expert_usage.png"]
TASKS = [{"name": "t1", "kind": "binary"}, {"name": "t2", "kind": "regression"}]


def epoch_record(epoch, experts, shift):
    usage = [(e + epoch + shift) % experts + 1.0 for e in range(experts)]
    usage = [u / sum(usage) for u in usage]
    return {"epoch": epoch, "train_loss": None if epoch == 0 else 0.6 - 0.05 * epoch + shift, "seconds": 1.5,
            "val": {"loss": 0.65 - 0.04 * epoch, "tasks": {
                "t1": {"loss": 0.5 - 0.03 * epoch, "auc": 0.6 + 0.03 * epoch, "accuracy": 0.55 + 0.02 * epoch},
                "t2": {"loss": 1.0 - 0.05 * epoch, "mse": None if epoch == 1 else 1.0 - 0.05 * epoch}}},
            "gates": [{"task": t["name"], "experts_per_sample": 4.0 - 0.3 * epoch, "within_k": 0.9,
                       "sparsity": 0.5, "usage": usage} for t in TASKS]}


def write_run(directory, gate, local_search, epochs, shift, summary=True):
    os.makedirs(directory)
    config = {"dataset": "synthetic", "gate": gate, "local_search": local_search, "experts": 6, "k": 2,
              "tasks": TASKS}
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f)
    with open(os.path.join(directory, "metrics.jsonl"), "w") as f:
        for e in range(epochs):
            f.write(json.dumps(epoch_record(e, 6, shift)) + "\n")
    if summary:
        with open(os.path.join(directory, "summary.json"), "w") as f:
            json.dump({"best_epoch": epochs - 1, "val": epoch_record(epochs - 1, 6, shift)["val"],
                       "test": epoch_record(epochs - 1, 6, shift)["val"], "sparsity": 0.5, "seconds": 9.0}, f)


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL: " + message)


def check_pngs(directory):
    for name in OUTPUTS:
        path = os.path.join(directory, name)
        ok = os.path.isfile(path) and os.path.getsize(path) > 1000
        if ok:
            with open(path, "rb") as f:
                ok = f.read(8) == PNG_SIGNATURE
        check(ok, f"{path} is not a PNG file")


def check_error(args, *expected):
    result = run_script(*args)
    check(result.returncode == 2, f"{args}: exit status {result.returncode}, expected 2 (stderr: {result.stderr!r})")
    for text in expected:
        check(text in result.stderr, f"{args}: stderr {result.stderr!r} does not contain {text!r}")


def replace_line(path, line, text):
    with open(path) as f:
        lines = f.read().splitlines()
    lines[line - 1] = text
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: cannot import matplotlib")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        comet, topk = os.path.join(tmp, "comet_plus"), os.path.join(tmp, "topk")
        write_run(comet, "comet", "learned", 5, 0.0)
        write_run(topk, "topk", "none", 4, 0.05, summary=False)

        result = run_script(comet)  # default output: the run directory
        check(result.returncode == 0, f"single run: exit {result.returncode}, stderr {result.stderr!r}")
        check_pngs(comet)
        out = os.path.join(tmp, "compare")
        os.makedirs(out)
        result = run_script(comet, topk, "--out", out)
        check(result.returncode == 0, f"two runs: exit {result.returncode}, stderr {result.stderr!r}")
        check_pngs(out)
        check(not os.path.exists(os.path.join(topk, OUTPUTS[0])), "--out must keep the run directories clean")

        bad = os.path.join(tmp, "bad")
        write_run(bad, "topk", "none", 4, 0.0)
        metrics = os.path.join(bad, "metrics.jsonl")
        replace_line(metrics, 3, '{"epoch": 2, "train_loss": 0.5,')
        check_error([bad], f"{metrics} line 3: not valid JSON")
        replace_line(metrics, 3, json.dumps({"epoch": 2, "train_loss": 0.5, "val": {"loss": 0.5, "tasks": {}},
                                             "gates": []}))
        check_error([bad], f"{metrics} line 3: missing \"t1\" in val.tasks")
        record = epoch_record(2, 6, 0.0)
        del record["val"]["tasks"]["t1"]["auc"]
        replace_line(metrics, 3, json.dumps(record))
        check_error([bad], f"{metrics} line 3: missing \"auc\" in val.tasks.t1")
        record = epoch_record(2, 6, 0.0)
        record["gates"][1]["usage"] = record["gates"][1]["usage"][:4]
        replace_line(metrics, 3, json.dumps(record))
        check_error([bad], f"{metrics} line 3: epoch 2 has gates")
        replace_line(metrics, 3, json.dumps(epoch_record(2, 6, 0.0)))
        with open(os.path.join(bad, "summary.json"), "w") as f:
            f.write("{")
        check_error([bad], os.path.join(bad, "summary.json") + ": not valid JSON")
        os.remove(os.path.join(bad, "summary.json"))
        os.remove(metrics)
        check_error([comet, bad], f"{metrics}: missing")
        with open(os.path.join(bad, "config.json"), "w") as f:
            json.dump({"tasks": [{"name": "t1", "kind": "ranking"}]}, f)
        check_error([bad], os.path.join(bad, "config.json") + ": tasks[0] has kind \"ranking\"")
        check_error([os.path.join(tmp, "no_such_run")], "no_such_run: not a directory")
        check_error([comet, "--out", os.path.join(tmp, "no_such_dir")], "no_such_dir: --out directory does not exist")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all plot_run checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
