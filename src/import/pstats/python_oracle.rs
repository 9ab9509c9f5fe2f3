//! Files written by Python's own cProfile, profile, pstats and marshal, checked against the
//! figures Python's pstats reads from them. Skipped, saying so, where `python3` is missing.

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

use super::*;
use crate::analysis::summary::tree_function_weights;
use crate::profile::NodeId;

/// Profiles one program the ways people do (`python3 -m cProfile -o`, on a script and on a
/// module, and `python3 -m profile -o`), writes merged and re-marshalled copies, and prints
/// each file's figures as pstats reads them. Floats are printed as their IEEE bits so that
/// they compare exactly.
const SCRIPT: &str = r#"
import pstats, marshal, json, struct, subprocess, sys, os

out = sys.argv[1]
path = lambda name: os.path.join(out, name)
def bits(x): return struct.unpack('<Q', struct.pack('<d', float(x)))[0]

PROG = """
import helper
def leaf(n): return sum(range(n))
def mid(n): return leaf(n) + leaf(n // 3)
def rec(n): return 0 if n == 0 else rec(n - 1) + leaf(50)
def ping(n): return 0 if n <= 0 else pong(n - 1) + 1
def pong(n): return ping(n - 1) + leaf(20)
def gen(n):
    for i in range(n): yield i
def boom(): raise ValueError("x")
def main():
    for _ in range(60): mid(500)
    rec(8); ping(9); sum(gen(100))
    try: boom()
    except ValueError: pass
    sorted([3, 1, 2], key=lambda v: -v)
    helper.twice(mid(100))
main()
"""
with open(path('prog.py'), 'w') as f: f.write(PROG)
with open(path('helper.py'), 'w') as f: f.write("def twice(x):\n    return 2 * x\nTWO = twice(1)\n")
def run(*args):
    subprocess.run([sys.executable, '-B', *args], cwd=out, check=True, capture_output=True)
run('-m', 'cProfile', '-o', 'c.prof', 'prog.py')
run('-m', 'cProfile', '-o', 'm.prof', '-m', 'prog')
run('-m', 'profile', '-o', 'p.prof', 'prog.py')
merged = pstats.Stats(path('c.prof')); merged.add(path('c.prof')); merged.dump_stats(path('merged.prof'))
with open(path('c.prof'), 'rb') as f: raw = marshal.load(f)
for v in range(5):
    with open(path(f'v{v}.prof'), 'wb') as f: marshal.dump(raw, f, v)

# The profile module names its top entry by a code object, shown without its address.
def text(n):
    if isinstance(n, str): return n
    return f'<code object {n.co_name}, file "{n.co_filename}", line {n.co_firstlineno}>'

def describe(name):
    s = pstats.Stats(path(name))
    entries = []
    for (f, l, n), (cc, nc, tt, ct, callers) in s.stats.items():
        n = text(n)
        cl = []
        for (cf, cln, cn), v in callers.items():
            cn = text(cn)
            if isinstance(v, tuple): cl.append([cf, cln, cn, v[0], v[1], bits(v[2]), bits(v[3])])
            else: cl.append([cf, cln, cn, v, None, None, None])
        entries.append([f, l, n, cc, nc, bits(tt), bits(ct), cl])
    return {"total_tt": bits(s.total_tt), "total_calls": s.total_calls, "entries": entries}

names = ['c.prof', 'm.prof', 'p.prof', 'merged.prof'] + [f'v{v}.prof' for v in range(5)]
print(json.dumps({name: describe(name) for name in names}))
"#;

fn run_python(dir: &Path) -> Option<Json> {
    let output = match Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(dir)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            crate::test_env::skip(&format!("python3 ({e})"));
            return None;
        }
    };
    assert!(
        output.status.success(),
        "the oracle script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("the oracle prints JSON"))
}

fn float(bits: &Json) -> f64 {
    f64::from_bits(bits.as_u64().expect("float bits"))
}

/// The model's (name, file, line) for a pstats key: the key as it is.
fn model_key(file: &str, line: i64, name: &str) -> (String, Option<String>, Option<u32>) {
    (
        name.to_owned(),
        Some(file.to_owned()),
        u32::try_from(line).ok(),
    )
}

fn func_named(set: &ProfileSet, file: &Json, line: &Json, name: &Json) -> FuncId {
    let key = model_key(
        file.as_str().unwrap(),
        line.as_i64().unwrap(),
        name.as_str().unwrap(),
    );
    let at = set
        .frames
        .functions()
        .position(|f| (f.name, f.file, f.line) == (key.0.as_str(), key.1.as_deref(), key.2))
        .unwrap_or_else(|| panic!("no function {key:?}"));
    FuncId(at as u32)
}

/// Every figure pstats reads is in the model, bit for bit.
fn check_figures(name: &str, set: &ProfileSet, oracle: &Json) {
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    let entries = oracle["entries"].as_array().unwrap();
    assert_eq!(stats.len(), entries.len(), "{name}");
    assert_eq!(set.profiles[0].total, float(&oracle["total_tt"]), "{name}");
    let calls: u64 = stats.iter().filter_map(|s| s.calls).sum();
    assert_eq!(calls, oracle["total_calls"].as_u64().unwrap(), "{name}");
    for e in entries {
        let func = func_named(set, &e[0], &e[1], &e[2]);
        let s = stats.iter().find(|s| s.func == func).unwrap();
        let what = format!("{name}: {:?}", set.frames.function(func).name);
        assert_eq!(s.primitive_calls, e[3].as_u64(), "{what}");
        assert_eq!(s.calls, e[4].as_u64(), "{what}");
        assert_eq!(s.self_weight, float(&e[5]), "{what}");
        assert_eq!(s.total_weight, float(&e[6]), "{what}");
        let callers = e[7].as_array().unwrap();
        assert_eq!(s.callers.len(), callers.len(), "{what}");
        for c in callers {
            let caller = func_named(set, &c[0], &c[1], &c[2]);
            let edge = s.callers.iter().find(|(f, _)| *f == caller).unwrap().1;
            assert_eq!(edge.calls, c[3].as_u64(), "{what}");
            if c[4].is_null() {
                assert_eq!(edge.primitive_calls, None, "{what}");
            } else {
                assert_eq!(edge.primitive_calls, c[4].as_u64(), "{what}");
                assert_eq!(edge.self_weight, float(&c[5]), "{what}");
                assert_eq!(edge.total_weight, float(&c[6]), "{what}");
            }
        }
    }
}

#[test]
fn python_written_files_read_as_pstats_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let Some(oracle) = run_python(dir.path()) else {
        return;
    };
    for (name, figures) in oracle.as_object().unwrap() {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        assert_eq!(sniff(&bytes), Sniff::Yes, "{name}");
        let mut warnings = Vec::new();
        let set = parse(&bytes, &mut warnings).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_figures(name, &set, figures);
        // Only the profile module's bare caller counts deserve a warning.
        assert_eq!(
            warnings.is_empty(),
            name != "p.prof",
            "{name}: {warnings:?}"
        );
    }
}

/// The tree of a `python3 -m cProfile` file, against the figures Python printed.
fn check_tree(name: &str, set: &ProfileSet, oracle: &Json) {
    let profile = &set.profiles[0];
    let tree = profile.tree();
    // The roots are the outer exec, whose caller was not profiled (and which the import of
    // `helper` calls again, nested), and the profiler's own `disable`: together they are all
    // the time cProfile measured, which is total_tt.
    let total_tt = float(&oracle[name]["total_tt"]);
    assert!(
        (tree.total() - total_tt).abs() <= 1e-9 * total_tt,
        "{name}: {} vs {total_tt}",
        tree.total()
    );
    let mut root_names: Vec<&str> = tree
        .children(NodeId::ROOT)
        .iter()
        .map(|&n| set.frames.frame(tree.frame(n).unwrap()).name)
        .collect();
    root_names.sort_unstable();
    assert_eq!(
        root_names,
        [
            "<built-in method builtins.exec>",
            "<method 'disable' of '_lsprof.Profiler' objects>"
        ],
        "{name}"
    );
    // Functions not nested in themselves get exactly their cumulative time, however deep the
    // runpy and import frames. (Not `twice`, called both from main and from helper's body:
    // the import machinery between exec and that body also calls compile, and the file cannot
    // say from which of its callers, so helper's body gets only a share of it.)
    let stats = profile.function_stats.as_ref().unwrap();
    let (_, tree_totals) = tree_function_weights(tree, &set.frames);
    for wanted in ["main", "mid", "rec", "ping", "boom"] {
        let s = stats
            .iter()
            .find(|s| set.frames.function(s.func).name == wanted)
            .unwrap_or_else(|| panic!("{name}: no {wanted}"));
        let got = tree_totals[s.func.0 as usize];
        assert!(
            (got - s.total_weight).abs() <= 1e-9 * s.total_weight,
            "{name}: {wanted}: tree {got} vs cumulative {}",
            s.total_weight
        );
    }
}

#[test]
fn cprofile_trees_account_for_all_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let Some(oracle) = run_python(dir.path()) else {
        return;
    };
    for name in ["c.prof", "m.prof"] {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        let mut set = parse(&bytes, &mut Vec::new()).unwrap();
        super::estimate_trees(&mut set);
        check_tree(name, &set, &oracle);
    }
}
