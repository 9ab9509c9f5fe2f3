//! A function's source annotated line by line, as `perf annotate` and pprof's `list` show it:
//! for a sampled profile each line's self and total weight, for pstats each callee's edge
//! figures beside the line that calls it. Used by `obol source` and the Source pane.
//!
//! Sampled formats (py-spy) record the executing line in every frame. A sample's self weight
//! belongs to the line of its innermost frame of the function; its total weight to the line of
//! the function's outermost frame on the stack, so that a sample counts once, on one line, however
//! deep the function recursed. Summed over the lines, self and total are the function's own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::edges::{Direction, Edge, edges};
use super::sandwich::outermost_nodes;
use super::source_file::resolve_source;
use super::transform::copy_below;
use crate::profile::{
    CallTree, CallTreeBuilder, FrameTable, FuncId, FunctionKey, NodeId, Profile, ProfileSet,
};

/// The figures of one line of a function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineFigures {
    pub self_weight: f64,
    pub total_weight: f64,
    /// Functions called from this line (sampled profiles), heaviest first, with the weight spent
    /// in each from here.
    pub callees: Vec<(FuncId, f64)>,
    /// Callee edges placed on this line (pstats), as `print_callees` gives them.
    pub edges: Vec<Edge>,
}

/// A function's samples by line, from call trees whose frames keep their lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampledLines {
    pub lines: BTreeMap<u32, LineFigures>,
    /// Weight of frames that recorded no line (self, total).
    pub unlined: (f64, f64),
}

/// Per line, the samples of `func` over `trees` (one thread's or several, all over `frames`).
pub fn sampled_lines(trees: &[&CallTree], frames: &FrameTable, func: FuncId) -> SampledLines {
    let mut out = SampledLines::default();
    let mut callees: BTreeMap<u32, BTreeMap<FuncId, f64>> = BTreeMap::new();
    for tree in trees {
        let func_of = |n: NodeId| tree.frame(n).map(|f| frames.func_of(f));
        let line_of = |n: NodeId| tree.frame(n).and_then(|f| frames.frame(f).line);
        for top in outermost_nodes(tree, frames, func) {
            match line_of(top) {
                Some(line) => {
                    out.lines.entry(line).or_default().total_weight += tree.total_weight(top)
                }
                None => out.unlined.1 += tree.total_weight(top),
            }
            let mut stack = vec![top];
            while let Some(node) = stack.pop() {
                stack.extend_from_slice(tree.children(node));
                if func_of(node) != Some(func) {
                    continue;
                }
                let line = line_of(node);
                match line {
                    Some(line) => {
                        out.lines.entry(line).or_default().self_weight += tree.self_weight(node)
                    }
                    None => out.unlined.0 += tree.self_weight(node),
                }
                let Some(line) = line else { continue };
                for &child in tree.children(node) {
                    if let Some(callee) = func_of(child).filter(|&c| c != func) {
                        *callees.entry(line).or_default().entry(callee).or_default() +=
                            tree.total_weight(child);
                    }
                }
            }
        }
    }
    for (line, by_func) in callees {
        let mut list: Vec<(FuncId, f64)> = by_func.into_iter().collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.lines.entry(line).or_default().callees = list;
    }
    out
}

/// Every stack through `func`, re-rooted at its outermost frame, which keeps its line: the
/// focus (`f`) of a tree whose frames keep their lines, where [`super::sandwich::callees`] gives
/// the focused function one frame (the flame panes' single root).
pub fn focus_keeping_lines(tree: &CallTree, frames: &FrameTable, func: FuncId) -> CallTree {
    let mut builder = CallTreeBuilder::new();
    for top in outermost_nodes(tree, frames, func) {
        let Some(frame) = tree.frame(top) else {
            continue;
        };
        let copy = builder.child(NodeId::ROOT, frame);
        builder.add_self(copy, tree.self_weight(top));
        copy_below(&mut builder, tree, top, copy);
    }
    builder.finish()
}

/// Self weight per line of every function but `except` whose file is `file`: the other hot
/// lines of the file the Source pane shows.
pub fn other_hot_lines(
    trees: &[&CallTree],
    frames: &FrameTable,
    file: &str,
    except: FuncId,
) -> BTreeMap<u32, f64> {
    let mut out = BTreeMap::new();
    for tree in trees {
        for node in tree.ids() {
            let Some(frame) = tree.frame(node).map(|f| frames.frame(f)) else {
                continue;
            };
            if frame.func != except
                && frame.file == Some(file)
                && let Some(line) = frame.line
                && tree.self_weight(node) > 0.0
            {
                *out.entry(line).or_insert(0.0) += tree.self_weight(node);
            }
        }
    }
    out
}

/// A function's annotated source.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub func: FuncId,
    /// The file as the profile names it.
    pub file: Option<String>,
    /// Where it was found on this machine.
    pub path: Option<PathBuf>,
    /// The file's lines, when it was found and read (empty otherwise).
    pub text: Vec<String>,
    /// The function's first and last line in `text`, where they could be told.
    pub extent: Option<(u32, u32)>,
    /// Lines with samples or with a callee placed on them.
    pub lines: BTreeMap<u32, LineFigures>,
    pub unlined: (f64, f64),
    /// pstats' callee edges that no line of the function could be found to call.
    pub unplaced: Vec<Edge>,
    /// Whether the figures are callee edges (pstats': stated, or from its estimated tree once
    /// filtered) rather than samples by line.
    pub stated: bool,
    /// Why there is no text, when there is none.
    pub missing: Option<String>,
}

impl Annotation {
    /// The lines to list for the function: its extent, and any sampled line outside it; without
    /// the source, the sampled lines alone.
    pub fn listed_lines(&self) -> Vec<u32> {
        let mut numbers: Vec<u32> = match self.extent {
            Some((lo, hi)) => (lo..=hi).collect(),
            None => Vec::new(),
        };
        numbers.extend(self.lines.keys().copied());
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// The text of line `number` (from 1), if the source was read.
    pub fn text_of(&self, number: u32) -> Option<&str> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.text.get(index).map(String::as_str)
    }

    /// The line with the most self weight (the first such), else the heaviest total, else (pstats)
    /// the line whose callees took the most.
    pub fn hottest_line(&self) -> Option<u32> {
        let best = |key: fn(&LineFigures) -> f64| {
            self.lines
                .iter()
                .filter(|(_, f)| key(f) > 0.0)
                .max_by(|a, b| key(a.1).total_cmp(&key(b.1)).then(b.0.cmp(a.0)))
                .map(|(&line, _)| line)
        };
        best(|f| f.self_weight)
            .or_else(|| best(|f| f.total_weight))
            .or_else(|| best(|f| f.edges.iter().map(|e| e.total_weight).sum()))
    }
}

/// Whether `profiles` state caller edges (pstats) rather than samples.
pub fn states_edges(profiles: &[&Profile]) -> bool {
    profiles.iter().any(|p| {
        p.function_stats
            .as_ref()
            .is_some_and(|s| s.iter().any(|f| !f.callers.is_empty()))
    })
}

/// Annotates `func`'s source. `trees` hold the samples (line-level frames, filtered as the
/// caller wants); `profiles` give pstats' edges. The file is looked for as `e` looks for it.
pub fn annotate(
    set: &ProfileSet,
    profiles: &[&Profile],
    trees: &[&CallTree],
    func: FuncId,
    source_roots: &[PathBuf],
) -> Annotation {
    let function = set.frames.function(func);
    let file = function.file.filter(|f| !f.is_empty()).map(str::to_owned);
    let (path, text, missing) = match &file {
        None => (
            None,
            Vec::new(),
            Some("the profile names no file".to_owned()),
        ),
        Some(file) => match resolve_source(file, source_roots) {
            None => (
                None,
                Vec::new(),
                Some("not found as recorded, under --source-root or in python3's library".into()),
            ),
            Some(path) => match read_lines(&path) {
                Ok(text) => (Some(path), text, None),
                Err(e) => (Some(path), Vec::new(), Some(format!("unreadable: {e}"))),
            },
        },
    };
    // Frames keyed by line carry the definition's line (pstats, also once filtered, when only
    // its estimated tree is left): no line was sampled, so the callee edges are what there is.
    let stated = states_edges(profiles) || set.frames.function_key() == FunctionKey::NameFileLine;
    let (mut lines, unlined) = if stated {
        (BTreeMap::new(), (0.0, 0.0))
    } else {
        let sampled = sampled_lines(trees, &set.frames, func);
        (sampled.lines, sampled.unlined)
    };
    let near = lines.keys().next().copied().or(function.line);
    let extent = match near {
        Some(near) if !text.is_empty() => function_extent(&text, function.name, near),
        _ => None,
    };
    let mut unplaced = Vec::new();
    if stated {
        for edge in edges(set, profiles, func, Direction::Callees) {
            let callee = &set.frames.function(edge.func).name;
            match extent.and_then(|e| calling_line(&text, e, callee)) {
                Some(line) => lines.entry(line).or_default().edges.push(edge),
                None => unplaced.push(edge),
            }
        }
    }
    Annotation {
        func,
        file,
        path,
        text,
        extent,
        lines,
        unlined,
        unplaced,
        stated,
        missing,
    }
}

/// A line of source as it may be printed: tabs as four spaces, control characters escaped.
pub fn printable(line: &str) -> String {
    crate::text::escape_control(&line.replace('\t', "    ")).into_owned()
}

/// A source file's lines; bytes that are not UTF-8 are replaced rather than refused.
fn read_lines(path: &Path) -> std::io::Result<Vec<String>> {
    let bytes = std::fs::read(path)?;
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect())
}

fn indent(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ' || *c == '\t').count()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// The name a `def` or `class` line defines.
fn defined_name(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let t = t.strip_prefix("async ").map_or(t, str::trim_start);
    let rest = t
        .strip_prefix("def ")
        .or_else(|| t.strip_prefix("class "))?;
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The lines (from 1) of the Python function `name` (a qualified name, `A.f` or
/// `f.<locals>.g`, as profilers write it) around line `near`: its `def` (at `near` or past its
/// decorators, or the nearest above `near` that encloses it) to the last line indented under
/// it. A module's code is the whole file; a lambda or comprehension cannot be told apart.
pub fn function_extent(text: &[String], name: &str, near: u32) -> Option<(u32, u32)> {
    let short = name.rsplit('.').next().unwrap_or(name);
    if short == "<module>" {
        return (!text.is_empty()).then_some((1, text.len() as u32));
    }
    if short.starts_with('<') || text.is_empty() {
        return None;
    }
    let near = (near as usize).clamp(1, text.len()) - 1;
    let mut at = near;
    while at + 1 < text.len() && text[at].trim_start().starts_with('@') {
        at += 1;
    }
    let start = if defined_name(&text[at]) == Some(short) {
        at
    } else {
        let inner = indent(&text[near]);
        (0..near)
            .rev()
            .find(|&i| defined_name(&text[i]) == Some(short) && indent(&text[i]) < inner)?
    };
    let base = indent(&text[start]);
    let mut last = start;
    // A signature may run over several lines: the body starts after the line ending in ':'.
    let mut open = 0i32;
    for (i, line) in text.iter().enumerate().skip(start) {
        open += line.matches(['(', '[', '{']).count() as i32;
        open -= line.matches([')', ']', '}']).count() as i32;
        last = i;
        if open <= 0 && line.trim_end().ends_with(':') {
            break;
        }
    }
    for (i, line) in text.iter().enumerate().skip(last + 1) {
        if is_blank_or_comment(line) {
            continue;
        }
        if indent(line) <= base {
            break;
        }
        last = i;
    }
    Some((start as u32 + 1, last as u32 + 1))
}

/// The name a call to a function appears under in source: `append` for pstats'
/// `<method 'append' of 'list' objects>`, `len` for `<built-in method builtins.len>`, the last
/// part of a qualified name; none for code objects without a name (`<lambda>`, `<genexpr>`).
fn call_token(name: &str) -> Option<&str> {
    let token = if let Some(rest) = name.split('\'').nth(1) {
        rest
    } else if let Some(rest) = name
        .strip_prefix("<built-in method ")
        .or_else(|| name.strip_prefix("<built-in function "))
    {
        rest.trim_end_matches('>').rsplit('.').next()?
    } else if name.starts_with('<') {
        return None;
    } else {
        name.rsplit('.').next()?
    };
    let ok = !token.is_empty()
        && token.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !token.starts_with(|c: char| c.is_ascii_digit());
    ok.then_some(token)
}

/// The first line of the body in `extent` that calls `callee` by name.
fn calling_line(text: &[String], extent: (u32, u32), callee: &str) -> Option<u32> {
    let token = call_token(callee)?;
    let pattern = Regex::new(&format!(r"(^|[^\w]){}\s*\(", regex::escape(token))).ok()?;
    (extent.0 + 1..=extent.1).find(|&n| {
        text.get(n as usize - 1).is_some_and(|line| {
            let code = line.split('#').next().unwrap_or_default();
            pattern.is_match(code)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    #[test]
    fn extents_follow_indentation_decorators_and_nesting() {
        let src = text(
            "import x\n\n@cache\ndef f(a,\n      b):\n    y = 1\n\n    # note\n    def g():\n        return 2\n    return g()\n\nclass A:\n    def f(self):\n        pass\nz = 1\n",
        );
        assert_eq!(function_extent(&src, "f", 3), Some((4, 11)));
        assert_eq!(function_extent(&src, "f", 6), Some((4, 11)));
        assert_eq!(function_extent(&src, "f.<locals>.g", 10), Some((9, 10)));
        assert_eq!(function_extent(&src, "A.f", 15), Some((14, 15)));
        assert_eq!(function_extent(&src, "<module>", 1), Some((1, 16)));
        assert_eq!(function_extent(&src, "f.<locals>.<genexpr>", 10), None);
        assert_eq!(function_extent(&src, "nowhere", 10), None);
    }

    #[test]
    fn callees_are_placed_on_the_line_calling_them() {
        assert_eq!(
            call_token("<method 'append' of 'list' objects>"),
            Some("append")
        );
        assert_eq!(call_token("<built-in method builtins.len>"), Some("len"));
        assert_eq!(call_token("work.<locals>.<genexpr>"), None);
        assert_eq!(call_token("Report.to_json"), Some("to_json"));
        let src = text(
            "def f(xs):\n    out = []  # len(x) in a comment\n    out.append(len (xs))\n    return relen(xs)\n",
        );
        assert_eq!(
            calling_line(&src, (1, 4), "<built-in method builtins.len>"),
            Some(3)
        );
        assert_eq!(
            calling_line(&src, (1, 4), "<method 'append' of 'list' objects>"),
            Some(3)
        );
        assert_eq!(calling_line(&src, (1, 4), "relen"), Some(4));
        assert_eq!(calling_line(&src, (1, 4), "f"), None);
    }

    /// f recursing through different lines: totals go to the outermost frame's line, self to
    /// the innermost's; each sums to the function's.
    #[test]
    fn recursion_counts_a_sample_once_at_the_outermost_line() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let f1 = frames.intern("f", Some("a.py"), Some(1));
        let f2 = frames.intern("f", Some("a.py"), Some(2));
        let g = frames.intern("g", Some("a.py"), Some(9));
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[f1, f2, g], 3.0);
        b.add_stack(&[f1, f2], 2.0);
        b.add_stack(&[f2], 1.0);
        b.add_stack(&[g, f1], 4.0);
        let tree = b.finish();
        let func = frames.func_of(f1);
        let got = sampled_lines(&[&tree], &frames, func);
        let figures: Vec<(u32, f64, f64)> = got
            .lines
            .iter()
            .map(|(&l, f)| (l, f.self_weight, f.total_weight))
            .collect();
        assert_eq!(figures, [(1, 4.0, 9.0), (2, 3.0, 1.0)]);
        assert_eq!(got.lines[&2].callees, [(frames.func_of(g), 3.0)]);
        let others = other_hot_lines(&[&tree], &frames, "a.py", func);
        assert_eq!(others.into_iter().collect::<Vec<_>>(), [(9, 3.0)]);
        // Focused on f, the lines and their figures stay.
        let focused = focus_keeping_lines(&tree, &frames, func);
        assert_eq!(sampled_lines(&[&focused], &frames, func), got);
    }
}
