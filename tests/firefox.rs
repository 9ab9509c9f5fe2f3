//! Firefox profiles through the binary, against `fixtures/oracle.py firefox` (Python, from the
//! sample, stack and frame tables): speedscope's three Firefox samples (Firefox 59, 61 and 63).
//! Their figures are also those of speedscope's own importer (its published test snapshots:
//! `d` 31.99 ms in 59's, `gamma` 9.95 ms of `main`'s 11.15 ms in 61's recursion).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Json, fixtures, run_obol};

type Rows = BTreeMap<(String, Option<String>), (f64, f64)>;

fn rows(json: &Json) -> Rows {
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

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn firefox_samples_match_the_oracle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/other-formats/speedscope/Firefox");
    if !dir.exists() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false"),
            "{} is missing under CI",
            dir.display()
        );
        eprintln!("SKIPPED: no corpus at {}", dir.display());
        return;
    }
    let mut compared = 0;
    // Firefox 79's, from speedscope's source-map samples, too.
    for version in [
        "59/simple-firefox.json",
        "61/recursion.json",
        "63/simple-firefox.json",
        "../source-maps/firefox-79-webpack.json",
    ] {
        let path = dir.join(version);
        let out = tempfile::NamedTempFile::new().unwrap();
        let status = Command::new("python3")
            .arg(fixtures().join("oracle.py"))
            .args(["firefox".as_ref(), path.as_os_str(), out.path().as_os_str()])
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
        assert_eq!(got.get("format").str(), "firefox");
        assert!(
            close(got.get("total").f64(), want.get("total").f64()),
            "{version}"
        );
        let (got, want) = (rows(&got), rows(&want));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{version}"
        );
        for (key, (s, t)) in &want {
            let (gs, gt) = got[key];
            assert!(
                close(*s, gs) && close(*t, gt),
                "{version} {key:?}: {gs} {gt} vs {s} {t}"
            );
        }
        compared += want.len();
    }
    assert!(compared >= 20, "{compared} functions compared");
}
