//! The MFA dialog as the engine's [`MfaPrompt`]: each request is pushed to the UI and
//! queued here until the UI answers it (`answer_mfa`) or the engine gives up waiting.
//! Several starts may ask at once; each request is answered on its own.

use std::sync::{Arc, Mutex};

use rolehop_core::ErrorPayload;
use rolehop_core::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use tokio::sync::oneshot;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::ipc::{MfaAnswer, UiEvent};
use crate::relay::UiChannel;

type Reply = Option<Zeroizing<String>>;
/// Waiting requests, oldest first, each with the way back to its asking future.
type Queue = Arc<Mutex<Vec<(MfaRequest, oneshot::Sender<Reply>)>>>;

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
