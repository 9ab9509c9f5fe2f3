//! Whole lines from a reader, a buffer's worth at a time: the partial line left at the end of a
//! buffer moves to the front and the next read fills in behind it.

use std::io::Read;

use super::lines::trim_cr;
use crate::import::ParseError;

/// Whole lines of the input, as [`Chunks::next_lines`] hands them out.
pub(super) struct Run<'a> {
    pub lines: &'a [u8],
    /// Whether all of `lines` is UTF-8.
    pub utf8: bool,
    /// Where `lines` starts in the input.
    pub offset: u64,
}

pub(super) struct Chunks<R> {
    reader: R,
    buf: Vec<u8>,
    filled: usize,
    eof: bool,
    /// The input offset of `buf[0]`.
    offset: u64,
    /// Bytes at the front already handed out, dropped before the next read.
    used: usize,
}

impl<R: Read> Chunks<R> {
    /// Lines from `first` (bytes already read) then `reader`, read `chunk` bytes or more at a
    /// time; `offset` is where `first` starts in the input, for errors.
    pub fn new(reader: R, first: Vec<u8>, chunk: usize, offset: u64) -> Self {
        let mut buf = first;
        let filled = buf.len();
        buf.resize(filled.max(chunk) + chunk, 0);
        Chunks {
            reader,
            buf,
            filled,
            eof: false,
            offset,
            used: 0,
        }
    }

    /// The next run of whole lines (the last may end without a newline at the end of the input),
    /// whether it is all UTF-8, and its offset in the input; `None` at the end.
    pub fn next_lines(&mut self) -> Result<Option<Run<'_>>, ParseError> {
        self.drop_used();
        let cut = loop {
            self.fill()?;
            match memchr::memrchr(b'\n', &self.buf[..self.filled]) {
                Some(newline) => break newline + 1,
                None if self.eof => break self.filled,
                // A line longer than the buffer: make room and keep reading.
                None => self.buf.resize(self.buf.len() * 2, 0),
            }
        };
        if cut == 0 {
            return Ok(None);
        }
        self.used = cut;
        let lines = &self.buf[..cut];
        // A newline is ASCII, so the lines are all UTF-8 when the run is: one check of the run
        // in place of one a line, which are then checked only when it fails.
        let utf8 = std::str::from_utf8(lines).is_ok();
        Ok(Some(Run {
            lines,
            utf8,
            offset: self.offset,
        }))
    }

    /// Drops the input up to its first newline and that newline: the end of a line begun before
    /// the reader's start.
    pub fn skip_line(&mut self) -> Result<(), ParseError> {
        loop {
            self.drop_used();
            self.fill()?;
            if let Some(newline) = memchr::memchr(b'\n', &self.buf[..self.filled]) {
                self.used = newline + 1;
                return Ok(());
            }
            self.used = self.filled;
            if self.eof {
                return Ok(());
            }
        }
    }

    fn drop_used(&mut self) {
        self.buf.copy_within(self.used..self.filled, 0);
        self.filled -= self.used;
        self.offset += self.used as u64;
        self.used = 0;
    }

    fn fill(&mut self) -> Result<(), ParseError> {
        while !self.eof && self.filled < self.buf.len() {
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(ParseError::at_byte(
                        self.offset + self.filled as u64,
                        format!("read failed: {e}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The lines of a run from [`Chunks::next_lines`]: each one's start in the run, and its text
/// without the newline and a CR before it.
pub(super) fn split_lines(run: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= run.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &run[start..]).map_or(run.len(), |i| start + i + 1);
        let raw = &run[start..end];
        let line = (start, trim_cr(raw.strip_suffix(b"\n").unwrap_or(raw)));
        start = end;
        Some(line)
    })
}
