//! Favourites and the profiles written for them; one-off profiles; credentials for
//! `credential_process`; the console.

use super::status::SessionPhase;
use super::{blocking, Event, Workspace};
use crate::awsfiles::{
    Applied, Changes, ManagedProfile, ProcessProfile, ProfileName, ProfileWrite,
};
use crate::cache::{AccountsCache, CredentialsCache};
use crate::clock::later;
use crate::error::{Error, Result};
use crate::instance::{validate_region, Instance};
use crate::portal::RoleCredentials;
use crate::settings::Favourite;
use crate::source::{AssumeRole, AssumeRoleEntry, Fetch, Source};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Credentials with less than this left are renewed rather than handed out.
const HAND_OUT_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A favourite to add, as a person gives it (from either face: the window sends this
/// shape as it is, in camelCase); checked by [`Workspace::add_favourite`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFavourite {
    /// Its profile name.
    pub profile: String,
    /// The account id.
    pub account_id: String,
    /// The account's name, for menus (looked up in the account list when not given).
    #[serde(default)]
    pub account_name: Option<String>,
    /// The role.
    pub role_name: String,
    /// The profile's region.
    #[serde(default)]
    pub region: Option<String>,
    /// Written as a `credential_process` profile.
    #[serde(default)]
    pub credential_process: bool,
    /// A role then assumed with the SSO role's credentials.
    #[serde(default)]
    pub assume_role: Option<AssumeRoleEntry>,
}

/// A change of a favourite's target: each part given replaces the current one (the
/// window sends this shape as it is).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FavouriteEdit {
    /// Another account.
    pub account_id: Option<String>,
    /// Its name, for menus.
    pub account_name: Option<String>,
    /// Another role.
    pub role_name: Option<String>,
    /// Another region for the profile.
    pub region: Option<String>,
    /// Another role to assume from the SSO role; `Some(None)` (in JSON, `null`): assume
    /// none; absent: unchanged.
    #[serde(deserialize_with = "present")]
    pub assume_role: Option<Option<AssumeRoleEntry>>,
}

/// A field that is present (even `null`), told apart from one that is absent.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A one-off profile to write (not kept fresh).
#[derive(Debug, Clone)]
pub struct ProfileRequest {
    /// Its name.
    pub profile: String,
    /// The account id.
    pub account_id: String,
    /// The role.
    pub role_name: String,
    /// The profile's region.
    pub region: Option<String>,
    /// Replace a same-named profile that aws-sso-tray did not write.
    pub force: bool,
}

/// What happened to a profile that was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrittenVerb {
    /// It did not exist.
    Created,
    /// It was ours, and now holds new credentials.
    Renewed,
    /// It was the user's, and was replaced because that was asked for.
    Replaced,
}

/// A profile written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenProfile {
    /// Its name.
    pub profile: String,
    /// What happened to it.
    pub verb: WrittenVerb,
    /// When its credentials expire (`None` for a `credential_process` profile).
    pub expires_at: Option<SystemTime>,
}

/// Credentials for a favourite, for `credential_process`.
#[derive(Debug)]
pub struct FavouriteCredentials {
    /// The credentials.
    pub credentials: RoleCredentials,
    /// The favourite.
    pub favourite: Favourite,
    /// Something that went wrong on the way that did not stop the answer (the profile or
    /// cache could not be updated).
    pub warning: Option<Error>,
}

/// Whose credentials: a favourite's, or a role of an account (the console, `exec`).
#[derive(Debug, Clone)]
pub enum RoleTarget {
    /// A favourite's, by its profile name.
    Favourite(String),
    /// A role of an account of an instance.
    Role {
        /// The instance.
        instance: Instance,
        /// The account id.
        account_id: String,
        /// The role.
        role_name: String,
    },
}

/// A [`RoleTarget`] looked up: where its credentials come from.
#[derive(Debug, Clone)]
pub(super) struct Resolved {
    pub(super) instance: Instance,
    pub(super) source: Source,
    /// The favourite's region, if it is one and has one.
    pub(super) region: Option<String>,
    /// The favourite's profile name, if it is one.
    pub(super) favourite: Option<ProfileName>,
}

impl Workspace {
    /// Where `target`'s credentials come from; a favourite that is not there is an error.
    pub(super) fn resolve(&self, target: RoleTarget) -> Result<Resolved> {
        Ok(match target {
            RoleTarget::Favourite(profile) => {
                let f = self.favourite(&profile)?;
                Resolved {
                    source: f.source(),
                    instance: f.instance,
                    region: f.region,
                    favourite: Some(f.profile),
                }
            }
            RoleTarget::Role {
                instance,
                account_id,
                role_name,
            } => Resolved {
                instance,
                source: Source::role(&account_id, &role_name),
                region: None,
                favourite: None,
            },
        })
    }

    fn credentials_cache(&self) -> CredentialsCache {
        CredentialsCache::new(self.shared.paths.credentials_cache_dir())
    }

    async fn apply(&self, changes: Changes) -> Result<Applied> {
        let files = self.shared.files.clone();
        blocking("write of the AWS files", move || files.apply(&changes)).await
    }

    /// Removes one-off profiles this project wrote (any others are left alone, and
    /// reported in the answer). A favourite's profile is refused: it goes with its
    /// favourite.
    pub async fn remove_profiles(&self, names: &[String]) -> Result<Applied> {
        let settings = self.settings();
        let mut changes = Changes::new();
        for name in names {
            if settings
                .favourites
                .iter()
                .any(|f| f.profile.as_str() == name)
            {
                return Err(Error::FavouritesProfile {
                    profile: name.clone(),
                });
            }
            changes = changes.remove(ProfileName::new(name)?);
        }
        let applied = self.apply(changes).await?;
        {
            let mut state = self.lock();
            for name in &applied.removed {
                state.profiles.remove(name);
            }
        }
        self.emit(Event::Changed);
        Ok(applied)
    }

    /// The profiles this project wrote, from the files.
    pub async fn managed_profiles(&self) -> Result<Vec<ManagedProfile>> {
        let files = self.shared.files.clone();
        blocking("read of the AWS files", move || files.managed_profiles()).await
    }

    /// The favourite called `profile`, or why there is none.
    pub(super) fn favourite(&self, profile: &str) -> Result<Favourite> {
        self.settings()
            .find_favourite(profile, &self.shared.paths.settings_file())
            .cloned()
    }

    /// Credentials from `source` of `instance`, through the provider's one function; a
    /// refusal by AWS ends the session.
    pub(super) async fn credentials(
        &self,
        instance: &Instance,
        source: &Source,
        fetch: Fetch,
    ) -> Result<RoleCredentials> {
        let answer = self
            .provider(instance)
            .await?
            .credentials(source, fetch)
            .await;
        answer.inspect_err(|e| self.note_refusal(instance, e))
    }

    /// Fails with the reason unless `role_name` is one of the user's roles in the account.
    async fn check_role(
        &self,
        instance: &Instance,
        account_id: &str,
        role_name: &str,
    ) -> Result<()> {
        let roles = self
            .provider(instance)
            .await?
            .roles(account_id, None)
            .await
            .inspect_err(|e| self.note_refusal(instance, e))?;
        if roles.iter().any(|r| r.role_name == role_name) {
            Ok(())
        } else {
            Err(Error::RoleNotFound {
                account_id: account_id.to_owned(),
                role: role_name.to_owned(),
            })
        }
    }

    /// The account's name from the cached account list, if it is there.
    pub(super) async fn cached_account_name(
        &self,
        instance: &Instance,
        account_id: &str,
    ) -> Option<String> {
        let (dir, i, id) = (
            self.shared.paths.accounts_cache_dir(),
            instance.clone(),
            account_id.to_owned(),
        );
        blocking("read of the account list", move || {
            Ok(AccountsCache::new(dir)
                .get(&i)
                .accounts
                .into_iter()
                .find(|a| a.account.account_id == id)
                .map(|a| a.account.account_name))
        })
        .await
        .ok()
        .flatten()
    }

    /// Writes the profile of `f` now: keys in the credentials file, or a
    /// `credential_process` profile in the config file.
    async fn write_favourite(&self, f: &Favourite) -> Result<(Applied, Option<SystemTime>)> {
        if f.credential_process {
            if f.assume_role.is_some() {
                // Nothing is fetched for the profile itself: the role is tried now, so
                // that a trust policy that refuses it is said here, not in a tool later.
                self.credentials(&f.instance, &f.source(), Fetch::Cached)
                    .await?;
            }
            let cli = self.shared.options.cli.clone().ok_or(Error::NoCli)?;
            let mut profile = ProcessProfile::aws_sso_auth(f.profile.clone(), &cli)?;
            if let Some(r) = &f.region {
                profile = profile.region(r)?;
            }
            let applied = self.apply(Changes::new().write_process(profile)).await?;
            return Ok((applied, None));
        }
        let creds = self
            .credentials(&f.instance, &f.source(), Fetch::Cached)
            .await?;
        let applied = self
            .apply(Changes::new().write(f.profile_write(&creds)?))
            .await?;
        Ok((applied, Some(creds.expiration)))
    }

    /// A favourite saved with its profile just written: its state, the events, the answer.
    fn favourite_written(
        &self,
        f: &Favourite,
        applied: &Applied,
        expires_at: Option<SystemTime>,
    ) -> WrittenProfile {
        self.profile_written(&f.profile, expires_at);
        self.emit(Event::Changed);
        WrittenProfile {
            verb: verb_of(applied, &f.profile),
            profile: f.profile.to_string(),
            expires_at,
        }
    }

    /// A profile was written (by this process, or by its renewer): its state, and the
    /// event. The one place "written" is recorded.
    pub(super) fn profile_written(&self, profile: &ProfileName, expires_at: Option<SystemTime>) {
        let now = self.now();
        {
            let mut state = self.lock();
            let p = state.profiles.entry(profile.clone()).or_default();
            p.expires_at = expires_at;
            p.written_at = expires_at.map(|_| now);
            p.failure = None;
            p.renewing = false;
        }
        if let Some(expires_at) = expires_at {
            self.emit(Event::ProfileWritten {
                profile: profile.clone(),
                expires_at,
            });
        }
    }

    /// Adds a favourite: the role must be the user's (so a sign-in is needed), its profile
    /// is written at once (a name the files refuse, such as a profile of the user's, adds
    /// nothing), then it is saved and kept fresh.
    pub async fn add_favourite(
        &self,
        instance: Instance,
        new: NewFavourite,
    ) -> Result<WrittenProfile> {
        let mut f = Favourite::new(
            &new.profile,
            instance,
            &new.account_id,
            &new.role_name,
            new.region.as_deref(),
        )?;
        f.credential_process = new.credential_process;
        f.assume_role = new.assume_role.map(AssumeRole::new).transpose()?;
        // A name taken by another favourite is refused before anything is written.
        self.settings().as_ref().clone().add_favourite(f.clone())?;
        if f.credential_process && self.shared.options.cli.is_none() {
            return Err(Error::NoCli);
        }
        self.check_role(&f.instance, &f.account_id, &f.role_name)
            .await?;
        f.account_name = match new.account_name.filter(|n| !n.trim().is_empty()) {
            Some(name) => Some(name),
            None => self.cached_account_name(&f.instance, &f.account_id).await,
        };
        let (applied, expires_at) = self.write_favourite(&f).await?;
        let saved = f.clone();
        if let Err(e) = self.update_settings(move |s| s.add_favourite(saved)).await {
            if applied.created.contains(&f.profile) {
                let undo = self.apply(Changes::new().remove(f.profile.clone())).await;
                if let Err(undo) = undo {
                    tracing::warn!(error = %undo, "could not remove the profile of a favourite that was not saved");
                }
            }
            return Err(e);
        }
        Ok(self.favourite_written(&f, &applied, expires_at))
    }

    /// Points a favourite at another account, role or region: checked like a new one,
    /// its profile rewritten at once.
    pub async fn edit_favourite(
        &self,
        profile: &str,
        edit: FavouriteEdit,
    ) -> Result<WrittenProfile> {
        let current = self.favourite(profile)?;
        let mut f = Favourite::new(
            profile,
            current.instance.clone(),
            edit.account_id.as_deref().unwrap_or(&current.account_id),
            edit.role_name.as_deref().unwrap_or(&current.role_name),
            edit.region.as_deref().or(current.region.as_deref()),
        )?;
        f.credential_process = current.credential_process;
        f.assume_role = match edit.assume_role {
            Some(assume) => assume.map(AssumeRole::new).transpose()?,
            None => current.assume_role.clone(),
        };
        f.console = current.console.clone();
        if f.assume_role.is_some() {
            // AWS refuses a console session length for a role assumed from another.
            f.console.session_seconds = None;
        }
        if f.console.colour_from_account && f.credentials_account() != current.credentials_account()
        {
            // Another account's colour: read when its console next opens.
            f.console.colour = None;
        }
        // Docker's logins are to the registries of the account its credentials are of.
        if f.credentials_account() == current.credentials_account() {
            f.ecr_regions = current.ecr_regions.clone();
        }
        let moved = f.account_id != current.account_id;
        if (&f.instance, &f.account_id, &f.role_name)
            != (&current.instance, &current.account_id, &current.role_name)
        {
            self.check_role(&f.instance, &f.account_id, &f.role_name)
                .await?;
        }
        f.account_name = match (edit.account_name, moved) {
            (Some(name), _) => Some(name),
            (None, false) => current.account_name.clone(),
            (None, true) => self.cached_account_name(&f.instance, &f.account_id).await,
        };
        let (applied, expires_at) = self.write_favourite(&f).await?;
        let saved = f.clone();
        self.update_settings(move |s| s.replace_favourite(saved))
            .await?;
        if f.credential_process && !f.same_target(&current) {
            self.forget_cached_credentials(&f.profile).await;
        }
        Ok(self.favourite_written(&f, &applied, expires_at))
    }

    /// Removes a favourite, its cached credentials and its profile; returns whether there
    /// was a profile of ours to remove. A favourite entry that is not valid is removed
    /// from the settings by its name too.
    pub async fn remove_favourite(&self, profile: &str) -> Result<bool> {
        let name = profile.to_owned();
        let removed = self
            .update_settings(move |s| match s.remove_favourite(&name) {
                Some(f) => Ok(Some(f)),
                None if s.remove_skipped_favourite(&name) => Ok(None),
                None => Err(Error::NoSuchFavourite { profile: name }),
            })
            .await?;
        self.lock().profiles.remove(profile);
        self.emit(Event::Changed);
        let Some(f) = removed else {
            return Ok(false);
        };
        self.end_exec_sessions_of_favourite(&f.profile);
        self.forget_cached_credentials(&f.profile).await;
        let applied = self.apply(Changes::new().remove(f.profile.clone())).await?;
        Ok(!applied.removed.is_empty())
    }

    /// Credentials of an SSO role of `instance`, for a script (from memory while fresh).
    pub async fn role_credentials(
        &self,
        instance: &Instance,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials> {
        let source = Source::role(account_id, role_name);
        self.credentials(instance, &source, Fetch::Cached).await
    }

    /// Writes a one-off profile (not kept fresh) for a role of `instance`.
    pub async fn write_profile(
        &self,
        instance: &Instance,
        request: ProfileRequest,
    ) -> Result<WrittenProfile> {
        // Everything local is checked before the network is used.
        let name = ProfileName::new(&request.profile)?;
        let region = request.region.as_deref().map(validate_region).transpose()?;
        let source = Source::role(&request.account_id, &request.role_name);
        let creds = self.credentials(instance, &source, Fetch::Cached).await?;
        let mut write = ProfileWrite::new(name.clone(), &creds);
        if let Some(r) = &region {
            write = write.region(r)?;
        }
        let applied = self
            .apply(Changes::new().write(write).force(request.force))
            .await?;
        self.profile_written(&name, Some(creds.expiration));
        self.emit(Event::Changed);
        Ok(WrittenProfile {
            verb: verb_of(&applied, &name),
            profile: name.to_string(),
            expires_at: Some(creds.expiration),
        })
    }

    /// Renews a favourite's profile now: through its renewer while the world is kept
    /// fresh (answering at once; the outcome comes as an event), else here and now.
    pub async fn renew_now(&self, profile: &str) -> Result<()> {
        let f = self.favourite(profile)?;
        if f.credential_process {
            // Nothing is kept fresh for it: the next call fetches new credentials.
            self.forget_cached_credentials(&f.profile).await;
            let (_, expires_at) = self.write_favourite(&f).await?;
            self.profile_written(&f.profile, expires_at);
            self.emit(Event::Changed);
            return Ok(());
        }
        {
            let mut state = self.lock();
            let session = state.sessions.get(&f.instance);
            if let Some(renewer) = session.and_then(|s| s.renewer()) {
                if session.is_some_and(|s| s.phase != SessionPhase::SignedIn) {
                    return Err(Error::SignInRequired {
                        instance: f.instance.clone(),
                    });
                }
                renewer.renew_now(&f.profile);
                state
                    .profiles
                    .entry(f.profile.clone())
                    .or_default()
                    .renewing = true;
                drop(state);
                self.emit(Event::Changed);
                return Ok(());
            }
        }
        let (_, expires_at) = self.write_favourite(&f).await?;
        self.profile_written(&f.profile, expires_at);
        Ok(())
    }

    /// Credentials for a favourite, as `credential_process` asks: from its profile (or,
    /// for a `credential_process` favourite, its private cache) while they have more than
    /// five minutes left, reading one file and nothing else; otherwise renewed (signing in
    /// if the session is over: one sign-in across every caller) and written back.
    pub async fn favourite_credentials(&self, profile: &str) -> Result<FavouriteCredentials> {
        let f = self.favourite(profile)?;
        let (cache, files, name, process, target) = (
            self.credentials_cache(),
            self.shared.files.clone(),
            profile.to_owned(),
            f.credential_process,
            f.target_key(),
        );
        // An unreadable file only costs the cold path.
        let cached = blocking("read of the profile", move || {
            Ok(if process {
                cache.get(&name, &target)
            } else {
                files
                    .managed_profiles()
                    .ok()
                    .and_then(|list| list.into_iter().find(|m| m.name == name))
                    .and_then(|m| m.credentials)
            })
        })
        .await?;
        let now = self.now();
        if let Some(credentials) = cached.filter(|c| later(now, HAND_OUT_MARGIN) < c.expiration) {
            return Ok(FavouriteCredentials {
                credentials,
                favourite: f,
                warning: None,
            });
        }
        let credentials = self
            .provider(&f.instance)
            .await?
            .credentials(&f.source(), Fetch::SigningIn)
            .await?;
        let warning = if f.credential_process {
            let (cache, name, target, creds) = (
                self.credentials_cache(),
                profile.to_owned(),
                f.target_key(),
                credentials.clone(),
            );
            blocking("write of the credentials cache", move || {
                cache
                    .put(&name, &target, &creds)
                    .map_err(|source| Error::WriteFailed {
                        path: cache.path_of(&name),
                        source,
                    })
            })
            .await
            .err()
        } else {
            match self
                .apply(Changes::new().write(f.profile_write(&credentials)?))
                .await
            {
                Ok(_) => {
                    self.profile_written(&f.profile, Some(credentials.expiration));
                    None
                }
                Err(e) => Some(e),
            }
        };
        Ok(FavouriteCredentials {
            credentials,
            favourite: f,
            warning,
        })
    }

    /// Forgets the cached credentials of a `credential_process` favourite; a failure is
    /// logged, since nothing depends on it.
    pub(super) async fn forget_cached_credentials(&self, profile: &ProfileName) {
        let (cache, name) = (self.credentials_cache(), profile.to_string());
        let removed = blocking("removal of cached credentials", move || {
            cache.remove(&name).map_err(|source| Error::Io {
                action: "remove",
                path: cache.path_of(&name),
                source,
            })
        })
        .await;
        if let Err(e) = removed {
            tracing::warn!(error = %e, "could not remove cached credentials");
        }
    }

    /// The `aws-sso-auth` program `credential_process` profiles run, if known.
    pub fn cli(&self) -> Option<&PathBuf> {
        self.shared.options.cli.as_ref()
    }
}

fn verb_of(applied: &Applied, name: &ProfileName) -> WrittenVerb {
    if applied.took_over.contains(name) {
        WrittenVerb::Replaced
    } else if applied.created.contains(name) {
        WrittenVerb::Created
    } else {
        WrittenVerb::Renewed
    }
}
