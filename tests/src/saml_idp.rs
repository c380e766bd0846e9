//! A real SAML 2.0 identity provider (pysaml2's IdP, signing with xmlsec1) and, in the
//! same process, a layer before moto's STS that checks `AssumeRoleWithSAML` as IAM does
//! (`tests/peers/saml_idp.py`).
//!
//! moto serves `AssumeRoleWithSAML` but verifies nothing, so a suite points STS at
//! [`SamlIdp::sts_endpoint`]: the layer checks the signature against the provider's
//! certificate (signxml), the audience, the recipient, `NotOnOrAfter` and the requested
//! role/provider pair, refusing as STS does (`InvalidIdentityToken`,
//! `ExpiredTokenException`, `AccessDenied`), and passes everything else to moto. The
//! `saml_peer` suite proves it with boto3.
//!
//! [`SamlIdp::sign_in`] is the person at a browser: it opens the provider's
//! IdP-initiated URL, is sent to the login form, posts the user and password, follows
//! the redirect with the session cookie and takes the `SAMLResponse` from the
//! auto-posting form the provider answers with.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::moto::{ACCOUNT_ID, MotoServer};
use crate::python::clean_command;
use crate::wait::{self, Probe};

/// The SAML provider's ARN the layer knows (IAM's `saml-provider/NAME`).
pub const PROVIDER_ARN: &str = "arn:aws:iam::123456789012:saml-provider/RolehopTestIdp";
/// The one user of the provider, and the password its login form takes.
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";

const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A role ARN in moto's account.
pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

/// `count` Role values for [`SamlIdp::configure`]'s `roles`: `deploy-0`, `deploy-1`...
/// under the paths `team-0/` to `team-4/` in moto's account, through [`PROVIDER_ARN`],
/// the pair orders alternating (the benches' 50 offered roles).
pub fn deploy_roles(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let arn = role_arn(&format!("team-{}/deploy-{i}", i % 5));
            if i % 2 == 0 {
                format!("{arn},{PROVIDER_ARN}")
            } else {
                format!("{PROVIDER_ARN},{arn}")
            }
        })
        .collect()
}

/// The running provider and STS layer. Killed and reaped on drop.
pub struct SamlIdp {
    daemon: Daemon,
    idp: SocketAddr,
    sts: SocketAddr,
    dir: TempDir,
}

impl SamlIdp {
    /// Starts both on free loopback ports, the layer passing STS calls on to `moto`.
    pub fn start(moto: &MotoServer) -> Result<Self> {
        let (mut command, dir) = clean_command("python")?;
        let log = dir.path().join("saml_idp.log");
        command
            .arg("-u")
            .arg(script())
            .arg(dir.path())
            .arg(moto.endpoint())
            .arg(PROVIDER_ARN)
            .current_dir(dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let mut daemon = Daemon::spawn("saml_idp.py", &mut command, &log)?;
        let (idp, sts) = wait::until(START_TIMEOUT, Duration::from_millis(50), || {
            if let Some(exited) = daemon.exited() {
                return Probe::Failed(exited);
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let found = text.lines().find_map(|line| {
                let rest = line.strip_prefix("listening idp ")?;
                let (idp, sts) = rest.split_once(" sts ")?;
                Some((idp.trim().parse().ok()?, sts.trim().parse().ok()?))
            });
            match found {
                Some(addrs) => Probe::Ready(addrs),
                None => Probe::NotYet("no 'listening' line yet".into()),
            }
        })
        .map_err(|why| PeerError::NotReady {
            peer: "saml_idp.py",
            waited: START_TIMEOUT,
            detail: format!("{why}; log:\n{}", daemon.log_text()),
        })?;
        Ok(Self {
            daemon,
            idp,
            sts,
            dir,
        })
    }

    /// The provider's IdP-initiated sign-in URL for the AWS app.
    pub fn idp_url(&self) -> String {
        format!("http://{}/sso/aws", self.idp)
    }

    /// The verifying layer before moto's STS, for `AWS_ENDPOINT_URL_STS`.
    pub fn sts_endpoint(&self) -> String {
        format!("http://{}", self.sts)
    }

    /// What the next responses carry (see the script): `roles` (values `A,B` in the
    /// order given), `session_duration` (seconds, or null for none), `audience`
    /// (`"aws"` or another entity id), `lifetime_minutes` (negative: already expired),
    /// `signed`.
    pub fn configure(&self, change: Value) -> Result<()> {
        let body = change.to_string();
        let answer = exchange(
            self.idp,
            "POST",
            "/_control",
            &[("Content-Type", "application/json")],
            &body,
        )?;
        if answer.status != 200 {
            return Err(self.failed("configure", &answer.body));
        }
        Ok(())
    }

    /// Ends every session the provider holds (`POST /_forget`): the cookies it set are
    /// unknown from then on, and its AWS URL shows the login form again.
    pub fn forget_sessions(&self) -> Result<()> {
        let answer = exchange(self.idp, "POST", "/_forget", &[], "")?;
        if answer.status != 200 {
            return Err(self.failed("forget_sessions", &answer.body));
        }
        Ok(())
    }

    /// Offers `roles` (role names in moto's account, through [`PROVIDER_ARN`]), the
    /// first as `role,provider` and the next as `provider,role`, alternating.
    pub fn offer_roles(&self, roles: &[&str]) -> Result<()> {
        let values: Vec<String> = roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if i % 2 == 0 {
                    format!("{},{PROVIDER_ARN}", role_arn(r))
                } else {
                    format!("{PROVIDER_ARN},{}", role_arn(r))
                }
            })
            .collect();
        self.configure(serde_json::json!({ "roles": values }))
    }

    /// Signs in as a person would in a browser and returns the `SAMLResponse` the
    /// provider's page would post to AWS.
    pub fn sign_in(&self, user: &str, password: &str) -> Result<String> {
        let first = exchange(self.idp, "GET", "/sso/aws", &[], "")?;
        let login = first
            .header("Location")
            .filter(|_| first.status == 303)
            .ok_or_else(|| self.failed("the IdP-initiated URL", "no redirect to the login form"))?;
        let form_page = exchange(self.idp, "GET", &login, &[], "")?;
        if !form_page.body.contains("type=\"password\"") {
            return Err(self.failed("the login form", &form_page.body));
        }
        let next = login
            .split_once("next=")
            .map(|(_, n)| n.to_owned())
            .unwrap_or_default();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("username", user)
            .append_pair("password", password)
            .append_pair("next", &percent_decode(&next))
            .finish();
        let posted = exchange(
            self.idp,
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
        )?;
        let (Some(cookie), Some(target)) = (posted.header("Set-Cookie"), posted.header("Location"))
        else {
            return Err(self.failed("the login", &posted.body));
        };
        let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
        let page = exchange(self.idp, "GET", &target, &[("Cookie", &cookie)], "")?;
        if !page
            .body
            .contains("action=\"https://signin.aws.amazon.com/saml\"")
        {
            return Err(self.failed("the auto-posting form", &page.body));
        }
        page.body
            .split("name=\"SAMLResponse\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
            .ok_or_else(|| self.failed("the auto-posting form", "no SAMLResponse field"))
    }

    /// The layer's verdicts so far, one a call: `accept ROLE_ARN` or `refuse CODE`.
    pub fn sts_decisions(&self) -> Vec<String> {
        self.lines_of("sts-ledger.txt")
    }

    /// The provider's directory (its key, certificate and log): a test that proves
    /// no file holds an assertion looks elsewhere.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// What the provider served, in order (`GET /login`, `POST /login`, `GET /sso/aws`),
    /// its controls left out: how a test knows a login window's page has loaded.
    pub fn served(&self) -> Result<Vec<String>> {
        let answer = exchange(self.idp, "GET", "/_served", &[], "")?;
        serde_json::from_str(&answer.body).map_err(|e| self.failed("/_served", &e.to_string()))
    }

    /// Every `SAMLResponse` the provider's pages carried (base64), in order.
    pub fn issued(&self) -> Vec<String> {
        self.lines_of("issued.txt")
    }

    /// The lines of file `name` in the provider's directory (none if it is absent).
    fn lines_of(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn failed(&self, what: &str, detail: &str) -> PeerError {
        PeerError::NotReady {
            peer: "saml_idp.py",
            waited: Duration::ZERO,
            detail: format!("{what}: {detail}; log:\n{}", self.daemon.log_text()),
        }
    }
}

/// One HTTP/1.1 exchange, its status, headers and body (redirects not followed).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Answer> {
    let io = PeerError::io(format!("{method} {path} at the SAML provider"));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    let timeout = Some(Duration::from_secs(30));
    let _ = stream.set_read_timeout(timeout);
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut raw = Vec::new();
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.read_to_end(&mut raw))
        .map_err(PeerError::io(format!(
            "{method} {path} at the SAML provider"
        )))?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_owned(),
    })
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `tests/peers/saml_idp.py`, found from this crate's source.
fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/saml_idp.py")
}
