//! Session tags and transitive tag keys of an `AssumeRole` call, as STS checks them
//! (STS API reference, `Tag` and `AssumeRole`): at most 50 tags; a key of 1–128 and a
//! value of 0–256 characters, each of letters, separators, digits and `_.:/=+-@`
//! (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`); keys unique whatever their case (STS treats keys
//! case-insensitively); transitive keys among the tags' keys.

use std::sync::LazyLock;

use regex::Regex;

use super::{Result, ValidationError};
use crate::session::SessionTag;

/// STS's limit on the tags of one session (and on its transitive keys).
pub const MAX_SESSION_TAGS: usize = 50;
const KEY_CHARS: usize = 128;
const VALUE_CHARS: usize = 256;
const ALLOWED: &str = "letters, digits, spaces and _.:/=+-@";

/// The pattern STS documents for keys and values.
static TAG_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("a valid pattern"));

/// One key, under `field` (`tags` or `transitive_tag_keys`).
fn key(field: &str, key: &str) -> Result {
    let chars = key.chars().count();
    if !(1..=KEY_CHARS).contains(&chars) {
        return Err(ValidationError::new(
            field,
            format!("a tag key must be 1–{KEY_CHARS} characters ('{key}' has {chars})"),
        ));
    }
    if !TAG_TEXT.is_match(key) {
        return Err(ValidationError::new(
            field,
            format!(
                "tag key '{}' may only contain {ALLOWED}",
                key.escape_debug()
            ),
        ));
    }
    Ok(())
}

/// The tags and transitive keys of one role hop.
pub fn session_tags(tags: &[SessionTag], transitive: &[String]) -> Result {
    if tags.len() > MAX_SESSION_TAGS {
        return Err(ValidationError::new(
            "tags",
            format!(
                "at most {MAX_SESSION_TAGS} session tags ({} given)",
                tags.len()
            ),
        ));
    }
    let mut seen: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        key("tags", &tag.key)?;
        let chars = tag.value.chars().count();
        if chars > VALUE_CHARS {
            return Err(ValidationError::new(
                "tags",
                format!(
                    "the value of tag '{}' must be at most {VALUE_CHARS} characters ({chars})",
                    tag.key
                ),
            ));
        }
        if !TAG_TEXT.is_match(&tag.value) {
            return Err(ValidationError::new(
                "tags",
                format!("the value of tag '{}' may only contain {ALLOWED}", tag.key),
            ));
        }
        let folded = tag.key.to_lowercase();
        if seen.contains(&folded) {
            return Err(ValidationError::new(
                "tags",
                format!(
                    "tag key '{}' is given twice (keys are compared without case)",
                    tag.key
                ),
            ));
        }
        seen.push(folded);
    }
    for k in transitive {
        key("transitive_tag_keys", k)?;
        if !seen.contains(&k.to_lowercase()) {
            return Err(ValidationError::new(
                "transitive_tag_keys",
                format!(
                    "'{}' is not the key of one of this session's tags",
                    k.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

/// `KEY=VALUE` as the CLI's `--tag` takes it (the value may contain `=`, and be empty).
pub fn parse_tag(text: &str) -> std::result::Result<SessionTag, ValidationError> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(ValidationError::new(
            "tags",
            format!("'{}' is not KEY=VALUE", text.escape_debug()),
        ));
    };
    Ok(SessionTag {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> SessionTag {
        SessionTag {
            key: k.into(),
            value: v.into(),
        }
    }

    fn refused(tags: &[SessionTag], transitive: &[&str]) -> ValidationError {
        let transitive: Vec<String> = transitive.iter().map(|s| (*s).to_owned()).collect();
        session_tags(tags, &transitive).unwrap_err()
    }

    #[test]
    fn session_tags_within_sts_limits_pass() {
        let mut tags: Vec<SessionTag> = (0..50).map(|i| tag(&format!("k{i}"), "")).collect();
        tags[0] = tag(&"K".repeat(128), &"v".repeat(256));
        tags[1] = tag("Équipe dé-ploi_1.2:3/4=5+6@", "Zürich ٣ 東京");
        // Transitive keys match without case, as STS compares keys.
        session_tags(&tags, &["k2".into(), "k".repeat(128)]).unwrap();
    }

    #[test]
    fn session_tags_refused_as_sts_refuses_them_naming_the_field() {
        let many: Vec<SessionTag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        let e = refused(&many, &[]);
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("tags", "at most 50 session tags (51 given)")
        );
        assert_eq!(refused(&[tag("", "v")], &[]).field, "tags");
        assert!(
            refused(&[tag(&"k".repeat(129), "v")], &[])
                .message
                .contains("1–128")
        );
        assert!(
            refused(&[tag("k", &"v".repeat(257))], &[])
                .message
                .contains("256")
        );
        for bad in ["team#1", "a,b", "tab\there", "new\nline", "quote'"] {
            let e = refused(&[tag(bad, "v")], &[]);
            assert_eq!(e.field, "tags", "{bad:?}");
            assert!(
                e.message.contains("may only contain"),
                "{bad:?}: {}",
                e.message
            );
            let e = refused(&[tag("k", bad)], &[]);
            assert!(
                e.message.contains("value of tag 'k'"),
                "{bad:?}: {}",
                e.message
            );
        }
        let e = refused(&[tag("Team", "a"), tag("team", "b")], &[]);
        assert!(e.message.contains("given twice"), "{}", e.message);
        let e = refused(&[tag("team", "a")], &["project"]);
        assert_eq!(e.field, "transitive_tag_keys");
        assert!(e.message.contains("'project'"), "{}", e.message);
        assert_eq!(
            refused(&[tag("team", "a")], &[""]).field,
            "transitive_tag_keys"
        );
    }

    #[test]
    fn transitive_keys_match_tags_without_case() {
        session_tags(&[tag("Team", "a")], &["team".into()]).unwrap();
    }

    #[test]
    fn a_cli_tag_splits_at_the_first_equals_sign() {
        assert_eq!(parse_tag("env=a=b").unwrap(), tag("env", "a=b"));
        assert_eq!(parse_tag("empty=").unwrap(), tag("empty", ""));
        assert_eq!(parse_tag("novalue").unwrap_err().field, "tags");
    }
}
