//! The commands the web UI may call (and nothing else: see capabilities/main.json).
//! Each translates its arguments and calls one engine method; every rule is the
//! engine's. Errors cross as [`ErrorPayload`] (kind, message, field).

use rolehop_core::model::{Profile, SessionView, Settings};
use rolehop_core::{EngineError, ErrorPayload, SessionId, StartOptions};
use tauri::State;
use tauri::ipc::Channel;

use crate::ipc::{IamUserInput, MfaAnswer, RoleInput, Snapshot, UiEvent};
use crate::shell::Shell;

type Result<T> = std::result::Result<T, ErrorPayload>;

fn payload(e: EngineError) -> ErrorPayload {
    e.payload()
}

/// Every command, for the builder. Keep in step with `COMMANDS` in build.rs.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        subscribe,
        start_session,
        stop_session,
        add_iam_user,
        edit_iam_user,
        add_role,
        edit_role,
        remove_session,
        add_profile,
        rename_profile,
        remove_profile,
        update_settings,
        answer_mfa,
    ]
}

/// Hands the shell the UI's event channel and returns the state to start from.
#[tauri::command(rename_all = "snake_case")]
async fn subscribe(shell: State<'_, Shell>, events: Channel<UiEvent>) -> Result<Snapshot> {
    shell.ui.attach(events);
    shell.snapshot().await.map_err(payload)
}

/// Starts a session. Resolves when it is active or failed; progress arrives as events.
#[tauri::command(rename_all = "snake_case")]
async fn start_session(shell: State<'_, Shell>, id: SessionId) -> Result<SessionView> {
    let engine = shell.engine.clone();
    engine
        .start(&id.to_string(), StartOptions::default())
        .await
        .map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn stop_session(shell: State<'_, Shell>, id: SessionId) -> Result<SessionView> {
    shell.engine.stop(&id.to_string()).await.map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn add_iam_user(shell: State<'_, Shell>, input: IamUserInput) -> Result<SessionView> {
    let (spec, keys) = input.into_parts();
    let keys = keys.unwrap_or_else(|| rolehop_core::AccessKeys {
        access_key_id: String::new(),
        secret_access_key: Default::default(),
    });
    shell.engine.add_iam_user(spec, keys).await.map_err(payload)
}

/// Edits an IAM user; empty key fields keep the stored keys.
#[tauri::command(rename_all = "snake_case")]
async fn edit_iam_user(
    shell: State<'_, Shell>,
    id: SessionId,
    input: IamUserInput,
) -> Result<SessionView> {
    let (spec, keys) = input.into_parts();
    shell
        .engine
        .edit_iam_user(&id.to_string(), spec, keys)
        .await
        .map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn add_role(shell: State<'_, Shell>, input: RoleInput) -> Result<SessionView> {
    shell.engine.add_role(input.into()).await.map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn edit_role(
    shell: State<'_, Shell>,
    id: SessionId,
    input: RoleInput,
) -> Result<SessionView> {
    shell
        .engine
        .edit_role(&id.to_string(), input.into())
        .await
        .map_err(payload)
}

/// Removes a session (with `cascade`, the roles chained from it too); returns the ids
/// removed.
#[tauri::command(rename_all = "snake_case")]
async fn remove_session(
    shell: State<'_, Shell>,
    id: SessionId,
    cascade: bool,
) -> Result<Vec<SessionId>> {
    shell
        .engine
        .remove_session(&id.to_string(), cascade)
        .await
        .map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn add_profile(shell: State<'_, Shell>, name: String) -> Result<Profile> {
    shell.engine.add_profile(&name).await.map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn rename_profile(shell: State<'_, Shell>, name: String, new_name: String) -> Result<()> {
    shell
        .engine
        .rename_profile(&name, &new_name)
        .await
        .map_err(payload)
}

/// Removes a profile, moving its sessions to `reassign_to`.
#[tauri::command(rename_all = "snake_case")]
async fn remove_profile(
    shell: State<'_, Shell>,
    name: String,
    reassign_to: Option<String>,
) -> Result<()> {
    shell
        .engine
        .remove_profile(&name, reassign_to.as_deref())
        .await
        .map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn update_settings(shell: State<'_, Shell>, settings: Settings) -> Result<Settings> {
    shell
        .engine
        .update_settings(settings)
        .await
        .map_err(payload)
}

/// Answers a queued MFA request with a code or a cancel.
#[tauri::command(rename_all = "snake_case")]
async fn answer_mfa(
    shell: State<'_, Shell>,
    request_id: uuid::Uuid,
    answer: MfaAnswer,
) -> Result<()> {
    shell.prompt.answer(request_id, answer)
}
