#!/usr/bin/env python3
"""How much of a training step one thread works alone while the pool's other threads have nothing to do.

Reads `perf script -F tid,time,ip,sym` output of a `perf record -g` run of a build with frame pointers (see
bench/README.md, "Idle threads in the step"). A sample of the step's thread (the one whose stacks pass through
--step, by default bench_moe's timed step) counts as alone when every other thread's nearest sample (within
--window seconds) is in the pool's wait loop or in the scheduler, i.e. that thread had no chunk to run. Prints that
share of the step's samples, then the same samples by innermost engine op (comet::ag, comet::moe, comet::optim) and
leaf function. Serial work (the host-side selection of a gate), the tail of a parallel region (the last chunk still
running) and a late worker all show up here; a kernel's own speed does not.

  python3 bench/idle_share.py perf.txt [--step SUBSTRING] [--window 0.0005] [--top 25]
"""
import argparse
import bisect
import collections
import re
import sys

WAITING = re.compile(r"ChunkPool|_M_run|schedule|sched_yield|futex|\[unknown\]")
WORKING = re.compile(r"comet::cpu|sgemm|adam")
OP = re.compile(r"comet::(ag|moe|optim)::")


def read_samples(path):
    """[(tid, time, [frames, innermost first])] from perf script output."""
    samples, cur = [], None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                if cur:
                    samples.append(cur)
                cur = None
            elif not line.startswith("\t"):
                fields = line.split()
                cur = (fields[0], float(fields[1].rstrip(":")), [])
            elif cur is not None:
                parts = line.strip().split(" ", 1)
                cur[2].append(parts[1] if len(parts) > 1 else "?")
    if cur:
        samples.append(cur)
    return samples


def nearest(times, samples, t, window):
    i = bisect.bisect_left(times, t)
    best = min((samples[j] for j in (i - 1, i) if 0 <= j < len(samples)), key=lambda s: abs(s[1] - t), default=None)
    return best if best is not None and abs(best[1] - t) <= window else None


def waiting(sample):
    leaf = sample[2][0] if sample[2] else "?"
    return bool(WAITING.search(leaf)) and not WORKING.search(leaf)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("perf_script")
    ap.add_argument("--step", default="run_case(benchmark::State&, comet::bench::(anonymous namespace)::Case const&)"
                    "::{lambda()#1}", help="a frame that every sample of the step has (default: bench_moe's step)")
    ap.add_argument("--window", type=float, default=0.0005, help="seconds within which another thread's sample counts")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    samples = read_samples(args.perf_script)
    in_step = [s for s in samples if any(args.step in f for f in s[2])]
    if not in_step:
        sys.exit(f"idle_share: no sample passes through {args.step!r} (a build with frame pointers, perf record -g?)")
    main_tid = collections.Counter(s[0] for s in in_step).most_common(1)[0][0]
    step = [s for s in in_step if s[0] == main_tid]
    others = collections.defaultdict(list)
    for s in samples:
        if s[0] != main_tid:
            others[s[0]].append(s)
    times = {tid: [s[1] for s in ss] for tid, ss in others.items()}

    counted, alone = 0, collections.Counter()
    for s in step:
        near = [nearest(times[tid], ss, s[1], args.window) for tid, ss in others.items()]
        if not near or any(n is None for n in near):
            continue
        counted += 1
        if all(waiting(n) for n in near):
            op = next((re.sub(r"\(.*", "", f.replace("(anonymous namespace)", "{anon}"))
                       for f in s[2] if OP.search(f) and "lambda" not in f), "?")
            alone[(op[:60], s[2][0][:70])] += 1
    if counted == 0:
        sys.exit("idle_share: no step sample has a sample of every other thread within the window")
    total = sum(alone.values())
    print(f"step samples {counted} (thread {main_tid}, {len(others)} other threads); "
          f"alone while the others wait: {100 * total / counted:.1f}%")
    for (op, leaf), n in alone.most_common(args.top):
        print(f"  {100 * n / counted:5.2f}%  {op:60s} {leaf}")


if __name__ == "__main__":
    main()
