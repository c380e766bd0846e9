//! What the `rolehop` command-line suites share: the built binary run in a clean
//! environment pointed at this test's peers, and the seed's story set up through it.
//!
//! Every child (rolehop, the AWS CLI) gets `env_clear()` plus exactly the variables of
//! this test's home and peers, so none of them can reach the developer's own session
//! bus, keychain or `~/.aws`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use rolehop_e2e::binaries::rolehop_bin;
use rolehop_e2e::sso_portal::START_URL;
use rolehop_e2e::{IamUser, Peers, SsoPortal, aws_cli, peers_venv};

/// The production account of the seed's story (moto creates nothing there; it does not
/// check that an assumed role exists).
pub const PRODUCTION: &str = "210987654321";
pub const DEPLOY_ROLE: &str = "arn:aws:iam::210987654321:role/ResourceDeployCAR";

/// One finished command.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the command exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "failed: {self:#?}");
        self
    }

    /// Panics unless the command exited with `code` and said one line on stderr, with
    /// no stack trace.
    #[track_caller]
    pub fn fails_with(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert_eq!(self.stderr.lines().count(), 1, "not one line: {self:#?}");
        assert!(self.stderr.starts_with("rolehop: "), "{self:#?}");
        for trace in ["panicked", "backtrace", "RUST_BACKTRACE"] {
            assert!(!self.stderr.contains(trace), "{self:#?}");
        }
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// A test's peers and the environment its children run in.
pub struct World {
    pub peers: Peers,
    env: Vec<(String, String)>,
}

impl World {
    /// A world whose `rolehop` and AWS CLI reach the stand-in, with integration `acme`.
    pub fn with_sso_portal() -> (World, SsoPortal) {
        let world = World::start();
        let portal = SsoPortal::start(world.peers.moto()).expect("stand-in starts");
        let mut world = world;
        for (k, v) in portal.endpoint_env() {
            world = world.with_env(&k, &v);
        }
        world
            .rolehop(&[
                "sso",
                "add",
                "--name",
                "acme",
                "--start-url",
                START_URL,
                "--region",
                "eu-west-1",
            ])
            .ok();
        // Synced sessions name no region: the workspace's default is the profile's.
        world
            .rolehop(&["settings", "set", "default-region", "us-east-1"])
            .ok();
        (world, portal)
    }

    /// The id of session `name`, as `session list --json` gives it.
    pub fn session_id(&self, name: &str) -> String {
        let list = self.rolehop(&["session", "list", "--json"]).ok().json();
        list.as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .and_then(|s| s["id"].as_str())
            .unwrap_or_else(|| panic!("no session {name} in {list}"))
            .to_owned()
    }

    /// Adds IAM user `name` (a moto user of that name, no MFA, its keys piped in) bound
    /// to `profile`, in us-east-1.
    pub fn add_iam_user(&self, name: &str, profile: &str) -> IamUser {
        let user = self.peers.moto().create_user(name).expect("moto user");
        self.add_iam_user_keys(&user, profile);
        user
    }

    /// Adds moto user `user` (made by the test) as IAM user session `user.name` on
    /// `profile`, in us-east-1, its keys piped in.
    pub fn add_iam_user_keys(&self, user: &IamUser, profile: &str) {
        let name = user.name.as_str();
        let keys = format!("{}\n{}\n", user.access_key_id, user.secret_access_key);
        self.rolehop_with(
            &[
                "session",
                "add",
                "iam-user",
                "--name",
                name,
                "--profile",
                profile,
                "--region",
                "us-east-1",
            ],
            &[],
            Some(&keys),
        )
        .ok();
    }

    /// moto, gnome-keyring on a private bus, a throw-away home.
    pub fn start() -> Self {
        Self::with(
            Peers::builder()
                .with_moto()
                .with_secret_service()
                .start()
                .expect("peers start"),
        )
    }

    /// Only a throw-away home: for commands that reach neither AWS nor the keychain.
    pub fn start_without_peers() -> Self {
        Self::with(Peers::builder().start().expect("test home"))
    }

    fn with(peers: Peers) -> Self {
        let home = peers.home();
        let mut env = peers.env();
        let mut path = peers_venv().join("bin").into_os_string();
        path.push(":/usr/local/bin:/usr/bin:/bin");
        env.extend([
            (
                "ROLEHOP_KEYCHAIN_SERVICE".to_owned(),
                home.keychain_service().to_owned(),
            ),
            ("PATH".to_owned(), path.to_string_lossy().into_owned()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
            ("AWS_PAGER".to_owned(), String::new()),
            // A trace would be a bug report; ask for one so a test sees it.
            ("RUST_BACKTRACE".to_owned(), "1".to_owned()),
        ]);
        Self { peers, env }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    /// The same world with one more variable in every child's environment.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    fn command(&self, extra_env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(rolehop_bin());
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        for (k, v) in extra_env {
            command.env(k, v);
        }
        command
    }

    /// `rolehop ARGS` started and left running (standard input closed, output piped),
    /// for a test that signals or kills it.
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        self.command(env)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolehop runs")
    }

    /// `rolehop ARGS` on a pseudo-terminal of its own, which is its controlling
    /// terminal and its standard streams, as in an interactive shell.
    pub fn on_terminal(&self, args: &[&str]) -> OnTerminal {
        OnTerminal::spawn(self.command(&[]).args(args))
    }

    /// `rolehop ARGS` with standard input closed (no terminal, no data).
    pub fn rolehop(&self, args: &[&str]) -> Run {
        self.rolehop_with(args, &[], None)
    }

    /// `rolehop ARGS` with more environment and, optionally, text on standard input.
    pub fn rolehop_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let mut command = self.command(env);
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = command.spawn().expect("rolehop runs");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        Run::from(child.wait_with_output().expect("rolehop finishes"))
    }

    /// The AWS CLI, with this world's environment (so a `credential_process` it runs
    /// reaches the same workspace and keyring).
    pub fn aws(&self, args: &[&str]) -> Run {
        Run::from(aws_cli(args, self.env.clone()).expect("aws runs"))
    }

    /// `aws sts get-caller-identity --profile P`'s ARN, or the failure.
    pub fn caller_arn(&self, profile: &str) -> Result<String, Run> {
        let run = self.aws(&[
            "sts",
            "get-caller-identity",
            "--profile",
            profile,
            "--output",
            "json",
        ]);
        if run.code != Some(0) {
            return Err(run);
        }
        Ok(run.json()["Arn"].as_str().unwrap_or_default().to_owned())
    }

    /// The seed's story, set up through the CLI: IAM user `alice` (MFA) in the staging
    /// account on profile `staging`, role `codebuild` (CodeBuildRole, same account)
    /// chained from her on `codebuild`, and role `production` (ResourceDeployCAR in the
    /// production account) chained from `codebuild`, on `production`.
    pub fn seed_story(&self) -> Story {
        let moto = self.peers.moto();
        let alice = moto.create_user("alice").expect("moto user");
        let mfa_serial = moto.create_mfa_device("alice").expect("moto MFA device");
        let codebuild_arn = moto
            .create_role("CodeBuildRole", &alice.arn)
            .expect("moto role");
        let keys = format!("{}\n{}\n", alice.access_key_id, alice.secret_access_key);
        self.rolehop_with(
            &[
                "session",
                "add",
                "iam-user",
                "--name",
                "alice",
                "--profile",
                "staging",
                "--region",
                "us-east-1",
                "--mfa-serial",
                &mfa_serial,
            ],
            &[],
            Some(&keys),
        )
        .ok();
        self.rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "codebuild",
            "--parent",
            "alice",
            "--role-arn",
            &codebuild_arn,
            "--profile",
            "codebuild",
            "--region",
            "us-east-1",
        ])
        .ok();
        self.rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "production",
            "--parent",
            "codebuild",
            "--role-arn",
            DEPLOY_ROLE,
            "--profile",
            "production",
            "--region",
            "eu-west-1",
        ])
        .ok();
        Story {
            alice,
            mfa_serial,
            codebuild_arn,
        }
    }

    /// Creates a role in moto's default account with `trust` as its trust policy (and no
    /// permissions policy); returns its ARN.
    pub fn create_role_trusting(&self, name: &str, trust: &serde_json::Value) -> String {
        let mut env = self.peers.moto().admin_env();
        env.push(("FIXTURE_ROLE".into(), name.into()));
        env.push(("FIXTURE_TRUST".into(), trust.to_string()));
        let out = rolehop_e2e::python(
            r#"
import os, boto3
iam = boto3.client("iam")
role = iam.create_role(RoleName=os.environ["FIXTURE_ROLE"],
                       AssumeRolePolicyDocument=os.environ["FIXTURE_TRUST"])["Role"]
print(role["Arn"])
"#,
            env,
        )
        .expect("python runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Adds role session `name` (profile `name`) chained from `parent`.
    pub fn add_role(&self, name: &str, parent: &str, role_arn: &str) {
        self.rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            name,
            "--parent",
            parent,
            "--role-arn",
            role_arn,
            "--profile",
            name,
            "--region",
            "us-east-1",
        ])
        .ok();
    }

    /// Adds SSO role session `name` (profile `name`): `role_name` in `account_id`
    /// through integration `sso`.
    pub fn add_sso_role(&self, name: &str, sso: &str, account_id: &str, role_name: &str) {
        self.rolehop(&[
            "session",
            "add",
            "sso-role",
            "--name",
            name,
            "--sso",
            sso,
            "--account-id",
            account_id,
            "--role-name",
            role_name,
            "--profile",
            name,
        ])
        .ok();
    }

    /// Every session's name, sorted (from `session list --json`).
    pub fn session_names(&self) -> Vec<String> {
        let list = self.rolehop(&["session", "list", "--json"]).ok().json();
        let mut names: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Every session's state label, by name (from `session list --json`).
    pub fn state_of(&self, session: &str) -> String {
        let list = self.rolehop(&["session", "list", "--json"]).ok().json();
        list.as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == session))
            .map(|s| s["state"]["state"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no session {session} in {list}"))
    }
}

/// The exact bytes of the AWS files (absent: `None`), to prove a fault changed none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFilesBytes {
    credentials: Option<Vec<u8>>,
    config: Option<Vec<u8>>,
}

impl AwsFilesBytes {
    pub fn of(world: &World) -> Self {
        let home = world.peers.home();
        let read = |p: PathBuf| std::fs::read(p).ok();
        Self {
            credentials: read(home.aws_credentials_file()),
            config: read(home.aws_config_file()),
        }
    }

    /// How many bytes differ between two snapshots (each differing position, plus the
    /// difference in length; a file that appeared or vanished counts whole).
    pub fn bytes_changed(&self, other: &Self) -> usize {
        fn diff(a: &Option<Vec<u8>>, b: &Option<Vec<u8>>) -> usize {
            let (a, b) = (a.as_deref().unwrap_or(&[]), b.as_deref().unwrap_or(&[]));
            let differing = a.iter().zip(b).filter(|(x, y)| x != y).count();
            differing + a.len().abs_diff(b.len())
        }
        diff(&self.credentials, &other.credentials) + diff(&self.config, &other.config)
    }
}

/// Asserts that the AWS files are byte for byte as `before` after `fault`, and prints
/// the fault's figure: the time to the clear failure and the user bytes changed.
#[track_caller]
pub fn files_untouched(
    world: &World,
    before: &AwsFilesBytes,
    fault: &str,
    elapsed: std::time::Duration,
) {
    let after = AwsFilesBytes::of(world);
    let changed = before.bytes_changed(&after);
    assert_eq!(&after, before, "{fault}: the AWS files are byte-identical");
    eprintln!(
        "figure: {fault} in {:.1} ms, {changed} bytes of user files changed",
        elapsed.as_secs_f64() * 1e3
    );
}

/// A user's own AWS files, with comments, a profile and a key of theirs: what every
/// fault must leave byte for byte.
pub fn write_user_aws_files(world: &World) {
    let home = world.peers.home();
    home.write_aws_credentials(
        "# my keys\r\n[personal]\naws_access_key_id = AKIAUSEROWN0000000001\naws_secret_access_key = user-secret\n",
    )
    .unwrap();
    home.write_aws_config(
        "[default]\nregion = eu-central-1\n; keep me\n[profile personal]\noutput = json",
    )
    .unwrap(); // 0600, as `aws configure` makes it: a wider one is tightened with a warning.
    std::fs::set_permissions(
        home.aws_credentials_file(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
}

/// A process on a pseudo-terminal: what it writes is collected by a thread, what the
/// test types goes to the terminal's line discipline (so `\x03` is a real Ctrl-C).
pub struct OnTerminal {
    child: Child,
    master: std::fs::File,
    output: std::sync::mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl OnTerminal {
    fn spawn(command: &mut Command) -> Self {
        use std::os::fd::FromRawFd;
        use std::os::unix::process::CommandExt;
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty writes two descriptors; the other arguments may be null.
        let opened = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned here alone.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                std::fs::File::from_raw_fd(slave),
            )
        };
        command
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("rolehop runs on the terminal");
        // The parent's copies of the slave side go with the command's stdio handles.
        let (tx, output) = std::sync::mpsc::channel();
        let mut reader = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the last process holding the slave side has exited.
            while let Ok(n @ 1..) = std::io::Read::read(&mut reader, &mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            master,
            output,
            seen: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Blocks until the terminal has shown `text`; returns everything shown so far.
    #[track_caller]
    pub fn wait_for(&mut self, text: &str) -> String {
        loop {
            let shown = String::from_utf8_lossy(&self.seen).into_owned();
            if shown.contains(text) {
                return shown;
            }
            match self.output.recv() {
                Ok(chunk) => self.seen.extend(chunk),
                Err(_) => panic!("the terminal closed before showing {text:?}: {shown}"),
            }
        }
    }

    /// Types `bytes` on the terminal's keyboard.
    pub fn type_keys(&mut self, bytes: &[u8]) {
        std::io::Write::write_all(&mut self.master, bytes).expect("typing on the terminal");
    }

    /// Whether the terminal echoes what is typed (a hidden prompt turns it off).
    pub fn echoes(&self) -> bool {
        use std::os::fd::AsRawFd;
        let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: the master is open; on Linux it reports the pair's settings.
        unsafe {
            assert_eq!(
                libc::tcgetattr(self.master.as_raw_fd(), termios.as_mut_ptr()),
                0,
                "tcgetattr: {}",
                std::io::Error::last_os_error()
            );
            termios.assume_init().c_lflag & libc::ECHO != 0
        }
    }

    /// Blocks until the terminal stops echoing: a hidden prompt prints its question
    /// first and turns echo off just after, so this is when it is really asking.
    pub fn wait_until_hidden(&self) {
        while self.echoes() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Waits for the process to exit: its exit code and everything the terminal showed.
    pub fn wait(&mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("rolehop exits");
        // Collect what is left until the reader sees the terminal close.
        while let Ok(chunk) = self.output.recv() {
            self.seen.extend(chunk);
        }
        (
            status.code(),
            String::from_utf8_lossy(&self.seen).into_owned(),
        )
    }
}

/// What [`World::seed_story`] made in moto.
pub struct Story {
    pub alice: IamUser,
    pub mfa_serial: String,
    pub codebuild_arn: String,
}

/// The variables in `stdout` of a command that prints `KEY=value` lines (`env`).
pub fn env_of(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The ARN `GetCallerIdentity` shows for a role session Rolehop assumed.
pub fn assumed(account: &str, role: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session_name}")
}
