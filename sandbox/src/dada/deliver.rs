//! Everything the sandbox does on its own: scheduled status moves, the 72 h auto-cancel, and
//! delivering status callbacks and message pushes with retries and injected faults.
//!
//! A callback counts as delivered on HTTP 200 and nothing else, whatever the body; any other
//! answer, a timeout or a refused connection is retried after `callback_initial_backoff_ms`,
//! doubling per failure and capped at 60 s, until `callback_max_attempts` POSTs were made. A
//! message push is delivered on HTTP 200 with a JSON body whose `status` is `"ok"` (or
//! `"success"`, which the document also mentions), and is retried 3 times after the first
//! attempt, on the same backoff.
//!
//! Faults are drawn once, when the callback is created: dropped (recorded, never sent),
//! duplicated (sent again after it was accepted), or held back. A held callback waits until the
//! order's next callback has had its first attempt (or was dropped), so the receiver sees the
//! two in the wrong order; only one callback per order is held at a time, and one whose order
//! never produces another is released after [`MAX_HOLD`]. Message pushes are not faulted.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{
    Inner,
    store::{Callback, OrderKey, State, to_value},
    wire::StatusCallback,
};
pub use crate::kit::queue::RetryPolicy;
use crate::kit::queue::{self, Tracker};

/// Longest a callback is held back waiting for a successor.
pub const MAX_HOLD: TimeDelta = TimeDelta::seconds(10);
/// Message pushes: one attempt plus the document's three retries.
const MESSAGE_ATTEMPTS: u32 = 4;
/// Longest the background task sleeps without looking at the clock.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// One POST to make.
#[derive(Debug)]
enum Job {
    Callback { id: usize, url: String, body: Value },
    Message { id: usize, url: String, body: Value },
}

impl State {
    /// Queues a status callback, drawing its fate from the faults in force.
    pub(super) fn enqueue_callback(
        &mut self,
        key: OrderKey,
        url: String,
        payload: StatusCallback,
        now: DateTime<Utc>,
    ) {
        let someone_held = self.callbacks.iter().any(|c| c.key == key && c.track.held);
        let track = Tracker::draw(&self.faults, self.out_of_order_rate, someone_held, now);
        let dropped = track.dropped();
        let id = self.callbacks.len();
        self.callbacks.push(Callback {
            id,
            key,
            url,
            payload,
            track,
        });
        if dropped {
            tracing::info!(
                callback = id,
                "dada sandbox: callback dropped by fault injection"
            );
            // A lost callback still counts as "the next one" for a held predecessor.
            self.release_held_before(id, now);
        }
    }

    /// Releases the held callback of the same order that was created before `id`.
    fn release_held_before(&mut self, id: usize, now: DateTime<Utc>) {
        let Some(key) = self.callbacks.get(id).map(|c| c.key.clone()) else {
            return;
        };
        for c in self
            .callbacks
            .iter_mut()
            .filter(|c| c.track.held && c.id < id && c.key == key)
        {
            c.track.release(now);
        }
    }

    /// Takes the POSTs that are due and marks them in flight.
    fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let mut jobs = Vec::new();
        for c in &mut self.callbacks {
            c.track.release_if_stale(now, MAX_HOLD);
            if c.track.due(now) {
                c.track.in_flight = true;
                jobs.push(Job::Callback {
                    id: c.id,
                    url: c.url.clone(),
                    body: to_value(&c.payload),
                });
            }
        }
        // Messages wait for the merchant's URL without using up attempts.
        if let Some(url) = self.message_url.clone() {
            for m in &mut self.messages {
                if !m.delivered && !m.gave_up && !m.in_flight && m.next_attempt_at <= now {
                    m.in_flight = true;
                    jobs.push(Job::Message {
                        id: m.id,
                        url: url.clone(),
                        body: to_value(&m.payload),
                    });
                }
            }
        }
        jobs
    }

    /// When the background task next has something to do, if ever.
    fn next_wake(&self) -> Option<DateTime<Utc>> {
        let callbacks = self
            .callbacks
            .iter()
            .filter_map(|c| c.track.wake_at(MAX_HOLD));
        let messages = self
            .messages
            .iter()
            .filter(|m| self.message_url.is_some() && !m.delivered && !m.gave_up && !m.in_flight)
            .map(|m| m.next_attempt_at);
        callbacks.chain(messages).chain(self.earliest_due()).min()
    }

    fn record_callback(
        &mut self,
        id: usize,
        outcome: Result<(), String>,
        retry: RetryPolicy,
        now: DateTime<Utc>,
    ) {
        let Some(c) = self.callbacks.get_mut(id) else {
            return;
        };
        if c.track.record(outcome, retry, now).first {
            self.release_held_before(id, now);
        }
    }

    fn record_message(
        &mut self,
        id: usize,
        outcome: Result<(), String>,
        retry: RetryPolicy,
        now: DateTime<Utc>,
    ) {
        let Some(m) = self.messages.get_mut(id) else {
            return;
        };
        m.in_flight = false;
        m.attempts += 1;
        match outcome {
            Ok(()) => {
                m.delivered = true;
                m.last_error = None;
            }
            Err(error) => {
                m.last_error = Some(error);
                if m.attempts >= MESSAGE_ATTEMPTS {
                    m.gave_up = true;
                } else {
                    m.next_attempt_at = now + retry.backoff(m.attempts);
                }
            }
        }
    }
}

/// The background task: moves orders on schedule and sends what is due, until `shutdown`.
pub(super) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    {
        // POSTs abandoned by an earlier task's shutdown never reported back; without this they
        // would stay "in flight" forever if the sandbox is started again.
        let mut state = inner.state();
        state
            .callbacks
            .iter_mut()
            .for_each(|c| c.track.in_flight = false);
        state.messages.iter_mut().for_each(|m| m.in_flight = false);
    }
    loop {
        let now = Utc::now();
        let (jobs, next) = {
            let mut state = inner.state();
            state.advance(now);
            state.purge_quotes(now);
            (state.take_due(now), state.next_wake())
        };
        for job in jobs {
            tokio::spawn(send(inner.clone(), job, shutdown.clone()));
        }
        if !queue::idle(&shutdown, &inner.wake, queue::sleep_until(next, IDLE_TICK)).await {
            break;
        }
    }
}

async fn send(inner: Arc<Inner>, job: Job, shutdown: CancellationToken) {
    let (url, body) = match &job {
        Job::Callback { url, body, .. } | Job::Message { url, body, .. } => {
            (url.clone(), body.clone())
        }
    };
    let is_message = matches!(job, Job::Message { .. });
    let outcome = tokio::select! {
        () = shutdown.cancelled() => return,
        outcome = post(&inner.http, &url, &body, is_message) => outcome,
    };
    if let Err(error) = &outcome {
        tracing::debug!(%url, %error, "dada sandbox: delivery failed");
    }
    let now = Utc::now();
    {
        let mut state = inner.state();
        match job {
            Job::Callback { id, .. } => state.record_callback(id, outcome, inner.retry, now),
            Job::Message { id, .. } => state.record_message(id, outcome, inner.retry, now),
        }
    }
    // A duplicate, a released predecessor or a retry may be due sooner than the loop planned.
    inner.wake.notify_one();
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    is_message: bool,
) -> Result<(), String> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {status}"));
    }
    if !is_message {
        return Ok(());
    }
    let text = response.text().await.map_err(|e| e.to_string())?;
    let reply: Value =
        serde_json::from_str(&text).map_err(|_| format!("reply is not JSON: {text}"))?;
    match reply.get("status").and_then(Value::as_str) {
        Some("ok" | "success") => Ok(()),
        _ => Err(format!("reply status is not ok: {text}")),
    }
}
