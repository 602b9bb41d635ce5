//! What the window can ask for: each command is one call into the app's state. All but
//! the two that only read memory are async, so they run on the async runtime (where the
//! state starts its background tasks) and never block the window's thread.

use crate::error::CommandResult;
use crate::state::{AppState, NewFavourite, NewInstance, WriteProfile, Written};
use crate::view::{AccountsView, AppView};
use aws_sso_device_auth_provider::settings::Preferences;
use std::sync::Arc;

type State<'a> = tauri::State<'a, Arc<AppState>>;

/// The whole view.
#[tauri::command]
pub fn get_state(state: State<'_>) -> AppView {
    state.view()
}

/// Signs in to the current instance; answers once signed in.
#[tauri::command]
pub async fn sign_in(state: State<'_>) -> CommandResult<()> {
    state.sign_in().await
}

/// Cancels a waiting sign-in.
#[tauri::command]
pub fn cancel_sign_in(state: State<'_>) {
    state.cancel_sign_in();
}

/// Opens the waiting sign-in's page in the browser.
#[tauri::command]
pub async fn open_sign_in_page(state: State<'_>) -> CommandResult<()> {
    state.open_sign_in_page()
}

/// Signs out of the current instance.
#[tauri::command]
pub async fn sign_out(state: State<'_>) -> CommandResult<()> {
    state.sign_out().await
}

/// The cached accounts at once; refreshed in the background when old.
#[tauri::command]
pub async fn get_accounts(state: State<'_>) -> CommandResult<AccountsView> {
    state.accounts()
}

/// Reads the accounts again, in the background.
#[tauri::command]
pub async fn refresh_accounts(state: State<'_>) -> CommandResult<()> {
    state.refresh_accounts()
}

/// Adds a favourite; answers after its profile is first written.
#[tauri::command]
pub async fn add_favourite(state: State<'_>, favourite: NewFavourite) -> CommandResult<()> {
    state.add_favourite(favourite).await
}

/// Removes a favourite and its profile.
#[tauri::command]
pub async fn remove_favourite(state: State<'_>, profile: String) -> CommandResult<()> {
    state.remove_favourite(&profile)
}

/// Writes a profile once.
#[tauri::command]
pub async fn write_profile(state: State<'_>, request: WriteProfile) -> CommandResult<Written> {
    state.write_profile(request).await
}

/// Renews a favourite's profile now.
#[tauri::command]
pub async fn renew_now(state: State<'_>, profile: String) -> CommandResult<()> {
    state.renew_now(&profile)
}

/// Opens the AWS console as a favourite's role.
#[tauri::command]
pub async fn open_console(state: State<'_>, profile: String) -> CommandResult<()> {
    state.open_console(&profile).await
}

/// Replaces the preferences.
#[tauri::command]
pub async fn set_preferences(state: State<'_>, preferences: Preferences) -> CommandResult<()> {
    state.set_preferences(preferences)
}

/// Starts the app at login, or stops doing so.
#[tauri::command]
pub async fn set_start_at_login(state: State<'_>, enabled: bool) -> CommandResult<()> {
    state.set_start_at_login(enabled)
}

/// Adds an instance and makes it current.
#[tauri::command]
pub async fn add_instance(state: State<'_>, instance: NewInstance) -> CommandResult<()> {
    state.add_instance(instance)
}

/// Forgets an instance.
#[tauri::command]
pub async fn remove_instance(state: State<'_>, start_url: String) -> CommandResult<()> {
    state.remove_instance(&start_url)
}

/// Makes an instance current.
#[tauri::command]
pub async fn set_default_instance(state: State<'_>, start_url: String) -> CommandResult<()> {
    state.set_default_instance(&start_url)
}
