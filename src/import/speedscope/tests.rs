use std::collections::HashMap;

use super::*;
use crate::profile::{FrameId, NodeId, Profile, Unit};

/// Parses `json`, checking that the quick reading takes it and that the exact reading gives
/// the same.
fn load(json: &str) -> (ProfileSet, Vec<String>) {
    let mut warnings = Vec::new();
    let set = parse(json.as_bytes(), &mut warnings).unwrap_or_else(|e| panic!("{e}"));
    assert!(quick_takes(json.as_bytes()), "the quick reading gave up");
    let mut exact_warnings = Vec::new();
    let exact = parse_with(json.as_bytes(), &mut exact_warnings, false).unwrap();
    assert_eq!(format!("{set:?}"), format!("{exact:?}"));
    assert_eq!(warnings, exact_warnings);
    (set, warnings)
}

/// Whether the quick reading takes `json` rather than leaving it to the exact reading.
fn quick_takes(json: &[u8]) -> bool {
    let json = json.strip_prefix(BOM).unwrap_or(json);
    matches!(
        read_merging(|context| quick::read(json, context).ok_or(())),
        (Some(Ok(_)), Ok(_))
    )
}

fn fail(json: &[u8]) -> ParseError {
    match parse(json, &mut Vec::new()) {
        Ok(_) => panic!(
            "parsed: {}",
            String::from_utf8_lossy(&json[..json.len().min(200)])
        ),
        Err(e) => e,
    }
}

/// (self, total) of the node reached by following frame names from the root.
fn weight_of(set: &ProfileSet, profile: usize, path: &[&str]) -> (f64, f64) {
    let tree = &set.profiles[profile].tree;
    let mut node = NodeId::ROOT;
    for name in path {
        node = *tree
            .children(node)
            .iter()
            .find(|&&c| set.frames.frame(tree.frame(c).unwrap()).name == *name)
            .unwrap_or_else(|| panic!("no {name} under {path:?}"));
    }
    (tree.self_weight(node), tree.total_weight(node))
}

/// The timeline as (stack of names, weight).
fn timeline(set: &ProfileSet, profile: &Profile) -> Vec<(String, f64)> {
    let samples = profile
        .timeline
        .as_ref()
        .expect("speedscope keeps the timeline");
    samples
        .iter()
        .map(|s| {
            let names: Vec<&str> = profile
                .tree
                .stack(s.leaf)
                .into_iter()
                .map(|f| set.frames.frame(f).name.as_str())
                .collect();
            (names.join(";"), s.weight)
        })
        .collect()
}

const FRAMES_ABCD: &str =
    r#""shared":{"frames":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"}]}"#;

#[test]
fn sniff_knows_speedscope_heads() {
    let py_spy =
        br#"{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[{"#;
    assert_eq!(sniff(py_spy), Sniff::Yes);
    let pretty = b"\xEF\xBB\xBF\n  {\n  \"profiles\": [],\n  \"shared\" : {\"frames\": []}}";
    assert_eq!(sniff(pretty), Sniff::Yes);
    assert_eq!(sniff(br#"{"a":1}"#), Sniff::Maybe);
    // Words in values are not keys.
    assert_eq!(sniff(br#"{"a":"shared profiles"}"#), Sniff::Maybe);
    assert_eq!(
        sniff(br#"{"$schema":"https://json-schema.org/x"}"#),
        Sniff::Maybe
    );
    assert_eq!(sniff(b"[1,2]"), Sniff::No);
    assert_eq!(sniff(b"a;b 1\n"), Sniff::No);
    // A marshalled pstats dict: `{`, then a small tuple with the ref flag, as Python writes it.
    assert_eq!(
        sniff(b"{\xa9\x03\xda\x08/x/a.py\xe9\x03\x00\x00\x00"),
        Sniff::No
    );
    assert_eq!(sniff(b"{\"\xff\xfe\"profiles\":"), Sniff::No);
    // A head cut in the middle of a character is still text.
    assert_eq!(
        sniff(
            "{\"shared\":1,\"profiles\":\"é"
                .as_bytes()
                .split_last()
                .unwrap()
                .1
        ),
        Sniff::Yes
    );
}

#[test]
fn sampled_weights_by_hand() {
    // Stacks a;b;c ×2 (weights 1, 1), a;b;d 4, a;b;c 3, a;b 5, the empty stack 2, a;b 0.
    // By hand: a 0/14, a;b 5/14, a;b;c 5/5, a;b;d 4/4, root self 2, total 16. The weightless
    // sample is dropped, as speedscope drops it, so the timeline has 6 entries.
    let json = format!(
        r#"{{"profiles":[{{"type":"sampled","name":"p","unit":"milliseconds","startValue":3,"endValue":19,
        "samples":[[0,1,2],[0,1,2],[0,1,3],[0,1,2],[0,1],[],[0,1]],"weights":[1,1,4,3,5,2,0]}}],{FRAMES_ABCD}}}"#
    );
    let (set, warnings) = load(&json);
    assert!(warnings.is_empty(), "{warnings:?}");
    let p = &set.profiles[0];
    assert_eq!((p.name.as_str(), p.unit), ("p", Unit::Milliseconds));
    assert_eq!((p.start_value, p.end_value), (Some(3.0), Some(19.0)));
    assert_eq!(p.total, 16.0);
    assert_eq!(p.tree.self_weight(NodeId::ROOT), 2.0);
    assert_eq!(weight_of(&set, 0, &["a"]), (0.0, 14.0));
    assert_eq!(weight_of(&set, 0, &["a", "b"]), (5.0, 14.0));
    assert_eq!(weight_of(&set, 0, &["a", "b", "c"]), (5.0, 5.0));
    assert_eq!(weight_of(&set, 0, &["a", "b", "d"]), (4.0, 4.0));
    let expected = [
        ("a;b;c", 1.0),
        ("a;b;c", 1.0),
        ("a;b;d", 4.0),
        ("a;b;c", 3.0),
        ("a;b", 5.0),
        ("", 2.0),
    ];
    let expected: Vec<(String, f64)> = expected.iter().map(|&(s, w)| (s.to_owned(), w)).collect();
    assert_eq!(timeline(&set, p), expected);
}

#[test]
fn keys_in_any_order_and_several_profiles_share_frames() {
    // `type` after the arrays (as speedscope's sorted samples have it), `shared` last (as
    // py-spy writes it), and unknown keys, which are skipped.
    let json = format!(
        r#"{{"exporter":{{"x":[1,[2]]}},"profiles":[
        {{"weights":[2,3],"samples":[[0,1],[1]],"unit":"seconds","type":"sampled","extra":null}},
        {{"samples":[[3]],"weights":[7],"type":"sampled","unit":"samples","name":"two"}}],{FRAMES_ABCD}}}"#
    );
    let (set, _) = load(&json);
    assert_eq!(set.profiles.len(), 2);
    assert_eq!(set.profiles[0].name, "");
    assert_eq!(weight_of(&set, 0, &["a", "b"]), (2.0, 2.0));
    assert_eq!(weight_of(&set, 0, &["b"]), (3.0, 3.0));
    assert_eq!(weight_of(&set, 1, &["d"]), (7.0, 7.0));
    assert_eq!(set.profiles[1].unit, Unit::Samples);
    assert_eq!(set.total(), 12.0);
    assert_eq!(set.frames.frame_count(), 4);
}

#[test]
fn frames_keep_file_and_line_and_functions_group_by_name_and_file() {
    let json = r#"{"shared":{"frames":[
        {"name":"work","file":"app.py","line":12,"col":null},
        {"name":"work","file":"app.py","line":10},
        {"name":"main","file":null,"line":null},
        {"name":"odd","file":"x.py","line":2.5}]},
      "profiles":[{"type":"sampled","unit":"seconds","samples":[[2,0],[2,1],[3]],"weights":[1,1,1]}]}"#;
    let (set, warnings) = load(json);
    let frames = set.frames.frames();
    assert_eq!(frames[0].file.as_deref(), Some("app.py"));
    assert_eq!((frames[0].line, frames[1].line), (Some(12), Some(10)));
    assert_eq!((frames[2].file.as_deref(), frames[2].line), (None, None));
    assert_eq!(frames[3].line, None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("1 frame has a `line`"),
        "{}",
        warnings[0]
    );
    assert_eq!(
        set.frames.func_of(FrameId(0)),
        set.frames.func_of(FrameId(1))
    );
    assert_eq!(
        set.frames.function(set.frames.func_of(FrameId(0))).line,
        Some(10)
    );
}

#[test]
fn duplicate_frames_merge_and_weightless_nodes_go() {
    // Frames 0 and 2 are both `a`, so a;b and a';b are one stack: 1 + 2 = 3. The weightless
    // sample c leaves no node behind.
    let json = r#"{"shared":{"frames":[{"name":"a"},{"name":"b"},{"name":"a"},{"name":"c"}]},
      "profiles":[{"type":"sampled","unit":"none","samples":[[0,1],[2,1],[3]],"weights":[1,2,0]}]}"#;
    let (set, _) = load(json);
    let tree = &set.profiles[0].tree;
    assert_eq!(tree.len(), 3);
    assert_eq!(weight_of(&set, 0, &["a", "b"]), (3.0, 3.0));
    let leaves: Vec<_> = timeline(&set, &set.profiles[0]);
    assert_eq!(
        leaves,
        vec![("a;b".to_owned(), 1.0), ("a;b".to_owned(), 2.0)]
    );
}

#[test]
fn evented_by_hand_with_idle_gaps() {
    // a opens at 10, b at 12, b closes at 15, a closes at 16; nothing open 16..20; c from 20 to
    // 21, with a zero-length d inside it. By hand: a self 2+1 = 3, total 6; b 3; c 1; d nothing.
    // The idle time (startValue 0 to 10, and 16 to 20) belongs to no frame.
    let json = format!(
        r#"{{{FRAMES_ABCD},"profiles":[{{"type":"evented","name":"e","unit":"microseconds",
        "startValue":0,"endValue":30,"events":[
        {{"type":"O","frame":0,"at":10}},{{"type":"O","frame":1,"at":12}},{{"type":"C","frame":1,"at":15}},
        {{"type":"C","frame":0,"at":16}},{{"type":"O","frame":2,"at":20}},{{"type":"O","frame":3,"at":20.5}},
        {{"type":"C","frame":3,"at":20.5}},{{"type":"C","frame":2,"at":21}}]}}]}}"#
    );
    let (set, _) = load(&json);
    let p = &set.profiles[0];
    assert_eq!(p.total, 7.0);
    assert_eq!(p.tree.self_weight(NodeId::ROOT), 0.0);
    assert_eq!(weight_of(&set, 0, &["a"]), (3.0, 6.0));
    assert_eq!(weight_of(&set, 0, &["a", "b"]), (3.0, 3.0));
    assert_eq!(weight_of(&set, 0, &["c"]), (1.0, 1.0));
    assert_eq!(p.tree.len(), 4, "the zero-length d leaves no node");
    let expected = [("a", 2.0), ("a;b", 3.0), ("a", 1.0), ("c", 0.5), ("c", 0.5)];
    let expected: Vec<(String, f64)> = expected.iter().map(|&(s, w)| (s.to_owned(), w)).collect();
    assert_eq!(timeline(&set, p), expected);
}

#[test]
fn evented_errors() {
    let events = |list: &str| {
        format!(
            r#"{{{FRAMES_ABCD},"profiles":[{{"type":"evented","unit":"none","events":[{list}]}}]}}"#
        )
    };
    let cases = [
        (
            r#"{"type":"O","frame":0,"at":5},{"type":"C","frame":0,"at":4}"#,
            "before the event ahead",
        ),
        (r#"{"type":"C","frame":0,"at":4}"#, "when no frame is open"),
        (
            r#"{"type":"O","frame":0,"at":1},{"type":"O","frame":1,"at":2},{"type":"C","frame":0,"at":3}"#,
            "out-of-order",
        ),
        (r#"{"type":"O","frame":0,"at":1}"#, "still open"),
        (r#"{"type":"O","frame":9,"at":1}"#, "names frame 9"),
        (r#"{"type":"X","frame":0,"at":1}"#, "unknown variant"),
    ];
    for (list, wanted) in cases {
        let err = fail(events(list).as_bytes());
        assert!(err.message.contains(wanted), "{list}: {err}");
        assert!(matches!(err.location, Location::LineColumn(1, _)), "{err}");
    }
    // With `shared` last, the bad index is found on a second reading, which stops just after the
    // event holding it: that event's `}` is the 70th byte.
    let late = format!(
        r#"{{"profiles":[{{"type":"evented","events":[{{"type":"O","frame":9,"at":1}},{{"type":"C","frame":9,"at":2}}]}}],{FRAMES_ABCD}}}"#
    );
    let err = fail(late.as_bytes());
    assert!(
        err.message.contains("event 0 of profile 0 names frame 9"),
        "{err}"
    );
    assert_eq!(err.location, Location::LineColumn(1, 71), "{err}");
}

#[test]
fn frame_index_out_of_range_says_where_whichever_comes_first() {
    // Line 3 holds the bad sample in both orders; the second needs the frame count from `shared`,
    // which only comes after.
    let profiles = "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\n\"weights\":[1,1],\n\"samples\":[[0],[1,4]]}]";
    let shared = "\"shared\":{\"frames\":[{\"name\":\"a\"},{\"name\":\"b\"}]}";
    for json in [
        format!("{{{shared},\n{profiles}}}"),
        format!("{{{profiles},\n{shared}}}"),
    ] {
        let err = fail(json.as_bytes());
        assert!(
            err.message.contains("sample 1 of profile 0 names frame 4"),
            "{err}"
        );
        assert!(err.message.contains("has 2 frames"), "{err}");
        let Location::LineColumn(line, _) = err.location else {
            panic!("{err}")
        };
        assert_eq!(
            line,
            if json.starts_with("{\"shared") { 4 } else { 3 },
            "{err}"
        );
    }
}

#[test]
fn sampled_errors() {
    let profile =
        |body: &str| format!(r#"{{{FRAMES_ABCD},"profiles":[{{"unit":"none",{body}}}]}}"#);
    let cases = [
        (
            r#""type":"sampled","samples":[[0],[1]],"weights":[1]"#,
            "2 samples but 1 weights",
        ),
        (
            r#""type":"sampled","samples":[[0]],"weights":[1,2]"#,
            "1 samples but 2 weights",
        ),
        (
            r#""type":"sampled","samples":[[0]],"weights":[-1]"#,
            "negative",
        ),
        (
            r#""type":"sampled","samples":[[0.5]],"weights":[1]"#,
            "expected u32",
        ),
        (
            r#""type":"sampled","samples":[[-1]],"weights":[1]"#,
            "expected u32",
        ),
        (
            r#""type":"sampled","samples":[[4294967295]],"weights":[1]"#,
            "names frame 4294967295",
        ),
        (r#""type":"sampled","weights":[1]"#, "no `samples`"),
        (r#""type":"sampled","samples":[[0]]"#, "no `weights`"),
        (r#""type":"evented""#, "no `events`"),
        (r#""type":"flat""#, "unknown variant `flat`"),
        (r#""samples":[[0]],"weights":[1]"#, "no `type`"),
        (
            r#""type":"sampled","samples":[],"samples":[],"weights":[]"#,
            "duplicate field",
        ),
    ];
    for (body, wanted) in cases {
        let err = fail(profile(body).as_bytes());
        assert!(err.message.contains(wanted), "{body}: {err}");
        assert!(matches!(err.location, Location::LineColumn(1, _)), "{err}");
    }
}

#[test]
fn not_speedscope_or_broken_json() {
    let cases: [(&[u8], &str); 7] = [
        (br#"{"a":1}"#, "no `profiles`"),
        (br#"{"profiles":[]}"#, "no `shared.frames`"),
        (br#"{"profiles":[],"shared":{"frames":[]}}"#, "`profiles` is empty"),
        (br#"[1,2]"#, "invalid type"),
        (br#"{"profiles":[{"type":"sampled","samples":[[0,1"#, "EOF"),
        (
            br#"{"shared":{"frames":[]},"profiles":[{"type":"sampled","samples":[],"weights":[]}]} x"#,
            "trailing",
        ),
        (b"", "EOF"),
    ];
    for (json, wanted) in cases {
        let err = fail(json);
        assert!(
            err.message.contains(wanted),
            "{}: {err}",
            String::from_utf8_lossy(json)
        );
        assert!(
            matches!(err.location, Location::LineColumn(1, _)),
            "{}: {err}",
            String::from_utf8_lossy(json)
        );
        // The position is the location, not repeated in the message.
        assert!(!err.message.contains(" at line "), "{err}");
    }
}

#[test]
fn deep_nesting_is_a_clean_error() {
    let deep = "[".repeat(200_000);
    for json in [
        deep.clone(),
        format!(r#"{{"profiles":{deep}"#),
        format!(r#"{{"profiles":[{{"type":"sampled","samples":{deep}"#),
        format!(r#"{{"shared":{{"frames":[{{"name":{deep}"#),
        format!(r#"{{"ignored":{deep}"#),
        format!(r#"{{"profiles":[{{"ignored":{deep}"#),
        format!(r#"{{"profiles":[{{"type":{{"sampled":{deep}"#),
        format!(r#"{{"profiles":[{{"type":"evented","events":[{{"at":{deep}"#),
        "{\"a\":".repeat(200_000),
    ] {
        let err = fail(json.as_bytes());
        assert!(matches!(err.location, Location::LineColumn(1, _)), "{err}");
    }
}

#[test]
fn units_and_bom() {
    let json = format!(
        "\u{feff}{{{FRAMES_ABCD},\"profiles\":[{{\"type\":\"sampled\",\"unit\":\"fortnights\",\"samples\":[[0]],\"weights\":[1]}},{{\"type\":\"sampled\",\"samples\":[[0]],\"weights\":[1]}}]}}"
    );
    let (set, warnings) = load(&json);
    assert_eq!(set.unit(), Unit::None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("\"fortnights\""), "{}", warnings[0]);
    assert!(warnings[0].contains("1 more"), "{}", warnings[0]);
    // Columns count the byte-order mark: the `x` is the 4th byte.
    let err = fail("\u{feff}x".as_bytes());
    assert_eq!(err.location, Location::LineColumn(1, 4), "{err}");
}

/// A pseudo-random generator, so that the big test needs no crate and no seed file.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn many_samples_match_a_naive_count() {
    // Enough stacks to cross many batches between the threads, with repeats (which take the
    // shortcut along the previous stack) and shared prefixes. The oracle sums each distinct
    // path's weight directly from the list of stacks.
    let mut state = 7;
    let mut stacks: Vec<Vec<u32>> = Vec::new();
    for _ in 0..20_000 {
        let repeat = stacks
            .last()
            .filter(|_| lcg(&mut state).is_multiple_of(3))
            .cloned();
        let stack = repeat.unwrap_or_else(|| {
            let depth = (lcg(&mut state) % 12) as usize;
            (0..depth)
                .map(|d| (lcg(&mut state) % (3 + d as u64)) as u32)
                .collect()
        });
        stacks.push(stack);
    }
    let weights: Vec<u64> = (0..stacks.len()).map(|_| lcg(&mut state) % 5).collect();
    let frames: Vec<String> = (0..16).map(|i| format!(r#"{{"name":"f{i}"}}"#)).collect();
    let json = format!(
        r#"{{"profiles":[{{"type":"sampled","unit":"none","samples":{},"weights":{}}}],"shared":{{"frames":[{}]}}}}"#,
        serde_json::to_string(&stacks).unwrap(),
        serde_json::to_string(&weights).unwrap(),
        frames.join(",")
    );
    check_against_naive_count(&json, &stacks, &weights);
}

/// Parses `json`, whose one profile's stacks are `stacks`, and checks its tree and timeline
/// against sums taken straight from the stacks.
fn check_against_naive_count(json: &str, stacks: &[Vec<u32>], weights: &[u64]) {
    let (set, _) = load(json);
    let mut expected: HashMap<Vec<u32>, u64> = HashMap::new();
    for (stack, &w) in stacks.iter().zip(weights) {
        for len in 1..=stack.len() {
            *expected.entry(stack[..len].to_vec()).or_default() += w;
        }
    }
    expected.retain(|_, w| *w > 0);
    let tree = &set.profiles[0].tree;
    assert_eq!(tree.len() - 1, expected.len());
    for node in tree.ids().skip(1) {
        let path: Vec<u32> = tree.stack(node).iter().map(|f| f.0).collect();
        assert_eq!(
            Some(&(tree.total_weight(node) as u64)),
            expected.get(&path),
            "{path:?}"
        );
    }
    assert_eq!(set.total() as u64, weights.iter().sum::<u64>());
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    let mut tallied = vec![(0.0, 0.0); set.frames.function_count()];
    for stat in stats {
        tallied[stat.func.0 as usize] = (stat.self_weight, stat.total_weight);
    }
    let walked = crate::analysis::summary::tree_function_weights(tree, &set.frames);
    let walked: Vec<(f64, f64)> = walked.0.into_iter().zip(walked.1).collect();
    assert_eq!(tallied, walked);
    let timeline = set.profiles[0].timeline.as_ref().unwrap();
    let nonzero: Vec<(Vec<u32>, f64)> = stacks
        .iter()
        .zip(weights)
        .filter(|&(_, &w)| w > 0)
        .map(|(s, &w)| (s.clone(), w as f64))
        .collect();
    let got: Vec<(Vec<u32>, f64)> = timeline
        .iter()
        .map(|s| (tree.stack(s.leaf).iter().map(|f| f.0).collect(), s.weight))
        .collect();
    assert_eq!(got, nonzero);
}

#[test]
fn stacks_read_the_same_in_any_spacing() {
    // The merging side reads the stacks' text itself, comparing each with the one before byte
    // for byte: whitespace anywhere JSON allows it, stacks that differ from the one before only
    // in spacing or in a digit, empty stacks and indices of every length must all read as
    // serde_json reads them.
    let mut state = 11;
    let frame_count = 12_000u32;
    let mut stacks: Vec<Vec<u32>> = Vec::new();
    let mut text = String::from("[");
    for n in 0..5_000 {
        let previous = stacks.last().cloned().unwrap_or_default();
        let stack: Vec<u32> = match lcg(&mut state) % 6 {
            0 => previous,
            1 => previous[..previous.len() / 2].to_vec(),
            2 => Vec::new(),
            3 => {
                // The stack before with its last digit changed.
                let mut stack = previous;
                if let Some(last) = stack.last_mut() {
                    *last = (*last / 10) * 10 + (*last + 1) % 10;
                }
                stack
            }
            _ => {
                let depth = (lcg(&mut state) % 14) as usize;
                let mut stack = previous[..previous.len().min(depth / 2)].to_vec();
                while stack.len() < depth {
                    let digits = lcg(&mut state) % 5;
                    stack.push((lcg(&mut state) % 10u64.pow(digits as u32 + 1)) as u32);
                }
                stack
            }
        };
        let stack: Vec<u32> = stack.into_iter().map(|f| f % frame_count).collect();
        let mut space = || match lcg(&mut state) % 12 {
            0 => " ",
            1 => "\n",
            2 => "\t ",
            3 => "\r\n  ",
            _ => "",
        };
        if n > 0 {
            text.push_str(space());
            text.push(',');
        }
        text.push_str(space());
        text.push('[');
        for (i, frame) in stack.iter().enumerate() {
            text.push_str(space());
            if i > 0 {
                text.push(',');
                text.push_str(space());
            }
            text.push_str(&frame.to_string());
        }
        text.push_str(space());
        text.push(']');
        stacks.push(stack);
    }
    text.push(']');
    let parsed: Vec<Vec<u32>> = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, stacks);
    let weights: Vec<u64> = (0..stacks.len()).map(|_| lcg(&mut state) % 4).collect();
    let frames: Vec<String> = (0..frame_count)
        .map(|i| format!(r#"{{"name":"f{i}"}}"#))
        .collect();
    let profiles = format!(
        r#""profiles":[{{"type":"sampled","unit":"none","samples":{text},"weights":{}}}]"#,
        serde_json::to_string(&weights).unwrap()
    );
    let shared = format!(r#""shared":{{"frames":[{}]}}"#, frames.join(","));
    // Both orders: with the frames known first, the merging side also checks each index.
    for json in [
        format!("{{{profiles},{shared}}}"),
        format!("{{{shared},{profiles}}}"),
    ] {
        check_against_naive_count(&json, &stacks, &weights);
    }
}

#[test]
fn a_stack_the_quick_reading_refuses_is_reported_where_it_stands() {
    // Each is refused by the merging side, and the exact reading names it, with its line.
    let cases = [
        ("[0, 1e0]", "expected u32"),
        ("[0,[1]]", "expected u32"),
        ("[0,1]]", "expected `,` or `}`"),
        ("[0,\"1\"]", "expected u32"),
        ("[4294967296]", "expected u32"),
        ("[1234567890]", "names frame 1234567890"),
        ("[3,4]", "names frame 4"),
    ];
    for (stack, wanted) in cases {
        for shared_first in [true, false] {
            let samples = format!("[[0],\n[0,1],\n[0,1],\n{stack}]");
            let profiles = format!(
                r#""profiles":[{{"type":"sampled","unit":"none","samples":{samples},"weights":[1,1,1,1]}}]"#
            );
            let json = if shared_first {
                format!("{{{FRAMES_ABCD},{profiles}}}")
            } else {
                format!("{{{profiles},\n\n\n\n{FRAMES_ABCD}}}")
            };
            let err = fail(json.as_bytes());
            assert!(err.message.contains(wanted), "{stack}: {err}");
            let Location::LineColumn(line, _) = err.location else {
                panic!("{err}")
            };
            assert_eq!(line, 4, "{stack}: {err}");
        }
    }
}

#[test]
fn function_figures_match_a_walk_of_the_tree() {
    // Frames 0..6 are three functions over two lines each (f at lines 1 and 2 is frames 0 and
    // 1, and so on), frame 6 repeats frame 0 exactly, and frame 7 is a function of its own.
    // Random stacks recurse through them; weights are whole numbers so that sums taken in any
    // order agree exactly.
    let mut frames: Vec<String> = Vec::new();
    for name in ["f", "g", "h"] {
        for line in [1, 2] {
            frames.push(format!(
                r#"{{"name":"{name}","file":"m.py","line":{line}}}"#
            ));
        }
    }
    frames.push(r#"{"name":"f","file":"m.py","line":1}"#.to_owned());
    frames.push(r#"{"name":"k"}"#.to_owned());
    let mut state = 5;
    let mut profiles = Vec::new();
    for _ in 0..3 {
        let mut stacks: Vec<Vec<u32>> = Vec::new();
        for _ in 0..3_000 {
            // Repeats and shared prefixes, as consecutive samples have them.
            let previous = stacks.last().cloned().unwrap_or_default();
            let mut stack = match lcg(&mut state) % 4 {
                0 => previous,
                1 => previous[..previous.len() / 2].to_vec(),
                _ => Vec::new(),
            };
            for _ in 0..lcg(&mut state) % 6 {
                stack.push((lcg(&mut state) % 8) as u32);
            }
            stacks.push(stack);
        }
        let weights: Vec<u64> = stacks.iter().map(|_| lcg(&mut state) % 3).collect();
        profiles.push(format!(
            r#"{{"type":"sampled","unit":"none","samples":{},"weights":{}}}"#,
            serde_json::to_string(&stacks).unwrap(),
            serde_json::to_string(&weights).unwrap()
        ));
    }
    let shared = format!(r#""shared":{{"frames":[{}]}}"#, frames.join(","));
    let profiles = format!(r#""profiles":[{}]"#, profiles.join(","));
    // With `shared` first the merging side marks the outermost calls as it goes; with `shared`
    // last, the figures come from replaying its walk once the functions are known.
    for json in [
        format!("{{{shared},{profiles}}}"),
        format!("{{{profiles},{shared}}}"),
    ] {
        let (set, _) = load(&json);
        assert_eq!(set.frames.function_count(), 4);
        for profile in &set.profiles {
            let stats = profile
                .function_stats
                .as_ref()
                .expect("the figures are tallied as the stacks are read");
            let mut tallied = (vec![0.0; 4], vec![0.0; 4]);
            for stat in stats {
                assert_eq!((stat.calls, stat.primitive_calls), (None, None));
                assert!(stat.callers.is_empty());
                tallied.0[stat.func.0 as usize] += stat.self_weight;
                tallied.1[stat.func.0 as usize] += stat.total_weight;
            }
            let walked =
                crate::analysis::summary::tree_function_weights(&profile.tree, &set.frames);
            assert_eq!(tallied, walked);
            assert!(walked.1.iter().all(|&total| total > 0.0));
        }
    }
}

#[test]
fn files_at_hand_read_the_same_quickly_and_exactly() {
    // The repository's own speedscope files, good and bad, and speedscope's samples where the
    // corpus is present: the quick reading must take the good ones and agree with the exact one.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<std::path::PathBuf> = vec![root.join("assets/demo.speedscope.json")];
    for dir in [
        root.join("fixtures"),
        root.join("fixtures/bad"),
        root.join("../shared/corpus/speedscope/speedscope/0.0.1"),
        root.join("../shared/corpus/speedscope/speedscope/0.1.2"),
        root.join("../shared/corpus/speedscope/speedscope/0.6.0"),
        root.join("../shared/corpus/speedscope/speedscope/invalid"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(".json") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut taken = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let (mut quick_warnings, mut exact_warnings) = (Vec::new(), Vec::new());
        let quick = parse_with(&bytes, &mut quick_warnings, true);
        let exact = parse_with(&bytes, &mut exact_warnings, false);
        match (&quick, &exact) {
            (Ok(quick), Ok(exact)) => {
                assert_eq!(format!("{quick:?}"), format!("{exact:?}"), "{path:?}");
                assert_eq!(quick_warnings, exact_warnings, "{path:?}");
                assert!(quick_takes(&bytes), "{path:?}");
                taken += 1;
            }
            (Err(quick), Err(exact)) => {
                assert_eq!(quick.location, exact.location, "{path:?}");
                assert_eq!(quick.message, exact.message, "{path:?}");
            }
            _ => panic!(
                "{path:?}: {:?} but exactly {:?}",
                quick.is_ok(),
                exact.is_ok()
            ),
        }
    }
    assert!(taken >= 3, "{paths:?}");
}

#[test]
fn mangled_files_read_the_same_quickly_and_exactly() {
    // Bytes changed, dropped and doubled at random in a file that uses most of the format: the
    // quick reading must never take what the exact reading refuses, nor read anything
    // differently; when it gives up, the exact reading's answer is the answer.
    let profiles = r#""profiles":[
        {"type":"sampled","name":"p\u0041","unit":"seconds","startValue":0,"endValue":9.5,
          "samples":[[0,1,2],[0,1,2], [0, 1 ,3],[],[0,1],[3,2]],"weights":[1,2,3,0,1.5,2e0]},
        {"type":"evented","unit":"none","events":[{"type":"O","frame":0,"at":1},{"type":"C","frame":0,"at":2}]}]"#;
    // `shared` first, then last.
    let goods = [
        format!(
            r#"{{"$schema":"x","exporter":{{"a":[1,"]",{{"b":null}}]}},{FRAMES_ABCD},{profiles}}}"#
        ),
        format!(
            r#"{{"$schema":"x",{profiles},"exporter":{{"a":[1,"]",{{"b":null}}]}},{FRAMES_ABCD}}}"#
        ),
    ];
    for good in &goods {
        assert!(quick_takes(good.as_bytes()));
    }
    let alphabet = b"[]{},:\"\\ 0123456789.e-x\x01\xff";
    let mut state = 3;
    for _ in 0..3_000 {
        let mut bytes = goods[(lcg(&mut state) % 2) as usize].clone().into_bytes();
        for _ in 0..1 + lcg(&mut state) % 2 {
            let at = (lcg(&mut state) as usize) % bytes.len();
            let byte = alphabet[(lcg(&mut state) as usize) % alphabet.len()];
            match lcg(&mut state) % 3 {
                0 => bytes[at] = byte,
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        let (mut quick_warnings, mut exact_warnings) = (Vec::new(), Vec::new());
        let quick = parse_with(&bytes, &mut quick_warnings, true);
        let exact = parse_with(&bytes, &mut exact_warnings, false);
        let text = String::from_utf8_lossy(&bytes);
        match (&quick, &exact) {
            (Ok(quick), Ok(exact)) => {
                assert_eq!(format!("{quick:?}"), format!("{exact:?}"), "{text}");
                assert_eq!(quick_warnings, exact_warnings, "{text}");
            }
            (Err(quick), Err(exact)) => {
                assert_eq!(quick.location, exact.location, "{text}");
                assert_eq!(quick.message, exact.message, "{text}");
            }
            _ => panic!(
                "{text}: quickly {:?} but exactly {:?}",
                quick.is_ok(),
                exact.is_ok()
            ),
        }
    }
}
