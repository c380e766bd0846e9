//! `rolehop trust` through the built binary, against moto: what each hop of the seed's
//! story needs (`show`), a CloudFormation template that cfn-lint accepts and moto's
//! CloudFormation deploys, and `check` of real trust policies read with iam:GetRole,
//! with the caller's identity policies read from IAM where the verdict needs them
//! (across accounts), and signed as AWS accepts IAM calls through an IAM user.

use std::path::Path;

use crate::cli::{DEPLOY_ROLE, World};
use rolehop_e2e::venv_bin;
use rolehop_e2e::{SsoAccount, SsoPortal};

#[test]
fn trust_show_names_each_hops_principal_and_the_role_it_may_assume() {
    let world = World::start();
    let story = world.seed_story();

    let hops = world
        .rolehop(&["trust", "show", "production", "--json"])
        .ok()
        .json();
    let hops = hops.as_array().expect("an array of hops");
    assert_eq!(hops.len(), 2, "{hops:?}");
    // alice's ARN comes from GetCallerIdentity of her keys (moto answers it).
    assert_eq!(
        hops[0]["trust_statement"],
        serde_json::json!({"Effect": "Allow", "Principal": {"AWS": story.alice.arn},
                           "Action": "sts:AssumeRole"})
    );
    assert_eq!(
        hops[0]["identity_statement"]["Resource"],
        story.codebuild_arn.as_str()
    );
    assert_eq!(
        hops[1]["trust_statement"]["Principal"]["AWS"],
        story.codebuild_arn.as_str(),
        "a role hop trusts the parent role's ARN, not its session"
    );
    assert_eq!(hops[1]["identity_statement"]["Resource"], DEPLOY_ROLE);
    assert_eq!(hops[1]["identity_statement"]["Action"], "sts:AssumeRole");

    let text = world.rolehop(&["trust", "show", "production"]).ok().stdout;
    assert!(
        text.contains(&format!(
            "Hop 2 of 2: 'codebuild' assumes {DEPLOY_ROLE} for 'production'"
        )),
        "{text}"
    );

    let with_mfa = world
        .rolehop(&["trust", "show", "codebuild", "--json", "--require-mfa"])
        .ok()
        .json();
    assert_eq!(
        with_mfa[0]["trust_statement"]["Condition"],
        serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    );

    // STS unreachable: the user's name cannot be asked, so the account root stands in
    // and the output says so.
    let offline = world
        .rolehop_with(
            &["trust", "show", "codebuild", "--json"],
            &[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")],
            None,
        )
        .ok()
        .json();
    assert_eq!(
        offline[0]["trust_statement"]["Principal"]["AWS"],
        "arn:aws:iam::123456789012:root"
    );
    assert!(
        offline[0]["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("unknown offline")),
        "{offline}"
    );

    let help = world.rolehop(&["trust", "check", "--help"]).ok().stdout;
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("Exits 0 when the hop is admitted, 10 when it is not"),
        "{help}"
    );

    let user = world.rolehop(&["trust", "show", "alice"]).fails_with(3);
    assert!(user.stderr.contains("is an IAM user"), "{user:?}");
}

#[test]
fn the_cloudformation_template_passes_cfn_lint_deploys_on_moto_and_then_checks_out() {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();

    let template = world
        .rolehop(&[
            "trust",
            "template",
            "production",
            "--format",
            "cloudformation",
        ])
        .ok()
        .stdout;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resource-deploy-car.yaml");
    std::fs::write(&file, &template).unwrap();
    cfn_lint(&file);

    // Deployed as the production session, so moto creates the role in the production
    // account, where the session's role ARN says it lives.
    deploy(&world, &file);
    let role = world
        .aws(&[
            "iam",
            "get-role",
            "--role-name",
            "ResourceDeployCAR",
            "--profile",
            "production",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(role["Role"]["Arn"], DEPLOY_ROLE);
    assert!(
        role["Role"]["AssumeRolePolicyDocument"]
            .to_string()
            .contains(&story.codebuild_arn),
        "{role}"
    );

    // The policy names CodeBuildRole, and the caller is a CodeBuildRole session; the
    // hop crosses accounts, so IAM also needs CodeBuildRole's own policy to allow it:
    // both sides allow, AWS admits it, and so does Rolehop. (moto with IAM auth on
    // compares an assumed-role caller's *session* ARN with the principal, so it denies
    // role principals that AWS admits: moto is not the oracle for this case, AWS's
    // documentation is.)
    codebuild_policies(&world, &[("AssumeDeploy", assume_deploy())]);
    let check = world.rolehop(&["trust", "check", "production"]).ok().stdout;
    assert!(
        check.contains(&format!(
            "production: the trust policy of {DEPLOY_ROLE} admits 'codebuild'"
        )) && check.contains("iam:GetRole as 'production'"),
        "{check}"
    );
    assert!(
        check.contains("identity statement 'AssumeDeploy' allows sts:AssumeRole"),
        "the caller's side was read and allows: {check}"
    );
    let via = world
        .rolehop(&[
            "trust",
            "check",
            "production",
            "--via",
            "production",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(via["evaluation"]["verdict"], "admitted");

    let wrong_account = world
        .rolehop(&["trust", "check", "production", "--via", "codebuild"])
        .fails_with(3);
    assert!(
        wrong_account
            .stderr
            .contains("acts in account 123456789012"),
        "{wrong_account:?}"
    );
}

/// cfn-lint accepts `template`.
pub(crate) fn cfn_lint(template: &Path) {
    let lint = std::process::Command::new(venv_bin("cfn-lint"))
        .arg(template)
        .output()
        .expect("cfn-lint runs");
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}\n{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr),
        std::fs::read_to_string(template).unwrap_or_default()
    );
}

fn deploy(world: &World, template: &Path) {
    let mut env = world.env();
    env.push(("AWS_PROFILE".into(), "production".into()));
    create_stack(world, template, "resource-deploy-car", &[], env);
}

/// `aws cloudformation create-stack` of `template` on moto with `env` (whose credentials
/// decide the account the stack is created in) and `more` arguments; asserts the stack
/// reached CREATE_COMPLETE.
pub(crate) fn create_stack(
    world: &World,
    template: &Path,
    stack: &str,
    more: &[&str],
    mut env: Vec<(String, String)>,
) {
    env.push((
        "AWS_ENDPOINT_URL_CLOUDFORMATION".into(),
        world.peers.moto().endpoint(),
    ));
    let body = format!("file://{}", template.display());
    let mut args = vec![
        "cloudformation",
        "create-stack",
        "--stack-name",
        stack,
        "--template-body",
        &body,
        "--capabilities",
        "CAPABILITY_NAMED_IAM",
    ];
    args.extend_from_slice(more);
    let out = rolehop_e2e::aws_cli(args, env.clone()).expect("aws runs");
    assert!(out.status.success(), "create-stack: {out:?}");
    let out = rolehop_e2e::aws_cli(
        [
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            stack,
            "--output",
            "json",
        ],
        env,
    )
    .expect("aws runs");
    let stacks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        stacks["Stacks"][0]["StackStatus"], "CREATE_COMPLETE",
        "{stacks}"
    );
}

#[test]
fn a_role_trusting_someone_else_fails_the_check_naming_the_missing_principal() {
    let world = World::start();
    let story = world.seed_story();
    let other = world.create_role_trusting(
        "TrustsBob",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
            "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("bobs", "codebuild", &other);
    // The parent (same account) reads the policy; its chain's MFA session is cached.
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();

    let run = world.rolehop(&["trust", "check", "bobs"]).fails_with(10);
    assert!(
        run.stderr.contains(&format!(
            "does not trust {} ('codebuild'): add it to Principal.AWS",
            story.codebuild_arn
        )),
        "{run:?}"
    );
    assert!(run.stdout.contains("iam:GetRole as 'codebuild'"), "{run:?}");

    // IAM has its own endpoint variable, honoured like STS's.
    let unreachable = world
        .rolehop_with(
            &["trust", "check", "bobs"],
            &[("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9")],
            None,
        )
        .fails_with(6);
    assert!(
        unreachable
            .stderr
            .contains("could not connect to IAM at http://127.0.0.1:9"),
        "{unreachable:?}"
    );

    // The same verdicts from a file, without IAM.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trust.json");
    std::fs::write(
        &file,
        serde_json::json!({"Statement": {"Effect": "Allow",
            "Principal": {"AWS": story.codebuild_arn}, "Action": "sts:*"}})
        .to_string(),
    )
    .unwrap();
    let policy = file.to_str().unwrap();
    world
        .rolehop(&["trust", "check", "bobs", "--policy", policy])
        .ok();
    std::fs::write(
        &file,
        r#"{"Statement": [{"Effect": "Allow", "Principal": "bob"}]}"#,
    )
    .unwrap();
    let bad = world
        .rolehop(&["trust", "check", "bobs", "--policy", policy])
        .fails_with(3);
    assert!(
        bad.stderr
            .starts_with("rolehop: the trust policy of arn:aws:iam::123456789012:role/TrustsBob ("),
        "{bad:?}"
    );
    assert!(
        bad.stderr.contains(
            "is not a valid IAM policy document: Principal must be \"*\" or a map such as \
             {\"AWS\": ...}, not \"bob\""
        ),
        "{bad:?}"
    );
}

#[test]
fn a_role_wanting_an_external_id_fails_without_it_and_passes_once_the_session_carries_it() {
    let world = World::start();
    let story = world.seed_story();
    let partner = world.create_role_trusting(
        "PartnerAccess",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": story.codebuild_arn}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}}}]}),
    );
    world.add_role("partner", "codebuild", &partner);
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();

    let run = world.rolehop(&["trust", "check", "partner"]).fails_with(10);
    assert!(
        run.stderr
            .contains("wants sts:ExternalId = \"partner-42\"; this hop sends none"),
        "{run:?}"
    );

    world
        .rolehop(&[
            "session",
            "edit",
            "role",
            "partner",
            "--external-id",
            "partner-42",
        ])
        .ok();
    let run = world.rolehop(&["trust", "check", "partner", "--json"]).ok();
    assert_eq!(run.json()["evaluation"]["verdict"], "admitted", "{run:?}");
}

/// Replaces CodeBuildRole's inline policies (the harness gives it one allowing every
/// action) with `policies`, each a name and a document, as moto's administrator.
fn codebuild_policies(world: &World, policies: &[(&str, serde_json::Value)]) {
    let mut env = world.peers.moto().admin_env();
    let wanted: serde_json::Map<String, serde_json::Value> = policies
        .iter()
        .map(|(name, doc)| ((*name).to_owned(), doc.clone()))
        .collect();
    env.push((
        "FIXTURE_POLICIES".into(),
        serde_json::Value::Object(wanted).to_string(),
    ));
    let out = rolehop_e2e::python(
        r#"
import json, os, boto3
iam = boto3.client("iam")
for name in iam.list_role_policies(RoleName="CodeBuildRole")["PolicyNames"]:
    iam.delete_role_policy(RoleName="CodeBuildRole", PolicyName=name)
for name, doc in json.loads(os.environ["FIXTURE_POLICIES"]).items():
    iam.put_role_policy(RoleName="CodeBuildRole", PolicyName=name, PolicyDocument=json.dumps(doc))
"#,
        env,
    )
    .expect("python runs");
    assert!(out.status.success(), "{out:?}");
}

/// CodeBuildRole's identity statement for the hop to ResourceDeployCAR.
fn assume_deploy() -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "AssumeDeploy",
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": DEPLOY_ROLE}]})
}

#[test]
fn across_accounts_the_callers_own_policy_decides_and_unread_it_is_cannot_tell_naming_the_permission()
 {
    let world = World::start();
    let story = world.seed_story();
    // codebuild's credentials cached, to read its own policies with.
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trust.json");
    std::fs::write(
        &file,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": story.codebuild_arn}, "Action": "sts:AssumeRole"}]})
        .to_string(),
    )
    .unwrap();
    let check = [
        "trust",
        "check",
        "production",
        "--policy",
        file.to_str().unwrap(),
    ];

    // The trust policy admits CodeBuildRole, but its own policy allows nothing of the
    // kind: across accounts AWS refuses, and so does Rolehop.
    let read_only = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadBuckets", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]});
    codebuild_policies(&world, &[("ReadOnly", read_only)]);
    let refused = world.rolehop(&check).fails_with(10);
    assert!(
        refused.stderr.contains(&format!(
            "no identity policy of 'codebuild' allows sts:AssumeRole on {DEPLOY_ROLE}"
        )),
        "{refused:?}"
    );

    // Both sides allow: admitted.
    codebuild_policies(&world, &[("AssumeDeploy", assume_deploy())]);
    let admitted = world
        .rolehop(&[&check[..], &["--json"]].concat())
        .ok()
        .json();
    assert_eq!(admitted["evaluation"]["verdict"], "admitted", "{admitted}");

    // With IAM authentication on, CodeBuildRole may not read its own policies (its one
    // policy allows sts:AssumeRole only): Rolehop cannot tell, and says which
    // permission it lacks rather than guess either way.
    world.peers.moto().enable_auth().expect("moto auth");
    let unread = world.rolehop(&check).fails_with(11);
    assert!(
        unread.stdout.contains(&format!(
            "production: the trust policy of {DEPLOY_ROLE} may or may not admit 'codebuild'"
        )),
        "{unread:?}"
    );
    assert!(
        unread.stderr.contains(
            "the identity policies of 'codebuild' could not be read: iam:ListRolePolicies failed (AccessDenied"
        ) && unread.stderr.contains("reading it takes iam:ListRolePolicies, iam:GetRolePolicy"),
        "{unread:?}"
    );
}

#[test]
fn through_an_iam_user_without_mfa_iam_calls_are_signed_with_its_long_lived_key() {
    let world = World::start();
    let dave = world.add_iam_user("dave", "dave");
    let role = world.create_role_trusting(
        "DaveDeploys",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": dave.arn}, "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("deploys", "dave", &role);
    // The start caches dave's session token, obtained without MFA: AWS refuses IAM
    // calls signed with such a token (moto accepts them), so none may sign GetRole.
    world.rolehop(&["session", "start", "deploys"]).ok();

    world.peers.moto().start_recording().expect("recording");
    let check = world
        .rolehop(&["trust", "check", "deploys", "--json"])
        .ok()
        .json();
    assert_eq!(check["evaluation"]["verdict"], "admitted", "{check}");
    assert_eq!(check["source"], "iam:GetRole as 'dave'", "{check}");

    let calls = world.peers.moto().recorded_calls().expect("recording");
    let iam: Vec<_> = calls
        .iter()
        .filter(|c| {
            let action = c.get("Action").map(String::as_str).unwrap_or_default();
            action.starts_with("Get")
                && action != "GetCallerIdentity"
                && action != "GetSessionToken"
                || action.starts_with("List")
        })
        .collect();
    let actions: Vec<&str> = iam.iter().map(|c| c["Action"].as_str()).collect();
    assert!(actions.contains(&"GetRole"), "{calls:?}");
    assert!(
        actions.contains(&"ListUserPolicies"),
        "dave's own policies read: {calls:?}"
    );
    for call in &iam {
        assert_eq!(
            call.get("@signed-by"),
            Some(&dave.access_key_id),
            "{} signed with dave's long-lived key, not a session token: {calls:?}",
            call["Action"]
        );
    }
    assert!(
        !calls
            .iter()
            .any(|c| c.get("Action").is_some_and(|a| a == "GetSessionToken")),
        "no session token is asked for to sign IAM calls: {calls:?}"
    );
}

/// An IAM Identity Center parent has no role ARN in the workspace: `trust check` asks STS
/// who its credentials are (`assumed-role/AWSReservedSSO_Admin_<hex>/alice`) and IAM for
/// that role's path, then judges the policy by the real role ARN, with the permission
/// set's own policy read as the identity side (the stand-in provisions the reserved role
/// in moto, its permission set allowing everything).
#[test]
fn an_sso_parent_is_judged_by_its_real_reserved_role_arn() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new(
            "111111111111",
            "payments",
            &["Admin", "ReadOnly"],
        )])
        .unwrap();
    crate::cli_sso::log_in(&world, &portal);
    world.rolehop(&["sso", "sync", "acme"]).ok();
    world.add_role("deploy", "payments-Admin", DEPLOY_ROLE);
    world.rolehop(&["session", "start", "payments-Admin"]).ok();
    let admin = SsoPortal::role_arn("111111111111", "Admin");
    let read_only = SsoPortal::role_arn("111111111111", "ReadOnly");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trust.json");
    let check = |trust: serde_json::Value| {
        std::fs::write(&file, trust.to_string()).unwrap();
        world.rolehop(&[
            "trust",
            "check",
            "deploy",
            "--policy",
            file.to_str().unwrap(),
        ])
    };
    let naming = |principal: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
    };

    // The policy names the permission set's role, path and all: admitted.
    let admitted = check(naming(&admin));
    assert_eq!(admitted.code, Some(0), "{admitted:?}");
    assert!(
        admitted.stdout.starts_with(&format!(
            "deploy: the trust policy of {DEPLOY_ROLE} admits 'payments-Admin' ({admin})\n"
        )),
        "the verdict names the parent by its real role: {admitted:?}"
    );

    // The account trusted, and AWS's usual pattern for permission-set roles as the
    // condition: admitted by the role's real ARN, refused for another permission set's.
    let pattern = |role: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": format!(
            "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_{role}_*"
        )}}}]})
    };
    let a = check(pattern("Admin"));
    assert_eq!(a.code, Some(0), "{a:?}");
    let other = check(pattern("ReadOnly"));
    assert_eq!(other.code, Some(10), "{other:?}");

    // A policy naming the other permission set's role: not admitted, naming the role the
    // parent really is (what to add to Principal.AWS).
    let refused = check(naming(&read_only));
    assert_eq!(refused.code, Some(10), "{refused:?}");
    assert!(
        refused.stderr.contains(&admin),
        "the refusal names the parent's real role: {refused:?}"
    );
}
