//! The MFA dialog as the engine's [`MfaPrompt`]: each request is pushed to the UI and
//! queued here until the UI answers it (`answer_mfa`) or the engine gives up waiting.
//! Several starts may ask at once; each request is answered on its own.

use rolehop_core::Problem as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rolehop_core::ErrorPayload;
use rolehop_core::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use tokio::sync::oneshot;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::ipc::{MfaAnswer, UiEvent};
use crate::ui_channel::UiChannel;

type Reply = Option<Zeroizing<String>>;
/// Waiting requests, oldest first, each with the way back to its asking future.
type Queue = Arc<Mutex<Vec<(MfaRequest, oneshot::Sender<Reply>)>>>;

/// How long the dialog waits for a code before that start fails with a timeout:
/// `ROLEHOP_MFA_TIMEOUT_SECS` (whole seconds, at least 1) when set, else `default`.
/// The desktop suite shortens it to see a timeout in the window.
pub fn timeout_from_env(default: Duration) -> Duration {
    let Some(value) = std::env::var_os("ROLEHOP_MFA_TIMEOUT_SECS") else {
        return default;
    };
    match value.to_str().and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(seconds) if seconds > 0 => Duration::from_secs(seconds),
        _ => {
            tracing::warn!(
                "ROLEHOP_MFA_TIMEOUT_SECS must be a whole number of seconds above 0; \
                 using {} s",
                default.as_secs()
            );
            default
        }
    }
}

/// The queue of unanswered MFA requests, oldest first.
pub struct DialogPrompt {
    queue: Queue,
    ui: Arc<UiChannel>,
}

impl DialogPrompt {
    pub fn new(ui: Arc<UiChannel>) -> Self {
        Self {
            queue: Arc::default(),
            ui,
        }
    }

    /// The requests still waiting, for a UI that (re)subscribes.
    pub fn pending(&self) -> Vec<MfaRequest> {
        let queue = self.queue.lock().expect("mfa queue");
        queue.iter().map(|(r, _)| r.clone()).collect()
    }

    /// Answers request `id`. A code is checked first (six digits) so the dialog can stay
    /// open and point at it; cancel makes that start fail with "cancelled".
    pub fn answer(&self, id: Uuid, answer: MfaAnswer) -> Result<(), ErrorPayload> {
        let reply = match answer {
            MfaAnswer::Code { code } => {
                rolehop_core::validate::mfa_code("mfa_code", &code)
                    .map_err(|e| rolehop_core::EngineError::from(e).payload())?;
                Some(code)
            }
            MfaAnswer::Cancel => None,
        };
        let sender = {
            let mut queue = self.queue.lock().expect("mfa queue");
            let at = queue.iter().position(|(r, _)| r.request_id == id);
            at.map(|i| queue.remove(i).1)
        };
        match sender {
            Some(tx) => {
                // The asking future may be gone (timed out) since the lookup: fine.
                let _ = tx.send(reply);
                Ok(())
            }
            None => Err(ErrorPayload {
                kind: rolehop_core::error::ErrorKind::NotFound,
                message: "this MFA request is no longer waiting (it timed out or was answered)"
                    .into(),
                field: None,
            }),
        }
    }
}

impl MfaPrompt for DialogPrompt {
    fn ask(&self, request: MfaRequest) -> MfaFuture {
        let (tx, rx) = oneshot::channel();
        let settle = Settle {
            id: request.request_id,
            queue: self.queue.clone(),
            ui: self.ui.clone(),
        };
        self.queue
            .lock()
            .expect("mfa queue")
            .push((request.clone(), tx));
        self.ui.send(UiEvent::MfaRequested { request });
        Box::pin(async move {
            let _settle = settle;
            match rx.await {
                Ok(Some(code)) => Ok(code),
                Ok(None) | Err(_) => Err(MfaError::Cancelled),
            }
        })
    }
}

/// Dropped when the asking future ends, however it ends (answer, cancel, the engine's
/// timeout dropping it): removes the request and tells the UI to close its dialog.
struct Settle {
    id: Uuid,
    queue: Queue,
    ui: Arc<UiChannel>,
}

impl Drop for Settle {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.retain(|(r, _)| r.request_id != self.id);
        }
        self.ui.send(UiEvent::MfaSettled {
            request_id: self.id,
        });
    }
}

#[cfg(test)]
mod tests {
    //! The web view is no peer a unit test can have: its end of the channel is a closure
    //! that records what the shell sends. The real dialog is driven in
    //! `tests/tests/e2e/desktop_app.rs`.

    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use rolehop_core::model::SessionId;
    use serde_json::Value;
    use tauri::ipc::{Channel, InvokeResponseBody};

    use super::*;

    /// A prompt whose UI events are recorded, in order, as JSON.
    fn prompt() -> (DialogPrompt, Arc<Mutex<Vec<Value>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = sent.clone();
        let ui = Arc::new(UiChannel::default());
        ui.attach(Channel::new(move |body| {
            let InvokeResponseBody::Json(json) = body else {
                panic!("a UI event is JSON");
            };
            record
                .lock()
                .unwrap()
                .push(serde_json::from_str(&json).unwrap());
            Ok(())
        }));
        (DialogPrompt::new(ui), sent)
    }

    fn request(name: &str) -> MfaRequest {
        MfaRequest {
            request_id: Uuid::new_v4(),
            session: SessionId::new(),
            session_name: name.into(),
            mfa_serial: format!("arn:aws:iam::123456789012:mfa/{name}"),
            for_session: name.into(),
        }
    }

    fn code(digits: &str) -> MfaAnswer {
        MfaAnswer::Code {
            code: Zeroizing::new(digits.into()),
        }
    }

    /// Polls once: the future's answer if it has one now.
    fn now(future: &mut MfaFuture) -> Option<Result<Zeroizing<String>, MfaError>> {
        match Pin::new(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => Some(out),
            Poll::Pending => None,
        }
    }

    fn ids(prompt: &DialogPrompt) -> Vec<Uuid> {
        prompt.pending().iter().map(|r| r.request_id).collect()
    }

    /// The (type, request id) of each event sent so far.
    fn events(sent: &Mutex<Vec<Value>>) -> Vec<(String, String)> {
        sent.lock()
            .unwrap()
            .iter()
            .map(|e| {
                let id = e["request"]["request_id"]
                    .as_str()
                    .or(e["request_id"].as_str())
                    .unwrap_or_default();
                (e["type"].as_str().unwrap_or_default().into(), id.into())
            })
            .collect()
    }

    fn kind_of(error: &ErrorPayload) -> Value {
        serde_json::to_value(error).unwrap()["kind"].clone()
    }

    #[test]
    fn requests_queue_oldest_first_and_each_is_pushed_to_the_ui() {
        let (prompt, sent) = prompt();
        let (a, b) = (request("alice"), request("bob"));
        let (_fa, _fb) = (prompt.ask(a.clone()), prompt.ask(b.clone()));
        assert_eq!(ids(&prompt), [a.request_id, b.request_id]);
        assert_eq!(
            events(&sent),
            [
                ("mfa-requested".into(), a.request_id.to_string()),
                ("mfa-requested".into(), b.request_id.to_string()),
            ]
        );
    }

    #[test]
    fn a_code_answers_its_own_request_and_leaves_the_others_waiting() {
        let (prompt, sent) = prompt();
        let (a, b) = (request("alice"), request("bob"));
        let (mut fa, mut fb) = (prompt.ask(a.clone()), prompt.ask(b.clone()));
        prompt.answer(b.request_id, code("123456")).unwrap();
        assert_eq!(now(&mut fb).unwrap().unwrap().as_str(), "123456");
        assert!(now(&mut fa).is_none(), "alice's start got an answer");
        assert_eq!(ids(&prompt), [a.request_id]);
        drop(fb);
        assert_eq!(
            events(&sent).last().unwrap(),
            &("mfa-settled".into(), b.request_id.to_string())
        );
    }

    #[test]
    fn cancel_fails_that_start_as_cancelled_and_settles_its_dialog() {
        let (prompt, sent) = prompt();
        let a = request("alice");
        let mut fa = prompt.ask(a.clone());
        prompt.answer(a.request_id, MfaAnswer::Cancel).unwrap();
        assert_eq!(now(&mut fa).unwrap().unwrap_err(), MfaError::Cancelled);
        assert!(prompt.pending().is_empty());
        drop(fa);
        assert_eq!(
            events(&sent),
            [
                ("mfa-requested".into(), a.request_id.to_string()),
                ("mfa-settled".into(), a.request_id.to_string()),
            ]
        );
    }

    #[test]
    fn a_bad_code_is_refused_naming_the_field_and_the_request_stays_open() {
        let (prompt, sent) = prompt();
        let a = request("alice");
        let mut fa = prompt.ask(a.clone());
        for bad in ["12345", "1234567", "12a456", ""] {
            let refused = prompt.answer(a.request_id, code(bad)).unwrap_err();
            assert_eq!(refused.field.as_deref(), Some("mfa_code"), "{bad:?}");
            assert_eq!(kind_of(&refused), "invalid", "{bad:?}");
            assert!(!refused.message.contains(bad) || bad.is_empty());
        }
        assert!(now(&mut fa).is_none(), "a bad code answered the start");
        assert_eq!(ids(&prompt), [a.request_id]);
        assert_eq!(events(&sent).len(), 1, "a bad code settled the dialog");
        // The same request takes a good code afterwards.
        prompt.answer(a.request_id, code("654321")).unwrap();
        assert_eq!(now(&mut fa).unwrap().unwrap().as_str(), "654321");
    }

    #[test]
    fn an_answer_to_a_request_no_longer_waiting_is_not_found() {
        let (prompt, _) = prompt();
        let refused = prompt.answer(Uuid::new_v4(), code("123456")).unwrap_err();
        assert_eq!(kind_of(&refused), "not-found");
        let a = request("alice");
        let _fa = prompt.ask(a.clone());
        prompt.answer(a.request_id, code("123456")).unwrap();
        let twice = prompt.answer(a.request_id, MfaAnswer::Cancel).unwrap_err();
        assert_eq!(kind_of(&twice), "not-found");
    }

    #[tokio::test]
    async fn the_engines_timeout_removes_the_request_and_settles_its_dialog() {
        let (prompt, sent) = prompt();
        let (a, b) = (request("alice"), request("bob"));
        let _fb = prompt.ask(b.clone());
        // What the engine does: `tokio::time::timeout` drops the asking future.
        let waited = tokio::time::timeout(Duration::from_millis(20), prompt.ask(a.clone())).await;
        assert!(waited.is_err(), "the prompt answered by itself");
        assert_eq!(ids(&prompt), [b.request_id]);
        assert_eq!(
            events(&sent).last().unwrap(),
            &("mfa-settled".into(), a.request_id.to_string())
        );
        let late = prompt.answer(a.request_id, code("123456")).unwrap_err();
        assert_eq!(kind_of(&late), "not-found");
    }
}
