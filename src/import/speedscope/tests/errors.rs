//! Bad input: every error says what broke and where, and none panics.

use super::*;

#[test]
fn evented_errors() {
    let events = |list: &str| {
        format!(
            r#"{{{FRAMES_ABCD},"profiles":[{{"type":"evented","unit":"none","events":[{list}]}}]}}"#
        )
    };
    let cases = [
        (
            r#"{"type":"O","frame":0,"at":5},{"type":"C","frame":0,"at":4}"#,
            "before the event ahead",
        ),
        (r#"{"type":"C","frame":0,"at":4}"#, "when no frame is open"),
        (
            r#"{"type":"O","frame":0,"at":1},{"type":"O","frame":1,"at":2},{"type":"C","frame":0,"at":3}"#,
            "out-of-order",
        ),
        (r#"{"type":"O","frame":0,"at":1}"#, "still open"),
        (r#"{"type":"O","frame":9,"at":1}"#, "names frame 9"),
        (r#"{"type":"X","frame":0,"at":1}"#, "unknown variant"),
    ];
    for (list, wanted) in cases {
        let err = fail(events(list).as_bytes());
        assert!(err.message.contains(wanted), "{list}: {err}");
        assert!(matches!(err.location, Location::LineColumn(1, _)), "{err}");
    }
    // With `shared` last, the bad index is found on a second reading, which stops just after the
    // event holding it: that event's `}` is the 70th byte.
    let late = format!(
        r#"{{"profiles":[{{"type":"evented","events":[{{"type":"O","frame":9,"at":1}},{{"type":"C","frame":9,"at":2}}]}}],{FRAMES_ABCD}}}"#
    );
    let err = fail(late.as_bytes());
    assert!(
        err.message.contains("event 0 of profile 0 names frame 9"),
        "{err}"
    );
    assert_eq!(err.location, Location::LineColumn(1, 71), "{err}");
}

#[test]
fn frame_index_out_of_range_says_where_whichever_comes_first() {
    // Line 3 holds the bad sample in both orders; the second needs the frame count from `shared`,
    // which only comes after.
    let profiles = "\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\n\"weights\":[1,1],\n\"samples\":[[0],[1,4]]}]";
    let shared = "\"shared\":{\"frames\":[{\"name\":\"a\"},{\"name\":\"b\"}]}";
    for json in [
        format!("{{{shared},\n{profiles}}}"),
        format!("{{{profiles},\n{shared}}}"),
    ] {
        let err = fail(json.as_bytes());
        assert!(
            err.message.contains("sample 1 of profile 0 names frame 4"),
            "{err}"
        );
        assert!(err.message.contains("has 2 frames"), "{err}");
        let Location::LineColumn(line, _) = err.location else {
            panic!("{err}")
        };
        assert_eq!(
            line,
            if json.starts_with("{\"shared") { 4 } else { 3 },
            "{err}"
        );
    }
}

#[test]
fn sampled_errors() {
    let profile =
        |body: &str| format!(r#"{{{FRAMES_ABCD},"profiles":[{{"unit":"none",{body}}}]}}"#);
    let cases = [
        (
            r#""type":"sampled","samples":[[0],[1]],"weights":[1]"#,
            "2 samples but 1 weights",
        ),
        (
            r#""type":"sampled","samples":[[0]],"weights":[1,2]"#,
            "1 samples but 2 weights",
        ),
        (
            r#""type":"sampled","samples":[[0]],"weights":[-1]"#,
            "negative",
        ),
        (
            r#""type":"sampled","samples":[[0.5]],"weights":[1]"#,
            "expected u32",
        ),
        (
            r#""type":"sampled","samples":[[-1]],"weights":[1]"#,
            "expected u32",
        ),
        (
            r#""type":"sampled","samples":[[4294967295]],"weights":[1]"#,
            "names frame 4294967295",
        ),
        (r#""type":"sampled","weights":[1]"#, "no `samples`"),
        (r#""type":"sampled","samples":[[0]]"#, "no `weights`"),
        (r#""type":"evented""#, "no `events`"),
        (r#""type":"flat""#, "unknown variant `flat`"),
        (r#""samples":[[0]],"weights":[1]"#, "no `type`"),
        (
            r#""type":"sampled","samples":[],"samples":[],"weights":[]"#,
            "duplicate field",
        ),
    ];
    for (body, wanted) in cases {
        let err = fail(profile(body).as_bytes());
        assert!(err.message.contains(wanted), "{body}: {err}");
        assert!(matches!(err.location, Location::LineColumn(1, _)), "{err}");
    }
}

#[test]
fn not_speedscope_or_broken_json() {
    let cases: [(&[u8], &str); 7] = [
        (br#"{"a":1}"#, "no `profiles`"),
        (br#"{"profiles":[]}"#, "no `shared.frames`"),
        (br#"{"profiles":[],"shared":{"frames":[]}}"#, "`profiles` is empty"),
        (br#"[1,2]"#, "invalid type"),
        (br#"{"profiles":[{"type":"sampled","samples":[[0,1"#, "EOF"),
        (
            br#"{"shared":{"frames":[]},"profiles":[{"type":"sampled","samples":[],"weights":[]}]} x"#,
            "trailing",
        ),
        (b"", "EOF"),
    ];
    for (json, wanted) in cases {
        let err = fail(json);
        assert!(
            err.message.contains(wanted),
            "{}: {err}",
            String::from_utf8_lossy(json)
        );
        assert!(
            matches!(err.location, Location::LineColumn(1, _)),
            "{}: {err}",
            String::from_utf8_lossy(json)
        );
        // The position is the location, not repeated in the message.
        assert!(!err.message.contains(" at line "), "{err}");
    }
}

#[test]
fn deep_nesting_is_a_clean_error() {
    let deep = "[".repeat(200_000);
    for json in [
        deep.clone(),
        format!(r#"{{"profiles":{deep}"#),
        format!(r#"{{"profiles":[{{"type":"sampled","samples":{deep}"#),
        format!(r#"{{"shared":{{"frames":[{{"name":{deep}"#),
        format!(r#"{{"ignored":{deep}"#),
        format!(r#"{{"profiles":[{{"ignored":{deep}"#),
        format!(r#"{{"profiles":[{{"type":{{"sampled":{deep}"#),
        format!(r#"{{"profiles":[{{"type":"evented","events":[{{"at":{deep}"#),
        "{\"a\":".repeat(200_000),
    ] {
        let err = fail(json.as_bytes());
        assert!(matches!(err.location, Location::LineColumn(1, _)), "{err}");
    }
}

#[test]
fn units_and_bom() {
    let json = format!(
        "\u{feff}{{{FRAMES_ABCD},\"profiles\":[{{\"type\":\"sampled\",\"unit\":\"fortnights\",\"samples\":[[0]],\"weights\":[1]}},{{\"type\":\"sampled\",\"samples\":[[0]],\"weights\":[1]}}]}}"
    );
    let (set, warnings) = load(&json);
    assert_eq!(set.unit(), Unit::None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("\"fortnights\""), "{}", warnings[0]);
    assert!(warnings[0].contains("1 more"), "{}", warnings[0]);
    // Columns count the byte-order mark: the `x` is the 4th byte.
    let err = fail("\u{feff}x".as_bytes());
    assert_eq!(err.location, Location::LineColumn(1, 4), "{err}");
}
