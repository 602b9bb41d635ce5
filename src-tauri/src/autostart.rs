//! Start at login, through Tauri's autostart plugin: a launch agent on macOS, the `Run`
//! registry value on Windows, an XDG autostart entry (`~/.config/autostart`) on Linux,
//! each starting the app with `--hidden`, so that it comes up in the tray.
//!
//! Versions up to 0.1 wrote the Linux entry themselves, at
//! [`Paths::autostart_entry`](aws_sso_device_auth_provider::paths::Paths::autostart_entry);
//! such an entry is handed over to the plugin once, when the app starts
//! ([`StartAtLogin::open`]). The demo has no start at login: it must not touch the
//! user's login items.

use crate::error::{CommandError, CommandResult, ErrorCode};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::{AutoLaunchManager, ManagerExt};

/// The name of the entry (`aws-sso-tray.desktop` on Linux, the launch agent's label on
/// macOS, the registry value's name on Windows).
const ENTRY_NAME: &str = "aws-sso-tray";

/// What a person reads in the desktop's list of programs started at login (the plugin
/// would show [`ENTRY_NAME`]), and the entry's comment: not the one versions up to 0.1
/// wrote, so the entry is never taken for theirs ([`is_legacy`]).
#[cfg(target_os = "linux")]
const ENTRY_TITLE: [&str; 2] = [
    "Name=AWS SSO Tray",
    "Comment=Starts AWS SSO Tray in the tray at login",
];

/// The plugin, set up to start this program hidden.
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new()
        .app_name(ENTRY_NAME)
        .arg("--hidden")
        .build()
}

/// Whether the app starts at login, as last read or set: read once when the app starts
/// (the view is made many times a minute) and kept in step by [`StartAtLogin::set`].
#[derive(Debug, Default)]
pub struct StartAtLogin {
    enabled: AtomicBool,
    /// False where the plugin is not registered (the demo, tests on the mock runtime).
    available: bool,
}

impl StartAtLogin {
    /// Hands an entry of an earlier version over to the plugin, then reads whether the app
    /// starts at login. A failure is logged: the app runs all the same.
    pub fn open<R: Runtime>(handle: &AppHandle<R>, legacy_entry: &Path) -> Self {
        let Some(manager) = handle.try_state::<AutoLaunchManager>() else {
            return Self::default();
        };
        let enable = || {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            check_launchable(&exe).map_err(|e| e.message)?;
            manager.enable().map_err(|e| e.to_string())?;
            title_plugin_entry()
        };
        match migrate(legacy_entry, enable) {
            Ok(Migrated::Enabled) => tracing::info!(
                entry = %legacy_entry.display(),
                "start at login: the earlier version's entry is now the autostart plugin's"
            ),
            Ok(Migrated::Removed) => tracing::info!(
                entry = %legacy_entry.display(),
                "start at login: removed the earlier version's disabled entry"
            ),
            Ok(Migrated::Nothing) => {}
            Err(e) => {
                tracing::warn!(error = %e, "start at login: could not migrate the earlier entry")
            }
        }
        let enabled = manager.is_enabled().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "start at login: could not read whether it is on");
            false
        });
        Self {
            enabled: AtomicBool::new(enabled),
            available: true,
        }
    }

    /// Whether the app starts at login.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Whether this run can change it (not in the demo).
    pub fn is_available(&self) -> bool {
        self.available
    }

    /// Starts the app at login (hidden), or stops doing so. The change (a file, a
    /// property list or a registry value) is made off the async runtime.
    pub async fn set<R: Runtime>(&self, handle: AppHandle<R>, enabled: bool) -> CommandResult<()> {
        if !self.available {
            return Err(CommandError {
                code: ErrorCode::InvalidInput,
                message: "Start at login is not available in the demo: it would change your \
                          own login items. Run the installed app to turn it on."
                    .into(),
            });
        }
        let failed = move |e: String| CommandError {
            code: ErrorCode::Files,
            message: format!(
                "Could not {} start at login: {e}. Try again; if it keeps failing, look at \
                 your desktop's list of startup applications.",
                if enabled { "turn on" } else { "turn off" }
            ),
        };
        tauri::async_runtime::spawn_blocking(move || {
            let manager = handle.autolaunch();
            if enabled {
                check_launchable(&std::env::current_exe().map_err(|e| failed(e.to_string()))?)?;
                manager.enable().map_err(|e| failed(e.to_string()))?;
                title_plugin_entry().map_err(failed)
            } else {
                manager.disable().map_err(|e| failed(e.to_string()))
            }
        })
        .await
        .map_err(|e| failed(e.to_string()))??;
        self.enabled.store(enabled, Ordering::Relaxed);
        Ok(())
    }
}

/// On Linux the plugin writes the program's path into the entry's `Exec` line unquoted,
/// so a path with a space or a character the desktop entry specification reserves would
/// start something else, or nothing: refused, with what to do.
#[cfg(target_os = "linux")]
fn check_launchable(exe: &Path) -> CommandResult<()> {
    const RESERVED: &[char] = &[
        ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(',
        ')', '`', '%',
    ];
    let path = exe.to_string_lossy();
    if path.contains(RESERVED) {
        return Err(CommandError {
            code: ErrorCode::InvalidInput,
            message: format!(
                "Start at login cannot start the app from {}: its path has a space or a \
                 character that login entries cannot hold. Install the package, or move \
                 the app to a folder whose path has none, then turn it on again.",
                aws_sso_device_auth_provider::display::text(&path)
            ),
        });
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn check_launchable(_exe: &Path) -> CommandResult<()> {
    Ok(())
}

/// Gives the entry the plugin has just written the product's name: on Linux it names
/// the entry after its file (`Name=aws-sso-tray`), in `~/.config/autostart`.
#[cfg(target_os = "linux")]
fn title_plugin_entry() -> Result<(), String> {
    let Some(home) = aws_sso_device_auth_provider::env::home_dir(|k| std::env::var(k).ok()) else {
        return Ok(());
    };
    let entry = home
        .join(".config/autostart")
        .join(format!("{ENTRY_NAME}.desktop"));
    title_entry(&entry)
}

#[cfg(not(target_os = "linux"))]
fn title_plugin_entry() -> Result<(), String> {
    Ok(())
}

/// Rewrites the `Name` and `Comment` lines of the desktop entry at `path` to
/// [`ENTRY_TITLE`]'s; the rest (the `Exec` line above all) is kept as it is.
#[cfg(target_os = "linux")]
fn title_entry(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
    let [name, comment] = ENTRY_TITLE;
    let mut titled: String = text
        .lines()
        .map(|l| {
            if l.starts_with("Name=") {
                name
            } else if l.starts_with("Comment=") {
                comment
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    titled.push('\n');
    if titled != text {
        std::fs::write(path, titled)
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Migrated {
    /// No entry of an earlier version.
    Nothing,
    /// It was on: the plugin's entry replaces it.
    Enabled,
    /// It was turned off in the desktop's settings: removed, and left off.
    Removed,
}

/// Replaces the entry versions up to 0.1 wrote at `legacy` (recognised by its
/// `Name` and `Comment` lines, so a file of the user's or the plugin's own is never
/// touched) by the plugin's (`enable`), which starts the program running now. The plugin
/// writes `~/.config/autostart/aws-sso-tray.desktop`: usually the same file, which is
/// then simply rewritten; where `XDG_CONFIG_HOME` points elsewhere, the old one goes.
fn migrate(legacy: &Path, enable: impl FnOnce() -> Result<(), String>) -> Result<Migrated, String> {
    let Ok(text) = std::fs::read_to_string(legacy) else {
        return Ok(Migrated::Nothing);
    };
    if !is_legacy(&text) {
        return Ok(Migrated::Nothing);
    }
    let remove = || match std::fs::remove_file(legacy) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("could not remove {}: {e}", legacy.display()))
        }
        _ => Ok(()),
    };
    if text
        .lines()
        .any(|l| l.trim() == "X-GNOME-Autostart-enabled=false")
    {
        remove()?;
        return Ok(Migrated::Removed);
    }
    enable()?;
    if std::fs::read_to_string(legacy).is_ok_and(|t| is_legacy(&t)) {
        remove()?;
    }
    Ok(Migrated::Enabled)
}

fn is_legacy(text: &str) -> bool {
    let has = |line: &str| text.lines().any(|l| l.trim_end() == line);
    has("Name=AWS SSO tray")
        && has("Comment=Keeps your AWS IAM Identity Center sign-in and profiles fresh")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What versions up to 0.1 wrote.
    const LEGACY: &str = "[Desktop Entry]\nType=Application\nName=AWS SSO tray\nComment=Keeps your AWS IAM Identity Center sign-in and profiles fresh\nExec=\"/opt/old place/aws-sso-tray\" --hidden\nIcon=aws-sso-tray\nTerminal=false\nX-GNOME-Autostart-enabled=true\n";

    fn plugin_writes(path: &Path) -> impl FnOnce() -> Result<(), String> + '_ {
        move || {
            std::fs::write(
                path,
                "[Desktop Entry]\nName=aws-sso-tray\nExec=/usr/bin/aws-sso-tray --hidden",
            )
            .map_err(|e| e.to_string())
        }
    }

    #[test]
    fn an_entry_of_an_earlier_version_becomes_the_plugin_s_in_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("aws-sso-tray.desktop");
        std::fs::write(&entry, LEGACY).unwrap();
        assert_eq!(
            migrate(&entry, plugin_writes(&entry)),
            Ok(Migrated::Enabled)
        );
        let now = std::fs::read_to_string(&entry).unwrap();
        assert!(now.contains("Exec=/usr/bin/aws-sso-tray --hidden"), "{now}");
        // Once only: the plugin's entry is not migrated again.
        assert_eq!(
            migrate(&entry, || Err("called again".into())),
            Ok(Migrated::Nothing)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_plugin_s_entry_says_the_product_s_name_and_is_not_taken_for_0_1_s() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("aws-sso-tray.desktop");
        std::fs::write(&entry, LEGACY).unwrap();
        let enable = || {
            // What the plugin writes, then the title it is given.
            std::fs::write(
                &entry,
                "[Desktop Entry]\nType=Application\nVersion=1.0\nName=aws-sso-tray\n\
                 Comment=aws-sso-tray startup script\nExec=/usr/bin/aws-sso-tray --hidden\n\
                 StartupNotify=false\nTerminal=false",
            )
            .map_err(|e| e.to_string())?;
            title_entry(&entry)
        };
        assert_eq!(migrate(&entry, enable), Ok(Migrated::Enabled));
        let now = std::fs::read_to_string(&entry).unwrap();
        let lines: Vec<&str> = now.lines().collect();
        assert!(lines.contains(&"Name=AWS SSO Tray"), "{now}");
        assert!(
            lines.contains(&"Exec=/usr/bin/aws-sso-tray --hidden"),
            "{now}"
        );
        assert!(!now.contains("aws-sso-tray startup script"), "{now}");
        // Kept, and handed over once only.
        assert!(entry.exists());
        assert_eq!(
            migrate(&entry, || Err("called again".into())),
            Ok(Migrated::Nothing)
        );
    }

    #[test]
    fn an_entry_elsewhere_goes_once_the_plugin_s_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("xdg/autostart/aws-sso-tray.desktop");
        let plugin_s = dir.path().join("home-autostart.desktop");
        std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        std::fs::write(&legacy, LEGACY.replace('\n', "\r\n")).unwrap();
        assert_eq!(
            migrate(&legacy, plugin_writes(&plugin_s)),
            Ok(Migrated::Enabled)
        );
        assert!(!legacy.exists());
        assert!(plugin_s.exists());
    }

    #[test]
    fn a_failed_enable_keeps_the_old_entry() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("aws-sso-tray.desktop");
        std::fs::write(&entry, LEGACY).unwrap();
        assert_eq!(
            migrate(&entry, || Err("no home".into())),
            Err("no home".into())
        );
        assert_eq!(std::fs::read_to_string(&entry).unwrap(), LEGACY);
    }

    #[test]
    fn an_entry_turned_off_on_the_desktop_stays_off() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("aws-sso-tray.desktop");
        std::fs::write(
            &entry,
            LEGACY.replace("Autostart-enabled=true", "Autostart-enabled=false"),
        )
        .unwrap();
        assert_eq!(
            migrate(&entry, || Err("must not enable".into())),
            Ok(Migrated::Removed)
        );
        assert!(!entry.exists());
    }

    #[test]
    fn no_entry_or_one_of_the_user_s_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("aws-sso-tray.desktop");
        let never = || Err("must not enable".to_owned());
        assert_eq!(migrate(&entry, never), Ok(Migrated::Nothing));
        let own = "[Desktop Entry]\nName=AWS SSO tray\nExec=my-wrapper\n";
        std::fs::write(&entry, own).unwrap();
        assert_eq!(migrate(&entry, never), Ok(Migrated::Nothing));
        assert_eq!(std::fs::read_to_string(&entry).unwrap(), own);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_path_the_entry_cannot_hold_is_refused_with_what_to_do() {
        assert!(check_launchable(Path::new("/usr/bin/aws-sso-tray")).is_ok());
        assert!(check_launchable(Path::new("/home/me/.local/bin/aws-sso-tray")).is_ok());
        let e = check_launchable(Path::new("/home/me/My Apps/aws-sso-tray")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("Install the package"), "{}", e.message);
        assert!(check_launchable(Path::new("/opt/$x/aws-sso-tray")).is_err());
    }
}
