#!/usr/bin/env python3
"""Tests of the tuning tools: tools/tune_space.py (search spaces), tools/tune.py (the Optuna driver) and
tools/tune_report.py (top-5% table, tuning-budget curve). One case per ctest test (tests/tools/tune_tests.cmake):

  space_errors        every shipped space loads; each kind of bad space is refused naming the file and the key
  space_variants_run  comet_train accepts every variant of the shipped spaces whose data are here
  seeded_sampling     a seeded study samples the same parameters twice, another seed others, all within the space
  failed_trials       trials whose comet_train fails are FAIL with the error text; the study still finishes
  two_workers_sqlite  two worker processes on one SQLite study run N trials between them, each exactly once
  two_workers_postgresql  the same on a PostgreSQL server started here on loopback in a temporary folder
  killed_worker       SIGKILL to a worker mid-trial, a new worker: the killed trial is FAIL and retried, N complete
  heartbeat_clock     a heartbeat written after the stale check's clock is fresh, an old one stale
  report_top5         the table's top-5% statistics against a hand-worked example, through tune_report.py
  budget_curve        the exact budget curve against brute-force enumeration of every subset

usage: /usr/bin/python3 tests/tools/test_tune.py CASE COMET_TRAIN   (exit 0 on success; prints "skipped: <reason>"
and exits 0 when optuna, PostgreSQL or matplotlib is missing)"""
import csv
import itertools
import json
import math
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
SPACES = os.path.join(HERE, "..", "..", "tuning", "spaces")
TUNE = os.path.join(TOOLS, "tune.py")
REPORT = os.path.join(TOOLS, "tune_report.py")
sys.path.insert(0, TOOLS)
import tune_report  # noqa: E402
import tune_space  # noqa: E402

COMET_TRAIN = None
TINY = ["--samples", "2048", "--epochs", "1", "--threads", "1"]
FAILURES = []


class Skip(Exception):
    pass


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL: " + message, flush=True)
    return condition


def need_optuna():
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise Skip("cannot import optuna (Debian's python3-optuna; scripts/install_deps.sh)")
    import warnings
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def tune(args, extra=TINY, **kw):
    command = [sys.executable, TUNE, "run", "--comet-train", COMET_TRAIN, *args, "--", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def finish(process, what, timeout=120):
    out, _ = process.communicate(timeout=timeout)
    check(process.returncode == 0, f"{what}: exit status {process.returncode}; output:\n{out}")
    return out


def trials_of(optuna, storage, study):
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def journal(runs, study):
    with open(os.path.join(runs, study, "executions.jsonl")) as f:
        return [json.loads(line) for line in f]


# --- search spaces ------------------------------------------------------------------------------------------------

BASE = {"dataset": "synthetic", "fixed": {"experts": 4},
        "variants": {"comet+": {"fixed": {"gate": "comet", "local-search": "learned", "k": 2, "gamma": 0.01},
                                "search": {"lr": {"log_uniform": [1e-3, 1e-2]}, "entropy": {"grid": [0.1, 1]},
                                           "perm-epochs": {"int": [1, 10]}}}}}


def report_row(storage, out):
    """Runs tune_report on `storage` into `out` and returns the first row of its table.csv."""
    result = subprocess.run([sys.executable, REPORT, "--storage", storage, "--out", out], capture_output=True,
                            text=True)
    check(result.returncode == 0, f"tune_report: {result.returncode} {result.stderr}")
    with open(os.path.join(out, "table.csv")) as f:
        return next(csv.DictReader(f))


def case_space_errors():
    options, datasets = tune_space.comet_train_options(COMET_TRAIN)
    check({"lr", "gamma", "entropy", "perm-epochs", "gate", "local-search", "k", "experts"} <= options,
          f"comet_train --help gave options {sorted(options)}")
    for name in ("movielens", "books", "jester", "multimnist", "multifashionmnist", "synthetic"):
        path = os.path.join(SPACES, name + ".json")
        space = tune_space.load_space(path, options, datasets)
        listed = set(space.variants) | set(space.excluded)
        wanted = {"softmax", "hash", "hash+", "topk", "topk+", "dselect", "dselect+", "comet", "comet+", "topk+swap",
                  "comet+swap"}
        check(wanted <= listed, f"{path}: variants or exclusions {sorted(listed)} lack {sorted(wanted - listed)}")
        plus = space.variants["comet+"]
        check("gamma" in plus.fixed and "gamma" not in plus.search, f"{path}: COMET+ must fix gamma")
        check(plus.search.get("perm-epochs") is not None and plus.search["perm-epochs"].values == [1, 10],
              f"{path}: COMET+ E_p must be int 1..10")
    ml = tune_space.load_space(os.path.join(SPACES, "movielens.json"), options, datasets)
    check(ml.variants["comet"].search["gamma"].values == [0.01, 0.1, 1, 5, 10], "movielens gamma grid (spec 6.4)")
    check(ml.variants["comet+"].fixed["gamma"] == 10, "movielens COMET+ gamma (spec 6.4)")
    check(ml.variants["topk"].search["lr"].to_json() == {"log_uniform": [5e-5, 5e-4]}, "movielens lr (spec 6.4)")
    check(ml.variants["topk"].fixed["k"] == 2 and ml.variants["topk"].fixed["experts"] == 16, "movielens n, k")

    def mutate(change):
        doc = json.loads(json.dumps(BASE))
        change(doc)
        return doc

    def v(doc):
        return doc["variants"]["comet+"]

    cases = [
        ("unknown parameter", lambda d: v(d)["search"].update({"gama": {"grid": [1]}}),
         "variants.comet+.search.gama: unknown parameter 'gama' (not a comet_train option)"),
        ("unknown fixed parameter", lambda d: d["fixed"].update({"hidden": 3}),
         "fixed.hidden: unknown parameter 'hidden' (not a comet_train option)"),
        ("driver option", lambda d: v(d)["fixed"].update({"out": "x"}),
         "variants.comet+.fixed.out: parameter 'out' is set by the tuning driver"),
        ("empty grid", lambda d: v(d)["search"].update({"entropy": {"grid": []}}),
         "variants.comet+.search.entropy: empty grid"),
        ("reversed range", lambda d: v(d)["search"].update({"lr": {"log_uniform": [1e-2, 1e-3]}}),
         "variants.comet+.search.lr: bad range [0.01, 0.001]: low must be below high"),
        ("log range at 0", lambda d: v(d)["search"].update({"lr": {"log_uniform": [0, 1e-3]}}),
         "variants.comet+.search.lr: bad range [0, 0.001]: log_uniform needs low > 0"),
        ("range of one number", lambda d: v(d)["search"].update({"lr": {"uniform": [1e-3]}}),
         "variants.comet+.search.lr: bad range [0.001]: expected [low, high]"),
        ("int range of floats", lambda d: v(d)["search"].update({"perm-epochs": {"int": [1, 2.5]}}),
         "variants.comet+.search.perm-epochs: bad range [1, 2.5]: int needs integer bounds"),
        ("unknown distribution", lambda d: v(d)["search"].update({"lr": {"normal": [0, 1]}}),
         "variants.comet+.search.lr: expected one of"),
        ("unknown gate", lambda d: v(d)["fixed"].update({"gate": "switch"}),
         "variants.comet+.fixed.gate: unknown gate 'switch'"),
        ("unknown variant", lambda d: d["variants"].update({"switch+": {"fixed": {"gate": "topk"}}}),
         "variants.switch+: unknown gate variant 'switch+'"),
        ("gate against name", lambda d: v(d)["fixed"].update({"gate": "topk"}),
         "variants.comet+.fixed.gate: \"topk\" for variant comet+, expected \"comet\""),
        ("local search against name", lambda d: v(d)["fixed"].update({"local-search": "none"}),
         "variants.comet+.fixed.local-search: \"none\" for variant comet+, expected \"learned\""),
        ("fixed and searched", lambda d: v(d)["search"].update({"gamma": {"grid": [1]}}),
         "variants.comet+.search.gamma: parameter 'gamma' is also fixed"),
        ("gamma for topk", lambda d: d["variants"].update(
            {"topk": {"fixed": {"gate": "topk", "local-search": "none"}, "search": {"gamma": {"grid": [1]}}}}),
         "variants.topk.search.gamma: gamma applies to the comet and dselect gates, not topk"),
        ("E_p without the learned permutation", lambda d: d["variants"].update(
            {"topk+swap": {"fixed": {"gate": "topk", "local-search": "swap"},
                           "search": {"perm-epochs": {"int": [1, 3]}}}}),
         "variants.topk+swap.search.perm-epochs: perm-epochs applies to the learned permutation"),
        ("unknown dataset", lambda d: d.update({"dataset": "imagenet"}), "dataset: unknown data set 'imagenet'"),
        ("unknown top-level key", lambda d: d.update({"trials": 5}), "unknown key 'trials'"),
        ("repeated grid value", lambda d: v(d)["search"].update({"entropy": {"grid": [1, 1]}}),
         "variants.comet+.search.entropy: grid [1, 1] repeats a value"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "space.json")
        with open(path, "w") as f:
            json.dump(BASE, f)
        check(set(tune_space.load_space(path, options, datasets).variants) == {"comet+"}, "the base space loads")
        for what, change, expected in cases:
            with open(path, "w") as f:
                json.dump(mutate(change), f)
            try:
                tune_space.load_space(path, options, datasets)
                check(False, f"{what}: accepted")
            except tune_space.SpaceError as e:
                check(str(e).startswith(path + ": ") and expected in str(e),
                      f"{what}: message {str(e)!r} does not name the file and contain {expected!r}")
        with open(path, "w") as f:
            f.write('{"dataset": "synthetic",')
        try:
            tune_space.load_space(path, options, datasets)
            check(False, "invalid JSON accepted")
        except tune_space.SpaceError as e:
            check(str(e).startswith(path + ": not valid JSON"), f"invalid JSON: {e}")
        # The driver reports a space error with exit status 2 before it creates any study.
        with open(path, "w") as f:
            json.dump(mutate(lambda d: v(d)["search"].update({"entropy": {"grid": []}})), f)
        result = subprocess.run([sys.executable, TUNE, "run", "--comet-train", COMET_TRAIN, "--space", path, "--gate",
                                 "comet+", "--trials", "1", "--runs", os.path.join(tmp, "runs")],
                                capture_output=True, text=True)
        check(result.returncode == 2 and f"{path}: variants.comet+.search.entropy: empty grid" in result.stderr
              and not os.path.exists(os.path.join(tmp, "runs", "tune.db")),
              f"tune.py with a bad space: status {result.returncode}, stderr {result.stderr!r}")
    print(f"{len(cases) + 2} bad spaces refused with the file and key named; 6 shipped spaces load")


def case_space_variants_run():
    """Every variant of the shipped spaces whose data are here, at both ends of every range and grid, is accepted by
    comet_train (--epochs 0: the options are checked, the model built and evaluated once)."""
    options, datasets = tune_space.comet_train_options(COMET_TRAIN)
    data = {"synthetic": ["--samples", "256"],
            "multifashionmnist": ["--train-rows", "64", "--val-rows", "64", "--test-rows", "64"],
            "movielens": ["--data", os.path.join(HERE, "..", "..", "..", "shared", "data", "comet-movielens"),
                          "--train-rows", "256", "--val-rows", "256", "--test-rows", "256"]}
    present = {"synthetic": True, "multifashionmnist": os.path.isdir("/usr/share/datasets/fashion-mnist"),
               "movielens": os.path.isdir(data["movielens"][1])}
    ran, absent = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("movielens", "books", "jester", "multimnist", "multifashionmnist", "synthetic"):
            if not present.get(name):
                absent.append(name)
                continue
            space = tune_space.load_space(os.path.join(SPACES, name + ".json"), options, datasets)
            for variant in space.variants.values():
                for end in (0, -1):
                    config = dict(variant.fixed, dataset=space.dataset)
                    config.update({k: d.values[end] for k, d in variant.search.items()})
                    path = os.path.join(tmp, "config.json")
                    with open(path, "w") as f:
                        json.dump(config, f)
                    result = subprocess.run([COMET_TRAIN, "--config", path, "--epochs", "0", "--threads", "1",
                                             "--batch", "64", *data[name]], capture_output=True, text=True)
                    check(result.returncode == 0, f"{name} {variant.name} {config}: comet_train exited with "
                                                  f"{result.returncode}: {result.stderr.strip()[-300:]}")
                    ran += 1
    print(f"{ran} configurations (every variant, both ends of each range) accepted by comet_train; not checked "
          f"here (no data): {', '.join(absent)}")


# --- the driver ---------------------------------------------------------------------------------------------------

def case_seeded_sampling():
    optuna = need_optuna()
    space = os.path.join(SPACES, "synthetic.json")
    with tempfile.TemporaryDirectory() as tmp:
        params = {}
        for name, seed in (("a", 5), ("b", 5), ("c", 6)):
            runs = os.path.join(tmp, name)
            finish(tune(["--space", space, "--gate", "comet+", "--trials", "6", "--runs", runs, "--sampler-seed",
                         str(seed)]), f"study {name}")
            trials = trials_of(optuna, f"sqlite:///{runs}/tune.db", "synthetic.comet+")
            params[name] = {t.number: t.params for t in trials}
            for t in trials:
                p = t.params
                check(t.state == optuna.trial.TrialState.COMPLETE, f"{name} trial {t.number}: {t.state}")
                check(set(p) == {"lr", "entropy", "perm-epochs"}, f"{name} trial {t.number}: params {p}")
                check(1e-3 <= p["lr"] <= 1e-2 and p["entropy"] in (0.1, 1) and 1 <= p["perm-epochs"] <= 10,
                      f"{name} trial {t.number}: {p} outside the space")
                with open(os.path.join(runs, "synthetic.comet+", f"trial_{t.number}", "config.json")) as f:
                    config = json.load(f)
                check(config["lr"] == p["lr"] and config["entropy"] == p["entropy"]
                      and config["perm-epochs"] == p["perm-epochs"] and config["gamma"] == 0.001
                      and config["gate"] == "comet" and config["local-search"] == "learned",
                      f"{name} trial {t.number}: comet_train ran with {config}, sampled {p}")
        check(len(params["a"]) == 6 and params["a"] == params["b"],
              f"seed 5 twice: {params['a']} vs {params['b']}")
        check(params["a"] != params["c"], "seeds 5 and 6 sampled the same parameters")
        print("seed 5 twice: the same 6 parameter sets; seed 6: others; comet_train ran with what was sampled")


def case_search_override():
    """--search KEY=JSON narrows a searched parameter (a reduced protocol's E_p) and is refused for other keys."""
    optuna = need_optuna()
    space = os.path.join(SPACES, "synthetic.json")
    with tempfile.TemporaryDirectory() as tmp:
        finish(tune(["--space", space, "--gate", "comet+", "--trials", "4", "--runs", tmp,
                     "--search", 'perm-epochs={"int": [2, 2]}']), "study with --search")
        study = optuna.load_study(study_name="synthetic.comet+", storage=f"sqlite:///{tmp}/tune.db")
        sampled = [t.params.get("perm-epochs") for t in study.get_trials(deepcopy=False)]
        check(sampled == [2, 2, 2, 2], f"perm-epochs sampled {sampled}, expected 2 four times")
        recorded = study.user_attrs["space"]["search"]["perm-epochs"]
        check(recorded == {"int": [2, 2]}, f"the study records perm-epochs as {recorded}")
        for item, message in (("gamma=" + '{"grid": [1]}', "variant comet+ of " + space + " does not search 'gamma' "
                               "(it searches lr, entropy, perm-epochs)"),
                              ("perm-epochs", "--search perm-epochs: expected KEY=JSON"),
                              ('perm-epochs={"int": [3, 1]}', "--search perm-epochs: bad range [3, 1]: low must not "
                               "exceed high")):
            result = subprocess.run([sys.executable, TUNE, "run", "--comet-train", COMET_TRAIN, "--space", space,
                                     "--gate", "comet+", "--trials", "1", "--runs", os.path.join(tmp, "x"),
                                     "--search", item, "--", *TINY], capture_output=True, text=True)
            check(result.returncode == 2 and message in result.stderr,
                  f"--search {item}: exit {result.returncode}, stderr {result.stderr!r}, expected {message!r}")
    print("--search narrowed perm-epochs to 2 in 4 trials and the study records it; 3 bad uses refused by name")


def case_failed_trials():
    optuna = need_optuna()
    with tempfile.TemporaryDirectory() as tmp:
        space = os.path.join(tmp, "space.json")
        doc = {"dataset": "synthetic", "fixed": {"experts": 4},
               "variants": {"topk": {"fixed": {"gate": "topk", "local-search": "none", "k": 2},
                                     "search": {"batch": {"grid": [256, 0]}}}}}
        with open(space, "w") as f:
            json.dump(doc, f)
        runs = os.path.join(tmp, "runs")
        out = finish(tune(["--space", space, "--gate", "topk", "--trials", "6", "--runs", runs]), "study")
        trials = trials_of(optuna, f"sqlite:///{runs}/tune.db", "synthetic.topk")
        check(len(trials) == 6, f"{len(trials)} trials, expected 6")
        failed = complete = 0
        for t in trials:
            run_dir = os.path.join(runs, "synthetic.topk", f"trial_{t.number}")
            check(os.path.isfile(os.path.join(run_dir, "output.log")), f"{run_dir}: not kept")
            if t.params["batch"] == 0:
                failed += 1
                error = t.user_attrs.get("error", "")
                check(t.state == optuna.trial.TrialState.FAIL and "comet_train exited with status" in error
                      and "--batch" in error, f"trial {t.number} (batch 0): {t.state}, error {error!r}")
            else:
                complete += 1
                check(t.state == optuna.trial.TrialState.COMPLETE and "error" not in t.user_attrs
                      and isinstance(t.user_attrs.get("test.t1.mse"), float)
                      and t.value == t.user_attrs.get("val.loss"),
                      f"trial {t.number} (batch 256): {t.state}, {t.user_attrs}")
        check(failed and complete, f"{failed} failed and {complete} complete: the grid should give both")
        check("FAILED" in out, "the worker does not print the failure")
        # A run that leaves no summary.json: comet_train --export-data succeeds without training.
        doc["variants"]["topk"]["search"] = {"lr": {"grid": [0.001]}}
        with open(space, "w") as f:
            json.dump(doc, f)
        finish(tune(["--space", space, "--gate", "topk", "--trials", "1", "--runs", runs, "--study", "nosummary"],
                    extra=TINY + ["--export-data", os.path.join(tmp, "export")]), "no-summary study")
        t = trials_of(optuna, f"sqlite:///{runs}/tune.db", "nosummary")[0]
        check(t.state == optuna.trial.TrialState.FAIL and "summary.json: missing" in t.user_attrs.get("error", ""),
              f"no summary: {t.state}, {t.user_attrs.get('error')!r}")
        print(f"{failed} trials failed (batch 0) with comet_train's error, {complete} completed, all 6 run "
              "directories kept; a run without summary.json is FAIL")


def check_shared_study(optuna, storage, runs, study, n):
    trials = trials_of(optuna, storage, study)
    check(sorted(t.number for t in trials) == list(range(n)), f"trial numbers {[t.number for t in trials]}")
    check(all(t.state == optuna.trial.TrialState.COMPLETE for t in trials),
          f"states {[t.state.name for t in trials]}")
    runs_of = journal(runs, study)
    numbers = sorted(r["trial"] for r in runs_of)
    check(numbers == list(range(n)), f"executions {numbers}: each of 0..{n - 1} must run exactly once")
    for t in trials:
        check(os.path.isfile(os.path.join(runs, study, f"trial_{t.number}", "summary.json")),
              f"trial {t.number}: no summary.json")
    workers = {}
    for r in runs_of:
        workers[r["worker"]] = workers.get(r["worker"], 0) + 1
    check(len(workers) <= 2, f"workers {workers}")
    return workers


def two_workers(optuna, storage, runs, n):
    space = os.path.join(SPACES, "synthetic.json")
    args = ["--space", space, "--gate", "topk", "--trials", str(n), "--runs", runs, "--storage", storage]
    extra = ["--samples", "4096", "--epochs", "2", "--threads", "1"]
    workers = [tune(args, extra) for _ in range(2)]
    for i, w in enumerate(workers):
        finish(w, f"worker {i}")
    shared = check_shared_study(optuna, storage, runs, "synthetic.topk", n)
    # Run again: the study is complete, nothing runs twice.
    out = finish(tune(args, extra), "a third worker after the study finished")
    check("this worker ran 0 trials" in out, f"third worker: {out}")
    check_shared_study(optuna, storage, runs, "synthetic.topk", n)
    print(f"2 workers, --trials {n} each: {n} trials, each run once (per worker: {sorted(shared.values())}); "
          "a third worker found nothing left")


def case_two_workers_sqlite():
    optuna = need_optuna()
    with tempfile.TemporaryDirectory() as tmp:
        runs = os.path.join(tmp, "runs")
        two_workers(optuna, f"sqlite:///{runs}/tune.db", runs, 12)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def case_two_workers_postgresql():
    optuna = need_optuna()
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        raise Skip("cannot import psycopg2 (Debian's python3-psycopg2), which Optuna needs for PostgreSQL")
    bins = sorted(d for d in (os.path.join("/usr/lib/postgresql", v, "bin") for v in
                              (os.listdir("/usr/lib/postgresql") if os.path.isdir("/usr/lib/postgresql") else []))
                  if os.path.isfile(os.path.join(d, "initdb")) and os.path.isfile(os.path.join(d, "pg_ctl")))
    if not bins:
        raise Skip("no PostgreSQL server programs (/usr/lib/postgresql/*/bin/initdb, pg_ctl; Debian's postgresql)")
    bin_dir = bins[-1]
    as_user = []
    tmp = tempfile.mkdtemp(prefix="comet-tune-pg-")
    try:
        if os.geteuid() == 0:  # initdb refuses root: run the server as Debian's postgres user
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise Skip("running as root and there is no 'postgres' user to run the server as") from None
            if not shutil.which("runuser"):
                raise Skip("running as root and runuser is missing")
            as_user = ["runuser", "-u", "postgres", "--"]
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
        data, log, port = os.path.join(tmp, "data"), os.path.join(tmp, "server.log"), free_port()
        init = subprocess.run(as_user + [os.path.join(bin_dir, "initdb"), "-D", data, "-U", "tune", "--auth=trust",
                                         "--no-sync", "-E", "UTF8"], capture_output=True, text=True)
        if init.returncode != 0:
            raise Skip(f"initdb failed: {init.stderr.strip()[-300:]}")
        start = subprocess.run(as_user + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "30",
                                          "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off",
                                          "start"], capture_output=True, text=True)
        if start.returncode != 0:
            text = open(log).read()[-300:] if os.path.exists(log) else ""
            raise Skip(f"the PostgreSQL server did not start: {start.stderr.strip()[-300:]} {text}")
        try:
            runs = os.path.join(tmp, "runs")
            os.makedirs(runs)
            print(f"PostgreSQL server {bin_dir} on 127.0.0.1:{port}")
            two_workers(optuna, f"postgresql://tune@127.0.0.1:{port}/postgres", runs, 12)
        finally:
            subprocess.run(as_user + [os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                           capture_output=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_killed_worker():
    optuna = need_optuna()
    space = os.path.join(SPACES, "synthetic.json")
    with tempfile.TemporaryDirectory() as tmp:
        runs = os.path.join(tmp, "runs")
        storage = f"sqlite:///{runs}/tune.db"
        study = "synthetic.topk+"
        args = ["--space", space, "--gate", "topk+", "--trials", "3", "--runs", runs, "--heartbeat", "1",
                "--grace", "2"]
        extra = ["--samples", "16384", "--epochs", "8", "--patience", "100", "--threads", "1"]
        first = tune(args, extra)
        trial_dir = os.path.join(runs, study, "trial_0")
        deadline = time.time() + 60
        while not os.path.isfile(os.path.join(trial_dir, "metrics.jsonl")) and time.time() < deadline:
            time.sleep(0.05)  # epoch 0 written: comet_train is training
        killed_mid_trial = not os.path.isfile(os.path.join(trial_dir, "summary.json"))
        first.send_signal(signal.SIGKILL)
        first.communicate()
        check(killed_mid_trial, "the first trial finished before the kill; make it longer")
        time.sleep(3)
        check(not os.path.isfile(os.path.join(trial_dir, "summary.json")),
              "comet_train kept running after its worker was killed")
        second = tune(args, extra)
        out = finish(second, "the worker started after the kill")
        check("trial 0 lost its worker: marked FAIL, queued for a retry" in out, f"second worker's output:\n{out}")
        trials = {t.number: t for t in trials_of(optuna, storage, study)}
        state = optuna.trial.TrialState
        complete = [t for t in trials.values() if t.state == state.COMPLETE]
        check(trials[0].state == state.FAIL and "heartbeats" in trials[0].user_attrs.get("error", ""),
              f"killed trial 0: {trials[0].state}, {trials[0].user_attrs.get('error')!r}")
        retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == 0]
        check(len(retries) == 1 and retries[0].state == state.COMPLETE and retries[0].params == trials[0].params,
              f"retry of trial 0: {[(t.number, t.state.name, t.params) for t in retries]} vs {trials[0].params}")
        check(len(complete) == 3 and len(trials) == 4, f"{len(complete)} complete of {len(trials)}: expected 3 of 4")
        check(0 not in [t.number for t in complete], "the killed trial counted as complete")
        numbers = [r["trial"] for r in journal(runs, study)]
        check(sorted(numbers) == sorted(set(numbers)) and set(numbers) == set(trials),
              f"executions {numbers}: each trial once")
        print(f"killed trial 0 mid-run: FAIL ({trials[0].user_attrs.get('error')!r}), retried as trial "
              f"{retries[0].number if retries else '?'} with its parameters; 3 complete trials")
        row = report_row(storage, os.path.join(tmp, "report"))
        check(row["complete"] == "3" and row["failed"] == "1" and row["unfinished"] == "0",
              f"report row {row}: expected 3 complete, 1 failed")



def case_heartbeat_clock():
    """A heartbeat newer than the checker's clock is fresh, an old one stale (the race behind a CI failure)."""
    optuna = need_optuna()
    import datetime
    import sqlalchemy
    from optuna.storages._rdb import models
    import tune
    grace = 5
    with tempfile.TemporaryDirectory() as tmp:
        storage = tune.make_storage(optuna, f"sqlite:///{tmp}/tune.db", 1, grace)
        study = optuna.create_study(study_name="clock", storage=storage)
        fresh, stale, silent = (study.ask() for _ in range(3))  # RUNNING; `silent` has no heartbeat yet
        now = datetime.datetime.utcnow().replace(microsecond=0)
        beat = models.TrialHeartbeatModel
        with storage.engine.begin() as connection:
            for trial, when in ((fresh, now + datetime.timedelta(seconds=3)),
                                (stale, now - datetime.timedelta(seconds=grace + 30))):
                connection.execute(sqlalchemy.insert(beat).values(trial_id=trial._trial_id, heartbeat=when))
        optuna_says = set(storage._get_stale_trial_ids(study._study_id))
        ids = tune.stale_trial_ids(study._storage, study._study_id, grace)
        check(ids == [stale._trial_id], f"stale trials {ids}: expected only {stale._trial_id} (fresh "
              f"{fresh._trial_id}, no heartbeat {silent._trial_id})")
        retried = []
        tune.fail_stale_trials(optuna, study, lambda s, t: retried.append(t.number), grace)
        states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
        state = optuna.trial.TrialState
        check(states == {fresh.number: state.RUNNING, stale.number: state.FAIL, silent.number: state.RUNNING}
              and retried == [stale.number], f"after fail_stale_trials: {states}, retried {retried}")
        print(f"Optuna {optuna.__version__} alone calls {sorted(optuna_says)} stale; the driver "
              f"{ids} (fresh {fresh._trial_id}, stale {stale._trial_id}, no heartbeat {silent._trial_id})")

# --- reporting ----------------------------------------------------------------------------------------------------

def case_report_top5():
    optuna = need_optuna()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise Skip("cannot import matplotlib (Debian's python3-matplotlib)")
    # Hand-worked: 41 complete trials, so the top 5% is ceil(2.05) = 3 trials: validation losses 0.10, 0.20, 0.30
    # (trials 7, 3, 11; the 38 others have 1.0 and above). Their test T1 AUCs 0.70, 0.80, 0.90 give mean 0.8 and
    # standard deviation sqrt(((-0.1)^2 + 0 + 0.1^2) / 2) = 0.1, so standard error 0.1 / sqrt(3) = 0.057735.
    # Test losses 0.5, 0.6, 1.0: mean 0.7, sd sqrt((0.04 + 0.01 + 0.09) / 2) = sqrt(0.07), se sqrt(0.07 / 3) =
    # 0.152753. T2 MSE 2, 2, 2: mean 2, se 0. Experts 2, 1.7, 2: mean 1.9, sd sqrt((0.01 + 0.04 + 0.01) / 2) =
    # sqrt(0.03), se sqrt(0.03 / 3) = 0.1. A FAIL trial with a lower "loss" and a better AUC must not count.
    top = {7: (0.10, 0.70, 0.5, 2.0), 3: (0.20, 0.80, 0.6, 1.7), 11: (0.30, 0.90, 1.0, 2.0)}
    tasks = [{"name": "watched", "kind": "binary"}, {"name": "rating", "kind": "regression"}]
    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{tmp}/tune.db"
        study = optuna.create_study(storage=storage, study_name="movielens.topk")
        study.set_user_attr("dataset", "movielens")
        study.set_user_attr("variant", "topk")
        number = 0
        for i in range(42):
            if i == 20:
                study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                                          user_attrs={"test.watched.auc": 0.99}))
                continue
            v, auc, loss, experts = top.get(i, (1.0 + i, 0.5, 3.0, 2.0))
            study.add_trial(optuna.trial.create_trial(value=v, user_attrs={
                "test.loss": loss, "test.watched.auc": auc, "test.rating.mse": 2.0, "test.experts_per_sample": experts,
                "tasks": tasks}))
            number += 1
        out = os.path.join(tmp, "report")
        row = report_row(storage, out)
        expected = {"complete": 41, "failed": 1, "top": 3, "t1_mean": 0.8, "t1_se": 0.1 / math.sqrt(3),
                    "test_loss_mean": 0.7, "test_loss_se": math.sqrt(0.07 / 3), "t2_mean": 2.0, "t2_se": 0.0,
                    "experts_mean": 1.9, "experts_se": 0.1}
        for key, want in expected.items():
            check(math.isclose(float(row[key]), want, rel_tol=1e-9, abs_tol=1e-12),
                  f"table.csv {key} = {row[key]}, hand-worked {want}")
        check(row["t1_name"] == "watched auc" and row["t2_name"] == "rating mse", f"metric names {row}")
        with open(os.path.join(out, "table.md")) as f:
            md = f.read()
        check("| topk | 41 / 1 / 0 | 3 | 0.7000 ± 0.1528 | 0.8000 ± 0.0577 | 2.0000 ± 0.0000 | 1.90 ± 0.10 |" in md,
              f"table.md:\n{md}")
        png = os.path.join(out, "budget_movielens.png")
        with open(png, "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG")
    # top_count at the edges: 1 trial -> 1, 20 -> 1, 21 -> 2, 500 -> 25.
    counts = [tune_report.top_count(n, 0.05) for n in (0, 1, 20, 21, 40, 500)]
    check(counts == [0, 1, 1, 2, 2, 25], f"top_count {counts}")
    check(tune_report.mean_se([0.7]) == (0.7, None), "one trial: no standard error")
    print("top 5% of 41 trials = 3; means and standard errors equal the hand-worked ones; the FAIL trial ignored")


def case_budget_curve():
    # 7 trials with distinct validation losses and 2 with a tie (broken by the trial number): every subset of
    # every size, its best-by-validation trial's metric, averaged, against the order-statistics formula.
    trials = [{"number": n, "value": v, "attrs": {"test.t1.auc": m, "tasks": [{"name": "t1", "kind": "binary"}]}}
              for n, v, m in [(0, 0.5, 0.61), (1, 0.2, 0.74), (2, 0.9, 0.52), (3, 0.2, 0.70), (4, 0.35, 0.66),
                              (5, 0.8, 0.58), (6, 0.1, 0.69), (7, 0.6, 0.63), (8, 0.45, 0.71)]]
    n = len(trials)
    order = tune_report.ranked(trials)
    metrics = [t["attrs"]["test.t1.auc"] for t in order]
    for b in range(1, n + 1):
        subsets = list(itertools.combinations(trials, b))
        brute = sum(min(s, key=lambda t: (t["value"], t["number"]))["attrs"]["test.t1.auc"] for s in subsets)
        brute /= len(subsets)
        exact = tune_report.expected_best(metrics, b)
        check(math.isclose(exact, brute, rel_tol=1e-12), f"budget {b}: exact {exact}, brute force {brute}")
    curve, title = tune_report.budget_curve(trials)
    check([b for b, _ in curve] == [1, 2, 4, 8, 9] and title == "t1 auc", f"budgets {curve} {title}")
    check(math.isclose(curve[0][1], sum(metrics) / n) and curve[-1][1] == 0.69,
          f"budget 1 is the mean, budget n the best trial's metric: {curve}")
    print(f"exact expectation = brute force over all {2 ** n - 1} subsets, budgets {[b for b, _ in curve]}")


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}


def main():
    global COMET_TRAIN
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        print(f"usage: test_tune.py {{{','.join(CASES)}}} COMET_TRAIN", file=sys.stderr)
        return 2
    COMET_TRAIN = os.path.abspath(sys.argv[2])
    start = time.time()
    try:
        CASES[sys.argv[1]]()
    except Skip as e:
        print(f"skipped: {e}")
        return 0
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print(f"{sys.argv[1]}: all checks passed ({time.time() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
