use std::collections::HashMap;

use super::plan::{Planner, Step};
use super::profiles::{AwsProfile, read_profiles, read_sso_sessions};
use super::strip::without_static_keys;
use super::*;
use crate::workspace::Workspace;

const CONFIG: &str = "\
# my config
[default]
region = us-east-1
output = json

[profile staging]
region = eu-west-1
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile codebuild]
role_arn = arn:aws:iam::111111111111:role/CodeBuildRole
source_profile = staging
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile production]
role_arn = arn:aws:iam::222222222222:role/ResourceDeployCAR
source_profile = codebuild
external_id = deploy-42
role_session_name = alice-deploy
duration_seconds = 3600
region = eu-central-1

[profile sso-dev]
sso_session = corp
sso_account_id = 333333333333
sso_role_name = Dev

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start

[profile ec2]
role_arn = arn:aws:iam::111111111111:role/Ec2Role
credential_source = Ec2InstanceMetadata

[profile orphan]
role_arn = arn:aws:iam::111111111111:role/Orphan
source_profile = nowhere

[profile loop-a]
role_arn = arn:aws:iam::111111111111:role/A
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::111111111111:role/B
source_profile = loop-a

[profile tool]
credential_process = /usr/bin/get-creds
";

const CREDENTIALS: &str = "\
[staging]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
# keep me
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[temp]
aws_access_key_id = ASIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
aws_session_token = FQoGZXIvYXdzEXAMPLE
";

fn plan(
    ws: &Workspace,
    opts: ImportOptions,
) -> (Vec<AwsProfile>, HashMap<String, Step>, Workspace) {
    let profiles = read_profiles(CONFIG.as_bytes(), CREDENTIALS.as_bytes());
    let (steps, trial) = {
        let mut planner = Planner::new(&profiles, ws, opts)
            .with_sso_sessions(read_sso_sessions(CONFIG.as_bytes()));
        planner.plan_all();
        (planner.steps, planner.trial)
    };
    (profiles, steps, trial)
}

fn with_keys() -> ImportOptions {
    ImportOptions {
        import_keys: true,
        ..Default::default()
    }
}

fn reason(steps: &HashMap<String, Step>, name: &str) -> String {
    match steps.get(name) {
        Some(Step::Skip { reason, .. }) => reason.clone(),
        Some(Step::Unchanged { .. }) => panic!("{name} is unchanged, not skipped"),
        Some(_) => panic!("{name} is imported, not skipped"),
        None => panic!("{name} was not planned"),
    }
}

#[test]
fn profiles_are_read_from_both_files_with_secrets_kept_apart() {
    let profiles = read_profiles(CONFIG.as_bytes(), CREDENTIALS.as_bytes());
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "default",
            "staging",
            "codebuild",
            "production",
            "sso-dev",
            "ec2",
            "orphan",
            "loop-a",
            "loop-b",
            "tool",
            "temp"
        ]
    );
    let staging = &profiles[1];
    assert_eq!(staging.get("region"), Some("eu-west-1"));
    let keys = staging.keys.as_ref().expect("static keys");
    assert_eq!(keys.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(keys.file, FileRole::Credentials);
    assert!(!staging.settings.contains_key("aws_secret_access_key"));
    assert!(profiles[10].has_session_token);
}

#[test]
fn a_role_chain_maps_to_sessions_chained_from_their_source_profiles() {
    let (_, steps, trial) = plan(&Workspace::default(), with_keys());
    let Some(Step::AddUser { session, .. }) = steps.get("staging") else {
        panic!("staging is not an IAM user")
    };
    assert_eq!(session.region.as_deref(), Some("eu-west-1"));
    let Some(Step::AddRole { session, parent }) = steps.get("production") else {
        panic!("production is not a role")
    };
    assert_eq!(parent, "codebuild");
    let SessionKind::Role(role) = &session.kind else {
        panic!()
    };
    assert_eq!(
        role.role_arn,
        "arn:aws:iam::222222222222:role/ResourceDeployCAR"
    );
    assert_eq!(role.external_id.as_deref(), Some("deploy-42"));
    assert_eq!(role.role_session_name.as_deref(), Some("alice-deploy"));
    assert_eq!(role.duration, Some(3600));
    assert_eq!(session.region.as_deref(), Some("eu-central-1"));
    assert_eq!(trial.find("codebuild").unwrap().session.id, role.parent);
    let chain: Vec<&str> = trial
        .chain(session.id)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(chain, ["staging", "codebuild", "production"]);
}

#[test]
fn a_role_profiles_mfa_serial_goes_to_the_iam_user_at_the_root() {
    let config = "[profile u]\n[profile r]\nrole_arn = arn:aws:iam::111111111111:role/R\nsource_profile = u\nmfa_serial = arn:aws:iam::111111111111:mfa/u\n";
    let creds = "[u]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let profiles = read_profiles(config.as_bytes(), creds.as_bytes());
    let ws = Workspace::default();
    let mut planner = Planner::new(&profiles, &ws, with_keys());
    planner.plan_all();
    let Some(Step::AddUser { session, .. }) = planner.steps.get("u") else {
        panic!("u is not an IAM user")
    };
    let SessionKind::IamUser(user) = &session.kind else {
        panic!()
    };
    assert_eq!(
        user.mfa_serial.as_deref(),
        Some("arn:aws:iam::111111111111:mfa/u")
    );
}

#[test]
fn what_cannot_be_imported_is_skipped_with_the_reason() {
    let (_, steps, _) = plan(&Workspace::default(), with_keys());
    assert!(reason(&steps, "default").contains("no credentials"));
    assert!(reason(&steps, "sso-dev").contains("IAM Identity Center"));
    assert!(reason(&steps, "ec2").contains("credential_source"));
    assert!(reason(&steps, "orphan").contains("'nowhere' is not in the AWS files"));
    assert!(
        reason(&steps, "loop-a").contains("cycle"),
        "{}",
        reason(&steps, "loop-a")
    );
    assert!(reason(&steps, "tool").contains("credential_process"));
    assert!(reason(&steps, "temp").contains("temporary"));
}

#[test]
fn static_keys_are_imported_only_when_asked() {
    let (_, steps, _) = plan(&Workspace::default(), ImportOptions::default());
    assert!(reason(&steps, "staging").contains("--import-keys"));
    assert!(reason(&steps, "codebuild").contains("source profile 'staging' was skipped"));
    assert!(reason(&steps, "production").contains("source profile 'codebuild' was skipped"));
}

#[test]
fn a_second_import_finds_everything_unchanged() {
    let (_, _, after_first) = plan(&Workspace::default(), with_keys());
    for opts in [with_keys(), ImportOptions::default()] {
        let (_, steps, trial) = plan(&after_first, opts);
        for name in ["staging", "codebuild", "production"] {
            assert!(
                matches!(steps.get(name), Some(Step::Unchanged { .. })),
                "{name} is not unchanged"
            );
        }
        assert_eq!(trial, after_first);
    }
}

#[test]
fn bad_values_are_refused_by_the_workspace_rules() {
    let config = "[profile u]\n[profile r]\nrole_arn = not-an-arn\nsource_profile = u\n[profile d]\nrole_arn = arn:aws:iam::111111111111:role/D\nsource_profile = u\nduration_seconds = 99999\n[profile x]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = u\nduration_seconds = soon\n";
    let creds = "[u]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let profiles = read_profiles(config.as_bytes(), creds.as_bytes());
    let ws = Workspace::default();
    let mut planner = Planner::new(&profiles, &ws, with_keys());
    planner.plan_all();
    assert!(reason(&planner.steps, "r").starts_with("role_arn"));
    assert!(reason(&planner.steps, "d").starts_with("duration"));
    assert!(reason(&planner.steps, "x").contains("not a number"));
}

#[test]
fn removing_keys_leaves_every_other_byte() {
    let edited = without_static_keys(CREDENTIALS.as_bytes(), FileRole::Credentials, &["staging"]);
    let expected = "\
[staging]
# keep me

[temp]
aws_access_key_id = ASIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
aws_session_token = FQoGZXIvYXdzEXAMPLE
";
    assert_eq!(String::from_utf8_lossy(&edited), expected);
    let crlf = CREDENTIALS.replace('\n', "\r\n");
    let edited = without_static_keys(crlf.as_bytes(), FileRole::Credentials, &["staging"]);
    assert_eq!(
        String::from_utf8_lossy(&edited),
        expected.replace('\n', "\r\n")
    );
}

const KEYS: &str = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

/// `[profile u]` with keys, then roles `r1` … `rN`, each chained from the one before.
fn chain_config(depth: usize) -> (String, String) {
    let mut config = String::from("[profile u]\nregion = eu-west-1\n");
    // Declared leaf first: planning `r{depth}` must walk the whole chain down.
    for i in (1..=depth).rev() {
        let source = if i == 1 {
            "u".to_owned()
        } else {
            format!("r{}", i - 1)
        };
        config.push_str(&format!(
            "[profile r{i}]\nrole_arn = arn:aws:iam::111111111111:role/R{i}\nsource_profile = {source}\n"
        ));
    }
    (config, format!("[u]\n{KEYS}"))
}

#[test]
fn a_ten_thousand_deep_chain_imports_the_first_64_hops_and_skips_the_rest_by_name() {
    // On a thread of Rust's default 2 MiB stack: the planner must not recurse along the
    // whole chain (nor walk all of it once per profile).
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let (config, creds) = chain_config(10_000);
            let profiles = read_profiles(config.as_bytes(), creds.as_bytes());
            let ws = Workspace::default();
            let mut planner = Planner::new(&profiles, &ws, with_keys());
            planner.plan_all();
            (planner.steps, planner.order)
        })
        .unwrap();
    let (steps, order) = handle.join().expect("no stack overflow");
    assert!(matches!(steps.get("u"), Some(Step::AddUser { .. })));
    assert!(matches!(steps.get("r1"), Some(Step::AddRole { .. })));
    let Some(Step::AddRole { parent, .. }) = steps.get(&format!("r{MAX_CHAIN_HOPS}")) else {
        panic!("r{MAX_CHAIN_HOPS} is within the limit")
    };
    assert_eq!(parent, &format!("r{}", MAX_CHAIN_HOPS - 1));
    let too_deep = reason(&steps, &format!("r{}", MAX_CHAIN_HOPS + 1));
    assert!(too_deep.contains("longer than 64 hops"), "{too_deep}");
    assert!(reason(&steps, "r10000").contains("longer than 64 hops"));
    // Every profile planned once, each role after its source.
    assert_eq!(order.len(), 10_001);
    let at = |name: &str| order.iter().position(|n| n == name).unwrap();
    assert!(at("u") < at("r1") && at("r1") < at("r2") && at("r63") < at("r64"));
}

#[test]
fn five_thousand_profiles_are_planned_each_once() {
    // 1 user, 4,999 roles chained from it, or from a role chained from it (an account
    // fan-out: depth up to 3).
    let mut config = String::from("[profile u]\n");
    for i in 1..5_000 {
        let source = if i % 3 == 1 {
            "u".to_owned()
        } else {
            format!("r{}", i - 1)
        };
        config.push_str(&format!(
            "[profile r{i}]\nrole_arn = arn:aws:iam::111111111111:role/R{i}\nsource_profile = {source}\nregion = eu-west-1\n"
        ));
    }
    let creds = format!("[u]\n{KEYS}");
    let profiles = read_profiles(config.as_bytes(), creds.as_bytes());
    assert_eq!(profiles.len(), 5_000);
    let ws = Workspace::default();
    let mut planner = Planner::new(&profiles, &ws, with_keys());
    planner.plan_all();
    let roles = planner
        .steps
        .values()
        .filter(|s| matches!(s, Step::AddRole { .. }))
        .count();
    assert_eq!(roles, 4_999);
    assert_eq!(planner.trial.sessions.len(), 5_000);
    assert_eq!(planner.order.len(), 5_000);
}

#[test]
fn a_role_leading_into_a_cycle_it_is_not_part_of_names_its_skipped_source() {
    let config = "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/A\nsource_profile = b\n\
                  [profile b]\nrole_arn = arn:aws:iam::111111111111:role/B\nsource_profile = c\n\
                  [profile c]\nrole_arn = arn:aws:iam::111111111111:role/C\nsource_profile = b\n";
    let profiles = read_profiles(config.as_bytes(), b"");
    let ws = Workspace::default();
    let mut planner = Planner::new(&profiles, &ws, with_keys());
    planner.plan_all();
    assert!(reason(&planner.steps, "b").contains("cycle (b → c → b)"));
    assert!(reason(&planner.steps, "a").contains("source profile 'b' was skipped"));
}

const SSO_CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile prod-admin]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin
region = eu-central-1

[profile legacy-dev]
sso_start_url = https://corp.awsapps.com/start/
sso_region = eu-west-1
sso_account_id = 210987654321
sso_role_name = Developer

[profile old-portal]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly

[profile tool-login]
sso_session = corp

[profile lost]
sso_session = nowhere
sso_account_id = 111111111111
sso_role_name = ReadOnly
";

#[test]
fn sso_profiles_become_sso_roles_of_integrations_from_their_sso_sessions() {
    let profiles = read_profiles(SSO_CONFIG.as_bytes(), b"");
    let mut planner = Planner::new(&profiles, &Workspace::default(), ImportOptions::default())
        .with_sso_sessions(read_sso_sessions(SSO_CONFIG.as_bytes()));
    planner.plan_all();
    let integrations: Vec<(&str, &str, &str)> = planner
        .new_integrations
        .iter()
        .map(|i| (i.name.as_str(), i.start_url.as_str(), i.region.as_str()))
        .collect();
    // The legacy profile with corp's URL (a trailing slash apart) shares corp; the
    // other legacy portal gets an integration named after its host.
    assert_eq!(
        integrations,
        [
            ("corp", "https://corp.awsapps.com/start", "eu-west-1"),
            ("old", "https://old.awsapps.com/start", "us-east-1"),
        ]
    );
    let sso_of = |name: &str| match planner.steps.get(name) {
        Some(Step::AddSso {
            session,
            integration,
        }) => match &session.kind {
            SessionKind::SsoRole(r) => (
                integration.clone(),
                r.account_id.clone(),
                r.role_name.clone(),
                session.region.clone(),
            ),
            _ => panic!("{name} is not an SSO role"),
        },
        _ => panic!("{name} is not imported as an SSO role"),
    };
    assert_eq!(
        sso_of("prod-admin"),
        (
            "corp".into(),
            "123456789012".into(),
            "Admin".into(),
            Some("eu-central-1".into())
        )
    );
    assert_eq!(sso_of("legacy-dev").0, "corp");
    assert_eq!(sso_of("old-portal").0, "old");
    assert!(reason(&planner.steps, "tool-login").contains("no sso_account_id"));
    assert!(reason(&planner.steps, "lost").contains("no [sso-session nowhere] section"));
}

#[test]
fn an_sso_profile_already_imported_is_unchanged_and_a_clashing_integration_is_refused() {
    let profiles = read_profiles(SSO_CONFIG.as_bytes(), b"");
    let mut first = Planner::new(&profiles, &Workspace::default(), ImportOptions::default())
        .with_sso_sessions(read_sso_sessions(SSO_CONFIG.as_bytes()));
    first.plan_all();
    let mut again = Planner::new(&profiles, &first.trial, ImportOptions::default())
        .with_sso_sessions(read_sso_sessions(SSO_CONFIG.as_bytes()));
    again.plan_all();
    assert!(again.new_integrations.is_empty());
    assert!(matches!(
        again.steps.get("prod-admin"),
        Some(Step::Unchanged { .. })
    ));
    let mut ws = Workspace::default();
    ws.add_integration(
        crate::sso::NewIntegration {
            name: "corp".into(),
            start_url: "https://elsewhere.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: vec![],
        }
        .integration(crate::sso::IntegrationId::new())
        .unwrap(),
    )
    .unwrap();
    let mut clash = Planner::new(&profiles, &ws, ImportOptions::default())
        .with_sso_sessions(read_sso_sessions(SSO_CONFIG.as_bytes()));
    clash.plan_all();
    assert!(reason(&clash.steps, "prod-admin").contains("another start URL"));
}

#[test]
fn part2_a_login_session_profile_becomes_a_console_session_that_roles_chain_from() {
    let config = "\
[profile console]
login_session = arn:aws:iam::123456789012:user/alice
region = eu-west-1

[profile deploy]
role_arn = arn:aws:iam::123456789012:role/Deploy
source_profile = console

[profile broken]
login_session = alice
";
    let profiles = read_profiles(config.as_bytes(), b"");
    let mut planner = Planner::new(&profiles, &Workspace::default(), ImportOptions::default());
    planner.plan_all();
    let Some(Step::AddLogin { session }) = planner.steps.get("console") else {
        panic!("console is not planned as a console session");
    };
    let SessionKind::LoginSession(login) = &session.kind else {
        panic!("{:?}", session.kind);
    };
    assert_eq!(login.login_session, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(login.account_id.as_deref(), Some("123456789012"));
    assert_eq!(session.region.as_deref(), Some("eu-west-1"));
    assert!(matches!(
        planner.steps.get("deploy"),
        Some(Step::AddRole { parent, .. }) if parent == "console"
    ));
    let why = reason(&planner.steps, "broken");
    assert!(why.contains("login_session"), "{why}");

    // Planned again over the result: the same session, its token to be retaken.
    let trial = planner.trial.clone();
    let mut again = Planner::new(&profiles, &trial, ImportOptions::default());
    again.plan_all();
    assert!(matches!(
        again.steps.get("console"),
        Some(Step::RetakeLogin { id, .. }) if *id == session.id
    ));
}
