//! The command line's grammar: every command, flag and help text, as clap types.
//!
//! The commands and flags of PRODUCT.md's "Command line" section are a contract that
//! scripts rely on; the ones added here (`session edit`, `profile rename`, `settings`,
//! `completions`) only extend it.

use std::ffi::OsString;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::complete;

const AFTER_HELP: &str = "\
SESSION is a session's name or id. ROLEHOP_HOME relocates the workspace; \
AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL(_STS) and \
AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC are honoured; \
ROLEHOP_FEDERATION_URL overrides the console sign-in's federation endpoint.

Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 invalid input, 4 not found, \
5 conflict, 6 AWS refused or could not be reached, 7 an MFA code is needed, \
8 keychain unavailable or locked, 9 workspace or AWS files could not be written, \
10 `trust check`: the role's trust policy does not admit the hop, 11 `trust check`: whether \
it does depends on what Rolehop cannot know, 130/143 interrupted by Ctrl-C/SIGTERM (a start \
in flight is ended first), 12 an IAM Identity Center integration needs `rolehop sso login` \
or an `aws login` session ended, \
101 internal error (a bug); `exec` passes the command's own exit \
code through (126: cannot run it, \
127: not found).";

/// Rolehop: short-lived AWS credentials from the OS keychain, role chains with MFA.
#[derive(Debug, Parser)]
#[command(name = "rolehop", version, about, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// Log what Rolehop does to standard error: -v what happens, -vv how, -vvv
    /// everything (ROLEHOP_LOG takes a filter such as `debug` or `rolehop_core=trace`
    /// instead). Never a secret.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Named AWS profiles that sessions are bound to.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Sessions: IAM users and the roles chained from them.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Print a session's credentials as the AWS `credential_process` JSON.
    ///
    /// Reuses cached credentials without calling STS. Never prompts: when the session
    /// needs a new MFA code, it fails and says to run `rolehop session start` once.
    #[command(name = "credential-process")]
    CredentialProcess {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
    },
    /// Run a command with a session's credentials in its environment.
    ///
    /// Sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
    /// AWS_DEFAULT_REGION and AWS_CREDENTIAL_EXPIRATION, unsets AWS_PROFILE, and exits
    /// with the command's exit code.
    ///
    /// With --server, the command gets no keys at all: it gets
    /// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN, pointing at
    /// a local endpoint that serves fresh credentials for as long as the command runs, so
    /// SDKs refresh them by themselves across rotations.
    #[command(after_help = "Example: rolehop exec production -- aws sts get-caller-identity")]
    Exec(ExecArgs),
    /// Serve a session's credentials on a local container credentials endpoint.
    ///
    /// Prints AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN (as
    /// `export` lines, or with --format docker an `--env-file PATH` flag for
    /// `docker run --network host`: the file, readable by you alone, holds them and is
    /// removed when serving ends), then serves until interrupted (Ctrl-C or SIGTERM).
    /// Requests without the token are refused.
    Serve(ServeArgs),
    /// Open the AWS console signed in as a session's role (federation sign-in).
    Console(ConsoleArgs),
    /// Create sessions from what is already in the AWS files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Workspace settings (delivery mode, default region, rotation margin, closing the
    /// window without a tray).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Trust policies: what each hop of a chain needs, a role template, and a check of
    /// the role's actual trust policy.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// AWS Organizations: a role session in every member account at once.
    #[command(subcommand)]
    Org(OrgCommand),
    /// IAM Identity Center (AWS SSO) integrations: log in once, use every account and
    /// role you are assigned.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// SAML federation: what a SAML response grants, and federated integrations whose
    /// roles become sessions.
    #[command(subcommand)]
    Saml(SamlCommand),
    /// Team catalogs: the team's roles and chains, declared once in a file (usually in
    /// a git repository) and followed by every teammate.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Print a shell completion script (e.g. `rolehop completions bash > /etc/bash_completion.d/rolehop`):
    /// it completes commands, flags, and session, profile and region names.
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum SamlCommand {
    /// List the role and SAML provider pairs a SAML response grants (the Role
    /// attribute, either order), with its RoleSessionName, SessionDuration and expiry.
    /// The response is read and checked, never stored; nothing is asked of AWS.
    Roles {
        /// The SAML response (base64, as posted to AWS): a file, or `-` for standard
        /// input.
        #[arg(long, value_name = "FILE|-")]
        assertion_file: std::path::PathBuf,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add a federated integration: one identity provider whose responses' roles become
    /// sessions with `saml sync` (nothing is asked of the provider here).
    Add {
        /// A name to pick the integration by.
        #[arg(long)]
        name: String,
        /// The provider's IdP-initiated sign-in URL for the AWS app.
        #[arg(long, value_name = "URL")]
        idp_url: String,
        /// The synced sessions' region (default: the workspace's).
        #[arg(long, value_name = "R")]
        #[arg(add = complete::regions())]
        region: Option<String>,
        /// Session and profile names, from {account_name}, {account_id} and {role_name}
        /// (default {account_name}-{role_name}; an account Rolehop knows no name for is
        /// named by its id), made a valid profile name; a name taken gets -ACCOUNT_ID.
        #[arg(long, value_name = "T")]
        profile_template: Option<String>,
        /// Seconds asked of AssumeRoleWithSAML (900-43200, default 3600), capped by the
        /// response's SessionDuration.
        #[arg(long, value_name = "SECONDS")]
        duration: Option<u32>,
    },
    /// Offer every role a SAML response grants and keep the picked ones as federated
    /// sessions. Re-running keeps what you changed (name, profile, region), keeps the
    /// roles synced before while the provider still grants them, removes the ones it no
    /// longer grants (never an active session or a parent), and adds granted roles only
    /// when picked. The response is read and checked, never stored.
    Sync {
        /// The integration's name or id.
        name: String,
        /// The SAML response (base64, as posted to AWS): a file, or `-` for standard
        /// input.
        #[arg(long, value_name = "FILE|-")]
        assertion_file: std::path::PathBuf,
        /// A role to keep as a session (its ARN; repeatable). Without --role or --all,
        /// the roles are offered to pick from on a terminal; elsewhere (or with --json)
        /// only the roles synced before are kept and the others are listed.
        #[arg(long = "role", value_name = "ARN", conflicts_with = "all")]
        roles: Vec<String>,
        /// Keep every role the response grants.
        #[arg(long)]
        all: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the federated integrations.
    List {
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
    },
    /// Remove a federated integration and the sessions it synced (active ones and
    /// parents of your own roles are kept and reported).
    Remove {
        /// The integration's name or id.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add a named profile.
    Add {
        /// Profile name, as in `aws --profile NAME`.
        name: String,
    },
    /// List the named profiles.
    List {
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile that no active session uses.
    Remove {
        #[arg(add = complete::profiles())]
        name: String,
        /// Move the profile's sessions to this profile first (required if it has any).
        #[arg(long, value_name = "PROFILE")]
        #[arg(add = complete::profiles())]
        reassign_to: Option<String>,
    },
    /// Rename a profile; its sessions follow.
    Rename {
        #[arg(add = complete::profiles())]
        old: String,
        new: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Add a session.
    #[command(subcommand)]
    Add(AddSession),
    /// Change a session's settings (same id; what is not given stays as it was).
    #[command(subcommand)]
    Edit(EditSession),
    /// List sessions with their state and time to expiry.
    List(ListArgs),
    /// Start a session: its credentials appear under its profile.
    Start {
        /// The session's name or id. Without it, on a terminal, a picker lists the
        /// sessions (most recently used first) to type-filter and pick from.
        #[arg(add = complete::sessions())]
        session: Option<String>,
        /// The 6-digit code of the MFA device, when the chain needs one. Without it,
        /// Rolehop asks on the terminal, or fails when there is none.
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// Set aside what you wrote yourself under the profile (credentials, or config keys
        /// such as role_arn or sso_* that AWS tools would use instead), until the session stops.
        #[arg(long)]
        take_over: bool,
        /// For a federated (saml) session, or a role chained from one: the SAML response
        /// another tool obtained (base64, as the identity provider posts it to AWS), read
        /// from FILE or, with `-`, from standard input. It is checked (signed, for AWS,
        /// not expired, granting the session's role through its provider) before
        /// anything changes, and never stored.
        #[arg(long, value_name = "FILE|-")]
        assertion_file: Option<std::path::PathBuf>,
    },
    /// Stop a session: what Rolehop wrote for its profile is removed.
    Stop {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
    },
    /// Rotate an IAM user's access key: a new key is created, proven and stored, then
    /// the old one is deleted and the credentials cached with it are forgotten.
    ///
    /// At every step the keychain holds a key that works; a failure says which key, if
    /// any, to delete by hand. IAM allows two keys per user: with two already, nothing
    /// changes and the message names the one Rolehop does not hold.
    #[command(name = "rotate-keys")]
    RotateKeys {
        /// The IAM user session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        /// The 6-digit MFA code, when the user has an MFA device and no valid session
        /// token is cached (IAM calls are signed with it).
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// Show an IAM user's access keys as IAM lists them, with their age (a warning past
    /// 90 days) and which one is in the keychain.
    Keys {
        /// The IAM user session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        /// The 6-digit MFA code, as for rotate-keys.
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Sign a console sign-in session in again, in the browser (the flow `aws login`
    /// runs): its new token replaces the old one in the keychain. The sign-in must be
    /// the same console session (the same ARN).
    Login {
        /// The console sign-in session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        #[command(flatten)]
        browser: SignInFlags,
    },
    /// Log a console sign-in session out: it and the sessions chained below it stop,
    /// its token (refresh token and DPoP key) and every cached copy of their
    /// credentials are deleted. The session stays; `session login` signs it in again.
    Logout {
        /// The console sign-in session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
    },
    /// Remove a session, its stored keys and cached credentials.
    Remove {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        /// Also remove the roles chained from it.
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AddSession {
    /// An IAM user with long-lived access keys.
    ///
    /// The access key id and the secret access key are read from standard input, one
    /// per line, or asked for on the terminal without echo. They go to the keychain
    /// only; there is deliberately no flag for them.
    #[command(
        name = "iam-user",
        after_help = "Example: printf '%s\\n%s\\n' \"$ID\" \"$SECRET\" | rolehop session add iam-user --name alice --profile staging"
    )]
    IamUser(IamUserArgs),
    /// A role assumed from a parent session (an IAM user or another role).
    Role(RoleArgs),
    /// An account and role reached through an IAM Identity Center integration.
    #[command(name = "sso-role")]
    SsoRole(SsoRoleArgs),
    /// A role reached through a SAML 2.0 identity provider (Okta, Entra ID, ADFS...):
    /// `AssumeRoleWithSAML` with the SAML response the provider posts to AWS.
    #[command(
        after_help = "Example: rolehop session add saml --name corp-admin --idp-url https://corp.okta.com/home/amazon_aws/0oa1/272 --role-arn arn:aws:iam::123456789012:role/Admin --principal-arn arn:aws:iam::123456789012:saml-provider/Okta --profile corp"
    )]
    Saml(SamlArgs),
    /// A console sign-in session, as `aws login` makes one: you sign in to the AWS
    /// console in your browser (root, an IAM user with a passkey, a federated
    /// identity), which sends it back to Rolehop on 127.0.0.1; its token goes to the
    /// keychain only.
    #[command(
        name = "login-session",
        after_help = "Example: rolehop session add login-session --name console --profile console --region eu-west-1"
    )]
    LoginSession(LoginSessionArgs),
}

#[derive(Debug, Args)]
pub struct LoginSessionArgs {
    /// A name to pick the session by.
    #[arg(long)]
    pub name: String,
    /// The named profile the session's credentials go to.
    #[arg(long)]
    #[arg(add = complete::profiles())]
    pub profile: String,
    /// The region to sign in through (and the profile's `region`); default: the
    /// workspace's default region, else us-east-1.
    #[arg(long)]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
    #[command(flatten)]
    pub browser: SignInFlags,
}

/// How a console sign-in reaches the browser.
#[derive(Debug, Args)]
pub struct SignInFlags {
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// The port on 127.0.0.1 the browser is sent back to (default: a free one).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub redirect_port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct SamlArgs {
    /// A name to pick the session by.
    #[arg(long)]
    pub name: String,
    /// The identity provider's IdP-initiated sign-in URL for the AWS app (https).
    #[arg(long, value_name = "URL")]
    pub idp_url: String,
    /// The role to take: arn:aws:iam::ACCOUNT:role/NAME.
    #[arg(long, value_name = "ARN")]
    pub role_arn: String,
    /// The SAML provider in IAM: arn:aws:iam::ACCOUNT:saml-provider/NAME.
    #[arg(long, value_name = "ARN")]
    pub principal_arn: String,
    /// The named profile the session's credentials go to.
    #[arg(long)]
    #[arg(add = complete::profiles())]
    pub profile: String,
    /// Region for STS calls and the profile's `region`.
    #[arg(long)]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
    /// Lifetime of the credentials, seconds (900–43200, default 3600), capped by the
    /// provider's SessionDuration.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u32>,
}

#[derive(Debug, Args)]
pub struct SsoRoleArgs {
    /// A name to pick the session by.
    #[arg(long)]
    pub name: String,
    /// The integration (name or id) whose portal gives the credentials.
    #[arg(long, value_name = "N")]
    pub sso: String,
    /// The 12-digit account id.
    #[arg(long, value_name = "ID")]
    pub account_id: String,
    /// The role (permission set) name in that account.
    #[arg(long, value_name = "R")]
    pub role_name: String,
    /// The named profile the session's credentials go to.
    #[arg(long)]
    #[arg(add = complete::profiles())]
    pub profile: String,
    /// Region for the profile's `region` (and roles chained from it).
    #[arg(long)]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Add an integration (nothing is asked of the portal until `sso login`).
    Add {
        /// A name to pick the integration by (`[sso-session NAME]` in AWS config terms).
        #[arg(long)]
        name: String,
        /// The AWS access portal URL, https://…/start.
        #[arg(long, value_name = "URL")]
        start_url: String,
        /// The region IAM Identity Center runs in.
        #[arg(long, value_name = "R")]
        #[arg(add = complete::regions())]
        region: String,
        /// OAuth scopes, comma-separated (default sso:account:access).
        #[arg(long, value_name = "S", value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// List the integrations and their login status.
    List {
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
    },
    /// Remove an integration and its tokens.
    Remove {
        /// The integration's name or id.
        name: String,
        /// Also remove its sessions (and the roles chained from them).
        #[arg(long)]
        cascade: bool,
    },
    /// Log in in a browser: by default the authorization code flow with PKCE (the
    /// portal sends the browser back to Rolehop on 127.0.0.1); with --use-device-code,
    /// the device flow (a URL and a code to approve, from any device).
    Login {
        /// The integration's name or id.
        name: String,
        /// Print the URL (and code) only; do not open a browser.
        #[arg(long)]
        no_browser: bool,
        /// Use the device authorization flow instead of the authorization code flow.
        #[arg(long)]
        use_device_code: bool,
        /// The port on 127.0.0.1 the browser is sent back to (default: a free one).
        #[arg(long, value_name = "PORT", conflicts_with = "use_device_code",
              value_parser = clap::value_parser!(u16).range(1..))]
        redirect_port: Option<u16>,
        /// Also write the token to the AWS CLI's own cache (~/.aws/sso/cache), for tools
        /// that read it there. The file holds a bearer token until it expires; logout
        /// deletes it.
        #[arg(long)]
        export_token: bool,
    },
    /// Create, update and remove SSO role sessions: one per account and role you are
    /// assigned. Re-running keeps what you changed (name, profile, region), adds new
    /// assignments and removes vanished ones (never an active session or a parent).
    Sync {
        /// The integration's name or id.
        name: String,
        /// Session and profile names, from {account_name}, {account_id} and {role_name}
        /// (default {account_name}-{role_name}), made a valid profile name; a name taken
        /// gets -ACCOUNT_ID.
        #[arg(long, value_name = "T")]
        profile_template: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Log out: the portal forgets the token and the keychain drops it.
    Logout {
        /// The integration's name or id.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct IamUserArgs {
    /// A name to pick the session by.
    #[arg(long)]
    pub name: String,
    /// The named profile the session's credentials go to.
    #[arg(long)]
    #[arg(add = complete::profiles())]
    pub profile: String,
    /// Region for STS calls and the profile's `region`.
    #[arg(long)]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
    /// ARN of the user's MFA device (arn:aws:iam::ACCOUNT:mfa/NAME).
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// Lifetime of the MFA session token, seconds (900–129600; default 43200).
    #[arg(long, value_name = "SECONDS")]
    pub session_duration: Option<u32>,
    /// Take the keys from the access-key CSV the AWS console downloads
    /// (`NAME_accessKeys.csv`), read once and never copied, instead of standard input.
    #[arg(long, value_name = "FILE")]
    pub from_csv: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// A name to pick the session by.
    #[arg(long)]
    pub name: String,
    /// The session whose credentials assume the role (name or id).
    #[arg(long, value_name = "SESSION")]
    #[arg(add = complete::sessions())]
    pub parent: String,
    /// arn:aws:iam::ACCOUNT:role/NAME.
    #[arg(long, value_name = "ARN")]
    pub role_arn: String,
    /// The named profile the session's credentials go to.
    #[arg(long)]
    #[arg(add = complete::profiles())]
    pub profile: String,
    /// Region for STS calls and the profile's `region`.
    #[arg(long)]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
    /// RoleSessionName (default rolehop-NAME).
    #[arg(long, value_name = "S")]
    pub role_session_name: Option<String>,
    /// ExternalId the role's trust policy asks for.
    #[arg(long, value_name = "X")]
    pub external_id: Option<String>,
    /// Lifetime of the role's credentials, seconds (default 3600; at most 3600 when
    /// chained from another role).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u32>,
    /// SourceIdentity to set on the role session.
    #[arg(long, value_name = "S")]
    pub source_identity: Option<String>,
    /// A session tag passed to AssumeRole (repeat for more; at most 50).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// A tag key passed on to the roles chained from this one (one of the --tag keys).
    #[arg(long = "transitive-tag", value_name = "KEY")]
    pub transitive_tag_keys: Vec<String>,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

/// Where a session's AWS console opens (`rolehop console`, the window's Console).
#[derive(Debug, Args)]
pub struct ConsoleFlags {
    /// The browser its console opens in: default, chrome, chromium, brave, edge or
    /// firefox.
    #[arg(long, value_name = "B")]
    pub console_browser: Option<String>,
    /// The Chrome, Chromium, Brave or Edge profile (its --profile-directory, like
    /// "Default" or "Profile 1").
    #[arg(long, value_name = "NAME", requires = "console_browser")]
    pub console_browser_profile: Option<String>,
    /// The Firefox container (through the "Open external links in a container"
    /// extension).
    #[arg(long, value_name = "NAME", requires = "console_browser")]
    pub console_container: Option<String>,
    /// The console page it opens: a service (s3, ec2) or a path on the console
    /// (/s3/buckets); "" on edit goes back to the home page.
    #[arg(long, value_name = "S|PATH")]
    pub console_destination: Option<String>,
    /// The console's region ("" on edit goes back to the session's).
    #[arg(long, value_name = "R")]
    #[arg(add = complete::regions())]
    pub console_region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EditSession {
    /// Edit an IAM user; `--new-keys` reads new access keys like `session add iam-user`.
    #[command(name = "iam-user")]
    IamUser {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        #[command(flatten)]
        changes: IamUserChanges,
    },
    /// Edit a chained role.
    Role {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        #[command(flatten)]
        changes: RoleChanges,
    },
    /// Edit an IAM Identity Center role: its name, profile, region and console (its
    /// account and role are the portal's).
    #[command(name = "sso-role")]
    SsoRole {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        #[command(flatten)]
        changes: SsoRoleChanges,
    },
    /// Edit a federated (SAML) role: its name, profile, region, role and duration (its
    /// provider is the integration's).
    Saml {
        /// The session's name or id.
        #[arg(add = complete::sessions())]
        session: String,
        #[command(flatten)]
        changes: SamlChanges,
    },
}

#[derive(Debug, Args)]
pub struct SamlChanges {
    #[command(flatten)]
    pub basics: NameProfileRegion,
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u32>,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

/// What every kind of session may change: its name, profile and region.
#[derive(Debug, Args)]
pub struct NameProfileRegion {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    #[arg(add = complete::profiles())]
    pub profile: Option<String>,
    /// New region ("" to clear).
    #[arg(long)]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct SsoRoleChanges {
    #[command(flatten)]
    pub basics: NameProfileRegion,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

#[derive(Debug, Args)]
pub struct IamUserChanges {
    #[command(flatten)]
    pub basics: NameProfileRegion,
    /// New MFA device ARN ("" to clear).
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub session_duration: Option<u32>,
    /// Read new access keys from standard input or the terminal.
    #[arg(long)]
    pub new_keys: bool,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

#[derive(Debug, Args)]
pub struct RoleChanges {
    #[command(flatten)]
    pub basics: NameProfileRegion,
    #[arg(long, value_name = "SESSION")]
    #[arg(add = complete::sessions())]
    pub parent: Option<String>,
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// ("" to clear)
    #[arg(long, value_name = "S")]
    pub role_session_name: Option<String>,
    /// ("" to clear)
    #[arg(long, value_name = "X")]
    pub external_id: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u32>,
    /// ("" to clear)
    #[arg(long, value_name = "S")]
    pub source_identity: Option<String>,
    /// Replaces the session tags (repeat for more).
    #[arg(long = "tag", value_name = "KEY=VALUE", conflicts_with = "no_tags")]
    pub tags: Vec<String>,
    /// Replaces the transitive tag keys (repeat for more).
    #[arg(
        long = "transitive-tag",
        value_name = "KEY",
        conflicts_with = "no_tags"
    )]
    pub transitive_tag_keys: Vec<String>,
    /// Removes every session tag and transitive key.
    #[arg(long)]
    pub no_tags: bool,
    #[command(flatten)]
    pub console: ConsoleFlags,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only sessions bound to this profile.
    #[arg(long, value_name = "P")]
    #[arg(add = complete::profiles())]
    pub profile: Option<String>,
    /// Only sessions whose name, profile, role ARN, account id or name, or SSO role name
    /// or integration contains TEXT (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Print JSON (an array of sessions) for scripts.
    #[arg(long)]
    pub json: bool,
    /// Also ask IAM how old each IAM user's access key is (a warning past 90 days).
    #[arg(long)]
    pub key_age: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The session's name or id. Without it, on a terminal, a picker lists the sessions
    /// (most recently used first) to type-filter and pick from.
    #[arg(add = complete::sessions())]
    pub session: Option<String>,
    /// The 6-digit MFA code, when the chain needs a new MFA session.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
    /// Run even inside another `rolehop exec` (its credentials are replaced).
    #[arg(long)]
    pub force: bool,
    /// Give the command a local credentials endpoint instead of static keys.
    #[arg(long)]
    pub server: bool,
    /// The endpoint's port on 127.0.0.1 with --server (default 0: a free port).
    #[arg(long, value_name = "PORT", default_value_t = 0, requires = "server")]
    pub port: u16,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The session's name or id.
    #[arg(add = complete::sessions())]
    pub session: String,
    /// The endpoint's port on 127.0.0.1 (default 0: a free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
    /// How to print the two variables.
    #[arg(long, value_enum, default_value_t = ServeFormat::Export)]
    pub format: ServeFormat,
    /// The 6-digit MFA code, when the chain needs a new MFA session.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeFormat {
    /// `export NAME=VALUE` lines for a shell.
    Export,
    /// `--env-file PATH` for `docker run --network host`: the token never goes on a
    /// command line, where every local user could read it.
    Docker,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The session's name or id (a role).
    #[arg(add = complete::sessions())]
    pub session: String,
    /// The console page to open, e.g. s3, ec2, cloudformation (default: the session's
    /// destination, else the home page).
    #[arg(long, value_name = "S")]
    pub service: Option<String>,
    /// A path on the console to open instead, e.g. /s3/buckets or /ec2/home#Instances.
    #[arg(long, value_name = "PATH", conflicts_with = "service")]
    pub path: Option<String>,
    /// The browser to open it in: default, chrome, chromium, brave, edge or firefox
    /// (default: the session's).
    #[arg(long, value_name = "B")]
    pub browser: Option<String>,
    /// The Chrome, Chromium, Brave or Edge profile to open it in (its
    /// --profile-directory).
    #[arg(long, value_name = "NAME", requires = "browser")]
    pub browser_profile: Option<String>,
    /// The Firefox container to open it in ("Open external links in a container").
    #[arg(long, value_name = "NAME", requires = "browser")]
    pub container: Option<String>,
    /// Do not sign out the session last signed in to that browser profile or
    /// container first.
    #[arg(long)]
    pub no_sign_out: bool,
    /// The console's region (default: the session's console region, else its region).
    #[arg(long, value_name = "R")]
    #[arg(add = complete::regions())]
    pub region: Option<String>,
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long)]
    pub print: bool,
    /// The 6-digit MFA code, when the chain needs a new MFA session.
    #[arg(long, value_name = "CODE")]
    pub mfa_code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Sessions from the profiles of the AWS config and credentials files.
    ///
    /// Role profiles (role_arn + source_profile) become chained roles; profiles with
    /// static keys in the credentials file become IAM users, but only with
    /// --import-keys, which copies the keys into the keychain (your file keeps them
    /// unless you also pass --remove-keys). Running it again changes nothing.
    #[command(name = "aws-config")]
    AwsConfig {
        /// Copy static access keys into the keychain and import those IAM users.
        #[arg(long)]
        import_keys: bool,
        /// After copying them, remove the imported keys from the credentials file.
        #[arg(long, requires = "import_keys")]
        remove_keys: bool,
        /// Only say what would be imported.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show the settings.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change a setting, e.g. `rolehop settings set delivery-mode credential-process`.
    Set { key: SettingKey, value: String },
    /// Clear a setting back to its default.
    Unset { key: SettingKey },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Make (or bring up to date) one role session per active member account of the
    /// organization, chained from --via.
    ///
    /// The accounts are listed with the credentials of --via (a session in the management
    /// account or a delegated administrator's). A second sync adds new accounts, follows
    /// renamed ones (keeping the names, profiles and regions you changed), removes the
    /// sessions of accounts that left or were closed (never an active one: it is kept
    /// and reported) and prints what it did.
    #[command(
        after_help = "Example: rolehop org sync --via management --role-name OrganizationAccountAccessRole --ou ou-ab12-cdef3456"
    )]
    Sync {
        /// The session (name or id) that lists the accounts; every role is chained from it.
        #[arg(long)]
        #[arg(add = complete::sessions())]
        via: String,
        /// The role to assume in each account.
        #[arg(long)]
        role_name: String,
        /// How sessions and their profiles are named: {account_name}, {account_id},
        /// {role_name}.
        #[arg(long, default_value = rolehop_core::sync::NameTemplate::DEFAULT)]
        profile_template: String,
        /// Only the accounts under this OU (or root) id, nested OUs included; repeat
        /// for several.
        #[arg(long = "ou", value_name = "OU")]
        ous: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Follow a catalog and sync it: SOURCE is a catalog file, an https URL of one
    /// (ending in `.toml`), or a git repository (any path or URL your git understands,
    /// with your own credentials) holding `catalog.toml` at its root.
    ///
    /// A catalog holding a secret, an endpoint or a command is refused, naming its line
    /// and field, and nothing changes.
    #[command(
        after_help = "Example: rolehop catalog add git@example.com:platform/catalog.git --name platform --require-signed --bind me=alice"
    )]
    Add {
        source: String,
        /// Your name for the catalog (`catalog sync NAME`); `team` when unset.
        #[arg(long)]
        name: Option<String>,
        /// The branch, tag or commit to follow (a git repository's HEAD when unset).
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
        /// Accept only commits whose signature `git verify-commit` accepts.
        #[arg(long)]
        require_signed: bool,
        /// Bind a placeholder of the catalog to one of your sessions: `me=alice`.
        #[arg(long = "bind", value_name = "PLACEHOLDER=SESSION")]
        bindings: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bind a placeholder of the catalog (`me` for `{me}`) to your session, and sync.
    Bind {
        name: String,
        placeholder: String,
        #[arg(add = complete::sessions())]
        session: String,
        #[arg(long)]
        json: bool,
    },
    /// Read the catalog afresh and bring its sessions in step (every catalog when no
    /// NAME is given). Your renames and profile choices are kept; an active session
    /// whose role left the catalog is kept and reported.
    Sync {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The catalogs you follow.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop following a catalog; its sessions go (active ones are kept and reported).
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print your hand-made sessions as a catalog a teammate can follow: each IAM user
    /// becomes a placeholder named after its session; no key leaves the keychain.
    Export {
        /// Write to FILE instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Write, for every hop of the catalog's chains, the role's trust policy admitting
    /// its parent and the parent's permission to assume it: one CloudFormation template
    /// (JSON) to deploy in each account it names, or Terraform with one provider per
    /// account. A placeholder's users are a parameter (a variable) of ARNs.
    TrustTemplate {
        name: String,
        #[arg(long, value_enum, default_value = "cloudformation")]
        format: CatalogTemplateFormatArg,
        /// Write to FILE instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Run `trust check` over every hop of the catalog your sessions make and print a
    /// drift table: hop, expected, found, verdict. Exits 0 when every hop is admitted,
    /// 10 when one is refused, 11 when one cannot be told.
    Check {
        name: String,
        /// Read the trust policies of the roles in this session's account as it
        /// (repeat for more accounts); other roles as `trust check` would.
        #[arg(long, add = complete::sessions())]
        via: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CatalogTemplateFormatArg {
    /// One CloudFormation template (JSON) for every account of the catalog.
    Cloudformation,
    /// Terraform HCL, one aliased aws provider per account.
    Terraform,
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Print, for each role hop of the session's chain, the statement the role's trust
    /// policy needs and the one the parent's identity policy needs.
    Show {
        /// The session's name or id (a role session).
        #[arg(add = complete::sessions())]
        session: String,
        /// Print JSON (an array, one entry per hop) instead of text.
        #[arg(long)]
        json: bool,
        /// Also require aws:MultiFactorAuthPresent when the chain has an MFA device.
        #[arg(long)]
        require_mfa: bool,
    },
    /// Print a ready-to-deploy definition of the session's role, with the trust policy
    /// its hop needs and a commented placeholder for its permissions.
    Template {
        /// The session's name or id (a role session).
        #[arg(add = complete::sessions())]
        session: String,
        #[arg(long, value_enum, default_value = "cloudformation")]
        format: TemplateFormatArg,
        /// Also require aws:MultiFactorAuthPresent when the chain has an MFA device.
        #[arg(long)]
        require_mfa: bool,
    },
    /// Check that the role's trust policy admits the session's hop.
    ///
    /// The policy is read with iam:GetRole as the hop's parent (same-account roles), as
    /// an active session in the role's account, or as --via SESSION; or from --policy.
    /// Exits 0 when the hop is admitted, 10 when it is not (naming what is missing), 11
    /// when the answer depends on what Rolehop cannot know (principal tags, the
    /// organization, the source IP...).
    Check {
        /// The session's name or id (a role session).
        #[arg(add = complete::sessions())]
        session: String,
        /// Read the trust policy from this JSON file instead of IAM.
        #[arg(long, value_name = "FILE")]
        policy: Option<std::path::PathBuf>,
        /// Read the policy with this session's credentials (it must act in the role's account).
        #[arg(long, value_name = "SESSION", conflicts_with = "policy")]
        #[arg(add = complete::sessions())]
        via: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TemplateFormatArg {
    /// CloudFormation YAML (`aws cloudformation deploy --template-file`).
    Cloudformation,
    /// Terraform HCL with an aws_iam_role resource.
    Terraform,
    /// The trust policy document alone.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SettingKey {
    /// credentials-file | credential-process
    DeliveryMode,
    /// Region for sessions that set none.
    DefaultRegion,
    /// Refresh active sessions this many seconds before they expire (60–3000).
    RotationMargin,
    /// on | off: whether IAM users' MFA sessions (12–36 h session tokens) are copied to
    /// the kernel keyring for credential-process, as roles' credentials are.
    MfaSessionsInKernelKeyring,
    /// What closing the desktop window does where no tray shows Rolehop's icon: ask,
    /// keep-running (in the background) or quit.
    CloseWithoutTray,
    /// on | off: whether the desktop app asks Rolehop's update server for a newer
    /// version (once a day, and when asked in the window). Off, it never does.
    CheckForUpdates,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exec_takes_the_command_after_the_separator() {
        let cli = Cli::try_parse_from(["rolehop", "exec", "prod", "--", "aws", "--version"])
            .expect("parses");
        let Command::Exec(args) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(args.session.as_deref(), Some("prod"));
        assert_eq!(args.command, ["aws", "--version"]);
    }

    #[test]
    fn there_is_no_flag_for_access_keys() {
        for flag in ["--access-key-id", "--secret-access-key", "--secret"] {
            let parsed = Cli::try_parse_from([
                "rolehop",
                "session",
                "add",
                "iam-user",
                "--name",
                "a",
                "--profile",
                "p",
                flag,
                "x",
            ]);
            assert!(parsed.is_err(), "{flag} was accepted");
        }
    }
}
