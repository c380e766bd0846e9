//! `rolehop trust show|template|check`: renders what `rolehop_core::trust` derives and
//! evaluates; the exit code of `check` says whether the hop is admitted. Text read from
//! a policy (a Sid, condition keys and values, in IAM's answer or a file) is printed
//! through the display filter, line by line.

use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::display_text::for_terminal;
use rolehop_core::trust::inspect::TrustError;
use rolehop_core::trust::statement::HopNeeds;
use rolehop_core::trust::template::{self, TemplateFormat};
use rolehop_core::trust::{CheckReport, Evaluation, Hop, NeedsOptions, PolicySource, Verdict};

use crate::args::{TemplateFormatArg, TrustCommand};
use crate::commands::{Outcome, print_json};
use crate::failure::{Exit, Failure};

pub async fn run(engine: &Engine, command: TrustCommand) -> Outcome {
    let inspector = engine.trust();
    match command {
        TrustCommand::Show {
            session,
            json,
            require_mfa,
        } => {
            let needs = inspector
                .needs(&session, NeedsOptions { require_mfa })
                .await?;
            if json {
                return print_json(&needs);
            }
            print!("{}", show_text(&needs));
            Ok(ExitCode::SUCCESS)
        }
        TrustCommand::Template {
            session,
            format,
            require_mfa,
        } => {
            let needs = inspector
                .needs(&session, NeedsOptions { require_mfa })
                .await?;
            let last = needs
                .last()
                .expect("the core returns the target's hop last");
            let format = match format {
                TemplateFormatArg::Cloudformation => TemplateFormat::Cloudformation,
                TemplateFormatArg::Terraform => TemplateFormat::Terraform,
                TemplateFormatArg::Json => TemplateFormat::Json,
            };
            print!("{}", template::render(last, &session, format));
            Ok(ExitCode::SUCCESS)
        }
        TrustCommand::Check {
            session,
            policy,
            via,
            json,
        } => {
            let source = match policy {
                Some(path) => PolicySource::Document {
                    text: read_policy(&path)?,
                    origin: path.display().to_string(),
                },
                None => PolicySource::Fetch { via },
            };
            let report = inspector
                .check(&session, source)
                .await
                .map_err(trust_failure)?;
            if json {
                print_json(&report)?;
            } else {
                print!(
                    "{}",
                    check_text(&report.hop, &report.source, &report.evaluation)
                );
            }
            verdict_outcome(&report)
        }
    }
}

fn indented(value: &impl serde::Serialize, by: &str) -> String {
    let text = serde_json::to_string_pretty(value).expect("statement serializes");
    // JSON escapes C0 controls but not C1 ones nor bidi overrides.
    text.lines()
        .map(|l| format!("{}\n", for_terminal(&format!("{by}{l}"))))
        .collect()
}

/// `line` through the display filter, with its newline.
fn shown(line: String) -> String {
    for_terminal(&line) + "\n"
}

fn show_text(needs: &[HopNeeds]) -> String {
    let mut out = String::new();
    for (i, n) in needs.iter().enumerate() {
        let hop = &n.hop;
        out.push_str(&shown(format!(
            "Hop {} of {}: '{}' assumes {} for '{}'",
            i + 1,
            needs.len(),
            hop.caller.session,
            hop.role_arn,
            hop.session
        )));
        out.push_str(&shown(format!(
            "  The trust policy of {} needs:",
            hop.role_arn
        )));
        out.push_str(&indented(&n.trust_statement, "    "));
        out.push_str(&shown(format!(
            "  The identity policy of {} needs:",
            hop.caller
                .arn
                .clone()
                .unwrap_or_else(|| format!("'{}'", hop.caller.session))
        )));
        out.push_str(&indented(&n.identity_statement, "    "));
        for note in &n.notes {
            out.push_str(&shown(format!("  Note: {note}.")));
        }
    }
    out
}

/// The verdict of `trust check`, then IAM's reasons: the statements that decided (their
/// Sid, condition keys and values come from the policy) and what is missing.
fn check_text(hop: &Hop, source: &str, evaluation: &Evaluation) -> String {
    let who = hop
        .caller
        .principal()
        .unwrap_or_else(|| "an unknown principal".into());
    let verdict = match evaluation.verdict {
        Verdict::Admitted => "admits",
        Verdict::ExplicitDeny => "explicitly denies",
        Verdict::NotAdmitted => "does not admit",
        Verdict::CannotTell => "may or may not admit",
    };
    let mut out = shown(format!(
        "{}: the trust policy of {} {verdict} '{}' ({who})",
        hop.session, hop.role_arn, hop.caller.session
    ));
    out.push_str(&shown(format!("  policy read from {source}")));
    for line in &evaluation.details {
        out.push_str(&shown(format!("  {line}")));
    }
    for line in &evaluation.missing {
        out.push_str(&shown(format!("  missing: {line}")));
    }
    out
}

fn verdict_outcome(report: &CheckReport) -> Outcome {
    let hop = &report.hop;
    let e = &report.evaluation;
    let subject = format!(
        "the trust policy of {} does not admit '{}' for '{}'",
        hop.role_arn, hop.caller.session, hop.session
    );
    match e.verdict {
        Verdict::Admitted => Ok(ExitCode::SUCCESS),
        Verdict::NotAdmitted => Err(Failure::new(
            Exit::NotTrusted,
            format!("{subject}: {}", e.missing.join("; ")),
        )),
        Verdict::ExplicitDeny => Err(Failure::new(
            Exit::NotTrusted,
            format!("{subject}: {}", e.details.join("; ")),
        )),
        Verdict::CannotTell => Err(Failure::new(
            Exit::CannotTell,
            format!(
                "cannot tell whether the trust policy of {} admits '{}': {}",
                hop.role_arn,
                hop.caller.session,
                e.details.join("; ")
            ),
        )),
    }
}

fn trust_failure(e: TrustError) -> Failure {
    Failure::of(&e)
}

/// The most of a `--policy` file read: IAM's own limit on a trust policy is 2,048
/// characters (4,096 when raised), so anything near this is not one.
const MAX_POLICY_BYTES: u64 = 64 * 1024;

/// A `--policy` file's text, refused (naming the field) when it cannot be read or is
/// longer than [`MAX_POLICY_BYTES`]; never more than that is read.
fn read_policy(path: &std::path::Path) -> Result<String, Failure> {
    use std::io::Read;
    let refuse = |why: String| {
        Failure::new(
            Exit::Invalid,
            format!("policy: cannot read {}: {why}", path.display()),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| refuse(e.to_string()))?;
    let mut text = String::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| refuse(e.to_string()))?;
    if text.len() as u64 > MAX_POLICY_BYTES {
        return Err(refuse(format!(
            "it is over {} KiB; a trust policy is at most 4,096 characters",
            MAX_POLICY_BYTES / 1024
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use rolehop_core::model::SessionId;
    use rolehop_core::trust::statement::{Caller, CallerKind};

    use super::*;

    /// Finding 6 of issue 23: `trust check` printed the policy's own text (a Sid, a
    /// condition key and value) raw; a policy may hold U+009B (a CSI on some
    /// terminals), ESC and U+202E. On main `check_text` passed them through.
    #[test]
    fn trust_check_shows_the_policys_text_filtered() {
        let hostile = "Sid\u{9b}2J\x1b]0;owned\x07\u{202e}gpj.exe";
        let hop = Hop {
            session: "production".into(),
            role_arn: "arn:aws:iam::123456789012:role/Deploy".into(),
            role_session_name: "rolehop-production".into(),
            caller: Caller {
                id: SessionId::new(),
                session: "alice".into(),
                kind: CallerKind::IamUser,
                arn: Some("arn:aws:iam::123456789012:user/alice".into()),
                account_id: Some("123456789012".into()),
                session_arn: None,
            },
            external_id: None,
            source_identity: None,
            passes_tags: false,
            mfa: true,
        };
        let evaluation = Evaluation {
            verdict: Verdict::NotAdmitted,
            missing: vec![format!("a statement whose condition {hostile} holds")],
            details: vec![
                format!("statement '{hostile}' does not apply"),
                "x".repeat(50_000),
            ],
        };
        let text = check_text(&hop, &format!("/tmp/{hostile}.json"), &evaluation);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reaches the terminal: {text:?}"
        );
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert_eq!(
            text.matches("Sid\\x9b2J\\e]0;owned\\x07\\u{202e}gpj.exe")
                .count(),
            3,
            "{text}"
        );
        for line in text.lines() {
            assert!(
                line.len() <= rolehop_core::display_text::MAX_SHOWN_BYTES,
                "a line of {} bytes",
                line.len()
            );
        }
    }
}
