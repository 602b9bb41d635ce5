//! The aws-sso-tray desktop app: a tray icon and a small window over the
//! `aws-sso-device-auth-provider` core. This crate only wires things together: the state
//! (`state`), the commands the window calls (`commands`), and the one place where changes
//! reach the tray, the window and notifications (`events`).

pub mod autostart;
pub mod commands;
#[cfg(feature = "demo")]
pub mod demo;
pub mod env;
pub mod error;
pub mod events;
pub mod state;
pub mod tray;
pub mod view;

use aws_sso_device_auth_provider::renewer::RenewerConfig;
use aws_sso_device_auth_provider::settings::state_dir;
use aws_sso_device_auth_provider::KeychainStore;
use env::Env;
use state::{AppState, Options};
use std::process::ExitCode;
use std::sync::Arc;
use tauri::{Manager, Runtime};

/// How the desktop side starts.
#[derive(Debug, Clone, Copy)]
pub struct Launch {
    /// Make the tray icon (tests without a desktop leave it out).
    pub tray: bool,
    /// Open the window at once (not when started at login).
    pub show_window: bool,
}

/// The app's commands and its set-up, on any runtime (the mock runtime in tests).
pub fn builder<R: Runtime>(
    builder: tauri::Builder<R>,
    options: Options,
    launch: Launch,
) -> tauri::Builder<R> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::open_sign_in_page,
            commands::sign_out,
            commands::get_accounts,
            commands::refresh_accounts,
            commands::add_favourite,
            commands::remove_favourite,
            commands::write_profile,
            commands::renew_now,
            commands::open_console,
            commands::set_preferences,
            commands::set_start_at_login,
            commands::add_instance,
            commands::remove_instance,
            commands::set_default_instance,
        ])
        .setup(move |app| {
            // The state starts background tasks: inside the async runtime.
            let state = tauri::async_runtime::block_on(async move { AppState::start(options) })?;
            let view = state.view();
            app.manage(state.clone());
            events::start(app.handle(), state, launch.tray)?;
            // First run (nothing set up) always opens the window; otherwise as asked.
            if view.instance.is_none() {
                events::show_window(app.handle(), "settings");
            } else if launch.show_window {
                let signed_in = view.session.state == view::SessionPhase::SignedIn;
                events::show_window(app.handle(), if signed_in { "accounts" } else { "signIn" });
            }
            Ok(())
        })
}

const USAGE: &str = "\
Usage: aws-sso-tray [--demo] [--hidden]

Keeps your AWS IAM Identity Center (AWS SSO) sign-in and your favourite profiles in
~/.aws/credentials fresh, from the tray.

  --demo      run against a built-in emulated AWS organisation, in a throw-away home
              and an in-memory keychain: nothing touches your ~/.aws, settings or keychain
  --hidden    start in the tray without opening the window (as at login)
  --help      show this help
  --version   show the version

Logs: $XDG_STATE_HOME/aws-sso-tray/aws-sso-tray.log (level from AWS_SSO_TRAY_LOG, e.g. debug).
";

/// SIGTERM or SIGINT (Ctrl-C elsewhere).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The app's entry point.
pub fn main() -> ExitCode {
    let (mut demo, mut hidden) = (false, false);
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--demo" => demo = true,
            "--hidden" => hidden = true,
            "--help" | "-h" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--version" | "-V" => {
                println!("aws-sso-tray {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("aws-sso-tray: unknown argument '{other}'\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    #[cfg(not(feature = "demo"))]
    let (mut demo_world, options) = if demo {
        eprintln!("aws-sso-tray: this build has no demo mode; build it with `--features demo` (scripts/demo does)");
        return ExitCode::from(2);
    } else {
        let env = Env::process();
        (
            None::<()>,
            Options {
                autostart: autostart::Autostart::from_env(&env),
                env,
                store: Arc::new(KeychainStore::new()),
                renewer: RenewerConfig::default(),
                fixed_margins: None,
                demo: None,
            },
        )
    };
    #[cfg(feature = "demo")]
    let (mut demo_world, options) = if demo {
        match tauri::async_runtime::block_on(demo::start()) {
            Ok((d, options)) => (Some(d), options),
            Err(e) => {
                eprintln!("aws-sso-tray: could not start the demo: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let env = Env::process();
        (
            None,
            Options {
                autostart: autostart::Autostart::from_env(&env),
                env,
                store: Arc::new(KeychainStore::new()),
                renewer: RenewerConfig::default(),
                fixed_margins: None,
                demo: None,
            },
        )
    };
    if let Some(dir) = state_dir(options.env.lookup()) {
        let log = dir.join("aws-sso-tray.log");
        match aws_sso_device_auth_provider::logging::init_file(&log, "AWS_SSO_TRAY_LOG", "info") {
            Ok(()) => eprintln!("aws-sso-tray: logging to {}", log.display()),
            Err(e) => eprintln!("aws-sso-tray: cannot log to {}: {e}", log.display()),
        }
    }
    tracing::info!(demo, version = env!("CARGO_PKG_VERSION"), "starting");
    let mut app = tauri::Builder::default().plugin(tauri_plugin_notification::init());
    if !demo {
        // A second launch focuses the first. (The demo may run beside the real app.)
        app = app.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            events::show_window(app, "accounts");
        }));
    }
    let launch = Launch {
        tray: true,
        show_window: !hidden,
    };
    let app =
        match builder(app, options, launch).build(tauri::generate_context!("../tauri.conf.json")) {
            Ok(app) => app,
            Err(e) => {
                eprintln!("aws-sso-tray: could not start: {e}");
                return ExitCode::FAILURE;
            }
        };
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        // A logout or `kill` ends the app as Quit does: profiles removed if asked, the
        // demo's home deleted.
        terminated().await;
        handle.exit(0);
    });
    app.run(move |handle, event| match event {
        // Closing the window ends it (and its web view) but not the app, which stays in
        // the tray; Quit ends the app (with a code).
        tauri::RunEvent::ExitRequested {
            api, code: None, ..
        } => api.prevent_exit(),
        tauri::RunEvent::Exit => {
            if let Err(e) = handle.state::<Arc<AppState>>().on_quit() {
                tracing::warn!(error = %e, "could not remove the profiles on quit");
            }
            tracing::info!("quit");
            // The process ends right after this event, without running destructors:
            // the demo's emulator and throw-away home go now.
            drop(demo_world.take());
        }
        _ => {}
    });
    ExitCode::SUCCESS
}
