//! pprof through the binary, against `fixtures/oracle.py pprof` (the wire format decoded by hand
//! in Python, not by prost): austin2pprof's output for the fixture program, and speedscope's Go
//! sample (gzip-compressed, as Go writes it), per sample type.

mod common;

use std::path::Path;

use common::{fixture, function_weights, python_oracle, summary_json};

/// Every sample type of the file, picked one at a time with --thread, against the oracle's.
fn assert_matches_oracle(path: &Path) {
    let want = python_oracle("pprof", path);
    let profiles = want.get("profiles").array();
    assert!(!profiles.is_empty());
    for profile in profiles {
        let name = profile.get("name").str();
        let got = summary_json(path, &["--thread", name]);
        assert_eq!(got.get("format").str(), "pprof");
        let got_profile = got
            .get("profiles")
            .array()
            .iter()
            .find(|p| p.get("name").str() == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is a profile"));
        assert_eq!(got_profile.get("total").f64(), profile.get("total").f64());
        common::assert_same_functions(
            &format!("{} {name}", path.display()),
            &function_weights(got.get("functions")),
            &function_weights(profile.get("functions")),
        );
    }
}

#[test]
fn austin2pprof_output_matches_the_oracle() {
    assert_matches_oracle(&fixture("program.austin.pprof"));
}

#[test]
fn gos_gzipped_pprof_matches_the_oracle_per_sample_type() {
    if let Some(path) = common::corpus("other-formats/speedscope/pprof/simple.prof") {
        assert_matches_oracle(&path);
    }
}

#[test]
fn a_summary_of_several_units_adds_up_only_the_first_ones() {
    // Go's sample: 150 samples and 1.5 s of CPU. Adding the two would mean nothing.
    let Some(path) = common::corpus("other-formats/speedscope/pprof/simple.prof") else {
        return;
    };
    let (output, _) = common::run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    let got = common::Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(got.get("unit").str(), "samples");
    let want = python_oracle("pprof", &path);
    let first = &want.get("profiles").array()[0];
    let total: f64 = function_weights(got.get("functions"))
        .values()
        .map(|r| r.0)
        .sum();
    assert_eq!(total, first.get("total").f64());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cpu (nanoseconds)"));
}
