//! A start AWS refuses at a role hop, explained in trust-policy terms: moto with IAM
//! authentication switched on refuses a real `AssumeRole`, and the CLI's error line and
//! `session list` (table and `--json`) name the hop, the principal the role must trust
//! and what its actual policy lacks.
//!
//! Where moto is the oracle: with auth on, moto refuses the fixed keys its
//! GetSessionToken hands out, so the chain is started up to `codebuild` first and
//! checked from there on, with `codebuild`'s role credentials (which moto knows). moto
//! then compares the caller's *session* ARN with the trust policy's principal. That is
//! faithful for a role trusting someone else (AWS refuses too), and for an external-id
//! condition when the principal names the session as well as the role (AWS admits the
//! session ARN and the role ARN alike) and the hop sends a *wrong* id (moto lets a
//! missing id pass a `StringEquals`, where AWS refuses it). It is not the oracle for a
//! principal naming only the role ARN (moto refuses what AWS admits) nor for a missing
//! external id, so no case here relies on those.

use crate::cli::{self, World, assumed};

/// The session's entry in `session list --json`.
fn listed(world: &World, name: &str) -> serde_json::Value {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    list.as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no session {name} in {list}"))
}

/// The seed's story with `codebuild` started (its credentials cached in the keychain),
/// then moto's IAM authentication switched on.
fn world_with_codebuild_started() -> (World, cli::Story) {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();
    (world, story)
}

/// `codebuild`'s cached secret key, which no explanation may contain.
fn codebuild_secret(world: &World) -> String {
    let creds = world
        .rolehop(&["credential-process", "codebuild"])
        .ok()
        .json();
    creds["SecretAccessKey"]
        .as_str()
        .expect("a secret key")
        .to_owned()
}

#[test]
fn a_role_trusting_someone_else_is_explained_naming_the_hop_and_the_principal_to_add() {
    let (world, story) = world_with_codebuild_started();
    let bobs = world.create_role_trusting(
        "TrustsBob",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
            "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("bobs", "codebuild", &bobs);
    let secret = codebuild_secret(&world);
    world.peers.moto().enable_auth().expect("moto auth");

    let refused = world.rolehop(&["session", "start", "bobs"]).fails_with(6);
    let stderr = &refused.stderr;
    assert!(
        stderr.contains("(AccessDenied); AWS refused sts:AssumeRole on"),
        "the code and then the explanation: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "by 'codebuild' (the hop to 'bobs'): the trust policy of {bobs} must admit {}",
            story.codebuild_arn
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "it does not (iam:GetRole as 'codebuild'): the policy does not trust {} \
             ('codebuild'): add it to Principal.AWS",
            story.codebuild_arn
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(&secret), "a secret in: {stderr}");

    let entry = listed(&world, "bobs");
    let state = &entry["state"];
    assert_eq!(state["state"], "failed", "{entry}");
    assert_eq!(
        state["code"],
        serde_json::json!({"type": "Aws", "code": "AccessDenied"})
    );
    let trust = &state["trust"];
    assert_eq!(trust["session"], "bobs", "{trust}");
    assert_eq!(trust["role_arn"], bobs.as_str());
    assert_eq!(trust["parent"], "codebuild");
    assert_eq!(trust["principal"], story.codebuild_arn.as_str());
    assert_eq!(trust["policy"]["outcome"], "evaluated");
    assert_eq!(trust["policy"]["verdict"], "not-admitted");
    assert_eq!(trust["policy"]["source"], "iam:GetRole as 'codebuild'");
    let statement: serde_json::Value =
        serde_json::from_str(trust["trust_statement"].as_str().unwrap()).unwrap();
    assert_eq!(
        statement,
        serde_json::json!({"Effect": "Allow", "Principal": {"AWS": story.codebuild_arn},
                           "Action": "sts:AssumeRole"}),
        "the statement trust show prints"
    );

    let table = world.rolehop(&["session", "list"]).ok().stdout;
    assert!(
        table.contains(&format!(
            "\nbobs: AWS refused sts:AssumeRole on {bobs} by 'codebuild'"
        )),
        "{table}"
    );
    assert!(!table.contains(&secret) && !entry.to_string().contains(&secret));
}

#[test]
fn a_role_wanting_another_external_id_is_explained_with_the_id_and_starts_once_the_session_sends_it()
 {
    let (world, story) = world_with_codebuild_started();
    // The session ARN is listed beside the role ARN so that moto, which compares the
    // session ARN, matches the principal the way AWS matches the role ARN: the refusal
    // is then the external id's alone, on both.
    let session_arn = assumed("123456789012", "CodeBuildRole", "rolehop-codebuild");
    let partner = world.create_role_trusting(
        "PartnerAccess",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": [story.codebuild_arn, session_arn]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}}}]}),
    );
    world.add_role("partner", "codebuild", &partner);
    let edit_external_id = |id: &str| {
        world
            .rolehop(&["session", "edit", "role", "partner", "--external-id", id])
            .ok();
    };
    edit_external_id("partner-41");
    world.peers.moto().enable_auth().expect("moto auth");

    let refused = world
        .rolehop(&["session", "start", "partner"])
        .fails_with(6);
    assert!(
        refused.stderr.contains(&format!(
            "(the hop to 'partner'): the trust policy of {partner} must admit {} with \
             sts:ExternalId \"partner-41\"; it does not",
            story.codebuild_arn
        )) && refused
            .stderr
            .contains("wants sts:ExternalId = \"partner-42\"; this hop sends \"partner-41\""),
        "{refused:?}"
    );
    let trust = &listed(&world, "partner")["state"]["trust"];
    assert_eq!(trust["policy"]["verdict"], "not-admitted", "{trust}");
    assert!(
        trust["policy"]["missing"][0]
            .as_str()
            .is_some_and(|m| m.contains("sts:ExternalId = \"partner-42\"")),
        "{trust}"
    );

    edit_external_id("partner-42");
    world.rolehop(&["session", "start", "partner"]).ok();
    let entry = listed(&world, "partner");
    assert_eq!(entry["state"]["state"], "active", "{entry}");
    assert!(
        entry["state"].get("trust").is_none(),
        "an active session carries no explanation: {entry}"
    );
}

#[test]
fn a_refusal_whose_policy_cannot_be_read_still_names_the_hop_and_the_principal() {
    let (world, story) = world_with_codebuild_started();
    let bobs = world.create_role_trusting(
        "TrustsNobody",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
            "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("nobody", "codebuild", &bobs);
    world.peers.moto().enable_auth().expect("moto auth");

    // IAM unreachable: the policy cannot be read, and the explanation says why.
    let refused = world
        .rolehop_with(
            &["session", "start", "nobody"],
            &[("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9")],
            None,
        )
        .fails_with(6);
    assert!(
        refused.stderr.contains(&format!(
            "the trust policy of {bobs} must admit {}; its trust policy could not be read: \
             cannot read the trust policy of {bobs} as 'codebuild'",
            story.codebuild_arn
        )),
        "{refused:?}"
    );
    let trust = &listed(&world, "nobody")["state"]["trust"];
    assert_eq!(trust["policy"]["outcome"], "unread", "{trust}");
}

#[test]
fn an_iam_that_never_answers_leaves_the_explanation_its_hop_and_principal_within_the_bound() {
    let (world, story) = world_with_codebuild_started();
    let bobs = world.create_role_trusting(
        "TrustsBobToo",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
            "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("silent", "codebuild", &bobs);
    world.peers.moto().enable_auth().expect("moto auth");
    // A listener that never accepts: the kernel completes the connection, nothing
    // ever answers the request, so only the explanation's own bound ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());

    let refused = world
        .rolehop_with(
            &["session", "start", "silent"],
            &[("AWS_ENDPOINT_URL_IAM", endpoint.as_str())],
            None,
        )
        .fails_with(6);
    assert!(
        refused.stderr.contains(&format!(
            "the trust policy of {bobs} must admit {}; its trust policy could not be read: \
             reading it took longer than 5 s; `rolehop trust check silent` tries again",
            story.codebuild_arn
        )),
        "{refused:?}"
    );
    drop(silent);
}
