//! The commands the web UI may call (and nothing else: see capabilities/main.json).
//! Each translates its arguments and calls one engine method; every rule is the
//! engine's. Errors cross as [`ErrorPayload`] (kind, message, field).

use rolehop_core::access_keys::{AccessKeyReport, Asking, Propagation, RotatedKeys};
use rolehop_core::console::{ConsoleTarget, sign_in_url};
use rolehop_core::import::{self, AwsFilePaths, ImportOptions, ImportReport};
use rolehop_core::model::{Profile, SessionView, Settings};
use rolehop_core::org::OrgSyncRequest;
use rolehop_core::sso::{Integration, IntegrationChanges, IntegrationId, NewIntegration};
use rolehop_core::sync::SyncReport;
use rolehop_core::trust::statement::HopNeeds;
use rolehop_core::trust::{CheckReport, NeedsOptions, PolicySource, TrustInspector};
use rolehop_core::{EngineError, ErrorPayload, NewIamUser, NewRole, SessionChanges, SessionId};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use crate::ipc::{KeysInput, LoginPrompt, MfaAnswer, Snapshot, UiEvent};
use crate::shell::Shell;
use crate::sso_login::SsoLogins;

type Result<T> = std::result::Result<T, ErrorPayload>;

fn payload(e: EngineError) -> ErrorPayload {
    e.payload()
}

/// Every command, for the builder. Keep in step with `COMMANDS` in build.rs.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        subscribe,
        toggle_session,
        add_iam_user,
        add_role,
        edit_session,
        remove_session,
        add_profile,
        rename_profile,
        remove_profile,
        update_settings,
        answer_mfa,
        scan_aws_config,
        import_aws_config,
        trust_needs,
        trust_check,
        access_keys,
        rotate_access_key,
        open_console,
        start_at_login,
        set_start_at_login,
        org_sync,
        integrations,
        add_integration,
        edit_integration,
        remove_integration,
        sso_login_start,
        sso_login_wait,
        sso_login_cancel,
        sso_open_browser,
        sso_logout,
        sso_sync,
    ]
}

/// Hands the shell the UI's event channel and returns the state to start from.
#[tauri::command(rename_all = "snake_case")]
async fn subscribe(shell: State<'_, Shell>, events: Channel<UiEvent>) -> Result<Snapshot> {
    shell.ui.attach(events);
    shell.snapshot().await.map_err(payload)
}

/// Starts an inactive or failed session, stops an active or pending one (the engine's
/// one toggle). Resolves when that is done; progress arrives as events.
#[tauri::command(rename_all = "snake_case")]
async fn toggle_session(shell: State<'_, Shell>, id: SessionId) -> Result<SessionView> {
    let engine = shell.engine.clone();
    engine.toggle(&id.to_string()).await.map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn add_iam_user(
    shell: State<'_, Shell>,
    spec: NewIamUser,
    keys: KeysInput,
) -> Result<SessionView> {
    shell
        .engine
        .add_iam_user(spec, keys.into())
        .await
        .map_err(payload)
}

#[tauri::command(rename_all = "snake_case")]
async fn add_role(shell: State<'_, Shell>, spec: NewRole) -> Result<SessionView> {
    shell.engine.add_role(spec).await.map_err(payload)
}

/// Edits a session of either kind: fields left out of `changes` keep their values;
/// `keys` (IAM users) replace the stored ones.
#[tauri::command(rename_all = "snake_case")]
async fn edit_session(
    shell: State<'_, Shell>,
    id: SessionId,
    changes: SessionChanges,
    keys: Option<KeysInput>,
) -> Result<SessionView> {
    shell
        .engine
        .edit_session(&id.to_string(), changes, keys.map(Into::into))
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

/// First run: what `import_aws_config` would do with the user's AWS files, changing
/// nothing (the CLI's `import aws-config --dry-run --import-keys`): every profile with
/// what it would become, or why it would be skipped.
#[tauri::command(rename_all = "snake_case")]
async fn scan_aws_config(shell: State<'_, Shell>) -> Result<ImportReport> {
    let options = ImportOptions {
        import_keys: true,
        remove_keys: false,
        dry_run: true,
    };
    import::import_aws_config(&shell.engine, &AwsFilePaths::from_env(), options)
        .await
        .map_err(payload)
}

/// First run: the CLI's `import aws-config` (with `--import-keys` when `import_keys`).
/// Keys are only ever copied to the keychain: the files keep every byte.
#[tauri::command(rename_all = "snake_case")]
async fn import_aws_config(shell: State<'_, Shell>, import_keys: bool) -> Result<ImportReport> {
    let options = ImportOptions {
        import_keys,
        remove_keys: false,
        dry_run: false,
    };
    import::import_aws_config(&shell.engine, &AwsFilePaths::from_env(), options)
        .await
        .map_err(payload)
}

/// The Trust section: what each hop of the session's chain needs from IAM (the CLI's
/// `trust show`).
#[tauri::command(rename_all = "snake_case")]
async fn trust_needs(shell: State<'_, Shell>, id: SessionId) -> Result<Vec<HopNeeds>> {
    TrustInspector::new(&shell.engine)
        .needs(&id.to_string(), NeedsOptions::default())
        .await
        .map_err(payload)
}

/// The Trust section's Check: the role's trust policy read with `iam:GetRole` and
/// evaluated for its hop (the CLI's `trust check`).
#[tauri::command(rename_all = "snake_case")]
async fn trust_check(shell: State<'_, Shell>, id: SessionId) -> Result<CheckReport> {
    TrustInspector::new(&shell.engine)
        .check(&id.to_string(), PolicySource::Fetch { via: None })
        .await
        .map_err(|e| e.payload())
}

/// An IAM user session's access keys as IAM lists them, with their ages, their ids
/// masked (no whole key id reaches the web view). Never asks for an MFA code: without a
/// cached token IAM is asked with the key itself.
#[tauri::command(rename_all = "snake_case")]
async fn access_keys(shell: State<'_, Shell>, id: SessionId) -> Result<AccessKeyReport> {
    shell
        .engine
        .access_key_report(&id.to_string(), None, Asking::Never)
        .await
        .map(AccessKeyReport::masked)
        .map_err(|e| e.payload())
}

/// Rotates an IAM user session's access key (the MFA dialog asks if a code is needed).
#[tauri::command(rename_all = "snake_case")]
async fn rotate_access_key(shell: State<'_, Shell>, id: SessionId) -> Result<RotatedKeys> {
    shell
        .engine
        .rotate_access_key(&id.to_string(), None, Propagation::default())
        .await
        .map(RotatedKeys::masked)
        .map_err(|e| e.payload())
}

/// Opens the AWS console signed in as the session, in the default browser (as `rolehop
/// console` does). The sign-in URL goes from Rust to the opener; the UI never sees it.
#[tauri::command(rename_all = "snake_case")]
async fn open_console(app: AppHandle, shell: State<'_, Shell>, id: SessionId) -> Result<()> {
    let url = sign_in_url(
        &shell.engine,
        &id.to_string(),
        &ConsoleTarget::default(),
        None,
    )
    .await
    .map_err(|e| e.payload())?;
    open_url(&app, url.as_str())
}

/// Opens `url` in the user's browser. On Linux, when this process turned the web
/// view's JIT off through the environment ([`crate::JIT_VAR`]), the browser is started
/// by `xdg-open` without that variable (a WebKitGTK browser would inherit it); if
/// `xdg-open` cannot be started, the opener plugin tries its other launchers.
fn open_url(app: &AppHandle, url: &str) -> Result<()> {
    #[cfg(target_os = "linux")]
    if crate::jit_var_is_ours() {
        use std::process::{Command, Stdio};
        let started = Command::new("xdg-open")
            .arg(url)
            .env_remove(crate::JIT_VAR)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = started {
            // Reaped on a thread of its own: xdg-open hands over to the browser and exits.
            std::thread::spawn(move || child.wait());
            return Ok(());
        }
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| ErrorPayload {
            kind: rolehop_core::error::ErrorKind::Browser,
            message: format!("could not open a browser: {e}"),
            field: None,
        })
}

/// Whether the app starts at login (the platform's own record: on Linux the XDG autostart
/// entry `~/.config/autostart/Rolehop.desktop`), started minimised to the tray.
#[tauri::command(rename_all = "snake_case")]
fn start_at_login(app: tauri::AppHandle) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command(rename_all = "snake_case")]
fn set_start_at_login(app: tauri::AppHandle, enabled: bool) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(autostart_error)?;
    launcher.is_enabled().map_err(autostart_error)
}

fn autostart_error(e: tauri_plugin_autostart::Error) -> ErrorPayload {
    // The login item is a file in the user's config directory (Linux, macOS) or a
    // registry value (Windows): a storage failure of the platform's record.
    ErrorPayload {
        kind: rolehop_core::error::ErrorKind::Storage,
        message: format!("could not change the login item: {e}"),
        field: Some("start_at_login".into()),
    }
}

/// The CLI's `org sync`: one role session per active member account of the
/// organization `request.via` can list, re-synced in place; the report says what changed.
#[tauri::command(rename_all = "snake_case")]
async fn org_sync(shell: State<'_, Shell>, request: OrgSyncRequest) -> Result<SyncReport> {
    shell.engine.org_sync(request).await.map_err(payload)
}

/// The IAM Identity Center integrations with their login status (and token expiry).
#[tauri::command(rename_all = "snake_case")]
async fn integrations(shell: State<'_, Shell>) -> Result<Vec<Integration>> {
    shell.engine.integrations().await.map_err(payload)
}

/// The CLI's `sso add`.
#[tauri::command(rename_all = "snake_case")]
async fn add_integration(shell: State<'_, Shell>, spec: NewIntegration) -> Result<Integration> {
    shell.engine.add_integration(spec).await.map_err(payload)
}

/// Edits an integration (a new start URL, region or scopes drop its login).
#[tauri::command(rename_all = "snake_case")]
async fn edit_integration(
    shell: State<'_, Shell>,
    id: IntegrationId,
    changes: IntegrationChanges,
) -> Result<Integration> {
    shell
        .engine
        .edit_integration(&id.to_string(), changes)
        .await
        .map_err(payload)
}

/// The CLI's `sso remove [--cascade]`: returns the ids of the sessions removed with it.
#[tauri::command(rename_all = "snake_case")]
async fn remove_integration(
    shell: State<'_, Shell>,
    logins: State<'_, SsoLogins>,
    id: IntegrationId,
    cascade: bool,
) -> Result<Vec<SessionId>> {
    logins.cancel(id);
    let (_, removed) = shell
        .engine
        .remove_integration(&id.to_string(), cascade)
        .await
        .map_err(payload)?;
    Ok(removed)
}

/// Step 1 of the CLI's `sso login`: the code and URL to show; the polling goes on in
/// the background until `sso_login_wait` has its result or `sso_login_cancel` ends it.
#[tauri::command(rename_all = "snake_case")]
async fn sso_login_start(
    shell: State<'_, Shell>,
    logins: State<'_, SsoLogins>,
    id: IntegrationId,
) -> Result<LoginPrompt> {
    logins
        .start(&shell.engine, &id.to_string())
        .await
        .map_err(payload)
}

/// The result of the login `sso_login_start` began: the integration, logged in.
#[tauri::command(rename_all = "snake_case")]
async fn sso_login_wait(logins: State<'_, SsoLogins>, id: IntegrationId) -> Result<Integration> {
    logins.wait(id).await
}

#[tauri::command(rename_all = "snake_case")]
fn sso_login_cancel(logins: State<'_, SsoLogins>, id: IntegrationId) {
    logins.cancel(id);
}

/// Opens the waiting login's verification URL in the default browser.
#[tauri::command(rename_all = "snake_case")]
fn sso_open_browser(app: AppHandle, logins: State<'_, SsoLogins>, id: IntegrationId) -> Result<()> {
    open_url(&app, &logins.url(id)?)
}

/// The CLI's `sso logout`.
#[tauri::command(rename_all = "snake_case")]
async fn sso_logout(shell: State<'_, Shell>, id: IntegrationId) -> Result<Integration> {
    shell
        .engine
        .sso_logout(&id.to_string())
        .await
        .map_err(payload)
}

/// The CLI's `sso sync [--profile-template]`; the report's counts say what changed.
#[tauri::command(rename_all = "snake_case")]
async fn sso_sync(
    shell: State<'_, Shell>,
    id: IntegrationId,
    profile_template: Option<String>,
) -> Result<SyncReport> {
    shell
        .engine
        .sso_sync(&id.to_string(), profile_template.as_deref())
        .await
        .map_err(payload)
}
