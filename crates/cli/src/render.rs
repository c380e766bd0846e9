//! Turning engine values into text: the session table, times to expiry, and the JSON
//! shapes other programs read (`--json`, the `credential_process` contract).

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use rolehop_core::display_text::for_terminal;
use rolehop_core::model::{Failure, SessionKind, SessionState};
use rolehop_core::sync::{SyncReport, SyncedSession};
use rolehop_core::{Credentials, SessionView};
use serde_json::json;

/// `59m`, `11h 58m`, `2d 3h`, `expired`: how long until `at`.
pub fn time_until(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    if secs <= 0 {
        return "expired".into();
    }
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// A session's state for the table (`active`, `failed: <code>`).
fn state_cell(state: &SessionState) -> String {
    match state {
        SessionState::Failed(f) => format!("failed: {}", f.code),
        other => other.label().to_owned(),
    }
}

fn expiry_cell(state: &SessionState, now: DateTime<Utc>) -> String {
    match state {
        SessionState::Active { expires_at } => time_until(*expires_at, now),
        _ => "-".into(),
    }
}

/// The account id, and the portal's name for it when known.
fn account_cell(s: &SessionView) -> String {
    let id = s.account_id.clone().unwrap_or_else(|| "-".into());
    match &s.session.kind {
        SessionKind::SsoRole(r) => match &r.account_name {
            Some(name) => format!("{id} ({name})"),
            None => id,
        },
        _ => id,
    }
}

/// The SAML provider's name in IAM (`Okta` of `...:saml-provider/Okta`).
fn saml_provider_name(principal_arn: &str) -> &str {
    principal_arn.rsplit('/').next().unwrap_or(principal_arn)
}

/// Where the credentials come from: a role's parent, an SSO role's integration and role.
fn via_cell(s: &SessionView) -> String {
    match &s.session.kind {
        SessionKind::IamUser(_) => "-".into(),
        SessionKind::LoginSession(_) => "aws login".into(),
        SessionKind::Role(_) => s.chain.iter().rev().nth(1).cloned().unwrap_or_default(),
        SessionKind::SsoRole(r) => format!(
            "{}: {}",
            s.integration.as_deref().unwrap_or("?"),
            r.role_name
        ),
        SessionKind::Saml(r) => saml_provider_name(&r.principal_arn).to_owned(),
    }
}

/// The `session list` table: name, kind, profile, region, account, state, expiry.
pub fn session_table(sessions: &[SessionView], now: DateTime<Utc>) -> String {
    let header = [
        "NAME",
        "KIND",
        "PROFILE",
        "REGION",
        "ACCOUNT",
        "STATE",
        "EXPIRES IN",
        "VIA",
    ];
    let rows: Vec<[String; 8]> = sessions
        .iter()
        .map(|s| {
            [
                s.session.name.clone(),
                s.session.kind.label().to_owned(),
                s.session.profile.to_string(),
                s.effective_region.clone().unwrap_or_else(|| "-".into()),
                account_cell(s),
                state_cell(&s.state),
                expiry_cell(&s.state, now),
                via_cell(s),
            ]
            .map(|cell| for_terminal(&cell))
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    out
}

/// Under the table, for each session AWS refused at a role hop: why, in trust-policy
/// terms (the table's cell only has room for the code).
pub fn trust_notes(sessions: &[SessionView]) -> String {
    let mut out = String::new();
    for s in sessions {
        if let SessionState::Failed(Failure {
            trust: Some(trust), ..
        }) = &s.state
        {
            out.push('\n');
            out.push_str(&for_terminal(&format!("{}: {trust}", s.session.name)));
            out.push('\n');
        }
    }
    out
}

/// What a session is, in a few words (`role arn:... chained from 'alice'`), safe to
/// print on a terminal.
pub fn describe(view: &SessionView) -> String {
    for_terminal(&describe_raw(view))
}

fn describe_raw(view: &SessionView) -> String {
    let profile = &view.session.profile;
    match &view.session.kind {
        SessionKind::IamUser(u) => match &u.mfa_serial {
            Some(serial) => format!("IAM user, profile '{profile}', MFA device {serial}"),
            None => format!("IAM user, profile '{profile}', no MFA device"),
        },
        SessionKind::Role(r) => {
            let parent = view
                .chain
                .iter()
                .rev()
                .nth(1)
                .map(String::as_str)
                .unwrap_or("?");
            format!(
                "role {}, profile '{profile}', chained from '{parent}'",
                r.role_arn
            )
        }
        SessionKind::LoginSession(l) => format!(
            "console sign-in session of {}, profile '{profile}' (its token in the keychain)",
            l.login_session
        ),
        SessionKind::SsoRole(r) => format!(
            "SSO role {} in account {}{}, profile '{profile}', through integration '{}'",
            r.role_name,
            r.account_id,
            r.account_name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            view.integration.as_deref().unwrap_or("?")
        ),
        SessionKind::Saml(r) => format!(
            "federated role {}, profile '{profile}', through SAML provider '{}' (sign-in at {})",
            r.role_arn,
            saml_provider_name(&r.principal_arn),
            r.idp_url
        ),
    }
}

/// The JSON the AWS SDKs expect from a `credential_process`.
pub fn credential_process_json(creds: &Credentials) -> String {
    let mut out = json!({
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.as_str(),
    });
    if let Some(token) = &creds.session_token {
        out["SessionToken"] = json!(token.as_str());
    }
    if let Some(exp) = creds.expiration {
        out["Expiration"] = json!(rfc3339(exp));
    }
    out.to_string()
}

/// `2026-01-02T03:04:05Z`, the form the AWS tools read.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A sync's report (an organization's, a catalog's): the counts on one line, then what
/// changed and what was kept against the source; `gone` says why an entry left it.
pub fn sync_report(report: &SyncReport, gone: impl Fn(&SyncedSession) -> String) -> String {
    let c = report.counts;
    let mut out = format!(
        "added {}, updated {}, removed {}, kept {}\n",
        c.added, c.updated, c.removed, c.kept
    );
    let lines = [
        ("added", &report.added),
        ("updated", &report.updated),
        ("removed", &report.removed),
    ];
    for (what, items) in lines {
        for i in items {
            let _ = writeln!(
                out,
                "  {what} {} ({} {})",
                for_terminal(&i.name),
                i.account_id,
                for_terminal(&i.account_name)
            );
        }
    }
    for i in &report.kept_live {
        let _ = writeln!(
            out,
            "  kept {}: {}, but the session is active; stop it and sync again to remove it",
            for_terminal(&i.name),
            gone(i)
        );
    }
    for k in &report.kept_parent {
        let _ = writeln!(
            out,
            "  kept {}: {}, but {} chain from it",
            for_terminal(&k.session.name),
            gone(&k.session),
            k.children
                .iter()
                .map(|c| format!("'{}'", for_terminal(c)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use zeroize::Zeroizing;

    #[test]
    fn time_until_reads_like_a_person_would_say_it() {
        let now = Utc::now();
        assert_eq!(time_until(now - Duration::seconds(1), now), "expired");
        assert_eq!(time_until(now + Duration::seconds(42), now), "42s");
        assert_eq!(time_until(now + Duration::minutes(59), now), "59m");
        assert_eq!(
            time_until(now + Duration::minutes(11 * 60 + 58), now),
            "11h 58m"
        );
        assert_eq!(time_until(now + Duration::hours(51), now), "2d 3h");
    }

    #[test]
    fn credential_process_json_follows_the_aws_contract() {
        let exp = DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let creds = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Zeroizing::new("secret".into()),
            session_token: Some(Zeroizing::new("token".into())),
            expiration: Some(exp),
        };
        let v: serde_json::Value = serde_json::from_str(&credential_process_json(&creds)).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["AccessKeyId"], "ASIAEXAMPLE");
        assert_eq!(v["SecretAccessKey"], "secret");
        assert_eq!(v["SessionToken"], "token");
        assert_eq!(v["Expiration"], "2030-01-02T03:04:05Z");
    }
}
