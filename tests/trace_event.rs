//! Chrome trace events through the binary, against `fixtures/oracle.py trace` (Python, from the
//! events, by a sweep over time rather than a replay of them): real recordings by py-spy
//! (`--format chrometrace`) and viztracer, and speedscope's own trace-event samples. The samples
//! speedscope only warns about (ends that match nothing open) are refused, one line naming the
//! event.

mod common;

use std::path::Path;

use common::{Json, fixture, run_obol};

fn assert_matches_oracle(path: &Path) {
    common::assert_matches_python_oracle("trace", "trace-event", path);
}

#[test]
fn recordings_of_py_spy_and_viztracer_match_the_oracle() {
    for name in ["program.pyspy.chrometrace.json", "program.viztracer.json"] {
        assert_matches_oracle(&fixture(name));
    }
    if let Some(path) = common::corpus("other-formats/generated/pyspy_cpu_mix.chrometrace.json") {
        assert_matches_oracle(&path);
    }
}

#[test]
fn places_come_from_py_spys_args_and_viztracers_names() {
    let (output, _) = run_obol([
        "summary",
        fixture("program.viztracer.json").to_str().unwrap(),
        "--json",
    ]);
    let doc = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let files: Vec<Option<&str>> = doc
        .get("functions")
        .array()
        .iter()
        .map(|f| f.get("file").opt_str())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.is_some_and(|f| f.ends_with("shop/pricing.py"))),
        "{files:?}"
    );
    let (output, _) = run_obol([
        "summary",
        fixture("program.pyspy.chrometrace.json").to_str().unwrap(),
        "--json",
    ]);
    let doc = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let apply_tax = doc
        .get("functions")
        .array()
        .iter()
        .find(|f| f.get("name").str() == "apply_tax")
        .cloned()
        .expect("apply_tax is sampled");
    assert!(apply_tax.get("file").str().ends_with("shop/pricing.py"));
    assert!(apply_tax.get("line").opt_u64().is_some());
}

/// speedscope's samples whose ends match nothing open: speedscope warns and carries on, which
/// hides a broken trace; obol refuses them.
const REFUSED: [&str; 7] = [
    "end-event-with-empty-stack.json",
    "end-non-top-of-stack.json",
    "invalid-x-nesting.json",
    "mismatched-name.json",
    "out-of-order-unbalanced-name.json",
    "too-many-end-events.json",
    "unbalanced-name.json",
];

#[test]
fn speedscopes_trace_samples_match_the_oracle_or_are_refused_naming_the_event() {
    let Some(dir) = common::corpus("other-formats/speedscope/trace-event") else {
        return;
    };
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if REFUSED.contains(&name.as_str()) {
            let (output, _) = run_obol(["summary", path.to_str().unwrap()]);
            assert_eq!(output.status.code(), Some(2), "{name}");
            let err = String::from_utf8_lossy(&output.stderr).into_owned();
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
            assert!(err.contains("read as Chrome trace events"), "{name}: {err}");
            assert!(
                err.trim_end().rsplit_once(" at event ").is_some(),
                "{name}: {err}"
            );
            continue;
        }
        assert_matches_oracle(&path);
        read += 1;
    }
    assert!(read >= 20, "{read} samples compared");
}

/// Hermes' traces: `samples` naming entries of `stackFrames`, one profile per thread named from
/// the metadata, each sample lasting until the next of its thread.
#[test]
fn sampled_traces_give_one_profile_per_thread_named_from_the_metadata() {
    let Some(path) =
        common::corpus("other-formats/speedscope/trace-event/multi-thread-with-samples.json")
    else {
        return;
    };
    let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--json"]);
    assert!(output.status.success(), "{output:?}");
    let doc = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let names: Vec<String> = doc
        .get("profiles")
        .array()
        .iter()
        .map(|p| p.get("name").str().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "hermes (pid 7512), mqt_js (tid 1)",
            "hermes (pid 7512, tid 2)"
        ]
    );
}

/// Chrome's Performance panel: V8's profile sent in `ProfileChunk`s after its `Profile`, some
/// chunks without data, beside the browser's own events.
#[test]
fn chrome_recordings_read_v8s_profile_chunks() {
    let Some(path) = common::corpus("other-formats/speedscope/Chrome/141/no-arg-data.json") else {
        return;
    };
    assert_matches_oracle(&path);
}
