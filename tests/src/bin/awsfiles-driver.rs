//! A separate process that drives `AwsFilesDelivery`, for the suites that need real
//! processes: two writers racing, a writer killed with SIGKILL mid-run, a session
//! started by one process and stopped by another, and the `credential_process` the AWS
//! CLI runs.
//!
//! The files come from the environment exactly as Rolehop takes them
//! (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, via `AwsFilesConfig::from_env`); the
//! state directory is `ROLEHOP_HOME`, the keychain service `AWSFILES_DRIVER_KEYCHAIN`,
//! the binary written into `credential_process` lines `AWSFILES_DRIVER_BINARY`. Secrets
//! come from the environment, never from arguments.
//!
//! ```text
//! awsfiles-driver deliver PROFILE SESSION AKID [--region R] [--process] [--take-over]
//! awsfiles-driver withdraw PROFILE
//! awsfiles-driver hammer WORKER COUNT     COUNT deliveries (and a withdrawal every third)
//! awsfiles-driver churn WORKER            deliver/withdraw forever; prints "ready"
//! awsfiles-driver credential-process SESSION   the JSON in $AWSFILES_DRIVER_CREDENTIALS/SESSION.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Duration, Utc};
use rolehop_core::Credentials;
use rolehop_core::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use rolehop_core::delivery::{Delivery, Handover};
use rolehop_core::keychain::Keychain;
use rolehop_core::model::{DeliveryMode, ProfileName, SessionId};
use zeroize::Zeroizing;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn delivery() -> AwsFilesDelivery {
    let state_dir = PathBuf::from(env("ROLEHOP_HOME").expect("ROLEHOP_HOME is set"));
    let keychain = Keychain::new(
        env("AWSFILES_DRIVER_KEYCHAIN").unwrap_or_else(|| "rolehop-awsfiles-driver".into()),
    );
    let binary = env("AWSFILES_DRIVER_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_exe().expect("current exe"));
    AwsFilesDelivery::new(AwsFilesConfig::from_env(state_dir, keychain, binary))
}

fn profile(name: &str) -> ProfileName {
    ProfileName::parse(name).expect("a valid profile name")
}

/// Credentials whose access key id is `akid`; the secret parts from the environment
/// (or derived, for the stress commands).
fn credentials(akid: &str) -> Credentials {
    Credentials {
        access_key_id: akid.to_owned(),
        secret_access_key: Zeroizing::new(
            env("AWSFILES_DRIVER_SECRET").unwrap_or_else(|| format!("secret/for/{akid}")),
        ),
        session_token: Some(Zeroizing::new(
            env("AWSFILES_DRIVER_TOKEN").unwrap_or_else(|| format!("token-for-{akid}")),
        )),
        expiration: Some(Utc::now() + Duration::hours(1)),
    }
}

fn handover(name: &str, session: SessionId, akid: &str) -> Handover {
    Handover {
        profile: profile(name),
        session,
        credentials: credentials(akid),
        region: None,
        mode: DeliveryMode::CredentialsFile,
        take_over: false,
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["deliver", name, session, akid, flags @ ..] => {
            let session: SessionId = session.parse().map_err(|e| format!("session: {e}"))?;
            let mut h = handover(name, session, akid);
            let mut flags = flags.iter();
            while let Some(flag) = flags.next() {
                match *flag {
                    "--region" => h.region = flags.next().map(|r| r.to_string()),
                    "--process" => h.mode = DeliveryMode::CredentialProcess,
                    "--take-over" => h.take_over = true,
                    other => return Err(format!("unknown flag {other}")),
                }
            }
            delivery().deliver(&h).map_err(|e| e.to_string())
        }
        ["withdraw", name] => delivery()
            .withdraw(&profile(name))
            .map_err(|e| e.to_string()),
        ["hammer", worker, count] => {
            let count: usize = count.parse().map_err(|e| format!("count: {e}"))?;
            let delivery = delivery();
            for i in 0..count {
                let name = format!("w{worker}-{i}");
                delivery
                    .deliver(&handover(
                        &name,
                        SessionId::new(),
                        &format!("ASIAW{worker}X{i}"),
                    ))
                    .map_err(|e| e.to_string())?;
                if i % 3 == 2 {
                    let previous = format!("w{worker}-{}", i - 1);
                    delivery
                        .withdraw(&profile(&previous))
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        }
        ["churn", worker] => {
            let delivery = delivery();
            let mut announced = false;
            for round in 0u64.. {
                for slot in 0..4 {
                    let name = format!("k{worker}-{slot}");
                    let akid = format!("ASIAK{worker}X{slot}R{round}");
                    delivery
                        .deliver(&handover(&name, SessionId::new(), &akid))
                        .map_err(|e| e.to_string())?;
                    if !announced {
                        println!("ready");
                        announced = true;
                    }
                }
                for slot in (0..4).step_by(2) {
                    delivery
                        .withdraw(&profile(&format!("k{worker}-{slot}")))
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        }
        ["credential-process", session] => {
            let dir = env("AWSFILES_DRIVER_CREDENTIALS")
                .ok_or("AWSFILES_DRIVER_CREDENTIALS is not set")?;
            let json = std::fs::read_to_string(PathBuf::from(dir).join(format!("{session}.json")))
                .map_err(|e| format!("no credentials for session {session}: {e}"))?;
            print!("{json}");
            Ok(())
        }
        _ => Err("usage: see the module documentation".to_owned()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("awsfiles-driver: {message}");
            ExitCode::FAILURE
        }
    }
}
