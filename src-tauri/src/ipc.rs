//! The values that cross the IPC boundary beyond the engine's own types (the dialogs
//! send the core's `NewIamUser`, `NewRole` and `SessionChanges` as they are): an IAM
//! user's keys, the MFA answer, what the shell pushes to the UI and the channel it
//! pushes it on, and the snapshot the UI starts from.
//! With the `ts` feature each derives its TypeScript binding (ui/src/bindings), so the
//! UI is typed against exactly these shapes.

use rolehop_core::EngineEvent;
use rolehop_core::engine::AccessKeys;
use rolehop_core::mfa::MfaRequest;
use rolehop_core::model::{Profile, SessionView, Settings};
use rolehop_core::sso::{Integration, LoginFlow};
use serde::{Deserialize, Serialize};
use tauri::ipc::{Channel, CommandArg, CommandItem, InvokeError};
use zeroize::Zeroizing;

/// An IAM user's keys as the add/edit dialog sends them: web view → Rust once, never
/// sent back. The session's other fields travel as the core's own
/// [`rolehop_core::NewIamUser`] or [`rolehop_core::SessionChanges`].
#[derive(Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct KeysInput {
    pub access_key_id: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub secret_access_key: Zeroizing<String>,
}

impl std::fmt::Debug for KeysInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeysInput(<redacted>)")
    }
}

impl From<KeysInput> for AccessKeys {
    fn from(k: KeysInput) -> Self {
        AccessKeys {
            access_key_id: k.access_key_id,
            secret_access_key: k.secret_access_key,
        }
    }
}

/// The text of the AWS console's access-key file (`*_accessKeys.csv`) the IAM user dialog
/// was given (picked or dropped): web view → Rust once, parsed there
/// (`access_keys::console_csv`), never sent back.
#[derive(Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
#[serde(transparent)]
pub struct KeysCsv(pub Zeroizing<String>);

impl std::fmt::Debug for KeysCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeysCsv(<redacted>)")
    }
}

/// The MFA dialog's answer: a code, or cancel (which fails that start cleanly).
#[derive(Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum MfaAnswer {
    Code {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        code: Zeroizing<String>,
    },
    Cancel,
}

/// Everything the UI shows, as it is now: sent once when the UI subscribes, and again
/// (as a [`UiEvent::Workspace`]) whenever the workspace changes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Snapshot {
    pub sessions: Vec<SessionView>,
    pub profiles: Vec<Profile>,
    pub settings: Settings,
    /// MFA requests still waiting for an answer, oldest first.
    pub mfa_requests: Vec<MfaRequest>,
}

/// A login waiting for a person: the Integrations dialog shows the URL (which "Open
/// browser" opens from Rust) and, for a device login, the code to confirm. Nothing
/// secret: the device code, the PKCE verifier, the client secret and the tokens stay
/// in the shell and the keychain.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LoginPrompt {
    pub integration: Integration,
    pub flow: LoginFlow,
    /// The device flow's verification URL, or the portal's `/authorize` page.
    pub verification_uri: String,
    /// The device flow's code; none for a browser login.
    pub user_code: Option<String>,
    /// When the code stops being accepted, or the browser login stops waiting.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What the shell pushes to the UI over its event channel.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum UiEvent {
    /// An engine event, as the engine published it.
    Engine { event: EngineEvent },
    /// The workspace changed (here or in the CLI): the new snapshot's sessions,
    /// profiles and settings.
    Workspace { snapshot: Snapshot },
    /// The engine needs an MFA code; the UI queues requests and answers each.
    MfaRequested { request: MfaRequest },
    /// An MFA request was answered, cancelled or timed out: close it if shown.
    MfaSettled {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        request_id: uuid::Uuid,
    },
    /// The window's close button was pressed with no tray to hide to and no choice
    /// made yet: ask whether to quit or keep running (`choose_close` answers).
    CloseAsked,
}

/// The channel `subscribe` receives, on which the shell pushes [`UiEvent`]s: a Tauri
/// [`Channel`] under a name of its own, so the TypeScript API can type it
/// (`Channel<UiEvent>`, from `@tauri-apps/api/core`).
pub struct UiEvents(pub Channel<UiEvent>);

impl<'de, R: tauri::Runtime> CommandArg<'de, R> for UiEvents {
    fn from_command(command: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        Channel::from_command(command).map(Self)
    }
}

#[cfg(feature = "ts")]
impl ts_rs::TS for UiEvents {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(cfg: &ts_rs::Config) -> String {
        format!("Channel<{}>", <UiEvent as ts_rs::TS>::name(cfg))
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }

    fn visit_generics(v: &mut impl ts_rs::TypeVisitor) {
        v.visit::<UiEvent>();
    }
}
