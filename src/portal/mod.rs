//! The SSO portal: accounts, roles and role credentials, with paging, bounded adaptive
//! concurrency and back-off on throttling. Writes nothing anywhere.

pub mod crawl;
pub mod pacer;

use crate::clock::from_epoch_millis;
use crate::error::{Error, Result};
use crate::sdk::classify;
use crate::secret::Secret;
use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use pacer::{backoff, Pacer, PacerConfig};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::task::JoinSet;
use unicode_normalization::UnicodeNormalization;

/// The largest page the portal serves.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Share of the limit the service showed that listing accounts and roles may use, even
/// when someone waits for the whole list: the rest stays free for the user's other tools
/// (the AWS CLI, Terraform) calling the portal meanwhile.
pub const LISTING_SHARE: f64 = 0.9;

/// An AWS account the user can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// 12-digit account id.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// The account's root e-mail address, if the service sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
}

/// A role the user may assume in an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// The account.
    pub account_id: String,
    /// The permission set's role name.
    pub role_name: String,
}

/// An account with its roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRoles {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// Its roles for this user.
    pub roles: Vec<Role>,
}

/// Temporary credentials for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    /// The access key id (not a secret on its own, but never logged either).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token.
    pub session_token: Secret,
    /// When they expire.
    pub expiration: SystemTime,
}

/// A glob over names (`*prod*`, `team-?-dev`, `[ab]*`, `*-{dev,test}`), matched against
/// the whole name, with case and accents folded on both sides: `zurich` matches `Zürich`.
///
/// The one glob of the project: the window's search box (`ui/search.js`) reads a word with
/// `*`, `?`, `[` or `{` in it the same way, and `tests/fixtures/rules.json` holds both to it.
///
/// - Pattern and name are folded alike: compatibility decomposition (NFKD), combining marks
///   dropped, lower case (`ZÜRICH*` and `zurich*` are one pattern; `ﬁ` is `fi`).
/// - `*` is any run of characters, none too; `**` the same: a `/` in a name is no separator.
/// - `?` is one character (not one byte: `総?` matches `総務`).
/// - `[ab]`, `[a-z]`, `[[:digit:]]` one of these, `[!ab]` or `[^ab]` none of them; a `]`
///   first and a `-` first or last stand for themselves.
/// - `{a,b}` one of the alternatives, which may hold globs and nest; an empty one stands
///   for no character (`a{,s}` matches `a` and `as`).
/// - `\` makes the next character itself (`a\*b`).
///
/// A pattern globset refuses is an error: `[` or `{` not closed, a `}` with none open, a
/// range backwards (`[z-a]`), a `\` at the end.
#[derive(Debug, Clone)]
pub struct NameGlob {
    pattern: String,
    matcher: NameMatcher,
}

#[derive(Debug, Clone)]
enum NameMatcher {
    /// Characters, as the window's search matches them.
    Chars(regex_automata::meta::Regex),
    /// globset's own matcher (bytes), for a pattern too large for the other.
    Bytes(GlobSet),
}

impl NameGlob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self> {
        let invalid = |source| Error::InvalidGlob {
            pattern: pattern.to_owned(),
            source,
        };
        let folded = fold(pattern);
        let build = |p: &str| {
            GlobBuilder::new(p)
                .case_insensitive(true)
                .literal_separator(false)
                // The same on every system: a name holds no path to separate with it.
                .backslash_escape(true)
                .build()
        };
        // globset says which patterns are globs and why not; the pattern as written first,
        // so that its error names what was typed.
        build(pattern).map_err(invalid)?;
        let glob = build(&folded).map_err(invalid)?;
        let matcher = match regex_automata::meta::Regex::new(&glob_regex(&folded)) {
            Ok(regex) => NameMatcher::Chars(regex),
            // Only a pattern of thousands of characters gets here.
            Err(_) => NameMatcher::Bytes(GlobSetBuilder::new().add(glob).build().map_err(invalid)?),
        };
        Ok(Self {
            pattern: pattern.to_owned(),
            matcher,
        })
    }

    /// Whether `name` matches.
    pub fn is_match(&self, name: &str) -> bool {
        let name = fold(name);
        match &self.matcher {
            NameMatcher::Chars(regex) => regex.is_match(&name),
            NameMatcher::Bytes(set) => set.is_match(&name),
        }
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// `text` as [`NameGlob`] compares it: compatibility decomposition, combining marks
/// dropped, lower case (as the window's `fold`).
fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// The regular expression (regex-automata's syntax, over characters) `pattern` stands for,
/// read as globset reads it; `pattern` is one globset accepts, folded.
fn glob_regex(pattern: &str) -> String {
    let mut re = String::from(r"\A(?:");
    let mut chars = pattern.chars().peekable();
    let mut open = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                while chars.next_if_eq(&'*').is_some() {}
                re.push_str("(?s:.)*");
            }
            '?' => re.push_str("(?s:.)"),
            '[' => glob_class(&mut chars, &mut re),
            '{' => {
                open += 1;
                re.push_str("(?:");
            }
            '}' if open > 0 => {
                open -= 1;
                re.push(')');
            }
            ',' if open > 0 => re.push('|'),
            '\\' => push_char(&mut re, chars.next().unwrap_or('\\')),
            c => push_char(&mut re, c),
        }
    }
    re.push_str(r")\z");
    re
}

/// A class (`[` read): its ranges as globset's parser makes them, quirks and all (a `-`
/// after a range moves its end: `[a-c-e]` is `[a-e]`).
fn glob_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, re: &mut String) {
    let negated = chars.next_if(|c| matches!(c, '!' | '^')).is_some();
    let mut ranges: Vec<(char, char)> = Vec::new();
    let mut first = true;
    let mut in_range = false;
    while let Some(c) = chars.next() {
        match c {
            ']' if !first => break,
            '-' if first => ranges.push(('-', '-')),
            '-' if in_range => {
                if let Some(last) = ranges.last_mut() {
                    last.1 = '-';
                }
                in_range = false;
            }
            '-' => in_range = true,
            '[' if !in_range && chars.peek() == Some(&':') => {
                match posix_class(chars) {
                    Some(Some(posix)) => ranges.extend_from_slice(posix),
                    // A name globset does not know: a `[`, and what was read is gone,
                    // as there.
                    Some(None) | None => ranges.push(('[', '[')),
                }
            }
            c => {
                match ranges.last_mut() {
                    Some(last) if in_range => last.1 = c,
                    _ => ranges.push((c, c)),
                }
                in_range = false;
            }
        }
        first = false;
    }
    if in_range {
        ranges.push(('-', '-'));
    }
    // The name is in lower case; a class of capitals (`[[:upper:]]`) matches its letters.
    let lower: Vec<(char, char)> = ranges
        .iter()
        .filter(|(a, b)| *a <= 'Z' && *b >= 'A')
        .map(|(a, b)| {
            let (a, b) = ((*a).max('A'), (*b).min('Z'));
            (a.to_ascii_lowercase(), b.to_ascii_lowercase())
        })
        .collect();
    re.push_str(if negated { "[^" } else { "[" });
    for (a, b) in ranges.iter().chain(&lower) {
        push_char(re, *a);
        if a != b {
            re.push('-');
            push_char(re, *b);
        }
    }
    re.push(']');
}

/// A POSIX class after `[` (`:digit:]`): `None` when it is not one (nothing read),
/// `Some(None)` for a well-formed name globset does not know (read).
fn posix_class(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Option<Option<&'static [(char, char)]>> {
    let mut ahead = chars.clone();
    ahead.next(); // ':'
    let mut name = String::new();
    loop {
        match ahead.next() {
            Some(':') if ahead.peek() == Some(&']') => {
                ahead.next();
                break;
            }
            Some(c) if c.is_ascii_lowercase() && name.len() < 8 => name.push(c),
            _ => return None,
        }
    }
    *chars = ahead;
    Some(Some(match name.as_str() {
        "alnum" => &[('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha" => &[('A', 'Z'), ('a', 'z')],
        "blank" => &[('\t', '\t'), (' ', ' ')],
        "cntrl" => &[('\x00', '\x1f'), ('\x7f', '\x7f')],
        "digit" => &[('0', '9')],
        "graph" => &[('!', '~')],
        "lower" => &[('a', 'z')],
        "print" => &[(' ', '~')],
        "punct" => &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space" => &[('\t', '\r'), (' ', ' ')],
        "upper" => &[('A', 'Z')],
        "xdigit" => &[('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => return Some(None),
    }))
}

/// One character, escaped whatever it is.
fn push_char(re: &mut String, c: char) {
    re.push_str(&format!(r"\x{{{:x}}}", u32::from(c)));
}

/// Which accounts to keep.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Keep only these ids (empty: any).
    pub ids: Vec<String>,
    /// Keep only names matching this glob.
    pub name: Option<NameGlob>,
}

impl AccountFilter {
    /// Whether `a` passes.
    pub fn matches(&self, a: &Account) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|id| id == &a.account_id))
            && self
                .name
                .as_ref()
                .is_none_or(|g| g.is_match(&a.account_name))
    }
}

/// How hard to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts for a call that fails with no answer or a server fault.
    pub transient_attempts: u32,
    /// How long calls keep retrying while the service throttles and no call succeeds.
    pub throttle_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            transient_attempts: 4,
            throttle_budget: Duration::from_secs(120),
        }
    }
}

/// The next page's token; an error when the service hands out a token it already gave
/// (it would page forever).
fn next_page(
    seen: &mut std::collections::HashSet<String>,
    token: Option<&str>,
) -> Result<Option<String>> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if seen.insert(t.to_owned()) => Ok(Some(t.to_owned())),
        Some(_) => Err(Error::UnexpectedReply {
            operation: "paging",
            detail: "the same nextToken came back twice".into(),
        }),
    }
}

/// The SSO portal client.
#[derive(Debug, Clone)]
pub struct PortalClient {
    client: aws_sdk_sso::Client,
    endpoint: String,
    pacer: Arc<Pacer>,
    retry: RetryPolicy,
}

impl PortalClient {
    /// Wraps an SDK client (built with its own retries off) talking to `endpoint`.
    pub fn new(
        client: aws_sdk_sso::Client,
        endpoint: String,
        pacer: PacerConfig,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            client,
            endpoint,
            pacer: Arc::new(Pacer::new(pacer)),
            retry,
        }
    }

    /// Runs `call` under the pacer, using no more than `share` of the limit the service
    /// showed, retrying throttles (within the time budget) and transient faults (within
    /// the attempt budget) with jittered back-off.
    async fn call<T, E, F, Fut>(&self, operation: &'static str, share: f64, call: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut transient_failures = 0u32;
        loop {
            let permit = self.pacer.acquire_within(share).await;
            match call().await.map_err(classify) {
                Ok(v) => {
                    permit.succeeded();
                    return Ok(v);
                }
                Err(e) if e.is_throttle() => {
                    permit.throttled();
                    if self
                        .pacer
                        .stalled_for()
                        .is_some_and(|d| d >= self.retry.throttle_budget)
                    {
                        return Err(Error::Throttled { operation });
                    }
                }
                Err(e) if e.is_transient() => {
                    drop(permit);
                    transient_failures += 1;
                    if transient_failures >= self.retry.transient_attempts {
                        return Err(e.into_error(operation, &self.endpoint));
                    }
                    tracing::debug!(
                        operation,
                        attempt = transient_failures,
                        "transient portal failure; retrying"
                    );
                    tokio::time::sleep(backoff(
                        Duration::from_millis(200),
                        Duration::from_secs(5),
                        transient_failures,
                    ))
                    .await;
                }
                Err(e) => return Err(e.into_error(operation, &self.endpoint)),
            }
        }
    }

    /// Every account, all pages, largest page size.
    pub async fn list_accounts(&self, token: &Secret) -> Result<Vec<Account>> {
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self
                .call("ListAccounts", LISTING_SHARE, || {
                    self.client
                        .list_accounts()
                        .access_token(token.expose())
                        .max_results(MAX_PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await?;
            if page.account_list.is_none() {
                // Not "no accounts": a reply without the list is not an answer.
                return Err(Error::UnexpectedReply {
                    operation: "ListAccounts",
                    detail: "no accountList in the reply".into(),
                });
            }
            for a in page.account_list() {
                let account_id =
                    a.account_id()
                        .filter(|id| !id.is_empty())
                        .ok_or(Error::UnexpectedReply {
                            operation: "ListAccounts",
                            detail: "an account with no accountId".into(),
                        })?;
                accounts.push(Account {
                    account_id: account_id.to_owned(),
                    account_name: a.account_name().unwrap_or_default().to_owned(),
                    email_address: a.email_address().map(str::to_owned),
                });
            }
            next = next_page(&mut seen, page.next_token())?;
            if next.is_none() {
                return Ok(accounts);
            }
        }
    }

    /// Every role of `account_id`, all pages.
    pub async fn list_roles(&self, token: &Secret, account_id: &str) -> Result<Vec<Role>> {
        let mut roles = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self
                .call("ListAccountRoles", LISTING_SHARE, || {
                    self.client
                        .list_account_roles()
                        .access_token(token.expose())
                        .account_id(account_id)
                        .max_results(MAX_PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await
                .map_err(|e| match e {
                    Error::Service { code, .. } if code == "ResourceNotFoundException" => {
                        Error::AccountNotFound {
                            pattern: account_id.to_owned(),
                        }
                    }
                    e => e,
                })?;
            if page.role_list.is_none() {
                return Err(Error::UnexpectedReply {
                    operation: "ListAccountRoles",
                    detail: "no roleList in the reply".into(),
                });
            }
            for r in page.role_list() {
                let role_name =
                    r.role_name()
                        .filter(|n| !n.is_empty())
                        .ok_or(Error::UnexpectedReply {
                            operation: "ListAccountRoles",
                            detail: "a role with no roleName".into(),
                        })?;
                roles.push(Role {
                    account_id: r.account_id().unwrap_or(account_id).to_owned(),
                    role_name: role_name.to_owned(),
                });
            }
            next = next_page(&mut seen, page.next_token())?;
            if next.is_none() {
                return Ok(roles);
            }
        }
    }

    /// Roles of many accounts at once, concurrently under the pacer; results in input order.
    pub async fn list_roles_of(
        &self,
        token: &Secret,
        accounts: Vec<Account>,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Vec<AccountRoles>> {
        let mut tasks = JoinSet::new();
        for (i, account) in accounts.into_iter().enumerate() {
            let this = self.clone();
            let token = token.clone();
            tasks.spawn(async move {
                let roles = this.list_roles(&token, &account.account_id).await;
                (i, account, roles)
            });
        }
        let mut out: Vec<Option<AccountRoles>> = Vec::new();
        out.resize_with(tasks.len(), || None);
        let (mut done, total) = (0, out.len());
        progress(done, total);
        while let Some(joined) = tasks.join_next().await {
            let (i, account, roles) = joined.map_err(|e| Error::UnexpectedReply {
                operation: "ListAccountRoles",
                detail: format!("a worker stopped: {e}"),
            })?;
            out[i] = Some(AccountRoles {
                account,
                roles: roles?,
            });
            done += 1;
            progress(done, total);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Role credentials for (`account_id`, `role_name`).
    pub async fn role_credentials(
        &self,
        token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<RoleCredentials> {
        let out = self
            .call("GetRoleCredentials", 1.0, || {
                self.client
                    .get_role_credentials()
                    .access_token(token.expose())
                    .account_id(account_id)
                    .role_name(role_name)
                    .send()
            })
            .await
            .map_err(|e| match e {
                Error::Service { code, .. }
                    if code == "ResourceNotFoundException" || code == "ForbiddenException" =>
                {
                    Error::RoleNotFound {
                        account_id: account_id.to_owned(),
                        role: role_name.to_owned(),
                    }
                }
                e => e,
            })?;
        let c = out.role_credentials().ok_or(Error::UnexpectedReply {
            operation: "GetRoleCredentials",
            detail: "no roleCredentials".into(),
        })?;
        // No expiration reads as 0: credentials that expired in 1970, which every tool
        // would throw away and ask for again.
        match (c.access_key_id(), c.secret_access_key(), c.session_token()) {
            (Some(ak), Some(sk), Some(st)) if c.expiration() > 0 => Ok(RoleCredentials {
                access_key_id: ak.to_owned(),
                secret_access_key: Secret::new(sk),
                session_token: Secret::new(st),
                expiration: from_epoch_millis(c.expiration()),
            }),
            _ => Err(Error::UnexpectedReply {
                operation: "GetRoleCredentials",
                detail:
                    "incomplete roleCredentials (a key, the token or the expiration is missing)"
                        .into(),
            }),
        }
    }

    /// Ends the session on the server.
    pub async fn logout(&self, token: &Secret) -> Result<()> {
        self.call("Logout", 1.0, || {
            self.client.logout().access_token(token.expose()).send()
        })
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_fold_accents_and_case_on_both_sides() {
        let g = |p: &str| NameGlob::new(p).unwrap();
        assert!(g("zurich").is_match("Zürich"));
        assert!(g("ZÜRICH-*").is_match("zurich-prod"));
        assert!(g("*cafe*").is_match("Cafe\u{301} Zu\u{308}rich"));
        assert!(g("team-?-dev").is_match("Team-É-Dev"));
        assert!(!g("zurich").is_match("Zürich-prod"), "the whole name");
        assert_eq!(g("Zü*").pattern(), "Zü*", "the pattern as written");
    }

    #[test]
    fn globs_match_characters_not_bytes() {
        let g = |p: &str| NameGlob::new(p).unwrap();
        assert!(g("総?").is_match("総務"));
        assert!(g("[!a]x").is_match("務x"));
        assert!(g("[務部]").is_match("部"));
        assert!(!g("?").is_match("総務"));
    }

    #[test]
    fn globs_have_classes_and_alternatives() {
        let g = |p: &str| NameGlob::new(p).unwrap();
        assert!(g("[ab]*").is_match("Beta"));
        assert!(!g("[ab]*").is_match("Gamma"));
        assert!(g("[^ab]*").is_match("Gamma"));
        assert!(
            g("[a-c-e]").is_match("d"),
            "globset's reading of a second '-'"
        );
        assert!(g("[[:upper:]]x").is_match("Ax"));
        assert!(g("[]-]").is_match("-"));
        assert!(g("*-{dev,test}").is_match("payments-TEST"));
        assert!(g("{a,b{c,d}}").is_match("bd"));
        assert!(g("a{,s}").is_match("a"));
        assert!(g("a{,s}").is_match("as"));
        assert!(g("a\\*").is_match("a*"));
        assert!(!g("a\\*").is_match("ab"));
        assert!(g("**/x").is_match("a/b/x"));
        for refused in ["[", "[z-a]", "{a,b", "a}", "a\\"] {
            let err = NameGlob::new(refused).unwrap_err();
            assert!(matches!(err, Error::InvalidGlob { .. }), "{refused}");
            assert!(err.to_string().contains(refused), "{err}");
        }
    }

    #[test]
    fn a_repeated_next_token_ends_paging_with_an_error() {
        let mut seen = std::collections::HashSet::new();
        assert_eq!(
            next_page(&mut seen, Some("a")).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(next_page(&mut seen, Some("")).unwrap(), None);
        assert_eq!(next_page(&mut seen, None).unwrap(), None);
        assert!(matches!(
            next_page(&mut seen, Some("a")),
            Err(Error::UnexpectedReply { .. })
        ));
    }
}
