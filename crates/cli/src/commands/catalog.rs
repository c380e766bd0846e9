//! `rolehop catalog add|bind|sync|list|remove|export|trust-template|check`: team
//! catalogs through the engine's `catalog_*` calls; this module parses the flags and
//! renders the reports (`check`'s drift table and its exit code).

use std::fmt::Write;
use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::catalog::trust::{CatalogTemplateFormat, Drift, DriftReport};
use rolehop_core::catalog::{CatalogAddRequest, CatalogSyncReport, Location};
use rolehop_core::display_text::for_terminal;
use rolehop_core::validate::ValidationError;

use crate::args::{CatalogCommand, CatalogTemplateFormatArg};
use crate::commands::{Outcome, print_json};
use crate::failure::{Exit, Failure};

pub async fn run(engine: &Engine, command: CatalogCommand) -> Outcome {
    match command {
        CatalogCommand::Add {
            source,
            name,
            git_ref,
            require_signed,
            bindings,
            json,
        } => {
            let mut pairs = Vec::new();
            for b in bindings {
                let Some((p, s)) = b.split_once('=') else {
                    return Err(rolehop_core::EngineError::from(ValidationError::new(
                        "bind",
                        "must be PLACEHOLDER=SESSION, e.g. me=alice",
                    ))
                    .into());
                };
                pairs.push((p.trim_matches(['{', '}']).to_owned(), s.to_owned()));
            }
            let report = engine
                .catalog_add(CatalogAddRequest {
                    source,
                    name,
                    git_ref,
                    require_signed,
                    bindings: pairs,
                })
                .await?;
            show(&[report], json)
        }
        CatalogCommand::Bind {
            name,
            placeholder,
            session,
            json,
        } => {
            let placeholder = placeholder.trim_matches(['{', '}']);
            let report = engine.catalog_bind(&name, placeholder, &session).await?;
            show(&[report], json)
        }
        CatalogCommand::Sync { name, json } => {
            let names = match name {
                Some(n) => vec![n],
                None => engine
                    .catalogs()
                    .await?
                    .into_iter()
                    .map(|c| c.name)
                    .collect(),
            };
            let mut reports = Vec::new();
            for n in names {
                reports.push(engine.catalog_sync(&n).await?);
            }
            show(&reports, json)
        }
        CatalogCommand::List { json } => {
            let list = engine.catalogs().await?;
            if json {
                return print_json(&list);
            }
            for c in list {
                let at = match &c.location {
                    Location::File(p) => format!("file {p}"),
                    Location::Git(u) => format!("git {u}"),
                    Location::Https(u) => format!("url {u}"),
                };
                let bound: Vec<String> = c
                    .bindings
                    .iter()
                    .map(|(p, s)| format!("{{{p}}}={s}"))
                    .collect();
                println!(
                    "{}\t{}{}\t{} sessions\t{}{}",
                    for_terminal(&c.name),
                    for_terminal(&at),
                    c.git_ref.map(|r| format!(" @{r}")).unwrap_or_default(),
                    c.sessions,
                    if bound.is_empty() {
                        "nothing bound".to_owned()
                    } else {
                        for_terminal(&bound.join(" "))
                    },
                    if c.require_signed {
                        "\tsigned only"
                    } else {
                        ""
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Remove { name, json } => {
            let report = engine.catalog_remove(&name).await?;
            if json {
                return print_json(&report);
            }
            print!("{}", crate::render::sync_report(&report, left));
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Export { out } => {
            let text = engine.catalog_export().await?;
            write_out(out, &text)
        }
        CatalogCommand::TrustTemplate { name, format, out } => {
            let format = match format {
                CatalogTemplateFormatArg::Cloudformation => CatalogTemplateFormat::Cloudformation,
                CatalogTemplateFormatArg::Terraform => CatalogTemplateFormat::Terraform,
            };
            let text = engine.catalog_trust_template(&name, format).await?;
            write_out(out, &text)
        }
        CatalogCommand::Check { name, via, json } => {
            let report = engine.catalog_check(&name, &via).await?;
            if json {
                print_json(&report)?;
            } else {
                print!("{}", drift_table(&report));
            }
            drift_outcome(&report)
        }
    }
}

/// `text` to `out`, or to standard output.
fn write_out(out: Option<std::path::PathBuf>, text: &str) -> Outcome {
    match out {
        Some(path) => std::fs::write(&path, text).map_err(|e| {
            Failure::new(
                Exit::Unexpected,
                format!("cannot write {}: {e}", path.display()),
            )
        })?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The drift table: one block per hop, its verdict first. The expected and found
/// columns hold whole ARNs and conditions, too wide for columns side by side.
fn drift_table(report: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8}  {:<32}  VERDICT",
        "HOP", "PARENT -> ROLE (SESSION)"
    );
    for (i, row) in report.hops.iter().enumerate() {
        let verdict = match row.verdict {
            Drift::Admits => "admits".to_owned(),
            Drift::Refuses => format!("refuses: {}", row.reason),
            Drift::CannotTell => format!("cannot tell: {}", row.reason),
        };
        let hop = format!(
            "{} -> {} ({})",
            row.parent,
            row.role,
            row.session.as_deref().unwrap_or("no session")
        );
        let _ = writeln!(
            out,
            "{}",
            for_terminal(&format!(
                "{:<8}  {hop:<32}  {verdict}",
                format!("{}/{}", i + 1, report.hops.len())
            ))
        );
        let _ = writeln!(
            out,
            "{}",
            for_terminal(&format!("          role      {}", row.role_arn))
        );
        let _ = writeln!(
            out,
            "{}",
            for_terminal(&format!("          expected  {}", row.expected))
        );
        let _ = writeln!(
            out,
            "{}",
            for_terminal(&format!("          found     {}", row.found))
        );
    }
    out
}

/// 10 when a hop is refused, else 11 when one cannot be told, as `trust check`.
fn drift_outcome(report: &DriftReport) -> Outcome {
    let count = |d: Drift| report.hops.iter().filter(|r| r.verdict == d).count();
    let (refused, unknown) = (count(Drift::Refuses), count(Drift::CannotTell));
    let total = report.hops.len();
    if refused > 0 {
        return Err(Failure::new(
            Exit::NotTrusted,
            format!(
                "{refused} of {total} hops of catalog '{}' are refused by their role's trust policy",
                report.catalog
            ),
        ));
    }
    if unknown > 0 {
        return Err(Failure::new(
            Exit::CannotTell,
            format!(
                "cannot tell whether {unknown} of {total} hops of catalog '{}' are admitted",
                report.catalog
            ),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn show(reports: &[CatalogSyncReport], json: bool) -> Outcome {
    if json {
        return match reports {
            [one] => print_json(one),
            many => print_json(&many),
        };
    }
    for r in reports {
        let mut out = format!("catalog {}", for_terminal(&r.catalog));
        if let Some(c) = &r.commit {
            let _ = write!(out, " at {}", &c[..c.len().min(12)]);
        }
        out.push_str(": ");
        out.push_str(&crate::render::sync_report(&r.sync, left));
        for p in &r.unbound {
            let _ = writeln!(
                out,
                "  {{{p}}} is not bound: rolehop catalog bind {} {p} SESSION",
                for_terminal(&r.catalog)
            );
        }
        for s in &r.skipped {
            let _ = writeln!(
                out,
                "  skipped {}: {}",
                for_terminal(&s.role),
                for_terminal(&s.why)
            );
        }
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}

fn left(_: &rolehop_core::sync::SyncedSession) -> String {
    "its role left the catalog".to_owned()
}
