//! py-spy `--threads`: every stack starts with a frame naming its thread, `thread (ID)` or
//! `thread (ID): NAME` (py-spy writes both for one thread when it learns the name late). Each
//! thread becomes a profile of its own, as in py-spy's speedscope output.

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
