//! Frame names as inferno's `collapse-perf` writes them (with `--kernel`), so that obol's
//! figures can be held to the folded file inferno makes from the same `perf script` text:
//! symbol offsets cut, an unknown symbol named after its module, argument lists dropped,
//! legacy Rust symbols that perf left half demangled finished, Java's `L` prefix dropped in a
//! `java` process, inlined frames (`a->b`) marked `_[i]` and kernel frames `_[k]`.

use std::borrow::Cow;

/// The pieces of a stack line `ADDRESS SYMBOL (MODULE)`: address, symbol and module without
/// its parentheses. `None` for a line of another shape.
pub fn stack_line_parts(line: &str) -> Option<(&str, &str, &str)> {
    let (pc, rest) = line.trim_start().split_once(' ')?;
    let (before, module) = rest.rsplit_once(' ')?;
    let module = module.strip_prefix('(')?.strip_suffix(')')?;
    let symbol = match before.trim() {
        // Two spaces between the address and the module: perl's stackcollapse-perf names the
        // frame " ", and inferno after it.
        "" => " ",
        s => s,
    };
    Some((pc.trim_end(), symbol, module))
}

/// The frames one stack line stands for, outermost first (more than one when perf lists
/// inlined calls as `a->b`); none when the line names a process rather than a function.
pub fn frame_names(symbol: &str, module: &str, java: bool, out: &mut Vec<String>) {
    let mut symbol = symbol;
    if let Some(at) = symbol.rfind("+0x")
        && symbol[at + 3..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        symbol = &symbol[..at];
    }
    if symbol.starts_with('(') {
        return;
    }
    let symbol = finish_rust_demangling(symbol);
    for (index, part) in symbol.split("->").enumerate() {
        let mut name = tidy_generic(&module_fallback(module, part));
        if java && name.starts_with('L') && name.contains('/') {
            name.remove(0);
        }
        if index > 0 {
            name.push_str("_[i]");
        } else if is_kernel(module) {
            name.push_str("_[k]");
        }
        out.push(name);
    }
}

/// An unknown symbol in a known module is named `[module file name]`.
fn module_fallback<'a>(module: &str, symbol: &'a str) -> Cow<'a, str> {
    if symbol != "[unknown]" || module == "[unknown]" {
        return Cow::Borrowed(symbol);
    }
    let file = module.rsplit('/').next().unwrap_or(module);
    Cow::Owned(format!("[{file}]"))
}

/// `;` would split the folded stack, and an argument list makes one function many: both go,
/// but not Go's `pkg.(*T).M`, C++'s `(anonymous namespace)` or parentheses inside brackets.
fn tidy_generic(name: &str) -> String {
    let name = name.replace(';', ":");
    let mut depth = 0i64;
    let mut after_dot = None;
    let mut end = name.len();
    for (i, c) in name.char_indices() {
        match c {
            '<' | '{' | '[' => depth += 1,
            '>' | '}' | ']' | ')' => depth -= 1,
            '(' => {
                if depth == 0 {
                    let go_method = after_dot == Some(i);
                    let anonymous = name[i..].starts_with("(anonymous namespace)");
                    if !go_method && !anonymous {
                        end = i;
                        break;
                    }
                }
                depth += 1;
            }
            '.' => after_dot = Some(i + 1),
            _ => {}
        }
    }
    let mut name = name;
    name.truncate(end);
    name
}

/// A kernel module (`[name]`, `*.ko`) or a kernel image (`vmlinux`, `vmlinux-5.4.0`).
fn is_kernel(module: &str) -> bool {
    let vmlinux = module.rfind("vmlinux").is_some_and(|at| {
        module[at..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    });
    (module.starts_with('[') || module.ends_with(".ko") || vmlinux) && module != "[unknown]"
}

/// Rust's legacy mangling, which perf sometimes leaves half undone
/// (`_$LT$a..B$GT$::f::h0123456789abcdef`): the hash dropped, `..` and the `$XX$` escapes
/// turned back into what they stand for.
fn finish_rust_demangling(symbol: &str) -> Cow<'_, str> {
    const HASH: usize = 17;
    let Some(hash_at) = symbol.len().checked_sub(HASH) else {
        return Cow::Borrowed(symbol);
    };
    let is_hash = symbol
        .get(hash_at..)
        .and_then(|h| h.strip_prefix('h'))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    if !is_hash {
        return Cow::Borrowed(symbol);
    }
    let mut rest = &symbol[..hash_at];
    rest = rest.strip_suffix("::").unwrap_or(rest);
    if rest.starts_with("_$") {
        rest = &rest[1..];
    }
    const ESCAPES: [(&str, &str); 20] = [
        ("$SP$", "@"),
        ("$BP$", "*"),
        ("$RF$", "&"),
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$LP$", "("),
        ("$RP$", ")"),
        ("$C$", ","),
        ("$u7e$", "~"),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u3d$", "="),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u3b$", ";"),
        ("$u2b$", "+"),
        ("$u21$", "!"),
        ("$u22$", "\""),
    ];
    let mut out = String::with_capacity(rest.len());
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("..") {
            out.push_str("::");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('.') {
            out.push('.');
            rest = after;
        } else if rest.starts_with('$') {
            match ESCAPES.iter().find(|(code, _)| rest.starts_with(code)) {
                Some((code, text)) => {
                    out.push_str(text);
                    rest = &rest[code.len()..];
                }
                None => {
                    out.push_str(rest);
                    break;
                }
            }
        } else {
            let end = rest.find(['$', '.']).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(symbol: &str, module: &str) -> Vec<String> {
        let mut out = Vec::new();
        frame_names(symbol, module, false, &mut out);
        out
    }

    #[test]
    fn offsets_modules_and_annotations() {
        assert_eq!(names("main+0x1f", "/bin/x"), ["main"]);
        assert_eq!(names("[unknown]", "/usr/lib/libc.so.6"), ["[libc.so.6]"]);
        assert_eq!(names("[unknown]", "[unknown]"), ["[unknown]"]);
        assert_eq!(
            names("native_safe_halt", "[kernel.kallsyms]"),
            ["native_safe_halt_[k]"]
        );
        assert_eq!(names("f", "/boot/vmlinux-5.4.0"), ["f_[k]"]);
        assert_eq!(names("a->b->c", "/bin/x"), ["a", "b_[i]", "c_[i]"]);
        assert_eq!(names("(/bin/x)", "/bin/x"), Vec::<String>::new());
        assert_eq!(
            names("py::work:/app/shop/pricing.py+0xa", "/tmp/perf-1.map"),
            ["py::work:/app/shop/pricing.py"]
        );
    }

    #[test]
    fn argument_lists_go_but_not_go_methods_or_namespaces() {
        assert_eq!(tidy_generic("base(BasicType) const"), "base");
        assert_eq!(
            tidy_generic("go/build.(*importReader).readByte"),
            "go/build.(*importReader).readByte"
        );
        assert_eq!(
            tidy_generic("(anonymous namespace)::myBar()"),
            "(anonymous namespace)::myBar"
        );
        assert_eq!(
            tidy_generic("std::function<void (int, int)>::operator(int, int)"),
            "std::function<void (int, int)>::operator"
        );
        assert_eq!(tidy_generic("a;b"), "a:b");
    }

    #[test]
    fn half_demangled_rust_is_finished() {
        assert_eq!(
            finish_rust_demangling(
                "_$LT$std..fs..ReadDir$u20$as$u20$core..iter..Iterator$GT$::next::hc14f1750ca79129b"
            ),
            "<std::fs::ReadDir as core::iter::Iterator>::next"
        );
        assert_eq!(
            finish_rust_demangling("_ZN3std2rt19lang_start17h540c897fe52ba9c5E"),
            "_ZN3std2rt19lang_start17h540c897fe52ba9c5E"
        );
    }

    #[test]
    fn stack_lines() {
        assert_eq!(
            stack_line_parts("\t    7f53 _dl_map+0x597 (/usr/lib/ld.so)"),
            Some(("7f53", "_dl_map+0x597", "/usr/lib/ld.so"))
        );
        assert_eq!(
            stack_line_parts("  7f1e2215d058  (/lib/libc.so)"),
            Some(("7f1e2215d058", " ", "/lib/libc.so"))
        );
        assert_eq!(stack_line_parts("THIS_IS_A_WEIRD_LINE"), None);
        assert_eq!(stack_line_parts("main;work 3"), None);
    }
}
