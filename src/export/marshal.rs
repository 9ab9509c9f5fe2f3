//! The few marshal values a pstats file is made of, written as `marshal.dump` writes them
//! (version 4, without references), so that any Python's `marshal.load` reads them back.

pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer { bytes: Vec::new() }
    }

    pub fn dict_start(&mut self) {
        self.bytes.push(b'{');
    }

    /// A dict ends with a null in the key's place.
    pub fn dict_end(&mut self) {
        self.bytes.push(b'0');
    }

    pub fn tuple(&mut self, len: usize) {
        if len < 256 {
            self.bytes.push(b')');
            self.bytes.push(len as u8);
        } else {
            self.bytes.push(b'(');
            self.length(len);
        }
    }

    pub fn str(&mut self, text: &str) {
        self.bytes.push(b'u');
        self.length(text.len());
        self.bytes.extend_from_slice(text.as_bytes());
    }

    /// A float as its eight bytes, so the number read back is the one written, to the last bit.
    pub fn float(&mut self, value: f64) {
        self.bytes.push(b'g');
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    pub fn int(&mut self, value: u64) {
        if let Ok(small) = i32::try_from(value) {
            self.bytes.push(b'i');
            self.bytes.extend_from_slice(&small.to_le_bytes());
            return;
        }
        // A long: its magnitude in 15-bit digits, least significant first.
        let mut digits = Vec::new();
        let mut rest = value;
        while rest > 0 {
            digits.push((rest & 0x7fff) as u16);
            rest >>= 15;
        }
        self.bytes.push(b'l');
        self.bytes
            .extend_from_slice(&(digits.len() as i32).to_le_bytes());
        for digit in digits {
            self.bytes.extend_from_slice(&digit.to_le_bytes());
        }
    }

    fn length(&mut self, len: usize) {
        // Lengths past i32 cannot be marshalled; no pstats name comes near.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_le_bytes());
    }
}
