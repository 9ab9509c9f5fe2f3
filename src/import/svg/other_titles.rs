//! Where a frame's name and count are when its `<title>` does not hold them: flamegraph.pl's
//! drawings of 2012–13 keep them in the rect's `onmouseover`, and inferno's `--nameattr` may
//! replace a title with any text, leaving the name in the frame's label.

use memchr::{memchr, memmem};

/// The label of a frame, `<text ...>name</text>` right after its `<rect>` (in `rest`), when
/// it is whole: inferno cuts a label too long for its frame to `na..`.
pub(super) fn frame_label(rest: &[u8]) -> Option<&[u8]> {
    let rest = rest.trim_ascii_start().strip_prefix(b"<text")?;
    let gt = memchr(b'>', rest)?;
    if rest[..gt].ends_with(b"/") {
        return None;
    }
    let label = &rest[gt + 1..];
    let label = &label[..memchr(b'<', label)?];
    (!label.is_empty() && !label.ends_with(b"..")).then_some(label)
}

/// The text of an `onmouseover="s('...')"` attribute among `attributes` (which start at byte
/// `offset` of the file), and where it starts: a frame's title.
pub(super) fn mouseover_title(attributes: &[u8], offset: usize) -> Option<(&[u8], usize)> {
    const START: &[u8] = b"onmouseover=\"s('";
    let start = memmem::find(attributes, START)? + START.len();
    let len = memmem::find(&attributes[start..], b"')\"")?;
    Some((&attributes[start..start + len], offset + start))
}
