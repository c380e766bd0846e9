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

def login(client=None):
    client = client or register()
    device = oidc.start_device_authorization(clientId=client["clientId"],
        clientSecret=client["clientSecret"], startUrl=START_URL)
    ctl("approve", {"userCode": device["userCode"]})
    return client, oidc.create_token(clientId=client["clientId"],
        clientSecret=client["clientSecret"], grantType=DEVICE_GRANT,
        deviceCode=device["deviceCode"])

def code_of(error):
    return error.response["Error"]["Code"]
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
device = oidc.start_device_authorization(clientId=client["clientId"],
    clientSecret=client["clientSecret"], startUrl=START_URL)
pending = 0
while True:
    time.sleep(device["interval"])
    try:
        token = oidc.create_token(clientId=client["clientId"],
            clientSecret=client["clientSecret"], grantType=DEVICE_GRANT,
            deviceCode=device["deviceCode"])
        break
    except oidc.exceptions.AuthorizationPendingException as e:
        assert e.response["Error"]["Code"] == "AuthorizationPendingException"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        pending += 1
try:
    oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
        grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])
    redeemed_twice = "accepted"
except oidc.exceptions.InvalidGrantException:
    redeemed_twice = "invalid_grant"
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
    assert_eq!(out["redeemed_twice"], "invalid_grant");
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
fn configure_changes_the_poll_interval_the_client_is_told() -> TestResult {
    let world = World::start();
    world.portal.configure(&SsoPortalConfig {
        interval: Some(Duration::from_secs(3)),
        ..SsoPortalConfig::default()
    })?;
    let out = world.python_json(
        r#"
client = register()
device = oidc.start_device_authorization(clientId=client["clientId"],
    clientSecret=client["clientSecret"], startUrl=START_URL)
print(json.dumps({"interval": device["interval"]}))
"#,
    );
    assert_eq!(out["interval"], 3);
    Ok(())
}
