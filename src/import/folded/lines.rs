//! One line of a folded file, and the rule that says whether a head of text is folded at all.

use memchr::memrchr2;

use super::super::detect::HEAD_LEN;

pub enum Line<'a> {
    Blank,
    Comment,
    /// `frames count`, or a differential line `frames first count` as `inferno-diff-folded`
    /// and `difffolded.pl` write it: `count` is the weight, `first` the base it is compared with.
    Stack {
        frames: &'a [u8],
        count: f64,
        first: Option<f64>,
    },
    Invalid,
}

pub fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub fn classify(line: &[u8]) -> Line<'_> {
    let line = line.trim_ascii_end();
    if line.is_empty() {
        return Line::Blank;
    }
    if line.starts_with(b"#") || line.starts_with(b"//") {
        return Line::Comment;
    }
    let (frames, count) = split_last_word(line);
    let Some(count) = parse_count(count) else {
        return Line::Invalid;
    };
    // flamegraph.pl and inferno take a second number before the last as the first count of a
    // differential file, line by line: the frames are what is left.
    match frames.map(split_last_word) {
        Some((before, word)) if !word.is_empty() => match parse_count(word) {
            Some(first) => Line::Stack {
                frames: before.unwrap_or(&[]),
                count,
                first: Some(first),
            },
            None => Line::Stack {
                frames: frames.unwrap_or(&[]),
                count,
                first: None,
            },
        },
        _ => Line::Stack {
            frames: frames.unwrap_or(&[]),
            count,
            first: None,
        },
    }
}

/// (everything before the last space or tab, the word after it). Only the one separator goes:
/// a frame may itself be blank (`a; 3` names a frame " "), as speedscope and flamegraph.pl read
/// it.
fn split_last_word(text: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match memrchr2(b' ', b'\t', text) {
        Some(at) => (Some(&text[..at]), &text[at + 1..]),
        None => (None, text),
    }
}

/// A sample count: digits, or a decimal as flamegraph.pl accepts.
pub fn parse_count(text: &[u8]) -> Option<f64> {
    if text.is_empty() || text.len() > 18 {
        return std::str::from_utf8(text)
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .filter(|t| t.bytes().next().is_some_and(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|v| v.is_finite());
    }
    let mut value: u64 = 0;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'0'..=b'9' => value = value * 10 + u64::from(b - b'0'),
            b'.' if i > 0 => {
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

/// What the head of a file says about it being folded.
pub struct HeadVerdict {
    pub folded: bool,
    /// The first line (1-based) that is neither blank, a comment nor a stack, and its text.
    pub first_not_stack: Option<(u64, Vec<u8>)>,
}

/// A file is folded when its first line that is neither blank nor a comment is a stack with a
/// count, and at least nine in ten such lines of the head are: a file of another format whose
/// lines happen to end in numbers (callgrind's `version: 1`, dtrace, `sample`) has far fewer.
///
/// A short file may also have one or two stray lines among three times as many stacks: the
/// test files of inferno and speedscope for skipping bad lines (`bad-lines.txt`,
/// `simple-with-invalids.txt`) are that, and both tools read them.
fn enough_stacks(stacks: u64, others: u64) -> bool {
    others * 10 <= stacks + others || (others <= 2 && stacks >= 3 * others)
}

/// Whether `head` is folded, and its first line that is not a stack.
pub fn judge_head(head: &[u8]) -> HeadVerdict {
    let cut = head.len() >= HEAD_LEN;
    let mut lines = head.split(|&b| b == b'\n').peekable();
    let (mut stacks, mut others) = (0u64, 0u64);
    let mut first_not_stack = None;
    let mut first_is_stack = None;
    let mut number = 0u64;
    while let Some(line) = lines.next() {
        number += 1;
        // The last piece of a cut head may be a partial line: not judged.
        if lines.peek().is_none() && cut {
            break;
        }
        let line = trim_cr(line);
        let parsed = match std::str::from_utf8(line) {
            Ok(_) => classify(line),
            Err(_) => Line::Invalid,
        };
        match parsed {
            Line::Blank | Line::Comment => continue,
            Line::Stack { .. } => stacks += 1,
            Line::Invalid => {
                others += 1;
                first_not_stack.get_or_insert_with(|| (number, line.to_vec()));
            }
        }
        first_is_stack.get_or_insert(others == 0);
    }
    let folded = if stacks + others == 0 && cut {
        // No whole line in the head: one stack deeper than the head is long. It is taken for
        // folded when it reads as frames; the parser then finds its count or says there is none.
        long_first_line_is_frames(head)
    } else {
        first_is_stack == Some(true) && enough_stacks(stacks, others)
    };
    HeadVerdict {
        folded,
        first_not_stack,
    }
}

/// Whether text with no line break in the head looks like the frames of a stack: UTF-8 (but
/// for a character cut at the end), no control characters, and frames separated by `;`.
fn long_first_line_is_frames(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.contains(';') && !text.chars().any(|c| c.is_control() && c != '\t')
}
