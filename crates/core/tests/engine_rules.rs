//! The engine's rules about the keychain, through the public API, with keyring-core's
//! mock store standing in for the Secret Service (no D-Bus in unit tests; the
//! end-to-end suite `tests/tests/e2e/engine_chain.rs` checks the same rules against a real
//! gnome-keyring with `secret-tool`). Nothing here calls STS.

use std::sync::Arc;

use rolehop_core::keychain::KeychainStore;
use rolehop_core::mfa::NoPrompt;
use rolehop_core::{AccessKeys, Engine, EngineConfig, NewIamUser};
use zeroize::Zeroizing;

mod common;
use common::MockHome;

const SERVICE: &str = "rolehop-engine-rules";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEVERELSEWHERE";

struct Harness {
    mock: MockHome,
    engine: Engine,
}

impl Harness {
    async fn new() -> Harness {
        let mock = MockHome::new(SERVICE);
        let prompt = Arc::new(NoPrompt("no MFA in these tests".into()));
        let engine = Engine::builder(mock.config(), prompt).open().await.unwrap();
        Harness { mock, engine }
    }

    /// The secrets the keychain holds for Rolehop's service.
    fn secrets(&self) -> Vec<String> {
        self.mock.secrets(None)
    }

    /// A harness whose workspace has profile `dev` and IAM user `alice` on it.
    async fn with_alice() -> Harness {
        let h = Harness::new().await;
        h.engine.add_profile("dev").await.unwrap();
        h.engine
            .add_iam_user(user("alice", "dev"), keys("AKIAALICE00000000001"))
            .await
            .unwrap();
        h
    }

    fn workspace_file(&self) -> String {
        std::fs::read_to_string(self.mock.home.path().join("rolehop/workspace.json"))
            .unwrap_or_default()
    }
}

fn user(name: &str, profile: &str) -> NewIamUser {
    NewIamUser {
        name: name.to_owned(),
        profile: profile.to_owned(),
        ..Default::default()
    }
}

fn keys(access_key_id: &str) -> AccessKeys {
    AccessKeys {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: Zeroizing::new(SECRET.to_owned()),
    }
}

#[tokio::test]
async fn adding_an_iam_user_puts_its_keys_in_the_keychain_and_nowhere_else() {
    let h = Harness::with_alice().await;
    let secrets = h.secrets();
    assert_eq!(secrets.len(), 1, "one entry for alice's keys");
    assert!(
        secrets[0].contains("AKIAALICE00000000001") && secrets[0].contains(SECRET),
        "the entry holds both keys"
    );
    let workspace = h.workspace_file();
    assert!(workspace.contains("alice"), "{workspace}");
    assert!(
        !workspace.contains(SECRET),
        "the secret stays out of the workspace"
    );
}

#[tokio::test]
async fn a_refused_add_leaves_the_keychain_unchanged() {
    let h = Harness::with_alice().await;
    let before = h.secrets();

    // A name already taken, a profile name that would inject INI, keys that are not keys.
    let refused = [
        (user("alice", "dev"), keys("AKIAOTHER00000000002")),
        (user("bob", "dev]\n[x"), keys("AKIABOB0000000000003")),
        (user("carol", "dev"), keys("not-an-access-key-id")),
    ];
    for (spec, keys) in refused {
        let name = spec.name.clone();
        assert!(
            h.engine.add_iam_user(spec, keys).await.is_err(),
            "{name} was added"
        );
        assert_eq!(
            h.secrets(),
            before,
            "the keychain changed after refusing {name}"
        );
    }
    let names: Vec<String> = h
        .engine
        .sessions()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.session.name)
        .collect();
    assert_eq!(names, ["alice"]);
}

#[tokio::test]
async fn removing_an_iam_user_deletes_its_keys_and_keeps_the_others() {
    let h = Harness::with_alice().await;
    h.engine.add_profile("ops").await.unwrap();
    h.engine
        .add_iam_user(user("bob", "ops"), keys("AKIABOB0000000000002"))
        .await
        .unwrap();
    assert_eq!(h.secrets().len(), 2);

    h.engine.remove_session("alice", false).await.unwrap();
    let secrets = h.secrets();
    assert_eq!(secrets.len(), 1);
    assert!(
        secrets[0].contains("AKIABOB0000000000002"),
        "bob's keys stay"
    );
}

#[tokio::test]
async fn two_engines_on_one_store_see_the_same_keychain() {
    // The choice of store travels with the configuration: the delivery and every engine
    // built from it share one keychain.
    let store = KeychainStore::mock();
    let config = |home: &std::path::Path| EngineConfig {
        home: home.to_owned(),
        keychain_service: SERVICE.to_owned(),
        keychain_store: store.clone(),
        ..EngineConfig::from_env()
    };
    let home = tempfile::tempdir().unwrap();
    config(home.path())
        .keychain()
        .set("probe", "value")
        .unwrap();
    let engine = Engine::builder(config(home.path()), Arc::new(NoPrompt(String::new())))
        .open()
        .await
        .unwrap();
    assert_eq!(
        rolehop_core::testing::keychain(&engine)
            .get("probe")
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("value")
    );
}
