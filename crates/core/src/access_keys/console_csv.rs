//! The access-key file the AWS console offers for download when it creates a key
//! (`<user>_accessKeys.csv`): a header `Access key ID,Secret access key` and one row,
//! possibly after a UTF-8 byte-order mark and with CRLF line ends (spreadsheet tools
//! that re-save it add both). The older user-creation file (`credentials.csv`, with
//! `User name`, `Password` and `Console login link` columns besides) is read by its
//! header too. The file is read once, into memory that is wiped on drop, and never
//! copied; a malformed file is refused naming its line, never quoting a secret.

use std::path::Path;

use zeroize::Zeroizing;

use crate::durable::read_regular;
use crate::engine::AccessKeys;
use crate::validate::{self, ValidationError};

/// The field every refusal names (the CLI's `--from-csv`, the dialog's file).
pub const FIELD: &str = "csv";
/// A key file is a few hundred bytes; anything past this is not one.
const MAX_BYTES: u64 = 64 * 1024;
const ID_COLUMN: &str = "access key id";
const SECRET_COLUMN: &str = "secret access key";

fn refused(line: usize, why: impl std::fmt::Display) -> ValidationError {
    ValidationError::new(FIELD, format!("line {line}: {why}"))
}

/// Reads the file at `path` once and returns the keys it holds.
pub fn read_console_csv(path: &Path) -> Result<AccessKeys, ValidationError> {
    let (bytes, _) = read_regular(path, MAX_BYTES)
        .map_err(|e| ValidationError::new(FIELD, format!("{}: {e}", path.display())))?
        .ok_or_else(|| ValidationError::new(FIELD, format!("{}: no such file", path.display())))?;
    parse_console_csv(&bytes)
}

/// One field: trimmed, and unquoted when the whole field is quoted (a CSV writer quotes
/// a field at will; the console's values need no quotes, so none is taken apart).
fn field(raw: &str) -> &str {
    let t = raw.trim();
    t.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(t)
}

/// The keys in the text of a console access-key file.
pub fn parse_console_csv(bytes: &[u8]) -> Result<AccessKeys, ValidationError> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ValidationError::new(
            FIELD,
            format!(
                "is larger than {} KiB: not an access-key file",
                MAX_BYTES / 1024
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        // Count the lines before the bad byte, so the message can point at it.
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        refused(line, "is not UTF-8 text")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Numbered from 1; blank lines (a trailing newline, CRLF's empty end) are skipped.
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());

    let Some((header_line, header)) = lines.next() else {
        return Err(refused(
            1,
            "the file is empty; expected the header 'Access key ID,Secret access key'",
        ));
    };
    let columns: Vec<String> = header.split(',').map(|c| field(c).to_lowercase()).collect();
    let position = |name: &str| columns.iter().position(|c| c == name);
    let (Some(id_at), Some(secret_at)) = (position(ID_COLUMN), position(SECRET_COLUMN)) else {
        return Err(refused(
            header_line,
            "expected the header 'Access key ID,Secret access key' (the AWS console's \
             access-key file)",
        ));
    };

    let Some((row_line, row)) = lines.next() else {
        return Err(refused(header_line + 1, "no access key after the header"));
    };
    let row = Zeroizing::new(row.to_owned());
    let fields: Vec<&str> = row.split(',').map(field).collect();
    if fields.len() != columns.len() {
        return Err(refused(
            row_line,
            format!(
                "{} fields where the header has {}",
                fields.len(),
                columns.len()
            ),
        ));
    }
    if let Some((extra_line, _)) = lines.next() {
        return Err(refused(
            extra_line,
            "a second access key: the file must hold one",
        ));
    }
    let keys = AccessKeys {
        access_key_id: fields[id_at].to_owned(),
        secret_access_key: Zeroizing::new(fields[secret_at].to_owned()),
    };
    validate::access_key_id("access_key_id", &keys.access_key_id)
        .and_then(|()| validate::secret_access_key("secret_access_key", &keys.secret_access_key))
        .map_err(|e| refused(row_line, format!("{}: {}", e.field, e.message)))?;
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn keys(text: &str) -> AccessKeys {
        parse_console_csv(text.as_bytes()).unwrap()
    }

    fn refusal(bytes: &[u8]) -> String {
        let e = parse_console_csv(bytes).unwrap_err();
        assert_eq!(e.field, FIELD);
        assert!(!e.message.contains(SECRET), "a secret in {e}");
        e.message
    }

    #[test]
    fn console_csv_with_a_bom_and_crlf_gives_its_keys() {
        let k = keys(&format!(
            "\u{feff}Access key ID,Secret access key\r\n{ID},{SECRET}\r\n"
        ));
        assert_eq!(k.access_key_id, ID);
        assert_eq!(k.secret_access_key.as_str(), SECRET);
        let k = keys(&format!("Access key ID,Secret access key\n{ID},{SECRET}"));
        assert_eq!(k.secret_access_key.as_str(), SECRET);
    }

    #[test]
    fn console_csv_of_user_creation_is_read_by_its_header() {
        let k = keys(&format!(
            "User name,Password,Access key ID,Secret access key,Console login link\n\
             alice,,\"{ID}\",{SECRET},https://123456789012.signin.aws.amazon.com/console\n"
        ));
        assert_eq!(k.access_key_id, ID);
        assert_eq!(k.secret_access_key.as_str(), SECRET);
    }

    #[test]
    fn console_csv_malformed_shapes_are_refused_naming_the_line() {
        assert!(refusal(b"").starts_with("line 1: the file is empty"));
        assert!(refusal(b"\xef\xbb\xbf\r\n").starts_with("line 1: the file is empty"));
        assert!(refusal(b"Key,Secret\nA,B\n").starts_with("line 1: expected the header"));
        assert!(
            refusal(b"Access key ID,Secret access key\r\n").starts_with("line 2: no access key")
        );
        let m = refusal(format!("Access key ID,Secret access key\n{ID}\n").as_bytes());
        assert!(
            m.starts_with("line 2: 1 fields where the header has 2"),
            "{m}"
        );
        let m = refusal(format!("Access key ID,Secret access key\n{ID},{SECRET},x\n").as_bytes());
        assert!(m.starts_with("line 2: 3 fields"), "{m}");
        let m = refusal(
            format!("Access key ID,Secret access key\n{ID},{SECRET}\n\n{ID},{SECRET}\n").as_bytes(),
        );
        assert!(m.starts_with("line 4: a second access key"), "{m}");
        let m = refusal(format!("Access key ID,Secret access key\nAKIA-1,{SECRET}\n").as_bytes());
        assert!(m.starts_with("line 2: access_key_id: must be"), "{m}");
        let m = refusal(format!("Access key ID,Secret access key\n{ID},\n").as_bytes());
        assert!(
            m.starts_with("line 2: secret_access_key: must not be empty"),
            "{m}"
        );
        let m = refusal(b"Access key ID,Secret access key\n\xff\xfe,x\n");
        assert!(m.starts_with("line 2: is not UTF-8"), "{m}");
        let big = vec![b'a'; 70 * 1024];
        assert!(refusal(&big).contains("larger than 64 KiB"));
    }
}
