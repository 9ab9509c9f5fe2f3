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

/// One distinct (name, file, line) as the profiler recorded it, as a [`FrameTable`] lends it.
///
/// For sampled formats the line is the line executing when the sample was taken, so several
/// frames share one [`Function`]; for pstats the line is the function's definition line and
/// frame and function coincide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame<'a> {
    pub name: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    pub func: FuncId,
}

/// A function as the format identifies it: pstats by (file, definition line, name), sampled
/// formats by (name, file).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Function<'a> {
    pub name: &'a str,
    pub file: Option<&'a str>,
    /// pstats: the definition line. Sampled formats: the lowest line sampled in the function,
    /// the closest thing to its definition that the file records.
    pub line: Option<u32>,
}

impl Function<'_> {
    /// The function as pstats names it: `file:line(name)`, `{name}` for a built-in (pstats'
    /// `~` file), or the bare name when it has no file.
    pub fn pstats_label(&self) -> String {
        if self.file == Some("~")
            && let Some(inner) = self
                .name
                .strip_prefix('<')
                .and_then(|n| n.strip_suffix('>'))
        {
            return format!("{{{inner}}}");
        }
        match (self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}:{line}({})", self.name),
            (Some(file), None) => format!("{file}({})", self.name),
            _ => self.name.to_owned(),
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

/// Every name and file of a table, end to end in one string: a million distinct names cost
/// their bytes and an offset each, not an allocation each.
#[derive(Debug, Clone, Default)]
struct Names {
    text: String,
    ends: Vec<usize>,
}

/// Marks a frame or function without a file.
const NO_FILE: u32 = u32::MAX;

impl Names {
    fn push(&mut self, text: &str) -> u32 {
        let id = self.ends.len();
        assert!(id < NO_FILE as usize, "more names than a FrameTable holds");
        self.text.push_str(text);
        self.ends.push(self.text.len());
        id as u32
    }

    fn push_file(&mut self, file: Option<&str>) -> u32 {
        file.map_or(NO_FILE, |f| self.push(f))
    }

    #[inline]
    fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    #[inline]
    fn file(&self, id: u32) -> Option<&str> {
        (id != NO_FILE).then(|| self.get(id))
    }
}

/// A frame as stored: its name and file as ids into [`Names`].
#[derive(Debug, Clone, Copy)]
struct FrameEntry {
    name: u32,
    file: u32,
    line: Option<u32>,
    func: FuncId,
}

/// A function as stored; a frame of it shares its name and file ids.
#[derive(Debug, Clone, Copy)]
struct FunctionEntry {
    name: u32,
    file: u32,
    line: Option<u32>,
}

/// All frames and functions of one loaded file, shared by every profile in it.
///
/// The indices hold ids by the hash of what identifies them and compare against the frames and
/// functions themselves, so that a lookup allocates nothing; a function's name and file are
/// stored once, in [`Names`], and its frames point at them.
#[derive(Debug, Clone)]
pub struct FrameTable {
    key: FunctionKey,
    names: Names,
    frames: Vec<FrameEntry>,
    functions: Vec<FunctionEntry>,
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
            names: Names::default(),
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

    /// Frees the indices (about 34 bytes a frame, for a table of a million frames) once a reader
    /// has interned all it will: what reads the table after that never looks a frame up by its
    /// text. A later [`FrameTable::intern`] builds them again.
    pub fn release_index(&mut self) {
        self.frame_index = IdTable::default();
        self.func_index = IdTable::default();
    }

    /// The indices again, after [`FrameTable::release_index`].
    fn rebuild_index(&mut self) {
        let mut frame_index = IdTable::default();
        frame_index.reserve(self.frames.len());
        for (id, frame) in self.frames.iter().enumerate() {
            let (name, file) = (self.names.get(frame.name), self.names.file(frame.file));
            frame_index.insert(hash(name, file, frame.line), id as u32);
        }
        let mut func_index = IdTable::default();
        func_index.reserve(self.functions.len());
        for (id, function) in self.functions.iter().enumerate() {
            let (name, file) = (
                self.names.get(function.name),
                self.names.file(function.file),
            );
            let key_line = match self.key {
                FunctionKey::NameFile => None,
                FunctionKey::NameFileLine => function.line,
            };
            func_index.insert(hash(name, file, key_line), id as u32);
        }
        self.frame_index = frame_index;
        self.func_index = func_index;
    }

    /// Returns the id of the frame (name, file, line), adding it if it is new.
    pub fn intern(&mut self, name: &str, file: Option<&str>, line: Option<u32>) -> FrameId {
        if self.frame_index.len() < self.frames.len() {
            self.rebuild_index();
        }
        let hash = hash(name, file, line);
        let (frames, names) = (&self.frames, &self.names);
        let found = self.frame_index.find(hash, |at| {
            let frame = &frames[at as usize];
            frame.line == line && names.get(frame.name) == name && names.file(frame.file) == file
        });
        if let Some(at) = found {
            return FrameId(at);
        }
        let func = self.intern_function(name, file, line);
        let function = self.functions[func.0 as usize];
        let id = self.frames.len() as u32;
        self.frames.push(FrameEntry {
            name: function.name,
            file: function.file,
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
        let (key, functions, names) = (self.key, &self.functions, &self.names);
        let found = self.func_index.find(hash, |at| {
            let function = &functions[at as usize];
            // Keyed by line, a function's line is the key's (it is set once, from it).
            let same_line = key == FunctionKey::NameFile || function.line == key_line;
            same_line && names.get(function.name) == name && names.file(function.file) == file
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
        let name = self.names.push(name);
        let file = self.names.push_file(file);
        self.functions.push(FunctionEntry { name, file, line });
        self.func_index.insert(hash, id);
        FuncId(id)
    }

    fn lend_frame(&self, frame: &FrameEntry) -> Frame<'_> {
        Frame {
            name: self.names.get(frame.name),
            file: self.names.file(frame.file),
            line: frame.line,
            func: frame.func,
        }
    }

    fn lend_function(&self, function: &FunctionEntry) -> Function<'_> {
        Function {
            name: self.names.get(function.name),
            file: self.names.file(function.file),
            line: function.line,
        }
    }

    pub fn frame(&self, id: FrameId) -> Frame<'_> {
        self.lend_frame(&self.frames[id.0 as usize])
    }

    pub fn function(&self, id: FuncId) -> Function<'_> {
        self.lend_function(&self.functions[id.0 as usize])
    }

    /// The function a frame belongs to.
    pub fn func_of(&self, id: FrameId) -> FuncId {
        self.frames[id.0 as usize].func
    }

    /// The function of every frame, indexed by frame id: a dense table for loops that look one
    /// up per node or sample.
    pub fn func_of_each_frame(&self) -> Vec<u32> {
        self.frames.iter().map(|f| f.func.0).collect()
    }

    /// Every frame, by id.
    pub fn frames(
        &self,
    ) -> impl ExactSizeIterator<Item = Frame<'_>> + DoubleEndedIterator + Clone + '_ {
        self.frames.iter().map(|f| self.lend_frame(f))
    }

    /// Every function, by id.
    pub fn functions(
        &self,
    ) -> impl ExactSizeIterator<Item = Function<'_>> + DoubleEndedIterator + Clone + '_ {
        self.functions.iter().map(|f| self.lend_function(f))
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

    #[test]
    fn interning_after_the_index_is_released_finds_what_was_there() {
        for key in [FunctionKey::NameFile, FunctionKey::NameFileLine] {
            let mut table = FrameTable::new(key);
            let a = table.intern("f", Some("m.py"), Some(3));
            let b = table.intern("g", None, None);
            let c = table.intern("f", Some("m.py"), Some(1));
            table.release_index();
            assert_eq!(table.intern("g", None, None), b);
            assert_eq!(table.intern("f", Some("m.py"), Some(3)), a);
            assert_eq!(table.intern("f", Some("m.py"), Some(1)), c);
            let d = table.intern("f", Some("m.py"), Some(2));
            assert_eq!(table.frame_count(), 4);
            let same_function = key == FunctionKey::NameFile;
            assert_eq!(table.func_of(d) == table.func_of(a), same_function);
            assert_eq!(table.function_count(), if same_function { 2 } else { 4 });
        }
    }
}
