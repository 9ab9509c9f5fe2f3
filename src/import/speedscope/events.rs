//! Evented profiles: open and close events replayed into a call tree as they are read.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::de::FrameBound;
use crate::profile::{CallTreeBuilder, FrameId, NodeId, TimelineSample};

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum EventType {
    #[serde(rename = "O")]
    Open,
    #[serde(rename = "C")]
    Close,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: EventType,
    frame: u32,
    at: f64,
}

pub(super) struct EventsSeed<'a> {
    pub bound: FrameBound,
    pub max_frame: &'a mut Option<u32>,
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = (CallTreeBuilder, Vec<TimelineSample>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = (CallTreeBuilder, Vec<TimelineSample>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of open/close events")
    }

    /// Replays the events as speedscope's `CallTreeProfileBuilder` does: the time between two
    /// events belongs to the frame on top of the stack, and time with nothing open belongs to no
    /// frame, so it is left out of the tree and the timeline alike.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let profile = self.bound.profile;
        let mut tree = CallTreeBuilder::new();
        let mut timeline = Vec::new();
        // (frame index, node) of every open frame, outermost first.
        let mut open: Vec<(u32, NodeId)> = Vec::new();
        let mut last_at: Option<f64> = None;
        let mut max = *self.max_frame;
        let mut count = 0usize;
        while let Some(event) = seq.next_element::<RawEvent>()? {
            let n = count;
            count += 1;
            self.bound.check(event.frame, "event", n)?;
            if max < Some(event.frame) {
                max = Some(event.frame);
            }
            if let Some(last) = last_at {
                let delta = event.at - last;
                if delta < 0.0 {
                    return Err(de::Error::custom(format_args!(
                        "event {n} of profile {profile} is at {}, before the event ahead of it (at {last}); events must be in time order",
                        event.at
                    )));
                }
                if delta > 0.0
                    && let Some(&(_, top)) = open.last()
                {
                    tree.add_self(top, delta);
                    timeline.push(TimelineSample {
                        leaf: top,
                        weight: delta,
                    });
                }
            }
            last_at = Some(event.at);
            match event.kind {
                EventType::Open => {
                    let parent = open.last().map_or(NodeId::ROOT, |&(_, node)| node);
                    let node = tree.child(parent, FrameId(event.frame));
                    open.push((event.frame, node));
                }
                EventType::Close => match open.pop() {
                    Some((top, _)) if top == event.frame => {}
                    Some((top, _)) => {
                        return Err(de::Error::custom(format_args!(
                            "event {n} of profile {profile} closes frame {} while frame {top} is the innermost open one; speedscope rejects out-of-order closes",
                            event.frame
                        )));
                    }
                    None => {
                        return Err(de::Error::custom(format_args!(
                            "event {n} of profile {profile} closes frame {} when no frame is open",
                            event.frame
                        )));
                    }
                },
            }
        }
        if !open.is_empty() {
            return Err(de::Error::custom(format_args!(
                "profile {profile} ends with {} frame{} still open (speedscope requires every opened frame to be closed)",
                open.len(),
                if open.len() == 1 { "" } else { "s" }
            )));
        }
        *self.max_frame = max;
        Ok((tree, timeline))
    }
}
