//! `rolehop session add|edit|list|start|stop|remove`.

use std::process::ExitCode;

use chrono::Utc;
use rolehop_core::filter::SessionFilter;
use rolehop_core::model::{SessionKind, SessionState};
use rolehop_core::{Engine, NewIamUser, NewRole, SessionView, StartOptions};
use zeroize::Zeroizing;

use crate::args::{AddSession, EditSession, ListArgs, SessionCommand};
use crate::commands::{Outcome, print_json};
use crate::failure::{Exit, Failure};
use crate::prompt::read_access_keys;
use crate::render::{describe, rfc3339, session_table, time_until};

pub async fn run(engine: &Engine, command: SessionCommand) -> Outcome {
    match command {
        SessionCommand::Add(add) => add_session(engine, add).await,
        SessionCommand::Edit(edit) => edit_session(engine, edit).await,
        SessionCommand::List(args) => list(engine, args).await,
        SessionCommand::Start {
            session,
            mfa_code,
            take_over,
        } => start(engine, &session, mfa_code, take_over).await,
        SessionCommand::Stop { session } => {
            let view = engine.stop(&session).await?;
            println!(
                "stopped '{}'; profile '{}' no longer has its credentials",
                view.session.name, view.session.profile
            );
            Ok(ExitCode::SUCCESS)
        }
        SessionCommand::Remove { session, cascade } => {
            let before = engine.sessions().await?;
            let removed = engine.remove_session(&session, cascade).await?;
            for id in removed {
                let name = before
                    .iter()
                    .find(|v| v.session.id == id)
                    .map(|v| v.session.name.as_str())
                    .unwrap_or("?");
                println!("removed '{name}'");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn added(view: &SessionView) -> ExitCode {
    println!(
        "added '{}' ({}), id {}",
        view.session.name,
        describe(view),
        view.session.id
    );
    ExitCode::SUCCESS
}

async fn add_session(engine: &Engine, add: AddSession) -> Outcome {
    match add {
        AddSession::IamUser(a) => {
            let spec = NewIamUser {
                name: a.name,
                profile: a.profile,
                region: a.region,
                mfa_serial: a.mfa_serial,
                session_duration: a.session_duration,
            };
            // Read the keys before touching the workspace: a failed read changes nothing.
            let keys = read_access_keys()?;
            Ok(added(&engine.add_iam_user(spec, keys).await?))
        }
        AddSession::Role(a) => {
            let view = engine
                .add_role(NewRole {
                    name: a.name,
                    profile: a.profile,
                    region: a.region,
                    parent: a.parent,
                    role_arn: a.role_arn,
                    role_session_name: a.role_session_name,
                    external_id: a.external_id,
                    duration: a.duration,
                    source_identity: a.source_identity,
                })
                .await?;
            Ok(added(&view))
        }
    }
}

/// `Some("")` clears an optional field, `None` keeps it.
fn change(new: Option<String>, old: &Option<String>) -> Option<String> {
    match new {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(v),
        None => old.clone(),
    }
}

async fn edit_session(engine: &Engine, edit: EditSession) -> Outcome {
    let view = match edit {
        EditSession::IamUser { session, changes } => {
            let current = engine.session(&session).await?;
            let SessionKind::IamUser(user) = &current.session.kind else {
                return Err(Failure::new(
                    Exit::Invalid,
                    format!(
                        "session '{}' is a role; use `rolehop session edit role`",
                        current.session.name
                    ),
                ));
            };
            let spec = NewIamUser {
                name: changes.name.unwrap_or(current.session.name.clone()),
                profile: changes
                    .profile
                    .unwrap_or(current.session.profile.to_string()),
                region: change(changes.region, &current.session.region),
                mfa_serial: change(changes.mfa_serial, &user.mfa_serial),
                session_duration: Some(changes.session_duration.unwrap_or(user.session_duration)),
            };
            let keys = if changes.new_keys {
                Some(read_access_keys()?)
            } else {
                None
            };
            engine.edit_iam_user(&session, spec, keys).await?
        }
        EditSession::Role { session, changes } => {
            let current = engine.session(&session).await?;
            let SessionKind::Role(role) = &current.session.kind else {
                return Err(Failure::new(
                    Exit::Invalid,
                    format!(
                        "session '{}' is an IAM user; use `rolehop session edit iam-user`",
                        current.session.name
                    ),
                ));
            };
            let spec = NewRole {
                name: changes.name.unwrap_or(current.session.name.clone()),
                profile: changes
                    .profile
                    .unwrap_or(current.session.profile.to_string()),
                region: change(changes.region, &current.session.region),
                parent: changes.parent.unwrap_or(role.parent.to_string()),
                role_arn: changes.role_arn.unwrap_or(role.role_arn.clone()),
                role_session_name: change(changes.role_session_name, &role.role_session_name),
                external_id: change(changes.external_id, &role.external_id),
                duration: changes.duration.or(role.duration),
                source_identity: role.source_identity.clone(),
            };
            engine.edit_role(&session, spec).await?
        }
    };
    println!("updated '{}' ({})", view.session.name, describe(&view));
    Ok(ExitCode::SUCCESS)
}

async fn list(engine: &Engine, args: ListArgs) -> Outcome {
    let filter = SessionFilter {
        profile: args.profile,
        text: args.filter,
    };
    let sessions: Vec<SessionView> = engine
        .sessions()
        .await?
        .into_iter()
        .filter(|v| filter.matches(v))
        .collect();
    if args.json {
        return print_json(&sessions);
    }
    if sessions.is_empty() {
        println!("no sessions; add one with `rolehop session add` or `rolehop import aws-config`");
    } else {
        print!("{}", session_table(&sessions, Utc::now()));
    }
    Ok(ExitCode::SUCCESS)
}

async fn start(
    engine: &Engine,
    session: &str,
    mfa_code: Option<String>,
    take_over: bool,
) -> Outcome {
    let view = engine
        .start(
            session,
            StartOptions {
                mfa_code: mfa_code.map(|c| Zeroizing::new(c.trim().to_owned())),
                take_over,
            },
        )
        .await?;
    match view.state {
        SessionState::Active { expires_at } => println!(
            "started '{}': profile '{}' has its credentials until {} (in {})",
            view.session.name,
            view.session.profile,
            rfc3339(expires_at),
            time_until(expires_at, Utc::now())
        ),
        other => println!("'{}' is {}", view.session.name, other.label()),
    }
    Ok(ExitCode::SUCCESS)
}
