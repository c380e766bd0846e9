//! The federated login window: starting a federated session (or a role chained from
//! one) opens a second web view on the identity provider's URL, where the person signs
//! in with whatever the provider asks. When the provider's page posts its
//! `SAMLResponse` to AWS's sign-in endpoint, the window takes it before anything is
//! sent, closes, and the session starts with it ([`Engine::start`]).
//!
//! # How the response is taken (webkit2gtk)
//!
//! wry shows the app a navigation's URL, never a POST body. So an initialisation
//! script ([`CAPTURE_SCRIPT`], run in every frame of every page of this window before
//! the page's own scripts) catches a form bound for an AWS SAML endpoint (a `submit`
//! event, and `HTMLFormElement.prototype.submit`, which fires none) and navigates
//! instead to `rolehop-saml://capture?SAMLResponse=...`. webkit2gtk asks the
//! navigation policy (`on_navigation`) about every navigation, whatever its scheme,
//! before loading it: the handler takes the response from that URL and cancels it, so
//! the URL is never loaded. The handler also cancels every navigation to an AWS SAML
//! endpoint itself: a page that posts around the script sends nothing to AWS (the
//! window then just stays on the provider's page).
//!
//! # What the window may do
//!
//! No capability names its label (`capabilities/main.json` grants the main window
//! only), so its pages can call no command. Its web data (cookies, storage) live in
//! their own directory under the app's data directory ([`data_dir`]), so the
//! provider's "keep me signed in" lasts between sign-ins and is apart from the main
//! window's. The response goes from the handler to the start in memory only: never
//! to the main window, an event, a log line or a file.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rolehop_core::app_sign_in::{SignInWindow, WindowOutcome};
use rolehop_core::error::ErrorKind;
use rolehop_core::model::{SessionId, SessionView};
use rolehop_core::saml::endpoint::is_aws_saml_endpoint;
use rolehop_core::saml::{SamlSignIn, SignInResult};
use rolehop_core::{
    Engine, EngineError, ErrorPayload, FederatedSignIn, Problem as _, SessionRef, StartOptions,
};
use tauri::{AppHandle, Manager, Url, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::shell::Shell;

/// The scheme of the navigation the capture script makes; never loaded.
pub const CAPTURE_SCHEME: &str = "rolehop-saml";

/// The prefix of every login window's label (`saml-login-1`, `saml-login-2`...).
pub const LABEL_PREFIX: &str = "saml-login-";

/// Run in every frame of the login window before the page's scripts. The endpoint
/// pattern is [`is_aws_saml_endpoint`]'s, which the navigation handler applies again.
///
/// A form bound for AWS is taken however the page sends it: `form.submit()` (which
/// fires no event, so the prototype's method is replaced), `requestSubmit()` or a
/// button's click (the `submit` event, caught first, in the capture phase), a
/// submitter's `formaction`, a field joined to the form by `form="id"` (read through
/// `FormData`, the entry list the post would carry), a form from another frame's realm
/// (no `instanceof`). `fetch`, `XMLHttpRequest` and `sendBeacon` to AWS, which are not
/// navigations and so never reach the navigation handler, are refused; the refusal
/// makes a navigation the handler cancels and logs.
pub const CAPTURE_SCRIPT: &str = r#"(() => {
  const aws = /^https:\/\/([a-z0-9-]+\.)?signin\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)\/saml(\/[^?#]*)?([?#].*)?$/i;
  const toAws = (url, base) => {
    try {
      return aws.test(new URL(String(url), base).href);
    } catch (_) {
      return false;
    }
  };
  const go = (what) => window.location.replace("rolehop-saml://" + what);
  const Data = FormData;
  const take = (form, submitter) => {
    if (!form || form.nodeName !== "FORM") return false;
    const action = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action") || "";
    if (!toAws(action, form.ownerDocument.baseURI)) return false;
    const response = new Data(form).get("SAMLResponse");
    go("capture?SAMLResponse=" + encodeURIComponent(typeof response === "string" ? response : ""));
    return true;
  };
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () {
    if (!take(this, null)) submit.call(this);
  };
  window.addEventListener("submit", (event) => {
    if (take(event.target, event.submitter)) event.preventDefault();
  }, true);
  const refused = () => {
    go("refused");
    return new TypeError("Rolehop's login window sends nothing to AWS's sign-in endpoint");
  };
  const urlOf = (input) => (input && typeof input === "object" && "url" in input ? input.url : input);
  const fetch = window.fetch;
  window.fetch = function (input) {
    if (toAws(urlOf(input), document.baseURI)) return Promise.reject(refused());
    return fetch.apply(this, arguments);
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    if (toAws(url, document.baseURI)) throw refused();
    return open.apply(this, arguments);
  };
  const beacon = navigator.sendBeacon;
  if (beacon) {
    navigator.sendBeacon = function (url) {
      if (toAws(url, document.baseURI)) return (refused(), false);
      return beacon.apply(this, arguments);
    };
  }
})();"#;

/// What ended a login window.
enum Outcome {
    /// The response, and when the page posted it.
    Posted(Zeroizing<String>, Instant),
    Closed,
}

type Waiter = Arc<Mutex<Option<oneshot::Sender<Outcome>>>>;

fn send(waiter: &Waiter, outcome: Outcome) {
    if let Some(tx) = waiter.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = tx.send(outcome);
    }
}

/// The login windows' numbering.
#[derive(Default)]
pub struct SamlLogins {
    next: AtomicU64,
}

/// Where the login windows keep their web data: `saml-login` in the app's local data
/// directory (the main window's web data is elsewhere, in WebKit's default place).
pub fn data_dir(app: &AppHandle) -> tauri::Result<PathBuf> {
    Ok(app.path().app_local_data_dir()?.join("saml-login"))
}

fn cancelled(sign_in: &FederatedSignIn) -> ErrorPayload {
    let outcome = match sign_in.active_until {
        // A renewal: the session was never touched.
        Some(until) => format!(
            "'{}' stays active on its credentials until {}",
            sign_in.session_name,
            until.format("%H:%M:%S UTC")
        ),
        None => format!("'{}' was not started", sign_in.session_name),
    };
    ErrorPayload {
        kind: ErrorKind::LoginFailed,
        message: format!(
            "the sign-in was cancelled: the login window was closed before the identity \
             provider of '{}' signed in to AWS; {outcome}",
            sign_in.federated_name
        ),
        field: None,
    }
}

fn window_failed(e: tauri::Error) -> ErrorPayload {
    ErrorPayload {
        kind: ErrorKind::LoginFailed,
        message: format!("the login window could not be opened: {e}"),
        field: None,
    }
}

/// What the login window does with a navigation to `url`: `Some(response)` for the
/// capture script's, `None` for the others; `allow` is whether the page may go there.
fn judge(url: &Url) -> (bool, Option<Zeroizing<String>>) {
    if url.scheme() == CAPTURE_SCHEME {
        let response = url
            .query_pairs()
            .find(|(k, _)| k == "SAMLResponse")
            .map(|(_, v)| Zeroizing::new(v.into_owned()));
        return (false, response);
    }
    (!is_aws_saml_endpoint(url.as_str()), None)
}

/// A click's toggle (the window's row, the tray): a start that needs a sign-in at a
/// SAML provider goes through a login window, everything else is the engine's toggle.
pub async fn toggle(
    app: &AppHandle,
    engine: &Arc<Engine>,
    session: SessionRef,
) -> Result<SessionView, ErrorPayload> {
    let payload = |e: rolehop_core::EngineError| e.payload();
    match engine
        .federated_sign_in(session.clone())
        .await
        .map_err(payload)?
    {
        Some(sign_in) => {
            let logins = app.state::<SamlLogins>();
            logins.sign_in_and_start(app, engine, sign_in).await
        }
        None => engine.toggle(session).await.map_err(payload),
    }
}

/// "Sign in again" for an active federated session (or a role chained from one), from
/// the window's button: the visible login window on its provider, and with the
/// response a start that renews it ([`Engine::federated_renewal`]). Until the provider
/// posts, nothing about the session changes; closing the window leaves it active on
/// its credentials and says so.
pub async fn renew(
    app: &AppHandle,
    engine: &Arc<Engine>,
    session: SessionRef,
) -> Result<SessionView, ErrorPayload> {
    let Some(sign_in) = engine
        .federated_renewal(session.clone())
        .await
        .map_err(|e| e.payload())?
    else {
        return Err(ErrorPayload {
            kind: ErrorKind::Invalid,
            message: format!(
                "session {session} is not an active federated session (or a role chained \
                 from one): there is no sign-in to renew it with"
            ),
            field: Some("session".into()),
        });
    };
    let logins = app.state::<SamlLogins>();
    logins.sign_in_and_start(app, engine, sign_in).await
}

/// "Sign in again" from the notification of a session waiting for a sign-in since its
/// credentials expiring at `expires_at`: as [`renew`], unless the session is no
/// longer active on those credentials (renewed, stopped or ended meanwhile: the click
/// is then stale and opens nothing). The outcome is logged, never the response.
pub async fn renew_from_notice(
    app: &AppHandle,
    engine: &Arc<Engine>,
    session: SessionId,
    expires_at: DateTime<Utc>,
) {
    let renewal = match engine.federated_renewal(session).await {
        Ok(Some(sign_in)) if sign_in.active_until == Some(expires_at) => sign_in,
        Ok(_) => {
            tracing::info!("a sign-in notice was clicked after its session changed: nothing to do");
            return;
        }
        Err(e) => {
            tracing::warn!("a sign-in notice was clicked: {e}");
            return;
        }
    };
    let name = renewal.session_name.clone();
    let logins = app.state::<SamlLogins>();
    match logins.sign_in_and_start(app, engine, renewal).await {
        Ok(_) => tracing::info!(session = %name, "renewed from the sign-in notice"),
        Err(e) => tracing::warn!(session = %name, "the sign-in notice's renewal: {}", e.message),
    }
}

/// Why a login window gave no response.
enum NoResponse {
    /// Closed by the person before the provider posted.
    Closed,
    Failed(ErrorPayload),
}

/// An open login window; dropped (the sign-in done, or abandoned by its asker), it
/// closes.
struct OpenWindow(tauri::WebviewWindow);

impl Drop for OpenWindow {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

impl SamlLogins {
    /// Opens a login window on `sign_in`'s provider, waits for the provider's post to
    /// AWS (or the window's close), then starts the session with the response.
    pub async fn sign_in_and_start(
        &self,
        app: &AppHandle,
        engine: &Arc<Engine>,
        sign_in: FederatedSignIn,
    ) -> Result<SessionView, ErrorPayload> {
        match self
            .response(app, &sign_in.federated_name, &sign_in.idp_url)
            .await
        {
            Err(NoResponse::Closed) => Err(cancelled(&sign_in)),
            Err(NoResponse::Failed(payload)) => Err(payload),
            Ok((response, posted_at)) => start(engine, &sign_in, response, posted_at)
                .await
                .map_err(|e| e.payload()),
        }
    }

    /// The response the provider `name` posts to AWS after a sign-in in a new login
    /// window on `idp_url`, for a federated integration's role picker: in memory only
    /// (the caller hands the main window an opaque handle, never this). Closing the
    /// window before the post fails as cancelled.
    pub async fn sign_in_for_offers(
        &self,
        app: &AppHandle,
        name: &str,
        idp_url: &str,
    ) -> Result<Zeroizing<String>, ErrorPayload> {
        match self.response(app, name, idp_url).await {
            Ok((response, _)) => Ok(response),
            Err(NoResponse::Failed(payload)) => Err(payload),
            Err(NoResponse::Closed) => Err(ErrorPayload {
                kind: ErrorKind::LoginFailed,
                message: format!(
                    "the sign-in was cancelled: the login window was closed before the \
                     identity provider of '{name}' signed in to AWS; no role was offered"
                ),
                field: None,
            }),
        }
    }

    /// The response the provider `name`'s page posts to AWS in a new login window on
    /// `idp_url`, and when it posted; the window is closed either way.
    async fn response(
        &self,
        app: &AppHandle,
        name: &str,
        idp_url: &str,
    ) -> Result<(Zeroizing<String>, Instant), NoResponse> {
        let url: Url = idp_url.parse().map_err(|e| {
            NoResponse::Failed(ErrorPayload {
                kind: ErrorKind::Invalid,
                message: format!("the identity provider URL of '{name}': {e}"),
                field: Some("idp_url".into()),
            })
        })?;
        let title = format!("Rolehop sign-in: {name}");
        let (_open, rx) = self.open(app, url, &title, true)?;
        tracing::info!(provider = %name, "login window opened");
        match rx.await.unwrap_or(Outcome::Closed) {
            Outcome::Closed => Err(NoResponse::Closed),
            Outcome::Posted(response, at) => Ok((response, at)),
        }
    }

    /// Opens a login window on `url` (shown or hidden) that takes the provider's post;
    /// the receiver gets the response or the window's close. Dropping the
    /// [`OpenWindow`] closes it.
    fn open(
        &self,
        app: &AppHandle,
        url: Url,
        title: &str,
        visible: bool,
    ) -> Result<(OpenWindow, oneshot::Receiver<Outcome>), NoResponse> {
        let label = format!(
            "{LABEL_PREFIX}{}",
            self.next.fetch_add(1, Ordering::Relaxed) + 1
        );
        let (tx, rx) = oneshot::channel();
        let waiter: Waiter = Arc::new(Mutex::new(Some(tx)));
        let on_nav = waiter.clone();
        let failed = |e| NoResponse::Failed(window_failed(e));
        let window = WebviewWindowBuilder::new(app, &label, WebviewUrl::External(url))
            .title(title)
            .inner_size(520.0, 680.0)
            .visible(visible)
            .focused(visible)
            .skip_taskbar(!visible)
            .data_directory(data_dir(app).map_err(failed)?)
            .initialization_script_for_all_frames(CAPTURE_SCRIPT)
            .on_navigation(move |url| {
                let (allow, response) = judge(url);
                if let Some(response) = response {
                    send(&on_nav, Outcome::Posted(response, Instant::now()));
                } else if !allow {
                    tracing::warn!(
                        "the login window stopped a page going to AWS's sign-in endpoint \
                         without the capture script"
                    );
                }
                allow
            })
            .build()
            .map_err(failed)?;
        let on_close = waiter.clone();
        window.on_window_event(move |event| {
            if let WindowEvent::Destroyed = event {
                send(&on_close, Outcome::Closed);
            }
        });
        Ok((OpenWindow(window), rx))
    }

    /// The response the provider posts in a hidden login window on `idp_url`, when its
    /// own session is still valid (its page posts by itself); `Err` when nothing is
    /// posted within `wait` (the provider shows its form: its session ended). The
    /// window is closed either way.
    async fn silent_response(
        &self,
        app: &AppHandle,
        idp_url: &str,
        wait: Duration,
    ) -> SignInResult {
        let url: Url = idp_url
            .parse()
            .map_err(|e| format!("the identity provider URL: {e}"))?;
        let (open, rx) = self
            .open(app, url, "Rolehop sign-in (renewing)", false)
            .map_err(|e| match e {
                NoResponse::Closed => "the hidden login window closed".to_owned(),
                NoResponse::Failed(payload) => payload.message,
            })?;
        let outcome = tokio::time::timeout(wait, rx).await;
        drop(open);
        match outcome {
            Ok(Ok(Outcome::Posted(response, _))) => Ok(response),
            Ok(Ok(Outcome::Closed) | Err(_)) => Err("the hidden login window closed".into()),
            Err(_) => Err(format!(
                "the identity provider did not sign in again within {} s without the \
                 person (its own session has ended)",
                wait.as_secs()
            )),
        }
    }
}

/// How long a hidden sign-in waits for the provider's post before giving up.
pub const SILENT_WAIT: Duration = Duration::from_secs(30);

/// [`SILENT_WAIT`], or `ROLEHOP_SAML_SILENT_WAIT_SECS` (whole seconds, at least 1)
/// when set: the desktop tests shorten it.
pub fn silent_wait_from_env() -> Duration {
    std::env::var("ROLEHOP_SAML_SILENT_WAIT_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s >= 1)
        .map_or(SILENT_WAIT, Duration::from_secs)
}

/// Rotation's sign-in hook ([`SamlSignIn`]): a hidden login window on the session's
/// provider. While the provider's own session is valid (the window's cookie store
/// keeps it), its page posts a new response without a form and rotation renews the
/// session with it; when the provider shows its form instead, the window closes after
/// [`silent_wait_from_env`] and rotation's failure path applies (the session stays
/// active until expiry, one notification).
pub struct HiddenSignIn {
    pub app: AppHandle,
    pub wait: Duration,
}

impl SamlSignIn for HiddenSignIn {
    fn sign_in<'a>(
        &'a self,
        idp_url: &'a str,
    ) -> Pin<Box<dyn Future<Output = SignInResult> + Send + 'a>> {
        Box::pin(async move {
            let Some(logins) = self.app.try_state::<SamlLogins>() else {
                return Err("the Rolehop desktop app is still starting".into());
            };
            let got = logins.silent_response(&self.app, idp_url, self.wait).await;
            tracing::info!(ok = got.is_ok(), "hidden sign-in for a rotation");
            got
        })
    }
}

/// The start with the provider's response, logging the time from its post.
async fn start(
    engine: &Engine,
    sign_in: &FederatedSignIn,
    response: Zeroizing<String>,
    posted_at: Instant,
) -> Result<SessionView, EngineError> {
    let options = StartOptions {
        saml_assertion: Some(response),
        ..StartOptions::default()
    };
    let started = engine.start(sign_in.session, options).await;
    // From the provider's post to credentials delivered (or the failure).
    let from_post_ms = posted_at.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        session = %sign_in.session_name,
        from_post_ms,
        ok = started.is_ok(),
        "federated start from the login window"
    );
    started
}

/// The login window as the command line's sign-ins reach it over the local channel
/// ([`rolehop_core::app_sign_in`]).
pub struct ChannelSignIn(pub AppHandle);

impl SignInWindow for ChannelSignIn {
    fn sign_in_and_start(
        &self,
        sign_in: FederatedSignIn,
    ) -> Pin<Box<dyn Future<Output = WindowOutcome> + Send>> {
        let app = self.0.clone();
        Box::pin(async move {
            let (Some(shell), Some(logins)) =
                (app.try_state::<Shell>(), app.try_state::<SamlLogins>())
            else {
                return WindowOutcome::Failed("the Rolehop desktop app is still starting".into());
            };
            let engine = shell.engine.clone();
            match logins
                .response(&app, &sign_in.federated_name, &sign_in.idp_url)
                .await
            {
                Err(NoResponse::Closed) => WindowOutcome::Cancelled(cancelled(&sign_in).message),
                Err(NoResponse::Failed(payload)) => WindowOutcome::Failed(payload.message),
                Ok((response, posted_at)) => {
                    match start(&engine, &sign_in, response, posted_at).await {
                        // A start that ran: the workspace holds its outcome.
                        Ok(_) => WindowOutcome::Started,
                        Err(e) if e.kind() == ErrorKind::SessionFailed => WindowOutcome::Started,
                        Err(e) => WindowOutcome::Failed(e.to_string()),
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part2_the_capture_navigation_yields_the_response_and_is_never_loaded() {
        let url: Url = "rolehop-saml://capture?SAMLResponse=PHNhbWw%2BKz0%3D"
            .parse()
            .unwrap();
        let (allow, response) = judge(&url);
        assert!(!allow);
        assert_eq!(
            response.as_deref().map(String::as_str),
            Some("PHNhbWw+Kz0=")
        );
    }

    #[test]
    fn part2_navigations_to_aws_saml_endpoints_are_cancelled_and_others_allowed() {
        for (url, allowed) in [
            ("https://signin.aws.amazon.com/saml", false),
            ("https://us-east-1.signin.aws.amazon.com/saml", false),
            ("https://signin.amazonaws-us-gov.com/saml", false),
            ("https://signin.amazonaws.cn/saml", false),
            ("http://127.0.0.1:4000/sso/aws", true),
            ("https://login.microsoftonline.com/x/saml2", true),
        ] {
            let (allow, response) = judge(&url.parse().unwrap());
            assert_eq!(allow, allowed, "{url}");
            assert!(response.is_none());
        }
    }
}
