//! The account browser's data: the cache at once, a refresh in the background.

use super::*;

impl AppState {
    /// The cached accounts at once; a background refresh starts when they are old.
    pub fn accounts(self: &Arc<Self>) -> CommandResult<AccountsView> {
        let instance = self.current()?;
        let cached = self
            .accounts_cache
            .as_ref()
            .map(|c| c.get(&instance))
            .unwrap_or_default();
        let stale = cached.updated_at.is_none_or(|t| {
            self.clock
                .now()
                .duration_since(t)
                .map_or(true, |age| age > ACCOUNTS_STALE_AFTER)
        });
        if stale && self.signed_in(&instance) {
            self.refresh_accounts()?;
        }
        let inner = self.lock();
        Ok(AccountsView {
            accounts: cached.accounts.iter().map(AccountView::from).collect(),
            updated_at: cached.updated_at.map(ms),
            refreshing: inner.refreshing,
            error: inner.accounts_error.clone(),
        })
    }

    /// Reads the accounts and roles again, in the background, with progress.
    pub fn refresh_accounts(self: &Arc<Self>) -> CommandResult<()> {
        let instance = self.current()?;
        let provider = {
            let mut inner = self.lock();
            if inner.refreshing {
                return Ok(());
            }
            let Some(s) = inner.sessions.get(&instance.key()) else {
                return Err(Error::NoInstance.into());
            };
            let provider = s.renewer.provider();
            inner.refreshing = true;
            inner.accounts_error = None;
            provider
        };
        let this = self.clone();
        tokio::spawn(async move {
            this.announce(Change::AccountsProgress(Progress {
                done: 0,
                total: None,
            }));
            let progress_to = this.clone();
            let last = Mutex::new(0usize);
            let report = move |done: usize, total: usize| {
                // At most ~100 updates however large the organisation.
                let step = (total / 100).max(1);
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if done == total || done >= *last + step || done == 0 {
                    *last = done;
                    progress_to.announce(Change::AccountsProgress(Progress {
                        done,
                        total: Some(total),
                    }));
                }
            };
            let filter = AccountFilter::default();
            let found = provider
                .accounts_with_roles_reporting(&filter, None, &report)
                .await
                .inspect_err(|e| this.note_refusal(&instance, e));
            let now = this.clock.now();
            let (accounts, updated_at, error) = match found {
                Ok(found) => {
                    if let Some(cache) = &this.accounts_cache {
                        if let Err(e) = cache.put(&instance, &found, now) {
                            tracing::warn!(error = %e, "could not cache the account list");
                        }
                    }
                    (found, Some(now), None)
                }
                Err(e) => {
                    let cached = this
                        .accounts_cache
                        .as_ref()
                        .map(|c| c.get(&instance))
                        .unwrap_or_default();
                    (
                        cached.accounts,
                        cached.updated_at,
                        Some(CommandError::from(e)),
                    )
                }
            };
            {
                let mut inner = this.lock();
                inner.refreshing = false;
                inner.accounts_error = error.clone();
            }
            this.announce(Change::Accounts(AccountsView {
                accounts: accounts.iter().map(AccountView::from).collect(),
                updated_at: updated_at.map(ms),
                refreshing: false,
                error,
            }));
        });
        Ok(())
    }
}
