//! The console's choices: a browser profile or Firefox container name, a destination.

use super::{Result, ValidationError};
use crate::console::ConsoleBrowser;

/// The longest profile or container name taken (browsers allow more; nobody names one
/// this long, and it bounds what reaches a command line).
const MAX_PLACE: usize = 100;

/// A browser profile (`fields[0]`) or container (`fields[1]`) name. A profile goes to
/// the browser as one argument (`--profile-directory=NAME`): it must not be empty or
/// hold control characters. A container goes inside an `ext+container:` link, which the
/// extension decodes whole and then splits as a query: `&`, `=`, `#`, `%` and `+`
/// would cut or change the name, so they are refused.
pub fn console_browser(fields: [&str; 2], browser: &ConsoleBrowser) -> Result {
    let [profile_field, container_field] = fields;
    let (field, name, what) = match browser {
        ConsoleBrowser::Default => return Ok(()),
        ConsoleBrowser::Firefox { container } => (container_field, container, "container"),
        other => (
            profile_field,
            &other.place().unwrap_or_default().to_owned(),
            "profile",
        ),
    };
    if name.trim().is_empty() {
        return Err(ValidationError::new(
            field,
            format!("the {what} name must not be empty"),
        ));
    }
    if name.chars().count() > MAX_PLACE {
        return Err(ValidationError::new(
            field,
            format!("the {what} name must be at most {MAX_PLACE} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            format!("the {what} name must not hold control characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| what == "container" && "&=#%+".contains(*c))
    {
        return Err(ValidationError::new(
            field,
            format!(
                "'{name}': the container extension cannot open a name with '{c}' (none of & = # % + may appear)"
            ),
        ));
    }
    Ok(())
}

/// Where the console lands: a service (`s3`, `cloudformation`: lowercase letters,
/// digits, dashes) or a path on the console (`/s3/buckets?tab=objects`, `/ec2/home#Instances`):
/// it starts with one `/`, holds no `..` segment, no backslash, no space or control
/// character, and only characters a URL path, query and fragment hold.
pub fn console_destination(field: &str, destination: &str) -> Result {
    if destination.starts_with('/') {
        let segments = destination
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .split('/');
        let ok = !destination.starts_with("//")
            && destination.len() <= 2048
            && !segments.clone().any(|s| s == ".." || s == ".")
            && destination
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@%?#".contains(c));
        return if ok {
            Ok(())
        } else {
            Err(ValidationError::new(
                field,
                format!(
                    "'{destination}' is not a path on the console (like /s3/buckets or /ec2/home#Instances)"
                ),
            ))
        };
    }
    let ok = !destination.is_empty()
        && destination.len() <= 64
        && destination
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!(
                "'{destination}' is not a console service name (like s3, ec2, cloudformation) or a path starting with /"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 3] = [
        "console_browser",
        "console_browser_profile",
        "console_container",
    ];

    fn parse(
        name: &str,
        profile: Option<&str>,
        container: Option<&str>,
    ) -> std::result::Result<ConsoleBrowser, ValidationError> {
        ConsoleBrowser::parse(FIELDS, name, profile, container)
    }

    #[test]
    fn part5_an_unknown_browser_is_refused_naming_the_field() {
        let e = parse("opera", Some("Work"), None).unwrap_err();
        assert_eq!(e.field, "console_browser");
        assert!(
            e.message.contains("chrome, chromium, brave, edge, firefox"),
            "{e}"
        );
    }

    #[test]
    fn part5_an_empty_profile_or_container_name_is_refused_naming_the_field() {
        let e = parse("chrome", Some(" "), None).unwrap_err();
        assert_eq!(e.field, "console_browser_profile", "{e}");
        let e = parse("edge", None, None).unwrap_err();
        assert_eq!(e.field, "console_browser_profile", "{e}");
        let e = parse("firefox", None, Some("")).unwrap_err();
        assert_eq!(e.field, "console_container", "{e}");
    }

    #[test]
    fn part5_a_container_name_the_extension_would_cut_is_refused() {
        for bad in ["a&url=x", "a=b", "a#b", "50%", "a+b", "tab\tname"] {
            let e = parse("firefox", None, Some(bad)).unwrap_err();
            assert_eq!(e.field, "console_container", "{bad}: {e}");
        }
        assert_eq!(
            parse("firefox", None, Some("Prod account (ops)")).unwrap(),
            ConsoleBrowser::Firefox {
                container: "Prod account (ops)".into()
            }
        );
    }

    #[test]
    fn part5_a_profile_goes_with_a_chromium_browser_and_a_container_with_firefox() {
        assert_eq!(
            parse("firefox", Some("Work"), None).unwrap_err().field,
            "console_browser_profile"
        );
        assert_eq!(
            parse("brave", None, Some("Work")).unwrap_err().field,
            "console_container"
        );
        assert_eq!(
            parse("default", Some("Work"), None).unwrap_err().field,
            "console_browser_profile"
        );
        assert_eq!(
            parse("chromium", Some("Profile 1"), None).unwrap(),
            ConsoleBrowser::Chromium {
                profile: "Profile 1".into()
            }
        );
    }

    #[test]
    fn part5_destinations_are_service_names_or_console_paths() {
        for good in [
            "s3",
            "cloudformation",
            "/s3/buckets",
            "/ec2/home#Instances:",
            "/cloudwatch/home?x=1",
        ] {
            console_destination("d", good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "S3",
            "s3/../iam",
            "",
            "//evil.example/x",
            "/a/../iam",
            "/a b",
            "https://x",
            "/a\\b",
        ] {
            let e = console_destination("console_destination", bad).unwrap_err();
            assert_eq!(e.field, "console_destination", "{bad}");
        }
    }
}
