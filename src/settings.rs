//! The user's settings (`settings.json` in [`crate::paths::Paths::settings_file`]): SSO
//! instances and which is the default, favourite account/role pairs with their profile
//! names, and preferences. Human-readable JSON; never holds a secret.
//!
//! Identity is checked once, when the file is read: a [`Favourite`] holds a valid
//! [`ProfileName`] and [`Instance`], an [`InstanceSettings`] a valid [`Instance`]. An
//! entry that is not valid is skipped (and reported by [`Settings::skipped`]) but kept as
//! it was, so saving never loses it; fields unknown to this version are kept too.

use crate::atomic_file;
use crate::awsfiles::{ProfileName, ProfileWrite};
use crate::console::{BrowserChoice, Colour, Destination};
use crate::error::{Error, Result};
use crate::instance::{validate_region, Instance};
use crate::portal::RoleCredentials;
use crate::source::{AssumeRole, Source};
use crate::store::SignInFlow;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// The largest settings file read, in bytes (16 MiB). 10,000 favourites take about 2 MiB
/// as this program writes them; a larger file is refused, whole, and left as it is.
pub const MAX_SETTINGS_BYTES: u64 = 16 * 1024 * 1024;

/// The most favourites a settings file may hold, valid or not: far more than a menu of
/// favourites ever holds. A file with more is refused, whole, and left as it is; a change
/// that would make more (an import) is refused.
pub const MAX_FAVOURITES: usize = 10_000;

/// The most instances a settings file may hold, valid or not; as [`MAX_FAVOURITES`].
pub const MAX_INSTANCES: usize = 1_000;

/// One remembered instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSettings {
    /// The instance.
    pub instance: Instance,
    /// A name for menus; defaults to the start URL's host.
    pub label: Option<String>,
    /// The browser the console of its roles opens in, unless a favourite chooses one
    /// (`None`: the desktop's default).
    pub browser: Option<BrowserChoice>,
}

impl InstanceSettings {
    /// The name to show: the label, else the start URL's host.
    pub fn name(&self) -> String {
        self.label
            .clone()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| self.instance.host())
    }
}

impl Serialize for InstanceSettings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        InstanceEntry {
            start_url: self.instance.start_url().to_owned(),
            region: self.instance.region().to_owned(),
            label: self.label.clone(),
            browser: self
                .browser
                .as_ref()
                .and_then(|b| serde_json::to_value(b).ok())
                .unwrap_or_default(),
        }
        .serialize(s)
    }
}

/// An instance as the file holds it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceEntry {
    start_url: String,
    region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    /// Read leniently, as a favourite's console choices are.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    browser: serde_json::Value,
}

/// How a favourite's console opens: where, for how long, in which browser, and its
/// colour.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleSettings {
    /// The page it opens on (default: the console's home).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    /// The console session's length in seconds (default: the console's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_seconds: Option<u32>,
    /// The browser (default: its access portal's choice, else the desktop's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<BrowserChoice>,
    /// Its colour, in the window and the tray menu, and its container's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<Colour>,
    /// The colour is the account's own, as the console shows it: read from AWS when it
    /// is chosen and each time the console opens.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub colour_from_account: bool,
}

impl ConsoleSettings {
    /// Whether nothing is chosen.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Checks what a person or a file gave, for a favourite whose role is assumed from
    /// another (`chained`) or not.
    pub fn checked(mut self, chained: bool) -> Result<Self> {
        self.destination = match self.destination {
            Some(Destination::Service(s)) => Some(Destination::service(&s)?),
            Some(Destination::Url(u)) => Some(Destination::address(&u)?),
            None => None,
        };
        self.session_seconds = self
            .session_seconds
            .map(|s| crate::console::check_session_length(s, chained))
            .transpose()?;
        self.browser = self.browser.map(BrowserChoice::checked).transpose()?;
        Ok(self)
    }
}

/// An account/role pair kept fresh as a named profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Favourite {
    /// The profile name in `~/.aws/credentials`; unique across instances.
    pub profile: ProfileName,
    /// The instance it belongs to.
    pub instance: Instance,
    /// The account id.
    pub account_id: String,
    /// The account's name when the favourite was added (for menus).
    pub account_name: Option<String>,
    /// The role (permission set) name.
    pub role_name: String,
    /// The profile's region in `~/.aws/config`, if the user chose one (a valid region).
    pub region: Option<String>,
    /// Written as a `credential_process` profile in `~/.aws/config` (credentials fetched
    /// when a tool asks) instead of keys in `~/.aws/credentials` kept fresh.
    pub credential_process: bool,
    /// A role assumed with the SSO role's credentials: the profile holds that role's.
    pub assume_role: Option<AssumeRole>,
    /// The regions whose Amazon ECR registry of [`Self::credentials_account`] docker logs
    /// in to as this favourite (valid region names, each once). At most one favourite
    /// holds an account's region: see [`Settings::choose_ecr_region`].
    pub ecr_regions: Vec<String>,
    /// How its console opens.
    pub console: ConsoleSettings,
}

impl Favourite {
    /// The account whose credentials it ends with: the assumed role's, else the SSO
    /// role's.
    pub fn credentials_account(&self) -> &str {
        match &self.assume_role {
            Some(a) => a.account_id(),
            None => &self.account_id,
        }
    }

    /// Where its credentials come from.
    pub fn source(&self) -> Source {
        Source {
            account_id: self.account_id.clone(),
            role_name: self.role_name.clone(),
            assume: self.assume_role.clone(),
        }
    }

    /// The instance and the source, as one key (for caches of its credentials).
    pub fn target_key(&self) -> String {
        format!("{}|{}", self.instance.key(), self.source().key())
    }

    /// Its profile holding `credentials` (and its region in the config file).
    pub fn profile_write(&self, credentials: &RoleCredentials) -> Result<ProfileWrite> {
        let write = ProfileWrite::new(self.profile.clone(), credentials);
        match &self.region {
            Some(r) => write.region(r),
            None => Ok(write),
        }
    }

    /// The same account and role of the same instance, and the same role assumed from it.
    pub fn same_target(&self, other: &Favourite) -> bool {
        self.instance == other.instance
            && self.account_id == other.account_id
            && self.role_name == other.role_name
            && self.assume_role == other.assume_role
    }

    /// Its profile would hold the same: the same target, region and kind. A change of
    /// anything else (the account's name, the registries docker logs in to) leaves its
    /// profile as it is.
    pub fn same_profile(&self, other: &Favourite) -> bool {
        self.profile == other.profile
            && self.same_target(other)
            && self.region == other.region
            && self.credential_process == other.credential_process
    }

    /// Checks the parts a person or a file gave.
    pub fn new(
        profile: &str,
        instance: Instance,
        account_id: &str,
        role_name: &str,
        region: Option<&str>,
    ) -> Result<Self> {
        let account_id = account_id.trim();
        if account_id.is_empty() || !account_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::AccountNotFound {
                pattern: account_id.chars().take(40).collect(),
            });
        }
        let role_name = role_name.trim();
        if role_name.is_empty() || role_name.chars().any(char::is_control) {
            return Err(Error::RoleNotFound {
                account_id: account_id.to_owned(),
                role: role_name.escape_debug().to_string(),
            });
        }
        Ok(Self {
            profile: ProfileName::new(profile)?,
            instance,
            account_id: account_id.to_owned(),
            account_name: None,
            role_name: role_name.to_owned(),
            region: region.map(validate_region).transpose()?,
            credential_process: false,
            assume_role: None,
            ecr_regions: Vec::new(),
            console: ConsoleSettings::default(),
        })
    }
}

/// A favourite as the file holds it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FavouriteEntry {
    profile: String,
    start_url: String,
    sso_region: String,
    account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_name: Option<String>,
    role_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    credential_process: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assume_role: Option<AssumeRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ecr_regions: Vec<String>,
    /// Read leniently ([`lenient`]): a console choice this version cannot use loses the
    /// choice, not the favourite.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    console: serde_json::Value,
}

/// `value` as a `T` that `check` accepts, else `T::default()`, with a warning that names
/// `what` and why: for the parts of an entry that only choose how something looks or
/// opens, so that a choice from another version or a hand edit never makes the entry
/// itself vanish.
fn lenient<T: serde::de::DeserializeOwned + Default>(
    value: serde_json::Value,
    what: &str,
    check: impl FnOnce(T) -> Result<T>,
) -> T {
    if value.is_null() {
        return T::default();
    }
    let checked = serde_json::from_value::<T>(value)
        .map_err(|e| e.to_string())
        .and_then(|t| check(t).map_err(|e| e.to_string()));
    checked.unwrap_or_else(|why| {
        tracing::warn!(what, %why, "a setting was not used");
        T::default()
    })
}

impl Serialize for Favourite {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        FavouriteEntry {
            profile: self.profile.to_string(),
            start_url: self.instance.start_url().to_owned(),
            sso_region: self.instance.region().to_owned(),
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
            role_name: self.role_name.clone(),
            region: self.region.clone(),
            credential_process: self.credential_process,
            assume_role: self.assume_role.clone(),
            ecr_regions: self.ecr_regions.clone(),
            console: if self.console.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::to_value(&self.console).unwrap_or_default()
            },
        }
        .serialize(s)
    }
}

impl TryFrom<FavouriteEntry> for Favourite {
    type Error = Error;
    fn try_from(e: FavouriteEntry) -> Result<Self> {
        let instance = Instance::new(&e.start_url, &e.sso_region)?;
        let mut f = Favourite::new(
            &e.profile,
            instance,
            &e.account_id,
            &e.role_name,
            e.region.as_deref(),
        )?;
        f.account_name = e.account_name;
        f.credential_process = e.credential_process;
        f.assume_role = e.assume_role;
        let chained = f.assume_role.is_some();
        f.console = lenient(
            e.console,
            "a favourite's console choices",
            |mut c: ConsoleSettings| {
                if chained {
                    // Left from before the role was assumed from it: AWS refuses it now.
                    c.session_seconds = None;
                }
                c.checked(chained)
            },
        );
        for r in &e.ecr_regions {
            let r = validate_region(r)?;
            if !f.ecr_regions.contains(&r) {
                f.ecr_regions.push(r);
            }
        }
        Ok(f)
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
    pub fn resolve(self, local_browser: bool) -> SignInFlow {
        match self {
            Self::Device => SignInFlow::Device,
            Self::Pkce => SignInFlow::Pkce,
            Self::Auto if local_browser => SignInFlow::Pkce,
            Self::Auto => SignInFlow::Device,
        }
    }
}

/// The margins a person may choose, in minutes.
pub const MARGIN_MINUTES: std::ops::RangeInclusive<u32> = 1..=120;

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
    /// The share of the service's throttle (in percent) that reading roles in the
    /// background may use; the accounts a person looks at are read at once whatever
    /// this says. The rest is left to the user's other tools.
    pub discovery_percent: u32,
    /// Which AWS CLI profiles to generate for every role, and whether to after each
    /// complete read of the account list.
    pub aws_cli_profiles: crate::populate::ProfileRules,
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
            discovery_percent: 50,
            aws_cli_profiles: Default::default(),
            other: Default::default(),
        }
    }
}

/// The names [`Preferences::set`] takes.
pub const PREFERENCE_NAMES: &[&str] = &[
    "tokenRefreshMinutes",
    "credentialsRefreshMinutes",
    "signInFlow",
    "removeProfilesOnSignOut",
    "removeProfilesOnQuit",
    "shareSessionWithAwsCli",
    "discoveryPercent",
];

/// The shares of the throttle background discovery may be given, in percent.
pub const DISCOVERY_PERCENT: std::ops::RangeInclusive<u32> = 10..=100;

impl Preferences {
    /// Refuses margins outside [`MARGIN_MINUTES`] and a discovery share outside
    /// [`DISCOVERY_PERCENT`].
    pub fn validate(&self) -> Result<()> {
        for (name, minutes) in [
            ("tokenRefreshMinutes", self.token_refresh_minutes),
            (
                "credentialsRefreshMinutes",
                self.credentials_refresh_minutes,
            ),
        ] {
            if !MARGIN_MINUTES.contains(&minutes) {
                return Err(margin_error(name));
            }
        }
        if !DISCOVERY_PERCENT.contains(&self.discovery_percent) {
            return Err(discovery_error());
        }
        self.aws_cli_profiles.validate()?;
        Ok(())
    }

    /// Refresh the access token this long before it expires (a value out of range in the
    /// file counts as the default).
    pub fn token_refresh_margin(&self) -> Duration {
        minutes_or(self.token_refresh_minutes, 15)
    }

    /// Renew profiles this long before their credentials expire (likewise).
    pub fn credentials_refresh_margin(&self) -> Duration {
        minutes_or(self.credentials_refresh_minutes, 10)
    }

    /// Sets the preference called `name` (as in the file) from text.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let value = value.trim();
        let flag = || match value {
            "true" | "on" | "yes" => Ok(true),
            "false" | "off" | "no" => Ok(false),
            _ => Err(Error::InvalidPreference {
                name: name.to_owned(),
                detail: "is true or false".into(),
            }),
        };
        let minutes = || {
            value
                .parse::<u32>()
                .ok()
                .filter(|m| MARGIN_MINUTES.contains(m))
                .ok_or_else(|| margin_error(name))
        };
        match name {
            "tokenRefreshMinutes" => self.token_refresh_minutes = minutes()?,
            "credentialsRefreshMinutes" => self.credentials_refresh_minutes = minutes()?,
            "signInFlow" => {
                self.sign_in_flow = match value {
                    "auto" => FlowPreference::Auto,
                    "device" => FlowPreference::Device,
                    "pkce" => FlowPreference::Pkce,
                    _ => {
                        return Err(Error::InvalidPreference {
                            name: name.to_owned(),
                            detail: "is auto, device or pkce".into(),
                        })
                    }
                }
            }
            "removeProfilesOnSignOut" => self.remove_profiles_on_sign_out = flag()?,
            "removeProfilesOnQuit" => self.remove_profiles_on_quit = flag()?,
            "shareSessionWithAwsCli" => self.share_session_with_aws_cli = flag()?,
            "discoveryPercent" => {
                self.discovery_percent = value
                    .parse::<u32>()
                    .ok()
                    .filter(|p| DISCOVERY_PERCENT.contains(p))
                    .ok_or_else(discovery_error)?
            }
            _ => {
                return Err(Error::InvalidPreference {
                    name: name.escape_debug().to_string(),
                    detail: format!(
                        "does not exist; the preferences are {}",
                        PREFERENCE_NAMES.join(", ")
                    ),
                })
            }
        }
        Ok(())
    }
}

fn discovery_error() -> Error {
    Error::InvalidPreference {
        name: "discoveryPercent".to_owned(),
        detail: format!(
            "is a whole number of percent from {} to {}",
            DISCOVERY_PERCENT.start(),
            DISCOVERY_PERCENT.end()
        ),
    }
}

fn margin_error(name: &str) -> Error {
    Error::InvalidPreference {
        name: name.to_owned(),
        detail: format!(
            "is a whole number of minutes from {} to {}",
            MARGIN_MINUTES.start(),
            MARGIN_MINUTES.end()
        ),
    }
}

fn minutes_or(minutes: u32, default: u32) -> Duration {
    let m = if MARGIN_MINUTES.contains(&minutes) {
        minutes
    } else {
        default
    };
    Duration::from_secs(u64::from(m) * 60)
}

/// Which instance is the default, as the file says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum DefaultRef {
    /// Start URL and region.
    Exact {
        #[serde(rename = "startUrl")]
        start_url: String,
        region: String,
    },
    /// A start URL alone, as earlier versions wrote it.
    Url(String),
}

/// An entry of the file that is not valid: skipped, kept as it was.
#[derive(Debug, Clone, PartialEq)]
struct Skipped {
    list: List,
    /// Where it stood in its list, so that saving puts it back there.
    index: usize,
    value: serde_json::Value,
    what: String,
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Instances,
    Favourites,
}

/// The settings file as written.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsFile {
    #[serde(default)]
    instances: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_instance: Option<DefaultRef>,
    #[serde(default)]
    favourites: Vec<serde_json::Value>,
    #[serde(default)]
    preferences: Preferences,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

/// The settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Known instances (valid ones).
    pub instances: Vec<InstanceSettings>,
    default_instance: Option<DefaultRef>,
    /// Favourite account/role pairs (valid ones).
    pub favourites: Vec<Favourite>,
    /// Preferences.
    pub preferences: Preferences,
    skipped: Vec<Skipped>,
    other: serde_json::Map<String, serde_json::Value>,
}

impl Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        // The skipped entries go back where they stood (as if each, in the order of their
        // places, were inserted there: one pass).
        let place = |list, values: Vec<serde_json::Value>| {
            let mut skipped: Vec<&Skipped> =
                self.skipped.iter().filter(|k| k.list == list).collect();
            skipped.sort_by_key(|k| k.index);
            let mut out = Vec::with_capacity(values.len() + skipped.len());
            let mut values = values.into_iter().peekable();
            for k in skipped {
                while out.len() < k.index {
                    match values.next() {
                        Some(v) => out.push(v),
                        None => break,
                    }
                }
                out.push(k.value.clone());
            }
            out.extend(values);
            out
        };
        let instances = self
            .instances
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(S::Error::custom)?;
        let favourites = self
            .favourites
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(S::Error::custom)?;
        SettingsFile {
            instances: place(List::Instances, instances),
            default_instance: self.default_instance.clone(),
            favourites: place(List::Favourites, favourites),
            preferences: self.preferences.clone(),
            other: self.other.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let file = SettingsFile::deserialize(d)?;
        let mut settings = Settings {
            default_instance: file.default_instance,
            preferences: file.preferences,
            other: file.other,
            ..Settings::default()
        };
        for (i, value) in file.instances.into_iter().enumerate() {
            let parsed = serde_json::from_value::<InstanceEntry>(value.clone())
                .map_err(|e| e.to_string())
                .and_then(|e| {
                    let browser = lenient(
                        e.browser,
                        "an access portal's console browser",
                        |b: Option<BrowserChoice>| b.map(BrowserChoice::checked).transpose(),
                    );
                    Instance::new(&e.start_url, &e.region)
                        .map(|instance| InstanceSettings {
                            instance,
                            label: e.label,
                            browser,
                        })
                        .map_err(|e| e.to_string())
                });
            match parsed {
                Ok(i) => settings.instances.push(i),
                Err(detail) => settings.skipped.push(Skipped {
                    what: entry_name("instance", &value, "startUrl", i),
                    list: List::Instances,
                    index: i,
                    value,
                    detail,
                }),
            }
        }
        for (i, value) in file.favourites.into_iter().enumerate() {
            let parsed = serde_json::from_value::<FavouriteEntry>(value.clone())
                .map_err(|e| e.to_string())
                .and_then(|e| Favourite::try_from(e).map_err(|e| e.to_string()));
            match parsed {
                Ok(f) => settings.favourites.push(f),
                Err(detail) => settings.skipped.push(Skipped {
                    what: entry_name("favourite", &value, "profile", i),
                    list: List::Favourites,
                    index: i,
                    value,
                    detail,
                }),
            }
        }
        Ok(settings)
    }
}

/// `favourite 'dev'`, or `favourite #3` when it has no name to show.
fn entry_name(kind: &str, value: &serde_json::Value, key: &str, index: usize) -> String {
    match value.get(key).and_then(|v| v.as_str()) {
        Some(name) if !name.is_empty() => {
            let shown: String = name.chars().take(80).collect();
            format!("{kind} '{}'", shown.escape_debug())
        }
        _ => format!("{kind} #{}", index + 1),
    }
}

impl Settings {
    /// Reads `path`; a missing file gives empty settings. A file above the limits
    /// ([`MAX_SETTINGS_BYTES`], [`MAX_FAVOURITES`], [`MAX_INSTANCES`]) is refused and left
    /// as it is.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::File::open(path) {
            Ok(file) => Self::read_from(path, file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(Error::Io {
                action: "read",
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Reads settings from `reader` (the file `path`, or what stands for it: an import
    /// from standard input), refusing, unread, more than [`MAX_SETTINGS_BYTES`] bytes or
    /// more entries than [`MAX_FAVOURITES`] and [`MAX_INSTANCES`]. At most one byte more
    /// than the limit is read.
    pub fn read_from(path: &Path, reader: impl Read) -> Result<Self> {
        let mut bytes = Vec::new();
        reader
            .take(MAX_SETTINGS_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })?;
        if bytes.len() as u64 > MAX_SETTINGS_BYTES {
            return Err(Error::SettingsTooLarge {
                path: path.to_owned(),
                detail: format!(
                    "is larger than {} bytes (16 MiB), the most this program reads; it is left as it is, unread",
                    MAX_SETTINGS_BYTES
                ),
            });
        }
        let settings = Self::parse(path, &bytes)?;
        settings.within_limits(path, "holds", "it is left as it is, unread")?;
        Ok(settings)
    }

    /// How many favourites and instances these settings hold, valid or not.
    fn counts(&self) -> (usize, usize) {
        let skipped = |list| self.skipped.iter().filter(|k| k.list == list).count();
        (
            self.favourites.len() + skipped(List::Favourites),
            self.instances.len() + skipped(List::Instances),
        )
    }

    /// Fails with [`Error::SettingsTooLarge`] when these settings hold more entries than
    /// [`MAX_FAVOURITES`] or [`MAX_INSTANCES`]: "the settings file `path` `verb` N
    /// favourites, more than …; `outcome`".
    fn within_limits(&self, path: &Path, verb: &str, outcome: &str) -> Result<()> {
        let (favourites, instances) = self.counts();
        for (count, limit, what) in [
            (favourites, MAX_FAVOURITES, "favourites"),
            (instances, MAX_INSTANCES, "instances"),
        ] {
            if count > limit {
                return Err(Error::SettingsTooLarge {
                    path: path.to_owned(),
                    detail: format!(
                        "{verb} {count} {what}, more than the {limit} this program takes; {outcome}"
                    ),
                });
            }
        }
        Ok(())
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Settings {
            path: path.to_owned(),
            detail: format!("{e}"),
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        // Only maps with string keys and plain values: this cannot fail.
        let mut json = serde_json::to_vec_pretty(self).unwrap_or_default();
        json.push(b'\n');
        json
    }

    /// Writes `path` atomically (temporary file, fsync, rename), under its lock.
    pub fn save(&self, path: &Path) -> Result<()> {
        atomic_file::write(path, &self.to_bytes()).map_err(|source| Error::WriteFailed {
            path: path.to_owned(),
            source,
        })
    }

    /// Changes the file at `path` with `change`, under its lock and from what it holds now
    /// (another process may have changed it since it was read): nothing is lost of a
    /// change made elsewhere. Nothing is written if `change` fails or changes nothing.
    /// Returns the settings as written, and what `change` returned.
    pub fn update<T>(
        path: &Path,
        change: impl FnOnce(&mut Settings) -> Result<T>,
    ) -> Result<(Settings, T)> {
        let (settings, out, ()) = Self::update_and(path, change, |_| ())?;
        Ok((settings, out))
    }

    /// [`Self::update`], then `look` at the file while its lock is still held.
    pub fn update_and<T, L>(
        path: &Path,
        change: impl FnOnce(&mut Settings) -> Result<T>,
        look: impl FnOnce(&Path) -> L,
    ) -> Result<(Settings, T, L)> {
        let write_failed = |source| Error::WriteFailed {
            path: path.to_owned(),
            source,
        };
        let lock = atomic_file::lock_for_update(path).map_err(write_failed)?;
        let mut settings = Self::load(lock.target())?;
        let before = settings.clone();
        let out = change(&mut settings)?;
        if settings != before {
            // Never written larger than it would be read.
            settings.within_limits(path, "would hold", "it is left as it is")?;
            let bytes = settings.to_bytes();
            if bytes.len() as u64 > MAX_SETTINGS_BYTES {
                return Err(Error::SettingsTooLarge {
                    path: path.to_owned(),
                    detail: format!(
                        "would be larger than {} bytes (16 MiB), the most this program reads; it is left as it is",
                        MAX_SETTINGS_BYTES
                    ),
                });
            }
            lock.replace(&bytes).map_err(write_failed)?;
        }
        let looked = look(path);
        Ok((settings, out, looked))
    }

    /// The entries that are not valid and are skipped (kept in the file as they are):
    /// each named (`favourite 'dev'`), with what is wrong.
    pub fn skipped(&self, path: &Path) -> Vec<Error> {
        self.skipped
            .iter()
            .map(|k| Error::SettingsEntry {
                path: path.to_owned(),
                what: k.what.clone(),
                detail: k.detail.clone(),
            })
            .collect()
    }

    /// Remembers `instance` and makes it the default.
    pub fn remember_default(&mut self, instance: &Instance) {
        self.remember(instance, None);
        self.set_default(instance);
    }

    fn set_default(&mut self, instance: &Instance) {
        self.default_instance = Some(DefaultRef::Exact {
            start_url: instance.start_url().to_owned(),
            region: instance.region().to_owned(),
        });
    }

    /// Makes a known `instance` the default.
    pub fn make_default(&mut self, instance: &Instance) -> Result<()> {
        if !self.instances.iter().any(|i| &i.instance == instance) {
            return Err(Error::NoInstance);
        }
        self.set_default(instance);
        Ok(())
    }

    /// The default instance, if one is set and names a valid instance entry.
    pub fn default_instance(&self) -> Option<&InstanceSettings> {
        match self.default_instance.as_ref()? {
            DefaultRef::Exact { start_url, region } => self
                .instances
                .iter()
                .find(|i| i.instance.start_url() == start_url && i.instance.region() == region),
            DefaultRef::Url(url) => self
                .instances
                .iter()
                .rev()
                .find(|i| i.instance.start_url() == url),
        }
    }

    /// Why there is no default instance when one is set: it names an instance entry that
    /// is not valid (`path` is the file's, for the message).
    pub fn broken_default(&self, path: &Path) -> Option<Error> {
        if self.default_instance().is_some() {
            return None;
        }
        let url = match self.default_instance.as_ref()? {
            DefaultRef::Exact { start_url, .. } | DefaultRef::Url(start_url) => start_url,
        };
        let k = self.skipped.iter().find(|k| {
            k.list == List::Instances
                && k.value.get("startUrl").and_then(|v| v.as_str()) == Some(url.as_str())
        })?;
        Some(Error::SettingsEntry {
            path: path.to_owned(),
            what: format!("the default {}", k.what),
            detail: k.detail.clone(),
        })
    }

    /// Adds `favourite`, or updates the one with the same profile name and target. A
    /// profile name already used for another account or role (in any instance) is an
    /// error naming it.
    pub fn add_favourite(&mut self, favourite: Favourite) -> Result<()> {
        let mut index = ProfileIndex::of(&self.favourites);
        self.add_favourite_indexed(&mut index, favourite)
    }

    /// [`Self::add_favourite`], finding the one of the same name through `index` (of
    /// these favourites, kept up to date), so that adding many is linear.
    fn add_favourite_indexed(
        &mut self,
        index: &mut ProfileIndex,
        favourite: Favourite,
    ) -> Result<()> {
        match index
            .position(favourite.profile.as_str())
            .and_then(|i| self.favourites.get_mut(i))
        {
            Some(f) if f.same_target(&favourite) => {
                // The same favourite again (re-added, imported): docker's logins stay
                // with it unless the new one names its own.
                let mut favourite = favourite;
                if favourite.ecr_regions.is_empty() {
                    favourite.ecr_regions = std::mem::take(&mut f.ecr_regions);
                }
                *f = favourite
            }
            Some(f) => {
                return Err(Error::FavouriteNameTaken {
                    profile: favourite.profile.to_string(),
                    target: format!(
                        "{}/{} of {}",
                        f.account_id,
                        f.role_name,
                        f.instance.start_url()
                    ),
                })
            }
            None => {
                index.insert(favourite.profile.as_str(), self.favourites.len());
                self.favourites.push(favourite);
            }
        }
        Ok(())
    }

    /// Replaces the favourite of the same profile name, whatever it named, in its place.
    pub fn replace_favourite(&mut self, favourite: Favourite) -> Result<()> {
        match self
            .favourites
            .iter_mut()
            .find(|f| f.profile == favourite.profile)
        {
            Some(f) => *f = favourite,
            None => {
                return Err(Error::NoSuchFavourite {
                    profile: favourite.profile.to_string(),
                })
            }
        }
        Ok(())
    }

    /// Removes the favourite with this profile name; returns it.
    pub fn remove_favourite(&mut self, profile: &str) -> Option<Favourite> {
        let i = self
            .favourites
            .iter()
            .position(|f| f.profile.as_str() == profile)?;
        Some(self.favourites.remove(i))
    }

    /// Removes an entry of the favourites that is not valid, by the profile name it has;
    /// returns whether there was one.
    pub fn remove_skipped_favourite(&mut self, profile: &str) -> bool {
        let before = self.skipped.len();
        self.skipped.retain(|k| {
            k.list != List::Favourites
                || k.value.get("profile").and_then(|v| v.as_str()) != Some(profile)
        });
        self.skipped.len() != before
    }

    /// The favourite with this profile name.
    pub fn favourite(&self, profile: &str) -> Option<&Favourite> {
        self.favourites
            .iter()
            .find(|f| f.profile.as_str() == profile)
    }

    /// The favourite with this profile name, or why there is none: no such favourite, or
    /// an entry of that name that is not valid.
    pub fn find_favourite(&self, profile: &str, path: &Path) -> Result<&Favourite> {
        if let Some(f) = self.favourite(profile) {
            return Ok(f);
        }
        let broken = self.skipped.iter().find(|k| {
            k.list == List::Favourites
                && k.value.get("profile").and_then(|v| v.as_str()) == Some(profile)
        });
        Err(match broken {
            Some(k) => Error::SettingsEntry {
                path: path.to_owned(),
                what: k.what.clone(),
                detail: k.detail.clone(),
            },
            None => Error::NoSuchFavourite {
                profile: profile.to_owned(),
            },
        })
    }

    /// The favourites of `instance`.
    pub fn favourites_of<'a>(
        &'a self,
        instance: &'a Instance,
    ) -> impl Iterator<Item = &'a Favourite> + 'a {
        self.favourites
            .iter()
            .filter(move |f| &f.instance == instance)
    }

    /// Makes the favourite named `profile` the one docker logs in as to the ECR registry
    /// of its [`Favourite::credentials_account`] in `region`, taking that region from any
    /// other favourite of the account. Returns the profile names it was taken from.
    pub fn choose_ecr_region(&mut self, profile: &str, region: &str) -> Result<Vec<String>> {
        let region = validate_region(region)?;
        let account = self
            .favourite(profile)
            .ok_or_else(|| Error::NoSuchFavourite {
                profile: profile.to_owned(),
            })?
            .credentials_account()
            .to_owned();
        let mut taken = Vec::new();
        for f in &mut self.favourites {
            if f.credentials_account() != account {
                continue;
            }
            if f.profile.as_str() == profile {
                if !f.ecr_regions.contains(&region) {
                    f.ecr_regions.push(region.clone());
                }
            } else if f.ecr_regions.contains(&region) {
                f.ecr_regions.retain(|r| r != &region);
                taken.push(f.profile.to_string());
            }
        }
        Ok(taken)
    }

    /// Who docker logs in as to the ECR registry of `account_id` in `region`: the
    /// favourite chosen for it, else the only favourite of that account.
    pub fn ecr_favourite(&self, account_id: &str, region: &str) -> EcrFavourite<'_> {
        let of_account: Vec<&Favourite> = self
            .favourites
            .iter()
            .filter(|f| f.credentials_account() == account_id)
            .collect();
        let chosen: Vec<&Favourite> = of_account
            .iter()
            .copied()
            .filter(|f| f.ecr_regions.iter().any(|r| r == region))
            .collect();
        match (chosen.as_slice(), of_account.as_slice()) {
            ([one], _) => EcrFavourite::Chosen(one),
            ([], []) => EcrFavourite::None,
            ([], [one]) => EcrFavourite::Only(one),
            ([], several) => EcrFavourite::Several(several.to_vec()),
            (several, _) => EcrFavourite::Several(several.to_vec()),
        }
    }

    /// The instances whose sessions are in use: the default one, and every one with a
    /// favourite, in that order.
    pub fn instances_in_use(&self) -> Vec<Instance> {
        let mut out: Vec<Instance> = Vec::new();
        let mut seen: HashSet<&Instance> = HashSet::new();
        let default = self.default_instance().map(|i| &i.instance);
        for i in default
            .into_iter()
            .chain(self.favourites.iter().map(|f| &f.instance))
        {
            if seen.insert(i) {
                out.push(i.clone());
            }
        }
        out
    }

    /// Every instance there is a reason to know: those remembered, then any other a
    /// favourite names.
    pub fn known_instances(&self) -> Vec<Instance> {
        let mut out: Vec<Instance> = Vec::new();
        let mut seen: HashSet<Instance> = HashSet::new();
        let remembered = self.instances.iter().map(|i| i.instance.clone());
        for i in remembered.chain(self.instances_in_use()) {
            if !seen.contains(&i) {
                seen.insert(i.clone());
                out.push(i);
            }
        }
        out
    }

    /// The name to show for `instance`: its label, else its host.
    pub fn name_of(&self, instance: &Instance) -> String {
        self.instances
            .iter()
            .find(|i| &i.instance == instance)
            .map(InstanceSettings::name)
            .unwrap_or_else(|| instance.host())
    }

    /// Takes in `other` (an export from another machine or a backup, read from `from`):
    /// its instances and favourites are added, its preferences replace ours. Nothing
    /// changes if one of its entries is not valid (each is named), or if one of its
    /// favourites would take a profile name that is ours for another account or role.
    pub fn import(&mut self, other: Settings, from: &Path) -> Result<()> {
        other.importable(from)?;
        let mut merged = self.clone();
        for i in other.instances {
            merged.remember(&i.instance, i.label);
        }
        let mut index = ProfileIndex::of(&merged.favourites);
        let mut ecr = Vec::new();
        for f in other.favourites {
            for r in &f.ecr_regions {
                ecr.push((f.profile.to_string(), r.clone()));
            }
            merged.add_favourite_indexed(&mut index, f)?;
        }
        // An imported favourite's docker logins are taken from any other of ours.
        for (profile, region) in ecr {
            merged.choose_ecr_region(&profile, &region)?;
        }
        merged.preferences = other.preferences;
        if merged.default_instance.is_none() {
            merged.default_instance = other.default_instance;
        }
        *self = merged;
        Ok(())
    }

    /// Fails, naming each, if these settings (read from `from`, to be imported) hold
    /// entries that are not valid or preferences out of range.
    pub fn importable(&self, from: &Path) -> Result<()> {
        if !self.skipped.is_empty() {
            return Err(Error::ImportRefused {
                path: from.to_owned(),
                entries: self
                    .skipped
                    .iter()
                    .map(|k| format!("{} ({})", k.what, k.detail))
                    .collect(),
            });
        }
        self.within_limits(from, "holds", "nothing was imported")?;
        self.preferences.validate()
    }

    /// Remembers `instance` (with `label`, if given); returns whether it was new. The
    /// first instance remembered becomes the default.
    pub fn add_instance(&mut self, instance: &Instance, label: Option<String>) -> bool {
        let known = self.instances.iter().any(|i| &i.instance == instance);
        self.remember(instance, label);
        if self.default_instance.is_none() {
            self.set_default(instance);
        }
        !known
    }

    /// Forgets `instance` (its favourites stay until removed); another becomes the
    /// default if it was.
    pub fn remove_instance(&mut self, instance: &Instance) -> Result<()> {
        let was_default = self
            .default_instance()
            .is_some_and(|i| &i.instance == instance);
        let before = self.instances.len();
        self.instances.retain(|i| &i.instance != instance);
        if self.instances.len() == before {
            return Err(Error::NoInstance);
        }
        if was_default {
            self.default_instance = None;
            if let Some(first) = self.instances.first().map(|i| i.instance.clone()) {
                self.set_default(&first);
            }
        }
        Ok(())
    }

    /// Sets the browser of `instance`'s console (remembering the instance if it was not).
    pub fn set_portal_browser(&mut self, instance: &Instance, browser: Option<BrowserChoice>) {
        self.remember(instance, None);
        if let Some(i) = self.instances.iter_mut().find(|i| &i.instance == instance) {
            i.browser = browser;
        }
    }

    fn remember(&mut self, instance: &Instance, label: Option<String>) {
        let label = label.filter(|l| !l.trim().is_empty());
        match self.instances.iter_mut().find(|i| &i.instance == instance) {
            Some(i) => i.label = label.or(i.label.take()),
            None => self.instances.push(InstanceSettings {
                instance: instance.clone(),
                label,
                browser: None,
            }),
        }
    }
}

/// Who docker logs in as to one ECR registry ([`Settings::ecr_favourite`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcrFavourite<'a> {
    /// The favourite chosen for the registry.
    Chosen(&'a Favourite),
    /// None is chosen, and this is the only favourite of the registry's account.
    Only(&'a Favourite),
    /// No favourite's credentials are of the registry's account.
    None,
    /// Several favourites of the account, none chosen (or, in a file changed by hand,
    /// several chosen): these.
    Several(Vec<&'a Favourite>),
}

/// Where each favourite of a list stands, by profile name (the first of a name, as
/// [`Settings::favourite`] finds it): one look-up instead of a scan of the list.
#[derive(Debug, Default)]
struct ProfileIndex(HashMap<String, usize>);

impl ProfileIndex {
    /// The index of `favourites`.
    fn of(favourites: &[Favourite]) -> Self {
        let mut index = Self(HashMap::with_capacity(favourites.len()));
        for (i, f) in favourites.iter().enumerate() {
            index.insert(f.profile.as_str(), i);
        }
        index
    }

    /// Where the favourite named `profile` stands.
    fn position(&self, profile: &str) -> Option<usize> {
        self.0.get(profile).copied()
    }

    /// Notes that the favourite named `profile` stands at `at`, unless one of that name
    /// stands earlier.
    fn insert(&mut self, profile: &str, at: usize) {
        self.0.entry(profile.to_owned()).or_insert(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(url: &str) -> Instance {
        Instance::new(url, "eu-west-1").unwrap()
    }

    #[test]
    fn round_trip_keeps_unknown_fields_and_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/settings.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"futureThing": {"a": 1}}"#).unwrap();
        let mut s = Settings::load(&path).unwrap();
        s.remember_default(&instance("https://a.awsapps.com/start"));
        s.save(&path).unwrap();
        let back = Settings::load(&path).unwrap();
        assert_eq!(
            back.default_instance().unwrap().instance.region(),
            "eu-west-1"
        );
        assert_eq!(back.other["futureThing"]["a"], 1);
    }

    #[test]
    fn the_default_is_keyed_by_url_and_region_and_old_files_still_read() {
        let one = Instance::new("https://a.awsapps.com/start", "eu-west-1").unwrap();
        let two = Instance::new("https://a.awsapps.com/start", "us-east-1").unwrap();
        let mut s = Settings::default();
        s.add_instance(&two, None);
        s.add_instance(&one, None);
        s.make_default(&one).unwrap();
        assert_eq!(s.default_instance().unwrap().instance, one);
        s.make_default(&two).unwrap();
        assert_eq!(s.default_instance().unwrap().instance, two);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["defaultInstance"]["region"], "us-east-1");
        // An earlier version's file: the start URL alone.
        let old: Settings = serde_json::from_str(
            r#"{"instances": [{"startUrl": "https://a.awsapps.com/start", "region": "eu-west-1"}],
                "defaultInstance": "https://a.awsapps.com/start"}"#,
        )
        .unwrap();
        assert_eq!(old.default_instance().unwrap().instance, one);
    }

    #[test]
    fn console_choices_round_trip_and_an_unusable_one_loses_only_itself() {
        let json = r#"{
            "instances": [
                {"startUrl": "https://a.awsapps.com/start", "region": "eu-west-1",
                 "browser": {"kind": "safari"}},
                {"startUrl": "https://b.awsapps.com/start", "region": "eu-west-1",
                 "browser": {"kind": "chrome", "profile": "Profile 2"}}
            ],
            "favourites": [
                {"profile": "odd", "startUrl": "https://a.awsapps.com/start", "ssoRegion": "eu-west-1",
                 "accountId": "111122223333", "roleName": "R", "console": {"colour": "crimson"}},
                {"profile": "kept", "startUrl": "https://a.awsapps.com/start", "ssoRegion": "eu-west-1",
                 "accountId": "111122223333", "roleName": "R",
                 "console": {"destination": {"service": "s3"}, "sessionSeconds": 7200,
                             "browser": {"kind": "firefox", "container": "open-external"},
                             "colour": "darkBlue", "colourFromAccount": true}}
            ]
        }"#;
        let s: Settings = serde_json::from_str(json).unwrap();
        assert!(s.skipped.is_empty(), "{:?}", s.skipped);
        assert_eq!(s.instances.len(), 2);
        assert_eq!(
            s.instances[0].browser, None,
            "an unknown browser is not used"
        );
        assert_eq!(
            s.instances[1]
                .browser
                .as_ref()
                .and_then(|b| b.profile.as_deref()),
            Some("Profile 2")
        );
        let odd = s.favourite("odd").expect("the favourite stays");
        assert!(odd.console.is_empty(), "{:?}", odd.console);
        let kept = s.favourite("kept").expect("kept");
        assert_eq!(kept.console.colour, Some(Colour::DarkBlue));
        assert_eq!(kept.console.session_seconds, Some(7200));
        let written = serde_json::to_value(&s).unwrap();
        assert_eq!(
            written["favourites"][1]["console"],
            serde_json::json!({"destination": {"service": "s3"}, "sessionSeconds": 7200,
                "browser": {"kind": "firefox", "container": "open-external"},
                "colour": "darkBlue", "colourFromAccount": true})
        );
        assert!(written["favourites"][0].get("console").is_none());
        // A chained favourite may not keep a session length: only that is dropped.
        let chained: Settings = serde_json::from_str(
            r#"{"favourites": [{"profile": "c", "startUrl": "https://a.awsapps.com/start",
                "ssoRegion": "eu-west-1", "accountId": "111122223333", "roleName": "R",
                "assumeRole": {"roleArn": "arn:aws:iam::444455556666:role/Deploy"},
                "console": {"sessionSeconds": 3600, "colour": "red"}}]}"#,
        )
        .unwrap();
        assert_eq!(chained.favourites.len(), 1);
        assert_eq!(chained.favourites[0].console.session_seconds, None);
        assert_eq!(chained.favourites[0].console.colour, Some(Colour::Red));
    }

    #[test]
    fn corrupt_settings_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = Settings::load(&path).unwrap_err();
        assert!(err.to_string().contains("settings.json"), "{err}");
        assert_eq!(err.advice().as_deref(), Some("fix or remove it"));
        assert_eq!(
            Settings::load(&dir.path().join("none.json")).unwrap(),
            Settings::default()
        );
    }

    fn favourite(profile: &str, account: &str) -> Favourite {
        Favourite::new(
            profile,
            instance("https://a.awsapps.com/start"),
            account,
            "ReadOnly",
            None,
        )
        .unwrap()
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
        s.import(other.clone(), Path::new("backup.json")).unwrap();
        assert_eq!(s.favourites.len(), 2);
        assert!(s.preferences.remove_profiles_on_quit);
        other
            .add_favourite(favourite("dev", "444444444444"))
            .unwrap();
        let before = s.clone();
        assert!(s.import(other, Path::new("backup.json")).is_err());
        assert_eq!(s, before);
        assert_eq!(
            s.remove_favourite("dev").unwrap().account_id,
            "111111111111"
        );
        assert!(s.favourite("dev").is_none());
    }

    #[test]
    fn a_bad_entry_is_skipped_named_and_kept_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(
            &path,
            r#"{"favourites": [
                {"profile": "good", "startUrl": "https://a.awsapps.com/start", "ssoRegion": "eu-west-1", "accountId": "111122223333", "roleName": "R"},
                {"profile": "bad name]", "startUrl": "https://a.awsapps.com/start", "ssoRegion": "eu-west-1", "accountId": "111122223333", "roleName": "R"},
                {"profile": "bad-url", "startUrl": "http://a.example.com/start", "ssoRegion": "eu-west-1", "accountId": "111122223333", "roleName": "R"},
                {"startUrl": 7}
            ]}"#,
        )
        .unwrap();
        let s = Settings::load(&path).unwrap();
        assert_eq!(s.favourites.len(), 1);
        let skipped: Vec<String> = s.skipped(&path).iter().map(|e| e.to_string()).collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(
            skipped[0].contains("favourite 'bad name]'")
                && skipped[0].contains("cannot be a profile name"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].contains("favourite 'bad-url'") && skipped[1].contains("must use https"),
            "{skipped:?}"
        );
        assert!(skipped[2].contains("favourite #4"), "{skipped:?}");
        let e = s.find_favourite("bad-url", &path).unwrap_err();
        assert!(matches!(e, Error::SettingsEntry { .. }), "{e}");
        assert!(matches!(
            s.find_favourite("nope", &path),
            Err(Error::NoSuchFavourite { .. })
        ));
        // Saving changes the good ones and keeps the others byte for byte in meaning.
        let (after, ()) = Settings::update(&path, |s| {
            s.preferences.remove_profiles_on_quit = true;
            Ok(())
        })
        .unwrap();
        assert_eq!(after.skipped(&path).len(), 3);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        // In their places: the numbered one keeps its number.
        assert_eq!(json["favourites"].as_array().unwrap().len(), 4);
        assert_eq!(json["favourites"][1]["profile"], "bad name]");
        assert_eq!(json["favourites"][3], serde_json::json!({"startUrl": 7}));
        assert!(after.skipped(&path)[2].to_string().contains("favourite #4"));
    }

    #[test]
    fn an_update_keeps_what_another_process_wrote_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let mut mine = Settings::default();
        mine.add_favourite(favourite("mine", "111111111111"))
            .unwrap();
        mine.save(&path).unwrap();
        // Another process adds one; ours still holds the old copy.
        let (_, ()) = Settings::update(&path, |s| {
            s.add_favourite(favourite("theirs", "222222222222"))
        })
        .unwrap();
        let (now, ()) = Settings::update(&path, |s| {
            s.preferences.share_session_with_aws_cli = true;
            Ok(())
        })
        .unwrap();
        let names: Vec<&str> = now.favourites.iter().map(|f| f.profile.as_str()).collect();
        assert_eq!(names, ["mine", "theirs"]);
    }

    /// The error of what was to be refused (without printing what was accepted: large).
    fn refused<T>(result: Result<T>) -> Error {
        match result {
            Ok(_) => panic!("accepted, not refused"),
            Err(e) => e,
        }
    }

    /// A settings file of `favourites` favourites and `instances` instances, as JSON.
    fn many(favourites: usize, instances: usize) -> String {
        many_value(favourites, instances).to_string()
    }

    fn many_value(favourites: usize, instances: usize) -> serde_json::Value {
        let favourites: Vec<serde_json::Value> = (0..favourites)
            .map(|i| {
                serde_json::json!({"profile": format!("p{i}"), "startUrl": "https://a.awsapps.com/start",
                    "ssoRegion": "eu-west-1", "accountId": format!("{}", 100_000_000_000u64 + i as u64),
                    "roleName": "ReadOnly"})
            })
            .collect();
        let instances: Vec<serde_json::Value> = (0..instances)
            .map(|i| {
                serde_json::json!({"startUrl": format!("https://i{i}.awsapps.com/start"), "region": "eu-west-1"})
            })
            .collect();
        serde_json::json!({"instances": instances, "favourites": favourites})
    }

    #[test]
    fn a_file_above_the_limits_is_refused_whole_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        // At the limits: read.
        std::fs::write(&path, many(10_000, 1_000)).unwrap();
        let s = Settings::load(&path).unwrap();
        assert_eq!((s.favourites.len(), s.instances.len()), (10_000, 1_000));
        // One favourite more (an entry that is not valid counts too), one instance more,
        // one byte more than 16 MiB: refused with a sentence, the file as it was.
        let mut broken = many_value(10_000, 0);
        if let Some(list) = broken["favourites"].as_array_mut() {
            list.push(serde_json::json!({"profile": "bad]"}));
        }
        let broken = broken.to_string();
        let over_bytes = format!(r#"{{"pad": "{}"}}"#, "x".repeat(16 * 1024 * 1024 + 1 - 11));
        assert_eq!(over_bytes.len(), 16 * 1024 * 1024 + 1);
        for (text, said) in [
            (
                many(10_001, 0),
                "holds 10001 favourites, more than the 10000 this program takes",
            ),
            (
                broken,
                "holds 10001 favourites, more than the 10000 this program takes",
            ),
            (
                many(0, 1_001),
                "holds 1001 instances, more than the 1000 this program takes",
            ),
            (
                over_bytes,
                "is larger than 16777216 bytes (16 MiB), the most this program reads",
            ),
        ] {
            std::fs::write(&path, &text).unwrap();
            let e = refused(Settings::load(&path));
            let message = e.to_string();
            assert!(message.contains(said), "{message}");
            assert!(message.contains("settings.json"), "{message}");
            assert!(
                message.ends_with("it is left as it is, unread"),
                "{message}"
            );
            let e = refused(Settings::update(&path, |s| {
                s.preferences.remove_profiles_on_quit = true;
                Ok(())
            }));
            assert!(e.to_string().contains(said), "{e}");
            assert!(
                std::fs::read_to_string(&path).unwrap() == text,
                "left as it is"
            );
            let e = refused(Settings::read_from(
                Path::new("export.json"),
                text.as_bytes(),
            ));
            assert!(e.to_string().contains(said), "{e}");
        }
    }

    #[test]
    fn a_change_or_import_above_the_limits_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, many(6_000, 0)).unwrap();
        let before = std::fs::read(&path).unwrap();
        // 4,000 of the same and 5,000 new: 11,000 in all.
        let text = many(5_000, 0).replace(r#""profile":"p"#, r#""profile":"q"#);
        let mut other: Settings = serde_json::from_str(&text).unwrap();
        let mut same: Vec<Favourite> = Settings::load(&path).unwrap().favourites;
        same.truncate(4_000);
        other.favourites.splice(0..0, same);
        other.importable(Path::new("export.json")).unwrap();
        let e = refused(Settings::update(&path, |s| {
            s.import(other, Path::new("export.json"))
        }));
        assert!(
            e.to_string()
                .contains("would hold 11000 favourites, more than the 10000 this program takes; it is left as it is"),
            "{e}"
        );
        assert!(std::fs::read(&path).unwrap() == before, "left as it is");
        // An import file above the limit is refused before anything is merged.
        let big: Settings = serde_json::from_str(&many(10_001, 0)).unwrap();
        let e = refused(big.importable(Path::new("export.json")));
        assert!(e.to_string().contains("nothing was imported"), "{e}");
    }

    #[test]
    fn the_profile_index_finds_the_first_of_a_name() {
        let mut list = vec![
            favourite("a", "111111111111"),
            favourite("b", "222222222222"),
        ];
        list.push(favourite("a", "333333333333"));
        let mut index = ProfileIndex::of(&list);
        assert_eq!(index.position("a"), Some(0));
        assert_eq!(index.position("b"), Some(1));
        assert_eq!(index.position("c"), None);
        index.insert("c", 3);
        index.insert("a", 2);
        assert_eq!(index.position("c"), Some(3));
        assert_eq!(index.position("a"), Some(0), "the first stays");
    }

    #[test]
    fn an_import_of_many_merges_by_name_in_order() {
        let mut s = Settings::default();
        for i in 0..3_000u64 {
            s.add_favourite(favourite(
                &format!("p{i}"),
                &format!("{}", 100_000_000_000 + i),
            ))
            .unwrap();
        }
        let mut other = Settings::default();
        // The second half again (one with a region now), and as many new.
        for i in 1_500..4_500u64 {
            let mut f = favourite(&format!("p{i}"), &format!("{}", 100_000_000_000 + i));
            f.region = (i == 2_000).then(|| "eu-west-2".to_owned());
            other.favourites.push(f);
        }
        s.import(other.clone(), Path::new("export.json")).unwrap();
        assert_eq!(s.favourites.len(), 4_500);
        assert!(s
            .favourites
            .iter()
            .enumerate()
            .all(|(i, f)| f.profile.as_str() == format!("p{i}")));
        assert_eq!(
            s.favourite("p2000").unwrap().region.as_deref(),
            Some("eu-west-2")
        );
        // One that takes a name for another account: nothing changes.
        other.favourites.push(favourite("p10", "999999999999"));
        let before = s.clone();
        assert!(matches!(
            s.import(other, Path::new("export.json")),
            Err(Error::FavouriteNameTaken { .. })
        ));
        assert_eq!(s, before);
    }

    #[test]
    fn instances_in_use_and_known_keep_their_order_without_repeats() {
        let (a, b, c) = (
            instance("https://a.awsapps.com/start"),
            instance("https://b.awsapps.com/start"),
            instance("https://c.awsapps.com/start"),
        );
        let mut s = Settings::default();
        s.add_instance(&c, None);
        s.add_instance(&b, None);
        for (p, i) in [("x", &a), ("y", &b), ("z", &a)] {
            let mut f = favourite(p, "111111111111");
            f.instance = i.clone();
            s.favourites.push(f);
        }
        assert_eq!(s.instances_in_use(), [c.clone(), a.clone(), b.clone()]);
        assert_eq!(s.known_instances(), [c, b, a]);
    }

    #[test]
    fn preferences_default_keep_unknown_fields_and_are_set_by_name() {
        let mut s: Settings =
            serde_json::from_str(r#"{"preferences": {"tokenRefreshMinutes": 0, "future": 1}}"#)
                .unwrap();
        assert_eq!(s.preferences.credentials_refresh_minutes, 10);
        assert!(s.preferences.validate().is_err());
        assert_eq!(
            s.preferences.token_refresh_margin(),
            Duration::from_secs(15 * 60)
        );
        let back = serde_json::to_string(&s).unwrap();
        assert!(back.contains("\"future\":1"), "{back}");
        s.preferences.set("tokenRefreshMinutes", "20").unwrap();
        s.preferences
            .set("removeProfilesOnSignOut", "true")
            .unwrap();
        s.preferences.set("signInFlow", "device").unwrap();
        assert_eq!(s.preferences.discovery_percent, 50, "the default");
        s.preferences.set("discoveryPercent", "30").unwrap();
        assert_eq!(s.preferences.discovery_percent, 30);
        assert_eq!(
            s.preferences.token_refresh_margin(),
            Duration::from_secs(20 * 60)
        );
        assert!(s.preferences.remove_profiles_on_sign_out);
        assert_eq!(s.preferences.sign_in_flow, FlowPreference::Device);
        for (name, value) in [
            ("tokenRefreshMinutes", "0"),
            ("signInFlow", "x"),
            ("removeProfilesOnQuit", "2"),
            ("discoveryPercent", "5"),
            ("discoveryPercent", "101"),
            ("nope", "1"),
        ] {
            let e = s.preferences.set(name, value).unwrap_err();
            assert!(matches!(e, Error::InvalidPreference { .. }), "{e}");
        }
    }

    #[test]
    fn docker_logins_are_one_favourite_per_account_and_region_and_old_files_read() {
        let chained = |profile: &str| {
            let mut f = favourite(profile, "111111111111");
            f.assume_role = Some(
                AssumeRole::new(crate::source::AssumeRoleEntry {
                    role_arn: "arn:aws:iam::222222222222:role/Deploy".into(),
                    ..Default::default()
                })
                .unwrap(),
            );
            f
        };
        let mut s = Settings::default();
        for f in [
            favourite("a", "222222222222"),
            favourite("b", "222222222222"),
            favourite("c", "333333333333"),
            chained("d"),
        ] {
            s.add_favourite(f).unwrap();
        }
        assert_eq!(
            s.favourite("d").unwrap().credentials_account(),
            "222222222222"
        );
        assert_eq!(
            s.ecr_favourite("444444444444", "eu-west-1"),
            EcrFavourite::None
        );
        assert!(matches!(
            s.ecr_favourite("333333333333", "eu-west-1"),
            EcrFavourite::Only(f) if f.profile.as_str() == "c"
        ));
        let several = |s: &Settings| -> Vec<String> {
            match s.ecr_favourite("222222222222", "eu-west-1") {
                EcrFavourite::Several(list) => list.iter().map(|f| f.profile.to_string()).collect(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(several(&s), ["a", "b", "d"]);
        // Chosen: the favourite that assumes a role in the account counts as one of it.
        assert!(s.choose_ecr_region("d", "eu-west-1").unwrap().is_empty());
        assert!(matches!(
            s.ecr_favourite("222222222222", "eu-west-1"),
            EcrFavourite::Chosen(f) if f.profile.as_str() == "d"
        ));
        assert_eq!(s.choose_ecr_region("a", "eu-west-1").unwrap(), ["d"]);
        assert!(s.choose_ecr_region("a", "eu-west-1").unwrap().is_empty());
        assert_eq!(s.favourite("a").unwrap().ecr_regions, ["eu-west-1"]);
        assert!(s.favourite("d").unwrap().ecr_regions.is_empty());
        assert!(matches!(
            s.ecr_favourite("222222222222", "us-east-1"),
            EcrFavourite::Several(_)
        ));
        assert!(matches!(
            s.choose_ecr_region("a", "nowhere"),
            Err(Error::InvalidRegion { .. })
        ));
        assert!(matches!(
            s.choose_ecr_region("zz", "eu-west-1"),
            Err(Error::NoSuchFavourite { .. })
        ));

        // In the file only when chosen; read back; an older file has none.
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json["favourites"][0]["ecrRegions"],
            serde_json::json!(["eu-west-1"])
        );
        assert!(json["favourites"][1].get("ecrRegions").is_none());
        let back: Settings = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, s);
        let mut bad = json;
        bad["favourites"][0]["ecrRegions"] = serde_json::json!(["not a region"]);
        let skipped: Settings = serde_json::from_value(bad).unwrap();
        assert_eq!(skipped.favourites.len(), 3);
        assert_eq!(skipped.skipped.len(), 1);

        // The same favourite added again keeps its logins; an import's choice wins.
        s.add_favourite(favourite("a", "222222222222")).unwrap();
        assert_eq!(s.favourite("a").unwrap().ecr_regions, ["eu-west-1"]);
        let mut other = Settings::default();
        let mut b = favourite("b", "222222222222");
        b.ecr_regions = vec!["eu-west-1".into()];
        other.add_favourite(b).unwrap();
        s.import(other, Path::new("export.json")).unwrap();
        assert!(s.favourite("a").unwrap().ecr_regions.is_empty());
        assert_eq!(s.favourite("b").unwrap().ecr_regions, ["eu-west-1"]);
    }
}
