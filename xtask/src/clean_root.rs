//! The clean Debian 12 root the packages are installed into (`package::clean_root`):
//! `mmdebstrap --variant=apt` (the essential packages and apt, nothing else) from the
//! Debian archive this machine's own apt sources name, kept as a tarball under
//! `$HOME/.cache/rolehop/clean-root/` so that later runs skip the download.
//!
//! The tarball is made again when the sources change (a copy of the lines it was made
//! from is its stamp) or when it is missing; a run without the cache makes it (about
//! 30 s and 50 MB of downloads). The test unpacks a fresh copy each time, so nothing a
//! run installs reaches the next one, except the `.deb` files apt downloads, which
//! stay in `apt-archives/` beside the tarball (bound into the root as apt's cache).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::run;

/// The Debian release the root holds: this machine's (Debian 12).
const SUITE: &str = "bookworm";

/// Where the tarball and apt's downloads are kept between runs.
pub fn cache_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cache/rolehop/clean-root"))
}

/// The cached base root's tarball, made first if missing or made from other sources.
pub fn ensure() -> Result<PathBuf> {
    let dir = cache_dir()?;
    fs::create_dir_all(dir.join("apt-archives/partial"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let tarball = dir.join(format!("debian-{SUITE}-apt.tar"));
    let stamp = dir.join(format!("debian-{SUITE}-apt.sources"));
    let sources = debian_sources(Path::new("/etc/apt"))?;
    if sources.is_empty() {
        bail!("no Debian archive in /etc/apt/sources.list*: mmdebstrap needs one");
    }
    let lines = sources.join("\n");
    if tarball.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == lines) {
        println!(
            "cached: {} (from {})",
            tarball.display(),
            sources.join("; ")
        );
        return Ok(tarball);
    }
    // Written beside the final name and renamed, so an interrupted run leaves no
    // half tarball that a later run would take for the cache.
    let partial = dir.join(format!("debian-{SUITE}-apt.tar.partial"));
    let _ = fs::remove_file(&partial);
    run(Command::new("mmdebstrap")
        .args(["--variant=apt", "--format=tar", "--quiet", SUITE])
        .arg(&partial)
        .args(&sources))
    .context("making the clean root (Debian: mmdebstrap)")?;
    fs::rename(&partial, &tarball)?;
    fs::write(&stamp, &lines)?;
    println!(
        "made {} ({:.0} MB)",
        tarball.display(),
        fs::metadata(&tarball)?.len() as f64 / 1e6
    );
    Ok(tarball)
}

/// The one-line apt sources (`deb URI SUITE COMPONENTS`) of the Debian archive among
/// this machine's sources under `etc_apt` (deb822 `.sources` files and `.list` files):
/// those whose URI is a Debian archive (`.../debian` or `.../debian-security`), so the
/// root gets the same mirror and the same updates as the machine, and no third-party
/// repository.
pub fn debian_sources(etc_apt: &Path) -> Result<Vec<String>> {
    let mut files = vec![etc_apt.join("sources.list")];
    if let Ok(entries) = fs::read_dir(etc_apt.join("sources.list.d")) {
        let mut more: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        more.sort();
        files.extend(more);
    }
    let mut lines = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        match file.extension().and_then(|e| e.to_str()) {
            Some("sources") => lines.extend(deb822_lines(&text)),
            _ if file.ends_with("sources.list")
                || file.extension().is_some_and(|e| e == "list") =>
            {
                lines.extend(one_line_entries(&text))
            }
            _ => {}
        }
    }
    lines.retain(|l| is_debian_archive(l));
    lines.dedup();
    Ok(lines)
}

fn is_debian_archive(line: &str) -> bool {
    line.split_whitespace()
        .nth(1)
        .map(|uri| uri.trim_end_matches('/'))
        .is_some_and(|uri| uri.ends_with("/debian") || uri.ends_with("/debian-security"))
}

/// `deb URI SUITE COMPONENTS` for each suite of each `Types: deb` stanza.
fn deb822_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza
                .lines()
                .filter(|l| !l.starts_with('#'))
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.split_whitespace().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        if !field("Types").contains(&"deb") || field("Enabled") == ["no"] {
            continue;
        }
        let components = field("Components").join(" ");
        for uri in field("URIs") {
            for suite in field("Suites") {
                lines.push(format!("deb {uri} {suite} {components}"));
            }
        }
    }
    lines
}

/// The `deb` lines of a `.list` file, options (`[signed-by=...]`) dropped.
fn one_line_entries(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("deb "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let mut kept = Vec::new();
            let mut in_options = false;
            for word in words {
                if word.starts_with('[') {
                    in_options = !word.ends_with(']');
                    continue;
                }
                if in_options {
                    in_options = !word.ends_with(']');
                    continue;
                }
                kept.push(word);
            }
            kept.join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part1_the_root_gets_the_machines_debian_archive_and_no_third_party_one() {
        let dir = std::env::temp_dir().join(format!("clean-root-test-{}", std::process::id()));
        fs::create_dir_all(dir.join("sources.list.d")).unwrap();
        fs::write(
            dir.join("sources.list.d/debian.sources"),
            "Types: deb\n# a comment\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n\
             Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
             Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
             Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n",
        )
        .unwrap();
        fs::write(
            dir.join("sources.list.d/mirror.list"),
            "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main contrib\n\
             deb-src http://mirror.example/debian bookworm main\n",
        )
        .unwrap();
        let lines = debian_sources(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            lines,
            [
                "deb http://deb.debian.org/debian bookworm main",
                "deb http://deb.debian.org/debian bookworm-updates main",
                "deb http://deb.debian.org/debian-security bookworm-security main",
                "deb http://mirror.example/debian/ bookworm main contrib",
            ]
        );
    }
}
