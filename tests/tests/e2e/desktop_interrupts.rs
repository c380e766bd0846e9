//! The desktop app killed mid-start (SIGKILL while its MFA dialog waits): the session
//! it left pending reads as it was before the start for every other process, the AWS
//! files are untouched, and the next start works. The real app under WebDriver, the
//! real CLI reading after it.

use std::time::Instant;

use crate::cli::{AwsFilesBytes, World, files_untouched, write_user_aws_files};
use crate::desktop::{Desktop, TestResult, app_pid, running};

const MFA_DIALOG: &str = "dialog[data-dialog='mfa']";

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
