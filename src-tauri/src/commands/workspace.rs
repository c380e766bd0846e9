//! Profiles, settings, the first run's import of the AWS files, and start at login.

use rolehop_core::import::{AwsFilePaths, ImportOptions, ImportReport};
use rolehop_core::model::{Profile, Settings};
use rolehop_core::{ErrorPayload, error::ErrorKind};
use tauri_plugin_autostart::ManagerExt;

use super::{Ctx, Result, payload};

pub async fn add_profile(cx: Ctx<'_>, name: String) -> Result<Profile> {
    cx.shell.engine.add_profile(&name).await.map_err(payload)
}

pub async fn rename_profile(cx: Ctx<'_>, name: String, new_name: String) -> Result<()> {
    cx.shell
        .engine
        .rename_profile(&name, &new_name)
        .await
        .map_err(payload)
}

pub async fn remove_profile(cx: Ctx<'_>, name: String, reassign_to: Option<String>) -> Result<()> {
    cx.shell
        .engine
        .remove_profile(&name, reassign_to.as_deref())
        .await
        .map_err(payload)
}

pub async fn update_settings(cx: Ctx<'_>, settings: Settings) -> Result<Settings> {
    cx.shell
        .engine
        .update_settings(settings)
        .await
        .map_err(payload)
}

/// Every profile of the AWS files with what it would become, or why it would be skipped.
pub async fn scan_aws_config(cx: Ctx<'_>) -> Result<ImportReport> {
    let options = ImportOptions {
        import_keys: true,
        remove_keys: false,
        dry_run: true,
    };
    cx.shell
        .engine
        .import_aws_config(&AwsFilePaths::from_env(), options)
        .await
        .map_err(payload)
}

pub async fn import_aws_config(cx: Ctx<'_>, import_keys: bool) -> Result<ImportReport> {
    let options = ImportOptions {
        import_keys,
        remove_keys: false,
        dry_run: false,
    };
    cx.shell
        .engine
        .import_aws_config(&AwsFilePaths::from_env(), options)
        .await
        .map_err(payload)
}

/// The platform's record: on Linux the XDG autostart entry
/// `~/.config/autostart/Rolehop.desktop`, which starts the app minimised to the tray.
pub async fn start_at_login(cx: Ctx<'_>) -> Result<bool> {
    let app = cx.app.clone();
    // A file (Linux, macOS) or a registry value (Windows): read off the async threads.
    blocking(move || app.autolaunch().is_enabled()).await
}

pub async fn set_start_at_login(cx: Ctx<'_>, enabled: bool) -> Result<bool> {
    let app = cx.app.clone();
    blocking(move || {
        let launcher = app.autolaunch();
        if enabled {
            launcher.enable()
        } else {
            launcher.disable()
        }?;
        launcher.is_enabled()
    })
    .await
}

/// Runs a call on the login item on a blocking thread.
async fn blocking(
    call: impl FnOnce() -> std::result::Result<bool, tauri_plugin_autostart::Error> + Send + 'static,
) -> Result<bool> {
    tauri::async_runtime::spawn_blocking(call)
        .await
        .map_err(|e| autostart_error(e.to_string()))?
        .map_err(|e| autostart_error(e.to_string()))
}

fn autostart_error(e: String) -> ErrorPayload {
    // The login item is a file in the user's config directory (Linux, macOS) or a
    // registry value (Windows): a storage failure of the platform's record.
    ErrorPayload {
        kind: ErrorKind::Storage,
        message: format!("could not change the login item: {e}"),
        field: Some("start_at_login".into()),
    }
}
