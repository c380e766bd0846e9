//! Where Rolehop's AWS calls go, service by service (STS, SSO OIDC, the SSO portal, IAM,
//! Organizations), through the built `rolehop`: one policy for every client.
//!
//! The user's shared AWS files point every endpoint they can name (`[default]`'s
//! `endpoint_url`, a `services` section, and the `AWS_PROFILE` profile's own
//! `endpoint_url`) at a trap that counts connections: Rolehop manages those files'
//! profiles, and a signed request carries the caller's access key id, so the trap must
//! never see one. With a service's `AWS_ENDPOINT_URL_<SERVICE>` set, the call goes
//! there (moto, the SSO stand-in); without it, to AWS's own endpoint, reached here
//! through `HTTPS_PROXY` (as every SDK does) at a second trap, so nothing leaves the
//! machine. A plain-http endpoint that is not loopback is refused naming its variable,
//! and nothing is sent (`HTTP_PROXY` is a trap too, so a request would be counted).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{Run, World};
use rolehop_e2e::binaries::rolehop_bin;
use rolehop_e2e::sso_portal::START_URL;
use rolehop_e2e::{ConnectionTrap, SsoAccount, SsoOperation, SsoPortal};

/// A remote endpoint in clear text: what must be refused before anything is sent.
const PLAIN_HTTP_REMOTE: &str = "http://rolehop-endpoint-policy.example";

/// A world whose shared config points every endpoint at `files`, and whose children
/// get each service's real endpoint in its own variable only.
struct Trapped {
    world: World,
    /// Where the shared files point.
    files: ConnectionTrap,
    /// `HTTPS_PROXY` and, for the plain-http refusals, `HTTP_PROXY`.
    proxy: ConnectionTrap,
    /// `AWS_ENDPOINT_URL_<SERVICE>` of each service, at its real peer.
    endpoints: Vec<(String, String)>,
}

impl Trapped {
    fn new(world: World, portal: Option<&SsoPortal>) -> Self {
        let files = ConnectionTrap::start().unwrap();
        let proxy = ConnectionTrap::start().unwrap();
        let trap = files.url();
        let home = world.peers.home();
        let config = home.read_aws_config().unwrap_or_default();
        home.write_aws_config(&format!(
            "[default]\nendpoint_url = {trap}\nservices = trapped\n\n\
             [profile elsewhere]\nendpoint_url = {trap}\nservices = trapped\n\n\
             [services trapped]\nsts =\n  endpoint_url = {trap}\nsso =\n  endpoint_url = {trap}\n\
             sso_oidc =\n  endpoint_url = {trap}\niam =\n  endpoint_url = {trap}\n\
             organizations =\n  endpoint_url = {trap}\n\n{config}"
        ))
        .unwrap();
        let moto = world.peers.moto().endpoint();
        let mut endpoints: Vec<(String, String)> = ["STS", "IAM", "ORGANIZATIONS"]
            .iter()
            .map(|s| (format!("AWS_ENDPOINT_URL_{s}"), moto.clone()))
            .collect();
        if let Some(portal) = portal {
            endpoints.extend(portal.endpoint_env());
        }
        Self {
            world,
            files,
            proxy,
            endpoints,
        }
    }

    /// `rolehop ARGS` with every service's endpoint variable but `without`'s, no
    /// `AWS_ENDPOINT_URL`, `AWS_PROFILE` at the trapped profile, and `extra`.
    fn command(&self, args: &[&str], without: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut command = Command::new(rolehop_bin());
        command.env_clear().args(args);
        for (k, v) in self.world.env() {
            if !k.starts_with("AWS_ENDPOINT_URL") {
                command.env(k, v);
            }
        }
        for (k, v) in &self.endpoints {
            if !without.contains(&k.as_str()) {
                command.env(k, v);
            }
        }
        command
            .env("AWS_PROFILE", "elsewhere")
            .env("HTTPS_PROXY", self.proxy.url())
            .envs(extra.iter().copied());
        command
    }

    fn rolehop(&self, args: &[&str], without: &[&str], extra: &[(&str, &str)]) -> Run {
        let out = self
            .command(args, without, extra)
            .stdin(Stdio::null())
            .output()
            .expect("rolehop runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `rolehop ARGS` without `variable`: the call goes to AWS's own endpoint, which
    /// only the proxy sees. It fails there, and the files' trap saw nothing.
    #[track_caller]
    fn to_aws_itself(&self, args: &[&str], variable: &str) {
        let proxied = self.proxy.connections();
        let run = self.rolehop(args, &[variable], &[]);
        failed(&run);
        assert_eq!(
            self.files.connections(),
            0,
            "a call went where the files point"
        );
        assert!(
            self.proxy.connections() > proxied,
            "without {variable}, the call goes to AWS's own endpoint through HTTPS_PROXY: {run:#?}"
        );
    }

    /// `rolehop ARGS` with `variable` plain http to a remote host: refused naming it,
    /// nothing sent anywhere.
    #[track_caller]
    fn refused_in_clear_text(&self, args: &[&str], variable: &str) {
        let proxied = self.proxy.connections();
        let run = self.rolehop(
            args,
            &[],
            &[
                (variable, PLAIN_HTTP_REMOTE),
                ("HTTP_PROXY", &self.proxy.url()),
                ("NO_PROXY", "127.0.0.1,localhost"),
            ],
        );
        failed(&run);
        let named = format!("{variable} = {PLAIN_HTTP_REMOTE}: plain http");
        assert!(run.stderr.contains(&named), "{run:#?}");
        assert_eq!(self.proxy.connections(), proxied, "a request was sent");
        assert_eq!(self.files.connections(), 0);
    }

    /// `rolehop sso login NAME --use-device-code --no-browser`, approved through the stand-in once the
    /// CLI has polled once.
    fn log_in(&self, portal: &SsoPortal, name: &str) {
        let before = portal.calls().unwrap().of(SsoOperation::CreateToken);
        let mut child = self
            .command(
                &["sso", "login", name, "--use-device-code", "--no-browser"],
                &[],
                &[],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolehop runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let code = loop {
            let line = lines.next().expect("a user code").unwrap();
            if let Some(code) = line.strip_prefix("user code: ") {
                break code.to_owned();
            }
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while portal.calls().unwrap().of(SsoOperation::CreateToken) == before {
            assert!(Instant::now() < deadline, "no CreateToken poll");
            std::thread::sleep(Duration::from_millis(50));
        }
        portal.approve(&code).unwrap();
        lines.for_each(drop);
        assert!(child.wait().unwrap().success(), "sso login failed");
    }
}

/// Failed with one line on stderr, no trace.
#[track_caller]
fn failed(run: &Run) {
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 1, "not one line: {run:#?}");
    assert!(run.stderr.starts_with("rolehop: "), "{run:#?}");
}

/// IAM user `alice` (no MFA) in a trapped world.
fn trapped_with_alice() -> Trapped {
    let world = World::start();
    world.add_iam_user("alice", "alice");
    Trapped::new(world, None)
}

#[test]
fn sts_calls_never_go_where_the_shared_files_point() {
    let t = trapped_with_alice();
    t.to_aws_itself(&["session", "start", "alice"], "AWS_ENDPOINT_URL_STS");
    t.rolehop(&["session", "start", "alice"], &[], &[]).ok();
    assert_eq!(t.files.connections(), 0);
}

#[test]
fn a_plain_http_remote_sts_endpoint_is_refused_naming_its_variable() {
    let t = trapped_with_alice();
    t.refused_in_clear_text(&["session", "start", "alice"], "AWS_ENDPOINT_URL_STS");
}

#[test]
fn iam_calls_never_go_where_the_shared_files_point() {
    let t = trapped_with_alice();
    // The STS call that names the user goes to moto; the IAM call is the one at stake.
    t.to_aws_itself(&["session", "keys", "alice"], "AWS_ENDPOINT_URL_IAM");
    let listed = t
        .rolehop(&["session", "keys", "alice", "--json"], &[], &[])
        .ok();
    assert!(listed.stdout.contains("AKIA"), "{listed:#?}");
    t.rolehop(&["session", "rotate-keys", "alice"], &[], &[])
        .ok();
    assert_eq!(t.files.connections(), 0);
}

#[test]
fn a_plain_http_remote_iam_endpoint_is_refused_naming_its_variable() {
    let t = trapped_with_alice();
    t.refused_in_clear_text(&["session", "keys", "alice"], "AWS_ENDPOINT_URL_IAM");
    t.refused_in_clear_text(&["session", "rotate-keys", "alice"], "AWS_ENDPOINT_URL_IAM");
}

/// IAM user `mgmt` of moto's default account, the management account of an
/// organization with one member account.
fn trapped_with_org() -> Trapped {
    let world = World::start();
    world.add_iam_user("mgmt", "mgmt");
    let out = rolehop_e2e::python(
        "import boto3\norg = boto3.client('organizations')\n\
         org.create_organization(FeatureSet='ALL')\n\
         org.create_account(Email='member@example.com', AccountName='Member')\n",
        world.peers.moto().admin_env(),
    )
    .expect("python runs");
    assert!(out.status.success(), "{out:?}");
    Trapped::new(world, None)
}

const ORG_SYNC: [&str; 6] = [
    "org",
    "sync",
    "--via",
    "mgmt",
    "--role-name",
    "OrganizationAccountAccessRole",
];

#[test]
fn organizations_calls_never_go_where_the_shared_files_point() {
    let t = trapped_with_org();
    t.to_aws_itself(&ORG_SYNC, "AWS_ENDPOINT_URL_ORGANIZATIONS");
    let synced = t.rolehop(&ORG_SYNC, &[], &[]).ok();
    assert!(synced.stdout.starts_with("added 1,"), "{synced:#?}");
    assert_eq!(t.files.connections(), 0);
}

#[test]
fn a_plain_http_remote_organizations_endpoint_is_refused_naming_its_variable() {
    let t = trapped_with_org();
    t.refused_in_clear_text(&ORG_SYNC, "AWS_ENDPOINT_URL_ORGANIZATIONS");
}

/// The SSO stand-in with one account where the user has `Admin`, integration `acme`
/// and SSO role session `admin` on it.
fn trapped_with_portal() -> (Trapped, SsoPortal) {
    let world = World::start();
    let portal = SsoPortal::start(world.peers.moto()).expect("stand-in starts");
    portal
        .seed(&[SsoAccount::new("111122223333", "Dev", &["Admin"])])
        .unwrap();
    world
        .rolehop(&[
            "sso",
            "add",
            "--name",
            "acme",
            "--start-url",
            START_URL,
            "--region",
            "eu-west-1",
        ])
        .ok();
    world
        .rolehop(&[
            "session",
            "add",
            "sso-role",
            "--name",
            "admin",
            "--sso",
            "acme",
            "--account-id",
            "111122223333",
            "--role-name",
            "Admin",
            "--profile",
            "admin",
            "--region",
            "us-east-1",
        ])
        .ok();
    let t = Trapped::new(world, Some(&portal));
    (t, portal)
}

#[test]
fn sso_calls_never_go_where_the_shared_files_point() {
    let (t, portal) = trapped_with_portal();
    // SSO OIDC: the login's first call.
    t.to_aws_itself(
        &["sso", "login", "acme", "--no-browser"],
        "AWS_ENDPOINT_URL_SSO_OIDC",
    );
    t.log_in(&portal, "acme");
    // The portal: GetRoleCredentials.
    t.to_aws_itself(&["session", "start", "admin"], "AWS_ENDPOINT_URL_SSO");
    t.rolehop(&["session", "start", "admin"], &[], &[]).ok();
    assert_eq!(t.files.connections(), 0);
}

#[test]
fn a_plain_http_remote_sso_endpoint_is_refused_naming_its_variable() {
    let (t, portal) = trapped_with_portal();
    t.refused_in_clear_text(
        &["sso", "login", "acme", "--no-browser"],
        "AWS_ENDPOINT_URL_SSO_OIDC",
    );
    t.log_in(&portal, "acme");
    t.refused_in_clear_text(&["session", "start", "admin"], "AWS_ENDPOINT_URL_SSO");
}
