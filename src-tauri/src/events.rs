//! The one place where the workspace's events reach the desktop: the window's events,
//! the tray's menu and icon, notifications; and where tray clicks become actions.

use crate::error::{CommandError, ErrorCode};
use crate::tray::{build_menu, MenuId, TrayIcon, TrayModel};
use crate::view::{AccountView, AccountsView, AppView, Progress};
use crate::App;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::instance::Instance;
use aws_sso_device_auth_provider::workspace::{Event, RoleTarget, SessionPhase};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{
    AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
};

/// The tray icon's id.
pub const TRAY_ID: &str = "main";
/// The window's label.
pub const WINDOW: &str = "main";

/// Names of the events the window listens to.
pub mod names {
    /// The whole view (`AppView`).
    pub const STATE: &str = "state";
    /// The account list after a refresh (`AccountsView`).
    pub const ACCOUNTS: &str = "accounts";
    /// Discovery progress (`Progress`).
    pub const ACCOUNTS_PROGRESS: &str = "accounts-progress";
    /// Accounts whose roles were just read: `AccountView[]`, each replacing its namesake.
    pub const ACCOUNTS_CHANGED: &str = "accounts-changed";
    /// Which view to show (`"signIn"`, `"accounts"`, `"favourites"`, `"settings"`).
    pub const SHOW_VIEW: &str = "show-view";
    /// A failure of something started from the tray (`CommandError`).
    pub const ERROR: &str = "error";
    /// The AWS CLI profiles were generated again after a refresh (`ProfilesCount`).
    pub const PROFILES_GENERATED: &str = "profiles-generated";
}

/// Warn this long before a session that cannot renew itself ends.
pub const SESSION_ENDING_NOTICE: Duration = Duration::from_secs(15 * 60);
/// How often the lines of both faces are made again (a profile that just expired says so
/// within this), and a session about to end is looked for.
const TICK: Duration = Duration::from_secs(5);

/// The desktop's side of the app: what the tray shows now, whether the window was opened
/// just for a sign-in (and so closes itself when it succeeds), and the expiries already
/// warned about.
#[derive(Default)]
pub struct Desktop {
    tray: Mutex<Option<TrayModel>>,
    /// The view the window was last sent.
    sent: Mutex<Option<AppView>>,
    opened_for_sign_in: AtomicBool,
    warned_for: Mutex<HashMap<Instance, SystemTime>>,
}

/// Whether a left click on the tray icon opens the window (Windows) rather than the menu.
const LEFT_CLICK_OPENS_WINDOW: bool = cfg!(windows);

/// A left click, on its release (Windows reports the press and the release).
fn opens_window(event: &TrayIconEvent) -> bool {
    matches!(
        event,
        TrayIconEvent::Click {
            button: MouseButton::Left,
            button_state: MouseButtonState::Up,
            ..
        }
    )
}

/// Creates the tray and forwards the workspace's events until the app ends.
pub fn start<R: Runtime>(
    handle: &AppHandle<R>,
    app: Arc<App>,
    with_tray: bool,
) -> tauri::Result<()> {
    handle.manage(Desktop::default());
    if with_tray {
        #[cfg(target_os = "linux")]
        crate::tray::show_menu_icons();
        let model = TrayModel::from_view(&app.view());
        let menu = build_menu(handle, &model.entries)?;
        TrayIconBuilder::with_id(TRAY_ID)
            .icon(model.icon.image()?)
            .icon_as_template(TrayIcon::TEMPLATE)
            .tooltip(&model.tooltip)
            .menu(&menu)
            // Windows' tray apps open their window on a left click and their menu on a
            // right one; macOS's menu bar and Linux's trays show the menu on either.
            .show_menu_on_left_click(!LEFT_CLICK_OPENS_WINDOW)
            .on_tray_icon_event(|tray, event| {
                if LEFT_CLICK_OPENS_WINDOW && opens_window(&event) {
                    show_window(tray.app_handle(), "accounts");
                }
            })
            .on_menu_event(|handle, event| on_menu(handle, event.id().as_ref()))
            .build(handle)?;
        *lock(&handle.state::<Desktop>().tray) = Some(model);
        tracing::info!("tray ready");
    }
    let mut rx = app.world.subscribe();
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Ok(event) => apply(&handle, &app, event).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        apply(&handle, &app, Event::Changed).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    warn_of_ending_sessions(&handle, &app);
                    refresh_if_changed(&handle, &app);
                }
            }
        }
    });
    Ok(())
}

/// How many generated profiles a change added, changed and removed.
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct ProfilesCount {
    created: usize,
    updated: usize,
    removed: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One event, shown. The window's state and the tray follow `Changed` (which every
/// change of what they show is followed by).
async fn apply<R: Runtime>(handle: &AppHandle<R>, app: &App, event: Event) {
    let changed = matches!(event, Event::Changed);
    let emitted = match event {
        Event::SignInCode { .. } => {
            show_window(handle, "signIn");
            Ok(())
        }
        Event::SessionEnded { instance } => {
            if app.world.tell_of_session_end(&instance) {
                let name = app.world.settings().name_of(&instance);
                notify(
                    handle,
                    "AWS session ended",
                    &format!("Sign in again to {name} to keep your profiles fresh."),
                );
            }
            Ok(())
        }
        Event::SignInAsked {
            instance,
            program,
            first,
            notify: tell,
        } => {
            if first {
                show_window(handle, "signIn");
            }
            if tell {
                let name = app.world.settings().name_of(&instance);
                let program = display::capped(&program, 40);
                notify(
                    handle,
                    &format!("{program} needs AWS sign-in for {name}"),
                    &format!(
                        "Sign in in the AWS SSO Tray window; {program} goes on once you have."
                    ),
                );
            }
            Ok(())
        }
        Event::RenewalFailed {
            profile,
            message,
            first: true,
            ..
        } => {
            let what = profile.map_or("The session".to_owned(), |p| format!("Profile {p}"));
            notify(
                handle,
                "AWS profile renewal failed",
                &format!("{what}: {message}. Trying again shortly."),
            );
            Ok(())
        }
        Event::SettingsEntrySkipped(e) => {
            notify(
                handle,
                "A setting was skipped",
                &format!(
                    "{} Open Settings to see it.",
                    crate::error::sentence(&e.to_string())
                ),
            );
            Ok(())
        }
        Event::AccountsProgress { done, total, .. } => {
            handle.emit_to(WINDOW, names::ACCOUNTS_PROGRESS, Progress { done, total })
        }
        Event::ProfilesGenerated {
            created,
            updated,
            removed,
            ..
        } => handle.emit_to(
            WINDOW,
            names::PROFILES_GENERATED,
            ProfilesCount {
                created,
                updated,
                removed,
            },
        ),
        Event::ProfilesNotGenerated { instance, message } => {
            let name = app.world.settings().name_of(&instance);
            notify(
                handle,
                "AWS CLI profiles not updated",
                &format!(
                    "{name}: {} Open Settings to apply them again.",
                    crate::error::sentence(&message)
                ),
            );
            Ok(())
        }
        // The window shows the current access portal's accounts, no other's.
        Event::AccountsRolesRead { instance, .. } | Event::AccountsUpdated { instance }
            if app.current().ok().as_ref() != Some(&instance) =>
        {
            Ok(())
        }
        Event::AccountsRolesRead { accounts, .. } => handle.emit_to(
            WINDOW,
            names::ACCOUNTS_CHANGED,
            accounts.iter().map(AccountView::from).collect::<Vec<_>>(),
        ),
        Event::AccountsUpdated { instance } => match app.world.cached_accounts(&instance).await {
            Ok(a) => handle.emit_to(WINDOW, names::ACCOUNTS, AccountsView::from(a)),
            Err(e) => handle.emit_to(WINDOW, names::ERROR, CommandError::from(e)),
        },
        _ => Ok(()),
    };
    if let Err(e) = emitted {
        tracing::warn!(error = %e, "could not send an event to the window");
    }
    if changed {
        refresh(handle, app);
    }
}

/// The window's state and the tray, from the workspace's status now.
fn refresh<R: Runtime>(handle: &AppHandle<R>, app: &App) {
    send(handle, app.view());
}

fn send<R: Runtime>(handle: &AppHandle<R>, view: AppView) {
    refresh_tray(handle, TrayModel::from_view(&view));
    if let Err(e) = handle.emit_to(WINDOW, names::STATE, &view) {
        tracing::warn!(error = %e, "could not send an event to the window");
    }
    *lock(&handle.state::<Desktop>().sent) = Some(view);
}

/// The window's view again, only if it changed since it was last sent (on the clock's
/// tick an idle app sends nothing).
pub fn refresh_if_changed<R: Runtime>(handle: &AppHandle<R>, app: &App) {
    let view = app.view();
    if lock(&handle.state::<Desktop>().sent).as_ref() != Some(&view) {
        send(handle, view);
    }
}

/// Warns once per expiry when a session that cannot renew itself is about to end.
fn warn_of_ending_sessions<R: Runtime>(handle: &AppHandle<R>, app: &App) {
    let now = app.world.now();
    let status = app.world.status();
    let desktop = handle.state::<Desktop>();
    for s in &status.instances {
        let Some(expires_at) = s.expires_at else {
            continue;
        };
        let ending =
            s.phase == SessionPhase::SignedIn && session_ending_soon(s.renewable, expires_at, now);
        let mut warned = lock(&desktop.warned_for);
        if ending && warned.get(&s.settings.instance) != Some(&expires_at) {
            warned.insert(s.settings.instance.clone(), expires_at);
            let minutes = expires_at.duration_since(now).unwrap_or_default().as_secs() / 60;
            notify(
                handle,
                "AWS session ending",
                &format!(
                    "Your session with {} ends in {minutes} min. Sign in again to keep your profiles fresh.",
                    s.settings.name()
                ),
            );
        }
    }
}

/// A session that cannot renew itself, within the notice period of its end.
pub fn session_ending_soon(renewable: bool, expires_at: SystemTime, now: SystemTime) -> bool {
    !renewable
        && expires_at > now
        && expires_at.duration_since(now).unwrap_or_default() <= SESSION_ENDING_NOTICE
}

/// Rebuilds the tray when what it shows changed (so an idle app does no menu work).
fn refresh_tray<R: Runtime>(handle: &AppHandle<R>, model: TrayModel) {
    let desktop = handle.state::<Desktop>();
    let mut shown = lock(&desktop.tray);
    let Some(tray) = handle.tray_by_id(TRAY_ID) else {
        return;
    };
    if shown.as_ref() == Some(&model) {
        return;
    }
    let result = (|| {
        if shown.as_ref().map(|m| m.icon) != Some(model.icon) {
            tray.set_icon(Some(model.icon.image()?))?;
            tray.set_icon_as_template(TrayIcon::TEMPLATE)?;
        }
        tray.set_tooltip(Some(&model.tooltip))?;
        tray.set_menu(Some(build_menu(handle, &model.entries)?))
    })();
    match result {
        Ok(()) => *shown = Some(model),
        Err(e) => tracing::warn!(error = %e, "could not update the tray"),
    }
}

/// A desktop notification; its text is shown as text, whatever names are in it
/// (notification servers may render the body as markup).
fn notify<R: Runtime>(handle: &AppHandle<R>, title: &str, body: &str) {
    tracing::info!(%title, %body, "notification");
    let Some(n) = handle.try_state::<tauri_plugin_notification::Notification<R>>() else {
        return;
    };
    let (title, body) = (display::text(title), display::markup_text(body));
    if let Err(e) = n.builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

/// Shows the window on `view` and focuses it. The window exists only while it is open:
/// closing it ends its web view and the WebKit processes behind it, so the app in the
/// tray holds no web content (see `bench-app` for what that saves).
pub fn show_window<R: Runtime>(handle: &AppHandle<R>, view: &str) {
    let shown = match handle.get_webview_window(WINDOW) {
        Some(w) => w
            .show()
            .and_then(|()| w.unminimize())
            .and_then(|()| w.set_focus())
            .and_then(|()| handle.emit_to(WINDOW, names::SHOW_VIEW, view)),
        None => open_window(handle, view).map(|_| ()),
    };
    if let Err(e) = shown {
        tracing::warn!(error = %e, "could not show the window");
    }
}

/// Makes the window from the config, opening on `view` (passed in the address, since a
/// new page has no listener yet for `show-view`).
fn open_window<R: Runtime>(handle: &AppHandle<R>, view: &str) -> tauri::Result<WebviewWindow<R>> {
    let mut config = handle
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == WINDOW)
        .cloned()
        .ok_or(tauri::Error::WindowNotFound)?;
    config.url = WebviewUrl::App(format!("index.html#{view}").into());
    let mut builder = WebviewWindowBuilder::from_config(handle, &config)?;
    if let Some(dir) = handle
        .try_state::<Arc<App>>()
        .and_then(|a| a.webview_data_dir())
    {
        builder = builder.data_directory(dir);
    }
    builder.visible(true).focused(true).build()
}

/// Runs `work` in the background; a failure reaches the window as an `error` event.
fn in_background<R: Runtime, F>(handle: &AppHandle<R>, work: F)
where
    F: std::future::Future<Output = Result<(), CommandError>> + Send + 'static,
{
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = work.await {
            tracing::info!(code = ?e.code, message = %e.message, "tray action failed");
            if e.code == ErrorCode::SignInNeeded {
                show_window(&handle, "signIn");
            }
            if let Err(emit) = handle.emit_to(WINDOW, names::ERROR, e) {
                tracing::warn!(error = %emit, "could not send an event to the window");
            }
        }
    });
}

/// A click in the tray menu.
pub fn on_menu<R: Runtime>(handle: &AppHandle<R>, id: &str) {
    let Some(id) = MenuId::parse(id) else {
        return;
    };
    let app = handle.state::<Arc<App>>().inner().clone();
    match id {
        MenuId::SignIn => {
            // A window the person has open stays open: the sign-in closes only the one it
            // opens.
            let opens_window = handle.get_webview_window(WINDOW).is_none();
            show_window(handle, "signIn");
            if !app.world.signing_in() && app.view().instance.is_some() {
                handle
                    .state::<Desktop>()
                    .opened_for_sign_in
                    .store(opens_window, Ordering::SeqCst);
                let handle2 = handle.clone();
                in_background(handle, async move {
                    let signed_in = app.sign_in().await;
                    // The window closes when this sign-in, which opened it, succeeds;
                    // cancelled or failed, a later sign-in from the window is the
                    // window's own, and leaves it open.
                    let opened = handle2
                        .state::<Desktop>()
                        .opened_for_sign_in
                        .swap(false, Ordering::SeqCst);
                    if opened && signed_in.is_ok() {
                        if let Some(w) = handle2.get_webview_window(WINDOW) {
                            if let Err(e) = w.close() {
                                tracing::warn!(error = %e, "could not close the window");
                            }
                        }
                    }
                    signed_in
                });
            }
        }
        MenuId::SignOut => in_background(handle, async move { app.sign_out().await }),
        MenuId::Renew(profile) => {
            // Said at once in the tray ("renewing…"), until the outcome.
            let renewed = app.renew_now(profile);
            refresh(handle, &app);
            let handle2 = handle.clone();
            in_background(handle, async move {
                let renewed = renewed.await;
                refresh(&handle2, &app);
                renewed
            })
        }
        MenuId::Console(profile) => in_background(handle, async move {
            Ok(app
                .world
                .open_console(RoleTarget::Favourite(profile), &Default::default())
                .await?)
        }),
        MenuId::Browse | MenuId::Favourites | MenuId::Settings => {
            // The person uses the window now: a sign-in under way leaves it open.
            handle
                .state::<Desktop>()
                .opened_for_sign_in
                .store(false, Ordering::SeqCst);
            show_window(
                handle,
                match id {
                    MenuId::Browse => "accounts",
                    MenuId::Favourites => "favourites",
                    _ => "settings",
                },
            );
        }
        MenuId::Quit => handle.exit(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sso_device_auth_provider::clock::from_epoch_seconds;

    #[test]
    fn warns_only_for_sessions_that_cannot_renew_within_fifteen_minutes() {
        let now = from_epoch_seconds(1_800_000_000);
        let in_mins = |m: u64| now + Duration::from_secs(m * 60);
        assert!(session_ending_soon(false, in_mins(14), now));
        assert!(session_ending_soon(false, in_mins(15), now));
        assert!(!session_ending_soon(false, in_mins(16), now));
        assert!(!session_ending_soon(true, in_mins(5), now));
        assert!(!session_ending_soon(false, now, now));
    }
}
