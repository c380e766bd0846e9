//! Keychain trouble: the Secret Service locked mid-run, or gone (its daemon killed).
//! A start fails with a clear message and exit code 8, the session's row says why, no
//! session is left pending, the AWS files are untouched, and the next start after the
//! keychain is back works. Real gnome-keyring on a private bus, real moto.

use std::time::Instant;

use crate::cli::{AwsFilesBytes, World, files_untouched, write_user_aws_files};
use rolehop_core::keychain::{Keychain, KeychainError};
use rolehop_e2e::Peers;

/// An IAM user `solo` (no MFA) on profile `solo`, its keys in the keychain.
fn world_with_user() -> World {
    let world = World::start();
    write_user_aws_files(&world);
    world.add_iam_user("solo", "solo");
    world
}

/// The failed session's reason as the window's row shows it: `code` and `message`.
fn failure_of(world: &World, name: &str) -> serde_json::Value {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let session = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list:#}"))
        .clone();
    assert_eq!(session["state"]["state"], "failed", "{session:#}");
    session["state"].clone()
}

#[test]
fn a_locked_keychain_fails_the_start_saying_to_unlock_it_and_the_next_start_works() {
    let mut world = world_with_user();
    let before = AwsFilesBytes::of(&world);
    world
        .peers
        .secret_service()
        .lock()
        .expect("lock the keyring");

    let asked = Instant::now();
    let run = world.rolehop(&["session", "start", "solo"]).fails_with(8);
    let elapsed = asked.elapsed();
    assert!(
        run.stderr
            .contains("the keychain is locked: unlock it and try again"),
        "{run:#?}"
    );
    let failed = failure_of(&world, "solo");
    assert_eq!(failed["code"], serde_json::json!({"type": "KeychainError"}));
    assert!(
        failed["message"].as_str().unwrap().contains("locked"),
        "{failed:#}"
    );
    files_untouched(&world, &before, "keychain locked -> exit 8", elapsed);

    world
        .peers
        .secret_service_mut()
        .unlock()
        .expect("unlock the keyring");
    world.rolehop(&["session", "start", "solo"]).ok();
    assert_eq!(world.state_of("solo"), "active");
}

#[test]
fn a_keychain_daemon_gone_fails_clearly_and_rolehop_recovers_when_it_returns() {
    let mut world = world_with_user();
    let before = AwsFilesBytes::of(&world);
    world.peers.secret_service_mut().stop_daemon();

    let asked = Instant::now();
    let run = world.rolehop(&["session", "start", "solo"]).fails_with(8);
    let elapsed = asked.elapsed();
    assert!(run.stderr.contains("Secret Service"), "{run:#?}");
    assert!(
        run.stderr.contains("gnome-keyring"),
        "says what to run: {run:#?}"
    );
    let failed = failure_of(&world, "solo");
    assert_eq!(failed["code"], serde_json::json!({"type": "KeychainError"}));
    files_untouched(&world, &before, "keychain daemon gone -> exit 8", elapsed);

    world
        .peers
        .secret_service_mut()
        .start_daemon()
        .expect("gnome-keyring back");
    world.rolehop(&["session", "start", "solo"]).ok();
    assert_eq!(world.state_of("solo"), "active");
}

/// The desktop app keeps one keychain handle for its whole life: it must find the
/// Secret Service again when the daemon comes back, without a restart of the app.
#[test]
fn a_long_running_process_finds_the_keychain_again_after_its_daemon_restarts() {
    let mut peers = Peers::builder()
        .with_secret_service()
        .start()
        .expect("keyring");
    // SAFETY: nextest runs each test in its own process; no thread has started yet.
    unsafe { peers.secret_service().export_to_this_process() };
    let keychain = Keychain::new(peers.home().keychain_service());
    keychain.set("probe", "one").expect("stored");

    peers.secret_service_mut().stop_daemon();
    let err = keychain.get("probe").unwrap_err();
    assert!(matches!(err, KeychainError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("try again"), "{err}");

    peers
        .secret_service_mut()
        .start_daemon()
        .expect("gnome-keyring back");
    assert_eq!(
        keychain
            .get("probe")
            .expect("found again")
            .as_deref()
            .map(String::as_str),
        Some("one")
    );
}
