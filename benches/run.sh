#!/usr/bin/env bash
# Reproduces the README's Performance figures: generates the inputs with
# ../shared/bench/gen_big.py (and benches/gen_formats.py for trace events and pprof) into
# bench-data/ (git-ignored), builds the release binary and times
# obol against the named peers in the same run with hyperfine (medians), peak RSS with GNU time.
#
# usage: benches/run.sh [folded|pstats|speedscope|svg|trace|pprof|perf ...]   (default: all)
#        benches/run.sh pprof_100   (issue 14's 100 MB pprof; big.pprof is 84 MB)
#        benches/run.sh huge_folded huge_speedscope huge_svg trace_gb memory   (issue 17's
#        gigabyte inputs, about 4.5 GB of them, and issue 11's memory cases; not in the default set)
#        benches/run.sh linearity   (issue 17: each format's 100 MB and 1 GB inputs, per MB)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

gen=../shared/bench/gen_big.py
data=bench-data
mkdir -p "$data"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 1; }
cargo build --release --quiet
obol=target/release/obol

medians() { # medians FILE.json: one line per command, from hyperfine's JSON
    python3 - "$1" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("  median %8.1f ms  %s" % (r["median"] * 1000, r["command"]))
PY
}

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -n 1; }

need() { # need FILE KIND N: generate FILE unless it exists
    [ -s "$1" ] || python3 "$gen" "$2" "$3" "$1"
}

run_folded() {
    need "$data/big.folded" folded 125000
    command -v inferno-flamegraph >/dev/null || cargo install --locked inferno
    ls -l "$data/big.folded"
    hyperfine --warmup 2 --runs 10 --export-json "$data/folded.json" \
        "$obol summary $data/big.folded --json > /dev/null" \
        "inferno-flamegraph $data/big.folded > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/big.folded --json)," \
        "inferno $(rss inferno-flamegraph $data/big.folded)"
}

run_pstats() {
    need "$data/big.prof" pstats 50000
    hyperfine --warmup 1 --runs 10 --export-json "$data/pstats.json" \
        "$obol summary $data/big.prof > /dev/null" \
        "python3 -c \"import pstats; pstats.Stats('$data/big.prof').sort_stats('tottime').print_stats(20)\" > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/big.prof)"
}

run_speedscope() {
    need "$data/big.speedscope.json" speedscope 280000
    ls -l "$data/big.speedscope.json"
    hyperfine --warmup 1 --runs 10 --export-json "$data/speedscope.json" \
        "$obol summary $data/big.speedscope.json --json > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/big.speedscope.json --json)"
}

make_big_svg() {
    [ -s "$data/big.svg" ] || {
        need "$data/svg-source.folded" folded 35000
        inferno-flamegraph --minwidth 0 "$data/svg-source.folded" > "$data/big.svg"
    }
}

run_svg() {
    # 35,000 folded lines draw a ~100 MB SVG, the size the target is stated for.
    make_big_svg
    ls -l "$data/big.svg"
    hyperfine --warmup 1 --runs 10 --export-json "$data/svg.json" \
        "$obol summary $data/big.svg --json > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/big.svg --json)"
}

formats=benches/gen_formats.py

make_big_trace() {
    # viztracer-style X events, 4 threads: 900,000 events make about 100 MB.
    [ -s "$data/big.trace.json" ] || python3 "$formats" trace 900000 "$data/big.trace.json"
}

run_trace() {
    make_big_trace
    ls -l "$data/big.trace.json"
    hyperfine --warmup 1 --runs 10 --export-json "$data/trace.json" \
        "$obol summary $data/big.trace.json --json > /dev/null" \
        "cat $data/big.trace.json > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/big.trace.json --json)"
}

pprof_against_cat() { # pprof_against_cat NAME SAMPLES: bench-data/NAME.pprof, made if missing
    local file=$data/$1.pprof json=$data/pprof-$1.json
    [ -s "$file" ] || python3 "$formats" pprof "$2" "$file"
    ls -l "$file"
    hyperfine --warmup 1 --runs 10 --export-json "$json" \
        "$obol summary $file --json > /dev/null" \
        "cat $file > /dev/null"
    medians "$json"
    echo "peak RSS KB: obol $(rss $obol summary "$file" --json)"
}

# An uncompressed Profile message of about 84 MB (two sample types).
run_pprof() { pprof_against_cat big 1500000; }

# Issue 14 asks for a 100 MB (uncompressed) pprof: 1,800,000 samples make 100 MB.
run_pprof_100() { pprof_against_cat big-100 1800000; }

make_huge_trace() {
    # Issue 17's gigabyte: the same generator as big.trace.json with ten times the events, so its
    # call tree is about ten times as large too. (Until 2026-12-07 it was big.trace.json's events
    # ten times over, later in time: the same tree as the 100 MB file's, which made the gigabyte
    # cheaper per byte than any trace whose tree grows with it.)
    [ -s "$data/huge.trace.json" ] || python3 "$formats" trace 9000000 "$data/huge.trace.json"
}

run_trace_gb() { # the gigabyte trace, with `cat` in the same run
    make_huge_trace
    ls -l "$data/huge.trace.json"
    hyperfine --warmup 1 --runs 5 --export-json "$data/trace_gb.json" \
        "$obol summary $data/huge.trace.json --json > /dev/null" \
        "cat $data/huge.trace.json > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/huge.trace.json --json)"
}

run_perf() {
    # The fixture recording (Python 3.12 -X perf, two threads) a hundred times over: 25 MB of
    # perf script text, the same few thousand distinct stack lines, as a long recording has.
    [ -s "$data/big.perf-script.txt" ] ||
        for _ in $(seq 100); do cat fixtures/program.perf-script.txt; done >"$data/big.perf-script.txt"
    ls -l "$data/big.perf-script.txt"
    hyperfine --warmup 1 --runs 10 --export-json "$data/perf.json" \
        "$obol summary $data/big.perf-script.txt --json > /dev/null" \
        "inferno-collapse-perf --kernel $data/big.perf-script.txt > /dev/null"
    medians "$data/${FUNCNAME[0]#run_}.json"
    echo "peak RSS KB: obol $(rss $obol summary $data/big.perf-script.txt --json)," \
        "inferno $(rss inferno-collapse-perf --kernel $data/big.perf-script.txt)"
}

# Issue 17: about a gigabyte of each format, against `cat` of the same file in the same run
# (the target is at most 1 s a gigabyte and 8x cat, peak RSS below the file's size).
against_cat() { # against_cat FILE [ARGS...]
    local file=$1
    shift
    ls -l "$file"
    local name
    name=$(basename "$file")
    hyperfine -N --warmup 1 --runs 5 --export-json "$data/huge-$name.json" \
        "$obol summary $file --json $*" "cat $file"
    medians "$data/huge-$name.json"
    /usr/bin/time -f "peak RSS KB: obol %M, %e s wall, %U s user, %S s sys" \
        "$obol" summary "$file" --json "$@" >/dev/null
    uptime
}

run_huge_folded() {
    need "$data/huge.folded" folded 1250000
    against_cat "$data/huge.folded"
}

run_huge_speedscope() {
    need "$data/huge.speedscope.json" speedscope 2800000
    against_cat "$data/huge.speedscope.json"
}

make_huge_svgs() {
    # 125,000 folded lines draw the 364 MB SVG of issue 17; 350,000 draw about a gigabyte.
    [ -s "$data/mid.svg" ] || {
        need "$data/svg-125k.folded" folded 125000
        inferno-flamegraph --minwidth 0 "$data/svg-125k.folded" >"$data/mid.svg"
    }
    [ -s "$data/huge.svg" ] || {
        need "$data/svg-350k.folded" folded 350000
        inferno-flamegraph --minwidth 0 "$data/svg-350k.folded" >"$data/huge.svg"
    }
}

run_huge_svg() {
    make_huge_svgs
    against_cat "$data/mid.svg"
    against_cat "$data/huge.svg"
}

run_linearity() {
    # Issue 17: the 100 MB and 1 GB input of each format, per MB, wall and CPU (user + sys), with
    # `cat` of each file, in alternated rounds (benches/linearity.py; ROUNDS, default 15). The
    # target: within 15% per byte of each other.
    need "$data/big.folded" folded 125000
    need "$data/huge.folded" folded 1250000
    need "$data/big.speedscope.json" speedscope 280000
    need "$data/huge.speedscope.json" speedscope 2800000
    make_big_svg
    make_huge_svgs
    make_big_trace
    make_huge_trace
    local pair small large
    for pair in big.folded:huge.folded big.speedscope.json:huge.speedscope.json \
        big.svg:huge.svg big.trace.json:huge.trace.json; do
        small=$data/${pair%%:*} large=$data/${pair##*:}
        python3 benches/linearity.py "${ROUNDS:-15}" "$obol" "$small" "$large"
        echo "  peak RSS KB: $(rss "$obol" summary "$small" --json) / $(rss "$obol" summary "$large" --json)"
    done
    uptime
}

run_memory() {
    # Issue 11: a million distinct names, and stacks a million frames deep (tests/memory_bounds.rs
    # holds the same files to their bounds).
    [ -s "$data/names.folded" ] ||
        python3 -c 'import sys
for i in range(1000000): sys.stdout.write(f"main;pkg.fn_{i:07d} 1\n")' >"$data/names.folded"
    # The issue's own size: a million names in 16 MB, shorter lines, more bytes of memory per byte.
    [ -s "$data/names16.folded" ] ||
        python3 -c 'import sys
for i in range(1000000): sys.stdout.write(f"main;f_{i:06d} 1\n")' >"$data/names16.folded"
    [ -s "$data/deep.folded" ] ||
        python3 -c 'import sys
for k in range(10): sys.stdout.write(f"root{k};" + ";".join("ab"[i % 2] for i in range(999999)) + f" {k + 1}\n")' >"$data/deep.folded"
    for f in "$data/names.folded" "$data/names16.folded" "$data/deep.folded"; do
        size=$(stat -c %s "$f")
        for json in "" --json; do
            kb=$(rss "$obol" summary "$f" $json)
            python3 -c "print('$f $json: $size bytes, peak RSS $kb KB, %.1fx the file' % ($kb * 1024 / $size))"
        done
    done
}

for what in "${@:-folded pstats speedscope svg trace pprof perf}"; do
    for w in $what; do "run_$w"; done
done
