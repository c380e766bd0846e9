//! One MFA prompt across processes: several Rolehop processes needing one MFA user's
//! session token at once produce one prompt (the others wait on that user's lock file
//! and reuse the token), and a process with no terminal asks through the desktop app's
//! MFA dialog over its authenticated channel, which refuses anything without this
//! launch's secret. Real processes, a real pseudo-terminal, the real app under Xvfb
//! and WebDriver, moto (which takes any six-digit code) and gnome-keyring.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::mpsc::{Receiver, channel};

use crate::cli::World;
use crate::desktop::{self, Desktop, TestResult};
use rolehop_e2e::aws_cli;
use serde_json::{Value, json};

const MFA_DIALOG: &str = "dialog[data-dialog='mfa']";
/// What a `rolehop -v` that waits for another process's prompt logs.
const WAITING: &str = "another Rolehop process is asking for this MFA code";

/// Like `assert!`, but fails the story with an error, so that its screenshot is taken.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}

/// A `rolehop` started with no terminal and its log read line by line as it comes.
struct Background {
    child: Child,
    log: Receiver<String>,
    seen: Vec<String>,
}

impl Background {
    fn spawn(world: &World, args: &[&str]) -> Self {
        let mut child = world.spawn(args, &[]);
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, log) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            log,
            seen: Vec::new(),
        }
    }

    /// Blocks until the log has a line containing `text`.
    #[track_caller]
    fn wait_for_log(&mut self, text: &str) {
        while !self.seen.iter().any(|l| l.contains(text)) {
            match self.log.recv() {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("exited before logging {text:?}: {:#?}", self.seen),
            }
        }
    }

    /// Waits for the exit: the exit code, standard output and the whole log.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout piped")
            .read_to_string(&mut out)
            .unwrap();
        let status = self.child.wait().unwrap();
        self.seen.extend(self.log.iter());
        (status.code(), out, self.seen.join("\n"))
    }
}

/// `credential_process` JSON that carries usable credentials.
#[track_caller]
fn assert_credentials(out: &str, context: &str) -> Value {
    let json: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{context}: {e}: {out}"));
    assert_eq!(json["Version"], 1, "{context}: {json}");
    for field in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(json[field].is_string(), "{context}: no {field} in {json}");
    }
    json
}

/// The story from the issue: a `session start` on a terminal prompts for alice's code;
/// meanwhile two `credential-process` calls (Terraform's, no terminal) need alice's
/// token too. They wait on alice's lock instead of failing or prompting, and once the
/// code is typed all three succeed: one prompt, three successes.
#[test]
fn three_processes_needing_one_mfa_user_prompt_once_and_all_succeed() {
    let world = World::start();
    world.seed_story();

    let mut terminal = world.on_terminal(&["session", "start", "production"]);
    terminal.wait_for("MFA code for alice");
    terminal.wait_until_hidden();
    // The prompt is asked under alice's lock: these two find it held and wait.
    let mut waiting: Vec<Background> = (0..2)
        .map(|_| Background::spawn(&world, &["-v", "credential-process", "codebuild"]))
        .collect();
    for w in &mut waiting {
        w.wait_for_log(WAITING);
    }

    terminal.type_keys(b"123456\r");
    let (code, shown) = terminal.wait();
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(
        shown.matches("MFA code for").count(),
        1,
        "prompts on the terminal: {shown}"
    );
    assert_eq!(world.state_of("production"), "active");

    for (i, w) in waiting.into_iter().enumerate() {
        let (code, out, log) = w.finish();
        assert_eq!(code, Some(0), "credential-process #{i}: {log}");
        assert_credentials(&out, &format!("credential-process #{i}"));
        assert!(
            log.contains("MFA session token from the other process reused"),
            "credential-process #{i} did not reuse the terminal's token: {log}"
        );
    }
}

/// With nobody holding alice's lock and no app to ask through, a `credential-process`
/// fails at once with today's message saying where to enter the code, and leaves no
/// lock behind: the next process prompts as usual.
#[test]
fn with_no_app_and_no_terminal_credential_process_says_where_to_enter_the_code() {
    let world = World::start();
    world.seed_story();
    let run = world.rolehop(&["credential-process", "codebuild"]);
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("rolehop session start codebuild")
            && run.stderr.contains("desktop app"),
        "{}",
        run.stderr
    );
    let mut terminal = world.on_terminal(&["session", "start", "codebuild"]);
    terminal.wait_for("MFA code for alice");
    terminal.wait_until_hidden();
    terminal.type_keys(b"123456\r");
    let (code, shown) = terminal.wait();
    assert_eq!(code, Some(0), "{shown}");
}

/// Ctrl-C ends a process waiting on another process's MFA prompt at once (exit 130,
/// its start interrupted), and the process that is prompting is not disturbed.
#[test]
fn ctrl_c_ends_a_process_waiting_for_another_ones_mfa_prompt() {
    let world = World::start();
    world.seed_story();
    let mut asking = world.on_terminal(&["session", "start", "production"]);
    asking.wait_for("MFA code for alice");
    asking.wait_until_hidden();

    let mut waiting = world.on_terminal(&["-v", "session", "start", "codebuild"]);
    waiting.wait_for(WAITING);
    waiting.type_keys(b"\x03");
    let (code, shown) = waiting.wait();
    assert_eq!(code, Some(130), "{shown}");
    assert!(shown.contains("rolehop: interrupted"), "{shown}");
    assert!(
        !shown.contains("MFA code for"),
        "the waiter prompted: {shown}"
    );

    asking.type_keys(b"123456\r");
    let (code, shown) = asking.wait();
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(world.state_of("production"), "active");
}

/// A prompting process killed outright (SIGKILL: no destructor runs) releases alice's
/// lock with its file descriptor: the waiter goes on at once, finds no token and, with
/// no terminal and no app, fails with the message saying where to enter the code.
#[test]
fn a_killed_prompt_releases_its_lock_to_the_waiters() {
    let world = World::start();
    world.seed_story();
    let mut asking = world.on_terminal(&["session", "start", "production"]);
    asking.wait_for("MFA code for alice");
    asking.wait_until_hidden();
    let mut waiter = Background::spawn(&world, &["-v", "credential-process", "codebuild"]);
    waiter.wait_for_log(WAITING);

    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(asking.pid() as i32, libc::SIGKILL) }, 0);
    let (code, _) = asking.wait();
    assert_eq!(code, None, "killed by a signal");

    let (code, out, log) = waiter.finish();
    assert_ne!(code, Some(0), "{out}");
    assert!(log.contains("rolehop session start codebuild"), "{log}");

    let mut again = world.on_terminal(&["session", "start", "codebuild"]);
    again.wait_for("MFA code for alice");
    again.wait_until_hidden();
    again.type_keys(b"123456\r");
    let (code, shown) = again.wait();
    assert_eq!(code, Some(0), "{shown}");
}

/// The app's runtime directory (where its channel and the MFA locks live).
fn runtime_dir(world: &World) -> PathBuf {
    world.peers.home().rolehop_home().join("run")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Sends `body` on the app's socket as one frame (a 4-byte big-endian length, then
/// JSON) and reads the answer frame; `None` when the app closed without answering.
fn exchange(socket: &Path, body: &Value) -> TestResult<Option<Value>> {
    let mut stream = UnixStream::connect(socket)?;
    let bytes = serde_json::to_vec(body)?;
    stream.write_all(&(bytes.len() as u32).to_be_bytes())?;
    stream.write_all(&bytes)?;
    let mut len = [0u8; 4];
    if stream.read_exact(&mut len).is_err() {
        return Ok(None);
    }
    let mut answer = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut answer)?;
    Ok(Some(serde_json::from_slice(&answer)?))
}

/// alice's request for her own code, as her chain sends it (the app shows only a
/// request its workspace bears out).
fn mfa_request(world: &World, serial: &str) -> Value {
    json!({
        "request_id": "6d4fd2a4-8f4c-4f5e-9a38-0c2b6f4f7a11",
        "session": world.session_id("alice"),
        "session_name": "alice",
        "mfa_serial": serial,
        "for_session": "alice",
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Run as root (the only way to be another user here): loosens the test's own
/// directories and the socket so that uid 65534 can reach it at all, then has that uid
/// send a request carrying the right secret. The server must still refuse it, on the
/// kernel's word about who connected (`SO_PEERCRED`). True if refused. Not being root
/// fails the test (saying so) rather than pass it unchecked.
fn another_user_is_refused(
    world: &World,
    socket: &Path,
    secret: &str,
    request: &Value,
) -> TestResult<bool> {
    assert!(
        is_root(),
        "the uid check needs a client run as another user: run this suite as root (it \
         uses setpriv from util-linux to become uid 65534)"
    );
    let root = world.peers.home().root().to_owned();
    let mut dir = socket.parent().map(Path::to_path_buf);
    while let Some(d) = dir.filter(|d| d.starts_with(&root)) {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o711))?;
        dir = d.parent().map(Path::to_path_buf);
    }
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666))?;
    let script = "import json, socket, struct, sys\n\
                  s = socket.socket(socket.AF_UNIX)\n\
                  s.connect(sys.argv[1])\n\
                  body = sys.stdin.buffer.read()\n\
                  try:\n\
                  \x20   s.sendall(struct.pack('>I', len(body)) + body)\n\
                  \x20   print('answered' if s.recv(4) else 'closed')\n\
                  except (BrokenPipeError, ConnectionResetError):\n\
                  \x20   print('closed')\n";
    let mut client = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
        ])
        .arg(script)
        .arg(socket)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let body = serde_json::to_vec(&json!({ "secret": secret, "request": request }))?;
    client.stdin.take().ok_or("stdin")?.write_all(&body)?;
    let out = client.wait_with_output()?;
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if said.is_empty() {
        return Err(format!(
            "the other user's client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(said == "closed")
}

/// Everything the app logged so far (its daily files in `dir`).
fn app_log(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    all
}

/// The channel's door: the runtime directory is 0700, the socket and the secret file
/// 0600; a request with no secret, with a wrong one, or with one character changed is
/// refused and logged (never the secret), and shows no dialog; so is another uid's
/// request carrying the right secret (when the suite runs as root and can be another
/// user); the same request with the launch's secret from this user does show the
/// dialog (so the refusals were the secret's and the uid's doing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mfa_channel_refuses_a_connection_without_the_secret_or_with_a_wrong_one() -> TestResult
{
    let world = World::start();
    let story = world.seed_story();
    let logs = tempfile::tempdir()?;
    let log_dir = logs.path().to_string_lossy().into_owned();
    let app = Desktop::launch(
        "mfa-channel-door",
        &world.peers,
        &[("ROLEHOP_LOG_DIR", &log_dir)],
    )
    .await?;
    app.run(async |app: &Desktop| {
        let run = runtime_dir(&world);
        let socket = run.join("agent.sock");
        check!(mode(&run) == 0o700, "runtime dir mode {:o}", mode(&run));
        check!(mode(&socket) == 0o600, "socket mode {:o}", mode(&socket));
        let secret = std::fs::read_to_string(run.join("agent.secret"))?;
        check!(mode(&run.join("agent.secret")) == 0o600, "secret file mode");
        check!(
            secret.len() >= 64,
            "a secret of {} characters",
            secret.len()
        );
        let request = mfa_request(&world, &story.mfa_serial);

        let none = exchange(&socket, &json!({ "request": request }))?;
        check!(
            none.is_none(),
            "answered a request with no secret: {none:?}"
        );
        let wrong = exchange(
            &socket,
            &json!({ "secret": "0".repeat(64), "request": request }),
        )?;
        check!(
            wrong == Some(json!({"answer": "refused"})),
            "wrong secret: {wrong:?}"
        );
        let mut near = secret.clone().into_bytes();
        near[10] = if near[10] == b'a' { b'b' } else { b'a' };
        let near = String::from_utf8(near)?;
        let one_off = exchange(&socket, &json!({ "secret": near, "request": request }))?;
        check!(
            one_off == Some(json!({"answer": "refused"})),
            "one character off: {one_off:?}"
        );
        // Finding 5 of issue 23: with the secret, a session or device the workspace
        // does not have together is refused with why, and shows no dialog.
        for (field, value) in [
            ("session", json!("0b8a8a57-8c7e-4c7b-8f0a-5d0e4f7b6f2e")),
            ("mfa_serial", json!("arn:aws:iam::123456789012:mfa/mallory")),
        ] {
            let mut forged = request.clone();
            forged[field] = value;
            let answer = exchange(&socket, &json!({ "secret": secret, "request": forged }))?;
            let said = answer
                .as_ref()
                .and_then(|a| a["message"].as_str())
                .unwrap_or_default();
            check!(
                answer.as_ref().map(|a| a["answer"].clone()) == Some(json!("unavailable"))
                    && said.contains("refused to ask"),
                "a request with another {field}: {answer:?}"
            );
        }
        check!(
            app.all(MFA_DIALOG).await?.is_empty(),
            "a refused request showed the dialog"
        );

        check!(
            another_user_is_refused(&world, &socket, &secret, &request)?,
            "another user's process got an answer"
        );

        // The same request with the launch's secret is asked in the window; Escape
        // answers "cancelled".
        let right = {
            let (socket, request, secret) = (socket.clone(), request.clone(), secret.clone());
            tokio::task::spawn_blocking(move || {
                exchange(&socket, &json!({ "secret": secret, "request": request }))
                    .map_err(|e| e.to_string())
            })
        };
        let shown = app.text(&format!("{MFA_DIALOG} [data-mfa-serial]")).await?;
        check!(shown == story.mfa_serial, "the dialog shows {shown:?}");
        app.press(fantoccini::key::Key::Escape).await?;
        app.wait_gone(MFA_DIALOG).await?;
        let answer = right.await??;
        check!(
            answer == Some(json!({"answer": "cancelled"})),
            "with the secret: {answer:?}"
        );

        let log = app_log(logs.path());
        check!(
            log.matches("refused an MFA request").count() >= 3,
            "the refusals are not in the app's log: {log}"
        );
        check!(
            !log.contains(secret.trim()),
            "the secret is in the app's log"
        );
        // another_user_is_refused ran as root (it fails otherwise).
        check!(
            log.contains("refused an MFA request from another user's process"),
            "the other uid's refusal is not in the log: {log}"
        );
        Ok(())
    })
    .await
}

/// With the desktop app running, a `credential-process` with no terminal needs alice's
/// code: the app's MFA dialog asks for it, the code typed there reaches the process,
/// which answers with working credentials; the next call reuses them and asks nothing.
/// Quitting the app removes its socket and secret file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_process_with_no_terminal_gets_its_code_through_the_app_dialog() -> TestResult
{
    let world = World::start();
    let story = world.seed_story();
    let app = Desktop::launch("mfa-channel", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        let asking = Background::spawn(&world, &["-v", "credential-process", "codebuild"]);
        let shown = app.text(&format!("{MFA_DIALOG} [data-mfa-serial]")).await?;
        check!(shown == story.mfa_serial, "the dialog shows {shown:?}");
        app.fill_and_enter(&format!("{MFA_DIALOG} input[name='mfa_code']"), "123456")
            .await?;
        app.wait_gone(MFA_DIALOG).await?;
        let (code, out, log) = tokio::task::spawn_blocking(move || asking.finish()).await?;
        check!(code == Some(0), "credential-process failed: {log}");
        check!(log.contains("through the Rolehop desktop app"), "{log}");
        let creds = assert_credentials(&out, "through the dialog");

        // The credentials work: the AWS CLI acts as CodeBuildRole with them.
        let mut env = world.env();
        env.extend(
            [
                ("AWS_ACCESS_KEY_ID", &creds["AccessKeyId"]),
                ("AWS_SECRET_ACCESS_KEY", &creds["SecretAccessKey"]),
                ("AWS_SESSION_TOKEN", &creds["SessionToken"]),
            ]
            .map(|(k, v)| (k.to_owned(), v.as_str().unwrap_or_default().to_owned())),
        );
        env.push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
        let who = aws_cli(["sts", "get-caller-identity", "--output", "json"], env)?;
        let arn = String::from_utf8_lossy(&who.stdout).into_owned();
        check!(
            arn.contains("assumed-role/CodeBuildRole/"),
            "acted as {arn}"
        );

        let again = world.rolehop(&["credential-process", "codebuild"]);
        check!(again.code == Some(0), "second call: {}", again.stderr);
        check!(
            app.all(MFA_DIALOG).await?.is_empty(),
            "the second call asked again"
        );

        // Quitting closes the channel: no socket and no secret are left behind.
        let tray = desktop::Tray::find(&world.peers).await?;
        tray.click("Quit Rolehop")?;
        while tray.app_running()? {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let run = runtime_dir(&world);
        check!(
            !run.join("agent.sock").exists(),
            "the socket outlived the app"
        );
        check!(
            !run.join("agent.secret").exists(),
            "the secret outlived the app"
        );
        Ok(())
    })
    .await
}

/// Blocks until the app's log has a line containing `text`.
async fn wait_for_app_log(dir: &Path, text: &str) {
    while !app_log(dir).contains(text) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The issue's story with all three kinds of process: a `session start` on a terminal
/// prompts for alice's code; the desktop app starting `codebuild` and a
/// `credential-process` both need alice's token meanwhile. Both wait (no dialog in the
/// window, no failure), and the one code typed on the terminal serves all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_a_terminal_and_credential_process_share_one_prompt() -> TestResult {
    let world = World::start();
    world.seed_story();
    let logs = tempfile::tempdir()?;
    let log_dir = logs.path().to_string_lossy().into_owned();
    let app = Desktop::launch("mfa-shared", &world.peers, &[("ROLEHOP_LOG_DIR", &log_dir)]).await?;
    app.run(async |app: &Desktop| {
        let mut asking = world.on_terminal(&["session", "start", "production"]);
        tokio::task::block_in_place(|| {
            asking.wait_for("MFA code for alice");
            asking.wait_until_hidden();
        });
        app.click(&Desktop::row("codebuild", Some("inactive")))
            .await?;
        wait_for_app_log(logs.path(), WAITING).await;
        let mut waiter = Background::spawn(&world, &["-v", "credential-process", "codebuild"]);
        tokio::task::block_in_place(|| waiter.wait_for_log(WAITING));
        check!(
            app.all(MFA_DIALOG).await?.is_empty(),
            "the window asked too"
        );

        asking.type_keys(b"123456\r");
        let (code, shown) = tokio::task::block_in_place(|| asking.wait());
        check!(code == Some(0), "the terminal's start: {shown}");
        check!(shown.matches("MFA code for").count() == 1, "{shown}");
        app.wait_for(&Desktop::row("codebuild", Some("active")))
            .await?;
        let (code, out, log) = tokio::task::spawn_blocking(move || waiter.finish()).await?;
        check!(code == Some(0), "credential-process: {log}");
        assert_credentials(&out, "credential-process");
        check!(
            app.all(MFA_DIALOG).await?.is_empty(),
            "the window asked afterwards"
        );
        Ok(())
    })
    .await
}

/// `exec --server` with no terminal and no MFA token: the app's dialog asks for alice's
/// code, and the child (the AWS CLI, reading the container endpoint) acts as the role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_server_with_no_terminal_gets_its_code_through_the_app_dialog() -> TestResult {
    let world = World::start();
    let story = world.seed_story();
    let app = Desktop::launch("mfa-channel-exec", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        let aws = rolehop_e2e::venv_bin("aws");
        let asking = Background::spawn(
            &world,
            &[
                "exec",
                "--server",
                "codebuild",
                "--",
                aws.to_str().unwrap_or_default(),
                "sts",
                "get-caller-identity",
                "--output",
                "json",
            ],
        );
        let shown = app.text(&format!("{MFA_DIALOG} [data-mfa-serial]")).await?;
        check!(shown == story.mfa_serial, "the dialog shows {shown:?}");
        app.fill_and_enter(&format!("{MFA_DIALOG} input[name='mfa_code']"), "123456")
            .await?;
        app.wait_gone(MFA_DIALOG).await?;
        let (code, out, log) = tokio::task::spawn_blocking(move || asking.finish()).await?;
        check!(code == Some(0), "exec --server failed: {log}");
        check!(
            out.contains("assumed-role/CodeBuildRole/"),
            "the child acted as {out}"
        );
        Ok(())
    })
    .await
}
