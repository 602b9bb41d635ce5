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

/// A generated profile found in the file, ours for this portal.
struct Existing<'a> {
    at: usize,
    values: &'a std::collections::BTreeMap<String, String>,
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
        let wanted = &generation.session;

        // The session: ours or the user's for this portal if there is one, else a new one
        // under a name no other session has.
        let for_portal = |s: &&Surveyed| {
            s.prefix.as_deref() == Some("sso-session")
                && s.values.get("sso_start_url") == Some(&wanted.start_url)
                && s.values.get("sso_region") == Some(&wanted.region)
        };
        let portal_sessions: Vec<&Surveyed> = sections.iter().filter(for_portal).collect();
        let ours = |s: &&&Surveyed| s.generated_with.as_deref() == Some(s.name.as_str());
        let session = portal_sessions
            .iter()
            .find(ours)
            .or_else(|| portal_sessions.first())
            .copied();
        let session_name = match session {
            Some(s) => s.name.clone(),
            None => {
                let taken: HashSet<&str> = sections
                    .iter()
                    .filter(|s| s.prefix.as_deref() == Some("sso-session"))
                    .map(|s| s.name.as_str())
                    .collect();
                (1..)
                    .map(|n| suffixed(&wanted.name, &n.to_string(), n == 1))
                    .find(|n| !taken.contains(n.as_str()))
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            }
        };
        let session_entries = [
            ("sso_start_url", wanted.start_url.as_str()),
            ("sso_region", wanted.region.as_str()),
            ("sso_registration_scopes", wanted.scopes.as_str()),
        ];

        // The generated profiles of this portal, and every other name.
        let origins: HashSet<&str> = portal_sessions
            .iter()
            .map(|s| s.name.as_str())
            .chain([session_name.as_str()])
            .collect();
        let mut existing: HashMap<&str, Existing> = HashMap::new();
        let mut duplicates = Vec::new();
        let mut others: HashMap<&str, (PathBuf, usize, Holder)> = HashMap::new();
        for s in &sections {
            let profile = match s.prefix.as_deref() {
                Some("profile") => s.name.as_str(),
                None if s.name == "default" => "default",
                _ => continue,
            };
            match &s.generated_with {
                Some(origin) if origins.contains(origin.as_str()) => {
                    if existing.contains_key(profile) {
                        duplicates.push(s.at);
                        continue;
                    }
                    existing.insert(
                        profile,
                        Existing {
                            at: s.at,
                            values: &s.values,
                        },
                    );
                }
                generated => {
                    let holder = match (s.managed, generated) {
                        (true, Some(_)) => Holder::OtherPortal,
                        (true, None) => Holder::Favourite,
                        (false, _) => Holder::User,
                    };
                    others
                        .entry(profile)
                        .or_insert((self.config.clone(), s.line, holder));
                }
            }
        }
        let cred_sections = creds.doc.survey();
        for s in cred_sections.iter().filter(|s| s.prefix.is_none()) {
            let holder = if s.managed {
                Holder::Favourite
            } else {
                Holder::User
            };
            others
                .entry(s.name.as_str())
                .or_insert((self.credentials.clone(), s.line, holder));
        }

        // Values from the service go into the file: only those that read back as sent.
        let (profiles, unusable): (Vec<&RoleProfile>, Vec<&RoleProfile>) = generation
            .profiles
            .iter()
            .partition(|p| fits(&p.account_id) && fits(&p.role_name));
        let unusable = unusable
            .into_iter()
            .map(|p| (p.account_id.clone(), p.role_name.clone()))
            .collect();

        // Names: first the roles that keep the one they have, then the others in a
        // fixed order.
        let mut by_role: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        for (name, e) in &existing {
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
            let mut held = by_role
                .get(&(p.account_id.as_str(), p.role_name.as_str()))
                .into_iter()
                .flatten()
                .filter(|name| {
                    **name == p.name.as_str() || is_variant_of(name, &p.name, &p.account_id)
                })
                .collect::<Vec<_>>();
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
        order.sort_by(|&a, &b| {
            let (a, b) = (profiles[a], profiles[b]);
            (&a.account_id, &a.role_name).cmp(&(&b.account_id, &b.role_name))
        });
        let mut taken = Vec::new();
        let mut renamed = Vec::new();
        for i in order {
            let p = profiles[i];
            if let Some((path, line, holder)) = others.get(p.name.as_str()) {
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
            let free =
                |n: &ProfileName| !used.contains(n.as_str()) && !others.contains_key(n.as_str());
            let name = std::iter::once(p.name.clone())
                .chain(std::iter::once(suffixed(&p.name, &p.account_id, false)))
                .chain((2..).map(|n| suffixed(&p.name, &format!("{}-{n}", p.account_id), false)))
                .find(free)
                .unwrap_or_else(|| p.name.clone());
            if name != p.name {
                renamed.push((p.name.clone(), name.clone()));
            }
            used.insert(name.to_string());
            given[i] = Some(name);
        }

        // The edits: in place and removals from the bottom up (so the places found above
        // stay right), then the new sections at the end.
        let mut outcome = Generated {
            session: session_name.clone(),
            session_created: session.is_none(),
            session_is_users: session.is_some_and(|s| !s.managed),
            session_removed: false,
            created: Vec::new(),
            updated: Vec::new(),
            unchanged: 0,
            removed: Vec::new(),
            renamed,
            taken,
            unusable,
            path: self.config.clone(),
            before: config.original.clone(),
            after: String::new(),
            written: false,
        };
        let mut in_place: Vec<(usize, Vec<(&str, String)>)> = Vec::new();
        let mut removals: Vec<usize> = duplicates;
        if let Some(s) = session.filter(|s| ours(&s)) {
            if !same(&s.values, &session_entries) {
                in_place.push((
                    s.at,
                    session_entries.map(|(k, v)| (k, v.to_owned())).to_vec(),
                ));
            }
        }
        let entries_of = |p: &RoleProfile| {
            let mut e = vec![
                ("sso_session", session_name.clone()),
                ("sso_account_id", p.account_id.clone()),
                ("sso_role_name", p.role_name.clone()),
            ];
            e.extend(generation.region.clone().map(|r| ("region", r)));
            e.extend(generation.output.clone().map(|o| ("output", o)));
            e
        };
        let mut appended = Vec::new();
        for (p, name) in profiles.iter().zip(&given) {
            let Some(name) = name else { continue };
            let entries = entries_of(p);
            match existing.get(name.as_str()) {
                Some(e) => {
                    let borrowed: Vec<(&str, &str)> =
                        entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    if same(e.values, &borrowed) {
                        outcome.unchanged += 1;
                    } else {
                        in_place.push((e.at, entries));
                        outcome.updated.push(name.clone());
                    }
                }
                None => {
                    appended.push((name.clone(), entries));
                    outcome.created.push(name.clone());
                }
            }
        }
        for (name, e) in &existing {
            if !used.contains(*name) {
                removals.push(e.at);
                outcome.removed.extend(ProfileName::new(name).ok());
            }
        }
        outcome.removed.sort();
        // Our session goes with the last of our profiles, unless another section uses it.
        if let Some(s) = session.filter(|s| ours(&s)) {
            let kept = given.iter().any(Option::is_some);
            let used_elsewhere = sections.iter().any(|other| {
                other.values.get("sso_session") == Some(&session_name)
                    && !existing.values().any(|e| e.at == other.at)
            });
            if !kept && !used_elsewhere {
                removals.push(s.at);
                outcome.session_removed = true;
            }
        }
        enum Step<'a> {
            Set(Vec<(&'a str, String)>),
            Remove,
        }
        let mut steps: Vec<(usize, Step)> = in_place
            .into_iter()
            .map(|(at, e)| (at, Step::Set(e)))
            .chain(removals.into_iter().map(|at| (at, Step::Remove)))
            .collect();
        steps.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        for (at, step) in steps {
            match step {
                Step::Set(entries) => {
                    let borrowed: Vec<(&str, &str)> =
                        entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    config.doc.set_at(at, &borrowed);
                }
                Step::Remove => config.doc.remove_at(at),
            }
        }
        // A session is added only for profiles to use it.
        if session.is_none() && !appended.is_empty() {
            config.doc.append(
                Some("sso-session"),
                &session_name,
                &generated_marker(&session_name),
                &session_entries,
            );
        } else if session.is_none() {
            outcome.session_created = false;
        }
        let marker = generated_marker(&session_name);
        for (name, entries) in &appended {
            let borrowed: Vec<(&str, &str)> =
                entries.iter().map(|(k, v)| (*k, v.as_str())).collect();
            config
                .doc
                .append(Some("profile"), name.as_str(), &marker, &borrowed);
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

/// `NAME-SUFFIX`, cut so that it stays a valid length (or `name` itself when `bare`).
fn suffixed(name: &ProfileName, suffix: &str, bare: bool) -> ProfileName {
    if bare {
        return name.clone();
    }
    let room = PROFILE_NAME_MAX.saturating_sub(suffix.len() + 1);
    let mut base = name.as_str().to_owned();
    base.truncate(room);
    ProfileName::lossy(&format!("{base}-{suffix}"), "role")
}

/// Whether `name` is one of the names [`AwsFiles::generate`] gives a role the template
/// names `wanted` when another role has that name.
fn is_variant_of(name: &str, wanted: &ProfileName, account_id: &str) -> bool {
    let first = suffixed(wanted, account_id, false);
    name == first.as_str()
        || name
            .strip_prefix(first.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| n.parse::<u32>().is_ok())
}
