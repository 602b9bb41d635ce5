//! `profile write|remove|list`: one-off profiles in the AWS files.

use super::args::ProfileCommand;
use super::output;
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::workspace::{ProfileRequest, WrittenVerb};
use aws_sso_device_auth_provider::Error;

pub async fn run(command: ProfileCommand) -> Result<(), Error> {
    let world = super::open().await?;
    match command {
        ProfileCommand::Write {
            name,
            account,
            role,
            region,
            force,
            instance,
        } => {
            super::note_overrides(&world);
            let instance = super::instance(&world, &instance)?;
            let request = ProfileRequest {
                profile: name,
                account_id: account.clone(),
                role_name: role.clone(),
                region: region.clone(),
                force,
            };
            let written = world.write_profile(&instance, request).await?;
            let verb = match written.verb {
                WrittenVerb::Replaced => "Replaced",
                WrittenVerb::Created => "Wrote",
                WrittenVerb::Renewed => "Renewed",
            };
            eprintln!(
                "{verb} profile '{}' ({account}/{role}) in {}; valid until {}.",
                written.profile,
                world.credentials_file().display(),
                written.expires_at.map(rfc3339).unwrap_or_default()
            );
            if let Some(r) = region {
                eprintln!("Its region {r} is in {}.", world.config_file().display());
            }
            Ok(())
        }
        ProfileCommand::Remove { names } => {
            let applied = world.remove_profiles(&names).await?;
            for name in &applied.removed {
                eprintln!("Removed profile '{name}'.");
            }
            applied.not_removed().map_or(Ok(()), Err)
        }
        ProfileCommand::Generate(args) => super::populate::generate(&world, args).await,
        ProfileCommand::List { json } => {
            let profiles = world.managed_profiles().await?;
            if profiles.is_empty() && !json {
                eprintln!(
                    "No profiles from aws-sso-tray in {}.",
                    world.credentials_file().display()
                );
                return Ok(());
            }
            output::profiles(&profiles, world.now(), json);
            Ok(())
        }
    }
}
