//! A session's console choices: which browser (and which of its profiles or Firefox
//! containers) the AWS console opens in, which page, in which region. Plain data; the
//! rules are [`crate::validate::console_browser`] and
//! [`crate::validate::console_destination`], the launching is the core's `console`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::ValidationError;

/// Where a session's console opens, and on what page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ConsoleSettings {
    #[serde(default)]
    pub browser: ConsoleBrowser,
    /// A console service (`s3`, `ec2`) or a path on the console (`/s3/buckets`); the
    /// console's home page when unset.
    #[serde(default)]
    pub destination: Option<String>,
    /// The console's region; the session's effective region when unset.
    #[serde(default)]
    pub region: Option<String>,
}

impl ConsoleSettings {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The browser the console opens in. Each Chromium-family choice names one of that
/// browser's profiles (its `--profile-directory=`); Firefox names a container of the
/// "Open external links in a container" extension (its `ext+container:` links). The
/// console keeps one signed-in session per profile or container, so two sessions in
/// two of them are signed in side by side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ConsoleBrowser {
    /// The desktop's default browser (`xdg-open`, `open`, `start`).
    #[default]
    Default,
    Chrome {
        profile: String,
    },
    Chromium {
        profile: String,
    },
    Brave {
        profile: String,
    },
    Edge {
        profile: String,
    },
    Firefox {
        container: String,
    },
}

/// The browsers by the names the CLI and the dialog use.
pub const BROWSER_NAMES: [&str; 6] = ["default", "chrome", "chromium", "brave", "edge", "firefox"];

impl ConsoleBrowser {
    /// The browser's name, as in [`BROWSER_NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Chrome { .. } => "chrome",
            Self::Chromium { .. } => "chromium",
            Self::Brave { .. } => "brave",
            Self::Edge { .. } => "edge",
            Self::Firefox { .. } => "firefox",
        }
    }

    /// The profile or container, when the browser takes one.
    pub fn place(&self) -> Option<&str> {
        match self {
            Self::Default => None,
            Self::Chrome { profile }
            | Self::Chromium { profile }
            | Self::Brave { profile }
            | Self::Edge { profile } => Some(profile),
            Self::Firefox { container } => Some(container),
        }
    }

    /// A browser by name with its profile (Chromium family) or container (Firefox).
    /// `fields` names the three inputs (browser, profile, container) for the errors;
    /// the profile and container are checked by [`crate::validate::console_browser`].
    pub fn parse(
        fields: [&str; 3],
        name: &str,
        profile: Option<&str>,
        container: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let [browser_field, profile_field, container_field] = fields;
        let profile_for = |browser: &str| {
            if container.is_some() {
                return Err(ValidationError::new(
                    container_field,
                    format!("only Firefox opens containers; {browser} takes a profile"),
                ));
            }
            profile.map(str::to_owned).ok_or_else(|| {
                ValidationError::new(
                    profile_field,
                    format!("{browser} needs the name of one of its profiles (its --profile-directory, like \"Default\" or \"Profile 1\")"),
                )
            })
        };
        let browser = match name {
            "default" => {
                if let Some((field, _)) = [(profile_field, profile), (container_field, container)]
                    .into_iter()
                    .find(|(_, v)| v.is_some())
                {
                    return Err(ValidationError::new(
                        field,
                        "the default browser takes no profile or container; name the browser too",
                    ));
                }
                Self::Default
            }
            "chrome" => Self::Chrome {
                profile: profile_for("chrome")?,
            },
            "chromium" => Self::Chromium {
                profile: profile_for("chromium")?,
            },
            "brave" => Self::Brave {
                profile: profile_for("brave")?,
            },
            "edge" => Self::Edge {
                profile: profile_for("edge")?,
            },
            "firefox" => {
                if profile.is_some() {
                    return Err(ValidationError::new(
                        profile_field,
                        "Firefox opens the console in a container, not a profile",
                    ));
                }
                Self::Firefox {
                    container: container.map(str::to_owned).ok_or_else(|| {
                        ValidationError::new(
                            container_field,
                            "firefox needs the name of a container",
                        )
                    })?,
                }
            }
            other => {
                return Err(ValidationError::new(
                    browser_field,
                    format!(
                        "'{other}' is not a browser Rolehop opens the console in (one of: {})",
                        BROWSER_NAMES.join(", ")
                    ),
                ));
            }
        };
        crate::validate::console_browser([profile_field, container_field], &browser)?;
        Ok(browser)
    }
}

impl fmt::Display for ConsoleBrowser {
    /// `chrome (profile Work)`, `firefox (container Prod)`, `default`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Firefox { container } => write!(f, "firefox (container {container})"),
            other => write!(
                f,
                "{} (profile {})",
                other.name(),
                other.place().unwrap_or_default()
            ),
        }
    }
}
