"""Interleaved A/B timing for differences below a millisecond, which hyperfine's blocks of runs cannot
resolve on a machine that is noisy in bursts: each round starts A and B back to back (in random order),
so a burst hits both, and the median of the per-round differences is reported.

Each process is started with posix_spawn and reaped with waitpid; the timer brackets both, so the
driver's own cost is the same for A and B and cancels in the difference.
"""

import os
import random
import statistics
import time


def run_once(argv, env, faults=None):
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    if status != 0:
        raise RuntimeError(f"{argv} exited with status {status}")
    if faults is not None:
        faults.append(usage.ru_minflt)
    return (t1 - t0) / 1e6


def quantile(values, q):
    values = sorted(values)
    pos = (len(values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def compare(a, b, rounds, warmup=10, seed=1):
    """a, b: (argv, env). Returns medians of each side and of the paired differences a - b (ms)."""
    rng = random.Random(seed)
    for _ in range(warmup):
        run_once(*a)
        run_once(*b)
    ta, tb, diff, fa, fb = [], [], [], [], []
    for _ in range(rounds):
        if rng.random() < 0.5:
            x = run_once(*a, faults=fa)
            y = run_once(*b, faults=fb)
        else:
            y = run_once(*b, faults=fb)
            x = run_once(*a, faults=fa)
        ta.append(x)
        tb.append(y)
        diff.append(x - y)
    return {
        "rounds": rounds,
        "a_median_ms": statistics.median(ta),
        "b_median_ms": statistics.median(tb),
        "diff_median_ms": statistics.median(diff),
        "diff_q25_ms": quantile(diff, 0.25),
        "diff_q75_ms": quantile(diff, 0.75),
        # Minor page faults of the whole process (launcher and what it execs), from wait4's rusage.
        "a_minflt_median": statistics.median(fa),
        "b_minflt_median": statistics.median(fb),
    }
