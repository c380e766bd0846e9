//! The engine against real peers: moto's STS through the real aws-sdk-sts, and a
//! private gnome-keyring through the real keyring stack.
//!
//! Each test is its own process under cargo-nextest: it points this process's session
//! bus at its private keyring before any thread starts, then builds its own runtime
//! ([`SeededEngine`] does both, in that order, and opens the engine with the seed's
//! story in it).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rolehop_core::Problem as _;
use rolehop_core::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use rolehop_core::model::{FailureCode, SessionState};
use rolehop_core::{
    AccessKeys, Engine, EngineError, EngineEvent, NewIamUser, NewRole, SessionChanges, StartOptions,
};
use rolehop_e2e::Peers;
use zeroize::Zeroizing;

use crate::engine::{self, CountingPrompt, PRODUCTION, STAGING, SeededEngine, seed};

/// A prompt nobody ever answers.
struct SilentPrompt;

impl MfaPrompt for SilentPrompt {
    fn ask(&self, _: MfaRequest) -> MfaFuture {
        Box::pin(std::future::pending())
    }
}

/// An IAM user whose key moto (with auth on) does not know.
async fn add_unknown_user(engine: &Engine, name: &str, access_key_id: &str) {
    engine
        .add_iam_user(
            NewIamUser {
                name: name.into(),
                profile: name.into(),
                ..Default::default()
            },
            AccessKeys {
                access_key_id: access_key_id.into(),
                secret_access_key: Zeroizing::new("not-a-real-secret-key".into()),
            },
        )
        .await
        .unwrap();
}

fn state_of(engine_sessions: &[rolehop_core::SessionView], name: &str) -> SessionState {
    engine_sessions
        .iter()
        .find(|s| s.session.name == name)
        .unwrap_or_else(|| panic!("no session {name}"))
        .state
        .clone()
}

#[test]
fn three_hop_chain_acts_as_the_leaf_role_and_asks_mfa_once() {
    SeededEngine::run(async |seeded| {
        let SeededEngine { engine, prompt, .. } = seeded;
        let mut events = engine.subscribe();

        let view = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        assert!(
            matches!(view.state, SessionState::Active { .. }),
            "{:?}",
            view.state
        );
        assert_eq!(prompt.count(), 1, "one MFA prompt per chain start");
        assert_eq!(view.chain, ["alice", "codebuild", "deploy"]);

        // The leaf's credentials act as the production role in moto.
        let (_, creds) = engine.credentials("deploy", None, false).await.unwrap();
        let arn = rolehop_core::testing::resolver(&engine)
            .sts()
            .caller_arn(&creds, None)
            .await
            .unwrap();
        assert_eq!(
            arn,
            format!("arn:aws:sts::{PRODUCTION}:assumed-role/ResourceDeployCAR/deployer")
        );

        // The state changes were published, in order.
        let mut states = Vec::new();
        while let Ok(e) = events.try_recv() {
            if let EngineEvent::SessionState { name, state, .. } = e
                && name == "deploy"
            {
                states.push(state.label());
            }
        }
        assert_eq!(states, ["pending", "active"]);

        // Stop: inactive, and an event says so.
        let view = engine.stop("deploy").await.unwrap();
        assert_eq!(view.state, SessionState::Inactive);
        assert!(matches!(
            events.recv().await.unwrap(),
            EngineEvent::SessionState {
                state: SessionState::Inactive,
                ..
            }
        ));
    });
}

#[test]
fn rotation_within_the_tokens_life_asks_no_mfa() {
    SeededEngine::run(async |seeded| {
        let SeededEngine {
            peers,
            engine,
            prompt,
            ..
        } = seeded;
        let started = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        let (_, first) = engine.credentials("deploy", None, false).await.unwrap();
        assert_eq!(prompt.count(), 1);

        let rotated = engine.rotate("deploy").await.unwrap();
        assert!(matches!(rotated.state, SessionState::Active { .. }));
        let (_, second) = engine.credentials("deploy", None, false).await.unwrap();
        assert_ne!(
            first.access_key_id, second.access_key_id,
            "rotation fetched new credentials"
        );
        assert_eq!(
            prompt.count(),
            1,
            "rotation must not prompt while the user token is valid"
        );

        // A sibling chain on the same user reuses the cached token too.
        engine
            .start("codebuild", StartOptions::default())
            .await
            .unwrap();
        assert_eq!(prompt.count(), 1);

        // A fresh engine (another process, say the CLI) reuses the keychain cache.
        engine.flush().await.unwrap();
        let other = engine_again(peers).await;
        other.rotate("deploy").await.unwrap();
        drop(started);
    });
}

/// Another engine on the same peers (another process, say the CLI), which must not ask
/// for an MFA code.
async fn engine_again(peers: &Peers) -> Engine {
    let never = CountingPrompt::failing(MfaError::Unavailable("must not be asked".into()));
    engine::open(peers, never).await
}

#[test]
fn two_sessions_sharing_an_mfa_user_started_together_prompt_once() {
    let typing = CountingPrompt::answering_after(Duration::from_millis(300), "654321");
    let setup = SeededEngine::setup().prompt(typing);
    setup.run(async |seeded| {
        let SeededEngine { engine, prompt, .. } = seeded;
        engine
            .add_role(NewRole {
                name: "readonly".into(),
                profile: "staging-readonly".into(),
                parent: "alice".into(),
                role_arn: format!("arn:aws:iam::{STAGING}:role/ReadOnly"),
                ..Default::default()
            })
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            engine.start("deploy", StartOptions::default()),
            engine.start("readonly", StartOptions::default())
        );
        a.unwrap();
        b.unwrap();
        assert_eq!(prompt.count(), 1, "one prompt for two chains sharing alice");
    });
}

/// A start reads the keychain ahead from the workspace as its process last saw it
/// (`Engine::early_read_ahead`); the chain itself is the one on disk when the profile
/// is claimed. Here another process re-parented the middle hop from alice to bob
/// meanwhile: the start must ask for bob's MFA device, never alice's, and succeed.
#[test]
fn a_start_resolves_the_chain_on_disk_even_when_its_process_saw_an_older_one() {
    SeededEngine::run(async |seeded| {
        let SeededEngine {
            peers,
            engine: here,
            prompt,
            ..
        } = seeded;
        let bob_keys = peers.moto().create_user("bob").unwrap();
        let bob_serial = format!("arn:aws:iam::{STAGING}:mfa/bob");
        here.add_iam_user(
            NewIamUser {
                name: "bob".into(),
                profile: "bob".into(),
                mfa_serial: Some(bob_serial.clone()),
                ..Default::default()
            },
            bob_keys.access_keys(),
        )
        .await
        .unwrap();
        // `here` has the workspace in memory (it wrote it last); the other process
        // changes the file behind its back.
        let other = engine_again(peers).await;
        other
            .edit_session(
                "codebuild",
                SessionChanges {
                    parent: Some("bob".into()),
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap();

        let view = here.start("deploy", StartOptions::default()).await.unwrap();
        assert!(
            matches!(view.state, SessionState::Active { .. }),
            "{:?}",
            view.state
        );
        assert_eq!(prompt.serials(), vec![bob_serial]);
    });
}

/// Every byte of every file under `dir`.
fn all_bytes_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes_under(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_live_in_the_keychain_and_never_in_the_workspace() {
    SeededEngine::run(async |seeded| {
        let SeededEngine {
            peers,
            engine,
            seed,
            ..
        } = seeded;
        let seed = seed.expect("the story is seeded");
        engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        let (_, leaf) = engine.credentials("deploy", None, false).await.unwrap();
        engine.flush().await.unwrap();
        let ws = engine.workspace().await.unwrap();
        let alice = ws.find("alice").unwrap().session.id;

        // Found from outside, with secret-tool, under the configured service.
        let service = peers.home().keychain_service();
        let stored = peers
            .secret_service()
            .lookup(service, &format!("access-keys:{alice}"))
            .unwrap()
            .expect("alice's keys are in the keychain");
        assert!(stored.contains(&seed.user_secret));
        let cached = peers.secret_service().search_all(service).unwrap();
        assert!(
            cached.contains("cached-credentials:"),
            "session tokens are cached in the keychain"
        );

        // Absent from every file under ROLEHOP_HOME.
        let bytes = all_bytes_under(&peers.home().rolehop_home());
        assert!(!bytes.is_empty());
        for secret in [
            seed.user_secret.as_str(),
            seed.user_key_id.as_str(),
            leaf.secret_access_key.as_str(),
            leaf.session_token.as_deref().unwrap().as_str(),
        ] {
            assert!(
                !contains(&bytes, secret),
                "a secret leaked into ROLEHOP_HOME"
            );
        }

        // Removing the user (with its chain) removes its secrets from the keychain.
        engine.remove_session("alice", true).await.unwrap();
        assert_eq!(
            peers
                .secret_service()
                .lookup(service, &format!("access-keys:{alice}"))
                .unwrap(),
            None
        );
    });
}

#[test]
fn an_unknown_key_fails_that_session_only() {
    SeededEngine::run(async |seeded| {
        let SeededEngine { peers, engine, .. } = seeded;
        let good = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        // moto's GetSessionToken hands out fixed keys its auth mode rejects, so the
        // good chain is started before auth is switched on.
        peers.moto().enable_auth().unwrap();
        add_unknown_user(&engine, "mallory", "AKIAUNKNOWNKEY000000").await;
        let err = engine
            .start("mallory", StartOptions::default())
            .await
            .unwrap_err();
        let EngineError::SessionFailed { failure, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            failure.code,
            FailureCode::Aws {
                code: "InvalidClientTokenId".into()
            }
        );
        assert!(!err.to_string().contains("not-a-real-secret-key"));

        let sessions = engine.sessions().await.unwrap();
        assert!(
            matches!(state_of(&sessions, "mallory"), SessionState::Failed(ref f) if f.code == FailureCode::Aws { code: "InvalidClientTokenId".into() })
        );
        assert_eq!(
            state_of(&sessions, "deploy"),
            good.state,
            "the other session is untouched"
        );
        assert_eq!(state_of(&sessions, "alice"), SessionState::Inactive);
    });
}

#[test]
fn a_role_chained_from_a_failing_user_names_the_failing_hop() {
    let setup = SeededEngine::setup().without_seed();
    setup.run(async |seeded| {
        let SeededEngine { peers, engine, .. } = seeded;
        peers.moto().enable_auth().unwrap();
        add_unknown_user(&engine, "ghost", "AKIAUNKNOWNKEY000001").await;
        engine
            .add_role(NewRole {
                name: "ghost-admin".into(),
                profile: "ghost-admin".into(),
                parent: "ghost".into(),
                role_arn: format!("arn:aws:iam::{STAGING}:role/Admin"),
                ..Default::default()
            })
            .await
            .unwrap();
        let err = engine
            .start("ghost-admin", StartOptions::default())
            .await
            .unwrap_err();
        let EngineError::SessionFailed { failure, .. } = err else {
            panic!()
        };
        assert_eq!(
            failure.code,
            FailureCode::Aws {
                code: "InvalidClientTokenId".into()
            }
        );
        assert!(
            failure.message.starts_with("via 'ghost'"),
            "{}",
            failure.message
        );
    });
}

#[test]
fn cancelled_and_unanswered_mfa_prompts_fail_the_start_cleanly() {
    let setup = SeededEngine::setup().prompt(CountingPrompt::failing(MfaError::Cancelled));
    setup.run(async |seeded| {
        let SeededEngine {
            peers,
            engine,
            prompt: cancel,
            ..
        } = seeded;
        let err = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap_err();
        let EngineError::SessionFailed { failure, .. } = err else {
            panic!()
        };
        assert_eq!(failure.code, FailureCode::MfaCancelled);
        assert!(failure.message.contains("via 'alice'"));

        // Nobody answers: the start times out and fails, it does not hang.
        let config = peers
            .home()
            .engine_config(Some(peers.moto().endpoint()), Duration::from_millis(300));
        let silent = Engine::builder(config, Arc::new(SilentPrompt))
            .open()
            .await
            .unwrap();
        let err = silent
            .start("codebuild", StartOptions::default())
            .await
            .unwrap_err();
        let EngineError::SessionFailed { failure, .. } = err else {
            panic!()
        };
        assert_eq!(failure.code, FailureCode::MfaTimeout);

        // A code that is not six digits is refused before any call, naming the field.
        let err = engine
            .start(
                "deploy",
                StartOptions {
                    mfa_code: Some(Zeroizing::new("12a456".into())),
                    take_over: false,
                    saml_assertion: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("mfa_code"));
        // --mfa-code given up front is used instead of the prompt.
        let before = cancel.count();
        engine
            .start(
                "deploy",
                StartOptions {
                    mfa_code: Some(Zeroizing::new("123456".into())),
                    take_over: false,
                    saml_assertion: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(cancel.count(), before);
    });
}

#[test]
fn starting_a_session_stops_the_one_holding_its_profile() {
    SeededEngine::run(async |seeded| {
        let SeededEngine { engine, .. } = seeded;
        engine
            .add_role(NewRole {
                name: "deploy-b".into(),
                profile: "production".into(),
                parent: "codebuild".into(),
                role_arn: format!("arn:aws:iam::{PRODUCTION}:role/Other"),
                ..Default::default()
            })
            .await
            .unwrap();
        engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        engine
            .start("deploy-b", StartOptions::default())
            .await
            .unwrap();
        let sessions = engine.sessions().await.unwrap();
        assert_eq!(state_of(&sessions, "deploy"), SessionState::Inactive);
        assert!(matches!(
            state_of(&sessions, "deploy-b"),
            SessionState::Active { .. }
        ));
    });
}

#[test]
fn bad_input_names_the_field_and_changes_nothing() {
    SeededEngine::run(async |seeded| {
        let SeededEngine { peers, engine, .. } = seeded;
        let ws_file = peers.home().rolehop_home().join("workspace.json");
        let before = std::fs::read(&ws_file).unwrap();
        let secrets_before = peers
            .secret_service()
            .search_all(peers.home().keychain_service())
            .unwrap();

        let role = |f: &dyn Fn(&mut NewRole)| {
            let mut r = NewRole {
                name: "new-role".into(),
                profile: "new-profile".into(),
                parent: "codebuild".into(),
                role_arn: format!("arn:aws:iam::{STAGING}:role/X"),
                ..Default::default()
            };
            f(&mut r);
            r
        };
        let cases: Vec<(&str, NewRole)> = vec![
            (
                "role_arn",
                role(&|r| r.role_arn = "arn:aws:iam::1234:role/X".into()),
            ),
            (
                "role_arn",
                role(&|r| r.role_arn = "arn:aws:iam::123456789012:user/X".into()),
            ),
            (
                "role_arn",
                role(&|r| r.role_arn = "arn:nope:iam::123456789012:role/X".into()),
            ),
            ("profile", role(&|r| r.profile = "prod]\n[evil".into())),
            ("profile", role(&|r| r.profile = "a=b".into())),
            ("profile", role(&|r| r.profile = " padded".into())),
            ("name", role(&|r| r.name = "deploy".into())),
            ("parent", role(&|r| r.parent = "nobody".into())),
            (
                "role_session_name",
                role(&|r| r.role_session_name = Some("x".into())),
            ),
            (
                "role_session_name",
                role(&|r| r.role_session_name = Some("bad name".into())),
            ),
            ("external_id", role(&|r| r.external_id = Some("x".into()))),
            ("duration", role(&|r| r.duration = Some(3601))), // parent is a role: 1 h cap
            ("duration", role(&|r| r.duration = Some(600))),
            ("region", role(&|r| r.region = Some("mars-1".into()))),
        ];
        for (field, spec) in cases {
            let err = engine.add_role(spec).await.unwrap_err();
            assert_eq!(err.field(), Some(field), "{err}");
            assert!(
                err.to_string().starts_with(field),
                "the message names the field: {err}"
            );
        }
        // From a user, 12 h is fine, 12 h + 1 s is not.
        let err = engine
            .add_role(role(&|r| {
                r.parent = "alice".into();
                r.duration = Some(43_201)
            }))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("duration"));

        // A cycle: make codebuild a child of deploy.
        let err = engine
            .edit_session(
                "codebuild",
                SessionChanges {
                    parent: Some("deploy".into()),
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("parent"), "{err}");

        // IAM users: bad keys, bad MFA serial, bad duration.
        let user = |f: &dyn Fn(&mut NewIamUser)| {
            let mut u = NewIamUser {
                name: "bob".into(),
                profile: "bob".into(),
                ..Default::default()
            };
            f(&mut u);
            u
        };
        let keys = || AccessKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        };
        for (field, spec) in [
            (
                "mfa_serial",
                user(&|u| u.mfa_serial = Some("arn:aws:iam::123456789012:role/x".into())),
            ),
            (
                "session_duration",
                user(&|u| u.session_duration = Some(129_601)),
            ),
            ("profile", user(&|u| u.profile = "[x".into())),
        ] {
            let err = engine.add_iam_user(spec, keys()).await.unwrap_err();
            assert_eq!(err.field(), Some(field), "{err}");
        }
        let err = engine
            .add_iam_user(
                user(&|_| {}),
                AccessKeys {
                    access_key_id: "short".into(),
                    secret_access_key: Zeroizing::new("s".into()),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("access_key_id"));
        let err = engine
            .add_iam_user(
                user(&|_| {}),
                AccessKeys {
                    access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                    secret_access_key: Zeroizing::new("has space".into()),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("secret_access_key"));
        assert!(
            !err.to_string().contains("has space"),
            "the secret is not echoed"
        );

        // Deleting a parent that children use.
        let err = engine.remove_session("codebuild", false).await.unwrap_err();
        assert_eq!(err.kind(), rolehop_core::error::ErrorKind::Conflict);
        assert!(err.to_string().contains("deploy"), "{err}");
        // Profile injection through the profile manager.
        assert_eq!(
            engine.add_profile("x]y").await.unwrap_err().field(),
            Some("profile")
        );

        assert_eq!(
            std::fs::read(&ws_file).unwrap(),
            before,
            "refused edits changed the workspace"
        );
        assert_eq!(
            peers
                .secret_service()
                .search_all(peers.home().keychain_service())
                .unwrap(),
            secrets_before,
            "refused edits changed the keychain"
        );
    });
}

#[test]
fn a_missing_secret_service_is_reported_with_what_to_install() {
    // No private keyring here: a bus address that nobody listens on.
    // SAFETY: first thing in this test's own process, before any thread.
    unsafe {
        std::env::set_var(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/rolehop-test-bus",
        )
    };
    let keychain = rolehop_core::keychain::Keychain::new("rolehop-test-absent");
    let err = keychain.get("anything").unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            rolehop_core::keychain::KeychainError::Unavailable { .. }
        ),
        "{message}"
    );
    assert!(message.contains("gnome-keyring"), "{message}");
}

#[test]
fn the_scheduler_rotates_a_margin_before_expiry_without_prompting() {
    SeededEngine::run(async |seeded| {
        let SeededEngine { engine, prompt, .. } = seeded;
        let engine = Arc::new(engine);
        // A 15-minute role and a 15-minute margin: due as soon as it starts.
        let spec = NewRole {
            name: "short".into(),
            profile: "short".into(),
            parent: "codebuild".into(),
            role_arn: format!("arn:aws:iam::{PRODUCTION}:role/Short"),
            duration: Some(900),
            ..Default::default()
        };
        engine.add_role(spec).await.unwrap();
        let mut settings = engine.settings().await.unwrap();
        settings.rotation_margin_seconds = 900;
        engine.update_settings(settings).await.unwrap();
        let started = engine
            .start("short", StartOptions::default())
            .await
            .unwrap();
        let SessionState::Active { expires_at: first } = started.state else {
            panic!()
        };
        let (_, first_creds) = engine.credentials("codebuild", None, false).await.unwrap();

        let mut events = engine.subscribe();
        let scheduler = rolehop_core::rotation::RotationScheduler::spawn(engine.clone());
        let rotated = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Ok(EngineEvent::SessionState {
                    name,
                    state: SessionState::Active { expires_at },
                    ..
                }) = events.recv().await
                    && name == "short"
                {
                    break expires_at;
                }
            }
        })
        .await
        .expect("the scheduler rotated the session");
        scheduler.abort();
        assert!(rotated >= first, "the rotated session expires no sooner");
        assert_eq!(prompt.count(), 1, "rotation asked for no MFA code");
        // Only the leaf was refreshed: its parent's cached credentials were reused.
        let (_, parent_now) = engine.credentials("codebuild", None, false).await.unwrap();
        assert_eq!(parent_now.access_key_id, first_creds.access_key_id);
    });
}

#[test]
fn aws_endpoint_url_sts_is_honoured() {
    let setup = SeededEngine::setup();
    let peers = setup.peers();
    // SAFETY: before any thread of this test's own process.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL_STS", peers.moto().endpoint());
        std::env::set_var("AWS_CONFIG_FILE", peers.home().aws_config_file());
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            peers.home().aws_credentials_file(),
        );
    }
    setup.sts_endpoint(None).run(async |seeded| {
        let SeededEngine { engine, .. } = seeded;
        let view = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        assert!(
            matches!(view.state, SessionState::Active { .. }),
            "{:?}",
            view.state
        );
    });
}

#[test]
fn changes_made_by_another_process_arrive_as_events() {
    let setup = SeededEngine::setup().without_seed();
    setup.run(async |seeded| {
        let SeededEngine {
            peers, engine: app, ..
        } = seeded;
        let app = Arc::new(app);
        let cli = engine::open(peers, CountingPrompt::answering("123456")).await;
        seed(&cli, peers).await;
        let mut events = app.subscribe();
        let watcher = rolehop_core::rotation::WorkspaceWatcher::spawn(app.clone());
        tokio::time::sleep(Duration::from_millis(100)).await;
        cli.start("deploy", StartOptions::default()).await.unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Ok(EngineEvent::SessionState {
                    name,
                    state: SessionState::Active { .. },
                    ..
                }) = events.recv().await
                    && name == "deploy"
                {
                    break;
                }
            }
        })
        .await;
        watcher.abort();
        assert!(seen.is_ok(), "the app saw the CLI's start");
        assert!(matches!(
            state_of(&app.sessions().await.unwrap(), "deploy"),
            SessionState::Active { .. }
        ));
    });
}

#[test]
fn the_mfa_serial_and_code_reach_get_session_token() {
    let setup = SeededEngine::setup().prompt(CountingPrompt::answering("246810"));
    setup.run(async |seeded| {
        let SeededEngine { peers, engine, .. } = seeded;
        // moto accepts any code: only its record of the wire shows what was sent.
        peers.moto().start_recording().unwrap();
        engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        let calls = peers.moto().recorded_calls().unwrap();
        let action = |name: &str| -> Vec<_> {
            calls
                .iter()
                .filter(|c| c.get("Action").map(String::as_str) == Some(name))
                .collect()
        };
        let [token_call] = action("GetSessionToken")[..] else {
            panic!("one GetSessionToken expected: {calls:?}")
        };
        assert_eq!(
            token_call.get("SerialNumber").map(String::as_str),
            Some(format!("arn:aws:iam::{STAGING}:mfa/alice").as_str())
        );
        assert_eq!(
            token_call.get("TokenCode").map(String::as_str),
            Some("246810")
        );
        assert_eq!(
            token_call.get("DurationSeconds").map(String::as_str),
            Some("3600")
        );
        // The roles above the user ride on its MFA session: no code of their own.
        let roles = action("AssumeRole");
        assert_eq!(roles.len(), 2, "{calls:?}");
        assert!(roles.iter().all(|c| !c.contains_key("TokenCode")));
        let deploy = roles
            .iter()
            .find(|c| {
                c.get("RoleArn")
                    .is_some_and(|a| a.ends_with("ResourceDeployCAR"))
            })
            .expect("the deploy hop");
        assert_eq!(
            deploy.get("ExternalId").map(String::as_str),
            Some("rolehop-ext-1")
        );
        assert_eq!(
            deploy.get("RoleSessionName").map(String::as_str),
            Some("deployer")
        );
    });
}

#[test]
fn an_endpoint_url_in_the_shared_config_never_receives_rolehops_sts_calls() {
    let setup = SeededEngine::setup();
    let peers = setup.peers();
    let trap = rolehop_e2e::ConnectionTrap::start().unwrap();
    // LocalStack-style settings a user may have, pointing at a port that counts visits.
    peers
        .home()
        .write_aws_config(&format!(
            "[default]\nendpoint_url = {trap}\nservices = local\n\n\
             [services local]\nsts =\n  endpoint_url = {trap}\n",
            trap = trap.url()
        ))
        .unwrap();
    // SAFETY: before any thread of this test's own process.
    unsafe {
        std::env::set_var("AWS_CONFIG_FILE", peers.home().aws_config_file());
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            peers.home().aws_credentials_file(),
        );
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_ENDPOINT_URL");
        std::env::remove_var("AWS_ENDPOINT_URL_STS");
    }
    // No endpoint from Rolehop or the environment: STS is AWS's own endpoint, here of a
    // region that does not exist, so nothing leaves the machine but a DNS lookup that
    // fails.
    let setup = setup.sts_endpoint(None).without_seed();
    setup.run(async |seeded| {
        let SeededEngine { engine, .. } = seeded;
        engine
            .add_iam_user(
                NewIamUser {
                    name: "local".into(),
                    profile: "local".into(),
                    region: Some("zz-nowhere-9".into()),
                    ..Default::default()
                },
                AccessKeys {
                    access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                    secret_access_key: Zeroizing::new("not-a-real-secret-key".into()),
                },
            )
            .await
            .unwrap();
        let err = engine
            .start("local", StartOptions::default())
            .await
            .unwrap_err();
        let EngineError::SessionFailed { failure, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            format!("{:?}", failure.code).contains("StsUnreachable"),
            "{failure:?}"
        );
    });
    assert_eq!(
        trap.connections(),
        0,
        "a signed STS request went to the trap"
    );
}

#[test]
fn rolehops_endpoint_setting_wins_over_the_shared_config() {
    let setup = SeededEngine::setup();
    let peers = setup.peers();
    let trap = rolehop_e2e::ConnectionTrap::start().unwrap();
    peers
        .home()
        .write_aws_config(&format!("[default]\nendpoint_url = {}\n", trap.url()))
        .unwrap();
    // SAFETY: before any thread of this test's own process.
    unsafe { std::env::set_var("AWS_CONFIG_FILE", peers.home().aws_config_file()) };
    setup.run(async |seeded| {
        let SeededEngine { engine, .. } = seeded;
        let view = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        assert!(matches!(view.state, SessionState::Active { .. }));
    });
    assert_eq!(trap.connections(), 0);
}

#[test]
fn a_token_that_expired_overnight_fails_rotation_without_prompting_and_says_why() {
    SeededEngine::run(async |seeded| {
        let SeededEngine {
            peers,
            engine: evening,
            prompt,
            ..
        } = seeded;
        // A 15-minute role straight on the MFA user, rotated 15 minutes before expiry:
        // due as soon as the scheduler looks.
        evening
            .add_role(NewRole {
                name: "nightly".into(),
                profile: "nightly".into(),
                parent: "alice".into(),
                role_arn: format!("arn:aws:iam::{STAGING}:role/Nightly"),
                duration: Some(900),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut settings = evening.settings().await.unwrap();
        settings.rotation_margin_seconds = 900;
        evening.update_settings(settings).await.unwrap();
        evening
            .start("nightly", StartOptions::default())
            .await
            .unwrap();
        assert_eq!(prompt.count(), 1);
        evening.flush().await.unwrap();

        // The night: alice's MFA session token expires. There is no clock seam in the
        // engine (chain.rs reads Utc::now()), moto's server cannot move its clock, and
        // Rolehop refuses user sessions shorter than 900 s; so the token's expiry in
        // the real keychain is moved back to where a night would have left it, and the
        // morning's engine (a fresh process) reads it from there.
        let alice = evening.session("alice").await.unwrap().session.id;
        let keychain = rolehop_core::testing::keychain(&evening).clone();
        let account = rolehop_core::testing::cache_account(alice);
        let cached = keychain
            .get_async(&account)
            .await
            .unwrap()
            .expect("cached token");
        let mut token: rolehop_core::Credentials = serde_json::from_str(&cached).unwrap();
        token.expiration = Some(chrono::Utc::now() - chrono::Duration::hours(8));
        let aged = Zeroizing::new(serde_json::to_string(&token).unwrap());
        keychain.set_async(&account, aged).await.unwrap();
        drop(evening);

        let morning_prompt = CountingPrompt::answering("123456");
        let morning = Arc::new(engine::open(peers, morning_prompt.clone()).await);
        let mut events = morning.subscribe();
        let scheduler = rolehop_core::rotation::RotationScheduler::spawn(morning.clone());
        // The announcement and the session's failed state, in whichever order the
        // engine publishes them.
        let (message, failure) = tokio::time::timeout(Duration::from_secs(30), async {
            let (mut announced, mut failed) = (None, None);
            loop {
                match events.recv().await {
                    Ok(EngineEvent::RotationFailed { name, message, .. }) if name == "nightly" => {
                        announced = Some(message);
                    }
                    Ok(EngineEvent::SessionState {
                        name,
                        state: SessionState::Failed(failure),
                        ..
                    }) if name == "nightly" => failed = Some(failure),
                    _ => {}
                }
                if let (Some(message), Some(failure)) = (&announced, &failed) {
                    break (message.clone(), failure.clone());
                }
            }
        })
        .await
        .expect("RotationFailed was published for 'nightly', and it failed");
        scheduler.abort();
        assert_eq!(morning_prompt.count(), 0, "rotation must never prompt");
        assert!(message.contains("expired"), "{message}");
        assert!(message.contains("start the session again"), "{message}");
        assert!(
            format!("{:?}", failure.code).contains("MfaRequired"),
            "{failure:?}"
        );
        assert_eq!(failure.message, message);
        let stored = state_of(&morning.sessions().await.unwrap(), "nightly");
        assert_eq!(stored, SessionState::Failed(failure));
    });
}

#[test]
fn a_credential_process_line_is_never_written_with_a_bare_cli_name() {
    use rolehop_core::model::DeliveryMode;

    let setup = SeededEngine::setup();
    let home = setup.peers().home();
    home.write_aws_config("[default]\nregion = us-east-1\n")
        .unwrap();
    let before = home.read_aws_config().unwrap();
    // What the desktop app had when no CLI was next to it: a name every AWS tool would
    // look up on its own PATH.
    let delivery = Arc::new(home.aws_files_delivery("rolehop"));
    setup.delivery(delivery).run(async |seeded| {
        let SeededEngine { peers, engine, .. } = seeded;
        let home = peers.home();
        let mut settings = engine.settings().await.unwrap();
        settings.delivery_mode = DeliveryMode::CredentialProcess;
        engine.update_settings(settings).await.unwrap();
        let err = engine
            .start("codebuild", StartOptions::default())
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("absolute path"), "{message}");
        assert!(message.contains("ROLEHOP_CLI"), "{message}");
        assert_eq!(
            home.read_aws_config().unwrap(),
            before,
            "the config was written"
        );
    });
}

#[test]
fn an_sts_answer_declaring_a_huge_body_is_refused_before_it_is_read() {
    // No real STS sends this: a listener that answers every request with headers
    // announcing a gigabyte, then nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 65536];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1073741824\r\n\r\n",
            );
        }
    });
    let setup = SeededEngine::setup()
        .sts_endpoint(Some(endpoint))
        .without_seed();
    setup.run(async |seeded| {
        let SeededEngine { engine, .. } = seeded;
        add_unknown_user(&engine, "bloated", "AKIAIOSFODNN7EXAMPLE").await;
        let err = engine
            .start("bloated", StartOptions::default())
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("1073741824 bytes; Rolehop reads at most 1048576"),
            "{message}"
        );
    });
}
