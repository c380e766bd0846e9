//! The format's rules, one refusal per hostile file (each naming its line and field),
//! and the published example.

use super::*;

const EXAMPLE: &str = include_str!("../../../../docs/catalog.example.toml");

const HEAD: &str = "schema = 1\n[sources.me]\ntype = \"iam-user\"\n";

fn refused(text: &str) -> CatalogError {
    parse(text).expect_err("the catalog should be refused")
}

fn role(name: &str, parent: &str, arn_role: &str) -> String {
    format!(
        "[[roles]]\nname = \"{name}\"\nparent = \"{parent}\"\nrole_arn = \"arn:aws:iam::111111111111:role/{arn_role}\"\n"
    )
}

#[test]
fn part1_example_encodes_the_seed_chain() {
    let c = parse(EXAMPLE).expect("the example parses");
    assert_eq!(c.roles.len(), 2);
    let (codebuild, deploy) = (&c.roles[0], &c.roles[1]);
    assert_eq!(codebuild.parent, Parent::Source("me".into()));
    assert_eq!(codebuild.profile, "staging-codebuild");
    assert_eq!(deploy.parent, Parent::Role("codebuild".into()));
    assert_eq!(deploy.profile, "prod-deploy");
    assert_eq!(deploy.account_id(), "222222222222");
    assert_eq!(deploy.role_name(), "ResourceDeployCAR");
    assert!(matches!(&codebuild.target, Target::Role { tags, .. } if tags.len() == 1));
    assert!(matches!(c.sources["me"], Source::IamUser { .. }));
}

#[test]
fn part1_chains_of_any_depth_come_parents_first() {
    let mut text = HEAD.to_owned();
    // Declared leaf first: the reader orders parents before children.
    for depth in (1..=6).rev() {
        let parent = if depth == 1 {
            "{me}".to_owned()
        } else {
            format!("r{}", depth - 1)
        };
        text += &role(&format!("r{depth}"), &parent, &format!("R{depth}"));
    }
    let c = parse(&text).expect("a six-hop chain parses");
    let names: Vec<&str> = c.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["r1", "r2", "r3", "r4", "r5", "r6"]);
}

#[test]
fn part1_a_cycle_of_parents_is_refused_naming_its_line() {
    let text = format!(
        "{HEAD}{}{}{}",
        role("a", "{me}", "A"),
        role("b", "c", "B"),
        role("c", "b", "C")
    );
    let e = refused(&text);
    assert_eq!(e.field, "roles[1].parent");
    assert_eq!(e.line, Some(10), "{e}");
    assert!(e.message.contains("cycle: b -> c -> b"), "{e}");
    let self_parent = format!("{HEAD}{}", role("a", "a", "A"));
    assert!(refused(&self_parent).message.contains("cycle"));
}

#[test]
fn part1_a_secret_is_refused_without_being_repeated() {
    for (line, why) in [
        ("aws_secret_access_key = \"x\"", "secret"),
        ("aws_access_key_id = \"x\"", "access keys"),
        ("aws_session_token = \"x\"", "token"),
    ] {
        let text = format!("{HEAD}{}{line}\n", role("a", "{me}", "A"));
        let e = refused(&text);
        assert_eq!(e.line, Some(8), "{e}");
        assert!(e.field.starts_with("roles[0]."), "{e}");
        assert!(e.message.contains(why), "{e}");
    }
    let key_in_value = format!("{HEAD}description = \"AKIAIOSFODNN7EXAMPLE\"\n");
    let e = refused(&key_in_value);
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(4), "sources.me.description")
    );
    assert!(!e.to_string().contains("AKIA"), "{e}");
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let e = refused(&format!(
        "{HEAD}{}description = \"key {secret}\"\n",
        role("a", "{me}", "A")
    ));
    assert_eq!(e.line, Some(8));
    assert!(!e.to_string().contains(secret), "{e}");
}

#[test]
fn part1_an_endpoint_is_refused() {
    let e = refused(&format!(
        "{HEAD}{}endpoint_url = \"https://evil.example\"\n",
        role("a", "{me}", "A")
    ));
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(8), "roles[0].endpoint_url")
    );
    assert!(e.message.contains("where credentials are sent"), "{e}");
    let e = refused("schema = 1\n[services.sts]\nendpoint-url = \"https://x\"\n");
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(3), "services.sts.endpoint-url")
    );
}

#[test]
fn part1_a_command_is_refused() {
    let e = refused(&format!(
        "{HEAD}{}credential_process = \"/bin/sh -c 'curl evil'\"\n",
        role("a", "{me}", "A")
    ));
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(8), "roles[0].credential_process")
    );
    let e = refused(&format!(
        "{HEAD}[sources.x]\ntype = \"iam-user\"\nexec = [\"rm\"]\n"
    ));
    assert_eq!((e.line, e.field.as_str()), (Some(6), "sources.x.exec"));
    assert!(e.message.contains("never runs a command"));
}

#[test]
fn part1_ini_injection_in_a_name_is_refused() {
    let text = format!(
        "{HEAD}[[roles]]\nname = \"a]\\n[default\"\nparent = \"{{me}}\"\nrole_arn = \"arn:aws:iam::111111111111:role/A\"\n"
    );
    let e = refused(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(5), "roles[0].name"),
        "{e}"
    );
    let text = format!(
        "{HEAD}{}profile = \"x]\\nkey = v\"\n",
        role("a", "{me}", "A")
    );
    let e = refused(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(8), "roles[0].profile"),
        "{e}"
    );
}

#[test]
fn part1_a_file_over_the_limit_is_refused() {
    let big = format!("{HEAD}# {}\n", "x".repeat(MAX_BYTES));
    let e = refused(&big);
    assert_eq!(e.field, "catalog");
    assert!(e.message.contains("at most"), "{e}");
}

#[test]
fn part1_unknown_fields_schema_and_parents_are_refused() {
    let e = refused(&format!(
        "{HEAD}{}colour = \"red\"\n",
        role("a", "{me}", "A")
    ));
    assert_eq!(e.line, Some(8), "{e}");
    assert!(e.message.contains("colour"), "{e}");
    let e = refused("schema = 2\n");
    assert_eq!((e.line, e.field.as_str()), (Some(1), "schema"));
    let e = refused(&format!("{HEAD}{}", role("a", "{you}", "A")));
    assert_eq!((e.line, e.field.as_str()), (Some(6), "roles[0].parent"));
    let e = refused(&format!("{HEAD}{}", role("a", "nobody", "A")));
    assert!(e.message.contains("neither a role"), "{e}");
    let e = refused(&format!(
        "{HEAD}{}{}",
        role("a", "{me}", "A"),
        role("a", "{me}", "B")
    ));
    assert_eq!(e.field, "roles[1].name");
}

#[test]
fn part1_field_rules_are_the_models() {
    // A role assumed from an IAM user may last 2 hours; chained from a role, 1 hour.
    assert!(
        parse(&format!(
            "{HEAD}{}duration = 7200\n",
            role("a", "{me}", "A")
        ))
        .is_ok()
    );
    let chained = format!(
        "{HEAD}{}{}duration = 7200\n",
        role("a", "{me}", "A"),
        role("b", "a", "B")
    );
    assert_eq!(refused(&chained).field, "roles[1].duration");
    let e = refused(&format!(
        "{HEAD}{}tags = {{ \"bad key!\" = \"v\" }}\n",
        role("a", "{me}", "A")
    ));
    assert_eq!((e.line, e.field.as_str()), (Some(8), "roles[0].tags"));
    let e = refused(&format!(
        "{HEAD}{}transitive_tags = [\"nope\"]\n",
        role("a", "{me}", "A")
    ));
    assert_eq!(e.field, "roles[0].transitive_tags");
    let e = refused(&format!(
        "{HEAD}{}",
        role("a", "{me}", "A").replace("role/A", "user/A")
    ));
    assert_eq!((e.line, e.field.as_str()), (Some(7), "roles[0].role_arn"));
    let e = refused(&format!(
        "{HEAD}{}region = \"mars-1\"\n",
        role("a", "{me}", "A")
    ));
    assert_eq!(e.field, "roles[0].region");
}

#[test]
fn part1_sso_and_federated_sources_are_kept() {
    let text = "schema = 1\n\
        [sources.corp]\ntype = \"sso\"\nstart_url = \"https://corp.awsapps.com/start\"\nregion = \"eu-west-1\"\n\
        [sources.okta]\ntype = \"federated\"\nurl = \"https://corp.okta.com/app/amazon_aws/x/sso/saml\"\n\
        [[roles]]\nname = \"admin\"\nparent = \"{corp}\"\naccount_id = \"111111111111\"\nsso_role = \"AdministratorAccess\"\n\
        [[roles]]\nname = \"fed\"\nparent = \"{okta}\"\nrole_arn = \"arn:aws:iam::111111111111:role/Fed\"\nprincipal_arn = \"arn:aws:iam::111111111111:saml-provider/Okta\"\n\
        [[roles]]\nname = \"deeper\"\nparent = \"admin\"\nrole_arn = \"arn:aws:iam::222222222222:role/Deploy\"\n";
    let c = parse(text).expect("parses");
    assert!(
        matches!(&c.roles[0].target, Target::SsoRole { role_name, .. } if role_name == "AdministratorAccess")
    );
    assert!(matches!(&c.roles[1].target, Target::Saml { .. }));
    assert!(matches!(&c.roles[2].target, Target::Role { .. }));
    let e = refused(&text.replace("https://corp.okta", "http://corp.okta"));
    assert_eq!(e.field, "sources.okta.url");
    let e = refused(&text.replace("sso_role = \"AdministratorAccess\"\n", ""));
    assert_eq!(e.field, "roles[0].sso_role");
}

#[test]
fn part1_profile_templates_are_checked() {
    let e = refused("schema = 1\nprofile_template = \"{team}-{name}\"\n");
    assert_eq!((e.line, e.field.as_str()), (Some(2), "profile_template"));
    let e = refused("schema = 1\nprofile_template = \"fixed\"\n");
    assert_eq!(e.field, "profile_template");
    let text = format!(
        "schema = 1\nprofile_template = \"{{group}}-{{name}}\"\n[sources.me]\ntype = \"iam-user\"\n{}",
        role("a", "{me}", "A")
    );
    assert_eq!(refused(&text).field, "roles[0].group");
    let text = format!(
        "schema = 1\nprofile_template = \"team-{{account_id}}-{{role_name}}\"\n[sources.me]\ntype = \"iam-user\"\n{}",
        role("a", "{me}", "A")
    );
    assert_eq!(
        parse(&text).unwrap().roles[0].profile,
        "team-111111111111-A"
    );
}
