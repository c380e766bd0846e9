//! Every input rule, in one place. Each check names the field it failed on, so the CLI
//! and the UI can point at it; callers validate everything before they change anything.

use std::fmt;

mod arn;
mod console;
mod regions;
mod saml;
mod sso;
mod tags;

pub use arn::{Arn, IamResource};
pub use console::{console_browser, console_destination};
pub use regions::REGIONS;
pub use saml::{idp_url, saml_duration, saml_provider_arn};
pub use sso::{account_id, integration_name, scopes, sso_region, sso_role_name, start_url};
pub use tags::{MAX_SESSION_TAGS, parse_tag, session_tags};

/// A region AWS lists, in its partition (`aws`, `aws-cn`, `aws-us-gov`, ...), with AWS's
/// name for it. The table ([`REGIONS`]) is generated from the SDK's partition data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub partition: &'static str,
    pub description: &'static str,
}

/// A rejected input: which field, and why (never the value of a secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

type Result = std::result::Result<(), ValidationError>;

/// Profile names end up as `[name]` / `[profile name]` headers in the AWS files.
pub fn profile_name(field: &str, name: &str) -> Result {
    if name.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if name.len() > 128 {
        return Err(ValidationError::new(
            field,
            "must be at most 128 characters",
        ));
    }
    if name.trim() != name {
        return Err(ValidationError::new(
            field,
            "must not start or end with whitespace",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '[' | ']' | '=' | '#' | ';') || c.is_control())
    {
        return Err(ValidationError::new(
            field,
            format!("must not contain {c:?} (it would corrupt the AWS files)"),
        ));
    }
    if name.starts_with("profile ")
        || name.starts_with("sso-session ")
        || name.starts_with("services ")
    {
        return Err(ValidationError::new(
            field,
            "must not start with a config-file section keyword",
        ));
    }
    Ok(())
}

/// Session names are how people and scripts pick a session; keep them printable.
pub fn session_name(field: &str, name: &str) -> Result {
    if name.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if name.len() > 128 {
        return Err(ValidationError::new(
            field,
            "must be at most 128 characters",
        ));
    }
    if name.trim() != name {
        return Err(ValidationError::new(
            field,
            "must not start or end with whitespace",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn iam_name_chars(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// An IAM role name (no path): 1–64 of `[\w+=,.@-]`.
pub fn role_name(field: &str, name: &str) -> Result {
    if name.len() > 64 || !iam_name_chars(name) {
        return Err(ValidationError::new(
            field,
            "must be 1–64 letters, digits and +=,.@_- (a role name, without a path)",
        ));
    }
    Ok(())
}

/// An AWS Organizations root (`r-xxxx`) or organizational unit (`ou-xxxx-yyyyyyyy`) id.
pub fn organizational_unit(field: &str, id: &str) -> Result {
    let body = id.strip_prefix("ou-").or_else(|| id.strip_prefix("r-"));
    let ok = body.is_some_and(|b| {
        (4..=68).contains(&b.len())
            && b.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!(
                "'{id}' is not an organizational unit id (ou-xxxx-yyyyyyyy) or a root id (r-xxxx)"
            ),
        ))
    }
}

/// `arn:aws:iam::123456789012:role/optional/path/RoleName`.
pub fn role_arn(field: &str, arn: &str) -> Result {
    Arn::parse_iam(field, arn, IamResource::Role).map(drop)
}

/// `arn:aws:iam::123456789012:mfa/device-name` (virtual MFA) or a hardware serial.
pub fn mfa_serial(field: &str, serial: &str) -> Result {
    if serial.starts_with("arn:") {
        Arn::parse_iam(field, serial, IamResource::MfaDevice).map(drop)
    } else if (9..=256).contains(&serial.len()) && serial.chars().all(|c| c.is_ascii_alphanumeric())
    {
        Ok(()) // a hardware token's serial number
    } else {
        Err(ValidationError::new(
            field,
            "must be an MFA device ARN or a hardware serial number",
        ))
    }
}

/// `RoleSessionName`: 2–64 of `[\w+=,.@-]`.
pub fn role_session_name(field: &str, name: &str) -> Result {
    if !(2..=64).contains(&name.len()) {
        return Err(ValidationError::new(field, "must be 2–64 characters"));
    }
    if !iam_name_chars(name) {
        return Err(ValidationError::new(
            field,
            "may only contain letters, digits and +=,.@_-",
        ));
    }
    Ok(())
}

/// `ExternalId`: 2–1224 of `[\w+=,.@:/-]`.
pub fn external_id(field: &str, id: &str) -> Result {
    if !(2..=1224).contains(&id.len()) {
        return Err(ValidationError::new(field, "must be 2–1224 characters"));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c))
    {
        return Err(ValidationError::new(
            field,
            "may only contain letters, digits and +=,.@:/_-",
        ));
    }
    Ok(())
}

/// `SourceIdentity`: 2–64 of `[\w+=,.@-]`.
pub fn source_identity(field: &str, id: &str) -> Result {
    role_session_name(field, id)
}

/// AWS region names such as `eu-west-1` or `us-gov-west-1`.
pub fn region(field: &str, region: &str) -> Result {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region.split('-').count() >= 3
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && region.ends_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("'{region}' is not an AWS region (e.g. eu-west-1)"),
        ))
    }
}

/// `GetSessionToken` durations: 900–129600 seconds.
pub fn user_session_duration(field: &str, seconds: u32) -> Result {
    in_range(
        field,
        seconds,
        900,
        129_600,
        "for an IAM user's session token",
    )
}

/// `AssumeRole` durations: 900–43200 s, and at most 3600 s when the parent is itself a
/// role (AWS's cap on role chaining).
pub fn role_duration(field: &str, seconds: u32, parent_is_role: bool) -> Result {
    if parent_is_role {
        in_range(
            field,
            seconds,
            900,
            3_600,
            "for a role chained from another role (AWS caps role chaining at one hour)",
        )
    } else {
        in_range(field, seconds, 900, 43_200, "for a role")
    }
}

/// How long before expiry active sessions are refreshed: 60–3000 s. Less leaves no time
/// for a slow STS call; more would refresh a 1-hour chained role almost at once.
pub fn rotation_margin(field: &str, seconds: u32) -> Result {
    in_range(field, seconds, 60, 3_000, "for the rotation margin")
}

fn in_range(field: &str, v: u32, lo: u32, hi: u32, context: &str) -> Result {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("{v} s is out of range: {lo}–{hi} s {context}"),
        ))
    }
}

/// An MFA code: exactly six digits.
pub fn mfa_code(field: &str, code: &str) -> Result {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ValidationError::new(field, "must be exactly 6 digits"))
    }
}

/// An access key id (`AKIA…`/`ASIA…`, 16–128 alphanumerics). Not a secret by AWS's
/// rules, but we still never echo it back in full.
pub fn access_key_id(field: &str, id: &str) -> Result {
    if (16..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "must be 16–128 letters and digits",
        ))
    }
}

/// A secret access key: present, no whitespace. Its value never appears in a message.
pub fn secret_access_key(field: &str, secret: &str) -> Result {
    if secret.is_empty() {
        Err(ValidationError::new(field, "must not be empty"))
    } else if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(ValidationError::new(field, "must not contain whitespace"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rotation_margin_is_60_to_3000_seconds() {
        for good in [60, 300, 3_000] {
            rotation_margin("rotation_margin_seconds", good).unwrap();
        }
        for bad in [0, 59, 3_001] {
            let err = rotation_margin("rotation_margin_seconds", bad).unwrap_err();
            assert_eq!(err.field, "rotation_margin_seconds");
            assert!(err.message.contains("60–3000"), "{err}");
        }
    }

    #[test]
    fn profile_names_that_could_inject_ini_are_refused() {
        for bad in [
            "",
            "a]b",
            "[x",
            "a=b",
            "a\nb",
            " lead",
            "trail ",
            "a\rb",
            "x#y",
            "profile x",
        ] {
            let err = profile_name("profile", bad).unwrap_err();
            assert_eq!(err.field, "profile", "{bad:?}");
        }
        for good in ["default", "prod-deploy", "team.a/b", "Dev_1@x"] {
            profile_name("profile", good).unwrap();
        }
    }

    #[test]
    fn role_arns_need_partition_account_and_role_path() {
        role_arn("role_arn", "arn:aws:iam::123456789012:role/CodeBuildRole").unwrap();
        role_arn(
            "role_arn",
            "arn:aws-us-gov:iam::123456789012:role/a/b/Deploy",
        )
        .unwrap();
        for bad in [
            "arn:aws:iam::12345678901:role/X",
            "arn:aws:iam::1234567890123:role/X",
            "arn:foo:iam::123456789012:role/X",
            "arn:aws:s3::123456789012:role/X",
            "arn:aws:iam::123456789012:user/X",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam:us-east-1:123456789012:role/X",
            "role/X",
        ] {
            assert_eq!(
                role_arn("role_arn", bad).unwrap_err().field,
                "role_arn",
                "{bad}"
            );
        }
    }

    #[test]
    fn durations_respect_chained_role_cap() {
        role_duration("duration", 3600, true).unwrap();
        assert!(role_duration("duration", 3601, true).is_err());
        role_duration("duration", 43_200, false).unwrap();
        assert!(role_duration("duration", 43_201, false).is_err());
        assert!(role_duration("duration", 899, false).is_err());
        user_session_duration("d", 129_600).unwrap();
        assert!(user_session_duration("d", 129_601).is_err());
    }

    #[test]
    fn mfa_codes_are_six_digits() {
        mfa_code("mfa_code", "123456").unwrap();
        for bad in ["12345", "1234567", "12345a", "", "١٢٣٤٥٦"] {
            assert!(mfa_code("mfa_code", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_names_and_ids_bounds() {
        role_session_name("role_session_name", "ab").unwrap();
        assert!(role_session_name("role_session_name", "a").is_err());
        assert!(role_session_name("role_session_name", &"a".repeat(65)).is_err());
        assert!(role_session_name("role_session_name", "has space").is_err());
        external_id("external_id", "x1").unwrap();
        assert!(external_id("external_id", "x").is_err());
        assert!(external_id("external_id", &"x".repeat(1225)).is_err());
        mfa_serial("mfa_serial", "arn:aws:iam::123456789012:mfa/alice").unwrap();
        assert!(mfa_serial("mfa_serial", "arn:aws:iam::123456789012:role/alice").is_err());
        region("region", "eu-west-1").unwrap();
        region("region", "us-gov-west-1").unwrap();
        assert!(region("region", "europe").is_err());
    }

    #[test]
    fn role_names_and_organizational_unit_ids() {
        for ok in ["OrganizationAccountAccessRole", "a", "R+=,.@_-1"] {
            role_name("role_name", ok).unwrap();
        }
        for bad in ["", "path/Role", "has space", &"x".repeat(65)] {
            assert_eq!(role_name("role_name", bad).unwrap_err().field, "role_name");
        }
        for ok in ["ou-ab12-cdef3456", "r-ab12"] {
            organizational_unit("ou", ok).unwrap();
        }
        for bad in [
            "Workloads",
            "ou-",
            "OU-AB12-CDEF3456",
            "r-a",
            "o-ab12cd34ef",
        ] {
            assert_eq!(
                organizational_unit("ou", bad).unwrap_err().field,
                "ou",
                "{bad}"
            );
        }
    }
}

/// `regions.ts` for the desktop's region picker, from [`REGIONS`]: run with the other
/// bindings (`cargo xtask bindings`, which sets `TS_RS_EXPORT_DIR`), so the picker and
/// the engine's checks read one table.
#[cfg(all(test, feature = "ts"))]
mod export_regions {
    #[test]
    fn export_bindings_regions() {
        let Some(dir) = std::env::var_os("TS_RS_EXPORT_DIR") else {
            return;
        };
        let rows: String = super::REGIONS
            .iter()
            .map(|r| {
                format!(
                    "  {{ code: {:?}, partition: {:?}, description: {:?} }},\n",
                    r.code, r.partition, r.description
                )
            })
            .collect();
        let ts = format!(
            "// Generated from crates/model/src/validate/regions.rs (the AWS SDK's partition data). Do not edit.\n\n\
             /** A region AWS lists, in its partition, with AWS's name for it. */\n\
             export type RegionInfo = {{ code: string; partition: string; description: string }};\n\n\
             /** Every region AWS lists, by partition. */\n\
             export const regions: readonly RegionInfo[] = [\n{rows}];\n"
        );
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("regions.ts"), ts).unwrap();
    }
}
