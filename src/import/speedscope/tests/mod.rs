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
        read_merging(true, |context| quick::read(json, context, &|_| {})
            .ok_or(())),
        (Some(Ok(_)), Ok(_))
    )
}

/// Reads `bytes` as a mapped file is read, checking what the reading lets go: the same places
/// only further on, never past the end.
fn parse_released(
    bytes: &[u8],
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let released = std::cell::Cell::new(0);
    let release = |at: usize| {
        assert!(at > released.get() && at <= bytes.len(), "{at}");
        released.set(at);
    };
    let released_from = std::sync::Mutex::new(Vec::new());
    let release_range = |from: usize, to: usize| {
        assert!(from < to && to <= bytes.len(), "{from}..{to}");
        released_from.lock().unwrap().push(from);
    };
    parse_mapped(bytes, &release, &release_range, figures_only, warnings)
}

/// What `obol summary` shows of a set: each profile's name, unit and total, and the function
/// table, every number to the bit.
fn summary_of(set: &ProfileSet) -> String {
    use crate::analysis::summary::{SortKey, function_table};
    let profiles: Vec<&Profile> = set.profiles.iter().collect();
    let mut text = String::new();
    for p in &profiles {
        text += &format!("{:?} {:?} {:x}\n", p.name, p.unit, p.total.to_bits());
    }
    for row in function_table(set, &profiles, SortKey::SelfWeight) {
        text += &format!(
            "{:?} {:x} {:x}\n",
            set.frames.function(row.func),
            row.self_weight.to_bits(),
            row.total_weight.to_bits()
        );
    }
    text
}

/// Checks that `bytes`, read as a mapped file with and without trees, gives `expected` (the
/// answer of [`parse`]): the same profiles with trees, the same summary without.
fn check_mapped_readings(bytes: &[u8], expected: &Result<ProfileSet, ParseError>, what: &str) {
    for figures_only in [false, true] {
        let mut warnings = Vec::new();
        let got = parse_released(bytes, figures_only, &mut warnings);
        match (&got, expected) {
            (Ok(got), Ok(expected)) if figures_only => {
                assert_eq!(summary_of(got), summary_of(expected), "{what}");
            }
            (Ok(got), Ok(expected)) => {
                assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{what}");
            }
            (Err(got), Err(expected)) => {
                assert_eq!(got.location, expected.location, "{what}");
                assert_eq!(got.message, expected.message, "{what}");
            }
            _ => panic!(
                "{what}: mapped {:?}, read {:?}",
                got.is_ok(),
                expected.is_ok()
            ),
        }
    }
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
    let tree = set.profiles[profile].tree();
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
                .tree()
                .stack(s.leaf)
                .into_iter()
                .map(|f| set.frames.frame(f).name)
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
    assert_eq!(p.tree().self_weight(NodeId::ROOT), 2.0);
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
    // Seconds and samples do not add up: the file's total is that of its unit, the first
    // profile's.
    assert_eq!(set.total(), 5.0);
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
    let frames: Vec<_> = set.frames.frames().collect();
    assert_eq!(frames[0].file, Some("app.py"));
    assert_eq!((frames[0].line, frames[1].line), (Some(12), Some(10)));
    assert_eq!((frames[2].file, frames[2].line), (None, None));
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
    let tree = set.profiles[0].tree();
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
    assert_eq!(p.tree().self_weight(NodeId::ROOT), 0.0);
    assert_eq!(weight_of(&set, 0, &["a"]), (3.0, 6.0));
    assert_eq!(weight_of(&set, 0, &["a", "b"]), (3.0, 3.0));
    assert_eq!(weight_of(&set, 0, &["c"]), (1.0, 1.0));
    assert_eq!(p.tree().len(), 4, "the zero-length d leaves no node");
    let expected = [("a", 2.0), ("a;b", 3.0), ("a", 1.0), ("c", 0.5), ("c", 0.5)];
    let expected: Vec<(String, f64)> = expected.iter().map(|&(s, w)| (s.to_owned(), w)).collect();
    assert_eq!(timeline(&set, p), expected);
}

mod errors;
mod quick_reading;
