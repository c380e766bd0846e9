//! How a URL reaches the browser a session's console opens in: the command line of a
//! Chromium-family browser with `--profile-directory=`, Firefox with the container
//! extension's `ext+container:` link, or the shell's opener for the default browser.
//!
//! Only addresses that hold no secret are given here (the one-time loopback address,
//! AWS's sign-out page): a command line is readable by every local user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rolehop_model::console::ConsoleBrowser;

/// Opens a URL in the desktop's default browser: `xdg-open` in the CLI, the opener
/// plugin in the desktop app. Returns once the opener has handed the URL over.
pub type DefaultOpener = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// The programs tried for a browser, first found on `PATH` wins (Linux, and the BSDs;
/// the names Debian, Fedora and the vendors' own packages install).
fn programs(browser: &ConsoleBrowser) -> &'static [&'static str] {
    match browser {
        ConsoleBrowser::Default => &[],
        ConsoleBrowser::Chrome { .. } => &["google-chrome", "google-chrome-stable", "chrome"],
        ConsoleBrowser::Chromium { .. } => &["chromium", "chromium-browser"],
        ConsoleBrowser::Brave { .. } => &["brave-browser", "brave"],
        ConsoleBrowser::Edge { .. } => &["microsoft-edge", "microsoft-edge-stable", "msedge"],
        ConsoleBrowser::Firefox { .. } => &["firefox"],
    }
}

/// The macOS application a browser is, for `open -n -a APP --args ...`.
fn mac_app(browser: &ConsoleBrowser) -> &'static str {
    match browser {
        ConsoleBrowser::Default => "Safari",
        ConsoleBrowser::Chrome { .. } => "Google Chrome",
        ConsoleBrowser::Chromium { .. } => "Chromium",
        ConsoleBrowser::Brave { .. } => "Brave Browser",
        ConsoleBrowser::Edge { .. } => "Microsoft Edge",
        ConsoleBrowser::Firefox { .. } => "Firefox",
    }
}

/// The arguments that open `url` in `browser`'s profile or container.
pub fn arguments(browser: &ConsoleBrowser, url: &str) -> Vec<String> {
    match browser {
        ConsoleBrowser::Default => vec![url.to_owned()],
        ConsoleBrowser::Firefox { container } => vec![container_link(container, url)],
        chromium => vec![
            format!(
                "--profile-directory={}",
                chromium.place().unwrap_or_default()
            ),
            url.to_owned(),
        ],
    }
}

/// The "Open external links in a container" extension's link, read by the extension
/// as a query: the URL and the name are form-encoded once (as its own launcher encodes
/// the URL; the launcher passes names raw, which is why `&=#%+` are refused at entry).
pub fn container_link(container: &str, url: &str) -> String {
    let url: String = form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let name: String = form_urlencoded::byte_serialize(container.as_bytes()).collect();
    format!("ext+container:name={name}&url={url}")
}

/// The command that opens `url` in `browser` (not the default one), or why none can.
pub fn command(browser: &ConsoleBrowser, url: &str) -> Result<Command, String> {
    let args = arguments(browser, url);
    if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.args(["-n", "-a", mac_app(browser), "--args"]).args(args);
        return Ok(c);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = programs(browser)
        .iter()
        .find_map(|name| find_on(&path, name))
        .ok_or_else(|| {
            format!(
                "{} is not installed (none of {} is on PATH)",
                browser.name(),
                programs(browser).join(", ")
            )
        })?;
    let mut c = Command::new(found);
    c.args(args);
    Ok(c)
}

fn find_on(path: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.with_extension("exe").is_file() || p.is_file()
    }
}

/// Starts `browser` on `url`. A launcher that hands the URL to a running browser exits
/// at once; a cold-started browser keeps running. With `settle`, waits up to that long
/// for the launcher to exit (so the URL has reached the browser before what follows);
/// the child is reaped on a thread of its own either way.
pub fn launch(
    browser: &ConsoleBrowser,
    url: &str,
    open_default: &DefaultOpener,
    settle: Option<Duration>,
) -> Result<(), String> {
    if *browser == ConsoleBrowser::Default {
        return open_default(url);
    }
    let mut command = command(browser, url)?;
    let program = format!("{:?}", command.get_program());
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(limit) = settle {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return Ok(()),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part5_chromium_browsers_get_their_profile_directory_then_the_url() {
        let b = ConsoleBrowser::Brave {
            profile: "Profile 2".into(),
        };
        assert_eq!(
            arguments(&b, "http://127.0.0.1:1/x"),
            ["--profile-directory=Profile 2", "http://127.0.0.1:1/x"]
        );
    }

    #[test]
    fn part5_firefox_gets_a_container_link_with_the_url_encoded_once() {
        let b = ConsoleBrowser::Firefox {
            container: "Prod ops".into(),
        };
        assert_eq!(
            arguments(&b, "https://signin.aws.amazon.com/oauth?Action=logout"),
            [
                "ext+container:name=Prod+ops&url=https%3A%2F%2Fsignin.aws.amazon.com%2Foauth%3FAction%3Dlogout"
            ]
        );
    }
}
