//! Federated (SAML) sessions from the command line, against a real identity provider
//! (pysaml2's, signing with xmlsec1) and a layer before moto's STS that checks
//! `AssumeRoleWithSAML` as IAM does ([`rolehop_e2e::saml_idp`], proven by `saml_peer`).
//! The SAMLResponse comes from the provider as a browser gets it: the IdP-initiated
//! URL, its login form, the auto-posting form it answers with.

use rolehop_e2e::SamlIdp;
use rolehop_e2e::saml_idp::{PASSWORD, PROVIDER_ARN, USER, role_arn};
use serde_json::json;

use crate::cli::{AwsFilesBytes, World, assumed};

/// A world and the test provider, the world's STS the provider's verifying layer
/// before moto; no session yet.
pub(crate) fn provider_world() -> (World, SamlIdp) {
    let world = World::start();
    let idp = SamlIdp::start(world.peers.moto()).expect("the SAML provider starts");
    let world = world.with_env("AWS_ENDPOINT_URL_STS", &idp.sts_endpoint());
    (world, idp)
}

/// A world whose STS is the verifying layer, with federated session `corp` (role
/// `Admin` through the test provider, profile `corp`, 3600 s asked) and the provider
/// offering Admin, ReadOnly and Billing.
fn federated() -> (World, SamlIdp) {
    let (world, idp) = provider_world();
    idp.offer_roles(&["Admin", "ReadOnly", "Billing"]).unwrap();
    add_saml(&world, &idp, "corp", &role_arn("Admin")).ok();
    (world, idp)
}

pub(crate) fn add_saml(world: &World, idp: &SamlIdp, name: &str, role: &str) -> crate::cli::Run {
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
pub(crate) fn assertion_file(world: &World, assertion: &str) -> String {
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
    assert_in_no_file(&world, &assertion);
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

/// No file under the test's home holds a part of `assertion`, but the one the test
/// wrote it to.
fn assert_in_no_file(world: &World, assertion: &str) {
    for file in walk(world.peers.home().root()) {
        if file.ends_with("assertion.b64") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(&assertion[100..160]), "{}", file.display());
    }
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

/// A world whose STS is the verifying layer, with federated integration `corp` on the
/// test provider (sessions in us-east-1, named `corp-{role_name}`) and no session yet.
pub(crate) fn integration() -> (World, SamlIdp) {
    let (world, idp) = provider_world();
    world
        .rolehop(&[
            "saml",
            "add",
            "--name",
            "corp",
            "--idp-url",
            &idp.idp_url(),
            "--region",
            "us-east-1",
            "--profile-template",
            "corp-{role_name}",
        ])
        .ok();
    (world, idp)
}

/// Makes the provider grant `arns` (through the test provider) from its next sign-in
/// on, alternating the pair's order: `role,provider`, then `provider,role`.
fn grant(idp: &SamlIdp, arns: &[String]) {
    let values: Vec<String> = arns
        .iter()
        .enumerate()
        .map(|(i, arn)| {
            if i % 2 == 0 {
                format!("{arn},{PROVIDER_ARN}")
            } else {
                format!("{PROVIDER_ARN},{arn}")
            }
        })
        .collect();
    idp.configure(json!({ "roles": values })).unwrap();
}

/// Signs in at the provider and runs `saml sync corp` on its response with `picks`;
/// the JSON report and the response.
fn sync(world: &World, idp: &SamlIdp, picks: &[&str]) -> (serde_json::Value, String) {
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let file = assertion_file(world, &assertion);
    let mut args = vec!["saml", "sync", "corp", "--assertion-file", &file, "--json"];
    args.extend(picks);
    (world.rolehop(&args).ok().json(), assertion)
}

/// The `name` of each item of a report's list.
fn names(list: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// The workspace file's bytes and modification time.
fn workspace_state(world: &World) -> (Vec<u8>, std::time::SystemTime) {
    let path = world.peers.home().rolehop_home().join("workspace.json");
    let bytes = std::fs::read(&path).unwrap();
    (bytes, std::fs::metadata(&path).unwrap().modified().unwrap())
}

fn session<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list.as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn part3_an_integration_offers_every_granted_role_and_two_picked_become_sessions_the_aws_cli_acts_as()
 {
    let (world, idp) = integration();
    let auditor = "arn:aws:iam::210987654321:role/audit/Auditor".to_owned();
    grant(
        &idp,
        &[
            role_arn("Admin"),
            role_arn("ReadOnly"),
            role_arn("Billing"),
            auditor.clone(),
        ],
    );
    let (report, assertion) = sync(
        &world,
        &idp,
        &[
            "--role",
            &role_arn("Admin"),
            "--role",
            &role_arn("ReadOnly"),
        ],
    );
    // Every role offered, in the response's order, both pair orders read alike.
    let offered: Vec<(String, String, String)> = report["offered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["principal_arn"], PROVIDER_ARN, "{o}");
            (
                o["account_id"].as_str().unwrap().to_owned(),
                o["role_name"].as_str().unwrap().to_owned(),
                o["role_arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let account = "123456789012".to_owned();
    assert_eq!(
        offered,
        [
            (account.clone(), "Admin".into(), role_arn("Admin")),
            (account.clone(), "ReadOnly".into(), role_arn("ReadOnly")),
            (account.clone(), "Billing".into(), role_arn("Billing")),
            (
                "210987654321".into(),
                "audit/Auditor".into(),
                auditor.clone()
            ),
        ]
    );
    // The two picked became sessions named by the template; the others are offered.
    assert_eq!(
        names(&report["sync"]["added"]),
        ["corp-Admin", "corp-ReadOnly"]
    );
    let not_picked: Vec<&str> = report["not_picked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["role_arn"].as_str().unwrap())
        .collect();
    assert_eq!(not_picked, [role_arn("Billing").as_str(), auditor.as_str()]);
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let readonly = session(&list, "corp-ReadOnly");
    assert_eq!(readonly["profile"], "corp-ReadOnly");
    assert_eq!(readonly["kind"]["type"], "saml");
    assert_eq!(readonly["kind"]["role_arn"], role_arn("ReadOnly"));
    assert_eq!(readonly["kind"]["principal_arn"], PROVIDER_ARN);
    assert_eq!(readonly["kind"]["idp_url"], idp.idp_url());
    assert_eq!(readonly["region"], "us-east-1");
    // The AWS CLI acts as the role read from a `provider,role` value.
    let file = assertion_file(&world, &assertion);
    world
        .rolehop(&[
            "session",
            "start",
            "corp-ReadOnly",
            "--assertion-file",
            &file,
        ])
        .ok();
    assert_eq!(
        world.caller_arn("corp-ReadOnly").unwrap(),
        assumed("123456789012", "ReadOnly", "alice@example.test")
    );
    // A pick the response does not grant is refused by name and changes nothing.
    let before = workspace_state(&world);
    let refused = world
        .rolehop(&[
            "saml",
            "sync",
            "corp",
            "--assertion-file",
            &file,
            "--role",
            &role_arn("Nope"),
        ])
        .fails_with(3);
    assert!(refused.stderr.contains("role"), "{}", refused.stderr);
    assert!(!refused.stderr.contains(&assertion[100..160]));
    assert_eq!(workspace_state(&world), before);
    let listed = world.rolehop(&["saml", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["name"], "corp");
    assert_eq!(listed[0]["idp_url"], idp.idp_url());
    // The response is in no file under the test's home but the one the test wrote.
    assert_in_no_file(&world, &assertion);
}

#[test]
fn part3_bad_integration_fields_are_refused_by_name_and_add_nothing() {
    let (world, idp) = integration();
    let url = idp.idp_url();
    for (flag, value, field) in [
        ("--idp-url", "http://idp.example.test/sso", "idp_url"),
        ("--profile-template", "{account}-x", "profile_template"),
        ("--duration", "60", "duration"),
        ("--region", "nowhere", "region"),
        ("--name", "corp", "name"),
    ] {
        let mut args = vec!["saml", "add"];
        for (f, v) in [("--name", "other"), ("--idp-url", url.as_str())] {
            if f != flag {
                args.extend([f, v]);
            }
        }
        args.extend([flag, value]);
        let run = world.rolehop(&args).fails_with(3);
        assert!(run.stderr.contains(field), "{field}: {}", run.stderr);
    }
    let listed = world.rolehop(&["saml", "list", "--json"]).ok().json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

#[test]
fn part3_a_resync_after_the_provider_changes_grants_adds_removes_keeps_the_active_one_and_renames()
{
    let (world, idp) = integration();
    grant(&idp, &["Admin", "ReadOnly", "Billing"].map(role_arn));
    let (report, assertion) = sync(&world, &idp, &["--all"]);
    assert_eq!(
        names(&report["sync"]["added"]),
        ["corp-Admin", "corp-Billing", "corp-ReadOnly"]
    );
    // The user renames one and gives it another profile; starts another.
    world
        .rolehop(&[
            "session",
            "edit",
            "saml",
            "corp-ReadOnly",
            "--name",
            "readonly",
            "--profile",
            "ro",
        ])
        .ok();
    let file = assertion_file(&world, &assertion);
    world
        .rolehop(&["session", "start", "corp-Admin", "--assertion-file", &file])
        .ok();

    // The provider now grants ReadOnly and Deployer: Admin and Billing went.
    grant(&idp, &["ReadOnly", "Deployer"].map(role_arn));
    let (report, _) = sync(&world, &idp, &[]);
    assert_eq!(names(&report["sync"]["removed"]), ["corp-Billing"]);
    assert_eq!(names(&report["sync"]["kept_live"]), ["corp-Admin"]);
    assert_eq!(names(&report["sync"]["kept"]), ["readonly"]);
    assert!(report["sync"]["added"].as_array().unwrap().is_empty());
    // A newly granted role is offered, not added unpicked.
    assert_eq!(report["not_picked"][0]["role_arn"], role_arn("Deployer"));
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    assert_eq!(session(&list, "readonly")["profile"], "ro");
    assert_eq!(world.state_of("corp-Admin"), "active");
    assert_eq!(
        world.caller_arn("corp-Admin").unwrap(),
        assumed("123456789012", "Admin", "alice@example.test")
    );
    // The text report says why the active one stays.
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let file = assertion_file(&world, &assertion);
    let text = world
        .rolehop(&["saml", "sync", "corp", "--assertion-file", &file])
        .ok()
        .stdout;
    assert!(
        text.contains("kept corp-Admin: the provider no longer grants Admin"),
        "{text}"
    );
    assert!(text.contains(&role_arn("Deployer")), "{text}");

    // Picked, the new role is added beside the renamed one.
    let (report, _) = sync(&world, &idp, &["--role", &role_arn("Deployer")]);
    assert_eq!(names(&report["sync"]["added"]), ["corp-Deployer"]);

    // Nothing changed at the provider: nothing written (bytes and time).
    let before = workspace_state(&world);
    let files_before = AwsFilesBytes::of(&world);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (report, _) = sync(&world, &idp, &[]);
    let c = &report["sync"]["counts"];
    assert_eq!([&c["added"], &c["updated"], &c["removed"]], [&json!(0); 3]);
    assert_eq!(workspace_state(&world), before);
    assert_eq!(AwsFilesBytes::of(&world).bytes_changed(&files_before), 0);

    // Once stopped, the role the provider withdrew goes.
    world.rolehop(&["session", "stop", "corp-Admin"]).ok();
    let (report, _) = sync(&world, &idp, &[]);
    assert_eq!(names(&report["sync"]["removed"]), ["corp-Admin"]);
    let mut left = world.session_names();
    left.sort();
    assert_eq!(left, ["corp-Deployer", "readonly"]);
}

#[test]
fn part3_on_a_terminal_the_offered_roles_are_picked_with_space_and_enter_or_cancelled() {
    let (world, idp) = integration();
    grant(&idp, &["Admin", "ReadOnly", "Billing"].map(role_arn));
    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let file = assertion_file(&world, &assertion);
    let sync = ["saml", "sync", "corp", "--assertion-file", file.as_str()];

    // Escape: nothing picked, nothing changed.
    let before = workspace_state(&world);
    let mut terminal = world.on_terminal(&sync);
    terminal.wait_for("role/Billing");
    terminal.type_keys(b"\x1b");
    let (code, shown) = terminal.wait();
    assert_eq!(code, Some(130), "{shown}");
    assert!(shown.contains("cancelled, nothing changed"), "{shown}");
    assert!(terminal.echoes(), "the terminal is back to cooked mode");
    assert_eq!(workspace_state(&world), before);

    // Typed filters, Space marks across them, Enter keeps the two marked.
    let mut terminal = world.on_terminal(&sync);
    terminal.wait_for("role/Billing");
    terminal.type_keys(b"read");
    terminal.wait_for("Esc cancels): read");
    terminal.type_keys(b" ");
    terminal.type_keys(b"\x15bill");
    terminal.wait_for("Esc cancels): bill");
    terminal.type_keys(b" \r");
    let (code, shown) = terminal.wait();
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("added 2"), "{shown}");
    assert_eq!(world.session_names(), ["corp-Billing", "corp-ReadOnly"]);
}
