//! pyinstrument sessions (`.pyisession`, `pyinstrument -r pyisession -o FILE` or
//! `Session.save`): JSON whose `frame_records` list every sample in the order it was taken,
//! each a stack (root first) of frame infos and the seconds it stands for. A frame info is
//! `function NUL file NUL first line`, then attributes after `\x01` (the line running, the
//! class), which obol leaves out. The samples in order are the Time Order view.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::{Location, ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, TimelineSample, Unit,
};

/// A JSON object with a session's keys: `Session.to_json` writes `sample_count` and
/// `start_call_stack` near the start and `frame_records` last.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if text.trim_ascii_start().first() != Some(&b'{') {
        return Sniff::No;
    }
    let has = |key: &[u8]| memchr::memmem::find(text, key).is_some();
    if has(b"\"frame_records\"") || (has(b"\"start_call_stack\"") && has(b"\"sample_count\"")) {
        Sniff::Yes
    } else {
        Sniff::No
    }
}

#[derive(Deserialize)]
struct Session {
    frame_records: Vec<(Vec<String>, f64)>,
    #[serde(default)]
    start_time: Option<f64>,
    #[serde(default)]
    duration: Option<f64>,
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let session: Session = serde_json::from_slice(bytes).map_err(|e| ParseError {
        location: Location::LineColumn(e.line() as u64, e.column() as u64),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_owned(),
    })?;
    let mut frames = FrameTable::new(FunctionKey::NameFileLine);
    let mut ids: FxHashMap<&str, FrameId> = FxHashMap::default();
    let mut builder = CallTreeBuilder::new();
    let mut timeline = Vec::with_capacity(session.frame_records.len());
    let mut stack = Vec::new();
    let mut negative = 0usize;
    for (infos, time) in &session.frame_records {
        if time.is_nan() || *time < 0.0 {
            negative += 1;
            continue;
        }
        stack.clear();
        for info in infos {
            let identifier = info.split('\x01').next().unwrap_or("");
            let id = *ids.entry(identifier).or_insert_with(|| {
                let mut parts = identifier.split('\x00');
                let name = parts.next().unwrap_or("");
                let file = parts.next().filter(|f| !f.is_empty());
                let line = parts
                    .next()
                    .and_then(|l| l.parse::<u32>().ok())
                    .filter(|&l| l > 0);
                frames.intern(name, file, line)
            });
            stack.push(id);
        }
        let leaf = builder.add_stack(&stack, *time);
        timeline.push(TimelineSample {
            leaf,
            weight: *time,
        });
    }
    if negative > 0 {
        warnings.push(format!(
            "skipped {negative} frame records with a negative time"
        ));
    }
    if timeline.is_empty() {
        return Err(ParseError::at_byte(0, "the session has no frame records"));
    }
    let mut profile = Profile::from_tree("", Unit::Seconds, builder.finish());
    profile.timeline = Some(timeline);
    profile.start_value = session.start_time.map(|_| 0.0);
    profile.end_value = session.duration;
    Ok(ProfileSet {
        frames,
        profiles: vec![profile],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{function_named, weights};

    #[test]
    fn records_in_order_counted_by_hand() {
        let text = r#"{"start_time": 1.0, "duration": 0.5, "sample_count": 3,
            "start_call_stack": [], "target_description": "x", "cpu_time": 0,
            "frame_records": [
              [["<module>\u0000main.py\u00001\u0001l5", "work\u0000main.py\u00003\u0001l4"], 0.25],
              [["<module>\u0000main.py\u00001\u0001l9"], 0.125],
              [["<module>\u0000main.py\u00001", "work\u0000main.py\u00003", "[await]"], 0.0625]
            ]}"#;
        assert_eq!(sniff(text.as_bytes()), Sniff::Yes);
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        let profile = &set.profiles[0];
        assert_eq!((profile.unit, profile.total), (Unit::Seconds, 0.4375));
        let timeline = profile.timeline.as_ref().unwrap();
        assert_eq!(
            timeline.iter().map(|s| s.weight).collect::<Vec<_>>(),
            [0.25, 0.125, 0.0625]
        );
        let work = function_named(&set, "work");
        assert_eq!((work.file, work.line), (Some("main.py"), Some(3)));
        assert_eq!(
            weights(&set, 0),
            [
                ("<module>".to_owned(), 0.125, 0.4375),
                ("[await]".to_owned(), 0.0625, 0.0625),
                ("work".to_owned(), 0.25, 0.3125),
            ]
        );
    }

    #[test]
    fn other_json_is_not_a_session_and_bad_records_say_where() {
        assert_eq!(sniff(br#"{"traceEvents": []}"#), Sniff::No);
        let error = parse(
            br#"{"frame_records": [[["a"], 1.0], [["b"], "x"]]}"#,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(
            matches!(error.location, Location::LineColumn(1, _)),
            "{error}"
        );
    }
}
