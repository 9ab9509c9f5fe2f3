//! The import statements of a Python module, for the module dependency graph.

use super::python::{Kind, Token, logical_lines};

/// One `import` or `from ... import` target, with relative imports made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// `a.b` for `import a.b` and for `from a.b import c`.
    pub module: String,
    /// The names after `from ... import`: each may be a submodule (`from pkg import mod`).
    pub names: Vec<String>,
}

/// Every import in `source`, at any depth (imports inside functions are dependencies too).
/// `module` is the importing module's dotted name and `is_package` says whether its file is an
/// `__init__.py`; both resolve relative imports.
pub fn imports(source: &str, module: &str, is_package: bool) -> Vec<Import> {
    let mut out = Vec::new();
    for line in logical_lines(source) {
        // Several statements may share a line (`import a; import b`).
        for statement in line.tokens.split(|t| t.is(";")) {
            read_statement(statement, module, is_package, &mut out);
        }
    }
    out
}

fn read_statement(tokens: &[Token<'_>], module: &str, is_package: bool, out: &mut Vec<Import>) {
    match tokens.first() {
        Some(t) if t.is("import") => {
            for part in tokens[1..].split(|t| t.is(",")) {
                let name = dotted(part.iter().take_while(|t| !t.is("as")));
                if !name.is_empty() {
                    out.push(Import {
                        module: name,
                        names: Vec::new(),
                    });
                }
            }
        }
        Some(t) if t.is("from") => {
            let Some(import_at) = tokens.iter().position(|t| t.is("import")) else {
                return;
            };
            let source_part = &tokens[1..import_at];
            let dots: usize = source_part
                .iter()
                .take_while(|t| t.is(".") || t.is("..."))
                .map(|t| t.text.len())
                .sum();
            let rest = dotted(source_part.iter().skip_while(|t| t.is(".") || t.is("...")));
            let Some(base) = resolve_relative(module, is_package, dots, &rest) else {
                return;
            };
            if base == "__future__" {
                return;
            }
            let names = tokens[import_at + 1..]
                .split(|t| t.is(","))
                .filter_map(|part| {
                    part.iter()
                        .find(|t| t.kind == Kind::Name && !t.is("as"))
                        .filter(|t| !t.is("*"))
                        .map(|t| t.text.to_owned())
                })
                .collect();
            out.push(Import {
                module: base,
                names,
            });
        }
        _ => {}
    }
}

/// Names and dots joined: `a . b . c` → `a.b.c`; parentheses are skipped.
fn dotted<'a>(tokens: impl Iterator<Item = &'a Token<'a>>) -> String {
    let mut out = String::new();
    for t in tokens {
        if t.kind == Kind::Name || t.is(".") {
            out.push_str(t.text);
        }
    }
    out
}

/// `from ..x import y` inside `a.b.c` → `a.x`. `None` when the dots climb past the top.
fn resolve_relative(module: &str, is_package: bool, dots: usize, rest: &str) -> Option<String> {
    if dots == 0 {
        return Some(rest.to_owned());
    }
    let mut parts: Vec<&str> = module.split('.').collect();
    // A module's package is its parent; a package (`__init__.py`) is its own.
    let drop = if is_package { dots - 1 } else { dots };
    if drop >= parts.len() + usize::from(is_package) && drop > 0 {
        return None;
    }
    parts.truncate(parts.len().saturating_sub(drop));
    let mut base = parts.join(".");
    if !rest.is_empty() {
        if !base.is_empty() {
            base.push('.');
        }
        base.push_str(rest);
    }
    (!base.is_empty()).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(source: &str, module: &str, is_package: bool) -> Vec<(String, Vec<String>)> {
        imports(source, module, is_package)
            .into_iter()
            .map(|i| (i.module, i.names))
            .collect()
    }

    #[test]
    fn absolute_and_from_imports() {
        let source = "import os, json.decoder as jd\nfrom shop import pricing, report as r\nfrom __future__ import annotations\ns = 'import nothing'\n";
        assert_eq!(
            modules(source, "shop.catalog", false),
            vec![
                ("os".into(), vec![]),
                ("json.decoder".into(), vec![]),
                ("shop".into(), vec!["pricing".into(), "report".into()]),
            ]
        );
    }

    #[test]
    fn relative_imports_resolve_against_the_package() {
        let source =
            "def lazy():\n    from . import pricing\n    from ..util import (a,\n        b)\n";
        assert_eq!(
            modules(source, "shop.sub.catalog", false),
            vec![
                ("shop.sub".into(), vec!["pricing".into()]),
                ("shop.util".into(), vec!["a".into(), "b".into()]),
            ]
        );
        // In a package's __init__, `.` is the package itself.
        assert_eq!(
            modules("from .catalog import x\n", "shop", true),
            vec![("shop.catalog".into(), vec!["x".into()])]
        );
        assert_eq!(modules("from ... import x\n", "a", false), vec![]);
    }
}
