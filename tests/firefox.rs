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

/// The processed format as samply writes it (its own test recording, `ls-profile.json`,
/// `preprocessedProfileVersion` 41, is laid out so): per-thread `stringArray`, unsymbolicated
/// names (the addresses as text), `null` stacks, sample `weight`s, a first thread with empty
/// tables; gzipped like samply's `profile.json.gz`. And the newer layout with
/// `shared.stringArray` and frames without a name (named by their address). Written here by
/// hand, since no processed recording can be made on CI's machine; checked against
/// `oracle.py firefox`'s own reading of the processed tables.
#[test]
fn processed_profiles_as_samply_writes_them_match_the_oracle() {
    use std::io::Write;
    let samply_41 = r#"{"meta":{"interval":0.25,"preprocessedProfileVersion":41,"processType":0,
 "product":"ls","symbolicated":false,"version":24},
 "libs":[],
 "threads":[
  {"frameTable":{"length":0,"address":[],"func":[],"line":[]},
   "funcTable":{"length":0,"name":[],"fileName":[]},"name":"GeckoMain","pid":18693,
   "samples":{"length":0,"stack":[],"time":[],"weight":[],"weightType":"samples"},
   "stackTable":{"length":0,"prefix":[],"frame":[]},"stringArray":[],"tid":18693},
  {"frameTable":{"length":4,"address":[101495,94927,108787,13251],"func":[0,1,2,3],
    "line":[null,null,null,12]},
   "funcTable":{"length":4,"name":[0,2,3,4],"fileName":[null,null,null,5]},
   "name":"GeckoMain","pid":18693,"processName":"ls",
   "samples":{"length":6,"stack":[2,3,null,1,3,2],"time":[0.0,0.25,0.5,0.75,1.0,1.25],
    "weight":[1,12,1,33,1,1],"weightType":"samples"},
   "stackTable":{"length":4,"prefix":[null,0,1,1],"frame":[0,1,2,3]},
   "stringArray":["0x18c77","ld-linux-aarch64.so.1","0x172cf","0x1a8f3","main","ls.c"],
   "tid":18693}]}"#;
    let shared = r#"{"meta":{"interval":1,"preprocessedProfileVersion":57},
 "shared":{"stringArray":["","main","app.py","work"]},
 "threads":[{"name":"python3","tid":7,
   "frameTable":{"length":3,"address":[-1,4660,-1],"func":[0,1,2],"line":[3,null,9]},
   "funcTable":{"length":3,"name":[1,0,3],"fileName":[2,null,2]},
   "samples":{"length":4,"stack":[0,1,2,2],"weight":null,"weightType":"samples"},
   "stackTable":{"length":3,"prefix":[null,0,0],"frame":[0,1,2]}}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("profile.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(samply_41.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let want = common::assert_matches_python_oracle("firefox", "firefox", &gz);
    // By hand: 0x18c77 is under every stack, 48 samples (the null stack's one left out);
    // main is the leaf of 12 + 1.
    let root = &want[&("0x18c77".to_owned(), None)];
    assert_eq!((root.0, root.1), (0.0, 48.0));
    assert_eq!(want[&("main".to_owned(), Some("ls.c".to_owned()))].0, 13.0);
    let plain = dir.path().join("shared.json");
    std::fs::write(&plain, shared).unwrap();
    let want = common::assert_matches_python_oracle("firefox", "firefox", &plain);
    assert_eq!(want[&("0x1234".to_owned(), None)].0, 1.0);
    assert_eq!(want[&("main".to_owned(), Some("app.py".to_owned()))].1, 4.0);
}

/// A real samply file: `samply import` of a perf recording of the fixture program
/// (`fixtures/regenerate.sh`), against the oracle run now and the one written when the file was
/// made.
#[test]
fn samplys_processed_profile_matches_the_oracle() {
    let path = common::fixture("program.samply.json.gz");
    let want = common::assert_matches_python_oracle("firefox", "firefox", &path);
    let made = common::Json::parse(
        &std::fs::read_to_string(common::fixtures().join("oracle/program.samply.json.gz.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(common::function_weights(made.get("functions")), want);
    let got = common::summary_json(&path, &[]);
    let names = |doc: &common::Json| -> Vec<String> {
        let profiles = doc.get("profiles");
        profiles
            .array()
            .iter()
            .map(|p| p.get("name").str().to_owned())
            .collect()
    };
    assert_eq!(names(&got), names(&made));
    assert!(want.len() > 100, "{} functions", want.len());
}
