//! The one place where the app's changes reach the desktop: the window's events, the
//! tray's menu and icon, notifications; and where tray clicks become actions.

use crate::error::CommandError;
use crate::state::{AppState, Change};
use crate::tray::{build_menu, MenuId, TrayModel};
use crate::view::ms;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::tray::TrayIconBuilder;
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
    /// Which view to show (`"signIn"`, `"accounts"`, `"favourites"`, `"settings"`).
    pub const SHOW_VIEW: &str = "show-view";
    /// A failure of something started from the tray (`CommandError`).
    pub const ERROR: &str = "error";
}

/// The desktop's side of the app: what the tray shows now, and whether the window was
/// opened just for a sign-in (and so closes itself when it succeeds).
#[derive(Default)]
pub struct Desktop {
    tray: Mutex<Option<TrayModel>>,
    opened_for_sign_in: AtomicBool,
}

/// Seconds between rebuilding the relative times in the tray and checking for a session
/// about to end.
const TICK: Duration = Duration::from_secs(30);
/// How often to compare the wall clock with the monotonic one, to notice a resume.
const RESUME_CHECK: Duration = Duration::from_secs(5);

/// Creates the tray and forwards the state's changes until the app ends.
pub fn start<R: Runtime>(
    app: &AppHandle<R>,
    state: Arc<AppState>,
    with_tray: bool,
) -> tauri::Result<()> {
    app.manage(Desktop::default());
    if with_tray {
        let model = TrayModel::from_view(&state.view(), ms(state.now()));
        let menu = build_menu(app, &model.entries)?;
        TrayIconBuilder::with_id(TRAY_ID)
            .icon(model.icon.image()?)
            .tooltip(&model.tooltip)
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
            .build(app)?;
        *app.state::<Desktop>()
            .tray
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(model);
        tracing::info!("tray ready");
    }
    let mut rx = state.subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut every = tokio::time::interval(RESUME_CHECK);
        let (mut wall, mut mono, mut last_tick) = (state.now(), Instant::now(), Instant::now());
        loop {
            tokio::select! {
                change = rx.recv() => match change {
                    Ok(change) => apply(&app, &state, change),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => apply(&app, &state, Change::View),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = every.tick() => {
                    // The monotonic clock stands still while suspended; the wall clock
                    // does not. A gap means a resume: renew what came due at once.
                    let (now_wall, now_mono) = (state.now(), Instant::now());
                    let walled = now_wall.duration_since(wall).unwrap_or_default();
                    if walled > now_mono.duration_since(mono) + RESUME_CHECK {
                        tracing::info!(gap_secs = walled.as_secs(), "resumed; renewing what is due");
                        state.wake();
                    }
                    (wall, mono) = (now_wall, now_mono);
                    if now_mono.duration_since(last_tick) >= TICK {
                        last_tick = now_mono;
                        state.tick();
                    }
                }
            }
        }
    });
    Ok(())
}

/// One change, shown.
fn apply<R: Runtime>(app: &AppHandle<R>, state: &AppState, change: Change) {
    let emitted = match change {
        Change::View => {
            let view = state.view();
            refresh_tray(app, TrayModel::from_view(&view, ms(state.now())));
            app.emit_to(WINDOW, names::STATE, view)
        }
        Change::SignInCode => {
            show_window(app, "signIn");
            Ok(())
        }
        Change::SignedIn => {
            if app
                .state::<Desktop>()
                .opened_for_sign_in
                .swap(false, Ordering::SeqCst)
            {
                if let Some(w) = app.get_webview_window(WINDOW) {
                    if let Err(e) = w.close() {
                        tracing::warn!(error = %e, "could not close the window");
                    }
                }
            }
            Ok(())
        }
        Change::Notice { title, body } => {
            notify(app, &title, &body);
            Ok(())
        }
        Change::AccountsProgress(p) => app.emit_to(WINDOW, names::ACCOUNTS_PROGRESS, p),
        Change::Accounts(v) => app.emit_to(WINDOW, names::ACCOUNTS, v),
    };
    if let Err(e) = emitted {
        tracing::warn!(error = %e, "could not send an event to the window");
    }
}

/// Rebuilds the tray when what it shows changed (so an idle app does no menu work).
fn refresh_tray<R: Runtime>(app: &AppHandle<R>, model: TrayModel) {
    let desktop = app.state::<Desktop>();
    let mut shown = desktop.tray.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    if shown.as_ref() == Some(&model) {
        return;
    }
    let result = (|| {
        if shown.as_ref().map(|m| m.icon) != Some(model.icon) {
            tray.set_icon(Some(model.icon.image()?))?;
        }
        tray.set_tooltip(Some(&model.tooltip))?;
        tray.set_menu(Some(build_menu(app, &model.entries)?))
    })();
    match result {
        Ok(()) => *shown = Some(model),
        Err(e) => tracing::warn!(error = %e, "could not update the tray"),
    }
}

fn notify<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    tracing::info!(%title, %body, "notification");
    let Some(n) = app.try_state::<tauri_plugin_notification::Notification<R>>() else {
        return;
    };
    if let Err(e) = n.builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

/// Shows the window on `view` and focuses it. The window exists only while it is open:
/// closing it ends its web view and the WebKit processes behind it, so the app in the
/// tray holds no web content (see `bench-app` for what that saves).
pub fn show_window<R: Runtime>(app: &AppHandle<R>, view: &str) {
    let shown = match app.get_webview_window(WINDOW) {
        Some(w) => w
            .show()
            .and_then(|()| w.unminimize())
            .and_then(|()| w.set_focus())
            .and_then(|()| app.emit_to(WINDOW, names::SHOW_VIEW, view)),
        None => open_window(app, view).map(|_| ()),
    };
    if let Err(e) = shown {
        tracing::warn!(error = %e, "could not show the window");
    }
}

/// Makes the window from the config, opening on `view` (passed in the address, since a
/// new page has no listener yet for `show-view`).
fn open_window<R: Runtime>(app: &AppHandle<R>, view: &str) -> tauri::Result<WebviewWindow<R>> {
    let mut config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == WINDOW)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    config.url = WebviewUrl::App(format!("index.html#{view}").into());
    WebviewWindowBuilder::from_config(app, &config)?
        .visible(true)
        .focused(true)
        .build()
}

/// Runs `work` in the background; a failure reaches the window as an `error` event.
fn in_background<R: Runtime, F>(app: &AppHandle<R>, work: F)
where
    F: std::future::Future<Output = Result<(), CommandError>> + Send + 'static,
{
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = work.await {
            tracing::info!(code = ?e.code, message = %e.message, "tray action failed");
            if e.code == crate::error::ErrorCode::SignInNeeded {
                show_window(&app, "signIn");
            }
            if let Err(emit) = app.emit_to(WINDOW, names::ERROR, e) {
                tracing::warn!(error = %emit, "could not send an event to the window");
            }
        }
    });
}

/// A click in the tray menu.
pub fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let Some(id) = MenuId::parse(id) else {
        return;
    };
    let state = app.state::<Arc<AppState>>().inner().clone();
    match id {
        MenuId::SignIn => {
            show_window(app, "signIn");
            if !state.signing_in() && state.view().instance.is_some() {
                app.state::<Desktop>()
                    .opened_for_sign_in
                    .store(true, Ordering::SeqCst);
                in_background(app, async move { state.sign_in().await });
            }
        }
        MenuId::SignOut => in_background(app, async move { state.sign_out().await }),
        MenuId::Renew(profile) => in_background(app, async move { state.renew_now(&profile) }),
        MenuId::Console(profile) => {
            in_background(app, async move { state.open_console(&profile).await })
        }
        MenuId::Browse => show_window(app, "accounts"),
        MenuId::Favourites => show_window(app, "favourites"),
        MenuId::Settings => show_window(app, "settings"),
        MenuId::Quit => app.exit(0),
    }
}
