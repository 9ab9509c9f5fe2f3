use super::super::collect::Collector;
use super::super::parse_with;
use crate::import::test_support::mangle;

/// Reads `bytes` both ways: the quick reading must take and give what serde_json's does,
/// errors and warnings included. The quick reading lets go of what it leaves behind as a
/// mapped file's reading does, which must change nothing.
fn same_both_ways(bytes: &[u8]) -> bool {
    let (mut quick_warnings, mut exact_warnings) = (Vec::new(), Vec::new());
    let released = std::cell::Cell::new(0);
    let release = |at: usize| {
        assert!(at > released.get() && at <= bytes.len(), "{at}");
        released.set(at);
    };
    let release_range = |from: usize, to: usize| {
        assert!(from <= to && to <= bytes.len(), "{from}..{to}");
    };
    let quick = parse_with(
        bytes,
        &mut quick_warnings,
        true,
        true,
        &release,
        &release_range,
    );
    let exact = parse_with(bytes, &mut exact_warnings, false, true, &|_| {}, &|_, _| {});
    let text = String::from_utf8_lossy(bytes);
    match (&quick, &exact) {
        (Ok(quick), Ok(exact)) => {
            assert_eq!(format!("{quick:?}"), format!("{exact:?}"), "{text}");
            assert_eq!(quick_warnings, exact_warnings, "{text}");
            true
        }
        (Err(quick), Err(exact)) => {
            assert_eq!(quick.location, exact.location, "{text}");
            assert_eq!(quick.message, exact.message, "{text}");
            false
        }
        _ => panic!(
            "{text}: quickly {:?} but exactly {:?}",
            quick.is_ok(),
            exact.is_ok()
        ),
    }
}

/// Most of what traces hold: B/E and X events, names with places, py-spy's `args`, other
/// `args`, metadata, instant events, string and float ids, times as strings, escapes,
/// exponents, nulls, members to skip, non-ASCII.
const GOOD: &str = r#"{"displayTimeUnit":"ns","otherData":{"v":[1,-2.5e3,true,null,"]"]},"traceEvents":[
 {"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"Main\u0054hread"}},
 {"ph":"M","name":"process_name","pid":1,"args":{"name":"py"}},
 {"ph":"B","name":"main","pid":1,"tid":2,"ts":0,"cat":"x","args":{"filename":"a.py","line":3}},
 {"ph":"X","name":"fib (/s/fib.py:3)","pid":1,"tid":2,"ts":1.25,"dur":2.5,"tts":null},
 {"ph":"X","name":"f\u00e9","pid":1,"tid":2,"ts":"4","tdur":1e0},
 {"ph":"X","name":"g","pid":"1","tid":2.0,"ts":5,"dur":0.125,"args":{"k":[1,{"z":""}]}},
 {"ph":"i","name":"mark","pid":1,"tid":2,"ts":6,"s":"t"},
 {"ph":"X","name":"ünï","pid":1,"tid":2,"ts":6.5,"dur":0.5,"args":null},
 {"ph":"X","name":"h","pid":18446744073709551615,"tid":-3,"ts":-0,"dur":7},
 {"ph":"E","name":"main","pid":1,"tid":2,"ts":12.000001}
],"meta":{}}"#;

#[test]
fn the_quick_reading_takes_common_traces_and_reads_them_as_serde_json_does() {
    assert!(same_both_ways(GOOD.as_bytes()));
    // viztracer's and py-spy's events are read without serde_json.
    let common = br#"{"traceEvents":[{"ph":"X","name":"f (a.py:1)","pid":1,"tid":2,"ts":0.5,"dur":2,"cat":"FEE"},
        {"ph":"B","name":"g","pid":1,"tid":2,"ts":3,"args":{"filename":"b.py","line":7}},
        {"ph":"E","name":"g","pid":1,"tid":2,"ts":4,"args":{"filename":"b.py","line":7}}],
        "viztracer_metadata":{"version":"1.0.4","overflow":false}}"#;
    let mut collector = Collector::new();
    assert!(super::collect(common, false, &mut collector, &|_| {}, &|_, _| {}).is_ok());
    assert!(same_both_ways(common));
    let array = GOOD.split_once("\"traceEvents\":").unwrap().1;
    let array = array.rsplit_once(",\"meta\"").unwrap().0;
    assert!(same_both_ways(array.as_bytes()));
    // A tracer stopped mid-write: the array is repaired as serde_json's reading does.
    assert!(same_both_ways(&array.as_bytes()[..array.len() - 2]));
    // Duplicate fields, bad numbers, bad UTF-8 and trailing text are serde_json's errors.
    for bad in [
        r#"[{"ph":"X","ph":"B","name":"a","ts":1}]"#,
        r#"[{"ph":"X","name":"a","ts":01,"dur":1}]"#,
        r#"[{"ph":"X","name":"a","ts":1.,"dur":1}]"#,
        "[{\"ph\":\"X\",\"name\":\"\u{1}\",\"ts\":1,\"dur\":1}]",
        r#"[{"ph":"X","name":"a","ts":1,"dur":1}] x"#,
        r#"[{"ph":"X","name":"a","ts":1,"dur":1},]"#,
        r#"[{"ph":"X","name":5,"ts":1,"dur":1}]"#,
        r#"[{"ph":"X","name":"a","ts":1e999,"dur":1}]"#,
    ] {
        assert!(!same_both_ways(bad.as_bytes()), "{bad}");
    }
    let mut invalid_utf8 = br#"[{"ph":"X","name":"a","ts":1,"dur":1}]"#.to_vec();
    invalid_utf8[19] = 0xff;
    assert!(!same_both_ways(&invalid_utf8));
}

#[test]
fn halves_read_as_one_whether_the_guess_holds_or_not() {
    // Every trace from 64 bytes on is read in halves in these tests (`halves::SPLIT_FROM`):
    // GOOD's guess is an event's start; here it falls inside strings, then inside `args`.
    let event = |i: usize, name: &str| {
        format!(
            r#"{{"ph":"X","name":"{name}","pid":1,"tid":{},"ts":{i},"dur":0.5}}"#,
            i % 3
        )
    };
    let tricky = [r#"x\"},{\"ph\":\"B"#, "},{", r#"},{\"ph\":\"E"#];
    for trick in tricky {
        for at in 0..12 {
            let events: Vec<String> = (0..12)
                .map(|i| event(i, if i == at { trick } else { "f" }))
                .collect();
            let text = format!("[{}]", events.join(","));
            assert!(same_both_ways(text.as_bytes()), "{text}");
        }
    }
    let nested = r#"{"ph":"X","name":"n","ts":1,"dur":1,"args":{"k":[{"a":1},{"b":2},{"c":3},{"d":4},{"e":5},{"f":6},{"g":7},{"h":8}]}}"#;
    let trace = format!(
        r#"{{"traceEvents":[{},{nested},{}]}}"#,
        event(0, "a"),
        event(2, "b")
    );
    assert!(same_both_ways(trace.as_bytes()));
    // An event refused in the second half is named by its place in the whole array.
    let mut events: Vec<String> = (0..12).map(|i| event(i, "f")).collect();
    events[10] = r#"{"ph":"X","name":"late","pid":1,"tid":1}"#.into();
    assert!(!same_both_ways(
        format!("[{}]", events.join(",\n")).as_bytes()
    ));
}

#[test]
fn mangled_traces_read_the_same_quickly_and_exactly() {
    // Bytes changed, dropped and doubled at random: the quick reading must never take
    // what serde_json's refuses, nor read anything differently.
    let alphabet = b"[]{},:\"\\ 0123456789.e-xnBEX\x01\xff";
    let mut state = 5;
    for _ in 0..3_000 {
        let mut bytes = GOOD.as_bytes().to_vec();
        mangle(&mut bytes, alphabet, &mut state);
        same_both_ways(&bytes);
    }
}
