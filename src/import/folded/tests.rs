//! The folded importer on small texts counted by hand.

use super::*;

fn load(text: &[u8]) -> (ProfileSet, Vec<String>) {
    let mut warnings = Vec::new();
    let set = parse(text, &mut warnings).unwrap();
    (set, warnings)
}

fn weight_of(set: &ProfileSet, path: &[&str]) -> (f64, f64) {
    let tree = set.profiles[0].tree();
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

#[test]
fn speedscope_simple_sample_by_hand() {
    // speedscope's sample/profiles/stackcollapse/simple.txt, counted by hand.
    let (set, warnings) = load(b"a;b;c 1\na;b;c 1\na;b;d 4\na;b;c 3\na;b 5");
    assert!(warnings.is_empty());
    assert_eq!(set.total(), 14.0);
    assert_eq!(weight_of(&set, &["a"]), (0.0, 14.0));
    assert_eq!(weight_of(&set, &["a", "b"]), (5.0, 14.0));
    assert_eq!(weight_of(&set, &["a", "b", "c"]), (5.0, 5.0));
    assert_eq!(weight_of(&set, &["a", "b", "d"]), (4.0, 4.0));
}

#[test]
fn crlf_comments_and_invalid_lines() {
    let text = b"# comment\r\n// other\r\na;b 2\r\nnot a stack\r\na 1\r\nalso bad\r\n";
    let (set, warnings) = load(text);
    assert_eq!(set.total(), 3.0);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("skipped 2 lines"), "{}", warnings[0]);
    assert!(warnings[0].contains("line 4"), "{}", warnings[0]);
}

#[test]
fn utf16_with_bom_both_endians() {
    let text = "a;b 2\r\na;c 3\r\n";
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        le.extend(unit.to_le_bytes());
        be.extend(unit.to_be_bytes());
    }
    for bytes in [le, be] {
        assert_eq!(sniff(&bytes), Sniff::Yes);
        let (set, _) = load(&bytes);
        assert_eq!(weight_of(&set, &["a", "c"]), (3.0, 3.0));
    }
}

#[test]
fn empty_stack_counts_toward_the_total() {
    let (set, _) = load(b"a 2\n 3\n");
    assert_eq!(set.total(), 5.0);
    assert_eq!(set.profiles[0].tree().self_weight(NodeId::ROOT), 3.0);
}

#[test]
fn py_spy_frames_are_split() {
    let (set, _) = load(b"<module> (app.py:3);work (app.py:10) 7\n");
    let frame = set.frames.frame(crate::profile::FrameId(1));
    assert_eq!(frame.name, "work");
    assert_eq!(frame.file, Some("app.py"));
    assert_eq!(frame.line, Some(10));
    assert_eq!(split_frame("f (x.py)"), ("f", Some("x.py"), None));
    assert_eq!(split_frame("foo(int)"), ("foo(int)", None, None));
    assert_eq!(split_frame("a (b:c:12)"), ("a", Some("b:c"), Some(12)));
}

/// `split_frame` as it was written with `str::rfind`, the oracle of its quicker search.
fn split_frame_by_rfind(text: &str) -> (&str, Option<&str>, Option<u32>) {
    if threads::thread_frame(text.as_bytes()).is_some() {
        return (text, None, None);
    }
    let Some(inner_end) = text.strip_suffix(')') else {
        return (text, None, None);
    };
    let Some(open) = inner_end.rfind(" (") else {
        return (text, None, None);
    };
    let (name, inner) = (&inner_end[..open], &inner_end[open + 2..]);
    if name.is_empty() || inner.is_empty() {
        return (text, None, None);
    }
    if let Some(colon) = inner.rfind(':') {
        let digits = &inner[colon + 1..];
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(line) = digits.parse()
        {
            return (name, Some(&inner[..colon]), Some(line));
        }
    }
    (name, Some(inner), None)
}

#[test]
fn frames_split_as_by_rfind() {
    // Texts of the characters the split looks at, and a few others, in every arrangement a
    // generator comes up with.
    let alphabet = [
        " ", "(", ")", ":", "1", "9", "a", "é", "thread ", " (", "):", "0x",
    ];
    let mut state = 17;
    for _ in 0..200_000 {
        let len = crate::test_rng::lcg(&mut state) % 12;
        let text: String = (0..len)
            .map(|_| alphabet[crate::test_rng::lcg(&mut state) as usize % alphabet.len()])
            .collect();
        assert_eq!(split_frame(&text), split_frame_by_rfind(&text), "{text:?}");
    }
    for text in [
        "f (x.py:99999999999)",
        "f ( (x.py:1)",
        " (a)",
        "a ()",
        "thread (12)",
    ] {
        assert_eq!(split_frame(text), split_frame_by_rfind(text), "{text:?}");
    }
}

#[test]
fn no_valid_line_is_an_error_naming_a_line() {
    let mut warnings = Vec::new();
    let err = parse(b"# only\nnothing here\n", &mut warnings).unwrap_err();
    assert_eq!(err.location, super::super::Location::Line(2));
}

#[test]
fn decimal_counts_and_lines_across_chunks() {
    let (set, _) = load(b"a 1.5\nb 2.\n");
    assert_eq!(set.total(), 3.5);
    let mut big = Vec::new();
    for i in 0..200_000 {
        big.extend(format!("root;f{} 1\n", i % 7).as_bytes());
    }
    let (set, _) = load(&big);
    assert_eq!(set.total(), 200_000.0);
    assert_eq!(set.profiles[0].tree().len(), 1 + 1 + 7);
}

#[test]
fn folded_when_the_first_line_and_nine_in_ten_are_stacks() {
    let text = |stacks: usize, junk: usize| {
        let mut t = String::from("# a comment\n\na;b 1\n");
        t.push_str(&"a;c 2\n".repeat(stacks - 1));
        t.push_str(&"not a stack\n".repeat(junk));
        t
    };
    let judge = |t: &str| sniff(t.as_bytes());
    assert_eq!(judge(&text(27, 3)), Sniff::Yes, "exactly nine in ten");
    assert_eq!(judge(&text(26, 4)), Sniff::No, "fewer than nine in ten");
    // A short file may have two stray lines among three times as many stacks.
    assert_eq!(judge(&text(6, 2)), Sniff::Yes);
    assert_eq!(judge(&text(5, 2)), Sniff::No);
    assert_eq!(judge("version: 1\ncreator: x\ncmd: y\n"), Sniff::No);
    assert_eq!(
        judge(&format!("junk first\n{}", "a 1\n".repeat(99))),
        Sniff::No
    );
    let (line, text) = first_not_stack(b"a 1\nb 2\nfn=main\n").unwrap();
    assert_eq!((line, text.as_slice()), (3, &b"fn=main"[..]));
    // One stack longer than the head: judged by its frames, its count found by the parser.
    let mut deep = "f;".repeat(super::super::detect::HEAD_LEN);
    deep.push_str("g 3\n");
    assert_eq!(judge(&deep), Sniff::Yes);
    assert_eq!(load(deep.as_bytes()).0.total(), 3.0);
}

#[test]
fn differential_lines_and_thread_frames() {
    let mut warnings = Vec::new();
    let parsed = parse_reader(&b"a;b 3 5\na;c 4 1\na 2\n"[..], &mut warnings).unwrap();
    assert_eq!(parsed.set.total(), 8.0);
    assert_eq!(parsed.base.unwrap().total(), 9.0);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("line 3 has one count"));
    let text = b"thread (7);f (a.py:1) 2\nthread (7): main;f (a.py:1) 3\nthread (0x1f): w;g 4\n";
    let (set, _) = load(text);
    let names: Vec<&str> = set.profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Thread 7 \"main\"", "Thread 0x1f \"w\""]);
    assert_eq!(set.profiles[0].total, 5.0);
    assert!(set.frames.frames().all(|f| !f.name.starts_with("thread")));
}
