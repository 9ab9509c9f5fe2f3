//! The small random generator the unit tests draw their cases from, written once: the same
//! draws every run, and no crate needed.

/// The next number of a xorshift64 generator whose state (not 0) is `state`.
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
