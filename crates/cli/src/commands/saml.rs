//! `rolehop saml roles`: what a SAML response grants; `saml add|sync|list|remove`:
//! federated integrations, through the engine (this module renders); reading a SAML
//! response from a file or standard input (`--assertion-file`), for these and
//! `session start`; and a federated `session start` through the desktop app's login
//! window.

use std::process::ExitCode;

use chrono::Utc;
use rolehop_core::agent::{NoAnswer, ask_the_app_to_sign_in};
use rolehop_core::app_sign_in::SignInAnswer;
use rolehop_core::display_text::for_terminal;
use rolehop_core::model::{Failure as SessionFailure, FailureCode, SessionState};
use rolehop_core::saml::{NewSamlIntegration, RoleOffer, SamlPick, SamlResponse};
use rolehop_core::validate::Arn;
use rolehop_core::{Engine, EngineError, SessionView};
use zeroize::Zeroizing;

use crate::args::SamlCommand;
use crate::commands::{Outcome, print_json};
use crate::failure::{Failure, input_error};
use crate::render::rfc3339;

pub async fn run(engine: &Engine, command: SamlCommand) -> Outcome {
    match command {
        SamlCommand::Add {
            name,
            idp_url,
            region,
            profile_template,
            duration,
        } => {
            let i = engine
                .add_saml_integration(NewSamlIntegration {
                    name,
                    idp_url,
                    region,
                    profile_template,
                    duration,
                })
                .await?;
            println!(
                "added federated integration '{}' ({}); sync its roles with `rolehop saml sync {} --assertion-file FILE`",
                for_terminal(&i.name),
                for_terminal(&i.idp_url),
                for_terminal(&i.name)
            );
            Ok(ExitCode::SUCCESS)
        }
        SamlCommand::List { json } => {
            let list = engine.saml_integrations().await?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("no federated integrations; add one with `rolehop saml add`");
            }
            for i in &list {
                println!(
                    "{}",
                    for_terminal(&format!(
                        "{}  {}  region {}  template {}",
                        i.name,
                        i.idp_url,
                        i.region.as_deref().unwrap_or("(default)"),
                        i.profile_template.as_deref().unwrap_or("(default)")
                    ))
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SamlCommand::Remove { name } => {
            let report = engine.remove_saml_integration(&name).await?;
            print!(
                "{}",
                crate::render::sync_report(&report, |_| "its integration was removed".into())
            );
            println!("removed federated integration '{}'", for_terminal(&name));
            Ok(ExitCode::SUCCESS)
        }
        SamlCommand::Sync {
            name,
            assertion_file,
            roles,
            all,
            json,
        } => {
            let posted = read_assertion(&assertion_file)?;
            let from_stdin = assertion_file == std::path::Path::new("-");
            let pick = if all {
                SamlPick::All
            } else if roles.is_empty() && !from_stdin && !json && crate::picker::available() {
                // A person at a terminal picks among the offered roles.
                let offered = engine.saml_offers(&name, &posted).await?;
                match crate::role_picker::pick(&offered)? {
                    Some(arns) => SamlPick::Roles(arns),
                    None => {
                        return Err(Failure::new(
                            crate::failure::Exit::Interrupted,
                            "no role picked: cancelled, nothing changed",
                        ));
                    }
                }
            } else {
                SamlPick::Roles(roles)
            };
            let report = engine.saml_sync(&name, &posted, pick).await?;
            if json {
                return print_json(&report);
            }
            print!(
                "{}",
                crate::render::sync_report(&report.sync, |i| format!(
                    "the provider no longer grants {} in account {}",
                    i.role_name, i.account_id
                ))
            );
            if !report.not_picked.is_empty() {
                println!("also granted, not kept (pick with --role ARN or --all):");
                for o in &report.not_picked {
                    println!("  {}", for_terminal(&offer_line(o)));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SamlCommand::Roles {
            assertion_file,
            json,
        } => {
            let posted = read_assertion(&assertion_file)?;
            let response = SamlResponse::parse(&posted).map_err(rolehop_core::EngineError::from)?;
            if json {
                let roles: Vec<_> = response
                    .roles
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "role_arn": p.role_arn,
                            "principal_arn": p.principal_arn,
                            "account_id": Arn::account_of(&p.role_arn),
                        })
                    })
                    .collect();
                return print_json(&serde_json::json!({
                    "roles": roles,
                    "role_session_name": response.role_session_name,
                    "session_duration": response.session_duration,
                    "not_on_or_after": response.not_on_or_after,
                }));
            }
            {
                for p in &response.roles {
                    println!(
                        "{:<14} {:<50} {}",
                        Arn::account_of(&p.role_arn).unwrap_or("-"),
                        p.role_arn,
                        p.principal_arn
                    );
                }
                if let Some(end) = response.not_on_or_after {
                    let state = if end <= Utc::now() {
                        "expired"
                    } else {
                        "valid until"
                    };
                    println!("{state} {}", rfc3339(end));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One offered role: account id, account name when known, role ARN.
fn offer_line(o: &RoleOffer) -> String {
    format!(
        "{:<14} {:<20} {}",
        o.account_id,
        o.account_name.as_deref().unwrap_or("-"),
        o.role_arn
    )
}

/// The SAML response of `--assertion-file FILE` (`-`: standard input), at most a little
/// over what AWS accepts; the engine reads and checks it.
pub fn read_assertion(path: &std::path::Path) -> Result<Zeroizing<String>, Failure> {
    use std::io::Read;
    const LIMIT: u64 = 200_000;
    let what = if path == std::path::Path::new("-") {
        "the SAML response from standard input".to_owned()
    } else {
        format!("the SAML response file {}", path.display())
    };
    let mut text = Zeroizing::new(String::new());
    let read = if path == std::path::Path::new("-") {
        std::io::stdin()
            .lock()
            .take(LIMIT)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(LIMIT).read_to_string(&mut text))
    };
    read.map_err(|e| input_error(&what, e))?;
    Ok(text)
}

/// How long a desktop app the command line started may take to open its channel.
const APP_START_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// A federated start through the desktop app's login window (`session start` with no
/// `--assertion-file`, a display there): asks the running app, or starts it, to sign in
/// and start `session` (see `rolehop_core::app_sign_in`), and reads the outcome from the
/// workspace the app shares. The SAML response stays in the app.
pub async fn start_in_the_app(engine: &Engine, session: &str) -> Result<SessionView, EngineError> {
    let dir = engine.config().runtime_dir();
    let not_signed_in = |message: String| EngineError::SessionFailed {
        session: session.to_owned(),
        failure: SessionFailure::new(FailureCode::SamlSignInRequired, message),
    };
    eprintln!("signing in to '{session}' in the Rolehop desktop app's login window...");
    let mut answer = ask_the_app_to_sign_in(&dir, session).await;
    if answer == Err(NoAnswer::NotRunning) {
        launch_the_app().map_err(|e| not_signed_in(e.to_string()))?;
        let deadline = std::time::Instant::now() + APP_START_WITHIN;
        while answer == Err(NoAnswer::NotRunning) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            answer = ask_the_app_to_sign_in(&dir, session).await;
        }
    }
    match answer {
        Ok(SignInAnswer::Started) => {
            let view = engine.session(session).await?;
            match view.state {
                SessionState::Failed(failure) => Err(EngineError::SessionFailed {
                    session: view.session.name,
                    failure,
                }),
                _ => Ok(view),
            }
        }
        Ok(
            SignInAnswer::Cancelled { message }
            | SignInAnswer::Failed { message }
            | SignInAnswer::Unavailable { message },
        ) => Err(not_signed_in(message)),
        Ok(SignInAnswer::Refused) => Err(not_signed_in(format!(
            "the Rolehop desktop app refused the request (this launch's secret in {} did not \
             match)",
            dir.display()
        ))),
        Err(e) => Err(not_signed_in(e.to_string())),
    }
}

/// Starts the desktop app in the tray (`rolehop-desktop --minimized`, beside this
/// binary or on PATH), detached: it outlives this command.
fn launch_the_app() -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    const APP: &str = "rolehop-desktop";
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(APP)))
        .filter(|p| p.is_file());
    let program = beside.unwrap_or_else(|| APP.into());
    std::process::Command::new(&program)
        .arg("--minimized")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "the Rolehop desktop app ({}) could not be started for its login window: {e}",
                    program.display()
                ),
            )
        })
}
