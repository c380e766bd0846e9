//! `rolehop session add|edit|list|start|stop|login|logout|remove` (`rotate-keys` and `keys`: [`super::keys`]).

use std::process::ExitCode;

use chrono::Utc;
use rolehop_core::access_keys::console_csv::read_console_csv;
use rolehop_core::changes::KindOfSession;
use rolehop_core::console::{ConsoleBrowser, ConsoleSettings};
use rolehop_core::display_text::for_terminal;
use rolehop_core::engine::NewSsoRole;
use rolehop_core::filter::SessionFilter;
use rolehop_core::model::{FailureCode, SessionState, SessionTag};
use rolehop_core::validate;
use rolehop_core::{
    ConsoleSignInFor, Engine, EngineError, NewConsoleSignIn, NewIamUser, NewRole, NewSamlRole,
    SessionChanges, SessionView, StartOptions,
};
use zeroize::Zeroizing;

use crate::args::{
    AddSession, ConsoleFlags, EditSession, ListArgs, NameProfileRegion, SessionCommand, SignInFlags,
};
use crate::commands::saml::{read_assertion, start_in_the_app};
use crate::commands::sso::open_browser;
use crate::commands::{Outcome, keys, named_or_picked, print_json};
use crate::failure::has_display;
use crate::prompt::read_access_keys;
use crate::render::{describe, rfc3339, session_table, time_until, trust_notes};

pub async fn run(engine: &Engine, command: SessionCommand) -> Outcome {
    match command {
        SessionCommand::Add(add) => add_session(engine, add).await,
        SessionCommand::Edit(edit) => edit_session(engine, edit).await,
        SessionCommand::List(args) => list(engine, args).await,
        SessionCommand::Start {
            session,
            mfa_code,
            take_over,
            assertion_file,
        } => {
            let session =
                named_or_picked(engine, session, "rolehop session start [OPTIONS] <SESSION>")
                    .await?;
            let saml_assertion = assertion_file.as_deref().map(read_assertion).transpose()?;
            start(
                engine,
                &session,
                StartOptions {
                    mfa_code: mfa_code.map(|c| Zeroizing::new(c.trim().to_owned())),
                    take_over,
                    saml_assertion,
                },
            )
            .await
        }
        SessionCommand::Stop { session } => {
            let view = engine.stop(&session).await?;
            println!(
                "stopped '{}'; profile '{}' no longer has its credentials",
                view.session.name, view.session.profile
            );
            Ok(ExitCode::SUCCESS)
        }
        SessionCommand::RotateKeys { session, mfa_code } => {
            keys::rotate(engine, &session, mfa_code).await
        }
        SessionCommand::Keys {
            session,
            mfa_code,
            json,
        } => keys::show(engine, &session, mfa_code, json).await,
        SessionCommand::Login { session, browser } => {
            let target = ConsoleSignInFor::Again(session.as_str().into());
            sign_in(engine, target, &browser).await
        }
        SessionCommand::Logout { session } => {
            let view = engine.console_logout(&session).await?;
            println!(
                "logged out of '{}'; its token left the keychain, and what was cached with \
                 it; `rolehop session login {}` signs it in again",
                view.session.name, view.session.name
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
    console_note(view);
    ExitCode::SUCCESS
}

async fn add_session(engine: &Engine, add: AddSession) -> Outcome {
    match add {
        AddSession::IamUser(a) => {
            let spec = NewIamUser {
                console: console_settings(&a.console)?,
                name: a.name,
                profile: a.profile,
                region: a.region,
                mfa_serial: a.mfa_serial,
                session_duration: a.session_duration,
            };
            // Read the keys before touching the workspace: a failed read changes nothing.
            let keys = match &a.from_csv {
                Some(file) => read_console_csv(file).map_err(EngineError::from)?,
                None => read_access_keys()?,
            };
            Ok(added(&engine.add_iam_user(spec, keys).await?))
        }
        AddSession::Role(a) => {
            let view = engine
                .add_role(NewRole {
                    console: console_settings(&a.console)?,
                    name: a.name,
                    profile: a.profile,
                    region: a.region,
                    parent: a.parent,
                    role_arn: a.role_arn,
                    role_session_name: a.role_session_name,
                    external_id: a.external_id,
                    duration: a.duration,
                    source_identity: a.source_identity,
                    tags: parse_tags(&a.tags)?,
                    transitive_tag_keys: a.transitive_tag_keys,
                })
                .await?;
            Ok(added(&view))
        }
        AddSession::Saml(a) => {
            let view = engine
                .add_saml_role(NewSamlRole {
                    name: a.name,
                    profile: a.profile,
                    region: a.region,
                    idp_url: a.idp_url,
                    role_arn: a.role_arn,
                    principal_arn: a.principal_arn,
                    duration: a.duration,
                })
                .await?;
            Ok(added(&view))
        }
        AddSession::LoginSession(a) => {
            let target = ConsoleSignInFor::New(NewConsoleSignIn {
                name: a.name,
                profile: a.profile,
                region: a.region,
            });
            sign_in(engine, target, &a.browser).await
        }
        AddSession::SsoRole(a) => {
            let view = engine
                .add_sso_role(NewSsoRole {
                    console: console_settings(&a.console)?,
                    name: a.name,
                    profile: a.profile,
                    region: a.region,
                    sso: a.sso,
                    account_id: a.account_id,
                    account_name: None,
                    role_name: a.role_name,
                })
                .await?;
            Ok(added(&view))
        }
    }
}

/// A console sign-in in the browser, as `aws login` runs it: the URL printed (and
/// opened), then the wait for the browser's answer.
async fn sign_in(engine: &Engine, target: ConsoleSignInFor, flags: &SignInFlags) -> Outcome {
    let again = matches!(target, ConsoleSignInFor::Again(_));
    let pending = engine
        .begin_console_sign_in(target, flags.redirect_port)
        .await?;
    println!(
        "{}",
        for_terminal(&format!(
            "To sign '{}' in, sign in to the AWS console on this page{}:",
            pending.name,
            if flags.no_browser {
                ""
            } else {
                " (opening it in your browser)"
            }
        ))
    );
    println!("{}", for_terminal(&pending.authorize_url));
    if !flags.no_browser {
        open_browser(&pending.authorize_url);
    }
    println!("waiting for the browser to come back (Ctrl-C cancels)...");
    let timeout = rolehop_core::sso::browser_login::timeout_from_env();
    let view = engine.complete_console_sign_in(pending, timeout).await?;
    if again {
        println!(
            "{}",
            for_terminal(&format!(
                "signed '{}' in again ({}); its new token is in the keychain",
                view.session.name,
                describe(&view)
            ))
        );
        return Ok(ExitCode::SUCCESS);
    }
    Ok(added(&view))
}

/// `--tag KEY=VALUE`s as session tags; a tag without `=` is refused naming `tags`.
fn parse_tags(flags: &[String]) -> Result<Vec<SessionTag>, EngineError> {
    flags
        .iter()
        .map(|t| validate::parse_tag(t).map_err(EngineError::from))
        .collect()
}

/// `console: chrome (profile Work), s3, eu-west-1`, for a session whose console
/// settings are not the defaults.
fn console_note(view: &SessionView) {
    let c = &view.session.console;
    if c.is_default() {
        return;
    }
    println!(
        "console: {}, {}, {}",
        for_terminal(&c.browser.to_string()),
        c.destination.as_deref().unwrap_or("home page"),
        c.region.as_deref().unwrap_or("the session's region")
    );
}

/// The console flags' browser, refused naming the flag's field when unknown or
/// without the profile or container it needs.
fn console_browser(flags: &ConsoleFlags) -> Result<Option<ConsoleBrowser>, EngineError> {
    flags
        .console_browser
        .as_deref()
        .map(|name| {
            ConsoleBrowser::parse(
                [
                    "console_browser",
                    "console_browser_profile",
                    "console_container",
                ],
                name,
                flags.console_browser_profile.as_deref(),
                flags.console_container.as_deref(),
            )
        })
        .transpose()
        .map_err(EngineError::from)
}

/// A new session's console settings (the workspace checks the destination and region).
fn console_settings(flags: &ConsoleFlags) -> Result<ConsoleSettings, EngineError> {
    Ok(ConsoleSettings {
        browser: console_browser(flags)?.unwrap_or_default(),
        destination: flags.console_destination.clone().filter(|v| !v.is_empty()),
        region: flags.console_region.clone().filter(|v| !v.is_empty()),
    })
}

/// `Some("")` clears an optional field, `None` keeps it.
/// An edit of `kind`'s name, profile, region and console: what every kind may change.
fn shared_changes(
    kind: KindOfSession,
    basics: NameProfileRegion,
    console: ConsoleFlags,
) -> Result<SessionChanges, EngineError> {
    Ok(SessionChanges {
        kind: Some(kind),
        name: basics.name,
        profile: basics.profile,
        region: clearable(basics.region),
        console_browser: console_browser(&console)?,
        console_destination: clearable(console.console_destination),
        console_region: clearable(console.console_region),
        ..Default::default()
    })
}

fn clearable(flag: Option<String>) -> Option<Option<String>> {
    flag.map(|v| Some(v).filter(|v| !v.is_empty()))
}

async fn edit_session(engine: &Engine, edit: EditSession) -> Outcome {
    let (session, changes, keys) = match edit {
        EditSession::IamUser { session, changes } => {
            let keys = if changes.new_keys {
                Some(read_access_keys()?)
            } else {
                None
            };
            let patch = SessionChanges {
                kind: Some(KindOfSession::IamUser),
                name: changes.basics.name,
                profile: changes.basics.profile,
                region: clearable(changes.basics.region),
                mfa_serial: clearable(changes.mfa_serial),
                session_duration: changes.session_duration.map(Some),
                console_browser: console_browser(&changes.console)?,
                console_destination: clearable(changes.console.console_destination),
                console_region: clearable(changes.console.console_region),
                ..Default::default()
            };
            (session, patch, keys)
        }
        EditSession::Role { session, changes } => {
            let patch = SessionChanges {
                kind: Some(KindOfSession::Role),
                name: changes.basics.name,
                profile: changes.basics.profile,
                region: clearable(changes.basics.region),
                parent: changes.parent,
                role_arn: changes.role_arn,
                role_session_name: clearable(changes.role_session_name),
                external_id: clearable(changes.external_id),
                duration: changes.duration.map(Some),
                source_identity: clearable(changes.source_identity),
                // Given tags replace the old ones (transitive keys too, which must be
                // among them); `--no-tags` clears both; neither keeps them.
                tags: if changes.no_tags {
                    Some(Vec::new())
                } else if changes.tags.is_empty() {
                    None
                } else {
                    Some(parse_tags(&changes.tags)?)
                },
                transitive_tag_keys: (changes.no_tags
                    || !changes.tags.is_empty()
                    || !changes.transitive_tag_keys.is_empty())
                .then_some(changes.transitive_tag_keys),
                console_browser: console_browser(&changes.console)?,
                console_destination: clearable(changes.console.console_destination),
                console_region: clearable(changes.console.console_region),
                ..Default::default()
            };
            (session, patch, None)
        }
        EditSession::SsoRole { session, changes } => {
            let patch = shared_changes(KindOfSession::SsoRole, changes.basics, changes.console)?;
            (session, patch, None)
        }
        EditSession::Saml { session, changes } => {
            let patch = SessionChanges {
                role_arn: changes.role_arn,
                duration: changes.duration.map(Some),
                ..shared_changes(KindOfSession::Saml, changes.basics, changes.console)?
            };
            (session, patch, None)
        }
    };
    let view = engine.edit_session(&session, changes, keys).await?;
    println!("updated '{}' ({})", view.session.name, describe(&view));
    console_note(&view);
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
        print!("{}", trust_notes(&sessions));
        if args.key_age {
            keys::age_lines(engine, &sessions).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn start(engine: &Engine, session: &str, opts: StartOptions) -> Outcome {
    let given = opts.saml_assertion.is_some();
    let view = match engine.start(session, opts).await {
        // A federated start with no response: the desktop app's login window signs in.
        Err(EngineError::SessionFailed { failure, .. })
            if failure.code == FailureCode::SamlSignInRequired && !given && has_display() =>
        {
            start_in_the_app(engine, session).await?
        }
        started => started?,
    };
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
