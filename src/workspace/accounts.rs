//! The account browser's data: the cached list at once; a refresh that lists the
//! accounts first (searchable within a second, however many there are), then reads their
//! roles, the ones a person is looking at first and the rest at a background pace that
//! leaves most of the service's throttle to the user's other tools.

use super::{blocking, Event, Workspace};
use crate::cache::{AccountsCache, CachedAccounts};
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::portal::crawl::RoleQueue;
use crate::portal::{Account, AccountFilter, AccountRoles, NameGlob, Role};
use crate::settings::DISCOVERY_PERCENT;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The list is refreshed in the background when older than this.
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// An account's roles, once read, are trusted this long: a refresh reads again the roles
/// of accounts read longer ago than this (and of new ones), not the others.
const ROLES_TRUSTED_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// While roles arrive, the faces are told what changed at most this often (at once for
/// an account a person asked for).
const TELL_EVERY: Duration = Duration::from_millis(250);

/// While roles arrive, the list is written to its cache file at most this often (and once
/// more at the end): the file is for the next run and other processes, not the faces.
const PERSIST_EVERY: Duration = Duration::from_secs(2);

/// A refresh under way, or how the last one ended.
#[derive(Debug, Default)]
pub(super) struct AccountsState {
    refreshing: bool,
    error: Option<Arc<Error>>,
    /// The list as known now: what the faces are shown (the cache file only persists it).
    current: Option<CachedAccounts>,
    /// The roles being read, to put first the accounts a person looks at.
    queue: Option<Arc<RoleQueue>>,
    /// Accounts a person looks at (their roles are read first).
    wanted: Vec<String>,
}

/// The accounts of an instance, as known now.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// The accounts, each with the user's roles.
    pub accounts: Vec<AccountRoles>,
    /// Accounts whose roles are not read yet (their `roles` are empty meanwhile).
    pub roles_pending: HashSet<String>,
    /// When they were read from AWS (`None`: never).
    pub updated_at: Option<SystemTime>,
    /// A refresh is under way.
    pub refreshing: bool,
    /// Why the last refresh failed.
    pub error: Option<Arc<Error>>,
}

/// Which account, for [`Workspace::roles`].
#[derive(Debug, Clone)]
pub enum AccountRef {
    /// By its id.
    Id(String),
    /// The one account whose name matches this glob.
    Name(String),
}

impl Workspace {
    /// The accounts of `instance` whose name matches `name` (every one without it), read
    /// from the portal now.
    pub async fn accounts_matching(
        &self,
        instance: &Instance,
        name: Option<&str>,
    ) -> Result<Vec<Account>> {
        let answer = self
            .provider(instance)
            .await?
            .accounts_matching(&[], name)
            .await;
        answer.inspect_err(|e| self.note_refusal(instance, e))
    }

    /// The user's roles in an account (those matching `role`, if given), read from the
    /// portal now, with the account's id; a `role` that matches none is an error.
    pub async fn roles(
        &self,
        instance: &Instance,
        account: AccountRef,
        role: Option<&str>,
    ) -> Result<(String, Vec<Role>)> {
        let sso = self.provider(instance).await?;
        let answer = async {
            let id = match account {
                AccountRef::Id(id) => id,
                AccountRef::Name(glob) => sso.account_id_for_name(&glob).await?,
            };
            let roles = sso.roles(&id, role).await?;
            match role {
                Some(role) if roles.is_empty() => Err(Error::RoleNotFound {
                    account_id: id,
                    role: role.to_owned(),
                }),
                _ => Ok((id, roles)),
            }
        }
        .await;
        answer.inspect_err(|e| self.note_refusal(instance, e))
    }

    /// Every account of `instance` with its roles (from the cache while fresh, else read
    /// again), those matching the globs: an account by its name or id, a role by its name;
    /// an account left with no role that matches is left out.
    pub async fn account_roles_matching(
        &self,
        instance: &Instance,
        account: Option<&NameGlob>,
        role: Option<&NameGlob>,
        refresh: bool,
    ) -> Result<Vec<AccountRoles>> {
        Ok(self
            .all_accounts(instance, refresh)
            .await?
            .accounts
            .into_iter()
            .filter(|a| {
                account.is_none_or(|g| {
                    g.is_match(&a.account.account_name) || g.is_match(&a.account.account_id)
                })
            })
            .filter_map(|mut a| {
                if let Some(g) = role {
                    a.roles.retain(|r| g.is_match(&r.role_name));
                    if a.roles.is_empty() {
                        return None;
                    }
                }
                Some(a)
            })
            .collect())
    }

    fn accounts_cache(&self) -> AccountsCache {
        AccountsCache::new(self.shared.paths.accounts_cache_dir())
    }

    /// The cached accounts of `instance` at once; a background refresh starts when they
    /// are old (or some roles were never read) and the session is signed in.
    pub async fn accounts(&self, instance: &Instance) -> Result<Accounts> {
        let cached = self.cached_accounts(instance).await?;
        let signed_in = self.phase(instance) == super::SessionPhase::SignedIn;
        if self.stale(&cached) && signed_in && !cached.refreshing {
            self.start_discovery(instance, false);
            return Ok(Accounts {
                refreshing: true,
                ..cached
            });
        }
        Ok(cached)
    }

    /// Every account of `instance` with its roles, answered now: the cached list while it
    /// is fresh, unless `refresh`; else read again first (and cached), with
    /// [`Event::AccountsProgress`]. For the command line: someone waits for all of it, so
    /// every role is read at the pace the service allows, not the background's.
    pub async fn all_accounts(&self, instance: &Instance, refresh: bool) -> Result<Accounts> {
        let cached = self.cached_accounts(instance).await?;
        if !refresh && !self.stale(&cached) {
            return Ok(cached);
        }
        if let Err(e) = self.discover(instance, refresh, true).await {
            self.note_refusal(instance, &e);
            return Err(e);
        }
        self.cached_accounts(instance).await
    }

    /// Whether the list is old enough to read again, or holds accounts whose roles were
    /// never read.
    fn stale(&self, cached: &Accounts) -> bool {
        let now = self.now();
        !cached.roles_pending.is_empty()
            || cached
                .updated_at
                .is_none_or(|t| now.duration_since(t).map_or(true, |age| age > STALE_AFTER))
    }

    /// What is known of `instance`'s accounts: the list in memory, else (the first time)
    /// the cache file's.
    async fn known_accounts(&self, instance: &Instance) -> Result<CachedAccounts> {
        if let Some(list) = self.remembered_accounts(instance) {
            return Ok(list);
        }
        let (cache, i) = (self.accounts_cache(), instance.clone());
        let on_disk = blocking("read of the account list", move || Ok(cache.get(&i))).await?;
        let mut state = self.lock();
        let a = state.accounts.entry(instance.clone()).or_default();
        // A list made while the file was read is newer than the file.
        Ok(a.current.get_or_insert(on_disk).clone())
    }

    fn remembered_accounts(&self, instance: &Instance) -> Option<CachedAccounts> {
        self.lock()
            .accounts
            .get(instance)
            .and_then(|a| a.current.clone())
    }

    fn remember_accounts(&self, instance: &Instance, list: CachedAccounts) {
        self.lock()
            .accounts
            .entry(instance.clone())
            .or_default()
            .current = Some(list);
    }

    /// The cached accounts of `instance`, without starting a refresh.
    pub async fn cached_accounts(&self, instance: &Instance) -> Result<Accounts> {
        let cached = self.known_accounts(instance).await?;
        let state = self.lock();
        let known = state.accounts.get(instance);
        let roles_pending = cached
            .accounts
            .iter()
            .filter(|a| !cached.roles_read.contains_key(&a.account.account_id))
            .map(|a| a.account.account_id.clone())
            .collect();
        let mut accounts = cached.accounts;
        accounts.sort_by_cached_key(|a| list_order(&a.account));
        Ok(Accounts {
            accounts,
            roles_pending,
            updated_at: cached.updated_at,
            refreshing: known.is_some_and(|a| a.refreshing),
            error: known.and_then(|a| a.error.clone()),
        })
    }

    /// Reads the accounts and roles of `instance` again, all of them, in the background,
    /// with [`Event::AccountsProgress`] and [`Event::AccountsUpdated`] as they arrive.
    pub fn refresh_accounts(&self, instance: &Instance) -> Result<()> {
        self.start_discovery(instance, true);
        Ok(())
    }

    /// Reads these accounts' roles before the others' (the accounts a person is looking
    /// at, or a command names), in the refresh under way and the next one.
    pub fn prioritise_accounts(&self, instance: &Instance, ids: Vec<String>) {
        let mut state = self.lock();
        let a = state.accounts.entry(instance.clone()).or_default();
        if let Some(q) = &a.queue {
            q.prioritise(ids.iter().cloned());
        }
        a.wanted = ids;
    }

    /// A refresh in the background, unless one runs: every account's roles when `full`,
    /// else only those of new accounts and of accounts read more than a day ago.
    fn start_discovery(&self, instance: &Instance, full: bool) {
        {
            let mut state = self.lock();
            let a = state.accounts.entry(instance.clone()).or_default();
            if a.refreshing {
                return;
            }
            a.refreshing = true;
            a.error = None;
        }
        let (world, instance) = (self.clone(), instance.clone());
        tokio::spawn(async move {
            let result = world.discover(&instance, full, false).await;
            if let Err(e) = &result {
                world.note_refusal(&instance, e);
            }
            let read = result.is_ok();
            if let Some(a) = world.lock().accounts.get_mut(&instance) {
                a.refreshing = false;
                a.error = result.err().map(Arc::new);
            }
            world.emit(Event::AccountsUpdated {
                instance: instance.clone(),
            });
            if read {
                world.regenerate_after_refresh(&instance).await;
            }
        });
    }

    /// Lists the accounts (saved and announced at once), then reads the roles that are
    /// due, saving as they come; all of them at once when `waited_for`.
    async fn discover(&self, instance: &Instance, full: bool, waited_for: bool) -> Result<()> {
        self.emit(Event::AccountsProgress {
            instance: instance.clone(),
            done: 0,
            total: None,
        });
        let provider = self.provider(instance).await?;
        let listed = provider.accounts(&AccountFilter::default()).await?;
        let now = self.now();
        let merged = merge(self.known_accounts(instance).await?, listed, now);
        let due = due(&merged, full, now);
        self.save_accounts(instance, merged.clone()).await;

        let percent = self.settings().preferences.discovery_percent;
        let share =
            f64::from(percent.clamp(*DISCOVERY_PERCENT.start(), *DISCOVERY_PERCENT.end())) / 100.0;
        let all: Vec<String> = due.iter().map(|a| a.account_id.clone()).collect();
        let queue = Arc::new(RoleQueue::new(due, share));
        if waited_for {
            queue.prioritise(all);
        }
        let favourites: Vec<String> = self
            .settings()
            .favourites_of(instance)
            .map(|f| f.account_id.clone())
            .collect();
        queue.prioritise(favourites);
        {
            let mut state = self.lock();
            let a = state.accounts.entry(instance.clone()).or_default();
            queue.prioritise(a.wanted.iter().cloned());
            a.queue = Some(queue.clone());
        }
        let total = queue.remaining();
        let progress = Progress::new(self.clone(), instance.clone(), total);
        progress.report(0);
        // The list, the accounts whose roles were read, and those not yet told.
        let current = Arc::new(Mutex::new((merged, 0usize, Vec::<AccountRoles>::new())));
        // Roles a person asked for are shown at once, not at the next save.
        let save_now = Arc::new(tokio::sync::Notify::new());
        let found = {
            let (current, world, progress) = (current.clone(), self.clone(), progress.clone());
            let (instance, save_now) = (instance.clone(), save_now.clone());
            Arc::new(move |found: AccountRoles| {
                let asked = world
                    .lock()
                    .accounts
                    .get(&instance)
                    .is_some_and(|a| a.wanted.contains(&found.account.account_id));
                if asked {
                    save_now.notify_one();
                }
                let mut c = current.lock().unwrap_or_else(|e| e.into_inner());
                let id = found.account.account_id.clone();
                if let Some(a) = c.0.accounts.iter_mut().find(|a| a.account.account_id == id) {
                    a.roles = found.roles;
                    let read = a.clone();
                    c.2.push(read);
                }
                c.0.roles_read.insert(id, world.now());
                c.1 += 1;
                progress.report(c.1);
            })
        };
        // The faces are told the roles that arrived, from memory; the file follows, less
        // often.
        let saver = {
            let (current, world, instance) = (current.clone(), self.clone(), instance.clone());
            let save_now = save_now.clone();
            tokio::spawn(async move {
                let mut persisted = tokio::time::Instant::now();
                let mut unpersisted = false;
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(TELL_EVERY) => {}
                        () = save_now.notified() => {}
                    }
                    let (list, read) = {
                        let mut c = current.lock().unwrap_or_else(|e| e.into_inner());
                        let read = std::mem::take(&mut c.2);
                        unpersisted |= !read.is_empty();
                        // The list is copied only when it changed or is due on disk.
                        let due = unpersisted && persisted.elapsed() >= PERSIST_EVERY;
                        if read.is_empty() && !due {
                            continue;
                        }
                        (c.0.clone(), read)
                    };
                    if !read.is_empty() {
                        world.remember_accounts(&instance, list.clone());
                        world.emit(Event::AccountsRolesRead {
                            instance: instance.clone(),
                            accounts: read,
                        });
                    }
                    if unpersisted && persisted.elapsed() >= PERSIST_EVERY {
                        world.persist_accounts(&instance, list).await;
                        persisted = tokio::time::Instant::now();
                        unpersisted = false;
                    }
                }
            })
        };
        let result = provider.crawl_roles(queue, found).await;
        saver.abort();
        let (last, read) = {
            let mut c = current.lock().unwrap_or_else(|e| e.into_inner());
            (c.0.clone(), std::mem::take(&mut c.2))
        };
        if !read.is_empty() {
            self.emit(Event::AccountsRolesRead {
                instance: instance.clone(),
                accounts: read,
            });
        }
        self.save_accounts(instance, last).await;
        if let Some(a) = self.lock().accounts.get_mut(instance) {
            a.queue = None;
        }
        progress.report(total);
        result
    }

    /// Forgets the account list of `instance` (on a new sign-in: the service does not say
    /// who signed in, so the list may be someone else's).
    pub(super) async fn forget_accounts(&self, instance: &Instance) {
        let (cache, i) = (self.accounts_cache(), instance.clone());
        let removed = blocking("removal of the account list", move || {
            cache.remove(&i).map_err(|source| Error::WriteFailed {
                path: cache.path_of(&i),
                source,
            })
        })
        .await;
        if let Err(e) = removed {
            tracing::warn!(error = %e, "could not remove the cached account list");
        }
        if let Some(a) = self.lock().accounts.get_mut(instance) {
            a.current = None;
        }
        self.emit(Event::AccountsUpdated {
            instance: instance.clone(),
        });
    }

    /// Makes `list` the list known now, writes it to the cache and tells the faces to
    /// read it again.
    async fn save_accounts(&self, instance: &Instance, list: CachedAccounts) {
        self.remember_accounts(instance, list.clone());
        self.persist_accounts(instance, list).await;
        self.emit(Event::AccountsUpdated {
            instance: instance.clone(),
        });
    }

    /// Writes `list` to the cache file, for the next run and other processes; one that
    /// cannot be written is still shown, from memory.
    async fn persist_accounts(&self, instance: &Instance, list: CachedAccounts) {
        let (cache, i) = (self.accounts_cache(), instance.clone());
        let saved = blocking("write of the account list", move || {
            cache
                .put_all(&i, &list)
                .map_err(|source| Error::WriteFailed {
                    path: cache.path_of(&i),
                    source,
                })
        })
        .await;
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not cache the account list; showing it anyway");
        }
    }
}

/// The accounts as just listed, with the roles already known of those still there;
/// accounts that are gone are dropped, new ones have roles not read yet.
fn merge(known: CachedAccounts, listed: Vec<Account>, now: SystemTime) -> CachedAccounts {
    let mut roles: HashMap<String, AccountRoles> = known
        .accounts
        .into_iter()
        .map(|a| (a.account.account_id.clone(), a))
        .collect();
    let mut roles_read = HashMap::new();
    let accounts = listed
        .into_iter()
        .map(|account| {
            let id = account.account_id.clone();
            let known_roles = roles.remove(&id).map(|a| a.roles).unwrap_or_default();
            if let Some(t) = known.roles_read.get(&id) {
                roles_read.insert(id, *t);
            }
            AccountRoles {
                account,
                roles: known_roles,
            }
        })
        .collect();
    CachedAccounts {
        updated_at: Some(now),
        accounts,
        roles_read,
    }
}

/// The accounts whose roles to read: those never read first, then (all the others when
/// `full`) those read more than [`ROLES_TRUSTED_FOR`] ago, oldest first.
fn due(list: &CachedAccounts, full: bool, now: SystemTime) -> Vec<Account> {
    let unread = list
        .accounts
        .iter()
        .filter(|a| !list.roles_read.contains_key(&a.account.account_id));
    let mut read: Vec<(&SystemTime, &AccountRoles)> = list
        .accounts
        .iter()
        .filter_map(|a| list.roles_read.get(&a.account.account_id).map(|t| (t, a)))
        .filter(|(t, _)| {
            full || now
                .duration_since(**t)
                .map_or(true, |age| age >= ROLES_TRUSTED_FOR)
        })
        .collect();
    read.sort_by_key(|(t, _)| **t);
    unread
        .chain(read.into_iter().map(|(_, a)| a))
        .map(|a| a.account.clone())
        .collect()
}

/// A piece of a name as it sorts: a run of digits by its value, any other run of
/// characters as it is.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Piece {
    /// Digits: how many (leading zeros left out), then the digits themselves.
    Number(usize, String),
    /// Any other characters.
    Text(String),
}

/// Where an account goes in a list, the same whatever the locale: by name (its id when it
/// has none) with case and accents ignored ("Alpha", "beta", "Émile", "zeta") and runs of
/// digits by their value ("team-2" before "team-10"); the id settles the rest.
fn list_order(account: &Account) -> (Vec<Piece>, String) {
    use unicode_normalization::UnicodeNormalization;
    let name = if account.account_name.is_empty() {
        &account.account_id
    } else {
        &account.account_name
    };
    let mut pieces: Vec<Piece> = Vec::new();
    let folded = name
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase);
    for c in folded {
        let digit = c.is_ascii_digit();
        match pieces.last_mut() {
            Some(Piece::Number(_, run)) if digit => run.push(c),
            Some(Piece::Text(run)) if !digit => run.push(c),
            _ if digit => pieces.push(Piece::Number(0, c.to_string())),
            _ => pieces.push(Piece::Text(c.to_string())),
        }
    }
    for piece in &mut pieces {
        if let Piece::Number(len, run) = piece {
            let value = run.trim_start_matches('0').to_owned();
            *len = value.len();
            *run = value;
        }
    }
    (pieces, account.account_id.clone())
}

/// Progress of the roles, at most ~100 reports however large the organisation.
#[derive(Clone)]
struct Progress {
    world: Workspace,
    instance: Instance,
    total: usize,
    last: Arc<Mutex<Option<usize>>>,
}

impl Progress {
    fn new(world: Workspace, instance: Instance, total: usize) -> Self {
        Self {
            world,
            instance,
            total,
            last: Arc::new(Mutex::new(None)),
        }
    }

    fn report(&self, done: usize) {
        let step = (self.total / 100).max(1);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if done == self.total || last.is_none_or(|l| done >= l + step) {
            *last = Some(done);
            self.world.emit(Event::AccountsProgress {
                instance: self.instance.clone(),
                done,
                total: Some(self.total),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_epoch_seconds;
    use crate::portal::Role;

    fn account(id: &str, roles: &[&str]) -> AccountRoles {
        AccountRoles {
            account: Account {
                account_id: id.into(),
                account_name: format!("name-{id}"),
                email_address: None,
            },
            roles: roles
                .iter()
                .map(|r| Role {
                    account_id: id.into(),
                    role_name: (*r).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn accounts_sort_by_name_whatever_the_case_accents_and_locale() {
        let mut list: Vec<Account> = [
            ("1", "zeta"),
            ("2", "Alpha"),
            ("3", "Émile"),
            ("4", "beta"),
            ("5", "Zürich"),
            ("6", "team-10"),
            ("7", "team-2"),
            ("8", ""),
            ("9", "alpha"),
            ("10", "ALPHA"),
        ]
        .into_iter()
        .map(|(id, name)| Account {
            account_id: format!("{id:0>12}"),
            account_name: name.into(),
            email_address: None,
        })
        .collect();
        list.sort_by_cached_key(list_order);
        let names: Vec<&str> = list.iter().map(|a| a.account_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "", // named by its id, digits first
                "Alpha", "alpha", "ALPHA", "beta", "Émile", "team-2", "team-10", "zeta", "Zürich"
            ]
        );
    }

    #[test]
    fn a_refresh_keeps_known_roles_drops_gone_accounts_and_reads_new_ones_first() {
        let t0 = from_epoch_seconds(1_800_000_000);
        let known = CachedAccounts {
            updated_at: Some(t0),
            accounts: vec![
                account("1", &["A"]),
                account("2", &["B"]),
                account("3", &["C"]),
            ],
            roles_read: [("1", 0), ("2", 100), ("3", 50)]
                .into_iter()
                .map(|(id, s)| (id.to_owned(), t0 + Duration::from_secs(s)))
                .collect(),
        };
        let listed = vec![
            account("3", &[]).account,
            account("4", &[]).account,
            account("1", &[]).account,
        ];
        let now = t0 + Duration::from_secs(3_600);
        let merged = merge(known, listed, now);
        let ids = |v: &[Account]| v.iter().map(|a| a.account_id.clone()).collect::<Vec<_>>();
        assert_eq!(
            merged
                .accounts
                .iter()
                .map(|a| (a.account.account_id.as_str(), a.roles.len()))
                .collect::<Vec<_>>(),
            [("3", 1), ("4", 0), ("1", 1)]
        );
        assert!(!merged.roles_read.contains_key("2"));
        // Within a day only the new one; a full pass: the new one, then oldest first.
        assert_eq!(ids(&due(&merged, false, now)), ["4"]);
        assert_eq!(ids(&due(&merged, true, now)), ["4", "1", "3"]);
        // A day later, every account.
        let later = t0 + ROLES_TRUSTED_FOR + Duration::from_secs(60);
        assert_eq!(ids(&due(&merged, false, later)), ["4", "1", "3"]);
    }
}
