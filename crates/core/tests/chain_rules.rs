//! The engine's rules about role chains and their cached copies, with STS answered in
//! memory (`rolehop_core::testing::ScriptedSts`, the engine's STS seam) and
//! keyring-core's mock store as the keychain: which STS calls a start makes, which
//! cached hops a start, stop, key change, redefinition or removal leaves for the next
//! one, and when a person is asked for an MFA code.
//!
//! The stand-in is used only because these rules do not depend on what STS answers,
//! only on whether the engine asks it: what STS does with each call (moto's answers,
//! AWS's refusals, faults) is the end-to-end suite's (`tests/tests/e2e/engine_chain.rs`,
//! `sts_faults.rs`), against moto's server and a real gnome-keyring.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rolehop_core::mfa::{MfaFuture, MfaPrompt, MfaRequest};
use rolehop_core::model::{FailureCode, SessionState};
use rolehop_core::testing::{ScriptedSts, cache_account};
use rolehop_core::{
    AccessKeys, Engine, EngineError, NewIamUser, NewRole, SessionChanges, StartOptions,
};
use zeroize::Zeroizing;

mod common;
use common::MockHome;

const SERVICE: &str = "rolehop-chain-rules";
const OPS: &str = "arn:aws:iam::111111111111:role/Ops";
const OPS_V2: &str = "arn:aws:iam::111111111111:role/OpsV2";
const DEPLOY: &str = "arn:aws:iam::222222222222:role/Deploy";
const AUDIT: &str = "arn:aws:iam::222222222222:role/Audit";

/// Answers every MFA request with a valid code, counting them.
#[derive(Default)]
struct CountingPrompt(AtomicUsize);

impl MfaPrompt for CountingPrompt {
    fn ask(&self, _: MfaRequest) -> MfaFuture {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Zeroizing::new("123456".to_owned())) })
    }
}

/// alice (an IAM user with MFA) → ops → deploy and audit.
struct Chain {
    mock: MockHome,
    sts: Arc<ScriptedSts>,
    prompt: Arc<CountingPrompt>,
    engine: Engine,
}

impl Chain {
    async fn new() -> Chain {
        let mock = MockHome::new(SERVICE);
        let sts = Arc::new(ScriptedSts::default());
        let prompt = Arc::new(CountingPrompt::default());
        let engine = Engine::builder(mock.config(), prompt.clone())
            .sts(sts.clone())
            .open()
            .await
            .unwrap();
        engine
            .add_iam_user(
                NewIamUser {
                    name: "alice".into(),
                    profile: "alice".into(),
                    mfa_serial: Some("arn:aws:iam::111111111111:mfa/alice".into()),
                    ..Default::default()
                },
                keys("AKIAALICE00000000001"),
            )
            .await
            .unwrap();
        for (name, parent, arn) in [
            ("ops", "alice", OPS),
            ("deploy", "ops", DEPLOY),
            ("audit", "ops", AUDIT),
        ] {
            engine
                .add_role(NewRole {
                    name: name.into(),
                    profile: name.into(),
                    parent: parent.into(),
                    role_arn: arn.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        Chain {
            mock,
            sts,
            prompt,
            engine,
        }
    }

    fn prompts(&self) -> usize {
        self.prompt.0.load(Ordering::SeqCst)
    }

    /// The STS calls made since `from` calls had been made.
    fn calls_since(&self, from: usize) -> Vec<String> {
        self.sts.calls()[from..].to_vec()
    }

    /// Whether the keychain holds a cached copy of `session`'s credentials.
    async fn cached(&self, session: &str) -> bool {
        let id = self.engine.session(session).await.unwrap().session.id;
        !self.mock.secrets(Some(&cache_account(id))).is_empty()
    }

    /// Starts `session`, which must become active.
    async fn start(&self, session: &str) {
        let view = self
            .engine
            .start(session, StartOptions::default())
            .await
            .unwrap();
        assert!(
            matches!(view.state, SessionState::Active { .. }),
            "{view:?}"
        );
    }
}

fn keys(access_key_id: &str) -> AccessKeys {
    AccessKeys {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned()),
    }
}

fn assume(arn: &str) -> String {
    format!("AssumeRole {arn}")
}

#[tokio::test]
async fn a_chain_start_asks_sts_once_per_hop_root_first_with_one_prompt() {
    let c = Chain::new().await;
    let view = c
        .engine
        .start("deploy", StartOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(view.state, SessionState::Active { .. }),
        "{view:?}"
    );
    assert_eq!(
        c.sts.calls(),
        [
            "GetSessionToken mfa".to_owned(),
            assume(OPS),
            assume(DEPLOY)
        ]
    );
    assert_eq!(c.prompts(), 1);
}

#[tokio::test]
async fn a_sibling_start_reuses_the_cached_parent_hops_without_a_prompt() {
    let c = Chain::new().await;
    c.start("deploy").await;
    let before = c.sts.calls().len();
    c.start("audit").await;
    assert_eq!(c.calls_since(before), [assume(AUDIT)]);
    assert_eq!(c.prompts(), 1, "the MFA session token is reused");
}

#[tokio::test]
async fn a_refused_hop_fails_its_session_names_the_code_and_caches_nothing_for_it() {
    let c = Chain::new().await;
    c.sts.refuse_role(DEPLOY);
    let err = c
        .engine
        .start("deploy", StartOptions::default())
        .await
        .unwrap_err();
    let EngineError::SessionFailed { session, failure } = &err else {
        panic!("not a session failure: {err:?}");
    };
    assert_eq!(session, "deploy");
    assert_eq!(
        failure.code,
        FailureCode::Aws {
            code: "AccessDenied".into()
        }
    );
    let trust = failure.trust.as_ref().expect("a refused hop is explained");
    assert_eq!(
        (trust.role_arn.as_str(), trust.parent.as_str()),
        (DEPLOY, "ops")
    );
    let view = c.engine.session("deploy").await.unwrap();
    assert!(
        matches!(view.state, SessionState::Failed { .. }),
        "{view:?}"
    );
    assert!(
        !c.cached("deploy").await,
        "nothing cached for the refused hop"
    );
    assert!(c.cached("ops").await, "the admitted hop above it is cached");
}

#[tokio::test]
async fn a_stop_drops_the_roles_copy_and_keeps_the_mfa_token_above_it() {
    let c = Chain::new().await;
    c.start("deploy").await;
    c.engine.stop("deploy").await.unwrap();
    assert!(!c.cached("deploy").await);
    let before = c.sts.calls().len();
    c.engine.credentials("deploy", None, false).await.unwrap();
    assert_eq!(c.calls_since(before), [assume(DEPLOY)]);
    assert_eq!(c.prompts(), 1, "no second prompt after a stop");
}

#[tokio::test]
async fn new_keys_drop_every_copy_below_the_user() {
    let c = Chain::new().await;
    c.start("deploy").await;
    c.engine
        .edit_session(
            "alice",
            SessionChanges::default(),
            Some(keys("AKIAALICE00000000002")),
        )
        .await
        .unwrap();
    for session in ["alice", "ops", "deploy"] {
        assert!(!c.cached(session).await, "{session} still cached");
    }
    let before = c.sts.calls().len();
    c.engine.credentials("deploy", None, true).await.unwrap();
    assert_eq!(
        c.calls_since(before),
        [
            "GetSessionToken mfa".to_owned(),
            assume(OPS),
            assume(DEPLOY)
        ]
    );
    assert_eq!(c.prompts(), 2, "the new key needs a new MFA session");
}

#[tokio::test]
async fn a_redefined_role_drops_its_copy_and_those_below_it_and_keeps_the_ones_above() {
    let c = Chain::new().await;
    c.start("deploy").await;
    c.engine
        .edit_session(
            "ops",
            SessionChanges {
                role_arn: Some(OPS_V2.into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let before = c.sts.calls().len();
    c.engine.credentials("deploy", None, false).await.unwrap();
    assert_eq!(c.calls_since(before), [assume(OPS_V2), assume(DEPLOY)]);
    assert_eq!(c.prompts(), 1);
}

#[tokio::test]
async fn a_removal_deletes_the_sessions_cached_copy() {
    let c = Chain::new().await;
    c.start("audit").await;
    assert!(c.cached("audit").await);
    let id = c.engine.session("audit").await.unwrap().session.id;
    c.engine.remove_session("audit", false).await.unwrap();
    assert!(
        c.mock.secrets(Some(&cache_account(id))).is_empty(),
        "the removed session's copy is gone"
    );
}
