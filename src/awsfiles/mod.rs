//! Named profiles in `~/.aws/credentials` and `~/.aws/config`, written without losing a
//! byte of anything else in those files.
//!
//! - Every line this project did not write survives byte for byte: comments, blank
//!   lines, order, CRLF, a missing final newline, unknown keys, other tools' profiles.
//! - A section we write carries a visible marker comment ([`MARKER`]); a same-named
//!   section without it is the user's, and writing over it needs `force`.
//! - Each change happens under a cross-process lock, re-reading the file first, and
//!   lands with an atomic rename: a crash leaves the old file or the new one.
//! - A file that neither the AWS CLI nor the AWS SDKs can parse is not touched; the error
//!   names the line. Lines only the AWS CLI reads are kept as they are.
//!
//! ```no_run
//! # fn demo(creds: &aws_sso_device_auth_provider::RoleCredentials) -> aws_sso_device_auth_provider::Result<()> {
//! use aws_sso_device_auth_provider::awsfiles::{AwsFiles, Changes, ProfileName, ProfileWrite};
//! let files = AwsFiles::from_env(|k| std::env::var(k).ok())?;
//! let write = ProfileWrite::new(ProfileName::new("dev-admin")?, creds).region("eu-west-1")?;
//! files.apply(&Changes::new().write(write))?;
//! # Ok(()) }
//! ```

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
mod ini;
#[cfg(test)]
mod props;

pub use ini::{FileKind, MARKER};

use crate::atomic_file::{self, WriteLock};
use crate::clock;
use crate::error::{Error, Result};
use crate::portal::RoleCredentials;
use crate::secret::Secret;
use ini::Document;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Settings in a config-file profile that the SDKs use in place of the static keys of
/// the credentials file: a profile with one of them would ignore what we write.
const SHADOWING_KEYS: &[&str] = &[
    "role_arn",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
];

/// Where the expiry goes, for people and shell prompts (the SDKs ignore it).
pub const EXPIRY_KEY: &str = "x_security_token_expires";

/// A profile name the AWS SDKs accept: letters, digits and `-_./%@:+`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileName(String);

/// The longest profile name written.
pub const PROFILE_NAME_MAX: usize = 128;

/// Whether the AWS CLI and SDKs accept `c` in a profile name: ASCII letters, digits and
/// `-_./%@:+`.
pub fn is_profile_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./%@:+".contains(c)
}

impl ProfileName {
    /// `name` made valid: other characters dropped, cut at [`PROFILE_NAME_MAX`];
    /// `fallback` (itself valid) when nothing is left.
    pub(crate) fn lossy(name: &str, fallback: &'static str) -> Self {
        let mut kept: String = name.chars().filter(|c| is_profile_name_char(*c)).collect();
        kept.truncate(PROFILE_NAME_MAX);
        if kept.is_empty() {
            kept = fallback.to_owned();
        }
        Self(kept)
    }

    /// Checks `name` against the SDKs' rules (a name they would ignore is refused).
    pub fn new(name: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidProfileName {
            name: name.chars().take(80).collect(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > PROFILE_NAME_MAX {
            return Err(invalid("it is longer than 128 characters"));
        }
        if !name.chars().all(is_profile_name_char) {
            return Err(invalid(
                "the AWS CLI and SDKs ignore profiles with other characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Looked up by its text: a map keyed by names answers a `&str`.
impl std::borrow::Borrow<str> for ProfileName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ProfileName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

/// One profile to write: role credentials under a name, and optionally its region.
#[derive(Debug, Clone)]
pub struct ProfileWrite {
    name: ProfileName,
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Secret,
    expires_at: SystemTime,
    region: Option<String>,
}

impl ProfileWrite {
    /// `credentials` under `name`, in the credentials file only.
    pub fn new(name: ProfileName, credentials: &RoleCredentials) -> Self {
        Self {
            name,
            access_key_id: credentials.access_key_id.clone(),
            secret_access_key: credentials.secret_access_key.clone(),
            session_token: credentials.session_token.clone(),
            expires_at: credentials.expiration,
            region: None,
        }
    }

    /// Also writes `[profile NAME]` with this `region` into the config file.
    pub fn region(mut self, region: &str) -> Result<Self> {
        self.region = Some(crate::instance::validate_region(region)?);
        Ok(self)
    }

    /// The profile name.
    pub fn name(&self) -> &ProfileName {
        &self.name
    }

    /// The lines of the credentials section, each value checked to read back unchanged.
    fn credential_entries(&self) -> Result<[(&'static str, String); 4]> {
        let entries = [
            ("aws_access_key_id", self.access_key_id.clone()),
            (
                "aws_secret_access_key",
                self.secret_access_key.expose().to_owned(),
            ),
            ("aws_session_token", self.session_token.expose().to_owned()),
            (EXPIRY_KEY, clock::rfc3339(self.expires_at)),
        ];
        for (key, value) in &entries {
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::InvalidProfileValue {
                    profile: self.name.to_string(),
                    key,
                });
            }
        }
        Ok(entries)
    }
}

/// A profile that runs a command for its credentials (`credential_process` in the
/// config file) instead of holding keys in the credentials file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessProfile {
    name: ProfileName,
    command: String,
    region: Option<String>,
}

impl ProcessProfile {
    /// `[profile NAME]` with `credential_process = COMMAND`. The command must read back
    /// as written: one line, and no `#` or `;` after a blank (the SDKs cut comments there).
    pub fn new(name: ProfileName, command: &str) -> Result<Self> {
        let cuts = command
            .char_indices()
            .any(|(i, c)| "#;".contains(c) && i > 0 && command[..i].ends_with([' ', '\t']));
        if command.trim().is_empty() || command.chars().any(char::is_control) || cuts {
            return Err(Error::InvalidProfileValue {
                profile: name.to_string(),
                key: "credential_process",
            });
        }
        Ok(Self {
            name,
            command: command.trim().to_owned(),
            region: None,
        })
    }

    /// `[profile NAME]` whose credentials come from `CLI credentials --profile NAME`, the
    /// `aws-sso-auth` command at path `cli` (both quoted for a shell where needed).
    pub fn aws_sso_auth(name: ProfileName, cli: &Path) -> Result<Self> {
        let command = format!(
            "{} credentials --profile {}",
            quote_for_shell(&cli.to_string_lossy()),
            quote_for_shell(name.as_str())
        );
        Self::new(name, &command)
    }

    /// Also `region` in the same section.
    pub fn region(mut self, region: &str) -> Result<Self> {
        self.region = Some(crate::instance::validate_region(region)?);
        Ok(self)
    }
}

/// `s` as one word for a POSIX shell (which the SDKs run `credential_process` through):
/// as it is when that is safe, else single-quoted.
#[cfg(not(windows))]
fn quote_for_shell(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `s` as one word for `cmd.exe /C` and Windows' command-line splitting (which the SDKs
/// and botocore run `credential_process` through there): as it is when that is safe, else
/// double-quoted. Paths and profile names hold no `"`.
#[cfg(windows)]
fn quote_for_shell(s: &str) -> String {
    let plain = !s.is_empty() && !s.chars().any(|c| " \t&|<>^%()\"".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("\"{s}\"")
    }
}

/// A batch of changes, applied in one write per file.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    writes: Vec<ProfileWrite>,
    processes: Vec<ProcessProfile>,
    removals: Vec<ProfileName>,
    force: bool,
}

impl Changes {
    /// No changes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes (or renews) a profile.
    pub fn write(mut self, profile: ProfileWrite) -> Self {
        self.writes.push(profile);
        self
    }

    /// Writes (or updates) a `credential_process` profile; our keys for the same name
    /// leave the credentials file, since some SDKs would prefer them.
    pub fn write_process(mut self, profile: ProcessProfile) -> Self {
        self.processes.push(profile);
        self
    }

    /// Removes a profile, if it is ours.
    pub fn remove(mut self, name: ProfileName) -> Self {
        self.removals.push(name);
        self
    }

    /// Replaces same-named profiles this project did not write (they become ours).
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
}

/// What [`AwsFiles::apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Profiles written that did not exist.
    pub created: Vec<ProfileName>,
    /// Our profiles, renewed.
    pub updated: Vec<ProfileName>,
    /// Profiles that were not ours, replaced because the change was forced.
    pub took_over: Vec<ProfileName>,
    /// Our profiles removed.
    pub removed: Vec<ProfileName>,
    /// Profiles asked to be removed that are the user's (file, line), left alone.
    pub not_ours: Vec<(ProfileName, PathBuf, usize)>,
    /// Profiles asked to be removed that exist nowhere.
    pub not_found: Vec<ProfileName>,
    /// The files that were replaced (unchanged files are not rewritten).
    pub files_written: Vec<PathBuf>,
    /// The credentials file, when it could be read by other users and now cannot (it
    /// holds secret keys).
    pub tightened: Option<PathBuf>,
}

impl Applied {
    /// Why a removal asked for left something in place: the first profile that is the
    /// user's (named with its file and line), else the first that exists nowhere.
    pub fn not_removed(&self) -> Option<Error> {
        if let Some((name, path, line)) = self.not_ours.first() {
            return Some(Error::NothingToRemove {
                name: name.to_string(),
                detail: format!(
                    "; the one in {} line {line} is not from aws-sso-tray and was left alone",
                    path.display()
                ),
            });
        }
        self.not_found.first().map(|name| Error::NothingToRemove {
            name: name.to_string(),
            detail: String::new(),
        })
    }
}

/// A profile this project wrote, as found in the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedProfile {
    /// Its name.
    pub name: String,
    /// When its credentials expire, if recorded and readable.
    pub expires_at: Option<SystemTime>,
    /// Its region in the config file, if we wrote one.
    pub region: Option<String>,
    /// The credentials it holds, when all four values are there.
    pub credentials: Option<RoleCredentials>,
}

impl ManagedProfile {
    /// When each profile of `profiles` expires, by name (the first of a name, as a scan
    /// finds it): one look-up per name instead of a scan of them all.
    pub fn expiries_by_name(profiles: &[ManagedProfile]) -> HashMap<&str, Option<SystemTime>> {
        let mut expiries = HashMap::with_capacity(profiles.len());
        for p in profiles {
            expiries.entry(p.name.as_str()).or_insert(p.expires_at);
        }
        expiries
    }
}

/// An IAM Identity Center instance named in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredInstance {
    /// The start URL.
    pub start_url: String,
    /// Its region.
    pub region: String,
    /// Where it was found: `sso-session NAME` or `profile NAME`.
    pub source: String,
}

/// The shared credentials and config files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFiles {
    credentials: PathBuf,
    config: PathBuf,
}

impl AwsFiles {
    /// The two files at these paths.
    pub fn new(credentials: impl Into<PathBuf>, config: impl Into<PathBuf>) -> Self {
        Self {
            credentials: credentials.into(),
            config: config.into(),
        }
    }

    /// Where the AWS CLI and SDKs look: `AWS_SHARED_CREDENTIALS_FILE` and
    /// `AWS_CONFIG_FILE` (a leading `~` is the home directory), else `~/.aws/…`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        let home = crate::env::home_dir(get);
        let locate = |variable: &'static str, what: &'static str| match get(variable) {
            Some(path) => Ok(expand_home(&path, home.as_deref())),
            None => home
                .as_ref()
                .map(|h| h.join(".aws").join(what))
                .ok_or(Error::NoAwsFile { what, variable }),
        };
        Ok(Self {
            credentials: locate("AWS_SHARED_CREDENTIALS_FILE", "credentials")?,
            config: locate("AWS_CONFIG_FILE", "config")?,
        })
    }

    /// The credentials file.
    pub fn credentials_file(&self) -> &Path {
        &self.credentials
    }

    /// The config file.
    pub fn config_file(&self) -> &Path {
        &self.config
    }

    /// Applies `changes`: under each file's lock, re-reads it, edits it, and replaces it
    /// atomically if anything changed. All checks run before the first write, so an
    /// error (a profile that is not ours, an unparsable or read-only file) changes nothing.
    pub fn apply(&self, changes: &Changes) -> Result<Applied> {
        // A rehearsal without locks first: a change that is going to fail fails before
        // the directory or a lock file is created for it.
        self.edit(changes, false)?;
        self.edit(changes, true)
    }

    /// [`Self::apply`], or with `write` false, everything but the locks and the writes.
    fn edit(&self, changes: &Changes, write: bool) -> Result<Applied> {
        let writes_config = changes.force
            || !changes.processes.is_empty()
            || changes.writes.iter().any(|w| w.region.is_some());
        let lock = |l| if write { l } else { Lock::No };
        let mut creds = Edit::open(&self.credentials, FileKind::Credentials, lock(Lock::Create))?;
        let mut config = Edit::open(
            &self.config,
            FileKind::Config,
            lock(match (writes_config, changes.removals.is_empty()) {
                (true, _) => Lock::Create,
                (false, false) => Lock::IfPresent,
                (false, true) => Lock::No,
            }),
        )?;
        let mut applied = Applied::default();
        for w in &changes.writes {
            let name = w.name.as_str();
            let shadowed = config.doc.foreign_key(name, SHADOWING_KEYS);
            if let (Some((line, key)), false) = (&shadowed, changes.force) {
                return Err(Error::ProfileShadowed {
                    path: self.config.clone(),
                    line: *line,
                    name: name.to_owned(),
                    key: key.clone(),
                });
            }
            let entries = w.credential_entries()?;
            let entries: Vec<(&str, &str)> =
                entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let outcome = creds.upsert(name, &entries, changes.force)?;
            // Ours, from a credential_process profile of the same name: it would shadow.
            if config
                .doc
                .managed()
                .iter()
                .any(|m| m.name == name && SHADOWING_KEYS.iter().any(|k| m.values.contains_key(*k)))
            {
                config.doc.remove(name);
            }
            let config_outcome = match (&w.region, shadowed) {
                (Some(region), _) => {
                    Some(config.upsert(name, &[("region", region)], changes.force)?)
                }
                // Forced, with no region: only what would shadow us is taken over.
                (None, Some(_)) => Some(config.upsert(name, &[], true)?),
                (None, None) => None,
            };
            let list = match (outcome, config_outcome) {
                (ini::Upserted::TookOver, _) | (_, Some(ini::Upserted::TookOver)) => {
                    &mut applied.took_over
                }
                (ini::Upserted::Created, _) => &mut applied.created,
                (ini::Upserted::Updated, _) => &mut applied.updated,
            };
            list.push(w.name.clone());
        }
        for p in &changes.processes {
            let name = p.name.as_str();
            if let (Some(f), false) = (creds.doc.foreign(name), changes.force) {
                return Err(Error::ProfileNotOurs {
                    path: self.credentials.clone(),
                    line: f.line,
                    name: name.to_owned(),
                });
            }
            // Forced over a profile of the user's: it becomes ours, then goes.
            if creds.doc.foreign(name).is_some() {
                creds.upsert(name, &[], true)?;
            }
            creds.doc.remove(name);
            let mut entries = vec![("credential_process", p.command.as_str())];
            if let Some(r) = &p.region {
                entries.push(("region", r));
            }
            let list = match config.upsert(name, &entries, changes.force)? {
                ini::Upserted::TookOver => &mut applied.took_over,
                ini::Upserted::Created => &mut applied.created,
                ini::Upserted::Updated => &mut applied.updated,
            };
            list.push(p.name.clone());
        }
        for name in &changes.removals {
            let removed = creds.doc.remove(name.as_str()) + config.doc.remove(name.as_str());
            if removed > 0 {
                applied.removed.push(name.clone());
            } else if let Some(f) = creds.doc.foreign(name.as_str()) {
                applied
                    .not_ours
                    .push((name.clone(), self.credentials.clone(), f.line));
            } else if let Some(f) = config.doc.foreign(name.as_str()) {
                applied
                    .not_ours
                    .push((name.clone(), self.config.clone(), f.line));
            } else {
                applied.not_found.push(name.clone());
            }
        }
        creds.check_writable()?;
        config.check_writable()?;
        if !write {
            return Ok(applied);
        }
        for edit in [&creds, &config] {
            if let Some(tightened) = edit.save()? {
                applied.files_written.push(edit.path.clone());
                if tightened {
                    tracing::warn!(path = %edit.path.display(), "the credentials file could be read by other users; it is now private (0600)");
                    applied.tightened = Some(edit.path.clone());
                }
            }
        }
        Ok(applied)
    }

    /// The IAM Identity Center instances the AWS CLI is set up for: `[sso-session NAME]`
    /// sections and legacy profiles with `sso_start_url` and `sso_region`, each instance
    /// once (the first place it appears), in file order. A missing file has none.
    pub fn configured_instances(&self) -> Result<Vec<ConfiguredInstance>> {
        let config = Edit::open(&self.config, FileKind::Config, Lock::No)?;
        let mut found: Vec<ConfiguredInstance> = Vec::new();
        for (prefix, name, values) in config.doc.sections() {
            let source = match prefix.as_deref() {
                Some("sso-session") => format!("sso-session {name}"),
                Some("profile") => format!("profile {name}"),
                None if name == "default" => "profile default".to_owned(),
                _ => continue,
            };
            let (Some(url), Some(region)) = (values.get("sso_start_url"), values.get("sso_region"))
            else {
                continue;
            };
            if !found
                .iter()
                .any(|f| &f.start_url == url && &f.region == region)
            {
                found.push(ConfiguredInstance {
                    start_url: url.clone(),
                    region: region.clone(),
                    source,
                });
            }
        }
        Ok(found)
    }

    /// The files whose default profile holds credentials, or a way to them, that the AWS
    /// SDKs read before a container's endpoint: keys, `credential_process`, SSO, a role
    /// to assume or a web identity. A missing file holds none.
    pub fn default_profile_credentials(&self) -> Result<Vec<PathBuf>> {
        const CONFIG_KEYS: &[&str] = &[
            "aws_access_key_id",
            "credential_process",
            "sso_session",
            "sso_start_url",
            "sso_account_id",
            "role_arn",
            "web_identity_token_file",
        ];
        let creds = Edit::open(&self.credentials, FileKind::Credentials, Lock::No)?;
        let config = Edit::open(&self.config, FileKind::Config, Lock::No)?;
        let holds = |edit: &Edit, keys: &[&str]| {
            edit.doc
                .sections()
                .into_iter()
                .any(|(prefix, name, values)| {
                    // `[default]`, or `[profile default]` in the config file.
                    matches!(prefix.as_deref(), None | Some("profile"))
                        && name == "default"
                        && keys
                            .iter()
                            .any(|k| values.get(*k).is_some_and(|v| !v.is_empty()))
                })
        };
        let mut found = Vec::new();
        if holds(&creds, &["aws_access_key_id"]) {
            found.push(self.credentials.clone());
        }
        if holds(&config, CONFIG_KEYS) {
            found.push(self.config.clone());
        }
        Ok(found)
    }

    /// The names of the `[sso-session]` sections of the config file for this instance.
    pub fn sso_sessions_of(&self, start_url: &str, region: &str) -> Result<Vec<String>> {
        let config = Edit::open(&self.config, FileKind::Config, Lock::No)?;
        Ok(config
            .doc
            .sections()
            .into_iter()
            .filter(|(prefix, _, values)| {
                prefix.as_deref() == Some("sso-session")
                    && values.get("sso_start_url").map(String::as_str) == Some(start_url)
                    && values.get("sso_region").map(String::as_str) == Some(region)
            })
            .map(|(_, name, _)| name)
            .collect())
    }

    /// The profiles this project wrote into the credentials file, with their expiry and
    /// the region from the config file.
    pub fn managed_profiles(&self) -> Result<Vec<ManagedProfile>> {
        let creds = Edit::open(&self.credentials, FileKind::Credentials, Lock::No)?;
        let config = Edit::open(&self.config, FileKind::Config, Lock::No)?;
        let regions = config.doc.managed();
        Ok(creds
            .doc
            .managed()
            .into_iter()
            .map(|s| ManagedProfile {
                expires_at: s
                    .values
                    .get(EXPIRY_KEY)
                    .and_then(|v| clock::parse_rfc3339(v)),
                credentials: read_credentials(&s.values),
                region: regions
                    .iter()
                    .find(|c| c.name == s.name)
                    .and_then(|c| c.values.get("region").cloned()),
                name: s.name,
            })
            .collect())
    }
}

fn read_credentials(
    values: &std::collections::BTreeMap<String, String>,
) -> Option<RoleCredentials> {
    let get = |k: &str| values.get(k).filter(|v| !v.is_empty());
    Some(RoleCredentials {
        access_key_id: get("aws_access_key_id")?.clone(),
        secret_access_key: Secret::new(get("aws_secret_access_key")?.as_str()),
        session_token: Secret::new(get("aws_session_token")?.as_str()),
        expiration: clock::parse_rfc3339(get(EXPIRY_KEY)?)?,
    })
}

/// `~` or `~/…` relative to `home`, as the SDKs expand these variables.
fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home.to_path_buf(),
        (Some(rest), Some(home)) if rest.starts_with(['/', '\\']) => home.join(&rest[1..]),
        _ => PathBuf::from(path),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// Lock, creating the directory if needed (we are going to write).
    Create,
    /// Lock if the directory exists (without it there is no file to change).
    IfPresent,
    /// Read only.
    No,
}

/// One file being edited: its document as read under the lock, and the lock.
struct Edit {
    path: PathBuf,
    kind: FileKind,
    lock: Option<WriteLock>,
    existed: bool,
    original: String,
    doc: Document,
}

impl Edit {
    fn open(path: &Path, kind: FileKind, lock: Lock) -> Result<Self> {
        let io = |action, source| Error::Io {
            action,
            path: path.to_owned(),
            source,
        };
        let target = atomic_file::resolve(path).map_err(|e| io("follow the links of", e))?;
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
        if lock == Lock::Create {
            if let Some(dir) = dir {
                atomic_file::create_private_dir(dir)
                    .map_err(|e| io("create the directory of", e))?;
            }
        }
        let lock = match lock {
            Lock::Create => Some(WriteLock::acquire(&target).map_err(|e| io("lock", e))?),
            Lock::IfPresent if dir.is_none_or(Path::exists) => {
                Some(WriteLock::acquire(&target).map_err(|e| io("lock", e))?)
            }
            Lock::IfPresent | Lock::No => None,
        };
        let (existed, bytes) = match std::fs::read(&target) {
            Ok(bytes) => (true, bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (false, Vec::new()),
            Err(e) => return Err(io("read", e)),
        };
        let original = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            Error::UnreadableProfileFile {
                path: path.to_owned(),
                line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
                reason: "not UTF-8 text (the AWS SDKs then ignore the whole file)",
                consequence: ini::NOBODY_READS_IT,
            }
        })?;
        let doc = Document::parse(&original, kind).map_err(|e| Error::UnreadableProfileFile {
            path: path.to_owned(),
            line: e.line,
            reason: e.reason,
            consequence: e.consequence,
        })?;
        Ok(Self {
            path: path.to_owned(),
            kind,
            lock,
            existed,
            original,
            doc,
        })
    }

    fn upsert(
        &mut self,
        name: &str,
        entries: &[(&str, &str)],
        force: bool,
    ) -> Result<ini::Upserted> {
        self.doc
            .upsert(name, entries, force)
            .map_err(|f| Error::ProfileNotOurs {
                path: self.path.clone(),
                line: f.line,
                name: name.to_owned(),
            })
    }

    fn changed(&self) -> bool {
        self.doc.render() != self.original
    }

    fn check_writable(&self) -> Result<()> {
        if !self.changed() || !self.existed {
            return Ok(());
        }
        let metadata = std::fs::metadata(&self.path).map_err(|source| Error::Io {
            action: "read the permissions of",
            path: self.path.clone(),
            source,
        })?;
        if metadata.permissions().readonly() {
            return Err(Error::ReadOnlyFile {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Replaces the file if the document changed; returns whether it did.
    /// Writes the document if it changed; `Some(tightened)` when it did (the
    /// credentials file, which holds secrets, loses what the group and others could do).
    fn save(&self) -> Result<Option<bool>> {
        if !self.changed() {
            return Ok(None);
        }
        let failed = |source| Error::WriteFailed {
            path: self.path.clone(),
            source,
        };
        let lock = self.lock.as_ref().ok_or_else(|| {
            failed(std::io::Error::other(format!(
                "the {:?} file was read without its lock",
                self.kind
            )))
        })?;
        let bytes = self.doc.render();
        let tightened = match self.kind {
            FileKind::Credentials => lock.replace_private(bytes.as_bytes()),
            FileKind::Config => lock.replace(bytes.as_bytes()).map(|()| false),
        }
        .map_err(failed)?;
        Ok(Some(tightened))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(windows))]
    #[test]
    fn process_profiles_quote_only_what_a_shell_would_split() {
        let p = ProcessProfile::aws_sso_auth(
            ProfileName::new("team/dev%1").unwrap(),
            Path::new("/opt/my apps/aws-sso-auth"),
        )
        .unwrap();
        assert_eq!(
            p.command,
            "'/opt/my apps/aws-sso-auth' credentials --profile 'team/dev%1'"
        );
        let p = ProcessProfile::aws_sso_auth(
            ProfileName::new("dev").unwrap(),
            Path::new("/usr/bin/aws-sso-auth"),
        )
        .unwrap();
        assert_eq!(p.command, "/usr/bin/aws-sso-auth credentials --profile dev");
    }

    #[cfg(unix)]
    #[test]
    fn a_shell_reads_a_quoted_word_as_it_was() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s|' {}", quote_for_shell("it's a;b")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "it's a;b|");
    }

    #[cfg(windows)]
    #[test]
    fn process_profiles_quote_only_what_cmd_would_split() {
        let p = ProcessProfile::aws_sso_auth(
            ProfileName::new("team/dev%1").unwrap(),
            Path::new(r"C:\Program Files\AWS SSO Tray\aws-sso-auth.exe"),
        )
        .unwrap();
        assert_eq!(
            p.command,
            r#""C:\Program Files\AWS SSO Tray\aws-sso-auth.exe" credentials --profile "team/dev%1""#
        );
        let p = ProcessProfile::aws_sso_auth(
            ProfileName::new("dev").unwrap(),
            Path::new(r"C:\tools\aws-sso-auth.exe"),
        )
        .unwrap();
        assert_eq!(
            p.command,
            r"C:\tools\aws-sso-auth.exe credentials --profile dev"
        );
        assert_eq!(quote_for_shell("a(b)"), r#""a(b)""#);
        assert_eq!(quote_for_shell(""), r#""""#);
    }

    #[test]
    fn profile_names_follow_the_sdk() {
        for ok in ["dev", "dev-admin", "a.b_c/d%e@f:g+h", "default", "Prod1"] {
            ProfileName::new(ok).unwrap();
        }
        for bad in ["", "a]b", "a b", "a\nb", "[x]", "é", "a#b", "a;b", "a=b"] {
            let err = ProfileName::new(bad).unwrap_err().to_string();
            assert!(err.contains("cannot be a profile name"), "{bad:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn env_overrides_and_home_expansion() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let f = AwsFiles::from_env(env(&[("HOME", "/home/u")])).unwrap();
        assert_eq!(f.credentials_file(), Path::new("/home/u/.aws/credentials"));
        assert_eq!(f.config_file(), Path::new("/home/u/.aws/config"));
        let f = AwsFiles::from_env(env(&[
            ("HOME", "/home/u"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/creds"),
            ("AWS_CONFIG_FILE", "/etc/aws/config"),
        ]))
        .unwrap();
        assert_eq!(f.credentials_file(), Path::new("/home/u/creds"));
        assert_eq!(f.config_file(), Path::new("/etc/aws/config"));
        let err = AwsFiles::from_env(env(&[])).unwrap_err().to_string();
        assert!(err.contains("AWS_SHARED_CREDENTIALS_FILE"), "{err}");
    }
}
