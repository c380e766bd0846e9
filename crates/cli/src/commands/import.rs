//! `rolehop import aws-config`: sessions from the AWS files' existing profiles. The
//! mapping and its rules are `rolehop_core::import`'s; this renders the report.

use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::display_text::for_terminal;
use rolehop_core::import::{AwsFilePaths, ImportOptions, ImportReport, Outcome};

use crate::commands::{Outcome as CommandOutcome, print_json};

pub async fn run(engine: &Engine, options: ImportOptions, json: bool) -> CommandOutcome {
    let report = engine
        .import_aws_config(&AwsFilePaths::from_env(), options)
        .await?;
    if json {
        return print_json(&report);
    }
    print!("{}", render(&report, options.dry_run));
    Ok(ExitCode::SUCCESS)
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Imported => "imported",
        Outcome::WouldImport => "would import",
        Outcome::Unchanged => "unchanged",
        Outcome::Skipped => "skipped",
    }
}

/// One line per profile (`imported   production  role arn:... chained from 'codebuild'`),
/// then a summary.
fn render(report: &ImportReport, dry_run: bool) -> String {
    let mut out = format!(
        "from {} and {}{}:\n",
        report.config_file.display(),
        report.credentials_file.display(),
        if dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    );
    if report.entries.is_empty() {
        out.push_str("no profiles found\n");
        return out;
    }
    let word_width = report
        .entries
        .iter()
        .map(|e| outcome_word(e.outcome).len())
        .max()
        .unwrap_or(0);
    let name_width = report
        .entries
        .iter()
        .map(|e| for_terminal(&e.profile).chars().count())
        .max()
        .unwrap_or(0);
    for e in &report.entries {
        // Profile names and details carry text from the AWS files.
        out.push_str(&format!(
            "  {:<word_width$}  {:<name_width$}  {}\n",
            outcome_word(e.outcome),
            for_terminal(&e.profile),
            for_terminal(&e.detail)
        ));
    }
    let count = |o: Outcome| report.entries.iter().filter(|e| e.outcome == o).count();
    out.push_str(&format!(
        "{} imported, {} unchanged, {} skipped\n",
        count(Outcome::Imported) + count(Outcome::WouldImport),
        count(Outcome::Unchanged),
        count(Outcome::Skipped)
    ));
    out
}
