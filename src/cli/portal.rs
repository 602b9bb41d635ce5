//! What the portal lists and hands out: `accounts`, `roles`, `credentials --account`.

use super::args::{Format, InstanceArgs};
use super::output;
use aws_sso_device_auth_provider::Error;

pub async fn accounts(name: Option<&str>, json: bool, args: &InstanceArgs) -> Result<(), Error> {
    let world = super::open().await?;
    super::note_overrides(&world);
    let sso = world.provider(&super::instance(&world, args)?).await?;
    output::accounts(&sso.accounts_matching(&[], name).await?, json);
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
