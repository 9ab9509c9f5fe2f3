//! The fast path for pstats: keys and figures read in place, as borrowed text and numbers,
//! without building [`Value`]s; anything unusual falls back to the general reader.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn i32_at(&self, at: usize) -> Option<i32> {
        let b = self.bytes.get(at..at + 4)?;
        Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn f64_at(&self, at: usize) -> Option<f64> {
        let b = self.bytes.get(at..at + 8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Some(f64::from_le_bytes(raw))
    }

    /// A number cut short by the end of the file: the general path says so, at the right byte.
    pub(super) fn cut(&self, at: usize) -> ParseError {
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

    /// Whether the next value was written with a reference slot (a later reference may name it).
    #[inline(always)]
    pub fn peek_has_slot(&self) -> bool {
        self.bytes
            .get(self.pos)
            .is_some_and(|&code| code & FLAG_REF != 0)
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
        // A tuple written with a reference slot is left to the general reader, which keeps it
        // for the references to it.
        if self.peek_has_slot() {
            return None;
        }
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

    pub(super) fn str_int_str(&mut self) -> Option<Triple<'a>> {
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
    pub(super) fn try_text(&mut self, flagged: &mut bool) -> Option<Text<'a>> {
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
    pub(super) fn try_int(&mut self, flagged: &mut bool) -> Option<i64> {
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
    pub(super) fn materialize(&mut self, slot: usize) {
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
}
