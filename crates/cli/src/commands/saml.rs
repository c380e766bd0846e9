//! `rolehop saml roles`: what a SAML response grants; and reading a SAML response from a
//! file or standard input (`--assertion-file`), for it and `session start`.

use std::process::ExitCode;

use chrono::Utc;
use rolehop_core::saml::SamlResponse;
use rolehop_core::validate::Arn;
use zeroize::Zeroizing;

use crate::args::SamlCommand;
use crate::commands::{Outcome, print_json};
use crate::failure::{Failure, input_error};
use crate::render::rfc3339;

pub fn run(command: SamlCommand) -> Outcome {
    match command {
        SamlCommand::Roles {
            assertion_file,
            json,
        } => {
            let posted = read_assertion(&assertion_file)?;
            let response = SamlResponse::parse(&posted).map_err(rolehop_core::EngineError::from)?;
            if json {
                let roles: Vec<_> = response
                    .roles
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "role_arn": p.role_arn,
                            "principal_arn": p.principal_arn,
                            "account_id": Arn::account_of(&p.role_arn),
                        })
                    })
                    .collect();
                return print_json(&serde_json::json!({
                    "roles": roles,
                    "role_session_name": response.role_session_name,
                    "session_duration": response.session_duration,
                    "not_on_or_after": response.not_on_or_after,
                }));
            }
            {
                for p in &response.roles {
                    println!(
                        "{:<14} {:<50} {}",
                        Arn::account_of(&p.role_arn).unwrap_or("-"),
                        p.role_arn,
                        p.principal_arn
                    );
                }
                if let Some(end) = response.not_on_or_after {
                    let state = if end <= Utc::now() {
                        "expired"
                    } else {
                        "valid until"
                    };
                    println!("{state} {}", rfc3339(end));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The SAML response of `--assertion-file FILE` (`-`: standard input), at most a little
/// over what AWS accepts; the engine reads and checks it.
pub fn read_assertion(path: &std::path::Path) -> Result<Zeroizing<String>, Failure> {
    use std::io::Read;
    const LIMIT: u64 = 200_000;
    let what = if path == std::path::Path::new("-") {
        "the SAML response from standard input".to_owned()
    } else {
        format!("the SAML response file {}", path.display())
    };
    let mut text = Zeroizing::new(String::new());
    let read = if path == std::path::Path::new("-") {
        std::io::stdin()
            .lock()
            .take(LIMIT)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(LIMIT).read_to_string(&mut text))
    };
    read.map_err(|e| input_error(&what, e))?;
    Ok(text)
}
