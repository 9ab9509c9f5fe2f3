//! A frame's title, `name (1,234 samples, 5.67%)`, and the numbers of a drawing's attributes,
//! as flame graph writers print them.

use memchr::memrchr;

/// A title `name (1,234 samples, 5.67%)` split into the name and what is in the last
/// parentheses. A title without them is all name.
pub(super) fn split_title(title: &[u8]) -> (&[u8], &[u8]) {
    let Some(body) = title.trim_ascii_end().strip_suffix(b")") else {
        return (title, &[]);
    };
    let mut end = body.len();
    while let Some(open) = memrchr(b'(', &body[..end]) {
        if open > 0 && body[open - 1] == b' ' {
            return (&title[..open - 1], &body[open + 1..]);
        }
        end = open;
    }
    (title, &[])
}

/// The count in what a title has in parentheses: the first word, with thousands separators.
/// The unit after it (`samples` unless `--countname` changed it) is not checked.
pub(super) fn title_count(inner: &[u8]) -> Option<f64> {
    // flamegraph.pl's differential drawings of 2013: `(-2 sample weight, 2 samples, 0.65%)`.
    const DELTA: &[u8] = b" sample weight, ";
    let inner = match memchr::memmem::find(inner, DELTA) {
        Some(at) => &inner[at + DELTA.len()..],
        None => inner,
    };
    let word = inner.split(|&b| b == b' ').next()?;
    let mut value: u64 = 0;
    let mut digits = 0;
    for &b in word {
        match b {
            b'0'..=b'9' if digits < 18 => {
                value = value * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b',' if digits > 0 => {}
            _ => return title_count_slowly(word),
        }
    }
    (digits > 0).then_some(value as f64)
}

/// Counts with decimals (a flamegraph.pl `--factor`), entities or too many digits for a u64.
fn title_count_slowly(word: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(word).ok()?;
    let text = quick_xml::escape::unescape(text).ok()?;
    if text.starts_with(',') {
        return None;
    }
    let digits: String = text.chars().filter(|&c| c != ',').collect();
    parse_number(digits.as_bytes())
        .filter(|n| !n.percent && n.value >= 0.0 && !digits.starts_with(['-', '+']))
        .map(|n| n.value)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Number {
    pub(super) value: f64,
    pub(super) decimals: u32,
    pub(super) percent: bool,
}

/// Every power of ten that an f64 holds exactly.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `12`, `-3.25`, `45.6000%`: the forms flame graph tools write, parsed without going through
/// `str::parse` on the hot path. Anything else (exponents) falls back to it.
pub(super) fn parse_number(text: &[u8]) -> Option<Number> {
    let text = text.trim_ascii();
    let (text, percent) = match text.strip_suffix(b"%") {
        Some(t) => (t, true),
        None => (text, false),
    };
    let (digits, negative) = match text.strip_prefix(b"-") {
        Some(t) => (t, true),
        None => (text, false),
    };
    let mut mantissa: u64 = 0;
    let mut decimals = 0u32;
    let mut seen_dot = false;
    let mut seen_digit = false;
    // Up to 18 digits cannot overflow the mantissa.
    let mut fast = digits.len() <= 18;
    for &b in digits.iter().take_while(|_| fast) {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                seen_digit = true;
                if seen_dot {
                    decimals += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => {
                fast = false;
                break;
            }
        }
    }
    let value = if fast && seen_digit && (decimals as usize) < POWERS_OF_TEN.len() {
        // Both operands are exact in an f64, so one division rounds correctly.
        match decimals {
            0 => mantissa as f64,
            d => mantissa as f64 / POWERS_OF_TEN[d as usize],
        }
    } else {
        let value: f64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
        decimals = 0;
        value
    };
    if !value.is_finite() {
        return None;
    }
    Some(Number {
        value: if negative { -value } else { value },
        decimals,
        percent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_flame_graphs_write_them() {
        let n = |t: &str| parse_number(t.as_bytes()).map(|n| (n.value, n.decimals, n.percent));
        assert_eq!(n("12"), Some((12.0, 0, false)));
        assert_eq!(n("45.6000%"), Some((45.6, 4, true)));
        assert_eq!(n("-3.25"), Some((-3.25, 2, false)));
        assert_eq!(n("1e3"), Some((1000.0, 0, false)));
        assert_eq!(n(""), None);
        assert_eq!(n("."), None);
        assert_eq!(n("1.2.3"), None);
        assert_eq!(n("inf"), None);
        assert_eq!(n("99999999999999999999999"), Some((1e23, 0, false)));
    }

    #[test]
    fn title_counts_with_separators_and_other_units() {
        let c = |t: &str| title_count(split_title(t.as_bytes()).1);
        assert_eq!(c("main (1,234,567 samples, 99.00%)"), Some(1_234_567.0));
        assert_eq!(c("f (a.py:3) (82 samples, 44.09%)"), Some(82.0));
        assert_eq!(c("alloc (2,048 bytes, 5%; +1.00%)"), Some(2048.0));
        assert_eq!(c("f (1.5 samples, 3%)"), Some(1.5));
        assert_eq!(c("f (many samples, 3%)"), None);
        assert_eq!(c("f (-3 samples, 3%)"), None);
        assert_eq!(c("f"), None);
        assert_eq!(
            split_title(b"a (b) (3 samples, 1%)"),
            (&b"a (b)"[..], &b"3 samples, 1%"[..])
        );
    }
}
