//! Rolehop's overhead per hop when starting a 3-hop chain, against moto.
//!
//! In one run, interleaved, alternating which goes first: (a) `Engine::start` of a leaf
//! role three hops from an IAM user with MFA, every hop's cache dropped first so all
//! three STS calls happen, and (b) the same three STS calls made with a bare
//! aws-sdk-sts client. Rolehop's write-behind (state file, keychain cache writes) is
//! flushed before (b) is timed, so it never slows the baseline. The difference of the
//! medians, divided by three, is what Rolehop adds per hop (signed: a negative figure is
//! printed as such): the keychain batch (cache lookups, keys), the provider chain,
//! events, and whatever of the write-behind competes with its own STS calls.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p rolehop-e2e --bench engine_chain`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::Credentials as SdkCredentials;
use rolehop_core::mfa::{MfaFuture, MfaPrompt, MfaRequest};
use rolehop_core::{Engine, NewIamUser, NewRole, StartOptions};
use rolehop_e2e::Peers;
use rolehop_e2e::timing::{median, ms};
use zeroize::Zeroizing;

const ROUNDS: usize = 60;

struct Code;
impl MfaPrompt for Code {
    fn ask(&self, _: MfaRequest) -> MfaFuture {
        Box::pin(async { Ok(Zeroizing::new("123456".to_owned())) })
    }
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
    // SAFETY: no thread exists yet in this process.
    unsafe { peers.secret_service().export_to_this_process() };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let endpoint = peers.moto().endpoint();
        let alice = peers.moto().create_user("alice").unwrap();
        let config = peers
            .home()
            .engine_config(Some(endpoint.clone()), Duration::from_secs(30));
        let engine = Engine::builder(config, Arc::new(Code))
        .open()
            .await
            .unwrap();
        let serial = "arn:aws:iam::111111111111:mfa/alice".to_owned();
        let user = engine
            .add_iam_user(
                NewIamUser {
                    console: Default::default(),
                    name: "alice".into(),
                    profile: "alice".into(),
                    region: Some("us-east-1".into()),
                    mfa_serial: Some(serial.clone()),
                    session_duration: Some(3600),
                },
                alice.access_keys(),
            )
            .await
            .unwrap();
        let mid_arn = "arn:aws:iam::111111111111:role/CodeBuildRole";
        let leaf_arn = "arn:aws:iam::222222222222:role/ResourceDeployCAR";
        let mid = engine
            .add_role(NewRole {
                name: "codebuild".into(),
                profile: "codebuild".into(),
                parent: "alice".into(),
                role_arn: mid_arn.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let leaf = engine
            .add_role(NewRole {
                name: "deploy".into(),
                profile: "production".into(),
                parent: "codebuild".into(),
                role_arn: leaf_arn.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let ids = [user.session.id, mid.session.id, leaf.session.id];

        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .no_credentials()
            .endpoint_url(&endpoint)
            .region(Region::new("us-east-1"))
            .load()
            .await;
        let bare = aws_sdk_sts::Client::new(&sdk);
        let signer = |c: &aws_sdk_sts::types::Credentials| {
            SdkCredentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "bare",
            )
        };
        let bare_chain = || async {
            let keys = SdkCredentials::new(
                &alice.access_key_id,
                &alice.secret_access_key,
                None,
                None,
                "bare",
            );
            let t = bare
                .get_session_token()
                .duration_seconds(3600)
                .serial_number(&serial)
                .token_code("123456")
                .customize()
                .config_override(aws_sdk_sts::config::Builder::default().credentials_provider(keys))
                .send()
                .await
                .unwrap();
            let mut creds = t.credentials().unwrap().clone();
            for (arn, name) in [(mid_arn, "rolehop-codebuild"), (leaf_arn, "rolehop-deploy")] {
                let out = bare
                    .assume_role()
                    .role_arn(arn)
                    .role_session_name(name)
                    .duration_seconds(3600)
                    .customize()
                    .config_override(
                        aws_sdk_sts::config::Builder::default()
                            .credentials_provider(signer(&creds)),
                    )
                    .send()
                    .await
                    .unwrap();
                creds = out.credentials().unwrap().clone();
            }
        };

        // Warm both paths (connection pools, keychain session).
        for _ in 0..3 {
            bare_chain().await;
            engine
                .start("deploy", StartOptions::default())
                .await
                .unwrap();
        }
        let (mut ours, mut ours_flushed, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        let mut differences = Vec::new();
        for round in 0..ROUNDS {
            for id in ids {
                rolehop_core::testing::resolver(&engine).forget(id).await.unwrap();
            }
            // Nothing of Rolehop's runs while the baseline is timed: the previous round's
            // write-behind (state file, keychain cache writes) lands before either
            // timed region, and this round's before the baseline when Rolehop went first.
            // During Rolehop's own start it runs behind its STS calls, as for users; what
            // is left of it after the start returns is the `+ flush` figure.
            engine.flush().await.unwrap();
            let rolehop = async {
                let t = Instant::now();
                engine
                    .start("deploy", StartOptions::default())
                    .await
                    .unwrap();
                let started = t.elapsed();
                engine.flush().await.unwrap();
                (started, t.elapsed())
            };
            let baseline = async {
                let t = Instant::now();
                bare_chain().await;
                t.elapsed()
            };
            // Alternate which goes first, so neither always pays for a cold path.
            let ((started, flushed), bare) = if round % 2 == 0 {
                let r = rolehop.await;
                (r, baseline.await)
            } else {
                let b = baseline.await;
                (rolehop.await, b)
            };
            ours.push(started);
            ours_flushed.push(flushed);
            theirs.push(bare);
            differences.push(ms(started) - ms(bare));
        }
        differences.sort_by(f64::total_cmp);
        let paired = differences[differences.len() / 2];
        let (o, f, b) = (median(ours), median(ours_flushed), median(theirs));
        let per_hop = (ms(o) - ms(b)) / 3.0;
        println!(
            "engine_chain: 3-hop chain start against moto, {ROUNDS} rounds (order alternating), medians"
        );
        println!("  rolehop start (3 STS calls + engine): {:>8.2} ms", ms(o));
        println!("  rolehop start + flush of write-behind:{:>8.2} ms", ms(f));
        println!("  bare aws-sdk-sts (same 3 calls):      {:>8.2} ms", ms(b));
        println!(
            "  ratio rolehop/bare:                   {:>8.2}x",
            o.as_secs_f64() / b.as_secs_f64()
        );
        println!(
            "  rolehop overhead per hop:             {per_hop:>+8.3} ms (difference of medians / 3; goal <= 1 ms)"
        );
        println!(
            "  median paired difference per hop:     {:>+8.3} ms (per round, rolehop - bare, / 3)",
            paired / 3.0
        );
        // The CLI waits for the write-behind before it exits: what a `session start`
        // costs a person over bare aws-sdk-sts, per hop.
        println!(
            "  overhead per hop with the flush:      {:>+8.3} ms (difference of medians / 3)",
            (ms(f) - ms(b)) / 3.0
        );
    });
}
