//! Whether a tray shows Rolehop's icon: a StatusNotifier host (a panel's tray) is
//! present when some program owns `org.kde.StatusNotifierWatcher` on the session bus
//! and that watcher has a host registered. Tauri's tray is an app indicator, which
//! registers with that watcher; with no watcher (GNOME without an extension, many
//! minimal desktops) the icon is shown nowhere, and hiding the window would leave no
//! way back but a second launch.

use zbus::blocking::{Connection, Proxy, fdo::DBusProxy};
use zbus::names::BusName;

const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Asks the session bus, now (a panel may start or stop at any time). A bus that
/// cannot be reached counts as no tray. Blocking: call it off the UI thread.
pub fn present() -> bool {
    match ask() {
        Ok(present) => present,
        Err(e) => {
            tracing::info!("no tray host found on the session bus: {e}");
            false
        }
    }
}

fn ask() -> zbus::Result<bool> {
    let bus = Connection::session()?;
    let name = BusName::try_from(WATCHER)?;
    if !DBusProxy::new(&bus)?.name_has_owner(name.clone())? {
        return Ok(false);
    }
    let watcher = Proxy::new(&bus, name, "/StatusNotifierWatcher", WATCHER)?;
    // A watcher with no host registered shows no icon. A watcher that does not answer
    // the property (some implementations omit it) is taken at its word: it exists.
    Ok(watcher
        .get_property::<bool>("IsStatusNotifierHostRegistered")
        .unwrap_or(true))
}
