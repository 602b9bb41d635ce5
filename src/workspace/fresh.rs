//! Keeping the world fresh: the renewers, and the background that notices settings
//! changed by another process, a resume from sleep, and sessions to try again.

use super::{blocking, Event, Shared, Workspace};
use crate::awsfiles::ProfileName;
use crate::clock::ResumeWatch;
use crate::error::Result;
use std::sync::Weak;
use std::time::Duration;

impl Workspace {
    /// Starts keeping the world fresh until the last clone is dropped: a renewer per
    /// instance in use (the default one and every one with a favourite), changes to
    /// `settings.json` by other processes picked up, and a resume from sleep noticed (every
    /// renewer then renews what came due at once).
    pub async fn keep_fresh(&self) {
        {
            let mut state = self.lock();
            if state.keeping_fresh {
                return;
            }
            state.keeping_fresh = true;
        }
        if let Err(e) = self.read_profiles().await {
            tracing::warn!(error = %e, "cannot read the favourites' profiles");
        }
        self.announce_skipped();
        self.follow_settings().await;
        let every = self.shared.options.watch_every;
        // From now: a sleep right after this call is a resume too.
        let resume = ResumeWatch::new(self.now(), every + Duration::from_secs(3));
        let task = tokio::spawn(watch(self.weak(), every, resume));
        *self
            .shared
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        self.emit(Event::Changed);
    }

    /// Renews what is due in every session now (after a resume).
    pub fn wake(&self) {
        for s in self.lock().sessions.values() {
            s.wake();
        }
    }

    /// What the profiles this project wrote hold now (the favourites' and one-off ones),
    /// from the credentials file.
    pub(super) async fn read_profiles(&self) -> Result<()> {
        let files = self.shared.files.clone();
        let profiles = blocking("read of the credentials file", move || {
            files.managed_profiles()
        })
        .await?;
        let expiries = crate::awsfiles::ManagedProfile::expiries_by_name(&profiles);
        let mut state = self.lock();
        // The files' names are ours (they carry our marker), so valid; one that is not
        // was not written by this program.
        let mut names: Vec<ProfileName> = state
            .settings
            .favourites
            .iter()
            .map(|f| f.profile.clone())
            .chain(state.profiles.keys().cloned())
            .chain(
                profiles
                    .iter()
                    .filter_map(|p| ProfileName::new(&p.name).ok()),
            )
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let expires_at = expiries.get(name.as_str()).copied().flatten();
            let p = state.profiles.entry(name).or_default();
            if p.expires_at != expires_at {
                // Written by someone else (or removed) since this program wrote it.
                p.written_at = None;
            }
            p.expires_at = expires_at;
        }
        Ok(())
    }
}

/// The background of a workspace kept fresh: settings changed elsewhere, and resumes.
async fn watch(weak: Weak<Shared>, every: Duration, mut resume: ResumeWatch) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(world) = Workspace::from_weak(&weak) else {
            return;
        };
        if let Some(slept) = resume.check(world.now(), std::time::Instant::now()) {
            tracing::info!(
                slept_secs = slept.as_secs(),
                "resumed; renewing what is due"
            );
            world.wake();
            world.emit(Event::Resumed { slept });
        }
        world.reload_if_changed().await;
        let now = world.now();
        let retry = world.lock().broken.values().any(|f| f.retry_at <= now);
        if retry {
            world.follow_settings().await;
            world.emit(Event::Changed);
        }
    }
}
