//! The engine's rules for federated (SAML) sessions, with STS answered in memory
//! (`rolehop_core::testing::ScriptedSts`) and keyring-core's mock keychain: which STS
//! call a start makes and with what duration, what a start refuses before anything
//! changes, and that a role chained from a federated session reuses its credentials.
//!
//! The stand-in is used only because these rules do not depend on what STS answers;
//! AWS's own checks of the assertion (signature, recipient, the pair) are the
//! end-to-end suite's (`tests/tests/e2e/cli_saml.rs`), against a real identity provider
//! and a verifying layer before moto.
//! The responses here are unsigned stand-ins with a signature element: only AWS (or
//! the verifying layer) checks a signature, and no real peer answers in memory.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use chrono::{Duration, SecondsFormat, Utc};
use rolehop_core::Problem as _;
use rolehop_core::mfa::NoPrompt;
use rolehop_core::model::{FailureCode, SessionState};
use rolehop_core::rotation::{Clock, RotationScheduler};
use rolehop_core::saml::{SamlSignIn, SignInResult};
use rolehop_core::testing::ScriptedSts;
use rolehop_core::{
    AccessKeys, Engine, EngineError, EngineEvent, NewIamUser, NewRole, NewSamlRole, StartOptions,
};
use zeroize::Zeroizing;

mod common;
use common::MockHome;

const SERVICE: &str = "rolehop-saml-rules";
const FEDERATED: &str = "arn:aws:iam::333333333333:role/Federated";
const CORP: &str = "arn:aws:iam::333333333333:saml-provider/Corp";
const DEPLOY: &str = "arn:aws:iam::444444444444:role/Deploy";

/// The fixture's response, valid for `minutes` from now (negative: expired).
fn response(minutes: i64) -> Zeroizing<String> {
    let now = Utc::now();
    let xml = include_str!("fixtures/saml-response.xml")
        .replace("{issued}", &now.to_rfc3339_opts(SecondsFormat::Secs, true))
        .replace(
            "{not_on_or_after}",
            &(now + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true),
        );
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(xml))
}

fn with(assertion: Zeroizing<String>) -> StartOptions {
    StartOptions {
        saml_assertion: Some(assertion),
        ..StartOptions::default()
    }
}

struct Federated {
    mock: MockHome,
    sts: Arc<ScriptedSts>,
    engine: Engine,
}

/// `corp` (Federated through Corp, 3600 s asked) and `deploy` chained from it.
async fn federated(role_arn: &str) -> Federated {
    federated_with(role_arn, None).await
}

/// [`federated`], rotation asking `sign_in` for new responses when given.
async fn federated_with(role_arn: &str, sign_in: Option<Arc<dyn SamlSignIn>>) -> Federated {
    let mock = MockHome::new(SERVICE);
    let sts = Arc::new(ScriptedSts::default());
    let mut builder =
        Engine::builder(mock.config(), Arc::new(NoPrompt("no MFA here".into()))).sts(sts.clone());
    if let Some(sign_in) = sign_in {
        builder = builder.saml_sign_in(sign_in);
    }
    let engine = builder.open().await.unwrap();
    engine
        .add_saml_role(NewSamlRole {
            name: "corp".into(),
            profile: "corp".into(),
            idp_url: "https://idp.example.test/sso/aws".into(),
            role_arn: role_arn.into(),
            principal_arn: CORP.into(),
            duration: Some(3600),
            ..Default::default()
        })
        .await
        .unwrap();
    engine
        .add_role(NewRole {
            name: "deploy".into(),
            profile: "deploy".into(),
            parent: "corp".into(),
            role_arn: DEPLOY.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    Federated { mock, sts, engine }
}

fn invalid_field(e: &EngineError) -> Option<&str> {
    e.field()
}

#[tokio::test]
async fn part4_assume_role_with_saml_asks_the_duration_capped_by_session_duration() {
    let f = federated(FEDERATED).await;
    let assertion = response(5);
    let view = f
        .engine
        .start("corp", with(assertion.clone()))
        .await
        .unwrap();
    // 3600 asked, SessionDuration 1800: STS is asked for 1800.
    assert_eq!(
        f.sts.calls(),
        vec![format!("AssumeRoleWithSAML {FEDERATED} 1800")]
    );
    let SessionState::Active { expires_at } = view.state else {
        panic!("{:?}", view.state)
    };
    let left = expires_at - Utc::now();
    assert!(
        left <= Duration::seconds(1800) && left > Duration::seconds(1700),
        "{left}"
    );
    // The response is a secret of that start: in no keychain entry, no workspace file.
    f.engine.flush().await.unwrap();
    let secrets = f.mock.secrets(None);
    assert!(!secrets.is_empty());
    assert!(secrets.iter().all(|s| !s.contains(&assertion[..64])));
    for file in walk(f.mock.home.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(&assertion[..64]), "{}", file.display());
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn part4_a_role_chained_from_a_federated_session_reuses_its_credentials() {
    let f = federated(FEDERATED).await;
    f.engine.start("corp", with(response(5))).await.unwrap();
    f.engine
        .start("deploy", StartOptions::default())
        .await
        .unwrap();
    assert_eq!(
        f.sts.calls(),
        vec![
            format!("AssumeRoleWithSAML {FEDERATED} 1800"),
            format!("AssumeRole {DEPLOY}"),
        ]
    );
}

#[tokio::test]
async fn part5_a_federated_start_without_a_response_fails_asking_for_a_sign_in() {
    let f = federated(FEDERATED).await;
    let e = f
        .engine
        .start("corp", StartOptions::default())
        .await
        .unwrap_err();
    let EngineError::SessionFailed { failure, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(failure.code, FailureCode::SamlSignInRequired);
    assert!(
        failure.message.contains("--assertion-file"),
        "{}",
        failure.message
    );
    assert!(f.sts.calls().is_empty());
}

/// Each bad response is refused naming `assertion`, with no STS call and the session
/// left as it was.
async fn refused(role_arn: &str, assertion: Zeroizing<String>, says: &str) {
    let f = federated(role_arn).await;
    let before = f.engine.workspace().await.unwrap();
    let e = f.engine.start("corp", with(assertion)).await.unwrap_err();
    assert_eq!(invalid_field(&e), Some("assertion"), "{e}");
    assert!(e.to_string().contains(says), "{e}");
    assert!(f.sts.calls().is_empty());
    let after = f.engine.workspace().await.unwrap();
    assert_eq!(
        before.sessions.iter().map(|s| &s.state).collect::<Vec<_>>(),
        after.sessions.iter().map(|s| &s.state).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn part6_an_expired_response_changes_nothing() {
    refused(FEDERATED, response(-1), "(NotOnOrAfter)").await;
}

#[tokio::test]
async fn part6_a_response_not_listing_the_role_changes_nothing() {
    refused(
        "arn:aws:iam::333333333333:role/Admin",
        response(5),
        "does not list role arn:aws:iam::333333333333:role/Admin",
    )
    .await;
}

#[tokio::test]
async fn part6_a_response_for_a_session_that_is_not_federated_is_refused() {
    let f = federated(FEDERATED).await;
    f.engine.start("corp", with(response(5))).await.unwrap();
    // `deploy` is chained from `corp`: a response is fine for it.
    f.engine.start("deploy", with(response(5))).await.unwrap();
    let mock = MockHome::new(SERVICE);
    let engine = Engine::builder(mock.config(), Arc::new(NoPrompt("no".into())))
        .sts(Arc::new(ScriptedSts::default()))
        .open()
        .await
        .unwrap();
    engine
        .add_iam_user(
            rolehop_core::NewIamUser {
                name: "alice".into(),
                profile: "alice".into(),
                ..Default::default()
            },
            rolehop_core::AccessKeys {
                access_key_id: "AKIAALICE00000000001".into(),
                secret_access_key: Zeroizing::new("s".repeat(40)),
            },
        )
        .await
        .unwrap();
    let e = engine.start("alice", with(response(5))).await.unwrap_err();
    assert_eq!(invalid_field(&e), Some("assertion"));
    assert!(e.to_string().contains("is not federated"), "{e}");
}

#[tokio::test]
async fn part1_a_federated_session_s_bad_fields_are_refused_by_name() {
    let f = federated(FEDERATED).await;
    let good = NewSamlRole {
        name: "other".into(),
        profile: "other".into(),
        idp_url: "https://idp.example.test/sso/aws".into(),
        role_arn: FEDERATED.into(),
        principal_arn: CORP.into(),
        ..Default::default()
    };
    for (field, spec) in [
        (
            "idp_url",
            NewSamlRole {
                idp_url: "http://idp.example.test/".into(),
                ..good.clone()
            },
        ),
        (
            "role_arn",
            NewSamlRole {
                role_arn: CORP.into(),
                ..good.clone()
            },
        ),
        (
            "principal_arn",
            NewSamlRole {
                principal_arn: FEDERATED.into(),
                ..good.clone()
            },
        ),
        (
            "duration",
            NewSamlRole {
                duration: Some(60),
                ..good.clone()
            },
        ),
        (
            "profile",
            NewSamlRole {
                profile: "a]b".into(),
                ..good.clone()
            },
        ),
    ] {
        let e = f.engine.add_saml_role(spec).await.unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert_eq!(f.engine.sessions().await.unwrap().len(), 2);
    f.engine.add_saml_role(good).await.unwrap();
}

/// An in-memory clock for the rotation scheduler: no real peer can move the wall clock
/// to a session's margin and expiry, so the test moves this one. Its sleep ends when
/// the clock is moved (or after the wait asked for, in real time).
struct MovableClock {
    offset: std::sync::Mutex<Duration>,
    moved: tokio::sync::Notify,
}

impl MovableClock {
    fn new() -> Self {
        Self {
            offset: std::sync::Mutex::new(Duration::zero()),
            moved: tokio::sync::Notify::new(),
        }
    }

    fn move_to(&self, at: chrono::DateTime<Utc>) {
        *self.offset.lock().unwrap() = at - Utc::now();
        self.moved.notify_one();
    }
}

impl Clock for MovableClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap()
    }

    fn sleep(&self, wait: std::time::Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.moved.notified() => {}
            }
        })
    }
}

/// Waits (at most a minute: the scheduler re-plans within 30 s) for the first event
/// `wanted` picks, keeping every event seen in `seen`.
async fn wait_for(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    seen: &mut Vec<EngineEvent>,
    wanted: impl Fn(&EngineEvent) -> bool,
) {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            let event = events.recv().await.unwrap();
            let found = wanted(&event);
            seen.push(event);
            if found {
                return;
            }
        }
    })
    .await
    .expect("the event came");
}

fn state_of(ws: &rolehop_core::workspace::Workspace, name: &str) -> SessionState {
    ws.sessions
        .iter()
        .find(|s| s.session.name == name)
        .map(|s| s.state.clone())
        .unwrap()
}

/// The events that raise a desktop notification: a federated session's one notice is
/// a `SignInNeeded`, and no `RotationFailed` may come beside it.
fn notices(seen: &[EngineEvent]) -> usize {
    seen.iter()
        .filter(|e| {
            matches!(
                e,
                EngineEvent::SignInNeeded { .. } | EngineEvent::RotationFailed { .. }
            )
        })
        .count()
}

/// `corp` started from a response, the rotation scheduler running on a clock the test
/// moves (its events subscribed before it starts).
struct Scheduled {
    _home: MockHome,
    sts: Arc<ScriptedSts>,
    engine: Arc<Engine>,
    expires_at: chrono::DateTime<Utc>,
    margin: i64,
    clock: Arc<MovableClock>,
    events: tokio::sync::broadcast::Receiver<EngineEvent>,
    scheduler: tokio::task::JoinHandle<()>,
}

async fn scheduled(sign_in: Option<Arc<dyn SamlSignIn>>) -> Scheduled {
    let Federated { mock, sts, engine } = federated_with(FEDERATED, sign_in).await;
    let engine = Arc::new(engine);
    let view = engine.start("corp", with(response(5))).await.unwrap();
    let SessionState::Active { expires_at } = view.state else {
        panic!("{:?}", view.state)
    };
    let margin = i64::from(engine.settings().await.unwrap().rotation_margin_seconds);
    let clock = Arc::new(MovableClock::new());
    let events = engine.subscribe();
    let scheduler = RotationScheduler::spawn_with_clock(engine.clone(), clock.clone());
    Scheduled {
        _home: mock,
        sts,
        engine,
        expires_at,
        margin,
        clock,
        events,
        scheduler,
    }
}

#[tokio::test]
async fn part4_a_failed_sign_in_again_leaves_the_session_active_until_expiry_with_one_notice() {
    let Scheduled {
        _home,
        sts,
        engine,
        expires_at,
        margin,
        clock,
        mut events,
        scheduler,
    } = scheduled(None).await;
    let mut seen = Vec::new();

    // At the margin no new response can be had (no sign-in hook): one notice, saying
    // until when the credentials last; the session stays active on them.
    clock.move_to(expires_at - Duration::seconds(margin - 1));
    wait_for(&mut events, &mut seen, |e| {
        matches!(e, EngineEvent::SignInNeeded { .. })
    })
    .await;
    let Some(EngineEvent::SignInNeeded {
        name,
        message,
        expires_at: until,
        ..
    }) = seen.last()
    else {
        unreachable!()
    };
    assert_eq!(name, "corp");
    assert_eq!(*until, expires_at);
    assert!(message.contains("SAML response"), "{message}");
    assert!(message.contains("last until"), "{message}");
    let ws = engine.workspace().await.unwrap();
    assert_eq!(state_of(&ws, "corp"), SessionState::Active { expires_at });

    // Later ticks before the expiry: still active, no second notice.
    // (The clock runs on in real time while the test waits 3 s.)
    for before in [margin / 2, 10] {
        clock.move_to(expires_at - Duration::seconds(before));
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let ws = engine.workspace().await.unwrap();
        assert_eq!(state_of(&ws, "corp"), SessionState::Active { expires_at });
    }

    // At the expiry it ends, with no second notice.
    clock.move_to(expires_at + Duration::seconds(1));
    wait_for(&mut events, &mut seen, |e| {
        matches!(e, EngineEvent::SessionState { name, state: SessionState::Failed(_), .. } if name == "corp")
    })
    .await;
    scheduler.abort();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert_eq!(notices(&seen), 1, "{seen:#?}");
    let ws = engine.workspace().await.unwrap();
    let SessionState::Failed(failure) = state_of(&ws, "corp") else {
        panic!()
    };
    assert_eq!(failure.code, FailureCode::SamlSignInRequired);
    // Only the start reached STS: every rotation try stopped at the missing response.
    assert_eq!(sts.calls().len(), 1, "{:?}", sts.calls());

    // A start with a new response renews it.
    let renewed = engine.start("corp", with(response(5))).await.unwrap();
    assert!(matches!(renewed.state, SessionState::Active { .. }));
    assert_eq!(sts.calls().len(), 2);
}

/// A host's hidden re-sign-in that always has a fresh response (what the desktop's
/// login window gives while the provider's session lasts).
struct FreshResponses;

impl SamlSignIn for FreshResponses {
    fn sign_in<'a>(
        &'a self,
        _idp_url: &'a str,
    ) -> Pin<Box<dyn Future<Output = SignInResult> + Send + 'a>> {
        Box::pin(async { Ok(response(5)) })
    }
}

#[tokio::test]
async fn part4_a_sign_in_hook_renews_a_federated_session_at_its_margin_without_a_notice() {
    let Scheduled {
        _home,
        sts,
        engine,
        expires_at,
        margin,
        clock,
        mut events,
        scheduler,
    } = scheduled(Some(Arc::new(FreshResponses))).await;
    let mut seen = Vec::new();
    clock.move_to(expires_at - Duration::seconds(margin - 1));
    wait_for(&mut events, &mut seen, |e| {
        matches!(e, EngineEvent::SessionState { name, state: SessionState::Active { .. }, .. } if name == "corp")
    })
    .await;
    scheduler.abort();
    assert_eq!(notices(&seen), 0, "{seen:#?}");
    // The start, then the rotation with the hook's response (the scripted STS dates
    // its credentials by the real clock, so the moved clock may find the new ones due
    // again before the scheduler stops: at least one rotation, each a SAML one).
    let calls = sts.calls();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(
        calls
            .iter()
            .all(|c| *c == format!("AssumeRoleWithSAML {FEDERATED} 1800")),
        "{calls:?}"
    );
    let ws = engine.workspace().await.unwrap();
    assert!(matches!(state_of(&ws, "corp"), SessionState::Active { .. }));
}

/// What "Sign in again" may renew: an active federated session, and an active role
/// chained from one (both at the federated session's provider, saying until when the
/// credentials in place last); nothing for an inactive one (its click starts it through
/// the login window, `federated_sign_in`) or a session of another kind.
#[tokio::test]
async fn part4_a_renewal_sign_in_is_offered_for_an_active_federated_session_and_its_chained_roles()
{
    let f = federated(FEDERATED).await;
    f.engine.add_profile("dev").await.unwrap();
    f.engine
        .add_iam_user(
            NewIamUser {
                name: "alice".into(),
                profile: "dev".into(),
                ..Default::default()
            },
            AccessKeys {
                access_key_id: "AKIAALICE00000000001".into(),
                secret_access_key: Zeroizing::new(
                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEVERELSEWHERE".into(),
                ),
            },
        )
        .await
        .unwrap();
    for name in ["corp", "deploy", "alice"] {
        assert_eq!(
            f.engine.federated_renewal(name).await.unwrap(),
            None,
            "{name}"
        );
    }

    let corp = f.engine.start("corp", with(response(5))).await.unwrap();
    let deploy = f
        .engine
        .start("deploy", StartOptions::default())
        .await
        .unwrap();
    f.engine
        .start("alice", StartOptions::default())
        .await
        .unwrap();
    for view in [&corp, &deploy] {
        let SessionState::Active { expires_at } = view.state else {
            panic!("{:?}", view.state)
        };
        let renewal = f
            .engine
            .federated_renewal(view.session.name.as_str())
            .await
            .unwrap()
            .expect("a renewal");
        assert_eq!(renewal.session, view.session.id);
        assert_eq!(renewal.session_name, view.session.name);
        assert_eq!(renewal.federated_name, "corp");
        assert_eq!(renewal.idp_url, "https://idp.example.test/sso/aws");
        assert_eq!(renewal.active_until, Some(expires_at));
        // An active session's click stops it: no start's sign-in.
        assert_eq!(
            f.engine
                .federated_sign_in(view.session.name.as_str())
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(f.engine.federated_renewal("alice").await.unwrap(), None);

    // Stopped: no renewal, the click's start needs the sign-in again.
    f.engine.stop("corp").await.unwrap();
    assert_eq!(f.engine.federated_renewal("corp").await.unwrap(), None);
    let start = f.engine.federated_sign_in("corp").await.unwrap().unwrap();
    assert_eq!(start.active_until, None);
}

/// A renewal is a start with the new response on the active session: new credentials
/// and a new expiry on the same profile, the session never stopped (no `Inactive`
/// state on the way), and the role chained from it untouched.
#[tokio::test]
async fn part4_a_start_with_a_new_response_renews_an_active_federated_session_in_place() {
    let f = federated(FEDERATED).await;
    let first = f.engine.start("corp", with(response(5))).await.unwrap();
    let SessionState::Active { expires_at: before } = first.state else {
        panic!("{:?}", first.state)
    };
    let mut events = f.engine.subscribe();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let renewed = f.engine.start("corp", with(response(5))).await.unwrap();
    let SessionState::Active { expires_at: after } = renewed.state else {
        panic!("{:?}", renewed.state)
    };
    assert!(after > before, "{before} -> {after}");
    assert_eq!(f.sts.calls().len(), 2, "{:?}", f.sts.calls());
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::SessionState { name, state, .. } = event {
            assert_eq!(name, "corp");
            assert!(
                matches!(state, SessionState::Active { .. } | SessionState::Pending),
                "{state:?}"
            );
        }
    }
}
