//! `perf script` text (Linux perf): each sample an event line, `COMM [PID/]TID [CPU] TIME:
//! [PERIOD] EVENT:`, then its stack one frame a line, leaf first, `ADDRESS SYMBOL (MODULE)`,
//! and a blank line. Python 3.12+ run with `-X perf` names its frames `py::FUNCTION:FILE`.
//!
//! One profile per event and thread, its samples in time order (the Time Order view), each
//! weighing its period where every sample of the profile gives one (nanoseconds for the
//! `cpu-clock` and `task-clock` timers, events counted otherwise), else one sample. Frames are
//! named as inferno's `collapse-perf --kernel` names them (see `names`), Python's split into
//! function and file.

mod names;

use std::io::BufRead;

use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, TimelineSample, Unit,
};

/// The first line that is neither blank nor a comment must be an event line, and the next one
/// a stack line (or the event line must carry its one frame itself).
pub fn sniff(head: &[u8]) -> Sniff {
    let text = super::lossy(head);
    let mut lines = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim_start().starts_with('#'));
    let Some(first) = lines.find(|l| !l.trim().is_empty()) else {
        return Sniff::No;
    };
    let Some(event) = EventLine::parse(first) else {
        return Sniff::No;
    };
    if event
        .inline_frame
        .is_some_and(|f| names::stack_line_parts(f).is_some())
    {
        return Sniff::Yes;
    }
    match lines.next() {
        Some(line) if names::stack_line_parts(line).is_some() => Sniff::Yes,
        // A stack cut off by the end of the head, or an event with no stack at all.
        None if head.len() >= super::detect::HEAD_LEN => Sniff::Maybe,
        Some("") => Sniff::Maybe,
        _ => Sniff::No,
    }
}

/// What an event line says.
#[derive(Debug, PartialEq)]
struct EventLine<'a> {
    comm: &'a str,
    pid: Option<&'a str>,
    tid: &'a str,
    time: Option<f64>,
    period: Option<u64>,
    event: &'a str,
    /// An event with a one-frame stack may hold the frame on its own line.
    inline_frame: Option<&'a str>,
}

impl<'a> EventLine<'a> {
    /// The command is everything before the first word of digits (`TID` or `PID/TID`) that a
    /// space follows, as inferno and perl's stackcollapse-perf find it; an event name ending in
    /// `:` must come after.
    fn parse(line: &'a str) -> Option<EventLine<'a>> {
        let mut word_start = 0;
        let mut digits = false;
        let mut last_space = false;
        let mut slash = None;
        let mut found = None;
        for (i, c) in line.char_indices() {
            if c == ' ' {
                if digits && !last_space && word_start > 0 {
                    found = Some((word_start, slash, i));
                    break;
                }
                word_start = i + 1;
                digits = true;
            } else if c == '/' {
                if digits {
                    slash = Some(i);
                }
            } else if !c.is_ascii_digit() {
                digits = false;
                slash = None;
            }
            last_space = c == ' ';
        }
        let (start, slash, end) = found?;
        let (pid, tid) = match slash {
            Some(s) => (Some(&line[start..s]), &line[s + 1..end]),
            None => (None, &line[start..end]),
        };
        let comm = line[..start - 1].trim();
        let rest = &line[end + 1..];
        let mut by_colon = rest.splitn(3, ':');
        let before_first = by_colon.next()?;
        let second = by_colon.next()?;
        let third = by_colon.next();
        let time = before_first
            .split_whitespace()
            .next_back()
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|t| t.is_finite());
        // With a time, `TIME: [PERIOD] EVENT:`; without, `EVENT:` comes first.
        let (event, period) = match time {
            Some(_) => {
                let mut words = second.split_whitespace();
                let (first, last) = (words.next(), second.split_whitespace().next_back());
                let period = first
                    .filter(|_| words.next().is_some())
                    .and_then(|p| p.parse::<u64>().ok());
                (last.unwrap_or(""), period)
            }
            None => (
                before_first.split_whitespace().next_back().unwrap_or(""),
                None,
            ),
        };
        if event.is_empty() {
            return None;
        }
        let inline_frame = third.filter(|_| time.is_some()).and_then(|after| {
            let from = after.find([':', ' ']).map_or(0, |i| i + 1);
            Some(after[from..].trim()).filter(|f| !f.is_empty())
        });
        Some(EventLine {
            comm,
            pid,
            tid,
            time,
            period,
            event,
            inline_frame,
        })
    }
}

/// One sample as read: its time, its period and its frames (a range of the shared list, leaf
/// first).
struct Sample {
    time: Option<f64>,
    period: Option<u64>,
    frames: std::ops::Range<usize>,
}

/// The samples of one event on one thread.
struct Thread {
    comm: String,
    pid: Option<String>,
    tid: String,
    event: String,
    samples: Vec<Sample>,
}

#[derive(Default)]
struct Skipped {
    lines: usize,
    first_line: u64,
    empty_stacks: usize,
    /// The event line of the first sample without a stack.
    first_empty: u64,
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    parse_reader(bytes, warnings)
}

/// Parses perf script text line by line from a reader: a long recording never sits in memory
/// whole, only its distinct frames and each sample's stack.
pub fn parse_reader<R: BufRead>(
    mut reader: R,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let mut frames = Frames::default();
    let mut all_frames: Vec<FrameId> = Vec::new();
    let mut threads: Vec<Thread> = Vec::new();
    // Threads by the hash of (event, pid, tid), each hash's threads listed.
    let mut thread_index: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    let mut skipped = Skipped::default();
    // The sample whose stack lines are being read: its thread, and where its frames start.
    let mut current: Current = None;
    // The line of the event being read, for the warning about samples without a stack.
    let mut event_line = 0u64;
    let mut java = false;

    let mut buffer = Vec::new();
    let mut lines_read = 0usize;
    loop {
        let number = lines_read;
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer).map_err(|e| {
            ParseError::at_line(number as u64 + 1, format!("cannot read further: {e}"))
        })?;
        if read == 0 {
            break;
        }
        lines_read += 1;
        let raw = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        if raw.first() == Some(&b'#') {
            continue;
        }
        let text = String::from_utf8_lossy(raw);
        let line = text.trim_end();
        if line.is_empty() {
            end_sample(
                &mut current,
                &all_frames,
                &mut threads,
                &mut skipped,
                event_line,
            );
            continue;
        }
        let stack_line = if current.is_some() {
            Some(line)
        } else {
            let Some(event) = EventLine::parse(line) else {
                skip(&mut skipped, number);
                continue;
            };
            let index = thread_of(&mut threads, &mut thread_index, &event);
            java = event.comm == "java";
            event_line = number as u64 + 1;
            current = Some((index, event.time, event.period, all_frames.len()));
            if let Some(frame) = event.inline_frame {
                // A one-line event: its frame, and the sample ends here.
                frames.push(frame, java, &mut all_frames);
                end_sample(
                    &mut current,
                    &all_frames,
                    &mut threads,
                    &mut skipped,
                    event_line,
                );
            }
            None
        };
        if let Some(line) = stack_line
            && !frames.push(line, java, &mut all_frames)
        {
            skip(&mut skipped, number);
        }
    }
    end_sample(
        &mut current,
        &all_frames,
        &mut threads,
        &mut skipped,
        event_line,
    );
    report(&skipped, warnings);
    threads.retain(|t| !t.samples.is_empty());
    if threads.is_empty() {
        let (line, what) = if skipped.empty_stacks > 0 {
            (
                skipped.first_empty,
                "no sample has a stack; the first event without one",
            )
        } else {
            (
                skipped.first_line.max(1),
                "no perf script sample (`COMM TID TIME: EVENT:` then frames)",
            )
        };
        return Err(ParseError::at_line(line, what));
    }
    let several_events = threads.iter().any(|t| t.event != threads[0].event);
    let profiles = threads
        .into_iter()
        .map(|thread| build_profile(thread, &all_frames, several_events))
        .collect();
    Ok(ProfileSet {
        frames: frames.table,
        profiles,
    })
}

/// The index of the thread (of its event) an event line is of, added if new; found without
/// allocating, since every sample asks.
fn thread_of(
    threads: &mut Vec<Thread>,
    index: &mut FxHashMap<u64, Vec<usize>>,
    event: &EventLine<'_>,
) -> usize {
    use std::hash::BuildHasher;
    let hash = rustc_hash::FxBuildHasher.hash_one((event.event, event.pid, event.tid));
    let candidates = index.entry(hash).or_default();
    let found = candidates.iter().copied().find(|&i| {
        let t = &threads[i];
        t.event == event.event && t.pid.as_deref() == event.pid && t.tid == event.tid
    });
    found.unwrap_or_else(|| {
        threads.push(Thread {
            comm: event.comm.to_owned(),
            pid: event.pid.map(str::to_owned),
            tid: event.tid.to_owned(),
            event: event.event.to_owned(),
            samples: Vec::new(),
        });
        candidates.push(threads.len() - 1);
        threads.len() - 1
    })
}

/// The frame table, and the frames each distinct stack line stands for: a recording repeats
/// the same few thousand lines, whose names are worked out once.
struct Frames {
    table: FrameTable,
    by_name: FxHashMap<String, FrameId>,
    /// By the text of a stack line after its address, outside and inside a `java` process
    /// (whose names are tidied apart): where its frames are in `of_lines`.
    by_line: [FxHashMap<String, std::ops::Range<usize>>; 2],
    of_lines: Vec<FrameId>,
    names: Vec<String>,
}

impl Default for Frames {
    fn default() -> Self {
        Frames {
            table: FrameTable::new(FunctionKey::NameFile),
            by_name: FxHashMap::default(),
            by_line: [FxHashMap::default(), FxHashMap::default()],
            of_lines: Vec::new(),
            names: Vec::new(),
        }
    }
}

impl Frames {
    /// Adds the frames of one stack line to `out` (leaf first, so an inlined chain `a->b` goes
    /// in as b then a); false for a line that is no stack line.
    fn push(&mut self, line: &str, java: bool, out: &mut Vec<FrameId>) -> bool {
        let Some((_, symbol, module)) = names::stack_line_parts(line) else {
            return false;
        };
        // Names depend on the symbol and module alone, not on the address before them.
        let key = line
            .trim_start()
            .split_once(' ')
            .map_or("", |(_, rest)| rest);
        let cache = &mut self.by_line[usize::from(java)];
        if let Some(range) = cache.get(key) {
            out.extend_from_slice(&self.of_lines[range.clone()]);
            return true;
        }
        self.names.clear();
        names::frame_names(symbol, module, java, &mut self.names);
        let start = self.of_lines.len();
        for name in self.names.drain(..).rev() {
            let id = match self.by_name.get(&name) {
                Some(&id) => id,
                None => {
                    let id = match python_frame(&name) {
                        Some((function, file)) => self.table.intern(function, Some(file), None),
                        None => self.table.intern(&name, None, None),
                    };
                    self.by_name.insert(name, id);
                    id
                }
            };
            self.of_lines.push(id);
        }
        out.extend_from_slice(&self.of_lines[start..]);
        cache.insert(key.to_owned(), start..self.of_lines.len());
        true
    }
}

/// The sample being read, once its stack has ended.
type Current = Option<(usize, Option<f64>, Option<u64>, usize)>;

fn end_sample(
    current: &mut Current,
    all_frames: &[FrameId],
    threads: &mut [Thread],
    skipped: &mut Skipped,
    event_line: u64,
) {
    if let Some((thread, time, period, start)) = current.take() {
        if all_frames.len() == start {
            if skipped.empty_stacks == 0 {
                skipped.first_empty = event_line;
            }
            skipped.empty_stacks += 1;
        } else {
            threads[thread].samples.push(Sample {
                time,
                period,
                frames: start..all_frames.len(),
            });
        }
    }
}

/// `py::FUNCTION:FILE`, the frames CPython's perf trampolines name: (function, file).
fn python_frame(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("py::")?;
    let (function, file) = rest.split_once(':')?;
    (!function.is_empty() && !file.is_empty()).then_some((function, file))
}

fn build_profile(thread: Thread, all_frames: &[FrameId], several_events: bool) -> Profile {
    let Thread {
        comm,
        pid,
        tid,
        event,
        mut samples,
    } = thread;
    // perf script prints samples in time order already; a merged or hand-made file may not be.
    if samples.iter().all(|s| s.time.is_some()) {
        samples.sort_by(|a, b| a.time.unwrap_or(0.0).total_cmp(&b.time.unwrap_or(0.0)));
    }
    let by_period = samples.iter().all(|s| s.period.is_some());
    let unit = if !by_period {
        Unit::Samples
    } else if matches!(event.as_str(), "cpu-clock" | "task-clock") {
        Unit::Nanoseconds
    } else {
        Unit::None
    };
    let mut builder = CallTreeBuilder::new();
    let mut timeline = Vec::with_capacity(samples.len());
    let mut stack: Vec<FrameId> = Vec::new();
    for sample in &samples {
        stack.clear();
        stack.extend(all_frames[sample.frames.clone()].iter().rev());
        let weight = match sample.period {
            Some(p) if by_period => p as f64,
            _ => 1.0,
        };
        let leaf = builder.add_stack(&stack, weight);
        timeline.push(TimelineSample { leaf, weight });
    }
    let thread = match pid {
        Some(pid) => format!("{pid}/{tid}"),
        None => tid,
    };
    let name = if several_events {
        format!("{comm} {thread} ({event})")
    } else {
        format!("{comm} {thread}")
    };
    let mut profile = Profile::from_tree(name, unit, builder.finish());
    profile.event = several_events.then_some(event);
    profile.start_value = samples.first().and_then(|s| s.time);
    profile.end_value = samples.last().and_then(|s| s.time);
    profile.timeline = Some(timeline);
    profile
}

fn skip(skipped: &mut Skipped, number: usize) {
    if skipped.lines == 0 {
        skipped.first_line = number as u64 + 1;
    }
    skipped.lines += 1;
}

fn report(skipped: &Skipped, warnings: &mut Vec<String>) {
    if skipped.lines > 0 {
        warnings.push(format!(
            "skipped {} line{} that are neither perf script event nor stack lines (the first at line {})",
            skipped.lines,
            if skipped.lines == 1 { "" } else { "s" },
            skipped.first_line
        ));
    }
    if skipped.empty_stacks > 0 {
        warnings.push(format!(
            "skipped {} sample{} with no stack (the first at line {})",
            skipped.empty_stacks,
            if skipped.empty_stacks == 1 { "" } else { "s" },
            skipped.first_empty
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{function_named, weights};

    const TWO_THREADS: &str = "# ========\n# captured on: today\n#\n\
python3 100/100 [001] 10.500000:    2000 cpu-clock:ppp: \n\
\t    7f01 py::work:/app/shop.py+0xa (/tmp/perf-100.map)\n\
\t    5501 _PyEval_EvalFrameDefault+0x84e (/usr/lib/libpython3.12.so)\n\
\t    7f00 py::<module>:/app/main.py+0x5 (/tmp/perf-100.map)\n\
\n\
python3 100/101 [002] 10.400000:    1000 cpu-clock:ppp: \n\
\tffffffff81 clear_page_erms+0x7 ([kernel.kallsyms])\n\
\t       0 [unknown] ([unknown])\n\
\n\
python3 100/100 [001] 10.100000:    3000 cpu-clock:ppp: \n\
\t    7f00 py::<module>:/app/main.py+0x9 (/tmp/perf-100.map)\n\
\n";

    #[test]
    fn threads_periods_and_time_order_counted_by_hand() {
        assert_eq!(sniff(TWO_THREADS.as_bytes()), Sniff::Yes);
        let mut warnings = Vec::new();
        let set = parse(TWO_THREADS.as_bytes(), &mut warnings).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let names: Vec<&str> = set.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["python3 100/100", "python3 100/101"]);
        let main = &set.profiles[0];
        assert_eq!((main.unit, main.total), (Unit::Nanoseconds, 5000.0));
        // The sample at 10.1 s comes first in time, though second in the file.
        let timeline = main.timeline.as_ref().unwrap();
        assert_eq!(
            timeline.iter().map(|s| s.weight).collect::<Vec<_>>(),
            [3000.0, 2000.0]
        );
        assert_eq!((main.start_value, main.end_value), (Some(10.1), Some(10.5)));
        let work = function_named(&set, "work");
        assert_eq!(work.file, Some("/app/shop.py"));
        assert_eq!(
            weights(&set, 0),
            [
                ("<module>".to_owned(), 3000.0, 5000.0),
                ("_PyEval_EvalFrameDefault".to_owned(), 0.0, 2000.0),
                ("work".to_owned(), 2000.0, 2000.0),
            ]
        );
        assert_eq!(
            weights(&set, 1),
            [
                ("[unknown]".to_owned(), 0.0, 1000.0),
                ("clear_page_erms_[k]".to_owned(), 1000.0, 1000.0),
            ]
        );
    }

    #[test]
    fn event_lines_of_every_shape() {
        let e =
            EventLine::parse("V8 WorkerThread 24636/25607 [000] 94564.109216: cycles:").unwrap();
        assert_eq!(
            (e.comm, e.pid, e.tid, e.time, e.period, e.event),
            (
                "V8 WorkerThread",
                Some("24636"),
                "25607",
                Some(94564.109216),
                None,
                "cycles"
            )
        );
        let e = EventLine::parse("vote   913    72.176760:     257597 cycles:uppp:").unwrap();
        assert_eq!((e.tid, e.period, e.event), ("913", Some(257597), "cycles"));
        let e = EventLine::parse("func_ab 15294 cpu-clock:").unwrap();
        assert_eq!((e.time, e.event), (None, "cpu-clock"));
        let e = EventLine::parse(
            "false 39654 19115.489713:          1 cycles:u:  ffffffff9b201293 [unknown] ([unknown])",
        )
        .unwrap();
        assert_eq!(
            e.inline_frame,
            Some("ffffffff9b201293 [unknown] ([unknown])")
        );
        assert_eq!(EventLine::parse("main;work 3"), None);
        assert_eq!(EventLine::parse("P1;T0:1;a.py:f:1 4096"), None);
    }

    #[test]
    fn samples_without_periods_count_one_each_and_other_text_is_refused() {
        let text = "func_ab 15294 cpu-clock: \n\t 4005 func_a (/bin/f)\n\t 4006 main (/bin/f)\n\n\
func_ab 15294 cpu-clock: \n\t 4005 func_b (/bin/f)\n\n";
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        assert_eq!(
            (set.profiles[0].unit, set.profiles[0].total),
            (Unit::Samples, 2.0)
        );
        assert_eq!(sniff(b"main;work 3\nmain;rest 4\n"), Sniff::No);
        assert_eq!(sniff(b"P7;T0:7;main.py:f:1 30\n"), Sniff::No);
        let error = parse(b"hello there\n", &mut Vec::new()).unwrap_err();
        assert_eq!(error.location, crate::import::Location::Line(1));
    }
}
