//! Sessions: the event stream, start/stop, add, edit, remove, and the MFA dialog's answer.

use rolehop_core::access_keys::console_csv::parse_console_csv;
use rolehop_core::model::SessionView;
use rolehop_core::{NewIamUser, NewRole, NewSamlRole, SessionChanges, SessionId};

use super::{Ctx, Result, payload};
use crate::ipc::{KeysCsv, KeysInput, MfaAnswer, Snapshot, UiEvents};
use crate::saml_login;

pub async fn subscribe(cx: Ctx<'_>, events: UiEvents) -> Result<Snapshot> {
    cx.shell.ui.attach(events.0);
    cx.shell.snapshot().await.map_err(payload)
}

pub async fn toggle_session(cx: Ctx<'_>, id: SessionId) -> Result<SessionView> {
    let engine = cx.shell.engine.clone();
    saml_login::toggle(cx.app, &engine, id.into()).await
}

pub async fn add_iam_user(cx: Ctx<'_>, spec: NewIamUser, keys: KeysInput) -> Result<SessionView> {
    cx.shell
        .engine
        .add_iam_user(spec, keys.into())
        .await
        .map_err(payload)
}

pub async fn add_iam_user_from_csv(
    cx: Ctx<'_>,
    spec: NewIamUser,
    csv: KeysCsv,
) -> Result<SessionView> {
    let keys = parse_console_csv(csv.0.as_bytes()).map_err(|e| payload(e.into()))?;
    cx.shell
        .engine
        .add_iam_user(spec, keys)
        .await
        .map_err(payload)
}

pub async fn add_role(cx: Ctx<'_>, spec: NewRole) -> Result<SessionView> {
    cx.shell.engine.add_role(spec).await.map_err(payload)
}

pub async fn add_saml_role(cx: Ctx<'_>, spec: NewSamlRole) -> Result<SessionView> {
    cx.shell.engine.add_saml_role(spec).await.map_err(payload)
}

pub async fn edit_session(
    cx: Ctx<'_>,
    id: SessionId,
    changes: SessionChanges,
    keys: Option<KeysInput>,
) -> Result<SessionView> {
    cx.shell
        .engine
        .edit_session(id, changes, keys.map(Into::into))
        .await
        .map_err(payload)
}

pub async fn remove_session(cx: Ctx<'_>, id: SessionId, cascade: bool) -> Result<Vec<SessionId>> {
    cx.shell
        .engine
        .remove_session(id, cascade)
        .await
        .map_err(payload)
}

pub async fn answer_mfa(cx: Ctx<'_>, request_id: uuid::Uuid, answer: MfaAnswer) -> Result<()> {
    cx.shell.prompt.answer(request_id, answer)
}
