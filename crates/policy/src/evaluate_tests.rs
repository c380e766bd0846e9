//! The evaluator's table: each case is a trust policy, a hop, and IAM's answer, taken
//! from AWS's policy-evaluation documentation (explicit deny, NotPrincipal, wildcards,
//! IfExists, missing keys, negated operators, Bool on MFA, Null...).

use chrono::TimeZone;

use super::*;
use crate::hop::{Caller, Hop};
use chrono::Utc;
use rolehop_model::session::SessionId;

const USER: &str = "arn:aws:iam::123456789012:user/alice";
const ROLE: &str = "arn:aws:iam::123456789012:role/CodeBuildRole";
const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/CodeBuildRole/rolehop-codebuild";

/// What varies between cases' hops.
#[derive(Clone, Copy)]
enum From {
    User,
    UnknownUser,
    Role,
}

fn hop(from: From, external_id: Option<&str>, mfa: bool, source: Option<&str>) -> Hop {
    let caller = match from {
        From::User | From::UnknownUser => Caller {
            id: SessionId::new(),
            session: "alice".into(),
            kind: CallerKind::IamUser,
            arn: matches!(from, From::User).then(|| USER.to_owned()),
            account_id: Some("123456789012".into()),
            session_arn: None,
        },
        From::Role => Caller {
            id: SessionId::new(),
            session: "codebuild".into(),
            kind: CallerKind::Role,
            arn: Some(ROLE.into()),
            account_id: Some("123456789012".into()),
            session_arn: Some(SESSION.into()),
        },
    };
    Hop {
        session: "production".into(),
        role_arn: "arn:aws:iam::210987654321:role/ResourceDeployCAR".into(),
        role_session_name: "rolehop-production".into(),
        caller,
        external_id: external_id.map(str::to_owned),
        source_identity: source.map(str::to_owned),
        passes_tags: false,
        mfa,
    }
}

fn allow(principal: &str, extra: &str) -> String {
    format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"{extra}}}"#
    )
}

fn policy(statements: &[String]) -> PolicyDocument {
    PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
    .unwrap_or_else(|e| panic!("{e}: {statements:?}"))
}

struct Case {
    name: &'static str,
    statements: Vec<String>,
    hop: Hop,
    verdict: Verdict,
    /// Text one of the `missing` lines must contain (for failures).
    says: Option<&'static str>,
}

fn case(name: &'static str, statements: Vec<String>, hop: Hop, verdict: Verdict) -> Case {
    Case {
        name,
        statements,
        hop,
        verdict,
        says: None,
    }
}

fn cases() -> Vec<Case> {
    use Verdict::*;
    let user = hop(From::User, None, false, None);
    let role = hop(From::Role, None, false, None);
    let with_x = |x: &str| hop(From::Role, Some(x), false, None);
    let mfa_user = hop(From::User, None, true, None);
    let ext = |op: &str, v: &str| format!(r#","Condition":{{"{op}":{{"sts:ExternalId":{v}}}}}"#);
    vec![
        case("exact user ARN", vec![allow(USER, "")], user.clone(), Admitted),
        case("account id", vec![allow("123456789012", "")], user.clone(), Admitted),
        case("account root", vec![allow("arn:aws:iam::123456789012:root", "")], role.clone(), Admitted),
        case("anyone", vec![r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}"#.into()], role.clone(), Admitted),
        case("a role ARN admits its sessions", vec![allow(ROLE, "")], role.clone(), Admitted),
        case("the exact session ARN", vec![allow(SESSION, "")], role.clone(), Admitted),
        case("another session of the role", vec![allow("arn:aws:sts::123456789012:assumed-role/CodeBuildRole/other", "")], role.clone(), NotAdmitted),
        Case {
            says: Some("does not trust arn:aws:iam::123456789012:role/CodeBuildRole"),
            ..case("someone else", vec![allow("arn:aws:iam::123456789012:role/Other", "")], role.clone(), NotAdmitted)
        },
        case("another account's root", vec![allow("arn:aws:iam::999999999999:root", "")], user.clone(), NotAdmitted),
        case("a service principal only", vec![r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#.into()], role.clone(), NotAdmitted),
        case("explicit deny wins", vec![allow(ROLE, ""), r#"{"Effect":"Deny","Principal":"*","Action":"sts:*"}"#.into()], role.clone(), ExplicitDeny),
        case("a deny for someone else does not apply", vec![allow(ROLE, ""), r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"*"}"#.into()], role.clone(), Admitted),
        case("NotPrincipal spares the user listed with its account", vec![allow(USER, ""),
            format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{USER}","arn:aws:iam::123456789012:root"]}},"Action":"*"}}"#)], user.clone(), Admitted),
        case("NotPrincipal without the account still denies", vec![allow(USER, ""),
            format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{USER}"]}},"Action":"*"}}"#)], user.clone(), ExplicitDeny),
        case("NotPrincipal must list the session, not only the role", vec![allow(ROLE, ""),
            format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{ROLE}","arn:aws:iam::123456789012:root"]}},"Action":"*"}}"#)], role.clone(), ExplicitDeny),
        case("NotPrincipal listing the session and account", vec![allow(ROLE, ""),
            format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{SESSION}","123456789012"]}},"Action":"*"}}"#)], role.clone(), Admitted),
        case("action wildcard", vec![format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"sts:Assume*"}}"#)], role.clone(), Admitted),
        case("actions are case-insensitive", vec![format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"STS:assumerole"}}"#)], role.clone(), Admitted),
        Case {
            says: Some("no Allow statement grants sts:AssumeRole"),
            ..case("another action", vec![format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"sts:AssumeRoleWithSAML"}}"#)], role.clone(), NotAdmitted)
        },
        case("NotAction", vec![format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"NotAction":"iam:*"}}"#)], role.clone(), Admitted),
        case("NotAction naming it", vec![format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"NotAction":"sts:AssumeRole"}}"#)], role.clone(), NotAdmitted),
        Case {
            says: Some("sts:SetSourceIdentity"),
            ..case("a source identity needs SetSourceIdentity", vec![allow(ROLE, "")], hop(From::Role, None, false, Some("alice")), NotAdmitted)
        },
        case("SetSourceIdentity allowed", vec![format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Condition":{{"StringLike":{{"sts:SourceIdentity":"ali*"}}}}}}"#)], hop(From::Role, None, false, Some("alice")), Admitted),
        Case {
            says: Some("wants sts:ExternalId = \"x-1\"; this hop sends none (rolehop session edit role production --external-id x-1)"),
            ..case("external id missing", vec![allow(ROLE, &ext("StringEquals", "\"x-1\""))], role.clone(), NotAdmitted)
        },
        Case {
            says: Some("this hop sends \"x-2\""),
            ..case("external id wrong", vec![allow(ROLE, &ext("StringEquals", "\"x-1\""))], with_x("x-2"), NotAdmitted)
        },
        case("external id right", vec![allow(ROLE, &ext("StringEquals", "\"x-1\""))], with_x("x-1"), Admitted),
        case("values of one key are ORed", vec![allow(ROLE, &ext("StringEquals", r#"["a","x-1"]"#))], with_x("x-1"), Admitted),
        case("negated values are NORed", vec![allow(ROLE, &ext("StringNotEquals", r#"["a","x-1"]"#))], with_x("x-1"), NotAdmitted),
        case("a negated operator holds on a missing key", vec![allow(ROLE, ""), format!(r#"{{"Effect":"Deny","Principal":"*","Action":"*"{}}}"#, ext("StringNotEquals", "\"x-1\""))], role.clone(), ExplicitDeny),
        case("IfExists holds on a missing key", vec![allow(ROLE, &ext("StringEqualsIfExists", "\"x-1\""))], role.clone(), Admitted),
        case("IfExists still tests a present key", vec![allow(ROLE, &ext("StringEqualsIfExists", "\"x-1\""))], with_x("nope"), NotAdmitted),
        case("ForAllValues holds on a missing key", vec![allow(ROLE, &ext("ForAllValues:StringEquals", "\"x-1\""))], role.clone(), Admitted),
        case("ForAnyValue fails on a missing key, even negated", vec![allow(ROLE, &ext("ForAnyValue:StringNotEquals", "\"x-1\""))], role.clone(), NotAdmitted),
        case("no wildcard inside a principal ARN", vec![allow("arn:aws:iam::123456789012:role/*", "")], role.clone(), NotAdmitted),
        case("Null true wants the key absent", vec![allow(ROLE, &ext("Null", "\"true\""))], role.clone(), Admitted),
        case("Null false wants the key present", vec![allow(ROLE, &ext("Null", "false"))], role.clone(), NotAdmitted),
        case("Bool MFA with MFA", vec![allow(USER, r#","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#)], mfa_user.clone(), Admitted),
        case("Bool MFA without MFA", vec![allow(USER, r#","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}"#)], user.clone(), NotAdmitted),
        case("BoolIfExists false denies without MFA", vec![allow(USER, ""), r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#.into()], user.clone(), ExplicitDeny),
        case("BoolIfExists false spares MFA", vec![allow(USER, ""), r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#.into()], mfa_user.clone(), Admitted),
        case("ArnLike on aws:PrincipalArn", vec![r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Code*"}}}"#.into()], role.clone(), Admitted),
        case("ArnNotEquals on aws:PrincipalArn", vec![r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/CodeBuildRole"}}}"#.into()], role.clone(), NotAdmitted),
        case("DateLessThan in the future", vec![allow(ROLE, r#","Condition":{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#)], role.clone(), Admitted),
        case("DateGreaterThan in the future", vec![allow(ROLE, r#","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#)], role.clone(), NotAdmitted),
        case("NumericLessThan on aws:EpochTime", vec![allow(ROLE, r#","Condition":{"NumericLessThan":{"aws:EpochTime":"1800000000"}}"#)], role.clone(), Admitted),
        case("StringEquals on aws:PrincipalType", vec![allow("*", r#","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}"#)], role.clone(), Admitted),
        case("principal tags cannot be known", vec![allow(ROLE, r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"build"}}"#)], role.clone(), CannotTell),
        case("the organization cannot be known", vec![allow("*", r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#)], role.clone(), CannotTell),
        case("an unknowable deny makes an allow uncertain", vec![allow(ROLE, ""), r#"{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#.into()], role.clone(), CannotTell),
        case("an unknowable allow beside a sure no", vec![allow(ROLE, r#","Condition":{"StringEquals":{"aws:PrincipalTag/x":"y"}}"#), allow(USER, "")], role.clone(), CannotTell),
        case("an unknown user against its exact ARN", vec![allow(USER, "")], hop(From::UnknownUser, None, false, None), CannotTell),
        case("an unknown user against its account", vec![allow("123456789012", "")], hop(From::UnknownUser, None, false, None), Admitted),
        case("an unknown user against another account's user", vec![allow("arn:aws:iam::999999999999:user/bob", "")], hop(From::UnknownUser, None, false, None), NotAdmitted),
        case("a Resource other than the role", vec![allow(ROLE, r#","Resource":"arn:aws:iam::210987654321:role/Other""#)], role.clone(), NotAdmitted),
    ]
}

#[test]
fn the_evaluator_answers_like_iam_on_the_documented_cases() {
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let mut failures = Vec::new();
    for c in cases() {
        let doc = policy(&c.statements);
        let got = evaluate(&doc, &RequestContext::new(&c.hop, now));
        if got.verdict != c.verdict {
            failures.push(format!("{}: wanted {:?}, got {got:?}", c.name, c.verdict));
        } else if let Some(says) = c.says
            && !got.missing.iter().any(|m| m.contains(says))
        {
            failures.push(format!(
                "{}: no missing line says {says:?}: {got:?}",
                c.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_cross_account_admission_says_the_callers_side_is_unchecked() {
    let h = hop(From::Role, None, false, None);
    let got = evaluate(
        &policy(&[allow(ROLE, "")]),
        &RequestContext::new(&h, Utc::now()),
    );
    assert_eq!(got.verdict, Verdict::Admitted);
    assert!(
        got.details
            .iter()
            .any(|d| d.contains("identity policy of 'codebuild'") && d.contains("not checked")),
        "{got:?}"
    );
    let mut same = h.clone();
    same.role_arn = "arn:aws:iam::123456789012:role/Local".into();
    let got = evaluate(
        &policy(&[allow(ROLE, "")]),
        &RequestContext::new(&same, Utc::now()),
    );
    assert!(
        !got.details.iter().any(|d| d.contains("identity policy")),
        "{got:?}"
    );
}

#[test]
fn a_known_organization_is_tested() {
    let h = hop(From::Role, None, false, None);
    let doc = policy(&[allow(
        "*",
        r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
    )]);
    let mut ctx = RequestContext::new(&h, Utc::now());
    ctx.principal_org_id = Some("o-abc".into());
    assert_eq!(evaluate(&doc, &ctx).verdict, Verdict::Admitted);
    ctx.principal_org_id = Some("o-other".into());
    assert_eq!(evaluate(&doc, &ctx).verdict, Verdict::NotAdmitted);
}

#[test]
fn cannot_tell_names_the_key() {
    let h = hop(From::Role, None, false, None);
    let doc = policy(&[allow(
        ROLE,
        r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"build"}}"#,
    )]);
    let got = evaluate(&doc, &RequestContext::new(&h, Utc::now()));
    assert!(
        got.details
            .iter()
            .any(|d| d.contains("aws:PrincipalTag/team")),
        "{got:?}"
    );
}

#[test]
fn wildcards_match_like_iam() {
    for (p, t, want) in [
        ("sts:*", "sts:AssumeRole", true),
        ("sts:Assume?ole", "sts:AssumeRole", true),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        (
            "arn:aws:iam::*:role/Deploy",
            "arn:aws:iam::1:role/Deployer",
            false,
        ),
    ] {
        assert_eq!(glob(p, t, false), want, "{p} vs {t}");
    }
}
