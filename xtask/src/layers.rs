//! `cargo xtask layers`: the project's structure as the code's imports draw it, and a
//! check that it holds.
//!
//! Crates cannot import each other in a loop (cargo refuses), so the layers between
//! crates are the compiler's to keep; this task prints them (each crate with the
//! workspace crates it depends on) and keeps the rule the compiler cannot: **no import
//! circle between the files of one crate**. It reads every `crate::` and `super::` path
//! in a crate's non-test code, resolves it to the file that defines the module, and
//! reports each strongly connected set of two or more files. A circle fails the check
//! (`cargo xtask test` runs it), naming the files and one import of each.
//!
//! A second rule: **the shells (`crates/cli`, `src-tauri`) use the engine's facade
//! only**: neither names `rolehop_core::testing` nor turns on the core's `test-support`
//! feature, which hand out the engine's internals to its tests.
//!
//! It reads text, not the compiler's resolution: a path through a `pub use` re-export
//! is credited to the file that re-exports it, which is what a reader follows too.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::repo::Repo;

/// The crates whose files are checked, by folder.
const CRATES: &[&str] = &[
    "crates/model",
    "crates/files",
    "crates/keychain",
    "crates/policy",
    "crates/aws",
    "crates/core",
    "crates/cli",
    "crates/logs",
    "src-tauri",
    "xtask",
];

/// The shells, which must not reach the engine's test-support surface.
const SHELLS: &[&str] = &["crates/cli", "src-tauri"];

/// `args`: `--root DIR` measures another checkout (to compare before and after).
pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let root = match args {
        [flag, dir] if flag == "--root" => PathBuf::from(dir),
        [] => repo.root.clone(),
        _ => bail!("usage: cargo xtask layers [--root DIR]"),
    };
    let report = measure(&root)?;
    print!("{}", report.text);
    if report.circles > 0 {
        bail!("{} import circle(s) inside a crate", report.circles);
    }
    let breaches = facade_breaches(&root)?;
    if !breaches.is_empty() {
        bail!(
            "a shell reaches the engine's test-support surface:\n  {}",
            breaches.join("\n  ")
        );
    }
    Ok(())
}

/// Where a shell names `rolehop_core::testing` or turns on `test-support`.
fn facade_breaches(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for dir in SHELLS {
        let krate = root.join(dir);
        if !krate.join("Cargo.toml").exists() {
            continue;
        }
        let manifest = fs::read_to_string(krate.join("Cargo.toml"))?;
        if manifest.contains("test-support") {
            found.push(format!("{dir}/Cargo.toml turns on test-support"));
        }
        for file in rust_files(&krate.join("src"))? {
            if fs::read_to_string(&file)?.contains("rolehop_core::testing") {
                found.push(format!("{} names rolehop_core::testing", file.display()));
            }
        }
    }
    Ok(found)
}

/// The check `cargo xtask test` runs.
pub fn check(repo: &Repo) -> Result<()> {
    task(repo, &[])
}

struct Report {
    text: String,
    circles: usize,
}

fn measure(root: &Path) -> Result<Report> {
    let mut text = String::new();
    let mut circles = 0;
    for dir in CRATES {
        let krate = root.join(dir);
        if !krate.join("Cargo.toml").exists() {
            continue;
        }
        let name = package_name(&krate)?;
        let deps = workspace_dependencies(&krate)?;
        let graph = file_graph(&krate.join("src"))?;
        let found = strongly_connected(&graph);
        let largest = largest_files(&krate.join("src"))?;
        text.push_str(&format!(
            "{name} ({dir}): {} files, {} imports between them, {} circle(s); uses: {}\n",
            graph.len(),
            graph.values().map(BTreeMap::len).sum::<usize>(),
            found.len(),
            if deps.is_empty() {
                "-".to_owned()
            } else {
                deps.join(", ")
            },
        ));
        text.push_str(&format!("  largest files: {}\n", largest.join(", ")));
        for circle in &found {
            circles += 1;
            text.push_str(&format!("  circle of {} files:\n", circle.len()));
            for file in circle {
                for (to, via) in &graph[file] {
                    if circle.contains(to) {
                        text.push_str(&format!("    {file} -> {to} ({via})\n"));
                    }
                }
            }
        }
    }
    Ok(Report { text, circles })
}

fn package_name(krate: &Path) -> Result<String> {
    let manifest = fs::read_to_string(krate.join("Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .with_context(|| format!("no package name in {}", krate.display()))
}

/// The workspace crates (`rolehop-*`) a crate's manifest names, normal dependencies only.
fn workspace_dependencies(krate: &Path) -> Result<Vec<String>> {
    let manifest = fs::read_to_string(krate.join("Cargo.toml"))?;
    let mut section = "";
    let mut deps = BTreeSet::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = if line == "[dependencies]" { "deps" } else { "" };
            continue;
        }
        if section == "deps" && line.starts_with("rolehop-") {
            let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
            deps.insert(name.to_owned());
        }
    }
    Ok(deps.into_iter().collect())
}

/// The five largest files of a crate, with their lines.
fn largest_files(src: &Path) -> Result<Vec<String>> {
    let mut sizes = Vec::new();
    for file in rust_files(src)? {
        let lines = fs::read_to_string(&file)?.lines().count();
        let rel = file
            .strip_prefix(src)
            .unwrap_or(&file)
            .display()
            .to_string();
        sizes.push((lines, rel));
    }
    sizes.sort_by(|a, b| b.cmp(a));
    Ok(sizes
        .into_iter()
        .take(5)
        .map(|(n, f)| format!("{f} {n}"))
        .collect())
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// A test-only file: a `tests.rs` or `*_tests.rs` module, or the test helpers.
fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == "tests.rs" || name.ends_with("_tests.rs") || name == "test_files.rs"
}

/// File -> (file it imports -> one path that imports it), within one crate's `src`.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn file_graph(src: &Path) -> Result<Graph> {
    let files: Vec<PathBuf> = rust_files(src)?
        .into_iter()
        .filter(|p| !is_test_file(p))
        .collect();
    // Module path (["a", "b"]) -> file, for every module that is a file.
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for file in &files {
        modules.insert(module_of(src, file), rel(src, file));
    }
    let mut graph = Graph::new();
    for file in &files {
        let me = module_of(src, file);
        let from = rel(src, file);
        let code = non_test_code(&fs::read_to_string(file)?);
        let edges = graph.entry(from.clone()).or_default();
        for path in crate_paths(&code, &me, is_mod_rs(file)) {
            // The longest prefix of the path that is a module in a file of its own.
            let target = (1..=path.len())
                .rev()
                .find_map(|n| modules.get(&path[..n]))
                .or_else(|| modules.get(&Vec::new()));
            if let Some(to) = target
                && *to != from
            {
                edges.entry(to.clone()).or_insert_with(|| path.join("::"));
            }
        }
    }
    Ok(graph)
}

fn rel(src: &Path, file: &Path) -> String {
    file.strip_prefix(src).unwrap_or(file).display().to_string()
}

fn is_mod_rs(file: &Path) -> bool {
    matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs" | "main.rs")
    )
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` are the root.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    // A binary's other files (`src/bin/x.rs`) are crates of their own: left as they are.
    parts
}

/// The code before the first `#[cfg(test)]` (test modules close a file here), with
/// line comments removed.
fn non_test_code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..cut]
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path a file names through `crate::` or `super::`, as absolute paths.
fn crate_paths(code: &str, me: &[String], mod_rs: bool) -> Vec<Vec<String>> {
    // `super` of a `mod.rs`/`lib.rs` is its module's parent; of `a/b.rs`, `a`.
    let parent: Vec<String> = if mod_rs || me.is_empty() {
        me[..me.len().saturating_sub(1)].to_vec()
    } else {
        me[..me.len() - 1].to_vec()
    };
    let inline = inline_modules(code);
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut at = 0;
        while let Some(i) = code[at..].find(prefix) {
            let start = at + i;
            let before = code[..start].chars().next_back();
            at = start + prefix.len();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            // `super::` inside an inline `mod x { ... }` is this very file's module.
            let base = if prefix == "super::" && inline.iter().any(|r| r.contains(&start)) {
                me.to_vec()
            } else {
                base.clone()
            };
            for path in expand(&code[at..]) {
                let mut full = base.clone();
                full.extend(path.into_iter().filter(|s| s != "self"));
                out.push(full);
            }
        }
    }
    out
}

/// The byte ranges of the inline modules (`mod x { ... }`) in a file's code.
fn inline_modules(code: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(i) = code[at..].find("mod ") {
        let start = at + i;
        at = start + 4;
        let line_start = code[..start].rfind('\n').map_or(0, |n| n + 1);
        let lead = code[line_start..start].trim();
        if !(lead.is_empty() || lead.starts_with("pub")) {
            continue;
        }
        let rest = &code[at..];
        let name_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if rest[name_end..].trim_start().starts_with('{') {
            let open = at + name_end + rest[name_end..].find('{').unwrap_or(0) + 1;
            let end = open + matching_brace(&code[open..]);
            ranges.push(open..end);
        }
    }
    ranges
}

/// The paths a `use` tail or a path expression names: `a::b::C`, `a::{b, c::D}`.
fn expand(text: &str) -> Vec<Vec<String>> {
    let mut head = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut segment = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_alphanumeric() || c == '_' => segment.push(c),
            ':' if chars.peek().is_some_and(|&(_, n)| n == ':') => {
                chars.next();
                head.push(std::mem::take(&mut segment));
            }
            '{' => {
                let inner = &text[i + 1..];
                let end = matching_brace(inner);
                let mut out = Vec::new();
                for item in split_top(&inner[..end]) {
                    for tail in expand(item.trim()) {
                        let mut p = head.clone();
                        p.extend(tail);
                        out.push(p);
                    }
                }
                return out;
            }
            _ => break,
        }
    }
    if !segment.is_empty() {
        head.push(segment);
    }
    vec![head]
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Tarjan's strongly connected components of two or more files, each sorted.
fn strongly_connected(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(edges) = s.graph.get(v) {
            for w in edges.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_use_paths_expand_to_each_module() {
        let paths = expand("trust::{explain::{A, B}, inspect, self};");
        assert_eq!(
            paths,
            vec![
                vec!["trust", "explain", "A"],
                vec!["trust", "explain", "B"],
                vec!["trust", "inspect"],
                vec!["trust", "self"],
            ]
        );
    }

    #[test]
    fn a_loop_of_two_files_is_a_circle_and_a_chain_is_not() {
        let dir = tempdir();
        let src = dir.join("src");
        fs::create_dir_all(src.join("a")).unwrap();
        fs::write(src.join("lib.rs"), "pub mod a; pub mod b; pub mod c;").unwrap();
        fs::write(src.join("a/mod.rs"), "use crate::b::B; pub struct A;").unwrap();
        fs::write(src.join("b.rs"), "use crate::a::A; pub struct B;").unwrap();
        fs::write(
            src.join("c.rs"),
            "use crate::{a::A, b::B};\n#[cfg(test)]\nuse crate::lib;",
        )
        .unwrap();
        let graph = file_graph(&src).unwrap();
        assert_eq!(
            strongly_connected(&graph),
            vec![vec!["a/mod.rs".to_owned(), "b.rs".to_owned()]]
        );
        fs::write(src.join("b.rs"), "pub struct B;").unwrap();
        assert!(strongly_connected(&file_graph(&src).unwrap()).is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_shell_naming_the_test_surface_breaches_the_facade() {
        let root = tempdir().join("facade");
        let cli = root.join("crates/cli");
        fs::create_dir_all(cli.join("src")).unwrap();
        fs::write(
            cli.join("Cargo.toml"),
            "[dependencies]\nrolehop-core.workspace = true\n",
        )
        .unwrap();
        fs::write(cli.join("src/main.rs"), "use rolehop_core::Engine;").unwrap();
        assert!(facade_breaches(&root).unwrap().is_empty());
        fs::write(
            cli.join("src/main.rs"),
            "let k = rolehop_core::testing::keychain(&e);",
        )
        .unwrap();
        fs::write(
            cli.join("Cargo.toml"),
            "[dependencies]\nrolehop-core = { workspace = true, features = [\"test-support\"] }\n",
        )
        .unwrap();
        let found = facade_breaches(&root).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        fs::remove_dir_all(root).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "xtask-layers-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
