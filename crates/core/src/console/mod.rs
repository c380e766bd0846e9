//! Console sign-in: a session's temporary credentials turned into an AWS Management
//! Console URL through the federation endpoint (AWS's "custom identity broker" flow).
//!
//! 1. `GET <federation>?Action=getSigninToken&Session=<JSON {sessionId, sessionKey,
//!    sessionToken}>` answers `{"SigninToken": "..."}`;
//! 2. `<federation>?Action=login&Issuer=rolehop&Destination=<console URL>&SigninToken=...`
//!    signs the browser in.
//!
//! A role session signs in with its own credentials. An IAM user session cannot (AWS
//! takes no `GetSessionToken` credentials here): it first calls `GetFederationToken`
//! with the user's long-lived keys, for a federated user `rolehop-<name>` whose rights
//! are the user's own (the session policy allows everything; AWS intersects it with the
//! user's). That call takes no MFA, so policies that demand MFA deny that console.
//!
//! No `SessionDuration` is sent: AWS refuses it for chained role credentials, which any
//! Rolehop role may be, and the console session then lasts as long as the credentials.
//! The endpoint and the console host follow the session's partition (aws, aws-cn,
//! aws-us-gov); `ROLEHOP_FEDERATION_URL` overrides the endpoint.
//!
//! Opening it in the session's browser, profile or container, after signing out the
//! session last signed in there, is [`open`]; the browsers' command lines, [`browser`].

pub mod browser;
mod open;

pub use open::{ConsoleOpening, SIGN_OUT_PAUSE};
pub use rolehop_model::console::{BROWSER_NAMES, ConsoleBrowser, ConsoleSettings};

use http_body_util::BodyExt;
use serde_json::json;
use zeroize::Zeroizing;

use crate::Engine;
use crate::chain::access_keys_account;
use crate::credentials::Credentials;
use crate::error::EngineError;
use crate::model::{SessionKind, SessionView};
use crate::reference::SessionRef;
use crate::sts::StsError;
use crate::validate::{self, ValidationError};
use crate::web::error_chain;

/// The variable that points console sign-in at another federation endpoint.
pub const FEDERATION_URL_VAR: &str = "ROLEHOP_FEDERATION_URL";

/// Why no console URL could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("GetFederationToken for IAM user session '{session}' failed: {cause}")]
    Federation { session: String, cause: StsError },
    #[error("the federation endpoint {endpoint} could not be reached: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "the federation endpoint {endpoint} refused the sign-in token request ({status}): {body}"
    )]
    Refused {
        endpoint: String,
        status: u16,
        body: String,
    },
    #[error("the federation endpoint {endpoint} answered without a SigninToken")]
    NoToken { endpoint: String },
    #[error("cannot open the console in {browser}: {reason}")]
    Browser { browser: String, reason: String },
}

impl crate::error::Problem for ConsoleError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            Self::Engine(e) => e.kind(),
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::Federation { .. }
            | Self::Unreachable { .. }
            | Self::Refused { .. }
            | Self::NoToken { .. } => ErrorKind::Aws,
            Self::Browser { .. } => ErrorKind::Browser,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Engine(e) => e.field(),
            Self::Invalid(v) => Some(&v.field),
            _ => None,
        }
    }

    fn failure(&self) -> Option<&crate::model::Failure> {
        match self {
            Self::Engine(e) => e.failure(),
            _ => None,
        }
    }

    fn missing(&self) -> Option<crate::error::Missing> {
        match self {
            Self::Engine(e) => e.missing(),
            _ => None,
        }
    }
}

/// An AWS partition: where its sign-in endpoint and console live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    /// The partition of an ARN (`arn:PARTITION:...`), if it names one.
    pub fn of_arn(arn: &str) -> Option<Self> {
        match arn.split(':').nth(1)? {
            "aws" => Some(Self::Aws),
            "aws-cn" => Some(Self::AwsCn),
            "aws-us-gov" => Some(Self::AwsUsGov),
            _ => None,
        }
    }

    /// The partition a region belongs to (`cn-north-1`, `us-gov-west-1`, ...).
    pub fn of_region(region: &str) -> Self {
        if region.starts_with("cn-") {
            Self::AwsCn
        } else if region.starts_with("us-gov-") {
            Self::AwsUsGov
        } else {
            Self::Aws
        }
    }

    /// The federation endpoint.
    pub fn federation_url(self) -> &'static str {
        match self {
            Self::Aws => "https://signin.aws.amazon.com/federation",
            Self::AwsCn => "https://signin.amazonaws.cn/federation",
            Self::AwsUsGov => "https://signin.amazonaws-us-gov.com/federation",
        }
    }

    pub fn console_host(self) -> &'static str {
        match self {
            Self::Aws => "console.aws.amazon.com",
            Self::AwsCn => "console.amazonaws.cn",
            Self::AwsUsGov => "console.amazonaws-us-gov.com",
        }
    }
}

/// What to open, for this call: each field set overrides the session's
/// [`ConsoleSettings`](rolehop_model::console::ConsoleSettings).
#[derive(Debug, Clone, Default)]
pub struct ConsoleTarget {
    /// A console service (`s3`), checked as the field `service`.
    pub service: Option<String>,
    /// A path on the console (`/s3/buckets`), checked as the field `path`.
    pub path: Option<String>,
    pub region: Option<String>,
    /// Another browser, profile or container than the session's.
    pub browser: Option<ConsoleBrowser>,
    /// Sign the browser in without signing out the session it last signed in there.
    pub keep_previous: bool,
}

/// The page the browser lands on after sign-in: a service's home page, a path on the
/// console, or the console's home page; with `?region=` (before any `#fragment`).
pub fn destination(
    partition: Partition,
    destination: Option<&str>,
    region: Option<&str>,
) -> String {
    let host = partition.console_host();
    let (path, fragment) = match destination {
        Some(path) if path.starts_with('/') => match path.split_once('#') {
            Some((path, fragment)) => (path.to_owned(), Some(fragment)),
            None => (path.to_owned(), None),
        },
        Some(service) => (format!("/{service}/home"), None),
        None => ("/console/home".to_owned(), None),
    };
    let mut url = format!("https://{host}{path}");
    if let Some(region) = region {
        url.push(if path.contains('?') { '&' } else { '?' });
        url.push_str("region=");
        url.push_str(region);
    }
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

impl Engine {
    /// The console sign-in URL for session `selector` (the terminal or the app's MFA
    /// prompt asks for a code if the chain needs one and `mfa_code` is `None`).
    pub async fn console_url(
        &self,
        session: impl Into<SessionRef>,
        target: &ConsoleTarget,
        mfa_code: Option<Zeroizing<String>>,
    ) -> Result<Zeroizing<String>, ConsoleError> {
        let selector = session.into();
        let (view, plan) = self.console_plan(&selector, target).await?;
        self.console_sign_in(&selector, &view, &plan, mfa_code)
            .await
    }

    /// The session and its sign-in plan, checked (a bad `--service`, `--path` or
    /// `--region` is refused here, before any prompt or browser).
    pub(crate) async fn console_plan(
        &self,
        selector: &SessionRef,
        target: &ConsoleTarget,
    ) -> Result<(SessionView, SignIn), ConsoleError> {
        let ws = self.workspace().await?;
        let view = ws.view(ws.find(selector).map_err(EngineError::from)?);
        let plan = SignIn::plan(&view, target)?;
        Ok((view, plan))
    }

    /// The sign-in URL of a planned sign-in.
    pub(crate) async fn console_sign_in(
        &self,
        selector: &SessionRef,
        view: &SessionView,
        plan: &SignIn,
        mfa_code: Option<Zeroizing<String>>,
    ) -> Result<Zeroizing<String>, ConsoleError> {
        let creds = match &view.session.kind {
            // A console sign-in session's credentials are its own: the federation
            // endpoint signs them in as they are.
            SessionKind::Role(_)
            | SessionKind::SsoRole(_)
            | SessionKind::Saml(_)
            | SessionKind::LoginSession(_) => self.credentials(selector, mfa_code, true).await?.1,
            SessionKind::IamUser(user) => {
                federated(self, view, user.session_duration.clamp(900, 129_600)).await?
            }
        };
        plan.url(&creds).await
    }
}

/// Allows everything: the federated user's rights are then exactly the IAM user's.
const FEDERATION_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// `GetFederationToken` with the IAM user's keys from the keychain.
async fn federated(
    engine: &Engine,
    view: &SessionView,
    duration_seconds: u32,
) -> Result<Credentials, ConsoleError> {
    let name = &view.session.name;
    let stored = engine
        .keychain()
        .get_async(&access_keys_account(view.session.id))
        .await
        .map_err(EngineError::from)?;
    let keys: Credentials = stored
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| ConsoleError::Federation {
            session: name.clone(),
            cause: StsError {
                code: "MissingKeys".into(),
                message: "the keychain holds no access keys for it; add them with `rolehop session edit iam-user --new-keys`".into(),
            },
        })?;
    // The engine's own STS client: one policy, and a test's seam, for every STS call.
    engine
        .resolver()
        .sts()
        .get_federation_token(
            &keys,
            view.effective_region.as_deref(),
            &federated_user_name(name),
            FEDERATION_POLICY,
            duration_seconds,
        )
        .await
        .map_err(|cause| ConsoleError::Federation {
            session: name.clone(),
            cause,
        })
}

/// `rolehop-<session name>` in the characters and 32-character length AWS allows.
fn federated_user_name(session: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c);
    format!("rolehop-{session}")
        .chars()
        .map(|c| if allowed(c) { c } else { '-' })
        .take(32)
        .collect()
}

/// The partition, federation endpoint and destination for `view` and `target`, with
/// `target` checked: a service is a console path segment (`s3`, `cloudformation`), a
/// region is a region.
pub struct SignIn {
    pub partition: Partition,
    pub endpoint: String,
    pub destination: String,
}

impl SignIn {
    pub fn plan(view: &SessionView, target: &ConsoleTarget) -> Result<Self, ConsoleError> {
        if let Some(service) = &target.service {
            if service.starts_with('/') {
                return Err(ValidationError::new(
                    "service",
                    format!("'{service}' is a path: give it with --path"),
                )
                .into());
            }
            validate::console_destination("service", service)?;
        }
        if let Some(path) = &target.path {
            if !path.starts_with('/') {
                return Err(ValidationError::new(
                    "path",
                    format!(
                        "'{path}' is not a path on the console: it starts with / (like /s3/buckets)"
                    ),
                )
                .into());
            }
            validate::console_destination("path", path)?;
        }
        if let Some(region) = &target.region {
            validate::region("region", region)?;
        }
        if let Some(browser) = &target.browser {
            validate::console_browser(["browser_profile", "container"], browser)?;
        }
        let settings = &view.session.console;
        let region = target
            .region
            .clone()
            .or_else(|| settings.region.clone())
            .or_else(|| view.effective_region.clone());
        let page = target
            .service
            .as_deref()
            .or(target.path.as_deref())
            .or(settings.destination.as_deref());
        let arn = match &view.session.kind {
            SessionKind::Role(role) => Some(role.role_arn.as_str()),
            SessionKind::Saml(role) => Some(role.role_arn.as_str()),
            SessionKind::IamUser(user) => user.mfa_serial.as_deref(),
            SessionKind::SsoRole(_) => None,
            SessionKind::LoginSession(l) => Some(l.login_session.as_str()),
        };
        let partition = arn
            .and_then(Partition::of_arn)
            .or_else(|| region.as_deref().map(Partition::of_region))
            .unwrap_or(Partition::Aws);
        // The federation endpoint receives the session's secret key: it follows the
        // rule of every AWS endpoint (https, or http to a loopback address only).
        let endpoint = match std::env::var(FEDERATION_URL_VAR)
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(url) => rolehop_aws::check_endpoint(FEDERATION_URL_VAR, &url)
                .map_err(|e| ValidationError::new(FEDERATION_URL_VAR, e.message))?,
            None => partition.federation_url().to_owned(),
        };
        Ok(Self {
            partition,
            endpoint,
            destination: destination(partition, page, region.as_deref()),
        })
    }

    /// AWS's sign-out page on the endpoint's host (`https://signin.aws.amazon.com/oauth?Action=logout`):
    /// it ends the console session of the browser profile or container that opens it.
    pub fn logout_url(&self) -> String {
        let origin = match self.endpoint.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("{scheme}://{host}")
            }
            None => self.endpoint.clone(),
        };
        format!("{origin}/oauth?Action=logout")
    }

    /// Asks the federation endpoint for a sign-in token and returns the login URL.
    pub async fn url(&self, creds: &Credentials) -> Result<Zeroizing<String>, ConsoleError> {
        let token = self.signin_token(creds).await?;
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", "login")
            .append_pair("Issuer", "rolehop")
            .append_pair("Destination", &self.destination)
            .append_pair("SigninToken", &token)
            .finish();
        Ok(Zeroizing::new(format!("{}?{query}", self.endpoint)))
    }

    async fn signin_token(&self, creds: &Credentials) -> Result<Zeroizing<String>, ConsoleError> {
        let session = Zeroizing::new(
            json!({
                "sessionId": creds.access_key_id,
                "sessionKey": creds.secret_access_key.as_str(),
                "sessionToken": creds.session_token.as_ref().map(|t| t.as_str()).unwrap_or_default(),
            })
            .to_string(),
        );
        let query = Zeroizing::new(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("Action", "getSigninToken")
                .append_pair("Session", &session)
                .finish(),
        );
        let unreachable = |reason: String| ConsoleError::Unreachable {
            endpoint: self.endpoint.clone(),
            reason,
        };
        let uri: hyper::Uri = format!("{}?{}", self.endpoint, query.as_str())
            .parse()
            .map_err(|_| {
                unreachable(format!("{FEDERATION_URL_VAR} or the endpoint is not a URL"))
            })?;
        let client = crate::web::client().map_err(unreachable)?;
        let response = client
            .get(uri)
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(ConsoleError::Refused {
                endpoint: self.endpoint.clone(),
                status: status.as_u16(),
                body: text.chars().take(300).collect::<String>().trim().to_owned(),
            });
        }
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        answer["SigninToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(|t| Zeroizing::new(t.to_owned()))
            .ok_or_else(|| ConsoleError::NoToken {
                endpoint: self.endpoint.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_arn_then_the_region() {
        assert_eq!(
            Partition::of_arn("arn:aws-cn:iam::1:role/R"),
            Some(Partition::AwsCn)
        );
        assert_eq!(
            Partition::of_arn("arn:aws-us-gov:iam::1:role/R"),
            Some(Partition::AwsUsGov)
        );
        assert_eq!(Partition::of_region("cn-north-1"), Partition::AwsCn);
        assert_eq!(Partition::of_region("us-gov-west-1"), Partition::AwsUsGov);
        assert_eq!(Partition::of_region("eu-west-1"), Partition::Aws);
    }

    #[test]
    fn destinations_name_the_service_and_region_on_the_partitions_console() {
        assert_eq!(
            destination(Partition::AwsCn, Some("s3"), Some("cn-north-1")),
            "https://console.amazonaws.cn/s3/home?region=cn-north-1"
        );
        assert_eq!(
            destination(Partition::Aws, None, None),
            "https://console.aws.amazon.com/console/home"
        );
    }

    #[test]
    fn federated_user_names_fit_aws_rules() {
        assert_eq!(federated_user_name("alice"), "rolehop-alice");
        let long = federated_user_name("a very long session name with spaces");
        assert_eq!(long.len(), 32);
        assert!(!long.contains(' '), "{long}");
    }

    #[test]
    fn a_service_that_is_not_a_path_segment_is_refused_by_name() {
        let e = validate::console_destination("service", "s3/../x").unwrap_err();
        assert!(e.to_string().contains("service"), "{e}");
    }

    #[test]
    fn part5_a_destination_path_keeps_its_query_and_fragment_around_the_region() {
        assert_eq!(
            destination(
                Partition::Aws,
                Some("/ec2/home#Instances:"),
                Some("eu-west-1")
            ),
            "https://console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:"
        );
        assert_eq!(
            destination(
                Partition::Aws,
                Some("/s3/buckets?tab=objects"),
                Some("eu-west-1")
            ),
            "https://console.aws.amazon.com/s3/buckets?tab=objects&region=eu-west-1"
        );
    }
}
