//! A `Profile`'s samples added up: each distinct stack found once by the bytes of its location
//! ids (see [`Stacks`]) and its weights summed apart; then each sample type's tree built from
//! the distinct stacks: once for all types when they have one shape, else each type on a
//! thread of its own.
//!
//! The trees come out as a reading in file order makes them: each type's stacks are added in
//! the order of the sample that first gave them a value in that type, and each stack's weight
//! is its exact sum (the same as adding the values one by one in doubles while the sums stay
//! below 2^53, which is what every real profile does).

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::stacks::{self, Stacks};
use super::{SampleFields, stack_of};
use crate::import::{ParseError, probing};
use crate::profile::{CallTreeBuilder, FrameId, NodeId};

/// Each location's frames, root side first, all in one list.
pub(super) struct LocationFrames {
    /// The runs of `frames` of ids below its length, by id (writers number locations from 1,
    /// so nearly all are here): a sample's dozens of ids are found without hashing.
    dense: Vec<Option<(usize, usize)>>,
    /// Those of larger ids.
    sparse: FxHashMap<u64, (usize, usize)>,
    frames: Vec<FrameId>,
}

impl LocationFrames {
    /// Room for a profile of `count` locations.
    pub(super) fn new(count: usize) -> Self {
        LocationFrames {
            dense: vec![None; count.saturating_mul(2).saturating_add(64)],
            sparse: FxHashMap::default(),
            frames: Vec::with_capacity(count),
        }
    }

    /// Sets the frames of location `id` (a second location of the same id replaces it).
    pub(super) fn insert(&mut self, id: u64, stack: &[FrameId]) {
        let start = self.frames.len();
        self.frames.extend_from_slice(stack);
        let run = (start, self.frames.len());
        match usize::try_from(id).ok().and_then(|i| self.dense.get_mut(i)) {
            Some(slot) => *slot = Some(run),
            None => {
                self.sparse.insert(id, run);
            }
        }
    }

    #[inline]
    pub(super) fn get(&self, id: u64) -> Option<&[FrameId]> {
        let (start, end) = match usize::try_from(id).ok().and_then(|i| self.dense.get(i)) {
            Some(run) => (*run)?,
            None => *self.sparse.get(&id)?,
        };
        Some(&self.frames[start..end])
    }
}

/// No sample gave this stack a value in this type.
const NONE: u64 = u64::MAX;

/// What a run of samples adds up to.
#[derive(Default)]
pub(super) struct Tally<'a> {
    /// Each distinct stack's entry by its packed location ids.
    stacks: Stacks,
    /// Each entry's key where the file holds it, in the order first seen.
    pub(super) keys: Vec<&'a [u8]>,
    /// Per entry and type: the sample that first gave it a value, and the sum of its values.
    pub(super) sums: Vec<Sum>,
    /// Samples whose ids are not one packed field (no writer seen does this): each goes to
    /// the trees on its own, with its number.
    pub(super) unpacked: Vec<(u64, &'a [u8])>,
    /// Samples with more or fewer values than there are sample types.
    pub(super) short: usize,
}

#[derive(Clone, Copy)]
pub(super) struct Sum {
    first: u64,
    pub(super) sum: i128,
}

const NO_SUM: Sum = Sum {
    first: NONE,
    sum: 0,
};

/// How many samples are looked up together: enough for their cache misses to overlap.
const BATCH: usize = 32;

/// The trees of the samples of `bytes` (a `Profile` message), one per sample type, and how
/// many samples had a number of values other than `types`.
pub(super) fn trees(
    bytes: &[u8],
    types: usize,
    locations: &LocationFrames,
) -> Result<(Vec<CallTreeBuilder>, usize), ParseError> {
    // One reading from the start: cut in two for two cores, each half's stacks must be found
    // again among the other's, which cost more than the half saved whenever the second core
    // was not free.
    let all = tally(bytes, 0..bytes.len(), 0, types, locations)?;
    let all = &all;
    // Where every stack first has a value in every type at the same sample (as when each
    // sample measures every type), the trees have one shape: it is built once and copied.
    let one_shape = all.unpacked.is_empty()
        && all
            .sums
            .chunks(types)
            .all(|sums| sums.iter().all(|s| s.first == sums[0].first));
    let builders = if types == 1 {
        vec![build(all, 0, types, locations)]
    } else if one_shape {
        let (shape, leaves) = shape(all, 0, types, locations);
        let mut builders = vec![shape; types];
        for (t, builder) in builders.iter_mut().enumerate() {
            weigh(builder, &leaves, all, t, types);
        }
        builders
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

/// The samples among the fields of `range`; `n` numbers them from the first.
pub(super) fn tally<'a>(
    bytes: &'a [u8],
    range: Range<usize>,
    n: u64,
    types: usize,
    locations: &LocationFrames,
) -> Result<Tally<'a>, ParseError> {
    let mut batch = Batch {
        n,
        types,
        locations,
        messages: Vec::with_capacity(BATCH),
        found: Vec::with_capacity(BATCH),
        values: Vec::new(),
        sample: SampleFields::default(),
        stack: Vec::new(),
    };
    let mut t = Tally::default();
    super::for_each_sample(bytes, range, |message| {
        batch.messages.push(message);
        if batch.messages.len() == BATCH {
            batch.add_to(&mut t)?;
        }
        Ok(())
    })?;
    batch.add_to(&mut t)?;
    Ok(t)
}

/// Where a second reading of the samples can start so that the two share them about evenly:
/// the sample nearest past the middle of the samples' bytes with a whole number of batches
/// before it (each reading then batches its samples as one reading from the start does, and
/// meets what is wrong in the same order), and the number of samples before it. `None` when
/// there are too few samples, or the fields cannot be gone through (one reading then meets
/// what is wrong, as it would have).
pub(super) fn halfway(bytes: &[u8]) -> Option<(usize, u64)> {
    // The start of every BATCH-th sample, with the samples before it.
    let mut marks = Vec::new();
    let (mut first, mut last) = (None, 0);
    let mut samples = 0u64;
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let (key, next) = super::varint(bytes, at)?;
        at = match key & 7 {
            0 => super::varint(bytes, next)?.1,
            1 => next.checked_add(8)?,
            5 => next.checked_add(4)?,
            2 => {
                let (len, body) = super::varint(bytes, next)?;
                body.checked_add(usize::try_from(len).ok()?)?
            }
            _ => return None,
        };
        if key == (2 << 3) | 2 {
            if samples.is_multiple_of(BATCH as u64) {
                marks.push((start, samples));
            }
            first.get_or_insert(start);
            last = at;
            samples += 1;
        }
    }
    if at != bytes.len() {
        return None;
    }
    let middle = first? + (last - first?) / 2;
    marks
        .into_iter()
        .find(|&(start, n)| n > 0 && start >= middle)
}

/// A stack's packed location ids and their hash.
type Key<'a> = (&'a [u8], u64);

/// Samples read but not yet added up, and the buffers that reading them uses.
struct Batch<'a, 'l> {
    /// The number of the first sample of `messages`.
    n: u64,
    types: usize,
    locations: &'l LocationFrames,
    messages: Vec<&'a [u8]>,
    /// Per message read: its packed ids with their hash, and where its values are in `values`.
    found: Vec<(Option<Key<'a>>, Range<usize>)>,
    values: Vec<i64>,
    sample: SampleFields<'a>,
    stack: Vec<FrameId>,
}

impl<'a> Batch<'a, '_> {
    /// Adds the samples of the batch to `t` as one by one, in order, but reading them all
    /// first and asking for what their lookups need before looking up any.
    fn add_to(&mut self, t: &mut Tally<'a>) -> Result<(), ParseError> {
        let (first_n, types) = (self.n, self.types);
        let invalid =
            |n: u64| ParseError::at_byte(0, format!("sample {n} is not a valid Sample message"));
        self.found.clear();
        self.values.clear();
        // A sample that cannot be read ends the batch; those before it are added first, as a
        // reading one by one would have done before it met it.
        let mut broken = None;
        for (i, &message) in self.messages.iter().enumerate() {
            if self.sample.read(message).is_none() {
                broken = Some(invalid(first_n + i as u64));
                break;
            }
            let start = self.values.len();
            self.values.extend_from_slice(&self.sample.values);
            let key = self
                .sample
                .packed_ids
                .filter(|key| u32::try_from(key.len()).is_ok())
                .map(|key| (key, stacks::hash(key)));
            if let Some((_, hash)) = key {
                t.stacks.prefetch_slot(hash);
            }
            self.found.push((key, start..self.values.len()));
        }
        for (key, _) in &self.found {
            if let Some(entry) = key.and_then(|(_, hash)| t.stacks.prefetch_key(hash))
                && let Some(sums) = t.sums.get(entry * types..(entry + 1) * types)
            {
                // An entry's sums (two types' are 64 bytes) most often span two cache lines.
                let (bytes, last) = (sums.as_ptr().cast::<u8>(), size_of_val(sums));
                probing::prefetch(bytes);
                probing::prefetch(bytes.wrapping_add(last.saturating_sub(1)));
            }
        }
        for (i, (key, values)) in self.found.iter().enumerate() {
            let n = first_n + i as u64;
            let (message, values) = (self.messages[i], &self.values[values.clone()]);
            if values.len() != types {
                t.short += 1;
            }
            let Some((key, hash)) = *key else {
                self.sample.read(message).ok_or_else(|| invalid(n))?;
                let ids = self.sample.ids().ok_or_else(|| invalid(n))?;
                stack_of(ids, self.locations, &mut self.stack, n)?;
                t.unpacked.push((n, message));
                continue;
            };
            let entry = match t.stacks.find(hash, key) {
                Some(entry) => entry as usize,
                None => {
                    // Checked the first time, even when every value is 0.
                    self.sample.read(message).ok_or_else(|| invalid(n))?;
                    let ids = self.sample.ids().ok_or_else(|| invalid(n))?;
                    stack_of(ids, self.locations, &mut self.stack, n)?;
                    t.stacks.insert(hash, key);
                    t.keys.push(key);
                    t.sums.resize(t.sums.len() + types, NO_SUM);
                    t.keys.len() - 1
                }
            };
            for (sum, &value) in t.sums[entry * types..][..types.min(values.len())]
                .iter_mut()
                .zip(values)
            {
                if value != 0 {
                    if sum.first == NONE {
                        sum.first = n;
                    }
                    sum.sum += i128::from(value);
                }
            }
        }
        self.n += self.messages.len() as u64;
        self.messages.clear();
        broken.map_or(Ok(()), Err)
    }
}

/// The tree of sample type `t`: its stacks added in the order a reading from the start would
/// add them, the sums on their leaves at the end.
fn build(all: &Tally, t: usize, types: usize, locations: &LocationFrames) -> CallTreeBuilder {
    let (mut builder, leaves) = shape(all, t, types, locations);
    weigh(&mut builder, &leaves, all, t, types);
    builder
}

/// The sums of type `t` on the leaves of its stacks.
fn weigh(
    builder: &mut CallTreeBuilder,
    leaves: &[Option<NodeId>],
    all: &Tally,
    t: usize,
    types: usize,
) {
    for (e, leaf) in leaves.iter().enumerate() {
        if let Some(leaf) = *leaf {
            builder.add_self(leaf, all.sums[e * types + t].sum as f64);
        }
    }
}

/// The stacks of sample type `t` added in the order a reading from the start would add them,
/// with no weight (but for the unpacked samples'), and each entry's leaf.
fn shape(
    all: &Tally,
    t: usize,
    types: usize,
    locations: &LocationFrames,
) -> (CallTreeBuilder, Vec<Option<NodeId>>) {
    enum Item {
        Entry(usize),
        Unpacked(usize),
    }
    let mut order: Vec<(u64, Item)> = (0..all.keys.len())
        .filter(|e| all.sums[e * types + t].first != NONE)
        .map(|e| (all.sums[e * types + t].first, Item::Entry(e)))
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
            .filter(|e| all.sums[e * types + t].first != NONE)
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
    (builder, leaves)
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::proto::{Function, Line, Location, Sample, Tables, ValueType};
    use prost::Message;

    /// The tables of a profile of two sample types (cpu in nanoseconds, alloc in bytes) over
    /// `locations` and functions 1 to `functions` in one file, function `id` named
    /// `names[name_of(id)]`.
    pub(in super::super) fn two_types(
        names: &[String],
        location: Vec<Location>,
        functions: u64,
        name_of: impl Fn(u64) -> usize,
    ) -> Tables {
        let mut strings: Vec<String> = ["", "cpu", "nanoseconds", "alloc", "bytes", "a.py"]
            .map(String::from)
            .to_vec();
        strings.extend_from_slice(names);
        Tables {
            sample_type: vec![
                ValueType { r#type: 1, unit: 2 },
                ValueType { r#type: 3, unit: 4 },
            ],
            mapping: vec![],
            location,
            function: (1..=functions)
                .map(|id| Function {
                    id,
                    name: 6 + name_of(id) as i64,
                    system_name: 0,
                    filename: 5,
                    start_line: 1,
                })
                .collect(),
            string_table: strings,
            default_sample_type: 0,
        }
    }

    /// A sample's location ids and its values of the two types.
    type Drawn = (Vec<u64>, [i64; 2]);

    /// A profile of `n` samples of two types over 12 stacks (one location of two lines), the
    /// values drawn from a fixed sequence; `zeros` lets a type's value be 0 where the other's
    /// is not, so that the types' trees differ in shape.
    fn profile(n: usize, zeros: bool) -> (Vec<u8>, Vec<Drawn>) {
        let names: Vec<String> = (0..8).map(|i| format!("f{i}")).collect();
        let location = (1..=8u64)
            .map(|id| Location {
                id,
                mapping_id: 0,
                address: 0,
                line: (0..1 + (id == 8) as u64)
                    .map(|k| Line {
                        function_id: id - k,
                        line: id as i64,
                    })
                    .collect(),
            })
            .collect();
        let tables = two_types(&names, location, 8, |id| id as usize - 1);
        let mut bytes = tables.encode_to_vec();
        let mut state = 7u64;
        let mut next = |below: u64| crate::test_rng::lcg(&mut state) % below;
        let stacks: Vec<Vec<u64>> = (0..12)
            .map(|_| (0..1 + next(6)).map(|_| 1 + next(8)).collect())
            .collect();
        let mut samples = Vec::new();
        for _ in 0..n {
            let location_id = stacks[next(12) as usize].clone();
            let low = if zeros { 0 } else { 1 };
            let value = [low + next(3) as i64, low + next(2) as i64];
            let sample = Sample {
                location_id: location_id.clone(),
                value: value.to_vec(),
            };
            prost::encoding::message::encode(2, &sample, &mut bytes);
            samples.push((location_id, value));
        }
        (bytes, samples)
    }

    /// Each type's tree as a reading one sample at a time makes it: nodes in the order they are
    /// first given a value, as (parent, frame name, self weight).
    fn one_by_one(
        samples: &[Drawn],
        t: usize,
        names: &dyn Fn(u64) -> Vec<String>,
    ) -> Vec<(usize, String, f64)> {
        let mut nodes: Vec<(usize, String, f64)> = vec![(0, String::new(), 0.0)];
        for (ids, value) in samples.iter().filter(|(_, v)| v[t] != 0) {
            let mut at = 0;
            for name in ids.iter().rev().flat_map(|&id| names(id)) {
                at = match (1..nodes.len()).find(|&i| nodes[i].0 == at && nodes[i].1 == name) {
                    Some(i) => i,
                    None => {
                        nodes.push((at, name, 0.0));
                        nodes.len() - 1
                    }
                };
            }
            nodes[at].2 += value[t] as f64;
        }
        nodes
    }

    #[test]
    fn batched_lookups_make_the_trees_a_reading_one_by_one_makes() {
        // A frame is its name and line. Location 8 is f7 inlined into f6 (the callee listed
        // first): root side f6, then f7, both at line 8.
        let names = |id: u64| match id {
            8 => vec!["f6:8".to_string(), "f7:8".to_string()],
            _ => vec![format!("f{}:{id}", id - 1)],
        };
        // Across several batches and not; one shape for both types and two.
        for (n, zeros) in [(5, false), (200, false), (200, true), (1000, true)] {
            let (bytes, samples) = profile(n, zeros);
            let set = super::super::parse(&bytes, &mut Vec::new()).expect("parses");
            for (t, profile) in set.profiles.iter().enumerate() {
                let tree = profile.tree();
                let got: Vec<(usize, String, f64)> = tree
                    .ids()
                    .map(|node| {
                        let parent = tree.parent(node).map_or(0, |p| p.0 as usize);
                        let name = tree.frame(node).map_or(String::new(), |f| {
                            let frame = set.frames.frame(f);
                            format!("{}:{}", frame.name, frame.line.unwrap_or(0))
                        });
                        (parent, name, tree.self_weight(node))
                    })
                    .collect();
                assert_eq!(got, one_by_one(&samples, t, &names), "n {n}, type {t}");
            }
        }
    }
}
