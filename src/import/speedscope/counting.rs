//! `obol summary`'s reading of a large speedscope file: each function's samples counted as the
//! stacks are read, with no call tree.
//!
//! Where a profile's samples all weigh the same (see `weights.rs`), its figures are counts
//! times that weight, and counts need no tree: a function's self count is the number of
//! samples whose leaf it is, its total the number of samples with it anywhere on the stack
//! (recursion once). As each stack differs from the one before only below the frames they
//! share, a function's total grows by the samples it stayed on the stack for, added when it
//! leaves the stack. The figures are those the tree would give to the bit; a profile with other
//! weights, evented profiles, or frames that come after the profiles are read the usual way.

use std::sync::mpsc::{self, Receiver, Sender};

use super::stacks::Stacks;
use super::{BOM, build, de, quick};
use crate::profile::{FuncId, FunctionStats, ProfileSet};

/// Files from this size on have the second half of their stacks counted on a thread of its
/// own (see [`split_point`]); every file in unit tests, to test the split on small files.
#[cfg(not(test))]
const SPLIT_FROM: usize = 16 << 20;
#[cfg(test)]
const SPLIT_FROM: usize = 1;

/// Where a second reading may start: the first stack after the middle of the file up to its
/// last list, found as `],[` (py-spy writes no spaces); and where that last list starts.
/// Nothing says this is a stack in a `samples` list (it may sit in a string or another
/// value); the first reading takes the second's count only if it arrives at this very place
/// between two stacks of a list.
pub(super) fn split_point(json: &[u8]) -> Option<(usize, usize)> {
    if json.len() < SPLIT_FROM {
        return None;
    }
    // Not the middle of the whole file: py-spy writes each profile's `weights` after its
    // `samples`, one number a sample (4-5% of the file), and the first reading reads them
    // after the second half's stacks, so halving the whole file gave it that much more to
    // do, the second core idle meanwhile.
    let last = memchr::memrchr(b'[', json).unwrap_or(json.len());
    let middle = last / 2;
    memchr::memmem::find(json.get(middle..)?, b"],[").map(|at| (middle + at + 2, last))
}

/// A reading of a list's stacks from [`split_point`] on, made on another thread.
pub(super) struct Rest {
    stacks: usize,
    samples: u64,
    self_counts: Vec<u64>,
    total_counts: Vec<u64>,
    /// Just past the list's `]`.
    end: usize,
    max_frame: Option<u32>,
}

/// The first reading's side of the second: where it starts, the channel that tells it each
/// frame's function (it waits for them), and the one its count comes back by.
pub(super) struct Split {
    pub at: usize,
    pub functions: Sender<Vec<u32>>,
    pub rest: Receiver<Option<Rest>>,
}

/// Counts the stacks of every `samples` list, in the file's order.
#[derive(Default)]
pub(super) struct Counter {
    /// Each frame index's function; empty until the frames are known.
    funcs: Vec<u32>,
    function_count: usize,
    /// Per function, for the current list.
    self_counts: Vec<u64>,
    total_counts: Vec<u64>,
    /// Per function: how often it is on the current stack, and the number of samples counted
    /// when it came onto it.
    on_stack: Vec<u32>,
    entered: Vec<u64>,
    /// The functions of the stack before, outermost first.
    stack: Vec<u32>,
    /// The frames of the current stack after those it shares with the one before.
    fresh: Vec<u32>,
    samples: u64,
    /// A frame index with no function: counting cannot go on.
    lost: bool,
    lists: Vec<Counted>,
    split: Option<Split>,
}

/// One `samples` list, counted.
pub(super) struct Counted {
    pub samples: u64,
    /// (function, self count, total count) for every function with a sample.
    pub functions: Vec<(u32, u64, u64)>,
}

impl Counted {
    /// The list's figures for samples of `weight` each: its total and each function's.
    pub fn figures(&self, weight: f64) -> (f64, Vec<FunctionStats>) {
        let stats = self
            .functions
            .iter()
            .map(|&(func, self_count, total_count)| {
                FunctionStats::sampled(
                    FuncId(func),
                    self_count as f64 * weight,
                    total_count as f64 * weight,
                )
            })
            .collect();
        (self.samples as f64 * weight, stats)
    }
}

impl Counter {
    /// A counter whose lists are read on from `split.at` by another reading.
    pub fn with_split(split: Split) -> Counter {
        Counter {
            split: Some(split),
            ..Counter::default()
        }
    }

    /// The function of each frame index, which must be told before any stack.
    pub fn functions(&mut self, funcs: Vec<u32>) {
        if let Some(split) = &self.split {
            // A reading that has gone is one whose count will not be asked for.
            let _ = split.functions.send(funcs.clone());
        }
        let count = funcs.iter().max().map_or(0, |&max| max as usize + 1);
        self.funcs = funcs;
        self.function_count = count;
        self.self_counts = vec![0; count];
        self.total_counts = vec![0; count];
        self.on_stack = vec![0; count];
        self.entered = vec![0; count];
    }

    pub fn knows_functions(&self) -> bool {
        !self.funcs.is_empty()
    }

    /// Frame indices must be below this.
    pub fn frame_limit(&self) -> Option<u32> {
        u32::try_from(self.funcs.len()).ok()
    }

    /// The count of a reading that started at a stack and ran to the end of its list.
    pub fn into_rest(mut self, stacks: usize, end: usize, max_frame: Option<u32>) -> Option<Rest> {
        self.leave(0);
        (!self.lost).then_some(Rest {
            stacks,
            samples: self.samples,
            self_counts: self.self_counts,
            total_counts: self.total_counts,
            end,
            max_frame,
        })
    }

    /// The lists counted, in file order, unless a stack named a frame with no function.
    pub fn finish(self) -> Option<Vec<Counted>> {
        (!self.lost).then_some(self.lists)
    }

    /// Takes the functions after the first `keep` off the stack, crediting each that leaves it
    /// with the samples it was there for.
    #[inline]
    fn leave(&mut self, keep: usize) {
        for &func in self.stack.get(keep..).unwrap_or_default() {
            let func = func as usize;
            self.on_stack[func] -= 1;
            if self.on_stack[func] == 0 {
                self.total_counts[func] += self.samples - self.entered[func];
            }
        }
        self.stack.truncate(keep);
    }
}

impl Stacks for Counter {
    #[inline]
    fn push_new(&mut self, index: u32) {
        self.fresh.push(index);
    }

    #[inline]
    fn end_sharing(&mut self, shared: usize) {
        self.leave(shared.min(self.stack.len()));
        for at in 0..self.fresh.len() {
            let Some(&func) = self.funcs.get(self.fresh[at] as usize) else {
                self.lost = true;
                continue;
            };
            let slot = func as usize;
            if self.on_stack[slot] == 0 {
                self.entered[slot] = self.samples;
            }
            self.on_stack[slot] += 1;
            self.stack.push(func);
        }
        self.fresh.clear();
        if let Some(&leaf) = self.stack.last() {
            self.self_counts[leaf as usize] += 1;
        }
        self.samples += 1;
    }

    fn read_from(&self) -> usize {
        self.split.as_ref().map_or(usize::MAX, |split| split.at)
    }

    fn take_rest(&mut self, max_frame: &mut Option<u32>) -> Option<(usize, usize)> {
        let rest = self.split.take()?.rest.recv().ok()??;
        if rest.self_counts.len() != self.function_count {
            return None;
        }
        self.leave(0);
        for (sum, more) in self.self_counts.iter_mut().zip(&rest.self_counts) {
            *sum += more;
        }
        for (sum, more) in self.total_counts.iter_mut().zip(&rest.total_counts) {
            *sum += more;
        }
        self.samples += rest.samples;
        *max_frame = (*max_frame).max(rest.max_frame);
        Some((rest.stacks, rest.end))
    }

    fn end_list(&mut self) -> usize {
        self.leave(0);
        let functions = (0..self.function_count)
            .filter(|&func| self.total_counts[func] != 0)
            .map(|func| (func as u32, self.self_counts[func], self.total_counts[func]))
            .collect();
        self.lists.push(Counted {
            samples: self.samples,
            functions,
        });
        self.self_counts.fill(0);
        self.total_counts.fill(0);
        self.samples = 0;
        self.lists.len() - 1
    }
}

/// [`read_figures`](super::read_figures): the first half of the file read here, the second
/// half of its stacks (from [`split_point`]) on a thread of its own.
pub(super) fn read(
    bytes: &[u8],
    release: &dyn Fn(usize),
    release_range: &(dyn Fn(usize, usize) + Sync),
    warnings: &mut Vec<String>,
) -> Option<ProfileSet> {
    let json = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let skipped = bytes.len() - json.len();
    let release = |at: usize| release(at + skipped);
    std::thread::scope(|scope| {
        // The second half of a large file's stacks is counted on a thread of its own, once the
        // first reading has found each frame's function.
        let mut counter = Counter::default();
        if let Some((at, last)) = split_point(json) {
            // The search of the last list went through the file's end, which the first
            // reading reaches last: its pages need not stay until then.
            if last < json.len() {
                release_range(last + skipped, bytes.len());
            }
            let (functions, told) = mpsc::channel();
            let (send_rest, rest) = mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name("speedscope count".to_owned())
                .spawn_scoped(scope, move || {
                    if let Ok(funcs) = told.recv() {
                        // Lets go of what this reading has left behind, from where it started.
                        let released = std::cell::Cell::new(at);
                        let release = |to: usize| {
                            if to > released.get() {
                                release_range(released.get() + skipped, to + skipped);
                                released.set(to);
                            }
                        };
                        let _ = send_rest.send(quick::count_rest(json, at, funcs, &release));
                    }
                });
            if spawned.is_ok() {
                counter = Counter::with_split(Split {
                    at,
                    functions,
                    rest,
                });
            }
        }
        let mut context = de::Context {
            frame_count: None,
            notes: de::Notes::default(),
            max_frame: None,
            sink: None,
            interned: None,
            counter: Some(counter),
        };
        let raw = quick::read(json, &mut context, &release)?;
        let counted = context.counter.take()?.finish()?;
        let interned = context.interned.take()?;
        super::warn_of_units(&context.notes, warnings);
        build::build_counted(raw.profiles, &counted, interned, warnings)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stacks as frame indices, each given as its whole list of frames.
    fn count(funcs: Vec<u32>, stacks: &[&[u32]]) -> Counted {
        let mut counter = Counter::default();
        counter.functions(funcs);
        let mut before: &[u32] = &[];
        for &stack in stacks {
            let shared = before.iter().zip(stack).take_while(|(a, b)| a == b).count();
            for &index in &stack[shared..] {
                counter.push_new(index);
            }
            counter.end_sharing(shared);
            before = stack;
        }
        counter.end_list();
        counter.finish().unwrap().pop().unwrap()
    }

    #[test]
    fn counts_match_a_hand_count() {
        // Frames 0..4 are functions a, b, c, a (frame 3 is a at another line).
        let counted = count(
            vec![0, 1, 2, 0],
            &[
                &[0, 1, 2],
                &[0, 1, 2],
                &[0, 1],
                &[0, 1, 3],
                &[],
                &[0, 2],
                &[0, 1, 3],
            ],
        );
        // a: leaf of 2 samples (frame 3), on 6 stacks; b: leaf once, on 5; c: leaf of its 3.
        assert_eq!(counted.samples, 7);
        assert_eq!(counted.functions, vec![(0, 2, 6), (1, 1, 5), (2, 3, 3)]);
        let (total, stats) = counted.figures(0.01);
        assert_eq!(total, 7.0 * 0.01);
        assert_eq!(stats[0].total_weight, 6.0 * 0.01);
    }

    #[test]
    fn a_frame_with_no_function_stops_the_count() {
        let mut counter = Counter::default();
        counter.functions(vec![0]);
        counter.push_new(5);
        counter.end_sharing(0);
        counter.end_list();
        assert!(counter.finish().is_none());
    }
}
