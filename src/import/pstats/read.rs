//! One function's entry of a stats dict, read item by item so that every error names the byte
//! of the field that broke, and the functions its keys name.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::rc::Rc;

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::import::ParseError;
use crate::import::marshal::{Item, Number, Reader, Text, Triple, Value};
use crate::profile::{EdgeStats, FuncId, FunctionStats};

/// Ends a chain of names with one hash.
const NO_NAME: u32 = u32::MAX;

/// Marks a reference slot that holds no function key.
const NO_FUNC: u32 = u32::MAX;

/// A function as the model names it.
pub struct Name {
    pub name: Rc<str>,
    pub file: Option<Rc<str>>,
    pub line: Option<u32>,
}

/// `(file, line, name)` as the model stores a function: as the file has it (cProfile's
/// built-ins keep their `~` file and line 0), but a line outside `u32` is none.
pub fn function_key(key: &Value) -> Option<Name> {
    let Value::Tuple(parts) = key else {
        return None;
    };
    let [file, line, name] = &parts[..] else {
        return None;
    };
    let file = file.as_text()?;
    let name = match name {
        // The `profile` module names its top-level entry by the code it ran; Python shows its
        // repr, which also holds an address that means nothing outside that process.
        Value::Code(code) => Rc::from(format!(
            "<code object {}, file \"{}\", line {}>",
            code.name, code.filename, code.first_line
        )),
        other => other.as_text()?,
    };
    let line = match *line {
        Value::Int(line) => u32::try_from(line).ok(),
        // Beyond i64 (marshal's long form, as Python writes any big int): read, with no line,
        // as any line outside u32 is.
        Value::BigInt(_) => None,
        _ => return None,
    };
    Some(Name {
        name,
        file: Some(file),
        line,
    })
}

fn describe(value: &Value) -> String {
    match value {
        Value::Tuple(items) => format!("tuple of {}", items.len()),
        other => other.type_name().to_owned(),
    }
}

/// The most container items a key may hold: its three, or the `profile` module's code object
/// for the script it ran (constants, names, nested functions' code).
const KEY_ITEMS: usize = 1 << 16;

/// A key as read, before it is looked up.
pub enum Key<'a> {
    Triple(Triple<'a>),
    Item(Item),
}

/// A caller whose key is a reference to a slot not looked up yet, and its figures.
struct Pending {
    slot: usize,
    key_at: usize,
    edge: EdgeStats,
}

/// A function as the frame table will name it: `(name, file, line)`, borrowed from the input
/// where it can be.
#[derive(Debug, Clone)]
pub struct FunctionName<'a> {
    pub name: Cow<'a, str>,
    pub file: Option<Cow<'a, str>>,
    pub line: Option<u32>,
}

/// The functions met so far, numbered as they are met, as a frame table keyed by (name, file,
/// line) numbers them, so that the table can be built from them elsewhere (on another thread,
/// as they come).
#[derive(Default)]
pub struct Names<'a> {
    list: Vec<FunctionName<'a>>,
    /// The latest name with each hash; `next` chains the others.
    index: FxHashMap<u64, u32>,
    next: Vec<u32>,
}

impl<'a> Names<'a> {
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn get(&self, func: FuncId) -> &FunctionName<'a> {
        &self.list[func.0 as usize]
    }

    /// The function named so, added if it is new; `own` gives the names to keep then.
    fn intern(
        &mut self,
        name: &str,
        file: Option<&str>,
        line: Option<u32>,
        own: impl FnOnce() -> (Cow<'a, str>, Option<Cow<'a, str>>),
    ) -> FuncId {
        let hash = FxBuildHasher.hash_one((name, file, line));
        let head = self.index.get(&hash).copied().unwrap_or(NO_NAME);
        let mut at = head;
        while at != NO_NAME {
            let known = &self.list[at as usize];
            if known.line == line && known.name == name && known.file.as_deref() == file {
                return FuncId(at);
            }
            at = self.next[at as usize];
        }
        let id = self.list.len() as u32;
        let (name, file) = own();
        self.list.push(FunctionName { name, file, line });
        self.next.push(head);
        self.index.insert(hash, id);
        FuncId(id)
    }

    /// Every function, in number order.
    pub fn all(&self) -> &[FunctionName<'a>] {
        &self.list
    }

    /// The functions from number `first` on.
    pub fn since(&self, first: usize) -> Vec<FunctionName<'a>> {
        self.list[first..].to_vec()
    }
}

/// One function's figures as read, before it joins the others.
pub struct Entry {
    pub stats: FunctionStats,
    pub count_only_callers: usize,
}

/// The functions being named, with shortcuts for keys already seen: most caller keys are
/// references to a stats key (or to its strings) read before.
#[derive(Default)]
pub struct Functions<'a> {
    pub names: Names<'a>,
    /// The function of each reference slot that held a key, so that a reference costs an index
    /// rather than a visit to the value (which, in a large file, is a cache miss).
    by_slot: Vec<u32>,
    /// Keys built afresh around the same (referenced) strings, by the strings' addresses.
    /// `keep` holds those strings so that no address is freed and reused for another name.
    by_address: FxHashMap<(usize, i64, usize), FuncId>,
    keep: Vec<Rc<str>>,
    /// Per function: the entry (counted from 1) in which it was last met as a caller, and its
    /// place among that entry's callers, to find repeated callers without hashing.
    seen_in: Vec<(u32, u32)>,
    entries: u32,
    edges: Vec<(FuncId, EdgeStats)>,
    pending: Vec<Pending>,
    /// Keys read by [`Reader::try_str_int_str`] around strings in reference slots, by the
    /// slots' numbers: cProfile builds a key afresh for every caller entry, around the same
    /// strings.
    by_text_slots: FxHashMap<(usize, i64, usize), FuncId>,
}

impl<'a> Functions<'a> {
    pub fn into_names(self) -> Names<'a> {
        self.names
    }

    /// The function a dict key names, or what was found instead.
    pub fn func(&mut self, reader: &mut Reader<'_>, key: Item) -> Result<FuncId, String> {
        let (value, slot) = match key {
            Item::Ref(slot) => {
                if let Some(&func) = self.by_slot.get(slot)
                    && func != NO_FUNC
                {
                    return Ok(FuncId(func));
                }
                let value = reader.referenced(slot)?;
                (value.clone(), Some(slot))
            }
            Item::New(value, slot) => (value, slot),
        };
        let func = self.intern(&value).ok_or_else(|| describe(&value))?;
        self.remember_slot(slot, func);
        Ok(func)
    }

    /// The function of a key that [`Reader::try_str_int_str`] read: (file, line, name).
    pub fn func_of_triple(&mut self, reader: &Reader<'a>, key: Triple<'a>) -> FuncId {
        let line = u32::try_from(key.int).ok();
        let func = match (key.first, key.last) {
            (Text::Input(file), Text::Input(name)) => {
                self.names
                    .intern(name, Some(file), line, || (name.into(), Some(file.into())))
            }
            (Text::Slot(file_slot), Text::Slot(name_slot))
                if let Some(&func) = self.by_text_slots.get(&(file_slot, key.int, name_slot)) =>
            {
                func
            }
            (first, last) => {
                let (name, file) = (reader.text(last), reader.text(first));
                let func = self.names.intern(name, Some(file), line, || {
                    (name.to_owned().into(), Some(file.to_owned().into()))
                });
                if let (Text::Slot(file_slot), Text::Slot(name_slot)) = (first, last) {
                    self.by_text_slots
                        .insert((file_slot, key.int, name_slot), func);
                }
                func
            }
        };
        self.remember_slot(key.slot, func);
        func
    }

    fn remember_slot(&mut self, slot: Option<usize>, func: FuncId) {
        if let Some(slot) = slot {
            if slot >= self.by_slot.len() {
                // Slots are numbered in file order, so this grows with the file, no faster.
                self.by_slot.resize(slot + 1, NO_FUNC);
            }
            self.by_slot[slot] = func.0;
        }
    }

    /// A stats or caller key: read fast where it can be, else in full. Looking it up is left
    /// to [`Functions::resolve`], so that a caller can take keys in batches.
    pub fn read_key(&mut self, reader: &mut Reader<'a>) -> Result<Option<Key<'a>>, ParseError> {
        if let Some(triple) = reader.try_str_int_str() {
            return Ok(Some(Key::Triple(triple)));
        }
        // A key is a 3-tuple (pyinstrument's marker a 1-tuple); anything larger is refused from
        // its header, before it is built,
        // and what a key holds is bounded, so that a malformed key cannot cost more memory
        // than its bytes.
        if let Some((what, n)) = reader.peek_container()
            && n.is_none_or(|n| n > 3)
        {
            let found = n.map_or_else(|| what.to_owned(), |n| format!("{what} of {n}"));
            return Err(ParseError::at_byte(
                reader.offset() as u64,
                format!("a key should be a (file, line, function) tuple, found {found}"),
            ));
        }
        let budget = reader.set_item_budget(KEY_ITEMS);
        let item = reader.read_item();
        reader.set_item_budget(budget);
        Ok(item?.map(Key::Item))
    }

    /// The function a key names, or what was found instead.
    pub fn resolve(&mut self, reader: &mut Reader<'a>, key: Key<'a>) -> Result<FuncId, String> {
        match key {
            Key::Triple(triple) => Ok(self.func_of_triple(reader, triple)),
            Key::Item(item) => self.func(reader, item),
        }
    }

    /// The callers dict, into `edges`. References to keys met before, most caller keys, are
    /// looked up in batches (`pending`): the lookups, cache misses in a large file, then run
    /// side by side instead of one after another. Keys are still looked up and added in the
    /// order of the file, and the first error in it is the one reported.
    fn read_callers(
        &mut self,
        reader: &mut Reader<'a>,
        edges: &mut Vec<(FuncId, EdgeStats)>,
        pending: &mut Vec<Pending>,
    ) -> Result<(), ParseError> {
        loop {
            let key_at = reader.offset();
            let key = match self.read_key(reader) {
                Ok(Some(key)) => key,
                Ok(None) => break,
                Err(e) => {
                    self.settle(reader, edges, pending)?;
                    return Err(e);
                }
            };
            if let Key::Item(Item::Ref(slot)) = key {
                let edge = match fast_edge(reader).map_or_else(|| read_edge(reader), Ok) {
                    Ok(edge) => edge,
                    Err(e) => {
                        self.settle(reader, edges, pending)?;
                        self.caller(reader, key, key_at)?;
                        return Err(e);
                    }
                };
                pending.push(Pending { slot, key_at, edge });
                continue;
            }
            self.settle(reader, edges, pending)?;
            let caller = self.caller(reader, key, key_at)?;
            let edge = fast_edge(reader).map_or_else(|| read_edge(reader), Ok)?;
            self.add_edge(edges, caller, edge);
        }
        self.settle(reader, edges, pending)
    }

    fn caller(
        &mut self,
        reader: &mut Reader<'a>,
        key: Key<'a>,
        key_at: usize,
    ) -> Result<FuncId, ParseError> {
        self.resolve(reader, key).map_err(|found| {
            ParseError::at_byte(
                key_at as u64,
                format!("a caller key should be a (file, line, function) tuple, found {found}"),
            )
        })
    }

    /// Looks up the pending keys, then adds their edges, in order.
    fn settle(
        &mut self,
        reader: &mut Reader<'a>,
        edges: &mut Vec<(FuncId, EdgeStats)>,
        pending: &mut Vec<Pending>,
    ) -> Result<(), ParseError> {
        for p in pending.iter_mut() {
            let func = match self.by_slot.get(p.slot) {
                Some(&func) if func != NO_FUNC => func,
                _ => {
                    self.caller(reader, Key::Item(Item::Ref(p.slot)), p.key_at)?
                        .0
                }
            };
            // The slot is looked up; what is left of it is the function.
            p.slot = func as usize;
        }
        for p in pending.drain(..) {
            self.add_edge(edges, FuncId(p.slot as u32), p.edge);
        }
        Ok(())
    }

    /// Repeated keys (two keys naming one function): the later one wins, as in the dict Python
    /// loads.
    #[inline]
    fn add_edge(&mut self, edges: &mut Vec<(FuncId, EdgeStats)>, caller: FuncId, edge: EdgeStats) {
        let at = caller.0 as usize;
        if at >= self.seen_in.len() {
            self.seen_in.resize(at + 1, (0, 0));
        }
        match self.seen_in[at] {
            (entry, i) if entry == self.entries => edges[i as usize].1 = edge,
            _ => {
                self.seen_in[at] = (self.entries, edges.len() as u32);
                edges.push((caller, edge));
            }
        }
    }

    fn intern(&mut self, key: &Value) -> Option<FuncId> {
        let address = match key {
            Value::Tuple(parts) => match &parts[..] {
                [Value::Str(file), Value::Int(line), Value::Str(name)] => {
                    let address = (address_of(file), *line, address_of(name));
                    if let Some(&func) = self.by_address.get(&address) {
                        return Some(func);
                    }
                    self.keep.extend([Rc::clone(file), Rc::clone(name)]);
                    Some(address)
                }
                _ => None,
            },
            _ => None,
        };
        let Name { name, file, line } = function_key(key)?;
        let func = self.names.intern(&name, file.as_deref(), line, || {
            (
                name.to_string().into(),
                file.as_deref().map(|f| f.to_owned().into()),
            )
        });
        if let Some(address) = address {
            self.by_address.insert(address, func);
        }
        Some(func)
    }

    /// `(primitive calls, calls, self, cumulative, callers)` for `func`.
    pub fn read_entry(
        &mut self,
        reader: &mut Reader<'a>,
        func: FuncId,
    ) -> Result<Entry, ParseError> {
        let (primitive_calls, calls, self_weight, total_weight) = match fast_head(reader) {
            Some(head) => head,
            None => slow_head(reader)?,
        };
        // Filled in a buffer kept from entry to entry, then copied out at its exact size: one
        // allocation per function instead of one per doubling.
        let mut edges = std::mem::take(&mut self.edges);
        edges.clear();
        self.entries += 1;
        let mut pending = std::mem::take(&mut self.pending);
        let read = self.read_callers(reader, &mut edges, &mut pending);
        pending.clear();
        self.pending = pending;
        if let Err(e) = read {
            self.edges = edges;
            return Err(e);
        }
        let count_only: Vec<usize> = (0..edges.len())
            .filter(|&i| edges[i].1.self_weight.is_nan())
            .collect();
        estimate_count_only(&mut edges, &count_only, self_weight, total_weight);
        let entry = Entry {
            stats: FunctionStats {
                func,
                calls,
                primitive_calls,
                self_weight,
                total_weight,
                callers: edges.clone(),
            },
            count_only_callers: count_only.len(),
        };
        self.edges = edges;
        Ok(entry)
    }
}

type Head = (Option<u64>, Option<u64>, f64, f64);

/// `(primitive calls, calls, self, cumulative, ` and the opening of the callers dict, when
/// they are plain numbers that need no message; else nothing is read.
fn fast_head(reader: &mut Reader<'_>) -> Option<Head> {
    let mark = reader.mark();
    let head = (|| {
        if !reader.try_tuple(5) {
            return None;
        }
        let primitive_calls = fast_count(reader.try_number()?);
        let calls = fast_count(reader.try_number()?);
        let self_weight = fast_time(reader.try_number()?)?;
        let total_weight = fast_time(reader.try_number()?)?;
        reader
            .try_dict()
            .then_some((primitive_calls, calls, self_weight, total_weight))
    })();
    if head.is_none() {
        reader.rewind(mark);
    }
    head
}

/// A caller's `(calls, primitive calls, self, cumulative)` when they are plain numbers that
/// need no message; else nothing is read.
#[inline]
fn fast_edge(reader: &mut Reader<'_>) -> Option<EdgeStats> {
    let mark = reader.mark();
    let [calls, primitive_calls, self_weight, total_weight] = reader.try_numbers::<4>()?;
    match (fast_time(self_weight), fast_time(total_weight)) {
        (Some(self_weight), Some(total_weight)) => Some(EdgeStats {
            calls: fast_count(calls),
            primitive_calls: fast_count(primitive_calls),
            self_weight,
            total_weight,
        }),
        _ => {
            reader.rewind(mark);
            None
        }
    }
}

/// [`count`] of a number, which never fails.
#[inline]
fn fast_count(number: Number) -> Option<u64> {
    match number {
        Number::Int(n) => u64::try_from(n).ok(),
        // As pstats prints a float count, with `%d`.
        Number::Float(f) => (f.is_finite() && f >= 0.0).then_some(f as u64),
    }
}

/// [`time`] of a number; `None` where it fails, for the slow path to say why.
#[inline]
fn fast_time(number: Number) -> Option<f64> {
    match number {
        Number::Float(t) => t.is_finite().then_some(t),
        Number::Int(n) => Some(n as f64),
    }
}

fn slow_head(reader: &mut Reader<'_>) -> Result<Head, ParseError> {
    let at = reader.offset();
    let shape = "value should be a (primitive calls, calls, self, cumulative, callers) tuple";
    let n = begin_tuple(reader, shape)?;
    if n != 5 {
        return Err(ParseError::at_byte(
            at as u64,
            format!("{shape}, found tuple of {n}"),
        ));
    }
    let primitive_calls = read_count(reader, "primitive call count")?;
    let calls = read_count(reader, "call count")?;
    let self_weight = read_time(reader, "self time")?;
    let total_weight = read_time(reader, "cumulative time")?;
    if reader.peek_type() != "dict" {
        return Err(ParseError::at_byte(
            reader.offset() as u64,
            format!("callers should be a dict, found {}", reader.peek_type()),
        ));
    }
    reader.begin_dict()?;
    Ok((primitive_calls, calls, self_weight, total_weight))
}

fn address_of(text: &Rc<str>) -> usize {
    Rc::as_ptr(text).cast::<u8>() as usize
}

fn begin_tuple(reader: &mut Reader<'_>, shape: &str) -> Result<usize, ParseError> {
    if reader.peek_type() != "tuple" {
        return Err(ParseError::at_byte(
            reader.offset() as u64,
            format!("{shape}, found {}", reader.peek_type()),
        ));
    }
    reader.begin_tuple()
}

/// The most container items a caller's figures may hold: their four.
const EDGE_ITEMS: usize = 16;

const EDGE_FIELDS: [&str; 4] = [
    "caller call count",
    "caller primitive call count",
    "caller self time",
    "caller cumulative time",
];

/// A caller's `(calls, primitive calls, self, cumulative)` (the calls come first here, unlike
/// in the function's own tuple), or the `profile` module's bare call count, which leaves the
/// primitive calls unknown and the times for [`estimate_count_only`].
fn read_edge(reader: &mut Reader<'_>) -> Result<EdgeStats, ParseError> {
    let at = reader.offset();
    let shape = "a caller's figures should be a (calls, primitive calls, self, cumulative) \
                 tuple or a call count";
    let fail = |message: String| ParseError::at_byte(at as u64, message);
    // A tuple shared by reference (the same object written twice) is read whole and kept, so
    // that the reference can be looked up; any other is read item by item.
    if reader.peek_type() == "tuple" && !reader.peek_has_slot() {
        let n = reader.begin_tuple()?;
        if n != 4 {
            return Err(fail(format!("{shape}, found tuple of {n}")));
        }
        return Ok(EdgeStats {
            calls: read_count(reader, EDGE_FIELDS[0])?,
            primitive_calls: read_count(reader, EDGE_FIELDS[1])?,
            self_weight: read_time(reader, EDGE_FIELDS[2])?,
            total_weight: read_time(reader, EDGE_FIELDS[3])?,
        });
    }
    // Anything else is read whole: small ints are often references to an earlier one. It is
    // a few items at most, so a malformed one is refused before more are built.
    let budget = reader.set_item_budget(EDGE_ITEMS);
    let value = reader.read_value();
    reader.set_item_budget(budget);
    match value? {
        // The times are NaN until `estimate_count_only` shares them out.
        value @ (Value::Int(_) | Value::BigInt(_)) => Ok(EdgeStats {
            calls: count(&value, EDGE_FIELDS[0]).map_err(fail)?,
            primitive_calls: None,
            self_weight: f64::NAN,
            total_weight: f64::NAN,
        }),
        Value::Tuple(parts) => match &parts[..] {
            [nc, cc, tt, ct] => Ok(EdgeStats {
                calls: count(nc, EDGE_FIELDS[0]).map_err(fail)?,
                primitive_calls: count(cc, EDGE_FIELDS[1]).map_err(fail)?,
                self_weight: time(tt, EDGE_FIELDS[2]).map_err(fail)?,
                total_weight: time(ct, EDGE_FIELDS[3]).map_err(fail)?,
            }),
            _ => Err(fail(format!("{shape}, found tuple of {}", parts.len()))),
        },
        other => Err(fail(format!("{shape}, found {}", describe(&other)))),
    }
}

/// The `profile` module records only how often each caller called; its share of the calls is
/// the best guess at its share of the time.
fn estimate_count_only(
    edges: &mut [(FuncId, EdgeStats)],
    count_only: &[usize],
    self_weight: f64,
    total_weight: f64,
) {
    let all: u64 = count_only
        .iter()
        .filter_map(|&i| edges.get(i).and_then(|(_, e)| e.calls))
        .fold(0u64, u64::saturating_add);
    for &i in count_only {
        if let Some((_, edge)) = edges.get_mut(i) {
            let share = match edge.calls {
                Some(calls) if all > 0 => calls as f64 / all as f64,
                _ => 0.0,
            };
            edge.self_weight = self_weight * share;
            edge.total_weight = total_weight * share;
        }
    }
}

fn read_count(reader: &mut Reader<'_>, what: &str) -> Result<Option<u64>, ParseError> {
    let at = reader.offset();
    count(&reader.read_number()?, what).map_err(|m| ParseError::at_byte(at as u64, m))
}

fn read_time(reader: &mut Reader<'_>, what: &str) -> Result<f64, ParseError> {
    let at = reader.offset();
    time(&reader.read_number()?, what).map_err(|m| ParseError::at_byte(at as u64, m))
}

/// A call count; negative ones (pyinstrument writes -1, having no counts to give) and ones
/// past `u64` are unknown.
fn count(value: &Value, what: &str) -> Result<Option<u64>, String> {
    match value {
        Value::Int(n) => Ok(u64::try_from(*n).ok()),
        Value::BigInt(_) => Ok(None),
        // As pstats prints a float count, with `%d`.
        Value::Float(f) if f.is_finite() && *f >= 0.0 => Ok(Some(*f as u64)),
        Value::Float(_) => Ok(None),
        other => Err(format!(
            "{what} should be an int, found {}",
            other.type_name()
        )),
    }
}

fn time(value: &Value, what: &str) -> Result<f64, String> {
    let t = match value {
        Value::Float(t) | Value::BigInt(t) => *t,
        Value::Int(n) => *n as f64,
        other => {
            return Err(format!(
                "{what} should be a number, found {}",
                other.type_name()
            ));
        }
    };
    if t.is_finite() {
        Ok(t)
    } else {
        Err(format!("{what} is {t}"))
    }
}
