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
        FavouriteCommand::Console(args) => super::console::favourite(&world, args).await,
        FavouriteCommand::Remove { name } => {
            if world.remove_favourite(&name).await? {
                eprintln!("Removed favourite '{name}' and its profile.");
            } else {
                eprintln!("Removed favourite '{name}'.");
            }
            kubectl_entries(&world, &name).await;
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

/// After a favourite is removed, its kubectl entries (which now fail) go too if the
/// person says so on a terminal; otherwise they stay, and the command that removes them is
/// printed.
async fn kubectl_entries(
    world: &aws_sso_device_auth_provider::workspace::Workspace,
    profile: &str,
) {
    use std::io::IsTerminal;
    let found = match world.kubeconfig_entries(profile).await {
        Ok(found) if !found.entries.is_empty() => found,
        Ok(_) => return,
        Err(e) => return super::warn("its kubectl entries were not looked for", &e),
    };
    let what = super::kubeconfig::describe(&found);
    let file = found.path.display();
    let shown = aws_sso_device_auth_provider::display::text(profile);
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if terminal
        && yes(&format!(
            "{file} holds {what} of '{shown}' for kubectl. Remove them too? [y/N] "
        ))
    {
        let removal = aws_sso_device_auth_provider::eks::kubeconfig::Removal::favourite(profile);
        match world.remove_from_kubeconfig(removal).await {
            Ok(removed) => super::kubeconfig::say_removed(profile, &removed),
            Err(e) => super::warn("its kubectl entries were not removed", &e),
        }
        return;
    }
    eprintln!(
        "{file} still holds {what} of '{shown}' for kubectl, which no longer work; remove them with: {}",
        super::kubeconfig::removal_command(profile)
    );
}

/// Asks `question` on the terminal; true for "y" or "yes".
fn yes(question: &str) -> bool {
    use std::io::Write;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    match std::io::stdin().read_line(&mut answer) {
        Ok(n) if n > 0 => matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"),
        _ => false,
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
