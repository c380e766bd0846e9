//! A real Secret Service (gnome-keyring) on a private D-Bus session bus.
//!
//! Nothing of the user's is touched: the bus is a fresh `dbus-daemon` listening on a
//! socket in a temporary directory, and gnome-keyring keeps its keyrings under that
//! same directory (HOME and the XDG directories point there). The bus is configured
//! with no service directories, so a client can never D-Bus-activate some other
//! keyring daemon with the user's settings: only ours answers.
//!
//! Tests check what Rolehop stored from outside, with `secret-tool`, the way a user
//! would. The keyring store crate Rolehop uses (`zbus-secret-service-keyring-store`)
//! labels items with the attributes `service` and `username`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::wait::{self, Probe};

/// The login keyring's password; gnome-keyring reads it on stdin to unlock.
const KEYRING_PASSWORD: &str = "rolehop-e2e";

const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A bus with no activatable services and no access restrictions: a test's bus.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=SOCKET</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// gnome-keyring's Secret Service on a private session bus. Both daemons are killed
/// and reaped on drop, and their files removed.
pub struct SecretService {
    // Field order is drop order: the keyring leaves before its bus, both before the
    // directory they live in.
    keyring: Daemon,
    bus: Daemon,
    bus_address: String,
    dir: TempDir,
}

impl SecretService {
    /// Starts a private bus and an unlocked gnome-keyring on it, and waits until the
    /// default collection stores and returns a secret.
    pub fn start() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rolehop-kr-")
            .tempdir()
            .map_err(PeerError::io("creating the keyring's directory"))?;
        let root = dir.path();
        for sub in ["home", "data", "config", "cache", "runtime"] {
            fs::create_dir_all(root.join(sub))
                .map_err(PeerError::io(format!("creating {sub}/")))?;
        }
        set_private(&root.join("runtime"))?;

        let (bus, bus_address) = start_bus(root)?;
        let keyring = start_keyring(root, &bus_address)?;
        let mut service = Self {
            keyring,
            bus,
            bus_address,
            dir,
        };
        service.wait_until_ready()?;
        Ok(service)
    }

    /// The private bus's address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// Environment for a child process (the Rolehop CLI, the desktop app) that should
    /// use this keyring.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![(
            "DBUS_SESSION_BUS_ADDRESS".to_owned(),
            self.bus_address.clone(),
        )]
    }

    /// Points this process's session bus at the private one, so in-process code
    /// (rolehop-core's keychain) uses this keyring.
    ///
    /// # Safety
    /// Changes the process environment. Call it only at the start of a test, before
    /// any thread is spawned (including a tokio runtime's). Tests run under
    /// cargo-nextest, where each test is its own process, so this affects one test
    /// only; under plain `cargo test` several tests share a process and would race.
    pub unsafe fn export_to_this_process(&self) {
        // SAFETY: the caller promises no other thread reads or writes the environment.
        unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &self.bus_address) };
    }

    /// The secret stored under `service` and `username`, if there is one.
    pub fn lookup(&self, service: &str, username: &str) -> Result<Option<String>> {
        let output =
            self.secret_tool(["lookup", "service", service, "username", username], None)?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        match (output.status.success(), stderr.trim().is_empty()) {
            (true, _) => Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned())),
            // secret-tool exits 1 with nothing on stderr when there is no such item.
            (false, true) => Ok(None),
            (false, false) => Err(PeerError::Failed {
                what: "secret-tool lookup".into(),
                status: output.status,
                stderr: stderr.into_owned(),
            }),
        }
    }

    /// Every item under `service`, as `secret-tool search --all` prints it (labels,
    /// attributes and secrets). Empty when there is none. For asserting that nothing
    /// unexpected, or no leftover, is stored.
    pub fn search_all(&self, service: &str) -> Result<String> {
        let output = self.secret_tool(["search", "--all", "--unlock", "service", service], None)?;
        // secret-tool prints the secret on stdout and the attributes on stderr.
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok(text)
    }

    /// Stores `secret` under `service` and `username`, as the keyring crate would, to
    /// seed a test.
    pub fn store(&self, service: &str, username: &str, secret: &str) -> Result<()> {
        let label = format!("{service} {username}");
        let output = self.secret_tool(
            [
                "store", "--label", &label, "service", service, "username", username,
            ],
            Some(secret),
        )?;
        check("secret-tool store", &output)
    }

    /// Removes every item under `service` and `username`.
    pub fn clear(&self, service: &str, username: &str) -> Result<()> {
        let output = self.secret_tool(["clear", "service", service, "username", username], None)?;
        check("secret-tool clear", &output)
    }

    /// Locks the login keyring, as a screen lock or `Lock` from a keyring manager does:
    /// its items stay but cannot be read until it is unlocked (which asks a prompter;
    /// this bus has none).
    pub fn lock(&self) -> Result<()> {
        let output = Command::new("dbus-send")
            .arg(format!("--bus={}", self.bus_address))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .output()
            .map_err(PeerError::spawn("dbus-send (Debian: dbus-bin)"))?;
        check("dbus-send Secret.Service.Lock", &output)
    }

    /// Unlocks the login keyring again with its password, as the user would: a new
    /// `gnome-keyring-daemon --unlock` on this bus hands the password to the running one.
    pub fn unlock(&mut self) -> Result<()> {
        self.stop_daemon();
        self.start_daemon()
    }

    /// Kills gnome-keyring (the bus stays): the Secret Service is gone.
    pub fn stop_daemon(&mut self) {
        self.keyring.kill();
        let address = self.bus_address.clone();
        // Wait until the bus has dropped its name, so a test sees the service gone.
        let _ = wait::until(
            START_TIMEOUT,
            Duration::from_millis(20),
            || match name_has_owner(&address, "org.freedesktop.secrets") {
                Ok(false) => Probe::Ready(()),
                Ok(true) => Probe::NotYet("org.freedesktop.secrets still owned".into()),
                Err(e) => Probe::Failed(e.to_string()),
            },
        );
    }

    /// Starts gnome-keyring again on the same bus and files (after [`Self::stop_daemon`]):
    /// the login keyring, unlocked with its password, holds what it held before.
    pub fn start_daemon(&mut self) -> Result<()> {
        self.keyring = start_keyring(self.dir.path(), &self.bus_address)?;
        self.wait_until_ready()
    }

    /// The process ids of gnome-keyring and of the bus (to check that drop ends them).
    pub fn pids(&self) -> Vec<u32> {
        vec![self.keyring.pid(), self.bus.pid()]
    }

    fn secret_tool<'a>(
        &self,
        args: impl IntoIterator<Item = &'a str>,
        stdin: Option<&str>,
    ) -> Result<Output> {
        let mut command = Command::new("secret-tool");
        command
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(PeerError::spawn("secret-tool (Debian: libsecret-tools)"))?;
        if let Some(text) = stdin {
            // Dropping the handle closes stdin: secret-tool reads the secret to EOF.
            let mut pipe = child.stdin.take().expect("stdin is piped");
            pipe.write_all(text.as_bytes())
                .map_err(PeerError::io("writing to secret-tool"))?;
        }
        child
            .wait_with_output()
            .map_err(PeerError::io("waiting for secret-tool"))
    }

    /// Waits until gnome-keyring owns `org.freedesktop.secrets`, then proves the
    /// default collection works with a store / lookup / clear round trip (the first
    /// store is also what creates the login keyring).
    fn wait_until_ready(&mut self) -> Result<()> {
        let address = self.bus_address.clone();
        let keyring = &mut self.keyring;
        wait::until(START_TIMEOUT, Duration::from_millis(50), || {
            if let Some(exited) = keyring.exited() {
                return Probe::Failed(exited);
            }
            match name_has_owner(&address, "org.freedesktop.secrets") {
                Ok(true) => Probe::Ready(()),
                Ok(false) => Probe::NotYet("org.freedesktop.secrets has no owner yet".into()),
                Err(e) => Probe::Failed(e.to_string()),
            }
        })
        .map_err(|detail| PeerError::NotReady {
            peer: "gnome-keyring-daemon",
            waited: START_TIMEOUT,
            detail,
        })?;

        let (service, username, secret) = ("rolehop-e2e-probe", "probe", "probe-secret");
        self.store(service, username, secret)?;
        let found = self.lookup(service, username)?;
        self.clear(service, username)?;
        if found.as_deref() != Some(secret) {
            return Err(PeerError::Output {
                what: "gnome-keyring round trip".into(),
                detail: format!(
                    "stored {secret:?}, read back {found:?}; log:\n{}",
                    self.keyring.log_text()
                ),
            });
        }
        Ok(())
    }

    /// Where the keyring keeps its files (for debugging a failing test).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl std::fmt::Debug for SecretService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretService")
            .field("bus_address", &self.bus_address)
            .field("pids", &self.pids())
            .finish()
    }
}

/// Starts `dbus-daemon` on `root/bus` and returns it with its address, once it
/// listens (it prints the address only then).
fn start_bus(root: &Path) -> Result<(Daemon, String)> {
    let socket = root.join("bus");
    let config = root.join("bus.conf");
    fs::write(
        &config,
        BUS_CONFIG.replace("SOCKET", &socket.to_string_lossy()),
    )
    .map_err(PeerError::io("writing the bus configuration"))?;
    let log = root.join("dbus.log");
    let log_file = fs::File::create(&log).map_err(PeerError::io("creating the bus log"))?;
    let mut child = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--nopidfile", "--print-address=1"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(PeerError::spawn("dbus-daemon (Debian: dbus)"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut bus = Daemon::adopt("dbus-daemon", child, &log);
    let mut address = String::new();
    BufReader::new(stdout)
        .read_line(&mut address)
        .map_err(PeerError::io("reading the bus address"))?;
    let address = address.trim().to_owned();
    if address.is_empty() {
        let detail = bus.exited().unwrap_or_else(|| bus.log_text());
        return Err(PeerError::NotReady {
            peer: "dbus-daemon",
            waited: Duration::ZERO,
            detail,
        });
    }
    Ok((bus, address))
}

/// Starts gnome-keyring's secrets component on the bus, its files under `root`, and
/// unlocks (creating if needed) the login keyring with the password on stdin.
fn start_keyring(root: &Path, bus_address: &str) -> Result<Daemon> {
    let mut command = Command::new("gnome-keyring-daemon");
    command
        .args(["--unlock", "--components=secrets", "--foreground"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
        .env("HOME", root.join("home"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_CACHE_HOME", root.join("cache"))
        .env("XDG_RUNTIME_DIR", root.join("runtime"))
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::piped());
    let mut keyring = Daemon::spawn(
        "gnome-keyring-daemon",
        &mut command,
        &root.join("keyring.log"),
    )
    .map_err(|e| match e {
        PeerError::Spawn { source, .. } => PeerError::Spawn {
            program: "gnome-keyring-daemon (Debian: gnome-keyring)".into(),
            source,
        },
        other => other,
    })?;
    let mut stdin = keyring.child_mut().stdin.take().expect("stdin is piped");
    // It reads the password to EOF: write it, then close by dropping the handle.
    stdin
        .write_all(KEYRING_PASSWORD.as_bytes())
        .map_err(PeerError::io("giving gnome-keyring its password"))?;
    Ok(keyring)
}

/// Asks the bus whether `name` has an owner, with `dbus-send`.
pub(crate) fn name_has_owner(bus_address: &str, name: &str) -> Result<bool> {
    let output = Command::new("dbus-send")
        .arg(format!("--bus={bus_address}"))
        .args([
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{name}"))
        .output()
        .map_err(PeerError::spawn("dbus-send (Debian: dbus-bin)"))?;
    check("dbus-send NameHasOwner", &output)?;
    Ok(String::from_utf8_lossy(&output.stdout).contains("boolean true"))
}

fn check(what: &str, output: &Output) -> Result<()> {
    if output.status.success() {
        Ok(())
    } else {
        Err(PeerError::Failed {
            what: what.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// XDG_RUNTIME_DIR must be 0700, or gnome-keyring refuses to use it.
fn set_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(PeerError::io(format!("chmod 700 {}", dir.display())))
}
