#!/usr/bin/env python3
"""Key press to redrawn frame in the real binary, on big inputs.

Each file opens in obol in a detached 120x40 tmux pane, with OBOL_TIMING_LOG naming a log that
obol writes one line to per frame it draws in answer to something (src/tui/timing.rs): the first
frame with the view, each key (from the key read to its frame drawn) and each worker's result.
Keys are sent one at a time through tmux, each once the previous one's frame is in the log (and,
for keys that start work on a worker, once that work's frame is too). Prints, per file, the
first frame, each key's time (median and worst), the Priority pane's time from its key to the
ranked modules drawn, the same for Sandwich's callers and callees (made on a worker), and wall, user+sys and peak RSS of the whole run (GNU time).

usage: benches/ui_keys.py [FILE...]   (default: bench-data/huge.folded bench-data/huge.speedscope.json)
Needs the release binary (cargo build --release) and tmux.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBOL = os.environ.get("OBOL_BIN", os.path.join(ROOT, "target", "release", "obol"))
SOCKET = f"obol-ui-keys-{os.getpid()}"

# Sandwich's callers and callees of the selected function, made on a worker.
SANDWICH = "done sandwich"

# (tmux key, what its frame waits for besides the key's own line): pane switches, selection
# moves, zoom and back, search (typed, submitted, next, previous, left), sort, threads.
KEYS = [
    ("j", None), ("j", None), ("j", None), ("k", None), ("l", None), ("h", None),
    ("Enter", None), ("j", None), ("Escape", None), ("0", None),
    ("2", None), ("j", None), ("j", None), ("l", None), ("Enter", None), ("Escape", None),
    ("i", None), ("i", None),
    ("/", None), ("f", None), ("n", None), ("_", None), ("1", None), ("2", None),
    ("Enter", None), ("n", None), ("N", None), ("Escape", None),
    ("3", SANDWICH), ("j", SANDWICH), ("j", SANDWICH), ("PageDown", SANDWICH), ("o", None),
    ("o", None), ("o", None), ("k", SANDWICH),
    ("4", "done priority"), ("j", None), ("j", None), ("k", None),
    ("Tab", None), ("BTab", None), ("t", None), ("1", None), ("c", None), ("c", None),
]


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=check, capture_output=True, text=True)


def lines(log):
    try:
        with open(log) as f:
            return [l.split() for l in f if l.strip()]
    except FileNotFoundError:
        return []


def wait(log, pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        got = [l for l in lines(log) if pred(l)]
        if got:
            return got
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting in {log}")


def run(path):
    tmp = tempfile.mkdtemp()
    log, timed = os.path.join(tmp, "timing.log"), os.path.join(tmp, "time.txt")
    cmd = (f"env OBOL_TIMING_LOG={log} /usr/bin/time -f '%e %U %S %M' -o {timed} "
           f"{OBOL} {path}")
    tmux("new-session", "-d", "-x", "120", "-y", "40", cmd)
    first = float(wait(log, lambda l: l[1] == "first-frame", 600)[0][0])
    # A large file's first frame may come with its table alone, the trees after (`done
    # view-table`, then `done view`): the keys are timed once the whole view is shown.
    whole = float(wait(log, lambda l: l[1:3] == ["done", "view"], 600)[0][0])
    time.sleep(0.5)
    per_key, priority, worked = {}, None, {}
    for key, also in KEYS:
        before = len(lines(log))
        tmux("send-keys", key)
        end = time.time() + 120
        while True:
            new = lines(log)[before:]
            keyline = next((l for l in new if l[1] == "key"), None)
            done = also is None or any(" ".join(l[1:3]) == also for l in new)
            if keyline and done:
                break
            # A binary from before Sandwich's worker draws its callers and callees with the key.
            if keyline and also == SANDWICH and time.time() > end - 115:
                also = None
                break
            if time.time() > end:
                raise SystemExit(f"{path}: no frame for {key}")
            time.sleep(0.005)
        per_key.setdefault(f"{key} ({keyline[2]})", []).append((float(keyline[3]), float(keyline[4])))
        if also is not None:
            # From the key read to the frame drawn with the worker's result.
            ready = next(l for l in new if " ".join(l[1:3]) == also)
            after = float(ready[0]) - float(keyline[0]) + float(keyline[3]) / 1e3
            if also == "done priority":
                priority = after
            else:
                worked.setdefault(also, []).append((after, float(ready[4])))
        time.sleep(0.05)
    tmux("send-keys", "q")
    end = time.time() + 30
    while time.time() < end and tmux("has-session", check=False).returncode == 0:
        time.sleep(0.05)
    tmux("kill-server", check=False)
    time.sleep(0.2)
    wall, user, sys_, rss = open(timed).read().split()[-4:]
    all_ms = [ms for v in per_key.values() for ms, _ in v]
    all_cpu = [cpu for v in per_key.values() for _, cpu in v]
    print(f"{os.path.basename(path)}: first frame {first:.2f} s after start"
          f" (loaded at {float(next(l for l in lines(log) if l[1] == 'loaded')[0]):.2f} s),"
          f" whole view (trees made) at {whole:.2f} s")
    print(f"  {'key (action)':28} {'n':>3}  wall ms: median   worst   UI thread CPU ms: median   worst")
    for name, got in per_key.items():
        ms, cpu = [w for w, _ in got], [c for _, c in got]
        print(f"  {name:28} {len(ms):3}  {statistics.median(ms):16.2f} {max(ms):7.2f}"
              f"  {statistics.median(cpu):24.2f} {max(cpu):7.2f}")
    print(f"  every key: wall median {statistics.median(all_ms):.2f} ms, worst {max(all_ms):.2f} ms,"
          f" {sum(ms > 16 for ms in all_ms)} of {len(all_ms)} over 16 ms;"
          f" CPU median {statistics.median(all_cpu):.2f} ms, worst {max(all_cpu):.2f} ms,"
          f" {sum(c > 16 for c in all_cpu)} over 16 ms")
    if priority is not None:
        print(f"  Priority pane: ranked modules drawn {priority:.3f} s after its key")
    for what, got in worked.items():
        after, cpu = [a for a, _ in got], [c for _, c in got]
        print(f"  {what}: drawn {statistics.median(after) * 1e3:.1f} ms after its key (median of"
              f" {len(got)}, worst {max(after) * 1e3:.1f} ms); UI thread CPU to install and draw it:"
              f" median {statistics.median(cpu):.2f} ms, worst {max(cpu):.2f} ms")
    print(f"  whole run: wall {wall} s, user {user} s, sys {sys_} s, peak RSS {int(rss) // 1024} MB")


def main():
    files = sys.argv[1:] or [os.path.join(ROOT, "bench-data", f)
                             for f in ("huge.folded", "huge.speedscope.json")]
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    try:
        for f in files:
            run(os.path.abspath(f))
    finally:
        tmux("kill-server", check=False)
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
