#!/usr/bin/env python3
"""Runs every doctest executable of a COMET_MUTATION build once per mutant and once without one, and reports which
test files kill (notice) which mutant. Called by scripts/run_mutation.sh; standard library only.

A test case kills a mutant when it fails under it: a failed assertion, an exception, a crash or a timeout (then the
test case that was running is charged). The kill rate of a test file is the share of all mutants that at least one of
its test cases kills; a mutant that no test kills is a hole in the suite (or a defect that changes nothing)."""
import argparse
import csv
import glob
import os
import re
import subprocess
import sys
import time

TEST_CASE = re.compile(r'<TestCase name="([^"]*)" filename="([^"]*)"')
RESULT = re.compile(r'<OverallResultsAsserts successes="\d+" failures="(\d+)"[^/]*test_case_success="(true|false)"')


def short(path):
    i = path.rfind("tests/")
    return path[i:] if i >= 0 else path


def run_executable(exe, mutant, xml_path, timeout):
    """Returns {(file, test case): failed} and a note on how the run ended."""
    env = dict(os.environ)
    env.pop("COMET_MUTANT", None)
    if mutant:
        env["COMET_MUTANT"] = mutant
    note = ""
    try:
        proc = subprocess.run([exe, "--reporters=xml", "--out=" + xml_path, "--no-version"], env=env,
                              cwd=os.path.dirname(exe), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout)
        if proc.returncode < 0:
            note = f"signal {-proc.returncode}"
    except subprocess.TimeoutExpired:
        note = f"timeout {timeout} s"
    text = open(xml_path, errors="replace").read() if os.path.exists(xml_path) else ""
    cases = {}
    current = None
    # Walk the XML as text: a crashed run leaves it cut off, and the last test case opened is the one that crashed.
    pos = 0
    while True:
        m_case = TEST_CASE.search(text, pos)
        m_result = RESULT.search(text, pos)
        if m_case and (not m_result or m_case.start() < m_result.start()):
            current = (short(m_case.group(2)), m_case.group(1))
            cases[current] = True  # failed until its results say otherwise
            pos = m_case.end()
        elif m_result:
            if current is not None:
                cases[current] = int(m_result.group(1)) > 0 or m_result.group(2) == "false"
                current = None
            pos = m_result.end()
        else:
            break
    if note and current is None:
        cases[(short(exe), "(whole executable: " + note + ")")] = True
    return cases, note


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("mutants", nargs="+")
    a = ap.parse_args()
    descriptions = dict(re.findall(r'X\(([a-z0-9_]+),\s*"([^"]*)"\)', open(a.registry).read()))
    unknown = [m for m in a.mutants if m not in descriptions]
    if unknown:
        sys.exit(f"mutation_report: not in {a.registry}: {', '.join(unknown)}")
    exes = sorted(os.path.abspath(e) for e in glob.glob(os.path.join(a.build, "tests", "test_*"))
                  if os.path.isfile(e) and os.access(e, os.X_OK))
    if not exes:
        sys.exit(f"mutation_report: no test executables in {a.build}/tests")
    os.makedirs(os.path.join(a.out, "xml"), exist_ok=True)
    started = time.time()

    def run_all(mutant):
        failed, notes = {}, []
        for exe in exes:
            xml = os.path.join(os.path.abspath(a.out), "xml", f"{mutant or 'none'}.{os.path.basename(exe)}.xml")
            cases, note = run_executable(exe, mutant, xml, a.timeout)
            failed.update(cases)
            if note:
                notes.append(f"{os.path.basename(exe)}: {note}")
        return failed, notes

    baseline, notes = run_all("")
    broken = [k for k, f in baseline.items() if f]
    if broken or notes:
        print("mutation_report: the suite fails without a mutant; fix that first:", file=sys.stderr)
        for f, name in broken:
            print(f"  {f}: {name}", file=sys.stderr)
        sys.exit(1)
    files = sorted({f for f, _ in baseline})
    killers = {}  # mutant -> {file: [test cases]}
    for m in a.mutants:
        t0 = time.time()
        result, notes = run_all(m)
        killers[m] = {}
        for (f, name), failed in result.items():
            if failed:
                killers[m].setdefault(f, []).append(name)
        extra = f" ({'; '.join(notes)})" if notes else ""
        print(f"{m}: killed by {len(killers[m])} test files{extra} [{time.time() - t0:.0f} s]", flush=True)

    total = len(a.mutants)
    with open(os.path.join(a.out, "report.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["test_file"] + a.mutants + ["killed", "kill_rate"])
        for f in files:
            row = [int(f in killers[m]) for m in a.mutants]
            w.writerow([f] + row + [sum(row), f"{sum(row) / total:.3f}"])
    killed = [m for m in a.mutants if killers[m]]
    lines = [f"# Mutation check: {len(killed)} of {total} mutants killed by the suite", "",
             f"Build `{a.build}` (-DCOMET_MUTATION=ON), {len(exes)} test executables, "
             f"{len(baseline)} test cases, all passing without a mutant; {time.time() - started:.0f} s.", "",
             "## Per mutant", "", "| mutant | defect | killed by (test files) |", "|---|---|---|"]
    for m in a.mutants:
        by = ", ".join(f"`{f}` ({len(c)})" for f, c in sorted(killers[m].items())) or "**survived**"
        lines.append(f"| `{m}` | {descriptions[m]} | {by} |")
    lines += ["", "## Kill rate per test file (share of all mutants the file's test cases kill)", "",
              "| test file | killed | kill rate |", "|---|---|---|"]
    for f in sorted(files, key=lambda f: -sum(f in killers[m] for m in a.mutants)):
        k = sum(f in killers[m] for m in a.mutants)
        lines.append(f"| `{f}` | {k} / {total} | {k / total:.0%} |")
    open(os.path.join(a.out, "report.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
