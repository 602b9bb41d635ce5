//! Start at login, the freedesktop way: a desktop entry in `$XDG_CONFIG_HOME/autostart`
//! (which GNOME, KDE, Xfce and others read), at [`crate::paths::Paths::autostart_entry`].
//! Opt-in; absent means off.

use crate::error::Error;
use std::path::{Path, PathBuf};

/// The autostart entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autostart {
    entry: PathBuf,
}

impl Autostart {
    /// The entry at `entry`.
    pub fn new(entry: impl Into<PathBuf>) -> Self {
        Self {
            entry: entry.into(),
        }
    }

    /// Whether the app starts at login.
    pub fn is_enabled(&self) -> bool {
        self.entry.is_file()
    }

    /// Starts `exe` (with `--hidden`) at login, or stops doing so.
    pub fn set(&self, enabled: bool, exe: &Path) -> Result<(), Error> {
        let io = |action, source| Error::Io {
            action,
            path: self.entry.clone(),
            source,
        };
        if !enabled {
            return match std::fs::remove_file(&self.entry) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", e)),
                _ => Ok(()),
            };
        }
        if let Some(dir) = self.entry.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
        }
        crate::atomic_file::write(&self.entry, desktop_entry(exe).as_bytes())
            .map_err(|e| io("write", e))
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
        let entry = dir.path().join("autostart/aws-sso-tray.desktop");
        let a = Autostart::new(&entry);
        assert!(!a.is_enabled());
        a.set(true, Path::new("/opt/my apps/aws-sso-tray")).unwrap();
        a.set(true, Path::new("/opt/my apps/aws-sso-tray")).unwrap();
        assert!(a.is_enabled());
        let text = std::fs::read_to_string(&entry).unwrap();
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
