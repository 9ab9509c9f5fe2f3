//! Taking each event once the next two are read.

use super::Stop;
use super::quick::Quick;
use crate::import::trace_event::RawEvent;
use crate::import::trace_event::collect::Collector;

/// The events read last, taken once the next two are read: meanwhile the slot each one's key
/// is looked up in comes into the cache (see `keys`), a miss that taking it at once waited for
/// (one event ahead was too little once events were read by their template). Whatever the
/// collector says of them still comes before anything the reading met after them, and they
/// are taken in the order read.
#[derive(Default)]
pub(in crate::import::trace_event) struct Lagging<'a> {
    /// A general event, and the hash of its key: never beside quick ones (it is taken before
    /// the next is held), so that a small event is not moved about in a large one's room.
    pending: Option<(RawEvent<'a>, u64)>,
    /// Quick events, the older first.
    older: Option<(Quick<'a>, u64)>,
    newer: Option<(Quick<'a>, u64)>,
}

impl<'a> Lagging<'a> {
    pub(in crate::import::trace_event::scan) fn push(
        &mut self,
        out: &mut Collector<'a>,
        event: RawEvent<'a>,
    ) -> Result<(), Stop> {
        let hash = out.prefetch(&event);
        self.flush(out)?;
        self.pending = Some((event, hash));
        Ok(())
    }

    #[inline(always)]
    pub(in crate::import::trace_event::scan) fn push_quick(
        &mut self,
        out: &mut Collector<'a>,
        event: Quick<'a>,
    ) -> Result<(), Stop> {
        let hash = out.prefetch_quick(&event);
        if let Some((last, hash)) = self.pending.take() {
            out.take_hashed(last, Some(hash)).map_err(Stop::Event)?;
        }
        if let Some((oldest, hash)) = self.older.take() {
            out.take_quick(&oldest, hash).map_err(Stop::Event)?;
        }
        self.older = self.newer.take();
        self.newer = Some((event, hash));
        Ok(())
    }

    pub(in crate::import::trace_event::scan) fn flush(
        &mut self,
        out: &mut Collector<'a>,
    ) -> Result<(), Stop> {
        for (last, hash) in [self.older.take(), self.newer.take()].into_iter().flatten() {
            out.take_quick(&last, hash).map_err(Stop::Event)?;
        }
        self.pending.take().map_or(Ok(()), |(last, hash)| {
            out.take_hashed(last, Some(hash)).map_err(Stop::Event)
        })
    }

    /// `stop`, unless the collector refuses an event pending.
    pub(in crate::import::trace_event::scan) fn fail(
        &mut self,
        out: &mut Collector<'a>,
        stop: Stop,
    ) -> Stop {
        self.flush(out).err().unwrap_or(stop)
    }
}
