//! Austin's text output (`austin -o FILE`, Austin 3): `# key: value` metadata, then one sample a
//! line, `P<pid>;T<iid>:<tid>;file:function:line;… value`, root first. The value is
//! microseconds in wall and CPU mode and bytes in memory mode (`# mode:`); full mode's three
//! values (time, idle, memory) give their first. One profile per thread.

use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, Unit,
};

/// Austin writes its `# austin: VERSION` line first; without it, the first sample line must
/// start with a process and a thread.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if text.starts_with(b"# austin:") {
        return Sniff::Yes;
    }
    let first = text
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    match first {
        Some(line) if is_process_thread(line) => Sniff::Yes,
        _ => Sniff::No,
    }
}

/// `P<digits>;T<digits>:<digits>` at the start of a line (Austin 3.4 on), or
/// `P<digits>;T<digits>` (Austin 3.3 and before: no interpreter id).
fn is_process_thread(line: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let Some(rest) = line.strip_prefix(b"P") else {
        return false;
    };
    let n = digits(rest);
    let Some(rest) = rest[n..].strip_prefix(b";T").filter(|_| n > 0) else {
        return false;
    };
    let n = digits(rest);
    n > 0 && matches!(rest.get(n), None | Some(b':' | b';' | b' '))
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(text)
        .map_err(|e| ParseError::at_byte(e.valid_up_to() as u64, "not UTF-8 text"))?;
    let mut unit = Unit::Microseconds;
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let mut frame_ids: FxHashMap<&str, FrameId> = FxHashMap::default();
    // Threads in the order they first appear, each with its tree.
    let mut threads: Vec<(&str, CallTreeBuilder)> = Vec::new();
    let mut thread_index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut stack: Vec<FrameId> = Vec::new();
    let mut skipped = (0usize, 0u64);
    let mut samples = 0usize;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if let Some(meta) = line.strip_prefix('#') {
            if let Some(mode) = meta.trim().strip_prefix("mode:") {
                unit = match mode.trim() {
                    "memory" => Unit::Bytes,
                    _ => Unit::Microseconds,
                };
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some((sample, value)) = line.rsplit_once(' ') else {
            skip(&mut skipped, number);
            continue;
        };
        // Full mode writes `time,idle,memory`.
        let Ok(weight) = value.split(',').next().unwrap_or("").parse::<f64>() else {
            skip(&mut skipped, number);
            continue;
        };
        if !weight.is_finite() || weight < 0.0 {
            skip(&mut skipped, number);
            continue;
        }
        let mut parts = sample.split(';');
        let (Some(process), Some(thread)) = (parts.next(), parts.next()) else {
            skip(&mut skipped, number);
            continue;
        };
        if !is_process_thread(format!("{process};{thread}").as_bytes()) {
            skip(&mut skipped, number);
            continue;
        }
        stack.clear();
        let mut bad = false;
        for frame in parts {
            let id = match frame_ids.get(frame) {
                Some(&id) => id,
                None => {
                    // file:function:line, the file holding colons of its own (`C:\…`).
                    let Some((rest, line_number)) = frame.rsplit_once(':') else {
                        bad = true;
                        break;
                    };
                    let Some((file, function)) = rest.rsplit_once(':') else {
                        bad = true;
                        break;
                    };
                    let line_number = line_number.parse::<u32>().ok().filter(|&l| l > 0);
                    let file = (!file.is_empty()).then_some(file);
                    let id = frames.intern(function, file, line_number);
                    frame_ids.insert(frame, id);
                    id
                }
            };
            stack.push(id);
        }
        if bad {
            skip(&mut skipped, number);
            continue;
        }
        let key = &sample[..process.len() + 1 + thread.len()];
        let index = *thread_index.entry(key).or_insert_with(|| {
            threads.push((key, CallTreeBuilder::new()));
            threads.len() - 1
        });
        threads[index].1.add_stack(&stack, weight);
        samples += 1;
    }
    if skipped.0 > 0 {
        warnings.push(format!(
            "skipped {} line{} that are not Austin samples (the first at line {})",
            skipped.0,
            if skipped.0 == 1 { "" } else { "s" },
            skipped.1
        ));
    }
    if samples == 0 {
        return Err(ParseError::at_line(
            1,
            "no Austin sample lines (`P<pid>;T<iid>:<tid>;… value`)",
        ));
    }
    let several_processes = {
        let mut pids = threads.iter().map(|(key, _)| key.split(';').next());
        let first = pids.next().flatten();
        pids.any(|p| p != first)
    };
    let profiles = threads
        .into_iter()
        .map(|(key, builder)| {
            let (process, thread) = key.split_once(';').unwrap_or((key, ""));
            let tid = thread.rsplit(':').next().unwrap_or(thread);
            let tid = tid.strip_prefix('T').unwrap_or(tid);
            let name = if several_processes {
                format!("process {} thread {tid}", &process[1..])
            } else {
                format!("thread {tid}")
            };
            Profile::from_tree(name, unit, builder.finish())
        })
        .collect();
    Ok(ProfileSet { frames, profiles })
}

fn skip(skipped: &mut (usize, u64), number: usize) {
    if skipped.0 == 0 {
        skipped.1 = number as u64 + 1;
    }
    skipped.0 += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::function_named;

    #[test]
    fn samples_by_thread_with_files_and_lines_counted_by_hand() {
        let text = "# austin: 3.7.0\n# mode: wall\n\n\
P7;T0:7;main.py:<module>:9;main.py:work:4 300\n\
P7;T0:7;main.py:<module>:9;main.py:work:5 200\n\
P7;T1:8;C:\\app\\w.py:loop:2 50\n\
P7;T0:7 10\n\n# duration: 560\n";
        assert_eq!(sniff(text.as_bytes()), Sniff::Yes);
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        let names: Vec<&str> = set.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["thread 7", "thread 8"]);
        assert_eq!(set.profiles[0].total, 510.0);
        assert_eq!(set.profiles[0].unit, Unit::Microseconds);
        let work = function_named(&set, "work");
        assert_eq!((work.file, work.line), (Some("main.py"), Some(4)));
        let looped = function_named(&set, "loop");
        assert_eq!(looped.file, Some("C:\\app\\w.py"));
    }

    #[test]
    fn memory_mode_is_bytes_and_folded_text_is_not_austin() {
        let set = parse(b"# mode: memory\nP1;T0:1;a.py:f:1 4096\n", &mut Vec::new()).unwrap();
        assert_eq!(set.profiles[0].unit, Unit::Bytes);
        assert_eq!(sniff(b"main;work 3\n"), Sniff::No);
        assert_eq!(sniff(b"P1;X2 3\n"), Sniff::No);
        // Austin 3.3 wrote no interpreter id.
        let set = parse(b"P1;T9;a.py:f:1 5\n", &mut Vec::new()).unwrap();
        assert_eq!(set.profiles[0].name, "thread 9");
    }
}
