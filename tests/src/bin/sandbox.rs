//! `cargo xtask sandbox`: the desktop app on throw-away peers, to try it without an AWS
//! account or touching your own keychain and AWS files.
//!
//! Starts moto and a private gnome-keyring, seeds them with the seed's story (an IAM
//! user `deployer` with an MFA device in the staging account, `CodeBuildRole` chained
//! from it, `ResourceDeployCAR` in a production account chained from that) through the
//! `rolehop` CLI, then runs the app on that workspace until it quits. Any six digits
//! answer the MFA dialog. Everything is removed when the app quits (tray menu).
//!
//! Usage: `sandbox APP_BINARY` (the `rolehop` CLI is looked for next to it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use rolehop_e2e::Peers;

/// The production account of the story (moto does not check that an assumed role exists).
const DEPLOY_ROLE: &str = "arn:aws:iam::210987654321:role/ResourceDeployCAR";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn run() -> Result<ExitCode, Error> {
    let app = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: sandbox APP_BINARY")?;
    let cli = app.with_file_name("rolehop");
    for bin in [&app, &cli] {
        if !bin.exists() {
            return Err(format!(
                "{} is missing: `cargo xtask sandbox` builds it",
                bin.display()
            )
            .into());
        }
    }

    println!("starting moto and a private gnome-keyring...");
    let peers = Peers::builder().with_moto().with_secret_service().start()?;
    let mut env = peers.env();
    env.push((
        "ROLEHOP_KEYCHAIN_SERVICE".into(),
        peers.home().keychain_service().into(),
    ));
    env.push(("ROLEHOP_CLI".into(), cli.to_string_lossy().into_owned()));
    seed(&peers, &cli, &env)?;

    println!("\nThe sandbox's environment (for the AWS CLI or `rolehop` in another shell):");
    for (key, value) in &env {
        println!("  export {key}='{value}'");
    }
    println!(
        "\nStart ResourceDeployCAR in the window (any 6 digits answer the MFA dialog), then:\n  \
         aws sts get-caller-identity --profile production\n\
         Quit from the tray icon's menu: moto, the keyring and the files go with the app.\n"
    );
    let status = Command::new(&app).envs(env.iter().cloned()).status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The story, in moto and in the workspace (through the CLI, as a user would).
fn seed(peers: &Peers, cli: &Path, env: &[(String, String)]) -> Result<(), Error> {
    let moto = peers.moto();
    let user = moto.create_user("deployer")?;
    let serial = moto.create_mfa_device("deployer")?;
    let codebuild = moto.create_role("CodeBuildRole", &user.arn)?;
    let keys = format!("{}\n{}\n", user.access_key_id, user.secret_access_key);
    rolehop(
        cli,
        env,
        &[
            "session",
            "add",
            "iam-user",
            "--name",
            "deployer",
            "--profile",
            "staging",
            "--region",
            "us-east-1",
            "--mfa-serial",
            &serial,
        ],
        Some(&keys),
    )?;
    rolehop(
        cli,
        env,
        &[
            "session",
            "add",
            "role",
            "--name",
            "CodeBuildRole",
            "--parent",
            "deployer",
            "--role-arn",
            &codebuild,
            "--profile",
            "codebuild",
            "--region",
            "us-east-1",
        ],
        None,
    )?;
    rolehop(
        cli,
        env,
        &[
            "session",
            "add",
            "role",
            "--name",
            "ResourceDeployCAR",
            "--parent",
            "CodeBuildRole",
            "--role-arn",
            DEPLOY_ROLE,
            "--profile",
            "production",
            "--region",
            "eu-west-1",
        ],
        None,
    )?;
    Ok(())
}

fn rolehop(
    cli: &Path,
    env: &[(String, String)],
    args: &[&str],
    stdin: Option<&str>,
) -> Result<(), Error> {
    let mut child = Command::new(cli)
        .args(args)
        .envs(env.iter().cloned())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("rolehop {} failed ({status})", args.join(" ")).into());
    }
    Ok(())
}
