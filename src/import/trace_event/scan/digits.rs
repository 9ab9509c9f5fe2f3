//! The digits of a plain number read eight at a time (SWAR): a trace's times and ids are
//! most of its numbers, and a digit at a time with overflow checks was a tenth of the reading.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const ZEROS: u64 = ONES * b'0' as u64;

/// How many of `word`'s bytes, lowest first, are ASCII digits before one that is not (0..=8).
#[inline(always)]
fn digit_run(word: u64) -> usize {
    let x = word ^ ZEROS;
    // A byte that is not a digit is 10 or more after the xor: adding 0x76 sets its high bit,
    // as does a high bit of its own. Only bytes above the lowest such one can take a carry.
    let not_digit = (x.wrapping_add(ONES * 0x76) | x) & HIGHS;
    (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` bytes of `word` (lowest first, all digits, `n` at most 8).
#[inline(always)]
fn value(word: u64, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut v = word ^ ZEROS;
    if n < 8 {
        // The digits to the top, zeros below them.
        v <<= 64 - 8 * n;
    }
    v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF
}

/// The run of at most 16 digits at the start of `text` as (value, count), or None if it is
/// longer or `text` is too short to read it by words.
#[inline]
fn run16(text: &[u8]) -> Option<(u64, usize)> {
    let first = u64::from_le_bytes(text.get(..8)?.try_into().ok()?);
    let n = digit_run(first);
    if n < 8 {
        return Some((value(first, n), n));
    }
    let second = u64::from_le_bytes(text.get(8..16)?.try_into().ok()?);
    let m = digit_run(second);
    if m == 8 {
        return None;
    }
    Some((value(first, 8) * POW10_U64[m] + value(second, m), 8 + m))
}

const POW10_U64: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// A plain number at the start of `text`, `-?(0|[1-9][0-9]*)(\.[0-9]+)?` not followed by an
/// exponent, of at most 19 digits in all (so that they fit a u64 whatever they are): (minus,
/// the digits as one integer, how many follow the point, its length). None for anything else,
/// which the digit-by-digit reading then reads (or refuses) as before; where this reads a
/// number, that reading gives the same integer, as no sum of 19 digits overflows.
#[inline(always)]
pub(super) fn plain(text: &[u8]) -> Option<(bool, u64, usize, usize)> {
    if let Some(short) = short_plain(text) {
        return short;
    }
    let negative = *text.first()? == b'-';
    let mut at = usize::from(negative);
    let (int, int_digits) = run16(text.get(at..)?)?;
    if int_digits == 0 || (int_digits > 1 && text[at] == b'0') {
        return None;
    }
    at += int_digits;
    let (mut significand, mut fraction_digits) = (int, 0);
    if text.get(at) == Some(&b'.') {
        let (fraction, n) = run16(text.get(at + 1..)?)?;
        if n == 0 || int_digits + n > 19 {
            return None;
        }
        significand = int * POW10_U64[n] + fraction;
        fraction_digits = n;
        at += 1 + n;
    }
    if matches!(text.get(at), Some(b'e' | b'E') | None) {
        return None;
    }
    Some((negative, significand, fraction_digits, at))
}

/// [`plain`] for the common number of a trace, a time or an id: not negative, fewer than
/// sixteen digits before the point and eight after it, with room to read it by words. Some of
/// what [`plain`] gives where it is such a number (or is sure to give None), else None: the
/// general case's branches and bounds were most of the reading of a number.
#[inline(always)]
fn short_plain(text: &[u8]) -> Option<Option<(bool, u64, usize, usize)>> {
    let head = text.get(..24)?;
    let word = |at: usize| <[u8; 8]>::try_from(&head[at..at + 8]).map_or(0, u64::from_le_bytes);
    let first = word(0);
    let mut n = digit_run(first);
    if n == 0 || (n > 1 && head[0] == b'0') {
        return None;
    }
    // An id is most often one digit.
    let mut int = if n == 1 {
        u64::from(head[0] - b'0')
    } else {
        value(first, n)
    };
    if n == 8 {
        // A time past ten million.
        let second = word(8);
        let more = digit_run(second);
        if more == 8 {
            return None;
        }
        int = int * POW10_U64[more] + value(second, more);
        n += more;
    }
    match head[n] {
        b'.' => {
            let fraction = word(n + 1);
            let m = digit_run(fraction);
            if m == 0 || m == 8 || n + m > 19 {
                return None;
            }
            let end = n + 1 + m;
            Some(
                (!matches!(head[end], b'e' | b'E'))
                    .then(|| (false, int * POW10_U64[m] + value(fraction, m), m, end)),
            )
        }
        b'e' | b'E' => Some(None),
        _ => Some(Some((false, int, 0, n))),
    }
}

/// The number whose digits, read as one integer, are `significand`, `fraction_digits` of them
/// after the point: as serde_json computes it (its default parsing: the integer divided by a
/// power of ten).
#[inline]
pub(super) fn finish_number(
    negative: bool,
    significand: u64,
    fraction_digits: usize,
) -> Option<Number> {
    if fraction_digits > 0 {
        let f = significand as f64 / *POW10.get(fraction_digits)?;
        return Some(Number::Float(if negative { -f } else { f }));
    }
    if !negative {
        return Some(Number::Unsigned(significand));
    }
    let neg = (significand as i64).wrapping_neg();
    // serde_json: a float on underflow, or on `-0`.
    Some(if neg >= 0 {
        Number::Float(-(significand as f64))
    } else {
        Number::Signed(neg)
    })
}

pub(super) enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// serde_json's powers of ten as far as they are exact.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::test_rng::xorshift;

    /// The digit-by-digit reading this stands for (the scanner's, which stays the fallback).
    fn by_digit(text: &[u8]) -> Option<(bool, u64, usize, usize)> {
        let negative = *text.first()? == b'-';
        let mut at = usize::from(negative);
        let mut significand: u64 = 0;
        let int_start = at;
        while let Some(c @ b'0'..=b'9') = text.get(at) {
            significand = significand
                .checked_mul(10)?
                .checked_add(u64::from(c - b'0'))?;
            at += 1;
        }
        let int_digits = at - int_start;
        if int_digits == 0 || (int_digits > 1 && text[int_start] == b'0') {
            return None;
        }
        let mut fraction_digits = 0;
        if text.get(at) == Some(&b'.') {
            at += 1;
            while let Some(c @ b'0'..=b'9') = text.get(at) {
                significand = significand
                    .checked_mul(10)?
                    .checked_add(u64::from(c - b'0'))?;
                at += 1;
                fraction_digits += 1;
            }
            if fraction_digits == 0 {
                return None;
            }
        }
        if matches!(text.get(at), Some(b'e' | b'E')) {
            return None;
        }
        Some((negative, significand, fraction_digits, at))
    }

    fn agrees(text: &[u8]) {
        if let Some(quick) = plain(text) {
            assert_eq!(
                Some(quick),
                by_digit(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn runs_and_values_of_every_length_and_stop_byte() {
        for n in 0..=8 {
            for stop in 0..=255u8 {
                let mut bytes = *b"98765432";
                if n < 8 {
                    bytes[n] = stop;
                }
                let word = u64::from_le_bytes(bytes);
                let expect = if n < 8 && stop.is_ascii_digit() {
                    continue;
                } else {
                    n
                };
                assert_eq!(digit_run(word), expect, "{n} {stop}");
                let text = std::str::from_utf8(&bytes[..n]).unwrap();
                assert_eq!(value(word, n), text.parse::<u64>().unwrap_or(0));
            }
        }
    }

    #[test]
    fn reads_what_the_digit_by_digit_reading_reads() {
        // Every number of up to 20 digits in all shapes around a point, then random bytes.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || xorshift(&mut state);
        let mut taken = 0;
        for int_digits in 0..=20 {
            for frac_digits in [None, Some(0), Some(1), Some(3), Some(8), Some(9), Some(16)] {
                for _ in 0..200 {
                    let mut s = Vec::new();
                    if next() % 3 == 0 {
                        s.push(b'-');
                    }
                    for i in 0..int_digits {
                        let d = (next() % 10) as u8;
                        s.push(
                            b'0' + if i == 0 && next() % 4 != 0 {
                                d.max(1)
                            } else {
                                d
                            },
                        );
                    }
                    if let Some(f) = frac_digits {
                        s.push(b'.');
                        for _ in 0..f {
                            s.push(b'0' + (next() % 10) as u8);
                        }
                    }
                    let tail: &[u8] = match next() % 6 {
                        0 => b"",
                        1 => b"e5",
                        2 => b", \"dur\": 1}",
                        3 => b"}",
                        4 => b".5",
                        _ => b" ",
                    };
                    s.extend_from_slice(tail);
                    for pad in [0, 3, 16, 24] {
                        let mut t = s.clone();
                        t.extend(std::iter::repeat_n(b' ', pad));
                        agrees(&t);
                        taken += usize::from(plain(&t).is_some());
                    }
                }
            }
        }
        let alphabet = b"0123456789.-eE, }\"x";
        for _ in 0..300_000 {
            let len = (next() % 28) as usize;
            let t: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            agrees(&t);
        }
        assert!(taken > 10_000, "{taken}");
    }
}
