//! Where a taken-over section of the user's waits until the session stops.
//!
//! A section the user wrote may hold their own long-lived keys, so it goes to the OS
//! keychain, never to the ledger or a file. The store is a small trait so that unit tests
//! of the take-over path can run where no Secret Service is reachable (the in-memory
//! [`MemoryVault`]); the end-to-end suite runs the same path against a real gnome-keyring.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::keychain::Keychain;

/// Keeps the exact bytes of sections Rolehop took over.
pub trait SectionVault: Send + Sync {
    fn save(&self, account: &str, bytes: &[u8]) -> Result<(), String>;
    fn load(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String>;
    fn delete(&self, account: &str) -> Result<(), String>;
}

/// The keychain account for `profile`'s section in `file`.
pub fn account_for(file: &str, profile: &str) -> String {
    format!("aws-files/taken-over/{profile}@{file}")
}

/// The OS keychain. Keychain entries are strings: UTF-8 sections are stored as they are,
/// anything else as hex, so that every byte comes back.
pub struct KeychainVault(pub Keychain);

impl SectionVault for KeychainVault {
    fn save(&self, account: &str, bytes: &[u8]) -> Result<(), String> {
        let encoded = Zeroizing::new(match std::str::from_utf8(bytes) {
            Ok(text) => format!("utf8:{text}"),
            Err(_) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!("hex:{hex}")
            }
        });
        self.0.set(account, &encoded).map_err(|e| e.to_string())
    }

    fn load(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
        let Some(stored) = self.0.get(account).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        if let Some(text) = stored.strip_prefix("utf8:") {
            return Ok(Some(Zeroizing::new(text.as_bytes().to_vec())));
        }
        let hex = stored
            .strip_prefix("hex:")
            .filter(|h| h.len() % 2 == 0 && h.is_ascii())
            .ok_or_else(|| format!("the keychain entry '{account}' has an unknown format"))?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| format!("the keychain entry '{account}' is not valid hex"))?;
        Ok(Some(Zeroizing::new(bytes)))
    }

    fn delete(&self, account: &str) -> Result<(), String> {
        self.0.delete(account).map_err(|e| e.to_string())
    }
}

/// An in-memory vault for tests that cannot reach a Secret Service.
#[derive(Default)]
pub struct MemoryVault {
    entries: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl MemoryVault {
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SectionVault for MemoryVault {
    fn save(&self, account: &str, bytes: &[u8]) -> Result<(), String> {
        self.entries
            .lock()
            .unwrap()
            .insert(account.to_owned(), Zeroizing::new(bytes.to_vec()));
        Ok(())
    }

    fn load(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }

    fn delete(&self, account: &str) -> Result<(), String> {
        self.entries.lock().unwrap().remove(account);
        Ok(())
    }
}
