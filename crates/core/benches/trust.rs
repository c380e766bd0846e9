//! `trust check` of a 3-hop chain (IAM user → role → role → role) with the three trust
//! policies and each caller's identity policies already fetched and parsed: deriving
//! the hops from the workspace and evaluating each hop, both sides. Target: under 5 ms.
//!
//! `cargo bench -p rolehop-core --bench trust` prints the median and p99 of one whole
//! chain's evaluation, and exits non-zero when the median passes 5 ms or when a hop is
//! not admitted. The policies are realistic ones: several statements, an explicit Deny
//! fencing other principals off (a Deny with `ArnNotEquals` on `aws:PrincipalArn`, as
//! IAM allows in a trust policy, where `NotPrincipal` is refused), wildcards and
//! conditions of each family. The last hop crosses accounts, so its verdict needs the
//! caller's identity policies, which are evaluated too: each caller has an inline
//! policy with a Deny that does not apply and an Allow on its target role.

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
        console: Default::default(),
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
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
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
          {{"Sid":"Fence","Effect":"Deny","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole",
            "Condition":{{"ArnNotEquals":{{"aws:PrincipalArn":["{principal}","arn:aws:iam::888888888888:role/Audit"]}},
                          "StringNotEquals":{{"aws:PrincipalAccount":["123456789012","210987654321"]}}}}}}
        ]}}"#
    ))
    .expect("bench policy parses")
}

/// The caller's identity policy: an Allow of the hop's actions on `role`, beside a
/// Deny of what the hop does not do.
fn identity(role: &str) -> Vec<PolicyDocument> {
    let doc = PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"NoKeys","Effect":"Deny","Action":["iam:CreateAccessKey","iam:DeleteAccessKey"],"Resource":"*"}},
          {{"Sid":"Hop","Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":["{role}","arn:aws:iam::*:role/Audit*"]}},
          {{"Sid":"Read","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}}
        ]}}"#
    ))
    .expect("bench identity policy parses");
    vec![doc]
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
    let identities = [
        identity("arn:aws:iam::123456789012:role/Build"),
        identity("arn:aws:iam::123456789012:role/Stage"),
        identity("arn:aws:iam::210987654321:role/Prod"),
    ];

    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let now = Utc::now();
        let chain = hops(&ws, target, &users);
        let mut verdicts = Vec::with_capacity(3);
        for ((hop, policy), identity) in chain.iter().zip(&policies).zip(&identities) {
            let ctx = RequestContext::new(hop, now).with_identity_policies(identity.clone());
            verdicts.push(evaluate(policy, &ctx).verdict);
        }
        samples.push(started.elapsed());
        assert_eq!(
            verdicts,
            [Verdict::Admitted; 3],
            "every hop of the bench chain is admitted, both sides"
        );
    }
    samples.sort();
    let median = samples[ROUNDS / 2];
    let p99 = samples[ROUNDS * 99 / 100];
    println!(
        "trust check, 3-hop chain, trust and identity policies cached: median {:.1} µs, p99 {:.1} µs over {ROUNDS} rounds (target < 5 ms)",
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    if median > TARGET {
        eprintln!("median {median:?} is over the 5 ms target");
        std::process::exit(1);
    }
}
