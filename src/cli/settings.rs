//! `settings export|import|import-aws-config|browser|set`.

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
            // Read within the limits (refused whole above them), like the settings file.
            let other = if file.as_os_str() == "-" {
                Settings::read_from(&file, std::io::stdin().lock())?
            } else {
                let opened = std::fs::File::open(&file).map_err(|source| Error::Io {
                    action: "read",
                    path: file.clone(),
                    source,
                })?;
                Settings::read_from(&file, opened)?
            };
            let (instances, favourites) = (other.instances.len(), other.favourites.len());
            world.import(other, &file).await?;
            eprintln!(
                "Imported {instances} instances and {favourites} favourites into {}.",
                world.paths().settings_file().display()
            );
            Ok(())
        }
        SettingsCommand::Browser {
            browser,
            default: _,
            instance,
        } => {
            let instance = super::instance(&world, &instance)?;
            let choice = browser.choice()?;
            world.set_portal_browser(&instance, choice.clone()).await?;
            eprintln!(
                "The console of {instance}'s roles opens in {} (unless a favourite chooses another).",
                super::console::describe_browser(choice.as_ref())
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
