//! The kernel keyring copy of active sessions' credentials (`kernel_cache.rs`), against
//! the real kernel keyring and a real gnome-keyring: what is kept (only an active
//! session's temporary credentials, possessor/user permissions, a timeout at their
//! expiry), that `credential-process` answers from it without the Secret Service, and
//! that every path that ends or replaces a session's credentials drops it: stop,
//! rotation, removal, new access keys, the profile taken by another session, and a
//! keychain wiped behind Rolehop's back (seen by the next rotation, which fails).
//! Entries are read back from outside with `keyctl` (Debian: keyutils), as a user would.
//!
//! Every test's keys are under its own workspace (a hash of its Rolehop home in the
//! description), so the suites running in parallel in one user keyring never meet.

use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rolehop_core::Engine;
use rolehop_core::mfa::MfaError;
use rolehop_core::testing::KernelCache;

use crate::cli::World;
use crate::engine::CountingPrompt;

/// `keyctl ARGS`: standard output when it succeeded, `None` when it said no.
fn keyctl(args: &[&str]) -> Option<String> {
    let out = Command::new("keyctl")
        .args(args)
        .output()
        .expect("keyctl runs (Debian: apt-get install keyutils)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A key as `keyctl` and `/proc/keys` show it.
#[derive(Debug)]
struct KernelKey {
    /// `keyctl rdescribe`: `type;uid;gid;perm;description`.
    described: String,
    /// The timeout column of `/proc/keys` (`59m`, `11h`, ...).
    timeout: String,
    payload: serde_json::Value,
}

/// The description Rolehop gives `name`'s key in this world's workspace.
fn description(world: &World, name: &str) -> String {
    let home = world.peers.home();
    KernelCache::new(home.keychain_service(), &home.rolehop_home())
        .description(world.session_id(name).parse().unwrap())
        .expect("the kernel cache is on")
}

/// Every key of this world's workspace in the user keyring, read from outside.
fn workspace_keys(world: &World) -> Vec<KernelKey> {
    let production = description(world, "alice");
    // `rolehop:SERVICE:WORKSPACE:` then the session id.
    let prefix = &production[..production.len() - uuid::Uuid::nil().to_string().len()];
    let ids = keyctl(&["rlist", "@u"]).unwrap_or_default();
    ids.split_whitespace()
        .filter_map(|id| {
            let described = keyctl(&["rdescribe", id])?;
            let ours = described
                .splitn(5, ';')
                .nth(4)
                .is_some_and(|d| d.starts_with(prefix));
            ours.then(|| read_key(id, described))
        })
        .collect()
}

fn read_key(id: &str, described: String) -> KernelKey {
    let hex = format!("{:08x}", id.parse::<u32>().unwrap());
    let proc_keys = std::fs::read_to_string("/proc/keys").unwrap();
    let line = proc_keys
        .lines()
        .find(|l| l.starts_with(&hex))
        .unwrap_or_else(|| panic!("key {hex} not in /proc/keys"));
    let timeout = line.split_whitespace().nth(3).unwrap().to_owned();
    let payload = keyctl(&["pipe", id]).expect("the possessor reads its key");
    KernelKey {
        described,
        timeout,
        payload: serde_json::from_str(&payload).expect("credentials JSON"),
    }
}

/// `name`'s key in the user keyring, if there is one.
fn kernel_key(world: &World, name: &str) -> Option<KernelKey> {
    let description = description(world, name);
    let id = keyctl(&["search", "@u", "user", &description])?;
    let described = keyctl(&["rdescribe", &id])?;
    Some(read_key(&id, described))
}

fn seeded_and_started(session: &str) -> World {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", session, "--mfa-code", "123456"])
        .ok();
    world
}

/// What `/proc/keys` shows for `seconds` left (the kernel's `proc_keys_show`).
fn proc_timeout(seconds: i64) -> (i64, char) {
    match seconds {
        s if s >= 7 * 86_400 => (s / (7 * 86_400), 'w'),
        s if s >= 86_400 => (s / 86_400, 'd'),
        s if s >= 3600 => (s / 3600, 'h'),
        s if s >= 60 => (s / 60, 'm'),
        s => (s, 's'),
    }
}

#[test]
fn a_started_session_is_kept_in_the_kernel_keyring_for_its_owner_until_its_expiry() {
    let world = seeded_and_started("production");
    let answer = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    let key = kernel_key(&world, "production").expect("production's kernel copy");

    // A `user` key of this uid, read/write/search/setattr for its possessor, visible
    // to the user, nothing for group or others.
    let fields: Vec<&str> = key.described.split(';').collect();
    assert_eq!(fields[0], "user", "{key:?}");
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() }.to_string();
    assert_eq!(fields[1], uid, "{key:?}");
    assert_eq!(fields[3], "2f010000", "{key:?}");

    // It holds exactly the answer's credentials...
    assert_eq!(key.payload["access_key_id"], answer["AccessKeyId"]);
    assert_eq!(key.payload["secret_access_key"], answer["SecretAccessKey"]);
    assert_eq!(key.payload["session_token"], answer["SessionToken"]);
    // ...and the kernel drops it when they expire.
    let expiration: DateTime<Utc> = answer["Expiration"].as_str().unwrap().parse().unwrap();
    let left = (expiration - Utc::now()).num_seconds();
    let (n, unit) = proc_timeout(left);
    let shown = format!("{n}{unit}");
    let or_just_less = format!("{}{unit}", n - 1);
    assert!(
        key.timeout == shown || key.timeout == or_just_less,
        "timeout {} for {left} s left",
        key.timeout
    );

    // Only the active session is kept: not the hops above it (whose tokens the
    // keychain keeps), and never the IAM user's long-lived keys.
    assert!(kernel_key(&world, "alice").is_none());
    assert!(kernel_key(&world, "codebuild").is_none());
    let keys = workspace_keys(&world);
    assert_eq!(keys.len(), 1, "{keys:?}");
}

#[test]
fn the_kernel_copy_never_holds_an_iam_users_long_lived_keys() {
    let world = World::start();
    let story = world.seed_story();
    // An IAM user started by itself is active with its MFA session's credentials.
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let keys = workspace_keys(&world);
    assert_eq!(keys.len(), 2, "alice and production: {keys:?}");
    for key in &keys {
        let text = key.payload.to_string();
        assert!(!text.contains(&story.alice.secret_access_key), "{key:?}");
        assert_ne!(key.payload["access_key_id"], story.alice.access_key_id);
        assert!(key.payload["session_token"].is_string(), "{key:?}");
        assert!(key.payload["expiration"].is_string(), "{key:?}");
    }
}

#[test]
fn credential_process_answers_from_the_kernel_copy_with_the_secret_service_gone() {
    let mut world = seeded_and_started("production");
    let before = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    world.peers.secret_service_mut().stop_daemon();
    let answer = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    assert_eq!(answer, before);
    // Turned off, it goes to the keychain, which is gone.
    world
        .rolehop_with(
            &["credential-process", "production"],
            &[("ROLEHOP_KERNEL_CACHE", "0")],
            None,
        )
        .fails_with(8);
}

#[test]
fn stop_drops_the_kernel_copy_and_credential_process_no_longer_answers_from_it() {
    let mut world = seeded_and_started("production");
    assert!(kernel_key(&world, "production").is_some());
    world.rolehop(&["session", "stop", "production"]).ok();
    assert!(kernel_key(&world, "production").is_none());
    // A stopped session is answered by the keychain only, and not copied back.
    world.rolehop(&["credential-process", "production"]).ok();
    assert!(kernel_key(&world, "production").is_none());
    world.peers.secret_service_mut().stop_daemon();
    world
        .rolehop(&["credential-process", "production"])
        .fails_with(8);
}

#[test]
fn removing_a_session_drops_its_kernel_copy() {
    let world = seeded_and_started("production");
    let description = description(&world, "production");
    world.rolehop(&["session", "remove", "production"]).ok();
    assert!(keyctl(&["search", "@u", "user", &description]).is_none());
    assert!(workspace_keys(&world).is_empty());
}

#[test]
fn new_access_keys_drop_the_users_kernel_copy() {
    let world = seeded_and_started("alice");
    assert!(kernel_key(&world, "alice").is_some());
    let rotated = world.peers.moto().create_user("alice-rotated").unwrap();
    let keys = format!("{}\n{}\n", rotated.access_key_id, rotated.secret_access_key);
    world
        .rolehop_with(
            &["session", "edit", "iam-user", "alice", "--new-keys"],
            &[],
            Some(&keys),
        )
        .ok();
    assert!(kernel_key(&world, "alice").is_none());
}

#[test]
fn a_session_taking_over_the_profile_drops_the_previous_holders_copy() {
    let world = seeded_and_started("production");
    world
        .rolehop(&[
            "session",
            "edit",
            "role",
            "codebuild",
            "--profile",
            "production",
        ])
        .ok();
    world.rolehop(&["session", "start", "codebuild"]).ok();
    assert_eq!(world.state_of("production"), "inactive");
    assert!(kernel_key(&world, "production").is_none());
    assert!(kernel_key(&world, "codebuild").is_some());
}

/// A rotation in this process (the desktop app's scheduler calls the same method), on
/// the world's workspace and keychain.
fn rotate(world: &World, session: &str) -> Result<(), String> {
    let config = world
        .peers
        .home()
        .engine_config(Some(world.peers.moto().endpoint()), Duration::from_secs(5));
    // An MFA prompt no test expects: a rotation must never ask.
    let never = CountingPrompt::failing(MfaError::Unavailable("not asked in a rotation".into()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let engine = Engine::builder(config, never)
            .open()
            .await
            .map_err(|e| e.to_string())?;
        let rotated = engine.rotate(session).await.map_err(|e| e.to_string());
        engine.flush().await.map_err(|e| e.to_string())?;
        rotated.map(|_| ())
    })
}

/// Points this process at the world's keyring (before any thread exists: nextest runs
/// each test in its own process).
fn export_keyring(world: &World) {
    // SAFETY: first thing in the test, no other thread yet.
    unsafe { world.peers.secret_service().export_to_this_process() };
}

#[test]
fn rotation_replaces_the_kernel_copy_with_the_new_keys() {
    let world = seeded_and_started("production");
    export_keyring(&world);
    let before = kernel_key(&world, "production").unwrap().payload;
    rotate(&world, "production").expect("rotation");
    let after = kernel_key(&world, "production").unwrap().payload;
    assert_ne!(after["access_key_id"], before["access_key_id"]);
    let answer = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    assert_eq!(answer["AccessKeyId"], after["access_key_id"]);
    assert_eq!(workspace_keys(&world).len(), 1);
}

#[test]
fn a_keychain_wiped_behind_rolehops_back_fails_the_next_rotation_which_drops_the_copy() {
    let mut world = seeded_and_started("production");
    export_keyring(&world);
    let service = world.peers.home().keychain_service().to_owned();
    for name in ["alice", "codebuild", "production"] {
        let id = world.session_id(name);
        for account in [
            format!("access-keys:{id}"),
            format!("cached-credentials:{id}"),
        ] {
            let keyring = world.peers.secret_service();
            if keyring.lookup(&service, &account).unwrap().is_some() {
                keyring.clear(&service, &account).unwrap();
            }
        }
    }
    assert!(
        world
            .peers
            .secret_service()
            .search_all(&service)
            .unwrap()
            .trim()
            .is_empty(),
        "wiped"
    );
    let failed = rotate(&world, "production").expect_err("nothing left to rotate with");
    assert!(failed.contains("access keys"), "{failed}");
    assert!(kernel_key(&world, "production").is_none());
    world.peers.secret_service_mut().stop_daemon();
    world
        .rolehop(&["credential-process", "production"])
        .fails_with(8);
}

/// Issue 23, finding 4: the copy is bound to the workspace's record of that very start,
/// not to the expiry alone. A copy holding other credentials with the same expiry (what a
/// race with another process's start could leave, or a process of the same user could
/// write: the user keyring separates nothing between them) is never answered.
#[test]
fn a_kernel_copy_of_other_credentials_with_the_same_expiry_is_never_answered() {
    let mut world = seeded_and_started("production");
    let real = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    let key = kernel_key(&world, "production").expect("a kernel copy");
    let mut forged = key.payload.clone();
    forged["access_key_id"] = "ASIAFORGEDFORGED0001".into();
    forged["secret_access_key"] = "forged-secret".into();
    let id = keyctl(&["search", "@u", "user", &description(&world, "production")]).unwrap();
    keyctl(&["update", &id, &forged.to_string()]).expect("the owner rewrites its key");

    let answer = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    assert_eq!(answer["AccessKeyId"], real["AccessKeyId"], "{answer}");
    assert_ne!(answer["AccessKeyId"], "ASIAFORGEDFORGED0001");
    // With the keychain gone, the forged copy still is not taken.
    world.peers.secret_service_mut().stop_daemon();
    keyctl(&["update", &id, &forged.to_string()]).expect("rewritten again");
    world
        .rolehop(&["credential-process", "production"])
        .fails_with(8);
}

/// Issue 23, finding 4: a setting keeps IAM users' MFA sessions (12–36 h session tokens)
/// out of the kernel keyring; roles' credentials are still copied, and turning it off
/// drops a user's copy already there.
#[test]
fn mfa_sessions_stay_out_of_the_kernel_keyring_when_the_setting_says_so() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    assert!(kernel_key(&world, "alice").is_some(), "copied by default");
    world
        .rolehop(&["settings", "set", "mfa-sessions-in-kernel-keyring", "off"])
        .ok();
    assert!(
        kernel_key(&world, "alice").is_none(),
        "the copy outlived the setting"
    );
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    world.rolehop(&["credential-process", "alice"]).ok();
    assert!(
        kernel_key(&world, "alice").is_none(),
        "copied back on a read"
    );
    assert!(
        kernel_key(&world, "production").is_some(),
        "roles are still copied"
    );
    world
        .rolehop(&["settings", "set", "mfa-sessions-in-kernel-keyring", "maybe"])
        .fails_with(3);
}
