//! The quick reading against the exact one and against naive counts, on generated, real and
//! mangled files.

use super::*;

/// A pseudo-random generator, so that the big test needs no crate and no seed file.
use crate::import::test_support::{lcg, mangle};

#[test]
fn many_samples_match_a_naive_count() {
    // Enough stacks to cross many batches between the threads, with repeats (which take the
    // shortcut along the previous stack) and shared prefixes. The oracle sums each distinct
    // path's weight directly from the list of stacks.
    let mut state = 7;
    let mut stacks: Vec<Vec<u32>> = Vec::new();
    for _ in 0..20_000 {
        let repeat = stacks
            .last()
            .filter(|_| lcg(&mut state).is_multiple_of(3))
            .cloned();
        let stack = repeat.unwrap_or_else(|| {
            let depth = (lcg(&mut state) % 12) as usize;
            (0..depth)
                .map(|d| (lcg(&mut state) % (3 + d as u64)) as u32)
                .collect()
        });
        stacks.push(stack);
    }
    let weights: Vec<u64> = (0..stacks.len()).map(|_| lcg(&mut state) % 5).collect();
    let frames: Vec<String> = (0..16).map(|i| format!(r#"{{"name":"f{i}"}}"#)).collect();
    let json = format!(
        r#"{{"profiles":[{{"type":"sampled","unit":"none","samples":{},"weights":{}}}],"shared":{{"frames":[{}]}}}}"#,
        serde_json::to_string(&stacks).unwrap(),
        serde_json::to_string(&weights).unwrap(),
        frames.join(",")
    );
    check_against_naive_count(&json, &stacks, &weights);
}

#[test]
fn uniform_weights_are_counted_alike_with_and_without_a_tree() {
    // py-spy's shape: every sample 0.01 s. Three profiles, so that the middle of the file, where
    // the counting reading splits, falls in one list or another as the sizes vary. The oracle
    // counts each function's samples straight from the stacks (recursion once) and multiplies
    // by the weight once.
    let mut state = 11;
    for lists in [1usize, 3] {
        let mut all: Vec<Vec<Vec<u32>>> = Vec::new();
        for list in 0..lists {
            let mut stacks: Vec<Vec<u32>> = Vec::new();
            for _ in 0..(2_000 + 1_500 * list) {
                let repeat = stacks
                    .last()
                    .filter(|_| lcg(&mut state).is_multiple_of(3))
                    .cloned();
                stacks.push(repeat.unwrap_or_else(|| {
                    let depth = (lcg(&mut state) % 14) as usize;
                    (0..depth).map(|_| (lcg(&mut state) % 20) as u32).collect()
                }));
            }
            all.push(stacks);
        }
        // Frames 0..20 are 12 functions: some functions have frames at two lines.
        let frames: Vec<String> = (0..20)
            .map(|i| format!(r#"{{"name":"f{}","file":"m.py","line":{i}}}"#, i % 12))
            .collect();
        let profiles: Vec<String> = all
            .iter()
            .map(|stacks| {
                format!(
                    r#"{{"type":"sampled","unit":"seconds","samples":{},"weights":{}}}"#,
                    serde_json::to_string(stacks).unwrap(),
                    serde_json::to_string(&vec![0.01; stacks.len()]).unwrap()
                )
            })
            .collect();
        let json = format!(
            r#"{{"shared":{{"frames":[{}]}},"profiles":[{}]}}"#,
            frames.join(","),
            profiles.join(",")
        );
        let (tree_set, _) = load(&json);
        let mut warnings = Vec::new();
        let counted = parse_released(json.as_bytes(), true, &mut warnings).unwrap();
        assert!(counted.profiles.iter().all(Profile::is_figures_only));
        assert_eq!(summary_of(&counted), summary_of(&tree_set));
        for (stacks, profile) in all.iter().zip(&counted.profiles) {
            let mut counts = [(0u64, 0u64); 12];
            for stack in stacks {
                if let Some(&leaf) = stack.last() {
                    counts[leaf as usize % 12].0 += 1;
                }
                let mut seen: Vec<u32> = stack.iter().map(|&f| f % 12).collect();
                seen.sort_unstable();
                seen.dedup();
                for f in seen {
                    counts[f as usize].1 += 1;
                }
            }
            assert_eq!(profile.total, stacks.len() as f64 * 0.01);
            for stat in profile.function_stats.as_ref().unwrap() {
                let name = &counted.frames.function(stat.func).name;
                let f: usize = name[1..].parse().unwrap();
                let (self_count, total_count) = counts[f];
                assert_eq!(stat.self_weight, self_count as f64 * 0.01, "{name}");
                assert_eq!(stat.total_weight, total_count as f64 * 0.01, "{name}");
            }
        }
    }
}

/// Parses `json`, whose one profile's stacks are `stacks`, and checks its tree and timeline
/// against sums taken straight from the stacks.
fn check_against_naive_count(json: &str, stacks: &[Vec<u32>], weights: &[u64]) {
    let (set, _) = load(json);
    let mut expected: HashMap<Vec<u32>, u64> = HashMap::new();
    for (stack, &w) in stacks.iter().zip(weights) {
        for len in 1..=stack.len() {
            *expected.entry(stack[..len].to_vec()).or_default() += w;
        }
    }
    expected.retain(|_, w| *w > 0);
    let tree = set.profiles[0].tree();
    assert_eq!(tree.len() - 1, expected.len());
    for node in tree.ids().skip(1) {
        let path: Vec<u32> = tree.stack(node).iter().map(|f| f.0).collect();
        assert_eq!(
            Some(&(tree.total_weight(node) as u64)),
            expected.get(&path),
            "{path:?}"
        );
    }
    assert_eq!(set.total() as u64, weights.iter().sum::<u64>());
    let stats = set.profiles[0].function_stats.as_ref().unwrap();
    let mut tallied = vec![(0.0, 0.0); set.frames.function_count()];
    for stat in stats {
        tallied[stat.func.0 as usize] = (stat.self_weight, stat.total_weight);
    }
    let walked = crate::analysis::summary::tree_function_weights(tree, &set.frames);
    let walked: Vec<(f64, f64)> = walked.0.into_iter().zip(walked.1).collect();
    assert_eq!(tallied, walked);
    let timeline = set.profiles[0].timeline.as_ref().unwrap();
    let nonzero: Vec<(Vec<u32>, f64)> = stacks
        .iter()
        .zip(weights)
        .filter(|&(_, &w)| w > 0)
        .map(|(s, &w)| (s.clone(), w as f64))
        .collect();
    let got: Vec<(Vec<u32>, f64)> = timeline
        .iter()
        .map(|s| (tree.stack(s.leaf).iter().map(|f| f.0).collect(), s.weight))
        .collect();
    assert_eq!(got, nonzero);
}

#[test]
fn stacks_read_the_same_in_any_spacing() {
    // The merging side reads the stacks' text itself, comparing each with the one before byte
    // for byte: whitespace anywhere JSON allows it, stacks that differ from the one before only
    // in spacing or in a digit, empty stacks and indices of every length must all read as
    // serde_json reads them.
    let mut state = 11;
    let frame_count = 12_000u32;
    let mut stacks: Vec<Vec<u32>> = Vec::new();
    let mut text = String::from("[");
    for n in 0..5_000 {
        let previous = stacks.last().cloned().unwrap_or_default();
        let stack: Vec<u32> = match lcg(&mut state) % 6 {
            0 => previous,
            1 => previous[..previous.len() / 2].to_vec(),
            2 => Vec::new(),
            3 => {
                // The stack before with its last digit changed.
                let mut stack = previous;
                if let Some(last) = stack.last_mut() {
                    *last = (*last / 10) * 10 + (*last + 1) % 10;
                }
                stack
            }
            _ => {
                let depth = (lcg(&mut state) % 14) as usize;
                let mut stack = previous[..previous.len().min(depth / 2)].to_vec();
                while stack.len() < depth {
                    let digits = lcg(&mut state) % 5;
                    stack.push((lcg(&mut state) % 10u64.pow(digits as u32 + 1)) as u32);
                }
                stack
            }
        };
        let stack: Vec<u32> = stack.into_iter().map(|f| f % frame_count).collect();
        let mut space = || match lcg(&mut state) % 12 {
            0 => " ",
            1 => "\n",
            2 => "\t ",
            3 => "\r\n  ",
            _ => "",
        };
        if n > 0 {
            text.push_str(space());
            text.push(',');
        }
        text.push_str(space());
        text.push('[');
        for (i, frame) in stack.iter().enumerate() {
            text.push_str(space());
            if i > 0 {
                text.push(',');
                text.push_str(space());
            }
            text.push_str(&frame.to_string());
        }
        text.push_str(space());
        text.push(']');
        stacks.push(stack);
    }
    text.push(']');
    let parsed: Vec<Vec<u32>> = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, stacks);
    let weights: Vec<u64> = (0..stacks.len()).map(|_| lcg(&mut state) % 4).collect();
    let frames: Vec<String> = (0..frame_count)
        .map(|i| format!(r#"{{"name":"f{i}"}}"#))
        .collect();
    let profiles = format!(
        r#""profiles":[{{"type":"sampled","unit":"none","samples":{text},"weights":{}}}]"#,
        serde_json::to_string(&weights).unwrap()
    );
    let shared = format!(r#""shared":{{"frames":[{}]}}"#, frames.join(","));
    // Both orders: with the frames known first, the merging side also checks each index.
    for json in [
        format!("{{{profiles},{shared}}}"),
        format!("{{{shared},{profiles}}}"),
    ] {
        check_against_naive_count(&json, &stacks, &weights);
    }
}

#[test]
fn an_index_written_as_a_list_of_one_is_that_index() {
    // speedscope looks frames up as `frameInfos[n]` in JavaScript, where `[1]` and `[[1]]` are
    // the key "1" (perf-to-speedscope converters write `[[32]]`): the same as plain indices.
    let plain = format!(
        r#"{{{FRAMES_ABCD},"profiles":[{{"type":"sampled","unit":"none","samples":[[0],[0,1],[2]],"weights":[1,2,3]}}]}}"#
    );
    let listed = plain.replace("[0,1],[2]", "[[0],[[1]]],[[2]]");
    assert_ne!(plain, listed);
    let mut warnings = Vec::new();
    let got = parse(listed.as_bytes(), &mut warnings).expect("read as speedscope reads it");
    let (want, _) = load(&plain);
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_stack_the_quick_reading_refuses_is_reported_where_it_stands() {
    // Each is refused by the merging side, and the exact reading names it, with its line.
    let cases = [
        ("[0, 1e0]", "expected u32"),
        ("[0,[1,2]]", "a list of one frame index"),
        ("[0,[]]", "a list of one frame index"),
        ("[0,1]]", "expected `,` or `}`"),
        ("[0,\"1\"]", "expected u32"),
        ("[4294967296]", "expected u32"),
        ("[1234567890]", "names frame 1234567890"),
        ("[3,4]", "names frame 4"),
    ];
    for (stack, wanted) in cases {
        for shared_first in [true, false] {
            let samples = format!("[[0],\n[0,1],\n[0,1],\n{stack}]");
            let profiles = format!(
                r#""profiles":[{{"type":"sampled","unit":"none","samples":{samples},"weights":[1,1,1,1]}}]"#
            );
            let json = if shared_first {
                format!("{{{FRAMES_ABCD},{profiles}}}")
            } else {
                format!("{{{profiles},\n\n\n\n{FRAMES_ABCD}}}")
            };
            let err = fail(json.as_bytes());
            assert!(err.message.contains(wanted), "{stack}: {err}");
            let Location::LineColumn(line, _) = err.location else {
                panic!("{err}")
            };
            assert_eq!(line, 4, "{stack}: {err}");
        }
    }
}

#[test]
fn function_figures_match_a_walk_of_the_tree() {
    // Frames 0..6 are three functions over two lines each (f at lines 1 and 2 is frames 0 and
    // 1, and so on), frame 6 repeats frame 0 exactly, and frame 7 is a function of its own.
    // Random stacks recurse through them; weights are whole numbers so that sums taken in any
    // order agree exactly.
    let mut frames: Vec<String> = Vec::new();
    for name in ["f", "g", "h"] {
        for line in [1, 2] {
            frames.push(format!(
                r#"{{"name":"{name}","file":"m.py","line":{line}}}"#
            ));
        }
    }
    frames.push(r#"{"name":"f","file":"m.py","line":1}"#.to_owned());
    frames.push(r#"{"name":"k"}"#.to_owned());
    let mut state = 5;
    let mut profiles = Vec::new();
    for _ in 0..3 {
        let mut stacks: Vec<Vec<u32>> = Vec::new();
        for _ in 0..3_000 {
            // Repeats and shared prefixes, as consecutive samples have them.
            let previous = stacks.last().cloned().unwrap_or_default();
            let mut stack = match lcg(&mut state) % 4 {
                0 => previous,
                1 => previous[..previous.len() / 2].to_vec(),
                _ => Vec::new(),
            };
            for _ in 0..lcg(&mut state) % 6 {
                stack.push((lcg(&mut state) % 8) as u32);
            }
            stacks.push(stack);
        }
        let weights: Vec<u64> = stacks.iter().map(|_| lcg(&mut state) % 3).collect();
        profiles.push(format!(
            r#"{{"type":"sampled","unit":"none","samples":{},"weights":{}}}"#,
            serde_json::to_string(&stacks).unwrap(),
            serde_json::to_string(&weights).unwrap()
        ));
    }
    let shared = format!(r#""shared":{{"frames":[{}]}}"#, frames.join(","));
    let profiles = format!(r#""profiles":[{}]"#, profiles.join(","));
    // With `shared` first the merging side marks the outermost calls as it goes; with `shared`
    // last, the figures come from replaying its walk once the functions are known.
    for json in [
        format!("{{{shared},{profiles}}}"),
        format!("{{{profiles},{shared}}}"),
    ] {
        let (set, _) = load(&json);
        assert_eq!(set.frames.function_count(), 4);
        for profile in &set.profiles {
            let stats = profile
                .function_stats
                .as_ref()
                .expect("the figures are tallied as the stacks are read");
            let mut tallied = (vec![0.0; 4], vec![0.0; 4]);
            for stat in stats {
                assert_eq!((stat.calls, stat.primitive_calls), (None, None));
                assert!(stat.callers.is_empty());
                tallied.0[stat.func.0 as usize] += stat.self_weight;
                tallied.1[stat.func.0 as usize] += stat.total_weight;
            }
            let walked =
                crate::analysis::summary::tree_function_weights(profile.tree(), &set.frames);
            assert_eq!(tallied, walked);
            assert!(walked.1.iter().all(|&total| total > 0.0));
        }
    }
}

#[test]
fn files_at_hand_read_the_same_quickly_and_exactly() {
    // The repository's own speedscope files, good and bad, and speedscope's samples where the
    // corpus is present: the quick reading must take the good ones and agree with the exact one.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<std::path::PathBuf> = vec![root.join("assets/demo.speedscope.json")];
    for dir in [
        root.join("fixtures"),
        root.join("fixtures/bad"),
        root.join("../shared/corpus/speedscope/speedscope/0.0.1"),
        root.join("../shared/corpus/speedscope/speedscope/0.1.2"),
        root.join("../shared/corpus/speedscope/speedscope/0.6.0"),
        root.join("../shared/corpus/speedscope/speedscope/invalid"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(".json") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut taken = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let (mut quick_warnings, mut exact_warnings) = (Vec::new(), Vec::new());
        let quick = parse_with(&bytes, &mut quick_warnings, true);
        let exact = parse_with(&bytes, &mut exact_warnings, false);
        check_mapped_readings(&bytes, &quick, &format!("{path:?}"));
        match (&quick, &exact) {
            (Ok(quick), Ok(exact)) => {
                assert_eq!(format!("{quick:?}"), format!("{exact:?}"), "{path:?}");
                assert_eq!(quick_warnings, exact_warnings, "{path:?}");
                assert!(quick_takes(&bytes), "{path:?}");
                taken += 1;
            }
            (Err(quick), Err(exact)) => {
                assert_eq!(quick.location, exact.location, "{path:?}");
                assert_eq!(quick.message, exact.message, "{path:?}");
            }
            _ => panic!(
                "{path:?}: {:?} but exactly {:?}",
                quick.is_ok(),
                exact.is_ok()
            ),
        }
    }
    assert!(taken >= 3, "{paths:?}");
}

#[test]
fn mangled_files_read_the_same_quickly_and_exactly() {
    // Bytes changed, dropped and doubled at random in a file that uses most of the format: the
    // quick reading must never take what the exact reading refuses, nor read anything
    // differently; when it gives up, the exact reading's answer is the answer.
    let profiles = r#""profiles":[
        {"type":"sampled","name":"p\u0041","unit":"seconds","startValue":0,"endValue":9.5,
          "samples":[[0,1,2],[0,1,2], [0, 1 ,3],[],[0,1],[3,2]],"weights":[1,2,3,0,1.5,2e0]},
        {"type":"evented","unit":"none","events":[{"type":"O","frame":0,"at":1},{"type":"C","frame":0,"at":2}]}]"#;
    // `shared` first, then last.
    let goods = [
        format!(
            r#"{{"$schema":"x","exporter":{{"a":[1,"]",{{"b":null}}]}},{FRAMES_ABCD},{profiles}}}"#
        ),
        format!(
            r#"{{"$schema":"x",{profiles},"exporter":{{"a":[1,"]",{{"b":null}}]}},{FRAMES_ABCD}}}"#
        ),
    ];
    for good in &goods {
        assert!(quick_takes(good.as_bytes()));
    }
    let alphabet = b"[]{},:\"\\ 0123456789.e-x\x01\xff";
    let mut state = 3;
    for _ in 0..3_000 {
        let mut bytes = goods[(lcg(&mut state) % 2) as usize].clone().into_bytes();
        mangle(&mut bytes, alphabet, &mut state);
        let (mut quick_warnings, mut exact_warnings) = (Vec::new(), Vec::new());
        let quick = parse_with(&bytes, &mut quick_warnings, true);
        let exact = parse_with(&bytes, &mut exact_warnings, false);
        let text = String::from_utf8_lossy(&bytes);
        check_mapped_readings(&bytes, &quick, &text);
        match (&quick, &exact) {
            (Ok(quick), Ok(exact)) => {
                assert_eq!(format!("{quick:?}"), format!("{exact:?}"), "{text}");
                assert_eq!(quick_warnings, exact_warnings, "{text}");
            }
            (Err(quick), Err(exact)) => {
                assert_eq!(quick.location, exact.location, "{text}");
                assert_eq!(quick.message, exact.message, "{text}");
            }
            _ => panic!(
                "{text}: quickly {:?} but exactly {:?}",
                quick.is_ok(),
                exact.is_ok()
            ),
        }
    }
}
