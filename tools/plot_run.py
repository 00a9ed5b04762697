#!/usr/bin/env python3
"""Plots of training run directories (written by the trainer): learning curves, experts per sample and expert usage.

usage: plot_run.py RUN_DIR [RUN_DIR ...] [--out DIR]

Each RUN_DIR holds config.json (the settings, with "tasks": [{"name", "kind"}]), metrics.jsonl (one JSON object per
epoch, epoch 0 = before training) and, once the run has finished, summary.json (its "best_epoch" is marked on the
curves; a run without it is plotted all the same). Writes three PNGs:
  learning_curves.png     train loss and val loss, then each task's val metrics (loss, auc, accuracy, mse) by epoch
  experts_per_sample.png  per gate: mean number of experts a sample uses, by epoch
  expert_usage.png        per run and gate: heat map of each expert's share of the routing, epoch x expert
Several run directories are overlaid (heat maps side by side), each named in the legend by its directory and its
gate (a "+" marks local search). The PNGs go to --out, or else into every RUN_DIR.
A missing or malformed file stops the script with exit status 2 and a message naming the file (and line).
Test: tests/tools/test_plot_run.py."""
import argparse
import json
import math
import os
import sys

METRICS_BY_KIND = {"binary": ["loss", "auc", "accuracy"], "regression": ["loss", "mse"],
                   "multiclass": ["loss", "accuracy"]}
OUTPUTS = ["learning_curves.png", "experts_per_sample.png", "expert_usage.png"]


class RunError(Exception):
    """A missing or malformed run file; the message names the file."""


def fail(path, problem, line=None):
    where = f"{path} line {line}" if line is not None else path
    raise RunError(f"{where}: {problem}")


# ---------------------------------------------------------------------------------------------------- reading runs

def read_json(path):
    if not os.path.isfile(path):
        fail(path, "missing")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            fail(path, f"not valid JSON ({e})")


def require(value, key, path, line, kind=dict, what=None):
    """value[key], which must be of `kind` (a type or tuple of types); a malformed entry names the file and line."""
    if not isinstance(value, dict) or key not in value:
        fail(path, f"missing \"{key}\"" + (f" in {what}" if what else ""), line)
    got = value[key]
    if not isinstance(got, kind) or isinstance(got, bool) and kind is not bool:
        fail(path, f"\"{key}\"" + (f" in {what}" if what else "") + f" is {json.dumps(got)}", line)
    return got


NUMBER = (int, float)
NUMBER_OR_NULL = (int, float, type(None))


def number(value):
    """A JSON number, or NaN for null (a metric with nothing to average is written as null)."""
    return math.nan if value is None else float(value)


def read_tasks(path, config):
    if not isinstance(config, dict):
        fail(path, "not a JSON object")
    tasks = require(config, "tasks", path, None, list)
    out = []
    for i, task in enumerate(tasks):
        name = require(task, "name", path, None, str, f"tasks[{i}]")
        kind = require(task, "kind", path, None, str, f"tasks[{i}]")
        if kind not in METRICS_BY_KIND:
            fail(path, f"tasks[{i}] has kind \"{kind}\"; expected one of {', '.join(METRICS_BY_KIND)}")
        out.append((name, kind))
    if not out:
        fail(path, "\"tasks\" is empty")
    return out


def read_epoch(path, line, record, tasks):
    """One line of metrics.jsonl as {"epoch", "train_loss", "val_loss", "tasks": {name: {metric: v}}, "gates"}."""
    if not isinstance(record, dict):
        fail(path, "not a JSON object", line)
    val = require(record, "val", path, line)
    val_tasks = require(val, "tasks", path, line, dict, "val")
    epoch = {"epoch": require(record, "epoch", path, line, int),
             "train_loss": number(require(record, "train_loss", path, line, NUMBER_OR_NULL)),
             "val_loss": number(require(val, "loss", path, line, NUMBER_OR_NULL, "val")),
             "tasks": {}, "gates": []}
    for name, kind in tasks:
        entry = require(val_tasks, name, path, line, dict, "val.tasks")
        epoch["tasks"][name] = {m: number(require(entry, m, path, line, NUMBER_OR_NULL, f"val.tasks.{name}"))
                                for m in METRICS_BY_KIND[kind]}
    for i, gate in enumerate(require(record, "gates", path, line, list)):
        what = f"gates[{i}]"
        usage = require(gate, "usage", path, line, list, what)
        if not all(isinstance(u, NUMBER) and not isinstance(u, bool) for u in usage):
            fail(path, f"\"usage\" in {what} holds a value that is not a number", line)
        label = gate.get("task", f"gate {i}") if isinstance(gate, dict) else None
        epoch["gates"].append({"label": str(label),
                               "experts_per_sample": number(require(gate, "experts_per_sample", path, line,
                                                                    NUMBER_OR_NULL, what)),
                               "usage": [float(u) for u in usage]})
    return epoch


def read_metrics(path, tasks):
    if not os.path.isfile(path):
        fail(path, "missing")
    epochs = []
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as e:
                fail(path, f"not valid JSON ({e})", line)
            epochs.append(dict(read_epoch(path, line, record, tasks), line=line))
    if not epochs:
        fail(path, "holds no epoch")
    check_gates_agree(path, epochs)
    return epochs


def check_gates_agree(path, epochs):
    """Every epoch must list the same gates with the same number of experts (the heat maps stack them)."""
    first = [(g["label"], len(g["usage"])) for g in epochs[0]["gates"]]
    for e in epochs[1:]:
        got = [(g["label"], len(g["usage"])) for g in e["gates"]]
        if got != first:
            fail(path, f"epoch {e['epoch']} has gates (name, experts) {got}, epoch {epochs[0]['epoch']} had {first}",
                 e["line"])


def run_label(name, config):
    gate = str(config.get("gate", "?"))
    search = config.get("local_search")
    plus = "+" if search not in (None, False, "none", "off", "") else ""
    return f"{name} ({gate}{plus}, n={config.get('experts', '?')}, k={config.get('k', '?')})"


def read_run(directory):
    directory = os.path.normpath(directory)
    if not os.path.isdir(directory):
        fail(directory, "not a directory")
    config_path = os.path.join(directory, "config.json")
    config = read_json(config_path)
    tasks = read_tasks(config_path, config)
    run = {"dir": directory, "label": run_label(os.path.basename(os.path.abspath(directory)), config),
           "tasks": tasks, "epochs": read_metrics(os.path.join(directory, "metrics.jsonl"), tasks),
           "best_epoch": None}
    summary_path = os.path.join(directory, "summary.json")
    if os.path.exists(summary_path):
        run["best_epoch"] = require(read_json(summary_path), "best_epoch", summary_path, None, int)
    return run


# ---------------------------------------------------------------------------------------------------- plotting

def panel_grid(plt, count, width=4.2, height=3.0):
    cols = min(count, 3)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[count:]:
        ax.axis("off")
    return fig, flat[:count]


def plot_curve(ax, run, values, style="-", label=None):
    """One curve of a run, in the run's colour, with its best epoch (if known) as a dotted line."""
    epochs = [e["epoch"] for e in run["epochs"]]
    ax.plot(epochs, values, style, marker=".", color=run["color"], label=label or run["label"])
    if run["best_epoch"] is not None:
        ax.axvline(run["best_epoch"], color=run["color"], linestyle=":", linewidth=1)


def finish(fig, axes, outputs, name):
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    for out in outputs:
        fig.savefig(os.path.join(out, name), dpi=100)


def plot_learning_curves(plt, runs, outputs):
    panels = [("loss", None)]  # (metric, task); task None: train and val loss of the whole model
    for run in runs:
        for name, kind in run["tasks"]:
            panels += [(m, name) for m in METRICS_BY_KIND[kind] if (m, name) not in panels]
    fig, axes = panel_grid(plt, len(panels))
    for ax, (metric, task) in zip(axes, panels):
        ax.set_title("train and val loss" if task is None else f"{task}: val {metric}")
        for run in runs:
            if task is None:
                plot_curve(ax, run, [e["train_loss"] for e in run["epochs"]], "--", f"{run['label']} train")
                plot_curve(ax, run, [e["val_loss"] for e in run["epochs"]], "-", f"{run['label']} val")
            elif task in run["epochs"][0]["tasks"] and metric in run["epochs"][0]["tasks"][task]:
                plot_curve(ax, run, [e["tasks"][task][metric] for e in run["epochs"]])
    finish(fig, axes, outputs, "learning_curves.png")
    plt.close(fig)


def gate_labels(runs):
    labels = []
    for run in runs:
        labels += [g["label"] for g in run["epochs"][0]["gates"] if g["label"] not in labels]
    return labels


def plot_experts_per_sample(plt, runs, outputs):
    labels = gate_labels(runs) or ["no gates"]
    fig, axes = panel_grid(plt, len(labels))
    for ax, label in zip(axes, labels):
        ax.set_title(f"gate {label}: experts per sample" if label != "no gates" else "no gates logged")
        for run in runs:
            index = [g["label"] for g in run["epochs"][0]["gates"]]
            if label in index:
                i = index.index(label)
                plot_curve(ax, run, [e["gates"][i]["experts_per_sample"] for e in run["epochs"]])
    finish(fig, axes, outputs, "experts_per_sample.png")
    plt.close(fig)


def plot_expert_usage(plt, runs, outputs):
    from matplotlib.ticker import MaxNLocator
    maps = [(run, i) for run in runs for i in range(len(run["epochs"][0]["gates"]))]
    fig, axes = panel_grid(plt, max(len(maps), 1), width=4.6, height=3.4)
    for ax, (run, i) in zip(axes, maps):
        usage = [e["gates"][i]["usage"] for e in run["epochs"]]
        epochs = [e["epoch"] for e in run["epochs"]]
        experts = len(usage[0])
        image = ax.imshow(usage, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest",
                          extent=(-0.5, experts - 0.5, epochs[0] - 0.5, epochs[-1] + 0.5))
        fig.colorbar(image, ax=ax, label="share of routing")
        ax.set_title(f"{run['label']}\ngate {run['epochs'][0]['gates'][i]['label']}", fontsize=8)
        ax.set_xlabel("expert")
        ax.set_ylabel("epoch")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not maps:
        axes[0].set_title("no gates logged")
        axes[0].axis("off")
    fig.tight_layout()
    for out in outputs:
        fig.savefig(os.path.join(out, "expert_usage.png"), dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--out", help="directory for the PNGs (default: each RUN_DIR)")
    args = parser.parse_args(argv)
    try:
        runs = [dict(read_run(d), color=f"C{i % 10}") for i, d in enumerate(args.runs)]
        outputs = [args.out] if args.out else [run["dir"] for run in runs]
        if args.out and not os.path.isdir(args.out):
            fail(args.out, "--out directory does not exist")
    except RunError as e:
        print(f"plot_run.py: error: {e}", file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"plot_run.py: error: cannot import matplotlib ({e})", file=sys.stderr)
        return 2
    plot_learning_curves(plt, runs, outputs)
    plot_experts_per_sample(plt, runs, outputs)
    plot_expert_usage(plt, runs, outputs)
    for out in outputs:
        print("wrote " + ", ".join(os.path.join(out, name) for name in OUTPUTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
