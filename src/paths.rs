//! Every directory and file of the product's own, named in one place and read from one
//! environment: the settings and the session locks (config), the account and
//! `credential_process` caches (cache), the app's log (state), sockets (runtime), and
//! where earlier versions kept the start-at-login entry. The AWS files the user shares
//! with other tools are [`crate::awsfiles::AwsFiles`]'s.

use crate::env::Env;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The folder name under each base directory.
const APP: &str = "aws-sso-tray";

/// Where the product keeps its own files, for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    config: PathBuf,
    cache: PathBuf,
    state: PathBuf,
    runtime: Option<PathBuf>,
    autostart: PathBuf,
    home: Option<PathBuf>,
}

impl Paths {
    /// The XDG base directories (`XDG_CONFIG_HOME`, `XDG_CACHE_HOME`, `XDG_STATE_HOME`,
    /// `XDG_RUNTIME_DIR`; relative values are ignored, as the specification asks), else
    /// their defaults under `HOME`, else `APPDATA`. On Windows `APPDATA` comes before the
    /// home directory: Git Bash sets `HOME` and Explorer does not, and the CLI and the app
    /// must agree. An error when none is set.
    pub fn from_env(env: &Env) -> Result<Self> {
        let absolute = |k: &str| {
            env.get(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let home = env.home();
        let base = |variable: &'static str, under_home: &str| {
            let in_home = || home.as_ref().map(|h| h.join(under_home));
            let appdata = || absolute("APPDATA");
            absolute(variable)
                .or_else(|| {
                    if cfg!(windows) {
                        appdata().or_else(in_home)
                    } else {
                        in_home().or_else(appdata)
                    }
                })
                .ok_or(Error::NoHome { variable })
        };
        let config_base = base("XDG_CONFIG_HOME", ".config")?;
        Ok(Self {
            config: config_base.join(APP),
            cache: base("XDG_CACHE_HOME", ".cache")?.join(APP),
            state: base("XDG_STATE_HOME", ".local/state")?.join(APP),
            runtime: absolute("XDG_RUNTIME_DIR").map(|d| d.join(APP)),
            autostart: config_base.join("autostart").join(format!("{APP}.desktop")),
            home,
        })
    }

    /// Every directory under `root`, as in a fresh home (for tests and benchmarks).
    pub fn under(root: &Path) -> Self {
        Self {
            config: root.join(".config").join(APP),
            cache: root.join(".cache").join(APP),
            state: root.join(".local/state").join(APP),
            runtime: None,
            autostart: root
                .join(".config/autostart")
                .join(format!("{APP}.desktop")),
            home: Some(root.to_owned()),
        }
    }

    /// `settings.json`: instances, favourites, preferences (no secret).
    pub fn settings_file(&self) -> PathBuf {
        self.config.join("settings.json")
    }

    /// The lock files that let one process at a time sign in or refresh a session.
    pub fn locks_dir(&self) -> PathBuf {
        self.config.join("locks")
    }

    /// The account lists of each instance.
    pub fn accounts_cache_dir(&self) -> PathBuf {
        self.cache.join("accounts")
    }

    /// The credentials of `credential_process` favourites between calls.
    pub fn credentials_cache_dir(&self) -> PathBuf {
        self.cache.join("credentials")
    }

    /// The private cache of EKS tokens (`eks token`), reused until they are near expiry.
    pub fn eks_tokens_cache_dir(&self) -> PathBuf {
        self.cache.join("eks-tokens")
    }

    /// The log file of the program called `name`.
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.state.join(format!("{name}.log"))
    }

    /// A private directory for sockets and one-time files, where the system has one
    /// (`$XDG_RUNTIME_DIR`, cleared at logout).
    pub fn runtime_dir(&self) -> Option<&Path> {
        self.runtime.as_deref()
    }

    /// A private directory for the pages that hand an address to the browser: the
    /// runtime directory where the system has one, else `handoff` in the cache directory.
    pub fn handoff_dir(&self) -> PathBuf {
        self.runtime
            .clone()
            .unwrap_or_else(|| self.cache.join("handoff"))
    }

    /// Where versions up to 0.1 wrote their start-at-login entry (freedesktop autostart),
    /// which the app hands over to its autostart plugin once.
    pub fn autostart_entry(&self) -> &Path {
        &self.autostart
    }

    /// The user's home directory, if known.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// The AWS CLI's SSO token cache, `~/.aws/sso/cache` (always under the home directory:
    /// `HOME`, else `USERPROFILE`, as [`Env::home`] reads it).
    pub fn aws_cli_sso_cache_dir(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(".aws/sso/cache"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(vars: &[(&str, &str)]) -> Env {
        let mut env = Env::process();
        for k in [
            "HOME",
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "XDG_STATE_HOME",
            "XDG_RUNTIME_DIR",
            "APPDATA",
            "USERPROFILE",
        ] {
            env = env.without(k);
        }
        for (k, v) in vars {
            env = env.with(k, *v);
        }
        env
    }

    #[cfg(unix)]
    #[test]
    fn xdg_first_then_home() {
        let p = Paths::from_env(&only(&[
            ("HOME", "/home/u"),
            ("XDG_CONFIG_HOME", "/x/cfg"),
            ("XDG_CACHE_HOME", "relative/ignored"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ]))
        .unwrap();
        assert_eq!(
            p.settings_file(),
            PathBuf::from("/x/cfg/aws-sso-tray/settings.json")
        );
        assert_eq!(p.locks_dir(), PathBuf::from("/x/cfg/aws-sso-tray/locks"));
        assert_eq!(
            p.accounts_cache_dir(),
            PathBuf::from("/home/u/.cache/aws-sso-tray/accounts")
        );
        assert_eq!(
            p.log_file("aws-sso-tray"),
            PathBuf::from("/home/u/.local/state/aws-sso-tray/aws-sso-tray.log")
        );
        assert_eq!(
            p.runtime_dir(),
            Some(Path::new("/run/user/1000/aws-sso-tray"))
        );
        assert_eq!(
            p.handoff_dir(),
            PathBuf::from("/run/user/1000/aws-sso-tray")
        );
        assert_eq!(
            Paths::under(Path::new("/h")).handoff_dir(),
            PathBuf::from("/h/.cache/aws-sso-tray/handoff")
        );
        assert_eq!(
            p.autostart_entry(),
            Path::new("/x/cfg/autostart/aws-sso-tray.desktop")
        );
        assert_eq!(
            p,
            Paths::from_env(&only(&[
                ("HOME", "/home/u"),
                ("XDG_CONFIG_HOME", "/x/cfg"),
                ("XDG_RUNTIME_DIR", "/run/user/1000")
            ]))
            .unwrap()
        );
        assert_eq!(
            Paths::under(Path::new("/home/u")).settings_file(),
            PathBuf::from("/home/u/.config/aws-sso-tray/settings.json")
        );
    }

    #[cfg(unix)]
    #[test]
    fn without_a_home_the_missing_variable_is_named() {
        let e = Paths::from_env(&only(&[("XDG_CONFIG_HOME", "/x/cfg")])).unwrap_err();
        assert!(e.to_string().contains("XDG_CACHE_HOME"), "{e}");
    }

    #[cfg(windows)]
    #[test]
    fn on_windows_appdata_comes_before_home_and_userprofile_is_the_home() {
        let p = Paths::from_env(&only(&[
            ("HOME", r"C:\Users\u"),
            ("APPDATA", r"C:\Users\u\AppData\Roaming"),
        ]))
        .unwrap();
        assert_eq!(
            p.settings_file(),
            PathBuf::from(r"C:\Users\u\AppData\Roaming\aws-sso-tray\settings.json")
        );
        assert_eq!(
            p.aws_cli_sso_cache_dir(),
            Some(PathBuf::from(r"C:\Users\u\.aws\sso\cache"))
        );
        let p = Paths::from_env(&only(&[
            ("USERPROFILE", r"C:\Users\v"),
            ("APPDATA", r"C:\Users\v\AppData\Roaming"),
        ]))
        .unwrap();
        assert_eq!(p.home(), Some(Path::new(r"C:\Users\v")));
        assert_eq!(
            p.aws_cli_sso_cache_dir(),
            Some(PathBuf::from(r"C:\Users\v\.aws\sso\cache"))
        );
    }
}
