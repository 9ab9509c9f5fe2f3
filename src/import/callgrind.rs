//! Callgrind's profile format (valgrind's `--tool=callgrind`, yappi, pprofile,
//! pyprof2calltree, xdebug): `key: value` headers, among them `events:` (one profile per
//! event) and `positions:`, then per function (`fl=` file, `fn=` name) cost lines
//! `POSITION… COST…`, and calls (`cfi=`/`cfl=` file, `cfn=` name, `calls=COUNT TARGET`)
//! each followed by the line of the call's inclusive cost. Names may be compressed (`(7) name`
//! defines, `(7)` refers back), positions too (`*` the same, `+N`/`-N` relative).
//! See <https://valgrind.org/docs/manual/cl-format.html>.
//!
//! The function table is exact: a function's self cost is the sum of its cost lines, its
//! inclusive cost that plus the costs of its calls to other functions (a call to itself is
//! inside its own lines already), its calls the counts of the calls into it. The call tree is
//! not in the file: it is estimated from the call edges, as for pstats.

use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{
    EdgeStats, FrameTable, FuncId, FunctionKey, FunctionStats, Profile, ProfileSet, Unit,
};

/// The most events a file may name; valgrind's cache and branch simulation together name 13.
const MAX_EVENTS: usize = 64;

/// `# callgrind format` first, or, among the first lines, an `events:` header and a `fn=`.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = super::lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    if text.starts_with("# callgrind format") {
        return Sniff::Yes;
    }
    let mut events = false;
    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = header(line) {
            events |= key == "events";
            continue;
        }
        if line.starts_with("fn=") || line.starts_with("fl=") || line.starts_with("ob=") {
            return if events { Sniff::Yes } else { Sniff::No };
        }
        // Anything else before the first function is not callgrind's.
        return Sniff::No;
    }
    Sniff::No
}

/// `key: value` with a header's key (a word), or `None`.
fn header(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let word = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    word.then(|| (key, value.trim()))
}

/// What the file says of one function.
struct Function {
    name: String,
    file: Option<String>,
    /// The lowest line of its cost lines, or the definition line a Python profiler names.
    line: Option<u32>,
    /// Per event.
    self_cost: Vec<f64>,
}

/// Calls from one function to another.
struct Edge {
    calls: u64,
    /// Per event, the inclusive cost of the calls.
    cost: Vec<f64>,
}

/// Name compression: ids defined by `(id) name`, for files, functions and objects apart.
#[derive(Default)]
struct Names {
    files: FxHashMap<u64, String>,
    functions: FxHashMap<u64, String>,
    objects: FxHashMap<u64, String>,
}

fn expand(table: &mut FxHashMap<u64, String>, value: &str) -> Result<String, String> {
    let value = value.trim();
    let Some(rest) = value.strip_prefix('(') else {
        return Ok(value.to_owned());
    };
    let Some((id, name)) = rest.split_once(')') else {
        return Ok(value.to_owned());
    };
    let Ok(id) = id.trim().parse::<u64>() else {
        return Ok(value.to_owned());
    };
    let name = name.trim();
    if name.is_empty() {
        table
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("name ({id}) is used before it is defined"))
    } else {
        table.insert(id, name.to_owned());
        Ok(name.to_owned())
    }
}

/// The reading state: where cost lines go.
struct Reader {
    events: Vec<String>,
    /// Which subposition is the line, if any (`positions: instr line` puts it second).
    line_position: Option<usize>,
    positions: usize,
    last_position: Vec<i64>,
    functions: Vec<Function>,
    index: FxHashMap<(String, Option<String>), usize>,
    edges: FxHashMap<(usize, usize), Edge>,
    creator: String,
}

impl Reader {
    fn function(&mut self, name: &str, file: Option<&str>) -> usize {
        let key = (name.to_owned(), file.map(str::to_owned));
        if let Some(&at) = self.index.get(&key) {
            return at;
        }
        self.functions.push(Function {
            name: key.0.clone(),
            file: key.1.clone(),
            line: None,
            self_cost: vec![0.0; self.events.len()],
        });
        self.index.insert(key, self.functions.len() - 1);
        self.functions.len() - 1
    }

    /// Reads a cost line: the line number it names, and its costs.
    fn cost_line(&mut self, line: &str) -> Result<(Option<u32>, Vec<f64>), String> {
        let mut words = line.split_whitespace();
        for p in 0..self.positions {
            let word = words.next().ok_or("a cost line without its position")?;
            let last = self.last_position[p];
            let value = match word {
                "*" => last,
                _ if word.starts_with('+') || word.starts_with('-') => {
                    let delta = number(&word[1..]).ok_or_else(|| bad_number(word))?;
                    let delta = i64::try_from(delta).map_err(|_| bad_number(word))?;
                    if word.starts_with('-') {
                        last.checked_sub(delta)
                    } else {
                        last.checked_add(delta)
                    }
                    .ok_or_else(|| bad_number(word))?
                }
                _ => number(word)
                    .and_then(|n| i64::try_from(n).ok())
                    .ok_or_else(|| bad_number(word))?,
            };
            self.last_position[p] = value;
        }
        let line_number = self
            .line_position
            .map(|p| self.last_position[p])
            .and_then(|l| u32::try_from(l).ok())
            .filter(|&l| l > 0);
        let mut costs = vec![0.0; self.events.len()];
        for (i, word) in words.enumerate() {
            let slot = costs.get_mut(i).ok_or_else(|| {
                format!(
                    "more costs than the {} events of the `events:` line",
                    self.events.len()
                )
            })?;
            *slot = match number(word) {
                Some(n) => n as f64,
                None => word
                    .parse::<f64>()
                    .ok()
                    .filter(|c| c.is_finite() && *c >= 0.0)
                    .ok_or_else(|| bad_number(word))?,
            };
        }
        Ok((line_number, costs))
    }
}

fn bad_number(word: &str) -> String {
    let shown: String = word.chars().take(24).collect();
    format!("\"{shown}\" is not a number")
}

/// A decimal or `0x` hexadecimal number.
fn number(word: &str) -> Option<u64> {
    match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

/// The unit of an event: yappi's `Ticks` are microseconds; valgrind's events count
/// instructions, cache misses and the like.
fn unit_of(event: &str, creator: &str) -> Unit {
    match event {
        "Ticks" if creator.starts_with("yappi") => Unit::Microseconds,
        _ => Unit::None,
    }
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(text)
        .map_err(|e| ParseError::at_byte(e.valid_up_to() as u64, "not UTF-8 text"))?;
    let mut reader = Reader {
        events: Vec::new(),
        line_position: Some(0),
        positions: 1,
        last_position: vec![0],
        functions: Vec::new(),
        index: FxHashMap::default(),
        edges: FxHashMap::default(),
        creator: String::new(),
    };
    let mut names = Names::default();
    let mut file: Option<String> = None;
    // The file set last by fl=, fi= or fe=: where a call goes when no cfi= says otherwise.
    let mut source_file: Option<String> = None;
    let mut current: Option<usize> = None;
    let mut callee_file: Option<String> = None;
    let mut callee: Option<String> = None;
    // A calls= line was read: the next line is the call's cost.
    let mut call: Option<u64> = None;
    // A jump= line was read: the next line is its position, with no cost of its own.
    let mut jump = false;
    for (index, line) in text.lines().enumerate() {
        let at = index as u64 + 1;
        let fail = |message: String| ParseError::at_line(at, message);
        let line = line.trim_end();
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(count) = call.take() {
            let caller = current.ok_or_else(|| fail("a call outside any function (fn=)".into()))?;
            let name = callee
                .clone()
                .ok_or_else(|| fail("a call with no called function (cfn=)".into()))?;
            let target_file = callee_file.take().or_else(|| source_file.clone());
            let (_, costs) = reader
                .cost_line(line)
                .map_err(|e| fail(format!("the cost of a call: {e}")))?;
            let target = reader.function(&name, target_file.as_deref());
            let events = reader.events.len();
            let edge = reader
                .edges
                .entry((caller, target))
                .or_insert_with(|| Edge {
                    calls: 0,
                    cost: vec![0.0; events],
                });
            edge.calls = edge.calls.saturating_add(count);
            edge.cost.iter_mut().zip(&costs).for_each(|(e, c)| *e += c);
            continue;
        }
        if jump {
            jump = false;
            reader.cost_line(line).map_err(fail)?;
            continue;
        }
        if let Some((key, value)) = line.split_once('=')
            && !key.is_empty()
            && key.bytes().all(|b| b.is_ascii_alphabetic())
        {
            match key {
                "fl" => {
                    file = Some(expand(&mut names.files, value).map_err(fail)?)
                        .filter(|f| !f.is_empty());
                    source_file = file.clone();
                }
                "fi" | "fe" => {
                    source_file = Some(expand(&mut names.files, value).map_err(fail)?)
                        .filter(|f| !f.is_empty());
                }
                "fn" => {
                    let name = expand(&mut names.functions, value).map_err(fail)?;
                    let (name, line) = python_definition(&name, file.as_deref());
                    let at = reader.function(name, file.as_deref());
                    if line.is_some() {
                        reader.functions[at].line = line;
                    }
                    current = Some(at);
                    // A function's calls go to its own file unless cfi= says otherwise.
                    source_file = file.clone();
                }
                "cfi" | "cfl" => {
                    callee_file = Some(expand(&mut names.files, value).map_err(fail)?)
                        .filter(|f| !f.is_empty());
                }
                "cfn" => {
                    let name = expand(&mut names.functions, value).map_err(fail)?;
                    let (name, _) =
                        python_definition(&name, callee_file.as_deref().or(source_file.as_deref()));
                    callee = Some(name.to_owned());
                }
                "ob" | "cob" => {
                    expand(&mut names.objects, value).map_err(fail)?;
                }
                "calls" => {
                    let count = value
                        .split_whitespace()
                        .next()
                        .and_then(number)
                        .ok_or_else(|| fail(format!("calls={value}: no call count")))?;
                    call = Some(count);
                }
                "jump" | "jcnd" => jump = true,
                // Other assignments (future keys) carry nothing obol shows.
                _ => {}
            }
            continue;
        }
        if let Some((key, value)) = header(line) {
            match key {
                "events" => {
                    let events: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
                    if events.is_empty() {
                        return Err(fail("an `events:` line naming no event".into()));
                    }
                    // Every function and call keeps a cost per event: a line naming thousands
                    // would make a small file take memory quadratic in its size.
                    if events.len() > MAX_EVENTS {
                        return Err(fail(format!(
                            "an `events:` line naming {} events (at most {MAX_EVENTS} are read)",
                            events.len()
                        )));
                    }
                    if !reader.events.is_empty() && reader.events != events {
                        return Err(fail(format!(
                            "a second `events:` line naming other events ({})",
                            events.join(" ")
                        )));
                    }
                    reader.events = events;
                }
                "positions" => {
                    let kinds: Vec<&str> = value.split_whitespace().collect();
                    if kinds.is_empty() || kinds.len() > 3 {
                        return Err(fail(format!(
                            "`positions: {value}` is not a list of up to three subpositions"
                        )));
                    }
                    reader.positions = kinds.len();
                    reader.line_position = kinds.iter().position(|k| *k == "line");
                    reader.last_position = vec![0; kinds.len()];
                }
                "creator" => reader.creator = value.to_owned(),
                _ => {}
            }
            continue;
        }
        if reader.events.is_empty() {
            return Err(fail("a cost line before the `events:` line".into()));
        }
        let func = current.ok_or_else(|| fail("a cost line outside any function (fn=)".into()))?;
        let (line_number, costs) = reader.cost_line(line).map_err(fail)?;
        let function = &mut reader.functions[func];
        function
            .self_cost
            .iter_mut()
            .zip(&costs)
            .for_each(|(s, c)| *s += c);
        if let Some(l) = line_number
            && costs.iter().any(|&c| c > 0.0)
            && function.line.is_none_or(|seen| l < seen)
        {
            function.line = Some(l);
        }
    }
    if call.is_some() {
        return Err(ParseError::at_line(
            text.lines().count() as u64,
            "the file ends after a calls= line, before the call's cost",
        ));
    }
    if reader.events.is_empty() {
        return Err(ParseError::at_line(1, "no `events:` line"));
    }
    if reader.functions.is_empty() {
        return Err(ParseError::at_line(1, "no function (fn=) in the file"));
    }
    warnings.push(
        "callgrind records calls between functions, not stacks: the call tree is estimated from them (the function table is exact)"
            .to_owned(),
    );
    Ok(into_set(reader))
}

/// yappi names a function `name file:line`: the name, and its definition line.
fn python_definition<'a>(name: &'a str, file: Option<&str>) -> (&'a str, Option<u32>) {
    let Some(file) = file else {
        return (name, None);
    };
    let Some((rest, line)) = name.rsplit_once(':') else {
        return (name, None);
    };
    match (rest.strip_suffix(file), line.parse::<u32>()) {
        (Some(front), Ok(line)) if front.ends_with(' ') && front.len() > 1 => {
            (front.trim_end(), Some(line))
        }
        _ => (name, None),
    }
}

fn into_set(reader: Reader) -> ProfileSet {
    let Reader {
        events,
        functions,
        edges,
        creator,
        ..
    } = reader;
    // Each function a frame of the same number, as the estimate of the tree wants.
    let mut frames = FrameTable::new(FunctionKey::NameFileLine);
    frames.reserve(functions.len());
    for f in &functions {
        frames.intern(&f.name, f.file.as_deref(), f.line);
    }
    let n = functions.len();
    let mut calls_into: Vec<Option<u64>> = vec![None; n];
    let mut callers_of: Vec<Vec<(usize, &Edge)>> = (0..n).map(|_| Vec::new()).collect();
    let mut out_of: Vec<Vec<(usize, &Edge)>> = (0..n).map(|_| Vec::new()).collect();
    let mut sorted: Vec<(&(usize, usize), &Edge)> = edges.iter().collect();
    sorted.sort_by_key(|(key, _)| **key);
    for (&(from, to), edge) in sorted {
        calls_into[to] = Some(calls_into[to].unwrap_or(0).saturating_add(edge.calls));
        callers_of[to].push((from, edge));
        out_of[from].push((to, edge));
    }
    let profiles = events
        .iter()
        .enumerate()
        .map(|(e, event)| {
            let total: f64 = functions.iter().map(|f| f.self_cost[e]).sum();
            let inclusive: Vec<f64> = (0..n)
                .map(|i| {
                    let called: f64 = out_of[i]
                        .iter()
                        .filter(|(to, _)| *to != i)
                        .map(|(_, edge)| edge.cost[e])
                        .sum();
                    // Calls round a cycle of functions count the same cost more than once.
                    (functions[i].self_cost[e] + called).min(total)
                })
                .collect();
            let stats = (0..n)
                .map(|i| {
                    let own = functions[i].self_cost[e];
                    let callers = callers_of[i]
                        .iter()
                        .map(|&(from, edge)| {
                            let edge_total = edge.cost[e];
                            // How much of the callee's own cost was spent under this caller is
                            // not recorded: its share of the callee's inclusive cost.
                            let share = if inclusive[i] > 0.0 {
                                (edge_total / inclusive[i]).min(1.0)
                            } else {
                                0.0
                            };
                            let edge = EdgeStats {
                                calls: Some(edge.calls),
                                primitive_calls: None,
                                self_weight: own * share,
                                total_weight: edge_total,
                            };
                            (FuncId(from as u32), edge)
                        })
                        .collect();
                    FunctionStats {
                        func: FuncId(i as u32),
                        calls: calls_into[i],
                        primitive_calls: None,
                        self_weight: own,
                        total_weight: inclusive[i],
                        callers,
                    }
                })
                .collect();
            let mut profile =
                Profile::without_tree(event.clone(), unit_of(event, &creator), total, stats);
            profile.event = Some(event.clone());
            profile
        })
        .collect();
    ProfileSet { frames, profiles }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::function_named;

    fn stats<'a>(set: &'a ProfileSet, profile: usize, name: &str) -> &'a FunctionStats {
        let func = set.frames.functions().position(|f| f.name == name).unwrap();
        &set.profiles[profile].function_stats.as_ref().unwrap()[func]
    }

    /// The example of the format's documentation, compressed: main (self 20) calls func1 once
    /// (400 inclusive) and func2 three times (400); func1 (self 100) calls func2 twice (300);
    /// func2's self cost is 700.
    const EXAMPLE: &str = "# callgrind format\nevents: Instructions Cycles\n\n\
fl=(1) file1.c\nfn=(1) main\n16 20 5\ncfn=(2) func1\ncalls=1 50\n16 400\n\
cfi=(2) file2.c\ncfn=(3) func2\ncalls=3 20\n16 400\n\n\
fn=(2)\n51 100\ncfi=(2)\ncfn=(3)\ncalls=2 20\n51 300\n\n\
fl=(2)\nfn=(3)\n20 700\n";

    #[test]
    fn the_documented_example_counted_by_hand() {
        assert_eq!(sniff(EXAMPLE.as_bytes()), Sniff::Yes);
        let mut warnings = Vec::new();
        let set = parse(EXAMPLE.as_bytes(), &mut warnings).unwrap();
        assert_eq!(warnings.len(), 1, "the estimate is said: {warnings:?}");
        let names: Vec<&str> = set.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Instructions", "Cycles"]);
        assert_eq!(set.profiles[0].total, 820.0);
        assert_eq!(set.profiles[1].total, 5.0);
        let main = stats(&set, 0, "main");
        assert_eq!(
            (main.self_weight, main.total_weight, main.calls),
            (20.0, 820.0, None)
        );
        let func1 = stats(&set, 0, "func1");
        assert_eq!(
            (func1.self_weight, func1.total_weight, func1.calls),
            (100.0, 400.0, Some(1))
        );
        let func2 = stats(&set, 0, "func2");
        assert_eq!(
            (func2.self_weight, func2.total_weight, func2.calls),
            (700.0, 700.0, Some(5))
        );
        assert_eq!(function_named(&set, "func2").file, Some("file2.c"));
        assert_eq!(function_named(&set, "main").line, Some(16));
    }

    #[test]
    fn subpositions_relative_and_hex() {
        let text = "events: Ir\npositions: instr line\nfl=a.c\nfn=f\n0x10 5 3\n+2 +1 4\n* -3 1\n";
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        assert_eq!(set.profiles[0].total, 8.0);
        // Lines 5, 6 and 3: the lowest.
        assert_eq!(function_named(&set, "f").line, Some(3));
    }

    #[test]
    fn yappi_names_split_and_ticks_are_microseconds() {
        let text = "version: 1\ncreator: yappi\npid: 1\ncmd:  x.py\npart: 1\n\nevents: Ticks\n\
fl=(1) /app/x.py\nfn=(1) work /app/x.py:12\n\nfl=(1)\nfn=(1)\n12 250\n";
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        let work = function_named(&set, "work");
        assert_eq!((work.file, work.line), (Some("/app/x.py"), Some(12)));
        assert_eq!(set.profiles[0].unit, Unit::Microseconds);
    }

    #[test]
    fn broken_files_say_where() {
        let error = |text: &str| parse(text.as_bytes(), &mut Vec::new()).unwrap_err();
        assert_eq!(
            error("events: Ir\nfn=(3)\n").location,
            crate::import::Location::Line(2)
        );
        assert_eq!(
            error("events: Ir\nfn=f\n1 x\n").location,
            crate::import::Location::Line(3)
        );
        assert_eq!(
            error("events: Ir\nfn=f\n1 1 2\n").location,
            crate::import::Location::Line(3)
        );
        assert_eq!(
            error("fn=f\n1 1\n").location,
            crate::import::Location::Line(2)
        );
        let many = format!("events: {}\nfn=f\n1 1\n", vec!["E"; 65].join(" "));
        assert_eq!(error(&many).location, crate::import::Location::Line(1));
        assert_eq!(sniff(b"main;work 3\n"), Sniff::No);
        assert_eq!(sniff(b"events: Ir\nfn=main\n1 2\n"), Sniff::Yes);
    }
}
