//! The figures counted without a tree (`figures.rs`) against the tree's: the same table, total,
//! warnings and errors, on drawings of every kind, where the figures are counted at all.

use super::*;
use crate::profile::FuncId;
use crate::profile::test_rng::xorshift;

/// What `obol summary` shows of a drawing, read with or without its tree, and whether it was
/// read without.
fn summary_of(svg: &[u8], figures_only: bool) -> (String, bool) {
    let mut warnings = Vec::new();
    let found = match scan_file(svg, usize::MAX, &|_| {}, &|_, _| {}) {
        Ok(found) => found,
        Err(e) => return (format!("scan: {:?} {}", e.location, e.message), false),
    };
    let set = match parse_found(found, figures_only, &mut warnings) {
        Ok(set) => set,
        Err(e) => return (format!("error: {:?} {}", e.location, e.message), false),
    };
    let mut text = format!("{warnings:?}\n");
    for p in &set.profiles {
        text += &format!("profile {:?} {:x}\n", p.name, p.total.to_bits());
    }
    for f in 0..set.frames.function_count() {
        let func = set.frames.function(FuncId(f as u32));
        text += &format!("function {} {:?} {:?}\n", func.name, func.file, func.line);
    }
    let profiles: Vec<&Profile> = set.profiles.iter().collect();
    for row in function_table(&set, &profiles, SortKey::SelfWeight) {
        text += &format!(
            "{} {:x} {:x}\n",
            row.func.0,
            row.self_weight.to_bits(),
            row.total_weight.to_bits()
        );
    }
    (text, set.profiles.iter().any(Profile::is_figures_only))
}

/// Whether the drawing's figures were counted without its tree; panics where they differ.
fn agrees(svg: &[u8]) -> bool {
    agreed(svg).1
}

/// [`agrees`], and what the tree gave.
fn agreed(svg: &[u8]) -> (String, bool) {
    let (tree, by_tree) = summary_of(svg, false);
    let (figures, counted) = summary_of(svg, true);
    assert!(!by_tree);
    assert_eq!(
        figures,
        tree,
        "figures and tree differ on {}",
        String::from_utf8_lossy(svg)
    );
    (tree, counted)
}

/// A drawing of random frames: `levels` rows, some frames on no frame below, some overlapping
/// (callees wider than their caller), names that share a function (same name and file, other
/// lines) and recur. With `samples`, geometry and weights from `fg:x`/`fg:w`; else from percent
/// `x`/`width` and the title's count (now and then not whole).
fn random_drawing(seed: u64, samples: bool) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = |n: u64| xorshift(&mut state) % n;
    const NAMES: [&str; 7] = [
        "f (a.py:1)",
        "f (a.py:2)",
        "g (a.py:3)",
        "f (b.py:1)",
        "h",
        "a&amp;b",
        "&lt;module&gt; (m.py:9)",
    ];
    let mut frames = Vec::new();
    let levels = 1 + next(7);
    let with_all = next(3) != 0;
    if with_all {
        frames.push((0, 0, 1000, 1000, "all".to_owned(), "1000".to_owned()));
    }
    for depth in u64::from(with_all)..levels {
        let mut x = 0;
        for _ in 0..next(8) {
            let step = if next(5) == 0 { 400 } else { 60 };
            x += next(step);
            let w = 1 + next(300);
            let name = NAMES[next(NAMES.len() as u64) as usize].to_owned();
            let count = match next(12) {
                0 if !samples => format!("{}.5", next(40)),
                1 => "0".to_owned(),
                _ if samples => w.to_string(),
                _ => next(400).to_string(),
            };
            frames.push((depth, x, w, w, name, count));
            // Now and then the next frame starts inside this one.
            if next(4) != 0 {
                x += w;
            }
        }
    }
    if next(4) == 0 {
        // Out of x order (flamegraph.pl's hash order).
        frames.reverse();
    }
    let mut svg = String::from("<svg onload=\"init(evt)\">");
    for (depth, x, w, _, name, count) in frames {
        let y = 200 - 16 * depth;
        let title = format!("<title>{name} ({count} samples, 1%)</title>");
        let rect = if samples {
            format!(
                "<rect x=\"{}\" y=\"{y}\" width=\"{}\" fg:x=\"{x}\" fg:w=\"{count}\"/>",
                x as f64 / 10.0,
                w as f64 / 10.0
            )
        } else {
            format!(
                "<rect x=\"{:.2}%\" y=\"{y}\" width=\"{:.2}%\" height=\"15\"/>",
                x as f64 / 10.0,
                w as f64 / 10.0
            )
        };
        svg += &format!("<g>{title}{rect}</g>");
    }
    svg += "</svg>";
    svg
}

#[test]
fn random_drawings_agree_with_the_tree() {
    let (mut counted, mut orphans, mut overdrawn) = (0, 0, 0);
    for seed in 0..3000 {
        for samples in [true, false] {
            let svg = random_drawing(seed, samples);
            let (tree, by_figures) = agreed(svg.as_bytes());
            if by_figures {
                counted += 1;
                orphans += usize::from(tree.contains("lie on no frame"));
                overdrawn += usize::from(tree.contains("narrower than the callees"));
            }
        }
    }
    // Most are counted without the tree (the rest have weights not whole or levels out of
    // order), many of them with frames left out or callees wider than their callers.
    assert!(
        counted > 2000,
        "only {counted} drawings counted without a tree"
    );
    assert!(orphans > 200 && overdrawn > 200, "{orphans} {overdrawn}");
}

#[test]
fn drawn_files_agree_with_the_tree() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in [
        "program.pyspy.svg",
        "program.threads.pyspy.svg",
        "program.inferno.svg",
        "bad/not_flamegraph.svg",
        "bad/truncated.svg",
    ] {
        let svg = std::fs::read(fixtures.join(name)).expect("fixture");
        agrees(&svg);
    }
    // A flamegraph.pl drawing's levels are in hash order: the tree is built.
    assert!(!agrees(FLAMEGRAPH_PL.as_bytes()));
    let folded = generated(400);
    for args in [
        &["--minwidth", "0"][..],
        &[],
        &["--inverted"],
        &["--reverse"],
        &["--flamechart"],
    ] {
        let Some(svg) = draw(&folded, args) else {
            return;
        };
        assert!(agrees(&svg), "{args:?}: counted with the tree");
    }
    // Recursion: a function's total counts each sample once.
    let recursive = "a;b;a;b;a 3\na;a;a 2\nb;a;b 1\nc 4\n";
    let Some(svg) = draw(recursive, &["--minwidth", "0"]) else {
        return;
    };
    assert!(agrees(&svg));
}

#[test]
fn threads_and_fractions_are_left_to_the_tree() {
    let thread = "<svg onload=\"init(evt)\"><g><title>all (3 samples, 100%)</title><rect x=\"0\" y=\"20\" width=\"100%\" fg:x=\"0\" fg:w=\"3\"/></g><g><title>thread (0x1A): main (3 samples, 100%)</title><rect x=\"0\" y=\"4\" width=\"100%\" fg:x=\"0\" fg:w=\"3\"/></g></svg>";
    assert!(!agrees(thread.as_bytes()));
    let fraction = "<svg onload=\"init(evt)\"><g><title>all (3.5 samples, 100%)</title><rect x=\"0%\" y=\"20\" width=\"100%\"/></g><g><title>f (1 samples, 30%)</title><rect x=\"0%\" y=\"4\" width=\"30%\"/></g></svg>";
    assert!(!agrees(fraction.as_bytes()));
    let whole = fraction.replace("3.5 samples", "3 samples");
    assert!(agrees(whole.as_bytes()));
}

/// The first `ROOMY_ROWS` rows of a large scan have room for 128 KiB of frames from the start,
/// however few they get (so that they grow by remapping, never by copying); later rows, and a
/// small scan's, grow from nothing (a drawing of many one-frame rows would otherwise write a
/// page per row). The frames are the same.
#[test]
fn the_first_rows_of_a_large_scan_have_room_and_the_same_frames() {
    let frame = |i: usize, y: usize| {
        format!(
            "<g><title>f{} (1 samples, 0.01%)</title><rect x=\"{i}\" y=\"{y}\" width=\"1\" \
             height=\"15\" fill=\"#e0\" fg:x=\"{i}\" fg:w=\"1\"/><text x=\"0\" y=\"0\"></text></g>",
            i % 7
        )
    };
    // One frame at y 100, three rows begun, one-frame rows, then the three rows filled.
    let rows = scan::ROOMY_ROWS + 50;
    let mut svg = String::from("<svg>") + &frame(0, 100);
    for i in 1..4 {
        svg += &frame(i, 16 * (i % 3));
    }
    for i in 4..rows {
        svg += &frame(i, 200 + 16 * i);
    }
    let mut cut = 0;
    for i in rows.. {
        if svg.len() >= 5 << 20 {
            break;
        }
        if cut == 0 && svg.len() >= 64 << 10 {
            cut = svg.len();
        }
        svg += &frame(i, 16 * (i % 3));
    }
    svg += "</svg>";
    let large = scan::scan(svg.as_bytes(), 0, svg.len()).unwrap();
    let small = scan::scan(svg.as_bytes(), 0, cut).unwrap();
    assert_eq!((large.rows.len(), large.rows[0].len()), (rows, 1));
    let room = |row: &Vec<_>| row.capacity() >= scan::MAPPED_ROW;
    assert!(large.rows[..scan::ROOMY_ROWS].iter().all(room));
    assert!(!large.rows[scan::ROOMY_ROWS..].iter().any(room));
    assert!(!small.rows.iter().any(room));
    for (all, some) in large.rows.iter().zip(&small.rows) {
        assert_eq!(&all[..some.len()], &some[..]);
    }
}
