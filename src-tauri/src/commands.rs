//! What the window can ask for: each command is one call into the workspace (through
//! [`App`], which names the current instance), or into a pure rule of the core
//! (`suggest_profile_name`). All but `get_state`, `cancel_sign_in`, `stop_exec_session`
//! and `suggest_profile_name`, which only read or touch memory, are async: they run on the
//! async runtime and never block the window's thread, and the workspace keeps blocking
//! work off the runtime's workers.

use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::view::{AccountsView, AppView, GeneratedView, Written};
use crate::App;
use aws_sso_device_auth_provider::console::{BrowserChoice, Destination};
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::eks::kubeconfig::{
    Added, EksClusters, KubeconfigRequest, Removal, Removed,
};
use aws_sso_device_auth_provider::populate::{self, ProfileRules};
use aws_sso_device_auth_provider::settings::{ConsoleSettings, Preferences};
use aws_sso_device_auth_provider::workspace::{
    ConsoleOptions, FavouriteEdit, GenerateMode, NewFavourite, ProfileRequest, RoleTarget,
};
use aws_sso_device_auth_provider::Instance;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::{AppHandle, Runtime};

type State<'a> = tauri::State<'a, Arc<App>>;

/// The whole view.
#[tauri::command]
pub fn get_state(app: State<'_>) -> AppView {
    app.view()
}

/// Signs in to the current instance; answers once signed in.
#[tauri::command]
pub async fn sign_in(app: State<'_>) -> CommandResult<()> {
    app.sign_in().await
}

/// Cancels a waiting sign-in.
#[tauri::command]
pub fn cancel_sign_in(app: State<'_>) {
    app.world.cancel_sign_in();
}

/// Declines the sign-in other programs asked for: each of them fails at once.
#[tauri::command]
pub fn decline_sign_in(app: State<'_>) -> CommandResult<()> {
    app.world.decline_sign_in(&app.current()?);
    Ok(())
}

/// Opens the waiting sign-in's page in the browser.
#[tauri::command]
pub async fn open_sign_in_page(app: State<'_>) -> CommandResult<()> {
    Ok(app.world.open_sign_in_page().await?)
}

/// Signs out of the current instance.
#[tauri::command]
pub async fn sign_out(app: State<'_>) -> CommandResult<()> {
    app.sign_out().await
}

/// The cached accounts at once; refreshed in the background when old.
#[tauri::command]
pub async fn get_accounts(app: State<'_>) -> CommandResult<AccountsView> {
    Ok(app.world.accounts(&app.current()?).await?.into())
}

/// Reads the roles of these accounts (the ones the person is looking at) first.
#[tauri::command]
pub fn prioritise_accounts(app: State<'_>, ids: Vec<String>) -> CommandResult<()> {
    app.world.prioritise_accounts(&app.current()?, ids);
    Ok(())
}

/// Reads the accounts again, in the background.
#[tauri::command]
pub async fn refresh_accounts(app: State<'_>) -> CommandResult<()> {
    Ok(app.world.refresh_accounts(&app.current()?)?)
}

/// Adds a favourite of the current instance; answers after its profile is written.
#[tauri::command]
pub async fn add_favourite(app: State<'_>, favourite: NewFavourite) -> CommandResult<Written> {
    Ok(app
        .world
        .add_favourite(app.current()?, favourite)
        .await?
        .into())
}

/// Points a favourite at another account, role, region or role to assume; answers once
/// rewritten.
#[tauri::command]
pub async fn edit_favourite(
    app: State<'_>,
    profile: String,
    change: FavouriteEdit,
) -> CommandResult<Written> {
    Ok(app.world.edit_favourite(&profile, change).await?.into())
}

/// Removes a favourite and its profile; with `kubeconfig`, also its entries in the
/// kubeconfig (the question asks first, with [`kubeconfig_entries`]).
#[tauri::command]
pub async fn remove_favourite(
    app: State<'_>,
    profile: String,
    kubeconfig: Option<bool>,
) -> CommandResult<()> {
    app.world.remove_favourite(&profile).await?;
    if kubeconfig == Some(true) {
        app.world
            .remove_from_kubeconfig(Removal::favourite(&profile))
            .await?;
    }
    Ok(())
}

/// What removing a favourite would take from the kubeconfig (read from the file only),
/// so that the question before the removal can offer it.
#[tauri::command]
pub async fn kubeconfig_entries(app: State<'_>, profile: String) -> CommandResult<Removed> {
    Ok(app.world.kubeconfig_entries(&profile).await?)
}

/// The EKS clusters a favourite's role sees in `region` (default: the favourite's).
#[tauri::command]
pub async fn eks_clusters(
    app: State<'_>,
    profile: String,
    region: Option<String>,
) -> CommandResult<EksClusters> {
    let region = region.filter(|r| !r.trim().is_empty());
    Ok(app.world.eks_clusters(&profile, region.as_deref()).await?)
}

/// Adds a cluster to the kubeconfig for a favourite, as `aws-sso-auth eks kubeconfig`
/// does.
#[tauri::command]
pub async fn add_to_kubeconfig(app: State<'_>, request: KubeconfigRequest) -> CommandResult<Added> {
    Ok(app.world.add_to_kubeconfig(request).await?)
}

/// The profile name the form suggests for a role: the core's rule
/// ([`populate::suggested_profile_name`]), so that the window names a profile as the
/// profiles the core generates are named.
#[tauri::command]
pub fn suggest_profile_name(account_name: String, account_id: String, role_name: String) -> String {
    populate::suggested_profile_name(&account_name, &account_id, &role_name).to_string()
}

/// Removes a one-off profile (a favourite's goes with its favourite).
#[tauri::command]
pub async fn remove_profile(app: State<'_>, profile: String) -> CommandResult<()> {
    let applied = app
        .world
        .remove_profiles(std::slice::from_ref(&profile))
        .await?;
    applied.not_removed().map_or(Ok(()), |e| Err(e.into()))
}

/// A one-off profile as the window sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileForm {
    profile: String,
    account_id: String,
    role_name: String,
    region: Option<String>,
}

/// Writes a profile once (not kept fresh).
#[tauri::command]
pub async fn write_profile(app: State<'_>, request: ProfileForm) -> CommandResult<Written> {
    let r = request;
    let request = ProfileRequest {
        profile: r.profile,
        account_id: r.account_id,
        role_name: r.role_name,
        region: r.region,
        force: false,
    };
    Ok(app
        .world
        .write_profile(&app.current()?, request)
        .await?
        .into())
}

/// Renews a favourite's profile now.
#[tauri::command]
pub async fn renew_now(app: State<'_>, profile: String) -> CommandResult<()> {
    Ok(app.world.renew_now(&profile).await?)
}

/// Opens the AWS console as a favourite's role, on its own page or on `service`'s.
#[tauri::command]
pub async fn open_console(
    app: State<'_>,
    profile: String,
    service: Option<String>,
) -> CommandResult<()> {
    let options = ConsoleOptions {
        destination: service.as_deref().map(Destination::service).transpose()?,
        ..ConsoleOptions::default()
    };
    Ok(app
        .world
        .open_console(RoleTarget::Favourite(profile), &options)
        .await?)
}

/// Opens the AWS console as any role of an account of the current instance (the
/// account browser), on its home or on `service`'s page; the browser is the access
/// portal's.
#[tauri::command]
pub async fn open_role_console(
    app: State<'_>,
    account_id: String,
    role_name: String,
    service: Option<String>,
) -> CommandResult<()> {
    let options = ConsoleOptions {
        destination: service.as_deref().map(Destination::service).transpose()?,
        ..ConsoleOptions::default()
    };
    let target = RoleTarget::Role {
        instance: app.current()?,
        account_id,
        role_name,
    };
    Ok(app.world.open_console(target, &options).await?)
}

/// What the window offers for a console: the common services, the colours, the
/// browsers, the container extensions and the session lengths AWS allows.
#[tauri::command]
pub fn console_choices() -> crate::view::ConsoleChoices {
    crate::view::ConsoleChoices::new()
}

/// Sets how a favourite's console opens; answers the settings as saved (the colour read
/// from the account when it is to be its account's).
#[tauri::command]
pub async fn set_favourite_console(
    app: State<'_>,
    profile: String,
    mut console: ConsoleSettings,
) -> CommandResult<crate::view::ConsoleView> {
    let stored = app
        .world
        .settings()
        .favourite(&profile)
        .and_then(|f| f.console.browser.clone());
    console.browser = console.browser.map(|b| keep_program(b, stored.as_ref()));
    let saved = app.world.set_favourite_console(&profile, console).await?;
    Ok(crate::view::ConsoleView::from(&saved))
}

/// Sets the browser the console of an access portal's roles opens in (`None`: the
/// default browser).
#[tauri::command]
pub async fn set_portal_browser(
    app: State<'_>,
    instance: InstanceForm,
    browser: Option<BrowserChoice>,
) -> CommandResult<()> {
    let instance = instance.instance()?;
    let stored = app
        .world
        .settings()
        .instances
        .iter()
        .find(|i| i.instance == instance)
        .and_then(|i| i.browser.clone());
    let browser = browser.map(|b| keep_program(b, stored.as_ref()));
    Ok(app.world.set_portal_browser(&instance, browser).await?)
}

/// `choice` with the program `stored` names for the same browser, if any: the window
/// never chooses a program (that is the command line's), so whatever program it sends
/// is not taken, and one chosen on the command line is kept.
fn keep_program(mut choice: BrowserChoice, stored: Option<&BrowserChoice>) -> BrowserChoice {
    choice.program = stored
        .filter(|s| s.kind == choice.kind)
        .and_then(|s| s.program.clone());
    choice
}

/// Replaces the preferences.
#[tauri::command]
pub async fn set_preferences(app: State<'_>, preferences: Preferences) -> CommandResult<()> {
    Ok(app.world.set_preferences(preferences).await?)
}

/// The answer of [`generate_profiles`]: the change, and what became of sharing the
/// session with the AWS CLI, which the profiles sign in with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateAnswer {
    #[serde(flatten)]
    generated: GeneratedView,
    /// Sharing is off now (a preview: applying turns it on).
    sharing_off: bool,
    /// Applying turned sharing on.
    sharing_turned_on: bool,
}

/// Generates the AWS CLI profiles `rules` ask for (or, with `preview`, only says what
/// would change); applied rules are saved as the ones to generate with, and sharing the
/// session with the AWS CLI is turned on.
#[tauri::command]
pub async fn generate_profiles(
    app: State<'_>,
    rules: ProfileRules,
    preview: bool,
) -> CommandResult<GenerateAnswer> {
    let instance = app.current()?;
    if preview {
        let mode = GenerateMode {
            preview,
            refresh: false,
        };
        let generated = app.world.generate_profiles(&instance, &rules, mode).await?;
        return Ok(GenerateAnswer {
            generated: GeneratedView::new(&generated, preview),
            sharing_off: !app.world.settings().preferences.share_session_with_aws_cli,
            sharing_turned_on: false,
        });
    }
    let applied = app
        .world
        .apply_profile_rules(&instance, rules, false)
        .await?;
    Ok(GenerateAnswer {
        generated: GeneratedView::new(&applied.generated, preview),
        sharing_off: false,
        sharing_turned_on: applied.sharing_turned_on,
    })
}

/// Starts the app at login (hidden), or stops doing so.
#[tauri::command]
pub async fn set_start_at_login<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_>,
    enabled: bool,
) -> CommandResult<()> {
    app.login.set(handle.clone(), enabled).await?;
    crate::events::refresh_if_changed(&handle, &app);
    Ok(())
}

/// An instance as the window sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceForm {
    start_url: String,
    region: String,
    #[serde(default)]
    label: Option<String>,
}

impl InstanceForm {
    fn instance(&self) -> CommandResult<Instance> {
        Ok(Instance::new(self.start_url.trim(), self.region.trim())?)
    }
}

/// Adds an instance and makes it current.
#[tauri::command]
pub async fn add_instance(app: State<'_>, instance: InstanceForm) -> CommandResult<()> {
    if instance.region.trim().is_empty() {
        return Err(CommandError {
            code: ErrorCode::InvalidInput,
            message: "Enter the region the access portal is in, such as us-east-1: your administrator knows it.".into(),
        });
    }
    Ok(app
        .world
        .add_instance(instance.instance()?, instance.label)
        .await?)
}

/// An access portal the AWS CLI is set up for, in `~/.aws/config`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfiguredPortal {
    /// Where it is: `sso-session NAME` or `profile NAME`.
    source: String,
    /// Its start URL.
    start_url: String,
    /// Its region.
    region: String,
}

/// The access portals the AWS CLI is set up for, not yet known to the app.
#[tauri::command]
pub async fn configured_portals(app: State<'_>) -> CommandResult<Vec<ConfiguredPortal>> {
    let known = app.world.settings().known_instances();
    Ok(app
        .world
        .aws_config_instances()
        .await?
        .into_iter()
        .filter(|c| Instance::new(&c.start_url, &c.region).is_ok_and(|i| !known.contains(&i)))
        .map(|c| ConfiguredPortal {
            source: display::text(&c.source).into_owned(),
            start_url: c.start_url,
            region: c.region,
        })
        .collect())
}

/// Adds every access portal the AWS CLI is set up for; answers how many were new.
#[tauri::command]
pub async fn import_aws_config(app: State<'_>) -> CommandResult<usize> {
    let found = app.world.import_aws_config().await?;
    Ok(found
        .iter()
        .filter(|(_, added)| matches!(added, Ok((_, true))))
        .count())
}

/// Adds one access portal the AWS CLI is set up for, labelled as in `~/.aws/config`,
/// leaving the current one current; answers whether it was new.
#[tauri::command]
pub async fn import_aws_config_portal(
    app: State<'_>,
    instance: InstanceForm,
) -> CommandResult<bool> {
    Ok(app
        .world
        .import_aws_config_instance(&instance.instance()?)
        .await?)
}

/// Forgets an instance.
#[tauri::command]
pub async fn remove_instance(app: State<'_>, instance: InstanceForm) -> CommandResult<()> {
    Ok(app.world.remove_instance(&instance.instance()?).await?)
}

/// Makes an instance current.
#[tauri::command]
pub async fn set_default_instance(app: State<'_>, instance: InstanceForm) -> CommandResult<()> {
    Ok(app.world.make_default(&instance.instance()?).await?)
}

/// Stops serving credentials to the command `id` (`aws-sso-auth exec`): its next request
/// is refused with a sentence, and it stays listed, ended, until it exits. Answers whether
/// it was still served.
#[tauri::command]
pub fn stop_exec_session(app: State<'_>, id: u64) -> bool {
    app.world.end_exec_session(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sso_device_auth_provider::console::BrowserKind;

    #[test]
    fn the_window_never_chooses_a_browser_s_program() {
        let choice = |kind, program: Option<&str>| BrowserChoice {
            kind,
            program: program.map(Into::into),
            ..BrowserChoice::default()
        };
        let stored = choice(BrowserKind::Firefox, Some("/opt/firefox/firefox"));
        // A program sent by the window is dropped; the one the command line set stays.
        let sent = choice(BrowserKind::Firefox, Some("/bin/sh"));
        assert_eq!(keep_program(sent, Some(&stored)).program, stored.program);
        // Another browser does not inherit it; nothing stored, nothing kept.
        let sent = choice(BrowserKind::Chrome, Some("/bin/sh"));
        assert_eq!(keep_program(sent, Some(&stored)).program, None);
        let sent = choice(BrowserKind::Firefox, Some("/bin/sh"));
        assert_eq!(keep_program(sent, None).program, None);
    }
}
