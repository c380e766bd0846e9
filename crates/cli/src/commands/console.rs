//! `rolehop console SESSION`: the AWS console, signed in as the session, opened in its
//! browser, profile or container (or the one the flags name), or printed. The flow,
//! the sign-out of the session last signed in there and the browsers' command lines
//! are `rolehop_core::console`'s.

use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;

use rolehop_core::Engine;
use rolehop_core::EngineError;
use rolehop_core::console::{ConsoleBrowser, ConsoleError, ConsoleTarget};
use rolehop_core::display_text::for_terminal;
use rolehop_core::redirect::REDIRECT_TTL;
use zeroize::Zeroizing;

use crate::args::ConsoleArgs;
use crate::commands::Outcome;
use crate::failure::{Exit, Failure};

pub async fn run(engine: &Engine, args: ConsoleArgs) -> Outcome {
    let browser = args
        .browser
        .as_deref()
        .map(|name| {
            ConsoleBrowser::parse(
                ["browser", "browser_profile", "container"],
                name,
                args.browser_profile.as_deref(),
                args.container.as_deref(),
            )
        })
        .transpose()
        .map_err(EngineError::from)?;
    let target = ConsoleTarget {
        service: args.service,
        path: args.path,
        region: args.region,
        browser,
        keep_previous: args.no_sign_out,
    };
    let code = args.mfa_code.map(|c| Zeroizing::new(c.trim().to_owned()));
    if args.print {
        let url = engine
            .console_url(&args.session, &target, code)
            .await
            .map_err(failure)?;
        println!("{}", url.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let mut opening = engine
        .open_console(
            &args.session,
            &target,
            code,
            Arc::new(|url: &str| open_in_browser(url).map_err(|f| f.message)),
        )
        .await
        .map_err(failure)?;
    let place = for_terminal(&opening.browser.to_string());
    if let Some(previous) = &opening.signed_out {
        eprintln!(
            "rolehop: signed '{}' out of the console in {place} first",
            for_terminal(previous)
        );
    }
    if !opening.redirected().await {
        return Err(Failure::new(
            Exit::Unexpected,
            format!(
                "the browser did not open the sign-in address within {} s; run again with --print and open the URL yourself",
                REDIRECT_TTL.as_secs()
            ),
        ));
    }
    eprintln!(
        "rolehop: opened the console for '{}' in {place}",
        args.session
    );
    Ok(ExitCode::SUCCESS)
}

fn failure(e: ConsoleError) -> Failure {
    Failure::of(&e)
}

/// Hands the URL to the desktop's opener (`xdg-open`, `open`, `start`).
fn open_in_browser(url: &str) -> Result<(), Failure> {
    let mut command = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        Command::new("xdg-open")
    };
    let opener = format!("{:?}", command.get_program());
    let status = command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(Failure::new(
            Exit::Unexpected,
            format!(
                "{opener} could not open a browser ({s}); run again with --print and open the URL yourself"
            ),
        )),
        Err(e) => Err(Failure::new(
            Exit::Unexpected,
            format!(
                "cannot run {opener} to open a browser ({e}); run again with --print and open the URL yourself"
            ),
        )),
    }
}
