//! The collapsed stacks of CPython 3.15's sampling profiler (`python -m profiling.sampling
//! --collapsed`): `tid:THREAD;file.py:function:line;… count`, root first, the file's base
//! name only, and special frames (`<GC>`, `<native>`: pstats' `~` file, line 0) as a bare
//! name. One profile per thread, in samples.
//!
//! The format is `CollapsedStackCollector.export` in CPython's
//! `Lib/profiling/sampling/stack_collector.py` (python/cpython, 3.15 development branch).

use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, Unit,
};

/// The first line that is not blank starts `tid:DIGITS;` (or is `tid:DIGITS COUNT`).
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = text
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty());
    match first {
        Some(line) if thread_of(line).is_some() => Sniff::Yes,
        _ => Sniff::No,
    }
}

/// The thread id of a line starting `tid:DIGITS` then `;`, a space or nothing (a stack with no
/// frames, which CPython does not write but costs nothing to read).
fn thread_of(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"tid:")?;
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    (n > 0 && matches!(rest.get(n), None | Some(b';' | b' '))).then(|| &rest[..n])
}

/// `file:function:line` as (function, file, line); anything else is a bare name.
fn split_frame(frame: &str) -> (&str, Option<&str>, Option<u32>) {
    let Some((rest, line)) = frame.rsplit_once(':') else {
        return (frame, None, None);
    };
    let Ok(line) = line.parse::<u32>() else {
        return (frame, None, None);
    };
    match rest.rsplit_once(':') {
        Some((file, function)) if !file.is_empty() && !function.is_empty() => {
            (function, Some(file), (line > 0).then_some(line))
        }
        _ => (frame, None, None),
    }
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(text)
        .map_err(|e| ParseError::at_byte(e.valid_up_to() as u64, "not UTF-8 text"))?;
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let mut frame_ids: FxHashMap<&str, FrameId> = FxHashMap::default();
    let mut threads: Vec<(&str, CallTreeBuilder)> = Vec::new();
    let mut thread_index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut stack: Vec<FrameId> = Vec::new();
    let (mut skipped, mut first_skipped) = (0usize, 0u64);
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line.rsplit_once(' ').and_then(|(sample, count)| {
            let count = count.parse::<u64>().ok()?;
            let thread = std::str::from_utf8(thread_of(sample.as_bytes())?).ok()?;
            Some((sample, thread, count))
        });
        let Some((sample, thread, count)) = parsed else {
            if skipped == 0 {
                first_skipped = number as u64 + 1;
            }
            skipped += 1;
            continue;
        };
        stack.clear();
        for frame in sample.split(';').skip(1) {
            let id = *frame_ids.entry(frame).or_insert_with(|| {
                let (name, file, line) = split_frame(frame);
                frames.intern(name, file, line)
            });
            stack.push(id);
        }
        let index = *thread_index.entry(thread).or_insert_with(|| {
            threads.push((thread, CallTreeBuilder::new()));
            threads.len() - 1
        });
        threads[index].1.add_stack(&stack, count as f64);
    }
    if skipped > 0 {
        warnings.push(format!(
            "skipped {skipped} line{} that are not `tid:N;…  count` (the first at line {first_skipped})",
            if skipped == 1 { "" } else { "s" }
        ));
    }
    if threads.is_empty() {
        return Err(ParseError::at_line(
            first_skipped.max(1),
            "no collapsed stack line (`tid:N;file:function:line;… count`)",
        ));
    }
    let profiles = threads
        .into_iter()
        .map(|(tid, builder)| {
            Profile::from_tree(format!("thread {tid}"), Unit::Samples, builder.finish())
        })
        .collect();
    Ok(ProfileSet { frames, profiles })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{function_named, weights};

    /// As `CollapsedStackCollector.export` writes: most samples first, `<GC>` bare.
    const TEXT: &str = "tid:7;main.py:<module>:9;main.py:work:4 30\n\
tid:7;main.py:<module>:9;main.py:work:5;<GC> 5\n\
tid:8;threading.py:_bootstrap:1012;w.py:loop:2 12\n";

    #[test]
    fn threads_and_frames_counted_by_hand() {
        assert_eq!(sniff(TEXT.as_bytes()), Sniff::Yes);
        let set = parse(TEXT.as_bytes(), &mut Vec::new()).unwrap();
        let names: Vec<&str> = set.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["thread 7", "thread 8"]);
        assert_eq!((set.profiles[0].total, set.profiles[1].total), (35.0, 12.0));
        let work = function_named(&set, "work");
        assert_eq!((work.file, work.line), (Some("main.py"), Some(4)));
        assert_eq!(function_named(&set, "<GC>").file, None);
        assert_eq!(
            weights(&set, 0),
            [
                ("<GC>".to_owned(), 5.0, 5.0),
                ("<module>".to_owned(), 0.0, 35.0),
                ("work".to_owned(), 30.0, 35.0),
            ]
        );
    }

    #[test]
    fn folded_and_austin_lines_are_not_cpythons() {
        assert_eq!(sniff(b"main;work 3\n"), Sniff::No);
        assert_eq!(sniff(b"P1;T0:1;a.py:f:1 3\n"), Sniff::No);
        assert_eq!(sniff(b"tid:x;a 3\n"), Sniff::No);
        // A sample without frames (which CPython does not write) weighs on the thread alone.
        let set = parse(b"tid:3 4\ntid:3;a.py:f:1 1\n", &mut Vec::new()).unwrap();
        assert_eq!(set.profiles[0].total, 5.0);
        let error = parse(b"tid:1;a.py:f:1 many\n", &mut Vec::new()).unwrap_err();
        assert_eq!(error.location, crate::import::Location::Line(1));
    }
}
