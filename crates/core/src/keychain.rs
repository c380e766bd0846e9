//! Secrets in the operating system's keychain, through the keyring ecosystem.
//!
//! Access keys and cached session tokens live here and nowhere else. Every entry is
//! stored under a *service* name (`rolehop` by default) that tests set to a throw-away
//! value, so a test never touches a user's real entries. The calls are blocking D-Bus
//! (or Keychain / Credential Manager) round trips: async code goes through the `*_async`
//! variants, which hop onto tokio's blocking pool.

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use crate::secret_service::{Found, Reader};

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

/// A handle on one service's entries in the OS keychain. Cheap to clone.
#[derive(Clone)]
pub struct Keychain {
    service: Arc<str>,
    store: Arc<OnceLock<Result<Arc<CredentialStore>, KeychainError>>>,
    /// The batched Secret Service reader ([`Keychain::get_many_async`]); `None` for a
    /// keychain over another store, whose batches are one read per account.
    batch: Option<Batch>,
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
    /// A keychain for `service`; nothing is opened until the first call.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: Arc::from(service.into()),
            store: Arc::new(OnceLock::new()),
            #[cfg(target_os = "linux")]
            batch: Some(Arc::default()),
            #[cfg(not(target_os = "linux"))]
            batch: None,
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn store(&self) -> Result<&Arc<CredentialStore>, KeychainError> {
        self.store
            .get_or_init(open_platform_store)
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

fn map_err(account: &str, e: keyring_core::Error) -> KeychainError {
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
