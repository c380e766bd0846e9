//! Write-behind of session states. A start publishes its state changes as events at
//! once and queues them here; one task per engine folds whatever is queued into a single
//! locked, fsynced workspace update. The user waits for STS, not for the disk.
//!
//! Reads through the engine flush first, so an engine always reads its own writes;
//! a short-lived host (the CLI) flushes before it exits.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::error::EngineError;
use crate::model::{SessionId, SessionState};
use crate::store::WorkspaceStore;

enum Message {
    Set(SessionId, SessionState),
    Flush(oneshot::Sender<Result<(), EngineError>>),
}

/// The queue of state writes of one engine.
#[derive(Clone)]
pub struct StateWriter {
    tx: mpsc::UnboundedSender<Message>,
}

impl StateWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Arc<WorkspaceStore>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, rx));
        Self { tx }
    }

    /// Queues a state change; it reaches the file in order with the others.
    pub fn set(&self, id: SessionId, state: SessionState) {
        // The task only ends when every sender is gone, so this cannot fail.
        let _ = self.tx.send(Message::Set(id, state));
    }

    /// Waits until every state queued before this call is on disk.
    pub async fn flush(&self) -> Result<(), EngineError> {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_err() {
            return Ok(());
        }
        wait.await.unwrap_or(Ok(()))
    }
}

async fn run(store: Arc<WorkspaceStore>, mut rx: mpsc::UnboundedReceiver<Message>) {
    // A failed write is reported to the next flush, and the states are kept for a retry.
    let mut pending: Vec<(SessionId, SessionState)> = Vec::new();
    let mut failure: Option<EngineError> = None;
    while let Some(first) = rx.recv().await {
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take().or_else(|| rx.try_recv().ok()) {
            match message {
                Message::Set(id, state) => pending.push((id, state)),
                Message::Flush(done) => flushes.push(done),
            }
        }
        if !pending.is_empty() {
            let batch = pending.clone();
            let store = store.clone();
            let written = tokio::task::spawn_blocking(move || {
                store.update(|ws| {
                    for (id, state) in batch {
                        ws.set_state(id, state);
                    }
                    Ok::<_, EngineError>(())
                })
            })
            .await
            .unwrap_or_else(|e| Err(EngineError::Delivery(format!("state writer failed: {e}"))));
            match written {
                Ok(()) => {
                    pending.clear();
                    failure = None;
                }
                Err(e) => failure = Some(e),
            }
        }
        for done in flushes {
            let _ = done.send(failure.clone().map_or(Ok(()), Err));
        }
    }
}
