//! `settings export|import|import-aws-config|set`.

use super::args::SettingsCommand;
use aws_sso_device_auth_provider::settings::Settings;
use aws_sso_device_auth_provider::Error;

pub async fn run(command: SettingsCommand) -> Result<(), Error> {
    let world = super::open().await?;
    match command {
        SettingsCommand::Export => {
            println!(
                "{}",
                serde_json::to_string_pretty(world.settings().as_ref()).unwrap_or_default()
            );
            Ok(())
        }
        SettingsCommand::ImportAwsConfig => {
            let found = world.import_aws_config().await?;
            if found.is_empty() {
                eprintln!(
                    "No IAM Identity Center instance in {}.",
                    world.config_file().display()
                );
            }
            for (source, added) in found {
                match added {
                    Ok((instance, true)) => eprintln!("Added {instance} (from [{source}])."),
                    Ok((instance, false)) => eprintln!("Already known: {instance}."),
                    Err(e) => eprintln!("Skipped [{source}]: {e}"),
                }
            }
            Ok(())
        }
        SettingsCommand::Import { file } => {
            let bytes = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
            } else {
                std::fs::read(&file)
            }
            .map_err(|source| Error::Io {
                action: "read",
                path: file.clone(),
                source,
            })?;
            let other: Settings = serde_json::from_slice(&bytes).map_err(|e| Error::Settings {
                path: file.clone(),
                detail: e.to_string(),
            })?;
            let (instances, favourites) = (other.instances.len(), other.favourites.len());
            world.import(other, &file).await?;
            eprintln!(
                "Imported {instances} instances and {favourites} favourites into {}.",
                world.paths().settings_file().display()
            );
            Ok(())
        }
        SettingsCommand::Set { name, value } => {
            world.set_preference(&name, &value).await?;
            eprintln!("Set {name} to {value}.");
            Ok(())
        }
    }
}
