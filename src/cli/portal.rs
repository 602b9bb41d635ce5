//! What the portal lists and hands out: `accounts`, `roles`, `credentials --account`.

use super::args::{Format, InstanceArgs};
use super::output;
use aws_sso_device_auth_provider::portal::NameGlob;
use aws_sso_device_auth_provider::workspace::{AccountRef, Event};
use aws_sso_device_auth_provider::Error;
use std::io::IsTerminal;

pub async fn accounts(name: Option<&str>, json: bool, args: &InstanceArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let instance = super::instance(&world, args)?;
    output::accounts(&world.accounts_matching(&instance, name).await?, json);
    Ok(())
}

/// `list`: every account with its roles, filtered by globs; progress on a terminal's
/// stderr while the list is read.
pub async fn list(
    account: Option<&str>,
    role: Option<&str>,
    refresh: bool,
    json: bool,
    args: &InstanceArgs,
) -> Result<(), Error> {
    let account = account.map(NameGlob::new).transpose()?;
    let role = role.map(NameGlob::new).transpose()?;
    let world = super::open().await?;
    super::note_overrides(&world);
    let instance = super::instance(&world, args)?;
    let progress = std::io::stderr().is_terminal().then(|| {
        let mut events = world.subscribe();
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                if let Event::AccountsProgress {
                    done,
                    total: Some(total),
                    ..
                } = event
                {
                    eprint!("\rReading roles: {done} of {total} accounts");
                }
            }
        })
    });
    let found = world
        .account_roles_matching(&instance, account.as_ref(), role.as_ref(), refresh)
        .await;
    if let Some(task) = progress {
        task.abort();
        eprint!("\r\x1b[K");
    }
    output::account_roles(&found?, json);
    Ok(())
}

pub async fn roles(
    account: Option<String>,
    account_name: Option<String>,
    role: Option<String>,
    json: bool,
    args: &InstanceArgs,
) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let instance = super::instance(&world, args)?;
    // clap requires one of the two.
    let account = match account {
        Some(id) => AccountRef::Id(id),
        None => AccountRef::Name(account_name.unwrap_or_default()),
    };
    let (_, roles) = world.roles(&instance, account, role.as_deref()).await?;
    output::roles(&roles, json);
    Ok(())
}

pub async fn credentials(
    account: &str,
    role: &str,
    format: Format,
    args: &InstanceArgs,
) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let instance = super::instance(&world, args)?;
    let creds = world.role_credentials(&instance, account, role).await?;
    output::credentials(&creds, account, role, format)
}
