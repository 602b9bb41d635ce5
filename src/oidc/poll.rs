//! The device-flow polling rules (RFC 8628 §3.5), as pure functions.

use crate::error::Error;
use std::time::Duration;

/// How the device flow polls for its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    /// Interval used when the service sends none, or zero.
    pub default_interval: Duration,
    /// Added to the interval on every `SlowDownException`.
    pub slow_down_increment: Duration,
    /// Longest a sign-in may wait for approval, whatever the code's own expiry says.
    pub max_wait: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            default_interval: Duration::from_secs(5),
            slow_down_increment: Duration::from_secs(5),
            max_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// What one poll of CreateToken answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollReply {
    /// `AuthorizationPendingException`: not approved yet.
    Pending,
    /// `SlowDownException`: polling too fast.
    SlowDown,
    /// `ExpiredTokenException`: the device code expired.
    Expired,
    /// `AccessDeniedException`: the user refused.
    Denied,
    /// No answer or a server fault: worth another poll.
    Transient,
}

/// What to do after a reply.
#[derive(Debug)]
pub enum PollStep {
    /// Poll again after this interval.
    Wait(Duration),
    /// Stop with this error.
    Fail(Error),
}

impl PollPolicy {
    /// The first interval, from the service's `interval` (seconds).
    pub fn initial_interval(&self, service_interval_secs: i32) -> Duration {
        match u64::try_from(service_interval_secs) {
            Ok(s) if s > 0 => Duration::from_secs(s),
            _ => self.default_interval,
        }
    }

    /// The next step after `reply`, polling at `current` so far.
    pub fn next(&self, current: Duration, reply: PollReply) -> PollStep {
        match reply {
            PollReply::Pending | PollReply::Transient => PollStep::Wait(current),
            PollReply::SlowDown => PollStep::Wait(current + self.slow_down_increment),
            PollReply::Expired => PollStep::Fail(Error::SignInExpired),
            PollReply::Denied => PollStep::Fail(Error::SignInDenied),
        }
    }

    /// How long a sign-in may wait: the shorter of the code's life and [`Self::max_wait`].
    pub fn deadline(&self, code_expires_in_secs: i32) -> Duration {
        match u64::try_from(code_expires_in_secs) {
            Ok(s) if s > 0 => Duration::from_secs(s).min(self.max_wait),
            _ => self.max_wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_zero_interval_never_busy_loops() {
        let p = PollPolicy::default();
        assert_eq!(p.initial_interval(0), Duration::from_secs(5));
        assert_eq!(p.initial_interval(-3), Duration::from_secs(5));
        assert_eq!(p.initial_interval(2), Duration::from_secs(2));
    }

    #[test]
    fn slow_down_widens_instead_of_failing() {
        let p = PollPolicy::default();
        let PollStep::Wait(d) = p.next(Duration::from_secs(5), PollReply::SlowDown) else {
            panic!("slow down must not end the sign-in")
        };
        assert_eq!(d, Duration::from_secs(10));
        let PollStep::Wait(d) = p.next(d, PollReply::SlowDown) else {
            panic!()
        };
        assert_eq!(d, Duration::from_secs(15));
        let PollStep::Wait(d) = p.next(d, PollReply::Pending) else {
            panic!()
        };
        assert_eq!(
            d,
            Duration::from_secs(15),
            "pending keeps the widened interval"
        );
    }

    #[test]
    fn expired_and_denied_are_distinct_errors() {
        let p = PollPolicy::default();
        assert!(matches!(
            p.next(Duration::from_secs(5), PollReply::Expired),
            PollStep::Fail(Error::SignInExpired)
        ));
        assert!(matches!(
            p.next(Duration::from_secs(5), PollReply::Denied),
            PollStep::Fail(Error::SignInDenied)
        ));
        assert!(matches!(
            p.next(Duration::from_secs(5), PollReply::Transient),
            PollStep::Wait(_)
        ));
    }

    #[test]
    fn deadline_is_bounded_on_the_client() {
        let p = PollPolicy::default();
        assert_eq!(p.deadline(600), Duration::from_secs(600));
        assert_eq!(p.deadline(0), Duration::from_secs(900));
        assert_eq!(p.deadline(86_400), Duration::from_secs(900));
    }
}
