//! moto's server as the STS and IAM peer.
//!
//! moto answers with real AWS wire responses (GetCallerIdentity reflects an assumed
//! role) but checks neither trust policies nor MFA codes: those rules are Rolehop's to
//! enforce. By default it accepts any access key; after [`MotoServer::enable_auth`] it
//! rejects unknown keys with `InvalidClientTokenId` and evaluates IAM policies, which
//! is how suites test failures a real account would produce.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::http;
use crate::python::{python_checked, venv_bin};
use crate::wait::{self, Probe};

/// The account moto puts every resource in.
pub const ACCOUNT_ID: &str = "123456789012";

/// The region the fixture helpers create resources in (IAM is global anyway).
pub const REGION: &str = "us-east-1";

/// How long a cold moto may take to import its backends on a slow machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Keys moto accepts while auth is off. Any value would do.
const ANY_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const ANY_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A policy document allowing every action.
const ALLOW_ALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// An IAM user with one access key, as created in moto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl IamUser {
    /// Its access key, as Rolehop stores an IAM user's keys.
    pub fn access_keys(&self) -> rolehop_core::AccessKeys {
        rolehop_core::AccessKeys {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: zeroize::Zeroizing::new(self.secret_access_key.clone()),
        }
    }
}

/// A running `moto_server` on a free loopback port. Killed and reaped on drop.
pub struct MotoServer {
    daemon: Daemon,
    addr: SocketAddr,
    /// The user whose keys the fixture helpers use once auth is on.
    admin: Mutex<Option<IamUser>>,
    _dir: TempDir,
}

impl MotoServer {
    /// Starts moto's server from the peers venv on a port picked now, and waits until
    /// it answers HTTP.
    pub fn start() -> Result<Self> {
        let program = venv_bin("moto_server");
        if !program.exists() {
            return Err(PeerError::Missing {
                program: "moto_server".into(),
                path: program,
            });
        }
        // The port is free when we look, but another process may take it before moto
        // binds it; moto then exits at once, and we try another port.
        let mut last_failure = String::new();
        for _ in 0..3 {
            let addr = free_loopback_port()?;
            let dir = tempfile::Builder::new()
                .prefix("rolehop-moto-")
                .tempdir()
                .map_err(PeerError::io("creating moto's directory"))?;
            let mut command = Command::new(&program);
            command
                .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
                .current_dir(dir.path())
                // Nothing of the caller's AWS or MOTO_* settings reaches the server.
                .env_clear()
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .env("HOME", dir.path())
                .env("LANG", "C.UTF-8");
            let mut daemon =
                Daemon::spawn("moto_server", &mut command, &dir.path().join("moto.log"))?;

            let ready = wait::until(START_TIMEOUT, Duration::from_millis(100), || {
                if let Some(exited) = daemon.exited() {
                    return Probe::Failed(exited);
                }
                match http::request(addr, "GET", "/moto-api/", None) {
                    Ok(response) if response.status == 200 => Probe::Ready(()),
                    Ok(response) => {
                        Probe::NotYet(format!("GET /moto-api/ answered {}", response.status))
                    }
                    Err(e) => Probe::NotYet(format!("GET /moto-api/: {e}")),
                }
            });
            match ready {
                Ok(()) => {
                    return Ok(Self {
                        daemon,
                        addr,
                        admin: Mutex::new(None),
                        _dir: dir,
                    });
                }
                Err(why) if daemon.exited().is_some() => last_failure = why,
                Err(why) => {
                    return Err(PeerError::NotReady {
                        peer: "moto_server",
                        waited: START_TIMEOUT,
                        detail: format!("{why}; log:\n{}", daemon.log_text()),
                    });
                }
            }
        }
        Err(PeerError::NotReady {
            peer: "moto_server",
            waited: START_TIMEOUT,
            detail: last_failure,
        })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_STS`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's process id (to check that drop ends it).
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    /// Makes moto authenticate every later request: unknown access keys get
    /// `InvalidClientTokenId`, known ones are checked against their IAM policies.
    ///
    /// First creates an admin user for the fixture helpers (and [`admin_env`](Self::admin_env)),
    /// so they keep working. Users made by [`create_user`](Self::create_user) before or
    /// after stay valid.
    pub fn enable_auth(&self) -> Result<()> {
        {
            let mut admin = self
                .admin
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if admin.is_none() {
                let env = self.env_with_keys(ANY_ACCESS_KEY_ID, ANY_SECRET_ACCESS_KEY);
                *admin = Some(create_user_with(
                    &env,
                    "rolehop-e2e-admin",
                    ALLOW_ALL_POLICY,
                )?);
            }
        }
        let response = http::request(
            self.addr,
            "POST",
            "/moto-api/reset-auth",
            Some(("text/plain", "0")),
        )
        .map_err(PeerError::io("POST /moto-api/reset-auth"))?;
        if response.status != 200 || !response.body.contains("ok") {
            return Err(PeerError::Output {
                what: "POST /moto-api/reset-auth".into(),
                detail: format!("{} {}", response.status, response.body),
            });
        }
        Ok(())
    }

    /// Environment for boto3 or the AWS CLI acting as moto's administrator: endpoint,
    /// region and keys that work whether or not auth is enabled.
    pub fn admin_env(&self) -> Vec<(String, String)> {
        let admin = self
            .admin
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*admin {
            Some(user) => self.env_with_keys(&user.access_key_id, &user.secret_access_key),
            None => self.env_with_keys(ANY_ACCESS_KEY_ID, ANY_SECRET_ACCESS_KEY),
        }
    }

    fn env_with_keys(&self, access_key_id: &str, secret_access_key: &str) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".to_owned(), self.endpoint()),
            ("AWS_DEFAULT_REGION".to_owned(), REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), access_key_id.to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                secret_access_key.to_owned(),
            ),
        ]
    }

    /// Creates an IAM user allowed every action, with one access key.
    pub fn create_user(&self, name: &str) -> Result<IamUser> {
        self.create_user_with_policy(name, ALLOW_ALL_POLICY)
    }

    /// Creates an IAM user with `policy` (a JSON policy document) inline, and one
    /// access key. With auth enabled, moto evaluates that policy on the user's calls.
    pub fn create_user_with_policy(&self, name: &str, policy: &str) -> Result<IamUser> {
        create_user_with(&self.admin_env(), name, policy)
    }

    /// Creates a virtual MFA device for `user` and enables it; returns its serial ARN.
    /// moto accepts any six digits as a code for it.
    pub fn create_mfa_device(&self, user: &str) -> Result<String> {
        let mut env = self.admin_env();
        env.push(("FIXTURE_USER".into(), user.into()));
        let out = python_checked(
            "creating an MFA device in moto",
            r#"
import os, boto3
iam = boto3.client("iam")
user = os.environ["FIXTURE_USER"]
device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user + "-mfa")["VirtualMFADevice"]
iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                      AuthenticationCode1="123456", AuthenticationCode2="654321")
print(device["SerialNumber"])
"#,
            env,
        )?;
        Ok(out.trim().to_owned())
    }

    /// Creates a role that `trusted_principal_arn` may assume and that is itself
    /// allowed every action (so roles can be chained from it); returns its ARN.
    pub fn create_role(&self, name: &str, trusted_principal_arn: &str) -> Result<String> {
        let mut env = self.admin_env();
        env.push(("FIXTURE_ROLE".into(), name.into()));
        env.push(("FIXTURE_TRUSTED".into(), trusted_principal_arn.into()));
        env.push(("FIXTURE_POLICY".into(), ALLOW_ALL_POLICY.into()));
        let out = python_checked(
            "creating a role in moto",
            r#"
import json, os, boto3
iam = boto3.client("iam")
name = os.environ["FIXTURE_ROLE"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"AWS": os.environ["FIXTURE_TRUSTED"]}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam.put_role_policy(RoleName=name, PolicyName="allow-all", PolicyDocument=os.environ["FIXTURE_POLICY"])
print(role["Arn"])
"#,
            env,
        )?;
        Ok(out.trim().to_owned())
    }
}

/// One request moto recorded: its action's form parameters (`Action`, `SerialNumber`...),
/// and under `@signed-by` the access key id its signature names.
pub type RecordedCall = std::collections::BTreeMap<String, String>;

impl MotoServer {
    /// Starts moto's request recorder: every later request is kept, with its body, until
    /// [`recorded_calls`](Self::recorded_calls) reads them.
    pub fn start_recording(&self) -> Result<()> {
        for path in [
            "/moto-api/recorder/reset-recording",
            "/moto-api/recorder/start-recording",
        ] {
            let response = http::request(self.addr, "POST", path, None)
                .map_err(PeerError::io("moto's recorder"))?;
            if response.status != 200 {
                return Err(PeerError::Output {
                    what: format!("POST {path}"),
                    detail: format!("{} {}", response.status, response.body),
                });
            }
        }
        Ok(())
    }

    /// The form-encoded (query protocol) requests recorded since
    /// [`start_recording`](Self::start_recording), decoded by Python's own parser: what
    /// STS and IAM really received, blank values included (an empty tag value is sent).
    pub fn recorded_calls(&self) -> Result<Vec<RecordedCall>> {
        let out = python_checked(
            "reading moto's recording",
            r#"
import base64, json, os, urllib.parse, urllib.request
url = os.environ["MOTO_ENDPOINT"] + "/moto-api/recorder/download-recording"
calls = []
for line in urllib.request.urlopen(url).read().decode().splitlines():
    if not line.strip():
        continue
    entry = json.loads(line)
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    call = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
    auth = entry.get("headers", {}).get("Authorization", "")
    if "Credential=" in auth:
        call["@signed-by"] = auth.split("Credential=", 1)[1].split("/", 1)[0]
    calls.append(call)
print(json.dumps(calls))
"#,
            [("MOTO_ENDPOINT", self.endpoint())],
        )?;
        serde_json::from_str(out.trim()).map_err(|e| PeerError::Output {
            what: "reading moto's recording".into(),
            detail: format!("{e}: {out}"),
        })
    }
}

impl std::fmt::Debug for MotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MotoServer")
            .field("endpoint", &self.endpoint())
            .field("pid", &self.pid())
            .finish()
    }
}

fn create_user_with(env: &[(String, String)], name: &str, policy: &str) -> Result<IamUser> {
    let mut env = env.to_vec();
    env.push(("FIXTURE_USER".into(), name.into()));
    env.push(("FIXTURE_POLICY".into(), policy.into()));
    let out = python_checked(
        "creating an IAM user in moto",
        r#"
import json, os, boto3
iam = boto3.client("iam")
name = os.environ["FIXTURE_USER"]
user = iam.create_user(UserName=name)["User"]
iam.put_user_policy(UserName=name, PolicyName="fixture", PolicyDocument=os.environ["FIXTURE_POLICY"])
key = iam.create_access_key(UserName=name)["AccessKey"]
print(json.dumps({"arn": user["Arn"], "id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
"#,
        env,
    )?;
    let parsed: serde_json::Value =
        serde_json::from_str(out.trim()).map_err(|e| PeerError::Output {
            what: "creating an IAM user in moto".into(),
            detail: format!("{e}: {out}"),
        })?;
    let field = |key: &str| parsed[key].as_str().unwrap_or_default().to_owned();
    Ok(IamUser {
        name: name.to_owned(),
        arn: field("arn"),
        access_key_id: field("id"),
        secret_access_key: field("secret"),
    })
}

/// A loopback address whose port was free a moment ago.
pub(crate) fn free_loopback_port() -> Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(PeerError::io("looking for a free port"))?;
    listener
        .local_addr()
        .map_err(PeerError::io("looking for a free port"))
}
