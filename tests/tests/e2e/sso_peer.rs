//! The IAM Identity Center stand-in's fidelity: the real clients, boto3's `sso-oidc` and
//! `sso` clients (paginators included) and botocore's SSO token provider, work against
//! it, and the role credentials it hands out are moto's, accepted with IAM auth on.
//! If these fail, no SSO suite built on the stand-in can be trusted.

use std::thread;
use std::time::Duration;

use rolehop_e2e::{
    MotoServer, SsoAccount, SsoOperation, SsoPortal, SsoPortalConfig, python,
    sso_portal::{DEFAULT_USER, START_URL},
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Helpers every script starts with: the control side door (for what the person does
/// in the browser) and a complete device-flow login through boto3's client.
const PRELUDE: &str = r#"
import json, os, sys, time, urllib.request
import boto3, botocore
from botocore.config import Config

PORTAL = os.environ["PORTAL"]
START_URL = os.environ["START_URL"]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
oidc = boto3.client("sso-oidc")
sso = boto3.client("sso")

def ctl(name, body=None):
    request = urllib.request.Request(PORTAL + "/_stand_in/" + name,
                                     data=json.dumps(body or {}).encode(), method="POST")
    return json.loads(urllib.request.urlopen(request).read())

def register(scopes=("sso:account:access",)):
    return oidc.register_client(clientName="sso-peer-test", clientType="public",
                                scopes=list(scopes))

def start(client):
    return oidc.start_device_authorization(clientId=client["clientId"],
        clientSecret=client["clientSecret"], startUrl=START_URL)

def redeem(client, device):
    return oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                             grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])

def code_of(error):
    return error.response["Error"]["Code"]

def wire_of(error):
    """What an OIDC error was on the wire: its type, `error` and HTTP status."""
    return [code_of(error), error.response.get("error"),
            error.response["ResponseMetadata"]["HTTPStatusCode"]]

def poll(client, device, detail=code_of):
    """"token", or what CreateToken answered instead."""
    try:
        redeem(client, device)
        return "token"
    except botocore.exceptions.ClientError as e:
        return detail(e)

def login(client=None):
    client = client or register()
    device = start(client)
    ctl("approve", {"userCode": device["userCode"]})
    return client, redeem(client, device)
"#;

/// Moto and the stand-in, and what a script needs to reach them.
struct World {
    moto: MotoServer,
    portal: SsoPortal,
}

impl World {
    fn start() -> Self {
        let moto = MotoServer::start().expect("moto starts");
        let portal = SsoPortal::start(&moto).expect("the SSO stand-in starts");
        Self { moto, portal }
    }

    /// Runs `script` after [`PRELUDE`] in the venv; returns its stdout, panicking with
    /// its stderr when it fails.
    fn python(&self, script: &str) -> String {
        let mut env = self.portal.endpoint_env();
        env.extend([
            ("PORTAL".to_owned(), self.portal.endpoint()),
            ("MOTO".to_owned(), self.moto.endpoint()),
            ("START_URL".to_owned(), START_URL.to_owned()),
            ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
        ]);
        let out = python(&format!("{PRELUDE}\n{script}"), env).expect("python runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "script failed:\n{}\nstdout:\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// The script's last stdout line, as JSON.
    fn python_json(&self, script: &str) -> serde_json::Value {
        let stdout = self.python(script);
        let last = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

#[test]
fn boto3s_device_flow_is_pending_until_the_person_approves_then_yields_tokens() -> TestResult {
    let world = World::start();
    // The person approves from "the browser" (this thread) once the client waits.
    let script = thread::scope(|scope| {
        let client = scope.spawn(|| {
            world.python_json(
                r#"
client = register()
device = start(client)
pending = 0
while True:
    time.sleep(device["interval"])
    try:
        token = redeem(client, device)
        break
    except oidc.exceptions.AuthorizationPendingException as e:
        assert wire_of(e) == ["AuthorizationPendingException", "authorization_pending", 400]
        pending += 1
redeemed_twice = poll(client, device)
print(json.dumps({"client": {k: v for k, v in client.items() if k != "ResponseMetadata"},
                  "device": {k: v for k, v in device.items() if k != "ResponseMetadata"},
                  "token": {k: v for k, v in token.items() if k != "ResponseMetadata"},
                  "pending": pending, "redeemed_twice": redeemed_twice, "now": time.time()}))
"#,
            )
        });
        let code = loop {
            if let Some(code) = world.portal.pending_user_codes()?.pop() {
                break code;
            }
            assert!(!client.is_finished(), "the client ended before it asked");
            thread::sleep(Duration::from_millis(100));
        };
        // Let the client see at least one authorization_pending first.
        while world.portal.calls()?.of(SsoOperation::CreateToken) == 0 {
            assert!(!client.is_finished(), "the client ended before it polled");
            thread::sleep(Duration::from_millis(100));
        }
        world.portal.approve(&code)?;
        Ok::<_, rolehop_e2e::PeerError>((code, client.join().expect("client thread")))
    });
    let (code, out) = script?;

    assert!(out["pending"].as_u64() >= Some(1), "{out}");
    assert_eq!(out["device"]["userCode"], code.as_str());
    let complete = out["device"]["verificationUriComplete"].as_str().unwrap();
    assert!(complete.ends_with(&format!("?user_code={code}")), "{out}");
    assert_eq!(out["device"]["interval"], 1);
    assert!(out["device"]["expiresIn"].as_u64() > Some(0), "{out}");
    let now = out["now"].as_f64().unwrap();
    assert!(
        out["client"]["clientSecretExpiresAt"].as_f64() > Some(now),
        "{out}"
    );
    assert_eq!(out["token"]["tokenType"], "Bearer");
    assert!(
        out["token"]["accessToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(
        out["token"]["refreshToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(out["redeemed_twice"], "InvalidGrantException");
    Ok(())
}

#[test]
fn role_credentials_act_as_the_reserved_sso_role_in_that_account_with_moto_auth_on() -> TestResult {
    let world = World::start();
    world.moto.enable_auth()?;
    world.portal.seed(&[
        SsoAccount::new("111122223333", "payments-prod", &["AdministratorAccess"]),
        SsoAccount::new("444455556666", "payments-dev", &["ReadOnly", "Developer"]),
    ])?;

    let out = world.python_json(
        r#"
_, token = login()
answers = {}
for account, role in [("111122223333", "AdministratorAccess"), ("444455556666", "Developer")]:
    creds = sso.get_role_credentials(accessToken=token["accessToken"], accountId=account,
                                     roleName=role)["roleCredentials"]
    session = boto3.Session(aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"], aws_session_token=creds["sessionToken"])
    identity = session.client("sts", endpoint_url=os.environ["MOTO"]).get_caller_identity()
    # An action moto's IAM auth evaluates against the role's permission set.
    roles = session.client("iam", endpoint_url=os.environ["MOTO"]).list_roles()["Roles"]
    answers[account] = {"arn": identity["Arn"], "account": identity["Account"],
                        "expiration": creds["expiration"], "now_ms": int(time.time() * 1000),
                        "roles": [r["Arn"] for r in roles]}
print(json.dumps(answers))
"#,
    );

    for (account, role) in [
        ("111122223333", "AdministratorAccess"),
        ("444455556666", "Developer"),
    ] {
        let answer = &out[account];
        assert_eq!(answer["account"], account, "{out}");
        assert_eq!(
            answer["arn"],
            SsoPortal::assumed_role_arn(account, role, DEFAULT_USER),
            "{out}"
        );
        assert!(
            answer["roles"]
                .as_array()
                .unwrap()
                .contains(&SsoPortal::role_arn(account, role).into()),
            "{out}"
        );
        // Milliseconds since the epoch, about an hour ahead.
        let ahead = answer["expiration"].as_i64().unwrap() - answer["now_ms"].as_i64().unwrap();
        assert!((3_000_000..=3_700_000).contains(&ahead), "{out}");
    }
    Ok(())
}

#[test]
fn sso_role_credentials_create_and_assume_a_chained_role_in_their_account() -> TestResult {
    let world = World::start();
    world.moto.enable_auth()?;
    world
        .portal
        .seed(&[SsoAccount::new("111122223333", "payments", &["Admin"])])?;
    let sso_session = SsoPortal::assumed_role_arn("111122223333", "Admin", DEFAULT_USER);
    let out = world.python_json(&format!(
        r#"
_, token = login()
creds = sso.get_role_credentials(accessToken=token["accessToken"], accountId="111122223333",
                                 roleName="Admin")["roleCredentials"]
session = boto3.Session(aws_access_key_id=creds["accessKeyId"],
    aws_secret_access_key=creds["secretAccessKey"], aws_session_token=creds["sessionToken"])
# The permission set allows every action in its account, so the SSO role itself
# creates the next hop. moto with IAM auth on matches an assumed-role caller by its
# session ARN (AWS also admits the role ARN): the trust names the session.
trust = {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
         "Principal": {{"AWS": "{sso_session}"}}, "Action": "sts:AssumeRole"}}]}}
arn = session.client("iam", endpoint_url=os.environ["MOTO"]).create_role(
    RoleName="Deploy", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
hop = session.client("sts", endpoint_url=os.environ["MOTO"]).assume_role(
    RoleArn=arn, RoleSessionName="chained")["Credentials"]
identity = boto3.client("sts", endpoint_url=os.environ["MOTO"],
    aws_access_key_id=hop["AccessKeyId"], aws_secret_access_key=hop["SecretAccessKey"],
    aws_session_token=hop["SessionToken"]).get_caller_identity()
print(json.dumps({{"arn": identity["Arn"]}}))
"#
    ));
    assert_eq!(
        out["arn"],
        "arn:aws:sts::111122223333:assumed-role/Deploy/chained"
    );
    Ok(())
}

#[test]
fn the_verification_uri_lets_a_browser_approve_or_deny_the_code() -> TestResult {
    let world = World::start();
    let out = world.python_json(
        r#"
import re, urllib.parse
client = register()
def browse(device, button):
    """What a person does: open the complete URI, check the code, press a button."""
    page = urllib.request.urlopen(device["verificationUriComplete"]).read().decode()
    shown = re.search(r'name="user_code" value="([^"]*)"', page).group(1)
    form = urllib.parse.urlencode({"user_code": shown, "action": button}).encode()
    urllib.request.urlopen(urllib.request.Request(device["verificationUri"], data=form))
    return shown
approved, denied = start(client), start(client)
shown = browse(approved, "approve")
browse(denied, "deny")
print(json.dumps({"shown_matches": shown == approved["userCode"],
                  "approved": poll(client, approved), "denied": poll(client, denied)}))
"#,
    );
    assert_eq!(out["shown_matches"], true, "{out}");
    assert_eq!(out["approved"], "token");
    assert_eq!(out["denied"], "AccessDeniedException");
    assert!(world.portal.pending_user_codes()?.is_empty());
    Ok(())
}

#[test]
fn the_approving_browser_approves_the_uri_it_is_opened_with() -> TestResult {
    let world = World::start();
    let dir = tempfile::tempdir()?;
    let browser = world.portal.approving_browser(dir.path())?;
    let out = world.python_json(&format!(
        r#"
import webbrowser
client = register()
device = start(client)
# As the AWS CLI does: BROWSER names the program webbrowser runs with the URL.
os.environ["BROWSER"] = "{browser}"
opened = webbrowser.open(device["verificationUriComplete"])
for _ in range(100):
    answer = poll(client, device)
    if answer != "AuthorizationPendingException":
        break
    time.sleep(device["interval"])
print(json.dumps({{"opened": opened, "answer": answer, "uri": device["verificationUriComplete"]}}))
"#,
        browser = browser.display()
    ));
    assert_eq!(out["opened"], true, "{out}");
    assert_eq!(out["answer"], "token", "{out}");
    let log = std::fs::read_to_string(dir.path().join("approving-browser.log"))?;
    assert_eq!(log.trim(), out["uri"].as_str().unwrap());
    Ok(())
}

#[test]
fn configure_changes_the_interval_and_lifetimes_the_clients_are_told() -> TestResult {
    let world = World::start();
    world
        .portal
        .seed(&[SsoAccount::new("111122223333", "payments", &["Admin"])])?;
    world.portal.configure(&SsoPortalConfig {
        interval: Some(Duration::from_secs(3)),
        access_token_ttl: Some(Duration::from_secs(120)),
        // Below STS's 900 s minimum: rotation tests need credentials that lapse soon.
        role_credentials_ttl: Some(Duration::from_secs(60)),
        ..SsoPortalConfig::default()
    })?;
    let out = world.python_json(
        r#"
interval = start(register())["interval"]
_, token = login()
creds = sso.get_role_credentials(accessToken=token["accessToken"], accountId="111122223333",
                                 roleName="Admin")["roleCredentials"]
print(json.dumps({"interval": interval, "expiresIn": token["expiresIn"],
                  "credentialsFor": (creds["expiration"] - time.time() * 1000) / 1000}))
"#,
    );
    assert_eq!(out["interval"], 3);
    assert_eq!(out["expiresIn"], 120);
    let lasts = out["credentialsFor"].as_f64().unwrap();
    assert!((30.0..=61.0).contains(&lasts), "{out}");
    Ok(())
}

#[test]
fn a_slow_down_lengthens_the_interval_for_good_so_the_old_pace_is_told_again() -> TestResult {
    // RFC 8628 section 3.5: each slow_down adds 5 s to the interval for every later
    // poll; a client that keeps its old pace is told to slow down again.
    let world = World::start();
    world.portal.configure(&SsoPortalConfig {
        interval: Some(Duration::from_secs(1)),
        ..SsoPortalConfig::default()
    })?;
    let out = world.python_json(
        r#"
client = register()
device = start(client)
first = poll(client, device)
hasty = poll(client, device, wire_of)
time.sleep(device["interval"] + 0.5)
old_pace = poll(client, device)
time.sleep(device["interval"] + 2 * 5 + 0.5)
patient = poll(client, device)
print(json.dumps([first, hasty, old_pace, patient]))
"#,
    );
    assert_eq!(
        out,
        serde_json::json!([
            "AuthorizationPendingException",
            ["SlowDownException", "slow_down", 400],
            "SlowDownException",
            "AuthorizationPendingException"
        ])
    );
    assert_eq!(world.portal.calls()?.slow_downs, 2);
    Ok(())
}

#[test]
fn a_denied_request_answers_access_denied_and_a_lapsed_one_expired_token() -> TestResult {
    let world = World::start();
    let out = world.python_json(
        r#"
client = register()
denied = start(client)
ctl("deny", {"userCode": denied["userCode"]})
answers = {"denied": poll(client, denied, wire_of)}
lapsed = start(client)
ctl("expire-device-codes")
answers["lapsed"] = poll(client, lapsed, wire_of)
print(json.dumps(answers))
"#,
    );
    assert_eq!(
        out["denied"],
        serde_json::json!(["AccessDeniedException", "access_denied", 400])
    );
    assert_eq!(
        out["lapsed"],
        serde_json::json!(["ExpiredTokenException", "expired_token", 400])
    );
    Ok(())
}

#[test]
fn the_refresh_grant_renews_an_expired_access_token_and_spends_its_refresh_token() -> TestResult {
    let world = World::start();
    world
        .portal
        .seed(&[SsoAccount::new("111122223333", "payments", &["Admin"])])?;
    let out = world.python_json(
        r#"
def accounts(token):
    try:
        return len(sso.list_accounts(accessToken=token)["accountList"])
    except sso.exceptions.UnauthorizedException as e:
        return [code_of(e), e.response["ResponseMetadata"]["HTTPStatusCode"]]
def refresh(client, refresh_token):
    try:
        return oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                 grantType="refresh_token", refreshToken=refresh_token)
    except oidc.exceptions.InvalidGrantException as e:
        return code_of(e)
client, first = login()
before = accounts(first["accessToken"])
ctl("expire-tokens")
expired = accounts(first["accessToken"])
second = refresh(client, first["refreshToken"])
renewed = accounts(second["accessToken"])
spent = refresh(client, first["refreshToken"])
ctl("revoke-tokens")
revoked = [accounts(second["accessToken"]), refresh(client, second["refreshToken"])]
# The legacy layout registers without scopes, and AWS gives such a client no refresh token.
_, legacy = login(register(scopes=()))
print(json.dumps({"before": before, "expired": expired, "renewed": renewed, "spent": spent,
                  "rotated": second["refreshToken"] != first["refreshToken"],
                  "revoked": revoked, "legacy_refresh": "refreshToken" in legacy}))
"#,
    );
    assert_eq!(out["before"], 1);
    assert_eq!(
        out["expired"],
        serde_json::json!(["UnauthorizedException", 401])
    );
    assert_eq!(out["renewed"], 1, "{out}");
    assert_eq!(out["rotated"], true);
    assert_eq!(out["spent"], "InvalidGrantException");
    assert_eq!(
        out["revoked"],
        serde_json::json!([["UnauthorizedException", 401], "InvalidGrantException"])
    );
    assert_eq!(out["legacy_refresh"], false);
    Ok(())
}

#[test]
fn boto3s_paginators_walk_every_account_and_role_across_pages() -> TestResult {
    let world = World::start();
    let seeded = world
        .portal
        .seed_generated(45, &["Admin", "ReadOnly", "Billing"])?;
    assert_eq!(seeded.len(), 45);
    let out = world.python_json(
        r#"
_, token = login()
access = token["accessToken"]
accounts = [a for page in sso.get_paginator("list_accounts").paginate(accessToken=access)
            for a in page["accountList"]]
account = accounts[7]["accountId"]
role_pages = list(sso.get_paginator("list_account_roles").paginate(
    accessToken=access, accountId=account, PaginationConfig={"PageSize": 2}))
print(json.dumps({"accounts": accounts, "account": account,
                  "role_pages": [[r["roleName"] for r in p["roleList"]] for p in role_pages],
                  "role_accounts": sorted({r["accountId"] for p in role_pages for r in p["roleList"]})}))
"#,
    );
    let listed: Vec<(String, String, String)> = out["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["accountId"].as_str().unwrap().to_owned(),
                a["accountName"].as_str().unwrap().to_owned(),
                a["emailAddress"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<_> = seeded
        .iter()
        .map(|a| {
            (
                a.account_id.clone(),
                a.account_name.clone(),
                a.email_address.clone(),
            )
        })
        .collect();
    assert_eq!(listed, expected, "every account once, in order");
    assert_eq!(
        out["role_pages"],
        serde_json::json!([["Admin", "ReadOnly"], ["Billing"]])
    );
    assert_eq!(out["role_accounts"], serde_json::json!([out["account"]]));

    // 45 accounts at the default 20 a page: 3 ListAccounts; 2 pages of roles.
    let calls = world.portal.calls()?;
    assert_eq!(calls.of(SsoOperation::ListAccounts), 3, "{calls:?}");
    assert_eq!(calls.of(SsoOperation::ListAccountRoles), 2, "{calls:?}");
    assert_eq!(
        calls.list_account_roles_by_account,
        [(out["account"].as_str().unwrap().to_owned(), 2)].into()
    );
    world.portal.reset_calls()?;
    assert_eq!(world.portal.calls()?.of(SsoOperation::ListAccounts), 0);
    Ok(())
}

#[test]
fn portal_errors_surface_as_botocores_modeled_exceptions() -> TestResult {
    let world = World::start();
    world.portal.seed(&[
        SsoAccount::new("111122223333", "payments", &["Admin", "ReadOnly"]),
        SsoAccount::new("444455556666", "sandbox", &["Admin"]),
    ])?;
    world.portal.deny_role("111122223333", "ReadOnly")?;
    world.portal.throttle(SsoOperation::ListAccountRoles, 1)?;
    let out = world.python_json(
        r#"
_, token = login()
access = token["accessToken"]
# No retries: the first answer is the one under test.
once = boto3.client("sso", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
def attempt(call):
    try:
        call()
        return "ok"
    except once.exceptions.TooManyRequestsException as e:
        return ["TooManyRequestsException", e.response["ResponseMetadata"]["HTTPStatusCode"]]
    except once.exceptions.UnauthorizedException as e:
        return ["UnauthorizedException", e.response["ResponseMetadata"]["HTTPStatusCode"]]
    except botocore.exceptions.ClientError as e:
        return [code_of(e), e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]]
roles = lambda account: once.list_account_roles(accessToken=access, accountId=account)
creds = lambda account, role: once.get_role_credentials(accessToken=access, accountId=account, roleName=role)
answers = {
    "throttled": attempt(lambda: roles("111122223333")),
    "after_throttle": attempt(lambda: roles("111122223333")),
    "bad_token": attempt(lambda: once.list_accounts(accessToken="not-a-token")),
    "denied_role": attempt(lambda: creds("111122223333", "ReadOnly")),
    "unassigned_role": attempt(lambda: creds("444455556666", "ReadOnly")),
}
ctl("remove-account", {"accountId": "444455556666"})
answers["listed_after_removal"] = [a["accountId"] for a in once.list_accounts(accessToken=access)["accountList"]]
answers["removed_account_roles"] = attempt(lambda: roles("444455556666"))
ctl("remove-assignment", {"accountId": "111122223333", "roleName": "Admin"})
answers["roles_after_unassign"] = [r["roleName"] for r in roles("111122223333")["roleList"]]
once.logout(accessToken=access)
answers["after_logout"] = attempt(lambda: once.list_accounts(accessToken=access))
print(json.dumps(answers))
"#,
    );
    assert_eq!(
        out["throttled"],
        serde_json::json!(["TooManyRequestsException", 429])
    );
    assert_eq!(out["after_throttle"], "ok");
    assert_eq!(
        out["bad_token"],
        serde_json::json!(["UnauthorizedException", 401])
    );
    let no_access = serde_json::json!(["ForbiddenException", 403, "No access"]);
    assert_eq!(out["denied_role"], no_access);
    assert_eq!(out["unassigned_role"], no_access);
    assert_eq!(
        out["listed_after_removal"],
        serde_json::json!(["111122223333"])
    );
    assert_eq!(out["removed_account_roles"], no_access);
    assert_eq!(out["roles_after_unassign"], serde_json::json!(["ReadOnly"]));
    assert_eq!(
        out["after_logout"],
        serde_json::json!(["UnauthorizedException", 401])
    );
    assert_eq!(
        world.portal.live_tokens()?,
        (0, 0),
        "logout ends the session"
    );
    Ok(())
}

#[test]
fn botocores_sso_chain_refreshes_an_expired_cached_token_and_acts_as_the_role() -> TestResult {
    let world = World::start();
    world.moto.enable_auth()?;
    world
        .portal
        .seed(&[SsoAccount::new("111122223333", "payments", &["Admin"])])?;
    let out = world.python_json(
        r#"
import hashlib, pathlib, datetime
import botocore.session
from botocore.tokens import SSOTokenProvider

home = pathlib.Path(os.environ["HOME"])
(home / ".aws").mkdir(exist_ok=True)
os.environ["AWS_CONFIG_FILE"] = str(home / ".aws" / "config")
(home / ".aws" / "config").write_text(f"""
[sso-session corp]
sso_start_url = {START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile payments-admin]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin
""")
client, token = login()
cache = home / ".aws" / "sso" / "cache"
cache.mkdir(parents=True)
cache_file = cache / (hashlib.sha1(b"corp").hexdigest() + ".json")
expired_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
registration = datetime.datetime.fromtimestamp(client["clientSecretExpiresAt"], datetime.timezone.utc)
cache_file.write_text(json.dumps({
    "startUrl": START_URL, "region": "us-east-1", "accessToken": token["accessToken"],
    "expiresAt": expired_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "clientId": client["clientId"], "clientSecret": client["clientSecret"],
    "registrationExpiresAt": registration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "refreshToken": token["refreshToken"]}))
ctl("expire-tokens")

session = botocore.session.Session(profile="payments-admin")
fresh = SSOTokenProvider(session).load_token().get_frozen_token().token
cached = json.loads(cache_file.read_text())
# The whole SSO credential chain: cached token -> GetRoleCredentials -> moto's STS.
identity = boto3.Session(profile_name="payments-admin").client(
    "sts", endpoint_url=os.environ["MOTO"]).get_caller_identity()
print(json.dumps({"fresh_differs": fresh != token["accessToken"],
                  "cached_is_fresh": cached["accessToken"] == fresh,
                  "refresh_rotated": cached["refreshToken"] != token["refreshToken"],
                  "arn": identity["Arn"]}))
"#,
    );
    assert_eq!(out["fresh_differs"], true, "{out}");
    assert_eq!(out["cached_is_fresh"], true, "{out}");
    assert_eq!(out["refresh_rotated"], true, "{out}");
    assert_eq!(
        out["arn"],
        SsoPortal::assumed_role_arn("111122223333", "Admin", DEFAULT_USER)
    );
    let calls = world.portal.calls()?;
    // login() made one CreateToken; the provider's refresh the other.
    assert_eq!(calls.of(SsoOperation::CreateToken), 2, "{calls:?}");
    assert_eq!(calls.of(SsoOperation::GetRoleCredentials), 1, "{calls:?}");
    Ok(())
}

#[test]
fn an_expired_client_registration_is_refused_as_invalid_client() -> TestResult {
    let world = World::start();
    let out = world.python_json(
        r#"
client = register()
ctl("expire-clients")
try:
    start(client)
    answer = "accepted"
except oidc.exceptions.InvalidClientException as e:
    answer = wire_of(e)
print(json.dumps(answer))
"#,
    );
    assert_eq!(
        out,
        serde_json::json!(["InvalidClientException", "invalid_client", 401])
    );
    Ok(())
}

#[test]
fn dropping_the_stand_in_ends_its_process() -> TestResult {
    let moto = MotoServer::start()?;
    let portal = SsoPortal::start(&moto)?;
    let pid = portal.pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(portal);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    Ok(())
}

/// Seeds 1,000 accounts x 3 roles and lists them all with boto3's paginator; prints
/// the figures (no timed assertion: speed is for benchmarks).
#[test]
fn a_thousand_accounts_by_three_roles_seed_in_one_call_and_list_in_full() -> TestResult {
    let world = World::start();
    let started = std::time::Instant::now();
    let seeded = world
        .portal
        .seed_generated(1000, &["Admin", "ReadOnly", "Billing"])?;
    let seed_time = started.elapsed();
    assert_eq!(seeded.len(), 1000);
    let out = world.python_json(
        r#"
_, token = login()
t = time.monotonic()
accounts = [a["accountId"] for page in sso.get_paginator("list_accounts").paginate(
    accessToken=token["accessToken"], PaginationConfig={"PageSize": 100}) for a in page["accountList"]]
print(json.dumps({"count": len(accounts), "unique": len(set(accounts)), "seconds": time.monotonic() - t}))
"#,
    );
    assert_eq!(out["count"], 1000);
    assert_eq!(out["unique"], 1000);
    assert_eq!(world.portal.calls()?.of(SsoOperation::ListAccounts), 10);
    println!(
        "seed 1000x3: {seed_time:?}; boto3 list of 1000 accounts in pages of 100: {:.3}s",
        out["seconds"].as_f64().unwrap()
    );
    Ok(())
}

#[test]
fn registration_refuses_unknown_scopes_grant_types_and_redirect_uris() -> TestResult {
    // RegisterClient's modeled errors (botocore's sso-oidc service-2.json):
    // InvalidScopeException, UnsupportedGrantTypeException, InvalidRedirectUriException.
    let world = World::start();
    let out = world.python_json(
        r#"
def attempt(**extra):
    try:
        oidc.register_client(clientName="sso-peer-test", clientType="public", **extra)
        return "registered"
    except botocore.exceptions.ClientError as e:
        return wire_of(e) + [e.response["Error"]["Message"]]
print(json.dumps({
    "documented": attempt(scopes=["sso:account:access", "codewhisperer:completions"]),
    "unknown_scope": attempt(scopes=["sso:account:access", "sso:everything"]),
    "unknown_grant": attempt(scopes=["sso:account:access"], grantTypes=["password"]),
    "remote_http_redirect": attempt(scopes=["sso:account:access"],
        grantTypes=["authorization_code"], redirectUris=["http://portal.example/cb"]),
    "fragment_redirect": attempt(scopes=["sso:account:access"],
        grantTypes=["authorization_code"], redirectUris=["https://app.example/cb#x"]),
    "code_grant_without_redirect": attempt(scopes=["sso:account:access"],
        grantTypes=["authorization_code"]),
    "loopback_redirect": attempt(scopes=["sso:account:access"],
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"]),
}))
"#,
    );
    assert_eq!(out["documented"], "registered");
    assert_eq!(
        out["unknown_scope"],
        serde_json::json!([
            "InvalidScopeException",
            "invalid_scope",
            400,
            "Invalid scope: sso:everything"
        ])
    );
    assert_eq!(
        out["unknown_grant"],
        serde_json::json!([
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            400,
            "Unsupported grant type: password"
        ])
    );
    for refused in ["remote_http_redirect", "fragment_redirect"] {
        assert_eq!(
            out[refused].as_array().map(|a| a[..3].to_vec()),
            Some(vec![
                serde_json::json!("InvalidRedirectUriException"),
                serde_json::json!("invalid_redirect_uri"),
                serde_json::json!(400)
            ]),
            "{refused}: {out}"
        );
    }
    assert_eq!(
        out["code_grant_without_redirect"][0],
        "InvalidRedirectUriException"
    );
    assert_eq!(out["loopback_redirect"], "registered");
    Ok(())
}

#[test]
fn create_token_holds_a_client_to_its_grant_types_and_a_code_to_its_redirect_and_verifier()
-> TestResult {
    // The authorization code grant with PKCE (RFC 7636): the code is good only for the
    // redirect URI it was issued to and the verifier of its challenge; a grant type the
    // client did not register is unauthorized_client (RFC 6749 section 5.2).
    let world = World::start();
    let out = world.python_json(
        r#"
import base64, hashlib, secrets, urllib.error, urllib.parse
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
browser = urllib.request.build_opener(Stay)
REDIRECT = "http://127.0.0.1:{}/oauth/callback"
pkce = oidc.register_client(clientName="sso-peer-test", clientType="public",
    scopes=["sso:account:access"], grantTypes=["authorization_code", "refresh_token"],
    redirectUris=["http://127.0.0.1/oauth/callback"])
def authorize(client, redirect, challenge):
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client["clientId"],
        "redirect_uri": redirect, "state": "st8", "code_challenge": challenge,
        "code_challenge_method": "S256", "scopes": "sso:account:access"})
    try:
        browser.open(PORTAL + "/authorize?" + query)
    except urllib.error.HTTPError as e:
        if e.code != 302:
            return [e.code, json.loads(e.read())["error"]]
        return urllib.parse.parse_qs(urllib.parse.urlsplit(e.headers["Location"]).query)
def challenge_of(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
def redeem_code(client, code, redirect, verifier):
    try:
        answer = oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
            grantType="authorization_code", code=code, redirectUri=redirect, codeVerifier=verifier)
        return sorted(k for k in answer if k != "ResponseMetadata")
    except botocore.exceptions.ClientError as e:
        return wire_of(e)
verifier = secrets.token_urlsafe(48)
# Registered without a port: a loopback redirect URI may name any (RFC 8252 section 7.3).
port = REDIRECT.format(43123)
answers = {"unregistered_redirect": authorize(pkce, "http://127.0.0.1:43123/elsewhere",
                                              challenge_of(verifier))}
granted = authorize(pkce, port, challenge_of(verifier))
answers["state"] = granted["state"]
answers["wrong_verifier"] = redeem_code(pkce, granted["code"][0], port, "not-the-verifier")
granted = authorize(pkce, port, challenge_of(verifier))
answers["wrong_redirect"] = redeem_code(pkce, granted["code"][0], REDIRECT.format(43124), verifier)
granted = authorize(pkce, port, challenge_of(verifier))
answers["right"] = redeem_code(pkce, granted["code"][0], port, verifier)
answers["code_twice"] = redeem_code(pkce, granted["code"][0], port, verifier)
# A device-flow client (no grantTypes registered) may not use the code grant, and the
# PKCE client may not use the device grant.
device_client = register()
answers["device_client_code_grant"] = redeem_code(device_client, "any", port, verifier)
try:
    oidc.create_token(clientId=pkce["clientId"], clientSecret=pkce["clientSecret"],
                      grantType=DEVICE_GRANT, deviceCode="any")
except botocore.exceptions.ClientError as e:
    answers["pkce_client_device_grant"] = wire_of(e)
try:
    oidc.create_token(clientId=pkce["clientId"], clientSecret=pkce["clientSecret"],
                      grantType="client_credentials")
except botocore.exceptions.ClientError as e:
    answers["unknown_grant"] = wire_of(e)
print(json.dumps(answers))
"#,
    );
    assert_eq!(
        out["unregistered_redirect"],
        serde_json::json!([400, "invalid_redirect_uri"])
    );
    assert_eq!(out["state"], serde_json::json!(["st8"]));
    let invalid_grant = serde_json::json!(["InvalidGrantException", "invalid_grant", 400]);
    assert_eq!(out["wrong_verifier"], invalid_grant);
    assert_eq!(out["wrong_redirect"], invalid_grant);
    assert_eq!(
        out["right"],
        serde_json::json!(["accessToken", "expiresIn", "refreshToken", "tokenType"])
    );
    assert_eq!(out["code_twice"], invalid_grant);
    let unauthorized =
        serde_json::json!(["UnauthorizedClientException", "unauthorized_client", 400]);
    assert_eq!(out["device_client_code_grant"], unauthorized);
    assert_eq!(out["pkce_client_device_grant"], unauthorized);
    assert_eq!(
        out["unknown_grant"],
        serde_json::json!([
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            400
        ])
    );
    Ok(())
}

#[test]
fn a_next_token_is_good_only_for_the_operation_and_account_that_issued_it() -> TestResult {
    let world = World::start();
    world.portal.seed(&[
        SsoAccount::new(
            "111122223333",
            "payments",
            &["Admin", "ReadOnly", "Billing"],
        ),
        SsoAccount::new("444455556666", "sandbox", &["Admin", "ReadOnly", "Billing"]),
    ])?;
    world.portal.configure(&SsoPortalConfig {
        page_size: Some(1),
        ..SsoPortalConfig::default()
    })?;
    let out = world.python_json(
        r#"
_, token = login()
access = token["accessToken"]
def attempt(call):
    try:
        return call()
    except botocore.exceptions.ClientError as e:
        return [code_of(e), e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]]
accounts_token = sso.list_accounts(accessToken=access)["nextToken"]
roles_token = sso.list_account_roles(accessToken=access, accountId="111122223333")["nextToken"]
names = lambda page: [r["roleName"] for r in page["roleList"]]
print(json.dumps({
    "accounts_token_to_roles": attempt(lambda: sso.list_account_roles(
        accessToken=access, accountId="111122223333", nextToken=accounts_token)),
    "roles_token_to_accounts": attempt(lambda: sso.list_accounts(
        accessToken=access, nextToken=roles_token)),
    "roles_token_to_other_account": attempt(lambda: sso.list_account_roles(
        accessToken=access, accountId="444455556666", nextToken=roles_token)),
    "made_up": attempt(lambda: sso.list_accounts(accessToken=access, nextToken="eyJvIjogMX0=")),
    "roles_token_to_its_account": names(sso.list_account_roles(
        accessToken=access, accountId="111122223333", nextToken=roles_token)),
    "accounts_token_to_accounts": [a["accountId"] for a in sso.list_accounts(
        accessToken=access, nextToken=accounts_token)["accountList"]],
}))
"#,
    );
    let invalid = serde_json::json!(["InvalidRequestException", 400, "Invalid nextToken provided"]);
    for refused in [
        "accounts_token_to_roles",
        "roles_token_to_accounts",
        "roles_token_to_other_account",
        "made_up",
    ] {
        assert_eq!(out[refused], invalid, "{refused}: {out}");
    }
    assert_eq!(
        out["roles_token_to_its_account"],
        serde_json::json!(["ReadOnly"])
    );
    assert_eq!(
        out["accounts_token_to_accounts"],
        serde_json::json!(["444455556666"])
    );
    Ok(())
}

#[test]
fn logout_with_an_expired_unknown_or_ended_token_is_unauthorized() -> TestResult {
    let world = World::start();
    let out = world.python_json(
        r#"
def logout(access):
    try:
        sso.logout(accessToken=access)
        return "ok"
    except sso.exceptions.UnauthorizedException as e:
        return [code_of(e), e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]]
_, expiring = login()
ctl("expire-tokens")
answers = {"expired": logout(expiring["accessToken"]), "unknown": logout("not-a-token")}
_, live = login()
answers["live"] = logout(live["accessToken"])
answers["ended"] = logout(live["accessToken"])
print(json.dumps(answers))
"#,
    );
    let unauthorized = serde_json::json!([
        "UnauthorizedException",
        401,
        "Session token not found or invalid"
    ]);
    assert_eq!(out["expired"], unauthorized);
    assert_eq!(out["unknown"], unauthorized);
    assert_eq!(out["live"], "ok");
    assert_eq!(out["ended"], unauthorized);
    Ok(())
}

#[test]
fn without_rotation_a_refresh_answers_no_refresh_token_and_the_used_one_stays_good() -> TestResult {
    let world = World::start();
    world.portal.configure(&SsoPortalConfig {
        rotate_refresh_tokens: Some(false),
        ..SsoPortalConfig::default()
    })?;
    let out = world.python_json(
        r#"
client, first = login()
def refresh():
    answer = oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                               grantType="refresh_token", refreshToken=first["refreshToken"])
    return sorted(k for k in answer if k != "ResponseMetadata")
print(json.dumps([refresh(), refresh()]))
"#,
    );
    let no_refresh_token = serde_json::json!(["accessToken", "expiresIn", "tokenType"]);
    assert_eq!(out, serde_json::json!([no_refresh_token, no_refresh_token]));
    assert_eq!(
        world.portal.live_tokens()?.1,
        1,
        "the first refresh token only"
    );
    Ok(())
}

#[test]
fn a_sign_in_refused_at_authorize_redirects_with_access_denied_its_state_and_no_code() -> TestResult
{
    // RFC 6749 section 4.1.2.1: once the person refuses, the redirect carries `error`
    // (and the client's `state`), never a code; until then a code.
    let world = World::start();
    let out = world.python_json(
        r#"
import urllib.error, urllib.parse
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
browser = urllib.request.build_opener(Stay)
client = oidc.register_client(clientName="sso-peer-test", clientType="public",
    scopes=["sso:account:access"], grantTypes=["authorization_code", "refresh_token"],
    redirectUris=["http://127.0.0.1/oauth/callback"])
def authorize():
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client["clientId"],
        "redirect_uri": "http://127.0.0.1:43123/oauth/callback", "state": "st8",
        "code_challenge": "x" * 43, "code_challenge_method": "S256",
        "scopes": "sso:account:access"})
    try:
        browser.open(PORTAL + "/authorize?" + query)
    except urllib.error.HTTPError as e:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(e.headers["Location"]).query)
allowed = authorize()
ctl("deny_authorizations", {"deny": True})
denied = authorize()
print(json.dumps({"allowed": sorted(allowed), "denied": denied}))
"#,
    );
    assert_eq!(out["allowed"], serde_json::json!(["code", "state"]));
    assert_eq!(
        out["denied"],
        serde_json::json!({
            "error": ["access_denied"],
            "error_description": ["The user denied the request"],
            "state": ["st8"],
        })
    );
    Ok(())
}
