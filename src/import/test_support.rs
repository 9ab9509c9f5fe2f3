//! What the importers' unit tests ask of a parsed file, written once.

use crate::profile::{Function, ProfileSet};

/// The function named `name`; panics when the file has none, as a test can do nothing else.
pub fn function_named<'a>(set: &'a ProfileSet, name: &str) -> Function<'a> {
    set.frames
        .functions()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function named {name}"))
}

/// (name, self, total) of every function with weight in profile `profile`, by name.
pub fn weights(set: &ProfileSet, profile: usize) -> Vec<(String, f64, f64)> {
    let (own, total) =
        crate::analysis::summary::tree_function_weights(set.profiles[profile].tree(), &set.frames);
    let mut rows: Vec<_> = set
        .frames
        .functions()
        .enumerate()
        .filter(|(i, _)| total[*i] != 0.0)
        .map(|(i, f)| (f.name.to_owned(), own[i], total[i]))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

pub use crate::test_rng::lcg;

/// One or two bytes of `bytes` changed, dropped or doubled with bytes from `alphabet`, at
/// places `state` picks.
pub fn mangle(bytes: &mut Vec<u8>, alphabet: &[u8], state: &mut u64) {
    for _ in 0..1 + lcg(state) % 2 {
        let at = (lcg(state) as usize) % bytes.len();
        let byte = alphabet[(lcg(state) as usize) % alphabet.len()];
        match lcg(state) % 3 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
}
