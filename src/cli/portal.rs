//! What the portal lists and hands out: `accounts`, `roles`, `credentials --account`.

use super::args::{Format, InstanceArgs};
use super::output;
use aws_sso_device_auth_provider::portal::{AccountRoles, NameGlob};
use aws_sso_device_auth_provider::workspace::Event;
use aws_sso_device_auth_provider::Error;
use std::io::IsTerminal;

pub async fn accounts(name: Option<&str>, json: bool, args: &InstanceArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let sso = world.provider(&super::instance(&world, args)?).await?;
    output::accounts(&sso.accounts_matching(&[], name).await?, json);
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
    let found = world.all_accounts(&instance, refresh).await;
    if let Some(task) = progress {
        task.abort();
        eprint!("\r\x1b[K");
    }
    let matching: Vec<AccountRoles> = found?
        .accounts
        .into_iter()
        .filter(|a| {
            account.as_ref().is_none_or(|g| {
                g.is_match(&a.account.account_name) || g.is_match(&a.account.account_id)
            })
        })
        .filter_map(|mut a| {
            if let Some(g) = &role {
                a.roles.retain(|r| g.is_match(&r.role_name));
                if a.roles.is_empty() {
                    return None;
                }
            }
            Some(a)
        })
        .collect();
    output::account_roles(&matching, json);
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
    let sso = world.provider(&super::instance(&world, args)?).await?;
    // clap requires one of the two.
    let account = match account {
        Some(id) => id,
        None => {
            sso.account_id_for_name(account_name.as_deref().unwrap_or_default())
                .await?
        }
    };
    let roles = sso.roles(&account, role.as_deref()).await?;
    if let (true, Some(role)) = (roles.is_empty(), role) {
        return Err(Error::RoleNotFound {
            account_id: account,
            role,
        });
    }
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
    let sso = world.provider(&super::instance(&world, args)?).await?;
    let creds = sso.role_credentials(account, role).await?;
    output::credentials(&creds, account, role, format);
    Ok(())
}
