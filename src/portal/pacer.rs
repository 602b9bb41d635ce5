//! Pacing of portal calls against a throttle whose rate nobody publishes.
//!
//! - Concurrency is bounded and adapts (AIMD): +1/limit per success, halved once per
//!   throttle wave.
//! - Once throttled, requests are paced just below the limit the service showed: the
//!   successes of the last second less 5% (after a slow-start ramp: the rate of the last
//!   few sends less 10%, as the limit was just crossed). The pace then rises 5% per
//!   second of calls until the next throttle, so it tracks the limit from just below it.
//! - When that first measurement covers less than a second (the burst allowance ran out
//!   at once), it says little about the sustained rate: the pace then starts at no less
//!   than 4 requests/s and grows by slow start, about ×7 per second, until the next
//!   throttle measures it properly. Overshooting is self-limiting: past the limit nothing
//!   succeeds, so nothing grows.
//! - Only when throttle waves follow each other with no success in between does everyone
//!   cool down, with jittered exponential back-off.
//! - A caller that reads in bulk ([`Pacer::acquire_within`]) leaves room for the user's
//!   other tools: once the service has shown its limit, its calls go out no faster than
//!   a share of it, however far the pace has probed, and the pace does not probe on them.
//!   What a throttle showed holds for [`SHOWN_HOLDS_FOR`]: a busy moment of another tool
//!   long ago does not slow a listing now.
//!
//! A throttled call is simply retried through the pacer; nobody sleeps on their own.

use rand::Rng;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Limits of the pacer.
#[derive(Debug, Clone, PartialEq)]
pub struct PacerConfig {
    /// Concurrency at the start.
    pub initial_concurrency: f64,
    /// Concurrency never exceeds this.
    pub max_concurrency: f64,
    /// First cool-down after throttle waves with no success between them; doubles each time.
    pub base_backoff: Duration,
    /// Longest cool-down.
    pub max_backoff: Duration,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            initial_concurrency: 4.0,
            max_concurrency: 16.0,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// One throttle per this window counts as one wave.
const WAVE: Duration = Duration::from_secs(1);
/// Window over which the allowed rate is observed.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// Pace below the observed success rate by this factor after a throttle.
const BACK_OFF_FACTOR: f64 = 0.95;
/// Or below the rate that was being sent when the throttle came, by this factor.
const SENT_BACK_OFF_FACTOR: f64 = 0.9;
/// The pace grows by this share of itself per second of successes.
const PROBE_PER_SECOND: f64 = 0.05;
/// During slow start the pace grows by this much per success: at pace r that is r·2 per
/// second, so the pace grows as e^(2t), about ×7 per second.
const SLOW_START_PER_SUCCESS: f64 = 2.0;
/// Slow start never starts below this pace: a guess too high costs a few throttled
/// requests and is corrected within a wave; a guess too low costs whole seconds.
const SLOW_START_FLOOR: f64 = 4.0;
/// Never pace slower than this (requests per second).
const MIN_RATE: f64 = 0.2;
/// How long the limit a throttle showed holds a bulk reader to its share: long enough
/// for a listing (about a minute at 1,000 accounts), short enough that the share, which
/// each throttle under contention lowers, is not lowered for the rest of the run.
pub const SHOWN_HOLDS_FOR: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
struct State {
    limit: f64,
    in_flight: usize,
    /// Requests per second, once throttled.
    rate: Option<f64>,
    next_slot: Instant,
    /// The next call within a share of the observed limit.
    next_shared_slot: Instant,
    successes: VecDeque<Instant>,
    sent: VecDeque<Instant>,
    last_wave: Option<Instant>,
    /// The first throttle since the last success.
    throttled_since: Option<Instant>,
    /// When the first call succeeded: how much history a rate measurement has.
    first_success: Option<Instant>,
    /// The pace came from less than a window of history: grow it fast.
    slow_start: bool,
    waves_without_success: u32,
    cooldown_until: Option<Instant>,
    /// What the last throttle showed the service allows (requests per second), as
    /// measured then; the pace probes above it, this does not.
    observed: Option<f64>,
    /// When it was shown.
    observed_at: Option<Instant>,
}

impl State {
    /// The most that a caller held to `share` of the shown limit may send per second,
    /// while what was shown still holds.
    fn ceiling(&self, share: f64, now: Instant) -> Option<f64> {
        let holds = self
            .observed_at
            .is_some_and(|t| now.duration_since(t) < SHOWN_HOLDS_FOR);
        self.observed
            .filter(|_| share < 1.0 && holds)
            .map(|l| share * l)
    }
}

/// Shared by every call of one portal client.
#[derive(Debug)]
pub struct Pacer {
    config: PacerConfig,
    state: Mutex<State>,
    released: Notify,
}

/// Permission to send one request; returned by [`Pacer::acquire`], released on drop.
#[derive(Debug)]
pub struct Permit<'a> {
    pacer: &'a Pacer,
    /// Share of the observed limit the call was held to.
    share: f64,
}

enum Wait {
    Until(Instant),
    Release,
}

impl Pacer {
    /// A pacer with `config`.
    pub fn new(config: PacerConfig) -> Self {
        Self {
            state: Mutex::new(State {
                limit: config
                    .initial_concurrency
                    .clamp(1.0, config.max_concurrency.max(1.0)),
                in_flight: 0,
                rate: None,
                next_slot: Instant::now(),
                next_shared_slot: Instant::now(),
                successes: VecDeque::new(),
                sent: VecDeque::new(),
                last_wave: None,
                throttled_since: None,
                first_success: None,
                slow_start: false,
                waves_without_success: 0,
                cooldown_until: None,
                observed: None,
                observed_at: None,
            }),
            config,
            released: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a request may go out.
    pub async fn acquire(&self) -> Permit<'_> {
        self.acquire_within(1.0).await
    }

    /// Waits until a request may go out using no more than `share` (0–1] of the limit
    /// the service last showed ([`Self::observed_limit`]), on top of the pace: the rest
    /// stays free for the user's other tools. Until the service has shown its limit, the
    /// same as [`Self::acquire`] (the limit is learnt by reaching it).
    pub async fn acquire_within(&self, share: f64) -> Permit<'_> {
        let share = if share.is_finite() {
            share.clamp(0.01, 1.0)
        } else {
            1.0
        };
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let wait = {
                let mut s = self.state();
                let now = Instant::now();
                let ceiling = s.ceiling(share, now);
                let due = match (s.rate, ceiling) {
                    (Some(_), Some(_)) => Some(s.next_slot.max(s.next_shared_slot)),
                    (Some(_), None) => Some(s.next_slot),
                    (None, Some(_)) => Some(s.next_shared_slot),
                    (None, None) => None,
                };
                match s.cooldown_until {
                    Some(until) if until > now => Wait::Until(until),
                    _ if (s.in_flight as f64) >= s.limit.floor() => Wait::Release,
                    _ => match due {
                        Some(t) if t > now => Wait::Until(t),
                        _ => {
                            if let Some(rate) = s.rate {
                                s.next_slot =
                                    s.next_slot.max(now) + Duration::from_secs_f64(1.0 / rate);
                            }
                            if let Some(ceiling) = ceiling {
                                s.next_shared_slot = s.next_shared_slot.max(now)
                                    + Duration::from_secs_f64(1.0 / ceiling.max(MIN_RATE));
                            }
                            s.in_flight += 1;
                            s.sent.push_back(now);
                            prune(&mut s.sent, now);
                            return Permit { pacer: self, share };
                        }
                    },
                }
            };
            match wait {
                Wait::Until(t) => tokio::time::sleep_until(t).await,
                Wait::Release => released.await,
            }
        }
    }

    /// The current concurrency limit (for logs and tests).
    pub fn limit(&self) -> f64 {
        self.state().limit
    }

    /// How long the service has throttled with no call succeeding since; `None` when the
    /// last outcome was a success. Calls give up on this, not on their own waiting time,
    /// so a long queue behind a slow pace never fails while the service makes progress.
    pub fn stalled_for(&self) -> Option<Duration> {
        self.state().throttled_since.map(|t| t.elapsed())
    }

    /// The current pace in requests per second, `None` while never throttled.
    pub fn rate(&self) -> Option<f64> {
        self.state().rate
    }

    /// The rate the service allowed when it last throttled (requests per second), `None`
    /// while never throttled. Unlike [`Self::rate`], it does not creep up between
    /// throttles.
    pub fn observed_limit(&self) -> Option<f64> {
        self.state().observed
    }
}

impl Permit<'_> {
    /// The request succeeded: widen a little, and let the pace probe upwards.
    pub fn succeeded(self) {
        let now = Instant::now();
        let c = &self.pacer.config;
        let mut s = self.pacer.state();
        s.limit = (s.limit + 1.0 / s.limit).min(c.max_concurrency);
        s.waves_without_success = 0;
        s.throttled_since = None;
        s.first_success.get_or_insert(now);
        s.successes.push_back(now);
        prune(&mut s.successes, now);
        let ceiling = s.ceiling(self.share, now);
        if let Some(rate) = s.rate.filter(|r| ceiling.is_none_or(|c| *r < c)) {
            // At pace r there are r successes a second: +0.05 each is +5% per second. Not
            // while the share held the call back: the pace was not what was tried.
            let step = if s.slow_start {
                SLOW_START_PER_SUCCESS
            } else {
                PROBE_PER_SECOND
            };
            s.rate = Some(rate + step);
        }
    }

    /// The request was throttled. The first throttle of a wave sets the pace to what the
    /// service was seen to allow and halves concurrency; later ones in the wave only retry.
    pub fn throttled(self) {
        let now = Instant::now();
        let c = &self.pacer.config;
        let mut s = self.pacer.state();
        s.throttled_since.get_or_insert(now);
        if s.last_wave.is_some_and(|t| now.duration_since(t) < WAVE) {
            return;
        }
        s.last_wave = Some(now);
        prune(&mut s.successes, now);
        prune(&mut s.sent, now);
        let window = RATE_WINDOW.as_secs_f64();
        let succeeded = s.successes.len() as f64 / window;
        // Right after a slow-start ramp, both one-second averages lag far behind the pace
        // that crossed the limit; the last few sends show it. In steady state the average
        // of successes is the better measure (a few bunched retries skew the last sends).
        let ramped = s.slow_start;
        s.slow_start = s
            .first_success
            .is_none_or(|t| now.duration_since(t) < RATE_WINDOW);
        let rate = match recent_rate(&s.sent) {
            Some(sent) if ramped && sent * SENT_BACK_OFF_FACTOR > succeeded * BACK_OFF_FACTOR => {
                sent * SENT_BACK_OFF_FACTOR
            }
            _ if succeeded >= 1.0 => succeeded * BACK_OFF_FACTOR,
            _ => s.rate.map_or(1.0, |r| r / 2.0),
        };
        let rate = if s.slow_start {
            rate.max(SLOW_START_FLOOR)
        } else {
            rate
        };
        s.rate = Some(rate.max(MIN_RATE));
        if !s.slow_start {
            s.observed = Some(rate.max(MIN_RATE));
            s.observed_at = Some(now);
        }
        s.next_slot = now + Duration::from_secs_f64(1.0 / rate.max(MIN_RATE));
        s.limit = (s.limit / 2.0).max(1.0);
        s.waves_without_success = s.waves_without_success.saturating_add(1);
        if s.waves_without_success >= 2 {
            let pause = backoff(c.base_backoff, c.max_backoff, s.waves_without_success - 1);
            s.cooldown_until = Some(now + pause);
        }
        tracing::debug!(rate = s.rate, limit = s.limit, "portal throttled; pacing");
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.pacer.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.pacer.released.notify_waiters();
    }
}

/// Requests per second over the last few instants of `times`, if there are enough.
fn recent_rate(times: &VecDeque<Instant>) -> Option<f64> {
    const SAMPLES: usize = 8;
    let n = times.len().min(SAMPLES);
    let first = times.get(times.len().checked_sub(n)?)?;
    let last = times.back()?;
    let span = last.duration_since(*first).as_secs_f64();
    (n >= 3 && span > 0.0).then(|| (n - 1) as f64 / span)
}

/// Drops the instants older than the rate window.
fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
    {
        times.pop_front();
    }
}

/// Exponential back-off with "equal jitter": half fixed, half random, so no caller
/// retries at once and none waits needlessly long.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(max);
    let half = exp / 2;
    half + half.mul_f64(rand::thread_rng().gen::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PacerConfig {
        PacerConfig {
            initial_concurrency: 2.0,
            max_concurrency: 3.0,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        for attempt in 1..20 {
            let d = backoff(base, max, attempt);
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(16)).min(max);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
        let samples: std::collections::HashSet<_> =
            (0..20).map(|_| backoff(base, max, 5)).collect();
        assert!(samples.len() > 1, "jitter must vary");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded_and_adapts() {
        let p = Pacer::new(config());
        let a = p.acquire().await;
        let b = p.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), p.acquire()).await;
        assert!(third.is_err(), "limit 2 let a third request through");
        a.succeeded();
        assert!((p.limit() - 2.5).abs() < 1e-9);
        let c = tokio::time::timeout(Duration::from_secs(1), p.acquire())
            .await
            .expect("a release wakes a waiter");
        c.throttled();
        assert!(
            (p.limit() - 1.25).abs() < 1e-9,
            "halved on the wave's first throttle"
        );
        b.throttled();
        assert!(
            (p.limit() - 1.25).abs() < 1e-9,
            "a second throttle in the same wave changes nothing"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_throttle_the_pace_is_the_observed_rate() {
        let p = Pacer::new(PacerConfig {
            initial_concurrency: 16.0,
            ..config()
        });
        // Successes every 100 ms for over a second (ten of them within the last second),
        // then a throttle: pace at 9.5/s.
        for _ in 0..11 {
            p.acquire().await.succeeded();
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        assert_eq!(p.rate(), None, "unpaced until throttled");
        p.acquire().await.throttled();
        let rate = p.rate().expect("paced");
        assert!((rate - 9.5).abs() < 1e-9, "{rate}");
        let start = Instant::now();
        for _ in 0..20 {
            p.acquire().await.succeeded();
        }
        let took = start.elapsed().as_secs_f64();
        // 20 slots at ~9.5-10.5/s from the first slot one interval away: about 2.1 s.
        assert!((1.8..2.3).contains(&took), "{took}");
        assert!(p.rate().expect("paced") > rate, "the pace probes upwards");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_right_after_the_start_grows_the_pace_fast() {
        let p = Pacer::new(PacerConfig {
            initial_concurrency: 16.0,
            ..config()
        });
        // The burst allowance: two successes within a millisecond, then a throttle.
        p.acquire().await.succeeded();
        p.acquire().await.succeeded();
        p.acquire().await.throttled();
        let first = p.rate().expect("paced");
        assert!(
            (first - SLOW_START_FLOOR).abs() < 1e-9,
            "two successes say little: {first}"
        );
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            p.acquire().await.succeeded();
        }
        let grown = p.rate().expect("paced");
        assert!(grown > 4.0 * first, "slow start: {first} -> {grown} in 3 s");
    }

    /// A bulk reader (share 0.8) of a service that allows 20 requests/s: successes every
    /// 50 ms for over a second, then a throttle. It showed 19/s (20 less 5%).
    async fn shown_20_per_second() -> (Pacer, f64) {
        let p = Pacer::new(PacerConfig {
            initial_concurrency: 16.0,
            ..config()
        });
        for _ in 0..25 {
            p.acquire_within(0.8).await.succeeded();
            tokio::time::advance(Duration::from_millis(50)).await;
        }
        p.acquire_within(0.8).await.throttled();
        let observed = p.observed_limit().expect("the limit was shown");
        (p, observed)
    }

    #[tokio::test(start_paused = true)]
    async fn a_bulk_reader_keeps_a_share_of_the_limit_free() {
        let (p, observed) = shown_20_per_second().await;
        assert!((observed - 19.0).abs() < 1e-9, "{observed}");
        // A minute of bulk reading, every call a success: the pace would probe up to the
        // limit and past it; the bulk reader stays within 80% of what was shown.
        let start = Instant::now();
        let mut calls = 0u32;
        while start.elapsed() < Duration::from_secs(60) {
            p.acquire_within(0.8).await.succeeded();
            calls += 1;
        }
        let per_second = f64::from(calls) / start.elapsed().as_secs_f64();
        assert!(
            per_second <= 0.8 * observed + 0.05,
            "{per_second:.2} requests/s, over 80% of {observed}"
        );
        assert!(
            per_second >= 0.8 * observed - 0.5,
            "{per_second:.2} requests/s: the share is a ceiling, not a brake"
        );
        // A call that may use the whole limit still goes at the pace, which did not
        // creep up on the calls the share held back.
        let rate = p.rate().expect("paced");
        assert!(rate <= observed + 1.0, "the pace crept up to {rate}");
        let t = Instant::now();
        p.acquire().await.succeeded();
        p.acquire().await.succeeded();
        assert!(t.elapsed() < Duration::from_secs_f64(2.0 / (0.8 * observed)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_limit_shown_long_ago_no_longer_holds_a_bulk_reader_back() {
        let (p, observed) = shown_20_per_second().await;
        // Ten minutes later, with no throttle since: the bulk reader goes at the pace
        // again, and the pace probes upwards on its calls (a throttle will show the limit
        // anew).
        assert!(SHOWN_HOLDS_FOR <= Duration::from_secs(600));
        tokio::time::advance(Duration::from_secs(600)).await;
        let start = Instant::now();
        let mut calls = 0u32;
        while start.elapsed() < Duration::from_secs(10) {
            p.acquire_within(0.8).await.succeeded();
            calls += 1;
        }
        let per_second = f64::from(calls) / start.elapsed().as_secs_f64();
        assert!(
            per_second > observed,
            "{per_second:.2} requests/s, still held below {observed}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waves_without_success_cool_everyone_down() {
        let p = Pacer::new(config());
        p.acquire().await.throttled();
        tokio::time::advance(WAVE).await;
        p.acquire().await.throttled();
        let start = Instant::now();
        assert!(p.stalled_for().is_some_and(|d| d >= WAVE));
        p.acquire().await.succeeded();
        assert!(
            start.elapsed() >= Duration::from_millis(50),
            "cooled down {:?}",
            start.elapsed()
        );
        assert_eq!(p.stalled_for(), None, "a success ends the stall");
    }
}
