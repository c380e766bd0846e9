//! The values that cross the IPC boundary beyond the engine's own model types: what the
//! dialogs send, what the shell pushes to the UI, and the snapshot the UI starts from.
//! With the `ts` feature each derives its TypeScript binding (ui/src/bindings), so the
//! UI is typed against exactly these shapes.

use rolehop_core::EngineEvent;
use rolehop_core::engine::{AccessKeys, NewIamUser, NewRole};
use rolehop_core::mfa::MfaRequest;
use rolehop_core::model::{Profile, SessionView, Settings};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The add/edit IAM user dialog. The keys travel web view → Rust once; nothing ever
/// sends them back (an edit leaves them empty to keep the stored ones).
#[derive(Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct IamUserInput {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub mfa_serial: Option<String>,
    pub session_duration: Option<u32>,
    pub access_key_id: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub secret_access_key: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for IamUserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamUserInput")
            .field("name", &self.name)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl IamUserInput {
    /// Splits the dialog's fields into the engine's spec and, when either key field was
    /// filled in, the keys (the engine validates them and names the empty one).
    pub fn into_parts(self) -> (NewIamUser, Option<AccessKeys>) {
        let keys = match (self.access_key_id, self.secret_access_key) {
            (None, None) => None,
            (id, secret) => Some(AccessKeys {
                access_key_id: id.unwrap_or_default(),
                secret_access_key: secret.unwrap_or_default(),
            }),
        };
        let spec = NewIamUser {
            name: self.name,
            profile: self.profile,
            region: self.region,
            mfa_serial: self.mfa_serial,
            session_duration: self.session_duration,
        };
        (spec, keys)
    }
}

/// The add/edit chained role dialog. `parent` is the parent session's id.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RoleInput {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub parent: String,
    pub role_arn: String,
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<u32>,
}

impl From<RoleInput> for NewRole {
    fn from(r: RoleInput) -> Self {
        NewRole {
            name: r.name,
            profile: r.profile,
            region: r.region,
            parent: r.parent,
            role_arn: r.role_arn,
            role_session_name: r.role_session_name,
            external_id: r.external_id,
            duration: r.duration,
            source_identity: None,
        }
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
}
