//! The crate's layout is its architecture (see `src/lib.rs`): no two source files import each
//! other, directly or through others. An import is a `crate::…` path, a `use crate::{…}` group
//! or a `super::…` path outside comments and test modules, resolved to the file that defines
//! the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `events::routes` for `events/routes.rs`, `events` for `events/mod.rs`.
fn module_of(relative: &Path) -> String {
    let text = relative.with_extension("").to_string_lossy().replace('\\', "/");
    text.strip_suffix("/mod").unwrap_or(&text).replace('/', "::")
}

/// The code of a file without its comments and its test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Module paths (`a::b::c`) that follow each occurrence of `prefix`.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .map(|(at, _)| {
            let rest = &code[at + prefix.len()..];
            let end =
                rest.find(|c: char| !(c.is_ascii_lowercase() || c == '_' || c == ':')).unwrap_or(rest.len());
            rest[..end].trim_end_matches(':')
        })
        .filter(|p| !p.is_empty())
        .collect()
}

#[test]
fn no_source_files_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .filter(|f| !f.ends_with("lib.rs") && !f.ends_with("main.rs"))
        .map(|f| (module_of(f.strip_prefix(&root).unwrap()), f.clone()))
        .collect();
    // The longest module path that is a file: `crate::http::error::ApiError` is http/error.rs.
    let resolve = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains_key(m))
    };
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &modules {
        let code = code(&std::fs::read_to_string(file).unwrap());
        // `super` is the module's parent (for `events/mod.rs`, module `events`, the crate root).
        let parent = module.rsplit_once("::").map(|(p, _)| p.to_string()).unwrap_or_default();
        let mut named: Vec<String> = paths_after(&code, "crate::").into_iter().map(String::from).collect();
        for group in code.split("use crate::{").skip(1) {
            let inside = group.split("};").next().unwrap_or_default();
            named.extend(inside.split(|c: char| c == ',' || c == '{' || c.is_whitespace()).map(String::from));
        }
        for path in paths_after(&code, "super::") {
            named.push(if parent.is_empty() { path.to_string() } else { format!("{parent}::{path}") });
        }
        let targets = named.iter().filter_map(|p| resolve(p.trim())).filter(|t| t != module).collect();
        imports.insert(module.clone(), targets);
    }
    // Depth-first search for a path that comes back to where it started.
    fn walk(
        at: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut circle = path[start..].to_vec();
            circle.push(at.to_string());
            return Some(circle);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in imports.get(at).into_iter().flatten() {
            if let Some(circle) = walk(next, imports, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for module in imports.keys() {
        if let Some(circle) = walk(module, &imports, &mut Vec::new(), &mut done) {
            panic!("an import circle: {}", circle.join(" → "));
        }
    }
    assert!(imports.len() > 30, "the sources were read: {:?}", imports.keys());
}
