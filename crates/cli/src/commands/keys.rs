//! `rolehop session rotate-keys|keys` and `session list --key-age`: an IAM user's access
//! key, its age and its rotation (the steps and their rules: `rolehop_core::access_keys`).

use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::access_keys::{AccessKeyReport, Asking, KeyError, Propagation, STALE_AFTER_DAYS};
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
    println!(
        "rotated the access key of '{}' (IAM user {}): {} is in the keychain, {} is deleted",
        rotated.session, rotated.user_name, rotated.new_key_id, rotated.old_key_id
    );
    if !rotated.forgotten.is_empty() {
        println!(
            "forgot the credentials cached with the old key for: {}",
            rotated.forgotten.join(", ")
        );
    }
    for warning in &rotated.warnings {
        eprintln!("rolehop: warning: {warning}");
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
    println!("IAM user {} ('{}'):", report.user_name, report.session);
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
        println!("  {}  {}  {age}  {held}", key.access_key_id, key.status);
    }
    if let Some(warning) = stale_warning(&report) {
        println!("{warning}");
    }
    Ok(ExitCode::SUCCESS)
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
        let name = &view.session.name;
        match engine
            .access_key_report(view.session.id, None, Asking::Never)
            .await
        {
            Ok(report) => {
                let age = report
                    .age_days
                    .map(|d| format!("{d} days old"))
                    .unwrap_or_else(|| "not listed by IAM".into());
                println!("key age  {name}: {age}");
                if let Some(warning) = stale_warning(&report) {
                    println!("{warning}");
                }
            }
            Err(e) => println!("key age  {name}: unknown ({e})"),
        }
    }
}

/// A key failure ends through the one exit table, as every other command's does.
pub fn failure(e: KeyError) -> Failure {
    Failure::of(&e)
}
