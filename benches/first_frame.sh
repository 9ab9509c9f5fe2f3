#!/usr/bin/env bash
# Time to the terminal UI's first frame, held against `obol summary` of the same file (and, for
# folded files, against flamelens), in one run: each command starts in a detached tmux pane
# (120x40) under GNU time (wall, user, sys, peak RSS), and `tmux capture-pane` is polled every
# 10 ms until the command's first frame is on screen. obol's first frame is the one with the
# view drawn (its status line gives the total and the frame count), not the loading screen.
# `obol summary` is timed through the same harness (it prints a marker when done), so that both
# carry tmux's start-up and the polling.
#
# usage: benches/first_frame.sh [RUNS] [FILE...]
#   RUNS defaults to 5; FILEs default to bench-data/big.folded (from ../shared/bench/gen_big.py,
#   the one held against flamelens too)
#   and, where they exist, the 1 GB inputs bench-data/huge.folded and huge.speedscope.json, and
#   the SVG and trace-event files under $BENCH_SHARED (default bench-data, where
#   `benches/run.sh huge_svg trace_gb` makes them): mid.svg (364 MB), huge.svg and
#   huge.trace.json (1 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
runs=${1:-5}
shift || true
data=bench-data
shared=${BENCH_SHARED:-$data}
mkdir -p "$data"
[ -s "$data/big.folded" ] || python3 ../shared/bench/gen_big.py folded 125000 "$data/big.folded"
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    files=("$data/big.folded")
    for f in "$data/huge.folded" "$data/huge.speedscope.json" "$shared/mid.svg" \
        "$shared/huge.svg" "$shared/huge.trace.json"; do
        [ -s "$f" ] && files+=("$f")
    done
fi
command -v flamelens > /dev/null \
    || echo "flamelens is not installed (cargo install --locked flamelens): left out"
# OBOL_BIN: a binary built already (the release build is not made then).
if [ -z "${OBOL_BIN:-}" ]; then cargo build --release --quiet; fi
obol=${OBOL_BIN:-$PWD/target/release/obol}
socket=obol-first-frame-$$
trap 'tmux -L "$socket" kill-server 2>/dev/null || true' EXIT

now() { date +%s.%N; }

# first_frame MARKER_REGEX COMMAND...: prints "seconds wall user sys rss_kb"
first_frame() {
    local marker=$1; shift
    local timed; timed=$(mktemp)
    local start; start=$(now)
    tmux -L "$socket" new-session -d -x 120 -y 40 "/usr/bin/time -f '%e %U %S %M' -o $timed $*"
    local seen=""
    for _ in $(seq 1 30000); do
        if tmux -L "$socket" capture-pane -p 2>/dev/null | grep -Eq -- "$marker"; then
            seen=$(now); break
        fi
        sleep 0.01
    done
    tmux -L "$socket" send-keys q
    for _ in $(seq 1 3000); do
        tmux -L "$socket" has-session 2>/dev/null || break
        sleep 0.01
    done
    tmux -L "$socket" kill-server 2>/dev/null || true
    sleep 0.2
    echo "$(python3 -c "print(f'{$seen - $start:.3f}')") $(tail -n 1 "$timed")"
    rm -f "$timed"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
out=${FIRST_FRAME_OUT:-$data/first_frame.txt}
: > "$out"
for file in "${files[@]}"; do
    file=$(realpath "$file")
    name=$(basename "$file")
    ls -l "$file"
    for i in $(seq 1 "$runs"); do
        echo "$name obol $(first_frame '· total .* frames' "$obol" "$file")" >> "$out"
        # The summary through the same harness, so both carry tmux's start-up and the polling.
        # (It waits for q after its marker, as obol does, so GNU time's wall is not compared.)
        echo "$name summary $(first_frame 'SUMMARY-DONE' bash -c "'$obol summary $file --json > /dev/null; echo SUMMARY-DONE; read -n 1'")" >> "$out"
        # flamelens on the 100 MB folded file only: at 1 GB it takes minutes and gigabytes.
        if [[ "$name" == *.folded ]] && [ "$(stat -c %s "$file")" -lt 200000000 ] \
            && command -v flamelens > /dev/null; then
            echo "$name flamelens $(first_frame 'Selected' flamelens "$file")" >> "$out"
        fi
    done
done
cat "$out"
for file in "${files[@]}"; do
    name=$(basename "$file")
    for tool in obol summary flamelens; do
        grep -q "^$name $tool " "$out" || continue
        col() { awk -v n="$name" -v t="$tool" -v c="$1" '$1 == n && $2 == t {print $c}' "$out" | median; }
        echo "$name $tool: on screen after median $(col 3) s (user $(col 5) s, sys $(col 6) s), peak RSS median $(col 7) KB"
    done
    o=$(awk -v n="$name" '$1 == n && $2 == "obol" {print $3}' "$out" | median)
    s=$(awk -v n="$name" '$1 == n && $2 == "summary" {print $3}' "$out" | median)
    echo "$name: first frame / summary = $(python3 -c "print(f'{$o / $s:.2f}')")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
