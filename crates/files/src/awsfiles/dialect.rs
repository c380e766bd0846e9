//! How the AWS tools read an INI [`Document`]: which lines are section headers, keys,
//! indented sub-keys, comments; which section is which profile; how values are quoted.
//!
//! The reference reader is botocore's (the AWS CLI and boto3), which is Python's
//! `configparser.RawConfigParser`: whole-line `#`/`;` comments (indented too), `=` or `:`
//! between key and value, case-insensitive keys, and a line indented deeper than its key
//! continues that key's value (`s3 =` followed by `  max_concurrent_requests = 20`). We
//! follow it line for line so that "does the user's section already set `region`?" gets
//! the answer the AWS CLI would give. Lines are read as UTF-8 with replacement characters,
//! which only affects names we compare, never the bytes we keep.

use zeroize::Zeroizing;

use super::ini::Document;

/// What one section looks like: its header line, its keys, where its content ends.
#[derive(Debug, Clone)]
pub struct SectionSpan {
    /// Index of the `[...]` line.
    pub header: usize,
    /// The header's text between the brackets, trimmed.
    pub name: String,
    /// Index just after the section's last key, sub-key or unparsable line (just after the
    /// header when it has none). Comments and blank lines after it are not part of it.
    pub content_end: usize,
    /// Index of the next header, or the end of the document.
    pub end: usize,
    pub keys: Vec<KeySpan>,
}

/// One `key = value` line and the indented lines that continue it.
#[derive(Debug, Clone)]
pub struct KeySpan {
    pub line: usize,
    /// Lower-cased, as botocore compares keys.
    pub name: String,
    /// Index just after the key's last continuation line (`line + 1` when it has none).
    pub end: usize,
}

/// The sections of a document, in file order.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    pub sections: Vec<SectionSpan>,
}

/// Python's `str.isspace`, which `str.strip()` and the regexes of configparser use.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// `[header]` as configparser's `\[(?P<header>.+)\]` matches a stripped line: from the
/// first `[` to the *last* `]`, at least one character between.
fn header_name(stripped: &str) -> Option<&str> {
    let rest = stripped.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    (close > 0).then(|| &rest[..close])
}

/// `key = value` or `key: value` as configparser's OPTCRE splits a stripped line.
fn key_value(stripped: &str) -> Option<(&str, &str)> {
    let at = stripped.find(['=', ':'])?;
    let key = stripped[..at].trim_end_matches(is_py_space);
    let value = py_strip(&stripped[at + 1..]);
    Some((key, value))
}

/// The trimmed value of the key on line `index` (empty when it is not a key line).
/// Wiped on drop: it may be a secret.
pub fn value_at(doc: &Document, index: usize) -> Zeroizing<String> {
    let text = line_text(doc.raw(index));
    let value = key_value(py_strip(&text)).map_or("", |(_, v)| v);
    Zeroizing::new(value.to_owned())
}

/// The keys whose values are secrets (`aws_security_token` is botocore's old name for
/// the session token).
pub const SECRET_KEYS: [&str; 3] = [
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// Whether any section of `doc` sets a secret key.
pub fn holds_secrets(doc: &Document) -> bool {
    Outline::of(doc)
        .sections
        .iter()
        .flat_map(|s| &s.keys)
        .any(|k| SECRET_KEYS.contains(&k.name.as_str()))
}

impl Outline {
    /// Reads `doc` the way botocore does: every section.
    pub fn of(doc: &Document) -> Self {
        Self::of_sections(doc, |_| true)
    }

    /// Reads `doc` the way botocore does, keeping the sections whose (trimmed) header
    /// name `accept` takes. Every line is read, since whether a line starts a section
    /// depends on the lines before it; only kept sections cost an allocation.
    pub fn of_sections(doc: &Document, accept: impl Fn(&str) -> bool) -> Self {
        let mut sections: Vec<SectionSpan> = Vec::new();
        // Whether a header was seen, and the kept section we are in, if any.
        let mut in_section = false;
        let mut current: Option<usize> = None;
        // The indentation of the current key line, and whether a key is open (lines
        // indented deeper than it continue it).
        let mut indent_level = 0usize;
        let mut key_open = false;
        for (index, line) in doc.iter().enumerate() {
            let Some(Read { indent, kind }) = read_line(line.raw) else {
                continue;
            };
            if in_section && key_open && indent > indent_level {
                if let Some(c) = current {
                    sections[c].content_end = index + 1;
                    if let Some(key) = sections[c].keys.last_mut() {
                        key.end = index + 1;
                    }
                }
                continue;
            }
            indent_level = indent;
            if let Kind::Header(name) = &kind {
                if let Some(c) = current {
                    sections[c].end = index;
                }
                current = accept(name).then(|| {
                    sections.push(new_section(index, name, doc.len()));
                    sections.len() - 1
                });
                in_section = true;
                key_open = false;
                continue;
            }
            if !in_section {
                // Before the first header: configparser rejects the file; keep going.
                continue;
            }
            if let Some(c) = current {
                sections[c].content_end = index + 1;
                if let Kind::Key(key) = &kind
                    && !key.is_empty()
                {
                    sections[c].keys.push(KeySpan {
                        line: index,
                        name: key.to_lowercase(),
                        end: index + 1,
                    });
                }
            }
            match kind {
                Kind::Key(key) if !key.is_empty() => key_open = true,
                // An empty key: configparser records an error and no key is open.
                Kind::Key(_) => key_open = false,
                // No delimiter: an error line; the open key (if any) stays open.
                _ => {}
            }
        }
        Self { sections }
    }

    /// Indices of the sections `matches` accepts, in file order.
    pub fn find(&self, matches: impl Fn(&str) -> bool) -> Vec<usize> {
        (0..self.sections.len())
            .filter(|&i| matches(&self.sections[i].name))
            .collect()
    }
}

/// A line that is neither blank nor a comment, as configparser reads it.
struct Read<'a> {
    /// Leading whitespace, in characters.
    indent: usize,
    kind: Kind<'a>,
}

enum Kind<'a> {
    /// `[name]`: the trimmed name.
    Header(std::borrow::Cow<'a, str>),
    /// `key = value` or `key: value`: the key, not yet lower-cased (maybe empty).
    Key(std::borrow::Cow<'a, str>),
    /// Anything else (no delimiter).
    Other,
}

/// Python's whitespace among ASCII bytes.
fn is_py_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f)
}

/// Reads one line; `None` for blank lines and comments. ASCII lines (nearly all) are
/// read as bytes, without decoding; others through [`line_text`].
fn read_line(raw: &[u8]) -> Option<Read<'_>> {
    use std::borrow::Cow;
    if !raw.is_ascii() {
        let text = line_text(raw);
        let stripped = py_strip(&text);
        if stripped.is_empty() || stripped.starts_with(['#', ';']) {
            return None;
        }
        let indent = text.chars().take_while(|c| is_py_space(*c)).count();
        let kind = if let Some(name) = header_name(stripped) {
            Kind::Header(Cow::Owned(py_strip(name).to_owned()))
        } else if let Some(at) = stripped.find(['=', ':']) {
            Kind::Key(Cow::Owned(
                stripped[..at].trim_end_matches(is_py_space).to_owned(),
            ))
        } else {
            Kind::Other
        };
        return Some(Read { indent, kind });
    }
    let start = raw.iter().position(|&b| !is_py_space_byte(b))?;
    let end = raw.iter().rposition(|&b| !is_py_space_byte(b))? + 1;
    let stripped = &raw[start..end];
    if matches!(stripped[0], b'#' | b';') {
        return None;
    }
    let header = (stripped[0] == b'[')
        .then(|| stripped.iter().rposition(|&b| b == b']'))
        .flatten()
        .filter(|&close| close > 1);
    let kind = if let Some(close) = header {
        let name = &stripped[1..close];
        let first = name
            .iter()
            .position(|&b| !is_py_space_byte(b))
            .unwrap_or(name.len());
        Kind::Header(Cow::Borrowed(ascii(trim_end_bytes(&name[first..]))))
    } else if let Some(at) = stripped.iter().position(|&b| b == b'=' || b == b':') {
        Kind::Key(Cow::Borrowed(ascii(trim_end_bytes(&stripped[..at]))))
    } else {
        Kind::Other
    };
    Some(Read {
        indent: start,
        kind,
    })
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

fn trim_end_bytes(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .rposition(|&b| !is_py_space_byte(b))
        .map_or(0, |i| i + 1);
    &bytes[..n]
}

/// A line as text: borrowed when it is UTF-8 (nearly always), else a copy with
/// replacement characters (which only affect names we compare, never bytes we keep),
/// wiped on drop, as the line may hold a secret.
enum LineText<'a> {
    Utf8(&'a str),
    Lossy(Zeroizing<String>),
}

impl std::ops::Deref for LineText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            LineText::Utf8(text) => text,
            LineText::Lossy(text) => text,
        }
    }
}

fn line_text(raw: &[u8]) -> LineText<'_> {
    match std::str::from_utf8(raw) {
        Ok(text) => LineText::Utf8(text),
        Err(_) => LineText::Lossy(Zeroizing::new(String::from_utf8_lossy(raw).into_owned())),
    }
}

fn new_section(header: usize, name: &str, len: usize) -> SectionSpan {
    SectionSpan {
        header,
        name: py_strip(name).to_owned(),
        content_end: header + 1,
        end: len,
        keys: Vec::new(),
    }
}

/// Which of the two AWS files a document is: it decides how profiles are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileRole {
    /// `[name]` sections.
    Credentials,
    /// `[default]` and `[profile name]` (also `[sso-session ...]`, `[services ...]`,
    /// which Rolehop never touches).
    Config,
}

impl FileRole {
    /// Whether section `name` (trimmed header text) is profile `profile` in this file.
    pub fn section_is_profile(self, name: &str, profile: &str) -> bool {
        match self {
            FileRole::Credentials => name == profile,
            // botocore: keys starting with "profile" are shlex-split and must give two
            // words; `[default]` is the default profile too.
            FileRole::Config => {
                if profile == "default" && name == "default" {
                    return true;
                }
                if !name.starts_with("profile") {
                    return false;
                }
                if !name.contains(['\'', '"', '\\']) {
                    // No quoting: shlex splits at whitespace, nothing more (and the last
                    // word must be the profile: a cheap test first, for big files).
                    if !name.ends_with(profile) {
                        return false;
                    }
                    let mut words = name
                        .split([' ', '\t', '\r', '\n'])
                        .filter(|w| !w.is_empty());
                    return words.next() == Some("profile")
                        && words.next() == Some(profile)
                        && words.next().is_none();
                }
                matches!(shlex_split(name).as_deref(),
                         Some([word, p]) if word == "profile" && p == profile)
            }
        }
    }

    /// The header line Rolehop writes for a new section of `profile`.
    pub fn header_for(self, profile: &str) -> String {
        match self {
            FileRole::Credentials => format!("[{profile}]"),
            FileRole::Config if profile == "default" => "[default]".to_owned(),
            FileRole::Config => format!("[profile {}]", shell_word(profile)),
        }
    }
}

/// Python's `shlex.split` (POSIX mode, no comments), or `None` where it raises.
pub fn shlex_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => w.push(c),
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            // shlex.whitespace is exactly these four.
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

/// `s` as one word for both `shlex.split` (botocore) and `sh -c` (the Rust and Go SDKs run
/// `credential_process` through a shell on Unix): double quotes when that is exact,
/// single quotes when the text holds a character the two treat differently inside
/// double quotes (`$`, `` ` ``).
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+,%".contains(c));
    if plain {
        return s.to_owned();
    }
    if s.contains(['$', '`']) {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    format!("\"{}\"", s.replace('\\', r"\\").replace('"', "\\\""))
}

/// The `credential_process` value that runs `binary credential-process <session>`. The
/// binary is always quoted (paths with spaces are common on macOS and Windows).
pub fn credential_process_command(binary: &std::path::Path, session: &str) -> String {
    let path = binary.to_string_lossy();
    let quoted = if cfg!(windows) {
        // cmd.exe and botocore's Windows splitter: quotes only; paths cannot contain `"`.
        format!("\"{path}\"")
    } else {
        let word = shell_word(&path);
        if word.starts_with(['"', '\'']) {
            word
        } else {
            format!("\"{word}\"")
        }
    };
    format!("{quoted} credential-process {session}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn outline(s: &str) -> (Document, Outline) {
        let doc = Document::parse(s.as_bytes());
        let outline = Outline::of(&doc);
        (doc, outline)
    }

    fn keys(doc: &Document, o: &Outline, section: usize) -> Vec<(String, String)> {
        o.sections[section]
            .keys
            .iter()
            .map(|k| (k.name.clone(), value_at(doc, k.line).to_string()))
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn indented_sub_keys_continue_their_key_and_are_not_keys_of_the_section() {
        let (doc, o) = outline(
            "[profile dev]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 20\n  region = nope\n",
        );
        assert_eq!(
            keys(&doc, &o, 0),
            [pair("region", "eu-west-1"), pair("s3", "")]
        );
        assert_eq!(o.sections[0].content_end, 5);
    }

    #[test]
    fn comments_blank_lines_and_odd_spacing_read_like_configparser() {
        let (doc, o) = outline(
            "# top\n[ default ]\n  ; indented comment\nREGION=us-east-1\naws_access_key_id :AKID\n\n# trailing\n",
        );
        assert_eq!(o.sections[0].name, "default");
        assert_eq!(
            keys(&doc, &o, 0),
            [
                pair("region", "us-east-1"),
                pair("aws_access_key_id", "AKID")
            ]
        );
        assert_eq!(o.sections[0].content_end, 5);
        assert_eq!(o.sections[0].end, 7);
    }

    #[test]
    fn header_runs_to_the_last_closing_bracket() {
        assert_eq!(header_name("[a] x ]"), Some("a] x "));
        assert_eq!(header_name("[]"), None);
        assert_eq!(header_name("[x"), None);
    }

    #[test]
    fn duplicate_sections_are_all_found_and_end_at_any_header() {
        let doc = Document::parse(b"[p]\na=1\n[q]\n[p]\nb=2\n");
        let o = Outline::of_sections(&doc, |n| n == "p");
        let spans: Vec<_> = o.sections.iter().map(|s| (s.header, s.end)).collect();
        assert_eq!(spans, [(0, 2), (3, 5)]);
    }

    #[test]
    fn config_profiles_are_matched_as_botocore_splits_them() {
        let c = FileRole::Config;
        assert!(c.section_is_profile("profile prod", "prod"));
        assert!(c.section_is_profile("profile   'prod'", "prod"));
        assert!(c.section_is_profile("default", "default"));
        assert!(c.section_is_profile("profile default", "default"));
        assert!(!c.section_is_profile("prod", "prod"));
        assert!(!c.section_is_profile("sso-session prod", "prod"));
        assert!(!c.section_is_profile("profile prod extra", "prod"));
        assert!(FileRole::Credentials.section_is_profile("prod", "prod"));
        assert!(!FileRole::Credentials.section_is_profile("profile prod", "prod"));
    }

    #[test]
    fn profile_names_with_spaces_are_quoted_in_config_headers() {
        assert_eq!(
            FileRole::Config.header_for("my prod"),
            "[profile \"my prod\"]"
        );
        let header = FileRole::Config.header_for("my prod");
        let name = header_name(&header).unwrap();
        assert!(FileRole::Config.section_is_profile(name, "my prod"));
    }

    #[test]
    fn credential_process_path_is_quoted_for_shlex() {
        let cmd = credential_process_command(std::path::Path::new("/opt/My Apps/rolehop"), "1234");
        assert_eq!(cmd, "\"/opt/My Apps/rolehop\" credential-process 1234");
        assert_eq!(
            shlex_split(&cmd).unwrap(),
            ["/opt/My Apps/rolehop", "credential-process", "1234"]
        );
    }

    /// The reading of a line before the ASCII fast path: the reference it must match.
    fn read_line_slowly(raw: &[u8]) -> Option<(usize, String, String)> {
        let text = String::from_utf8_lossy(raw);
        let stripped = py_strip(&text);
        if stripped.is_empty() || stripped.starts_with(['#', ';']) {
            return None;
        }
        let indent = text.chars().take_while(|c| is_py_space(*c)).count();
        Some(if let Some(name) = header_name(stripped) {
            (indent, "header".into(), py_strip(name).to_owned())
        } else if let Some((key, _)) = key_value(stripped) {
            (indent, "key".into(), key.to_owned())
        } else {
            (indent, "other".into(), String::new())
        })
    }

    proptest! {
        #[test]
        fn ascii_fast_path_reads_lines_like_the_general_path(
            raw in proptest::collection::vec(prop_oneof![
                Just(b' '), Just(b'\t'), Just(0x0b), Just(0x0c), Just(0x1d), Just(b'['), Just(b']'),
                Just(b'='), Just(b':'), Just(b'#'), Just(b';'), Just(b'a'), Just(b'K'), Just(b'0'),
            ], 0..16)
        ) {
            let fast = read_line(&raw).map(|r| match r.kind {
                Kind::Header(n) => (r.indent, "header".to_owned(), n.into_owned()),
                Kind::Key(k) => (r.indent, "key".to_owned(), k.into_owned()),
                Kind::Other => (r.indent, "other".to_owned(), String::new()),
            });
            prop_assert_eq!(fast, read_line_slowly(&raw));
        }

        #[test]
        fn shell_word_is_one_shlex_word(s in "\\PC{1,20}") {
            let words = shlex_split(&shell_word(&s));
            prop_assert_eq!(words, Some(vec![s]));
        }

        #[test]
        fn outline_never_panics_and_stays_in_bounds(input in proptest::collection::vec(any::<u8>(), 0..300)) {
            let doc = Document::parse(&input);
            let o = Outline::of(&doc);
            for s in &o.sections {
                prop_assert!(s.header < s.content_end && s.content_end <= s.end && s.end <= doc.len());
            }
        }
    }
}
