//! Faults: files that are not drawings, frames broken at their place, drawings cut short
//! anywhere and junk, each one line of error and never a panic.

use super::*;

#[test]
fn sniffing() {
    assert_eq!(
        sniff(b"\xEF\xBB\xBF \n<svg onload=\"init(evt)\">"),
        Sniff::Yes
    );
    assert_eq!(
        sniff(b"<?xml version=\"1.0\"?><svg xmlns=\"x\">"),
        Sniff::Maybe
    );
    assert_eq!(sniff(b"<!doctype svg><svg>"), Sniff::Maybe);
    assert_eq!(sniff(b"<svg width=\"3\"><rect fg:x=\"1\"/>"), Sniff::Yes);
    assert_eq!(sniff(b"main;a 3\n"), Sniff::No);
    assert_eq!(sniff(b"{\"$schema\": 1}"), Sniff::No);
    assert_eq!(sniff(b""), Sniff::No);
}

#[test]
fn not_an_svg_and_an_svg_without_frames() {
    let e = error_of(b"main;a 3\n");
    assert_eq!(e.location, Location::Byte(0));
    assert!(e.message.contains("not an SVG"), "{e}");
    let plain = br#"<svg xmlns="http://www.w3.org/2000/svg"><title>A picture</title><rect x="0" y="0" width="10" height="10"/><g><text>hi</text><rect x="1" y="1" width="2" height="2"/></g></svg>"#;
    let e = error_of(plain);
    assert_eq!(e.location, Location::Byte(0));
    assert!(e.message.contains("no flame graph frames"), "{e}");
}

/// One frame under `all`, to be broken in various ways.
fn tiny(title: &str, rect: &str) -> String {
    format!(
        "<svg onload=\"init(evt)\"><g><title>all (3 samples, 100%)</title><rect x=\"0\" y=\"20\" width=\"100%\" fg:x=\"0\" fg:w=\"3\"/></g><g><title>{title}</title>{rect}</g></svg>"
    )
}

#[test]
fn broken_frames_are_errors_at_their_place() {
    let good_rect = "<rect x=\"0\" y=\"4\" width=\"100%\" fg:x=\"0\" fg:w=\"3\"/>";
    let (set, _) = load(tiny("f (3 samples, 100%)", good_rect).as_bytes());
    assert_eq!(set.total(), 3.0);
    // A title without a count over fg:w (inferno's --nameattr) and no whole label: the frame
    // is left out with a warning; the total is still the `all` frame's.
    for title in ["f (three samples, 100%)", "f"] {
        let (set, warnings) = load(tiny(title, good_rect).as_bytes());
        assert_eq!(set.total(), 3.0);
        assert!(set.profiles[0].tree().children(NodeId::ROOT).is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("left out 1 frame titled without a count"));
    }
    // Without fg:w there is no weight to fall back on.
    let pixels = "<rect x=\"0\" y=\"4\" width=\"100\"/>";
    for (title, rect, needle, says) in [
        ("f (three samples, 100%)", pixels, "<title>f (", "COUNT"),
        ("f", pixels, "<title>f<", "COUNT"),
        (
            "f &bogus; (3 samples, 1%)",
            good_rect,
            "<title>f &",
            "entity",
        ),
        (
            "f (3 samples, 1%)",
            "<rect x=\"0\" width=\"1\" fg:x=\"0\" fg:w=\"3\"/>",
            "<rect x=\"0\" width",
            "without y",
        ),
        (
            "f (3 samples, 1%)",
            "<rect x=\"0\" y=\"4\" width=\"1\" fg:x=\"0\" fg:w=\"x\"/>",
            "<rect x=\"0\" y=\"4\" width=\"1\"",
            "fg:w",
        ),
        (
            "f (3 samples, 1%)",
            "<rect x=\"0\" y=\"4\" width=\"1\"/>",
            "<rect x=\"0\" y=\"4\" width=\"1\"/>",
            "fg:x",
        ),
        (
            "f (3 samples, 1%)",
            "<rect x=\"0\" y=4 />",
            "<rect x=\"0\" y=4",
            "quotes",
        ),
    ] {
        let svg = tiny(title, rect);
        let e = error_of(svg.as_bytes());
        let at = svg.find(needle).expect("needle in test input") as u64;
        assert_eq!(e.location, Location::Byte(at), "{e} in {svg}");
        assert!(e.message.contains(says), "{e}");
    }
}

#[test]
fn truncated_anywhere_is_an_error_never_a_panic() {
    // Compact output goes through the scanner's inferno shortcut, pretty output around it.
    for args in [&[][..], &["--pretty-xml"]] {
        let Some(svg) = draw(HAND, args) else { return };
        truncated_everywhere(&svg);
    }
}

fn truncated_everywhere(svg: &[u8]) {
    let end = svg.len();
    let closed = String::from_utf8_lossy(svg)
        .rfind("</svg>")
        .expect("closing tag")
        + 6;
    for cut in 0..end {
        let mut warnings = Vec::new();
        // Alternate the two scanning paths.
        let parallel_min = if cut.is_multiple_of(2) { 0 } else { usize::MAX };
        match parse_with(&svg[..cut], parallel_min, &mut warnings) {
            Ok(_) => assert!(cut >= closed, "cut at {cut} of {end} parsed"),
            Err(e) => {
                let Location::Byte(at) = e.location else {
                    panic!("not a byte offset: {e}")
                };
                assert!(at <= cut as u64, "{e} beyond the cut at {cut}");
            }
        }
    }
    // A cut between two frames is still a cut: `</svg>` never came.
    let between = String::from_utf8_lossy(svg).find("</g>").expect("frames") + 4;
    let e = error_of(&svg[..between]);
    assert_eq!(e.location, Location::Byte(between as u64));
    assert!(e.message.contains("truncated"), "{e}");
}

#[test]
fn junk_never_panics() {
    let Some(svg) = draw(HAND, &[]) else { return };
    // Overwrite single bytes with markup characters all through the file.
    let mut state: u64 = 7;
    for _ in 0..3000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut bytes = svg.clone();
        let at = (state >> 33) as usize % bytes.len();
        let junk = b"<>\"'/&;!?[]- =\xff";
        bytes[at] = junk[(state >> 20) as usize % junk.len()];
        let mut warnings = Vec::new();
        let _ = parse_with(
            &bytes,
            if state.is_multiple_of(2) {
                0
            } else {
                usize::MAX
            },
            &mut warnings,
        );
    }
}
