//! Dynamic shell completion (clap_complete's `CompleteEnv`): the script that
//! `rolehop completions SHELL` prints calls `rolehop` back with `ROLEHOP_COMPLETE=SHELL` set, and
//! the arguments below offer the workspace's session and profile names and AWS's regions.
//!
//! A completion reads the workspace file as it is ([`EngineConfig::read_workspace`]): no
//! engine, no lock, no keychain, no network, no prompt. Anything unreadable completes
//! nothing and prints nothing.

use std::io::Write;

use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::Shells;
use clap_complete::{CompleteEnv, Shell};
use rolehop_core::EngineConfig;
use rolehop_core::validate::REGIONS;
use rolehop_core::workspace::Workspace;

/// The environment variable the scripts set when they ask for candidates (Rolehop's own
/// rather than clap's default `COMPLETE`, which another program's setting could trip).
const VAR: &str = "ROLEHOP_COMPLETE";

/// Answers a completion request and exits, when the shell's script made one. `command`
/// is the CLI's definition (passed in: `args` names this module's candidates, so this
/// module does not name `args`).
pub fn answer_if_asked(command: fn() -> clap::Command) {
    CompleteEnv::with_factory(command).var(VAR).complete();
}

/// Writes `shell`'s script, which calls `rolehop` (as found on PATH) for candidates.
pub fn write_script(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| std::io::Error::other(format!("no completion for {name}")))?;
    completer.write_registration(VAR, "rolehop", "rolehop", "rolehop", out)
}

fn workspace() -> Option<Workspace> {
    EngineConfig::from_env().read_workspace().ok()
}

/// The sessions' names, for arguments that take a session.
pub fn sessions() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        workspace()
            .map(|ws| {
                ws.sessions
                    .iter()
                    .map(|s| {
                        CompletionCandidate::new(&s.session.name)
                            .help(Some(s.session.profile.as_str().to_owned().into()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The named profiles, for `--profile` and the profile commands.
pub fn profiles() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        workspace()
            .map(|ws| {
                ws.profiles
                    .iter()
                    .map(|p| CompletionCandidate::new(p.name.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// AWS's regions, for `--region`.
pub fn regions() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        REGIONS
            .iter()
            .map(|r| CompletionCandidate::new(r.code).help(Some(r.description.into())))
            .collect()
    })
}
