//! `rolehop settings show|set|unset`.

use std::process::ExitCode;

use rolehop_core::Engine;
use rolehop_core::model::{CloseChoice, DeliveryMode, Settings};

use crate::args::{SettingKey, SettingsCommand};
use crate::commands::{Outcome, print_json};
use crate::failure::{Exit, Failure};

fn mode_name(mode: DeliveryMode) -> &'static str {
    match mode {
        DeliveryMode::CredentialsFile => "credentials-file",
        DeliveryMode::CredentialProcess => "credential-process",
    }
}

fn close_name(choice: CloseChoice) -> &'static str {
    match choice {
        CloseChoice::Ask => "ask",
        CloseChoice::KeepRunning => "keep-running",
        CloseChoice::Quit => "quit",
    }
}

fn print_settings(s: &Settings) {
    println!("delivery-mode    {}", mode_name(s.delivery_mode));
    println!(
        "default-region   {}",
        s.default_region.as_deref().unwrap_or("-")
    );
    println!("rotation-margin  {}", s.rotation_margin_seconds);
    println!(
        "mfa-sessions-in-kernel-keyring  {}",
        on_off(s.mfa_sessions_in_kernel_keyring)
    );
    println!("close-without-tray  {}", close_name(s.close_without_tray));
    println!("check-for-updates  {}", on_off(s.check_for_updates));
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// `on` or `off` for the setting `field`, else an error naming it.
fn switch(field: &str, value: &str) -> Result<bool, Failure> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(Failure::new(
            Exit::Invalid,
            format!("{field}: '{other}' is not on or off"),
        )),
    }
}

fn apply(mut s: Settings, key: SettingKey, value: Option<&str>) -> Result<Settings, Failure> {
    match (key, value) {
        (SettingKey::DeliveryMode, None) => s.delivery_mode = DeliveryMode::default(),
        (SettingKey::DeliveryMode, Some("credentials-file")) => {
            s.delivery_mode = DeliveryMode::CredentialsFile
        }
        (SettingKey::DeliveryMode, Some("credential-process")) => {
            s.delivery_mode = DeliveryMode::CredentialProcess
        }
        (SettingKey::DeliveryMode, Some(other)) => {
            return Err(Failure::new(
                Exit::Invalid,
                format!(
                    "delivery-mode: '{other}' is not a mode; use credentials-file or credential-process"
                ),
            ));
        }
        (SettingKey::DefaultRegion, v) => {
            s.default_region = v.filter(|r| !r.is_empty()).map(str::to_owned)
        }
        (SettingKey::RotationMargin, None) => {
            s.rotation_margin_seconds = Settings::default().rotation_margin_seconds
        }
        (SettingKey::RotationMargin, Some(v)) => {
            s.rotation_margin_seconds = v.parse().map_err(|_| {
                Failure::new(
                    Exit::Invalid,
                    format!("rotation-margin: '{v}' is not a number of seconds (60–3000)"),
                )
            })?
        }
        (SettingKey::MfaSessionsInKernelKeyring, None) => {
            s.mfa_sessions_in_kernel_keyring = Settings::default().mfa_sessions_in_kernel_keyring
        }
        (SettingKey::MfaSessionsInKernelKeyring, Some(v)) => {
            s.mfa_sessions_in_kernel_keyring = switch("mfa-sessions-in-kernel-keyring", v)?
        }
        (SettingKey::CheckForUpdates, None) => {
            s.check_for_updates = Settings::default().check_for_updates
        }
        (SettingKey::CheckForUpdates, Some(v)) => {
            s.check_for_updates = switch("check-for-updates", v)?
        }
        (SettingKey::CloseWithoutTray, None) => s.close_without_tray = CloseChoice::default(),
        (SettingKey::CloseWithoutTray, Some(v)) => {
            s.close_without_tray = [
                CloseChoice::Ask,
                CloseChoice::KeepRunning,
                CloseChoice::Quit,
            ]
            .into_iter()
            .find(|c| close_name(*c) == v)
            .ok_or_else(|| {
                Failure::new(
                    Exit::Invalid,
                    format!(
                        "close-without-tray: '{v}' is not a choice; use ask, keep-running or quit"
                    ),
                )
            })?
        }
    }
    Ok(s)
}

pub async fn run(engine: &Engine, command: SettingsCommand) -> Outcome {
    let current = engine.settings().await?;
    let current_mode = current.delivery_mode;
    let updated = match command {
        SettingsCommand::Show { json } => {
            if json {
                return print_json(&current);
            }
            print_settings(&current);
            return Ok(ExitCode::SUCCESS);
        }
        SettingsCommand::Set { key, value } => apply(current, key, Some(&value))?,
        SettingsCommand::Unset { key } => apply(current, key, None)?,
    };
    let saved = engine.update_settings(updated).await?;
    print_settings(&saved);
    if saved.delivery_mode != current_mode {
        println!("active sessions switch to the new delivery mode when they are next started");
    }
    Ok(ExitCode::SUCCESS)
}
