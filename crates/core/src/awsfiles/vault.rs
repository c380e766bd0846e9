//! Where a taken-over section of the user's waits until the session stops.
//!
//! A section the user wrote may hold their own long-lived keys, so it goes to the
//! keychain, never to the ledger or a file. Unit tests run the take-over path over
//! keyring-core's mock store (see [`crate::keychain::KeychainStore`]); the end-to-end
//! suite runs it against a real gnome-keyring.

use zeroize::Zeroizing;

use crate::keychain::Keychain;

/// The keychain account for `profile`'s section in `file`.
pub fn account_for(file: &str, profile: &str) -> String {
    format!("aws-files/taken-over/{profile}@{file}")
}

/// Keeps the exact bytes of sections Rolehop took over. Keychain entries are strings:
/// UTF-8 sections are stored as they are, anything else as hex, so that every byte comes
/// back. Every temporary copy is wiped.
#[derive(Debug, Clone)]
pub struct SectionVault(pub Keychain);

impl SectionVault {
    pub fn save(&self, account: &str, bytes: &[u8]) -> Result<(), String> {
        let encoded = Zeroizing::new(match std::str::from_utf8(bytes) {
            Ok(text) => [&b"utf8:"[..], text.as_bytes()].concat(),
            Err(_) => {
                let mut hex = Vec::with_capacity(4 + 2 * bytes.len());
                hex.extend_from_slice(b"hex:");
                for b in bytes {
                    hex.extend_from_slice(&hex_digits(*b));
                }
                hex
            }
        });
        // The encoding is ASCII or the UTF-8 it was checked to be.
        let text = std::str::from_utf8(&encoded).expect("encoded sections are UTF-8");
        self.0.set(account, text).map_err(|e| e.to_string())
    }

    pub fn load(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
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
        let mut bytes = Zeroizing::new(Vec::with_capacity(hex.len() / 2));
        for pair in hex.as_bytes().chunks(2) {
            let digits = std::str::from_utf8(pair).unwrap_or_default();
            let byte = u8::from_str_radix(digits, 16)
                .map_err(|_| format!("the keychain entry '{account}' is not valid hex"))?;
            bytes.push(byte);
        }
        Ok(Some(bytes))
    }

    pub fn delete(&self, account: &str) -> Result<(), String> {
        self.0.delete(account).map_err(|e| e.to_string())
    }
}

fn hex_digits(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[(b >> 4) as usize], DIGITS[(b & 0xf) as usize]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::KeychainStore;

    fn vault() -> SectionVault {
        SectionVault(Keychain::in_store(
            "rolehop-vault-tests",
            KeychainStore::mock(),
        ))
    }

    #[test]
    fn a_utf8_section_and_a_binary_one_come_back_byte_for_byte() {
        let vault = vault();
        let text = b"aws_access_key_id = AKIA\r\n; caf\xc3\xa9\n".as_slice();
        let binary = b"k = \xff\xfe\x00v\r".as_slice();
        vault.save("a", text).unwrap();
        vault.save("b", binary).unwrap();
        assert_eq!(vault.load("a").unwrap().unwrap().as_slice(), text);
        assert_eq!(vault.load("b").unwrap().unwrap().as_slice(), binary);
        vault.delete("a").unwrap();
        assert!(vault.load("a").unwrap().is_none());
    }

    #[test]
    fn an_entry_of_an_unknown_format_is_an_error_naming_it() {
        let vault = vault();
        vault.0.set("x", "garbage").unwrap();
        let err = vault.load("x").unwrap_err();
        assert!(err.contains("'x'"), "{err}");
    }
}
