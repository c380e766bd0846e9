//! The packages on a system that has nothing: the `.deb` installed with
//! `apt-get install ./Rolehop_*.deb` into a fresh Debian 12 root (`mmdebstrap
//! --variant=apt`: the essential packages and apt, made by `cargo xtask` and cached as
//! a tarball), so apt must resolve every dependency from Debian's archive; the `.rpm`
//! checked against the same dependency list and installed with `rpm -i --root` into an
//! empty root. `cargo xtask test` runs these on the debug packages, `cargo xtask bundle
//! --check` on the release ones.
//!
//! Every command inside the root runs in a mount namespace of its own (`unshare
//! --mount`), where `/proc`, `/dev`, `/sys` and the binds (the test's D-Bus socket, the
//! X socket, apt's download cache) are mounted before `chroot`: the kernel drops them
//! when the command's last process ends, however the test ends, and none is ever seen
//! by the rest of the machine. The root shares the machine's network namespace, so
//! moto on 127.0.0.1 answers there too.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{VERSION, output, package, package_dir};
use crate::cli::World;
use crate::desktop::{TestResult, Xvfb};

mod rpm;

/// Where `cargo xtask` keeps the base root's tarball and apt's downloads.
fn cache_dir() -> PathBuf {
    let dir = std::env::var_os("ROLEHOP_CLEAN_ROOT_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/rolehop/clean-root")
        });
    assert!(
        dir.join("debian-bookworm-apt.tar").exists(),
        "{}: no clean root: run `cargo xtask bundle --check` (or `cargo xtask test`), which makes it",
        dir.display()
    );
    dir
}

/// Where a run's transcript is kept: `target/artifacts/package/`.
fn artifacts() -> PathBuf {
    let dir = package_dir()
        .ancestors()
        .nth(2)
        .expect("<target>/<profile>/bundle")
        .join("artifacts/package");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// The PATH of commands run on the machine and inside the root.
const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Mounts what a command inside the root needs, then `chroot`s into it: `$1` the root,
/// then pairs of (machine path, path inside) to bind until `--`, then the command.
const ENTER: &str = r#"set -e
root=$1; shift
while [ "$1" != -- ]; do mkdir -p "$root$2"; mount --bind "$1" "$root$2"; shift 2; done; shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
exec chroot "$root" "$@""#;

/// A Debian 12 root unpacked from the cached tarball into a temporary directory.
struct CleanRoot {
    dir: Option<TempDir>,
    /// (machine path, path inside the root) bound into every command's namespace.
    binds: Vec<(PathBuf, String)>,
}

impl CleanRoot {
    fn unpack(tarball: &Path) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rolehop-clean-root-")
            .tempdir()
            .expect("temporary directory");
        output(
            "tar",
            &[
                "--numeric-owner",
                "-xpf",
                tarball.to_str().unwrap(),
                "-C",
                dir.path().to_str().unwrap(),
            ],
        );
        // Name resolution for apt inside the root: the machine's.
        std::fs::copy("/etc/resolv.conf", dir.path().join("etc/resolv.conf"))
            .expect("copying resolv.conf");
        Self {
            dir: Some(dir),
            binds: Vec::new(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.as_ref().expect("root").path()
    }

    /// `inside` (an absolute path in the root) as the machine sees it.
    fn path(&self, inside: &str) -> PathBuf {
        self.root().join(inside.trim_start_matches('/'))
    }

    fn bind(&mut self, machine: &Path, inside: &str) {
        self.binds.push((machine.to_owned(), inside.to_owned()));
    }

    /// `argv` inside the root with `env` (and PATH, LANG) as its whole environment.
    fn command(&self, argv: &[&str], env: &[(String, String)]) -> Command {
        let mut command = Command::new("unshare");
        command
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                ENTER,
                "sh",
            ])
            .arg(self.root());
        for (machine, inside) in &self.binds {
            command.arg(machine).arg(inside);
        }
        command
            .arg("--")
            .args(argv)
            .env_clear()
            .env("PATH", PATH)
            .env("LANG", "C.UTF-8")
            .envs(env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `argv` inside the root, `stdin` on its standard input; its output, whatever
    /// its status.
    fn run(&self, argv: &[&str], env: &[(String, String)], stdin: Option<&str>) -> Output {
        let mut child = self
            .command(argv, env)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare runs");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("writing stdin");
        }
        child.wait_with_output().expect("unshare finishes")
    }

    /// Runs `argv` inside the root, asserting success; its standard output.
    fn ok(&self, argv: &[&str], env: &[(String, String)], stdin: Option<&str>) -> String {
        let out = self.run(argv, env, stdin);
        assert!(
            out.status.success(),
            "inside the root, {argv:?}: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every installed package and its installed size in KiB.
    fn packages(&self) -> BTreeMap<String, u64> {
        self.ok(
            &["dpkg-query", "-W", "-f=${Package}\t${Installed-Size}\n"],
            &[],
            None,
        )
        .lines()
        .filter_map(|l| {
            let (name, size) = l.split_once('\t')?;
            Some((name.to_owned(), size.parse().unwrap_or(0)))
        })
        .collect()
    }
}

/// Mount points of this process's namespace under `dir` (none may be left).
fn mounts_under(dir: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|mount_point| Path::new(mount_point).starts_with(dir))
        .map(str::to_owned)
        .collect()
}

impl Drop for CleanRoot {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        if mounts_under(dir.path()).is_empty() {
            let _ = dir.close();
        } else {
            // Deleting would reach through a mount into the machine's files: keep it.
            let kept = dir.keep();
            eprintln!("{}: mounts left under it, not deleted", kept.display());
        }
    }
}

/// `path`'s sha256 (the `sha256sum` of coreutils).
fn sha256(path: &Path) -> String {
    output("sha256sum", &[path.to_str().unwrap()])
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The sha256 of every regular file under `dir`, by path.
fn hashes_under(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut hashes = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file() {
                hashes.insert(path.clone(), sha256(&path));
            }
        }
    }
    hashes
}

/// The lines of apt's summary worth a transcript: what it adds, downloads and takes.
fn apt_summary(apt_output: &str) -> Vec<String> {
    apt_output
        .lines()
        .filter(|l| {
            l.starts_with("Need to get")
                || l.starts_with("After this operation")
                || l.contains("newly installed")
                || l.starts_with("Fetched")
        })
        .map(str::to_owned)
        .collect()
}

/// The package's dependency names (`Depends` or `Recommends`), versions dropped.
pub(super) fn deb_field_names(deb: &str, field: &str) -> Vec<String> {
    output("dpkg-deb", &["-f", deb, field])
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or_default().to_owned())
        .filter(|d| !d.is_empty())
        .collect()
}

/// The session `deploy`'s credentials as the AWS CLI on the machine sees them through
/// `env` (the root's AWS files, or keys in variables): the caller's ARN at moto.
fn caller_arn(env: Vec<(String, String)>) -> String {
    let out = rolehop_e2e::aws_cli(["sts", "get-caller-identity", "--output", "json"], env)
        .expect("aws runs");
    assert!(
        out.status.success(),
        "aws sts get-caller-identity: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    answer["Arn"].as_str().unwrap_or_default().to_owned()
}

/// `line` split into words as botocore splits a `credential_process` line (Python's
/// `shlex.split`, POSIX rules: quotes group, a backslash escapes, no shell runs).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[test]
fn part1_credential_process_lines_split_like_shlex() {
    assert_eq!(
        shell_words(r#""/usr/bin/rolehop" credential-process 'a b' c\ d "e\"f""#),
        [
            "/usr/bin/rolehop",
            "credential-process",
            "a b",
            "c d",
            "e\"f"
        ]
    );
}

/// The app's window, as `xwininfo` sees it on `display`: the id of a window named
/// `name` that is mapped and viewable, with its size.
fn viewable_window(display: &str, name: &str) -> Option<(String, String)> {
    let tree = Command::new("xwininfo")
        .args(["-display", display, "-root", "-tree"])
        .output()
        .ok()?;
    let tree = String::from_utf8_lossy(&tree.stdout);
    for line in tree.lines() {
        let line = line.trim();
        if !line.contains(&format!("\"{name}\"")) {
            continue;
        }
        let id = line.split_whitespace().next()?.to_owned();
        let info = Command::new("xwininfo")
            .args(["-display", display, "-id", &id])
            .output()
            .ok()?;
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        if info.contains("Map State: IsViewable") {
            return Some((id, info));
        }
    }
    None
}

/// The app started from the desktop entry, in a process group of its own: killed with
/// all of it (WebKit's helper processes) when dropped, which also ends its namespace.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let group = self.0.id() as i32;
        // SAFETY: kill(2) on a process group this test started; no memory involved.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// The desktop entry's `Exec=` line as argv, its field codes (`%U`...) dropped.
fn exec_line(entry: &str) -> Vec<String> {
    let line = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .unwrap_or_else(|| panic!("no Exec= in the desktop entry:\n{entry}"));
    assert!(
        !line.contains(['"', '\'', '\\']),
        "Exec= quotes: {line} (this test splits on spaces)"
    );
    line.split_whitespace()
        .filter(|w| !(w.len() == 2 && w.starts_with('%')))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the packages, root and the clean root: `cargo xtask test` or `cargo xtask bundle --check`"]
async fn part1_the_deb_installs_with_apt_on_a_clean_debian_runs_a_chain_and_the_app_and_purges_clean()
-> TestResult {
    // SAFETY: geteuid(2) reads the process's user id; no memory involved.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(
        uid, 0,
        "the clean root needs root (unshare --mount, mount, chroot, apt-get): run as root"
    );
    let cache = cache_dir();
    let deb = package("deb", "deb");
    let deb_str = deb.to_str().unwrap();
    let name = output("dpkg-deb", &["-f", deb_str, "Package"])
        .trim()
        .to_owned();
    let mut transcript = String::new();
    let mut note = |line: String| {
        println!("clean root: {line}");
        transcript.push_str(&line);
        transcript.push('\n');
    };
    note(format!(
        "{} ({:.1} MB), Depends: {}; Recommends: {}",
        deb.file_name().unwrap().to_string_lossy(),
        std::fs::metadata(&deb)?.len() as f64 / 1e6,
        deb_field_names(deb_str, "Depends").join(", "),
        deb_field_names(deb_str, "Recommends").join(", "),
    ));

    // The root, and the peers the installed programs meet: moto and gnome-keyring on a
    // private bus (its socket bound into the root at the same path).
    let started = Instant::now();
    let mut root = CleanRoot::unpack(&cache.join("debian-bookworm-apt.tar"));
    let base = root.packages();
    note(format!(
        "base root: {} packages, {:.0} MB installed, unpacked in {:.1} s",
        base.len(),
        base.values().sum::<u64>() as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    ));
    let world = World::start();
    let bus = world
        .peers
        .secret_service()
        .bus_address()
        .strip_prefix("unix:path=")
        .and_then(|a| a.split(',').next())
        .map(PathBuf::from)
        .expect("the test bus listens on a unix path");
    let bus_dir = bus.parent().expect("bus socket's directory").to_owned();
    root.bind(&bus_dir, bus_dir.to_str().unwrap());
    // apt's downloads are kept between runs (a warm run downloads nothing).
    root.bind(&cache.join("apt-archives"), "/var/cache/apt/archives");
    std::fs::copy(&deb, root.path("/tmp").join(deb.file_name().unwrap()))?;

    // apt resolves every dependency from Debian's archive.
    let apt_env = vec![("DEBIAN_FRONTEND".to_owned(), "noninteractive".to_owned())];
    let started = Instant::now();
    let update = root.ok(&["apt-get", "update", "-q"], &apt_env, None);
    note(format!(
        "apt-get update: {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        apt_summary(&update).join("; ")
    ));
    let started = Instant::now();
    let local = format!("/tmp/{}", deb.file_name().unwrap().to_string_lossy());
    // No fsync for each of the hundreds of files: the root is thrown away after.
    let install = root.ok(
        &[
            "apt-get",
            "install",
            "-y",
            "-o",
            "Dpkg::Options::=--force-unsafe-io",
            &local,
        ],
        &apt_env,
        None,
    );
    note(format!(
        "apt-get install ./{}: {:.1} s; {}",
        deb.file_name().unwrap().to_string_lossy(),
        started.elapsed().as_secs_f64(),
        apt_summary(&install).join("; ")
    ));
    let after = root.packages();
    let added: BTreeMap<&String, &u64> = after
        .iter()
        .filter(|(p, _)| !base.contains_key(*p))
        .collect();
    let mut by_size: Vec<_> = added.iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(a.1));
    note(format!(
        "apt pulled in {} packages ({} besides {name}), {:.0} MB installed; the largest: {}",
        added.len(),
        added.len() - 1,
        added.values().copied().sum::<u64>() as f64 / 1024.0,
        by_size
            .iter()
            .take(12)
            .map(|(p, s)| format!("{p} {:.1} MB", ***s as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    std::fs::write(
        artifacts().join("clean-root-packages.txt"),
        added
            .iter()
            .map(|(p, s)| format!("{p}\t{s} KiB\n"))
            .collect::<String>(),
    )?;
    assert!(added.contains_key(&name), "{name} not installed: {install}");

    // Every library the two programs link is there.
    let ldd = root.ok(
        &["ldd", "/usr/bin/rolehop", "/usr/bin/rolehop-desktop"],
        &[],
        None,
    );
    assert!(!ldd.contains("not found"), "a library is missing:\n{ldd}");

    // The installed CLI, as the root's user (HOME /root, the default places: the
    // workspace in ~/.config/rolehop, the AWS files in ~/.aws), against moto.
    let mut user_env = vec![("HOME".to_owned(), "/root".to_owned())];
    user_env.extend(world.env().into_iter().filter(|(k, _)| {
        matches!(
            k.as_str(),
            "DBUS_SESSION_BUS_ADDRESS" | "ROLEHOP_KEYCHAIN_SERVICE" | "AWS_ENDPOINT_URL"
        )
    }));
    user_env.push(("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()));
    let rolehop = |args: &[&str], stdin: Option<&str>| {
        let mut argv = vec!["/usr/bin/rolehop"];
        argv.extend(args);
        root.ok(&argv, &user_env, stdin)
    };
    assert_eq!(
        rolehop(&["--version"], None).trim(),
        format!("rolehop {VERSION}")
    );
    note(format!("/usr/bin/rolehop --version: rolehop {VERSION}"));

    let moto = world.peers.moto();
    let ada = moto.create_user("ada")?;
    let role_arn = moto.create_role("DeployRole", &ada.arn)?;
    let keys = format!("{}\n{}\n", ada.access_key_id, ada.secret_access_key);
    rolehop(
        &[
            "session",
            "add",
            "iam-user",
            "--name",
            "ada",
            "--profile",
            "ada",
            "--region",
            "us-east-1",
        ],
        Some(&keys),
    );
    rolehop(
        &[
            "session",
            "add",
            "role",
            "--name",
            "deploy",
            "--parent",
            "ada",
            "--role-arn",
            &role_arn,
            "--profile",
            "deploy",
            "--region",
            "us-east-1",
        ],
        None,
    );
    rolehop(&["session", "start", "deploy"], None);
    let aws_files = |profile: &str| {
        vec![
            ("AWS_PROFILE".to_owned(), profile.to_owned()),
            ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint()),
            (
                "AWS_CONFIG_FILE".to_owned(),
                root.path("/root/.aws/config")
                    .to_string_lossy()
                    .into_owned(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
                root.path("/root/.aws/credentials")
                    .to_string_lossy()
                    .into_owned(),
            ),
        ]
    };
    let arn = caller_arn(aws_files("deploy"));
    assert!(arn.contains(":assumed-role/DeployRole/"), "{arn}");
    note(format!(
        "chain ada -> DeployRole, credentials file, aws sts get-caller-identity: {arn}"
    ));

    // The credential_process line the installed CLI writes, run as the AWS CLI runs it
    // (split like a shell word list, no shell), inside the root.
    rolehop(&["session", "stop", "deploy"], None);
    rolehop(
        &["settings", "set", "delivery-mode", "credential-process"],
        None,
    );
    rolehop(&["session", "start", "deploy"], None);
    let config = std::fs::read_to_string(root.path("/root/.aws/config"))?;
    let line = config
        .split("[profile deploy]")
        .nth(1)
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.trim().strip_prefix("credential_process = "))
        })
        .unwrap_or_else(|| panic!("no credential_process for deploy:\n{config}"))
        .to_owned();
    let words = shell_words(&line);
    let argv: Vec<&str> = words.iter().map(String::as_str).collect();
    assert_eq!(argv[0], "/usr/bin/rolehop", "{line}");
    let answer: serde_json::Value = serde_json::from_str(&root.ok(&argv, &user_env, None))?;
    assert_eq!(answer["Version"], 1, "{line}");
    let field = |f: &str| answer[f].as_str().unwrap_or_default().to_owned();
    let arn = caller_arn(vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), field("AccessKeyId")),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), field("SecretAccessKey")),
        ("AWS_SESSION_TOKEN".to_owned(), field("SessionToken")),
        ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint()),
    ]);
    assert!(arn.contains(":assumed-role/DeployRole/"), "{arn}");
    note(format!("credential_process = {line}: its keys are {arn}"));

    // The app, launched from its desktop entry's Exec= line, shows its window.
    let entry = std::fs::read_to_string(root.path("/usr/share/applications/Rolehop.desktop"))?;
    let exec = exec_line(&entry);
    let xvfb = Xvfb::start(&artifacts());
    root.bind(Path::new("/tmp/.X11-unix"), "/tmp/.X11-unix");
    let mut app_env = user_env.clone();
    for (k, v) in [
        ("DISPLAY", xvfb.display()),
        // No GPU under Xvfb (as for the desktop suites).
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
        ("LIBGL_ALWAYS_SOFTWARE", "1"),
        ("NO_AT_BRIDGE", "1"),
    ] {
        app_env.push((k.to_owned(), v.to_owned()));
    }
    let exec_refs: Vec<&str> = exec.iter().map(String::as_str).collect();
    let app_log = artifacts().join("clean-root-app.log");
    let log = std::fs::File::create(&app_log)?;
    let started = Instant::now();
    let mut app = App(root
        .command(&exec_refs, &app_env)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()?);
    let deadline = Instant::now() + Duration::from_secs(90);
    let (window, info) = loop {
        if let Some(found) = viewable_window(xvfb.display(), "Rolehop") {
            break found;
        }
        if let Some(status) = app.0.try_wait()? {
            panic!(
                "the app ({exec:?}) exited: {status}\n{}",
                std::fs::read_to_string(&app_log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no Rolehop window after 90 s:\n{}",
            std::fs::read_to_string(&app_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let size = info
        .lines()
        .filter(|l| l.contains("Width:") || l.contains("Height:"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ");
    note(format!(
        "Exec={}: window {window} \"Rolehop\" viewable after {:.1} s ({size})",
        exec.join(" "),
        started.elapsed().as_secs_f64()
    ));
    drop(app);
    drop(xvfb);

    // Purge: the user's files stay byte for byte, the package's files go.
    let home = root.path("/root");
    let before = hashes_under(&home);
    for f in [
        ".config/rolehop/workspace.json",
        ".aws/config",
        ".aws/credentials",
    ] {
        assert!(
            before.contains_key(&home.join(f)),
            "no ~/{f} to keep: {before:?}"
        );
    }
    let owned = root.ok(&["dpkg", "-L", &name], &[], None);
    let owned: Vec<(String, bool)> = owned
        .lines()
        .filter(|p| p.starts_with('/') && *p != "/.")
        .map(|p| (p.to_owned(), root.path(p).is_dir()))
        .collect();
    let purge = root.ok(&["apt-get", "purge", "-y", &name], &apt_env, None);
    assert_eq!(
        hashes_under(&home),
        before,
        "apt-get purge changed the user's files"
    );
    let status = root.run(&["dpkg-query", "-W", "-f=${Status}", &name], &[], None);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        !status.contains("installed") && !status.contains("config-files"),
        "{name} after purge: {status}"
    );
    let mut left = Vec::new();
    for (path, is_dir) in &owned {
        if !root.path(path).exists() {
            continue;
        }
        // A directory stays when another package owns it too (/usr/bin, hicolor's).
        if !is_dir || !root.run(&["dpkg", "-S", path], &[], None).status.success() {
            left.push(path.clone());
        }
    }
    assert_eq!(
        left,
        Vec::<String>::new(),
        "apt-get purge left these of {name}'s"
    );
    note(format!(
        "apt-get purge {name}: {}; {} paths of dpkg -L gone or shared, the user's {} files unchanged: {}",
        apt_summary(&purge).join("; "),
        owned.len(),
        before.len(),
        [
            ".config/rolehop/workspace.json",
            ".aws/config",
            ".aws/credentials"
        ]
        .iter()
        .map(|f| format!("~/{f} {}", &before[&home.join(f)][..12]))
        .collect::<Vec<_>>()
        .join(", ")
    ));
    // Obsolete downloads leave the cache (it keeps only what the archive still has).
    root.ok(&["apt-get", "autoclean", "-q"], &apt_env, None);

    assert_eq!(mounts_under(root.root()), Vec::<String>::new());
    std::fs::write(artifacts().join("clean-root-transcript.txt"), &transcript)?;
    Ok(())
}
