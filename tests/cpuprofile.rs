//! Chrome's `.cpuprofile` through the binary, against `fixtures/oracle.py cpuprofile` (Python,
//! from the nodes, samples and time deltas): speedscope's Chrome 65 sample.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Json, fixtures, run_obol};

fn rows(json: &Json) -> BTreeMap<(String, Option<String>), (f64, f64)> {
    json.get("functions")
        .array()
        .iter()
        .map(|f| {
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().map(str::to_owned),
            );
            (key, (f.get("self").f64(), f.get("total").f64()))
        })
        .collect()
}

#[test]
fn chromes_sample_matches_the_oracle() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/other-formats/speedscope/Chrome/65/simple.cpuprofile");
    if !path.exists() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false"),
            "{} is missing under CI",
            path.display()
        );
        eprintln!("SKIPPED: no corpus at {}", path.display());
        return;
    }
    let out = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new("python3")
        .arg(fixtures().join("oracle.py"))
        .args([
            "cpuprofile".as_ref(),
            path.as_os_str(),
            out.path().as_os_str(),
        ])
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
    assert_eq!(got.get("format").str(), "cpuprofile");
    assert_eq!(got.get("total").f64(), want.get("total").f64());
    let want = rows(&want);
    assert!(want.len() >= 5);
    assert_eq!(rows(&got), want);
}
