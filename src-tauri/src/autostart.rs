//! Start at login, the freedesktop way: a desktop entry in `$XDG_CONFIG_HOME/autostart`
//! (which GNOME, KDE, Xfce and others read). Opt-in; absent means off.

use crate::env::Env;
use aws_sso_device_auth_provider::Error;
use std::path::{Path, PathBuf};

/// The autostart entry's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autostart {
    entry: Option<PathBuf>,
}

impl Autostart {
    /// The entry under `$XDG_CONFIG_HOME/autostart`, else `$HOME/.config/autostart`.
    pub fn from_env(env: &Env) -> Self {
        let dir = env
            .get("XDG_CONFIG_HOME")
            .filter(|d| Path::new(d).is_absolute())
            .map(PathBuf::from)
            .or_else(|| env.home().map(|h| h.join(".config")));
        Self {
            entry: dir.map(|d| d.join("autostart/aws-sso-tray.desktop")),
        }
    }

    /// Whether the app starts at login.
    pub fn is_enabled(&self) -> bool {
        self.entry.as_deref().is_some_and(Path::is_file)
    }

    /// Starts `exe` at login, or stops doing so.
    pub fn set(&self, enabled: bool, exe: &Path) -> Result<(), Error> {
        let Some(entry) = &self.entry else {
            return Err(Error::Settings {
                path: PathBuf::from("$HOME/.config/autostart"),
                detail: "neither XDG_CONFIG_HOME nor HOME is set".into(),
            });
        };
        let io = |action, source| Error::Io {
            action,
            path: entry.clone(),
            source,
        };
        if !enabled {
            return match std::fs::remove_file(entry) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", e)),
                _ => Ok(()),
            };
        }
        if let Some(dir) = entry.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
        }
        std::fs::write(entry, desktop_entry(exe)).map_err(|e| io("write", e))
    }
}

/// The desktop entry; `Exec` quoted as the specification asks.
fn desktop_entry(exe: &Path) -> String {
    let exe = exe.to_string_lossy();
    let quoted = exe
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('`', "\\`")
        .replace('$', "\\$");
    format!(
        "[Desktop Entry]\nType=Application\nName=AWS SSO tray\nComment=Keeps your AWS IAM Identity Center sign-in and profiles fresh\nExec=\"{quoted}\" --hidden\nIcon=aws-sso-tray\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_off_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::process().with("XDG_CONFIG_HOME", dir.path().to_string_lossy());
        let a = Autostart::from_env(&env);
        assert!(!a.is_enabled());
        a.set(true, Path::new("/opt/my apps/aws-sso-tray")).unwrap();
        a.set(true, Path::new("/opt/my apps/aws-sso-tray")).unwrap();
        assert!(a.is_enabled());
        let text =
            std::fs::read_to_string(dir.path().join("autostart/aws-sso-tray.desktop")).unwrap();
        assert!(
            text.contains("Exec=\"/opt/my apps/aws-sso-tray\" --hidden\n"),
            "{text}"
        );
        a.set(false, Path::new("/x")).unwrap();
        a.set(false, Path::new("/x")).unwrap();
        assert!(!a.is_enabled());
    }

    #[test]
    fn exec_quoting_escapes_what_the_spec_reserves() {
        assert!(desktop_entry(Path::new("/a$b\"c")).contains(r#"Exec="/a\$b\"c""#));
    }
}
