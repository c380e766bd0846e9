//! Offering the roles of one SAML response: 50 roles granted by pysaml2's identity
//! provider (signed, both pair orders), then, per round: (a) reading the response
//! (`SamlResponse::parse`); (b) the offer list for a federated integration over a
//! workspace of 200 IAM users in other accounts (each role's account name and
//! session looked up among them and found in none: the longest search); (c) filtering the offers as a name is typed, one keystroke at a time
//! (`filter_offers`), the median of a keystroke. Issue 21's target: the 50 offered
//! roles filter at the main list's keystroke speed.
//!
//! Run: `cargo bench -p rolehop-e2e --bench saml_offers` (or `cargo xtask bench`).

use std::time::Instant;

use rolehop_core::model::{IamUser, IntegrationId, ProfileName, Session, SessionId, SessionKind};
use rolehop_core::saml::integration::{SamlIntegration, offers};
use rolehop_core::saml::{SamlResponse, filter_offers};
use rolehop_core::workspace::Workspace;
use rolehop_e2e::saml_idp::{PASSWORD, USER, deploy_roles};
use rolehop_e2e::timing::{median, ms};
use rolehop_e2e::{Peers, SamlIdp};

const ROUNDS: usize = 200;
const ROLES: usize = 50;
const TYPED: &str = "deploy-4";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let peers = Peers::builder().with_moto().start().expect("peers");
    let idp = SamlIdp::start(peers.moto()).expect("the SAML provider starts");
    let values = deploy_roles(ROLES);
    idp.configure(serde_json::json!({ "roles": values, "lifetime_minutes": 30 }))
        .unwrap();
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let integration = SamlIntegration {
        id: IntegrationId::new(),
        name: "corp".into(),
        idp_url: idp.idp_url(),
        region: None,
        profile_template: None,
        duration: None,
    };
    let ws = workspace(200);

    let (mut parse, mut offer, mut keystroke) = (Vec::new(), Vec::new(), Vec::new());
    let mut shown = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let response = SamlResponse::parse(&assertion).unwrap();
        parse.push(t.elapsed());
        assert_eq!(response.roles.len(), ROLES);
        let t = Instant::now();
        let offered = offers(&ws, &integration, &response.roles);
        offer.push(t.elapsed());
        for end in 1..=TYPED.len() {
            let t = Instant::now();
            let found = filter_offers(&offered, &TYPED[..end]);
            keystroke.push(t.elapsed());
            shown = found.len();
        }
    }
    // deploy-4 and deploy-40..49.
    assert_eq!(shown, 11);
    println!(
        "saml offers ({ROLES} roles, {} bytes of response, median of {ROUNDS}): parse {:.3} ms, offer list {:.3} ms, filter keystroke {:.4} ms",
        assertion.len(),
        ms(median(parse)),
        ms(median(offer)),
        ms(median(keystroke)),
    );
}

/// A workspace of `n` IAM users, none in the provider's account.
fn workspace(n: usize) -> Workspace {
    let mut ws = Workspace::default();
    for i in 0..n {
        let name = format!("user-{i}");
        ws.add_session(Session {
            console: Default::default(),
            id: SessionId::new(),
            name: name.clone(),
            profile: ProfileName::parse(&name).unwrap(),
            region: None,
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 43_200,
                account_id: Some(format!("{:012}", 200_000_000_000u64 + i as u64)),
            }),
        })
        .unwrap();
    }
    ws
}
