//! `favourite add|edit|remove|list`, and `credentials --profile` (for `credential_process`).

use super::args::{FavouriteCommand, Format};
use super::output;
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::workspace::{FavouriteEdit, NewFavourite, WrittenProfile};
use aws_sso_device_auth_provider::Error;

pub async fn run(command: FavouriteCommand) -> Result<(), Error> {
    let world = super::open().await?;
    match command {
        FavouriteCommand::Add {
            name,
            account,
            role,
            region,
            credential_process,
            assume,
            instance,
        } => {
            super::note_overrides(&world);
            let new = NewFavourite {
                profile: name.clone(),
                account_id: account.clone(),
                account_name: None,
                role_name: role.clone(),
                region,
                credential_process,
                assume_role: assume.entry(),
            };
            let instance = super::instance(&world, &instance)?;
            let written = world.add_favourite(instance, new).await?;
            match world.settings().favourite(&name) {
                Some(f) => eprintln!("Added favourite '{name}' ({}).", f.source()),
                None => eprintln!("Added favourite '{name}' ({account}/{role})."),
            }
            kept(&world, &written);
            Ok(())
        }
        FavouriteCommand::Edit {
            name,
            account,
            role,
            region,
            assume,
            no_assume_role,
        } => {
            super::note_overrides(&world);
            let assume_role = match (assume.entry(), no_assume_role) {
                (Some(a), _) => Some(Some(a)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let edit = FavouriteEdit {
                account_id: account,
                role_name: role,
                region,
                account_name: None,
                assume_role,
            };
            let written = world.edit_favourite(&name, edit).await?;
            let settings = world.settings();
            if let Some(f) = settings.favourite(&name) {
                eprintln!("Favourite '{name}' is now {}.", f.source());
            }
            kept(&world, &written);
            Ok(())
        }
        FavouriteCommand::Remove { name } => {
            if world.remove_favourite(&name).await? {
                eprintln!("Removed favourite '{name}' and its profile.");
            } else {
                eprintln!("Removed favourite '{name}'.");
            }
            Ok(())
        }
        FavouriteCommand::List { json } => {
            for e in world.skipped_settings() {
                super::warn("skipped", &e);
            }
            output::favourites(&world.settings().favourites, json);
            Ok(())
        }
    }
}

/// Where the favourite's profile is, and how it stays fresh.
fn kept(world: &aws_sso_device_auth_provider::workspace::Workspace, written: &WrittenProfile) {
    match written.expires_at {
        Some(t) => eprintln!(
            "Its profile is in {}, valid until {}; the app or `aws-sso-auth daemon` keeps it fresh.",
            world.credentials_file().display(),
            rfc3339(t)
        ),
        None => eprintln!(
            "It is a credential_process profile in {}.",
            world.config_file().display()
        ),
    }
}

/// `credentials --profile NAME`: the favourite's profile while it is valid, else renewed.
pub async fn credentials(profile: &str, format: Format) -> Result<(), Error> {
    let world = super::open().await?;
    let printer = super::login::print_sign_in_codes(&world, super::login::Seen::Notify);
    let answer = world.favourite_credentials(profile).await;
    printer.abort();
    let answer = answer?;
    if let Some(e) = &answer.warning {
        super::warn("the profile was not updated", e);
    }
    let f = &answer.favourite;
    output::credentials(&answer.credentials, &f.account_id, &f.role_name, format)
}
