//! The IAM Identity Center stand-in (`tests/peers/sso_portal.py` and its `sso_*.py`
//! modules) as a test peer.
//!
//! No emulator serves the SSO portal (`sso`) and SSO OIDC (`sso-oidc`) APIs, so the
//! stand-in implements both to the wire format of botocore's service models; its own
//! suite (`tests/tests/e2e/sso_peer.rs`) proves that with boto3's clients, paginators and
//! botocore's SSO token provider. Role credentials come from moto's STS, so moto (with
//! IAM auth on or off) accepts them and GetCallerIdentity answers as
//! `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<role>_<16 hex>/<user>`.
//!
//! A test points the SDK at it with [`SsoPortal::endpoint_env`] and plays the person
//! at the browser with [`SsoPortal::approve`]; the other methods are the faults and
//! counts a real Identity Center produces on its own (throttling, revoked sessions,
//! vanished assignments).
//!
//! ```no_run
//! use rolehop_e2e::{MotoServer, SsoPortal};
//!
//! let moto = MotoServer::start()?;
//! let portal = SsoPortal::start(&moto)?;
//! portal.seed_generated(300, &["Admin", "ReadOnly"])?;
//! // ... the client starts the device flow and prints a user code ...
//! portal.approve_pending()?;
//! # Ok::<(), rolehop_e2e::PeerError>(())
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::moto::MotoServer;
use crate::python::{clean_command, venv_bin};
use crate::stand_in;

/// A start URL for integrations that use the stand-in. It accepts any start URL; this
/// one only has the shape of a real one (https, an `awsapps.com` portal).
pub const START_URL: &str = "https://d-9067rolehop.awsapps.com/start";

/// The user a device authorization is approved as unless a test names another: the
/// session name in the role's assumed-role ARN.
pub const DEFAULT_USER: &str = "alice";

/// What the browser stand-in of [`SsoPortal::pkce_browser`] does with the portal's
/// redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceBrowser {
    /// Goes where it says (and records it): a person signing in.
    Follow,
    /// Goes there with another `state`: a redirect this login did not start.
    WrongState,
    /// Goes there with the code of the first redirect `Follow` recorded: a replay.
    Replay,
    /// Opens nothing: a browser closed before the sign-in.
    Closed,
}

impl PkceBrowser {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Follow => "follow",
            Self::WrongState => "wrong-state",
            Self::Replay => "replay",
            Self::Closed => "closed",
        }
    }
}

/// An operation of either service, as the stand-in counts and throttles them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SsoOperation {
    RegisterClient,
    StartDeviceAuthorization,
    CreateToken,
    ListAccounts,
    ListAccountRoles,
    GetRoleCredentials,
    Logout,
}

impl SsoOperation {
    /// The operation's name in the service model (`ListAccountRoles`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisterClient => "RegisterClient",
            Self::StartDeviceAuthorization => "StartDeviceAuthorization",
            Self::CreateToken => "CreateToken",
            Self::ListAccounts => "ListAccounts",
            Self::ListAccountRoles => "ListAccountRoles",
            Self::GetRoleCredentials => "GetRoleCredentials",
            Self::Logout => "Logout",
        }
    }
}

/// An AWS account as the portal lists it, with the roles (permission sets) assigned
/// to the user in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoAccount {
    pub account_id: String,
    pub account_name: String,
    pub email_address: String,
    pub roles: Vec<String>,
}

impl SsoAccount {
    /// An account with a made-up email address.
    pub fn new(account_id: &str, account_name: &str, roles: &[&str]) -> Self {
        Self {
            account_id: account_id.to_owned(),
            account_name: account_name.to_owned(),
            email_address: format!("aws+{account_id}@example.com"),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }
}

/// Lifetimes (whole seconds), paging and the default user the stand-in uses from now on
/// (unset fields stay as they are). `role_credentials_ttl` may be shorter than STS's
/// 900 s minimum (moto grants it), for tests of rotation.
/// Defaults: access token 8 h, device code 600 s, poll interval 1 s, client secret
/// 90 days, role credentials 3600 s, 20 items a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoPortalConfig {
    pub access_token_ttl: Option<Duration>,
    pub device_code_ttl: Option<Duration>,
    pub interval: Option<Duration>,
    pub client_secret_ttl: Option<Duration>,
    pub role_credentials_ttl: Option<Duration>,
    pub page_size: Option<u32>,
    /// The most items a page holds whatever the client asks for with `maxResults` (a
    /// service may answer fewer; a client must follow `nextToken`). Default: no cap.
    pub max_page_size: Option<u32>,
    /// Who approves a device authorization by default.
    pub user: Option<String>,
    /// `Some(false)`: a refresh answers no new refresh token and the one used stays
    /// good (the model makes `refreshToken` optional; a client must keep the old one).
    /// Default: each refresh rotates it.
    pub rotate_refresh_tokens: Option<bool>,
}

/// How often each operation was called (throttled calls included), ListAccountRoles
/// per account id, and the `slow_down` answers CreateToken gave (throttled or earned by
/// polling sooner than the interval, which each one lengthens by 5 s).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoCalls {
    pub operations: BTreeMap<SsoOperation, u64>,
    pub list_account_roles_by_account: BTreeMap<String, u64>,
    pub slow_downs: u64,
}

impl SsoCalls {
    /// Calls of `operation` (0 when never called).
    pub fn of(&self, operation: SsoOperation) -> u64 {
        self.operations.get(&operation).copied().unwrap_or(0)
    }
}

/// A running stand-in on a free loopback port. Killed and reaped on drop.
pub struct SsoPortal {
    daemon: Daemon,
    addr: SocketAddr,
    _dir: TempDir,
}

impl SsoPortal {
    /// Starts the stand-in on a port it picks, minting role credentials from `moto`
    /// as an IAM user of its own (created now, allowed every action), so it works
    /// whether or not the test enables moto's auth before or after.
    pub fn start(moto: &MotoServer) -> Result<Self> {
        let user = moto.create_user(&format!(
            "rolehop-sso-stand-in-{}",
            uuid::Uuid::new_v4().simple()
        ))?;
        // The venv's python in a clean environment (no AWS settings of the caller's),
        // its HOME a fresh directory that also holds the log.
        let (mut command, dir) = clean_command("python")?;
        let log = dir.path().join("sso_portal.log");
        command
            .arg("-u")
            .arg(script())
            .args(["--host", "127.0.0.1", "--port", "0"])
            .current_dir(dir.path())
            // Its modules are imported from the source tree: leave no __pycache__ there.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("MOTO_ENDPOINT", moto.endpoint())
            .env("STAND_IN_PRINCIPAL_ARN", &user.arn)
            .env("AWS_ACCESS_KEY_ID", &user.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &user.secret_access_key);
        let mut daemon = Daemon::spawn("sso_portal.py", &mut command, &log)?;

        let addr = stand_in::wait_ready(&mut daemon, &log, "sso_portal.py")?;
        Ok(Self {
            daemon,
            addr,
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:PORT`: both services, and the verification URI's host.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `AWS_ENDPOINT_URL_SSO` and `AWS_ENDPOINT_URL_SSO_OIDC`, both at the stand-in.
    pub fn endpoint_env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SSO".to_owned(), self.endpoint()),
            ("AWS_ENDPOINT_URL_SSO_OIDC".to_owned(), self.endpoint()),
        ]
    }

    /// The process id (to check that drop ends it).
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    /// The role the stand-in provisions in `account_id` for a permission set:
    /// `arn:aws:iam::<acct>:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_<role>_<hex>`.
    pub fn role_arn(account_id: &str, role_name: &str) -> String {
        format!(
            "arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/{}",
            Self::reserved_role_name(role_name)
        )
    }

    /// What GetCallerIdentity answers for role credentials of `user`.
    pub fn assumed_role_arn(account_id: &str, role_name: &str, user: &str) -> String {
        format!(
            "arn:aws:sts::{account_id}:assumed-role/{}/{user}",
            Self::reserved_role_name(role_name)
        )
    }

    /// `AWSReservedSSO_<role>_<16 hex>`, the hex stable per role name.
    pub fn reserved_role_name(role_name: &str) -> String {
        format!("AWSReservedSSO_{role_name}_{}", fnv1a_hex16(role_name))
    }

    /// Adds (or replaces, by account id) accounts and their role assignments.
    pub fn seed(&self, accounts: &[SsoAccount]) -> Result<()> {
        let accounts: Vec<Value> = accounts
            .iter()
            .map(|a| {
                json!({"accountId": a.account_id, "accountName": a.account_name,
                       "emailAddress": a.email_address, "roles": a.roles})
            })
            .collect();
        self.control("seed", json!({ "accounts": accounts }))
            .map(drop)
    }

    /// Seeds `count` accounts (ids from 100000000000 up, names `account-0001`...),
    /// each with `roles`, in one request; returns them. Moto sees nothing of them
    /// until a role's first GetRoleCredentials.
    pub fn seed_generated(&self, count: usize, roles: &[&str]) -> Result<Vec<SsoAccount>> {
        let answer = self.control(
            "seed",
            json!({"generate": {"count": count, "roles": roles}}),
        )?;
        let accounts = answer["accounts"].as_array().cloned().unwrap_or_default();
        Ok(accounts
            .iter()
            .map(|a| SsoAccount {
                account_id: text(&a["accountId"]),
                account_name: text(&a["accountName"]),
                email_address: text(&a["emailAddress"]),
                roles: a["roles"]
                    .as_array()
                    .map(|r| r.iter().map(text).collect())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Changes lifetimes, the poll interval, the page size or the default user.
    pub fn configure(&self, config: &SsoPortalConfig) -> Result<()> {
        let mut body = serde_json::Map::new();
        let secs = |d: Duration| json!(d.as_secs());
        let durations = [
            ("accessTokenTtl", config.access_token_ttl),
            ("deviceCodeTtl", config.device_code_ttl),
            ("interval", config.interval),
            ("clientSecretTtl", config.client_secret_ttl),
            ("roleCredentialsTtl", config.role_credentials_ttl),
        ];
        for (key, value) in durations {
            if let Some(value) = value {
                body.insert(key.into(), secs(value));
            }
        }
        if let Some(size) = config.page_size {
            body.insert("pageSize".into(), json!(size));
        }
        if let Some(size) = config.max_page_size {
            body.insert("maxPageSize".into(), json!(size));
        }
        if let Some(user) = &config.user {
            body.insert("user".into(), json!(user));
        }
        if let Some(rotate) = config.rotate_refresh_tokens {
            body.insert("rotateRefreshTokens".into(), json!(u8::from(rotate)));
        }
        self.control("configure", Value::Object(body)).map(drop)
    }

    /// The user codes of device authorizations waiting for the person, oldest first.
    pub fn pending_user_codes(&self) -> Result<Vec<String>> {
        let answer = self.control("pending", json!({}))?;
        Ok(answer["userCodes"]
            .as_array()
            .map(|codes| codes.iter().map(text).collect())
            .unwrap_or_default())
    }

    /// Approves `user_code` as [`DEFAULT_USER`] (what the person does in the browser
    /// at the verification URI). Fails if no authorization with that code is pending.
    pub fn approve(&self, user_code: &str) -> Result<()> {
        self.control("approve", json!({ "userCode": user_code }))
            .map(drop)
    }

    /// Approves `user_code` as `user`.
    pub fn approve_as(&self, user_code: &str, user: &str) -> Result<()> {
        self.control("approve", json!({"userCode": user_code, "user": user}))
            .map(drop)
    }

    /// Approves every pending authorization; returns how many there were.
    pub fn approve_pending(&self) -> Result<usize> {
        let answer = self.control("approve", json!({}))?;
        Ok(answer["decided"].as_u64().unwrap_or(0) as usize)
    }

    /// Writes `dir/approving-browser`, an executable for `BROWSER`: given a
    /// verification URI, it does what a person does there (opens the page, reads the
    /// code it shows, presses Approve) and logs the URI it was given to
    /// `dir/approving-browser.log`. Nothing else approves, so a client that opens the
    /// wrong URL keeps getting `authorization_pending`.
    pub fn approving_browser(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join("approving-browser");
        let script = format!(
            r#"#!{python}
import re, sys, urllib.parse, urllib.request
url = sys.argv[1]
with open(__file__ + ".log", "a") as log:
    log.write(url + "\n")
page = urllib.request.urlopen(url).read().decode()
code = re.search(r'name="user_code" value="([^"]*)"', page).group(1)
form = urllib.parse.urlencode({{"user_code": code, "action": "approve"}}).encode()
urllib.request.urlopen(urllib.request.Request("{endpoint}/device", data=form))
"#,
            python = venv_bin("python").display(),
            endpoint = self.endpoint(),
        );
        write_executable(path, &script)
    }

    /// Writes `dir/pkce-browser-<mode>`, the browser of [`pkce_browser`], for this
    /// portal's `/authorize` (which signs the person in and redirects at once, or
    /// refuses after [`SsoPortal::deny_authorizations`]).
    pub fn pkce_browser(&self, dir: &Path, mode: PkceBrowser) -> Result<PathBuf> {
        pkce_browser(dir, mode)
    }

    /// From now on (`true`) the person refuses at `/authorize`: the redirect carries
    /// `error=access_denied` and no code.
    pub fn deny_authorizations(&self, deny: bool) -> Result<()> {
        self.control("deny_authorizations", json!({ "deny": deny }))
            .map(drop)
    }

    /// Denies `user_code`: the client's next CreateToken gets `access_denied`.
    pub fn deny(&self, user_code: &str) -> Result<()> {
        self.control("deny", json!({ "userCode": user_code }))
            .map(drop)
    }

    /// The account vanishes from the user's assignments (ListAccounts no longer
    /// lists it; its roles answer ForbiddenException "No access").
    pub fn remove_account(&self, account_id: &str) -> Result<()> {
        self.control("remove-account", json!({ "accountId": account_id }))
            .map(drop)
    }

    /// One role assignment vanishes from an account.
    pub fn remove_assignment(&self, account_id: &str, role_name: &str) -> Result<()> {
        self.control(
            "remove-assignment",
            json!({"accountId": account_id, "roleName": role_name}),
        )
        .map(drop)
    }

    /// The role stays listed but GetRoleCredentials answers 403 ForbiddenException
    /// "No access" (as AWS does for a permission set the user may no longer use).
    pub fn deny_role(&self, account_id: &str, role_name: &str) -> Result<()> {
        self.control(
            "deny-role",
            json!({"accountId": account_id, "roleName": role_name}),
        )
        .map(drop)
    }

    /// The next `count` calls of `operation` are throttled: portal operations answer
    /// 429 TooManyRequestsException, OIDC ones 400 `slow_down` (which, for a
    /// CreateToken of a device authorization, adds 5 s to its interval for good).
    pub fn throttle(&self, operation: SsoOperation, count: u32) -> Result<()> {
        self.control(
            "throttle",
            json!({"operation": operation.as_str(), "count": count}),
        )
        .map(drop)
    }

    /// Every access token issued so far expires now; refresh tokens stay good.
    pub fn expire_access_tokens(&self) -> Result<()> {
        self.control("expire-tokens", json!({})).map(drop)
    }

    /// Every pending device code expires now (CreateToken: `expired_token`).
    pub fn expire_device_codes(&self) -> Result<()> {
        self.control("expire-device-codes", json!({})).map(drop)
    }

    /// Every registered client's secret expires now (`invalid_client`).
    pub fn expire_clients(&self) -> Result<()> {
        self.control("expire-clients", json!({})).map(drop)
    }

    /// Every sign-in session ends: access tokens answer UnauthorizedException and
    /// refresh tokens `invalid_grant` (an administrator revoking the user's sessions).
    pub fn revoke_tokens(&self) -> Result<()> {
        self.control("revoke-tokens", json!({})).map(drop)
    }

    /// Calls per operation since start or [`reset_calls`](Self::reset_calls).
    pub fn calls(&self) -> Result<SsoCalls> {
        let answer = self.control("calls", json!({}))?;
        let operations = [
            SsoOperation::RegisterClient,
            SsoOperation::StartDeviceAuthorization,
            SsoOperation::CreateToken,
            SsoOperation::ListAccounts,
            SsoOperation::ListAccountRoles,
            SsoOperation::GetRoleCredentials,
            SsoOperation::Logout,
        ]
        .into_iter()
        .filter_map(|op| answer["operations"][op.as_str()].as_u64().map(|n| (op, n)))
        .collect();
        let by_account = answer["listAccountRolesByAccount"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(SsoCalls {
            operations,
            list_account_roles_by_account: by_account,
            slow_downs: answer["slowDowns"].as_u64().unwrap_or(0),
        })
    }

    /// Zeroes the call counts.
    pub fn reset_calls(&self) -> Result<()> {
        self.control("reset-calls", json!({})).map(drop)
    }

    /// Live access and refresh tokens (not expired, not revoked), as
    /// `(access, refresh)`: a logout leaves none.
    pub fn live_tokens(&self) -> Result<(u64, u64)> {
        let answer = self.control("state", json!({}))?;
        Ok((
            answer["liveAccessTokens"].as_u64().unwrap_or(0),
            answer["liveRefreshTokens"].as_u64().unwrap_or(0),
        ))
    }

    /// POSTs `body` to `/_stand_in/<name>` and returns the JSON answer.
    fn control(&self, name: &str, body: Value) -> Result<Value> {
        stand_in::control(self.addr, &self.daemon, "the SSO stand-in", name, body)
    }
}

impl std::fmt::Debug for SsoPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoPortal")
            .field("endpoint", &self.endpoint())
            .field("pid", &self.pid())
            .finish()
    }
}

/// Writes `dir/pkce-browser-<mode>`, an executable for `BROWSER` that plays the
/// person's browser in an authorization code flow (IAM Identity Center's, `aws
/// login`'s): given an `/authorize` URL it logs it to `<script>.log`, asks the stand-in
/// (which signs the person in and redirects at once, or refuses) and goes where the
/// redirect says, as [`PkceBrowser`] `mode` tells. Each redirect it followed is
/// appended to `dir/callbacks.log`.
pub fn pkce_browser(dir: &Path, mode: PkceBrowser) -> Result<PathBuf> {
    let path = dir.join(format!("pkce-browser-{}", mode.as_str()));
    let script = format!(
        r#"#!{python}
import os, sys, urllib.error, urllib.parse, urllib.request
MODE = "{mode}"
RECORD = "{record}"
url = sys.argv[1]
with open(__file__ + ".log", "a") as log:
    log.write(url + "\n")
if MODE == "closed":
    sys.exit(0)
# A browser returns at once and signs in on its own: the AWS CLI (Python's
# webbrowser) waits for the command to exit before it listens for the redirect.
if os.fork():
    sys.exit(0)
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
try:
    urllib.request.build_opener(Stay).open(url)
    sys.exit("the portal did not redirect")
except urllib.error.HTTPError as e:
    if e.code != 302:
        sys.exit(f"the portal answered {{e.code}}: {{e.read()!r}}")
    location = e.headers["Location"]
parts = urllib.parse.urlsplit(location)
query = urllib.parse.parse_qs(parts.query)
if MODE == "wrong-state":
    query["state"] = ["not-" + query["state"][0]]
if MODE == "replay":
    with open(RECORD) as old:
        first = urllib.parse.urlsplit(old.read().splitlines()[0])
    query["code"] = urllib.parse.parse_qs(first.query)["code"]
target = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
if MODE == "follow":
    with open(RECORD, "a") as record:
        record.write(location + "\n")
try:
    urllib.request.urlopen(target).read()
except urllib.error.HTTPError:
    pass
"#,
        python = venv_bin("python").display(),
        mode = mode.as_str(),
        record = dir.join("callbacks.log").display(),
    );
    write_executable(path, &script)
}

/// `tests/peers/sso_portal.py`, found from this crate's source.
/// Writes `script` to `path`, executable: a browser stand-in for `BROWSER`.
fn write_executable(path: PathBuf, script: &str) -> Result<PathBuf> {
    std::fs::write(&path, script).map_err(PeerError::io(format!("writing {}", path.display())))?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).map_err(
        PeerError::io(format!("making {} executable", path.display())),
    )?;
    Ok(path)
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/sso_portal.py")
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The 64-bit FNV-1a hash of `text` in 16 hex digits: the stand-in's stable suffix
/// for a permission set's role (AWS's is random per account; tests need to know it).
fn fnv1a_hex16(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_role_names_carry_the_same_suffix_as_the_stand_in() {
        // The stand-in's `role_suffix("Admin")` (FNV-1a 64 in Python).
        assert_eq!(fnv1a_hex16("Admin"), "aae1c70e168b45b4");
        assert_eq!(
            SsoPortal::assumed_role_arn("111122223333", "Admin", "alice"),
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_aae1c70e168b45b4/alice"
        );
    }
}
