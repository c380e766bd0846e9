//! `trust check` of a 3-hop chain (IAM user → role → role → role) with the three trust
//! policies already fetched and parsed: deriving the hops from the workspace and
//! evaluating each role's policy for its hop. Target: under 5 ms.
//!
//! `cargo bench -p rolehop-core --bench trust` prints the median and p99 of one whole
//! chain's evaluation, and exits non-zero when the median passes 5 ms. The policies are
//! realistic ones: several statements, an explicit Deny with NotPrincipal, wildcards and
//! conditions of each family.

use std::time::{Duration, Instant};

use chrono::Utc;
use rolehop_core::model::{ChainedRole, IamUser, ProfileName, Session, SessionId, SessionKind};
use rolehop_core::trust::statement::{UserArns, hops};
use rolehop_core::trust::{PolicyDocument, RequestContext, Verdict, evaluate};
use rolehop_core::workspace::Workspace;

const ROUNDS: usize = 5_000;
const TARGET: Duration = Duration::from_millis(5);

fn session(name: &str, kind: SessionKind) -> Session {
    Session {
        id: SessionId::new(),
        name: name.into(),
        profile: ProfileName::parse(name).unwrap(),
        region: None,
        kind,
    }
}

fn role(parent: SessionId, arn: &str, external_id: Option<&str>) -> SessionKind {
    SessionKind::Role(ChainedRole {
        parent,
        role_arn: arn.into(),
        role_session_name: None,
        external_id: external_id.map(str::to_owned),
        duration: None,
        source_identity: None,
    })
}

fn policy(principal: &str, external_id: &str) -> PolicyDocument {
    PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"Ci","Effect":"Allow","Principal":{{"Service":["codebuild.amazonaws.com","ec2.amazonaws.com"]}},"Action":"sts:AssumeRole"}},
          {{"Sid":"Others","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::999999999999:root","arn:aws:iam::888888888888:role/Audit"]}},"Action":"sts:*",
            "Condition":{{"StringLike":{{"aws:PrincipalArn":"arn:aws:iam::*:role/Audit*"}}}}}},
          {{"Sid":"Hop","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":["sts:AssumeRole","sts:TagSession"],
            "Condition":{{"StringEquals":{{"sts:ExternalId":["{external_id}","old-id"]}},
                          "BoolIfExists":{{"aws:MultiFactorAuthPresent":"true"}},
                          "DateLessThan":{{"aws:CurrentTime":"2099-01-01T00:00:00Z"}},
                          "NumericGreaterThan":{{"aws:EpochTime":"1000"}}}}}},
          {{"Sid":"Fence","Effect":"Deny","NotPrincipal":{{"AWS":["{principal}","arn:aws:iam::123456789012:root"]}},"Action":"sts:AssumeRole",
            "Condition":{{"StringNotEquals":{{"aws:PrincipalAccount":["123456789012","210987654321"]}}}}}}
        ]}}"#
    ))
    .expect("bench policy parses")
}

fn main() {
    let mut ws = Workspace::default();
    let user = session(
        "alice",
        SessionKind::IamUser(IamUser {
            mfa_serial: Some("arn:aws:iam::123456789012:mfa/alice".into()),
            session_duration: 3600,
            account_id: None,
        }),
    );
    let a = session(
        "build",
        role(user.id, "arn:aws:iam::123456789012:role/Build", Some("x-a")),
    );
    let b = session(
        "stage",
        role(a.id, "arn:aws:iam::123456789012:role/Stage", Some("x-b")),
    );
    let c = session(
        "prod",
        role(b.id, "arn:aws:iam::210987654321:role/Prod", Some("x-c")),
    );
    let users = UserArns::from([(
        user.id,
        Ok("arn:aws:iam::123456789012:user/alice".to_owned()),
    )]);
    let target = c.id;
    for s in [user, a, b, c] {
        ws.add_session(s).unwrap();
    }
    // The policies as `trust check` holds them once fetched: parsed, in memory.
    let policies = [
        policy("arn:aws:iam::123456789012:user/alice", "x-a"),
        policy("arn:aws:iam::123456789012:role/Build", "x-b"),
        policy("arn:aws:iam::123456789012:role/Stage", "x-c"),
    ];

    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let now = Utc::now();
        let chain = hops(&ws, target, &users);
        let mut admitted = 0;
        for (hop, policy) in chain.iter().zip(&policies) {
            let e = evaluate(policy, &RequestContext::new(hop, now));
            admitted += usize::from(e.verdict == Verdict::Admitted);
        }
        samples.push(started.elapsed());
        assert_eq!(admitted, 3, "every hop of the bench chain is admitted");
    }
    samples.sort();
    let median = samples[ROUNDS / 2];
    let p99 = samples[ROUNDS * 99 / 100];
    println!(
        "trust check, 3-hop chain, policies cached: median {:.1} µs, p99 {:.1} µs over {ROUNDS} rounds (target < 5 ms)",
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    if median > TARGET {
        eprintln!("median {median:?} is over the 5 ms target");
        std::process::exit(1);
    }
}
