//! Federated (SAML) sessions from the command line, against a real identity provider
//! (pysaml2's, signing with xmlsec1) and a layer before moto's STS that checks
//! `AssumeRoleWithSAML` as IAM does ([`rolehop_e2e::saml_idp`], proven by `saml_peer`).
//! The SAMLResponse comes from the provider as a browser gets it: the IdP-initiated
//! URL, its login form, the auto-posting form it answers with.

use rolehop_e2e::SamlIdp;
use rolehop_e2e::saml_idp::{PASSWORD, PROVIDER_ARN, USER, role_arn};
use serde_json::json;

use crate::cli::{AwsFilesBytes, World, assumed};

/// A world whose STS is the verifying layer, with federated session `corp` (role
/// `Admin` through the test provider, profile `corp`, 3600 s asked) and the provider
/// offering Admin, ReadOnly and Billing.
fn federated() -> (World, SamlIdp) {
    let world = World::start();
    let idp = SamlIdp::start(world.peers.moto()).expect("the SAML provider starts");
    let world = world.with_env("AWS_ENDPOINT_URL_STS", &idp.sts_endpoint());
    idp.offer_roles(&["Admin", "ReadOnly", "Billing"]).unwrap();
    add_saml(&world, &idp, "corp", &role_arn("Admin")).ok();
    (world, idp)
}

fn add_saml(world: &World, idp: &SamlIdp, name: &str, role: &str) -> crate::cli::Run {
    world.rolehop(&[
        "session",
        "add",
        "saml",
        "--name",
        name,
        "--idp-url",
        &idp.idp_url(),
        "--role-arn",
        role,
        "--principal-arn",
        PROVIDER_ARN,
        "--profile",
        name,
        "--region",
        "us-east-1",
        "--duration",
        "3600",
    ])
}

/// Writes `assertion` to a file in the test's home and returns its path.
fn assertion_file(world: &World, assertion: &str) -> String {
    let path = world.peers.home().root().join("assertion.b64");
    std::fs::write(&path, assertion).unwrap();
    path.to_string_lossy().into_owned()
}

fn seconds_left(world: &World, session: &str) -> i64 {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let found = list
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == session))
        .unwrap_or_else(|| panic!("no {session} in {list}"));
    let expires = found["state"]["expires_at"]
        .as_str()
        .unwrap_or_else(|| panic!("not active: {found}"));
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds()
}

#[test]
fn part1_session_add_saml_lists_a_federated_session_and_refuses_bad_fields_by_name() {
    let (world, idp) = federated();
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let corp = &list[0];
    assert_eq!(corp["name"], "corp");
    assert_eq!(corp["kind"]["type"], "saml");
    assert_eq!(corp["kind"]["role_arn"], role_arn("Admin"));
    assert_eq!(corp["kind"]["principal_arn"], PROVIDER_ARN);
    assert_eq!(corp["kind"]["idp_url"], idp.idp_url());
    assert_eq!(corp["account_id"], "123456789012");
    for (flag, value, field) in [
        ("--idp-url", "http://idp.example.test/sso", "idp_url"),
        ("--role-arn", PROVIDER_ARN, "role_arn"),
        (
            "--principal-arn",
            "arn:aws:iam::123456789012:role/Admin",
            "principal_arn",
        ),
        ("--duration", "60", "duration"),
    ] {
        let mut args = vec![
            "session",
            "add",
            "saml",
            "--name",
            "bad",
            "--profile",
            "bad",
        ];
        for (f, v) in [
            ("--idp-url", "https://idp.example.test/sso"),
            ("--role-arn", "arn:aws:iam::123456789012:role/Admin"),
            ("--principal-arn", PROVIDER_ARN),
        ] {
            if f != flag {
                args.extend([f, v]);
            }
        }
        args.extend([flag, value]);
        let run = world.rolehop(&args).fails_with(3);
        assert!(run.stderr.contains(field), "{field}: {}", run.stderr);
    }
    assert_eq!(
        world
            .rolehop(&["session", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn part4_assertion_file_from_the_idp_starts_the_role_the_aws_cli_acts_as_it_and_a_chained_role_starts()
 {
    let (world, idp) = federated();
    idp.configure(json!({ "session_duration": 900 })).unwrap();
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let file = assertion_file(&world, &assertion);
    let run = world
        .rolehop(&["session", "start", "corp", "--assertion-file", &file])
        .ok();
    assert!(run.stdout.contains("started 'corp'"), "{}", run.stdout);
    // 3600 asked, the provider's SessionDuration 900: STS was asked for 900.
    let left = seconds_left(&world, "corp");
    assert!((800..=900).contains(&left), "{left}");
    assert_eq!(
        world.caller_arn("corp").unwrap(),
        assumed("123456789012", "Admin", "alice@example.test")
    );
    // A role chained from the federated session, from its cached credentials.
    world.add_role("deploy", "corp", &role_arn("Deployer"));
    world.rolehop(&["session", "start", "deploy"]).ok();
    assert_eq!(
        world.caller_arn("deploy").unwrap(),
        assumed("123456789012", "Deployer", "rolehop-deploy")
    );
    // credential-process answers for the federated session without a new sign-in.
    let creds = world.rolehop(&["credential-process", "corp"]).ok().json();
    assert_eq!(creds["Version"], 1);
    assert_eq!(
        idp.sts_decisions(),
        [format!("accept {}", role_arn("Admin"))]
    );
    // The assertion is in no file under the test's home.
    for file in walk(world.peers.home().root()) {
        if file.ends_with("assertion.b64") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(&assertion[100..160]), "{}", file.display());
    }
}

#[test]
fn part4_credential_process_mode_exec_and_the_container_endpoint_act_as_the_federated_role() {
    let (world, idp) = federated();
    world
        .rolehop(&["settings", "set", "delivery-mode", "credential-process"])
        .ok();
    let file = assertion_file(&world, &idp.sign_in(USER, PASSWORD).unwrap());
    world
        .rolehop(&["session", "start", "corp", "--assertion-file", &file])
        .ok();
    let config = world.peers.home().read_aws_config().unwrap();
    assert!(config.contains("credential_process"), "{config}");
    let credentials =
        std::fs::read_to_string(world.peers.home().aws_credentials_file()).unwrap_or_default();
    assert!(!credentials.contains("aws_session_token"), "{credentials}");
    let admin = assumed("123456789012", "Admin", "alice@example.test");
    // The AWS CLI runs `rolehop credential-process corp`, which answers from the cache.
    assert_eq!(world.caller_arn("corp").unwrap(), admin);
    let identity = [
        "aws",
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ];
    let exec: Vec<&str> = ["exec", "corp", "--"].into_iter().chain(identity).collect();
    assert_eq!(world.rolehop(&exec).ok().stdout.trim(), admin);
    let server: Vec<&str> = ["exec", "--server", "corp", "--"]
        .into_iter()
        .chain(identity)
        .collect();
    assert_eq!(world.rolehop(&server).ok().stdout.trim(), admin);
    // One sign-in served them all.
    assert_eq!(
        idp.sts_decisions(),
        [format!("accept {}", role_arn("Admin"))]
    );
}

#[test]
fn part5_assertion_from_standard_input_starts_the_second_role_of_the_assertion() {
    let (world, idp) = federated();
    add_saml(&world, &idp, "corp-readonly", &role_arn("ReadOnly")).ok();
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    world
        .rolehop_with(
            &["session", "start", "corp-readonly", "--assertion-file", "-"],
            &[],
            Some(&format!("{assertion}\n")),
        )
        .ok();
    // ReadOnly is listed `provider,role`: the reverse order.
    assert_eq!(
        world.caller_arn("corp-readonly").unwrap(),
        assumed("123456789012", "ReadOnly", "alice@example.test")
    );
}

#[test]
fn part5_without_a_display_or_an_assertion_the_start_says_so() {
    let (world, _idp) = federated();
    let run = world.rolehop(&["session", "start", "corp"]).fails_with(12);
    assert!(
        run.stderr.contains("SamlSignInRequired") || run.stderr.contains("sign-in"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no display"), "{}", run.stderr);
    assert!(run.stderr.contains("--assertion-file"), "{}", run.stderr);
}

#[test]
fn part6_each_bad_assertion_is_refused_naming_the_fault_and_changes_nothing() {
    let (world, idp) = federated();
    add_saml(
        &world,
        &idp,
        "corp-other",
        "arn:aws:iam::123456789012:role/Other",
    )
    .ok();
    let before = AwsFilesBytes::of(&world);
    let good = idp.sign_in(USER, PASSWORD).unwrap();
    let refused = |session: &str, assertion: &str, says: &str| {
        let file = assertion_file(&world, assertion);
        let run = world
            .rolehop(&["session", "start", session, "--assertion-file", &file])
            .fails_with(3);
        assert!(run.stderr.contains("assertion"), "{}", run.stderr);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert_eq!(world.state_of(session), "inactive");
        assert_eq!(AwsFilesBytes::of(&world), before);
    };
    // The role is not in the assertion.
    refused(
        "corp-other",
        &good,
        "does not list role arn:aws:iam::123456789012:role/Other",
    );
    for (change, says) in [
        (json!({ "signed": false }), "is not signed"),
        (json!({ "lifetime_minutes": -1 }), "(NotOnOrAfter)"),
        (
            json!({ "audience": "https://app.example.test/saml/metadata" }),
            "is for audience https://app.example.test/saml/metadata",
        ),
        (json!({ "roles": [] }), "no Role attribute"),
        (
            json!({ "roles": [format!("{},arn:aws:iam::123456789012:saml-provider/Other", role_arn("Admin"))] }),
            "with provider arn:aws:iam::123456789012:saml-provider/Other",
        ),
    ] {
        idp.offer_roles(&["Admin"]).unwrap();
        idp.configure(json!({ "signed": true, "lifetime_minutes": 5, "audience": "aws" }))
            .unwrap();
        idp.configure(change).unwrap();
        refused("corp", &idp.sign_in(USER, PASSWORD).unwrap(), says);
    }
    // None of them reached STS.
    assert!(idp.sts_decisions().is_empty(), "{:?}", idp.sts_decisions());
    // A signature AWS finds invalid (the assertion changed after signing) is refused
    // by STS: the session fails with its code.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    idp.offer_roles(&["Admin"]).unwrap();
    let signed =
        String::from_utf8(b64.decode(idp.sign_in(USER, PASSWORD).unwrap()).unwrap()).unwrap();
    let tampered = b64.encode(signed.replace("alice@example.test", "mallory@example.test"));
    let file = assertion_file(&world, &tampered);
    let run = world
        .rolehop(&["session", "start", "corp", "--assertion-file", &file])
        .fails_with(6);
    assert!(
        run.stderr.contains("InvalidIdentityToken"),
        "{}",
        run.stderr
    );
    assert_eq!(idp.sts_decisions(), ["refuse InvalidIdentityToken"]);
}

#[test]
fn part3_saml_roles_lists_every_pair_the_provider_grants_in_either_order() {
    let (world, idp) = federated();
    idp.configure(json!({ "session_duration": 1800 })).unwrap();
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let file = assertion_file(&world, &assertion);
    let listed = world
        .rolehop(&["saml", "roles", "--assertion-file", &file, "--json"])
        .ok()
        .json();
    let pairs: Vec<(String, String)> = listed["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["account_id"], "123456789012");
            (
                r["role_arn"].as_str().unwrap().to_owned(),
                r["principal_arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        ["Admin", "ReadOnly", "Billing"].map(|r| (role_arn(r), PROVIDER_ARN.to_owned()))
    );
    assert_eq!(listed["role_session_name"], "alice@example.test");
    assert_eq!(listed["session_duration"], 1800);
    // Nothing was asked of STS.
    assert!(idp.sts_decisions().is_empty());
}

/// Every file under `dir`.
pub(crate) fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files
}
