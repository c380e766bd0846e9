//! `rolehop profile add|list|remove|rename`.

use std::process::ExitCode;

use crate::args::ProfileCommand;
use crate::commands::{Outcome, print_json};
use rolehop_core::Engine;

pub async fn run(engine: &Engine, command: ProfileCommand) -> Outcome {
    match command {
        ProfileCommand::Add { name } => {
            let p = engine.add_profile(&name).await?;
            println!("added profile '{}'", p.name);
        }
        ProfileCommand::List { json } => {
            let profiles = engine.profiles().await?;
            if json {
                return print_json(&profiles);
            }
            for p in profiles {
                println!("{}", p.name);
            }
        }
        ProfileCommand::Remove { name, reassign_to } => {
            engine.remove_profile(&name, reassign_to.as_deref()).await?;
            match reassign_to {
                Some(to) => println!("removed profile '{name}'; its sessions now use '{to}'"),
                None => println!("removed profile '{name}'"),
            }
        }
        ProfileCommand::Rename { old, new } => {
            engine.rename_profile(&old, &new).await?;
            println!("renamed profile '{old}' to '{new}'");
        }
    }
    Ok(ExitCode::SUCCESS)
}
