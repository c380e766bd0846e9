//! Recording stand-ins for the browsers the console opens in: one script, installed
//! under each browser's program name (`google-chrome`, `chromium`, `brave-browser`,
//! `microsoft-edge`, `firefox`, and the default browser's `xdg-open`) in a directory a
//! test puts first on `PATH`. No browser runs here (no display, no profiles), and a test
//! must see exactly what each was given, so each invocation records its program name,
//! its argv and every process's command line at that moment (`/proc/*/cmdline`), then
//! opens the URL as a browser would: it follows redirects (the one-time loopback
//! address's to the federation endpoint). A Firefox `ext+container:` link is read as
//! the container extension reads it: its `url` is what is opened, in container `name`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The program names installed, the default browser's opener last.
pub const PROGRAMS: [&str; 6] = [
    "google-chrome",
    "chromium",
    "brave-browser",
    "microsoft-edge",
    "firefox",
    "xdg-open",
];

const SCRIPT: &str = r#"#!/usr/bin/env python3
import json, os, sys, urllib.parse, urllib.request
here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
cmdlines = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdlines.append(f.read().replace(b"\0", b" ").decode("utf-8", "replace"))
        except OSError:
            pass
url = args[-1] if args else ""
container = None
if url.startswith("ext+container:"):
    query = urllib.parse.parse_qs(url[len("ext+container:"):])
    container = query["name"][0]
    url = query["url"][0]
record = {"program": os.path.basename(sys.argv[0]), "argv": args, "url": url,
          "container": container, "cmdlines": cmdlines}
with open(os.path.join(here, "launches"), "a") as f:
    f.write(json.dumps(record) + "\n")
try:
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
except Exception as e:
    with open(os.path.join(here, "errors"), "a") as f:
        f.write(f"{url}: {e}\n")
"#;

/// One invocation of a stand-in browser.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: String,
    pub argv: Vec<String>,
    /// The URL it opened (a container link's `url`).
    pub url: String,
    pub container: Option<String>,
    /// Every process's command line when it started.
    pub cmdlines: Vec<String>,
}

/// The stand-ins, in a temporary directory removed on drop.
pub struct RecordingBrowsers {
    dir: tempfile::TempDir,
}

impl RecordingBrowsers {
    pub fn install() -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        for program in PROGRAMS {
            let path = dir.path().join(program);
            std::fs::write(&path, SCRIPT)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `PATH` with the stand-ins first.
    pub fn path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// The invocations so far, in order.
    pub fn launches(&self) -> Vec<Launch> {
        let text = std::fs::read_to_string(self.file("launches")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("a launch record");
                let strings = |key: &str| -> Vec<String> {
                    v[key]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                Launch {
                    program: v["program"].as_str().unwrap_or_default().to_owned(),
                    argv: strings("argv"),
                    url: v["url"].as_str().unwrap_or_default().to_owned(),
                    container: v["container"].as_str().map(str::to_owned),
                    cmdlines: strings("cmdlines"),
                }
            })
            .collect()
    }

    /// Waits (up to a minute) until there are at least `count` invocations.
    pub fn wait_for(&self, count: usize) -> Vec<Launch> {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let launches = self.launches();
            if launches.len() >= count || Instant::now() > until {
                return launches;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the stand-ins could not fetch, one line each.
    pub fn errors(&self) -> String {
        std::fs::read_to_string(self.file("errors")).unwrap_or_default()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
