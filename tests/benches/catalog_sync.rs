//! `catalog sync` of a 2,000-role catalog (targets: a first sync under 2 s, a re-sync
//! with nothing changed under 1 s and no write).
//!
//! The catalog (1,000 roles chained from `{me}`, 1,000 more chained from those) is
//! committed to a git repository on local disk, followed through the user's git like a
//! remote one; the IAM user `me` is bound to lives in a private gnome-keyring. Timed
//! through `Engine` in process, seven runs each, medians printed beside the floor (the
//! parse alone):
//! - first sync: `catalog add` into a workspace holding none of its sessions (2,000
//!   added), undone with `catalog remove` between runs;
//! - re-sync, nothing changed: `catalog sync` (git fetch, parse, plan), checked to leave
//!   the workspace file's bytes and modification time alone.
//!
//! Run: `cargo bench -p rolehop-e2e --bench catalog_sync`.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rolehop_core::catalog::{CatalogAddRequest, parse};
use rolehop_core::mfa::NoPrompt;
use rolehop_core::{Engine, NewIamUser};
use rolehop_e2e::Peers;
use rolehop_e2e::timing::median;

const RUNS: usize = 7;

fn catalog() -> String {
    let mut text =
        String::from("schema = 1\nregion = \"eu-west-1\"\n[sources.me]\ntype = \"iam-user\"\n");
    for i in 0..1000 {
        text += &format!(
            "[[roles]]\nname = \"hop-{i:04}\"\nparent = \"{{me}}\"\nrole_arn = \"arn:aws:iam::{:012}:role/CodeBuildRole\"\ngroup = \"team-{}\"\n",
            100_000_000_000u64 + i,
            i % 20
        );
        text += &format!(
            "[[roles]]\nname = \"deploy-{i:04}\"\nparent = \"hop-{i:04}\"\nrole_arn = \"arn:aws:iam::{:012}:role/ResourceDeployCAR\"\nexternal_id = \"deploy-{i}\"\nduration = 3600\n",
            200_000_000_000u64 + i
        );
    }
    text
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let peers = Peers::builder()
        .with_secret_service()
        .start()
        .expect("peers");
    // SAFETY: no thread exists yet in this process.
    unsafe { peers.secret_service().export_to_this_process() };
    let text = catalog();
    println!(
        "catalog_sync: a catalog of 2,000 roles, {} KiB",
        text.len() / 1024
    );
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(repo.path().join("catalog.toml"), &text).unwrap();
    git(repo.path(), &["add", "catalog.toml"]);
    git(repo.path(), &["commit", "--quiet", "-m", "catalog"]);

    let parse_runs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(parse(&text).unwrap().roles.len(), 2000);
            t.elapsed()
        })
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = peers.home().engine_config(None, Duration::from_secs(30));
        let prompt = Arc::new(NoPrompt("no MFA in this benchmark".into()));
        let engine = Engine::builder(config, prompt).open().await.unwrap();
        engine
            .add_iam_user(
                NewIamUser {
                    name: "me".into(),
                    profile: "me".into(),
                    region: Some("eu-west-1".into()),
                    mfa_serial: None,
                    session_duration: Some(3600),
                    console: Default::default(),
                },
                rolehop_core::AccessKeys {
                    access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                    secret_access_key: String::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").into(),
                },
            )
            .await
            .unwrap();
        let add = || CatalogAddRequest {
            source: repo.path().display().to_string(),
            name: Some("team".into()),
            git_ref: None,
            require_signed: false,
            bindings: vec![("me".into(), "me".into())],
        };
        let workspace = peers.home().rolehop_home().join("workspace.json");
        let mut first = Vec::new();
        for run in 0..RUNS {
            if run > 0 {
                engine.catalog_remove("team").await.unwrap();
            }
            let t = Instant::now();
            let report = engine.catalog_add(add()).await.unwrap();
            first.push(t.elapsed());
            assert_eq!(report.sync.counts.added, 2000);
        }
        let size = std::fs::metadata(&workspace).unwrap().len();
        let mut again = Vec::new();
        for _ in 0..RUNS {
            let before = (std::fs::read(&workspace).unwrap(), std::fs::metadata(&workspace).unwrap().modified().unwrap());
            let t = Instant::now();
            let report = engine.catalog_sync("team").await.unwrap();
            again.push(t.elapsed());
            assert!(!report.sync.changed());
            let after = (std::fs::read(&workspace).unwrap(), std::fs::metadata(&workspace).unwrap().modified().unwrap());
            assert!(before == after, "a re-sync with nothing changed wrote the workspace");
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("catalog_sync: workspace after the first sync: {} KiB", size / 1024);
        println!("catalog_sync: median of {RUNS}      first sync   re-sync (no change)   parse alone (floor)");
        println!(
            "catalog_sync:                 {:>7.0} ms   {:>7.0} ms              {:>7.1} ms",
            ms(median(first.clone())),
            ms(median(again.clone())),
            ms(median(parse_runs))
        );
        println!(
            "catalog_sync: first sync {} the 2 s target; re-sync {} the 1 s target, no write",
            if median(first) < Duration::from_secs(2) { "meets" } else { "MISSES" },
            if median(again) < Duration::from_secs(1) { "meets" } else { "MISSES" }
        );
    });
}
