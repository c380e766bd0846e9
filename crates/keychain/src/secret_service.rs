//! Batched reads from the freedesktop Secret Service, for the hot paths.
//!
//! keyring-core's Secret Service store answers one account per call: a search, a proxy,
//! a `GetSecret`, each waited for in turn, after a session whose Diffie-Hellman exchange
//! costs two 1024-bit modular exponentiations done bit by bit (about 3 ms of CPU per
//! process here). `rolehop credential-process` runs once per AWS credential refresh and
//! a chain start reads every hop's cache, so reads take this shorter path instead:
//!
//! - one connection; `OpenSession` and the searches for every account are sent at
//!   once and answered together (one round trip), then one `GetSecrets` carries all
//!   the secrets found (a second);
//! - the session stays encrypted (`dh-ietf1024-sha256-aes128-cbc-pkcs7`, as keyring-core
//!   negotiates): the exchange uses num-bigint's Montgomery `modpow` and a 256-bit
//!   private exponent, twice the 1024-bit group's ~80-bit strength plus margin
//!   (RFC 7919 §5.2 asks for at least twice the strength), a few hundred µs in all.
//!
//! Writes and deletes, locked items (which need an unlock prompt) and accounts matched by
//! more than one item stay with keyring-core: this module only answers the plain case
//! and says which accounts it leaves to the caller.

use std::collections::HashMap;

use num_bigint::BigUint;
use zbus::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zeroize::Zeroizing;

const DESTINATION: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_INTERFACE: &str = "org.freedesktop.Secret.Service";
const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

/// The Second Oakley Group (RFC 2409 §6.2), the Secret Service's DH group; generator 2.
const DH_PRIME: &[u8] = &[
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
    0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
    0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];
const PRIVATE_EXPONENT_BYTES: usize = 32;

/// What a batched read found for one account.
#[derive(Debug)]
pub enum Found {
    /// The secret, decrypted.
    Secret(Zeroizing<String>),
    /// No item has this account.
    Missing,
    /// Locked, ambiguous or unreadable here: ask keyring-core, which prompts to unlock
    /// and reports ambiguity in its own words.
    Elsewhere,
}

/// An open, encrypted Secret Service session on its own connection. Cheap to clone.
/// The service closes the session with the connection (closing it explicitly would
/// cost a round trip on every exit).
#[derive(Clone)]
pub struct Reader {
    connection: Connection,
    session: OwnedObjectPath,
    key: Zeroizing<[u8; 16]>,
}

type SearchReply = (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>);
/// `(session, parameters (the AES IV), value (ciphertext), content type)`.
type SecretReply = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

impl Reader {
    /// Connects, opens the session and searches `service`'s `accounts` all at once: the
    /// reader and what it found, in the order of `accounts`.
    pub async fn open_and_read(
        service: &str,
        accounts: &[String],
    ) -> zbus::Result<(Self, Vec<Found>)> {
        let connection = Connection::session().await?;
        let (private, public) = keypair();
        let open = {
            let connection = connection.clone();
            tokio::spawn(async move {
                let reply = connection
                    .call_method(
                        Some(DESTINATION),
                        SERVICE_PATH,
                        Some(SERVICE_INTERFACE),
                        "OpenSession",
                        &(ALGORITHM, Value::from(public)),
                    )
                    .await?;
                reply.body().deserialize::<(OwnedValue, OwnedObjectPath)>()
            })
        };
        let searches = spawn_searches(&connection, service, accounts);
        let (output, session) = joined(open).await?;
        let server_public: Vec<u8> = output.try_into()?;
        let key = shared_key(&private, &server_public).ok_or_else(|| {
            zbus::Error::Failure("the Secret Service sent an invalid public key".into())
        })?;
        let reader = Self {
            connection,
            session,
            key,
        };
        let found = reader.fetch(searches).await?;
        Ok((reader, found))
    }

    /// Searches and reads `service`'s `accounts` on the open session.
    pub async fn read(&self, service: &str, accounts: &[String]) -> zbus::Result<Vec<Found>> {
        let searches = spawn_searches(&self.connection, service, accounts);
        self.fetch(searches).await
    }

    async fn fetch(
        &self,
        searches: Vec<tokio::task::JoinHandle<zbus::Result<SearchReply>>>,
    ) -> zbus::Result<Vec<Found>> {
        let mut paths: Vec<Option<OwnedObjectPath>> = Vec::with_capacity(searches.len());
        let mut found = Vec::with_capacity(searches.len());
        for search in searches {
            let (unlocked, locked) = joined(search).await?;
            let (path, answer) = match (unlocked.as_slice(), locked.is_empty()) {
                ([], true) => (None, Found::Missing),
                ([only], true) => (Some(only.clone()), Found::Missing),
                _ => (None, Found::Elsewhere),
            };
            paths.push(path);
            found.push(answer);
        }
        let wanted: Vec<&OwnedObjectPath> = paths.iter().flatten().collect();
        if wanted.is_empty() {
            return Ok(found);
        }
        let reply = self
            .connection
            .call_method(
                Some(DESTINATION),
                SERVICE_PATH,
                Some(SERVICE_INTERFACE),
                "GetSecrets",
                &(wanted, &self.session),
            )
            .await?;
        let mut secrets: HashMap<OwnedObjectPath, SecretReply> = reply.body().deserialize()?;
        for (path, answer) in paths.iter().zip(found.iter_mut()) {
            let Some(path) = path else { continue };
            *answer = match secrets.remove(path) {
                Some((_, iv, value, _)) => self
                    .decrypt(&iv, &value)
                    .map_or(Found::Elsewhere, Found::Secret),
                // Locked between the search and the read.
                None => Found::Elsewhere,
            };
        }
        Ok(found)
    }

    /// The plaintext, when it decrypts and is UTF-8 (else keyring-core reports it).
    fn decrypt(&self, iv: &[u8], value: &[u8]) -> Option<Zeroizing<String>> {
        use aes::cipher::block_padding::Pkcs7;
        use aes::cipher::{BlockModeDecrypt, KeyIvInit};
        let decryptor = cbc::Decryptor::<aes::Aes128>::new_from_slices(&*self.key, iv).ok()?;
        let plain = Zeroizing::new(decryptor.decrypt_padded_vec::<Pkcs7>(value).ok()?);
        let text = std::str::from_utf8(&plain).ok()?;
        Some(Zeroizing::new(text.to_owned()))
    }
}

fn spawn_searches(
    connection: &Connection,
    service: &str,
    accounts: &[String],
) -> Vec<tokio::task::JoinHandle<zbus::Result<SearchReply>>> {
    accounts
        .iter()
        .map(|account| {
            let connection = connection.clone();
            let attributes = HashMap::from([
                ("service".to_owned(), service.to_owned()),
                ("username".to_owned(), account.clone()),
            ]);
            tokio::spawn(async move {
                let reply = connection
                    .call_method(
                        Some(DESTINATION),
                        SERVICE_PATH,
                        Some(SERVICE_INTERFACE),
                        "SearchItems",
                        &(attributes,),
                    )
                    .await?;
                reply.body().deserialize::<SearchReply>()
            })
        })
        .collect()
}

async fn joined<T>(task: tokio::task::JoinHandle<zbus::Result<T>>) -> zbus::Result<T> {
    task.await
        .unwrap_or_else(|e| Err(zbus::Error::Failure(format!("Secret Service task: {e}"))))
}

/// A private exponent and the public value `2^x mod p`, big-endian.
fn keypair() -> (BigUint, Vec<u8>) {
    let mut bytes = Zeroizing::new([0u8; PRIVATE_EXPONENT_BYTES]);
    getrandom::fill(&mut *bytes).expect("the platform's random number generator failed");
    let private = BigUint::from_bytes_be(&*bytes);
    let public = BigUint::from(2u32).modpow(&private, &BigUint::from_bytes_be(DH_PRIME));
    (private, public.to_bytes_be())
}

/// The AES-128 key: HKDF-SHA256 (no salt, no info) over the 128-byte shared secret.
/// `None` for a degenerate server value (0, 1, p-1 or beyond the group).
fn shared_key(private: &BigUint, server_public: &[u8]) -> Option<Zeroizing<[u8; 16]>> {
    let prime = BigUint::from_bytes_be(DH_PRIME);
    let server = BigUint::from_bytes_be(server_public);
    let one = BigUint::from(1u32);
    if server <= one || server >= &prime - &one {
        return None;
    }
    let shared = server.modpow(private, &prime).to_bytes_be();
    let mut ikm = Zeroizing::new(vec![0u8; DH_PRIME.len().saturating_sub(shared.len())]);
    ikm.extend_from_slice(&shared);
    let mut key = Zeroizing::new([0u8; 16]);
    hkdf::Hkdf::<sha2::Sha256>::new(None, &ikm)
        .expand(&[], &mut *key)
        .expect("16 bytes is a valid HKDF-SHA256 length");
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_of_the_exchange_derive_the_same_key() {
        let (ours, our_public) = keypair();
        let (theirs, their_public) = keypair();
        let mine = shared_key(&ours, &their_public).expect("valid value");
        let other = shared_key(&theirs, &our_public).expect("valid value");
        assert_eq!(*mine, *other);
        assert_ne!(*mine, [0u8; 16]);
    }

    #[test]
    fn degenerate_server_values_are_refused() {
        let (ours, _) = keypair();
        let prime = BigUint::from_bytes_be(DH_PRIME);
        let one = BigUint::from(1u32);
        for value in [
            BigUint::from(0u32),
            one.clone(),
            &prime - &one,
            prime.clone(),
        ] {
            assert!(shared_key(&ours, &value.to_bytes_be()).is_none(), "{value}");
        }
    }
}
