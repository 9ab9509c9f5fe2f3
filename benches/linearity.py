#!/usr/bin/env python3
"""Issue 17's linearity: `obol summary FILE --json` on a format's 100 MB and 1 GB inputs, per MB.

usage: benches/linearity.py ROUNDS OBOL SMALL LARGE

Each round runs, in a random order, obol on each file and `cat` of each file, so the two sizes
are measured in the same minutes: measured one after the other (hyperfine's way), the machine's
drift from one ten-second stretch to the next moved the ratio by 10-30 points between two runs
of the same binary. Wall time by the clock around each run, CPU (user + sys) from wait4; medians
over the rounds, and the median of each round's own ratio.

Both files are first dropped from the page cache and read back once (`settle`): a file the
generator has just written sits in the cache in small pages, one read back by readahead in large
ones, and mapping or copying the first costs more per byte, so both sizes start from the same state.
"""
import os
import random
import statistics
import subprocess
import sys
import time


def settle(*paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        while os.read(fd, 1 << 20):
            pass
        os.close(fd)


def timed(argv):
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=null)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    rounds, obol, small, large = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    runs = {
        "obol small": [obol, "summary", small, "--json"],
        "obol large": [obol, "summary", large, "--json"],
        "cat small": ["cat", small],
        "cat large": ["cat", large],
    }
    settle(small, large)
    times = {name: [] for name in runs}
    for name, argv in runs.items():  # warm-up
        timed(argv)
    for _ in range(rounds):
        order = list(runs)
        random.shuffle(order)
        for name in order:
            times[name].append(timed(runs[name]))
    mb_small, mb_large = os.path.getsize(small) / 1e6, os.path.getsize(large) / 1e6

    def per_mb(name, mb, which):
        return statistics.median(t[which] for t in times[name]) * 1e3 / mb

    ws, wl = per_mb("obol small", mb_small, 0), per_mb("obol large", mb_large, 0)
    cs, cl = per_mb("obol small", mb_small, 1), per_mb("obol large", mb_large, 1)
    cat_s, cat_l = per_mb("cat small", mb_small, 0), per_mb("cat large", mb_large, 0)
    round_ratios = [
        (s[0] / mb_small) / (l[0] / mb_large) - 1
        for s, l in zip(times["obol small"], times["obol large"])
    ]
    print(
        f"  {os.path.basename(small)} / {os.path.basename(large)} ({rounds} alternated rounds):"
        f" wall {ws:.3f} / {wl:.3f} ms/MB ({ws / wl - 1:+.0%}; each round's ratio: median"
        f" {statistics.median(round_ratios):+.0%}, quartiles"
        f" {statistics.quantiles(round_ratios, n=4)[0]:+.0%} to"
        f" {statistics.quantiles(round_ratios, n=4)[2]:+.0%}),"
        f" CPU {cs:.3f} / {cl:.3f} ms/MB ({cs / cl - 1:+.0%}),"
        f" cat {cat_s:.3f} / {cat_l:.3f} ms/MB; x cat {ws / cat_s:.1f} / {wl / cat_l:.1f};"
        f" 1 GB: {wl:.2f} s/GB"
    )


if __name__ == "__main__":
    main()
