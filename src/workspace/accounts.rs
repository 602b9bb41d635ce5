//! The account browser's data: the cached list at once, a refresh in the background with
//! progress.

use super::{blocking, Event, Workspace};
use crate::cache::{AccountsCache, CachedAccounts};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::portal::{AccountFilter, AccountRoles};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The list is refreshed in the background when older than this.
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// A refresh under way, or how the last one ended.
#[derive(Debug, Default)]
pub(super) struct AccountsState {
    refreshing: bool,
    error: Option<Arc<Error>>,
    /// The list last read, when it could not be cached: shown rather than lost.
    unsaved: Option<CachedAccounts>,
}

/// The accounts of an instance, as known now.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// The accounts, each with the user's roles.
    pub accounts: Vec<AccountRoles>,
    /// When they were read from AWS (`None`: never).
    pub updated_at: Option<SystemTime>,
    /// A refresh is under way.
    pub refreshing: bool,
    /// Why the last refresh failed.
    pub error: Option<Arc<Error>>,
}

impl Workspace {
    fn accounts_cache(&self) -> AccountsCache {
        AccountsCache::new(self.shared.paths.accounts_cache_dir())
    }

    /// The cached accounts of `instance` at once; a background refresh starts when they
    /// are old and the session is signed in.
    pub async fn accounts(&self, instance: &Instance) -> Result<Accounts> {
        let cached = self.cached_accounts(instance).await?;
        let stale = self.stale(&cached);
        let signed_in = self.phase(instance) == super::SessionPhase::SignedIn;
        if stale && signed_in && !cached.refreshing {
            self.refresh_accounts(instance)?;
            return Ok(Accounts {
                refreshing: true,
                ..cached
            });
        }
        Ok(cached)
    }

    /// Every account of `instance` with its roles, answered now: the cached list while it
    /// is fresh, unless `refresh`; else read again first (and cached), with
    /// [`Event::AccountsProgress`]. For the command line.
    pub async fn all_accounts(&self, instance: &Instance, refresh: bool) -> Result<Accounts> {
        let cached = self.cached_accounts(instance).await?;
        if !refresh && !self.stale(&cached) {
            return Ok(cached);
        }
        if let Err(e) = self.discover(instance).await {
            self.note_refusal(instance, &e);
            return Err(e);
        }
        self.cached_accounts(instance).await
    }

    /// Whether the list is old enough to read again.
    fn stale(&self, cached: &Accounts) -> bool {
        let now = self.now();
        cached
            .updated_at
            .is_none_or(|t| now.duration_since(t).map_or(true, |age| age > STALE_AFTER))
    }

    /// The cached accounts of `instance`, without starting a refresh.
    pub async fn cached_accounts(&self, instance: &Instance) -> Result<Accounts> {
        let (cache, i) = (self.accounts_cache(), instance.clone());
        let on_disk = blocking("read of the account list", move || Ok(cache.get(&i))).await?;
        let state = self.lock();
        let known = state.accounts.get(instance);
        let cached = known.and_then(|a| a.unsaved.clone()).unwrap_or(on_disk);
        Ok(Accounts {
            accounts: cached.accounts,
            updated_at: cached.updated_at,
            refreshing: known.is_some_and(|a| a.refreshing),
            error: known.and_then(|a| a.error.clone()),
        })
    }

    /// Reads the accounts and roles of `instance` again, in the background, with
    /// [`Event::AccountsProgress`]; [`Event::AccountsUpdated`] when done.
    pub fn refresh_accounts(&self, instance: &Instance) -> Result<()> {
        {
            let mut state = self.lock();
            let a = state.accounts.entry(instance.clone()).or_default();
            if a.refreshing {
                return Ok(());
            }
            a.refreshing = true;
            a.error = None;
        }
        let (world, instance) = (self.clone(), instance.clone());
        tokio::spawn(async move {
            let result = world.discover(&instance).await;
            if let Err(e) = &result {
                world.note_refusal(&instance, e);
            }
            if let Some(a) = world.lock().accounts.get_mut(&instance) {
                a.refreshing = false;
                a.error = result.err().map(Arc::new);
            }
            world.emit(Event::AccountsUpdated { instance });
        });
        Ok(())
    }

    async fn discover(&self, instance: &Instance) -> Result<()> {
        self.emit(Event::AccountsProgress {
            instance: instance.clone(),
            done: 0,
            total: None,
        });
        let provider = self.provider(instance).await?;
        let (world, reported) = (self.clone(), instance.clone());
        let last = Mutex::new(0usize);
        let report = move |done: usize, total: usize| {
            // At most ~100 updates however large the organisation.
            let step = (total / 100).max(1);
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if done == total || done >= *last + step || done == 0 {
                *last = done;
                world.emit(Event::AccountsProgress {
                    instance: reported.clone(),
                    done,
                    total: Some(total),
                });
            }
        };
        let found = provider
            .accounts_with_roles_reporting(&AccountFilter::default(), None, &report)
            .await?;
        let (cache, i, now, list) = (
            self.accounts_cache(),
            instance.clone(),
            self.now(),
            found.clone(),
        );
        let saved = blocking("write of the account list", move || {
            cache
                .put(&i, &list, now)
                .map_err(|source| Error::WriteFailed {
                    path: cache.path_of(&i),
                    source,
                })
        })
        .await;
        let unsaved = match saved {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not cache the account list; showing it anyway");
                Some(CachedAccounts {
                    updated_at: Some(now),
                    accounts: found,
                })
            }
        };
        if let Some(a) = self.lock().accounts.get_mut(instance) {
            a.unsaved = unsaved;
        }
        Ok(())
    }
}
