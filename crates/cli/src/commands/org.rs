//! `rolehop org sync`: the organization's accounts as role sessions, through
//! `Engine::org_sync`; this module only renders the report.

use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::org::OrgSyncRequest;

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
    print!(
        "{}",
        crate::render::sync_report(&report, |i| format!(
            "account {} left the organization",
            i.account_id
        ))
    );
    Ok(ExitCode::SUCCESS)
}
