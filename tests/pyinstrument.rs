//! pyinstrument sessions through the binary, against `fixtures/oracle.py pyinstrument`:
//! pyinstrument's own `Session.load` and the frame tree it builds from the records, for a real
//! `pyinstrument -r pyisession` run of the fixture program.

mod common;

use std::collections::BTreeMap;

use common::{close, fixture};

type Key = (String, Option<String>, Option<u64>);

/// (self, total) per (name, file, definition line): pyinstrument tells functions apart by
/// their first line, as pstats does.
fn rows(doc: &common::Json) -> BTreeMap<Key, (f64, f64)> {
    doc.get("functions")
        .array()
        .iter()
        .map(|f| {
            (
                (
                    f.get("name").str().to_owned(),
                    f.get("file").opt_str().map(str::to_owned),
                    f.get("line").opt_u64(),
                ),
                (f.get("self").f64(), f.get("total").f64()),
            )
        })
        .collect()
}

/// Whether Python can import pyinstrument, the oracle; if not, skips (fails under CI).
fn have_pyinstrument() -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import pyinstrument"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        common::skip("python3 -c 'import pyinstrument'");
    }
    found
}

#[test]
fn pyinstruments_session_matches_its_own_reading() {
    if !have_pyinstrument() {
        return;
    }
    let path = fixture("program.pyisession");
    let got = common::summary_json(&path, &[]);
    let want = common::python_oracle("pyinstrument", &path);
    assert_eq!(got.get("format").str(), "pyinstrument");
    assert_eq!(got.get("unit").str(), "seconds");
    let (g, w) = (got.get("total").f64(), want.get("total").f64());
    assert!(close(g, w), "total {g}, pyinstrument's {w}");
    let (got_rows, want_rows) = (rows(&got), rows(&want));
    assert_eq!(
        got_rows.keys().collect::<Vec<_>>(),
        want_rows.keys().collect::<Vec<_>>()
    );
    for (key, (s, t)) in &want_rows {
        let (gs, gt) = got_rows[key];
        assert!(
            close(*s, gs) && close(*t, gt),
            "{key:?}: obol {gs} {gt}, pyinstrument {s} {t}"
        );
    }
    assert!(want_rows.keys().any(|(name, _, _)| name == "apply_tax"));
}
