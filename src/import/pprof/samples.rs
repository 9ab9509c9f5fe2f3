//! A `Profile`'s samples added up: each distinct stack found once by the bytes of its location
//! ids and its weights summed apart, the message cut at field boundaries so that each core
//! reads a part; then each sample type's tree built from the distinct stacks, the types on
//! threads of their own.
//!
//! The trees come out as a reading in file order makes them: each type's stacks are added in
//! the order of the sample that first gave them a value in that type, and each stack's weight
//! is its exact sum (the same as adding the values one by one in doubles while the sums stay
//! below 2^53, which is what every real profile does).

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::{SampleFields, stack_of, varint};
use crate::import::ParseError;
use crate::profile::{CallTreeBuilder, FrameId, NodeId};

/// Each location's frames, root side first, all in one list.
#[derive(Default)]
pub(super) struct LocationFrames {
    /// Each location id's run of `frames`.
    runs: FxHashMap<u64, (usize, usize)>,
    frames: Vec<FrameId>,
}

impl LocationFrames {
    /// Sets the frames of location `id` (a second location of the same id replaces it).
    pub(super) fn insert(&mut self, id: u64, stack: &[FrameId]) {
        let start = self.frames.len();
        self.frames.extend_from_slice(stack);
        self.runs.insert(id, (start, self.frames.len()));
    }

    pub(super) fn get(&self, id: u64) -> Option<&[FrameId]> {
        let &(start, end) = self.runs.get(&id)?;
        Some(&self.frames[start..end])
    }
}

/// No sample gave this stack a value in this type.
const NONE: u64 = u64::MAX;

/// Below this size the samples are read on one thread.
const SPLIT_FROM: usize = 4 << 20;

/// What a run of samples adds up to.
#[derive(Default)]
struct Tally<'a> {
    /// Each distinct stack's entry by its packed location ids, copied out of the file: the
    /// comparison that confirms a match then reads a few megabytes of keys instead of a
    /// random place in the file (it was a cache miss per sample).
    index: FxHashMap<Box<[u8]>, u32>,
    /// Each entry's key where the file holds it, in the order first seen.
    keys: Vec<&'a [u8]>,
    /// Per entry and type: the sample that first gave it a value, and the sum of its values.
    first: Vec<u64>,
    sums: Vec<i128>,
    /// Samples whose ids are not one packed field (no writer seen does this): each goes to
    /// the trees on its own, with its number.
    unpacked: Vec<(u64, &'a [u8])>,
    /// Samples with more or fewer values than there are sample types.
    short: usize,
}

/// The trees of the samples of `bytes` (a `Profile` message), one per sample type, and how
/// many samples had a number of values other than `types`.
pub(super) fn trees(
    bytes: &[u8],
    types: usize,
    locations: &LocationFrames,
) -> Result<(Vec<CallTreeBuilder>, usize), ParseError> {
    let parts = if bytes.len() >= SPLIT_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    } else {
        1
    };
    let runs = runs(bytes, parts);
    let tallies: Vec<Result<Tally, ParseError>> = if runs.len() == 1 {
        runs.into_iter()
            .map(|(range, first)| tally(bytes, range, first, types, locations))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .into_iter()
                .map(|(range, first)| {
                    scope.spawn(move || tally(bytes, range, first, types, locations))
                })
                .collect();
            handles.into_iter().map(join).collect()
        })
    };
    // The first error in file order, as a reading from the start would meet it.
    let mut tallies = tallies
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let mut all = tallies.next().unwrap_or_default();
    for part in tallies {
        all.merge(part, types);
    }
    let all = &all;
    let builders = if types == 1 {
        vec![build(all, 0, types, locations)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..types)
                .map(|t| scope.spawn(move || build(all, t, types, locations)))
                .collect();
            let mut builders = vec![build(all, 0, types, locations)];
            builders.extend(handles.into_iter().map(join));
            builders
        })
    };
    Ok((builders, all.short))
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The message cut into about `parts` runs of whole fields, each with the number of samples
/// before it. Where a field is broken the rest stays in one run, whose reading reports it.
fn runs(bytes: &[u8], parts: usize) -> Vec<(Range<usize>, u64)> {
    let mut runs = Vec::with_capacity(parts);
    let (mut start, mut start_n) = (0, 0);
    let (mut at, mut n) = (0, 0u64);
    while runs.len() + 1 < parts && at < bytes.len() {
        let Some((key, next)) = varint(bytes, at) else {
            break;
        };
        let after = match key & 7 {
            0 => varint(bytes, next).map(|(_, after)| after),
            1 => Some(next + 8),
            5 => Some(next + 4),
            2 => varint(bytes, next).and_then(|(len, body)| {
                usize::try_from(len).ok().and_then(|l| body.checked_add(l))
            }),
            _ => None,
        };
        let Some(after) = after.filter(|&a| a <= bytes.len()) else {
            break;
        };
        if key >> 3 == 2 && key & 7 == 2 {
            n += 1;
        }
        at = after;
        if at >= bytes.len() / parts * (runs.len() + 1) {
            runs.push((start..at, start_n));
            (start, start_n) = (at, n);
        }
    }
    runs.push((start..bytes.len(), start_n));
    runs
}

/// The samples of one run of fields; `n` numbers them from the run's first.
fn tally<'a>(
    bytes: &'a [u8],
    range: Range<usize>,
    mut n: u64,
    types: usize,
    locations: &LocationFrames,
) -> Result<Tally<'a>, ParseError> {
    let mut t = Tally::default();
    let mut sample = SampleFields::default();
    let mut stack = Vec::new();
    super::for_each_sample(bytes, range, |message| {
        let invalid =
            || ParseError::at_byte(0, format!("sample {n} is not a valid Sample message"));
        sample.read(message).ok_or_else(invalid)?;
        if sample.values.len() != types {
            t.short += 1;
        }
        let Some(key) = sample.packed_ids else {
            let ids = sample.ids().ok_or_else(invalid)?;
            stack_of(ids, locations, &mut stack, n)?;
            t.unpacked.push((n, message));
            n += 1;
            return Ok(());
        };
        let entry = match t.index.get(key) {
            Some(&entry) => entry as usize,
            None => {
                // Checked the first time, even when every value is 0.
                let ids = sample.ids().ok_or_else(invalid)?;
                stack_of(ids, locations, &mut stack, n)?;
                let entry = t.keys.len();
                t.index.insert(key.into(), entry as u32);
                t.keys.push(key);
                t.first.resize(t.first.len() + types, NONE);
                t.sums.resize(t.sums.len() + types, 0);
                entry
            }
        };
        for (slot, &value) in
            (entry * types..).zip(&sample.values[..types.min(sample.values.len())])
        {
            if value != 0 {
                if t.first[slot] == NONE {
                    t.first[slot] = n;
                }
                t.sums[slot] += i128::from(value);
            }
        }
        n += 1;
        Ok(())
    })?;
    Ok(t)
}

impl<'a> Tally<'a> {
    /// Adds the tally of the run after this one.
    fn merge(&mut self, later: Tally<'a>, types: usize) {
        self.short += later.short;
        self.unpacked.extend(later.unpacked);
        for (entry, key) in later.keys.iter().enumerate() {
            let into = match self.index.get(*key) {
                Some(&into) => into as usize,
                None => {
                    let into = self.keys.len();
                    self.index.insert((*key).into(), into as u32);
                    self.keys.push(key);
                    self.first.resize(self.first.len() + types, NONE);
                    self.sums.resize(self.sums.len() + types, 0);
                    into
                }
            };
            for t in 0..types {
                let (from, to) = (entry * types + t, into * types + t);
                if self.first[to] == NONE {
                    self.first[to] = later.first[from];
                }
                self.sums[to] += later.sums[from];
            }
        }
    }
}

/// The tree of sample type `t`: its stacks added in the order a reading from the start would
/// add them, the sums on their leaves at the end.
fn build(all: &Tally, t: usize, types: usize, locations: &LocationFrames) -> CallTreeBuilder {
    enum Item {
        Entry(usize),
        Unpacked(usize),
    }
    let mut order: Vec<(u64, Item)> = (0..all.keys.len())
        .filter(|e| all.first[e * types + t] != NONE)
        .map(|e| (all.first[e * types + t], Item::Entry(e)))
        .chain(
            all.unpacked
                .iter()
                .enumerate()
                .map(|(i, &(n, _))| (n, Item::Unpacked(i))),
        )
        .collect();
    order.sort_unstable_by_key(|&(n, _)| n);
    // Room for about as many nodes as the stacks have frames (a location id takes a byte or
    // two; pages never touched cost nothing), so the node lists are not copied as they grow.
    let most_nodes: usize = 1
        + (0..all.keys.len())
            .filter(|e| all.first[e * types + t] != NONE)
            .map(|e| all.keys[e].len())
            .sum::<usize>()
            .min(1 << 26);
    let mut builder = CallTreeBuilder::with_capacity(most_nodes);
    let mut leaves: Vec<Option<NodeId>> = vec![None; all.keys.len()];
    let mut sample = SampleFields::default();
    let mut ids = Vec::new();
    let mut stack = Vec::new();
    for (n, item) in order {
        // Every sample was read and its locations found in `tally`: nothing here fails.
        ids.clear();
        let read = match item {
            Item::Entry(e) => super::read_packed(all.keys[e], |id| ids.push(id)),
            Item::Unpacked(i) => sample
                .read(all.unpacked[i].1)
                .and_then(|()| sample.ids())
                .map(|read| ids.extend_from_slice(read)),
        };
        if read.is_none() || stack_of(&ids, locations, &mut stack, n).is_err() {
            continue;
        }
        match item {
            Item::Entry(e) => leaves[e] = Some(builder.add_stack(&stack, 0.0)),
            Item::Unpacked(_) => {
                if let Some(&value) = sample.values.get(t).filter(|&&v| v != 0) {
                    builder.add_stack(&stack, value as f64);
                }
            }
        }
    }
    for (e, leaf) in leaves.into_iter().enumerate() {
        if let Some(leaf) = leaf {
            builder.add_self(leaf, all.sums[e * types + t] as f64);
        }
    }
    builder
}
