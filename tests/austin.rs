//! Austin's text output through the binary, against `fixtures/oracle.py austin` (Python, from
//! the sample lines): a real recording of the fixture program by `austin -i 2000`.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Json, fixture, fixtures, run_obol};

type Rows = BTreeMap<(String, Option<String>), (f64, f64, Option<u64>)>;

fn rows(json: &Json) -> Rows {
    json.get("functions")
        .array()
        .iter()
        .map(|f| {
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().map(str::to_owned),
            );
            (
                key,
                (
                    f.get("self").f64(),
                    f.get("total").f64(),
                    f.get("line").opt_u64(),
                ),
            )
        })
        .collect()
}

#[test]
fn austins_recording_matches_the_oracle() {
    assert_matches_oracle(&fixture("program.austin"));
}

/// inferno's test data: Austin 3.3's output, threads without an interpreter id. inferno draws it
/// as folded stacks; obol reads its frames as Austin writes them.
#[test]
fn austin_3_3_in_infernos_test_data_matches_the_oracle() {
    let Some(path) = common::corpus("inferno/flamegraph/austin/flames.txt") else {
        return;
    };
    assert_matches_oracle(&path);
}

fn assert_matches_oracle(path: &std::path::Path) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new("python3")
        .arg(fixtures().join("oracle.py"))
        .args(["austin".as_ref(), path.as_os_str(), out.path().as_os_str()])
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let want = Json::parse(&std::fs::read_to_string(out.path()).unwrap()).unwrap();
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(got.get("format").str(), "austin");
    assert_eq!(got.get("unit").str(), want.get("unit").str());
    assert_eq!(got.get("total").f64(), want.get("total").f64());
    let (got, want) = (rows(&got), rows(&want));
    assert!(want.len() >= 5, "{} functions", want.len());
    assert_eq!(got, want);
}
