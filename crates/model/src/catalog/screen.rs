//! The first pass over a catalog: before any field is interpreted, every key at every
//! depth is looked at, and every string value. A key that would carry a secret, an
//! endpoint or a command is refused by name, wherever it is (a strict reader would
//! refuse it too, but as "unknown field", which does not tell the team why); a value
//! shaped like an access key id or a secret access key is refused without being
//! repeated. The refusal names the line and the field's path.

use std::sync::LazyLock;

use regex::Regex;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{CatalogError, line_of};

/// Why a key is refused, by the words in its name (lower case, `-` read as `_`): a key
/// is refused when its words, in order, include a word starting with each of the
/// term's words (`aws_secret_access_key`, `credential_process`, `executable`), so
/// `description` is not taken for `script`.
const REFUSED_KEYS: [(&str, &str); 19] = [
    ("secret", "a catalog never holds a secret"),
    ("token", "a catalog never holds a token"),
    ("password", "a catalog never holds a password"),
    ("passphrase", "a catalog never holds a passphrase"),
    ("private_key", "a catalog never holds a private key"),
    (
        "access_key",
        "a catalog never holds access keys: bind your own IAM user instead",
    ),
    (
        "key_id",
        "a catalog never holds access keys: bind your own IAM user instead",
    ),
    (
        "credential",
        "a catalog never holds credentials or a credential_process",
    ),
    (
        "endpoint",
        "a catalog may not choose where credentials are sent (no endpoint)",
    ),
    (
        "proxy",
        "a catalog may not choose where credentials are sent (no proxy)",
    ),
    (
        "ca_bundle",
        "a catalog may not choose which certificates are trusted",
    ),
    ("process", "a catalog never runs a command"),
    ("command", "a catalog never runs a command"),
    ("cmd", "a catalog never runs a command"),
    ("exec", "a catalog never runs a command"),
    ("script", "a catalog never runs a command"),
    ("shell", "a catalog never runs a command"),
    ("hook", "a catalog never runs a command"),
    ("program", "a catalog never runs a command"),
];

/// An access key id (long-lived `AKIA`, temporary `ASIA`) anywhere in a string.
static ACCESS_KEY_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(AKIA|ASIA)[A-Z2-7]{16}\b").expect("a valid pattern"));

/// A word shaped like a secret access key: 40 characters of base64 with upper, lower
/// case and digits (an ARN, a URL or a sentence never is one word of that shape).
fn looks_like_secret(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '+'))
        .any(|w| {
            w.len() == 40
                && w.bytes().any(|b| b.is_ascii_uppercase())
                && w.bytes().any(|b| b.is_ascii_lowercase())
                && w.bytes().any(|b| b.is_ascii_digit())
        })
}

/// Refuses the first secret, endpoint or command in `table`.
pub(super) fn screen(text: &str, table: &Spanned<DeTable<'_>>) -> Result<(), CatalogError> {
    walk_table(text, "", table.get_ref())
}

fn walk_table(text: &str, path: &str, table: &DeTable<'_>) -> Result<(), CatalogError> {
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        let field = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        let folded = name.to_lowercase().replace('-', "_");
        let words: Vec<&str> = folded.split('_').collect();
        if let Some((_, why)) = REFUSED_KEYS.iter().find(|(term, _)| says(&words, term)) {
            return Err(CatalogError::new(
                Some(line_of(text, key.span().start)),
                field,
                format!("field '{}' is refused: {why}", name.escape_debug()),
            ));
        }
        walk_value(text, &field, value)?;
    }
    Ok(())
}

/// Whether `words` hold the words of `term` one after another, each a prefix.
fn says(words: &[&str], term: &str) -> bool {
    let term: Vec<&str> = term.split('_').collect();
    words
        .windows(term.len())
        .any(|w| w.iter().zip(&term).all(|(word, t)| word.starts_with(t)))
}

fn walk_value(text: &str, field: &str, value: &Spanned<DeValue<'_>>) -> Result<(), CatalogError> {
    let line = || Some(line_of(text, value.span().start));
    match value.get_ref() {
        DeValue::String(s) => {
            if ACCESS_KEY_ID.is_match(s) {
                return Err(CatalogError::new(
                    line(),
                    field,
                    "holds an access key id: a catalog never holds access keys",
                ));
            }
            if looks_like_secret(s) {
                return Err(CatalogError::new(
                    line(),
                    field,
                    "holds what looks like a secret access key: a catalog never holds secrets",
                ));
            }
            Ok(())
        }
        DeValue::Table(t) => walk_table(text, field, t),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(text, &format!("{field}[{i}]"), item)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
