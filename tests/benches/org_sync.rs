//! `org sync` of an organization of 1,000 member accounts, against moto's
//! Organizations (target: under 10 s).
//!
//! One organization made with boto3 (1,000 accounts under the root), an IAM user of the
//! management account as the `via` session, then `Engine::org_sync` timed three times:
//! the first sync (1,000 sessions added: 50 ListAccounts pages, one workspace write),
//! a re-sync with nothing changed (every session kept, nothing written), and a re-sync
//! after 10 accounts closed (10 removed). Each figure is one wall-clock run, with the
//! workspace's size after the first.
//!
//! Run: `cargo bench -p rolehop-e2e --bench org_sync` (or `cargo xtask bench`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rolehop_core::mfa::NoPrompt;
use rolehop_core::org::OrgSyncRequest;
use rolehop_core::{Engine, NewIamUser};
use rolehop_e2e::{Peers, python};

const ACCOUNTS: usize = 1_000;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let peers = Peers::builder()
        .with_moto()
        .with_secret_service()
        .start()
        .expect("peers");
    let endpoint = peers.moto().endpoint();
    // SAFETY: no thread exists yet in this process.
    unsafe {
        peers.secret_service().export_to_this_process();
        std::env::set_var("AWS_ENDPOINT_URL_ORGANIZATIONS", &endpoint);
    }
    let made = Instant::now();
    let out = python(
        &format!(
            r#"
import boto3
org = boto3.client("organizations")
org.create_organization(FeatureSet="ALL")
for i in range({ACCOUNTS}):
    org.create_account(Email=f"a{{i}}@example.com", AccountName=f"Account {{i:04}}")
ids = [a["Id"] for a in org.get_paginator("list_accounts").paginate().build_full_result()["Accounts"]]
print(" ".join(ids))
"#
        ),
        peers.moto().admin_env(),
    )
    .expect("python runs");
    assert!(out.status.success(), "{out:?}");
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        ids.len(),
        ACCOUNTS + 1,
        "the members and the management account"
    );
    println!(
        "org_sync: moto organization of {ACCOUNTS} accounts made in {:.1} s",
        made.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mgmt = peers.moto().create_user("mgmt").unwrap();
        let config = peers
            .home()
            .engine_config(Some(endpoint.clone()), Duration::from_secs(30));
        let prompt = Arc::new(NoPrompt("no MFA in this benchmark".into()));
        let engine = Engine::builder(config, prompt)
        .open()
            .await
            .unwrap();
        engine
            .add_iam_user(
                NewIamUser {
                    console: Default::default(),
                    name: "mgmt".into(),
                    profile: "mgmt".into(),
                    region: Some("us-east-1".into()),
                    mfa_serial: None,
                    session_duration: Some(3600),
                },
                mgmt.access_keys(),
            )
            .await
            .unwrap();
        let request = || OrgSyncRequest {
            via: "mgmt".into(),
            role_name: "OrganizationAccountAccessRole".into(),
            profile_template: None,
            ous: Vec::new(),
        };
        let timed = |label: &'static str| {
            let engine = &engine;
            async move {
                let started = Instant::now();
                let report = engine.org_sync(request()).await.unwrap();
                let took = started.elapsed();
                let c = report.counts;
                println!(
                    "org_sync: {label}: {:.2} s (added {}, updated {}, removed {}, kept {})",
                    took.as_secs_f64(),
                    c.added,
                    c.updated,
                    c.removed,
                    c.kept
                );
                (took, report)
            }
        };
        let (first, report) = timed("first sync of 1,000 accounts").await;
        assert_eq!(report.counts.added as usize, ACCOUNTS);
        let size = std::fs::metadata(peers.home().rolehop_home().join("workspace.json"))
            .unwrap()
            .len();
        println!("org_sync: workspace after it: {} KiB", size / 1024);
        let (_, again) = timed("re-sync, nothing changed").await;
        assert!(!again.changed());

        let closing: Vec<&String> = ids.iter().rev().take(10).collect();
        let script = format!(
            "import boto3\norg = boto3.client('organizations')\nfor i in {closing:?}:\n    org.close_account(AccountId=i)\n"
        );
        let out = python(&script, peers.moto().admin_env()).expect("python runs");
        assert!(out.status.success(), "{out:?}");
        let (_, after) = timed("re-sync after 10 accounts closed").await;
        assert_eq!(after.counts.removed, 10);
        println!(
            "org_sync: first sync {} the 10 s target",
            if first < Duration::from_secs(10) {
                "meets"
            } else {
                "MISSES"
            }
        );
    });
}
