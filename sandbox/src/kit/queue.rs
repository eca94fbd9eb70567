//! The callback retry queue every sandbox runs: one delivery record per callback, its fate drawn
//! from the faults when it is created, retried on a doubling backoff until delivered or given up,
//! and the background loop's wait between rounds.
//!
//! What a callback carries, how it is signed and what reply counts as "taken" are the platform's
//! business and stay in each sandbox; this is the bookkeeping around it.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::faults::{self, CallbackFault, Faults};

/// How callbacks are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub initial_backoff_ms: u64,
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// Wait after the `failures`-th failure in a row.
    pub fn backoff(&self, failures: u32) -> TimeDelta {
        faults::doubling_backoff(self.initial_backoff_ms, failures)
    }
}

/// The delivery record of one callback: its drawn fate and every attempt's outcome.
#[derive(Clone, Debug)]
pub struct Tracker {
    pub created_at: DateTime<Utc>,
    /// Drawn from the faults when the callback is created.
    pub plan: CallbackFault,
    /// Held back by the out-of-order fault until the order's next callback went out.
    pub held: bool,
    /// Whether the out-of-order fault picked it at all (`held` clears on release).
    pub out_of_order: bool,
    pub attempts: u32,
    /// Failed POSTs in a row, for the backoff.
    pub failures: u32,
    pub copies_delivered: u32,
    pub in_flight: bool,
    pub first_attempt_done: bool,
    pub gave_up: bool,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// What recording an attempt changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// It was the callback's first attempt: a held predecessor may go now.
    pub first: bool,
    /// This attempt used up the last one.
    pub gave_up: bool,
}

impl Tracker {
    /// A new record, its fate drawn from `faults`: held back (out of order) with probability
    /// `out_of_order_rate`, unless dropped or another callback of the order is already held.
    pub fn draw(
        faults: &Faults,
        out_of_order_rate: f64,
        someone_held: bool,
        now: DateTime<Utc>,
    ) -> Self {
        let plan = faults.roll_callback();
        let held = plan != CallbackFault::Drop && !someone_held && faults::roll(out_of_order_rate);
        Tracker {
            created_at: now,
            plan,
            held,
            out_of_order: held,
            attempts: 0,
            failures: 0,
            copies_delivered: 0,
            in_flight: false,
            first_attempt_done: false,
            gave_up: false,
            next_attempt_at: now,
            last_error: None,
        }
    }

    /// Dropped by fault injection: never sent.
    pub fn dropped(&self) -> bool {
        self.plan == CallbackFault::Drop
    }

    /// Nothing more will be sent.
    pub fn finished(&self) -> bool {
        self.gave_up || self.copies_delivered >= self.plan.copies()
    }

    /// Lets a held callback go now.
    pub fn release(&mut self, now: DateTime<Utc>) {
        self.held = false;
        self.next_attempt_at = now;
    }

    /// Lets a held callback go once it has waited `max_hold` for a successor that never came.
    pub fn release_if_stale(&mut self, now: DateTime<Utc>, max_hold: TimeDelta) {
        if self.held && now - self.created_at >= max_hold {
            self.held = false;
        }
    }

    /// Whether an attempt is due now.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        !self.held && !self.in_flight && !self.finished() && self.next_attempt_at <= now
    }

    /// When it next needs the background task: its next attempt, or its release if held.
    /// `None` while in flight or once finished.
    pub fn wake_at(&self, max_hold: TimeDelta) -> Option<DateTime<Utc>> {
        if self.in_flight || self.finished() {
            None
        } else if self.held {
            Some(self.created_at + max_hold)
        } else {
            Some(self.next_attempt_at)
        }
    }

    /// Records one attempt's outcome: a success counts a copy (a duplicate goes out right away,
    /// the receiver must cope with it back to back); a failure backs off, or gives up after
    /// `retry.max_attempts`.
    pub fn record(
        &mut self,
        outcome: Result<(), String>,
        retry: RetryPolicy,
        now: DateTime<Utc>,
    ) -> Recorded {
        self.in_flight = false;
        self.attempts += 1;
        let first = !self.first_attempt_done;
        self.first_attempt_done = true;
        match outcome {
            Ok(()) => {
                self.failures = 0;
                self.copies_delivered += 1;
                self.last_error = None;
                self.next_attempt_at = now;
            }
            Err(error) => {
                self.failures += 1;
                self.last_error = Some(error);
                if self.attempts >= retry.max_attempts {
                    self.gave_up = true;
                    tracing::warn!(attempts = self.attempts, "sandbox: callback given up");
                } else {
                    self.next_attempt_at = now + retry.backoff(self.failures);
                }
            }
        }
        Recorded {
            first,
            gave_up: self.gave_up,
        }
    }
}

/// How `/_control` shows a delivery record, flattened into the platform's own callback view.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerView {
    created_at: DateTime<Utc>,
    /// `once`, `twice` (duplicate fault) or `drop`.
    plan: &'static str,
    dropped: bool,
    out_of_order: bool,
    held_back: bool,
    attempts: u32,
    copies_delivered: u32,
    delivered: bool,
    in_flight: bool,
    gave_up: bool,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
}

impl From<&Tracker> for TrackerView {
    fn from(t: &Tracker) -> Self {
        TrackerView {
            created_at: t.created_at,
            plan: match t.plan {
                CallbackFault::Drop => "drop",
                CallbackFault::Once => "once",
                CallbackFault::Twice => "twice",
            },
            dropped: t.dropped(),
            out_of_order: t.out_of_order,
            held_back: t.held,
            attempts: t.attempts,
            copies_delivered: t.copies_delivered,
            delivered: t.copies_delivered > 0,
            in_flight: t.in_flight,
            gave_up: t.gave_up,
            next_attempt_at: t.next_attempt_at,
            last_error: t.last_error.clone(),
        }
    }
}

/// How `/_control` shows one callback: its id, the status it reports, its body and its delivery
/// record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackView {
    id: usize,
    order_status: i64,
    body: serde_json::Value,
    #[serde(flatten)]
    track: TrackerView,
}

impl CallbackView {
    pub fn new(id: usize, order_status: i64, body: serde_json::Value, track: &Tracker) -> Self {
        CallbackView {
            id,
            order_status,
            body,
            track: TrackerView::from(track),
        }
    }
}

/// How long the background loop may sleep: until `next`, but never more than `tick`, so a
/// scheduled move is applied on time even when no one reads the order.
pub fn sleep_until(next: Option<DateTime<Utc>>, tick: Duration) -> Duration {
    next.map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
        .map_or(tick, |d| d.min(tick))
}

/// Waits `sleep`, or less when woken; `false` once `shutdown` is cancelled.
pub async fn idle(shutdown: &CancellationToken, wake: &Notify, sleep: Duration) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = wake.notified() => true,
        () = tokio::time::sleep(sleep) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let retry = RetryPolicy {
            initial_backoff_ms: 1_000,
            max_attempts: 10,
        };
        assert_eq!(retry.backoff(1), TimeDelta::seconds(1));
        assert_eq!(retry.backoff(2), TimeDelta::seconds(2));
        assert_eq!(retry.backoff(4), TimeDelta::seconds(8));
        assert_eq!(retry.backoff(7), TimeDelta::seconds(60));
        assert_eq!(retry.backoff(200), TimeDelta::seconds(60));
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let retry = RetryPolicy {
            initial_backoff_ms: 10,
            max_attempts: 2,
        };
        let now = Utc::now();
        let mut t = Tracker::draw(&Faults::default(), 0.0, false, now);
        assert!(t.due(now));
        assert!(t.record(Err("x".into()), retry, now).first);
        assert!(!t.finished());
        assert!(t.record(Err("x".into()), retry, now).gave_up);
        assert!(t.finished());
    }
}
