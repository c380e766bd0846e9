//! An independent check of the policies Rolehop reasons about and writes: parliament
//! (PyPI, Duo Labs' IAM linter, pinned in `tests/peers-requirements.txt`) over every
//! policy document of the evaluator's table (`crates/policy/fixtures/
//! evaluation-table.json`: the trust policies and the caller's identity policies) and
//! every trust policy and identity statement `rolehop_core::trust::template` and
//! `needs` produce. Any finding fails, except those a table row lists in `lint`
//! with its reason; an expected finding that does not come fails too.
//!
//! How the documents are handed to parliament, and why:
//! - Through Rolehop's own grammar (`PolicyDocument`), so condition values are strings
//!   as IAM reads them: parliament 1.6.4 crashes on a JSON number as a condition value,
//!   which IAM accepts.
//! - A trust policy statement gets `"Resource": <the role's ARN>`: parliament lints
//!   identity policies, which need a Resource, and stops at a statement without one
//!   (never reaching its actions and conditions); the role is the resource a trust
//!   policy governs.
//! - Findings parliament cannot know better on: a role-session principal
//!   (`arn:aws:sts::…:assumed-role/…`, documented on AWS's Principal page) is
//!   `UNKNOWN_PRINCIPAL` to it; such rows say so in `lint`. parliament does not check
//!   what is specific to trust policies (`NotPrincipal` is refused there): the table's
//!   own rows cover that.
//!
//! parliament missing is a failure, never a skip: `cargo xtask install` puts it in the
//! peers venv.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use rolehop_core::model::SessionId;
use rolehop_core::trust::policy::{PolicyDocument, Statement, ValueList};
use rolehop_core::trust::statement::{Caller, CallerKind, Hop, NeedsOptions, UserArns, needs};
use rolehop_core::trust::template::{TemplateFormat, render};
use rolehop_e2e::venv_bin;
use serde_json::Value;

const TABLE: &str = include_str!("../../../crates/policy/fixtures/evaluation-table.json");
const TARGET: &str = "arn:aws:iam::210987654321:role/ResourceDeployCAR";
const LOCAL: &str = "arn:aws:iam::123456789012:role/LocalDeploy";

/// One parliament finding.
#[derive(Debug, Clone)]
struct Finding {
    issue: String,
    detail: String,
}

/// parliament's findings on each of `docs`, from one run over them as files; panics
/// when parliament is missing or crashes.
fn parliament(docs: &[Value]) -> Vec<Vec<Finding>> {
    let program = venv_bin("parliament");
    assert!(
        program.exists(),
        "parliament is not installed at {}: run `cargo xtask install` (it is pinned in \
         tests/peers-requirements.txt); this suite fails rather than skip",
        program.display()
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let paths: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let path = dir.path().join(format!("{i}.json"));
            std::fs::write(&path, doc.to_string()).expect("the policy is written");
            path.display().to_string()
        })
        .collect();
    let output = Command::new(&program)
        .args(["--json", "--files", &paths.join(",")])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.trim().is_empty(), "parliament failed: {stderr}");
    let mut findings = vec![Vec::new(); docs.len()];
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("parliament printed {line:?}, not JSON: {e}"));
        let file = v["location"]["filepath"].as_str().unwrap_or_default();
        let index = paths
            .iter()
            .position(|p| p == file)
            .unwrap_or_else(|| panic!("a finding names no policy given: {line}"));
        findings[index].push(Finding {
            issue: v["issue"].as_str().unwrap_or_default().to_owned(),
            detail: v["detail"].to_string(),
        });
    }
    // parliament exits 1 when it finds something, 0 when not.
    assert_eq!(
        output.status.success(),
        findings.iter().all(Vec::is_empty),
        "parliament's exit status disagrees with its findings: {output:?}"
    );
    findings
}

/// `text` as Rolehop reads it, written back (scalars as strings).
fn normalized(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A trust policy as parliament lints it: each statement without a Resource gets the
/// role's ARN.
fn as_linted_trust_policy(doc: &PolicyDocument, role_arn: &str) -> Value {
    let mut doc = doc.clone();
    for s in &mut doc.statement {
        if s.resource.is_none() && s.not_resource.is_none() {
            s.resource = Some(ValueList::one(role_arn));
        }
    }
    serde_json::to_value(&doc).expect("a policy serializes")
}

/// The role a table row's hop assumes.
fn row_role(row: &Value) -> String {
    let role = match row["role"].as_str() {
        Some("same") => LOCAL,
        _ => TARGET,
    };
    match row["partition"].as_str() {
        Some(p) => role.replacen("arn:aws:", &format!("arn:{p}:"), 1),
        None => role.to_owned(),
    }
}

/// The parliament findings a row expects, by issue, with why.
fn expected_findings(row: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(row["lint"].clone()).unwrap_or_default()
}

/// The documents a table row holds, as parliament sees them.
fn row_documents(row: &Value) -> Vec<Value> {
    let role = row_role(row);
    let mut docs = vec![as_linted_trust_policy(
        &normalized(&row["policy"].to_string()),
        &role,
    )];
    for identity in row["identity"].as_array().into_iter().flatten() {
        let doc = normalized(&identity.to_string());
        docs.push(serde_json::to_value(&doc).expect("a policy serializes"));
    }
    docs
}

#[test]
fn parliament_finds_nothing_unexplained_in_the_evaluation_tables_policies() {
    let table: Value = serde_json::from_str(TABLE).expect("the table is JSON");
    let rows = table["rows"].as_array().expect("rows");
    assert!(rows.len() > 50, "the table has {} rows", rows.len());
    let docs: Vec<(usize, Value)> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row_documents(row).into_iter().map(move |d| (i, d)))
        .collect();
    let findings = parliament(&docs.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>());
    let mut seen: Vec<BTreeSet<String>> = vec![BTreeSet::new(); rows.len()];
    let mut failures = Vec::new();
    for ((i, doc), found) in docs.iter().zip(findings) {
        let expected = expected_findings(&rows[*i]);
        for f in found {
            if !expected.contains_key(&f.issue) {
                failures.push(format!(
                    "{}: {} {} in {doc}",
                    rows[*i]["name"], f.issue, f.detail
                ));
            }
            seen[*i].insert(f.issue);
        }
    }
    for (row, seen) in rows.iter().zip(&seen) {
        for issue in expected_findings(row).keys().filter(|i| !seen.contains(*i)) {
            failures.push(format!(
                "{}: parliament no longer reports {issue}: drop it from the row's lint",
                row["name"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Hops of every shape the templates handle.
fn hops() -> Vec<(Hop, NeedsOptions)> {
    let user = |arn: Option<&str>, account: &str| Caller {
        id: SessionId::new(),
        session: "alice".into(),
        kind: CallerKind::IamUser,
        arn: arn.map(str::to_owned),
        account_id: Some(account.into()),
        session_arn: None,
    };
    let role = Caller {
        id: SessionId::new(),
        session: "codebuild".into(),
        kind: CallerKind::Role,
        arn: Some("arn:aws:iam::123456789012:role/ci/CodeBuildRole".into()),
        account_id: Some("123456789012".into()),
        session_arn: Some(
            "arn:aws:sts::123456789012:assumed-role/CodeBuildRole/rolehop-codebuild".into(),
        ),
    };
    // An IAM Identity Center parent: no ARN in the workspace, its account only.
    let sso = Caller::sso_role(SessionId::new(), "admin", "123456789012");
    let hop = |caller: Caller, role_arn: &str| Hop {
        session: "production".into(),
        role_arn: role_arn.into(),
        role_session_name: "rolehop-production".into(),
        caller,
        external_id: None,
        source_identity: None,
        passes_tags: false,
        mfa: false,
    };
    let plain = NeedsOptions::default();
    let mfa = NeedsOptions { require_mfa: true };
    vec![
        (
            hop(
                user(Some("arn:aws:iam::123456789012:user/alice"), "123456789012"),
                LOCAL,
            ),
            plain,
        ),
        (hop(user(None, "123456789012"), TARGET), plain),
        (
            Hop {
                mfa: true,
                ..hop(
                    user(Some("arn:aws:iam::123456789012:user/alice"), "123456789012"),
                    TARGET,
                )
            },
            mfa,
        ),
        (
            Hop {
                external_id: Some("partner-42".into()),
                ..hop(role.clone(), TARGET)
            },
            plain,
        ),
        (
            Hop {
                source_identity: Some("alice".into()),
                ..hop(
                    role,
                    "arn:aws:iam::210987654321:role/deploy/ResourceDeployCAR",
                )
            },
            plain,
        ),
        (hop(sso, TARGET), plain),
        (
            hop(
                user(
                    Some("arn:aws-cn:iam::123456789012:user/alice"),
                    "123456789012",
                ),
                "arn:aws-cn:iam::210987654321:role/ResourceDeployCAR",
            ),
            plain,
        ),
    ]
}

#[test]
fn parliament_finds_nothing_in_the_trust_templates_and_identity_statements() {
    let mut docs = Vec::new();
    for (hop, options) in hops() {
        let needs = needs(&hop, &UserArns::new(), options);
        let json = render(&needs, &hop.session, TemplateFormat::Json);
        let trust = as_linted_trust_policy(&normalized(&json), &hop.role_arn);
        let identity = PolicyDocument::new(vec![needs.identity_statement.clone()]);
        let identity = serde_json::to_value(&identity).expect("a policy serializes");
        let from = format!("hop from '{}' to {}", hop.caller.session, hop.role_arn);
        docs.push((from.clone(), trust));
        docs.push((from, identity));
    }
    let findings = parliament(&docs.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>());
    let failures: Vec<String> = docs
        .iter()
        .zip(findings)
        .flat_map(|((from, doc), found)| {
            found
                .into_iter()
                .map(move |f| format!("{from}: {} {} in {doc}", f.issue, f.detail))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The suite can only pass for the right reason if parliament, as run here, reports
/// what is wrong: an action STS does not have, and a condition value of the wrong type.
#[test]
fn parliament_as_run_here_reports_a_broken_policy() {
    let broken = PolicyDocument::new(vec![Statement {
        action: Some(ValueList::one("sts:AssumeRolePlease")),
        resource: Some(ValueList::one(TARGET)),
        ..Statement::allow()
    }]);
    let broken = serde_json::to_value(&broken).expect("serializes");
    let doc = normalized(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole",
            "Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"next week"}}}}"#,
    );
    let mistyped = serde_json::to_value(&doc).expect("serializes");
    let findings = parliament(&[broken, mistyped]);
    assert!(
        findings[0].iter().any(|f| f.issue == "UNKNOWN_ACTION"),
        "{findings:?}"
    );
    assert!(
        findings[1].iter().any(|f| f.issue == "MISMATCHED_TYPE"),
        "{findings:?}"
    );
}
