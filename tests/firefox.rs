//! Firefox profiles through the binary, against `fixtures/oracle.py firefox` (Python, from the
//! sample, stack and frame tables): speedscope's Firefox samples (59, 61, 63, and 79's from its
//! source-map samples). Their figures are also those of speedscope's own importer (its published
//! test snapshots: `d` 31.99 ms in 59's, `gamma` 9.95 ms of `main`'s 11.15 ms in 61's recursion).

mod common;

#[test]
fn firefox_samples_match_the_oracle() {
    let Some(dir) = common::corpus("other-formats/speedscope") else {
        return;
    };
    let mut compared = 0;
    for file in [
        "Firefox/59/simple-firefox.json",
        "Firefox/61/recursion.json",
        "Firefox/63/simple-firefox.json",
        "source-maps/firefox-79-webpack.json",
    ] {
        compared +=
            common::assert_matches_python_oracle("firefox", "firefox", &dir.join(file)).len();
    }
    assert!(compared >= 20, "{compared} functions compared");
}
