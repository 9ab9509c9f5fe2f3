"""Large inputs in the formats ../shared/bench/gen_big.py does not write, for benches/run.sh.

usage: gen_formats.py trace EVENTS OUT   Chrome trace events as viztracer writes them
                                         (`X` events named `func (file:line)`, 4 threads)
       gen_formats.py pprof SAMPLES OUT  an uncompressed pprof `Profile` (two sample types,
                                         cpu/nanoseconds and samples/count)

Deterministic (seeded), so that runs compare."""
import json
import random
import sys


def names(n, rng):
    mods = [f"pkg{m}/mod{m % 37}.py" for m in range(200)]
    return [(f"fn_{i}_{rng.choice(['parse', 'walk', 'emit', 'load', 'scan'])}",
             rng.choice(mods), rng.randint(1, 3000)) for i in range(n)]


def trace(events, out):
    """Nested calls: each thread runs a random call tree, a call's children inside its span."""
    rng = random.Random(7)
    vocab = names(5000, rng)
    written = 0
    with open(out, "w") as f:
        f.write('{"traceEvents": [\n')
        for tid in range(4):
            f.write(json.dumps({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid,
                                "args": {"name": f"worker-{tid}"}}) + ",\n")
        clock = [0.0] * 4

        def call(tid, depth, start):
            """Writes a call starting at `start` with its children; returns its end."""
            nonlocal written
            at = start + rng.uniform(0.5, 5.0)
            if depth < 12:
                for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                    if written >= events:
                        break
                    at = call(tid, depth + 1, at) + rng.uniform(0.1, 2.0)
            end = at + rng.uniform(0.5, 5.0)
            name, file, line = rng.choice(vocab)
            f.write(json.dumps({"ph": "X", "name": f"{name} ({file}:{line})", "pid": 1,
                                "tid": tid, "ts": round(start, 3), "dur": round(end - start, 3)})
                    + ",\n")
            written += 1
            return end

        while written < events:
            tid = rng.randrange(4)
            clock[tid] = call(tid, 0, clock[tid]) + 1.0
        f.write(json.dumps({"ph": "M", "name": "process_name", "pid": 1,
                            "args": {"name": "python"}}) + "\n]}\n")


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def int_field(number, value):
    return varint(number << 3) + varint(value)


def pprof(samples, out):
    """The stacks of gen_big.py's folded generator, as pprof locations and functions."""
    rng = random.Random(7)
    vocab = names(5000, rng)
    prefixes = [[rng.randrange(len(vocab)) for _ in range(rng.randint(3, 15))] for _ in range(400)]
    strings = [""]
    index = {}

    def string(s):
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    with open(out, "wb") as f:
        for kind, unit in (("cpu", "nanoseconds"), ("samples", "count")):
            f.write(field(1, int_field(1, string(kind)) + int_field(2, string(unit))))
        # 125,000 distinct stacks, as gen_big.py's folded file has, each sampled many times
        # (a sampler records a hot stack again and again; Go's labels keep such samples apart).
        stacks = []
        for _ in range(125_000):
            stack = rng.choice(prefixes) + [rng.randrange(len(vocab))
                                            for _ in range(rng.randint(2, 25))]
            # Leaf first, as pprof lists locations; location i+1 is function i+1.
            stacks.append(b"".join(varint(i + 1) for i in reversed(stack)))
        for _ in range(samples):
            ids = rng.choice(stacks)
            count = rng.randint(1, 5)
            values = varint(count * 10_000_000) + varint(count)
            f.write(field(2, field(1, ids) + field(2, values)))
        for i, (name, file, line) in enumerate(vocab):
            f.write(field(4, int_field(1, i + 1) + field(4, int_field(1, i + 1)
                                                          + int_field(2, line))))
            f.write(field(5, int_field(1, i + 1) + int_field(2, string(name))
                          + int_field(3, string(name)) + int_field(4, string(file))
                          + int_field(5, line)))
        for s in strings:
            f.write(field(6, s.encode()))
        f.write(field(11, int_field(1, string("cpu")) + int_field(2, string("nanoseconds"))))
        f.write(int_field(12, 10_000_000))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("trace", "pprof"):
        sys.exit(__doc__)
    {"trace": trace, "pprof": pprof}[sys.argv[1]](int(sys.argv[2]), sys.argv[3])
