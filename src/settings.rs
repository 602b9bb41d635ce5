//! The user's settings in the XDG config directory: SSO instances and which is the
//! default, favourite account/role pairs with their profile names, and preferences.
//! Human-readable JSON (fields unknown to this version are kept); never holds a secret.

use crate::error::{Error, Result};
use crate::instance::Instance;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One remembered instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSettings {
    /// The start URL.
    pub start_url: String,
    /// Its region.
    pub region: String,
    /// A name for menus; defaults to the start URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// An account/role pair kept fresh as a named profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Favourite {
    /// The profile name in `~/.aws/credentials`; unique across instances.
    pub profile: String,
    /// The instance's start URL.
    pub start_url: String,
    /// The instance's region.
    pub sso_region: String,
    /// The account id.
    pub account_id: String,
    /// The account's name when the favourite was added (for menus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The role (permission set) name.
    pub role_name: String,
    /// The profile's region in `~/.aws/config`, if the user chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Written as a `credential_process` profile in `~/.aws/config` (credentials fetched
    /// when a tool asks) instead of keys in `~/.aws/credentials` kept fresh.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub credential_process: bool,
}

impl Favourite {
    /// The same account and role of the same instance.
    pub fn same_target(&self, other: &Favourite) -> bool {
        self.start_url == other.start_url
            && self.sso_region == other.sso_region
            && self.account_id == other.account_id
            && self.role_name == other.role_name
    }
}

/// Which sign-in flow to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FlowPreference {
    /// PKCE where a local browser can reach the loopback port, else the device code.
    #[default]
    Auto,
    /// Always the device code.
    Device,
    /// Always PKCE.
    Pkce,
}

impl FlowPreference {
    /// The flow this preference asks for, given whether a browser on this machine can
    /// reach a loopback port ([`crate::browser::local_browser_likely`]).
    pub fn resolve(self, local_browser: bool) -> crate::store::SignInFlow {
        use crate::store::SignInFlow;
        match self {
            Self::Device => SignInFlow::Device,
            Self::Pkce => SignInFlow::Pkce,
            Self::Auto if local_browser => SignInFlow::Pkce,
            Self::Auto => SignInFlow::Device,
        }
    }
}

/// How the app and the renewer behave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    /// Refresh the SSO access token this many minutes before it expires.
    pub token_refresh_minutes: u32,
    /// Renew each profile's credentials this many minutes before they expire.
    pub credentials_refresh_minutes: u32,
    /// The sign-in flow.
    pub sign_in_flow: FlowPreference,
    /// Remove the profiles of favourites when signing out.
    pub remove_profiles_on_sign_out: bool,
    /// Remove the profiles of favourites when the app quits.
    pub remove_profiles_on_quit: bool,
    /// Copy the access token into the AWS CLI's SSO token cache (`~/.aws/sso/cache`), so
    /// `aws` and the SDKs share the sign-in. Off by default: that file is plaintext.
    pub share_session_with_aws_cli: bool,
    /// Fields written by newer versions, kept as they are.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            token_refresh_minutes: 15,
            credentials_refresh_minutes: 10,
            sign_in_flow: FlowPreference::Auto,
            remove_profiles_on_sign_out: false,
            remove_profiles_on_quit: false,
            share_session_with_aws_cli: false,
            other: Default::default(),
        }
    }
}

/// The settings file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Known instances.
    #[serde(default)]
    pub instances: Vec<InstanceSettings>,
    /// The start URL of the default instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_instance: Option<String>,
    /// Favourite account/role pairs.
    #[serde(default)]
    pub favourites: Vec<Favourite>,
    /// Preferences.
    #[serde(default)]
    pub preferences: Preferences,
    /// Fields written by newer versions, kept as they are.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `$XDG_CONFIG_HOME/aws-sso-tray`, else `$HOME/.config/aws-sso-tray`.
pub fn config_dir(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    nonempty("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| nonempty("HOME").map(|h| h.join(".config")))
        .or_else(|| nonempty("APPDATA"))
        .map(|d| d.join("aws-sso-tray"))
}

/// `$XDG_CACHE_HOME/aws-sso-tray`, else `$HOME/.cache/aws-sso-tray`.
pub fn cache_dir(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    xdg_dir(get, "XDG_CACHE_HOME", ".cache")
}

/// `$XDG_STATE_HOME/aws-sso-tray` (logs), else `$HOME/.local/state/aws-sso-tray`.
pub fn state_dir(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    xdg_dir(get, "XDG_STATE_HOME", ".local/state")
}

fn xdg_dir(get: impl Fn(&str) -> Option<String>, var: &str, under_home: &str) -> Option<PathBuf> {
    let nonempty = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    nonempty(var)
        .filter(|p| p.is_absolute())
        .or_else(|| nonempty("HOME").map(|h| h.join(under_home)))
        .map(|d| d.join("aws-sso-tray"))
}

impl Settings {
    /// Reads `path`; a missing file gives empty settings.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Settings {
                path: path.to_owned(),
                detail: format!("{e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(Error::Io {
                action: "read",
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes `path` atomically (temporary file, fsync, rename), under its lock.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| Error::Io {
            action: "serialise",
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })?;
        json.push(b'\n');
        crate::atomic_file::write(path, &json).map_err(|source| Error::WriteFailed {
            path: path.to_owned(),
            source,
        })
    }

    /// Remembers `instance` and makes it the default.
    pub fn remember_default(&mut self, instance: &Instance) {
        self.remember(instance, None);
        self.default_instance = Some(instance.start_url().to_owned());
    }

    /// Adds `favourite`, or updates the one with the same profile name and target. A
    /// profile name already used for another account or role (in any instance) is an
    /// error naming it.
    pub fn add_favourite(&mut self, favourite: Favourite) -> Result<()> {
        match self
            .favourites
            .iter_mut()
            .find(|f| f.profile == favourite.profile)
        {
            Some(f) if f.same_target(&favourite) => *f = favourite,
            Some(f) => {
                return Err(Error::FavouriteNameTaken {
                    profile: favourite.profile.clone(),
                    target: format!("{}/{} of {}", f.account_id, f.role_name, f.start_url),
                })
            }
            None => self.favourites.push(favourite),
        }
        Ok(())
    }

    /// Removes the favourite with this profile name; returns it.
    pub fn remove_favourite(&mut self, profile: &str) -> Option<Favourite> {
        let i = self.favourites.iter().position(|f| f.profile == profile)?;
        Some(self.favourites.remove(i))
    }

    /// The favourite with this profile name.
    pub fn favourite(&self, profile: &str) -> Option<&Favourite> {
        self.favourites.iter().find(|f| f.profile == profile)
    }

    /// Takes in `other` (an export from another machine or a backup): its instances and
    /// favourites are added, its preferences replace ours. Nothing changes if one of its
    /// favourites would take a profile name that is ours for another account or role.
    pub fn import(&mut self, other: Settings) -> Result<()> {
        let mut merged = self.clone();
        for i in other.instances {
            if let Ok(instance) = Instance::new(&i.start_url, &i.region) {
                merged.remember(&instance, i.label);
            }
        }
        for f in other.favourites {
            merged.add_favourite(f)?;
        }
        merged.preferences = other.preferences;
        if merged.default_instance.is_none() {
            merged.default_instance = other.default_instance;
        }
        *self = merged;
        Ok(())
    }

    /// Remembers `instance` (with `label`, if given); returns whether it was new. The
    /// first instance remembered becomes the default.
    pub fn add_instance(&mut self, instance: &Instance, label: Option<String>) -> bool {
        let known = self
            .instances
            .iter()
            .any(|i| i.start_url == instance.start_url() && i.region == instance.region());
        self.remember(instance, label);
        if self.default_instance.is_none() {
            self.default_instance = Some(instance.start_url().to_owned());
        }
        !known
    }

    fn remember(&mut self, instance: &Instance, label: Option<String>) {
        match self
            .instances
            .iter_mut()
            .find(|i| i.start_url == instance.start_url() && i.region == instance.region())
        {
            Some(i) => i.label = label.or(i.label.take()),
            None => self.instances.push(InstanceSettings {
                start_url: instance.start_url().to_owned(),
                region: instance.region().to_owned(),
                label,
            }),
        }
    }

    /// The default instance, if one is set and valid.
    pub fn default_instance(&self) -> Option<&InstanceSettings> {
        let url = self.default_instance.as_ref()?;
        self.instances.iter().rev().find(|i| &i.start_url == url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_fields_and_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/settings.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"futureThing": {"a": 1}}"#).unwrap();
        let mut s = Settings::load(&path).unwrap();
        s.remember_default(&Instance::new("https://a.awsapps.com/start", "eu-west-1").unwrap());
        s.save(&path).unwrap();
        let back = Settings::load(&path).unwrap();
        assert_eq!(back.default_instance().unwrap().region, "eu-west-1");
        assert_eq!(back.other["futureThing"]["a"], 1);
    }

    #[test]
    fn corrupt_settings_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = Settings::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("settings.json") && err.contains("fix or remove"),
            "{err}"
        );
        assert_eq!(
            Settings::load(&dir.path().join("none.json")).unwrap(),
            Settings::default()
        );
    }

    fn favourite(profile: &str, account: &str) -> Favourite {
        Favourite {
            profile: profile.into(),
            start_url: "https://a.awsapps.com/start".into(),
            sso_region: "eu-west-1".into(),
            account_id: account.into(),
            account_name: None,
            role_name: "ReadOnly".into(),
            region: None,
            credential_process: false,
        }
    }

    #[test]
    fn profile_names_are_unique_and_imports_merge_or_change_nothing() {
        let mut s = Settings::default();
        s.add_favourite(favourite("dev", "111111111111")).unwrap();
        let mut renamed = favourite("dev", "111111111111");
        renamed.region = Some("eu-west-2".into());
        s.add_favourite(renamed).unwrap();
        assert_eq!(s.favourites.len(), 1);
        assert_eq!(s.favourites[0].region.as_deref(), Some("eu-west-2"));
        let err = s
            .add_favourite(favourite("dev", "222222222222"))
            .unwrap_err();
        assert!(err.to_string().contains("111111111111/ReadOnly"), "{err}");

        let mut other = Settings::default();
        other
            .add_favourite(favourite("prod", "333333333333"))
            .unwrap();
        other.preferences.remove_profiles_on_quit = true;
        s.import(other.clone()).unwrap();
        assert_eq!(s.favourites.len(), 2);
        assert!(s.preferences.remove_profiles_on_quit);
        other
            .add_favourite(favourite("dev", "444444444444"))
            .unwrap();
        let before = s.clone();
        assert!(s.import(other).is_err());
        assert_eq!(s, before);
        assert_eq!(
            s.remove_favourite("dev").unwrap().account_id,
            "111111111111"
        );
        assert!(s.favourite("dev").is_none());
    }

    #[test]
    fn preferences_default_and_keep_unknown_fields() {
        let s: Settings =
            serde_json::from_str(r#"{"preferences": {"tokenRefreshMinutes": 20, "future": 1}}"#)
                .unwrap();
        assert_eq!(s.preferences.token_refresh_minutes, 20);
        assert_eq!(s.preferences.credentials_refresh_minutes, 10);
        let back = serde_json::to_string(&s).unwrap();
        assert!(back.contains("\"future\":1"), "{back}");
    }

    #[test]
    fn config_dir_prefers_xdg() {
        let env = |k: &str| match k {
            "XDG_CONFIG_HOME" => Some("/x/cfg".to_owned()),
            "HOME" => Some("/home/u".to_owned()),
            _ => None,
        };
        assert_eq!(
            config_dir(env).unwrap(),
            PathBuf::from("/x/cfg/aws-sso-tray")
        );
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_owned());
        assert_eq!(
            config_dir(env).unwrap(),
            PathBuf::from("/home/u/.config/aws-sso-tray")
        );
    }
}
