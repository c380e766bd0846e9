//! A federated start from a SAML response to active credentials in the credentials
//! file, against pysaml2's identity provider and the verifying layer before moto's STS
//! (issue 21's target: under 300 ms plus STS).
//!
//! One signed response from the provider's login, then, interleaved and alternating
//! which goes first: (a) `Engine::start` of the federated session with it (read and
//! checked, the profile claimed, `AssumeRoleWithSAML`, the credentials written to the
//! AWS files, the session marked active), write-behind flushed before the next timing;
//! (b) the same `AssumeRoleWithSAML` made with a bare aws-sdk-sts client to the same
//! layer. The difference of the medians is what Rolehop adds around STS.
//!
//! Run: `cargo bench -p rolehop-e2e --bench saml_start` (or `cargo xtask bench`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use rolehop_core::mfa::NoPrompt;
use rolehop_core::{Engine, NewSamlRole, StartOptions};
use rolehop_e2e::saml_idp::{PASSWORD, PROVIDER_ARN, USER, role_arn};
use rolehop_e2e::timing::{median, ms};
use rolehop_e2e::{Peers, SamlIdp};
use zeroize::Zeroizing;

const ROUNDS: usize = 30;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let peers = Peers::builder()
        .with_moto()
        .with_secret_service()
        .start()
        .expect("peers");
    let idp = SamlIdp::start(peers.moto()).expect("the SAML provider starts");
    idp.offer_roles(&["Admin", "ReadOnly"]).unwrap();
    // Valid for the whole run.
    idp.configure(serde_json::json!({ "lifetime_minutes": 30 }))
        .unwrap();
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let sts = idp.sts_endpoint();
    // SAFETY: no thread exists yet in this process.
    unsafe {
        peers.secret_service().export_to_this_process();
        for (k, v) in peers.home().env() {
            std::env::set_var(k, v);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = peers
            .home()
            .engine_config(Some(sts.clone()), Duration::from_secs(30));
        let engine = Engine::builder(config, Arc::new(NoPrompt("no MFA here".into())))
            .aws_files(None)
            .open()
            .await
            .unwrap();
        engine
            .add_saml_role(NewSamlRole {
                name: "corp".into(),
                profile: "corp".into(),
                region: Some("us-east-1".into()),
                idp_url: idp.idp_url(),
                role_arn: role_arn("Admin"),
                principal_arn: PROVIDER_ARN.into(),
                duration: Some(3600),
            })
            .await
            .unwrap();
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .no_credentials()
            .endpoint_url(&sts)
            .region(Region::new("us-east-1"))
            .load()
            .await;
        let bare = aws_sdk_sts::Client::new(&sdk);
        let ours = || async {
            let started = Instant::now();
            let options = StartOptions {
                saml_assertion: Some(Zeroizing::new(assertion.clone())),
                ..StartOptions::default()
            };
            engine.start("corp", options).await.unwrap();
            let took = started.elapsed();
            engine.flush().await.unwrap();
            took
        };
        let theirs = || async {
            let started = Instant::now();
            bare.assume_role_with_saml()
                .role_arn(role_arn("Admin"))
                .principal_arn(PROVIDER_ARN)
                .saml_assertion(&assertion)
                .duration_seconds(3600)
                .send()
                .await
                .unwrap();
            started.elapsed()
        };
        // Warm both paths (connections, the layer's imports).
        for _ in 0..3 {
            ours().await;
            theirs().await;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            if round % 2 == 0 {
                a.push(ours().await);
                b.push(theirs().await);
            } else {
                b.push(theirs().await);
                a.push(ours().await);
            }
        }
        let credentials =
            std::fs::read_to_string(peers.home().aws_credentials_file()).unwrap_or_default();
        assert!(credentials.contains("[corp]"), "{credentials}");
        let (a, b) = (median(a), median(b));
        let added = a.as_secs_f64() - b.as_secs_f64();
        println!("saml_start: {ROUNDS} rounds (order alternating), medians");
        println!("  rolehop start with a SAML response:  {:>8.2} ms", ms(a));
        println!("  bare aws-sdk-sts AssumeRoleWithSAML: {:>8.2} ms", ms(b));
        println!(
            "  added by Rolehop: {:.2} ms ({} the 300 ms target)",
            added * 1e3,
            if added < 0.3 { "meets" } else { "MISSES" }
        );
    });
}
