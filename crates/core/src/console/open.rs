//! Opening the console in the session's browser, profile or container.
//!
//! The console keeps one signed-in session per browser profile (or Firefox container):
//! a sign-in as another session while one is signed in is refused by AWS's page. So
//! Rolehop remembers which session it last signed in per profile or container
//! ([`crate::workspace::Workspace::console_sign_ins`]) and, when that is another
//! session, first opens AWS's sign-out page there, waits for the launcher to hand it
//! over and [`SIGN_OUT_PAUSE`] more (as Leapp does), then signs in.
//!
//! The sign-in URL itself never reaches a command line: the browser is handed a
//! one-time loopback address that redirects to it ([`crate::redirect`]).

use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::browser::{DefaultOpener, launch};
use super::{ConsoleBrowser, ConsoleError, ConsoleTarget};
use crate::Engine;
use crate::model::SessionId;
use crate::redirect::{OneTimeRedirect, REDIRECT_TTL};
use crate::reference::SessionRef;

/// How long the browser is given to load the sign-out page before the sign-in.
pub const SIGN_OUT_PAUSE: Duration = Duration::from_secs(2);

/// How long a browser's launcher may take to hand the sign-out page over (a launcher
/// that cold-starts the browser never returns: then this is waited in full).
const LAUNCHER_SETTLE: Duration = Duration::from_secs(10);

/// A console sign-in handed to the browser.
pub struct ConsoleOpening {
    /// Where it opened.
    pub browser: ConsoleBrowser,
    /// The session signed out there first, by name.
    pub signed_out: Option<String>,
    redirect: OneTimeRedirect,
}

impl ConsoleOpening {
    /// Waits until the browser has opened the sign-in address (`true`), or its time to
    /// live ran out (`false`).
    pub async fn redirected(&mut self) -> bool {
        self.redirect.redirected().await
    }
}

impl Engine {
    /// Signs the session's browser, profile or container (or `target`'s) in to the
    /// console as session `session`, signing out first the session last signed in
    /// there if it is another. `open_default` is the shell's opener of the default
    /// browser.
    pub async fn open_console(
        &self,
        session: impl Into<SessionRef>,
        target: &ConsoleTarget,
        mfa_code: Option<Zeroizing<String>>,
        open_default: Arc<DefaultOpener>,
    ) -> Result<ConsoleOpening, ConsoleError> {
        let selector = session.into();
        let (view, plan) = self.console_plan(&selector, target).await?;
        let browser = target
            .browser
            .clone()
            .unwrap_or_else(|| view.session.console.browser.clone());
        // Credentials first: an MFA prompt or a refusal comes before any browser opens.
        let url = self
            .console_sign_in(&selector, &view, &plan, mfa_code)
            .await?;
        let place = browser.to_string();
        let id = view.session.id;
        let ws = self.workspace().await?;
        let previous = ws
            .console_sign_ins
            .get(&place)
            .copied()
            .filter(|p| *p != id && !target.keep_previous);
        let mut signed_out = None;
        if let Some(previous) = previous {
            let logout = plan.logout_url();
            open(&browser, logout, &open_default, Some(LAUNCHER_SETTLE)).await?;
            tokio::time::sleep(SIGN_OUT_PAUSE).await;
            signed_out = Some(
                ws.get(previous)
                    .map(|s| s.session.name.clone())
                    .unwrap_or_else(|| previous.to_string()),
            );
        }
        let redirect = OneTimeRedirect::serve(url, REDIRECT_TTL)
            .await
            .map_err(|e| ConsoleError::Browser {
                browser: place.clone(),
                reason: format!("cannot open a loopback address for the browser: {e}"),
            })?;
        open(&browser, redirect.address().to_owned(), &open_default, None).await?;
        self.update(move |ws| {
            ws.console_sign_ins.insert(place, id);
            let known: Vec<SessionId> = ws.sessions.iter().map(|s| s.session.id).collect();
            ws.console_sign_ins.retain(|_, id| known.contains(id));
            Ok(())
        })
        .await?;
        Ok(ConsoleOpening {
            browser,
            signed_out,
            redirect,
        })
    }
}

/// Launches off the runtime: an opener may only return when the browser does, and the
/// loopback address must answer meanwhile.
async fn open(
    browser: &ConsoleBrowser,
    url: String,
    open_default: &Arc<DefaultOpener>,
    settle: Option<Duration>,
) -> Result<(), ConsoleError> {
    let (b, opener) = (browser.clone(), open_default.clone());
    tokio::task::spawn_blocking(move || launch(&b, &url, &*opener, settle))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map_err(|reason| ConsoleError::Browser {
            browser: browser.to_string(),
            reason,
        })
}
