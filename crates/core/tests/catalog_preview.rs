//! Issue 25, part 4 (the window's catalog pane) at the engine: a preview is the plan the
//! sync then applies and writes nothing; a file catalog that changed is news. A local
//! file is the catalog's source here (a real file, no peer needed); the end-to-end
//! suite `desktop_catalog` runs the same through a real `git daemon`. The keychain is
//! keyring-core's mock store (no D-Bus in these tests); nothing here calls STS.

use std::sync::Arc;

use rolehop_core::catalog::{CatalogAddRequest, CatalogChange};
use rolehop_core::mfa::NoPrompt;
use rolehop_core::{AccessKeys, Engine, NewIamUser, Problem as _};
use zeroize::Zeroizing;

mod common;
use common::MockHome;

const SERVICE: &str = "rolehop-catalog-preview";

struct Harness {
    mock: MockHome,
    engine: Engine,
    catalog: std::path::PathBuf,
}

fn example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/catalog.example.toml"
    ))
    .unwrap()
}

impl Harness {
    /// IAM user `alice` on profile `dev`, and the docs' example catalog followed as
    /// `platform` from a file, `{me}` not bound yet.
    async fn new() -> Harness {
        let mock = MockHome::new(SERVICE);
        let prompt = Arc::new(NoPrompt("no MFA in these tests".into()));
        let engine = Engine::builder(mock.config(), prompt).open().await.unwrap();
        engine.add_profile("dev").await.unwrap();
        let alice = NewIamUser {
            name: "alice".into(),
            profile: "dev".into(),
            ..Default::default()
        };
        let keys = AccessKeys {
            access_key_id: "AKIAALICE00000000001".into(),
            secret_access_key: Zeroizing::new(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEVERELSEWHERE".into(),
            ),
        };
        engine.add_iam_user(alice, keys).await.unwrap();
        let catalog = mock.home.path().join("catalog.toml");
        std::fs::write(&catalog, example()).unwrap();
        engine
            .catalog_add(CatalogAddRequest {
                source: catalog.to_string_lossy().into_owned(),
                name: Some("platform".into()),
                git_ref: None,
                require_signed: false,
                bindings: Vec::new(),
            })
            .await
            .unwrap();
        Harness {
            mock,
            engine,
            catalog,
        }
    }

    /// The workspace file's bytes and modification time.
    fn workspace_file(&self) -> (Vec<u8>, std::time::SystemTime) {
        let path = self.mock.home.path().join("rolehop/workspace.json");
        let meta = std::fs::metadata(&path).unwrap();
        (std::fs::read(&path).unwrap(), meta.modified().unwrap())
    }

    fn names(&self, list: &[rolehop_core::sync::SyncedSession]) -> Vec<String> {
        let mut n: Vec<String> = list.iter().map(|s| s.name.clone()).collect();
        n.sort();
        n
    }
}

fn bind_me() -> CatalogChange {
    CatalogChange::Bind {
        catalog: "platform".into(),
        placeholder: "me".into(),
        session: "alice".into(),
    }
}

fn sync() -> CatalogChange {
    CatalogChange::Sync {
        catalog: "platform".into(),
    }
}

#[tokio::test]
async fn part4_preview_is_the_plan_the_sync_applies_and_writes_nothing() {
    let h = Harness::new().await;
    let before = h.workspace_file();

    let preview = h.engine.catalog_preview(bind_me()).await.unwrap();
    assert_eq!(
        h.names(&preview.sync.added),
        ["prod-deploy", "staging-codebuild"]
    );
    assert!(preview.unbound.is_empty(), "{:?}", preview.unbound);
    assert_eq!(h.workspace_file(), before, "a preview wrote the workspace");
    assert_eq!(h.engine.workspace().await.unwrap().sessions.len(), 1);

    let done = h
        .engine
        .catalog_bind("platform", "me", "alice")
        .await
        .unwrap();
    assert_eq!(
        done.sync, preview.sync,
        "the sync did other than its preview"
    );
    assert_eq!(done.commit, preview.commit);

    // The catalog changes: deploy leaves, a new role arrives, codebuild's ARN moves.
    let changed = example()
        .replace("CodeBuildRole", "CodeBuildRoleV2")
        .split("[[roles]]\nname = \"deploy\"")
        .next()
        .unwrap()
        .to_owned()
        + "[[roles]]\nname = \"audit\"\ngroup = \"prod\"\nparent = \"codebuild\"\nrole_arn = \"arn:aws:iam::222222222222:role/Audit\"\n";
    std::fs::write(&h.catalog, changed).unwrap();
    let before = h.workspace_file();
    let preview = h.engine.catalog_preview(sync()).await.unwrap();
    assert_eq!(h.names(&preview.sync.added), ["prod-audit"]);
    assert_eq!(h.names(&preview.sync.updated), ["staging-codebuild"]);
    assert_eq!(h.names(&preview.sync.removed), ["prod-deploy"]);
    assert_eq!(h.workspace_file(), before, "a preview wrote the workspace");

    let done = h.engine.catalog_sync("platform").await.unwrap();
    assert_eq!(
        done.sync, preview.sync,
        "the sync did other than its preview"
    );
    // Nothing left to do: the preview of a re-sync adds, updates and removes nothing.
    let again = h.engine.catalog_preview(sync()).await.unwrap();
    assert!(!again.sync.changed(), "{:?}", again.sync);
}

#[tokio::test]
async fn part4_an_unbound_placeholder_and_its_roles_show_in_the_preview() {
    let h = Harness::new().await;
    let preview = h.engine.catalog_preview(sync()).await.unwrap();
    assert_eq!(preview.unbound, ["me"]);
    let skipped: Vec<&str> = preview.skipped.iter().map(|s| s.role.as_str()).collect();
    assert_eq!(skipped, ["codebuild", "deploy"]);
    assert!(!preview.sync.changed());
}

#[tokio::test]
async fn part4_a_refused_preview_names_the_field_and_changes_nothing() {
    let h = Harness::new().await;
    let before = h.workspace_file();
    let secrets = h.mock.secrets(None);
    let catalogs = std::fs::read_dir(h.mock.home.path().join("rolehop/catalogs"))
        .map(|d| d.count())
        .unwrap_or(0);

    let add = |source: &str| CatalogChange::Add {
        request: CatalogAddRequest {
            source: source.into(),
            name: Some("other".into()),
            git_ref: None,
            require_signed: false,
            bindings: Vec::new(),
        },
    };
    let e = h.engine.catalog_preview(add("-x")).await.unwrap_err();
    assert_eq!(e.payload().field.as_deref(), Some("source"), "{e}");

    // A hostile catalog: refused with its line and field, as the add would refuse it.
    let hostile = h.mock.home.path().join("hostile.toml");
    std::fs::write(
        &hostile,
        example().replace(
            "duration = 3600",
            "duration = 3600\ncredential_process = \"/bin/sh -c id\"",
        ),
    )
    .unwrap();
    let e = h
        .engine
        .catalog_preview(add(&hostile.to_string_lossy()))
        .await
        .unwrap_err();
    let payload = e.payload();
    assert_eq!(
        payload.field.as_deref(),
        Some("roles[0].credential_process"),
        "{e}"
    );
    assert!(payload.message.contains("line 21"), "{}", payload.message);

    let e = h
        .engine
        .catalog_preview(CatalogChange::Bind {
            catalog: "platform".into(),
            placeholder: "you".into(),
            session: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.payload().field.as_deref(), Some("placeholder"), "{e}");

    assert_eq!(h.workspace_file(), before);
    assert_eq!(h.mock.secrets(None), secrets);
    let after = std::fs::read_dir(h.mock.home.path().join("rolehop/catalogs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(after, catalogs, "a preview left a copy behind");
}

#[tokio::test]
async fn part4_a_file_catalog_that_changed_is_news_until_it_is_synced() {
    let h = Harness::new().await;
    let news = h.engine.catalog_news().await.unwrap();
    assert_eq!(news.len(), 1);
    assert!(!news[0].moved_on, "{news:?}");
    assert!(news[0].synced.as_deref().unwrap().starts_with("sha256:"));

    std::fs::write(&h.catalog, example().replace("eu-west-1", "eu-west-2")).unwrap();
    let news = h.engine.catalog_news().await.unwrap();
    assert!(news[0].moved_on, "{news:?}");
    assert_ne!(news[0].latest, news[0].synced);

    h.engine.catalog_sync("platform").await.unwrap();
    let news = h.engine.catalog_news().await.unwrap();
    assert!(!news[0].moved_on, "{news:?}");
}

#[tokio::test]
async fn part4_a_confirmed_preview_applies_the_version_it_showed_or_nothing() {
    let h = Harness::new().await;
    let preview = h.engine.catalog_preview(bind_me()).await.unwrap();
    // The source moves on between the preview and its confirmation.
    std::fs::write(&h.catalog, example().replace("eu-west-1", "eu-west-2")).unwrap();
    let before = h.workspace_file();
    let e = h
        .engine
        .catalog_confirm(bind_me(), preview.commit.clone())
        .await
        .unwrap_err();
    assert_eq!(e.payload().field.as_deref(), Some("catalog"), "{e}");
    assert!(e.to_string().contains("moved on since its preview"), "{e}");
    assert_eq!(h.workspace_file(), before, "a refused confirm wrote");

    // Previewed again, the confirmation applies exactly that plan.
    let preview = h.engine.catalog_preview(bind_me()).await.unwrap();
    let done = h
        .engine
        .catalog_confirm(bind_me(), preview.commit.clone())
        .await
        .unwrap();
    assert_eq!(done.sync, preview.sync);
    assert_eq!(done.commit, preview.commit);
}
