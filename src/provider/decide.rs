//! The access-token decision, as a pure function of what is stored and the time.

use crate::store::TokenSet;
use std::time::{Duration, SystemTime};

/// Refresh this long before the access token expires (botocore's figure).
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);
/// A token that cannot be refreshed is still used until this close to its expiry.
pub const LAST_USE_MARGIN: Duration = Duration::from_secs(60);

/// What to do to get a usable access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    /// The stored token is good.
    Use,
    /// Refresh with the refresh token (the stored token may still be used if that fails).
    Refresh,
    /// Nothing usable: a sign-in is needed.
    SignIn,
}

/// Decides from the stored `tokens`, whether a registration to refresh with exists, and `now`.
pub fn decide(
    tokens: Option<&TokenSet>,
    can_refresh: bool,
    now: SystemTime,
    margin: Duration,
) -> TokenAction {
    let Some(t) = tokens else {
        return TokenAction::SignIn;
    };
    if crate::clock::later(now, margin) < t.expires_at {
        TokenAction::Use
    } else if t.refresh_token.is_some() && can_refresh {
        TokenAction::Refresh
    } else if still_usable(t, now) {
        TokenAction::Use
    } else {
        TokenAction::SignIn
    }
}

/// Whether a token is still usable at all, for falling back when a refresh fails for a
/// reason other than a dead refresh token (network, throttling).
pub fn still_usable(t: &TokenSet, now: SystemTime) -> bool {
    now + LAST_USE_MARGIN < t.expires_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn token(expires_in: u64, refresh: bool) -> (TokenSet, SystemTime) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        (
            TokenSet {
                access_token: Secret::new("at"),
                expires_at: now + Duration::from_secs(expires_in),
                refresh_token: refresh.then(|| Secret::new("rt")),
            },
            now,
        )
    }

    const M: Duration = DEFAULT_TOKEN_REFRESH_MARGIN;

    #[test]
    fn valid_token_is_used_without_refreshing() {
        let (t, now) = token(3600, true);
        assert_eq!(decide(Some(&t), true, now, M), TokenAction::Use);
    }

    #[test]
    fn refresh_only_near_expiry() {
        let (t, now) = token(15 * 60 + 1, true);
        assert_eq!(decide(Some(&t), true, now, M), TokenAction::Use);
        assert_eq!(
            decide(Some(&t), true, now + Duration::from_secs(2), M),
            TokenAction::Refresh
        );
        assert_eq!(
            decide(Some(&t), true, now + Duration::from_secs(7200), M),
            TokenAction::Refresh
        );
    }

    #[test]
    fn without_refresh_token_use_until_the_end_then_sign_in() {
        let (t, now) = token(300, false);
        assert_eq!(decide(Some(&t), true, now, M), TokenAction::Use);
        assert_eq!(
            decide(Some(&t), true, now + Duration::from_secs(250), M),
            TokenAction::SignIn
        );
        let (t, now) = token(300, true);
        assert_eq!(
            decide(Some(&t), false, now, M),
            TokenAction::Use,
            "no registration to refresh with"
        );
    }

    #[test]
    fn nothing_stored_means_sign_in() {
        assert_eq!(
            decide(None, true, SystemTime::UNIX_EPOCH, M),
            TokenAction::SignIn
        );
    }
}
