//! pprof through the binary, against `fixtures/oracle.py pprof` (the wire format decoded by hand
//! in Python, not by prost): austin2pprof's output for the fixture program, and speedscope's Go
//! sample (gzip-compressed, as Go writes it), per sample type.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Json, fixture, fixtures, run_obol};

fn oracle(path: &Path) -> Json {
    let out = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new("python3")
        .arg(fixtures().join("oracle.py"))
        .args(["pprof".as_ref(), path.as_os_str(), out.path().as_os_str()])
        .status()
        .expect("python3 runs");
    assert!(status.success(), "oracle for {}", path.display());
    Json::parse(&std::fs::read_to_string(out.path()).unwrap()).unwrap()
}

type Rows = BTreeMap<(String, Option<String>), (f64, f64, Option<u64>)>;

fn rows(functions: &Json) -> Rows {
    functions
        .array()
        .iter()
        .map(|f| {
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().map(str::to_owned),
            );
            let line = f.get("line").opt_u64();
            (key, (f.get("self").f64(), f.get("total").f64(), line))
        })
        .collect()
}

/// Every sample type of the file, picked one at a time with --thread, against the oracle's.
fn assert_matches_oracle(path: &Path) {
    let want = oracle(path);
    let profiles = want.get("profiles").array();
    assert!(!profiles.is_empty());
    for profile in profiles {
        let name = profile.get("name").str();
        let (output, _) = run_obol([
            "summary".as_ref(),
            path.as_os_str(),
            "--json".as_ref(),
            "--thread".as_ref(),
            name.as_ref(),
        ]);
        assert!(
            output.status.success(),
            "{} {name}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let got = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
        assert_eq!(got.get("format").str(), "pprof");
        let got_profile = got
            .get("profiles")
            .array()
            .iter()
            .find(|p| p.get("name").str() == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is a profile"));
        assert_eq!(got_profile.get("total").f64(), profile.get("total").f64());
        assert_eq!(
            rows(got.get("functions")),
            rows(profile.get("functions")),
            "{} {name}",
            path.display()
        );
    }
}

#[test]
fn austin2pprof_output_matches_the_oracle() {
    assert_matches_oracle(&fixture("program.austin.pprof"));
}

#[test]
fn gos_gzipped_pprof_matches_the_oracle_per_sample_type() {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/other-formats/speedscope/pprof/simple.prof");
    if !path.exists() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false"),
            "{} is missing under CI",
            path.display()
        );
        eprintln!("SKIPPED: no corpus at {}", path.display());
        return;
    }
    assert_matches_oracle(&path);
}

#[test]
fn a_summary_of_several_units_adds_up_only_the_first_ones() {
    // Go's sample: 150 samples and 1.5 s of CPU. Adding the two would mean nothing.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/other-formats/speedscope/pprof/simple.prof");
    if !path.exists() {
        return;
    }
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    let got = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(got.get("unit").str(), "samples");
    let want = oracle(&path);
    let first = &want.get("profiles").array()[0];
    let total: f64 = rows(got.get("functions")).values().map(|r| r.0).sum();
    assert_eq!(total, first.get("total").f64());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cpu (nanoseconds)"));
}
