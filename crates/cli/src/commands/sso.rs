//! `rolehop sso add|list|remove|login|logout`.

use std::process::{ExitCode, Stdio};

use chrono::Utc;
use rolehop_core::Engine;
use rolehop_core::display_text::for_terminal;
use rolehop_core::rotation::SystemClock;
use rolehop_core::sso::{Integration, LoginStatus, NewIntegration};
use rolehop_core::sync::SyncReport;

use crate::args::SsoCommand;
use crate::commands::{Outcome, print_json};
use crate::render::{rfc3339, time_until};

pub async fn run(engine: &Engine, command: SsoCommand) -> Outcome {
    match command {
        SsoCommand::Add {
            name,
            start_url,
            region,
            scopes,
        } => {
            let i = engine
                .add_integration(NewIntegration {
                    name,
                    start_url,
                    region,
                    scopes,
                })
                .await?;
            println!(
                "added integration '{}' ({} in {}); log in with `rolehop sso login {}`",
                i.name, i.start_url, i.region, i.name
            );
        }
        SsoCommand::List { json } => {
            let integrations = engine.integrations().await?;
            if json {
                return print_json(&integrations);
            }
            if integrations.is_empty() {
                println!("no integrations; add one with `rolehop sso add`");
            }
            for i in &integrations {
                println!("{}", for_terminal(&line(i)));
            }
        }
        SsoCommand::Remove { name, cascade } => {
            let before = engine.sessions().await?;
            let (i, removed) = engine.remove_integration(&name, cascade).await?;
            for id in removed {
                if let Some(v) = before.iter().find(|v| v.session.id == id) {
                    println!("removed session '{}'", v.session.name);
                }
            }
            println!("removed integration '{}' and its tokens", i.name);
        }
        SsoCommand::Login {
            name,
            no_browser,
            use_device_code: false,
            redirect_port,
            export_token,
        } => {
            let pending = engine.begin_sso_browser_login(&name, redirect_port).await?;
            println!(
                "{}",
                for_terminal(&format!(
                    "To log in to '{}', sign in on this page{}:",
                    pending.integration.name,
                    if no_browser {
                        ""
                    } else {
                        " (opening it in your browser)"
                    }
                ))
            );
            println!("{}", for_terminal(&pending.authorize_url));
            if !no_browser {
                open_browser(&pending.authorize_url);
            }
            println!("waiting for the browser to come back (Ctrl-C cancels)...");
            let timeout = rolehop_core::sso::browser_login::timeout_from_env();
            let i = engine.complete_sso_browser_login(pending, timeout).await?;
            println!("logged in to '{}'; {}", i.name, status(&i.login));
            if export_token {
                export(engine, &i).await?;
            }
        }
        SsoCommand::Login {
            name,
            no_browser,
            export_token,
            ..
        } => {
            let pending = engine.begin_sso_login(&name).await?;
            let device = &pending.device;
            let url = device
                .verification_uri_complete
                .clone()
                .unwrap_or_else(|| device.verification_uri.clone());
            println!(
                "{}",
                for_terminal(&format!(
                    "To log in to '{}', open {} and confirm the code {}",
                    pending.integration.name, url, device.user_code
                ))
            );
            println!("verification URL: {}", for_terminal(&url));
            println!("user code: {}", for_terminal(&device.user_code));
            if !no_browser {
                open_browser(&url);
            }
            println!("waiting for approval (Ctrl-C cancels)...");
            let i = engine.complete_sso_login(pending, &SystemClock).await?;
            println!("logged in to '{}'; {}", i.name, status(&i.login));
            if export_token {
                export(engine, &i).await?;
            }
        }
        SsoCommand::Sync {
            name,
            profile_template,
            json,
        } => {
            let report = engine.sso_sync(&name, profile_template.as_deref()).await?;
            if json {
                return print_json(&report);
            }
            print!("{}", for_terminal(&sync_summary(&report)));
        }
        SsoCommand::Logout { name } => {
            let i = engine.sso_logout(&name).await?;
            println!("logged out of '{}'; its tokens left the keychain", i.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--export-token`: the token to the AWS CLI's cache, with a warning on stderr.
async fn export(engine: &Engine, i: &Integration) -> Result<(), rolehop_core::EngineError> {
    let (path, expires_at) = engine.export_sso_token(i.id).await?;
    println!(
        "exported the token to {}",
        for_terminal(&path.display().to_string())
    );
    eprintln!(
        "rolehop: warning: {} holds a bearer token: until {} anyone who can read it can act \
         as you in IAM Identity Center; `rolehop sso logout {}` deletes it",
        for_terminal(&path.display().to_string()),
        rfc3339(expires_at),
        for_terminal(&i.name)
    );
    Ok(())
}

/// `added 600, updated 0, removed 0, kept 0`, then what was kept although it vanished.
fn sync_summary(report: &SyncReport) -> String {
    let c = report.counts;
    let mut out = format!(
        "added {}, updated {}, removed {}, kept {}\n",
        c.added, c.updated, c.removed, c.kept
    );
    for s in &report.kept_live {
        out.push_str(&format!(
            "kept '{}': its assignment vanished, but it is active; stop it and sync again to remove it\n",
            s.name
        ));
    }
    for p in &report.kept_parent {
        out.push_str(&format!(
            "kept '{}': its assignment vanished, but {} chain from it\n",
            p.session.name,
            p.children.join(", ")
        ));
    }
    out
}

fn status(login: &LoginStatus) -> String {
    match login {
        LoginStatus::LoggedIn { expires_at, .. } => format!(
            "token valid until {} (in {})",
            rfc3339(*expires_at),
            time_until(*expires_at, Utc::now())
        ),
        LoginStatus::LoginAgain { message } => format!("log in again ({message})"),
        LoginStatus::LoggedOut => "logged out".into(),
    }
}

fn line(i: &Integration) -> String {
    format!(
        "{}  {}  {}  {}",
        i.name,
        i.start_url,
        i.region,
        status(&i.login)
    )
}

/// Opens `url` as Python's `webbrowser` reads `$BROWSER`: a `:`-separated list of
/// commands, each tried in turn, `%s` standing for the URL (else the URL is appended);
/// `none` opens nothing; unset, `xdg-open`. A browser that cannot start only costs the
/// person a copy and paste of the URL printed above.
pub(crate) fn open_browser(url: &str) {
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "xdg-open".to_owned());
    let mut tried = Vec::new();
    for command in browser_commands(&browser, url) {
        let Some((program, args)) = command.split_first() else {
            continue;
        };
        let spawned = std::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(_) => return,
            Err(e) => tried.push(format!("{program} ({e})")),
        }
    }
    if !tried.is_empty() {
        eprintln!(
            "rolehop: could not open a browser with {}; open the URL above",
            tried.join(", ")
        );
    }
}

/// The commands `$BROWSER` names for `url`, each as program and arguments.
fn browser_commands(browser: &str, url: &str) -> Vec<Vec<String>> {
    browser
        .split(':')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"))
        .map(|c| {
            let mut words: Vec<String> = c.split_whitespace().map(str::to_owned).collect();
            if words.iter().any(|w| w.contains("%s")) {
                for w in &mut words {
                    *w = w.replace("%s", url);
                }
            } else {
                words.push(url.to_owned());
            }
            words
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::browser_commands;

    #[test]
    fn browser_is_read_as_pythons_webbrowser_reads_it() {
        let url = "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH";
        assert_eq!(browser_commands("firefox", url), [vec!["firefox", url]]);
        assert_eq!(
            browser_commands("firefox --new-tab %s:lynx", url),
            [vec!["firefox", "--new-tab", url], vec!["lynx", url]]
        );
        assert!(browser_commands("none", url).is_empty());
    }
}
