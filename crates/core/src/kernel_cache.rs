//! A read-through copy of active sessions' temporary credentials in the Linux kernel
//! keyring, in front of the keychain (the Secret Service), which stays the record.
//!
//! `rolehop credential-process` runs on every credential refresh of every AWS tool; a
//! Secret Service read costs a D-Bus connection and an encrypted session (a
//! Diffie-Hellman exchange on gnome-keyring's side) before the first byte of a secret,
//! several milliseconds. A `user` key in the caller's user keyring (`@u`) is one system
//! call away and never touches the disk. What is kept there, and why it is safe enough,
//! is in ARCHITECTURE.md ("How fast"); in short:
//! - only the temporary credentials STS gave an *active* session (access key, secret,
//!   session token, expiry) — [`KernelCache::put`] refuses anything without a session
//!   token and an expiry, so an IAM user's long-lived keys can never land here;
//! - one key per workspace and session, described `rolehop:SERVICE:WORKSPACE:SESSION`
//!   (the workspace part is a hash of the Rolehop home, so two workspaces, or two
//!   tests, never share an entry), possessor and user permissions only, and a kernel
//!   timeout at the credentials' expiry;
//! - an answer from here is taken only when the workspace says the session is active
//!   with exactly these credentials' expiry (so a stale copy left by a race with a stop
//!   or a rotation in another process is never answered), and every path that ends or
//!   replaces a session's credentials drops the key, through the engine's one place
//!   for dropping copies (`engine/forget.rs`: stop, a restart, a failed start or
//!   rotation, removal, new or rotated access keys, a logout, a sync's removals).
//!
//! The kernel may refuse all of it (a seccomp filter such as a container runtime's,
//! the per-user key quota, another OS): then every call here quietly does nothing (a
//! debug line says why) and the keychain answers as before. `ROLEHOP_KERNEL_CACHE=0`
//! turns it off.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::credentials::Credentials;
use crate::model::SessionId;

/// Which credentials these are, without a secret: the first 16 bytes of the SHA-256 of
/// the access key id, in hex. The workspace records it for an active session's start or
/// rotation, and a kernel copy is answered only when its fingerprint matches.
pub fn fingerprint(creds: &Credentials) -> String {
    Sha256::digest(creds.access_key_id.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The environment variable that turns the kernel copy off (`0`, `off`, `false`).
pub const ENV_SWITCH: &str = "ROLEHOP_KERNEL_CACHE";

/// The kernel keyring copy of one workspace's session credentials (a no-op where
/// turned off or not on Linux).
#[derive(Debug, Clone)]
pub struct KernelCache {
    /// `rolehop:SERVICE:WORKSPACE:`, or `None` when the cache is off.
    prefix: Option<String>,
}

impl KernelCache {
    /// The cache for the workspace in `home` whose keychain entries are under
    /// `service`; off when [`ENV_SWITCH`] says so.
    pub fn new(service: &str, home: &Path) -> Self {
        let off = std::env::var(ENV_SWITCH)
            .is_ok_and(|v| matches!(v.trim(), "0" | "off" | "false" | "no"));
        if off || !cfg!(target_os = "linux") {
            return Self::off();
        }
        // The path as given (canonicalizing would cost a system call per component on
        // every command): the CLI and the app name the home the same way.
        let hash = Sha256::digest(home.as_os_str().as_encoded_bytes());
        let workspace: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            prefix: Some(format!("rolehop:{service}:{workspace}:")),
        }
    }

    /// A cache that keeps nothing (unit tests over a mock keychain).
    pub fn off() -> Self {
        Self { prefix: None }
    }

    /// Whether this cache keeps anything (it may still find the kernel refusing).
    pub fn is_on(&self) -> bool {
        self.prefix.is_some()
    }

    /// The key's description for `id`, or `None` when off.
    pub fn description(&self, id: SessionId) -> Option<String> {
        self.prefix.as_ref().map(|p| format!("{p}{id}"))
    }

    /// The copy kept for `id`, if any and readable.
    pub fn get(&self, id: SessionId) -> Option<Credentials> {
        let description = self.description(id)?;
        let json = sys::read(&description)?;
        match serde_json::from_slice::<Credentials>(&json) {
            Ok(creds) => Some(creds),
            Err(_) => {
                // Not ours, or from another version: never answer it, and drop it.
                tracing::debug!(key = %description, "unreadable kernel keyring entry dropped");
                sys::drop_key(&description);
                None
            }
        }
    }

    /// Keeps `creds` for `id` until they expire. Only temporary credentials (a session
    /// token and an expiry) are kept; anything else is refused, as are credentials
    /// already expired.
    pub fn put(&self, id: SessionId, creds: &Credentials) {
        let Some(description) = self.description(id) else {
            return;
        };
        let (Some(_), Some(expiration)) = (&creds.session_token, creds.expiration) else {
            tracing::debug!("not copied to the kernel keyring: not temporary credentials");
            return;
        };
        let seconds = (expiration - chrono::Utc::now()).num_seconds();
        let Ok(seconds) = usize::try_from(seconds) else {
            return;
        };
        if seconds == 0 {
            return;
        }
        let json =
            zeroize::Zeroizing::new(serde_json::to_vec(creds).expect("credentials serialize"));
        sys::write(&description, &json, seconds);
    }

    /// Drops the copy kept for `id`, if any. The engine calls this from
    /// `engine/forget.rs` only, which decides when.
    pub fn remove(&self, id: SessionId) {
        if let Some(description) = self.description(id) {
            sys::drop_key(&description);
        }
    }
}

#[cfg(target_os = "linux")]
mod sys {
    //! The system calls, through `linux-keyutils`: a `user` key in the user keyring
    //! (`@u`), reached through its special id, which makes the caller its possessor.
    use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
    use zeroize::Zeroizing;

    /// More than any credentials JSON Rolehop keeps (about 1.2 KB with a role's token;
    /// STS answers with a token over 8 KiB are refused before they get here).
    const READ_BUFFER: usize = 16 * 1024;

    fn ring() -> Result<KeyRing, KeyError> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true)
    }

    fn quiet(what: &str, description: &str, e: KeyError) {
        tracing::debug!(key = %description, "kernel keyring {what} failed ({e:?}); the keychain answers");
    }

    pub fn read(description: &str) -> Option<Zeroizing<Vec<u8>>> {
        let key = match ring().and_then(|r| r.search(description)) {
            Ok(key) => key,
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                return None;
            }
            Err(e) => {
                quiet("search", description, e);
                return None;
            }
        };
        let mut buffer = Zeroizing::new(vec![0u8; READ_BUFFER]);
        match key.read(&mut *buffer) {
            Ok(len) if len <= buffer.len() => {
                buffer.truncate(len);
                Some(buffer)
            }
            Ok(_) => None, // larger than any entry of ours: not ours
            Err(e) => {
                quiet("read", description, e);
                None
            }
        }
    }

    pub fn write(description: &str, payload: &[u8], timeout_seconds: usize) {
        let added = ring().and_then(|r| r.add_key(description, payload));
        let key = match added {
            Ok(key) => key,
            Err(e) => return quiet("add", description, e),
        };
        // The key's own timeout first: it is what removes it when this process dies
        // right here. Then the permissions: the possessor reads, replaces and drops it,
        // the user only sees it listed; no group, no other, and no linking it into a
        // longer-lived keyring.
        let perms = KeyPermissionsBuilder::builder()
            .posessor(
                Permission::VIEW
                    | Permission::READ
                    | Permission::WRITE
                    | Permission::SEARCH
                    | Permission::SETATTR,
            )
            .user(Permission::VIEW)
            .build();
        if let Err(e) = key
            .set_timeout(timeout_seconds)
            .and_then(|()| key.set_perms(perms))
        {
            quiet("timeout or permissions", description, e);
            let _ = key.invalidate();
        }
    }

    pub fn drop_key(description: &str) {
        match ring().and_then(|r| r.search(description)) {
            Ok(key) => {
                if let Err(e) = key.invalidate() {
                    quiet("invalidate", description, e);
                }
            }
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {}
            Err(e) => quiet("search", description, e),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use zeroize::Zeroizing;

    pub fn read(_: &str) -> Option<Zeroizing<Vec<u8>>> {
        None
    }
    pub fn write(_: &str, _: &[u8], _: usize) {}
    pub fn drop_key(_: &str) {}
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    //! Against the real kernel keyring of the user running the tests; every test's
    //! keys are under a workspace of its own (a fresh directory), and dropped.
    use super::*;
    use chrono::Utc;
    use zeroize::Zeroizing;

    fn cache() -> (KernelCache, tempfile::TempDir) {
        let home = tempfile::tempdir().unwrap();
        (KernelCache::new("rolehop-unit", home.path()), home)
    }

    fn temporary(minutes: i64) -> Credentials {
        Credentials {
            access_key_id: "ASIATEMPORARY0000001".into(),
            secret_access_key: Zeroizing::new("temporary-secret".into()),
            session_token: Some(Zeroizing::new("token".into())),
            expiration: Some(Utc::now() + chrono::Duration::minutes(minutes)),
        }
    }

    /// Whether this environment lets us use the kernel keyring at all (a seccomp
    /// filter may not): the tests below say so instead of failing for it.
    fn kernel_refuses(cache: &KernelCache) -> bool {
        let id = SessionId::new();
        cache.put(id, &temporary(5));
        let refused = cache.get(id).is_none();
        cache.remove(id);
        if refused {
            eprintln!("the kernel keyring refuses this process: nothing to test here");
        }
        refused
    }

    #[test]
    fn temporary_credentials_are_kept_read_back_and_dropped() {
        let (cache, _home) = cache();
        if kernel_refuses(&cache) {
            return;
        }
        let id = SessionId::new();
        let creds = temporary(30);
        cache.put(id, &creds);
        let read = cache.get(id).expect("kept");
        assert_eq!(read.access_key_id, creds.access_key_id);
        assert_eq!(*read.secret_access_key, *creds.secret_access_key);
        assert_eq!(read.expiration, creds.expiration);
        cache.remove(id);
        assert!(cache.get(id).is_none());
        cache.remove(id); // dropping what is gone is fine
    }

    #[test]
    fn long_lived_keys_and_expired_credentials_are_never_kept() {
        let (cache, _home) = cache();
        if kernel_refuses(&cache) {
            return;
        }
        let id = SessionId::new();
        let long_lived = Credentials {
            session_token: None,
            expiration: None,
            ..temporary(30)
        };
        cache.put(id, &long_lived);
        assert!(
            cache.get(id).is_none(),
            "an IAM user's keys never go to the kernel"
        );
        let no_expiry = Credentials {
            expiration: None,
            ..temporary(30)
        };
        cache.put(id, &no_expiry);
        assert!(cache.get(id).is_none());
        cache.put(id, &temporary(-1));
        assert!(cache.get(id).is_none(), "already expired");
    }

    #[test]
    fn two_workspaces_and_two_services_never_share_an_entry() {
        let (a, _home_a) = cache();
        if kernel_refuses(&a) {
            return;
        }
        let (b, _home_b) = cache();
        let home_a = _home_a.path();
        let other_service = KernelCache::new("rolehop-unit-other", home_a);
        let id = SessionId::new();
        a.put(id, &temporary(30));
        assert!(b.get(id).is_none());
        assert!(other_service.get(id).is_none());
        assert!(KernelCache::new("rolehop-unit", home_a).get(id).is_some());
        a.remove(id);
    }

    #[test]
    fn turned_off_it_keeps_nothing() {
        let off = KernelCache::off();
        assert!(!off.is_on());
        let id = SessionId::new();
        off.put(id, &temporary(30));
        assert!(off.get(id).is_none());
        assert!(off.description(id).is_none());
    }
}
