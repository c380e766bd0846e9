//! The profile behind the desktop app's launch order (`xtask/src/startup_order.rs`
//! turns it into the linker script that gathers the app's launch code, and checks the
//! build linked with it).
//!
//! `cargo bench --profile dev -p rolehop-e2e --bench desktop -- startup-order`, with
//! `ROLEHOP_DESKTOP_BIN` (a release app with its symbol table, linked without a script)
//! and `ROLEHOP_LAUNCH_FUNCTIONS` (where the list goes): the app runs under valgrind's
//! callgrind with 1,000 sessions (as the memory figure does) until it has painted its
//! list and sat idle; callgrind's dump names every function of the app's binary that
//! ran, written one a line, with rustc's hashes: the list is for the build profiled,
//! and the builds linked with it are checked against it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::desktop::{self, TestResult, Xvfb};

/// The output section the script makes, in front of `.text`.
const SECTION: &str = ".text.launch";
/// Launch, list painted and some idle time, under callgrind (about 50 times slower).
const PROFILED: Duration = Duration::from_secs(90);

/// Profiles a launch of the app and writes the functions that ran.
pub fn profile() -> TestResult {
    let app = desktop::app_binary();
    let target = std::env::var_os("ROLEHOP_LAUNCH_FUNCTIONS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or("ROLEHOP_LAUNCH_FUNCTIONS: where to write the functions that ran")?;
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
        return Err("callgrind_control could not dump the profile: did the app stop?".into());
    }
    let profile = fs::read_to_string(format!("{}.1", out.display()))?;
    let object = app.file_name().ok_or("the app's path has no file name")?;
    let ran = functions_that_ran(&profile, &object.to_string_lossy());
    if ran.is_empty() {
        return Err(format!(
            "callgrind named no function of {}: has it a symbol table?",
            app.display()
        )
        .into());
    }
    let mut list = ran.join("\n");
    list.push('\n');
    fs::write(&target, list)?;
    println!(
        "{}: {} functions of {} ran at launch",
        target.display(),
        ran.len(),
        app.display()
    );
    Ok(())
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

/// The size of `app`'s gathered launch code in MiB, if it has it (from the section
/// headers, which a stripped binary keeps).
pub fn gathered_mib(app: &Path) -> Option<f64> {
    let headers = Command::new("readelf")
        .args(["-SW"])
        .arg(app)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    headers.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let at = fields.iter().position(|f| *f == SECTION)?;
        let bytes = u64::from_str_radix(fields.get(at + 4)?, 16).ok()?;
        Some(bytes as f64 / 1048576.0)
    })
}
