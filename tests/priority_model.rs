//! The priority score on hand-built models, every figure worked out by hand in the comments.

use obol::analysis::modules::ModuleNamer;
use obol::analysis::priority::{
    GraphSource, ModuleScope, ModuleScore, PriorityInput, PriorityReport, Source, Weights, rank,
};
use obol::profile::{
    CallTreeBuilder, EdgeStats, FrameTable, FuncId, FunctionKey, FunctionStats, Profile,
    ProfileSet, Unit,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn module<'a>(report: &'a PriorityReport, name: &str) -> &'a ModuleScore {
    report
        .modules
        .iter()
        .find(|m| m.module == name)
        .unwrap_or_else(|| panic!("no module {name} in {:?}", report.modules))
}

fn namer(sets: &[&ProfileSet]) -> ModuleNamer {
    let files: Vec<String> = sets
        .iter()
        .flat_map(|s| {
            s.frames
                .functions()
                .filter_map(|f| f.file.map(str::to_owned))
        })
        .collect();
    ModuleNamer::new(&[], files.iter().map(String::as_str))
}

/// What the ranking reads when one time profile is all there is.
fn time_only(set: &ProfileSet) -> PriorityInput<'_> {
    PriorityInput {
        time: vec![set],
        memory: vec![],
        namer: namer(&[set]),
        scope: ModuleScope::Project,
    }
}

/// Samples in modules a, b, c, with a frame that has no file (native code) under b:
/// `a.main;b.work 6`, `a.main;c.helper 3`, `a.main 1`, `a.main;b.work;native 2`.
fn sampled() -> ProfileSet {
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let main = frames.intern("main", Some("a.py"), Some(1));
    let work = frames.intern("work", Some("b.py"), Some(5));
    let helper = frames.intern("helper", Some("c.py"), Some(9));
    let native = frames.intern("native", None, None);
    let mut tree = CallTreeBuilder::new();
    tree.add_stack(&[main, work], 6.0);
    tree.add_stack(&[main, helper], 3.0);
    tree.add_stack(&[main], 1.0);
    tree.add_stack(&[main, work, native], 2.0);
    ProfileSet {
        profiles: vec![Profile::from_tree("t", Unit::Samples, tree.finish())],
        frames,
    }
}

#[test]
fn sampled_profile_without_sources() {
    let set = sampled();
    let input = time_only(&set);
    let report = rank(&input, Weights::default(), |_| None);
    assert_eq!(report.graph_source, GraphSource::Calls);
    // Self: a 1, b 6 + 2 (the native frame is charged to its caller), c 3 → /8.
    // Call edges a→b, a→c: coupling a 2, b 1, c 1 → /2.
    // Known: time and coupling only, weights 0.4 + 0.3 = 0.7.
    // a: (0.4·0.125 + 0.3·1)/0.7 = 0.5;  b: (0.4·1 + 0.3·0.5)/0.7;  c: (0.4·0.375 + 0.3·0.5)/0.7
    // Hottest path: main (12) → work (8) → native (2): a and b, ×1.1.
    // b is a bottleneck and coupled (time 1 ≥ 0.5, coupling 0.5 ≥ 0.5): ×1.25.
    let a = module(&report, "a");
    let b = module(&report, "b");
    let c = module(&report, "c");
    assert_eq!(a.raw.self_time, 1.0);
    assert_eq!(b.raw.self_time, 8.0);
    assert_eq!((a.raw.fan_in, a.raw.fan_out), (0, 2));
    assert_eq!(c.time, Some(0.375));
    assert_eq!(c.coupling, Some(0.5));
    for m in [a, b, c] {
        assert_eq!((m.complexity, m.memory, m.calls), (None, None, None));
        assert_eq!(m.raw.complexity, None);
    }
    assert!(close(a.score, 0.5 * 1.1), "{}", a.score);
    assert!(
        close(b.score, (0.4 + 0.15) / 0.7 * 1.1 * 1.25),
        "{}",
        b.score
    );
    assert!(close(c.score, (0.15 + 0.15) / 0.7), "{}", c.score);
    assert!(close(b.boost, 1.1 * 1.25));
    assert_eq!(b.reasons.len(), 2);
    assert_eq!((a.tier, b.tier, c.tier), ("P1", "P1", "P2"));
    let order: Vec<&str> = report.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(order, ["b", "a", "c"]);
}

#[test]
fn memory_profile_adds_a_factor_and_rescales() {
    let set = sampled();
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let main = frames.intern("main", Some("a.py"), Some(1));
    let helper = frames.intern("helper", Some("c.py"), Some(9));
    let mut tree = CallTreeBuilder::new();
    tree.add_stack(&[main, helper], 100.0);
    tree.add_stack(&[main], 300.0);
    let memory = ProfileSet {
        profiles: vec![Profile::from_tree("m", Unit::Bytes, tree.finish())],
        frames,
    };
    let input = PriorityInput {
        time: vec![&set],
        memory: vec![&memory],
        namer: namer(&[&set, &memory]),
        scope: ModuleScope::Project,
    };
    let report = rank(&input, Weights::default(), |_| None);
    // Bytes a 300, b 0, c 100 → memory a 1, b 0, c 1/3; weights now 0.4 + 0.3 + 0.1 = 0.8.
    let a = module(&report, "a");
    let c = module(&report, "c");
    assert_eq!(module(&report, "b").raw.bytes, Some(0.0));
    assert_eq!(a.memory, Some(1.0));
    assert!(close(a.score, (0.4 * 0.125 + 0.3 + 0.1) / 0.8 * 1.1));
    assert!(close(c.score, (0.4 * 0.375 + 0.3 * 0.5 + 0.1 / 3.0) / 0.8));
}

fn edge(calls: u64, self_weight: f64) -> EdgeStats {
    EdgeStats {
        calls: Some(calls),
        primitive_calls: Some(calls),
        self_weight,
        total_weight: self_weight,
    }
}

fn stat(
    func: FuncId,
    calls: u64,
    self_weight: f64,
    callers: Vec<(FuncId, EdgeStats)>,
) -> FunctionStats {
    FunctionStats {
        func,
        calls: Some(calls),
        primitive_calls: Some(calls),
        self_weight,
        total_weight: self_weight,
        callers,
    }
}

#[test]
fn pstats_model_with_sources_a_cycle_and_a_builtin() {
    let mut frames = FrameTable::new(FunctionKey::NameFileLine);
    let f = frames.intern("f", Some("m1.py"), Some(2));
    let g = frames.intern("g", Some("m2.py"), Some(3));
    let h = frames.intern("h", Some("m3.py"), Some(1));
    let len = frames.intern("<built-in method builtins.len>", Some("~"), Some(0));
    let [f, g, h, len] = [f, g, h, len].map(|frame| frames.func_of(frame));
    let stats = vec![
        stat(f, 1, 1.0, vec![]),
        stat(g, 4, 4.0, vec![(f, edge(4, 4.0))]),
        stat(h, 2, 2.0, vec![(g, edge(2, 2.0))]),
        // len's 3 s and 10 calls split by the edges' times, 1 : 2, between f and h.
        stat(len, 10, 3.0, vec![(f, edge(5, 1.0)), (h, edge(5, 2.0))]),
    ];
    let frame_of = |name: &str| {
        frames
            .frames()
            .position(|fr| fr.name == name)
            .map(|i| obol::profile::FrameId(i as u32))
            .unwrap()
    };
    let (ff, fg, fh, flen) = (
        frame_of("f"),
        frame_of("g"),
        frame_of("h"),
        frame_of("<built-in method builtins.len>"),
    );
    let mut tree = CallTreeBuilder::new();
    tree.add_stack(&[ff, fg, fh], 2.0);
    tree.add_stack(&[ff, fg], 4.0);
    tree.add_stack(&[ff], 1.0);
    tree.add_stack(&[ff, flen], 3.0);
    let mut profile = Profile::from_tree("p", Unit::Seconds, tree.finish());
    profile.function_stats = Some(stats);
    let set = ProfileSet {
        profiles: vec![profile],
        frames,
    };
    let input = time_only(&set);
    // m1 imports m2; m2 imports m1 (lazily) and m3: a cycle {m1, m2}. m3's source is missing.
    let read = |file: &str| {
        let text = match file {
            "m1.py" => "import m2\ndef f(x):\n    if x:\n        return m2.g()\n",
            "m2.py" => {
                "from m3 import h\ndef g():\n    import m1\n    for i in range(3):\n        if i and m1:\n            h()\n"
            }
            _ => return None,
        };
        Some(Source {
            text: text.to_owned(),
            is_package: false,
        })
    };
    let report = rank(&input, Weights::default(), read);
    assert_eq!(report.graph_source, GraphSource::Imports);
    let (m1, m2, m3) = (
        module(&report, "m1"),
        module(&report, "m2"),
        module(&report, "m3"),
    );
    // Self: m1 1 + 1 (len), m2 4, m3 2 + 2 (len) → /4. Calls: m1 1 + 3, m2 4, m3 2 + 7 → /9.
    assert_eq!(
        (m1.raw.self_time, m2.raw.self_time, m3.raw.self_time),
        (2.0, 4.0, 4.0)
    );
    assert_eq!(
        (m1.raw.calls, m2.raw.calls, m3.raw.calls),
        (Some(4), Some(4), Some(9))
    );
    // Imports m1→m2, m2→m1, m2→m3: coupling m1 2, m2 3, m3 1 → /3.
    assert_eq!((m2.raw.fan_in, m2.raw.fan_out), (1, 2));
    // Complexity (radon's rules): f = 1 + if = 2; g = 1 + for + if + and = 4; m3 unknown.
    assert_eq!(
        (m1.raw.complexity, m2.raw.complexity, m3.raw.complexity),
        (Some(2), Some(4), None)
    );
    assert_eq!(m3.complexity, None);
    // m1: (0.4·0.5 + 0.3·2/3 + 0.15·0.5 + 0.05·4/9) / 0.9, ×1.2 cycle ×1.1 hot path ×1.25.
    let m1_base = (0.4 * 0.5 + 0.3 * 2.0 / 3.0 + 0.15 * 0.5 + 0.05 * 4.0 / 9.0) / 0.9;
    assert!(close(m1.score, m1_base * 1.2 * 1.1 * 1.25), "{}", m1.score);
    // m2: (0.4 + 0.3 + 0.15 + 0.05·4/9) / 0.9, same boosts.
    let m2_base = (0.85 + 0.05 * 4.0 / 9.0) / 0.9;
    assert!(close(m2.score, m2_base * 1.2 * 1.1 * 1.25), "{}", m2.score);
    // m3: complexity unknown, so (0.4·1 + 0.3/3 + 0.05·1) / 0.75; only the hot path boost.
    assert!(
        close(m3.score, (0.4 + 0.1 + 0.05) / 0.75 * 1.1),
        "{}",
        m3.score
    );
    assert!(m1.reasons[0].contains("cycle with m2"), "{:?}", m1.reasons);
    let order: Vec<&str> = report.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(order, ["m2", "m1", "m3"]);
}

#[test]
fn weights_parse_and_reject() {
    let w = Weights::parse("time=0.5, calls=0").unwrap();
    assert_eq!((w.time, w.coupling, w.calls), (0.5, 0.3, 0.0));
    for bad in [
        "speed=1",
        "time",
        "time=-1",
        "time=abc",
        "time=0,coupling=0,complexity=0,memory=0,calls=0",
    ] {
        assert!(Weights::parse(bad).is_err(), "{bad} accepted");
    }
}

/// A profile from another machine: the standard library's sources are found here, the
/// project's are not. Imports of the library alone would give the project's modules no
/// coupling, so the graph comes from the profile's calls, as with no source at all.
/// `app.main;app.work;json.encoder.encode 4`, `app.main;app.work 5`, `app.main 1`.
#[test]
fn only_library_sources_found_gives_the_graph_from_calls() {
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let stdlib = "/usr/lib/python3.11/json/encoder.py";
    let main = frames.intern("main", Some("/srv/app/main.py"), Some(1));
    let work = frames.intern("work", Some("/srv/app/work.py"), Some(4));
    let encode = frames.intern("encode", Some(stdlib), Some(200));
    let mut tree = CallTreeBuilder::new();
    tree.add_stack(&[main, work, encode], 4.0);
    tree.add_stack(&[main, work], 5.0);
    tree.add_stack(&[main], 1.0);
    let set = ProfileSet {
        profiles: vec![Profile::from_tree("t", Unit::Samples, tree.finish())],
        frames,
    };
    // Every module: this is about the standard library's sources being found.
    let input = PriorityInput {
        scope: ModuleScope::All,
        ..time_only(&set)
    };
    let library_only = |file: &str| {
        (file == stdlib).then(|| Source {
            text: "import json\ndef encode(o):\n    return o\n".to_owned(),
            is_package: false,
        })
    };
    let report = rank(&input, Weights::default(), library_only);
    assert_eq!(report.graph_source, GraphSource::Calls);
    // Call edges main→work→json.encoder: work has fan-in 1 and fan-out 1.
    let work = module(&report, "work");
    assert_eq!((work.raw.fan_in, work.raw.fan_out), (1, 1));
    let encoder = module(&report, "json.encoder");
    assert_eq!(encoder.raw.complexity, Some(1));
    // With one of the project's own sources found, imports are read again.
    let with_main = |file: &str| {
        (file == "/srv/app/main.py")
            .then(|| Source {
                text: "import work\ndef main():\n    work.work()\n".to_owned(),
                is_package: false,
            })
            .or_else(|| library_only(file))
    };
    let report = rank(&input, Weights::default(), with_main);
    assert_eq!(report.graph_source, GraphSource::Imports);
    assert_eq!(module(&report, "work").raw.fan_in, 1);
}

/// pstats figures: `main` and `report` of the project call `json.dumps`, which calls
/// `JSONEncoder.encode`, which calls the built-in `len`. By default the library's time is
/// charged to the project module that called it: its own self time by the self time under each
/// caller, further up by the cumulative time under each.
#[test]
fn library_time_goes_to_the_project_module_that_called_it() {
    let mut frames = FrameTable::new(FunctionKey::NameFileLine);
    let json = "/usr/lib/python3.11/json/__init__.py";
    let encoder = "/usr/lib/python3.11/json/encoder.py";
    let fr_main = frames.intern("main", Some("/srv/app/main.py"), Some(1));
    let fr_report = frames.intern("report", Some("/srv/app/report.py"), Some(1));
    let fr_dumps = frames.intern("dumps", Some(json), Some(183));
    let fr_encode = frames.intern("encode", Some(encoder), Some(200));
    let fr_len = frames.intern("<built-in method builtins.len>", Some("~"), Some(0));
    let [main, report, dumps, encode, len] =
        [fr_main, fr_report, fr_dumps, fr_encode, fr_len].map(|f| frames.func_of(f));
    let edge = |calls, self_weight, total_weight| EdgeStats {
        calls: Some(calls),
        primitive_calls: Some(calls),
        self_weight,
        total_weight,
    };
    let stats = vec![
        stat(main, 1, 1.0, vec![]),
        stat(report, 1, 1.0, vec![(main, edge(1, 1.0, 5.5))]),
        // dumps' own 0.4 s: 0.1 under main, 0.3 under report.
        stat(
            dumps,
            4,
            0.4,
            vec![(main, edge(1, 0.1, 1.5)), (report, edge(3, 0.3, 4.5))],
        ),
        stat(encode, 4, 5.0, vec![(dumps, edge(4, 5.0, 5.6))]),
        stat(len, 100, 0.6, vec![(encode, edge(100, 0.6, 0.6))]),
    ];
    let mut tree = CallTreeBuilder::new();
    tree.add_stack(&[fr_main], 1.0);
    tree.add_stack(&[fr_main, fr_report], 1.0);
    tree.add_stack(&[fr_main, fr_report, fr_dumps, fr_encode], 5.0);
    tree.add_stack(&[fr_main, fr_report, fr_dumps, fr_encode, fr_len], 0.6);
    tree.add_stack(&[fr_main, fr_dumps], 0.4);
    let mut profile = Profile::from_tree("p", Unit::Seconds, tree.finish());
    profile.function_stats = Some(stats);
    let set = ProfileSet {
        profiles: vec![profile],
        frames,
    };
    let report_of = |scope| {
        let input = PriorityInput {
            scope,
            ..time_only(&set)
        };
        rank(&input, Weights::default(), |_| None)
    };
    let project = report_of(ModuleScope::Project);
    let names: Vec<&str> = project.modules.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // dumps' 0.4: 1/4 to main, 3/4 to report (its self time under each). encode's 5 and len's
    // 0.6 reach the project through dumps, whose cumulative time is 1.5 under main and 4.5
    // under report: again 1/4 and 3/4.
    // main: 1 + 0.1 + 1.25 + 0.15 = 2.5; report: 1 + 0.3 + 3.75 + 0.45 = 5.5; all 8 s placed.
    assert!(close(module(&project, "main").raw.self_time, 2.5));
    assert!(close(module(&project, "report").raw.self_time, 5.5));
    assert_eq!(module(&project, "report").time, Some(1.0));
    // The heaviest function to jump to is the module's own.
    assert_eq!(
        module(&project, "report").heaviest_function,
        Some((0, report))
    );
    // Every module: the library's own, and len charged to encode as before.
    let all = report_of(ModuleScope::All);
    assert!(close(module(&all, "json").raw.self_time, 0.4));
    assert!(close(module(&all, "json.encoder").raw.self_time, 5.6));
    assert!(close(module(&all, "report").raw.self_time, 1.0));
    assert_eq!(all.modules.len(), 4);
}
