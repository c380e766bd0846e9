//! `rolehop console SESSION`: the AWS console, signed in as the session's role, opened
//! in the default browser or printed (the flow itself is `rolehop_core::console`).

use std::process::{Command, ExitCode, Stdio};

use rolehop_core::Engine;
use rolehop_core::console::{ConsoleError, ConsoleTarget};
use rolehop_core::redirect::{OneTimeRedirect, REDIRECT_TTL};
use zeroize::Zeroizing;

use crate::args::ConsoleArgs;
use crate::commands::Outcome;
use crate::failure::{Exit, Failure};

pub async fn run(engine: &Engine, args: ConsoleArgs) -> Outcome {
    let target = ConsoleTarget {
        service: args.service,
        region: args.region,
    };
    let code = args.mfa_code.map(|c| Zeroizing::new(c.trim().to_owned()));
    let url = engine
        .console_url(&args.session, &target, code)
        .await
        .map_err(failure)?;
    if args.print {
        println!("{}", url.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    // The browser gets a one-time loopback address, not the sign-in URL: a command
    // line is readable by every local user, and the URL signs anyone in.
    let mut redirect = OneTimeRedirect::serve(url, REDIRECT_TTL)
        .await
        .map_err(|e| {
            Failure::new(
                Exit::Unexpected,
                format!("cannot open a loopback address for the browser: {e}"),
            )
        })?;
    // The opener runs off the runtime: some (a text browser behind xdg-open) only
    // return when the browser does, and the address must answer meanwhile.
    let address = redirect.address().to_owned();
    tokio::task::spawn_blocking(move || open_in_browser(&address))
        .await
        .map_err(|e| Failure::new(Exit::Unexpected, format!("cannot open a browser: {e}")))??;
    if !redirect.redirected().await {
        return Err(Failure::new(
            Exit::Unexpected,
            format!(
                "the browser did not open the sign-in address within {} s; run again with --print and open the URL yourself",
                REDIRECT_TTL.as_secs()
            ),
        ));
    }
    eprintln!(
        "rolehop: opened the console for '{}' in your browser",
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
