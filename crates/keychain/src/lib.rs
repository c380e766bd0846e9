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
//!
//! This crate knows nothing of sessions or the engine: accounts are plain strings, and
//! the engine (rolehop-core) decides what lives under which.

use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use crate::secret_service::{Found, Reader};

mod secret_service;

/// The default service name under which Rolehop's secrets are stored.
pub const DEFAULT_SERVICE: &str = "rolehop";

/// Errors from the keychain. They never carry a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    #[error(
        "no keychain is available ({detail}); on Linux, Rolehop needs a Secret Service \
         provider on the session D-Bus: gnome-keyring, KWallet 6 or KeePassXC (with its \
         Secret Service integration on) all serve it: start one (Debian: apt-get install \
         gnome-keyring) and try again"
    )]
    Unavailable { detail: String },
    /// The keychain is there but locked, and unlocking it was refused or could not be
    /// asked for (no unlock prompt on this desktop, or the prompt was dismissed).
    #[error(
        "the keychain is locked: unlock it and try again (for example by logging in to \
         the desktop again, or with your keyring manager such as Seahorse)"
    )]
    Locked,
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
    store: Arc<StoreSlot>,
    /// The batched Secret Service reader ([`Keychain::get_many_async`]); `None` for a
    /// keychain over another store, whose batches are one read per account.
    batch: Option<Batch>,
}

/// The store a [`Keychain`] talks to. The platform's is opened on first use and opened
/// again after it failed as unavailable: a Secret Service that was not running, or
/// stopped, is found again once it is back, without restarting the app.
struct StoreSlot {
    platform: bool,
    open: Mutex<Option<Arc<CredentialStore>>>,
}

type Batch = Arc<tokio::sync::Mutex<Option<Reader>>>;

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
        let (platform, open) = match store {
            KeychainStore::Platform => (true, None),
            KeychainStore::Custom(store) => (false, Some(store)),
        };
        Self {
            service: Arc::from(service.into()),
            store: Arc::new(StoreSlot {
                platform,
                open: Mutex::new(open),
            }),
            batch: platform
                .then(Arc::default)
                .filter(|_| cfg!(target_os = "linux")),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn store(&self) -> Result<Arc<CredentialStore>, KeychainError> {
        let mut open = self.store.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = &*open {
            return Ok(store.clone());
        }
        let store = open_platform_store()
            .inspect_err(|e| tracing::info!(error = %e, "keychain unavailable"))?;
        *open = Some(store.clone());
        Ok(store)
    }

    /// Runs `call` on `account`'s entry. A platform store that turned out unavailable
    /// (the Secret Service stopped) is dropped, so that the next call connects afresh.
    fn with_entry<T>(
        &self,
        account: &str,
        call: impl FnOnce(&Entry) -> Result<T, keyring_core::Error>,
    ) -> Result<T, KeychainError> {
        let entry = Entry::new_in_store(&self.store()?, &self.service, account)
            .map_err(|e| map_err(account, e))?;
        call(&entry).map_err(|e| {
            let e = map_err(account, e);
            if self.store.platform && matches!(e, KeychainError::Unavailable { .. }) {
                *self.store.open.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
            e
        })
    }

    /// Reads the secret stored under `account`, if any. Blocking.
    pub fn get(&self, account: &str) -> Result<Option<Zeroizing<String>>, KeychainError> {
        self.with_entry(account, |entry| match entry.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// Stores `secret` under `account`, replacing what was there. Blocking.
    pub fn set(&self, account: &str, secret: &str) -> Result<(), KeychainError> {
        self.with_entry(account, |entry| entry.set_password(secret))
    }

    /// Deletes `account`'s entry; a missing entry is not an error. Blocking.
    pub fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.with_entry(account, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
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

impl Keychain {
    /// Reads several accounts at once, in the order given: on the Secret Service, one
    /// encrypted session, all the searches in one round trip and all the secrets in
    /// a second (see `secret_service.rs`); what that path cannot answer (a locked or
    /// ambiguous entry, a failed batch) is read one account at a time as by [`Self::get`],
    /// with its prompts and errors.
    pub async fn get_many_async(
        &self,
        accounts: &[String],
    ) -> Result<Vec<Option<Zeroizing<String>>>, KeychainError> {
        let found = match &self.batch {
            Some(batch) => self.read_batch(batch, accounts).await,
            None => None,
        };
        let mut secrets = Vec::with_capacity(accounts.len());
        for (i, account) in accounts.iter().enumerate() {
            secrets.push(match found.as_ref().map(|f| &f[i]) {
                Some(Found::Secret(s)) => Some(s.clone()),
                Some(Found::Missing) => None,
                Some(Found::Elsewhere) | None => self.get_async(account).await?,
            });
        }
        Ok(secrets)
    }

    /// Opens the batched reader's connection and encrypted session before the first
    /// batch needs them, so that a caller can overlap them with other work (the CLI's
    /// `credential-process` with its workspace read). A failure is left for the batch.
    pub async fn prepare_batch(&self) {
        if let Some(batch) = &self.batch {
            self.read_batch(batch, &[]).await;
        }
    }

    /// Reads `accounts` through the batched Secret Service path only, with no fallback:
    /// an error when the batch fails or leaves an entry to keyring-core. For the tests
    /// that prove the batch itself answers; everything else calls
    /// [`Self::get_many_async`].
    #[doc(hidden)]
    pub async fn get_many_batched_only(
        &self,
        accounts: &[String],
    ) -> Result<Vec<Option<Zeroizing<String>>>, KeychainError> {
        let unanswered = || KeychainError::Unavailable {
            detail: "the batched Secret Service read did not answer".into(),
        };
        let batch = self.batch.as_ref().ok_or_else(unanswered)?;
        let found = self
            .read_batch(batch, accounts)
            .await
            .ok_or_else(unanswered)?;
        found
            .into_iter()
            .map(|f| match f {
                Found::Secret(s) => Ok(Some(s)),
                Found::Missing => Ok(None),
                Found::Elsewhere => Err(unanswered()),
            })
            .collect()
    }

    /// The batch's answers, or `None` when the batch failed (a new connection is
    /// opened next time: the service may have restarted under a long-lived app).
    async fn read_batch(&self, batch: &Batch, accounts: &[String]) -> Option<Vec<Found>> {
        let mut slot = batch.lock().await;
        let result = match slot.clone() {
            Some(reader) => {
                drop(slot);
                let found = reader.read(&self.service, accounts).await;
                if found.is_err() {
                    batch.lock().await.take();
                }
                found
            }
            None => Reader::open_and_read(&self.service, accounts)
                .await
                .map(|(reader, found)| {
                    *slot = Some(reader);
                    found
                }),
        };
        match result {
            Ok(found) => Some(found),
            Err(e) => {
                tracing::debug!("batched Secret Service read failed, reading one by one: {e}");
                None
            }
        }
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
    if let Some(trouble) = service_trouble(&e) {
        return trouble;
    }
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

/// Reads the Secret Service's own error inside a store error: a locked collection
/// (the store asked the service to unlock it, and the prompt was dismissed or could not
/// be shown) or a service that is no longer on the bus. `None` for anything else.
#[cfg(target_os = "linux")]
fn service_trouble(e: &keyring_core::Error) -> Option<KeychainError> {
    use ::secret_service::Error as S;
    use keyring_core::Error as E;
    let inner = match e {
        E::NoStorageAccess(inner) | E::PlatformFailure(inner) => inner,
        _ => return None,
    };
    match inner.downcast_ref::<S>()? {
        S::Locked | S::Prompt | S::PromptDisconnected => Some(KeychainError::Locked),
        S::Unavailable => Some(KeychainError::Unavailable {
            detail: "no Secret Service on the session bus".into(),
        }),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn service_trouble(_: &keyring_core::Error) -> Option<KeychainError> {
    None
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

/// macOS: the login Keychain (keyring-core's "legacy keychain" store, the one command-line
/// programs that are not code-signed with a provisioning profile can use). Built and
/// tested only by `.github/workflows/platforms.yml`, not on this project's Linux machines.
#[cfg(target_os = "macos")]
fn open_platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    let store = apple_native_keyring_store::keychain::Store::new().map_err(|e| {
        KeychainError::Unavailable {
            detail: format!("macOS Keychain: {e}"),
        }
    })?;
    Ok(store)
}

/// Windows: the Credential Manager. Built and tested only by
/// `.github/workflows/platforms.yml`, not on this project's Linux machines.
#[cfg(target_os = "windows")]
fn open_platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    let store =
        windows_native_keyring_store::Store::new().map_err(|e| KeychainError::Unavailable {
            detail: format!("Windows Credential Manager: {e}"),
        })?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn open_platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    Err(KeychainError::Unavailable {
        detail: "Rolehop has no keychain for this operating system".into(),
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
    fn an_absent_keychain_names_every_linux_provider_that_serves_it() {
        let e = KeychainError::Unavailable {
            detail: "no Secret Service on the session bus".into(),
        }
        .to_string();
        for provider in ["gnome-keyring", "KWallet 6", "KeePassXC", "Secret Service"] {
            assert!(e.contains(provider), "{provider} missing from: {e}");
        }
    }

    /// The platform's own keychain (the Secret Service here, the login Keychain on macOS,
    /// the Credential Manager on Windows): set, read back, delete, under a throw-away
    /// service name. Ignored by default: on Linux the end-to-end suites cover it against
    /// a private gnome-keyring; `.github/workflows/platforms.yml` runs it on macOS and
    /// Windows runners.
    #[test]
    #[ignore = "needs the platform keychain; run by .github/workflows/platforms.yml"]
    fn platform_keychain_round_trip() {
        let service = format!("rolehop-platform-test-{}", uuid::Uuid::new_v4());
        let keychain = Keychain::new(service);
        keychain.set("round-trip", "secret-1").unwrap();
        assert_eq!(
            keychain
                .get("round-trip")
                .unwrap()
                .as_deref()
                .map(String::as_str),
            Some("secret-1")
        );
        keychain.delete("round-trip").unwrap();
        assert_eq!(keychain.get("round-trip").unwrap(), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_secret_services_own_errors_read_as_locked_or_unavailable() {
        use ::secret_service::Error as S;
        use keyring_core::Error as E;
        for dismissed in [S::Prompt, S::Locked, S::PromptDisconnected] {
            let e = map_err("a", E::NoStorageAccess(Box::new(dismissed)));
            assert_eq!(e, KeychainError::Locked);
            assert!(
                e.to_string()
                    .starts_with("the keychain is locked: unlock it and try again"),
                "{e}"
            );
        }
        let gone = map_err("a", E::PlatformFailure(Box::new(S::Unavailable)));
        assert!(matches!(gone, KeychainError::Unavailable { .. }), "{gone}");
        assert!(gone.to_string().contains("try again"), "{gone}");
        let other = map_err("a", E::NoStorageAccess("denied by policy".into()));
        assert!(matches!(other, KeychainError::Access { .. }), "{other}");
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
