//! Reading every account's roles without making anyone wait, and without taking the
//! whole throttle: a queue that serves first the accounts a person is looking at, and
//! paces the rest at a share of what the service allows, so the user's other tools (the
//! AWS CLI, the console, Terraform) keep the remainder.

use super::{Account, AccountRoles, PortalClient};
use crate::error::{Error, Result};
use crate::secret::Secret;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The rate assumed for the service before it has throttled us (requests per second):
/// the portal's usual limit per user. Background reading uses a share of it until the
/// service shows its real one.
pub const ASSUMED_LIMIT: f64 = 20.0;

/// Workers reading roles side by side (the pacer bounds how many are in flight).
const WORKERS: usize = 16;

/// Accounts whose roles are to be read: those asked for first, at once; the others at
/// the background pace.
#[derive(Debug)]
pub struct RoleQueue {
    state: Mutex<QueueState>,
    /// Share of the service's limit the background may use (0–1].
    share: f64,
    changed: Notify,
    stopped: AtomicBool,
}

#[derive(Debug)]
struct QueueState {
    pending: VecDeque<Account>,
    urgent: HashSet<String>,
    next_background: Instant,
}

impl RoleQueue {
    /// A queue of `accounts`, in order, whose background pace is `share` of the limit.
    pub fn new(accounts: Vec<Account>, share: f64) -> Self {
        Self {
            state: Mutex::new(QueueState {
                pending: accounts.into(),
                urgent: HashSet::new(),
                next_background: Instant::now(),
            }),
            share: share.clamp(0.01, 1.0),
            changed: Notify::new(),
            stopped: AtomicBool::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads these accounts' roles next, without the background pace (those already read
    /// or not in the queue are ignored).
    pub fn prioritise<I: IntoIterator<Item = String>>(&self, ids: I) {
        let mut s = self.state();
        let ids: Vec<String> = {
            let present: HashSet<&str> = s.pending.iter().map(|a| a.account_id.as_str()).collect();
            ids.into_iter()
                .filter(|id| present.contains(id.as_str()))
                .collect()
        };
        if ids.is_empty() {
            return;
        }
        s.urgent.extend(ids);
        // The urgent ones to the front; each part keeps the queue's order.
        let QueueState {
            pending, urgent, ..
        } = &mut *s;
        let (front, back): (Vec<Account>, Vec<Account>) = pending
            .drain(..)
            .partition(|a| urgent.contains(&a.account_id));
        *pending = front.into_iter().chain(back).collect();
        drop(s);
        self.changed.notify_waiters();
    }

    /// Accounts still to read.
    pub fn remaining(&self) -> usize {
        self.state().pending.len()
    }

    /// The next account to read: an urgent one at once; another when the background pace
    /// allows, at `share` of `limit` (requests per second); `None` when none is left.
    async fn next(&self, limit: f64) -> Option<Account> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let wait = {
                let mut s = self.state();
                if self.stopped.load(Ordering::Relaxed) {
                    return None;
                }
                let front = s.pending.front()?;
                let now = Instant::now();
                if s.urgent.contains(&front.account_id) {
                    let a = s.pending.pop_front()?;
                    s.urgent.remove(&a.account_id);
                    return Some(a);
                }
                if s.next_background <= now {
                    let gap = Duration::from_secs_f64(1.0 / (self.share * limit).max(0.01));
                    s.next_background = s.next_background.max(now - gap) + gap;
                    return s.pending.pop_front();
                }
                s.next_background
            };
            tokio::select! {
                () = tokio::time::sleep_until(wait) => {}
                () = &mut changed => {}
            }
        }
    }

    /// Puts back an account whose read failed, to read first next time.
    fn put_back(&self, account: Account) {
        self.state().pending.push_front(account);
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.changed.notify_waiters();
    }
}

impl PortalClient {
    /// Reads the roles of every account in `queue`, handing each account's to `found` as
    /// they arrive (none for an account gone since it was listed). On the first other
    /// failure everyone stops, the accounts not read stay in the queue, and the error is
    /// the answer.
    pub async fn crawl_roles(
        &self,
        token: &Secret,
        queue: Arc<RoleQueue>,
        found: Arc<dyn Fn(AccountRoles) + Send + Sync>,
    ) -> Result<()> {
        queue.stopped.store(false, Ordering::Relaxed);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..WORKERS {
            let (this, token, queue, found) =
                (self.clone(), token.clone(), queue.clone(), found.clone());
            workers.spawn(async move {
                loop {
                    let limit = this.pacer.observed_limit().unwrap_or(ASSUMED_LIMIT);
                    let Some(account) = queue.next(limit).await else {
                        return Ok(());
                    };
                    match this.list_roles(&token, &account.account_id).await {
                        Ok(roles) => found(AccountRoles { account, roles }),
                        // Gone since it was listed: no role of it is the user's.
                        Err(Error::AccountNotFound { .. }) => found(AccountRoles {
                            account,
                            roles: Vec::new(),
                        }),
                        Err(e) => {
                            queue.put_back(account);
                            queue.stop();
                            return Err(e);
                        }
                    }
                }
            });
        }
        let mut outcome = Ok(());
        while let Some(joined) = workers.join_next().await {
            let result = joined.map_err(|e| Error::UnexpectedReply {
                operation: "ListAccountRoles",
                detail: format!("a worker stopped: {e}"),
            });
            if let (Ok(()), Err(e) | Ok(Err(e))) = (&outcome, result) {
                outcome = Err(e);
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(n: usize) -> Vec<Account> {
        (0..n)
            .map(|i| Account {
                account_id: format!("{i:012}"),
                account_name: format!("a{i}"),
                email_address: None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn asked_for_accounts_jump_the_queue_and_skip_the_pace() {
        let q = RoleQueue::new(accounts(10), 0.5);
        // 0.5 of 2 req/s: one a second in the background.
        assert_eq!(q.next(2.0).await.map(|a| a.account_name), Some("a0".into()));
        let t = Instant::now();
        assert_eq!(q.next(2.0).await.map(|a| a.account_name), Some("a1".into()));
        assert!(
            t.elapsed() >= Duration::from_millis(990),
            "{:?}",
            t.elapsed()
        );
        q.prioritise([
            "000000000007".to_owned(),
            "000000000004".to_owned(),
            "nope".to_owned(),
        ]);
        let t = Instant::now();
        assert_eq!(q.next(2.0).await.map(|a| a.account_name), Some("a4".into()));
        assert_eq!(q.next(2.0).await.map(|a| a.account_name), Some("a7".into()));
        assert_eq!(t.elapsed(), Duration::ZERO);
        assert_eq!(q.next(2.0).await.map(|a| a.account_name), Some("a2".into()));
        assert_eq!(q.remaining(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_worker_takes_an_account_asked_for_at_once() {
        let q = Arc::new(RoleQueue::new(accounts(3), 0.1));
        assert!(q.next(1.0).await.is_some());
        // The next background slot is 10 s away; an account asked for meanwhile is not.
        let waiting = tokio::spawn({
            let q = q.clone();
            async move { q.next(1.0).await.map(|a| a.account_name) }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        q.prioritise(["000000000002".to_owned()]);
        let t = Instant::now();
        assert_eq!(waiting.await.unwrap(), Some("a2".into()));
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
