//! The figures counted in pieces against those of the full reader's call trees, walked here.

use std::collections::BTreeMap;
use std::io::Write;

use super::*;
use crate::profile::{CallTree, NodeId};

/// Per function (name, file, line): self and total weight.
type Figures = BTreeMap<(String, Option<String>, Option<u32>), (f64, f64)>;

/// What a reading gives `summary`: per profile its name, total and figures; the warnings.
type Summary = (Vec<(String, f64, Figures)>, Vec<String>);

fn key(set: &ProfileSet, func: FuncId) -> (String, Option<String>, Option<u32>) {
    let f = set.frames.function(func);
    (f.name.to_owned(), f.file.map(str::to_owned), f.line)
}

/// A tree's function figures, walked depth first: a function's total counts a node only where
/// no node above it is of the same function.
fn walk(set: &ProfileSet, tree: &CallTree) -> Figures {
    fn visit(
        set: &ProfileSet,
        tree: &CallTree,
        node: NodeId,
        above: &mut Vec<FuncId>,
        out: &mut Figures,
    ) {
        let func = set.frames.func_of(tree.frame(node).unwrap());
        let entry = out.entry(key(set, func)).or_default();
        entry.0 += tree.self_weight(node);
        if !above.contains(&func) {
            entry.1 += tree.total_weight(node);
        }
        above.push(func);
        for &child in tree.children(node) {
            visit(set, tree, child, above, out);
        }
        above.pop();
    }
    let mut out = Figures::new();
    for &child in tree.children(NodeId::ROOT) {
        visit(set, tree, child, &mut Vec::new(), &mut out);
    }
    out.retain(|_, w| *w != (0.0, 0.0));
    out
}

fn full(text: &[u8]) -> Result<Summary, ParseError> {
    let mut warnings = Vec::new();
    let set = super::super::parse_reader(text, &mut warnings)?.set;
    let profiles = set
        .profiles
        .iter()
        .map(|p| (p.name.clone(), p.total, walk(&set, p.tree())))
        .collect();
    Ok((profiles, warnings))
}

fn in_pieces(text: &[u8], pieces: usize) -> Result<Option<Summary>, ParseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.folded");
    std::fs::write(&path, text).unwrap();
    let bom = text.starts_with(b"\xEF\xBB\xBF");
    let mut warnings = Vec::new();
    let Some(set) = read_in_pieces(&path, text.len() as u64, bom, pieces, &mut warnings)? else {
        return Ok(None);
    };
    let profiles = set
        .profiles
        .iter()
        .map(|p| {
            assert!(!p.has_tree());
            let mut figures = Figures::new();
            for s in p.function_stats.as_ref().unwrap() {
                if (s.self_weight, s.total_weight) != (0.0, 0.0) {
                    figures.insert(key(&set, s.func), (s.self_weight, s.total_weight));
                }
            }
            (p.name.clone(), p.total, figures)
        })
        .collect();
    Ok(Some((profiles, warnings)))
}

/// A file of threads (one named late), stacks without one, recursion through other lines of a
/// function, comments, bad and blank lines, CRLF, an empty stack, a line of two counts.
fn mixed_file(lines: usize) -> Vec<u8> {
    let mut state = 12345u64;
    let mut next = |n: u64| crate::test_rng::lcg(&mut state) % n;
    let names = [
        "a (m.py:1)",
        "a (m.py:7)",
        "b (m.py:2)",
        "c",
        "d (n.py)",
        "thread (9)",
        "",
    ];
    // The first stack has one count: the file is not differential.
    let mut out = b"c 1\n".to_vec();
    for i in 0..lines {
        match next(20) {
            0 => out.extend_from_slice(b"# comment\n"),
            1 => out.extend_from_slice(b"not a stack\r\n"),
            2 => out.extend_from_slice(b"\n"),
            3 => writeln!(out, "thread ({}) {}", next(3), next(4)).unwrap(),
            4 => writeln!(out, "a (m.py:1);b (m.py:2) 4 {}", next(9)).unwrap(),
            k => {
                if k > 8 {
                    let thread = next(3);
                    if i > lines / 2 && thread == 2 {
                        write!(out, "thread (2): late;").unwrap();
                    } else {
                        write!(out, "thread ({thread});").unwrap();
                    }
                }
                let depth = 1 + next(6);
                let frames: Vec<&str> = (0..depth).map(|_| names[next(7) as usize]).collect();
                let end = if k == 19 { "\r\n" } else { "\n" };
                write!(out, "{} {}{end}", frames.join(";"), next(50)).unwrap();
            }
        }
    }
    out
}

#[test]
fn pieces_count_what_the_tree_walk_does_wherever_they_are_cut() {
    let text = mixed_file(400);
    let expected = full(&text).unwrap();
    assert!(expected.0.len() > 2, "threads and stacks without one");
    assert_eq!(
        expected.1.len(),
        2,
        "skipped lines and the line of two counts"
    );
    // Up to one piece a few bytes: the cuts fall inside lines, on line breaks and on CRs.
    for pieces in [1, 2, 3, 7, 50, 997] {
        assert_eq!(
            in_pieces(&text, pieces).unwrap(),
            Some(expected.clone()),
            "{pieces} pieces"
        );
    }
}

#[test]
fn one_profile_without_threads_and_a_bom() {
    let mut text = b"\xEF\xBB\xBFa;b;a 3\na;b 4\nc 1\n 2\nb;b;b 5".to_vec();
    let expected = full(&text).unwrap();
    for pieces in [1, 2, 5, 30] {
        assert_eq!(in_pieces(&text, pieces).unwrap(), Some(expected.clone()));
    }
    text.extend_from_slice(b"\n");
    assert_eq!(in_pieces(&text, 3).unwrap(), Some(full(&text).unwrap()));
}

#[test]
fn sums_that_could_differ_and_differential_files_are_left_to_the_full_reader() {
    let decimal_late = b"a;b 3\nc 2\na;c 1.5\n";
    let differential = b"a;b 3 4\nc 2 2\n";
    let past_2_53 = format!("a;b {}\nc {}\nd 1\n", 1u64 << 52, 1u64 << 52);
    let at_2_53 = format!("a;b {}\nc {}\n", 1u64 << 52, 1u64 << 52);
    for pieces in [1, 3] {
        assert_eq!(in_pieces(decimal_late, pieces).unwrap(), None);
        assert_eq!(in_pieces(differential, pieces).unwrap(), None);
        assert_eq!(in_pieces(past_2_53.as_bytes(), pieces).unwrap(), None);
        let exact = in_pieces(at_2_53.as_bytes(), pieces).unwrap();
        assert_eq!(exact, Some(full(at_2_53.as_bytes()).unwrap()));
    }
    // Two counts after a stack of one: not differential, the line's last count its weight.
    let mixed = b"# x\na;b 3\nc 2\nd 1 5\ne 7 8\n";
    let (profiles, warnings) = in_pieces(mixed, 4).unwrap().unwrap();
    assert_eq!(profiles[0].1, 18.0);
    assert_eq!((profiles.clone(), warnings.clone()), full(mixed).unwrap());
    assert!(
        warnings[0].starts_with("line 4 has two counts"),
        "{warnings:?}"
    );
}

#[test]
fn errors_name_the_files_line_from_any_piece() {
    let deep = format!("x 1\n{} 1\nbad\nx 1\n", vec!["f"; MAX_DEPTH + 1].join(";"));
    let expected = full(deep.as_bytes()).unwrap_err();
    assert!(expected.message.contains("frames deep"), "{expected}");
    for pieces in [1, 2, 3] {
        let error = in_pieces(deep.as_bytes(), pieces).unwrap_err();
        assert_eq!(error, expected, "{pieces} pieces");
    }
    let nothing = b"# only\n\nno count\n# here\n";
    let expected = full(nothing).unwrap_err();
    for pieces in [1, 2, 4] {
        assert_eq!(in_pieces(nothing, pieces).unwrap_err(), expected);
    }
}

#[test]
fn many_threads_that_reach_late_functions_are_left_to_the_full_reader() {
    // Each thread reaches the newest of many functions: threads × functions cells.
    // 1000 threads: half a million cells, within the free ones: counted.
    let mut text = Vec::new();
    for i in 0..1000 {
        writeln!(text, "thread ({i});f{i} 1").unwrap();
    }
    assert_eq!(in_pieces(&text, 1).unwrap(), Some(full(&text).unwrap()));
    // 2000: two million.
    let mut text = Vec::new();
    for i in 0..2000 {
        writeln!(text, "thread ({i});f{i} 1").unwrap();
    }
    assert_eq!(in_pieces(&text, 1).unwrap(), None);
}
