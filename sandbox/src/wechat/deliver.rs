//! Everything the sandbox does on its own: scheduled status moves, and delivering
//! `update_waybill_status` pushes with retries and injected faults.
//!
//! A push is POSTed to the URL given to [`super::WechatSandbox::set_push_url`] (until then it
//! waits without using attempts). Every attempt is signed afresh (new `timestamp`, `nonce` and,
//! in safe mode, a new random prefix), as a real retry is a new request:
//!
//! - plain mode: `?signature=…&timestamp=…&nonce=…`, the event as the JSON body;
//! - safe mode: `?signature=…&timestamp=…&nonce=…&encrypt_type=aes&msg_signature=…`, body
//!   `{"ToUserName": "gh_…", "Encrypt": "…"}`.
//!
//! It counts as delivered only on HTTP 200 with a reply that says so: in plain mode a JSON object
//! with `resultcode` 0; in safe mode the encrypted reply `{Encrypt, MsgSignature, TimeStamp,
//! Nonce}` whose `MsgSignature` verifies against the Token, whose frame carries our appid and
//! whose decrypted JSON has `resultcode` 0. Anything else (other status, timeout, refused
//! connection, bad reply) is retried after `push_initial_backoff_ms`, doubling per failure and
//! capped at 60 s, until `push_max_attempts` POSTs were made. At most one POST per order is in
//! flight at a time, so an order's pushes arrive in order unless a retry or a fault reorders them.
//!
//! Faults are drawn once, when the push is created: dropped (recorded, never sent), duplicated
//! (sent again right after it was accepted), or held back. A held push waits until the order's
//! next push has had its first attempt (or was dropped), so the receiver sees the two in the
//! wrong order; only one push per order is held at a time, and one whose order never produces
//! another is released after [`MAX_HOLD`].

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{
    Inner,
    crypto::random_prefix,
    sign,
    store::{Push, State, to_value},
    wire::WaybillPush,
};
pub use crate::kit::queue::RetryPolicy;
use crate::kit::queue::{self, Tracker};

/// Longest a push is held back waiting for a successor.
pub const MAX_HOLD: TimeDelta = TimeDelta::seconds(10);
/// Longest the background task sleeps without looking at the clock.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// One POST to make.
#[derive(Debug)]
struct Job {
    id: usize,
    url: String,
    payload: Value,
    to_user_name: String,
    safe_mode: bool,
}

impl State {
    /// Queues a push, drawing its fate from the faults in force.
    pub(super) fn enqueue_push(
        &mut self,
        shop_order_id: String,
        payload: WaybillPush,
        now: DateTime<Utc>,
    ) {
        let someone_held = self
            .pushes
            .iter()
            .any(|p| p.shop_order_id == shop_order_id && p.track.held);
        let track = Tracker::draw(&self.faults, self.out_of_order_rate, someone_held, now);
        let dropped = track.dropped();
        let id = self.pushes.len();
        self.pushes.push(Push {
            id,
            shop_order_id,
            payload,
            track,
        });
        if dropped {
            tracing::info!(push = id, "wechat sandbox: push dropped by fault injection");
            // A lost push still counts as "the next one" for a held predecessor.
            self.release_held_before(id, now);
        }
    }

    /// Releases the held push of the same order that was created before `id`.
    fn release_held_before(&mut self, id: usize, now: DateTime<Utc>) {
        let Some(order) = self.pushes.get(id).map(|p| p.shop_order_id.clone()) else {
            return;
        };
        for p in self
            .pushes
            .iter_mut()
            .filter(|p| p.track.held && p.id < id && p.shop_order_id == order)
        {
            p.track.release(now);
        }
    }

    /// Takes the POSTs that are due, one per order, and marks them in flight.
    fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        for p in &mut self.pushes {
            p.track.release_if_stale(now, MAX_HOLD);
        }
        let Some(url) = self.push_url.clone() else {
            return Vec::new();
        };
        let mut busy: std::collections::HashSet<String> = self
            .pushes
            .iter()
            .filter(|p| p.track.in_flight)
            .map(|p| p.shop_order_id.clone())
            .collect();
        let safe_mode = self.safe_mode;
        let mut jobs = Vec::new();
        for p in &mut self.pushes {
            if p.track.due(now) && busy.insert(p.shop_order_id.clone()) {
                p.track.in_flight = true;
                jobs.push(Job {
                    id: p.id,
                    url: url.clone(),
                    payload: to_value(&p.payload),
                    to_user_name: p.payload.to_user_name.clone(),
                    safe_mode,
                });
            }
        }
        jobs
    }

    /// When the background task next has something to do, if ever.
    fn next_wake(&self) -> Option<DateTime<Utc>> {
        // Without a URL only a held push's release is worth waking for.
        let url_set = self.push_url.is_some();
        let pushes = self
            .pushes
            .iter()
            .filter(|p| url_set || p.track.held)
            .filter_map(|p| p.track.wake_at(MAX_HOLD));
        pushes.chain(self.earliest_due()).min()
    }

    fn record_push(
        &mut self,
        id: usize,
        outcome: Result<(), String>,
        retry: RetryPolicy,
        now: DateTime<Utc>,
    ) {
        let Some(p) = self.pushes.get_mut(id) else {
            return;
        };
        if p.track.record(outcome, retry, now).first {
            self.release_held_before(id, now);
        }
    }
}

/// The background task: moves orders on schedule and sends what is due, until `shutdown`.
pub(super) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    // POSTs abandoned by an earlier task's shutdown never reported back; without this they would
    // stay "in flight" forever if the sandbox is started again.
    inner
        .state()
        .pushes
        .iter_mut()
        .for_each(|p| p.track.in_flight = false);
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
    let outcome = tokio::select! {
        () = shutdown.cancelled() => return,
        outcome = post(&inner, &job) => outcome,
    };
    if let Err(error) = &outcome {
        tracing::debug!(url = %job.url, %error, "wechat sandbox: push failed");
    }
    inner
        .state()
        .record_push(job.id, outcome, inner.retry, Utc::now());
    // A duplicate, a released predecessor or the order's next push may be due now.
    inner.wake.notify_one();
}

async fn post(inner: &Inner, job: &Job) -> Result<(), String> {
    let timestamp = Utc::now().timestamp().to_string();
    let nonce = rand::random::<u32>().to_string();
    let signature = sign::signature(&inner.push_token, &timestamp, &nonce);
    let mut query = vec![
        ("signature", signature),
        ("timestamp", timestamp.clone()),
        ("nonce", nonce.clone()),
    ];
    let body = if job.safe_mode {
        let crypto = inner
            .crypto
            .as_ref()
            .map_err(|e| format!("cannot encrypt: {e}"))?;
        let text = serde_json::to_string(&job.payload).map_err(|e| e.to_string())?;
        let encrypt = crypto.encrypt(&random_prefix(), text.as_bytes(), &inner.appid);
        query.push(("encrypt_type", "aes".to_owned()));
        query.push((
            "msg_signature",
            sign::msg_signature(&inner.push_token, &timestamp, &nonce, &encrypt),
        ));
        json!({ "ToUserName": job.to_user_name, "Encrypt": encrypt })
    } else {
        job.payload.clone()
    };
    let response = inner
        .http
        .post(&job.url)
        .query(&query)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {status}"));
    }
    let text = response.text().await.map_err(|e| e.to_string())?;
    check_reply(inner, job.safe_mode, &text)
}

/// Whether a reply says the push was taken (see the module doc).
fn check_reply(inner: &Inner, safe_mode: bool, text: &str) -> Result<(), String> {
    let reply: Value =
        serde_json::from_str(text).map_err(|_| format!("reply is not JSON: {text}"))?;
    let message = if safe_mode {
        let field = |name: &str| match reply.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(format!("encrypted reply lacks {name}: {text}")),
        };
        let encrypt = field("Encrypt")?;
        let expected = sign::msg_signature(
            &inner.push_token,
            &field("TimeStamp")?,
            &field("Nonce")?,
            &encrypt,
        );
        if field("MsgSignature")? != expected {
            return Err("reply MsgSignature does not verify".to_owned());
        }
        let crypto = inner
            .crypto
            .as_ref()
            .map_err(|e| format!("cannot decrypt: {e}"))?;
        let frame = crypto
            .decrypt(&encrypt)
            .map_err(|e| format!("reply Encrypt: {e}"))?;
        if frame.appid != inner.appid {
            return Err(format!("reply is for appid {}", frame.appid));
        }
        serde_json::from_slice::<Value>(&frame.message)
            .map_err(|_| "decrypted reply is not JSON".to_owned())?
    } else {
        reply
    };
    match message.get("resultcode").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        _ => Err(format!("reply resultcode is not 0: {message}")),
    }
}
