//! Wall-clock time, injected so that expiry decisions can be tested with a fixed clock.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        #[allow(clippy::disallowed_methods)]
        SystemTime::now()
    }
}

/// A clock that moves only when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// A clock starting at the operating system's current time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to `to`, forwards or backwards.
    pub fn set(&self, to: SystemTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Randomness in timing (spreading renewals and retries), injected like the clock so
/// that tests can make it exact.
pub trait Jitter: Send + Sync + Debug {
    /// A duration from zero to `max`, both included.
    fn up_to(&self, max: Duration) -> Duration;
}

/// Uniformly random jitter.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn up_to(&self, max: Duration) -> Duration {
        use rand::Rng;
        let max = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=max))
    }
}

/// Always the same share of `max` (0.0 to 1.0): no randomness, for tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn up_to(&self, max: Duration) -> Duration {
        max.mul_f64(self.0.clamp(0.0, 1.0))
    }
}

/// Notices that the machine slept: the monotonic clock stands still while a laptop is
/// suspended and the wall clock does not, so a wall-clock step larger than the monotonic
/// one (beyond `tolerance`) is a resume (or the clock was set forward).
#[derive(Debug, Clone)]
pub struct ResumeWatch {
    wall: SystemTime,
    mono: std::time::Instant,
    tolerance: Duration,
}

impl ResumeWatch {
    /// Starts watching from `wall` (by the injected clock) and now on the monotonic clock.
    pub fn new(wall: SystemTime, tolerance: Duration) -> Self {
        Self {
            wall,
            mono: std::time::Instant::now(),
            tolerance,
        }
    }

    /// Compares the clocks since the last look; `Some(gap)` when the wall clock moved on
    /// by more than the monotonic one plus the tolerance.
    pub fn check(&mut self, wall: SystemTime, mono: std::time::Instant) -> Option<Duration> {
        let walled = wall.duration_since(self.wall).unwrap_or_default();
        let ran = mono.duration_since(self.mono);
        (self.wall, self.mono) = (wall, mono);
        (walled > ran + self.tolerance).then(|| walled - ran)
    }
}

/// Seconds since the Unix epoch, saturating at zero for times before it.
pub fn epoch_seconds(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Milliseconds since the Unix epoch, saturating at zero for times before it.
pub fn epoch_millis(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// The time `secs` seconds after the Unix epoch (negative values clamp to the epoch).
pub fn from_epoch_seconds(secs: i64) -> SystemTime {
    after_epoch(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// The time `ms` milliseconds after the Unix epoch (negative values clamp to the epoch).
pub fn from_epoch_millis(ms: i64) -> SystemTime {
    after_epoch(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// The epoch plus `d`, saturating at the year 9999: a server that sends milliseconds for
/// seconds must not crash us where `SystemTime` is narrow.
fn after_epoch(d: Duration) -> SystemTime {
    const FAR_FUTURE: Duration = Duration::from_secs(253_402_300_799);
    SystemTime::UNIX_EPOCH
        .checked_add(d.min(FAR_FUTURE))
        .unwrap_or(SystemTime::UNIX_EPOCH + Duration::from_secs(i32::MAX as u64))
}

/// `t` plus `d`, saturating instead of panicking.
pub fn later(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .unwrap_or_else(|| after_epoch(Duration::MAX))
}

/// RFC 3339 in UTC with a `Z` suffix, whole seconds: `2026-11-26T12:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let dt = aws_smithy_types::DateTime::from_secs(epoch_seconds(t));
    dt.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Reads an RFC 3339 date-time (`2026-11-26T12:00:00Z`, offsets and fractions allowed).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let dt = aws_smithy_types::DateTime::from_str(s, aws_smithy_types::date_time::Format::DateTime)
        .ok()?;
    Some(from_epoch_seconds(dt.secs()))
}

/// How long from `now` until `then`, zero if `then` is past.
pub fn until(now: SystemTime, then: SystemTime) -> Duration {
    then.duration_since(now).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(from_epoch_seconds(1_000));
        assert_eq!(epoch_seconds(c.now()), 1_000);
        c.advance(Duration::from_secs(5));
        assert_eq!(epoch_seconds(c.now()), 1_005);
        c.set(from_epoch_seconds(10));
        assert_eq!(epoch_seconds(c.now()), 10);
    }

    #[test]
    fn a_wall_clock_jump_beyond_the_monotonic_one_is_a_resume() {
        let start = from_epoch_seconds(1_000);
        let mut watch = ResumeWatch::new(start, Duration::from_secs(5));
        let mono = std::time::Instant::now();
        // Both clocks moved 10 s: awake.
        assert_eq!(
            watch.check(
                start + Duration::from_secs(10),
                mono + Duration::from_secs(10)
            ),
            None
        );
        // The wall clock moved an hour, the monotonic one 10 s: asleep for the rest.
        let gap = watch.check(
            start + Duration::from_secs(3_620),
            mono + Duration::from_secs(20),
        );
        assert_eq!(gap, Some(Duration::from_secs(3_600)));
        // A step back, or a small drift, is not a resume.
        assert_eq!(watch.check(start, mono + Duration::from_secs(30)), None);
        assert_eq!(
            FixedJitter(0.5).up_to(Duration::from_secs(10)),
            Duration::from_secs(5)
        );
        assert!(RandomJitter.up_to(Duration::from_millis(3)) <= Duration::from_millis(3));
    }

    #[test]
    fn rfc3339_is_utc_with_z() {
        assert_eq!(
            rfc3339(from_epoch_seconds(1_795_694_400)),
            "2026-11-26T12:00:00Z"
        );
        assert_eq!(epoch_seconds(from_epoch_millis(1_500)), 1);
        assert_eq!(
            parse_rfc3339("2026-11-26T12:00:00Z").map(epoch_seconds),
            Some(1_795_694_400)
        );
        assert_eq!(parse_rfc3339("tomorrow"), None);
        // Seconds sent as milliseconds, and worse: no panic, a far-future time.
        assert!(epoch_seconds(from_epoch_seconds(1_800_000_000_000)) > 1_800_000_000);
        assert!(epoch_seconds(from_epoch_millis(i64::MAX)) > 1_800_000_000);
        assert!(later(SystemClock.now(), Duration::MAX) > SystemClock.now());
    }
}
