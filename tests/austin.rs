//! Austin's text output through the binary, against `fixtures/oracle.py austin` (Python, from
//! the sample lines): a real recording of the fixture program by `austin -i 2000`, and Austin
//! 3.3's output in inferno's test data.

mod common;

use common::fixture;

#[test]
fn austins_recording_matches_the_oracle() {
    let functions =
        common::assert_matches_python_oracle("austin", "austin", &fixture("program.austin"));
    assert!(functions.len() > 50, "{} functions", functions.len());
}

/// Austin 3.3 wrote threads without an interpreter id. inferno draws the file as folded stacks;
/// obol reads its frames as Austin writes them.
#[test]
fn austin_3_3_in_infernos_test_data_matches_the_oracle() {
    let Some(path) = common::corpus("inferno/flamegraph/austin/flames.txt") else {
        return;
    };
    let functions = common::assert_matches_python_oracle("austin", "austin", &path);
    assert!(functions.len() >= 5, "{} functions", functions.len());
}
