//! A thread's duration events replayed in time into its call tree and timeline.

use std::sync::Arc;

use super::order::{self, Parts};
use super::{Edge, at_event};
use crate::import::ParseError;
use crate::profile::{
    CallTree, CallTreeBuilder, FrameId, FrameTable, FuncId, FunctionStats, NodeId, Profile,
    TimelineSample, Unit,
};

#[derive(Default)]
pub(super) struct Thread {
    pub(super) begins: Vec<Edge>,
    pub(super) ends: Vec<Edge>,
    pub(super) complete: Vec<(Edge, f64)>,
    /// The same thread's events in later parts of the file, read apart (see `Collector::
    /// append`), each with how to renumber them: they follow these.
    pub(super) tails: Vec<(Thread, Arc<Remap>)>,
}

/// How the events of a part of the file read apart are numbered in the whole.
pub(super) struct Remap {
    /// Events before that part.
    pub(super) offset: usize,
    /// The whole's frame and name for each of the part's.
    pub(super) frames: Vec<FrameId>,
    pub(super) names: Vec<u32>,
}

impl Remap {
    fn edge(&self, e: Edge) -> Edge {
        Edge {
            event: e.event + self.offset,
            ts: e.ts,
            frame: self.frames[e.frame.0 as usize],
            name: self.names[e.name as usize],
        }
    }
}

impl Thread {
    /// How many duration events it holds.
    pub(super) fn len(&self) -> usize {
        let tails: usize = self.tails.iter().map(|(t, _)| t.len()).sum();
        self.begins.len() + self.ends.len() + self.complete.len() + tails
    }

    /// Its tails' events after its own, renumbered.
    fn join_tails(&mut self) {
        for (mut tail, remap) in std::mem::take(&mut self.tails) {
            tail.join_tails();
            let edge = |e| remap.edge(e);
            self.begins.extend(tail.begins.into_iter().map(edge));
            self.ends.extend(tail.ends.into_iter().map(edge));
            self.complete
                .extend(tail.complete.into_iter().map(|(e, dur)| (edge(e), dur)));
        }
    }

    /// The events replayed in time: the time between two of them belongs to the innermost open
    /// frame, in the tree and the timeline alike; without `timeline` (`obol summary`, which
    /// reads only the tree's figures), in the tree alone: the timeline of a gigabyte's trace
    /// is twenty million stretches, a third of a gigabyte.
    pub(super) fn replay(
        mut self,
        name: String,
        frames: &FrameTable,
        with_timeline: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Profile, ParseError> {
        let mut replay = Replay {
            name: &name,
            frames,
            with_timeline,
            tree: CallTreeBuilder::new(),
            timeline: Vec::new(),
        };
        let open = match self.x_only() {
            // Read through their places where they lie (the second half renumbered in place),
            // rather than copied into one list and then into two more in replay order.
            Some(tail) => {
                if let Some((tail, remap)) = tail {
                    for (edge, _) in &mut tail.complete {
                        *edge = remap.edge(*edge);
                    }
                }
                let second = self.tails.first().map_or(&[][..], |t| &t.0.complete[..]);
                let x = Parts::new(&self.complete, second);
                let (begins, ends) = order::x_places(&x);
                replay.run(&XBegins { x, at: begins }, &mut XEnds { x, at: ends })?
            }
            None => {
                self.join_tails();
                let (begins, mut ends) = order::order(
                    std::mem::take(&mut self.begins),
                    std::mem::take(&mut self.ends),
                    std::mem::take(&mut self.complete),
                );
                replay.run(&begins, &mut ends)?
            }
        };
        if open > 0 {
            warnings.push(format!(
                "{name}: {open} event{} still open at the end of the trace, closed there",
                if open == 1 { " was" } else { "s were" }
            ));
        }
        let Replay { tree, timeline, .. } = replay;
        let tree = if with_timeline {
            tree.finish()
        } else {
            match figures_of(&name, tree, frames) {
                Ok(profile) => return Ok(profile),
                Err(tree) => *tree,
            }
        };
        let mut profile = Profile::from_tree(name, Unit::Microseconds, tree);
        profile.timeline = with_timeline.then_some(timeline);
        profile.evented = true;
        Ok(profile)
    }

    /// Where the thread has X events only, read in at most two parts: Some, with its second
    /// part (if any) and how to renumber it.
    fn x_only(&mut self) -> Option<Option<(&mut Thread, &Remap)>> {
        let plain = |t: &Thread| t.begins.is_empty() && t.ends.is_empty();
        if !plain(self) || self.len() >= u32::MAX as usize {
            return None;
        }
        match &mut self.tails[..] {
            [] => Some(None),
            [(tail, remap)] if plain(tail) && tail.tails.is_empty() => Some(Some((tail, remap))),
            _ => None,
        }
    }
}

/// Begins or ends in replay order.
trait Edges {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> Edge;
    fn swap(&mut self, i: usize, j: usize);
}

impl Edges for Vec<Edge> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    #[inline(always)]
    fn at(&self, i: usize) -> Edge {
        self[i]
    }
    fn swap(&mut self, i: usize, j: usize) {
        self.as_mut_slice().swap(i, j);
    }
}

/// How many begins ahead of the one taken the next is prefetched.
const AHEAD: usize = 16;

/// The X events' begins, through their places in replay order.
struct XBegins<'a> {
    x: Parts<'a>,
    at: Vec<u32>,
}

impl Edges for XBegins<'_> {
    fn len(&self) -> usize {
        self.at.len()
    }
    #[inline(always)]
    fn at(&self, i: usize) -> Edge {
        // Begins are taken in turn, and their places jump about the list (pre-order read from
        // post-order): the one some way ahead is brought into the cache meanwhile.
        if let Some(&ahead) = self.at.get(i + AHEAD) {
            self.x.prefetch(ahead);
        }
        self.x.get(self.at[i]).0
    }
    fn swap(&mut self, i: usize, j: usize) {
        self.at.swap(i, j);
    }
}

/// The X events' ends (`ts + dur`, as [`order::order`] makes them), through their places.
struct XEnds<'a> {
    x: Parts<'a>,
    at: Vec<u32>,
}

impl Edges for XEnds<'_> {
    fn len(&self) -> usize {
        self.at.len()
    }
    #[inline(always)]
    fn at(&self, i: usize) -> Edge {
        let (begin, dur) = self.x.get(self.at[i]);
        Edge {
            ts: begin.ts + dur,
            ..begin
        }
    }
    fn swap(&mut self, i: usize, j: usize) {
        self.at.swap(i, j);
    }
}

/// Of the ends at the time of the `e`th, the one closing the innermost open frame first (how
/// far past the `e`th): by frame, else by name. None closes it: the ends wait for the begins
/// of that time (a zero-length event opens before it closes). Found only where it is asked
/// for: a begin at an earlier time needs none.
#[inline(always)]
fn closing(open: &[(Edge, NodeId)], ends: &impl Edges, e: usize) -> Option<usize> {
    let (Some(&(top, _)), true) = (open.last(), e < ends.len()) else {
        return None;
    };
    let first = ends.at(e);
    let same_time = || {
        (e..ends.len())
            .map(|i| ends.at(i))
            .take_while(|x| x.ts == first.ts)
    };
    same_time()
        .position(|x| x.frame == top.frame)
        .or_else(|| same_time().position(|x| x.name == top.name))
}

/// A thread's replay into its tree and timeline.
struct Replay<'n> {
    name: &'n str,
    frames: &'n FrameTable,
    with_timeline: bool,
    tree: CallTreeBuilder,
    timeline: Vec<TimelineSample>,
}

impl Replay<'_> {
    /// Replays `begins` and `ends`, each in replay order: how many events are still open at
    /// the end.
    fn run(&mut self, begins: &impl Edges, ends: &mut impl Edges) -> Result<usize, ParseError> {
        let Replay {
            name,
            frames,
            with_timeline,
            tree,
            timeline,
        } = self;
        let with_timeline = *with_timeline;
        // At most a node per begin and a stretch of time per edge; room never filled is never
        // touched, so it costs no memory, and nothing is copied as the lists grow.
        *tree = CallTreeBuilder::with_capacity(begins.len() + 1);
        tree.reserve_self_weights(begins.len() + 1);
        *timeline = Vec::with_capacity(if with_timeline {
            begins.len() + ends.len()
        } else {
            0
        });
        let mut open: Vec<(Edge, NodeId)> = Vec::new();
        let mut last_ts: Option<f64> = None;
        let (mut b, mut e) = (0, 0);
        let mut advance = |to: f64, open: &[(Edge, NodeId)], tree: &mut CallTreeBuilder| {
            if let Some(last) = last_ts
                && to > last
                && let Some(&(_, top)) = open.last()
            {
                tree.add_self(top, to - last);
                if with_timeline {
                    timeline.push(TimelineSample {
                        leaf: top,
                        weight: to - last,
                    });
                }
            }
            last_ts = Some(last_ts.map_or(to, |l: f64| l.max(to)));
        };
        let frame_name = |f: FrameId| frames.frame(f).name;
        let (begin_count, end_count) = (begins.len(), ends.len());
        // The next begin and end, read again only when they change (once each, where the
        // loop read both at every step and the end three times over).
        let mut next_begin = (b < begin_count).then(|| begins.at(b));
        let mut next_end = (e < end_count).then(|| ends.at(e));
        loop {
            let mut closing_known = None;
            let take_begin = match (next_begin, next_end) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(bf), Some(ef)) if bf.ts != ef.ts => bf.ts < ef.ts,
                (Some(_), Some(_)) => {
                    let found = closing(&open, &*ends, e);
                    closing_known = Some(found);
                    found.is_none()
                }
            };
            if let (true, Some(begin)) = (take_begin, next_begin) {
                b += 1;
                next_begin = (b < begin_count).then(|| begins.at(b));
                advance(begin.ts, &open, tree);
                let parent = open.last().map_or(NodeId::ROOT, |&(_, n)| n);
                let node = tree.child(parent, begin.frame);
                open.push((begin, node));
                continue;
            }
            let Some(first) = next_end else { break };
            // The end of the innermost open frame, first at its time, closes it: what
            // `closing` finds first, without looking further.
            let closes = closing_known.unwrap_or_else(|| match open.last() {
                Some(&(top, _)) if top.frame == first.frame && !first.ts.is_nan() => Some(0),
                _ => closing(&open, &*ends, e),
            });
            let end = match closes {
                Some(i) if i > 0 => {
                    ends.swap(e, e + i);
                    ends.at(e)
                }
                _ => first,
            };
            e += 1;
            next_end = (e < end_count).then(|| ends.at(e));
            match open.last() {
                Some(&(top, _)) if top.name == end.name => {
                    advance(end.ts, &open, tree);
                    open.pop();
                }
                Some(&(top, _)) => {
                    let message = format!(
                        "{name}: the end of \"{}\" at ts {} comes while \"{}\" (event {}) is the innermost open event; events must close in order",
                        frame_name(end.frame),
                        end.ts,
                        frame_name(top.frame),
                        top.event
                    );
                    return Err(at_event(end.event, message));
                }
                None => {
                    let message = format!(
                        "{name}: the end of \"{}\" at ts {} comes when no event is open",
                        frame_name(end.frame),
                        end.ts
                    );
                    return Err(at_event(end.event, message));
                }
            }
        }
        Ok(open.len())
    }
}

/// For `obol summary`, which reads a tree's function figures and nothing else: those figures,
/// summed here, on the core that replayed the thread, as the summary's walk of the finished
/// tree would sum them (the same sums, one per function in id order as it adds them), rather
/// than all of them after the last replay, and without finishing the tree. Else, where a figure
/// is not finite (which the tree's own reading tells apart from an overflowing total), the
/// finished tree.
fn figures_of(
    name: &str,
    tree: CallTreeBuilder,
    frames: &FrameTable,
) -> Result<Profile, Box<CallTree>> {
    let weights = tree.into_function_weights(frames, |w| {
        w.self_weights
            .iter()
            .chain(&w.total_weights)
            .all(|w| w.is_finite())
    })?;
    let stats = weights
        .self_weights
        .into_iter()
        .zip(weights.total_weights)
        .enumerate()
        .map(|(i, (s, t))| FunctionStats::sampled(FuncId(i as u32), s, t))
        .collect();
    let mut profile = Profile::figures_only(name, Unit::Microseconds, weights.total, stats);
    profile.evented = true;
    Ok(profile)
}
