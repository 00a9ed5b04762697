"""Search spaces of the tuning driver (tools/tune.py), as data: tuning/spaces/<dataset>.json.

A space file is a JSON object:
  {"dataset": "movielens",                        comet_train's --dataset
   "notes": "...",                                 free text (sources, choices), optional
   "fixed": {"experts": 16},                       options every variant gets, optional
   "variants": {                                   one entry per gate variant
     "comet+": {"fixed": {"gate": "comet", "local-search": "learned", "k": 2, "gamma": 10},
                "search": {"lr": {"log_uniform": [5e-5, 5e-4]},
                           "entropy": {"grid": [0.05, 0.1, 0.5, 1, 5, 10]},
                           "perm-epochs": {"int": [1, 10]}},
                "notes": "..."}},
   "excluded": {"hash": "why this variant is absent"}}   optional
Keys of "fixed" and "search" are comet_train's long option names (what its --config takes). A search entry is one of
  {"log_uniform": [low, high]}   0 < low < high, sampled log-uniformly (Optuna suggest_float(log=True))
  {"uniform": [low, high]}       low < high
  {"int": [low, high]}           integers, low <= high, each equally likely
  {"grid": [v1, v2, ...]}        a non-empty list of distinct values, each equally likely
A variant's name says its gate and local search: "topk" (none), "topk+" (learned, the paper's Sinkhorn
permutation), "topk+swap" (the discrete swap pass); likewise for softmax (no "+"), hash, dselect and comet.

load_space() refuses, with an error naming the file and the key: invalid JSON, an unknown key, an unknown parameter
(not a comet_train option, or one the driver sets itself such as out and config), an unknown gate or variant, a
variant whose gate or local search disagrees with its name, an empty grid, a bad range, a parameter both fixed and
searched, and options comet_train would refuse for that gate (gamma / entropy outside comet and dselect, perm-epochs
without the learned permutation, k for softmax, k other than 1 for hash).
Python standard library only (no Optuna), so it also runs where Optuna is absent. Test: tests/tools/test_tune.py."""
import json
import math
import os
import re
import subprocess

GATES = ("softmax", "topk", "hash", "dselect", "comet")
LOCAL_SEARCHES = {"": "none", "+": "learned", "+swap": "swap"}
VARIANTS = {}
for _gate in GATES:
    for _suffix, _search in LOCAL_SEARCHES.items():
        if _gate != "softmax" or not _suffix:  # the dense softmax gate routes to every expert: nothing to permute
            VARIANTS[_gate + _suffix] = (_gate, _search)
# Options the driver sets for every trial, or that make no sense in a search.
DRIVER_OPTIONS = ("out", "config", "load", "save", "checkpoint", "export-data", "list-datasets", "help", "dataset")
DISTRIBUTIONS = ("log_uniform", "uniform", "int", "grid")


class SpaceError(Exception):
    """A search-space file that cannot be used; the message names the file and the key."""


class Distribution:
    def __init__(self, kind, values):
        self.kind = kind
        self.values = values  # [low, high] or the grid

    def to_json(self):
        return {self.kind: self.values}

    def __repr__(self):
        return json.dumps(self.to_json())


class Variant:
    def __init__(self, name, fixed, search, notes):
        self.name = name
        self.fixed = fixed  # option -> value (the space's common options included)
        self.search = search  # option -> Distribution, in the file's order
        self.notes = notes

    @property
    def gate(self):
        return self.fixed["gate"]

    @property
    def local_search(self):
        return self.fixed["local-search"]

    def to_json(self):
        return {"fixed": self.fixed, "search": {k: d.to_json() for k, d in self.search.items()}}


class Space:
    def __init__(self, path, dataset, variants, excluded, notes):
        self.path = path
        self.dataset = dataset
        self.variants = variants  # name -> Variant
        self.excluded = excluded  # name -> reason
        self.notes = notes

    def variant(self, name):
        if name not in self.variants:
            why = f" ({self.excluded[name]})" if name in self.excluded else ""
            raise SpaceError(f"{self.path}: no variant '{name}'{why}; the file has: {', '.join(self.variants)}")
        return self.variants[name]


def comet_train_options(binary):
    """The long option names of comet_train (without "--"), read from its --help: the one authority on what it takes.
    Returns (options, datasets); datasets is None when the help text does not list them."""
    try:
        result = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise SpaceError(f"cannot list comet_train's options: {binary}: {e.strerror}") from None
    if result.returncode != 0:
        raise SpaceError(f"cannot list comet_train's options: {binary} --help exited with {result.returncode}")
    options = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", result.stdout))
    match = re.search(r"--dataset TEXT:\{([^}]*)\}", result.stdout)
    datasets = set(match.group(1).split(",")) if match else None
    return options, datasets


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_scalar(v):
    return isinstance(v, (str, bool)) or _is_number(v)


def parse_distribution(where, spec):
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in DISTRIBUTIONS:
        raise SpaceError(f"{where}: expected one of {{{', '.join(repr(d) for d in DISTRIBUTIONS)}}} with its values, "
                         f"got {json.dumps(spec)}")
    kind, values = next(iter(spec.items()))
    if kind == "grid":
        if not isinstance(values, list):
            raise SpaceError(f"{where}: grid must be a list, got {json.dumps(values)}")
        if not values:
            raise SpaceError(f"{where}: empty grid")
        for v in values:
            if not _is_scalar(v):
                raise SpaceError(f"{where}: grid value {json.dumps(v)} is not a finite number, string or boolean")
        if len({json.dumps(v) for v in values}) != len(values):
            raise SpaceError(f"{where}: grid {json.dumps(values)} repeats a value")
        return Distribution(kind, values)
    if not isinstance(values, list) or len(values) != 2 or not all(_is_number(v) for v in values):
        raise SpaceError(f"{where}: bad range {json.dumps(values)}: expected [low, high], two finite numbers")
    low, high = values
    if kind == "int":
        if not all(isinstance(v, int) for v in values):
            raise SpaceError(f"{where}: bad range {json.dumps(values)}: int needs integer bounds")
        if low > high:
            raise SpaceError(f"{where}: bad range {json.dumps(values)}: low must not exceed high")
    elif not low < high:
        raise SpaceError(f"{where}: bad range {json.dumps(values)}: low must be below high")
    if kind == "log_uniform" and low <= 0:
        raise SpaceError(f"{where}: bad range {json.dumps(values)}: log_uniform needs low > 0")
    return Distribution(kind, values)


def _check_option(where, key, options):
    if key in DRIVER_OPTIONS:
        raise SpaceError(f"{where}: parameter '{key}' is set by the tuning driver, not by a search space")
    if key not in options:
        raise SpaceError(f"{where}: unknown parameter '{key}' (not a comet_train option)")


def _check_fixed_value(where, value):
    ok = _is_scalar(value) or (isinstance(value, list) and value and all(_is_scalar(v) for v in value))
    if not ok:
        raise SpaceError(f"{where}: value {json.dumps(value)} is not a number, string, boolean or list of them")


def _object(where, value):
    if not isinstance(value, dict):
        raise SpaceError(f"{where}: expected a JSON object, got {json.dumps(value)}")
    return value


def _check_gate_options(path, gate, local_search, keys):
    """What comet_train's check_train_options refuses, named by the space's key before any trial runs."""
    for key, where in keys.items():
        if key in ("gamma", "entropy") and gate not in ("comet", "dselect"):
            raise SpaceError(f"{path}: {where}: {key} applies to the comet and dselect gates, not {gate}")
        if key == "perm-epochs" and local_search != "learned":
            raise SpaceError(f"{path}: {where}: perm-epochs applies to the learned permutation (a '+' variant), "
                             f"not local search {local_search}")
        if key == "k" and gate == "softmax":
            raise SpaceError(f"{path}: {where}: k applies to sparse gates; softmax weighs every expert")


def load_space(path, options, datasets=None):
    """Reads and validates a space file. `options`: comet_train's long option names (comet_train_options());
    `datasets`: its data set names, or None not to check them. Raises SpaceError naming the file and the key."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise SpaceError(f"{path}: cannot read: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpaceError(f"{path}: not valid JSON: {e}") from None
    _object(path, doc)
    for key in doc:
        if key not in ("dataset", "notes", "fixed", "variants", "excluded"):
            raise SpaceError(f"{path}: unknown key '{key}' (expected dataset, notes, fixed, variants, excluded)")
    dataset = doc.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        raise SpaceError(f"{path}: dataset: expected the name of a comet_train data set")
    if datasets is not None and dataset not in datasets:
        raise SpaceError(f"{path}: dataset: unknown data set '{dataset}' (comet_train has "
                         f"{', '.join(sorted(datasets))})")
    common = _object(f"{path}: fixed", doc.get("fixed", {}))
    for key, value in common.items():
        _check_option(f"{path}: fixed.{key}", key, options)
        _check_fixed_value(f"{path}: fixed.{key}", value)
        if key in ("gate", "local-search"):
            raise SpaceError(f"{path}: fixed.{key}: the gate and local search belong to each variant")
    excluded = _object(f"{path}: excluded", doc.get("excluded", {}))
    for name, reason in excluded.items():
        if name not in VARIANTS:
            raise SpaceError(f"{path}: excluded.{name}: unknown gate variant '{name}' (known: {', '.join(VARIANTS)})")
        if not isinstance(reason, str) or not reason:
            raise SpaceError(f"{path}: excluded.{name}: give the reason as a string")
    variants_doc = _object(f"{path}: variants", doc.get("variants"))
    if not variants_doc:
        raise SpaceError(f"{path}: variants: no variant")
    variants = {}
    for name, vdoc in variants_doc.items():
        at = f"variants.{name}"
        if name not in VARIANTS:
            raise SpaceError(f"{path}: {at}: unknown gate variant '{name}' (known: {', '.join(VARIANTS)})")
        if name in excluded:
            raise SpaceError(f"{path}: {at}: also listed in excluded")
        _object(f"{path}: {at}", vdoc)
        for key in vdoc:
            if key not in ("fixed", "search", "notes"):
                raise SpaceError(f"{path}: {at}.{key}: unknown key (expected fixed, search, notes)")
        fixed_doc = _object(f"{path}: {at}.fixed", vdoc.get("fixed", {}))
        search_doc = _object(f"{path}: {at}.search", vdoc.get("search", {}))
        gate, local_search = VARIANTS[name]
        for key, expected in (("gate", gate), ("local-search", local_search)):
            value = fixed_doc.get(key)
            if key == "gate" and value is not None and value not in GATES:
                raise SpaceError(f"{path}: {at}.fixed.gate: unknown gate '{value}' (known: {', '.join(GATES)})")
            if value != expected:
                raise SpaceError(f"{path}: {at}.fixed.{key}: {json.dumps(value)} for variant {name}, expected "
                                 f"\"{expected}\"")
        fixed = dict(common)
        for key, value in fixed_doc.items():
            _check_option(f"{path}: {at}.fixed.{key}", key, options)
            _check_fixed_value(f"{path}: {at}.fixed.{key}", value)
            fixed[key] = value
        if gate == "hash" and fixed.get("k", 1) != 1:
            raise SpaceError(f"{path}: {at}.fixed.k: hash routing sends each sample to one expert (k = 1)")
        search = {}
        for key, spec in search_doc.items():
            _check_option(f"{path}: {at}.search.{key}", key, options)
            if key in fixed:
                raise SpaceError(f"{path}: {at}.search.{key}: parameter '{key}' is also fixed")
            if key in ("gate", "local-search"):
                raise SpaceError(f"{path}: {at}.search.{key}: the gate and local search are fixed by the variant")
            search[key] = parse_distribution(f"{path}: {at}.search.{key}", spec)
        keys = {k: f"{'fixed' if k in common else at + '.fixed'}.{k}" for k in fixed}
        keys.update({k: f"{at}.search.{k}" for k in search})
        _check_gate_options(path, gate, local_search, keys)
        variants[name] = Variant(name, fixed, search, vdoc.get("notes", ""))
    return Space(path, dataset, variants, excluded, doc.get("notes", ""))


def default_comet_train():
    """build/tools/comet_train next to this checkout, unless COMET_TRAIN names another."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("COMET_TRAIN") or os.path.join(here, "..", "build", "tools", "comet_train")
