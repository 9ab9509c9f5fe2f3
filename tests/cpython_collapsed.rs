//! CPython 3.15's sampling-profiler collapsed output through the binary, against
//! `fixtures/oracle.py collapsed`. No Python 3.15 is installed here, so the fixture is written
//! by `fixtures/make_collapsed.py` from Austin's real samples of the fixture program, following
//! `CollapsedStackCollector.export` in CPython's `Lib/profiling/sampling/stack_collector.py`.

mod common;

use common::fixture;

#[test]
fn collapsed_stacks_match_the_oracle() {
    let functions = common::assert_matches_python_oracle(
        "collapsed",
        "cpython-collapsed",
        &fixture("program.cpython-collapsed.txt"),
    );
    assert!(functions.len() > 50, "{} functions", functions.len());
    let apply_tax = functions
        .iter()
        .find(|((name, _), _)| name == "apply_tax")
        .expect("apply_tax");
    // Base names only, as CPython writes them.
    assert_eq!(apply_tax.0.1.as_deref(), Some("pricing.py"));
}
