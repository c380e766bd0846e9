//! `cargo xtask startup-order`: writes `src-tauri/startup-order.ld`, the linker script
//! that gathers the code the desktop app runs from launch to an idle window (see
//! `src-tauri/build.rs`, `launch_code_first`).
//!
//! How: the release app, built with its symbols, runs under valgrind's callgrind with
//! 1,000 sessions (as the memory figure does) until it has painted its list and sat
//! idle; callgrind's dump names every function of the app's binary that ran. Each
//! becomes one line of the script:
//! - a function with one instance in the binary by its name without the hash that
//!   rustc appends (`…17h<16 hex digits>E` becomes `…17h*E`): the hash follows the
//!   build's dependencies and features, the name does not, so these lines stay good
//!   after a dependency update or in a build with other features (the packages);
//! - a generic function's instances share that name, and most of them never run at
//!   launch: such a line keeps the hash, and matches only builds like the profiled one.
//!
//! Each line matches the function's section as `.text.NAME` and, for a cold function,
//! `.text.unlikely.NAME`. The profiled build is linked without the script
//! (`ROLEHOP_LAUNCH_ORDER=off`): callgrind names only the functions of `.text`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::desktop::{TestResult, Xvfb};

/// The output section the script makes, in front of `.text`.
const SECTION: &str = ".text.launch";
/// Launch, list painted and some idle time, under callgrind (about 50 times slower).
const PROFILED: Duration = Duration::from_secs(90);

/// Profiles a launch of the release app and writes the script.
pub fn write() -> TestResult {
    let app = rolehop_e2e::binaries::build_dir().join("rolehop-desktop");
    let symbols = defined_functions(&app)?;
    if symbols.is_empty() {
        return Err(format!(
            "{} has no symbol table: `cargo xtask startup-order` builds it with one",
            app.display()
        )
        .into());
    }
    let (peers, env) = super::app_peers()?;
    super::seed(&peers, 1000)?;
    let xvfb = Xvfb::start(peers.home().root());
    let out = peers.home().root().join("callgrind.out");
    let mut child = super::spawn_on(
        Command::new("valgrind")
            .args(["--tool=callgrind", "--demangle=no", "--dump-instr=no"])
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&app),
        xvfb.display(),
        &env,
    )?;
    std::thread::sleep(PROFILED);
    // A dump while the app runs, then the end: the dump is "<out>.1".
    let dumped = Command::new("callgrind_control")
        .arg("--dump")
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .status()?;
    std::thread::sleep(Duration::from_secs(5));
    super::stop(&super::tree(child.id()), &mut child);
    if !dumped.success() {
        return Err("callgrind_control could not dump the profile".into());
    }
    let profile = fs::read_to_string(format!("{}.1", out.display()))?;
    let ran = functions_that_ran(&profile, "rolehop-desktop");
    let lines = script_lines(&ran, &symbols);
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/startup-order.ld");
    fs::write(&target, script(&lines))?;
    println!(
        "{}: {} functions that ran at launch, {} lines ({} by name alone)",
        target.display(),
        ran.len(),
        lines.len(),
        lines.iter().filter(|l| l.ends_with("17h*E")).count()
    );
    Ok(())
}

/// The names of the functions of `binary`'s symbol table (`nm`), with how many
/// share each name without its hash.
fn defined_functions(binary: &Path) -> TestResult<HashMap<String, usize>> {
    let out = Command::new("nm")
        .arg("--defined-only")
        .arg(binary)
        .stderr(Stdio::null())
        .output()?;
    let mut counts = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut fields = line.split_whitespace();
        let (Some(_), Some(kind), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if matches!(kind, "t" | "T" | "w" | "W") {
            *counts.entry(unhashed(name)).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// `name` with rustc's legacy-mangling hash replaced by `*`, or `name` itself.
fn unhashed(name: &str) -> String {
    const HASH: usize = "17h0123456789abcdefE".len();
    let Some(start) = name.len().checked_sub(HASH) else {
        return name.to_owned();
    };
    let tail = &name[start..];
    let is_hash = name.starts_with("_ZN")
        && tail.starts_with("17h")
        && tail.ends_with('E')
        && tail[3..HASH - 1].bytes().all(|b| b.is_ascii_hexdigit());
    if is_hash {
        format!("{}17h*E", &name[..start])
    } else {
        name.to_owned()
    }
}

/// The functions of the object whose path ends with `object` that have a cost in a
/// callgrind profile, in the profile's order. Callgrind writes a name once, after its
/// number in brackets, then the number alone; `ob=`/`cob=` share one table, and
/// `fn=`/`cfn=` another.
fn functions_that_ran(profile: &str, object: &str) -> Vec<String> {
    let mut objects: HashMap<String, String> = HashMap::new();
    let mut functions: HashMap<String, String> = HashMap::new();
    let resolve = |table: &mut HashMap<String, String>, value: &str| -> String {
        match value.strip_prefix('(').and_then(|v| v.split_once(')')) {
            Some((id, rest)) => {
                let rest = rest.trim_start();
                if !rest.is_empty() {
                    table.insert(id.to_owned(), rest.to_owned());
                }
                table.get(id).cloned().unwrap_or_default()
            }
            None => value.to_owned(),
        }
    };
    let (mut in_object, mut seen, mut ran) = (false, HashSet::new(), Vec::new());
    for line in profile.lines() {
        if let Some(value) = line.strip_prefix("ob=") {
            in_object = resolve(&mut objects, value).ends_with(object);
        } else if let Some(value) = line.strip_prefix("cob=") {
            resolve(&mut objects, value);
        } else if let Some(value) = line.strip_prefix("cfn=") {
            resolve(&mut functions, value);
        } else if let Some(value) = line.strip_prefix("fn=") {
            let name = resolve(&mut functions, value);
            // Callgrind tells a function's recursion levels apart with "'2", "'3"...
            let name = match name.rsplit_once('\'') {
                Some((base, n)) if n.bytes().all(|b| b.is_ascii_digit()) => base.to_owned(),
                _ => name,
            };
            // Skip what is no symbol: an address ("0x..."), valgrind's "(below main)".
            let symbol = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_$.".contains(&b));
            if in_object && symbol && !name.starts_with("0x") && seen.insert(name.clone()) {
                ran.push(name);
            }
        }
    }
    ran
}

/// One script line per function: by its name without the hash when the binary has
/// one function of that name, else by its full name. Sorted, so that a new profile's
/// script differs from the last only where the functions do (the order within the
/// section does not matter: all of it runs at launch).
fn script_lines(ran: &[String], symbols: &HashMap<String, usize>) -> Vec<String> {
    let lines: BTreeSet<String> = ran
        .iter()
        .map(|name| {
            let general = unhashed(name);
            if symbols.get(&general) == Some(&1) {
                general
            } else {
                name.clone()
            }
        })
        .collect();
    lines.into_iter().collect()
}

fn script(lines: &[String]) -> String {
    let mut out = format!(
        "/* Written by `cargo xtask startup-order` (tests/benches/desktop/startup_order.rs):\n   \
         the functions the desktop app ran from launch to an idle window with 1,000\n   \
         sessions, placed together in front of the rest of its code (src-tauri/build.rs,\n   \
         release builds on Linux). Regenerate after large changes to what runs at launch. */\n\
         SECTIONS {{\n  {SECTION} : {{\n"
    );
    for name in lines {
        out.push_str(&format!("    *(.text.{name} .text.unlikely.{name})\n"));
    }
    out.push_str("  }\n}\nINSERT BEFORE .text;\n");
    out
}

/// What the memory figure's app has of the script: the size of its ordered section
/// (from the section headers, which a stripped binary keeps).
pub fn section_size(app: &Path) -> String {
    let headers = Command::new("readelf")
        .args(["-SW"])
        .arg(app)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let size = headers.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let at = fields.iter().position(|f| *f == SECTION)?;
        u64::from_str_radix(fields.get(at + 4)?, 16).ok()
    });
    match size {
        Some(bytes) => format!(
            "launch code gathered in {SECTION}: {:.2} MiB (src-tauri/startup-order.ld)",
            bytes as f64 / 1048576.0
        ),
        None => format!("no {SECTION} section in the app: its launch code is not gathered"),
    }
}
