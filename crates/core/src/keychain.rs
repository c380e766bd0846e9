//! Secrets in the operating system's keychain, through the keyring ecosystem.
//!
//! Access keys and cached session tokens live here and nowhere else. Every entry is
//! stored under a *service* name (`rolehop` by default) that tests set to a throw-away
//! value, so a test never touches a user's real entries. The calls are blocking D-Bus
//! (or Keychain / Credential Manager) round trips: async code goes through the `*_async`
//! variants, which hop onto tokio's blocking pool.
//!
//! The store behind a [`Keychain`] is a choice ([`KeychainStore`]): the platform's (on
//! Linux the Secret Service, which the end-to-end suites run against a private
//! gnome-keyring), or any keyring-core store, such as keyring-core's in-memory mock, so
//! that the engine's rules can be unit-tested where no Secret Service runs.

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

/// The default service name under which Rolehop's secrets are stored.
pub const DEFAULT_SERVICE: &str = "rolehop";

/// Errors from the keychain. They never carry a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    #[error(
        "no keychain is available ({detail}); on Linux, Rolehop needs a Secret Service \
         provider such as gnome-keyring or KeePassXC running on the session D-Bus \
         (Debian: apt-get install gnome-keyring)"
    )]
    Unavailable { detail: String },
    #[error("the keychain refused access to '{account}': {detail}")]
    Access { account: String, detail: String },
    #[error("the keychain entry '{account}' is unreadable: {detail}")]
    Corrupt { account: String, detail: String },
}

/// Which credential store a [`Keychain`] keeps its entries in.
#[derive(Debug, Clone, Default)]
pub enum KeychainStore {
    /// The platform's keychain (the Secret Service on Linux), opened on first use.
    #[default]
    Platform,
    /// Any keyring-core store, shared by every [`Keychain`] built over it.
    Custom(Arc<CredentialStore>),
}

impl KeychainStore {
    /// A fresh keyring-core mock store: in memory, empty, gone with its last handle. For
    /// tests of rules that touch the keychain where no Secret Service runs.
    pub fn mock() -> Self {
        Self::Custom(keyring_core::mock::Store::new().expect("the mock store always opens"))
    }
}

/// A handle on one service's entries in the OS keychain. Cheap to clone.
#[derive(Clone)]
pub struct Keychain {
    service: Arc<str>,
    store: Arc<OnceLock<Result<Arc<CredentialStore>, KeychainError>>>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keychain")
            .field("service", &self.service)
            .finish()
    }
}

impl Keychain {
    /// A keychain for `service` in the platform's store; nothing is opened until the
    /// first call.
    pub fn new(service: impl Into<String>) -> Self {
        Self::in_store(service, KeychainStore::Platform)
    }

    /// A keychain for `service` in `store`.
    pub fn in_store(service: impl Into<String>, store: KeychainStore) -> Self {
        let opened = OnceLock::new();
        if let KeychainStore::Custom(store) = store {
            let _ = opened.set(Ok(store));
        }
        Self {
            service: Arc::from(service.into()),
            store: Arc::new(opened),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn store(&self) -> Result<&Arc<CredentialStore>, KeychainError> {
        self.store
            .get_or_init(|| {
                open_platform_store()
                    .inspect_err(|e| tracing::info!(error = %e, "keychain unavailable"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn entry(&self, account: &str) -> Result<Entry, KeychainError> {
        Entry::new_in_store(self.store()?, &self.service, account).map_err(|e| map_err(account, e))
    }

    /// Reads the secret stored under `account`, if any. Blocking.
    pub fn get(&self, account: &str) -> Result<Option<Zeroizing<String>>, KeychainError> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(account, e)),
        }
    }

    /// Stores `secret` under `account`, replacing what was there. Blocking.
    pub fn set(&self, account: &str, secret: &str) -> Result<(), KeychainError> {
        self.entry(account)?
            .set_password(secret)
            .map_err(|e| map_err(account, e))
    }

    /// Deletes `account`'s entry; a missing entry is not an error. Blocking.
    pub fn delete(&self, account: &str) -> Result<(), KeychainError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(account, e)),
        }
    }

    pub async fn get_async(
        &self,
        account: &str,
    ) -> Result<Option<Zeroizing<String>>, KeychainError> {
        let (this, account) = (self.clone(), account.to_owned());
        blocking(move || this.get(&account)).await
    }

    pub async fn set_async(
        &self,
        account: &str,
        secret: Zeroizing<String>,
    ) -> Result<(), KeychainError> {
        let (this, account) = (self.clone(), account.to_owned());
        blocking(move || this.set(&account, &secret)).await
    }

    pub async fn delete_async(&self, account: &str) -> Result<(), KeychainError> {
        let (this, account) = (self.clone(), account.to_owned());
        blocking(move || this.delete(&account)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(KeychainError::Unavailable {
            detail: format!("keychain task failed: {e}"),
        })
    })
}

/// Every keychain error passes here, so every one is logged (returned errors at info:
/// the caller reports them too).
fn map_err(account: &str, e: keyring_core::Error) -> KeychainError {
    let mapped = classify(account, e);
    tracing::info!(account, error = %mapped, "keychain error");
    mapped
}

fn classify(account: &str, e: keyring_core::Error) -> KeychainError {
    use keyring_core::Error as E;
    match e {
        E::NoStorageAccess(p) => KeychainError::Access {
            account: account.to_owned(),
            detail: p.to_string(),
        },
        E::PlatformFailure(p) => KeychainError::Unavailable {
            detail: p.to_string(),
        },
        // BadEncoding carries the raw bytes of the secret: never format them.
        E::BadEncoding(_) => KeychainError::Corrupt {
            account: account.to_owned(),
            detail: "the stored value is not UTF-8".into(),
        },
        E::BadDataFormat(_, _) => KeychainError::Corrupt {
            account: account.to_owned(),
            detail: "the stored value has an unexpected format".into(),
        },
        E::NoDefaultStore => KeychainError::Unavailable {
            detail: "no store".into(),
        },
        other => KeychainError::Access {
            account: account.to_owned(),
            detail: other.to_string(),
        },
    }
}

#[cfg(target_os = "linux")]
fn open_platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| {
        KeychainError::Unavailable {
            detail: format!("Secret Service: {e}"),
        }
    })?;
    Ok(store)
}

// macOS and Windows stores (apple-native-keyring-store, windows-native-keyring-store)
// plug in here; they are not built or tested on this project's Linux CI yet.
#[cfg(not(target_os = "linux"))]
fn open_platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    Err(KeychainError::Unavailable {
        detail: "this platform's keychain is not wired in yet".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keychains_over_one_store_share_entries_by_service() {
        let store = KeychainStore::mock();
        let a = Keychain::in_store("rolehop-a", store.clone());
        let also_a = Keychain::in_store("rolehop-a", store.clone());
        let b = Keychain::in_store("rolehop-b", store);
        assert_eq!(a.get("alice").unwrap(), None);
        a.set("alice", "secret-1").unwrap();
        assert_eq!(
            also_a.get("alice").unwrap().as_deref().map(String::as_str),
            Some("secret-1")
        );
        assert_eq!(
            b.get("alice").unwrap(),
            None,
            "another service sees nothing"
        );
        also_a.delete("alice").unwrap();
        assert_eq!(a.get("alice").unwrap(), None);
        a.delete("alice").unwrap();
    }

    #[test]
    fn each_mock_store_starts_empty() {
        Keychain::in_store("s", KeychainStore::mock())
            .set("k", "v")
            .unwrap();
        assert_eq!(
            Keychain::in_store("s", KeychainStore::mock())
                .get("k")
                .unwrap(),
            None
        );
    }
}
