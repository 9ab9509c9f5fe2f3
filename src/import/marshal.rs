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
        }
    }

    /// Makes room for `slots` more reference slots at once, for a caller that expects many (a
    /// large file), instead of growing the table by doubling, copying it each time.
    pub fn reserve_refs(&mut self, slots: usize) {
        self.refs.reserve(slots);
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

    /// A 32-bit length that must fit in what is left of the file, `min_item` bytes per item.
    /// Errors name `at`, the start of the value the length belongs to.
    fn length(&mut self, at: usize, what: &str, min_item: usize) -> Result<usize, ParseError> {
        let n = self.i32(what)?;
        let n = usize::try_from(n)
            .map_err(|_| self.error(at, format!("negative length {n} for {what}")))?;
        if n.saturating_mul(min_item) > self.remaining() {
            return Err(self.error(
                at,
                format!(
                    "{what} claims {n} items but only {} bytes are left",
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

    fn i32_at(&self, at: usize) -> Option<i32> {
        let b = self.bytes.get(at..at + 4)?;
        Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64_at(&self, at: usize) -> Option<f64> {
        let b = self.bytes.get(at..at + 8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Some(f64::from_le_bytes(raw))
    }

    /// A number cut short by the end of the file: the general path says so, at the right byte.
    fn cut(&self, at: usize) -> ParseError {
        let mut probe = Reader::new(self.bytes);
        probe.pos = at;
        match probe.read_value() {
            Err(e) => e,
            Ok(_) => self.error(at, "file ends inside a number"),
        }
    }

    /// The next value if it is an int, a binary float or a reference to one of them, read as
    /// [`Reader::read_value`] would; anything else is left unread.
    #[inline(always)]
    pub fn try_number(&mut self) -> Option<Number> {
        let at = self.pos;
        let code = *self.bytes.get(at)?;
        let number = match code & !FLAG_REF {
            b'i' => {
                let n = self.i32_at(at + 1)?;
                self.pos = at + 5;
                Number::Int(i64::from(n))
            }
            b'g' => {
                let f = self.f64_at(at + 1)?;
                self.pos = at + 9;
                Number::Float(f)
            }
            b'r' => {
                let n = usize::try_from(self.i32_at(at + 1)?).ok()?;
                let number = match self.refs.get(n)? {
                    Slot::Done(Value::Int(n)) => Number::Int(*n),
                    Slot::Done(Value::Float(f)) => Number::Float(*f),
                    _ => return None,
                };
                self.pos = at + 5;
                return Some(number);
            }
            _ => return None,
        };
        if code & FLAG_REF != 0 {
            self.refs.push(Slot::Done(number.value()));
        }
        Some(number)
    }

    /// Starts a tuple of exactly `n` items as [`Reader::begin_tuple`] would, or reads nothing
    /// and says no.
    #[inline(always)]
    pub fn try_tuple(&mut self, n: usize) -> bool {
        let at = self.pos;
        let Some(&code) = self.bytes.get(at) else {
            return false;
        };
        let (len, header) = match code & !FLAG_REF {
            b')' => (self.bytes.get(at + 1).map(|&b| usize::from(b)), 2),
            b'(' => (self.i32_at(at + 1).and_then(|n| usize::try_from(n).ok()), 5),
            _ => return false,
        };
        if len != Some(n) || n > self.bytes.len().saturating_sub(at + header) {
            return false;
        }
        self.pos = at + header;
        if code & FLAG_REF != 0 {
            self.refs.push(Slot::Streamed);
        }
        true
    }

    /// A tuple of exactly `N` numbers, read as [`Reader::begin_tuple`] and
    /// [`Reader::try_number`] would read it; else nothing is read.
    #[inline]
    pub fn try_numbers<const N: usize>(&mut self) -> Option<[Number; N]> {
        let mark = self.mark();
        let numbers = self.numbers::<N>();
        if numbers.is_none() {
            self.rewind(mark);
        }
        numbers
    }

    #[inline(always)]
    fn numbers<const N: usize>(&mut self) -> Option<[Number; N]> {
        if !self.try_tuple(N) {
            return None;
        }
        let mut numbers = [Number::Int(0); N];
        for number in &mut numbers {
            *number = self.try_number()?;
        }
        Some(numbers)
    }

    /// Starts a dict as [`Reader::begin_dict`] would, or reads nothing and says no.
    #[inline]
    pub fn try_dict(&mut self) -> bool {
        match self.bytes.get(self.pos) {
            Some(&code) if code & !FLAG_REF == b'{' => {
                self.pos += 1;
                if code & FLAG_REF != 0 {
                    self.refs.push(Slot::Streamed);
                }
                true
            }
            _ => false,
        }
    }

    /// A `(str, int, str)` tuple (a stats key) read without building it, when its strings need
    /// no decoding (UTF-8, or ASCII in the one-byte types) and its items are plain ints, strs
    /// or references to them. Anything else is left unread, for [`Reader::read_item`].
    pub fn try_str_int_str(&mut self) -> Option<Triple<'a>> {
        // Most keys are references: those are told apart before anything else.
        if !matches!(self.bytes.get(self.pos), Some(&code) if matches!(code & !FLAG_REF, b'(' | b')'))
        {
            return None;
        }
        let mark = self.mark();
        let triple = self.str_int_str();
        if triple.is_none() {
            self.rewind(mark);
        }
        triple
    }

    /// The text of a [`Text`] this reader returned.
    pub fn text(&self, text: Text<'a>) -> &str {
        match text {
            Text::Input(text) => text,
            Text::Slot(slot) => match self.refs.get(slot) {
                Some(Slot::Done(Value::Str(text))) => text,
                // `try_text` hands out slots of strs only.
                _ => "",
            },
        }
    }

    /// Where the reader stands, to come back to with [`Reader::rewind`].
    pub fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            refs: self.refs.len(),
        }
    }

    /// Back to `mark`, undoing fast reads (`try_*`) that stopped halfway: they only move on
    /// and take reference slots, and neither intern a string nor count a lossy one. Only they
    /// may be undone.
    pub fn rewind(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.refs.truncate(mark.refs);
    }

    fn str_int_str(&mut self) -> Option<Triple<'a>> {
        let at = self.pos;
        let code = *self.bytes.get(at)?;
        let header = match code & !FLAG_REF {
            b')' if *self.bytes.get(at + 1)? == 3 => 2,
            b'(' if self.i32_at(at + 1)? == 3 => 5,
            _ => return None,
        };
        self.pos = at + header;
        let slot = self.reserve(code & FLAG_REF != 0);
        let items = self.pos;
        let mut flagged = false;
        let first = self.try_text(&mut flagged)?;
        let int = self.try_int(&mut flagged)?;
        let last = self.try_text(&mut flagged)?;
        if let Some(slot) = slot {
            self.refs[slot] = if flagged {
                let text = |t: Text<'a>| match t {
                    Text::Input(text) => Value::Str(Rc::from(text)),
                    Text::Slot(slot) => match &self.refs[slot] {
                        Slot::Done(value) => value.clone(),
                        _ => Value::None,
                    },
                };
                let items: Rc<[Value]> = Rc::new([text(first), Value::Int(int), text(last)]);
                Slot::Done(Value::Tuple(items))
            } else {
                Slot::Lazy(items)
            };
        }
        Some(Triple {
            first,
            int,
            last,
            slot,
        })
    }

    /// A str as `read_object` reads it, when that needs no decoding and interns nothing;
    /// `flagged` is set when it took a reference slot.
    fn try_text(&mut self, flagged: &mut bool) -> Option<Text<'a>> {
        let at = self.pos;
        let code = *self.bytes.get(at)?;
        let flag = code & FLAG_REF != 0;
        let ty = code & !FLAG_REF;
        let (start, len) = match ty {
            b'r' => {
                let n = usize::try_from(self.i32_at(at + 1)?).ok()?;
                return match self.refs.get(n)? {
                    Slot::Done(Value::Str(_)) => {
                        self.pos = at + 5;
                        Some(Text::Slot(n))
                    }
                    _ => None,
                };
            }
            // An unflagged `t` goes into Python 2's table of interned strings.
            b'u' | b'a' | b'A' => (at + 5, usize::try_from(self.i32_at(at + 1)?).ok()?),
            b't' if flag => (at + 5, usize::try_from(self.i32_at(at + 1)?).ok()?),
            b'z' | b'Z' => (at + 2, usize::from(*self.bytes.get(at + 1)?)),
            _ => return None,
        };
        let bytes: &'a [u8] = self.bytes;
        let raw = bytes.get(start..)?.get(..len)?;
        // The one-byte types are Latin-1, which reads as UTF-8 only where it is ASCII.
        if !matches!(ty, b'u' | b't') && !raw.is_ascii() {
            return None;
        }
        let text = std::str::from_utf8(raw).ok()?;
        self.pos = start + len;
        if flag {
            *flagged = true;
            self.refs.push(Slot::Done(Value::Str(Rc::from(text))));
            return Some(Text::Slot(self.refs.len() - 1));
        }
        Some(Text::Input(text))
    }

    /// A 4-byte int or a reference to an int; `flagged` as for [`Reader::try_text`].
    fn try_int(&mut self, flagged: &mut bool) -> Option<i64> {
        let before = self.refs.len();
        match self.try_number()? {
            Number::Int(n) => {
                *flagged |= self.refs.len() > before;
                Some(n)
            }
            Number::Float(_) => None,
        }
    }

    /// Builds the value of a [`Slot::Lazy`] by reading its items again.
    fn materialize(&mut self, slot: usize) {
        let Some(&Slot::Lazy(items)) = self.refs.get(slot) else {
            return;
        };
        let (pos, depth, refs) = (self.pos, self.depth, self.refs.len());
        self.pos = items;
        self.depth = 0;
        let values: Result<Vec<Value>, ParseError> = (0..3).map(|_| self.read_value()).collect();
        debug_assert_eq!(
            self.refs.len(),
            refs,
            "a lazy tuple took slots when read again"
        );
        self.pos = pos;
        self.depth = depth;
        if let Ok(values) = values {
            self.refs[slot] = Slot::Done(Value::Tuple(values.into()));
        }
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
        let n = if code == b')' {
            usize::from(self.byte("a tuple")?)
        } else {
            self.length(at, "tuple", 1)?
        };
        if n > self.remaining() {
            return Err(self.error(
                at,
                format!("tuple claims {n} items past the end of the file"),
            ));
        }
        Ok(n)
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

    /// One object; `None` for the end-of-dict marker.
    fn read_object(&mut self) -> Result<Option<Value>, ParseError> {
        let at = self.pos;
        let code = self.byte("a value")?;
        if self.depth >= MAX_DEPTH {
            return Err(self.error(at, format!("values nested more than {MAX_DEPTH} deep")));
        }
        self.depth += 1;
        let result = self.read_typed(at, code & !FLAG_REF, code & FLAG_REF != 0);
        self.depth -= 1;
        result
    }

    fn read_typed(&mut self, at: usize, ty: u8, flag: bool) -> Result<Option<Value>, ParseError> {
        let value = match ty {
            b'0' => return Ok(None),
            b'N' => Value::None,
            b'F' => Value::Bool(false),
            b'T' => Value::Bool(true),
            b'S' => Value::StopIteration,
            b'.' => Value::Ellipsis,
            b'r' => return self.reference(at).map(Some),
            b'R' => {
                let n = self.i32("a string reference")?;
                let found = usize::try_from(n).ok().and_then(|i| self.interned.get(i));
                match found {
                    Some(s) => Value::Str(Rc::clone(s)),
                    None => return Err(self.error(at, format!("string reference {n} is unknown"))),
                }
            }
            b'(' | b')' | b'[' | b'<' | b'>' => return self.sequence(at, ty, flag).map(Some),
            b'{' => return self.dict(flag).map(Some),
            b'c' => return self.code(at, flag).map(Some),
            _ => {
                let value = self.scalar(at, ty)?;
                if let Value::Str(s) = &value
                    && ty == b't'
                    && !flag
                {
                    self.interned.push(Rc::clone(s));
                }
                value
            }
        };
        if flag && !matches!(ty, b'N' | b'F' | b'T' | b'S' | b'.' | b'R') {
            self.refs.push(Slot::Done(value.clone()));
        }
        Ok(Some(value))
    }

    fn reference(&mut self, at: usize) -> Result<Value, ParseError> {
        let slot = self.slot(at)?;
        self.materialize(slot);
        match self.refs.get(slot) {
            Some(Slot::Done(value)) => Ok(value.clone()),
            _ => Err(self.error(at, "reference to a value that is not kept")),
        }
    }

    /// The slot number of a reference, which must name a value already read in full.
    fn slot(&mut self, at: usize) -> Result<usize, ParseError> {
        let n = self.i32("a reference")?;
        let found = usize::try_from(n)
            .ok()
            .and_then(|i| self.refs.get(i).map(|slot| (i, slot)));
        let problem = match found {
            Some((i, Slot::Done(_) | Slot::Lazy(_))) => return Ok(i),
            Some((_, Slot::Reading)) => "a value still being read",
            Some((_, Slot::Streamed)) => "a container read item by item, which is not kept",
            None => "a value never seen",
        };
        Err(self.error(at, format!("reference {n} is to {problem}")))
    }

    fn scalar(&mut self, at: usize, ty: u8) -> Result<Value, ParseError> {
        Ok(match ty {
            b'i' => Value::Int(i64::from(self.i32("an int")?)),
            b'I' => {
                let b = self.take(8, "an int")?;
                let mut raw = [0u8; 8];
                raw.copy_from_slice(b);
                Value::Int(i64::from_le_bytes(raw))
            }
            b'l' => self.long(at)?,
            b'g' => Value::Float(self.f64_bin("a float")?),
            b'f' => Value::Float(self.f64_text()?),
            b'y' => Value::Complex(self.f64_bin("a complex")?, self.f64_bin("a complex")?),
            b'x' => Value::Complex(self.f64_text()?, self.f64_text()?),
            b's' => {
                let n = self.length(at, "a bytes", 1)?;
                Value::Bytes(Rc::from(self.take(n, "a bytes")?))
            }
            b'u' | b't' => {
                let n = self.length(at, "a str", 1)?;
                let raw = self.take(n, "a str")?;
                Value::Str(self.utf8(raw))
            }
            b'a' | b'A' => {
                let n = self.length(at, "a str", 1)?;
                Value::Str(latin1(self.take(n, "a str")?))
            }
            b'z' | b'Z' => {
                let n = usize::from(self.byte("a str")?);
                Value::Str(latin1(self.take(n, "a str")?))
            }
            _ => {
                return Err(self.error(at, format!("unknown marshal type byte 0x{ty:02x}")));
            }
        })
    }

    fn utf8(&mut self, raw: &[u8]) -> Rc<str> {
        match std::str::from_utf8(raw) {
            Ok(text) => Rc::from(text),
            Err(_) => {
                self.lossy_strings += 1;
                Rc::from(String::from_utf8_lossy(raw).as_ref())
            }
        }
    }

    /// An arbitrary-precision int: a signed count of 15-bit digits, least significant first.
    fn long(&mut self, at: usize) -> Result<Value, ParseError> {
        let n = self.i32("an int")?;
        let count = n.unsigned_abs() as usize;
        if count.saturating_mul(2) > self.remaining() {
            return Err(self.error(
                at,
                format!("int claims {count} digits past the end of the file"),
            ));
        }
        let mut exact: Option<i128> = Some(0);
        let mut approx = 0.0f64;
        for i in 0..count {
            let b = self.take(2, "an int")?;
            let digit = u16::from_le_bytes([b[0], b[1]]);
            // CPython accepts a digit equal to the base, one more than it ever writes.
            if digit > 1 << 15 {
                return Err(self.error(self.pos - 2, "int digit out of range"));
            }
            if digit == 0 && i + 1 == count {
                return Err(self.error(self.pos - 2, "int has a zero top digit"));
            }
            // Past 8 digits the value leaves i128 behind, and past 70 the f64 range; the
            // digits are still read to check them.
            exact = exact.filter(|_| i < 8).and_then(|e| {
                let d = i128::from(digit) << (15 * i);
                e.checked_add(d)
            });
            approx += f64::from(digit) * 2f64.powi(15 * i.min(100) as i32);
        }
        let negative = n < 0;
        let exact = exact.map(|e| if negative { -e } else { e });
        Ok(match exact.and_then(|e| i64::try_from(e).ok()) {
            Some(v) => Value::Int(v),
            None => Value::BigInt(if negative { -approx } else { approx }),
        })
    }

    fn sequence(&mut self, at: usize, ty: u8, flag: bool) -> Result<Value, ParseError> {
        let what = code_name(ty);
        let n = if ty == b')' {
            usize::from(self.byte("a tuple")?)
        } else {
            self.length(at, what, 1)?
        };
        if n > self.remaining() {
            return Err(self.error(
                at,
                format!(
                    "{what} claims {n} items but only {} bytes are left",
                    self.remaining()
                ),
            ));
        }
        let slot = self.reserve(flag);
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.read_value()?);
        }
        let items: Rc<[Value]> = items.into();
        let value = match ty {
            b'[' => Value::List(items),
            b'<' => Value::Set(items),
            b'>' => Value::FrozenSet(items),
            _ => Value::Tuple(items),
        };
        self.fill(slot, &value);
        Ok(value)
    }

    fn dict(&mut self, flag: bool) -> Result<Value, ParseError> {
        let slot = self.reserve(flag);
        let mut items = Vec::new();
        while let Some(key) = self.read_object()? {
            items.push((key, self.read_value()?));
        }
        let value = Value::Dict(items.into());
        self.fill(slot, &value);
        Ok(value)
    }

    /// A code object. Its layout changed with Python versions, and the file does not say which
    /// wrote it: 4 (Python 2), 5 (3.0 to 3.7, and 3.11 on) or 6 (3.8 to 3.10) ints come first,
    /// then the bytecode as bytes and the constants as a tuple, which tells the count apart.
    /// Since 3.11 the fifth object is bytes (the locals' kinds) and two objects end it.
    fn code(&mut self, at: usize, flag: bool) -> Result<Value, ParseError> {
        let slot = self.reserve(flag);
        let ints = [6, 5, 4]
            .into_iter()
            .find(|&n| self.looks_like_code_after(4 * n))
            .ok_or_else(|| self.error(at, "code object of a layout no Python version wrote"))?;
        self.take(4 * ints, "a code object")?;
        let mut fields = Vec::with_capacity(8);
        for _ in 0..8 {
            fields.push(self.read_value()?);
        }
        let first_line = self.i32("a code object")?;
        let since_311 = ints == 5 && matches!(fields[4], Value::Bytes(_));
        for _ in 0..if since_311 { 2 } else { 1 } {
            self.read_value()?;
        }
        let (filename, name) = if since_311 {
            (&fields[5], &fields[6])
        } else {
            (&fields[6], &fields[7])
        };
        let text = |v: &Value| v.as_text().unwrap_or_else(|| Rc::from("?"));
        let value = Value::Code(Rc::new(Code {
            name: text(name),
            filename: text(filename),
            first_line,
        }));
        self.fill(slot, &value);
        Ok(value)
    }

    /// Whether the bytecode (bytes) and then the constants (a tuple, or a reference to one)
    /// start `skip` bytes on.
    fn looks_like_code_after(&self, skip: usize) -> bool {
        let tag = |at: usize| self.bytes.get(self.pos + at).map(|&b| b & !FLAG_REF);
        if tag(skip) != Some(b's') {
            return false;
        }
        let len = self
            .bytes
            .get(self.pos + skip + 1..self.pos + skip + 5)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        match len.and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= self.remaining() => {
                // Shared constants come as a reference to an earlier tuple.
                matches!(tag(skip + 5 + n), Some(b'(' | b')' | b'r'))
            }
            _ => false,
        }
    }

    fn reserve(&mut self, flag: bool) -> Option<usize> {
        flag.then(|| {
            self.refs.push(Slot::Reading);
            self.refs.len() - 1
        })
    }

    fn fill(&mut self, slot: Option<usize>, value: &Value) {
        if let Some(entry) = slot.and_then(|i| self.refs.get_mut(i)) {
            *entry = Slot::Done(value.clone());
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

#[cfg(test)]
mod tests;
