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

use std::sync::Arc;

use base64::Engine as _;
use chrono::{Duration, SecondsFormat, Utc};
use rolehop_core::Problem as _;
use rolehop_core::mfa::NoPrompt;
use rolehop_core::model::{FailureCode, SessionState};
use rolehop_core::testing::ScriptedSts;
use rolehop_core::{Engine, EngineError, NewRole, NewSamlRole, StartOptions};
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
    let mock = MockHome::new(SERVICE);
    let sts = Arc::new(ScriptedSts::default());
    let engine = Engine::builder(mock.config(), Arc::new(NoPrompt("no MFA here".into())))
        .sts(sts.clone())
        .open()
        .await
        .unwrap();
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
