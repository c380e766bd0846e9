//! The seed's story through the built `rolehop` binary, checked by the real AWS CLI:
//! an IAM user with MFA in the staging account, CodeBuildRole there, ResourceDeployCAR in
//! the production account chained from it; one MFA code, then `aws sts
//! get-caller-identity --profile production` acts as ResourceDeployCAR. Once with
//! credentials in the shared credentials file, once through `credential_process`.

use std::thread;

use crate::cli::{DEPLOY_ROLE, PRODUCTION, World, assumed};

#[test]
fn the_story_in_credentials_file_mode_reaches_resource_deploy_car_with_one_mfa_code() {
    let world = World::start();
    world.seed_story();

    let started = world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    assert!(
        started.stdout.contains("started 'production'"),
        "{started:?}"
    );

    assert_eq!(
        world
            .caller_arn("production")
            .expect("aws with profile production"),
        assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production")
    );
    let credentials = world.peers.home().read_aws_credentials().unwrap();
    assert!(credentials.contains("[production]"), "{credentials}");

    // The MFA session behind the chain is cached: the next start asks for nothing
    // (there is no terminal here, so a prompt would have failed it).
    world.rolehop(&["session", "start", "codebuild"]).ok();
    let codebuild = world
        .caller_arn("codebuild")
        .expect("aws with profile codebuild");
    assert!(
        codebuild.ends_with(":assumed-role/CodeBuildRole/rolehop-codebuild"),
        "{codebuild}"
    );
    assert_eq!(world.state_of("production"), "active");
    assert_eq!(world.state_of("codebuild"), "active");
    assert_eq!(world.state_of("alice"), "inactive");

    world.rolehop(&["session", "stop", "production"]).ok();
    assert_eq!(world.state_of("production"), "inactive");
    let credentials = world.peers.home().read_aws_credentials().unwrap();
    assert!(!credentials.contains("[production]"), "{credentials}");
    assert!(world.caller_arn("production").is_err());
}

#[test]
fn the_story_in_credential_process_mode_puts_no_key_on_disk() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["settings", "set", "delivery-mode", "credential-process"])
        .ok();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();

    let config = world.peers.home().read_aws_config().unwrap();
    assert!(
        config.contains("credential_process = ") && config.contains(" credential-process "),
        "{config}"
    );
    let credentials = world
        .peers
        .home()
        .read_aws_credentials()
        .unwrap_or_default();
    assert!(
        !credentials.contains("aws_secret_access_key"),
        "{credentials}"
    );

    assert_eq!(
        world
            .caller_arn("production")
            .expect("aws with profile production"),
        assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production")
    );
}

#[test]
fn credential_process_answers_from_the_cache_without_calling_sts() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let first = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    assert_eq!(first["Version"], 1);
    for field in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(first[field].is_string(), "{field} missing: {first}");
    }

    // STS unreachable: a cached answer does not notice.
    let dead = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9"),
    ];
    let cached = world
        .rolehop_with(&["credential-process", "production"], &dead, None)
        .ok()
        .json();
    assert_eq!(cached["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!(cached["Expiration"], first["Expiration"]);
}

/// The ARN `GetCallerIdentity` returns for each `credential_process` answer (boto3).
fn identities(world: &World, answers: &[serde_json::Value]) -> Vec<String> {
    let mut env = world.env();
    env.push(("ANSWERS".into(), serde_json::to_string(answers).unwrap()));
    let out = rolehop_e2e::python(
        r#"
import json, os, boto3
arns = []
for a in json.loads(os.environ["ANSWERS"]):
    sts = boto3.client("sts", region_name="us-east-1",
                       aws_access_key_id=a["AccessKeyId"],
                       aws_secret_access_key=a["SecretAccessKey"],
                       aws_session_token=a["SessionToken"])
    arns.append(sts.get_caller_identity()["Arn"])
print(json.dumps(arns))
"#,
        env,
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn credential_process_is_safe_when_run_many_times_at_once() {
    let world = World::start();
    world.seed_story();
    // Only alice's MFA session is cached: every concurrent run must assume both roles,
    // and they must agree on one result without corrupting the cache.
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    let runs: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| scope.spawn(|| world.rolehop(&["credential-process", "production"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let answers: Vec<serde_json::Value> = runs.into_iter().map(|run| run.ok().json()).collect();
    // One result: every answer acts as the production role (asked of STS itself)...
    let arns = identities(&world, &answers);
    assert_eq!(
        arns,
        vec![assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production"); 12]
    );
    // ...and the cache they raced to fill holds one of them whole, not a mix of two.
    let after = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();
    assert!(answers.contains(&after), "{after} is none of {answers:?}");
    // And the AWS CLI, which runs it for each call, keeps working in parallel too.
    world
        .rolehop(&["settings", "set", "delivery-mode", "credential-process"])
        .ok();
    world.rolehop(&["session", "start", "production"]).ok();
    let arns: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| world.caller_arn("production")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for arn in arns {
        assert_eq!(
            arn.expect("aws via credential_process"),
            assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production")
        );
    }
}

#[test]
fn session_list_shows_a_table_filters_and_prints_json() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();

    let table = world.rolehop(&["session", "list"]).ok().stdout;
    let header = table.lines().next().unwrap_or_default();
    for column in [
        "NAME",
        "KIND",
        "PROFILE",
        "REGION",
        "ACCOUNT",
        "STATE",
        "EXPIRES IN",
    ] {
        assert!(header.contains(column), "{table}");
    }
    let production = table
        .lines()
        .find(|l| l.starts_with("production "))
        .unwrap_or_else(|| panic!("{table}"));
    for cell in ["role", "eu-west-1", PRODUCTION, "active", "59m"] {
        assert!(production.contains(cell), "{production}");
    }

    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["session", "list", "--json"];
        all.extend_from_slice(args);
        world
            .rolehop(&all)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&[]), ["alice", "codebuild", "production"]);
    assert_eq!(names(&["--profile", "codebuild"]), ["codebuild"]);
    assert_eq!(names(&["--filter", PRODUCTION]), ["production"]);
    assert_eq!(names(&["--filter", "codebuildrole"]), ["codebuild"]);
    assert_eq!(
        names(&["--filter", "STAG"]),
        ["alice"],
        "matches the profile"
    );
    assert!(names(&["--filter", "nothing-like-this"]).is_empty());

    let json = world
        .rolehop(&["session", "list", "--json", "--filter", "production"])
        .ok()
        .json();
    assert_eq!(json[0]["role_arn"].as_str(), None, "kind fields are nested");
    assert_eq!(json[0]["kind"]["role_arn"], DEPLOY_ROLE);
    assert_eq!(json[0]["state"]["state"], "active");
}
