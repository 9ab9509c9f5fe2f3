//! `obol summary`'s figures of a drawing, counted without its call tree.
//!
//! The tree's nodes merge frames of one stack, but a function's figures do not depend on that
//! merging: its self weight is the sum of its frames' self weights, its total the sum of the
//! weights under its frames that have no frame of the same function below them (nearer the
//! root). Both are sums of the drawn weights, in another order than the tree's, so they come out
//! the same only where every sum is exact: every weight a whole number and all of them together
//! below 2^53. Drawings that are not so, py-spy's drawings of threads (a profile a thread), and
//! drawings whose levels are not drawn left to right or whose callers are not met in the order
//! of their callees are given back for the tree.
//!
//! The callers are looked for level by level on two threads (a level's depends on the geometry
//! alone); then one walk, depth first, finds what the tree build and the tree's walk would: which
//! frames lie on no caller, self weights, totals, and the order names are first met in, which
//! numbers the functions.

use std::cmp::Ordering;

use crate::import::probing::prefetch;
use crate::import::{ParseError, folded};
use crate::profile::{FrameTable, FuncId, FunctionKey, FunctionStats, Profile, ProfileSet, Unit};

use super::build::{Drawn, Interned, caller, in_x_order, left_out, unescaped};
use super::scan::RawFrame;

/// A frame of no function (the root `all`).
const NONE: u32 = u32::MAX;

/// Marks a frame on no frame of the level below. Its caller's entry keeps the last caller found
/// before it, so that a level's entries, unmarked, never decrease: where the walk is split in two,
/// each level is cut where its callers pass the cut of the level below.
const LEFT_OUT: u32 = 1 << 31;

/// Frames from which the levels' callers are looked for, and the frames walked, on two threads
/// (in unit tests, nearly always).
#[cfg(not(test))]
const ON_TWO_THREADS: usize = 1 << 17;
#[cfg(test)]
const ON_TWO_THREADS: usize = 8;

/// How many frames ahead of the walk, in each level, are asked for.
const AHEAD: usize = 4;

/// Below 2^53, every whole number is a double, and so is every sum of them.
const EXACT: u64 = 1 << 53;

/// The figures of `drawn`, or `drawn` back (unchanged) when they could differ from the tree's.
pub(super) fn figures(
    drawn: Drawn,
    warnings: &mut Vec<String>,
) -> Result<Result<ProfileSet, Drawn>, ParseError> {
    // Groups (two at most a name, see `groups`) are numbered below `OUTERMOST`.
    if has_threads(&drawn) || drawn.names.len() >= (OUTERMOST / 2) as usize {
        return Ok(Err(drawn));
    }
    let Some(parents) = callers(&drawn.levels, drawn.slack) else {
        return Ok(Err(drawn));
    };
    let Drawn {
        levels,
        names,
        total_at_root,
        untitled,
        first_untitled,
        ..
    } = drawn;
    let drawn_total: f64 = levels[0].iter().map(|f| f.weight).sum();
    let (group_of, groups) = groups(&names);
    let walked = walk(&levels, &parents, &group_of, groups, total_at_root);

    // The names in the order the tree build meets them: level by level, left to right.
    let mut met: Vec<(u64, u32)> = (0..names.len() as u32)
        .filter_map(|name| {
            let at = walked.first_met[name as usize];
            (at != u64::MAX).then_some((at, name))
        })
        .collect();
    met.sort_unstable();
    let mut interned = Interned::new(names.len());
    for &(_, name) in &met {
        interned.intern(&names, name)?;
    }
    let count = interned.table.function_count();
    let mut stats: Vec<FunctionStats> = (0..count as u32)
        .map(|f| FunctionStats::sampled(FuncId(f), 0.0, 0.0))
        .collect();
    for &(_, name) in &met {
        let (Some(func), Some(&group)) = (interned.func_of_name(name), group_of.get(name as usize))
        else {
            continue;
        };
        let stat = &mut stats[func.0 as usize];
        stat.self_weight = walked.self_weight[group as usize];
        stat.total_weight = walked.total_weight[group as usize];
    }

    // Frames of levels above the root's that the walk did not reach lie on no frame.
    let mut orphans = 0u64;
    let mut first_orphan = None;
    for (level, (&reached, &first)) in levels
        .iter()
        .zip(walked.reached.iter().zip(&walked.first_skipped))
        .skip(1)
    {
        orphans += (level.len() - reached) as u64;
        if reached < level.len() && first_orphan.is_none() {
            // `first` is always one of the level's frames here.
            first_orphan = Some(level.get(first).map_or(0, |f| f.at));
        }
    }
    left_out(
        warnings,
        (orphans, first_orphan),
        (untitled, first_untitled),
        walked.overdrawn,
    );
    let total = if total_at_root {
        drawn_total
    } else {
        walked.total
    };
    Ok(Ok(ProfileSet {
        frames: interned.table,
        profiles: vec![Profile::figures_only("", Unit::Samples, total, stats)],
    }))
}

/// Whether a frame of the level under the root may be a py-spy thread (then the drawing is a
/// profile a thread, which the tree splits): any name there that reads as one, or does not read.
fn has_threads(drawn: &Drawn) -> bool {
    let root = usize::from(drawn.total_at_root);
    let Some(level) = drawn.levels.get(root) else {
        return false;
    };
    let mut seen = vec![false; drawn.names.len()];
    for frame in level {
        let name = frame.name as usize;
        if std::mem::replace(&mut seen[name], true) {
            continue;
        }
        let (raw, at) = &drawn.names[name];
        let Ok(text) = unescaped(raw, *at) else {
            return true;
        };
        let (name, _, _) = folded::split_frame(&text);
        if folded::threads::thread_frame(name.as_bytes()).is_some() {
            return true;
        }
    }
    false
}

/// Each name's function as a number of its own (the table's function ids come later, in the
/// order the names are met), and how many there are. A name that does not read is a function
/// of its own: the tree build fails on it if it is met.
fn groups(names: &[(Box<[u8]>, u64)]) -> (Vec<u32>, usize) {
    let mut table = FrameTable::new(FunctionKey::NameFile);
    let ids: Vec<Option<FuncId>> = names
        .iter()
        .map(|(raw, at)| {
            let text = unescaped(raw, *at).ok()?;
            let (name, file, line) = folded::split_frame(&text);
            let frame = table.intern(name, file, line);
            Some(table.func_of(frame))
        })
        .collect();
    let known = table.function_count();
    let group_of = ids
        .iter()
        .enumerate()
        .map(|(name, id)| id.map_or((known + name) as u32, |f| f.0))
        .collect();
    (group_of, known + names.len())
}

/// Each frame's caller: the index of the frame in the level below that the tree build would
/// make its parent, marked [`LEFT_OUT`] where it lies on none (the root level's entry is
/// empty). `None`
/// where the figures could differ from the tree's: a weight not whole or the weights' sum not
/// below 2^53, a level not drawn left to right, callers not in the order of their callees
/// (which [`walk`] needs).
fn callers(levels: &[Vec<RawFrame>], slack: f64) -> Option<Vec<Vec<u32>>> {
    let search = |depths: std::ops::Range<usize>| -> Option<(Vec<Vec<u32>>, u64)> {
        let mut found = Vec::with_capacity(depths.len());
        let mut sum = 0u64;
        for d in depths {
            let (parents, weights) = level_callers(&levels[d - 1], &levels[d], slack)?;
            found.push(parents);
            sum = sum.checked_add(weights).filter(|&s| s < EXACT)?;
        }
        Some((found, sum))
    };
    let root = &levels[0];
    let root_sum = whole_sum(root)?;
    if !in_x_order(root) {
        return None;
    }
    let frames: usize = levels.iter().map(Vec::len).sum();
    let (found, sum) = if frames >= ON_TWO_THREADS && levels.len() > 2 {
        // About half the frames each: the levels are independent.
        let mut so_far = 0;
        let cut = (1..levels.len())
            .find(|&d| {
                so_far += levels[d].len();
                so_far * 2 >= frames
            })
            .map_or(levels.len(), |d| d + 1);
        std::thread::scope(|scope| {
            let two = scope.spawn(|| search(cut..levels.len()));
            let (mut found, one) = search(1..cut)?;
            let (more, two) = two.join().ok()??;
            found.extend(more);
            Some((found, one + two))
        })?
    } else {
        search(1..levels.len())?
    };
    if root_sum + sum >= EXACT {
        return None;
    }
    Some(std::iter::once(Vec::new()).chain(found).collect())
}

/// The sum of a level's weights, or `None` unless each is whole, not negative (nor `-0`) and
/// they add up below 2^53.
fn whole_sum(level: &[RawFrame]) -> Option<u64> {
    let mut sum = 0u64;
    for frame in level {
        sum += whole(frame.weight)?;
        if sum >= EXACT {
            return None;
        }
    }
    Some(sum)
}

fn whole(w: f64) -> Option<u64> {
    // NaN fails the first test; `-0.0` the last.
    let n = w as u64;
    (w >= 0.0 && w < EXACT as f64 && n as f64 == w && !w.is_sign_negative()).then_some(n)
}

/// The callers of `children` among `parents` (see `build::tree`, whose search this is) and the
/// children's weights' sum, or `None` (see [`callers`]).
fn level_callers(
    parents: &[RawFrame],
    children: &[RawFrame],
    slack: f64,
) -> Option<(Vec<u32>, u64)> {
    if parents.len() >= LEFT_OUT as usize {
        return None;
    }
    let mut found = Vec::with_capacity(children.len());
    let mut sum = 0u64;
    let mut p = 0;
    let mut last = 0;
    let mut x = f64::NEG_INFINITY;
    for child in children {
        // As `in_x_order` tells, a NaN `x` included.
        if !matches!(
            x.partial_cmp(&child.x),
            Some(Ordering::Less | Ordering::Equal)
        ) {
            return None;
        }
        x = child.x;
        sum += whole(child.weight)?;
        if sum >= EXACT {
            return None;
        }
        match caller(parents, &mut p, child, slack) {
            Some(best) => {
                if best < last {
                    return None;
                }
                last = best;
                found.push(best as u32);
            }
            None => found.push(last as u32 | LEFT_OUT),
        }
    }
    Some((found, sum))
}

/// What the walk of the frames found.
struct Walked {
    /// Per group (see [`groups`]).
    self_weight: Vec<f64>,
    total_weight: Vec<f64>,
    /// Per name: where a frame of it was first met, level by level (level << 32 | index), or
    /// `u64::MAX`.
    first_met: Vec<u64>,
    /// Per level: how many frames were reached, and the first of the walked range not reached
    /// (`usize::MAX` when all were).
    reached: Vec<usize>,
    first_skipped: Vec<usize>,
    overdrawn: u64,
    /// The weight of all the frames reached.
    total: f64,
    /// The drawn weights of the frames the walk started from.
    roots: f64,
}

impl Walked {
    /// The walks of two ranges, one before the other.
    fn add(mut self, other: Walked) -> Walked {
        // Whole numbers below 2^53: the sums are exact in any order.
        for (a, b) in self.self_weight.iter_mut().zip(other.self_weight) {
            *a += b;
        }
        for (a, b) in self.total_weight.iter_mut().zip(other.total_weight) {
            *a += b;
        }
        for (a, b) in self.first_met.iter_mut().zip(other.first_met) {
            *a = (*a).min(b);
        }
        for (a, b) in self.reached.iter_mut().zip(other.reached) {
            *a += b;
        }
        for (a, b) in self.first_skipped.iter_mut().zip(other.first_skipped) {
            *a = (*a).min(b);
        }
        self.overdrawn += other.overdrawn;
        self.total += other.total;
        self.roots += other.roots;
        self
    }
}

/// The frames' walk ([`walk_range`]), on two threads for many frames under one `all`: each
/// walks half of the frames of the level above it, and all that is over them.
fn walk(
    levels: &[Vec<RawFrame>],
    parents: &[Vec<u32>],
    group_of: &[u32],
    groups: usize,
    total_at_root: bool,
) -> Walked {
    let whole: Vec<(usize, usize)> = levels.iter().map(|l| (0, l.len())).collect();
    let frames: usize = levels.iter().map(Vec::len).sum();
    let one_all = total_at_root && levels[0].len() == 1 && levels.len() > 1;
    if !(one_all && frames >= ON_TWO_THREADS) {
        return walk_range(levels, parents, group_of, groups, total_at_root, 0, &whole);
    }
    // The cut among the frames on `all`: about half their weight on each side.
    let first = &levels[1];
    let half = first.iter().map(|f| f.weight).sum::<f64>() / 2.0;
    let mut so_far = 0.0;
    let mut cut = first
        .iter()
        .position(|f| {
            so_far += f.weight;
            so_far >= half
        })
        .map_or(first.len(), |at| at + 1);
    let mut one = whole.clone();
    let mut two = whole.clone();
    for d in 1..levels.len() {
        if d > 1 {
            cut = parents[d].partition_point(|&p| ((p & !LEFT_OUT) as usize) < cut);
        }
        one[d].1 = cut;
        two[d].0 = cut;
    }
    let walk_one = || walk_range(levels, parents, group_of, groups, total_at_root, 1, &one);
    let (one, two) = std::thread::scope(|scope| {
        let two =
            scope.spawn(|| walk_range(levels, parents, group_of, groups, total_at_root, 1, &two));
        let one = walk_one();
        (one, two.join())
    });
    let mut walked = match two {
        Ok(two) => one.add(two),
        // Cannot be (the walk does not panic); the walk is done again on this thread.
        Err(_) => return walk_range(levels, parents, group_of, groups, total_at_root, 0, &whole),
    };
    // The `all` frame the two walks started above.
    walked.reached[0] = 1;
    let left = levels[0][0].weight - walked.roots;
    if left < 0.0 {
        walked.overdrawn += 1;
    }
    walked.total += left.max(0.0);
    walked
}

/// A frame on the walk's way: its callees' drawn weights and the weight of all under them.
struct Open {
    at: u32,
    /// Its group, marked [`OUTERMOST`] where no frame of the group is nearer the root; [`NONE`]
    /// for the root `all`.
    group: u32,
    callees: f64,
    under: f64,
}

/// Marks a frame's group in [`Open`] when no frame of the group is nearer the root.
const OUTERMOST: u32 = 1 << 31;

/// Walks the frames of `range` (per level) depth first, from the frames of level `from` in it,
/// each level left to right as its callers are: a frame's callees are the next frames of the
/// level above whose caller it is; frames whose caller is before it (or none) were never
/// reached, nor will be. From a level above the root, those of its frames on no frame are
/// not walked either.
fn walk_range(
    levels: &[Vec<RawFrame>],
    parents: &[Vec<u32>],
    group_of: &[u32],
    groups: usize,
    total_at_root: bool,
    from: usize,
    range: &[(usize, usize)],
) -> Walked {
    let mut w = Walked {
        self_weight: vec![0.0; groups],
        total_weight: vec![0.0; groups],
        first_met: vec![u64::MAX; group_of.len()],
        reached: vec![0; levels.len()],
        first_skipped: vec![usize::MAX; levels.len()],
        overdrawn: 0,
        total: 0.0,
        roots: 0.0,
    };
    let mut on_stack = vec![0u32; groups];
    let mut next: Vec<usize> = range.iter().map(|r| r.0).collect();
    // Each level's callers, as far as the range goes.
    let callers: Vec<&[u32]> = parents
        .iter()
        .zip(range)
        .map(|(p, r)| p.get(..r.1).unwrap_or(p))
        .collect();
    let mut path: Vec<Open> = Vec::new();
    let (start, end) = range[from];
    next[from] = end;
    for root in start..end {
        if from > 0 && parents[from][root] & LEFT_OUT != 0 {
            if w.first_skipped[from] == usize::MAX {
                w.first_skipped[from] = root;
            }
            continue;
        }
        w.roots += levels[from][root].weight;
        let all = from == 0 && total_at_root;
        path.push(w.enter(&mut on_stack, levels, group_of, (from, root), all));
        // The depth of the frame last on the path.
        let mut depth = from;
        while let Some(open) = path.last_mut() {
            let up = depth + 1;
            if let Some(&callers) = callers.get(up) {
                let i = &mut next[up];
                while let Some(&caller) = callers.get(*i) {
                    if caller >= open.at && caller & LEFT_OUT == 0 {
                        break;
                    }
                    if w.first_skipped[up] == usize::MAX {
                        w.first_skipped[up] = *i;
                    }
                    *i += 1;
                }
                if callers.get(*i) == Some(&open.at) {
                    let child = *i;
                    *i += 1;
                    // Each level is read left to right, but the walk reads some forty levels
                    // by turns, too many for the hardware to see each one's stride: the frames
                    // ahead are asked for here.
                    prefetch(levels[up].as_ptr().wrapping_add(child + AHEAD));
                    prefetch(callers.as_ptr().wrapping_add(child + 4 * AHEAD));
                    open.callees += levels[up][child].weight;
                    let entered = w.enter(&mut on_stack, levels, group_of, (up, child), false);
                    path.push(entered);
                    depth = up;
                    continue;
                }
            }
            let Some(done) = path.pop() else { break };
            let left = levels[depth][done.at as usize].weight - done.callees;
            depth = depth.saturating_sub(1);
            if left < 0.0 {
                w.overdrawn += 1;
            }
            let own = left.max(0.0);
            let under = own + done.under;
            if done.group != NONE {
                let g = (done.group & !OUTERMOST) as usize;
                w.self_weight[g] += own;
                if done.group & OUTERMOST != 0 {
                    w.total_weight[g] += under;
                }
                on_stack[g] -= 1;
            }
            match path.last_mut() {
                Some(caller) => caller.under += under,
                None => w.total += under,
            }
        }
    }
    // Frames of the range past the last reached were never reached either.
    for (d, &(_, end)) in range.iter().enumerate() {
        if w.first_skipped[d] == usize::MAX && next[d] < end {
            w.first_skipped[d] = next[d];
        }
    }
    w
}

impl Walked {
    /// The frame at `(depth, at)` reached: counted, its name met, its group put on the stack
    /// (`all`: the root `all`, of no group).
    #[inline(always)]
    fn enter(
        &mut self,
        on_stack: &mut [u32],
        levels: &[Vec<RawFrame>],
        group_of: &[u32],
        (depth, at): (usize, usize),
        all: bool,
    ) -> Open {
        self.reached[depth] += 1;
        let mut group = NONE;
        if !all {
            let name = levels[depth][at].name as usize;
            let met = &mut self.first_met[name];
            *met = (*met).min(((depth as u64) << 32) | at as u64);
            group = group_of[name];
            let stacked = &mut on_stack[group as usize];
            if *stacked == 0 {
                group |= OUTERMOST;
            }
            *stacked += 1;
        }
        Open {
            at: at as u32,
            group,
            callees: 0.0,
            under: 0.0,
        }
    }
}
