//! Updates: whether a newer Rolehop is out, and installing it where the running app's
//! package allows. tauri-plugin-updater reads the update manifest (`latest.json`: the
//! version, its notes, a package URL and minisign signature per target) from the
//! endpoint in `tauri.conf.json` (`plugins.updater`), and checks each package against
//! the public key built into the app there; the private key never enters the repository.
//!
//! A package is downloaded and its signature checked before anything is offered, so a
//! tampered manifest or package is refused and reported at the check, never offered.
//! `requireSignedVersion` also refuses a signature made for another version than the
//! manifest announces (an old signed package passed off as new). When to ask is the
//! core's rule ([`rolehop_core::updates`]): never with the setting off, on its own at
//! most once a day, and whenever the person asks.
//!
//! What "install" means depends on how the app was installed (the bundler writes the
//! package format into the binary): from an AppImage the plugin replaces the file; from a
//! `.deb` it runs `dpkg -i`, from an `.rpm` `rpm -U`, through `pkexec` (else a password
//! dialog and `sudo`). An app not from a package (built from source) gets the download
//! link instead. Without the cargo feature `updater` (`cargo xtask bundle
//! --no-updater`, for distributions that update their packages themselves) none of this
//! is built: the app never asks and says updates come from the distribution.
//!
//! Debug builds only: `ROLEHOP_UPDATE_ENDPOINT` and `ROLEHOP_UPDATE_PUBKEY` replace the
//! endpoint and the key, so a test can serve a manifest on 127.0.0.1 signed with a key
//! it made. A release build reads neither.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a check (or an install) came to, as the window shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum UpdateStatus {
    /// Built without the updater: the distribution's package manager updates Rolehop.
    NotInThisBuild,
    /// The setting is off: nothing was asked.
    Off,
    /// An automatic check within a day of the last: nothing was asked.
    NotDue {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        last_checked: DateTime<Utc>,
    },
    UpToDate {
        current_version: String,
    },
    /// A newer version whose package matched its signature.
    Available {
        current_version: String,
        version: String,
        notes: Option<String>,
        install: UpdateInstall,
    },
    /// A newer version was announced, but its package or manifest failed the signature
    /// check: nothing is offered or installed.
    Refused {
        version: String,
        reason: String,
    },
    /// The server could not be asked, or answered something that is not a manifest.
    Failed {
        reason: String,
    },
    /// Installed: the next launch runs it.
    Installed {
        version: String,
    },
}

/// How an offered version gets onto this computer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UpdateInstall {
    /// The app installs it, replacing the package it came from (`appimage`, `deb`, `rpm`).
    InPlace { format: String },
    /// The running app is from no package the updater can replace: the download link.
    Download { url: String },
}

#[cfg(feature = "updater")]
pub use self::plugin::{Updates, check, download_url, install, plugin};

#[cfg(not(feature = "updater"))]
pub use self::absent::{Updates, check, download_url, install};

#[cfg(feature = "updater")]
mod plugin {
    use chrono::Utc;
    use rolehop_core::updates::{CheckVerdict, UpdateCheck};
    use rolehop_core::{Engine, EngineError};
    use tauri::utils::config::BundleType;
    use tauri::utils::platform::bundle_type;
    use tauri::{AppHandle, Wry};
    use tauri_plugin_updater::{Error, Update, Updater, UpdaterExt};
    use tokio::sync::Mutex;

    use super::{UpdateInstall, UpdateStatus};

    /// The plugin, for the builder. Its own web-view commands are granted to no window
    /// (capabilities/main.json lists Rolehop's commands only): Rust alone uses it.
    pub fn plugin() -> tauri::plugin::TauriPlugin<Wry, tauri_plugin_updater::Config> {
        tauri_plugin_updater::Builder::new().build()
    }

    /// The last offered update with its package, already checked against its signature.
    #[derive(Default)]
    pub struct Updates {
        ready: Mutex<Option<(Update, Vec<u8>)>>,
    }

    /// Asks the update server when the core's rule allows (`kind`), downloading and
    /// checking a newer version's package before it is offered.
    pub async fn check(
        app: &AppHandle,
        engine: &Engine,
        updates: &Updates,
        kind: UpdateCheck,
    ) -> Result<UpdateStatus, EngineError> {
        match engine.begin_update_check(kind, Utc::now()).await? {
            CheckVerdict::Off => return Ok(UpdateStatus::Off),
            CheckVerdict::NotDue { last_checked } => {
                return Ok(UpdateStatus::NotDue { last_checked });
            }
            CheckVerdict::Ask => {}
        }
        let status = ask(app, updates).await;
        match &status {
            UpdateStatus::Refused { version, reason } => {
                tracing::warn!(version, reason, "update refused")
            }
            UpdateStatus::Failed { reason } => tracing::warn!(reason, "update check failed"),
            UpdateStatus::Available { version, .. } => tracing::info!(version, "update offered"),
            _ => tracing::info!("no newer version"),
        }
        Ok(status)
    }

    async fn ask(app: &AppHandle, updates: &Updates) -> UpdateStatus {
        let current_version = app.package_info().version.to_string();
        let failed = |e: Error| UpdateStatus::Failed {
            reason: e.to_string(),
        };
        let update = match updater(app) {
            Ok(updater) => match updater.check().await {
                Ok(Some(update)) => update,
                Ok(None) => return UpdateStatus::UpToDate { current_version },
                Err(e) => return failed(e),
            },
            Err(e) => return failed(e),
        };
        let version = update.version.clone();
        let bytes = match update.download(|_, _| {}, || {}).await {
            Ok(bytes) => bytes,
            Err(e) if refusal(&e) => {
                *updates.ready.lock().await = None;
                return UpdateStatus::Refused {
                    version,
                    reason: format!("its signature does not match Rolehop's key: {e}"),
                };
            }
            Err(e) => return failed(e),
        };
        let install = match installable(bundle_type()) {
            Some(format) => UpdateInstall::InPlace {
                format: format.to_owned(),
            },
            None => UpdateInstall::Download {
                url: update.download_url.to_string(),
            },
        };
        let notes = update.body.clone();
        *updates.ready.lock().await = Some((update, bytes));
        UpdateStatus::Available {
            current_version,
            version,
            notes,
            install,
        }
    }

    /// Where the offered version's package is, for a download by hand.
    pub async fn download_url(updates: &Updates) -> Option<String> {
        let ready = updates.ready.lock().await;
        ready
            .as_ref()
            .map(|(update, _)| update.download_url.to_string())
    }

    /// Installs the offered update (its signature is checked again first), where the
    /// running app's package allows.
    pub async fn install(updates: &Updates) -> UpdateStatus {
        let Some((update, bytes)) = updates.ready.lock().await.take() else {
            return UpdateStatus::Failed {
                reason: "no update is waiting: check for updates first".into(),
            };
        };
        if installable(bundle_type()).is_none() {
            return UpdateStatus::Failed {
                reason: format!(
                    "this copy of Rolehop was not installed from a package the updater can \
                     replace: download {} from {}",
                    update.version, update.download_url
                ),
            };
        }
        let version = update.version.clone();
        // dpkg, rpm or the AppImage's replacement: blocking work, off the async threads.
        match tauri::async_runtime::spawn_blocking(move || update.install(bytes)).await {
            Ok(Ok(())) => UpdateStatus::Installed { version },
            Ok(Err(e)) if refusal(&e) => UpdateStatus::Refused {
                version,
                reason: e.to_string(),
            },
            Ok(Err(e)) => UpdateStatus::Failed {
                reason: format!("installing {version}: {e}"),
            },
            Err(e) => UpdateStatus::Failed {
                reason: format!("installing {version}: {e}"),
            },
        }
    }

    /// The package formats the plugin replaces in place; any other (no package: a
    /// build from source) would have it overwrite the running binary, so it gets the
    /// download link.
    fn installable(bundle: Option<BundleType>) -> Option<&'static str> {
        match bundle? {
            BundleType::AppImage => Some("appimage"),
            BundleType::Deb => Some("deb"),
            BundleType::Rpm => Some("rpm"),
            _ => None,
        }
    }

    /// Whether the error is a failed signature (tampered or not ours), not a network one.
    fn refusal(e: &Error) -> bool {
        matches!(
            e,
            Error::Minisign(_)
                | Error::Base64(_)
                | Error::SignatureUtf8(_)
                | Error::SignedVersionMismatch { .. }
                | Error::MissingSignedVersion
        )
    }

    fn updater(app: &AppHandle) -> Result<Updater, Error> {
        #[allow(unused_mut)]
        let mut builder = app.updater_builder();
        // A test's server and throwaway key: debug builds only (see the module's doc).
        #[cfg(debug_assertions)]
        {
            let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
            if let Some(endpoint) = var("ROLEHOP_UPDATE_ENDPOINT") {
                builder = builder.endpoints(vec![endpoint.parse()?])?;
            }
            if let Some(key) = var("ROLEHOP_UPDATE_PUBKEY") {
                builder = builder.pubkey(key);
            }
        }
        builder.build()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn part4_only_appimage_deb_and_rpm_install_in_place() {
            assert_eq!(installable(Some(BundleType::AppImage)), Some("appimage"));
            assert_eq!(installable(Some(BundleType::Deb)), Some("deb"));
            assert_eq!(installable(Some(BundleType::Rpm)), Some("rpm"));
            // Built from source (the bundler wrote no format): the download link.
            assert_eq!(installable(None), None);
        }
    }
}

#[cfg(not(feature = "updater"))]
mod absent {
    use rolehop_core::updates::UpdateCheck;
    use rolehop_core::{Engine, EngineError};
    use tauri::AppHandle;

    use super::UpdateStatus;

    #[derive(Default)]
    pub struct Updates(());

    /// Asks nothing: this build has no updater.
    pub async fn check(
        _app: &AppHandle,
        _engine: &Engine,
        _updates: &Updates,
        _kind: UpdateCheck,
    ) -> Result<UpdateStatus, EngineError> {
        Ok(UpdateStatus::NotInThisBuild)
    }

    pub async fn install(_updates: &Updates) -> UpdateStatus {
        UpdateStatus::NotInThisBuild
    }

    pub async fn download_url(_updates: &Updates) -> Option<String> {
        None
    }
}
