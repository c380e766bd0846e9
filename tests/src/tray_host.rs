//! A stand-in tray host: `org.kde.StatusNotifierWatcher` on a test's private session
//! bus, as a desktop panel's tray (KDE Plasma, Xfce, GNOME's AppIndicator extension)
//! provides it. Apps register their icons with it (`RegisterStatusNotifierItem`), and
//! its presence is how Rolehop knows that hiding the window to the tray leaves a way
//! back. No emulator serves this interface, and the real hosts need a whole desktop;
//! this one keeps the list of items registered, which is all a test asks of it.
//! Served with zbus; the name is released when it is dropped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::blocking::Connection;

use crate::error::{PeerError, Result};

const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// The watcher, owning its name on the bus until dropped.
pub struct TrayHost {
    connection: Connection,
    items: Arc<Mutex<Vec<String>>>,
}

struct Watcher {
    items: Arc<Mutex<Vec<String>>>,
}

/// The interface as the StatusNotifierItem specification (freedesktop.org) defines it.
#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        // An item names either its bus name or its object path (then the sender is it).
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let item = if service.starts_with('/') {
            format!("{sender}{service}")
        } else {
            service.to_owned()
        };
        self.items.lock().expect("items").push(item);
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().expect("items").clone()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

impl TrayHost {
    /// Owns the watcher's name on the bus at `address` (a test's
    /// `DBUS_SESSION_BUS_ADDRESS`).
    pub fn start(address: &str) -> Result<Self> {
        let items = Arc::new(Mutex::new(Vec::new()));
        let watcher = Watcher {
            items: items.clone(),
        };
        let connection = zbus::blocking::connection::Builder::address(address)
            .and_then(|b| b.name(WATCHER))
            .and_then(|b| b.serve_at("/StatusNotifierWatcher", watcher))
            .and_then(|b| b.build())
            .map_err(|e| PeerError::Output {
                what: "the stand-in tray host".into(),
                detail: e.to_string(),
            })?;
        Ok(Self { connection, items })
    }

    /// The items (apps' tray icons) registered so far.
    pub fn items(&self) -> Vec<String> {
        self.items.lock().expect("items").clone()
    }

    /// Waits up to `timeout` for an item to register; the items then.
    pub fn wait_for_item(&self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        while self.items().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.items()
    }

    /// Gives the name up, as a panel that quits does.
    pub fn stop(self) {
        let _ = self.connection.release_name(WATCHER);
    }
}
