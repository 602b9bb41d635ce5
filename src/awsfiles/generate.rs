//! AWS CLI v2 profiles generated for many roles at once, in the config file: one
//! `[sso-session]` for the access portal and a `[profile]` per role, each marked as
//! generated with that session (a comment line), so that a later run
//! knows exactly which sections are its own. A run makes the file hold what it asks for:
//! new roles are added, changed ones updated in place, and the generated profiles of
//! roles no longer asked for (access removed, or filtered out) removed. Nothing else is
//! touched: a name held by any other section, the user's or another of ours, is left to
//! it and reported.
//!
//! Names stay stable: a role keeps the name a run gave it while the template gives it
//! that name. Two roles the template names alike get the name in the order of their
//! account ids then role names, the others `NAME-ACCOUNTID` (then `-2`, `-3`, …).

use super::ini::{generated_marker, FileKind, Surveyed};
use super::{AwsFiles, Edit, Lock, ProfileName, PROFILE_NAME_MAX};
use crate::error::Result;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// The `[sso-session]` the profiles use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    /// The name to give it when the file has none for this portal.
    pub name: ProfileName,
    /// `sso_start_url`.
    pub start_url: String,
    /// `sso_region`.
    pub region: String,
    /// `sso_registration_scopes`.
    pub scopes: String,
}

/// One role's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleProfile {
    /// The name the template gives it.
    pub name: ProfileName,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
}

/// Everything to generate for one access portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The session.
    pub session: SsoSession,
    /// The profiles, in the order new ones are appended.
    pub profiles: Vec<RoleProfile>,
    /// `region` in every profile.
    pub region: Option<String>,
    /// `output` in every profile.
    pub output: Option<String>,
}

/// Who holds a name a role would have had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A section the user wrote.
    User,
    /// A profile of a favourite, or one written with `profile write`.
    Favourite,
    /// A profile generated for another access portal.
    OtherPortal,
}

impl Holder {
    /// Who it is, as the end of "…since X has that name".
    pub fn phrase(self) -> &'static str {
        match self {
            Holder::User => "a profile of yours",
            Holder::Favourite => "a favourite's profile",
            Holder::OtherPortal => "a profile generated for another access portal",
        }
    }
}

/// A role left without a profile: its name is held by another section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTaken {
    /// The name.
    pub name: ProfileName,
    /// The role's account.
    pub account_id: String,
    /// The role.
    pub role_name: String,
    /// The file that holds the section.
    pub path: PathBuf,
    /// Its header's line.
    pub line: usize,
    /// Whose it is.
    pub holder: Holder,
}

/// What a generation did, or (not written) would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The `[sso-session]` the profiles use.
    pub session: String,
    /// The session section was added.
    pub session_created: bool,
    /// The session section is the user's (found for this portal, used as it is).
    pub session_is_users: bool,
    /// Our session section was removed: no profile uses it any more.
    pub session_removed: bool,
    /// New profiles.
    pub created: Vec<ProfileName>,
    /// Profiles changed in place.
    pub updated: Vec<ProfileName>,
    /// Profiles already as asked.
    pub unchanged: usize,
    /// Generated profiles removed (their roles are no longer asked for).
    pub removed: Vec<ProfileName>,
    /// Roles whose name another role of this run has: (the template's, the one given).
    pub renamed: Vec<(ProfileName, ProfileName)>,
    /// Roles left without a profile.
    pub taken: Vec<NameTaken>,
    /// Roles left out because their account id or role name cannot be a value in the
    /// file (it would not read back as sent): (account id, role name).
    pub unusable: Vec<(String, String)>,
    /// The config file.
    pub path: PathBuf,
    /// Its text before.
    pub before: String,
    /// Its text after.
    pub after: String,
    /// The file was replaced (false for a preview, and when nothing changed).
    pub written: bool,
}

impl Generated {
    /// Whether the file changes.
    pub fn changes(&self) -> bool {
        self.before != self.after
    }

    /// The change as a unified diff of the config file (empty when there is none).
    pub fn diff(&self) -> String {
        if !self.changes() {
            return String::new();
        }
        let name = self.path.display().to_string();
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&name, &name)
            .to_string()
    }
}

/// Settings of one section, in the order they are written.
type Entries = Vec<(&'static str, String)>;

fn pairs(entries: &Entries) -> Vec<(&str, &str)> {
    entries.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The `[sso-session]` a run uses: the portal's own if the file has one (ours first),
/// else a new name no other session has.
struct Session<'a> {
    found: Option<&'a Surveyed>,
    name: String,
    /// The portal's sessions in the file: the profiles generated with them (or with
    /// `name`) are this portal's.
    origins: HashSet<&'a str>,
}

impl<'a> Session<'a> {
    fn choose(sections: &'a [Surveyed], wanted: &SsoSession) -> Self {
        let sessions = || {
            sections
                .iter()
                .filter(|s| s.prefix.as_deref() == Some("sso-session"))
        };
        let portal: Vec<&Surveyed> = sessions()
            .filter(|s| {
                s.values.get("sso_start_url") == Some(&wanted.start_url)
                    && s.values.get("sso_region") == Some(&wanted.region)
            })
            .collect();
        let found = portal
            .iter()
            .find(|s| is_ours(s))
            .or_else(|| portal.first())
            .copied();
        let name = match found {
            Some(s) => s.name.clone(),
            None => {
                let taken: HashSet<&str> = sessions().map(|s| s.name.as_str()).collect();
                std::iter::once(wanted.name.clone())
                    .chain((2..).map(|n| suffixed(&wanted.name, &n.to_string())))
                    .find(|n| !taken.contains(n.as_str()))
                    .unwrap_or_else(|| wanted.name.clone())
                    .to_string()
            }
        };
        Self {
            found,
            name,
            origins: portal.iter().map(|s| s.name.as_str()).collect(),
        }
    }

    /// The session section, when it is ours to change.
    fn ours(&self) -> Option<&'a Surveyed> {
        self.found.filter(|s| is_ours(s))
    }
}

/// A section generated with its own name as the session: ours.
fn is_ours(s: &Surveyed) -> bool {
    s.generated_with.as_deref() == Some(s.name.as_str())
}

/// A generated profile found in the file, ours for this portal.
struct Existing<'a> {
    at: usize,
    values: &'a std::collections::BTreeMap<String, String>,
}

/// Every profile name in the two files: ours for this portal, and whose the others are.
struct Names<'a> {
    existing: HashMap<&'a str, Existing<'a>>,
    /// Later sections of ours with a name already seen (removed).
    duplicates: Vec<usize>,
    others: HashMap<&'a str, (PathBuf, usize, Holder)>,
}

impl<'a> Names<'a> {
    fn read(
        files: &AwsFiles,
        config: &'a [Surveyed],
        credentials: &'a [Surveyed],
        session: &Session<'_>,
    ) -> Self {
        let mut names = Self {
            existing: HashMap::new(),
            duplicates: Vec::new(),
            others: HashMap::new(),
        };
        for s in config {
            let profile = match s.prefix.as_deref() {
                Some("profile") => s.name.as_str(),
                None if s.name == "default" => "default",
                _ => continue,
            };
            let origin = s.generated_with.as_deref();
            if origin.is_some_and(|o| o == session.name || session.origins.contains(o)) {
                if names.existing.contains_key(profile) {
                    names.duplicates.push(s.at);
                } else {
                    let values = &s.values;
                    names
                        .existing
                        .insert(profile, Existing { at: s.at, values });
                }
                continue;
            }
            let holder = match (s.managed, origin) {
                (true, Some(_)) => Holder::OtherPortal,
                (true, None) => Holder::Favourite,
                (false, _) => Holder::User,
            };
            names
                .others
                .entry(profile)
                .or_insert((files.config.clone(), s.at + 1, holder));
        }
        for s in credentials.iter().filter(|s| s.prefix.is_none()) {
            let holder = if s.managed {
                Holder::Favourite
            } else {
                Holder::User
            };
            names.others.entry(s.name.as_str()).or_insert((
                files.credentials.clone(),
                s.at + 1,
                holder,
            ));
        }
        names
    }

    /// A name for each profile (`None`: its name is held by another section): first the
    /// roles that keep the one they have, then the others by account id and role.
    fn assign(&self, profiles: &[&RoleProfile]) -> Assigned {
        let mut by_role: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        for (name, e) in &self.existing {
            if let (Some(a), Some(r)) = (
                e.values.get("sso_account_id"),
                e.values.get("sso_role_name"),
            ) {
                by_role
                    .entry((a.as_str(), r.as_str()))
                    .or_default()
                    .push(name);
            }
        }
        let mut given: Vec<Option<ProfileName>> = vec![None; profiles.len()];
        let mut used: HashSet<String> = HashSet::new();
        for (i, p) in profiles.iter().enumerate() {
            let mut held: Vec<&&str> = by_role
                .get(&(p.account_id.as_str(), p.role_name.as_str()))
                .into_iter()
                .flatten()
                .filter(|name| {
                    **name == p.name.as_str() || is_variant_of(name, &p.name, &p.account_id)
                })
                .collect();
            held.sort();
            if let Some(name) = held.first() {
                if used.insert((**name).to_owned()) {
                    given[i] = ProfileName::new(name).ok();
                }
            }
        }
        let mut order: Vec<usize> = (0..profiles.len())
            .filter(|&i| given[i].is_none())
            .collect();
        order.sort_by_key(|&i| (&profiles[i].account_id, &profiles[i].role_name));
        let (mut renamed, mut taken) = (Vec::new(), Vec::new());
        for i in order {
            let p = profiles[i];
            if let Some((path, line, holder)) = self.others.get(p.name.as_str()) {
                taken.push(NameTaken {
                    name: p.name.clone(),
                    account_id: p.account_id.clone(),
                    role_name: p.role_name.clone(),
                    path: path.clone(),
                    line: *line,
                    holder: *holder,
                });
                continue;
            }
            let free = |n: &ProfileName| {
                !used.contains(n.as_str()) && !self.others.contains_key(n.as_str())
            };
            let name = std::iter::once(p.name.clone())
                .chain(std::iter::once(suffixed(&p.name, &p.account_id)))
                .chain((2..).map(|n| suffixed(&p.name, &format!("{}-{n}", p.account_id))))
                .find(free)
                .unwrap_or_else(|| p.name.clone());
            if name != p.name {
                renamed.push((p.name.clone(), name.clone()));
            }
            used.insert(name.to_string());
            given[i] = Some(name);
        }
        Assigned {
            given,
            renamed,
            taken,
        }
    }
}

/// The names [`Names::assign`] gave.
struct Assigned {
    /// Each profile's, `None` where another section holds the name.
    given: Vec<Option<ProfileName>>,
    /// (the template's, the one given) where another role has the template's.
    renamed: Vec<(ProfileName, ProfileName)>,
    /// The roles whose name another section holds.
    taken: Vec<NameTaken>,
}

impl AwsFiles {
    /// Makes the config file hold `generation`'s profiles (see the module's page); with
    /// `write` false, only says what would change. Under the config file's lock, re-read
    /// first, one atomic write; a file that cannot be parsed is not touched.
    pub fn generate(&self, generation: &Generation, write: bool) -> Result<Generated> {
        let lock = if write { Lock::Create } else { Lock::No };
        let mut config = Edit::open(&self.config, FileKind::Config, lock)?;
        let creds = Edit::open(&self.credentials, FileKind::Credentials, Lock::No)?;
        let sections = config.doc.survey();
        let cred_sections = creds.doc.survey();
        let session = Session::choose(&sections, &generation.session);
        let names = Names::read(self, &sections, &cred_sections, &session);

        // Values from the service go into the file: only those that read back as sent.
        let (profiles, unusable): (Vec<&RoleProfile>, Vec<&RoleProfile>) = generation
            .profiles
            .iter()
            .partition(|p| fits(&p.account_id) && fits(&p.role_name));
        let Assigned {
            given,
            renamed,
            taken,
        } = names.assign(&profiles);

        let mut outcome = Generated {
            session: session.name.clone(),
            session_created: false,
            session_is_users: session.found.is_some_and(|s| !s.managed),
            session_removed: false,
            created: Vec::new(),
            updated: Vec::new(),
            unchanged: 0,
            removed: Vec::new(),
            renamed,
            taken,
            unusable: unusable
                .into_iter()
                .map(|p| (p.account_id.clone(), p.role_name.clone()))
                .collect(),
            path: self.config.clone(),
            before: config.original.clone(),
            after: String::new(),
            written: false,
        };

        // What changes where: sections set in place or removed (at their places as
        // surveyed), and new sections.
        let session_entries: Entries = vec![
            ("sso_start_url", generation.session.start_url.clone()),
            ("sso_region", generation.session.region.clone()),
            ("sso_registration_scopes", generation.session.scopes.clone()),
        ];
        let mut in_place: Vec<(usize, Entries)> = Vec::new();
        let mut removals = names.duplicates.clone();
        let mut appended: Vec<(&ProfileName, Entries)> = Vec::new();
        if let Some(s) = session.ours() {
            if !same(&s.values, &pairs(&session_entries)) {
                in_place.push((s.at, session_entries.clone()));
            }
        }
        for (p, name) in profiles.iter().zip(&given) {
            let Some(name) = name else { continue };
            let mut entries: Entries = vec![
                ("sso_session", session.name.clone()),
                ("sso_account_id", p.account_id.clone()),
                ("sso_role_name", p.role_name.clone()),
            ];
            entries.extend(generation.region.clone().map(|r| ("region", r)));
            entries.extend(generation.output.clone().map(|o| ("output", o)));
            match names.existing.get(name.as_str()) {
                Some(e) if same(e.values, &pairs(&entries)) => outcome.unchanged += 1,
                Some(e) => {
                    in_place.push((e.at, entries));
                    outcome.updated.push(name.clone());
                }
                None => {
                    appended.push((name, entries));
                    outcome.created.push(name.clone());
                }
            }
        }
        let kept: HashSet<&str> = given.iter().flatten().map(ProfileName::as_str).collect();
        for (name, e) in &names.existing {
            if !kept.contains(*name) {
                removals.push(e.at);
                outcome.removed.extend(ProfileName::new(name).ok());
            }
        }
        outcome.removed.sort();
        // Our session goes with the last of our profiles, unless another section uses it.
        if let Some(s) = session.ours().filter(|_| kept.is_empty()) {
            let used_elsewhere = sections.iter().any(|other| {
                other.values.get("sso_session") == Some(&session.name)
                    && !names.existing.values().any(|e| e.at == other.at)
            });
            if !used_elsewhere {
                removals.push(s.at);
                outcome.session_removed = true;
            }
        }

        // From the bottom up, so that the places surveyed stay right; then the new
        // sections at the end, the session first (only for profiles to use it).
        let mut steps: Vec<(usize, Option<Entries>)> = in_place
            .into_iter()
            .map(|(at, e)| (at, Some(e)))
            .chain(removals.into_iter().map(|at| (at, None)))
            .collect();
        steps.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        for (at, step) in steps {
            match step {
                Some(entries) => config.doc.set_at(at, &pairs(&entries)),
                None => config.doc.remove_at(at),
            }
        }
        let marker = generated_marker(&session.name);
        if session.found.is_none() && !appended.is_empty() {
            let entries = pairs(&session_entries);
            config
                .doc
                .append(Some("sso-session"), &session.name, &marker, &entries);
            outcome.session_created = true;
        }
        for (name, entries) in &appended {
            config
                .doc
                .append(Some("profile"), name.as_str(), &marker, &pairs(entries));
        }
        outcome.after = config.doc.render();
        config.check_writable()?;
        if write {
            outcome.written = config.save()?.is_some();
        }
        Ok(outcome)
    }
}

/// Whether `value` reads back as written: the characters of account ids and IAM names.
fn fits(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Whether `values` already hold every entry.
fn same(values: &std::collections::BTreeMap<String, String>, entries: &[(&str, &str)]) -> bool {
    entries
        .iter()
        .all(|(k, v)| values.get(*k).map(String::as_str) == Some(*v))
}

/// `NAME-SUFFIX`, cut so that it stays a valid length.
fn suffixed(name: &ProfileName, suffix: &str) -> ProfileName {
    let room = PROFILE_NAME_MAX.saturating_sub(suffix.len() + 1);
    let mut base = name.as_str().to_owned();
    base.truncate(room);
    ProfileName::lossy(&format!("{base}-{suffix}"), "role")
}

/// Whether `name` is one of the names [`AwsFiles::generate`] gives a role the template
/// names `wanted` when another role has that name.
fn is_variant_of(name: &str, wanted: &ProfileName, account_id: &str) -> bool {
    let first = suffixed(wanted, account_id);
    name == first.as_str()
        || name
            .strip_prefix(first.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| n.parse::<u32>().is_ok())
}
