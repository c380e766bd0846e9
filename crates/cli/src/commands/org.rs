//! `rolehop org sync`: the organization's accounts as role sessions, through
//! `Engine::org_sync`; this module only renders the report.

use std::fmt::Write;
use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::display_text::for_terminal;
use rolehop_core::org::OrgSyncRequest;
use rolehop_core::sync::SyncReport;

use crate::args::OrgCommand;
use crate::commands::{Outcome, print_json};

pub async fn run(engine: &Engine, command: OrgCommand) -> Outcome {
    let OrgCommand::Sync {
        via,
        role_name,
        profile_template,
        ous,
        json,
    } = command;
    let report = engine
        .org_sync(OrgSyncRequest {
            via,
            role_name,
            profile_template: Some(profile_template),
            ous,
        })
        .await?;
    if json {
        return print_json(&report);
    }
    print!("{}", report_text(&report));
    Ok(ExitCode::SUCCESS)
}

/// The counts on one line, then what changed and what was kept against the source.
fn report_text(report: &SyncReport) -> String {
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
            "  kept {}: account {} left the organization, but the session is active; stop it and sync again to remove it",
            for_terminal(&i.name),
            i.account_id
        );
    }
    for k in &report.kept_parent {
        let _ = writeln!(
            out,
            "  kept {}: account {} left the organization, but {} chain from it",
            for_terminal(&k.session.name),
            k.session.account_id,
            k.children
                .iter()
                .map(|c| format!("'{}'", for_terminal(c)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}
