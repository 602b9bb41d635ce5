//! Pacing of portal calls: a concurrency limit that grows additively on success and halves
//! on throttling (AIMD), and a shared, jittered cool-down after each throttle, so that all
//! concurrent callers back off together instead of feeding a 429 storm.

use rand::Rng;
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
    /// First cool-down after a throttle; doubles with each consecutive throttle.
    pub base_backoff: Duration,
    /// Longest cool-down.
    pub max_backoff: Duration,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            initial_concurrency: 4.0,
            max_concurrency: 16.0,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
struct State {
    limit: f64,
    in_flight: usize,
    cooldown_until: Option<Instant>,
    consecutive_throttles: u32,
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
                limit: config.initial_concurrency.max(1.0),
                in_flight: 0,
                cooldown_until: None,
                consecutive_throttles: 0,
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
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let wait = {
                let mut s = self.state();
                let now = Instant::now();
                match s.cooldown_until {
                    Some(until) if until > now => Wait::Until(until),
                    _ if (s.in_flight as f64) < s.limit.floor() => {
                        s.in_flight += 1;
                        return Permit { pacer: self };
                    }
                    _ => Wait::Release,
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
}

impl Permit<'_> {
    /// The request succeeded: widen a little.
    pub fn succeeded(self) {
        let mut s = self.pacer.state();
        s.limit = (s.limit + 1.0 / s.limit).min(self.pacer.config.max_concurrency);
        s.consecutive_throttles = 0;
    }

    /// The request was throttled: halve, and make everyone wait a jittered while.
    pub fn throttled(self) {
        let c = &self.pacer.config;
        let mut s = self.pacer.state();
        s.limit = (s.limit / 2.0).max(1.0);
        s.consecutive_throttles = s.consecutive_throttles.saturating_add(1);
        let backoff = backoff(c.base_backoff, c.max_backoff, s.consecutive_throttles);
        let until = Instant::now() + backoff;
        s.cooldown_until = Some(s.cooldown_until.map_or(until, |u| u.max(until)));
        tracing::debug!(
            limit = s.limit,
            backoff_ms = backoff.as_millis() as u64,
            "portal throttled"
        );
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

    #[tokio::test]
    async fn aimd_limit_and_concurrency_bound() {
        let p = Pacer::new(PacerConfig {
            initial_concurrency: 2.0,
            max_concurrency: 3.0,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        });
        let a = p.acquire().await;
        let b = p.acquire().await;
        // A third must wait until one is released.
        let third = tokio::time::timeout(Duration::from_millis(50), p.acquire()).await;
        assert!(third.is_err(), "limit 2 let a third request through");
        a.succeeded();
        assert!((p.limit() - 2.5).abs() < 1e-9);
        let c = tokio::time::timeout(Duration::from_secs(1), p.acquire())
            .await
            .expect("released permit wakes a waiter");
        c.throttled();
        assert!((p.limit() - 1.25).abs() < 1e-9);
        drop(b);
        for _ in 0..10 {
            p.acquire().await.throttled();
        }
        assert!((p.limit() - 1.0).abs() < 1e-9, "never below one");
    }
}
