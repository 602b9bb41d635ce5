//! Changing the settings, and following changes made by another process.

use super::{blocking, Event, Stamp, Workspace};
use crate::cache::AwsCliTokenCache;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::settings::{Preferences, Settings};
use std::sync::Arc;

impl Workspace {
    /// Changes the settings with `change`, under the file's lock and from what it holds
    /// now; then restarts what the change affects. Nothing changes if `change` fails; a
    /// session that cannot follow is the inner error (the change is saved).
    pub(super) async fn change_settings<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<T> + Send + 'static,
    ) -> Result<(T, Result<()>)> {
        let _changing = self.shared.changing.lock().await;
        let path = self.shared.paths.settings_file();
        let (settings, out, stamp) = blocking("change of the settings", move || {
            // Stamped under the lock: a change by another process after ours is seen.
            Settings::update_and(&path, change, Stamp::of)
        })
        .await?;
        let followed = self.adopt(settings, stamp).await;
        Ok((out, followed))
    }

    /// [`Self::change_settings`], when a session that cannot follow is not this change's
    /// failure (it is logged, shown, and tried again).
    pub(super) async fn update_settings<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        Ok(self.change_settings(change).await?.0)
    }

    /// Follows the settings as they are (after a sign-in, or to try a broken session
    /// again).
    pub(super) async fn follow_settings(&self) {
        let _changing = self.shared.changing.lock().await;
        // A failure is remembered per instance by `reconcile`.
        let _ = self.reconcile().await;
    }

    /// Takes `settings` as the current ones and makes everything follow them.
    async fn adopt(&self, settings: Settings, stamp: Option<Stamp>) -> Result<()> {
        let shared_before = {
            let mut state = self.lock();
            let before = state.settings.preferences.share_session_with_aws_cli;
            state.settings = Arc::new(settings);
            state.stamp = stamp;
            before
        };
        self.announce_skipped();
        let followed = self.reconcile().await;
        let shared = self.follow_sharing(shared_before).await;
        self.emit(Event::Changed);
        followed.and(shared)
    }

    /// When sharing the session with the AWS CLI was just turned on, copies every
    /// session's token into the AWS CLI's cache now (not at its next refresh); when
    /// turned off, removes those copies. Every instance known or in use takes part.
    async fn follow_sharing(&self, before: bool) -> Result<()> {
        let (now, instances, idle) = {
            let mut state = self.lock();
            let now = state.settings.preferences.share_session_with_aws_cli;
            if now == before {
                return Ok(());
            }
            let mut instances = state.settings.known_instances();
            for i in state.sessions.keys() {
                if !instances.contains(i) {
                    instances.push(i.clone());
                }
            }
            // While kept fresh, `reconcile` built the providers again for the new
            // preference. Otherwise the idle ones are built again here, keeping where
            // their session stands.
            let mut idle = Vec::new();
            if !state.keeping_fresh {
                state.sessions.retain(|i, s| {
                    let keep = s.pending.is_some() || s.renewer().is_some();
                    if !keep {
                        idle.push((
                            i.clone(),
                            s.phase,
                            s.info.clone(),
                            s.signed_in_this_run,
                            s.failure.clone(),
                        ));
                    }
                    keep
                });
            }
            (now, instances, idle)
        };
        for (instance, phase, info, signed_in_this_run, failure) in idle {
            self.provider(&instance).await?;
            // The same session, seen through a new provider: nothing to announce.
            if let Some(s) = self.lock().sessions.get_mut(&instance) {
                s.phase = phase;
                s.info = info;
                s.signed_in_this_run = signed_in_this_run;
                s.failure = failure;
            }
        }
        let mut first = Ok(());
        for instance in instances {
            let done = if now {
                match self.provider(&instance).await {
                    Ok(p) => p.share_session_again().await,
                    Err(e) => Err(e),
                }
            } else {
                self.remove_shared_copies(&instance).await
            };
            match done {
                // Nothing to share: it shares at its next sign-in.
                Err(e) if e.needs_sign_in() => {}
                Err(e) => {
                    tracing::warn!(%instance, error = %e, "could not follow the sharing of the session with the AWS CLI");
                    if first.is_ok() {
                        first = Err(e);
                    }
                }
                Ok(()) => {}
            }
        }
        first
    }

    /// Removes the copies of `instance`'s token from the AWS CLI's cache.
    async fn remove_shared_copies(&self, instance: &Instance) -> Result<()> {
        let Some(dir) = self.shared.paths.aws_cli_sso_cache_dir() else {
            return Ok(());
        };
        let (files, instance) = (self.shared.files.clone(), instance.clone());
        blocking("removal of the AWS CLI's copy of the token", move || {
            let cache = AwsCliTokenCache::for_instance(&instance, &files, &dir)?;
            cache.remove_copies().map_err(|source| Error::Io {
                action: "remove a copy of the token in",
                path: dir,
                source,
            })
        })
        .await
    }

    /// Says (once each) which entries of the settings are skipped.
    pub(super) fn announce_skipped(&self) {
        let fresh: Vec<Arc<Error>> = {
            let mut state = self.lock();
            let skipped = state.settings.skipped(&self.shared.paths.settings_file());
            skipped
                .into_iter()
                .filter(|e| state.skipped_seen.insert(e.to_string()))
                .map(Arc::new)
                .collect()
        };
        for e in fresh {
            tracing::warn!(error = %e, "settings entry skipped");
            self.emit(Event::SettingsEntrySkipped(e));
        }
    }

    /// Reads `settings.json` again if another process changed it.
    pub(super) async fn reload_if_changed(&self) {
        let path = self.shared.paths.settings_file();
        let known = self.lock().stamp.clone();
        let probe = path.clone();
        let Ok(stamp) = blocking("look at the settings", move || Ok(Stamp::of(&probe))).await
        else {
            return;
        };
        if stamp == known {
            return;
        }
        let _changing = self.shared.changing.lock().await;
        // Our own change may have got there first.
        if self.lock().stamp == stamp {
            return;
        }
        let read = blocking("read of the settings", move || {
            let stamp = Stamp::of(&path);
            Ok((Settings::load(&path), stamp))
        })
        .await;
        match read {
            Ok((Ok(settings), stamp)) => {
                tracing::info!("settings changed by another process; read again");
                // Failures to follow are remembered per instance by `reconcile`.
                let _ = self.adopt(settings, stamp).await;
                self.emit(Event::SettingsReloaded);
            }
            Ok((Err(e), stamp)) => {
                // Half-written by a tool that does not write atomically, or broken by
                // hand: keep what we have, and look again at the next change.
                tracing::warn!(error = %e, "settings changed but cannot be read; keeping the last good ones");
                self.lock().stamp = stamp;
            }
            Err(e) => tracing::warn!(error = %e, "could not read the settings"),
        }
    }

    /// Replaces the preferences (checked first); what they affect restarts.
    pub async fn set_preferences(&self, preferences: Preferences) -> Result<()> {
        preferences.validate()?;
        let ((), followed) = self
            .change_settings(move |s| {
                s.preferences = preferences;
                Ok(())
            })
            .await?;
        followed
    }

    /// Sets one preference by its name in the file (`tokenRefreshMinutes`, …) from text.
    pub async fn set_preference(&self, name: &str, value: &str) -> Result<()> {
        // Checked before the file is touched.
        self.settings().preferences.clone().set(name, value)?;
        let (name, value) = (name.to_owned(), value.to_owned());
        let ((), followed) = self
            .change_settings(move |s| s.preferences.set(&name, &value))
            .await?;
        followed
    }

    /// Adds an instance (or relabels it) and makes it the default.
    pub async fn add_instance(&self, instance: Instance, label: Option<String>) -> Result<()> {
        self.update_settings(move |s| {
            s.add_instance(&instance, label);
            s.remember_default(&instance);
            Ok(())
        })
        .await
    }

    /// Forgets an instance (its favourites stay until removed).
    pub async fn remove_instance(&self, instance: &Instance) -> Result<()> {
        let instance = instance.clone();
        self.update_settings(move |s| s.remove_instance(&instance))
            .await
    }

    /// Makes a known instance the default.
    pub async fn make_default(&self, instance: &Instance) -> Result<()> {
        let instance = instance.clone();
        self.update_settings(move |s| s.make_default(&instance))
            .await
    }

    /// Adds the instances and favourites of `other`, takes its preferences; nothing
    /// changes if one of its favourites would take a profile name used for another role.
    pub async fn import(&self, other: Settings, from: &std::path::Path) -> Result<()> {
        // Refused before the settings are touched.
        other.importable(from)?;
        let from = from.to_owned();
        self.update_settings(move |s| s.import(other, &from)).await
    }

    /// The IAM Identity Center instances the AWS CLI is set up for in the config file.
    pub async fn aws_config_instances(&self) -> Result<Vec<crate::awsfiles::ConfiguredInstance>> {
        let files = self.shared.files.clone();
        blocking("read of the config file", move || {
            files.configured_instances()
        })
        .await
    }

    /// Remembers one IAM Identity Center instance the AWS CLI is set up for in the
    /// config file, with the label its section there gives it (the current one stays
    /// current); whether it was new.
    pub async fn import_aws_config_instance(&self, instance: &Instance) -> Result<bool> {
        let label = self
            .aws_config_instances()
            .await?
            .into_iter()
            .find(|c| Instance::new(&c.start_url, &c.region).is_ok_and(|i| &i == instance))
            .and_then(|c| c.source.split_once(' ').map(|(_, n)| n.to_owned()));
        let instance = instance.clone();
        self.update_settings(move |s| Ok(s.add_instance(&instance, label)))
            .await
    }

    /// Remembers the IAM Identity Center instances the AWS CLI is set up for in the
    /// config file; returns each with whether it was new, or why it was skipped.
    pub async fn import_aws_config(&self) -> Result<Vec<(String, Result<(Instance, bool)>)>> {
        let found = self.aws_config_instances().await?;
        self.update_settings(move |s| {
            Ok(found
                .into_iter()
                .map(|c| {
                    let label = c.source.split_once(' ').map(|(_, n)| n.to_owned());
                    let added = Instance::new(&c.start_url, &c.region).map(|i| {
                        let new = s.add_instance(&i, label);
                        (i, new)
                    });
                    (c.source, added)
                })
                .collect())
        })
        .await
    }
}
