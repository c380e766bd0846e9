//! The names synced sessions get: a template over the entry's account and role,
//! rendered and made a valid profile name (every synced session's name is its profile).

use crate::validate::ValidationError;

/// What a template may say, each between braces.
const PLACEHOLDERS: [&str; 3] = ["account_name", "account_id", "role_name"];

/// A profile's length limit in bytes ([`crate::validate::profile_name`]).
const MAX_NAME_BYTES: usize = 128;

/// A checked name template, e.g. `{account_name}-{role_name}` (the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    AccountName,
    AccountId,
    RoleName,
}

impl Default for NameTemplate {
    fn default() -> Self {
        Self::parse("profile_template", Self::DEFAULT).expect("the default template parses")
    }
}

impl NameTemplate {
    pub const DEFAULT: &'static str = "{account_name}-{role_name}";

    /// Parses `text`; an unknown placeholder or a stray brace is refused naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(ValidationError::new(field, "has a '}' without its '{'"));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let Some(len) = rest[open + 1..].find('}') else {
                return Err(ValidationError::new(field, "has a '{' without its '}'"));
            };
            let name = &rest[open + 1..open + 1 + len];
            parts.push(match name {
                "account_name" => Part::AccountName,
                "account_id" => Part::AccountId,
                "role_name" => Part::RoleName,
                other => {
                    return Err(ValidationError::new(
                        field,
                        format!(
                            "has an unknown placeholder {{{other}}}: use {}",
                            PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                        ),
                    ));
                }
            });
            rest = &rest[open + len + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if !parts.iter().any(|p| !matches!(p, Part::Text(_))) {
            return Err(ValidationError::new(
                field,
                "must use a placeholder such as {account_name}, or every account gets one name",
            ));
        }
        Ok(Self { parts })
    }

    /// The template filled in and made a valid profile (and session) name.
    pub fn render(&self, account_id: &str, account_name: &str, role_name: &str) -> String {
        let text: String = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::AccountName => account_name,
                Part::AccountId => account_id,
                Part::RoleName => role_name,
            })
            .collect();
        let name = sanitise(&text);
        if name.is_empty() {
            sanitise(account_id)
        } else {
            name
        }
    }
}

/// A profile name from any text: letters and digits (any script) and `-_.+@` stay,
/// every other run of characters (spaces, brackets, `=`, `#`, `;`, controls: what would
/// corrupt the AWS files or need quoting in a shell) becomes one `-`; leading and
/// trailing `-` go; at most 128 bytes.
pub fn sanitise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let keep = c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '@');
        if keep && c != '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    truncate(trimmed, MAX_NAME_BYTES)
        .trim_end_matches('-')
        .to_owned()
}

/// `name` with `-suffix` appended, cut first so the whole stays a valid profile name.
pub fn with_suffix(name: &str, suffix: &str) -> String {
    let room = MAX_NAME_BYTES.saturating_sub(suffix.len() + 1);
    format!("{}-{suffix}", truncate(name, room).trim_end_matches('-'))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn templates_render_to_valid_profile_names() {
        let cases: &[(&str, &str, &str, &str)] = &[
            // (template, account name, role, expected)
            (
                NameTemplate::DEFAULT,
                "Production",
                "Admin",
                "Production-Admin",
            ),
            ("{account_id}", "Production", "Admin", "111122223333"),
            (
                "org-{account_name}.{role_name}",
                "prod",
                "Dev",
                "org-prod.Dev",
            ),
            // Spaces and what would corrupt the AWS files become one dash.
            (
                NameTemplate::DEFAULT,
                "Prod  Account [EU]",
                "Admin",
                "Prod-Account-EU-Admin",
            ),
            (NameTemplate::DEFAULT, "a=b;c#d", "R", "a-b-c-d-R"),
            (NameTemplate::DEFAULT, "line\nbreak", "R", "line-break-R"),
            // Letters of any script stay.
            (NameTemplate::DEFAULT, "Büro Köln", "R", "Büro-Köln-R"),
            // Nothing left: the account id.
            ("{account_name}", "[]", "R", "111122223333"),
            // `profile ` cannot begin a name: the space goes.
            ("profile {account_name}", "x", "R", "profile-x"),
        ];
        for (template, account, role, expected) in cases {
            let t = NameTemplate::parse("profile_template", template).unwrap();
            let name = t.render("111122223333", account, role);
            assert_eq!(&name, expected, "{template} with {account:?}");
            validate::profile_name("profile", &name).unwrap();
            validate::session_name("name", &name).unwrap();
        }
    }

    #[test]
    fn long_names_are_cut_to_a_valid_profile_name() {
        let t = NameTemplate::default();
        let name = t.render("111122223333", &"é".repeat(100), "Admin");
        assert!(name.len() <= 128, "{}", name.len());
        validate::profile_name("profile", &name).unwrap();
        let suffixed = with_suffix(&name, "111122223333");
        assert!(suffixed.len() <= 128 && suffixed.ends_with("-111122223333"));
        validate::profile_name("profile", &suffixed).unwrap();
    }

    #[test]
    fn bad_templates_are_refused_naming_the_field() {
        for (template, says) in [
            ("{account}-{role_name}", "unknown placeholder {account}"),
            ("{account_name", "'{' without its '}'"),
            ("account_name}", "'}' without its '{'"),
            ("fixed", "must use a placeholder"),
            ("", "must use a placeholder"),
        ] {
            let err = NameTemplate::parse("profile_template", template).unwrap_err();
            assert_eq!(err.field, "profile_template", "{template}");
            assert!(err.message.contains(says), "{template}: {}", err.message);
        }
    }
}
