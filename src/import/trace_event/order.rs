//! The order a thread's begins and ends are replayed in, exactly as stable sorts by time give
//! it, without paying for a general sort where the file is already close to it.
//!
//! The order is defined as: X events by (`ts`, longer first), in file order where both are the
//! same; begins are the B events and then those X events, stably sorted by `ts`; ends are the E
//! events and then the X events' ends (`ts + dur`) in that X order, stably sorted by their time.
//! Tracers write X events as they end (viztracer, Chrome): a call's children before it, so
//! their ends are nearly sorted already and their begins are a tree's post-order. Each order
//! below is found by a cheap way where it applies and checked, else by a sort: the result is
//! the same either way, as each is a total order (file order breaks every tie) or a stable one.

use std::cmp::Ordering;

use super::Edge;

/// X events: by begin, longer first, then file order (the event index grows with it).
fn begin_order(a: &(Edge, f64), b: &(Edge, f64)) -> Ordering {
    a.0.ts
        .total_cmp(&b.0.ts)
        .then(b.1.total_cmp(&a.1))
        .then(a.0.event.cmp(&b.0.event))
}

/// Whether `a` comes before `b` in [`begin_order`]: the later keys compared only where the
/// earlier ones tie, as they rarely do.
#[inline(always)]
fn begins_before(a: &(Edge, f64), b: &(Edge, f64)) -> bool {
    match a.0.ts.total_cmp(&b.0.ts) {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => match b.1.total_cmp(&a.1) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a.0.event < b.0.event,
        },
    }
}

/// X events by end, then as [`begin_order`]: a stable sort by end of the X events in their
/// begin order.
fn end_order(a: &(Edge, f64), b: &(Edge, f64)) -> Ordering {
    (a.0.ts + a.1)
        .total_cmp(&(b.0.ts + b.1))
        .then_with(|| begin_order(a, b))
}

fn by_time(a: &Edge, b: &Edge) -> Ordering {
    a.ts.total_cmp(&b.ts)
}

/// The begins and ends of B, E (in file order) and X events, in replay order.
pub(super) fn order(
    mut begins: Vec<Edge>,
    mut ends: Vec<Edge>,
    mut complete: Vec<(Edge, f64)>,
) -> (Vec<Edge>, Vec<Edge>) {
    sort_nearly(&mut begins, by_time);
    sort_nearly(&mut ends, by_time);
    let x_begins = begins_in_order(&complete);
    sort_nearly(&mut complete, end_order);
    // In the X events' own room (a collect from a vector's `into_iter` reuses it), rather than
    // in memory the system has yet to give.
    let x_ends: Vec<Edge> = complete
        .into_iter()
        .map(|(begin, dur)| Edge {
            ts: begin.ts + dur,
            ..begin
        })
        .collect();
    let begins = merge(begins, x_begins.into_iter());
    let ends = merge(ends, x_ends.into_iter());
    (begins, ends)
}

/// `first` and `second`, each in time order, merged by time: `first`'s on ties, as a stable
/// sort of the two one after the other would place them.
fn merge(first: Vec<Edge>, second: impl ExactSizeIterator<Item = Edge>) -> Vec<Edge> {
    if first.is_empty() {
        return second.collect();
    }
    let mut out = Vec::with_capacity(first.len() + second.len());
    let mut second = second.peekable();
    for edge in first {
        while let Some(next) = second.next_if(|s| by_time(s, &edge) == Ordering::Less) {
            out.push(next);
        }
        out.push(edge);
    }
    out.extend(second);
    out
}

/// A stable sort of `v` by `cmp` that is linear where `v` is nearly sorted: an insertion sort
/// while it moves little, else the library's sort (insertion moves no element past an equal
/// one, so what it has done changes nothing of a stable sort's result).
fn sort_nearly<T: Copy>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if !insertion_sorted(v, &cmp) {
        v.sort_by(cmp);
    }
}

/// `v` sorted stably by `cmp` by insertion, if that moves little; else false, `v` partly
/// sorted.
fn insertion_sorted<T: Copy>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) -> bool {
    let budget = v.len().saturating_mul(4).saturating_add(1 << 12);
    let mut moved = 0usize;
    for i in 1..v.len() {
        if cmp(&v[i - 1], &v[i]) != Ordering::Greater {
            continue;
        }
        let x = v[i];
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &x) == Ordering::Greater {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
        moved += i - j;
        if moved > budget {
            return false;
        }
    }
    true
}

/// The places of the X events of `x` sorted by `cmp`, a total order whose first key is
/// `first`: the places sorted with that key beside them, the events read only where two keys
/// tie, rather than read through the list at each comparison (a cache miss each where the
/// list is far from sorted) or copied whole.
fn sorted_places(
    x: &Parts,
    first: fn(&(Edge, f64)) -> f64,
    cmp: fn(&(Edge, f64), &(Edge, f64)) -> Ordering,
) -> Vec<u32> {
    let mut sorted: Vec<(f64, u32)> = (0..x.len() as u32).map(|i| (first(&x.get(i)), i)).collect();
    // A total order (the event's index breaks every tie): any sort gives the same.
    sorted.sort_unstable_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then_with(|| cmp(&x.get(a.1), &x.get(b.1)))
    });
    sorted.into_iter().map(|(_, i)| i).collect()
}

/// The X events' begins in [`begin_order`].
fn begins_in_order(complete: &[(Edge, f64)]) -> Vec<Edge> {
    if complete.len() >= u32::MAX as usize {
        let mut sorted = complete.to_vec();
        sorted.sort_by(begin_order);
        return sorted.into_iter().map(|(edge, _)| edge).collect();
    }
    let places = begin_places(&Parts::new(complete, &[]));
    places.into_iter().map(|i| complete[i as usize].0).collect()
}

/// A thread's X events as read: the first half's, then the second half's (renumbered), held
/// where they were read rather than copied into one list. Fewer than `u32::MAX` in all.
#[derive(Clone, Copy)]
pub(super) struct Parts<'a> {
    first: &'a [(Edge, f64)],
    second: &'a [(Edge, f64)],
}

impl<'a> Parts<'a> {
    pub(super) fn new(first: &'a [(Edge, f64)], second: &'a [(Edge, f64)]) -> Self {
        Parts { first, second }
    }

    pub(super) fn len(&self) -> usize {
        self.first.len() + self.second.len()
    }

    /// Brings the `i`th into the cache.
    #[inline(always)]
    pub(super) fn prefetch(&self, i: u32) {
        let i = i as usize;
        if let Some(at) = self
            .first
            .get(i)
            .or_else(|| self.second.get(i - self.first.len()))
        {
            crate::import::probing::prefetch(at);
        }
    }

    #[inline(always)]
    pub(super) fn get(&self, i: u32) -> (Edge, f64) {
        let i = i as usize;
        match self.first.get(i) {
            Some(&x) => x,
            None => self.second[i - self.first.len()],
        }
    }
}

/// The places in `x` of the X events' begins and of their ends (`ts + dur`), each in replay
/// order: the order [`order`] gives them where there are no B and E events.
pub(super) fn x_places(x: &Parts) -> (Vec<u32>, Vec<u32>) {
    let begins = begin_places(x);
    let mut ends: Vec<u32> = (0..x.len() as u32).collect();
    // Tracers write X events as they end, so the ends are most often in order already: that
    // is checked reading the list straight through, and only where it fails are the places
    // sorted (by insertion, which on a sorted list moves nothing).
    if !in_end_order(x) && !insertion_sorted(&mut ends, |&a, &b| end_order(&x.get(a), &x.get(b))) {
        ends = sorted_places(x, |(begin, dur)| begin.ts + dur, end_order);
    }
    (begins, ends)
}

/// Whether the X events of `x`, as they lie, are in [`end_order`].
fn in_end_order(x: &Parts) -> bool {
    let mut events = x.first.iter().chain(x.second);
    let Some(mut last) = events.next() else {
        return true;
    };
    for event in events {
        if end_order(last, event) == Ordering::Greater {
            return false;
        }
        last = event;
    }
    true
}

/// The places of the X events in [`begin_order`]. Where the events were written as they ended
/// (children before their caller), the order is the pre-order of the tree that a stack of
/// earlier events builds: each event adopts the ones before it that begin after it. Whether
/// that gave the order is checked; if not, a sort gives it.
fn begin_places(x: &Parts) -> Vec<u32> {
    pre_order(x).unwrap_or_else(|| sorted_places(x, |(begin, _)| begin.ts, begin_order))
}

/// The places of the begins as the pre-order of the tree built from post-order, if that is
/// their order.
///
/// Each event's place in the pre-order is computed rather than walked to: in a forest listed
/// in post-order, an event at `i` with `size` events in its subtree and `depth` events above
/// it is at `i + 1 - size + depth` in pre-order (before it come its ancestors and the subtrees
/// wholly to its left, which post-order lists before it too, with its own descendants). Every
/// place is thus known from a pass each way over the list, and only the events' places are
/// written, not the events: the replay reads them through these.
fn pre_order(x: &Parts) -> Option<Vec<u32>> {
    let n = x.len();
    if n >= u32::MAX as usize {
        return None;
    }
    let less = begins_before;
    // Sizes, from a stack of the roots so far: each event adopts those that begin after it.
    // Meanwhile, whether the pre-order is the begin order: whether each event in it comes
    // after the one before it. That is its parent, for a first child (checked as the parent
    // adopts it), else the last in pre-order of the subtree of the sibling (or root) before
    // it, which each root on the stack knows: the list is read in order, and behind only at
    // the roots.
    struct Root {
        at: u32,
        size: u32,
        last: u32,
    }
    let mut size = vec![0u32; n];
    let mut roots: Vec<Root> = Vec::new();
    for i in 0..n as u32 {
        let event = x.get(i);
        let mut adopted = 1u32;
        let mut last = i;
        // The child adopted before this one: the next in pre-order after its subtree.
        let mut next: Option<(Edge, f64)> = None;
        while let Some(root) = roots.last() {
            let root_event = x.get(root.at);
            if !less(&event, &root_event) {
                break;
            }
            match next {
                Some(next) if !less(&x.get(root.last), &next) => return None,
                Some(_) => {}
                None => last = root.last,
            }
            next = Some(root_event);
            adopted += root.size;
            roots.pop();
        }
        size[i as usize] = adopted;
        roots.push(Root {
            at: i,
            size: adopted,
            last,
        });
    }
    if !roots
        .windows(2)
        .all(|w| less(&x.get(w[0].last), &x.get(w[1].at)))
    {
        return None;
    }
    drop(roots);
    // Depths, from the last event back, with a stack of where the subtree of each of its
    // ancestors starts: those that reach it.
    let mut out: Vec<u32> = Vec::with_capacity(n);
    let spare = out.spare_capacity_mut();
    let mut ancestors: Vec<usize> = Vec::new();
    for i in (0..n).rev() {
        while ancestors.last().is_some_and(|&start| start > i) {
            ancestors.pop();
        }
        let start = i + 1 - size[i] as usize;
        spare[start + ancestors.len()].write(i as u32);
        ancestors.push(start);
    }
    // SAFETY: the places above are a permutation of 0..n (pre-order numbers each event once),
    // so all n elements were written.
    unsafe {
        out.set_len(n);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FrameId;
    use crate::profile::test_rng::xorshift as rng;

    fn x(event: usize, ts: f64, dur: f64) -> (Edge, f64) {
        let edge = Edge {
            event,
            ts,
            frame: FrameId(0),
            name: 0,
        };
        (edge, dur)
    }

    /// What the stable sorts this replaces gave.
    fn by_sorting(
        begins: &[Edge],
        ends: &[Edge],
        complete: &[(Edge, f64)],
    ) -> (Vec<Edge>, Vec<Edge>) {
        let mut complete = complete.to_vec();
        complete.sort_by(|a, b| a.0.ts.total_cmp(&b.0.ts).then(b.1.total_cmp(&a.1)));
        let mut begins = begins.to_vec();
        let mut ends = ends.to_vec();
        for (begin, dur) in complete {
            begins.push(begin);
            ends.push(Edge {
                ts: begin.ts + dur,
                ..begin
            });
        }
        begins.sort_by(by_time);
        ends.sort_by(by_time);
        (begins, ends)
    }

    fn key(edges: &[Edge]) -> Vec<(usize, u64)> {
        edges.iter().map(|e| (e.event, e.ts.to_bits())).collect()
    }

    fn same(begins: &[Edge], ends: &[Edge], complete: &[(Edge, f64)]) {
        let (b, e) = order(begins.to_vec(), ends.to_vec(), complete.to_vec());
        let (sb, se) = by_sorting(begins, ends, complete);
        assert_eq!(key(&b), key(&sb));
        assert_eq!(key(&e), key(&se));
        // X events alone: their places, the list read in two parts split anywhere.
        if begins.is_empty() && ends.is_empty() {
            let n = complete.len();
            for split in [0, n / 3, n / 2, n.saturating_sub(1), n] {
                let x = Parts::new(&complete[..split], &complete[split..]);
                let (pb, pe) = x_places(&x);
                let placed_b: Vec<Edge> = pb.iter().map(|&i| x.get(i).0).collect();
                let placed_e: Vec<Edge> = pe
                    .iter()
                    .map(|&i| {
                        let (begin, dur) = x.get(i);
                        Edge {
                            ts: begin.ts + dur,
                            ..begin
                        }
                    })
                    .collect();
                assert_eq!(key(&placed_b), key(&sb), "split at {split}");
                assert_eq!(key(&placed_e), key(&se), "split at {split}");
            }
        }
    }

    #[test]
    fn the_order_is_the_stable_sorts_order() {
        // Post-order (as tracers write), pre-order, ties of begin, end and length, and
        // shuffled events; B and E events beside them.
        let post = [
            x(0, 2.0, 1.0),
            x(1, 3.0, 0.0),
            x(2, 1.0, 3.0),
            x(3, 1.0, 3.0),
            x(4, 0.0, 4.0),
            x(5, 4.0, 0.0),
            x(6, 5.0, 1.0),
            x(7, 5.5, 0.5),
            x(8, 5.0, 1.0),
        ];
        same(&[], &[], &post);
        let mut pre = post.to_vec();
        pre.sort_by(begin_order);
        for (i, e) in pre.iter_mut().enumerate() {
            e.0.event = i;
        }
        same(&[], &[], &pre);
        let edge = |event, ts| x(event, ts, 0.0).0;
        same(
            &[edge(10, 1.0), edge(11, 0.5)],
            &[edge(12, 4.0), edge(13, 6.0)],
            &post,
        );
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        for round in 0..200 {
            let n = (rng(&mut seed) % 40) as usize;
            let mut events: Vec<_> = (0..n)
                .map(|i| {
                    let ts = (rng(&mut seed) % 8) as f64 * 0.5;
                    let dur = (rng(&mut seed) % 4) as f64 * 0.5;
                    x(100 + i, if round % 7 == 0 { -ts } else { ts }, dur)
                })
                .collect();
            if round % 2 == 0 {
                events.sort_by(end_order);
                for (i, e) in events.iter_mut().enumerate() {
                    e.0.event = 100 + i;
                }
            }
            let b: Vec<_> = (0..n / 3)
                .map(|i| edge(i, (rng(&mut seed) % 8) as f64))
                .collect();
            let e: Vec<_> = (0..n / 3)
                .map(|i| edge(50 + i, (rng(&mut seed) % 8) as f64))
                .collect();
            same(&b, &e, &events);
        }
    }

    /// Calls written as they end, children first, as viztracer writes them, times rounded
    /// so that ends tie and `ts + dur` is not always the true end.
    #[test]
    fn calls_written_as_they_end_come_out_as_sorted() {
        fn call(out: &mut Vec<(Edge, f64)>, seed: &mut u64, depth: u32, start: f64) -> f64 {
            let mut at = start + (1 + rng(seed) % 3) as f64 * 0.1;
            if depth < 6 {
                for _ in 0..rng(seed) % 4 {
                    at = call(out, seed, depth + 1, at) + (rng(seed) % 2) as f64 * 0.1;
                }
            }
            let end = at + (1 + rng(seed) % 2) as f64 * 0.1;
            out.push(x(out.len(), start, end - start));
            end
        }
        let mut seed = 7;
        for _ in 0..50 {
            let mut events = Vec::new();
            let mut clock = 0.0;
            while events.len() < 200 {
                clock = call(&mut events, &mut seed, 0, clock);
            }
            same(&[], &[], &events);
            assert!(pre_order(&Parts::new(&events, &[])).is_some());
            let (first, second) = events.split_at(events.len() / 2);
            assert!(pre_order(&Parts::new(first, second)).is_some());
        }
    }

    /// Post-order whose pre-order is not the begin order: a root that begins before the last
    /// descendant of the one before it, and a child that begins before its previous sibling's
    /// last descendant.
    #[test]
    fn pre_order_not_in_begin_order_is_refused_and_sorted() {
        let roots = [x(0, 5.0, 1.0), x(1, 0.0, 10.0), x(2, 3.0, 1.0)];
        let siblings = [
            x(0, 5.0, 1.0),
            x(1, 1.0, 9.0),
            x(2, 3.0, 1.0),
            x(3, 0.0, 20.0),
        ];
        for events in [&roots[..], &siblings[..]] {
            assert!(pre_order(&Parts::new(events, &[])).is_none());
            same(&[], &[], events);
        }
    }

    /// The shortcuts agree with the orders they stand for on every pair, signed zeros, NaNs
    /// and infinities among the times and lengths, ties everywhere: a begin compared by its
    /// time alone, or by `<` rather than `total_cmp`, would tell some pair apart.
    #[test]
    fn the_shortcuts_are_the_orders() {
        let values = [
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            0.5,
            1.0,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        let mut events = Vec::new();
        for (i, &ts) in values.iter().enumerate() {
            for (j, &dur) in values.iter().enumerate() {
                events.push(x(i * 31 + j * 7 % 5, ts, dur));
            }
        }
        for a in &events {
            for b in &events {
                assert_eq!(
                    begins_before(a, b),
                    begin_order(a, b) == Ordering::Less,
                    "events {} and {}",
                    a.0.event,
                    b.0.event
                );
            }
        }
        let mut seed = 11;
        for round in 0..400 {
            let n = (rng(&mut seed) % 12) as usize;
            let mut list: Vec<_> = (0..n)
                .map(|_| events[(rng(&mut seed) % events.len() as u64) as usize])
                .collect();
            if round % 2 == 0 {
                list.sort_by(end_order);
            }
            let sorted = list
                .windows(2)
                .all(|w| end_order(&w[0], &w[1]) != Ordering::Greater);
            for split in 0..=n {
                let parts = Parts::new(&list[..split], &list[split..]);
                assert_eq!(in_end_order(&parts), sorted, "round {round}, split {split}");
            }
        }
    }

    #[test]
    fn nearly_sorted_stays_stable() {
        let mut v: Vec<(u32, u32)> = (0..100).map(|i| (i / 3, i)).rev().collect();
        let mut expected = v.clone();
        expected.sort_by_key(|p| p.0);
        sort_nearly(&mut v, |a, b| a.0.cmp(&b.0));
        assert_eq!(v, expected);
    }
}
