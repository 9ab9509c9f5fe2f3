//! py-spy `--threads`: every stack starts with a frame naming its thread, `thread (ID)` or
//! `thread (ID): NAME` (py-spy writes both for one thread when it learns the name late). Each
//! thread becomes a profile of its own, as in py-spy's speedscope output.

use rustc_hash::FxHashMap;

/// The thread a root frame names: (id as written, name if given).
pub fn thread_frame(frame: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let rest = frame.strip_prefix(b"thread (")?;
    let close = memchr::memchr(b')', rest)?;
    let id = &rest[..close];
    let is_id = match id.strip_prefix(b"0x") {
        Some(hex) => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
        None => !id.is_empty() && id.iter().all(u8::is_ascii_digit),
    };
    if !is_id {
        return None;
    }
    match &rest[close + 1..] {
        [] => Some((id, None)),
        after => after
            .strip_prefix(b": ")
            .filter(|name| !name.is_empty())
            .map(|name| (id, Some(name))),
    }
}

/// The threads of a file as its stacks name them, in the order first seen.
#[derive(Default)]
pub struct ThreadTable {
    pub list: Vec<Thread>,
    /// Thread id → index in `list`.
    index: FxHashMap<Box<[u8]>, u32>,
}

impl ThreadTable {
    /// The profile of a stack whose root frame names a thread (thread `k` of `list` is profile
    /// `k + 1`), and its frames after that one; `None` when the root names none.
    pub fn profile_of<'a>(&mut self, frames: &'a [u8]) -> Option<(u32, &'a [u8])> {
        if !frames.starts_with(b"thread (") {
            return None;
        }
        let root_end = memchr::memchr(b';', frames).unwrap_or(frames.len());
        let (id, name) = thread_frame(&frames[..root_end])?;
        let rest = frames.get(root_end + 1..).unwrap_or_default();
        let next = self.list.len() as u32;
        let index = *self.index.entry(id.into()).or_insert(next);
        if index == next {
            self.list.push(Thread {
                id: String::from_utf8_lossy(id).into_owned(),
                name: None,
            });
        }
        let thread = &mut self.list[index as usize];
        if thread.name.is_none()
            && let Some(name) = name
        {
            thread.name = Some(String::from_utf8_lossy(name).into_owned());
        }
        Some((index + 1, rest))
    }
}

/// One thread seen in the file.
#[derive(Debug, Default)]
pub struct Thread {
    pub id: String,
    pub name: Option<String>,
}

impl Thread {
    /// The profile's name, as py-spy names threads in speedscope files: `Thread 123 "main"`.
    pub fn profile_name(&self) -> String {
        match &self.name {
            Some(name) => format!("Thread {} \"{name}\"", self.id),
            None => format!("Thread {}", self.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_and_look_alikes() {
        assert_eq!(thread_frame(b"thread (9505)"), Some((&b"9505"[..], None)));
        assert_eq!(
            thread_frame(b"thread (0x7f3a): MainThread"),
            Some((&b"0x7f3a"[..], Some(&b"MainThread"[..])))
        );
        assert_eq!(thread_frame(b"thread (main.py:3)"), None);
        assert_eq!(thread_frame(b"thread (12) x"), None);
        assert_eq!(thread_frame(b"thread ()"), None);
        assert_eq!(thread_frame(b"threads (1)"), None);
    }
}
