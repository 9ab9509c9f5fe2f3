//! Interned frames and the functions they belong to.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

use super::id_table::IdTable;

/// Index of a [`Frame`] in a [`FrameTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameId(pub u32);

/// Index of a [`Function`] in a [`FrameTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// One distinct (name, file, line) as the profiler recorded it.
///
/// For sampled formats the line is the line executing when the sample was taken, so several
/// frames share one [`Function`]; for pstats the line is the function's definition line and
/// frame and function coincide.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub func: FuncId,
}

/// A function as the format identifies it: pstats by (file, definition line, name), sampled
/// formats by (name, file).
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub file: Option<String>,
    /// pstats: the definition line. Sampled formats: the lowest line sampled in the function,
    /// the closest thing to its definition that the file records.
    pub line: Option<u32>,
}

impl Function {
    /// The function as pstats names it: `file:line(name)`, `{name}` for a built-in (pstats'
    /// `~` file), or the bare name when it has no file.
    pub fn pstats_label(&self) -> String {
        if self.file.as_deref() == Some("~")
            && let Some(inner) = self
                .name
                .strip_prefix('<')
                .and_then(|n| n.strip_suffix('>'))
        {
            return format!("{{{inner}}}");
        }
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}:{line}({})", self.name),
            (Some(file), None) => format!("{file}({})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// How an importer's frames map to functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKey {
    /// Frames of the same name and file are one function (sampled formats).
    NameFile,
    /// Each (name, file, line) is its own function (pstats, where the line is the definition).
    NameFileLine,
}

/// All frames and functions of one loaded file, shared by every profile in it.
///
/// The indices hold ids by the hash of what identifies them and compare against the frames and
/// functions themselves, so that a lookup allocates nothing and the names are stored once.
#[derive(Debug, Clone)]
pub struct FrameTable {
    key: FunctionKey,
    frames: Vec<Frame>,
    functions: Vec<Function>,
    /// Frames by the hash of (name, file, line).
    frame_index: IdTable,
    /// Functions by the hash of (name, file, line as the key has it).
    func_index: IdTable,
}

fn hash(name: &str, file: Option<&str>, line: Option<u32>) -> u64 {
    FxBuildHasher.hash_one((name, file, line))
}

impl FrameTable {
    pub fn new(key: FunctionKey) -> Self {
        FrameTable {
            key,
            frames: Vec::new(),
            functions: Vec::new(),
            frame_index: IdTable::default(),
            func_index: IdTable::default(),
        }
    }

    /// Makes room for `frames` more frames, and as many functions, at once.
    pub fn reserve(&mut self, frames: usize) {
        self.frames.reserve(frames);
        self.frame_index.reserve(frames);
        self.functions.reserve(frames);
        self.func_index.reserve(frames);
    }

    pub fn function_key(&self) -> FunctionKey {
        self.key
    }

    /// Returns the id of the frame (name, file, line), adding it if it is new.
    pub fn intern(&mut self, name: &str, file: Option<&str>, line: Option<u32>) -> FrameId {
        let hash = hash(name, file, line);
        let frames = &self.frames;
        let found = self.frame_index.find(hash, |at| {
            let frame = &frames[at as usize];
            frame.line == line && frame.name == name && frame.file.as_deref() == file
        });
        if let Some(at) = found {
            return FrameId(at);
        }
        let func = self.intern_function(name, file, line);
        let id = self.frames.len() as u32;
        self.frames.push(Frame {
            name: name.to_owned(),
            file: file.map(str::to_owned),
            line,
            func,
        });
        self.frame_index.insert(hash, id);
        FrameId(id)
    }

    fn intern_function(&mut self, name: &str, file: Option<&str>, line: Option<u32>) -> FuncId {
        let key_line = match self.key {
            FunctionKey::NameFile => None,
            FunctionKey::NameFileLine => line,
        };
        let hash = hash(name, file, key_line);
        let (key, functions) = (self.key, &self.functions);
        let found = self.func_index.find(hash, |at| {
            let function = &functions[at as usize];
            // Keyed by line, a function's line is the key's (it is set once, from it).
            let same_line = key == FunctionKey::NameFile || function.line == key_line;
            same_line && function.name == name && function.file.as_deref() == file
        });
        if let Some(at) = found {
            let function = &mut self.functions[at as usize];
            if let (Some(seen), Some(new)) = (function.line, line) {
                function.line = Some(seen.min(new));
            } else if function.line.is_none() {
                function.line = line;
            }
            return FuncId(at);
        }
        let id = self.functions.len() as u32;
        self.functions.push(Function {
            name: name.to_owned(),
            file: file.map(str::to_owned),
            line,
        });
        self.func_index.insert(hash, id);
        FuncId(id)
    }

    pub fn frame(&self, id: FrameId) -> &Frame {
        &self.frames[id.0 as usize]
    }

    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.0 as usize]
    }

    /// The function a frame belongs to.
    pub fn func_of(&self, id: FrameId) -> FuncId {
        self.frames[id.0 as usize].func
    }

    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    pub fn function_count(&self) -> usize {
        self.functions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_frames_on_other_lines_share_a_function() {
        let mut table = FrameTable::new(FunctionKey::NameFile);
        let a10 = table.intern("work", Some("a.py"), Some(10));
        let a12 = table.intern("work", Some("a.py"), Some(12));
        let again = table.intern("work", Some("a.py"), Some(10));
        let other = table.intern("work", Some("b.py"), Some(10));
        assert_eq!(a10, again);
        assert_ne!(a10, a12);
        assert_eq!(table.func_of(a10), table.func_of(a12));
        assert_ne!(table.func_of(a10), table.func_of(other));
        // The function keeps the lowest line seen, whichever order they came in.
        assert_eq!(table.function(table.func_of(a12)).line, Some(10));
        assert_eq!(table.function_count(), 2);
    }

    #[test]
    fn pstats_functions_are_keyed_by_line_too() {
        let mut table = FrameTable::new(FunctionKey::NameFileLine);
        let a = table.intern("f", Some("m.py"), Some(1));
        let b = table.intern("f", Some("m.py"), Some(9));
        assert_ne!(table.func_of(a), table.func_of(b));
        assert_eq!(table.function(table.func_of(b)).line, Some(9));
    }
}
