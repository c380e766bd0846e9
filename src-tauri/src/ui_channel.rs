//! The web view's end of the event stream, at the bottom of the shell's modules: the
//! MFA dialog queue ([`crate::prompt`]) and the event relay ([`crate::relay`]) both send
//! through it, and it imports neither.

use std::sync::Mutex;

use tauri::ipc::Channel;

use crate::ipc::UiEvent;

/// The UI's channel. The UI hands a fresh one over each time it (re)loads; events sent
/// while no UI listens are dropped: its next snapshot has them.
#[derive(Default)]
pub struct UiChannel {
    channel: Mutex<Option<Channel<UiEvent>>>,
}

impl UiChannel {
    pub fn attach(&self, channel: Channel<UiEvent>) {
        *self.channel.lock().expect("ui channel") = Some(channel);
    }

    pub fn send(&self, event: UiEvent) {
        let mut slot = self.channel.lock().expect("ui channel");
        if let Some(channel) = slot.as_ref()
            && channel.send(event).is_err()
        {
            *slot = None;
        }
    }
}
