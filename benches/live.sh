#!/usr/bin/env bash
# What live sampling costs obol: CPU time of `obol attach` at 100 Hz on fixtures/live/hot.py,
# without a terminal and in the UI (tmux, Sandwich or Priority shown, so that every tick
# re-derives the view), against py-spy's own `record` on the same process in the same run.
# CPU is user+sys from GNU time over the sampling time; load average printed first.
#
# usage: benches/live.sh [SECONDS]       (default 30)
#        OBOL=path/to/obol benches/live.sh …   (that binary, not a fresh release build)
#        benches/live.sh long [MINUTES]  the UI attached for MINUTES (default 10), then the time
#                                        from a key to the screen changing, through tmux
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v tmux >/dev/null || { echo "needs tmux"; exit 1; }
command -v py-spy >/dev/null || { echo "needs py-spy (pip install py-spy)"; exit 1; }
[ -n "${OBOL:-}" ] || cargo build --release --quiet
obol=${OBOL:-$PWD/target/release/obol}
python=$(python3 -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
trap 'rm -rf "$work"; tmux -L obol-bench kill-server 2>/dev/null || true' EXIT
uptime

cpu() { # cpu TIMEFILE SECONDS: "user+sys s = N% of a core, peak RSS"
    python3 - "$1" "$2" <<'PY'
import sys
user, sys_, rss = open(sys.argv[1]).read().split()[-3:]
cpu = float(user) + float(sys_)
print("%.2f s user+sys over %s s = %.2f%% of one core, peak RSS %d MB"
      % (cpu, sys.argv[2], 100 * cpu / float(sys.argv[2]), int(rss) // 1024))
PY
}

start_program() { # start_program SECONDS: the fixture in the background; its PID
    "$python" -S fixtures/live/hot.py "$1" >/dev/null &
    echo $!
}

ui() { # ui SECONDS KEY TIMEFILE: obol attach in a 200x50 tmux pane, KEY pressed after 1 s
    local pid
    pid=$(start_program $(($1 + 5)))
    sleep 0.5
    tmux -L obol-bench new-session -d -x 200 -y 50 \
        "/usr/bin/time -o $3 -f '%U %S %M' $obol attach $pid --rate 100 --duration $1 -o $work/ui.json"
    sleep 1.5
    tmux -L obol-bench send-keys "$2"
    sleep $(($1 + 1))
    tmux -L obol-bench send-keys q
    sleep 1
    tmux -L obol-bench kill-server 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
}

if [ "${1:-}" = long ]; then
    minutes=${2:-10}
    seconds=$((minutes * 60))
    pid=$(start_program $((seconds + 120)))
    sleep 0.5
    tmux -L obol-bench new-session -d -x 200 -y 50 "$obol attach $pid --rate 100 -o $work/long.json"
    sleep 1
    tmux -L obol-bench send-keys 3
    echo "recording for $minutes min …"
    sleep "$seconds"
    tmux -L obol-bench capture-pane -p | grep -E "rec|ended" || true
    ps -o pid,rss,time,args -p "$(pgrep -f "obol attach $pid" | head -1)"
    # Key to screen changed, through tmux (an upper bound: tmux's own relay and capture count).
    python3 - <<'PY'
import subprocess, time
def screen():
    return subprocess.run(["tmux", "-L", "obol-bench", "capture-pane", "-p"],
                          capture_output=True, text=True).stdout
times = []
for i in range(20):
    key = "p"   # freeze/resume: the badge changes at once, whatever the tree
    before = screen()
    t = time.perf_counter()
    subprocess.run(["tmux", "-L", "obol-bench", "send-keys", key])
    while screen() == before:
        if time.perf_counter() - t > 2:
            break
    times.append(time.perf_counter() - t)
    time.sleep(0.3)
times.sort()
print("key p to changed screen through tmux: median %.1f ms, max %.1f ms (20 presses)"
      % (1000 * times[len(times) // 2], 1000 * times[-1]))
PY
    tmux -L obol-bench send-keys q
    sleep 2
    kill "$pid" 2>/dev/null || true
    exit 0
fi

seconds=${1:-30}
echo "== without a terminal: obol attach --rate 100 --duration $seconds"
pid=$(start_program $((seconds + 5)))
sleep 0.5
/usr/bin/time -o "$work/headless.time" -f '%U %S %M' "$obol" attach "$pid" --rate 100 \
    --duration "$seconds" -o "$work/headless.json" </dev/null 2>&1 | tail -n 1
echo "  obol:   $(cpu "$work/headless.time" "$seconds")"
kill "$pid" 2>/dev/null || true
echo "== py-spy record --rate 100 --duration $seconds --format speedscope (the peer)"
pid=$(start_program $((seconds + 5)))
sleep 0.5
/usr/bin/time -o "$work/pyspy.time" -f '%U %S %M' py-spy record --pid "$pid" --rate 100 \
    --duration "$seconds" --format speedscope -o "$work/pyspy.json" >/dev/null 2>&1
echo "  py-spy: $(cpu "$work/pyspy.time" "$seconds")"
kill "$pid" 2>/dev/null || true
for pane in 3 4; do
    name=$([ $pane = 3 ] && echo Sandwich || echo Priority)
    echo "== in the UI (tmux 200x50), $name shown: obol attach --rate 100 --duration $seconds"
    ui "$seconds" "$pane" "$work/ui$pane.time"
    echo "  obol:   $(cpu "$work/ui$pane.time" "$seconds")"
done
