//! The general reader: any marshal object into a [`Value`], with references, bounded depth,
//! and every length checked against the bytes left.

use super::*;

impl<'a> Reader<'a> {
    /// One object; `None` for the end-of-dict marker.
    pub(super) fn read_object(&mut self) -> Result<Option<Value>, ParseError> {
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

    pub(super) fn read_typed(
        &mut self,
        at: usize,
        ty: u8,
        flag: bool,
    ) -> Result<Option<Value>, ParseError> {
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

    pub(super) fn reference(&mut self, at: usize) -> Result<Value, ParseError> {
        let slot = self.slot(at)?;
        self.materialize(slot);
        match self.refs.get(slot) {
            Some(Slot::Done(value)) => Ok(value.clone()),
            _ => Err(self.error(at, "reference to a value that is not kept")),
        }
    }

    /// The slot number of a reference, which must name a value already read in full.
    pub(super) fn slot(&mut self, at: usize) -> Result<usize, ParseError> {
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

    pub(super) fn scalar(&mut self, at: usize, ty: u8) -> Result<Value, ParseError> {
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
                let n = self.length(at, "a bytes object", "bytes")?;
                Value::Bytes(Rc::from(self.take(n, "a bytes object")?))
            }
            b'u' | b't' => {
                let n = self.length(at, "a str", "bytes")?;
                let raw = self.take(n, "a str")?;
                Value::Str(self.utf8(raw))
            }
            b'a' | b'A' => {
                let n = self.length(at, "a str", "bytes")?;
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

    pub(super) fn utf8(&mut self, raw: &[u8]) -> Rc<str> {
        match std::str::from_utf8(raw) {
            Ok(text) => Rc::from(text),
            Err(_) => {
                self.lossy_strings += 1;
                Rc::from(String::from_utf8_lossy(raw).as_ref())
            }
        }
    }

    /// An arbitrary-precision int: a signed count of 15-bit digits, least significant first.
    pub(super) fn long(&mut self, at: usize) -> Result<Value, ParseError> {
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

    pub(super) fn sequence(&mut self, at: usize, ty: u8, flag: bool) -> Result<Value, ParseError> {
        let what = code_name(ty);
        let n = if ty == b')' {
            let n = usize::from(self.byte("a tuple")?);
            self.fits(at, what, n, "items")?
        } else {
            self.length(at, what, "items")?
        };
        self.charge(at, n)?;
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

    pub(super) fn dict(&mut self, flag: bool) -> Result<Value, ParseError> {
        let slot = self.reserve(flag);
        let mut items = Vec::new();
        while let Some(key) = self.read_object()? {
            self.charge(self.pos, 2)?;
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
    pub(super) fn code(&mut self, at: usize, flag: bool) -> Result<Value, ParseError> {
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
    pub(super) fn looks_like_code_after(&self, skip: usize) -> bool {
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

    pub(super) fn reserve(&mut self, flag: bool) -> Option<usize> {
        flag.then(|| {
            self.refs.push(Slot::Reading);
            self.refs.len() - 1
        })
    }

    pub(super) fn fill(&mut self, slot: Option<usize>, value: &Value) {
        if let Some(entry) = slot.and_then(|i| self.refs.get_mut(i)) {
            *entry = Slot::Done(value.clone());
        }
    }
}
