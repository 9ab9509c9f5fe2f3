//! Folded (collapsed) stacks: `frame;frame;frame COUNT` per line, as py-spy `--format raw`,
//! inferno and Brendan Gregg's stackcollapse scripts write them.
//!
//! Large files are read as a two-stage pipeline so both cores work: a reader thread splits lines
//! and interns frame strings into small integer ids, and the calling thread merges the id stacks
//! into the call tree. The file is streamed in chunks and never held in memory whole.

use std::io::Read;
use std::sync::mpsc;

use memchr::{memchr_iter, memrchr2};

use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, FunctionStats, NodeId, Profile, ProfileSet,
    Unit,
};

const CHUNK: usize = 1 << 20;

/// Folded files have no magic; a head whose first real line ends in a count is ours. Anything
/// else textual is a `Maybe`, since other importers have already had their say.
pub fn sniff(head: &[u8]) -> Sniff {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Sniff::Yes;
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines = head.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        // The last piece of a cut head may be a partial line; judge it only if it is all we have.
        if lines.peek().is_none() && head.len() >= super::detect::HEAD_LEN {
            break;
        }
        match classify(trim_cr(line)) {
            Line::Blank | Line::Comment => continue,
            Line::Stack { .. } => return Sniff::Yes,
            Line::Invalid => {
                return if line.contains(&0) {
                    Sniff::No
                } else {
                    Sniff::Maybe
                };
            }
        }
    }
    Sniff::Maybe
}

/// Parses a folded file already in memory.
pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    parse_reader(bytes, warnings)
}

/// Parses a folded file from a reader, in chunks.
pub fn parse_reader<R: Read + Send>(
    mut reader: R,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let mut first = Vec::with_capacity(CHUNK);
    (&mut reader)
        .take(CHUNK as u64)
        .read_to_end(&mut first)
        .map_err(|e| ParseError::at_byte(0, format!("read failed: {e}")))?;
    if let Some(big_endian) = utf16_bom(&first) {
        // UTF-16 folded files are rare and small (speedscope's samples are): decode whole.
        reader
            .read_to_end(&mut first)
            .map_err(|e| ParseError::at_byte(0, format!("read failed: {e}")))?;
        let text = decode_utf16(&first[2..], big_endian)?;
        return build(
            std::io::Cursor::new(text.into_bytes()),
            Vec::new(),
            warnings,
        );
    }
    if first.starts_with(b"\xEF\xBB\xBF") {
        first.drain(..3);
    }
    build(reader, first, warnings)
}

fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

fn decode_utf16(bytes: &[u8], big_endian: bool) -> Result<String, ParseError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseError::at_byte(
            bytes.len() as u64 + 1,
            "UTF-16 text ends in half a code unit",
        ));
    }
    let units = bytes.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    for (i, unit) in char::decode_utf16(units).enumerate() {
        match unit {
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(ParseError::at_byte(
                    2 + 2 * i as u64,
                    "invalid UTF-16 (an unpaired surrogate)",
                ));
            }
        }
    }
    Ok(text)
}

enum Line<'a> {
    Blank,
    Comment,
    Stack { frames: &'a [u8], count: f64 },
    Invalid,
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn classify(line: &[u8]) -> Line<'_> {
    let line = line.trim_ascii_end();
    if line.is_empty() {
        return Line::Blank;
    }
    if line.starts_with(b"#") || line.starts_with(b"//") {
        return Line::Comment;
    }
    let (frames, count) = match memrchr2(b' ', b'\t', line) {
        // Only the one separator goes: a frame may itself be blank (`a; 3` names a frame " "),
        // as speedscope and flamegraph.pl read it.
        Some(at) => (&line[..at], &line[at + 1..]),
        None => (&line[..0], line),
    };
    match parse_count(count) {
        Some(count) => Line::Stack { frames, count },
        None => Line::Invalid,
    }
}

/// A sample count: digits, or a decimal as flamegraph.pl accepts.
fn parse_count(text: &[u8]) -> Option<f64> {
    if text.is_empty() || text.len() > 18 {
        return std::str::from_utf8(text)
            .ok()
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|v| v.is_finite());
    }
    let mut value: u64 = 0;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'0'..=b'9' => value = value * 10 + u64::from(b - b'0'),
            b'.' => {
                let rest = &text[i + 1..];
                if !rest.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                return std::str::from_utf8(text).ok()?.parse().ok();
            }
            _ => return None,
        }
    }
    Some(value as f64)
}

/// Lines the reader thread hands on: stacks as local frame ids plus the frames first seen.
#[derive(Default)]
struct Batch {
    ids: Vec<u32>,
    /// (end of this stack in `ids`, count)
    stacks: Vec<(u32, f64)>,
    new_frames: Vec<Box<[u8]>>,
}

/// What the reader thread found besides stacks: line counts for warnings and errors, and each
/// function's self and total weight, which it tallies from the lines while the other thread
/// builds the tree (the figures are exact, and it saves a walk of the whole tree afterwards).
#[derive(Default)]
struct LineReport {
    lines: u64,
    valid: u64,
    invalid: u64,
    first_invalid: Option<u64>,
    error: Option<ParseError>,
    /// Per local function: one local frame id of it, self weight, total weight.
    functions: Vec<(u32, f64, f64)>,
}

fn build<R: Read + Send>(
    reader: R,
    first: Vec<u8>,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let (sender, receiver) = mpsc::sync_channel::<Batch>(4);
    let mut table = FrameTable::new(FunctionKey::NameFile);
    let mut builder = CallTreeBuilder::new();
    let mut local_to_frame: Vec<FrameId> = Vec::new();

    let report = std::thread::scope(|scope| {
        let reader_thread = scope.spawn(move || Tokenizer::default().run(reader, first, sender));
        for batch in receiver {
            for raw in &batch.new_frames {
                local_to_frame.push(intern_raw(&mut table, raw));
            }
            let mut start = 0usize;
            for &(end, count) in &batch.stacks {
                let mut node = NodeId::ROOT;
                for &local in &batch.ids[start..end as usize] {
                    node = builder.child(node, local_to_frame[local as usize]);
                }
                builder.add_self(node, count);
                start = end as usize;
            }
        }
        reader_thread.join().unwrap_or_else(|_| LineReport {
            error: Some(ParseError::at_byte(0, "the reader thread failed")),
            ..LineReport::default()
        })
    });

    if let Some(error) = report.error {
        return Err(error);
    }
    if report.valid == 0 {
        let line = report.first_invalid.unwrap_or(report.lines.max(1));
        return Err(ParseError::at_line(
            line,
            format!(
                "no line of the form `frame;frame;... count` in {} lines",
                report.lines
            ),
        ));
    }
    if report.invalid > 0 {
        warnings.push(format!(
            "skipped {} line{} that are not `frame;frame;... count` (the first at line {})",
            report.invalid,
            if report.invalid == 1 { "" } else { "s" },
            report.first_invalid.unwrap_or(0)
        ));
    }
    let stats = report
        .functions
        .iter()
        .map(|&(frame, self_weight, total_weight)| {
            FunctionStats::sampled(
                table.func_of(local_to_frame[frame as usize]),
                self_weight,
                total_weight,
            )
        })
        .collect();
    let mut profile = Profile::from_tree("", Unit::Samples, builder.finish());
    profile.function_stats = Some(stats);
    Ok(ProfileSet {
        frames: table,
        profiles: vec![profile],
    })
}

/// The reader thread's state: splits lines, interns frames, tallies functions.
#[derive(Default)]
struct Tokenizer {
    report: LineReport,
    batch: Batch,
    frames: FxHashMap<Box<[u8]>, u32>,
    /// Local frame id → local function id.
    frame_func: Vec<u32>,
    functions: FxHashMap<(Box<str>, Option<Box<str>>), u32>,
    /// Per local function: the line it was last counted on, so recursion counts once.
    counted_on_line: Vec<u64>,
}

impl Tokenizer {
    fn run<R: Read>(
        mut self,
        mut reader: R,
        first: Vec<u8>,
        sender: mpsc::SyncSender<Batch>,
    ) -> LineReport {
        // One buffer for the whole file: the partial line left at the end of a chunk moves to
        // the front and the next read fills in behind it.
        let mut buf = first;
        let mut filled = buf.len();
        buf.resize(filled.max(CHUNK) + CHUNK, 0);
        let mut eof = false;
        let mut offset: u64 = 0;
        loop {
            while !eof && filled < buf.len() {
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.report.error = Some(ParseError::at_byte(
                            offset + filled as u64,
                            format!("read failed: {e}"),
                        ));
                        return self.report;
                    }
                }
            }
            let cut = match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(at) => at + 1,
                None if eof => filled,
                None => {
                    // A line longer than the buffer: make room and keep reading.
                    buf.resize(buf.len() * 2, 0);
                    continue;
                }
            };
            let mut start = 0;
            while start < cut {
                let end = memchr::memchr(b'\n', &buf[start..cut]).map_or(cut, |i| start + i + 1);
                let raw = &buf[start..end];
                self.line(trim_cr(raw.strip_suffix(b"\n").unwrap_or(raw)));
                start = end;
            }
            offset += cut as u64;
            buf.copy_within(cut..filled, 0);
            filled -= cut;
            let done = eof && filled == 0;
            if (self.batch.ids.len() > 1 << 16 || done)
                && sender.send(std::mem::take(&mut self.batch)).is_err()
            {
                return self.report;
            }
            if done {
                return self.report;
            }
        }
    }

    fn line(&mut self, line: &[u8]) {
        self.report.lines += 1;
        let parsed = match std::str::from_utf8(line) {
            Ok(_) => classify(line),
            Err(_) => Line::Invalid,
        };
        match parsed {
            Line::Blank | Line::Comment => {}
            Line::Invalid => {
                self.report.invalid += 1;
                self.report.first_invalid.get_or_insert(self.report.lines);
            }
            Line::Stack { frames, count } => {
                self.report.valid += 1;
                self.stack(frames, count);
            }
        }
    }

    fn stack(&mut self, frames: &[u8], count: f64) {
        let line = self.report.lines;
        let mut last_func = None;
        if !frames.is_empty() {
            let mut start = 0;
            let ends = memchr_iter(b';', frames).chain(std::iter::once(frames.len()));
            for end in ends {
                let id = self.frame_id(&frames[start..end]);
                start = end + 1;
                self.batch.ids.push(id);
                let func = self.frame_func[id as usize] as usize;
                if self.counted_on_line[func] != line {
                    self.counted_on_line[func] = line;
                    self.report.functions[func].2 += count;
                }
                last_func = Some(func);
            }
        }
        if let Some(func) = last_func {
            self.report.functions[func].1 += count;
        }
        self.batch.stacks.push((self.batch.ids.len() as u32, count));
    }

    fn frame_id(&mut self, raw: &[u8]) -> u32 {
        if let Some(&id) = self.frames.get(raw) {
            return id;
        }
        let id = self.frames.len() as u32;
        self.frames.insert(raw.into(), id);
        self.batch.new_frames.push(raw.into());
        // Lines are checked to be UTF-8 before their frames are taken.
        let text = String::from_utf8_lossy(raw);
        let (name, file, _) = split_frame(&text);
        let key = (Box::from(name), file.map(Box::from));
        let next = self.functions.len() as u32;
        let func = *self.functions.entry(key).or_insert(next);
        if func == next {
            self.report.functions.push((id, 0.0, 0.0));
            self.counted_on_line.push(0);
        }
        self.frame_func.push(func);
        id
    }
}

/// Interns one raw frame, splitting py-spy's `name (file:line)` into its parts.
fn intern_raw(table: &mut FrameTable, raw: &[u8]) -> FrameId {
    // Lines were checked to be UTF-8 before their frames were taken.
    let text = String::from_utf8_lossy(raw);
    let (name, file, line) = split_frame(&text);
    table.intern(name, file, line)
}

/// `name (file:line)` → (name, file, line); `name (file)` → (name, file, None); else the whole
/// text is the name.
pub fn split_frame(text: &str) -> (&str, Option<&str>, Option<u32>) {
    let Some(inner_end) = text.strip_suffix(')') else {
        return (text, None, None);
    };
    let Some(open) = inner_end.rfind(" (") else {
        return (text, None, None);
    };
    let name = &inner_end[..open];
    let inner = &inner_end[open + 2..];
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

#[cfg(test)]
mod tests {
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
}
