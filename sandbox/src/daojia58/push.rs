//! Everything the sandbox does on its own: creating orders on the schedule and pushing them to
//! our intake until they are acknowledged or reassigned.
//!
//! Each push is a [`Delivery`]: the order's *original* delivery is retried, a *duplicate*
//! (`duplicatePushRate`) and a *repush* (`/_control/orders/{id}/repush`) are single attempts of
//! the same `daojiaJson`. An attempt counts as acknowledged only on HTTP 200 with the body
//! [`check_ack`] accepts, within `ackDeadlineMs`; the first acknowledgement of any delivery
//! makes the order ours. A failed original attempt is retried after `pushRetryInitialMs`,
//! doubling per failure (capped at 60 s); after `pushMaxAttempts` attempts the order is
//! reassigned. Every attempt is signed afresh (new `nonce` and `timestamp`), so a receiver that
//! deduplicates on anything but `orderId` is caught out. Nothing is sent while no push URL is
//! set, and waiting uses up no attempts. Deliveries due at the same moment go out concurrently,
//! which is how `{"copies": n}` produces concurrent duplicates.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{
    Inner,
    params::beijing_time,
    sign,
    store::{Origin, Overrides, PushState, State},
    wire::{FUN_CREATE_ORDER, check_ack},
};
use crate::faults;

/// Longest the background task sleeps without looking at the clock.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// Why a delivery exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryKind {
    /// The push 58 makes when the order is created; retried until acknowledged or reassigned.
    Original,
    /// `duplicatePushRate`: the acknowledged push sent again right away.
    Duplicate,
    /// `/_control/orders/{id}/repush`.
    Repush,
}

/// How a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryEnd {
    Acknowledged,
    /// A single-attempt copy that was not acknowledged.
    Failed,
    /// The original ran out of attempts: the order was reassigned.
    GaveUp,
    /// The original stopped because another copy was acknowledged first.
    Superseded,
}

/// One POST to our intake.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub latency_ms: u64,
    pub acknowledged: bool,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub nonce: String,
    pub timestamp: String,
}

#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: usize,
    pub order_id: i64,
    pub kind: DeliveryKind,
    /// Copies queued by one repush request share a batch.
    pub batch: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<Attempt>,
    /// Failed attempts in a row, for the backoff.
    pub failures: u32,
    pub in_flight: bool,
    pub next_attempt_at: DateTime<Utc>,
    pub end: Option<DeliveryEnd>,
}

impl Delivery {
    /// `queued`, `inFlight`, `retrying`, or how it ended.
    pub fn state(&self) -> &'static str {
        match (self.end, self.in_flight) {
            (Some(DeliveryEnd::Acknowledged), _) => "acknowledged",
            (Some(DeliveryEnd::Failed), _) => "failed",
            (Some(DeliveryEnd::GaveUp), _) => "gaveUp",
            (Some(DeliveryEnd::Superseded), _) => "superseded",
            (None, true) => "inFlight",
            (None, false) if self.attempts.is_empty() => "queued",
            (None, false) => "retrying",
        }
    }
}

/// Why a repush was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepushRefusal {
    UnknownOrder,
    /// 58 does not push an order it gave to someone else.
    Reassigned,
}

/// One POST to make.
#[derive(Debug)]
struct Job {
    delivery: usize,
    order_id: i64,
    url: String,
    daojia_json: String,
    deadline: Duration,
}

/// `t + secs`, or `None` when that is beyond the calendar.
fn after(t: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(secs).ok()?;
    t.checked_add_signed(TimeDelta::try_seconds(secs)?)
}

impl State {
    /// Queues one delivery of an order, due now.
    pub fn enqueue(
        &mut self,
        order_id: i64,
        kind: DeliveryKind,
        batch: Option<u64>,
        now: DateTime<Utc>,
    ) -> usize {
        let id = self.deliveries.len();
        self.deliveries.push(Delivery {
            id,
            order_id,
            kind,
            batch,
            created_at: now,
            attempts: Vec::new(),
            failures: 0,
            in_flight: false,
            next_attempt_at: now,
            end: None,
        });
        id
    }

    /// Queues `copies` deliveries of the same push, all due now, so they go out together.
    pub fn repush(
        &mut self,
        order_id: i64,
        copies: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<usize>, RepushRefusal> {
        let order = self
            .orders
            .get(&order_id)
            .ok_or(RepushRefusal::UnknownOrder)?;
        if matches!(order.push, PushState::Reassigned(_)) {
            return Err(RepushRefusal::Reassigned);
        }
        let batch = (copies > 1).then(|| self.next_batch());
        Ok((0..copies)
            .map(|_| self.enqueue(order_id, DeliveryKind::Repush, batch, now))
            .collect())
    }

    /// Creates the scheduled order when it is due. The schedule only runs while someone
    /// listens: without a push URL it would pile up orders nobody can receive.
    pub fn tick_schedule(&mut self, now: DateTime<Utc>) {
        let every = match (&self.push_url, self.schedule.push_every_secs) {
            (Some(_), Some(secs)) if secs > 0 => secs,
            _ => {
                self.next_scheduled_push = None;
                return;
            }
        };
        match self.next_scheduled_push {
            None => self.next_scheduled_push = after(now, every),
            Some(due) if due <= now => {
                match self.create_order(&Overrides::default(), Origin::Schedule, now) {
                    Ok(id) => tracing::debug!(order_id = id, "58 sandbox: scheduled order"),
                    Err(error) => tracing::warn!(%error, "58 sandbox: scheduled order failed"),
                }
                self.next_scheduled_push = after(now, every);
            }
            Some(_) => {}
        }
    }

    /// Takes the attempts that are due and marks them in flight.
    fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let Some(url) = self.push_url.clone() else {
            return Vec::new();
        };
        let deadline = Duration::from_millis(self.schedule.ack_deadline_ms.max(1));
        let mut jobs = Vec::new();
        for d in &mut self.deliveries {
            if d.end.is_some() || d.in_flight || d.next_attempt_at > now {
                continue;
            }
            let Some(order) = self.orders.get(&d.order_id) else {
                d.end = Some(DeliveryEnd::Failed);
                continue;
            };
            if d.kind == DeliveryKind::Original && order.push != PushState::Pending {
                d.end = Some(DeliveryEnd::Superseded);
                continue;
            }
            d.in_flight = true;
            jobs.push(Job {
                delivery: d.id,
                order_id: d.order_id,
                url: url.clone(),
                daojia_json: order.daojia_json.clone(),
                deadline,
            });
        }
        jobs
    }

    /// When the background task next has something to do, if ever.
    fn next_wake(&self) -> Option<DateTime<Utc>> {
        let attempts = self
            .deliveries
            .iter()
            .filter(|d| self.push_url.is_some() && d.end.is_none() && !d.in_flight)
            .map(|d| d.next_attempt_at);
        attempts.chain(self.next_scheduled_push).min()
    }

    /// Books the outcome of one attempt and decides what follows.
    fn record_attempt(&mut self, delivery: usize, attempt: Attempt, now: DateTime<Utc>) {
        let max_attempts = self.schedule.push_max_attempts.max(1);
        let duplicate_rate = self.faults.duplicate_push_rate;
        let Some(d) = self.deliveries.get_mut(delivery) else {
            return;
        };
        d.in_flight = false;
        let acknowledged = attempt.acknowledged;
        d.attempts.push(attempt);
        let (order_id, kind) = (d.order_id, d.kind);
        let order = self.orders.get_mut(&order_id);
        let pending = order.as_ref().is_some_and(|o| o.push == PushState::Pending);
        if acknowledged {
            d.failures = 0;
            d.end = Some(DeliveryEnd::Acknowledged);
            if let Some(order) = order
                && pending
            {
                order.push = PushState::Acknowledged(now);
            }
            if kind == DeliveryKind::Original && faults::roll(duplicate_rate) {
                self.enqueue(order_id, DeliveryKind::Duplicate, None, now);
            }
            return;
        }
        d.failures += 1;
        if kind != DeliveryKind::Original {
            d.end = Some(DeliveryEnd::Failed);
        } else if !pending {
            d.end = Some(DeliveryEnd::Superseded);
        } else if d.attempts.len() >= usize::try_from(max_attempts).unwrap_or(usize::MAX) {
            d.end = Some(DeliveryEnd::GaveUp);
            if let Some(order) = order {
                order.push = PushState::Reassigned(now);
            }
            tracing::info!(
                order_id,
                "58 sandbox: push never acknowledged, order reassigned"
            );
        } else {
            d.next_attempt_at = now + self.schedule.backoff(d.failures);
        }
    }
}

/// The background task: scheduled orders and push attempts, until `shutdown`.
pub(super) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    {
        // Attempts abandoned by an earlier task's shutdown never reported back; without this
        // they would stay in flight forever if the sandbox is started again.
        let mut state = inner.state();
        state
            .deliveries
            .iter_mut()
            .for_each(|d| d.in_flight = false);
    }
    loop {
        let now = Utc::now();
        let (jobs, next) = {
            let mut state = inner.state();
            state.tick_schedule(now);
            (state.take_due(now), state.next_wake())
        };
        for job in jobs {
            tokio::spawn(send(inner.clone(), job, shutdown.clone()));
        }
        let sleep = crate::kit::queue::sleep_until(next, IDLE_TICK);
        if !crate::kit::queue::idle(&shutdown, &inner.wake, sleep).await {
            break;
        }
    }
}

async fn send(inner: Arc<Inner>, job: Job, shutdown: CancellationToken) {
    let nonce = format!("{:032x}", rand::random::<u128>());
    let at = Utc::now();
    let timestamp = beijing_time(at);
    let mut fields = vec![
        ("serviceKey", inner.service_key.as_str()),
        ("nonce", nonce.as_str()),
        ("timestamp", timestamp.as_str()),
        ("daojiaJson", job.daojia_json.as_str()),
        ("funId", FUN_CREATE_ORDER),
    ];
    let signature = sign::sign(&inner.service_secret, &fields);
    fields.push((sign::SIGN, signature.as_str()));
    let clock = Instant::now();
    let (http_status, outcome) = match serde_urlencoded::to_string(&fields) {
        Ok(body) => tokio::select! {
            () = shutdown.cancelled() => return,
            answer = post(&inner.http, &job, body) => answer,
        },
        Err(error) => (None, Err(format!("cannot encode the form: {error}"))),
    };
    let latency = clock.elapsed();
    // reqwest's timeout covers the whole exchange; this only guards the last microseconds.
    let outcome = outcome.and_then(|()| {
        if latency > job.deadline {
            Err(format!(
                "acknowledged after {} ms, past the {} ms deadline",
                latency.as_millis(),
                job.deadline.as_millis()
            ))
        } else {
            Ok(())
        }
    });
    if let Err(error) = &outcome {
        tracing::debug!(order_id = job.order_id, %error, "58 sandbox: push not acknowledged");
    }
    let now = Utc::now();
    {
        let mut state = inner.state();
        let number = state
            .deliveries
            .get(job.delivery)
            .map_or(1, |d| d.attempts.len() + 1);
        let attempt = Attempt {
            attempt: u32::try_from(number).unwrap_or(u32::MAX),
            at,
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            acknowledged: outcome.is_ok(),
            http_status,
            error: outcome.err(),
            nonce,
            timestamp,
        };
        state.record_attempt(job.delivery, attempt, now);
    }
    // Updates waiting for this answer, a duplicate or a retry may be due now.
    inner.attempts.send_modify(|n| *n = n.wrapping_add(1));
    inner.wake.notify_one();
}

/// One POST; the HTTP status when there was an answer, and whether it acknowledged.
async fn post(
    http: &reqwest::Client,
    job: &Job,
    body: String,
) -> (Option<u16>, Result<(), String>) {
    let response = http
        .post(&job.url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(body)
        .timeout(job.deadline)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => return (None, Err(describe(&error, job.deadline))),
    };
    let status = response.status().as_u16();
    let text = response.text().await;
    match (status, text) {
        (200, Ok(text)) => (Some(status), check_ack(&text, job.order_id)),
        (200, Err(error)) => (Some(status), Err(describe(&error, job.deadline))),
        (_, text) => {
            let body: String = text.unwrap_or_default().chars().take(200).collect();
            (Some(status), Err(format!("HTTP {status}: {body}")))
        }
    }
}

/// A transport error with its causes ("connection refused" sits deep in the chain).
fn describe(error: &reqwest::Error, deadline: Duration) -> String {
    if error.is_timeout() {
        return format!("no acknowledgement within {} ms", deadline.as_millis());
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daojia58::store::{FaultSet, Schedule};

    fn state(max_attempts: u32) -> State {
        let mut s = State::new(
            Schedule {
                push_every_secs: None,
                ack_deadline_ms: 100,
                push_retry_initial_ms: 1_000,
                push_max_attempts: max_attempts,
            },
            FaultSet::default(),
        );
        s.push_url = Some("http://127.0.0.1:9/".to_owned());
        s
    }

    fn attempt(acknowledged: bool) -> Attempt {
        Attempt {
            attempt: 0,
            at: Utc::now(),
            latency_ms: 1,
            acknowledged,
            http_status: Some(200),
            error: None,
            nonce: String::new(),
            timestamp: String::new(),
        }
    }

    #[test]
    fn retries_grow_then_reassign() {
        let mut s = state(3);
        let now = Utc::now();
        let Ok(id) = s.create_order(&Overrides::default(), Origin::Control, now) else {
            panic!("order")
        };
        let jobs = s.take_due(now);
        assert_eq!(jobs.len(), 1);
        assert!(s.take_due(now).is_empty(), "in flight is not taken twice");
        s.record_attempt(0, attempt(false), now);
        assert_eq!(s.deliveries[0].next_attempt_at, now + TimeDelta::seconds(1));
        assert!(s.take_due(now).is_empty());
        let later = now + TimeDelta::seconds(1);
        assert_eq!(s.take_due(later).len(), 1);
        s.record_attempt(0, attempt(false), later);
        assert_eq!(
            s.deliveries[0].next_attempt_at,
            later + TimeDelta::seconds(2)
        );
        let last = later + TimeDelta::seconds(2);
        assert_eq!(s.take_due(last).len(), 1);
        s.record_attempt(0, attempt(false), last);
        assert_eq!(s.deliveries[0].end, Some(DeliveryEnd::GaveUp));
        assert!(matches!(
            s.orders.get(&id).map(|o| o.push),
            Some(PushState::Reassigned(_))
        ));
        assert_eq!(s.repush(id, 1, last), Err(RepushRefusal::Reassigned));
    }

    #[test]
    fn a_copy_can_acknowledge_for_the_original() {
        let mut s = state(5);
        let now = Utc::now();
        let Ok(id) = s.create_order(&Overrides::default(), Origin::Control, now) else {
            panic!("order")
        };
        assert_eq!(s.take_due(now).len(), 1);
        s.record_attempt(0, attempt(false), now);
        let copies = s.repush(id, 3, now);
        assert_eq!(copies, Ok(vec![1, 2, 3]));
        assert_eq!(s.take_due(now).len(), 3);
        s.record_attempt(1, attempt(true), now);
        assert!(matches!(
            s.orders.get(&id).map(|o| o.push),
            Some(PushState::Acknowledged(_))
        ));
        // The original's retry is no longer needed.
        assert!(s.take_due(now + TimeDelta::seconds(5)).is_empty());
        assert_eq!(s.deliveries[0].end, Some(DeliveryEnd::Superseded));
        s.record_attempt(2, attempt(false), now);
        assert_eq!(s.deliveries[2].end, Some(DeliveryEnd::Failed));
        assert_eq!(s.deliveries[2].batch, s.deliveries[3].batch);
    }

    #[test]
    fn duplicates_follow_an_acknowledged_original() {
        let mut s = state(5);
        s.faults.duplicate_push_rate = 1.0;
        let now = Utc::now();
        let Ok(id) = s.create_order(&Overrides::default(), Origin::Control, now) else {
            panic!("order")
        };
        assert_eq!(s.take_due(now).len(), 1);
        s.record_attempt(0, attempt(true), now);
        let due = s.take_due(now);
        assert_eq!(due.len(), 1);
        assert_eq!(s.deliveries[1].kind, DeliveryKind::Duplicate);
        assert_eq!(due[0].order_id, id);
        s.record_attempt(1, attempt(true), now);
        assert_eq!(s.deliveries.len(), 2, "a duplicate is not duplicated again");
    }

    #[test]
    fn nothing_goes_out_without_a_url() {
        let mut s = state(5);
        s.push_url = None;
        s.schedule.push_every_secs = Some(1);
        let now = Utc::now();
        s.tick_schedule(now);
        assert!(s.next_scheduled_push.is_none());
        assert!(
            s.create_order(&Overrides::default(), Origin::Control, now)
                .is_ok()
        );
        assert!(s.take_due(now).is_empty());
        assert_eq!(s.next_wake(), None);
        s.push_url = Some("http://127.0.0.1:9/".to_owned());
        s.tick_schedule(now);
        assert_eq!(s.next_scheduled_push, Some(now + TimeDelta::seconds(1)));
        s.tick_schedule(now + TimeDelta::seconds(1));
        assert_eq!(s.orders.len(), 2);
        assert_eq!(s.take_due(now + TimeDelta::seconds(1)).len(), 2);
    }
}
