//! The common string of a trace, short and plain ASCII, told eight bytes at a time: a key,
//! a phase, a name. `memchr` pays a setup per call that such strings never earn back.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` below `n` (n at most 128), exact for the lowest such
/// byte (a borrow can only mark bytes above it).
fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// The high bit of each byte of `word` equal to `byte`, exact for the lowest.
fn equal(word: u64, byte: u8) -> u64 {
    below(word ^ (ONES * u64::from(byte)), 1)
}

/// The length of `text` up to its first `"`, if every byte before it is printable ASCII other
/// than `\` (what serde_json reads as the bytes between quotes, as they are); None if another
/// byte comes first (an escape, a control character, UTF-8 past ASCII: the careful reading's)
/// or no quote is found in the whole words of `text`.
#[inline]
pub(super) fn ascii_until_quote(text: &[u8]) -> Option<usize> {
    let mut at = 0;
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some(chunk) = text.get(at..at + 16) {
        // Sixteen at a time where SSE2 is, as on every x86_64: half the steps of words.
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
            _mm_set1_epi8,
        };
        let word = |i: usize| <[u8; 8]>::try_from(&chunk[i..i + 8]).map_or(0, i64::from_le_bytes);
        // SAFETY: these need SSE2 only, which the build targets (the `cfg` above); they
        // read nothing but their arguments.
        let mask = unsafe {
            let bytes = _mm_set_epi64x(word(8), word(0));
            // Signed, bytes past ASCII are below 0x20 too.
            let special = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8)),
                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8)),
                ),
                _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)),
            );
            _mm_movemask_epi8(special)
        };
        if mask != 0 {
            let first = at + mask.trailing_zeros() as usize;
            return (text[first] == b'"').then_some(first);
        }
        at += 16;
    }
    while let Some(chunk) = text.get(at..at + 8) {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        let special = equal(word, b'"') | equal(word, b'\\') | below(word, 0x20) | (word & HIGHS);
        if special != 0 {
            let first = at + (special.trailing_zeros() / 8) as usize;
            return (text[first] == b'"').then_some(first);
        }
        at += 8;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the careful reading makes of the same bytes.
    fn careful(text: &[u8]) -> Option<usize> {
        let end = text
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))?;
        (text[end] == b'"').then_some(end)
    }

    #[test]
    fn every_special_byte_at_every_place_is_seen() {
        let specials = [
            b'"', b'\\', 0, 0x1F, 0x7F, 0x80, 0xC3, 0xFF, b'\n', b' ', b'!', b'#',
        ];
        for len in 0..24 {
            for at in 0..len {
                for &special in &specials {
                    for &after in &specials {
                        let mut text = vec![b'a'; len];
                        text[at] = special;
                        if at + 1 < len {
                            text[at + 1] = after;
                        }
                        text.extend_from_slice(b"\"tail");
                        let quick = ascii_until_quote(&text);
                        match (quick, careful(&text)) {
                            (Some(_), expected) => assert_eq!(quick, expected, "{text:?}"),
                            // Not sure: where the careful reading is not either, or where the
                            // quote is past the last whole word.
                            (None, Some(quote)) => assert!(quote >= text.len() / 8 * 8),
                            (None, None) => {}
                        }
                    }
                }
            }
        }
    }
}
