//! Opening what the user named: a file, a pipe or FIFO, `-` for standard input, any of them
//! gzip-compressed. Nothing here seeks: the head the sniffers judge is read once and handed on
//! in front of the rest, so a pipe is read exactly as a file is.

use std::fs::File;
use std::io::{self, Cursor, IsTerminal, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::LoadError;
use super::detect::HEAD_LEN;

/// The path that means standard input.
pub const STDIN: &str = "-";

/// An opened input: its first bytes (up to [`HEAD_LEN`], decompressed) and the rest.
pub struct Input {
    pub head: Vec<u8>,
    pub rest: Box<dyn Read + Send>,
    /// The size of a plain file on disk, for reserving memory; `None` for pipes and gzip.
    pub size: Option<u64>,
}

/// Told how far into a file its reading is, in whole percent.
pub type Tell = std::sync::Arc<dyn Fn(u8) + Send + Sync>;

impl Input {
    /// The input, telling `tell` how far it is read each time the figure grows; as it is
    /// where the size is not known (a pipe, gzip).
    pub fn telling(self, tell: Tell) -> Input {
        let Some(size) = self.size.filter(|&size| size > 0) else {
            return self;
        };
        let read = self.head.len() as u64;
        Input {
            rest: Box::new(Telling {
                inner: self.rest,
                read,
                size,
                told: 0,
                tell,
            }),
            ..self
        }
    }

    /// The whole input, head first, as one reader.
    pub fn into_reader(self) -> impl Read + Send {
        Cursor::new(self.head).chain(self.rest)
    }

    /// Reads all of the input into memory.
    pub fn read_all(self, path: &Path) -> Result<Vec<u8>, LoadError> {
        let mut bytes = self.head;
        if let Some(size) = self.size {
            bytes.reserve(
                usize::try_from(size)
                    .unwrap_or(0)
                    .saturating_sub(bytes.len()),
            );
        }
        let mut rest = self.rest;
        rest.read_to_end(&mut bytes)
            .map_err(|source| LoadError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(bytes)
    }
}

/// A reader that tells how far into `size` bytes it is.
struct Telling {
    inner: Box<dyn Read + Send>,
    read: u64,
    size: u64,
    told: u8,
    tell: Tell,
}

impl Read for Telling {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let percent = (self.read.saturating_mul(100) / self.size).min(100) as u8;
        if percent > self.told {
            self.told = percent;
            (self.tell)(percent);
        }
        Ok(n)
    }
}

/// A regular file mapped into memory, for a reader that takes the whole file as bytes but goes
/// through it once, front to back: the pages it has left behind are let go as it goes
/// ([`Mapped::release_before`]), so the file never sits in memory whole, and a page read again
/// later (an error's place found by a second reading) is read again from the file.
///
/// The one risk of a mapping: should another program cut the file short while it is read,
/// reading past the new end raises SIGBUS, where a `read` would see the file end. While a
/// mapping lives, SIGBUS ends obol as bad input does ([`super::bus_error`]).
pub struct Mapped {
    map: memmap2::Mmap,
    /// While it lives, SIGBUS (the file cut short) ends obol with a line naming the file.
    _cut_short: super::bus_error::Reading,
    /// The bytes before this have been let go (atomic so that a reading on another thread can
    /// let go of a stretch of its own, [`Mapped::release_range`]).
    released: std::sync::atomic::AtomicUsize,
}

impl Mapped {
    /// Maps the regular file at `path`; `None` when it cannot be mapped (the caller reads it
    /// instead).
    /// `format` names what the file is read as, for the line printed should it be cut short.
    pub fn open(path: &Path, format: &str) -> Option<Mapped> {
        let file = File::open(path).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        // SAFETY: the mapping is read-only and private, and nothing here writes the file. Its
        // bytes change only if another program writes the file meanwhile, which gives a
        // reader odd bytes, never unsound ones: they are read as `u8`s and checked as input.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        // Read ahead, and pages read need not stay.
        let _ = map.advise(memmap2::Advice::Sequential);
        let message = format!(
            "{}: read as {format}: the file was cut short by another program while obol read it",
            path.display()
        );
        let line = crate::text::one_line("obol: error: ", &message) + "\n";
        Some(Mapped {
            _cut_short: super::bus_error::while_reading(&map, line),
            map,
            released: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Lets go of the pages wholly before byte `at`: they leave the process's memory, and are
    /// read again from the file if they are read again.
    pub fn release_before(&self, at: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let from = self.released.load(Relaxed);
        let to = (at.min(self.map.len()) / PAGE) * PAGE;
        if to > from && self.let_go(from, to) {
            self.released.store(to, Relaxed);
        }
    }

    /// Lets go of the pages wholly within bytes `from..to`, for a reading of a stretch of the
    /// file on a thread of its own; [`Mapped::release_before`] is the one reading from the
    /// start.
    pub fn release_range(&self, from: usize, to: usize) {
        let from = from.div_ceil(PAGE) * PAGE;
        let to = (to.min(self.map.len()) / PAGE) * PAGE;
        if to > from {
            self.let_go(from, to);
        }
    }

    /// `read` of the mapped bytes, told how to let go of the pages behind it as the two-half
    /// readers do: [`Mapped::release_before`] for the reading from the start,
    /// [`Mapped::release_range`] for the one from the middle.
    pub fn read_letting_go<T>(
        &self,
        read: impl FnOnce(&[u8], &(dyn Fn(usize) + Sync), &(dyn Fn(usize, usize) + Sync)) -> T,
    ) -> T {
        read(self.bytes(), &|at| self.release_before(at), &|from, to| {
            self.release_range(from, to)
        })
    }

    /// Whether the pages of `from..to` (whole pages) were let go.
    fn let_go(&self, from: usize, to: usize) -> bool {
        // SAFETY: MADV_DONTNEED on a private mapping that was never written drops pages that
        // the file gives back unchanged when they are read again: no byte a slice of the
        // mapping shows changes.
        unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
        }
        .is_ok()
    }
}

/// Pages, as `madvise` counts them.
const PAGE: usize = 4096;

/// A reading's way of telling a mapping's [`Mapped::release_before`] how far it has gone: now
/// and then, not at every step.
pub(crate) struct Progress<'r> {
    release: &'r dyn Fn(usize),
    /// What `release` was last told.
    told: usize,
}

/// Bytes read between two calls of `release` (a few in unit tests, to call it often).
#[cfg(not(test))]
const RELEASE_STEP: usize = 8 << 20;
#[cfg(test)]
const RELEASE_STEP: usize = 16;

impl<'r> Progress<'r> {
    pub fn new(release: &'r dyn Fn(usize)) -> Self {
        Progress { release, told: 0 }
    }

    /// The reading will not come back to the bytes before `at` (or only rarely: they are read
    /// again from the file then).
    #[inline]
    pub fn left_behind(&mut self, at: usize) {
        if at >= self.told + RELEASE_STEP {
            (self.release)(at);
            self.told = at;
        }
    }
}

/// Whether `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// Opens `path` (or standard input for `-`) and reads its head, decompressing gzip.
pub fn open(path: &Path) -> Result<Input, LoadError> {
    let io_err = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let (reader, size): (Box<dyn Read + Send>, Option<u64>) = if is_stdin(path) {
        // A terminal is not a profile; reading it would wait for keys the UI reads too.
        if io::stdin().is_terminal() {
            return Err(io_err(io::Error::other(
                "standard input is a terminal; pipe a profile in (`cat out.prof | obol -`)",
            )));
        }
        (Box::new(io::stdin()), None)
    } else {
        if path.is_dir() {
            return Err(LoadError::Directory {
                path: path.to_owned(),
            });
        }
        let file = File::open(path).map_err(io_err)?;
        // Only a regular file's length says how much there is to read; a FIFO or a device
        // reports 0.
        let size = file
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|m| m.len());
        (Box::new(file), size)
    };
    let (head, rest) = read_head(reader).map_err(io_err)?;
    if !head.starts_with(&GZIP_MAGIC) {
        return Ok(Input { head, rest, size });
    }
    // Decompressed as a stream: the file is never held compressed and whole. Several members
    // one after the other (`cat a.gz b.gz`) read as their contents one after the other, as
    // gunzip reads them.
    let decoder = GzipErrors(MultiGzDecoder::new(Cursor::new(head).chain(rest)));
    let (head, rest) = read_head(Box::new(decoder)).map_err(io_err)?;
    Ok(Input {
        head,
        rest,
        size: None,
    })
}

/// gzip's first two bytes (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads up to [`HEAD_LEN`] bytes: a pipe hands them over in pieces, so one `read` is not
/// enough.
fn read_head(mut reader: Box<dyn Read + Send>) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    (&mut reader).take(HEAD_LEN as u64).read_to_end(&mut head)?;
    Ok((head, reader))
}

/// Says in a read error that the gzip stream broke, not the file: flate2's own messages
/// ("corrupt deflate stream") do not name gzip.
struct GzipErrors<R>(R);

impl<R: Read> Read for GzipErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::new(e.kind(), format!("gzip stream: {e}"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_is_opened_by_its_magic_not_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"a;b 3\na;c 4\n".repeat(20_000);
        let path = dir.path().join("plain.txt");
        std::fs::write(&path, gzip(&text)).unwrap();
        let input = open(&path).unwrap();
        assert_eq!(input.head.len(), HEAD_LEN);
        assert!(input.size.is_none());
        assert_eq!(input.read_all(&path).unwrap(), text);
    }

    #[test]
    fn corrupt_and_truncated_gzip_are_errors_naming_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let mut packed = gzip(&b"a;b 3\n".repeat(50_000));
        let path = dir.path().join("x.gz");
        packed.truncate(packed.len() / 2);
        std::fs::write(&path, &packed).unwrap();
        let err = open(&path)
            .and_then(|input| input.read_all(&path))
            .unwrap_err();
        assert!(err.to_string().contains("gzip"), "{err}");
        packed[12] ^= 0xff;
        packed[20] ^= 0xff;
        std::fs::write(&path, &packed).unwrap();
        let err = open(&path)
            .and_then(|input| input.read_all(&path))
            .unwrap_err();
        assert!(err.to_string().contains("gzip"), "{err}");
    }
}
