//! Logins in flight, for the Integrations dialog: `sso_login_start` shows the URL (and
//! a device login's code) at once while the engine completes the login on a task here
//! (`Engine::complete_sso_browser_login` waits for the browser's redirect,
//! `Engine::complete_sso_login` polls for the device code); `sso_login_wait` awaits its
//! result, `sso_login_cancel` drops it (which cancels the login and changes nothing).
//! The URL stays here so "Open browser" opens exactly the portal's URL, never one the
//! web view names.

use rolehop_core::Problem as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rolehop_core::error::ErrorKind;
use rolehop_core::rotation::SystemClock;
use rolehop_core::sso::browser_login::timeout_from_env;
use rolehop_core::sso::{Integration, IntegrationId, LoginFlow};
use rolehop_core::{Engine, EngineError, ErrorPayload};
use tokio::task::{AbortHandle, JoinHandle};

use crate::ipc::LoginPrompt;

type Outcome = Result<Integration, EngineError>;

struct Login {
    url: String,
    abort: AbortHandle,
    /// Taken by the one `wait`.
    result: Option<JoinHandle<Outcome>>,
}

/// The logins waiting for a person, one per integration at most.
#[derive(Default)]
pub struct SsoLogins(Mutex<HashMap<IntegrationId, Login>>);

fn cancelled() -> ErrorPayload {
    ErrorPayload {
        kind: ErrorKind::LoginFailed,
        message: "the login was cancelled".into(),
        field: None,
    }
}

fn no_login(id: IntegrationId) -> ErrorPayload {
    ErrorPayload {
        kind: ErrorKind::NotFound,
        message: format!("no login in progress for integration {id}"),
        field: None,
    }
}

impl SsoLogins {
    fn logins(&self) -> std::sync::MutexGuard<'_, HashMap<IntegrationId, Login>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Begins a login (a login already waiting for the same integration is cancelled)
    /// and returns what the person must see; the polling goes on in the background.
    pub async fn start(
        &self,
        engine: &Arc<Engine>,
        selector: &str,
        flow: LoginFlow,
    ) -> Result<LoginPrompt, EngineError> {
        let (prompt, task) = match flow {
            LoginFlow::AuthorizationCode => {
                let pending = engine.begin_sso_browser_login(selector, None).await?;
                let timeout = timeout_from_env();
                let prompt = LoginPrompt {
                    integration: pending.integration.clone(),
                    flow,
                    verification_uri: pending.authorize_url.clone(),
                    user_code: None,
                    expires_at: chrono::Utc::now()
                        + chrono::Duration::from_std(timeout).unwrap_or_default(),
                };
                let waiter = engine.clone();
                let task = tokio::spawn(async move {
                    waiter.complete_sso_browser_login(pending, timeout).await
                });
                (prompt, task)
            }
            LoginFlow::DeviceCode => {
                let pending = engine.begin_sso_login(selector).await?;
                let device = &pending.device;
                let prompt = LoginPrompt {
                    integration: pending.integration.clone(),
                    flow,
                    verification_uri: device
                        .verification_uri_complete
                        .clone()
                        .unwrap_or_else(|| device.verification_uri.clone()),
                    user_code: Some(device.user_code.clone()),
                    expires_at: device.expires_at,
                };
                let poller = engine.clone();
                let task =
                    tokio::spawn(
                        async move { poller.complete_sso_login(pending, &SystemClock).await },
                    );
                (prompt, task)
            }
        };
        let id = prompt.integration.id;
        let login = Login {
            url: prompt.verification_uri.clone(),
            abort: task.abort_handle(),
            result: Some(task),
        };
        if let Some(old) = self.logins().insert(id, login) {
            old.abort.abort();
        }
        Ok(prompt)
    }

    /// The login's result once the person approved it (or it failed, expired or was
    /// cancelled).
    pub async fn wait(&self, id: IntegrationId) -> Result<Integration, ErrorPayload> {
        let task = self
            .logins()
            .get_mut(&id)
            .and_then(|l| l.result.take())
            .ok_or_else(|| no_login(id))?;
        let abort = task.abort_handle();
        let outcome = task.await;
        let mut logins = self.logins();
        if logins.get(&id).is_some_and(|l| l.abort.id() == abort.id()) {
            logins.remove(&id);
        }
        drop(logins);
        match outcome {
            Ok(result) => result.map_err(|e| e.payload()),
            Err(e) if e.is_cancelled() => Err(cancelled()),
            Err(e) => Err(ErrorPayload {
                kind: ErrorKind::LoginFailed,
                message: format!("the login stopped: {e}"),
                field: None,
            }),
        }
    }

    /// Cancels the login waiting for `id`, if any.
    pub fn cancel(&self, id: IntegrationId) {
        if let Some(login) = self.logins().remove(&id) {
            login.abort.abort();
        }
    }

    /// The verification URL of the login waiting for `id`.
    pub fn url(&self, id: IntegrationId) -> Result<String, ErrorPayload> {
        self.logins()
            .get(&id)
            .map(|l| l.url.clone())
            .ok_or_else(|| no_login(id))
    }
}
