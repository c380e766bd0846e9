//! `rolehop session rotate-keys|keys` and `session list --key-age`: an IAM user's access
//! key, its age and its rotation (the steps and their rules: `rolehop_core::access_keys`).
//! What IAM answered (user names, key ids, statuses, error messages) is printed through
//! the display filter, line by line.

use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::access_keys::{
    AccessKeyReport, Asking, KeyError, Propagation, RotatedKeys, STALE_AFTER_DAYS,
};
use rolehop_core::display_text::for_terminal;
use rolehop_core::model::{SessionKind, SessionView};
use zeroize::Zeroizing;

use crate::commands::{Outcome, print_json};
use crate::failure::Failure;

fn code(mfa_code: Option<String>) -> Option<Zeroizing<String>> {
    mfa_code.map(|c| Zeroizing::new(c.trim().to_owned()))
}

pub async fn rotate(engine: &Engine, session: &str, mfa_code: Option<String>) -> Outcome {
    let rotated = engine
        .rotate_access_key(session, code(mfa_code), Propagation::default())
        .await
        .map_err(failure)?;
    print!("{}", rotated_text(&rotated));
    for warning in &rotated.warnings {
        eprintln!("rolehop: warning: {}", for_terminal(warning));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show(engine: &Engine, session: &str, mfa_code: Option<String>, json: bool) -> Outcome {
    let report = engine
        .access_key_report(session, code(mfa_code), Asking::IfNeeded)
        .await
        .map_err(failure)?;
    if json {
        return print_json(&report);
    }
    print!("{}", report_text(&report));
    Ok(ExitCode::SUCCESS)
}

/// What `rotate-keys` prints on success, each line filtered.
fn rotated_text(rotated: &RotatedKeys) -> String {
    let mut lines = vec![format!(
        "rotated the access key of '{}' (IAM user {}): {} is in the keychain, {} is deleted",
        rotated.session, rotated.user_name, rotated.new_key_id, rotated.old_key_id
    )];
    if !rotated.forgotten.is_empty() {
        lines.push(format!(
            "forgot the credentials cached with the old key for: {}",
            rotated.forgotten.join(", ")
        ));
    }
    shown(lines)
}

/// What `session keys` prints: the user, a line per key, the age warning.
fn report_text(report: &AccessKeyReport) -> String {
    let mut lines = vec![format!(
        "IAM user {} ('{}'):",
        report.user_name, report.session
    )];
    for key in &report.keys {
        let age = key
            .age_days
            .map(|d| format!("{d} days old"))
            .unwrap_or_else(|| "age unknown".into());
        let held = if key.in_keychain {
            "in the keychain"
        } else {
            "not Rolehop's"
        };
        lines.push(format!(
            "  {}  {}  {age}  {held}",
            key.access_key_id, key.status
        ));
    }
    lines.extend(stale_warning(report));
    shown(lines)
}

/// `session list --key-age`'s lines for one IAM user session.
fn age_text(name: &str, report: Result<&AccessKeyReport, &KeyError>) -> String {
    let lines = match report {
        Ok(report) => {
            let age = report
                .age_days
                .map(|d| format!("{d} days old"))
                .unwrap_or_else(|| "not listed by IAM".into());
            let mut lines = vec![format!("key age  {name}: {age}")];
            lines.extend(stale_warning(report));
            lines
        }
        Err(e) => vec![format!("key age  {name}: unknown ({e})")],
    };
    shown(lines)
}

/// `lines` through the display filter, each ending in a newline.
fn shown(lines: Vec<String>) -> String {
    lines.iter().map(|l| for_terminal(l) + "\n").collect()
}

/// The warning for a key past the age limit, naming the command that rotates it.
fn stale_warning(report: &AccessKeyReport) -> Option<String> {
    report.stale.then(|| {
        format!(
            "warning: the access key of '{}' is {} days old (over {STALE_AFTER_DAYS}); rotate it with `rolehop session rotate-keys {}`",
            report.session,
            report.age_days.unwrap_or_default(),
            report.session
        )
    })
}

/// `session list --key-age`: one line per IAM user session, after the table.
pub async fn age_lines(engine: &Engine, sessions: &[SessionView]) {
    for view in sessions {
        if !matches!(view.session.kind, SessionKind::IamUser(_)) {
            continue;
        }
        let report = engine
            .access_key_report(view.session.id, None, Asking::Never)
            .await;
        print!("{}", age_text(&view.session.name, report.as_ref()));
    }
}

/// A key failure ends through the one exit table, as every other command's does.
pub fn failure(e: KeyError) -> Failure {
    Failure::of(&e)
}

#[cfg(test)]
mod tests {
    use rolehop_core::access_keys::AccessKeyInfo;

    use super::*;

    /// What a hostile or broken IAM answer could carry: a C1 CSI (U+009B, a CSI on some
    /// terminals), an ESC sequence, a right-to-left override, and a very long text.
    const HOSTILE: &str = "bob\u{9b}2J\x1b]0;owned\x07\u{202e}gpj.exe";

    fn assert_filtered(text: &str) {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reaches the terminal: {text:?}"
        );
        assert!(!text.contains('\u{202e}'), "a bidi override: {text:?}");
        assert!(
            text.contains("\\x9b2J\\e]0;owned\\x07\\u{202e}gpj.exe"),
            "{text:?}"
        );
    }

    fn report(user_name: &str, status: &str) -> AccessKeyReport {
        AccessKeyReport {
            session: "alice".into(),
            user_name: user_name.into(),
            keys: vec![AccessKeyInfo {
                access_key_id: "AKIAEXAMPLE0000000001".into(),
                status: status.into(),
                created: None,
                age_days: Some(120),
                in_keychain: true,
            }],
            age_days: Some(120),
            stale: true,
        }
    }

    /// Finding 6 of issue 23: `session keys` printed IAM's user name and key status
    /// raw (on main this output carried U+009B, ESC and U+202E as they came).
    #[test]
    fn session_keys_shows_iams_text_filtered() {
        let text = report_text(&report(HOSTILE, HOSTILE));
        assert_filtered(&text);
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    /// Finding 6 of issue 23: `--key-age` and `rotate-keys` print IAM's text filtered,
    /// and an IAM error message, however long, is capped.
    #[test]
    fn key_age_and_rotation_show_iams_text_filtered_and_capped() {
        assert_filtered(&age_text(HOSTILE, Ok(&report("alice", "Active"))));
        let rotated = RotatedKeys {
            session: "alice".into(),
            user_name: HOSTILE.into(),
            old_key_id: "AKIAOLD".into(),
            new_key_id: "AKIANEW".into(),
            forgotten: vec![],
            warnings: vec![],
        };
        assert_filtered(&rotated_text(&rotated));

        let huge = KeyError::Refused {
            action: "ListAccessKeys",
            user: "alice".into(),
            cause: rolehop_core::trust::iam::IamError {
                code: "AccessDenied".into(),
                message: format!("{HOSTILE} {}", "denied ".repeat(20_000)),
            },
        };
        let text = age_text("alice", Err(&huge));
        assert_filtered(&text);
        assert!(
            text.len() <= rolehop_core::display_text::MAX_SHOWN_BYTES + 1,
            "{} bytes",
            text.len()
        );
    }
}
