//! The commands the web UI may call (and nothing else: see capabilities/main.json).
//! The list is written once, in `list.rs`; each command's function, in the module the
//! list names, translates its arguments and calls the engine: every rule is the
//! engine's. Errors cross as [`ErrorPayload`] (kind, message, field).

mod browser;
#[cfg(test)]
mod capability;
mod catalog;
mod iam;
mod saml;
mod sessions;
mod sso;
#[cfg(all(test, feature = "ts"))]
mod typescript;
mod updates;
mod window;
mod workspace;

use rolehop_core::Problem as _;
use rolehop_core::access_keys::{AccessKeyReport, RotatedKeys};
use rolehop_core::catalog::{CatalogChange, CatalogNews, CatalogSyncReport, CatalogView};
use rolehop_core::import::ImportReport;
use rolehop_core::model::{CloseChoice, Profile, SessionView, Settings};
use rolehop_core::org::OrgSyncRequest;
use rolehop_core::saml::integration::{NewSamlIntegration, SamlIntegration, SamlSyncReport};
use rolehop_core::sso::{
    Integration, IntegrationChanges, IntegrationId, LoginFlow, NewIntegration,
};
use rolehop_core::sync::SyncReport;
use rolehop_core::trust::CheckReport;
use rolehop_core::trust::statement::HopNeeds;
use rolehop_core::{
    EngineError, ErrorPayload, NewIamUser, NewRole, NewSamlRole, SessionChanges, SessionId,
};
use tauri::{AppHandle, State};

use crate::ipc::{KeysCsv, KeysInput, LoginPrompt, MfaAnswer, Snapshot, UiEvents};
use crate::saml_picker::{SamlHandle, SamlOffers};
use crate::shell::Shell;
use crate::sso_login::SsoLogins;
use crate::updates::UpdateStatus;

type Result<T> = std::result::Result<T, ErrorPayload>;

fn payload(e: EngineError) -> ErrorPayload {
    e.payload()
}

/// What a command's function gets besides the UI's arguments: the shell's state, the
/// device logins in flight, and the app.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub shell: &'a Shell,
    pub logins: &'a SsoLogins,
    pub app: &'a AppHandle,
}

/// Expands `list.rs` (its grammar is described there) into one Tauri command per
/// entry, [`NAMES`], [`handler`] and, for the TypeScript API, `described()`.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $module:ident :: $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ok:ty;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command(rename_all = "snake_case")]
            async fn $name(
                shell: State<'_, Shell>,
                logins: State<'_, SsoLogins>,
                app: AppHandle,
                $($arg: $ty),*
            ) -> Result<$ok> {
                let cx = Ctx { shell: shell.inner(), logins: logins.inner(), app: &app };
                $module::$name(cx, $($arg),*).await
            }
        )*

        /// Every command's name, as registered and as the UI calls it.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Every command, for the builder.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// Every command with its docs, arguments and result, as TypeScript sees them.
        #[cfg(all(test, feature = "ts"))]
        fn described() -> Vec<typescript::Command> {
            vec![$(typescript::Command {
                name: stringify!($name),
                docs: &[$($doc),*],
                args: vec![$(typescript::Arg::of::<$ty>(stringify!($arg))),*],
                ok: typescript::TsType::of::<$ok>(),
            }),*]
        }
    };
}

include!("list.rs");
