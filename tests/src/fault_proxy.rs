//! mitmproxy's `mitmdump` in reverse-proxy mode in front of moto (STS, IAM,
//! Organizations) or the IAM Identity Center stand-in (the SSO portal), injecting faults
//! for the fault suites.
//!
//! One of Rolehop's clients is pointed at the proxy; the addon `tests/peers/fault_addon.py`
//! forwards each request upstream, or answers it with the fault the test switched on: the
//! service's own throttling error, a bare 429, a 500 or 503, a connection never answered,
//! or the upstream's real answer cut short; or, for a soak, a seeded random share of those. The
//! test switches it through a JSON control file the addon reads again when it changes,
//! and the addon writes one ledger line per request, so a suite counts the requests the
//! proxy saw (the retry policy, and that nothing storms) and the faults it injected. A
//! connection refused needs no proxy: see [`refused_endpoint`].
//!
//! [`FaultProxy::start_verifying`] also loads `tests/peers/session_token_addon.py`, the
//! verifying layer that holds `GetSessionToken` credentials to AWS's rules in front of
//! moto (see docs/testing.md): a test registers the IAM users' long-lived keys with
//! [`FaultProxy::register_long_lived_key`] and reads its verdicts with
//! [`FaultProxy::session_decisions`].

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::http;
use crate::moto::{IamUser, free_loopback_port};
use crate::python::venv_bin;
use crate::wait::{self, Probe};

/// How long mitmdump may take to import and listen on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What the proxy does with the requests that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward to moto.
    None,
    /// The service's own throttling error, in its protocol: STS and IAM a 400
    /// `Throttling` (query XML), Organizations a 400 `TooManyRequestsException` (JSON
    /// 1.1), the SSO portal a 429 `TooManyRequestsException` (REST-JSON).
    Throttling,
    /// 429 with no body.
    TooManyRequests,
    /// 500 with no body.
    InternalError,
    /// 503 with no body.
    Unavailable,
    /// Read the request, never answer (the connection stays open).
    Hang,
    /// The upstream's answer with its full length announced and half its body sent, then
    /// the connection closed.
    TruncatedBody,
}

impl Fault {
    /// The addon's name for it.
    fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Throttling => "throttling",
            Fault::TooManyRequests => "too-many-requests",
            Fault::InternalError => "internal-error",
            Fault::Unavailable => "unavailable",
            Fault::Hang => "hang",
            Fault::TruncatedBody => "truncated-body",
        }
    }
}

/// The session-token layer's key registry and its ledger of decisions.
struct SessionRulesFiles {
    keys: PathBuf,
    ledger: PathBuf,
    registered: Mutex<serde_json::Map<String, Value>>,
}

/// The running `mitmdump`; killed and reaped when dropped.
pub struct FaultProxy {
    _daemon: Daemon,
    addr: SocketAddr,
    control: PathBuf,
    ledger: PathBuf,
    /// The control file's settings, and the ledger's length when the fault was set.
    state: Mutex<(Value, usize)>,
    /// The session-token layer's files, when it is loaded.
    session_rules: Option<SessionRulesFiles>,
    _dir: TempDir,
}

impl FaultProxy {
    /// Starts mitmdump from the peers venv on a free loopback port, forwarding to
    /// `upstream` (moto's or the SSO stand-in's endpoint, `http://127.0.0.1:port`), and
    /// waits until a request through it is answered by the upstream.
    pub fn start(upstream: &str) -> Result<Self> {
        Self::launch(upstream, false)
    }

    /// Like [`start`](Self::start), with the session-token layer in front of the fault
    /// addon: AWS's rules for `GetSessionToken` credentials, which moto does not know.
    pub fn start_verifying(upstream: &str) -> Result<Self> {
        Self::launch(upstream, true)
    }

    fn launch(upstream: &str, verifying: bool) -> Result<Self> {
        let program = venv_bin("mitmdump");
        if !program.exists() {
            return Err(PeerError::Missing {
                program: "mitmdump".into(),
                path: program,
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("rolehop-mitm-")
            .tempdir()
            .map_err(PeerError::io("creating mitmdump's directory"))?;
        let control = dir.path().join("control.json");
        let ledger = dir.path().join("ledger");
        let settings = json!({ "fault": Fault::None.name() });
        write_control(&control, &settings)?;
        fs::write(&ledger, "").map_err(PeerError::io("creating the fault ledger"))?;
        let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers");
        let session_rules = verifying.then(|| SessionRulesFiles {
            keys: dir.path().join("long-lived-keys.json"),
            ledger: dir.path().join("session-ledger"),
            registered: Mutex::new(serde_json::Map::new()),
        });
        let addr = free_loopback_port()?;
        let set = |name: &str, value: &std::path::Path| format!("{name}={}", value.display());
        let mut command = Command::new(&program);
        command
            .arg("--mode")
            .arg(format!("reverse:{}", upstream.trim_end_matches('/')))
            .args(["--listen-host", "127.0.0.1", "--listen-port"])
            .arg(addr.port().to_string());
        if let Some(files) = &session_rules {
            fs::write(&files.keys, "{}").map_err(PeerError::io("creating the key registry"))?;
            fs::write(&files.ledger, "").map_err(PeerError::io("creating the session ledger"))?;
            command
                .arg("--scripts")
                .arg(peers.join("session_token_addon.py"))
                .arg("--set")
                .arg(set("session_keys", &files.keys))
                .arg("--set")
                .arg(set("session_ledger", &files.ledger));
        }
        command
            .arg("--scripts")
            .arg(peers.join("fault_addon.py"))
            .arg("--set")
            .arg(set("fault_control", &control))
            .arg("--set")
            .arg(set("fault_ledger", &ledger))
            // Its CA and settings in the test's directory, not ~/.mitmproxy.
            .arg("--set")
            .arg(set("confdir", &dir.path().join("conf")))
            // The Host header is signed (SigV4): moto must see the one Rolehop signed.
            .args(["--set", "keep_host_header=true", "--quiet"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", dir.path())
            .env("LANG", "C.UTF-8")
            // No __pycache__ beside the addon in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let mut daemon = Daemon::spawn("mitmdump", &mut command, &dir.path().join("mitm.log"))?;
        wait::until(START_TIMEOUT, Duration::from_millis(100), || {
            if let Some(exited) = daemon.exited() {
                return Probe::Failed(exited);
            }
            // Moto answers 200, the SSO stand-in 404; mitmdump itself answers 502
            // while the upstream cannot be reached.
            match http::request(addr, "GET", "/moto-api/", None) {
                Ok(response) if matches!(response.status, 200 | 404) => Probe::Ready(()),
                Ok(response) => Probe::NotYet(format!(
                    "the upstream through mitmdump: {}",
                    response.status
                )),
                Err(e) => Probe::NotYet(format!("GET /moto-api/ through mitmdump: {e}")),
            }
        })
        .map_err(|why| PeerError::NotReady {
            peer: "mitmdump",
            waited: START_TIMEOUT,
            detail: format!("{why}; log:\n{}", daemon.log_text()),
        })?;
        let proxy = Self {
            _daemon: daemon,
            addr,
            control,
            ledger,
            state: Mutex::new((settings, 0)),
            session_rules,
            _dir: dir,
        };
        proxy.state.lock().expect("proxy state").1 = proxy.ledger_lines().len();
        Ok(proxy)
    }

    /// The endpoint to give Rolehop: `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Tells the session-token layer `user`'s long-lived key, with which it re-signs
    /// what AWS accepts from the session tokens that key obtained.
    ///
    /// # Panics
    /// When the proxy was not started with [`start_verifying`](Self::start_verifying).
    pub fn register_long_lived_key(&self, user: &IamUser) {
        let files = self.session_rules_files();
        let mut registered = files.registered.lock().expect("key registry");
        registered.insert(
            user.access_key_id.clone(),
            json!(user.secret_access_key.clone()),
        );
        write_control(&files.keys, &Value::Object(registered.clone()))
            .expect("writing the key registry");
    }

    /// The session-token layer's decisions so far, one per request it judged:
    /// `accept sts:AssumeRole mfa=false`, `refuse iam:GetRole InvalidClientTokenId`.
    pub fn session_decisions(&self) -> Vec<String> {
        read_lines(&self.session_rules_files().ledger)
    }

    fn session_rules_files(&self) -> &SessionRulesFiles {
        self.session_rules
            .as_ref()
            .expect("the proxy was started with start_verifying")
    }

    /// Switches the fault for every request that follows, and resets the counts.
    pub fn set(&self, fault: Fault) {
        self.switch(|settings| {
            settings["fault"] = json!(fault.name());
            settings["random"] = Value::Null;
        });
    }

    /// Gives each request that follows one of `faults` with probability `rate`, drawn
    /// from a generator seeded with `seed`; resets the counts.
    pub fn set_random(&self, rate: f64, seed: u64, faults: &[Fault]) {
        let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
        self.switch(|settings| {
            settings["random"] = json!({ "rate": rate, "seed": seed, "faults": names });
        });
    }

    /// Moves the `<Expiration>` of every STS answer that follows `seconds` later (moto
    /// has no clock to move; a test that moves Rolehop's scheduler clock moves STS's
    /// with it). Keeps the counts.
    pub fn shift_time(&self, seconds: i64) {
        let mut state = self.state.lock().expect("proxy state");
        state.0["time_shift_seconds"] = json!(seconds);
        write_control(&self.control, &state.0).expect("writing the proxy's control file");
    }

    /// How many requests the proxy read since the fault was last set.
    pub fn requests(&self) -> usize {
        self.since_set().len()
    }

    /// How many of those it answered with a fault.
    pub fn faults_injected(&self) -> usize {
        self.since_set().iter().filter(|l| *l != "none").count()
    }

    fn switch(&self, change: impl FnOnce(&mut Value)) {
        let mut state = self.state.lock().expect("proxy state");
        change(&mut state.0);
        write_control(&self.control, &state.0).expect("writing the proxy's control file");
        state.1 = self.ledger_lines().len();
    }

    fn since_set(&self) -> Vec<String> {
        let from = self.state.lock().expect("proxy state").1;
        self.ledger_lines().into_iter().skip(from).collect()
    }

    fn ledger_lines(&self) -> Vec<String> {
        read_lines(&self.ledger)
    }
}

fn read_lines(path: &std::path::Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Replaces the control file at once (a rename), so the addon never reads half of it.
fn write_control(path: &std::path::Path, settings: &Value) -> Result<()> {
    let next = path.with_extension("next");
    fs::write(&next, settings.to_string()).map_err(PeerError::io("writing the proxy control"))?;
    fs::rename(&next, path).map_err(PeerError::io("replacing the proxy control"))
}

/// An endpoint nothing listens on: a loopback port bound and released.
pub fn refused_endpoint() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}"))
}
