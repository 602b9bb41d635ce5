//! The aws-sso-tray desktop app: a tray icon and a small window over the
//! `aws-sso-device-auth-provider` core's workspace. This crate only wires things
//! together: the commands the window calls (`commands`), what the window and the tray
//! show (`view`, `tray`), and the one place where the workspace's events reach the tray,
//! the window and notifications (`events`). It reads and writes no file itself, but for
//! its start-at-login entry (`autostart`), which is the app's alone.

pub mod autostart;
pub mod commands;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod events;
pub mod tray;
pub mod view;

use aws_sso_device_auth_provider::env::Env;
use aws_sso_device_auth_provider::workspace::{Options, Workspace};
use aws_sso_device_auth_provider::Instance;
use error::CommandResult;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use tauri::{Manager, Runtime};

/// The app's state: the user's workspace, the demo's emulator address in demo mode, and
/// whether the app starts at login.
#[derive(Debug)]
pub struct App {
    /// The user's world.
    pub world: Workspace,
    /// The emulator's address, in demo mode.
    pub demo: Option<String>,
    /// Start at login (the app's alone: the command line is never started at login).
    pub login: autostart::StartAtLogin,
    /// Renewals asked for whose call has not answered yet (profile → how many), shown as
    /// under way from the click on: the workspace shows them from its answer on.
    pub asked_renewals: Mutex<HashMap<String, usize>>,
}

impl App {
    /// The current (default) instance.
    pub fn current(&self) -> CommandResult<Instance> {
        Ok(self.world.default_instance()?)
    }

    /// Where the window's web view keeps its data (storage, caches): the system's
    /// default for the user's app; the demo's own home in demo mode, so that a demo
    /// leaves nothing behind.
    pub fn webview_data_dir(&self) -> Option<std::path::PathBuf> {
        self.demo.as_ref()?;
        Some(
            self.world
                .paths()
                .home()?
                .join(".local/share/aws-sso-tray/webview"),
        )
    }

    /// The view now (what `get_state` answers and the `state` event carries).
    pub fn view(&self) -> view::AppView {
        let mut view = view::AppView::of(&self.world, self.demo.as_deref(), &self.login);
        let asked = self
            .asked_renewals
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for f in &mut view.favourites {
            if asked.contains_key(&f.profile) && !f.renewing {
                f.renewing = true;
                f.status = aws_sso_device_auth_provider::workspace::words::renewing_line();
            }
        }
        view
    }

    /// Renews `profile` now: it shows as renewing from this call on (before the returned
    /// work has begun), until the outcome.
    pub fn renew_now(
        self: &Arc<Self>,
        profile: String,
    ) -> impl std::future::Future<Output = CommandResult<()>> + Send + 'static {
        let can = self
            .view()
            .favourites
            .iter()
            .any(|f| f.profile == profile && f.status.next.is_none());
        if can {
            *self
                .asked_renewals
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(profile.clone())
                .or_default() += 1;
        }
        let app = self.clone();
        async move {
            let renewed = app.world.renew_now(&profile).await;
            if can {
                let mut asked = app.asked_renewals.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(n) = asked.get_mut(&profile) {
                    *n -= 1;
                    if *n == 0 {
                        asked.remove(&profile);
                    }
                }
            }
            Ok(renewed?)
        }
    }

    /// Signs in to the current instance.
    pub async fn sign_in(&self) -> CommandResult<()> {
        self.world.sign_in(&self.current()?, None).await?;
        Ok(())
    }

    /// Signs out of the current instance (a clean-up that failed is reported; the
    /// session is over either way).
    pub async fn sign_out(&self) -> CommandResult<()> {
        let signed_out = self.world.sign_out(&self.current()?).await?;
        match signed_out.cleanup_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// How the desktop side starts.
#[derive(Debug, Clone, Copy)]
pub struct Launch {
    /// Make the tray icon (tests without a desktop leave it out).
    pub tray: bool,
    /// Open the window at once (not when started at login).
    pub show_window: bool,
}

/// The workspace options of the app: `aws-sso-auth` beside the app's own program, for
/// `credential_process` profiles.
pub fn options(env: Env) -> Options {
    let mut options = Options::new(env);
    options.cli = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()
                .map(|d| d.join(format!("aws-sso-auth{}", std::env::consts::EXE_SUFFIX)))
        })
        .filter(|p| p.is_file());
    options
}

/// The app's commands and its set-up, on any runtime (the mock runtime in tests).
pub fn builder<R: Runtime>(
    builder: tauri::Builder<R>,
    options: Options,
    demo: Option<String>,
    launch: Launch,
) -> tauri::Builder<R> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::decline_sign_in,
            commands::open_sign_in_page,
            commands::sign_out,
            commands::get_accounts,
            commands::refresh_accounts,
            commands::prioritise_accounts,
            commands::generate_profiles,
            commands::add_favourite,
            commands::edit_favourite,
            commands::remove_favourite,
            commands::kubeconfig_entries,
            commands::eks_clusters,
            commands::add_to_kubeconfig,
            commands::suggest_profile_name,
            commands::remove_profile,
            commands::write_profile,
            commands::renew_now,
            commands::open_console,
            commands::open_role_console,
            commands::console_choices,
            commands::set_favourite_console,
            commands::set_portal_browser,
            commands::set_preferences,
            commands::set_start_at_login,
            commands::add_instance,
            commands::configured_portals,
            commands::import_aws_config,
            commands::import_aws_config_portal,
            commands::remove_instance,
            commands::set_default_instance,
            commands::stop_exec_session,
        ])
        .setup(move |handle| {
            // macOS: a menu-bar app, without a Dock icon or an app menu.
            #[cfg(target_os = "macos")]
            handle.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let world = tauri::async_runtime::block_on(async move {
                let world = Workspace::open(options).await?;
                world.keep_fresh().await;
                Ok::<_, aws_sso_device_auth_provider::Error>(world)
            })?;
            let login =
                autostart::StartAtLogin::open(handle.handle(), world.paths().autostart_entry());
            let app = Arc::new(App {
                world,
                demo,
                login,
                asked_renewals: Mutex::default(),
            });
            let view = app.view();
            handle.manage(app.clone());
            events::start(handle.handle(), app.clone(), launch.tray)?;
            // Other programs of the user ask here for a sign-in instead of starting one
            // nobody sees.
            let world = app.world.clone();
            tauri::async_runtime::spawn(async move { world.serve_sign_in_requests().await });
            // And `aws-sso-auth exec` asks here for its command's credentials: the app
            // serves them from its session, for the window to list and stop. (Elsewhere
            // than on Unix, `exec` serves its command by itself.)
            let world = app.world.clone();
            tauri::async_runtime::spawn(async move { world.serve_exec_requests().await });
            // First run (nothing set up) always opens the window, on the welcome; otherwise
            // as asked.
            if view.instance.is_none() {
                events::show_window(handle.handle(), "signIn");
            } else if launch.show_window {
                let signed_in = view.session.state == view::Phase::SignedIn;
                events::show_window(
                    handle.handle(),
                    if signed_in { "accounts" } else { "signIn" },
                );
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
              (in builds with the demo feature, as scripts/demo makes)
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

/// What runs the app: the user's own world, or the demo's.
struct World {
    options: Options,
    demo_url: Option<String>,
    /// Keeps the demo's emulator and throw-away home until the app ends.
    #[cfg(feature = "demo")]
    demo: Option<demo::Demo>,
}

fn world(demo: bool) -> Result<World, String> {
    if !demo {
        return Ok(World {
            options: options(Env::process()),
            demo_url: None,
            #[cfg(feature = "demo")]
            demo: None,
        });
    }
    #[cfg(feature = "demo")]
    {
        let (d, options) = tauri::async_runtime::block_on(demo::start())
            .map_err(|e| format!("could not start the demo: {e}"))?;
        Ok(World {
            options,
            demo_url: Some(d.emulator.endpoint()),
            demo: Some(d),
        })
    }
    #[cfg(not(feature = "demo"))]
    Err("this build has no demo mode; build it with `--features demo` (scripts/demo does)".into())
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
    #[cfg_attr(not(feature = "demo"), allow(unused_mut))]
    let mut world = match world(demo) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("aws-sso-tray: {e}");
            return ExitCode::from(2);
        }
    };
    match aws_sso_device_auth_provider::paths::Paths::from_env(&world.options.env) {
        Ok(paths) => {
            let log = paths.log_file("aws-sso-tray");
            match aws_sso_device_auth_provider::logging::init_file(&log, "AWS_SSO_TRAY_LOG", "info")
            {
                Ok(()) => eprintln!("aws-sso-tray: logging to {}", log.display()),
                Err(e) => eprintln!("aws-sso-tray: cannot log to {}: {e}", log.display()),
            }
        }
        Err(e) => eprintln!("aws-sso-tray: cannot log: {e}"),
    }
    tracing::info!(demo, version = env!("CARGO_PKG_VERSION"), "starting");
    let mut builder = tauri::Builder::default().plugin(tauri_plugin_notification::init());
    if !demo {
        // A second launch focuses the first. (The demo may run beside the real app, and
        // leaves the user's login items alone.)
        builder = builder
            .plugin(tauri_plugin_single_instance::init(|handle, _argv, _cwd| {
                events::show_window(handle, "accounts");
            }))
            .plugin(autostart::plugin());
    }
    let launch = Launch {
        tray: true,
        show_window: !hidden,
    };
    let app = match self::builder(
        builder,
        world.options.clone(),
        world.demo_url.clone(),
        launch,
    )
    .build(tauri::generate_context!("../tauri.conf.json"))
    {
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
            let workspace = &handle.state::<Arc<App>>().world;
            match tauri::async_runtime::block_on(workspace.on_quit()) {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(
                        count = removed.len(),
                        "removed the favourites' profiles on quit"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not remove the profiles on quit"),
            }
            tracing::info!("quit");
            // The process ends right after this event, without running destructors:
            // the demo's emulator and throw-away home go now.
            #[cfg(feature = "demo")]
            drop(world.demo.take());
        }
        _ => {}
    });
    ExitCode::SUCCESS
}
