//! How long a sync of 1,000 accounts × 3 roles takes, against the IAM Identity Center
//! stand-in (real HTTP, the real aws-sdk-sso client), and how many portal calls it makes.
//!
//! In process, on the engine the CLI runs: log in (the device flow, approved through the
//! stand-in), then time (a) the first sync (3,000 sessions added: one ListAccounts page
//! walk, one ListAccountRoles per account through 8 workers, one locked workspace
//! update) and (b) a re-sync that changes nothing. Prints the figures and the calls the
//! stand-in counted; the goal is under 10 s and at most one ListAccountRoles per
//! account. No assertion on time: a figure to read.
//!
//! Run: `cargo bench -p rolehop-e2e --bench sso_sync` (with the peers venv on PATH).

use std::sync::Arc;
use std::time::Instant;

use rolehop_core::mfa::NoPrompt;
use rolehop_core::rotation::SystemClock;
use rolehop_core::sso::NewIntegration;
use rolehop_core::sso::assignments::{CONCURRENCY, assignments};
use rolehop_core::{Engine, EngineConfig};
use rolehop_e2e::sso_portal::START_URL;
use rolehop_e2e::{Peers, SsoOperation, SsoPortal, SsoPortalConfig};

const ACCOUNTS: usize = 1000;
const ROLES: [&str; 3] = ["Admin", "ReadOnly", "Billing"];

/// This process's CPU time (user + system), from `/proc/self/stat`.
fn cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::time::Duration::from_millis(ticks * 1000 / per_second)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let peers = Peers::builder()
        .with_moto()
        .with_secret_service()
        .start()
        .expect("peers");
    let portal = SsoPortal::start(peers.moto()).expect("stand-in");
    let seeding = Instant::now();
    portal.seed_generated(ACCOUNTS, &ROLES).expect("seed");
    // The portal's largest page, as AWS allows (the client asks for 100).
    portal
        .configure(&SsoPortalConfig {
            page_size: Some(100),
            ..SsoPortalConfig::default()
        })
        .expect("configure");
    println!(
        "seeded {ACCOUNTS} accounts x {} roles in {:.1} s",
        ROLES.len(),
        seeding.elapsed().as_secs_f64()
    );
    // SAFETY: no thread of this process reads the environment yet.
    unsafe {
        peers.secret_service().export_to_this_process();
        for (k, v) in portal.endpoint_env() {
            std::env::set_var(k, v);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = EngineConfig {
            home: peers.home().rolehop_home(),
            keychain_service: peers.home().keychain_service().to_owned(),
            ..EngineConfig::from_env()
        };
        let engine = Engine::builder(
            config,
            Arc::new(NoPrompt("no MFA in this bench".into())),
        )
        .open()
        .await
        .expect("engine");
        engine
            .add_integration(NewIntegration {
                name: "acme".into(),
                start_url: START_URL.into(),
                region: "eu-west-1".into(),
                scopes: vec![],
            })
            .await
            .expect("integration");
        let pending = engine.begin_sso_login("acme").await.expect("login starts");
        portal.approve(&pending.device.user_code).expect("approve");
        engine
            .complete_sso_login(pending, &SystemClock)
            .await
            .expect("login");

        portal.reset_calls().expect("reset");
        let started = Instant::now();
        let first = engine.sso_sync("acme", None).await.expect("first sync");
        let first_time = started.elapsed();
        let calls = portal.calls().expect("calls");
        let per_account_max = calls
            .list_account_roles_by_account
            .values()
            .max()
            .copied()
            .unwrap_or(0);
        println!(
            "first sync of {ACCOUNTS} x {}: {:.2} s (goal < 10 s); added {}, kept {}",
            ROLES.len(),
            first_time.as_secs_f64(),
            first.counts.added,
            first.counts.kept
        );
        println!(
            "calls: ListAccounts {}, ListAccountRoles {} over {} accounts (max {} per account; goal 1), \
             CreateToken {}",
            calls.of(SsoOperation::ListAccounts),
            calls.of(SsoOperation::ListAccountRoles),
            calls.list_account_roles_by_account.len(),
            per_account_max,
            calls.of(SsoOperation::CreateToken),
        );

        // Where a sync's time goes: the portal listing alone, through the same client.
        let integration = engine.integration("acme").await.expect("integration");
        let sso = rolehop_core::testing::resolver(&engine).sso();
        let token = sso.access_token(&integration).await.expect("token");
        let started = Instant::now();
        let listed = assignments(sso.portal(), &integration.region, &token)
            .await
            .expect("listing");
        println!(
            "listing alone (ListAccounts + {} ListAccountRoles, {CONCURRENCY} at a time): {:.2} s",
            listed.len(),
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let cpu_before = cpu_time();
        for a in listed.iter().take(100) {
            sso.portal()
                .account_roles(&integration.region, &token, &a.account.account_id)
                .await
                .expect("roles");
        }
        println!(
            "one ListAccountRoles at a time: {:.1} ms per call, {:.1} ms of this process's CPU \
             (100 calls)",
            started.elapsed().as_secs_f64() * 10.0,
            (cpu_time() - cpu_before).as_secs_f64() * 10.0
        );

        portal.reset_calls().expect("reset");
        let started = Instant::now();
        let again = engine.sso_sync("acme", None).await.expect("re-sync");
        println!(
            "re-sync (nothing changed): {:.2} s; added {}, updated {}, removed {}, kept {}; \
             ListAccountRoles {}",
            started.elapsed().as_secs_f64(),
            again.counts.added,
            again.counts.updated,
            again.counts.removed,
            again.counts.kept,
            portal
                .calls()
                .expect("calls")
                .of(SsoOperation::ListAccountRoles),
        );
    });
}
