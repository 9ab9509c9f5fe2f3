//! Chrome's `.cpuprofile` through the binary, against `fixtures/oracle.py cpuprofile` (Python,
//! from the nodes, samples and time deltas): speedscope's Chrome 65 sample.

mod common;

#[test]
fn chromes_sample_matches_the_oracle() {
    let Some(path) = common::corpus("other-formats/speedscope/Chrome/65/simple.cpuprofile") else {
        return;
    };
    let functions = common::assert_matches_python_oracle("cpuprofile", "cpuprofile", &path);
    assert!(functions.len() >= 5, "{} functions", functions.len());
}
