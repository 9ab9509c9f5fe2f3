//! A sampled profile's `weights`, and the one rule by which they are added up.
//!
//! py-spy writes the same weight for every sample (the sampling interval, 0.01 s by default).
//! Added one sample at a time, in whatever order a tree or a table visits them, such weights
//! drift in the last digits (1,895 samples of 0.01 s came to 18.94999999999996), and each order
//! drifts differently, so no two ways of counting (a call tree, a pass over the stacks, two
//! halves of the file) could agree to the bit. Where every weight is one value `w`, obol counts
//! samples instead, as whole numbers, which add exactly in any order, and gives each figure as
//! its count times `w`, rounded once: the double nearest to the figure's true value, whichever
//! way it was counted. Other lists of weights are added as they come.

/// The weights of one sampled profile, one per sample.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Weights {
    /// Every sample weighs `weight`, which is neither zero nor negative.
    Uniform { weight: f64, count: usize },
    /// Anything else, as listed.
    Listed(Vec<f64>),
}

impl Weights {
    pub fn from_list(list: Vec<f64>) -> Weights {
        match list.first() {
            Some(&weight) if weight > 0.0 && list.iter().all(|&w| w == weight) => {
                Weights::Uniform {
                    weight,
                    count: list.len(),
                }
            }
            _ => Weights::Listed(list),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Weights::Uniform { count, .. } => *count,
            Weights::Listed(list) => list.len(),
        }
    }

    /// The one weight of every sample, where there is one.
    pub fn uniform(&self) -> Option<f64> {
        match self {
            Weights::Uniform { weight, .. } => Some(*weight),
            Weights::Listed(_) => None,
        }
    }

    /// Each sample's weight as it is added while building: 1 per sample for uniform weights
    /// (whole numbers, scaled by the weight once counted), else the weight itself.
    pub fn counted(&self) -> impl Iterator<Item = f64> + '_ {
        let (uniform, listed) = match self {
            Weights::Uniform { count, .. } => (*count, &[][..]),
            Weights::Listed(list) => (0, &list[..]),
        };
        std::iter::repeat_n(1.0, uniform).chain(listed.iter().copied())
    }

    /// Each sample's weight as recorded.
    pub fn each(&self) -> impl Iterator<Item = f64> + '_ {
        let (uniform, listed) = match self {
            Weights::Uniform { weight, count } => ((*weight, *count), &[][..]),
            Weights::Listed(list) => ((0.0, 0), &list[..]),
        };
        std::iter::repeat_n(uniform.0, uniform.1).chain(listed.iter().copied())
    }
}

/// Where every element of the JSON list of numbers starting at `at` (its `[`) is written with
/// the same bytes: the text of one element, the number of elements and where the list ends.
/// `None` for anything else (including an empty list), which is then read number by number.
pub(super) fn same_text(json: &[u8], at: usize) -> Option<(&[u8], usize, usize)> {
    let space = |mut at: usize| {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = json.get(at) {
            at += 1;
        }
        at
    };
    if json.get(at) != Some(&b'[') {
        return None;
    }
    let start = space(at + 1);
    let len = json
        .get(start..)?
        .iter()
        .position(|&b| !matches!(b, b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E'))?;
    let text = json
        .get(start..start + len)
        .filter(|text| !text.is_empty())?;
    let mut at = start + len;
    let mut count = 1;
    // py-spy's list is `,text` over and over, without spaces: compared a block of those at a
    // time rather than element by element (a call of `memcmp` per element was most of the
    // list's time, read on one thread after the stacks). What a block does not match, down to
    // the list's end, is read by the loop below. A text longer than a block (a number of
    // thousands of digits) is not copied into one.
    let per_block = BLOCK / (len + 1);
    if per_block > 1 {
        let block: Vec<u8> =
            std::iter::repeat_n(std::iter::once(b',').chain(text.iter().copied()), per_block)
                .flatten()
                .collect();
        while json.get(at..at + block.len()) == Some(&block[..]) {
            at += block.len();
            count += per_block;
        }
    }
    loop {
        at = space(at);
        match json.get(at)? {
            b']' => return Some((text, count, at + 1)),
            b',' => {
                at = space(at + 1);
                if json.get(at..at + len)? != text
                    || json
                        .get(at + len)
                        .is_some_and(|&b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E'))
                {
                    return None;
                }
                at += len;
                count += 1;
            }
            _ => return None,
        }
    }
}

/// Bytes of a list of weights that [`same_text`] compares at once.
const BLOCK: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_throughout_is_uniform() {
        assert_eq!(
            Weights::from_list(vec![0.01; 3]),
            Weights::Uniform {
                weight: 0.01,
                count: 3
            }
        );
        for list in [
            vec![],
            vec![0.0, 0.0],
            vec![0.01, 0.02],
            vec![1.0, 1.0, 0.0],
        ] {
            assert_eq!(Weights::from_list(list.clone()), Weights::Listed(list));
        }
        let uniform = Weights::from_list(vec![0.5; 4]);
        assert_eq!(uniform.counted().collect::<Vec<_>>(), vec![1.0; 4]);
        assert_eq!(uniform.each().collect::<Vec<_>>(), vec![0.5; 4]);
        let listed = Weights::from_list(vec![1.0, 2.0]);
        assert_eq!(listed.counted().collect::<Vec<_>>(), vec![1.0, 2.0]);
        assert_eq!(listed.uniform(), None);
    }

    #[test]
    fn lists_written_alike_are_found_without_parsing() {
        type Found<'t> = Option<(&'t str, usize, usize)>;
        let cases: [(&str, Found); 9] = [
            ("[0.01,0.01,0.01]", Some(("0.01", 3, 16))),
            ("[ 0.01 , 0.01\n]x", Some(("0.01", 2, 15))),
            ("[7]", Some(("7", 1, 3))),
            ("[0.01,0.011]", None),
            ("[0.01,0.02]", None),
            ("[1,10]", None),
            ("[]", None),
            ("[0.01,0.01", None),
            ("[\"a\",\"a\"]", None),
        ];
        for (text, expected) in cases {
            let found = same_text(text.as_bytes(), 0)
                .map(|(t, n, end)| (std::str::from_utf8(t).unwrap(), n, end));
            assert_eq!(found, expected, "{text}");
        }
    }

    /// [`same_text`] as it was before it compared blocks: element by element.
    fn same_text_one_by_one(json: &[u8], at: usize) -> Option<(&[u8], usize, usize)> {
        let space = |mut at: usize| {
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = json.get(at) {
                at += 1;
            }
            at
        };
        if json.get(at) != Some(&b'[') {
            return None;
        }
        let start = space(at + 1);
        let len = json
            .get(start..)?
            .iter()
            .position(|&b| !matches!(b, b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E'))?;
        let text = json
            .get(start..start + len)
            .filter(|text| !text.is_empty())?;
        let (mut at, mut count) = (start + len, 1);
        loop {
            at = space(at);
            match json.get(at)? {
                b']' => return Some((text, count, at + 1)),
                b',' => {
                    at = space(at + 1);
                    if json.get(at..at + len)? != text
                        || json
                            .get(at + len)
                            .is_some_and(|&b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E'))
                    {
                        return None;
                    }
                    at += len;
                    count += 1;
                }
                _ => return None,
            }
        }
    }

    #[test]
    fn long_lists_are_found_as_element_by_element() {
        // Lists of hundreds of one weight, each with one change at every place in turn (across
        // the blocks compared at once and their edges), cut short at every length near the end.
        for weight in ["0.01", "1", "0.0123456789012345", &"9".repeat(300)] {
            let count = 3 * BLOCK / weight.len() + 7;
            let list = format!("[{}]", vec![weight; count].join(","));
            let changes: [(&str, &str); 6] = [
                (",", ", "),
                (",", ",\n"),
                (weight, "0.02"),
                (weight, &format!("{weight}5")),
                (",", ",,"),
                (",", "]"),
            ];
            let mut lists = vec![list.clone(), format!("{list}, 1]")];
            for (from, to) in changes {
                for (place, _) in list.match_indices(from) {
                    let mut changed = list.clone();
                    changed.replace_range(place..place + from.len(), to);
                    lists.push(changed);
                }
            }
            for cut in list.len() - 3 * weight.len()..list.len() {
                lists.push(list[..cut].to_owned());
            }
            for text in &lists {
                let json = text.as_bytes();
                assert_eq!(same_text(json, 0), same_text_one_by_one(json, 0), "{text}");
            }
        }
    }
}
