//! The user's settings in the XDG config directory: SSO instances and which is the
//! default. Human-readable JSON; never holds a secret.

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
        if !self
            .instances
            .iter()
            .any(|i| i.start_url == instance.start_url() && i.region == instance.region())
        {
            self.instances.push(InstanceSettings {
                start_url: instance.start_url().to_owned(),
                region: instance.region().to_owned(),
                label: None,
            });
        }
        self.default_instance = Some(instance.start_url().to_owned());
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
