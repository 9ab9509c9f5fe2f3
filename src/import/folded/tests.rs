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
    let frames = set.frames.frames();
    assert_eq!(frames[1].name, "work");
    assert_eq!(frames[1].file.as_deref(), Some("app.py"));
    assert_eq!(frames[1].line, Some(10));
    assert_eq!(split_frame("f (x.py)"), ("f", Some("x.py"), None));
    assert_eq!(split_frame("foo(int)"), ("foo(int)", None, None));
    assert_eq!(split_frame("a (b:c:12)"), ("a", Some("b:c"), Some(12)));
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
