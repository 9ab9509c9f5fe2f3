//! Hand-checked stats dicts. The Python-made files are checked in `python_oracle`.

use super::*;
use crate::import::Location;
use crate::profile::NodeId;

type Key<'a> = (&'a str, i64, &'a str);

/// (calls, primitive calls, self, cumulative), as in a caller entry.
type Figures = (i64, i64, f64, f64);

struct Func<'a> {
    key: Key<'a>,
    own: Figures,
    callers: Vec<(Key<'a>, Figures)>,
    /// Callers with a bare call count, as the `profile` module writes them.
    counted: Vec<(Key<'a>, i64)>,
}

fn func<'a>(key: Key<'a>, own: Figures, callers: Vec<(Key<'a>, Figures)>) -> Func<'a> {
    Func {
        key,
        own,
        callers,
        counted: Vec::new(),
    }
}

/// Writes marshal version 2 (no references), which `writer_matches_python` checks byte for
/// byte against Python's `marshal.dumps(stats, 2)`.
fn marshal_stats(funcs: &[Func]) -> Vec<u8> {
    fn int(out: &mut Vec<u8>, v: i64) {
        out.push(b'i');
        out.extend((v as i32).to_le_bytes());
    }
    fn float(out: &mut Vec<u8>, v: f64) {
        out.push(b'g');
        out.extend(v.to_le_bytes());
    }
    fn text(out: &mut Vec<u8>, s: &str) {
        out.push(b'u');
        out.extend((s.len() as i32).to_le_bytes());
        out.extend(s.as_bytes());
    }
    fn tuple(out: &mut Vec<u8>, n: i32) {
        out.push(b'(');
        out.extend(n.to_le_bytes());
    }
    fn key(out: &mut Vec<u8>, (file, line, name): Key) {
        tuple(out, 3);
        text(out, file);
        int(out, line);
        text(out, name);
    }
    let mut out = vec![b'{'];
    for f in funcs {
        key(&mut out, f.key);
        let (calls, primitive, own, total) = f.own;
        tuple(&mut out, 5);
        int(&mut out, primitive);
        int(&mut out, calls);
        float(&mut out, own);
        float(&mut out, total);
        out.push(b'{');
        for &(k, (calls, primitive, own, total)) in &f.callers {
            key(&mut out, k);
            tuple(&mut out, 4);
            int(&mut out, calls);
            int(&mut out, primitive);
            float(&mut out, own);
            float(&mut out, total);
        }
        for &(k, calls) in &f.counted {
            key(&mut out, k);
            int(&mut out, calls);
        }
        out.push(b'0');
    }
    out.push(b'0');
    out
}

/// The file parsed and its call tree estimated, with the warnings of both.
fn load(bytes: &[u8]) -> (ProfileSet, Vec<String>) {
    let mut warnings = Vec::new();
    let mut set = parse(bytes, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
    warnings.extend(super::estimate_trees(&mut set));
    (set, warnings)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// (self, total) of the node reached by following function names from the root.
fn node(set: &ProfileSet, path: &[&str]) -> (f64, f64) {
    let tree = set.profiles[0].tree();
    let mut at = NodeId::ROOT;
    for name in path {
        at = *tree
            .children(at)
            .iter()
            .find(|&&c| tree.frame(c).map(|f| set.frames.frame(f).name) == Some(name))
            .unwrap_or_else(|| panic!("no {name} on the way to {path:?}"));
    }
    (tree.self_weight(at), tree.total_weight(at))
}

fn assert_node(set: &ProfileSet, path: &[&str], self_weight: f64, total: f64) {
    let (s, t) = node(set, path);
    assert!(
        close(s, self_weight) && close(t, total),
        "{path:?}: got self {s} total {t}, want self {self_weight} total {total}"
    );
}

const MAIN: Key = ("m.py", 1, "main");
const A: Key = ("m.py", 10, "a");
const B: Key = ("m.py", 20, "b");
const C: Key = ("m.py", 30, "c");
const D: Key = ("m.py", 40, "d");

/// main calls a and b, both call c, c calls d. Times are whole numbers so the hand
/// arithmetic in `diamond_tree_follows_each_callers_figures` is exact.
fn diamond() -> Vec<u8> {
    marshal_stats(&[
        func(MAIN, (1, 1, 1.0, 16.0), vec![]),
        func(A, (1, 1, 2.0, 6.0), vec![(MAIN, (1, 1, 2.0, 6.0))]),
        func(B, (1, 1, 1.0, 9.0), vec![(MAIN, (1, 1, 1.0, 9.0))]),
        func(
            C,
            (3, 3, 4.0, 12.0),
            vec![(A, (2, 2, 1.0, 4.0)), (B, (1, 1, 3.0, 8.0))],
        ),
        func(D, (3, 3, 8.0, 8.0), vec![(C, (3, 3, 8.0, 8.0))]),
    ])
}

#[test]
fn writer_matches_python() {
    // marshal.dumps({('a.py', 1, 'f'): (1, 2, 0.5, 1.5, {('~', 0, 'g'): (2, 1, 0.25, 0.75)})}, 2)
    let python = "7b28030000007504000000612e7079690100000075010000006628050000006901000000\
                  690200000067000000000000e03f67000000000000f83f7b28030000007501000000\
                  7e690000000075010000006728040000006902000000690100000067000000000000\
                  d03f67000000000000e83f3030";
    let ours: String = marshal_stats(&[func(
        ("a.py", 1, "f"),
        (2, 1, 0.5, 1.5),
        vec![(("~", 0, "g"), (2, 1, 0.25, 0.75))],
    )])
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    assert_eq!(ours, python);
}

#[test]
fn figures_are_kept_as_the_file_states_them() {
    let bytes = marshal_stats(&[
        func(("a.py", 1, "f"), (7, 3, 0.5, 1.5), vec![]),
        func(
            ("~", 0, "<built-in method builtins.len>"),
            (2, 2, 0.25, 0.25),
            vec![(("a.py", 1, "f"), (2, 1, 0.25, 0.75))],
        ),
    ]);
    let (set, warnings) = load(&bytes);
    assert!(warnings.is_empty(), "{warnings:?}");
    let profile = &set.profiles[0];
    assert_eq!(profile.unit, Unit::Seconds);
    assert_eq!(profile.name, "");
    // total_tt as pstats computes it: the sum of self times, 0.5 + 0.25.
    assert_eq!(profile.total, 0.75);
    let stats = profile.function_stats.as_ref().unwrap();
    let f = &stats[0];
    assert_eq!(set.frames.function(f.func).name, "f");
    assert_eq!(set.frames.function(f.func).file, Some("a.py"));
    assert_eq!(set.frames.function(f.func).line, Some(1));
    // The function tuple is (primitive, calls, ...): 7 calls of which 3 primitive.
    assert_eq!((f.calls, f.primitive_calls), (Some(7), Some(3)));
    assert_eq!((f.self_weight, f.total_weight), (0.5, 1.5));
    let len = set.frames.function(stats[1].func);
    // Built-ins keep cProfile's `~` file and line 0.
    assert_eq!((len.file, len.line), (Some("~"), Some(0)));
    // The caller tuple is (calls, primitive, ...), the other way round.
    let (caller, edge) = stats[1].callers[0];
    assert_eq!(caller, f.func);
    assert_eq!(edge.calls, Some(2));
    assert_eq!(edge.primitive_calls, Some(1));
    assert_eq!((edge.self_weight, edge.total_weight), (0.25, 0.75));
}

#[test]
fn diamond_tree_follows_each_callers_figures() {
    let (set, warnings) = load(&diamond());
    assert!(warnings.is_empty(), "{warnings:?}");
    let tree = set.profiles[0].tree();
    // By hand: main is the only root (no callers), weight 16, own share 1/16 of it.
    assert_eq!(tree.children(NodeId::ROOT).len(), 1);
    assert_node(&set, &["main"], 1.0, 16.0);
    assert_node(&set, &["main", "a"], 2.0, 6.0);
    assert_node(&set, &["main", "b"], 1.0, 9.0);
    // c under a: a→c says 1 of its 4 is c's own; the other 3 go to d. Under b: 3 of 8 own.
    // (c's overall ratio, 4 of 12, would give 4/3 and 8/3 instead.)
    assert_node(&set, &["main", "a", "c"], 1.0, 4.0);
    assert_node(&set, &["main", "a", "c", "d"], 3.0, 3.0);
    assert_node(&set, &["main", "b", "c"], 3.0, 8.0);
    assert_node(&set, &["main", "b", "c", "d"], 5.0, 5.0);
    assert_eq!(tree.len(), 8);
    assert_eq!(tree.total(), set.profiles[0].total);
}

#[test]
fn the_tree_is_estimated_only_when_asked_for() {
    let bytes = diamond();
    let mut warnings = Vec::new();
    let mut set = parse(&bytes, &mut warnings).unwrap();
    assert!(!set.profiles[0].has_tree());
    // The function table needs no tree.
    let rows = crate::analysis::summary::function_table(
        &set,
        &[&set.profiles[0]],
        crate::analysis::summary::SortKey::SelfWeight,
    );
    assert_eq!(rows.len(), 5);
    assert!(!set.profiles[0].has_tree());
    // Asked for, it is the estimate; asking again changes nothing.
    assert!(super::estimate_trees(&mut set).is_empty());
    assert!(set.profiles[0].has_tree());
    let (eager, _) = load(&bytes);
    assert_eq!(set.profiles[0].tree().len(), 8);
    assert_eq!(set.profiles[0].tree().len(), eager.profiles[0].tree().len());
    let built: *const _ = set.profiles[0].tree();
    assert!(super::estimate_trees(&mut set).is_empty());
    assert!(std::ptr::eq(built, set.profiles[0].tree()));
    assert_node(&set, &["main", "b", "c", "d"], 5.0, 5.0);
}

#[test]
fn direct_recursion_uses_the_functions_own_ratio() {
    // main → rec (which calls itself 4 times) → leaf. cProfile's edge main→rec has only the
    // outermost call's own time (0.5); rec's own time over all levels is 2 of its 7.
    let rec = ("r.py", 5, "rec");
    let leaf = ("r.py", 1, "leaf");
    let bytes = marshal_stats(&[
        func(MAIN, (1, 1, 1.0, 8.0), vec![]),
        func(
            rec,
            (5, 1, 2.0, 7.0),
            vec![(MAIN, (1, 1, 0.5, 7.0)), (rec, (4, 0, 1.5, 5.0))],
        ),
        func(leaf, (5, 5, 5.0, 5.0), vec![(rec, (5, 5, 5.0, 5.0))]),
    ]);
    let (set, _) = load(&bytes);
    assert_node(&set, &["main"], 1.0, 8.0);
    assert_node(&set, &["main", "rec"], 2.0, 7.0);
    assert_node(&set, &["main", "rec", "leaf"], 5.0, 5.0);
    // The self edge is not unrolled.
    assert_eq!(set.profiles[0].tree().len(), 4);
}

#[test]
fn a_call_back_up_the_path_is_a_leaf() {
    // ping → pong → ping → pong, as cProfile records it: outer ping 8 (own 2), outer pong 6
    // (own 3 + 2 for the inner pong), inner ping 3 (own 1).
    let ping = ("p.py", 1, "ping");
    let pong = ("p.py", 2, "pong");
    let bytes = marshal_stats(&[
        func(MAIN, (1, 1, 1.0, 9.0), vec![]),
        func(
            ping,
            (2, 1, 3.0, 8.0),
            vec![(MAIN, (1, 1, 2.0, 8.0)), (pong, (1, 1, 1.0, 3.0))],
        ),
        func(pong, (2, 1, 5.0, 6.0), vec![(ping, (2, 1, 5.0, 6.0))]),
    ]);
    let (set, warnings) = load(&bytes);
    assert!(warnings.is_empty(), "{warnings:?}");
    // By hand: main 9 (own 1) → ping 8 (own 2/8 of 8) → pong 6 (own 5/6 of 6 = 5) → ping 1,
    // which is already on the path and so holds its 1 as a leaf.
    assert_node(&set, &["main"], 1.0, 9.0);
    assert_node(&set, &["main", "ping"], 2.0, 8.0);
    assert_node(&set, &["main", "ping", "pong"], 5.0, 6.0);
    assert_node(&set, &["main", "ping", "pong", "ping"], 1.0, 1.0);
    assert_eq!(set.profiles[0].tree().len(), 5);
}

#[test]
fn an_entry_point_that_recurses_is_a_root_and_its_nested_call_unrolls_once() {
    // `python -m cProfile`'s shape, by hand: the outer exec (called from outside the
    // profiler, so 2 calls but only 1 from a caller) runs <string>, which runs main (5) and an
    // inner exec (3: own 0.5, then a module body of 2.5). cProfile's exec figures: own time
    // 1 + 0.5 over both calls, cumulative 10 for the outermost only.
    let exec = ("~", 0, "<built-in method builtins.exec>");
    let string = ("<string>", 1, "<module>");
    let body = ("inner.py", 1, "<module>");
    let bytes = marshal_stats(&[
        func(exec, (2, 1, 1.5, 10.0), vec![(string, (1, 1, 0.5, 3.0))]),
        func(string, (1, 1, 1.0, 9.0), vec![(exec, (1, 1, 1.0, 9.0))]),
        func(MAIN, (1, 1, 5.0, 5.0), vec![(string, (1, 1, 5.0, 5.0))]),
        func(body, (1, 1, 2.5, 2.5), vec![(exec, (1, 1, 2.5, 2.5))]),
    ]);
    let (set, warnings) = load(&bytes);
    assert!(warnings.is_empty(), "{warnings:?}");
    let exec_name = "<built-in method builtins.exec>";
    // Cumulative less callers' time would give exec only 10 - 3 = 7 at the top.
    assert_node(&set, &[exec_name], 1.0, 10.0);
    // exec's callees want 9 + 2.5 of its 9: <string> alone fills it, so it gets it all.
    assert_node(&set, &[exec_name, "<module>"], 1.0, 9.0);
    assert_node(&set, &[exec_name, "<module>", "main"], 5.0, 5.0);
    // The inner exec is unrolled, but not back into <string>, which is on the path.
    assert_node(&set, &[exec_name, "<module>", exec_name], 0.5, 3.0);
    let body_node = node(&set, &[exec_name, "<module>", exec_name, "<module>"]);
    assert_eq!(body_node, (2.5, 2.5));
    assert_eq!(set.profiles[0].tree().len(), 6);
    assert_eq!(set.profiles[0].tree().total(), 10.0);
}

#[test]
fn time_no_recorded_caller_accounts_for_is_a_root() {
    // f is called by `outside`, which has no stats of its own (profiling began inside it), and
    // by main for 4 of its 10: the other 6 start at the top.
    let f = ("f.py", 3, "f");
    let outside = ("o.py", 9, "outside");
    let bytes = marshal_stats(&[
        func(MAIN, (1, 1, 1.0, 5.0), vec![]),
        func(
            f,
            (2, 2, 10.0, 10.0),
            vec![(MAIN, (1, 1, 4.0, 4.0)), (outside, (1, 1, 6.0, 6.0))],
        ),
    ]);
    let (set, _) = load(&bytes);
    assert_node(&set, &["main"], 1.0, 5.0);
    assert_node(&set, &["main", "f"], 4.0, 4.0);
    assert_node(&set, &["f"], 6.0, 6.0);
    // `outside` is known as a caller but has no figures, so no row in the table.
    assert!(set.frames.functions().any(|f| f.name == "outside"));
    let profiles: Vec<&Profile> = set.profiles.iter().collect();
    let rows = crate::analysis::summary::function_table(&set, &profiles, Default::default());
    assert_eq!(rows.len(), 2);
}

#[test]
fn a_cycle_through_the_entry_point_is_rebuilt_by_hand() {
    // What ran: a (called from outside the profiler; own 1) calls b (own 2), which calls a
    // again (own 1), which calls c (3); then the outer a calls c (2). cProfile records:
    //   a: 2 calls, 1 primitive, own 1+1, cumulative 9 (outermost call only);
    //      callers {b: 1 call, own 1, cumulative 4 (the inner a)}
    //   b: own 2, cumulative 6, callers {a: the same}
    //   c: 2 calls, own 5, cumulative 5, callers {a: the same}
    // By hand: a's second call has no caller and its outermost call is that one, so a is a
    // root of 9, own 2 - 1 = 1. Its callees want b 6 + c 5 of its 8: b fills 6 first and c gets
    // the 2 left. b: own 2, its 4 go to a again, which owns 1 and may not go back to b, so c
    // gets its 3. That is what ran, and the tree's total is the root's 9, total_tt.
    let a = ("g.py", 1, "a");
    let b = ("g.py", 2, "b");
    let c = ("g.py", 3, "c");
    let bytes = marshal_stats(&[
        func(a, (2, 1, 2.0, 9.0), vec![(b, (1, 1, 1.0, 4.0))]),
        func(b, (1, 1, 2.0, 6.0), vec![(a, (1, 1, 2.0, 6.0))]),
        func(c, (2, 2, 5.0, 5.0), vec![(a, (2, 2, 5.0, 5.0))]),
    ]);
    let (set, warnings) = load(&bytes);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_node(&set, &["a"], 1.0, 9.0);
    assert_node(&set, &["a", "b"], 2.0, 6.0);
    assert_node(&set, &["a", "b", "a"], 1.0, 4.0);
    assert_node(&set, &["a", "b", "a", "c"], 3.0, 3.0);
    assert_node(&set, &["a", "c"], 2.0, 2.0);
    assert_eq!(set.profiles[0].tree().len(), 6);
    assert_eq!(set.profiles[0].tree().total(), 9.0);
    assert_eq!(set.profiles[0].total, 9.0);
}

#[test]
fn a_graph_without_a_way_in_starts_at_the_heaviest_function() {
    let a = ("c.py", 1, "a");
    let b = ("c.py", 2, "b");
    let bytes = marshal_stats(&[
        func(a, (1, 1, 1.0, 4.0), vec![(b, (1, 1, 1.0, 4.0))]),
        func(b, (1, 1, 3.0, 5.0), vec![(a, (1, 1, 3.0, 5.0))]),
    ]);
    let (set, warnings) = load(&bytes);
    assert!(
        warnings[0].contains("starts at the heaviest, b"),
        "{warnings:?}"
    );
    // By hand: b (5, own 3 of it) gives a the 2 left; a's edge from b says own 1 of 4, so 0.5,
    // and its call to b wants 5 * 2/4 = 2.5 of the 1.5 left: b again, which may not go back
    // to a (on the path), holds its 1.5.
    assert_node(&set, &["b"], 3.0, 5.0);
    assert_node(&set, &["b", "a"], 0.5, 2.0);
    assert_node(&set, &["b", "a", "b"], 1.5, 1.5);
}

#[test]
fn the_estimates_warning_reaches_loads_that_build_the_tree_and_only_those() {
    let a = ("c.py", 1, "a");
    let b = ("c.py", 2, "b");
    let bytes = marshal_stats(&[
        func(a, (1, 1, 1.0, 4.0), vec![(b, (1, 1, 1.0, 4.0))]),
        func(b, (1, 1, 3.0, 5.0), vec![(a, (1, 1, 3.0, 5.0))]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cycle.prof");
    std::fs::write(&path, &bytes).unwrap();
    let eager = crate::import::load_path(&path).unwrap();
    assert!(eager.set.profiles[0].has_tree());
    assert_eq!(eager.warnings.len(), 1, "{:?}", eager.warnings);
    assert!(eager.warnings[0].contains("starts at the heaviest, b"));
    let mut lazy = crate::import::load_path_lazily(&path).unwrap();
    assert!(!lazy.set.profiles[0].has_tree());
    assert!(lazy.warnings.is_empty(), "{:?}", lazy.warnings);
    // Built later, the tree gives the same warning.
    lazy.build_trees();
    assert_eq!(lazy.warnings, eager.warnings);
    assert_eq!(
        lazy.set.profiles[0].tree().len(),
        eager.set.profiles[0].tree().len()
    );
}

#[test]
fn light_branches_stay_leaves_and_the_node_cap_holds() {
    // main (own 99997.5) calls t (0.5, half its own) and h (2, half its own), both calling u.
    // The bar is 1e-5 of 100000 = 1: t stays a leaf holding its 0.5, h is unrolled.
    let t = ("l.py", 2, "t");
    let h = ("l.py", 3, "h");
    let u = ("l.py", 4, "u");
    let bytes = marshal_stats(&[
        func(MAIN, (1, 1, 99_997.5, 100_000.0), vec![]),
        func(t, (1, 1, 0.25, 0.5), vec![(MAIN, (1, 1, 0.25, 0.5))]),
        func(h, (1, 1, 1.0, 2.0), vec![(MAIN, (1, 1, 1.0, 2.0))]),
        func(
            u,
            (2, 2, 1.25, 1.25),
            vec![(t, (1, 1, 0.25, 0.25)), (h, (1, 1, 1.0, 1.0))],
        ),
    ]);
    let (set, _) = load(&bytes);
    assert_node(&set, &["main", "t"], 0.5, 0.5);
    assert_node(&set, &["main", "h"], 1.0, 2.0);
    assert_node(&set, &["main", "h", "u"], 1.0, 1.0);

    // r (20 own) calls f0..f99 (1 each, half of it own), each calling g (0.5): 1 + 201 nodes.
    let names: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
    let r = ("w.py", 1, "r");
    let g = ("w.py", 3, "g");
    let mut funcs = vec![func(r, (1, 1, 20.0, 120.0), vec![])];
    for name in &names {
        funcs.push(func(
            ("w.py", 2, name),
            (1, 1, 0.5, 1.0),
            vec![(r, (1, 1, 0.5, 1.0))],
        ));
    }
    let g_callers = names
        .iter()
        .map(|n| (("w.py", 2, n.as_str()), (1, 1, 0.5, 0.5)))
        .collect();
    funcs.push(func(g, (100, 100, 50.0, 50.0), g_callers));
    let (set, warnings) = load(&marshal_stats(&funcs));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(set.profiles[0].tree().len(), 1 + 201);
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    let mut warnings = Vec::new();
    let tree = tree::estimate_within(&set.frames, stats, 150, &mut warnings);
    // Depth first: the root, r, then f0, g, f1, g... until 150 nodes hold 74 f's; the other
    // 26 f's (1 each) stay in r's own time.
    assert_eq!(tree.len(), 150);
    let r_node = tree.children(NodeId::ROOT)[0];
    assert_eq!(tree.self_weight(r_node), 20.0 + 26.0);
    assert_eq!(tree.children(r_node).len(), 74);
    assert_eq!(tree.total(), 120.0);
    assert!(warnings[0].contains("stops at 150 nodes"), "{warnings:?}");
}

/// Python 3.11's marshal.dumps({('p.py', 3, 'f'): (-1, -1, 1.5, 1.5, {('p.py', 1, 'main'):
/// (-1, -1, 1.5, 1.5)}), ('p.py', 1, 'main'): (-1, -1, 1.0, 2.5, {}), ('__sampled__',): True}),
/// with the references and flags a real file has.
fn pyinstrument_like() -> Vec<u8> {
    let python = "fba903fa04702e7079e903000000da01662905e9ffffffff7205000000e700000000\
                  0000f83f72060000007ba9037202000000e901000000da046d61696ea90472050000\
                  00720500000072060000007206000000307207000000290572050000007205000000\
                  e7000000000000f03fe700000000000004407b30a901da0b5f5f73616d706c65645f\
                  5f5430";
    (0..python.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&python[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn pyinstrument_counts_and_the_sampling_marker() {
    let bytes = pyinstrument_like();
    assert_eq!(sniff(&bytes), Sniff::Yes);
    let (set, warnings) = load(&bytes);
    assert!(warnings.is_empty(), "{warnings:?}");
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    // Two functions: the marker is no function.
    assert_eq!(stats.len(), 2);
    assert_eq!((stats[0].calls, stats[0].primitive_calls), (None, None));
    assert_eq!(stats[0].callers[0].1.calls, None);
    assert_eq!(set.profiles[0].total, 2.5);
    // Without counts, main's uncovered 2.5 makes it the root.
    assert_node(&set, &["main"], 1.0, 2.5);
    assert_node(&set, &["main", "f"], 1.5, 1.5);
}

#[test]
fn profile_module_call_counts_share_out_the_time() {
    // The `profile` module writes a bare count per caller: 3 calls from a, 1 from b.
    let c = Func {
        counted: vec![(A, 3), (B, 1)],
        ..func(C, (4, 4, 4.0, 4.0), vec![])
    };
    let bytes = marshal_stats(&[
        func(A, (1, 1, 1.0, 4.0), vec![]),
        func(B, (1, 1, 1.0, 2.0), vec![]),
        c,
    ]);
    let (set, warnings) = load(&bytes);
    assert!(warnings[0].contains("call count"), "{warnings:?}");
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    let edges = &stats[2].callers;
    // a made 3 of the 4 calls: 3/4 of c's 4.0 own and cumulative time.
    assert_eq!(edges[0].1.calls, Some(3));
    assert_eq!(edges[0].1.primitive_calls, None);
    assert_eq!(
        (edges[0].1.self_weight, edges[0].1.total_weight),
        (3.0, 3.0)
    );
    assert_eq!(
        (edges[1].1.self_weight, edges[1].1.total_weight),
        (1.0, 1.0)
    );
    // a (a root of 4, 1 of it its own) gives c 3; b (2, 1 own) gives it 1.
    assert_node(&set, &["a"], 1.0, 4.0);
    assert_node(&set, &["a", "c"], 3.0, 3.0);
    assert_node(&set, &["b", "c"], 1.0, 1.0);
}

#[test]
fn sniff_accepts_stats_and_nothing_else() {
    assert_eq!(sniff(&diamond()), Sniff::Yes);
    // The head of a Python 3.11 cProfile file: `{` with the ref flag, first key
    // ('prog.py', 5, 'rec') with interned short strings; the head ends mid-value.
    let head = [
        0xfb, 0x29, 0x03, 0xfa, 0x07, b'p', b'r', b'o', b'g', b'.', b'p', b'y', 0xe9, 0x05, 0, 0,
        0, 0xda, 0x03, b'r', b'e', b'c', 0x29, 0x05, 0xe9,
    ];
    assert_eq!(sniff(&head), Sniff::Yes);
    assert_eq!(sniff(b"{0"), Sniff::Yes);
    // A dict opening onto a tuple is claimed even when the key is broken, so that the parse
    // error (with its offset) is what the user sees.
    assert_eq!(sniff(b"{(}"), Sniff::Yes);
    for other in [
        &b"{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\"}"[..],
        b"a;b;c 1\n",
        b"<?xml version=\"1.0\"?><svg/>",
        b"{x}",
        b"{0 trailing",
        b"",
    ] {
        assert_eq!(
            sniff(other),
            Sniff::No,
            "{}",
            String::from_utf8_lossy(other)
        );
    }
}

#[test]
fn malformed_stats_name_the_byte_and_the_field() {
    let err = |bytes: &[u8]| parse(bytes, &mut Vec::new()).unwrap_err();
    let e = err(b"[\x00\x00\x00\x00");
    assert!(e.message.contains("not a stats dict"), "{e}");
    assert_eq!(e.location, Location::Byte(0));
    let e = err(&[b'{', b'i', 1, 0, 0, 0, b'N', b'0']);
    assert!(e.message.contains("found int"), "{e}");
    assert_eq!(e.location, Location::Byte(1));
    let e = err(b"{0");
    assert!(e.message.contains("empty"), "{e}");

    let good = marshal_stats(&[func(A, (1, 1, 1.0, 2.0), vec![])]);
    let value_at = 1 + 5 + (5 + 4) + 5 + (5 + 1);
    assert_eq!(good[value_at], b'(');
    let mut bad = good.clone();
    bad[value_at + 5..value_at + 10].copy_from_slice(&[b'z', 3, b'a', b'b', b'c']);
    let e = err(&bad);
    assert!(
        e.message
            .contains("primitive call count should be an int, found str"),
        "{e}"
    );
    assert!(e.message.contains("stats of a (m.py)"), "{e}");
    // The error names the field, just past the tuple's 5-byte header.
    assert_eq!(e.location, Location::Byte(value_at as u64 + 5));
    let e = err(&good[..good.len() - 1]);
    assert!(e.message.contains("file ends"), "{e}");
    assert_eq!(e.location, Location::Byte(good.len() as u64 - 1));
    let nan = marshal_stats(&[func(A, (1, 1, f64::NAN, 2.0), vec![])]);
    assert!(err(&nan).message.contains("self time is NaN"));
    let mut none_callers = good.clone();
    let callers_at = good.len() - 3;
    none_callers.splice(callers_at..callers_at + 2, [b'N']);
    let e = err(&none_callers);
    assert!(
        e.message.contains("callers should be a dict, found None"),
        "{e}"
    );
    assert_eq!(e.location, Location::Byte(callers_at as u64));
}

#[test]
fn cut_or_corrupted_files_fail_cleanly() {
    for good in [diamond(), pyinstrument_like()] {
        for len in 0..good.len() {
            assert!(
                parse(&good[..len], &mut Vec::new()).is_err(),
                "cut at {len}"
            );
        }
        // Every byte replaced by a few telling values: any outcome but a panic will do.
        for at in 0..good.len() {
            for replacement in [0x00, 0x30, 0x72, 0x7B, 0xA9, 0xE3, 0xFF] {
                let mut bad = good.clone();
                bad[at] = replacement;
                let _ = parse(&bad, &mut Vec::new());
            }
        }
    }
}

#[test]
fn hostile_sizes_and_depths_fail_at_once() {
    let err = |bytes: &[u8]| parse(bytes, &mut Vec::new()).unwrap_err();
    let e = err(b"");
    assert_eq!(e.location, Location::Byte(0), "{e}");
    // A key whose file name claims 2 GiB, in a 20-byte file.
    let mut huge = vec![b'{', b')', 3, b'u', 0xFF, 0xFF, 0xFF, 0x7F];
    huge.extend(b"short name..");
    let e = err(&huge);
    assert!(
        e.message.contains("of 2147483647 bytes runs past the end"),
        "{e}"
    );
    assert_eq!(e.location, Location::Byte(3));
    // A key nested 200,000 tuples deep stops at the depth limit, without running out of stack.
    let mut deep = vec![b'{'];
    for _ in 0..200_000 {
        deep.extend([b'(', 1, 0, 0, 0]);
    }
    let started = std::time::Instant::now();
    let e = err(&deep);
    assert!(e.message.contains("nested"), "{e}");
    assert!(started.elapsed().as_secs() < 1);
}

#[test]
fn trailing_bytes_and_repeated_keys_are_reported() {
    let mut bytes = marshal_stats(&[
        func(A, (1, 1, 1.0, 2.0), vec![]),
        func(A, (5, 5, 3.0, 4.0), vec![]),
    ]);
    bytes.extend(b"junk");
    let (set, warnings) = load(&bytes);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("ignored 4 bytes"));
    assert!(warnings[1].contains("appear twice"));
    // As in the dict Python would load, the later figures win.
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].calls, Some(5));
    assert_eq!(set.profiles[0].total, 3.0);
}
