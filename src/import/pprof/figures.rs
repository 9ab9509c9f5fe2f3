//! What `obol summary` reads of a pprof file's samples: each sample type's total and its self
//! and total weight per function, summed from the distinct stacks without a call tree, the
//! samples read in two halves on two threads.
//!
//! The figures are those the summary's walk over each type's tree gives
//! (`analysis::summary::tree_function_weights`): a stack's weight counts toward the self weight
//! of its leaf's function and once toward the total of every function on it, however often
//! the function is on it. They are summed exactly here, in integers. The tree adds the same
//! weights in doubles, in its own order; while the magnitudes of all that is added stay below
//! 2^53, every sum along the way is an integer a double holds exactly, so its figures are
//! these to the bit, whatever the order. A file past that (no real one comes near: 2^53
//! nanoseconds are 104 days) is read into trees as before ([`Figures::exact`]).

use std::ops::Range;

use super::samples::{self, LocationFrames, Tally};
use super::{SampleFields, read_packed, stack_of};
use crate::import::ParseError;
use crate::profile::{FrameId, FrameTable, FuncId, FunctionStats, Profile, Unit};

/// Every sample type's figures, `functions` to a type. The sums wrap rather than overflow:
/// a sum that could is one of figures that are not [`Figures::exact`], which are not used.
pub(super) struct Figures {
    types: usize,
    functions: usize,
    /// Per type: all its samples' weight.
    totals: Vec<i64>,
    /// Per type then function.
    self_weights: Vec<i64>,
    total_weights: Vec<i64>,
    /// Per type: the magnitudes of the weights added up (see [`Figures::exact`]).
    magnitudes: Vec<u128>,
}

/// Below this many bytes, the samples are read in one go: a second thread is not worth
/// starting (a few in unit tests, so that they read in halves).
#[cfg(not(test))]
const HALVES_FROM: usize = 1 << 20;
#[cfg(test)]
const HALVES_FROM: usize = 64;

/// The figures of the samples of `bytes` (a `Profile` message) and how many samples had a
/// number of values other than `types`; `None` for the figures when they might differ from the
/// trees' ([`Figures::exact`]).
pub(super) fn of_samples(
    bytes: &[u8],
    types: usize,
    locations: &LocationFrames,
    frames: &FrameTable,
) -> Result<(Option<Figures>, usize), ParseError> {
    let func_of = frames.func_of_each_frame();
    let functions = frames.function_count();
    let count = |range: Range<usize>, n: u64| -> Result<(Figures, usize), ParseError> {
        let tally = samples::tally(bytes, range, n, types, locations)?;
        let mut figures = Figures::new(types, functions);
        figures.add_tally(&tally, locations, &func_of);
        Ok((figures, tally.short))
    };
    let halfway = (bytes.len() >= HALVES_FROM)
        .then(|| samples::halfway(bytes))
        .flatten();
    let (figures, short) = match halfway {
        // Each half's distinct stacks are summed on their own: a stack in both halves counts
        // in each, which adds up to the same figures.
        Some((at, n)) => std::thread::scope(|scope| {
            let second = scope.spawn(|| count(at..bytes.len(), n));
            let first = count(0..at, 0);
            let second = second
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            // What is wrong in the first half comes first, as a reading from the start meets it.
            let (mut figures, short) = first?;
            let (more, more_short) = second?;
            figures.add(&more);
            Ok::<_, ParseError>((figures, short + more_short))
        })?,
        None => count(0..bytes.len(), 0)?,
    };
    Ok((figures.exact().then_some(figures), short))
}

impl Figures {
    fn new(types: usize, functions: usize) -> Figures {
        Figures {
            types,
            functions,
            totals: vec![0; types],
            self_weights: vec![0; types * functions],
            total_weights: vec![0; types * functions],
            magnitudes: vec![0; types],
        }
    }

    /// Whether the trees' sums in doubles are these figures to the bit: every weight the trees
    /// add, and every sum of them, is an integer below 2^53 in magnitude.
    fn exact(&self) -> bool {
        self.magnitudes.iter().all(|&m| m < 1 << 53)
    }

    /// Profile `t` of the figures: one figure per function, in function order.
    pub(super) fn profile(&self, t: usize, name: String, unit: Unit) -> Profile {
        let row = t * self.functions..(t + 1) * self.functions;
        let stats = (self.self_weights[row.clone()].iter())
            .zip(&self.total_weights[row])
            .enumerate()
            .map(|(f, (&self_weight, &total))| {
                FunctionStats::sampled(FuncId(f as u32), self_weight as f64, total as f64)
            })
            .collect();
        Profile::figures_only(name, unit, self.totals[t] as f64, stats)
    }

    fn add(&mut self, other: &Figures) {
        let pairs = [
            (&mut self.totals, &other.totals),
            (&mut self.self_weights, &other.self_weights),
            (&mut self.total_weights, &other.total_weights),
        ];
        for (sums, more) in pairs {
            for (sum, &more) in sums.iter_mut().zip(more) {
                *sum = sum.wrapping_add(more);
            }
        }
        for (sum, &more) in self.magnitudes.iter_mut().zip(&other.magnitudes) {
            *sum = sum.saturating_add(more);
        }
    }

    /// Adds each distinct stack of `tally` with its sums, and its samples that were not keyed.
    fn add_tally(&mut self, tally: &Tally, locations: &LocationFrames, func_of: &[u32]) {
        let types = self.types;
        let mut walk = Walk {
            func_of,
            on_stack: vec![false; self.functions],
            distinct: Vec::new(),
        };
        let (mut ids, mut stack, mut weights) = (Vec::new(), Vec::new(), Vec::new());
        for (e, key) in tally.keys.iter().enumerate() {
            // Every stack was read and its locations found in the tally: nothing here fails.
            ids.clear();
            if read_packed(key, |id| ids.push(id)).is_none()
                || stack_of(&ids, locations, &mut stack, 0).is_err()
            {
                continue;
            }
            weights.clear();
            weights.extend(tally.sums[e * types..][..types].iter().map(|s| s.sum));
            self.add_stack(&stack, &weights, &mut walk);
        }
        let mut sample = SampleFields::default();
        for &(n, message) in &tally.unpacked {
            let read = sample.read(message).and_then(|()| sample.ids());
            if read.is_none_or(|ids| stack_of(ids, locations, &mut stack, n).is_err()) {
                continue;
            }
            weights.clear();
            weights.extend((0..types).map(|t| sample.values.get(t).map_or(0, |&v| i128::from(v))));
            self.add_stack(&stack, &weights, &mut walk);
        }
    }

    /// Adds `weights` (one per type) of the stack `stack`.
    fn add_stack(&mut self, stack: &[FrameId], weights: &[i128], walk: &mut Walk) {
        // A sum past the bounds of i64 is a magnitude past 2^53: its figures are not used.
        walk.distinct.clear();
        for frame in stack {
            let f = walk.func_of[frame.0 as usize] as usize;
            if !walk.on_stack[f] {
                walk.on_stack[f] = true;
                walk.distinct.push(f);
            }
        }
        for &f in &walk.distinct {
            walk.on_stack[f] = false;
        }
        let leaf = stack
            .last()
            .map(|frame| walk.func_of[frame.0 as usize] as usize);
        for (t, &weight) in weights.iter().enumerate() {
            if weight == 0 {
                continue;
            }
            self.magnitudes[t] = self.magnitudes[t].saturating_add(weight.unsigned_abs());
            let weight = weight as i64;
            self.totals[t] = self.totals[t].wrapping_add(weight);
            let row = t * self.functions;
            for &f in &walk.distinct {
                let sum = &mut self.total_weights[row + f];
                *sum = sum.wrapping_add(weight);
            }
            if let Some(leaf) = leaf {
                let sum = &mut self.self_weights[row + leaf];
                *sum = sum.wrapping_add(weight);
            }
        }
    }
}

/// What adding a stack uses, kept from one to the next.
struct Walk<'f> {
    func_of: &'f [u32],
    /// Per function: whether it is in `distinct`.
    on_stack: Vec<bool>,
    /// The functions of the stack, each once.
    distinct: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::proto::{Line, Location};
    use super::super::samples::tests::two_types;
    use crate::profile::{FuncId, ProfileSet};
    use prost::Message;
    use prost::encoding::encode_varint as varint;

    /// A sample's location ids (leaf first) and its values.
    type Drawn = (Vec<u64>, Vec<i64>);

    fn field(out: &mut Vec<u8>, number: u64, body: &[u8]) {
        varint(number << 3 | 2, out);
        varint(body.len() as u64, out);
        out.extend_from_slice(body);
    }

    /// Two types over functions f1..f6 (f5 and f6 in one file under one name: one function);
    /// location i is function i, location 7 is f3 inlined into f2. Every third sample's ids
    /// are written unpacked, one field each.
    fn file(samples: &[Drawn]) -> Vec<u8> {
        let names: Vec<String> = (1..=5).map(|i| format!("f{i}")).collect();
        let location = (1..=7u64)
            .map(|id| Location {
                id,
                mapping_id: 0,
                address: 0,
                line: match id {
                    7 => vec![3, 2],
                    _ => vec![id],
                }
                .into_iter()
                .map(|function_id| Line {
                    function_id,
                    line: 1,
                })
                .collect(),
            })
            .collect();
        let tables = two_types(&names, location, 6, |id| id.min(5) as usize - 1);
        let mut bytes = tables.encode_to_vec();
        for (i, (ids, values)) in samples.iter().enumerate() {
            let mut sample = Vec::new();
            if i % 3 == 2 {
                for &id in ids {
                    sample.push(0x08);
                    varint(id, &mut sample);
                }
            } else {
                let mut packed = Vec::new();
                ids.iter().for_each(|&id| varint(id, &mut packed));
                field(&mut sample, 1, &packed);
            }
            let mut packed = Vec::new();
            values.iter().for_each(|&v| varint(v as u64, &mut packed));
            field(&mut sample, 2, &packed);
            field(&mut bytes, 2, &sample);
        }
        bytes
    }

    /// Names of the functions of location `id`, root side first.
    fn names(id: u64) -> Vec<String> {
        match id {
            7 => vec!["f2".into(), "f3".into()],
            _ => vec![format!("f{}", id.min(5))],
        }
    }

    /// Counted sample by sample: per type, each function's self weight (the leaf's) and total
    /// (once per sample however often it is on the stack).
    fn by_hand(samples: &[Drawn], t: usize) -> HashMap<String, (i64, i64)> {
        let mut figures: HashMap<String, (i64, i64)> = HashMap::new();
        for (ids, values) in samples {
            let value = values.get(t).copied().unwrap_or(0);
            let stack: Vec<String> = ids.iter().rev().flat_map(|&id| names(id)).collect();
            let mut seen: Vec<&String> = Vec::new();
            for name in &stack {
                if !seen.contains(&name) {
                    seen.push(name);
                    figures.entry(name.clone()).or_default().1 += value;
                }
            }
            if let Some(leaf) = stack.last() {
                figures.entry(leaf.clone()).or_default().0 += value;
            }
        }
        figures.retain(|_, &mut (s, t)| s != 0 || t != 0);
        figures
    }

    fn figures_of(set: &ProfileSet, t: usize) -> HashMap<String, (i64, i64)> {
        let stats = set.profiles[t].function_stats.as_ref().expect("figures");
        assert_eq!(stats.len(), set.frames.function_count());
        stats
            .iter()
            .enumerate()
            .inspect(|(f, s)| assert_eq!(s.func, FuncId(*f as u32)))
            .filter(|(_, s)| s.self_weight != 0.0 || s.total_weight != 0.0)
            .map(|(_, s)| {
                let name = set.frames.function(s.func).name.to_owned();
                (name, (s.self_weight as i64, s.total_weight as i64))
            })
            .collect()
    }

    /// Samples over a few stacks, recursive ones and an empty one among them, values drawn
    /// from `values` (some 0, some negative), some samples with one value only.
    fn draw(n: usize, values: &[i64]) -> Vec<Drawn> {
        let stacks: [&[u64]; 6] = [&[1], &[3, 2, 1], &[2, 1, 2, 1], &[7, 1], &[6, 5, 4], &[]];
        let mut state = 11u64;
        let mut next = |below: usize| crate::test_rng::lcg(&mut state) as usize % below;
        (0..n)
            .map(|_| {
                let ids = stacks[next(stacks.len())].to_vec();
                let count = if next(10) == 0 { 1 } else { 2 };
                let drawn = (0..count).map(|_| values[next(values.len())]).collect();
                (ids, drawn)
            })
            .collect()
    }

    #[test]
    fn the_figures_are_those_counted_sample_by_sample() {
        // Few samples (one batch, no second half) and many (read in halves).
        for n in [5, 40, 3000] {
            let samples = draw(n, &[0, 1, 7, -3, 1_000_000]);
            let bytes = file(&samples);
            let mut warnings = Vec::new();
            let set = super::super::parse_for_summary(&bytes, &mut warnings).unwrap();
            let trees = super::super::parse(&bytes, &mut Vec::new()).unwrap();
            for t in 0..2 {
                assert!(!set.profiles[t].has_tree(), "n {n}");
                assert_eq!(figures_of(&set, t), by_hand(&samples, t), "n {n}, type {t}");
                assert_eq!(set.profiles[t].total, trees.profiles[t].total);
                assert_eq!(set.profiles[t].name, trees.profiles[t].name);
            }
            let short = samples.iter().any(|(_, values)| values.len() != 2);
            assert_eq!(warnings.len(), usize::from(short), "{warnings:?}");
        }
    }

    #[test]
    fn figures_whose_sums_a_double_might_not_hold_are_left_to_the_trees() {
        let bound = 1i64 << 53;
        for (values, exact) in [([bound / 8, 1], true), ([bound / 2, -(bound / 2)], false)] {
            let samples: Vec<Drawn> = (0..4)
                .map(|i| (vec![1], values.map(|v| v + i).to_vec()))
                .collect();
            let set = super::super::parse_for_summary(&file(&samples), &mut Vec::new()).unwrap();
            assert_eq!(set.profiles[0].has_tree(), !exact, "{values:?}");
            assert!(set.profiles[1].function_stats.is_some() == exact);
        }
    }
}
