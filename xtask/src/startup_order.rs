//! The desktop app's launch code, gathered: the release builds that ship (`cargo xtask
//! bundle`) and the one the bench measures place the functions the app runs from
//! launch to an idle window in one section, `.text.launch`, in front of the rest of its
//! code. Why: Linux maps a program's code 64 KiB around each page it runs, so launch
//! code scattered over the binary keeps most of it resident (docs/benchmarks.md,
//! "Desktop memory").
//!
//! The linker script that does it names each function with rustc's hashes, which a
//! compiler or dependency update changes, so it is never kept in the repository. Each
//! such build makes its own, from a profile of itself:
//! 1. the release app is built as every other build is (in the compiler's order);
//! 2. it runs under valgrind's callgrind with 1,000 sessions until its window is idle
//!    (`tests/benches/desktop/startup_order.rs`), which lists the functions of the
//!    binary that ran;
//! 3. the script names each, and the app is linked again with it (`src-tauri/build.rs`,
//!    `ROLEHOP_LAUNCH_ORDER`): the same code, only the link differs;
//! 4. [`check`] reads the new binary's symbol table and fails unless the profiled
//!    functions are in `.text.launch`: a script that matches less than it was written
//!    for fails the build instead of quietly costing memory.
//!
//! `cargo xtask startup-order` does this alone, for a look at the section without
//! packaging or benchmarking.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::{run, stdout_of};
use crate::repo::Repo;

/// The output section the script makes, in front of `.text`.
const SECTION: &str = ".text.launch";
/// The variable `src-tauri/build.rs` reads: the script to link the app with.
const ORDER_ENV: &str = "ROLEHOP_LAUNCH_ORDER";
/// The least share of the profiled functions that must land in [`SECTION`]. What
/// does not: a function whose section has another name than the function's (three of
/// 2,137 at this writing, a static's initialiser and two constructors, in `.text`).
const MIN_PLACED: f64 = 0.95;
/// The fewest functions a profile of a launch to an idle window names (about 2,100 do
/// at this writing): fewer means the app stopped early or had no symbol table.
const MIN_PROFILED: usize = 1_000;

/// Where the profile, the script and the build in the compiler's order go:
/// `target/release/startup-order/`.
pub fn dir(repo: &Repo) -> PathBuf {
    repo.root.join("target/release/startup-order")
}

fn functions_file(repo: &Repo) -> PathBuf {
    dir(repo).join("launch-functions.txt")
}

fn script_file(repo: &Repo) -> PathBuf {
    dir(repo).join("startup-order.ld")
}

/// The release app as it is built without the script, kept for the bench.
pub fn unordered_app(repo: &Repo) -> PathBuf {
    dir(repo).join("rolehop-desktop-unordered")
}

/// The release app of `cargo build` and of the Tauri bundler alike.
pub fn release_app(repo: &Repo) -> Result<PathBuf> {
    Ok(repo.target_dir()?.join("release/rolehop-desktop"))
}

/// The variable that links the app with the script [`profile`] wrote.
pub fn order_env(repo: &Repo) -> (&'static str, PathBuf) {
    (ORDER_ENV, script_file(repo))
}

/// What profiling needs besides the app's own packages (its keyring, gnome-keyring,
/// is one): an X server, callgrind, and binutils' `readelf` for the check.
pub fn install(job: &mut Job) {
    job.step(
        "Debian packages xvfb, valgrind and binutils (the launch profile)",
        || install::debian_packages(&["xvfb", "valgrind", "binutils"]),
    );
}

/// `cargo xtask startup-order`: the release app and the bare window, then the app
/// profiled, linked again with its launch code gathered, and checked.
pub fn task(repo: &Repo) -> Result<()> {
    let mut job = Job::new("startup-order");
    install::for_tests(repo, &mut job);
    install(&mut job);
    job.step("UI: npm ci", || desktop::npm_ci(repo));
    job.step("UI: build (vite)", || desktop::build_ui(repo));
    if job.failed() {
        return job.finish();
    }
    build_release(repo, &mut job);
    job.finish()
}

/// The steps that leave the release app with its launch code gathered (checked), the
/// bare window next to it, and the same app in the compiler's order in [`dir`].
pub fn build_release(repo: &Repo, job: &mut Job) {
    job.step(
        "release build of the desktop app and the bare window",
        || desktop::build_release(repo, &[]),
    );
    job.step("keep the app in the compiler's order for the bench", || {
        fs::create_dir_all(dir(repo))?;
        fs::copy(release_app(repo)?, unordered_app(repo))
            .context("copying the release app")
            .map(drop)
    });
    job.step("profile a launch (callgrind) and write the script", || {
        profile(repo, &release_app(repo)?)
    });
    if job.failed() {
        return;
    }
    job.step("link the app again with its launch code gathered", || {
        let (var, script) = order_env(repo);
        let script = script
            .to_str()
            .context("the target directory's path is not UTF-8")?;
        desktop::build_release(repo, &[(var, script)])
    });
    job.step("check the launch code gathered", || {
        check(repo, &release_app(repo)?)
    });
}

/// Profiles a launch of `app` (a release build without the script) and writes, in
/// [`dir`], the functions that ran and the script that gathers them.
pub fn profile(repo: &Repo, app: &Path) -> Result<()> {
    fs::create_dir_all(dir(repo))?;
    let functions = functions_file(repo);
    // The harness starts the keyring, Xvfb and valgrind; it need not be optimised.
    let mut bench = repo.cargo_with_peers()?;
    bench
        .args(["bench", "--profile", "dev", "-p", "rolehop-e2e"])
        .args(["--bench", "desktop", "--", "startup-order"])
        .env("ROLEHOP_DESKTOP_BIN", app)
        .env("ROLEHOP_LAUNCH_FUNCTIONS", &functions);
    run(&mut bench)?;
    let ran = fs::read_to_string(&functions)
        .with_context(|| format!("reading {}", functions.display()))?;
    let ran: Vec<&str> = ran.lines().collect();
    if ran.len() < MIN_PROFILED {
        bail!(
            "the profile names {} functions of {} (a launch runs over {MIN_PROFILED}): \
             the app stopped early, or its symbol table is missing",
            ran.len(),
            app.display()
        );
    }
    fs::write(script_file(repo), script(&ran))?;
    println!(
        "{}: {} functions that ran at launch",
        script_file(repo).display(),
        ran.len()
    );
    Ok(())
}

/// The linker script: every function's section, as `.text.NAME` or, for a function the
/// compiler thought cold, `.text.unlikely.NAME`, in one output section before `.text`.
fn script(functions: &[&str]) -> String {
    let mut out = format!(
        "/* Written by `cargo xtask` (xtask/src/startup_order.rs) from a profile of the\n   \
         build it links: the functions the desktop app ran from launch to an idle\n   \
         window, placed together in front of the rest of its code. */\n\
         SECTIONS {{\n  {SECTION} : {{\n"
    );
    for name in functions {
        out.push_str(&format!("    *(.text.{name} .text.unlikely.{name})\n"));
    }
    out.push_str("  }\n}\nINSERT BEFORE .text;\n");
    out
}

/// Fails unless at least [`MIN_PLACED`] of the profiled functions are in `app`'s
/// [`SECTION`], as its symbol table says.
pub fn check(repo: &Repo, app: &Path) -> Result<()> {
    let profiled = fs::read_to_string(functions_file(repo))
        .with_context(|| format!("reading {}", functions_file(repo).display()))?;
    let profiled: Vec<&str> = profiled.lines().collect();
    let placement = Placement::read(app)?;
    let placed = placement
        .gathered(&profiled)
        .with_context(|| format!("{}", app.display()))?;
    println!(
        "{}: {placed} of the {} profiled launch functions in {SECTION} ({:.1} %), {:.2} MiB",
        app.display(),
        profiled.len(),
        placed as f64 / profiled.len() as f64 * 100.0,
        placement.section_size as f64 / 1048576.0
    );
    Ok(())
}

/// Which section each function of a binary is in, from its symbol table (`readelf`).
struct Placement {
    /// The section index of every function symbol, by name.
    sections: HashMap<String, Vec<u32>>,
    /// [`SECTION`]'s index and size, if the binary has it.
    section: Option<u32>,
    section_size: u64,
}

impl Placement {
    fn read(binary: &Path) -> Result<Self> {
        let readelf = |flag: &str| {
            stdout_of(Command::new("readelf").args([flag, "-W"]).arg(binary))
                .with_context(|| format!("readelf {flag} {}", binary.display()))
        };
        Self::parse(&readelf("-S")?, &readelf("-s")?)
            .with_context(|| format!("{}", binary.display()))
    }

    /// From `readelf -SW` and `readelf -sW`.
    fn parse(headers: &str, symbols: &str) -> Result<Self> {
        let (section, section_size) =
            section_header(headers).map_or((None, 0), |(index, size)| (Some(index), size));
        let mut sections: HashMap<String, Vec<u32>> = HashMap::new();
        for (name, index) in function_symbols(symbols) {
            sections.entry(name.to_owned()).or_default().push(index);
        }
        if sections.is_empty() {
            bail!("no symbol table to check");
        }
        Ok(Self {
            sections,
            section,
            section_size,
        })
    }

    fn in_section(&self, name: &str) -> bool {
        self.section
            .is_some_and(|s| self.sections.get(name).is_some_and(|i| i.contains(&s)))
    }

    /// How many of `profiled` are in [`SECTION`]; an error under [`MIN_PLACED`].
    fn gathered(&self, profiled: &[&str]) -> Result<usize> {
        let placed = profiled.iter().filter(|n| self.in_section(n)).count();
        let share = placed as f64 / profiled.len().max(1) as f64;
        if profiled.is_empty() || share < MIN_PLACED {
            let missing: Vec<&str> = profiled
                .iter()
                .copied()
                .filter(|name| !self.in_section(name))
                .take(3)
                .collect();
            bail!(
                "the launch code is not gathered: {placed} of the {} profiled functions \
                 ({:.1} %) are in {SECTION}, under {:.0} % (not there, e.g.: {}). Was the app \
                 linked with the script of its own profile ({ORDER_ENV})?",
                profiled.len(),
                share * 100.0,
                MIN_PLACED * 100.0,
                missing.join(", ")
            );
        }
        Ok(placed)
    }
}

/// [`SECTION`]'s index and size in `readelf -SW`'s table
/// (`[Nr] Name Type Address Off Size ...`; `[ 7]` has a space inside the brackets).
fn section_header(headers: &str) -> Option<(u32, u64)> {
    headers.lines().find_map(|line| {
        let (index, rest) = line.trim_start().strip_prefix('[')?.split_once(']')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() != Some(&SECTION) {
            return None;
        }
        let size = u64::from_str_radix(fields.get(4)?, 16).ok()?;
        Some((index.trim().parse().ok()?, size))
    })
}

/// The function symbols of `readelf -sW`'s table (`Num: Value Size Type Bind Vis Ndx
/// Name`) with their section index.
fn function_symbols(table: &str) -> impl Iterator<Item = (&str, u32)> {
    table.lines().filter_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, _, _, "FUNC", _, _, index, name, ..] => Some((*name, index.parse().ok()?)),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_found_by_name_with_its_index_and_size() {
        let headers = "\
  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al
  [ 9] .rela.plt         RELA            0000000000011c40 011c40 001a10 18  AI  6  23  8
  [13] .text.launch      PROGBITS        0000000000060000 060000 1c2f40 00  AX  0   0 64
  [14] .text             PROGBITS        0000000000223000 223000 f00000 00  AX  0   0 64
";
        assert_eq!(section_header(headers), Some((13, 0x1c2f40)));
        assert_eq!(
            section_header(&headers.replace(".text.launch", ".text.x")),
            None
        );
    }

    #[test]
    fn function_symbols_carry_their_section_index() {
        let table = "\
   Num:    Value          Size Type    Bind   Vis      Ndx Name
    12: 0000000000060040   120 FUNC    LOCAL  DEFAULT   13 _RNvCs1_4core3foo
    13: 0000000000300000     8 OBJECT  LOCAL  DEFAULT   20 _RNvCs1_4core3BAR
    14: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND malloc@GLIBC_2.2.5 (2)
    15: 0000000000223010    64 FUNC    GLOBAL DEFAULT   14 main
";
        let symbols: Vec<(&str, u32)> = function_symbols(table).collect();
        assert_eq!(symbols, [("_RNvCs1_4core3foo", 13), ("main", 14)]);
    }

    const HEADERS: &str = "\
  [13] .text.launch      PROGBITS        0000000000060000 060000 1c2f40 00  AX  0   0 64
  [14] .text             PROGBITS        0000000000223000 223000 f00000 00  AX  0   0 64
";

    /// A symbol table with `launch` functions in [`SECTION`] and `other` in `.text`.
    fn symbols(launch: &[&str], other: &[&str]) -> String {
        let line = |(name, index): (&&str, u32)| {
            format!("    1: 0000000000060040   120 FUNC    LOCAL  DEFAULT   {index} {name}\n")
        };
        let launch = launch.iter().zip(std::iter::repeat(13)).map(line);
        launch
            .chain(other.iter().zip(std::iter::repeat(14)).map(line))
            .collect()
    }

    #[test]
    fn a_build_holding_its_profiled_functions_passes_the_check() {
        let placement = Placement::parse(HEADERS, &symbols(&["a", "b"], &["c"])).unwrap();
        assert_eq!(placement.gathered(&["a", "b"]).unwrap(), 2);
    }

    #[test]
    fn a_script_matching_less_than_its_profile_fails_the_check() {
        // As after a compiler update: the profile's names are not the binary's.
        let placement = Placement::parse(HEADERS, &symbols(&["a"], &["b2", "c2"])).unwrap();
        let error = placement
            .gathered(&["a", "b", "c"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("1 of the 3 profiled functions"), "{error}");
        assert!(error.contains("e.g.: b, c"), "{error}");
    }

    #[test]
    fn a_build_without_the_section_or_a_profile_fails_the_check() {
        let unordered = HEADERS.replace(".text.launch", ".rodata");
        let placement = Placement::parse(&unordered, &symbols(&["a"], &[])).unwrap();
        assert!(placement.gathered(&["a"]).is_err());
        let placement = Placement::parse(HEADERS, &symbols(&["a"], &[])).unwrap();
        assert!(placement.gathered(&[]).is_err());
        assert!(Placement::parse(HEADERS, "").is_err());
    }

    #[test]
    fn the_script_names_each_function_hot_or_cold() {
        let script = script(&["_RNvCs1_4core3foo"]);
        assert!(script.contains("*(.text._RNvCs1_4core3foo .text.unlikely._RNvCs1_4core3foo)"));
        assert!(script.trim_end().ends_with("INSERT BEFORE .text;"));
    }
}
