//! Taking each event once the next is read.

use super::Stop;
use crate::import::trace_event::RawEvent;
use crate::import::trace_event::collect::Collector;

/// The event read last, taken once the next is read: meanwhile the slot its key is looked up
/// in comes into the cache (see `keys`), a miss that taking it at once waited for. Whatever
/// the collector says of it still comes before anything the reading met after it.
#[derive(Default)]
pub(in crate::import::trace_event) struct Lagging<'a> {
    /// The event, and the hash of its key.
    pending: Option<(RawEvent<'a>, u64)>,
}

impl<'a> Lagging<'a> {
    pub(in crate::import::trace_event::scan) fn push(
        &mut self,
        out: &mut Collector<'a>,
        event: RawEvent<'a>,
    ) -> Result<(), Stop> {
        let hash = out.prefetch(&event);
        self.pending
            .replace((event, hash))
            .map_or(Ok(()), |(last, hash)| {
                out.take_hashed(last, Some(hash)).map_err(Stop::Event)
            })
    }

    pub(in crate::import::trace_event::scan) fn flush(
        &mut self,
        out: &mut Collector<'a>,
    ) -> Result<(), Stop> {
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
