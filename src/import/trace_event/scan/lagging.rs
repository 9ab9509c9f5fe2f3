//! Taking each event once the next is read.

use super::Stop;
use super::quick::Quick;
use crate::import::trace_event::RawEvent;
use crate::import::trace_event::collect::Collector;

/// The event read last, taken once the next is read: meanwhile the slot its key is looked up
/// in comes into the cache (see `keys`), a miss that taking it at once waited for. Whatever
/// the collector says of it still comes before anything the reading met after it.
#[derive(Default)]
pub(in crate::import::trace_event) struct Lagging<'a> {
    /// The event, and the hash of its key: at most one of the two, in a slot of its own kind,
    /// so that a small event is not moved about in a large one's room.
    pending: Option<(RawEvent<'a>, u64)>,
    quick: Option<(Quick<'a>, u64)>,
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

    pub(in crate::import::trace_event::scan) fn push_quick(
        &mut self,
        out: &mut Collector<'a>,
        event: Quick<'a>,
    ) -> Result<(), Stop> {
        let hash = out.prefetch_quick(&event);
        self.flush(out)?;
        self.quick = Some((event, hash));
        Ok(())
    }

    pub(in crate::import::trace_event::scan) fn flush(
        &mut self,
        out: &mut Collector<'a>,
    ) -> Result<(), Stop> {
        if let Some((last, hash)) = self.quick.take() {
            return out.take_quick(&last, hash).map_err(Stop::Event);
        }
        self.pending.take().map_or(Ok(()), |(last, hash)| {
            out.take_hashed(last, Some(hash)).map_err(Stop::Event)
        })
    }

    /// `stop`, unless the collector refuses the event pending.
    pub(in crate::import::trace_event::scan) fn fail(
        &mut self,
        out: &mut Collector<'a>,
        stop: Stop,
    ) -> Stop {
        self.flush(out).err().unwrap_or(stop)
    }
}
