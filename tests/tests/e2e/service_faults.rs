//! Faults in the SSO portal, IAM and Organizations, through the `rolehop` CLI: each
//! service's client behind the fault proxy (mitmdump with tests/peers/fault_addon.py)
//! in front of its real peer (the IAM Identity Center stand-in, moto), with the fault
//! table of `sts_faults`: the service's own throttling error, a bare 429, a 500, a 503,
//! an answer that never comes, an answer cut off, a port nothing listens on.
//!
//! For each fault the one operation fails (exit 6, one line naming the service and the
//! cause), the proxy saw as many requests as that service's retry policy allows
//! (`crates/aws/src/services.rs`: the SSO portal 5 attempts, IAM and Organizations 3;
//! what the SDK's standard mode does not retry, 1), and nothing was written: the AWS
//! files keep every byte, and an organization sync adds no session. Each test prints
//! its figures (requests seen, time to the failure); the time is never asserted.

use std::time::Instant;

use crate::cli::{AwsFilesBytes, World, files_untouched};
use crate::cli_org::SYNC;
use crate::cli_sso::{counts, log_in, sync_counts};
use crate::org::make_org;
use rolehop_e2e::fault_proxy::{Fault, FaultProxy, refused_endpoint};
use rolehop_e2e::{SsoAccount, SsoPortal};

/// A service under test: a world whose client for it goes through `proxy`, and the one
/// command that calls it.
struct Target {
    world: World,
    proxy: FaultProxy,
    /// How messages name the service ("the SSO portal").
    name: &'static str,
    /// `AWS_ENDPOINT_URL_<ID>` of the service.
    endpoint_var: &'static str,
    /// Attempts per call (`services.rs`).
    attempts: usize,
    command: Vec<String>,
    /// The active session a failure must leave active, if the setup started one.
    bystander: Option<&'static str>,
    _portal: Option<SsoPortal>,
}

/// An SSO integration logged in and synced through the proxy (its OIDC calls go to the
/// stand-in directly), `sandbox-Admin` active; the command starts `payments-ReadOnly`,
/// the portal's GetRoleCredentials.
fn sso_portal() -> Target {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[
            SsoAccount::new("111111111111", "payments", &["Admin", "ReadOnly"]),
            SsoAccount::new("222222222222", "sandbox", &["Admin"]),
        ])
        .unwrap();
    let proxy = FaultProxy::start(&portal.endpoint()).unwrap();
    let world = world.with_env("AWS_ENDPOINT_URL_SSO", &proxy.endpoint());
    log_in(&world, &portal);
    assert_eq!(sync_counts(&world), counts(3, 0, 0, 0));
    world.rolehop(&["session", "start", "sandbox-Admin"]).ok();
    Target {
        world,
        proxy,
        name: "the SSO portal",
        endpoint_var: "AWS_ENDPOINT_URL_SSO",
        attempts: 5,
        command: args(&["session", "start", "payments-ReadOnly"]),
        bystander: Some("sandbox-Admin"),
        _portal: Some(portal),
    }
}

/// The seed's story with `codebuild` active and a role it chains to; the command is
/// `trust check` of that role, whose first IAM call is GetRole.
fn iam() -> Target {
    let world = World::start();
    world.seed_story();
    let role = world.create_role_trusting(
        "TrustsBob",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
            "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("bobs", "codebuild", &role);
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();
    let proxy = FaultProxy::start(&world.peers.moto().endpoint()).unwrap();
    let world = world.with_env("AWS_ENDPOINT_URL_IAM", &proxy.endpoint());
    Target {
        world,
        proxy,
        name: "IAM",
        endpoint_var: "AWS_ENDPOINT_URL_IAM",
        attempts: 3,
        command: args(&["trust", "check", "bobs"]),
        bystander: Some("codebuild"),
        _portal: None,
    }
}

/// The management account's IAM user `mgmt` and an organization of 20 accounts (made
/// by boto3, not through the proxy); the command is `org sync`.
fn organizations() -> Target {
    let world = World::start();
    world.add_iam_user("mgmt", "mgmt");
    make_org(&world);
    let proxy = FaultProxy::start(&world.peers.moto().endpoint()).unwrap();
    let world = world.with_env("AWS_ENDPOINT_URL_ORGANIZATIONS", &proxy.endpoint());
    Target {
        world,
        proxy,
        name: "AWS Organizations",
        endpoint_var: "AWS_ENDPOINT_URL_ORGANIZATIONS",
        attempts: 3,
        command: args(&SYNC),
        bystander: None,
        _portal: None,
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

/// Switches `fault` on and runs the target's command: it fails with exit 6 and one line
/// naming the service and `cause` (`{name}` the service's name, `{attempts}` "3
/// attempts"), after `requests`
/// requests (`None`: the service's attempts); the AWS files and the session list are
/// as they were, the bystander still active.
fn fails_that_operation_only(target: Target, fault: Fault, cause: &str, requests: Option<usize>) {
    let before = AwsFilesBytes::of(&target.world);
    let sessions = target.world.session_names();
    target.proxy.set(fault);
    let command: Vec<&str> = target.command.iter().map(String::as_str).collect();
    let started = Instant::now();
    let run = target.world.rolehop(&command).fails_with(6);
    let elapsed = started.elapsed();
    let attempts = requests.unwrap_or(target.attempts);
    let attempts_text = match attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    };
    let cause = cause
        .replace("{name}", target.name)
        .replace("{attempts}", &attempts_text);
    eprintln!(
        "figures: service={} fault={fault:?} requests={} time_to_failure={elapsed:?} stderr={:?}",
        target.name,
        target.proxy.requests(),
        run.stderr
    );
    assert!(run.stderr.contains(&cause), "{run:?}");
    assert_eq!(
        target.proxy.requests(),
        attempts,
        "{}'s retry policy, no more",
        target.name
    );
    target.proxy.set(Fault::None);
    files_untouched(&target.world, &before, &format!("{fault:?}"), elapsed);
    assert_eq!(target.world.session_names(), sessions, "no session added");
    if let Some(bystander) = target.bystander {
        assert_eq!(target.world.state_of(bystander), "active");
    }
}

/// A port nothing listens on: the command names the service and the endpoint.
fn refused_names_the_endpoint(target: Target) {
    let before = AwsFilesBytes::of(&target.world);
    let sessions = target.world.session_names();
    let endpoint = refused_endpoint().unwrap();
    let command: Vec<&str> = target.command.iter().map(String::as_str).collect();
    let started = Instant::now();
    let run = target
        .world
        .rolehop_with(&command, &[(target.endpoint_var, &endpoint)], None)
        .fails_with(6);
    let elapsed = started.elapsed();
    eprintln!(
        "figures: service={} fault=ConnectionRefused time_to_failure={elapsed:?} stderr={:?}",
        target.name, run.stderr
    );
    let expected = format!("could not connect to {} at {endpoint}", target.name);
    assert!(run.stderr.contains(&expected), "{run:?}");
    files_untouched(&target.world, &before, "ConnectionRefused", elapsed);
    assert_eq!(target.world.session_names(), sessions, "no session added");
    if let Some(bystander) = target.bystander {
        assert_eq!(target.world.state_of(bystander), "active");
    }
}

const THROTTLED: &str = "{name} throttled the request after {attempts}";
const ANSWERED_500: &str = "{name} answered 500 Internal Server Error after {attempts}";
const ANSWERED_503: &str = "{name} answered 503 Service Unavailable after {attempts}";
const HUNG: &str = "{name} did not answer within 10 s after {attempts}";
const CUT_OFF: &str = "{name}'s answer was cut off or unreadable after {attempts}";

/// One test per service and fault, `<service>::<behaviour>`.
macro_rules! fault_table {
    ($service:ident) => {
        mod $service {
            use super::*;

            #[test]
            fn throttling_is_retried_to_the_policy_then_fails_naming_the_service() {
                fails_that_operation_only($service(), Fault::Throttling, THROTTLED, None);
            }

            #[test]
            fn a_bare_429_is_answered_once_and_says_throttled() {
                fails_that_operation_only($service(), Fault::TooManyRequests, THROTTLED, Some(1));
            }

            #[test]
            fn a_500_is_retried_to_the_policy_then_fails() {
                fails_that_operation_only($service(), Fault::InternalError, ANSWERED_500, None);
            }

            #[test]
            fn a_503_is_retried_to_the_policy_then_fails() {
                fails_that_operation_only($service(), Fault::Unavailable, ANSWERED_503, None);
            }

            #[test]
            fn a_hang_times_out_each_attempt_then_fails() {
                fails_that_operation_only($service(), Fault::Hang, HUNG, None);
            }

            #[test]
            fn a_truncated_answer_fails_clearly() {
                fails_that_operation_only($service(), Fault::TruncatedBody, CUT_OFF, None);
            }

            #[test]
            fn a_refused_connection_names_the_endpoint() {
                refused_names_the_endpoint($service());
            }
        }
    };
}

fault_table!(sso_portal);
fault_table!(iam);
// Organizations is an awsJson 1.1 service: a bare 500, 503 or 429 (no body) is not a
// JSON error the SDK can read, and once was reported as an unreadable answer without
// its status; crates/aws/src/call.rs now says the status, as for the other services.
fault_table!(organizations);
