//! A reader for Python's `marshal` format, the serialization `pstats` and `cProfile` write.
//!
//! It reads the data types marshal writes (versions 0 to 5, and Python 2's) into [`Value`]s.
//! Of a code object it keeps the name, file and first line, which is all a stats file needs
//! (the pure-Python `profile` module keys one entry by a code object). Every length field is
//! checked against the bytes left before anything is allocated for it, and nesting is bounded,
//! so a hostile file costs at most its own size and ends in a [`ParseError`] naming the byte.

use std::rc::Rc;

use super::ParseError;

/// Deeper than any stats file needs (it nests five levels) yet shallow enough that the
/// recursive reader stays far from the end of a thread's stack.
pub const MAX_DEPTH: usize = 256;

/// Set on a type byte when the object goes into the reference table (marshal version 3+).
const FLAG_REF: u8 = 0x80;

/// A value read from a marshal stream. Containers are shared because marshal references
/// (`r`) may repeat any earlier object, which cProfile does for every caller key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    StopIteration,
    Ellipsis,
    Int(i64),
    /// An integer outside `i64`, approximated.
    BigInt(f64),
    Float(f64),
    Complex(f64, f64),
    Bytes(Rc<[u8]>),
    Str(Rc<str>),
    Tuple(Rc<[Value]>),
    List(Rc<[Value]>),
    Dict(Rc<[(Value, Value)]>),
    Set(Rc<[Value]>),
    FrozenSet(Rc<[Value]>),
    Code(Rc<Code>),
}

/// What is kept of a code object.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub name: Rc<str>,
    pub filename: Rc<str>,
    pub first_line: i32,
}

impl Value {
    /// The Python type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::StopIteration => "StopIteration",
            Value::Ellipsis => "Ellipsis",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Complex(..) => "complex",
            Value::Bytes(_) => "bytes",
            Value::Str(_) => "str",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Code(_) => "code",
        }
    }

    /// Text of a `str`, or of a `bytes` (Python 2 wrote names as bytes), decoded lossily.
    pub fn as_text(&self) -> Option<Rc<str>> {
        match self {
            Value::Str(s) => Some(Rc::clone(s)),
            Value::Bytes(b) => Some(Rc::from(String::from_utf8_lossy(b).as_ref())),
            _ => None,
        }
    }
}

/// The name of a marshal type byte (without its ref flag), for error messages.
fn code_name(code: u8) -> &'static str {
    match code {
        b'0' => "end-of-dict marker",
        b'N' => "None",
        b'F' | b'T' => "bool",
        b'S' => "StopIteration",
        b'.' => "Ellipsis",
        b'i' | b'I' | b'l' => "int",
        b'f' | b'g' => "float",
        b'x' | b'y' => "complex",
        b's' => "bytes",
        b'u' | b't' | b'a' | b'A' | b'z' | b'Z' | b'R' => "str",
        b'(' | b')' => "tuple",
        b'[' => "list",
        b'{' => "dict",
        b'<' => "set",
        b'>' => "frozenset",
        b'r' => "reference",
        b'c' => "code object",
        _ => "unknown type",
    }
}

/// A value as met in the stream: read in full, or a reference back to one read before.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The value and, if it was written with a reference slot, the slot's index.
    New(Value, Option<usize>),
    /// A reference to the value in this slot, which [`Reader::referenced`] returns.
    Ref(usize),
}

/// A number read by [`Reader::try_number`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn value(self) -> Value {
        match self {
            Number::Int(n) => Value::Int(n),
            Number::Float(f) => Value::Float(f),
        }
    }
}

/// A `str` read without building a [`Value`]: text in the input, or in a reference slot that
/// [`Reader::text`] looks up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Text<'a> {
    Input(&'a str),
    Slot(usize),
}

/// A `(str, int, str)` tuple read by [`Reader::try_str_int_str`], and its reference slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triple<'a> {
    pub first: Text<'a>,
    pub int: i64,
    pub last: Text<'a>,
    pub slot: Option<usize>,
}

/// Where a reader stood, for [`Reader::rewind`].
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pos: usize,
    refs: usize,
}

/// A slot of the reference table.
#[derive(Debug, Clone)]
enum Slot {
    /// Taken by a container whose items are still being read, as CPython takes it.
    Reading,
    /// Taken by a container the caller reads item by item ([`Reader::begin_tuple`],
    /// [`Reader::begin_dict`]), which is never built.
    Streamed,
    Done(Value),
    /// A `(str, int, str)` tuple read by [`Reader::try_str_int_str`] and not built: its three
    /// items start at this offset and hold no reference slot of their own, so reading them
    /// again gives the same values. A reference to it builds it then.
    Lazy(usize),
}

/// Reads values one after another from a byte slice: whole, with [`Reader::read_value`], or
/// one container item at a time, which lets a caller skip building what it does not keep and
/// recognize repeated values by their reference slot without touching them.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Objects written with [`FLAG_REF`], in order.
    refs: Vec<Slot>,
    /// Python 2's interned strings, which its `R` code refers back to.
    interned: Vec<Rc<str>>,
    depth: usize,
    lossy_strings: usize,
    /// How many more container items the general reader may build before it refuses: a caller
    /// that expects a small value bounds what a malformed one can cost.
    item_budget: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            refs: Vec::new(),
            interned: Vec::new(),
            depth: 0,
            lossy_strings: 0,
            item_budget: usize::MAX,
        }
    }

    /// Makes room for `slots` more reference slots at once, for a caller that expects many (a
    /// large file), instead of growing the table by doubling, copying it each time.
    pub fn reserve_refs(&mut self, slots: usize) {
        self.refs.reserve(slots);
    }

    /// Bounds the container items the general reader builds from here on (`usize::MAX`: no
    /// bound); returns the bound it replaces.
    pub fn set_item_budget(&mut self, items: usize) -> usize {
        std::mem::replace(&mut self.item_budget, items)
    }

    /// Counts `n` items against the budget before they are built.
    fn charge(&mut self, at: usize, n: usize) -> Result<(), ParseError> {
        match self.item_budget.checked_sub(n) {
            Some(left) => {
                self.item_budget = left;
                Ok(())
            }
            None => Err(self.error(
                at,
                "a value of more items than the small one expected here (refused unbuilt)",
            )),
        }
    }

    /// The type and item count of the next value when it is a tuple, list, set or frozenset
    /// (a dict's count is not written: `None`), read from its header alone.
    pub fn peek_container(&self) -> Option<(&'static str, Option<usize>)> {
        let at = self.pos;
        let code = *self.bytes.get(at)? & !FLAG_REF;
        let n = match code {
            b')' => Some(usize::from(*self.bytes.get(at + 1)?)),
            b'(' | b'[' | b'<' | b'>' => {
                let raw = self.bytes.get(at + 1..at + 5)?;
                usize::try_from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])).ok()
            }
            b'{' => None,
            _ => return None,
        };
        Some((code_name(code), n))
    }

    /// Byte offset of the next value.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// How many `str` values were not valid UTF-8 (lone surrogates, which Python writes for
    /// undecodable file names) and were decoded with replacement characters.
    pub fn lossy_strings(&self) -> usize {
        self.lossy_strings
    }

    fn error(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError::at_byte(at as u64, message)
    }

    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], ParseError> {
        let bytes: &'a [u8] = self.bytes;
        match bytes.get(self.pos..).and_then(|rest| rest.get(..len)) {
            Some(slice) => {
                self.pos += len;
                Ok(slice)
            }
            None => Err(self.error(
                self.pos,
                format!(
                    "file ends inside {what} ({len} bytes needed, {} left)",
                    self.remaining()
                ),
            )),
        }
    }

    fn byte(&mut self, what: &str) -> Result<u8, ParseError> {
        Ok(self.take(1, what)?[0])
    }

    fn i32(&mut self, what: &str) -> Result<i32, ParseError> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64_bin(&mut self, what: &str) -> Result<f64, ParseError> {
        let b = self.take(8, what)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Ok(f64::from_le_bytes(raw))
    }

    /// Marshal version 0/1 floats: a length byte, then the number as text.
    fn f64_text(&mut self) -> Result<f64, ParseError> {
        let at = self.pos;
        let len = usize::from(self.byte("a float")?);
        let text = self.take(len, "a float")?;
        // Rust parses Python's spellings of the specials too (`inf`, `-inf`, `nan`).
        let parsed = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok());
        parsed.ok_or_else(|| self.error(at, "float written as text is not a number"))
    }

    /// A 32-bit length that must fit in what is left of the file: `counted` (bytes of a string,
    /// or items of a container, each at least one byte) are checked against the bytes left
    /// before anything is allocated. Errors name `at`, the start of the value.
    fn length(&mut self, at: usize, what: &str, counted: &str) -> Result<usize, ParseError> {
        let n = self.i32(what)?;
        let n = usize::try_from(n)
            .map_err(|_| self.error(at, format!("negative length {n} for {what}")))?;
        self.fits(at, what, n, counted)
    }

    /// `n` bytes or items (each at least a byte), from either size of length field, checked
    /// against the bytes left.
    fn fits(&self, at: usize, what: &str, n: usize, counted: &str) -> Result<usize, ParseError> {
        if n > self.remaining() {
            return Err(self.error(
                at,
                format!(
                    "{what} of {n} {counted} runs past the end of the file ({} bytes left)",
                    self.remaining()
                ),
            ));
        }
        Ok(n)
    }

    /// Reads the next value.
    pub fn read_value(&mut self) -> Result<Value, ParseError> {
        let at = self.pos;
        match self.read_object()? {
            Some(value) => Ok(value),
            None => Err(self.error(at, "unexpected end-of-dict marker")),
        }
    }

    /// The next value when it is a number, the bulk of a stats file, read without the general
    /// path's dispatch; anything else is read by [`Reader::read_value`].
    pub fn read_number(&mut self) -> Result<Value, ParseError> {
        let at = self.pos;
        let Some(&code) = self.bytes.get(at) else {
            return self.read_value();
        };
        let value = match code & !FLAG_REF {
            b'i' => Value::Int(i64::from(self.i32_at(at + 1).ok_or_else(|| self.cut(at))?)),
            b'g' => Value::Float(self.f64_at(at + 1).ok_or_else(|| self.cut(at))?),
            b'r' => {
                let n = self.i32_at(at + 1).ok_or_else(|| self.cut(at))?;
                match usize::try_from(n).ok().and_then(|i| self.refs.get(i)) {
                    Some(Slot::Done(value @ (Value::Int(_) | Value::Float(_)))) => {
                        let value = value.clone();
                        self.pos = at + 5;
                        return Ok(value);
                    }
                    _ => return self.read_value(),
                }
            }
            _ => return self.read_value(),
        };
        self.pos = at + if matches!(value, Value::Int(_)) { 5 } else { 9 };
        if code & FLAG_REF != 0 {
            self.refs.push(Slot::Done(value.clone()));
        }
        Ok(value)
    }

    /// The Python type of the next value, from its type byte (`"reference"` for a reference).
    pub fn peek_type(&self) -> &'static str {
        match self.bytes.get(self.pos) {
            Some(&code) => code_name(code & !FLAG_REF),
            None => "end of file",
        }
    }

    /// Starts a dict whose keys and values the caller reads in turn ([`Reader::read_item`]
    /// returns `None` at its end). A later reference to the dict itself is refused.
    pub fn begin_dict(&mut self) -> Result<(), ParseError> {
        self.begin(b"{", "dict").map(|_| ())
    }

    /// Starts a tuple whose items the caller reads in turn; returns how many it has. A later
    /// reference to the tuple itself is refused.
    pub fn begin_tuple(&mut self) -> Result<usize, ParseError> {
        let at = self.pos;
        let code = self.begin(b"()", "tuple")?;
        if code == b')' {
            let n = usize::from(self.byte("a tuple")?);
            self.fits(at, "a tuple", n, "items")
        } else {
            self.length(at, "a tuple", "items")
        }
    }

    fn begin(&mut self, types: &[u8], what: &str) -> Result<u8, ParseError> {
        let at = self.pos;
        let code = self.byte(what)?;
        let ty = code & !FLAG_REF;
        if !types.contains(&ty) {
            return Err(self.error(at, format!("expected a {what}, found {}", code_name(ty))));
        }
        if code & FLAG_REF != 0 {
            self.refs.push(Slot::Streamed);
        }
        Ok(ty)
    }

    /// The next value, or `None` at the end of a dict. A reference comes back as its slot
    /// number without the slot being looked at, so repeated keys cost a lookup by number in
    /// the caller's own table; [`Reader::referenced`] checks the slot when it is needed.
    pub fn read_item(&mut self) -> Result<Option<Item>, ParseError> {
        let at = self.pos;
        let Some(&code) = self.bytes.get(at) else {
            return Err(self.error(at, "file ends where a value should start"));
        };
        if code & !FLAG_REF == b'r' {
            self.pos += 1;
            let n = self.i32("a reference")?;
            return match usize::try_from(n).ok().filter(|&i| i < self.refs.len()) {
                Some(slot) => Ok(Some(Item::Ref(slot))),
                None => Err(self.error(at, format!("reference {n} is to a value never seen"))),
            };
        }
        let slot = self.refs.len();
        let value = self.read_object()?;
        // Only a value written with the flag has a slot; an unflagged tuple's items may.
        let slot = (code & FLAG_REF != 0 && self.refs.len() > slot).then_some(slot);
        Ok(value.map(|value| Item::New(value, slot)))
    }

    /// The value in a reference slot that [`Reader::read_item`] returned, or what is wrong.
    pub fn referenced(&mut self, slot: usize) -> Result<&Value, &'static str> {
        self.materialize(slot);
        match self.refs.get(slot) {
            Some(Slot::Done(value)) => Ok(value),
            Some(Slot::Lazy(_)) => Err("a reference to a value that is not kept"),
            Some(Slot::Reading) => Err("a reference to a value still being read"),
            Some(Slot::Streamed) => Err("a reference to a container read item by item"),
            None => Err("a reference to a value never seen"),
        }
    }
}

/// marshal's ASCII string types hold one byte per character; CPython decodes them as Latin-1.
fn latin1(raw: &[u8]) -> Rc<str> {
    if raw.is_ascii() {
        // ASCII bytes are valid UTF-8 as they are.
        Rc::from(std::str::from_utf8(raw).unwrap_or_default())
    } else {
        Rc::from(
            raw.iter()
                .map(|&b| char::from(b))
                .collect::<String>()
                .as_str(),
        )
    }
}

mod fast;
mod value;

#[cfg(test)]
mod tests;
