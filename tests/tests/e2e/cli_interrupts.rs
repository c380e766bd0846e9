//! Interruptions: a start ended by Ctrl-C, SIGTERM or SIGKILL leaves no session pending,
//! no byte of the AWS files changed, and a next start that works (reusing an MFA token
//! obtained before the interruption). Real processes, real signals, a real
//! pseudo-terminal, moto and gnome-keyring; STS made slow by a loopback listener that
//! accepts and never answers.

use std::net::TcpListener;
use std::time::Instant;

use crate::cli::{AwsFilesBytes, World, files_untouched, write_user_aws_files};

/// An "STS endpoint" that accepts connections and never answers: a start calling it is
/// stuck mid-call for as long as the test likes.
struct SilentSts {
    listener: TcpListener,
    held: Vec<std::net::TcpStream>,
}

impl SilentSts {
    fn bind() -> Self {
        Self {
            listener: TcpListener::bind("127.0.0.1:0").expect("loopback listener"),
            held: Vec::new(),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }

    /// Blocks until a client has connected (the STS call is in flight).
    fn wait_for_call(&mut self) {
        let (stream, _) = self.listener.accept().expect("a connection");
        self.held.push(stream);
    }
}

/// No session of the workspace is pending (from `session list --json`).
#[track_caller]
fn assert_none_pending(world: &World) {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    for s in list.as_array().unwrap() {
        assert_ne!(s["state"]["state"], "pending", "{list:#}");
    }
}

fn failure_code_of(world: &World, name: &str) -> serde_json::Value {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .map(|s| s["state"]["code"].clone())
        .unwrap_or_else(|| panic!("no {name} in {list:#}"))
}

/// The seed's story, with alice's MFA session token obtained (then the session
/// stopped): a start of `codebuild` needs no code, only STS's AssumeRole.
fn story_with_cached_token() -> World {
    let world = World::start();
    write_user_aws_files(&world);
    world.seed_story();
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    world.rolehop(&["session", "stop", "alice"]).ok();
    world
}

#[test]
fn ctrl_c_at_the_mfa_prompt_fails_the_start_as_interrupted_and_restores_the_terminal() {
    let world = World::start();
    write_user_aws_files(&world);
    world.seed_story();
    let before = AwsFilesBytes::of(&world);

    let mut terminal = world.on_terminal(&["session", "start", "production"]);
    terminal.wait_for("MFA code for alice");
    terminal.wait_until_hidden();
    let pressed = Instant::now();
    terminal.type_keys(b"\x03");
    let (code, shown) = terminal.wait();
    let elapsed = pressed.elapsed();

    assert_eq!(code, Some(130), "{shown}");
    assert!(shown.contains("rolehop: interrupted"), "{shown}");
    assert!(shown.contains("'production' is failed"), "{shown}");
    assert!(!shown.contains("panicked"), "{shown}");
    assert!(terminal.echoes(), "Ctrl-C left the terminal without echo");
    assert_none_pending(&world);
    assert_eq!(
        failure_code_of(&world, "production"),
        serde_json::json!({"type": "Interrupted"})
    );
    files_untouched(
        &world,
        &before,
        "Ctrl-C at the MFA prompt -> exit 130",
        elapsed,
    );

    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    assert_eq!(world.state_of("production"), "active");
}

#[test]
fn sigkill_mid_sts_call_reads_as_before_and_the_next_start_reuses_the_mfa_token() {
    let world = story_with_cached_token();
    let before = AwsFilesBytes::of(&world);
    let mut sts = SilentSts::bind();
    let endpoint = sts.endpoint();

    let mut child = world.spawn(
        &["session", "start", "codebuild"],
        &[("AWS_ENDPOINT_URL_STS", &endpoint)],
    );
    sts.wait_for_call();
    child.kill().expect("SIGKILL");
    child.wait().unwrap();

    let killed = Instant::now();
    assert_none_pending(&world);
    let elapsed = killed.elapsed();
    assert_eq!(
        world.state_of("codebuild"),
        "inactive",
        "as before the start"
    );
    files_untouched(
        &world,
        &before,
        "SIGKILL mid-STS call -> next `session list` shows it inactive",
        elapsed,
    );

    // No code given and no terminal: this start succeeds only if alice's token is reused.
    world.rolehop(&["session", "start", "codebuild"]).ok();
    assert_eq!(world.state_of("codebuild"), "active");
}

#[test]
fn sigterm_mid_sts_call_fails_the_start_as_interrupted_before_exiting() {
    let world = story_with_cached_token();
    let before = AwsFilesBytes::of(&world);
    let mut sts = SilentSts::bind();
    let endpoint = sts.endpoint();

    let child = world.spawn(
        &["session", "start", "codebuild"],
        &[("AWS_ENDPOINT_URL_STS", &endpoint)],
    );
    sts.wait_for_call();
    let signalled = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    let elapsed = signalled.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);

    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("rolehop: terminated"), "{stderr}");
    assert!(stderr.contains("'codebuild' is failed"), "{stderr}");
    assert_none_pending(&world);
    assert_eq!(
        failure_code_of(&world, "codebuild"),
        serde_json::json!({"type": "Interrupted"})
    );
    files_untouched(&world, &before, "SIGTERM mid-STS call -> exit 143", elapsed);

    world.rolehop(&["session", "start", "codebuild"]).ok();
    assert_eq!(world.state_of("codebuild"), "active");
}

#[test]
fn ctrl_c_at_the_mfa_prompt_of_exec_exits_130_without_running_the_command() {
    let world = World::start();
    world.seed_story();
    let marker = world.peers.home().root().join("ran");
    let touch = format!("touch {}", marker.display());

    let mut terminal = world.on_terminal(&["exec", "production", "--", "sh", "-c", &touch]);
    terminal.wait_for("MFA code for alice");
    terminal.wait_until_hidden();
    terminal.type_keys(b"\x03");
    let (code, shown) = terminal.wait();

    assert_eq!(code, Some(130), "{shown}");
    assert!(shown.contains("rolehop: interrupted"), "{shown}");
    assert!(terminal.echoes(), "Ctrl-C left the terminal without echo");
    assert!(!marker.exists(), "the command never ran");
    assert_none_pending(&world);
}
