#!/usr/bin/env bash
# Time to first frame of the terminal UI against flamelens on the same file, in one run:
# each tool starts in a detached tmux pane (120x40) under GNU time (peak RSS), and
# `tmux capture-pane` is polled every 10 ms until the tool's first frame is on screen.
# `obol summary` on the file, which the first frame is held against, is timed through the same
# harness (it prints a marker when done), so that both carry tmux's start-up and the polling.
#
# usage: benches/first_frame.sh [RUNS]     (default 5; input from ../shared/bench/gen_big.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
runs=${1:-5}
data=bench-data
mkdir -p "$data"
[ -s "$data/big.folded" ] || python3 ../shared/bench/gen_big.py folded 125000 "$data/big.folded"
command -v flamelens >/dev/null || cargo install --locked flamelens
cargo build --release --quiet
obol=$PWD/target/release/obol
file=$PWD/$data/big.folded
socket=obol-first-frame-$$
trap 'tmux -L "$socket" kill-server 2>/dev/null || true' EXIT

now() { date +%s.%N; }

# first_frame NAME MARKER COMMAND...: prints "seconds rss_kb"
first_frame() {
    local marker=$1; shift
    local rss_file; rss_file=$(mktemp)
    local start; start=$(now)
    tmux -L "$socket" new-session -d -x 120 -y 40 "/usr/bin/time -f %M -o $rss_file $*"
    local seen=""
    for _ in $(seq 1 3000); do
        if tmux -L "$socket" capture-pane -p 2>/dev/null | grep -q -- "$marker"; then
            seen=$(now); break
        fi
        sleep 0.01
    done
    tmux -L "$socket" send-keys q
    for _ in $(seq 1 500); do
        tmux -L "$socket" has-session 2>/dev/null || break
        sleep 0.01
    done
    tmux -L "$socket" kill-server 2>/dev/null || true
    sleep 0.2
    echo "$(python3 -c "print(f'{$seen - $start:.3f}')") $(tail -n 1 "$rss_file")"
    rm -f "$rss_file"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ls -l "$file"
: > "$data/first_frame.txt"
for i in $(seq 1 "$runs"); do
    echo "obol $(first_frame ' 1 Flamegraph' "$obol" "$file")" >> "$data/first_frame.txt"
    echo "flamelens $(first_frame 'Selected' flamelens "$file")" >> "$data/first_frame.txt"
    # The summary through the same harness, so both carry tmux's start-up and the polling.
    echo "summary $(first_frame 'SUMMARY-DONE' sh -c "'$obol summary $file --json > /dev/null; echo SUMMARY-DONE; sleep 5'")" >> "$data/first_frame.txt"
done
cat "$data/first_frame.txt"
direct=$(for i in $(seq 1 "$runs"); do
    s=$(now); "$obol" summary "$file" --json > /dev/null; e=$(now)
    python3 -c "print(f'{$e - $s:.3f}')"
done | median)
for tool in obol flamelens summary; do
    t=$(awk -v t="$tool" '$1 == t {print $2}' "$data/first_frame.txt" | median)
    m=$(awk -v t="$tool" '$1 == t {print $3}' "$data/first_frame.txt" | median)
    echo "$tool: on screen after median ${t} s, peak RSS median ${m} KB"
done
echo "obol summary --json run directly (no tmux): median ${direct} s"
