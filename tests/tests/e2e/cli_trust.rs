//! `rolehop trust` through the built binary, against moto: what each hop of the seed's
//! story needs (`show`), a CloudFormation template that cfn-lint accepts and moto's
//! CloudFormation deploys, and `check` of real trust policies read with iam:GetRole.

use std::path::Path;

use crate::cli::{DEPLOY_ROLE, World};
use rolehop_e2e::venv_bin;

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
    let lint = std::process::Command::new(venv_bin("cfn-lint"))
        .arg(&file)
        .output()
        .expect("cfn-lint runs");
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}\n{template}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

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

    // The policy names CodeBuildRole, and the caller is a CodeBuildRole session: AWS
    // admits it, and so does Rolehop. (moto with IAM auth on compares an assumed-role
    // caller's *session* ARN with the principal, so it denies role principals that AWS
    // admits: moto is not the oracle for this case, AWS's documentation is.)
    let check = world.rolehop(&["trust", "check", "production"]).ok().stdout;
    assert!(
        check.contains(&format!(
            "production: the trust policy of {DEPLOY_ROLE} admits 'codebuild'"
        )) && check.contains("iam:GetRole as 'production'"),
        "{check}"
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

fn deploy(world: &World, template: &Path) {
    let mut env: Vec<(String, String)> = world.env();
    env.push((
        "AWS_ENDPOINT_URL_CLOUDFORMATION".into(),
        world.peers.moto().endpoint(),
    ));
    let body = format!("file://{}", template.display());
    let out = rolehop_e2e::aws_cli(
        [
            "cloudformation",
            "create-stack",
            "--stack-name",
            "resource-deploy-car",
            "--template-body",
            &body,
            "--capabilities",
            "CAPABILITY_NAMED_IAM",
            "--profile",
            "production",
        ],
        env.clone(),
    )
    .expect("aws runs");
    assert!(out.status.success(), "create-stack: {out:?}");
    let out = rolehop_e2e::aws_cli(
        [
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            "resource-deploy-car",
            "--profile",
            "production",
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
    assert!(bad.stderr.contains("Principal"), "{bad:?}");
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
