#!/usr/bin/env python3
"""Random-search tuning of comet_train on Optuna (spec comet.md 6.5: Optuna's RandomSampler, a study per data set and
gate variant, the task-weighted validation loss as the objective).

usage: tools/tune.py run --space tuning/spaces/movielens.json --gate comet+ --trials 500
                         [--storage sqlite:///runs/tune/tune.db | postgresql://user@host:5432/db] [--study NAME]
                         [--runs DIR] [--sampler-seed S] [--comet-train PATH] [--heartbeat S] [--grace S]
                         [--max-retry R] [--trial-timeout S] [--no-wait] [--search KEY=JSON ...]
                         [-- <extra comet_train options>]

Each trial samples the variant's search space (tools/tune_space.py), writes <runs>/<study>/trial_<n>/trial.json (the
variant's fixed options and the sampled ones, comet_train --config keys), runs
  comet_train --config trial_<n>/trial.json --out trial_<n> <extra options>
as a subprocess (its output in trial_<n>/output.log), reads summary.json and reports the validation loss
(summary["val"]["loss"], task-weighted as comet_train computes it). The trial's user attributes hold the test and
validation metrics ("test.loss", "test.<task>.<metric>", "test.experts_per_sample" (mean over the gates), ...), the
tasks and the run directory. A trial whose comet_train exits non-zero, or leaves no usable summary.json, is marked
FAIL with the error text in its "error" attribute; the study goes on. Run directories are always kept, and every start
of a trial adds a line to <runs>/<study>/executions.jsonl (trial number, worker, time).

--trials N is the study's total, not this process's share: the first process creates N queued (WAITING) trials, under
a lock that works on every storage (a marker study whose name is unique in the storage); every worker, on this machine
or another one sharing the storage, takes queued trials one at a time (Optuna's WAITING -> RUNNING change, made atomic
on SQLite too: every transaction there starts with BEGIN IMMEDIATE), so N trials run once between them. Running the
command again resumes the study (and tops it up if N grew). A worker that dies (SIGKILL, power loss) stops its trial's
heartbeat; once --grace seconds have passed, any worker marks that trial FAIL (its "error" says so) and queues a retry
with the same parameters (a new trial number; system attributes "failed_trial" and "retry_history" as Optuna's
RetryFailedTrialCallback writes them), up to --max-retry times; SIGINT / SIGTERM to a worker do the same at once. A
worker that finds no queued trial waits while others still run trials (their retries may need it), unless --no-wait.

--search KEY=JSON replaces the variant's distribution of a parameter that it searches, e.g. for a reduced protocol
that trains fewer epochs than the paper: --search 'perm-epochs={"int": [1, 2]}' (the paper's E_p of 1..10 epochs out
of 100 would cover the whole of an 8-epoch run). The study records the space it sampled.

Sampling: Optuna's RandomSampler whose random stream is reseeded per (seed, trial number, parameter), so a seeded
study samples the same parameters for each trial number however many workers share it and in whatever order they
take trials. Storage default: a SQLite file, sqlite:///<runs>/tune.db. The engine never needs Python; this is a tool.
Tests: tests/tools/test_tune.py."""
import argparse
import ctypes
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tune_space import SpaceError, comet_train_options, default_comet_train, load_space, parse_distribution  # noqa: E402

LOCK_SUFFIX = ":lock"  # marker studies used as a mutex; tools/tune_report.py skips them
JOURNAL = "executions.jsonl"  # one line per started trial execution, in <runs>/<study>/


class TuneError(Exception):
    pass


def import_optuna():
    try:
        import optuna
    except ImportError:
        raise TuneError("cannot import optuna: install Debian's python3-optuna (scripts/install_deps.sh) and run "
                        "this with /usr/bin/python3") from None
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def make_sampler(optuna, seed):
    import numpy

    class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
        """RandomSampler whose stream depends on (seed, trial number, parameter name) only."""

        def __init__(self, seed):
            super().__init__(seed=seed)
            self._base_seed = seed

        def sample_independent(self, study, trial, param_name, param_distribution):
            number = trial.system_attrs.get("failed_trial", trial.number)  # a retry samples as its original did
            key = numpy.random.SeedSequence([self._base_seed, number, zlib.crc32(param_name.encode())])
            self._rng = numpy.random.RandomState(numpy.random.MT19937(key))
            return super().sample_independent(study, trial, param_name, param_distribution)

    return TrialSeededRandomSampler(seed)


def serialize_sqlite_transactions(engine):
    """Every transaction on the SQLite file starts with BEGIN IMMEDIATE (the write lock). Python's sqlite3 otherwise
    runs a transaction's SELECTs before its BEGIN, and SQLite has no SELECT ... FOR UPDATE, so two workers could both
    read a queued trial as WAITING and both run it (seen in tests/tools/test_tune.py before this), or both fail the
    same stale trial and queue two retries."""
    import sqlalchemy

    @sqlalchemy.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_storage(optuna, url, heartbeat, grace):
    engine_kwargs = {}
    if url.startswith("sqlite:"):
        engine_kwargs = {"connect_args": {"timeout": 120}}  # several processes take turns on the file
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                os.makedirs(parent, exist_ok=True)
    import sqlalchemy.exc
    for attempt in range(20):
        try:
            storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat,
                                                 grace_period=grace)
            if url.startswith("sqlite:"):
                serialize_sqlite_transactions(storage.engine)
            return storage
        except sqlalchemy.exc.SQLAlchemyError as e:
            # Workers starting together on a new database race to create Optuna's tables ("table studies already
            # exists"); the loser tries again and finds them.
            if attempt == 19 or not isinstance(e, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError,
                                                   sqlalchemy.exc.ProgrammingError)):
                raise
            time.sleep(0.2 + 0.5 * random.random())


class StudyLock:
    """A mutex shared by every process using the storage: a study named <study>:lock exists while it is held
    (study names are unique in an Optuna storage, so exactly one create_study succeeds). A lock older than
    `stale_after` seconds (its holder died inside the few statements it guards) is broken."""

    def __init__(self, optuna, storage, study_name, stale_after=60.0):
        self.optuna, self.storage, self.name, self.stale_after = optuna, storage, study_name + LOCK_SUFFIX, stale_after

    def __enter__(self):
        first_seen = None
        while True:
            try:
                marker = self.optuna.create_study(storage=self.storage, study_name=self.name)
                marker.set_user_attr("holder", f"{socket.gethostname()}:{os.getpid()}")
                return self
            except self.optuna.exceptions.DuplicatedStudyError:
                first_seen = first_seen or time.time()
                if time.time() - first_seen > self.stale_after:
                    print(f"tune: breaking a lock held for over {self.stale_after:.0f} s ({self.name})", flush=True)
                    self._release()
                    first_seen = None
                time.sleep(0.05 + 0.2 * random.random())

    def _release(self):
        try:
            self.optuna.delete_study(study_name=self.name, storage=self.storage)
        except KeyError:
            pass

    def __exit__(self, *exc):
        self._release()


def study_settings(space, variant, extra, seed):
    return {"dataset": space.dataset, "variant": variant.name, "gate": variant.gate,
            "local_search": variant.local_search, "space": variant.to_json(), "extra_args": extra,
            "sampler_seed": seed}


def open_study(optuna, storage, name, sampler, settings, space_path, trials):
    """Creates or loads the study and queues trials until it has `trials` originals (retries not counted), all under
    the storage-wide lock; refuses a study created with other settings."""
    with StudyLock(optuna, storage, name):
        try:
            study = optuna.create_study(storage=storage, study_name=name, sampler=sampler, direction="minimize")
            for key, value in settings.items():
                study.set_user_attr(key, value)
            study.set_user_attr("space_file", space_path)
            created = True
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(storage=storage, study_name=name, sampler=sampler)
            created = False
            theirs = {k: study.user_attrs.get(k) for k in settings}
            for key, value in settings.items():
                if json.dumps(theirs[key], sort_keys=True) != json.dumps(value, sort_keys=True):
                    raise TuneError(f"study '{name}' was created with {key} = {json.dumps(theirs[key])}, this "
                                    f"command has {json.dumps(value)}; use another --study or the same settings")
        originals = [t for t in study.get_trials(deepcopy=False) if "failed_trial" not in t.system_attrs]
        for _ in range(trials - len(originals)):
            study.enqueue_trial({})
    return study, created, len(originals)


def make_retry(optuna, max_retry):
    """Queues a lost trial again with its parameters (like Optuna's RetryFailedTrialCallback, whose system attributes
    "failed_trial" (the original's number) and "retry_history" it writes, but without copying the lost run's user
    attributes), at most max_retry times."""

    def retry(study, trial):
        history = list(trial.system_attrs.get("retry_history", [])) + [trial.number]
        if len(history) > max_retry:
            print(f"tune: trial {trial.number} is not retried again (--max-retry {max_retry})", flush=True)
            return
        study.add_trial(optuna.trial.create_trial(
            state=optuna.trial.TrialState.WAITING, params=trial.params, distributions=trial.distributions,
            system_attrs={"failed_trial": history[0], "retry_history": history}))

    return retry


def die_with_parent():
    """In the child: SIGKILL it when the worker dies, so a killed worker leaves no training running."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def pop_trial(optuna, study):
    """Takes one queued trial (WAITING -> RUNNING is atomic in the storage), or returns None. Its heartbeat is written
    first: Optuna never counts a RUNNING trial without a heartbeat as stale, so a worker killed between the two
    statements in the other order would leave a trial RUNNING for ever."""
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
        try:
            study._storage.record_heartbeat(t._trial_id)
            if study._storage.set_trial_state_values(t._trial_id, state=optuna.trial.TrialState.RUNNING):
                return optuna.trial.Trial(study, t._trial_id)
        except RuntimeError:
            pass  # another worker took it and has finished it since the list was read
    return None


def heartbeat_age(storage, trial_id):
    """Seconds since the trial's last heartbeat by the database's clock, signed; None where it has none."""
    import sqlalchemy
    from optuna.storages._rdb import models
    rdb = getattr(storage, "_backend", storage)  # the RDBStorage under Optuna's cache
    beat = models.TrialHeartbeatModel
    with rdb.engine.connect() as connection:
        row = connection.execute(sqlalchemy.select(beat.heartbeat, sqlalchemy.func.now())
                                 .where(beat.trial_id == trial_id)).one_or_none()
    if row is None:
        return None
    heartbeat, now = row
    return (now.replace(tzinfo=None) - heartbeat).total_seconds()  # PostgreSQL's now() is time-zone aware


def stale_trial_ids(storage, study_id, grace):
    """Optuna's candidates, each confirmed by its signed heartbeat age. Optuna 3.1 compares timedelta.seconds, which
    reads a heartbeat written after its clock was taken (PostgreSQL's now() is the transaction's start) as nearly a
    day old: a worker that had just taken a trial saw it failed by the other worker (seen in CI)."""
    ids = []
    for trial_id in storage._get_stale_trial_ids(study_id):
        age = heartbeat_age(storage, trial_id)
        if age is not None and age > grace:
            ids.append(trial_id)
    return ids


def fail_stale_trials(optuna, study, retry, grace):
    """Marks RUNNING trials whose heartbeat stopped as FAIL, with the reason, and queues their retries."""
    storage = study._storage
    for trial_id in stale_trial_ids(storage, study._study_id, grace):
        try:
            storage.set_trial_user_attr(trial_id, "error", "the worker stopped sending heartbeats (killed or lost) "
                                        "during this trial; it is retried with the same parameters")
            if storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL):
                failed = storage.get_trial(trial_id)
                print(f"tune: trial {failed.number} lost its worker: marked FAIL, queued for a retry", flush=True)
                retry(study, failed)
        except RuntimeError:
            pass  # finished meanwhile (another worker got there first)


class Heartbeat:
    def __init__(self, storage, trial_id, interval):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self.stop_event = threading.Event()
        storage.record_heartbeat(trial_id)
        self.thread = threading.Thread(target=self._beat, daemon=True)
        self.thread.start()

    def _beat(self):
        while not self.stop_event.wait(self.interval):
            self.storage.record_heartbeat(self.trial_id)

    def stop(self):
        self.stop_event.set()
        self.thread.join()


def sample(trial, variant):
    params = {}
    for key, d in variant.search.items():
        if d.kind == "log_uniform":
            params[key] = trial.suggest_float(key, d.values[0], d.values[1], log=True)
        elif d.kind == "uniform":
            params[key] = trial.suggest_float(key, d.values[0], d.values[1])
        elif d.kind == "int":
            params[key] = trial.suggest_int(key, d.values[0], d.values[1])
        else:
            params[key] = trial.suggest_categorical(key, d.values)
    return params


def flatten_metrics(prefix, evaluation):
    """{"loss", "tasks": {t: {m: v}}, "gates": [...]} -> {"<prefix>.loss", "<prefix>.<t>.<m>",
    "<prefix>.experts_per_sample" (mean over the gates)}."""
    out = {f"{prefix}.loss": evaluation.get("loss")}
    for task, metrics in evaluation.get("tasks", {}).items():
        for metric, value in metrics.items():
            out[f"{prefix}.{task}.{metric}"] = value
    gates = [g.get("experts_per_sample") for g in evaluation.get("gates", [])]
    if gates and all(isinstance(g, (int, float)) for g in gates):
        out[f"{prefix}.experts_per_sample"] = sum(gates) / len(gates)
    return out


def read_result(run_dir):
    """(validation loss, user attributes) from a finished run directory; raises TuneError if unusable."""
    path = os.path.join(run_dir, "summary.json")
    try:
        with open(path) as f:
            summary = json.load(f)
    except OSError:
        raise TuneError(f"{path}: missing (comet_train wrote no summary)") from None
    except json.JSONDecodeError as e:
        raise TuneError(f"{path}: not valid JSON: {e}") from None
    try:
        value = summary["val"]["loss"]
        attrs = flatten_metrics("test", summary["test"])
        attrs.update(flatten_metrics("val", summary["val"]))
    except (KeyError, TypeError, AttributeError) as e:
        raise TuneError(f"{path}: no val / test metrics ({e!r})") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TuneError(f"{path}: the validation loss is {json.dumps(value)}, not a finite number")
    attrs.update({k: summary.get(k) for k in ("best_epoch", "stopped_early", "sparsity", "seconds")})
    try:
        with open(os.path.join(run_dir, "config.json")) as f:
            attrs["tasks"] = json.load(f).get("tasks")
    except (OSError, json.JSONDecodeError):
        pass
    return float(value), attrs


def tail(path, limit=2000):
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return ""
    return text[-limit:]


def run_trial(optuna, study, trial, space, variant, args, extra, retry):
    params = sample(trial, variant)
    run_dir = os.path.join(args.runs, study.study_name, f"trial_{trial.number}")
    os.makedirs(run_dir, exist_ok=True)
    config = dict(variant.fixed)
    config["dataset"] = space.dataset
    config.update(params)
    config_path = os.path.join(run_dir, "trial.json")
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    command = [args.comet_train, "--config", config_path, "--out", run_dir, *extra]
    trial.set_user_attr("run_dir", os.path.abspath(run_dir))
    trial.set_user_attr("command", command)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    trial.set_user_attr("worker", worker)
    retry_of = study._storage.get_trial(trial._trial_id).system_attrs.get("failed_trial")
    line = json.dumps({"trial": trial.number, "worker": worker, "start": time.time(), "retry_of": retry_of}) + "\n"
    fd = os.open(os.path.join(args.runs, study.study_name, JOURNAL), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    retry_note = "" if retry_of is None else f" (retry of trial {retry_of})"
    print(f"tune: {study.study_name} trial {trial.number}{retry_note}: {json.dumps(params)}", flush=True)
    log_path = os.path.join(run_dir, "output.log")
    error = None
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        try:
            try:
                code = process.wait(timeout=args.trial_timeout or None)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                code = None
                error = f"comet_train ran past --trial-timeout {args.trial_timeout} s and was killed"
        except BaseException:  # KeyboardInterrupt (SIGINT, SIGTERM): stop the run, requeue the trial
            process.kill()
            process.wait()
            trial.set_user_attr("error", "interrupted (SIGINT / SIGTERM to the worker); retried with the same "
                                "parameters")
            frozen = study.tell(trial, state=optuna.trial.TrialState.FAIL)
            retry(study, frozen)
            raise
    if error is None and code != 0:
        error = f"comet_train exited with status {code}: {tail(log_path).strip()}"
    if error is None:
        try:
            value, attrs = read_result(run_dir)
        except TuneError as e:
            error = str(e)
    if error is not None:
        trial.set_user_attr("error", error)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        print(f"tune: {study.study_name} trial {trial.number} FAILED: {error.splitlines()[0]}", flush=True)
        return False
    for key, val in attrs.items():
        trial.set_user_attr(key, val)
    study.tell(trial, value)
    print(f"tune: {study.study_name} trial {trial.number}: val loss {value:.6g}", flush=True)
    return True


def override_search(variant, item, space_path):
    """Applies one --search KEY=JSON to the variant: KEY must be a parameter the variant searches."""
    key, sep, text = item.partition("=")
    if not sep:
        raise TuneError(f"--search {item}: expected KEY=JSON, e.g. perm-epochs={{\"int\": [1, 2]}}")
    if key not in variant.search:
        searched = ", ".join(variant.search) or "nothing"
        raise TuneError(f"--search {item}: variant {variant.name} of {space_path} does not search '{key}' "
                        f"(it searches {searched})")
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise TuneError(f"--search {item}: not valid JSON: {e}") from None
    variant.search[key] = parse_distribution(f"--search {key}", spec)


def command_run(args, extra):
    options, datasets = comet_train_options(args.comet_train)
    space = load_space(args.space, options, datasets)
    variant = space.variant(args.gate)
    for item in args.search:
        override_search(variant, item, args.space)
    optuna = import_optuna()
    for a in extra:
        name = a[2:].split("=")[0] if a.startswith("--") else None
        if name in ("out", "config"):
            raise TuneError(f"extra option {a}: the driver sets --out and --config itself")
    name = args.study or f"{space.dataset}.{variant.name}"
    if name.endswith(LOCK_SUFFIX):
        raise TuneError(f"--study {name}: names ending in {LOCK_SUFFIX} are the driver's locks")
    if args.storage is None:
        args.storage = "sqlite:///" + os.path.abspath(os.path.join(args.runs, "tune.db"))
    os.makedirs(os.path.join(args.runs, name), exist_ok=True)
    storage = make_storage(optuna, args.storage, args.heartbeat, args.grace)
    sampler = make_sampler(optuna, args.sampler_seed)
    settings = study_settings(space, variant, extra, args.sampler_seed)
    study, created, before = open_study(optuna, storage, name, sampler, settings, args.space, args.trials)
    print(f"tune: study '{name}' in {args.storage}: {'created' if created else f'{before} trials queued before'}; "
          f"{args.trials} trials in all", flush=True)
    retry = make_retry(optuna, args.max_retry)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    ran = 0
    try:
        while True:
            fail_stale_trials(optuna, study, retry, args.grace)
            trial = pop_trial(optuna, study)
            if trial is None:
                running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
                if not running or args.no_wait:
                    break
                time.sleep(min(1.0, args.heartbeat))
                continue
            heartbeat = Heartbeat(study._storage, trial._trial_id, args.heartbeat)
            try:
                run_trial(optuna, study, trial, space, variant, args, extra, retry)
                ran += 1
            finally:
                heartbeat.stop()
    except KeyboardInterrupt:
        print("tune: interrupted; the current trial is queued again", file=sys.stderr, flush=True)
        return 130
    states = {}
    for t in study.get_trials(deepcopy=False):
        states[t.state.name] = states.get(t.state.name, 0) + 1
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    best = min(complete, key=lambda t: t.value) if complete else None
    print(f"tune: study '{name}': this worker ran {ran} trials; the study has "
          f"{', '.join(f'{v} {k.lower()}' for k, v in sorted(states.items()))}"
          + (f"; best val loss {best.value:.6g} (trial {best.number})" if best else ""), flush=True)
    return 0


def positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return v


def main(argv):
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(prog="tune.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run (or resume, or join) a study: tools/tune.py run --space F --gate G "
                                     "--trials N [...] -- <comet_train options>")
    run.add_argument("--space", required=True, help="search-space file (tuning/spaces/<dataset>.json)")
    run.add_argument("--gate", required=True, help="gate variant of the space: softmax, topk, topk+, comet+, ...")
    run.add_argument("--trials", required=True, type=positive_int, help="the study's total number of trials")
    run.add_argument("--storage", help="Optuna RDB URL (default: sqlite:///<runs>/tune.db); postgresql://... for "
                                       "workers on several machines")
    run.add_argument("--study", help="study name (default: <dataset>.<gate variant>)")
    run.add_argument("--runs", default="runs/tune", help="run directories: <runs>/<study>/trial_<n> (default: "
                                                         "runs/tune)")
    run.add_argument("--sampler-seed", type=int, default=0, help="seed of the RandomSampler (default 0)")
    run.add_argument("--comet-train", default=default_comet_train(), help="the comet_train program (default: "
                                                                          "build/tools/comet_train, or $COMET_TRAIN)")
    run.add_argument("--heartbeat", type=positive_int, default=30, help="seconds between a running trial's "
                                                                        "heartbeats (default 30)")
    run.add_argument("--grace", type=positive_int, default=120, help="seconds without a heartbeat after which a "
                                                                     "trial counts as lost and is retried "
                                                                     "(default 120)")
    run.add_argument("--max-retry", type=int, default=3, help="retries of a lost trial (default 3)")
    run.add_argument("--trial-timeout", type=float, default=0, help="kill a trial after this many seconds and "
                                                                    "mark it FAIL (default 0: no limit)")
    run.add_argument("--search", action="append", default=[], metavar="KEY=JSON",
                     help="replace the variant's distribution of a searched parameter, e.g. "
                          "'perm-epochs={\"int\": [1, 2]}' (repeatable)")
    run.add_argument("--no-wait", action="store_true", help="exit when no trial is queued, even while other "
                                                            "workers still run trials")
    args = parser.parse_args(argv)
    try:
        return command_run(args, extra)
    except (TuneError, SpaceError) as e:
        print(f"tune: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
