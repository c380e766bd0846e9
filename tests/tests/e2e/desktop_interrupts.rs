//! The desktop app killed mid-start (SIGKILL while its MFA dialog waits): the session
//! it left pending reads as it was before the start for every other process, the AWS
//! files are untouched, and the next start works. The real app under WebDriver, the
//! real CLI reading after it.

use std::path::Path;
use std::time::Instant;

use crate::cli::{AwsFilesBytes, World, files_untouched, write_user_aws_files};
use crate::desktop::{Desktop, TestResult, app_binary};

const MFA_DIALOG: &str = "dialog[data-dialog='mfa']";

/// The pid of this test's app: the app binary (WebKit's helpers run other binaries)
/// whose environment names this test's `ROLEHOP_HOME` (other suites run their own apps
/// from the same binary at the same time).
fn app_pid(home: &Path) -> Option<i32> {
    let app = app_binary().canonicalize().ok()?;
    let mut wanted = b"ROLEHOP_HOME=".to_vec();
    wanted.extend_from_slice(home.as_os_str().as_encoded_bytes());
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            let ours = environ
                .split(|b| *b == 0)
                .any(|var| var == wanted.as_slice());
            (exe == app && ours).then_some(pid)
        })
}

/// Whether `pid` still runs (a zombie waiting for its parent does not).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).is_ok_and(
        |stat| {
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.starts_with(" Z"))
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_killed_mid_start_leaves_the_session_as_it_was_and_the_files_untouched()
-> TestResult {
    let world = World::start();
    write_user_aws_files(&world);
    world.seed_story();
    let before = AwsFilesBytes::of(&world);
    let app = Desktop::launch("killed-mid-start", &world.peers, &[]).await?;
    app.click(&Desktop::row("alice", Some("inactive"))).await?;
    app.wait_for(&format!("{MFA_DIALOG} form")).await?;
    assert_eq!(
        world.state_of("alice"),
        "pending",
        "the app's start is in flight and its owner alive"
    );

    let pid = app_pid(&world.peers.home().rolehop_home()).expect("this test's app process");
    // SAFETY: kill(2) on the app this test launched.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    while running(pid) {
        std::thread::yield_now();
    }
    let killed = Instant::now();
    let state = world.state_of("alice");
    let elapsed = killed.elapsed();
    assert_eq!(state, "inactive", "as before the start");
    files_untouched(
        &world,
        &before,
        "desktop app SIGKILLed mid-start -> the CLI reads it inactive",
        elapsed,
    );

    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    assert_eq!(world.state_of("alice"), "active");
    drop(app);
    Ok(())
}
