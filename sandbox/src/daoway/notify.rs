//! The background task: scheduled status moves and cancel-notification delivery.
//!
//! The loop only decides what is due (under the lock) and hands each POST to its own task, so a
//! partner that hangs for the full 10 s timeout delays neither other notifications nor shutdown.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Inner, store::Delivery};

/// Longest the loop sleeps without looking: bounds how late a scheduled move is applied when no
/// one reads the order.
const TICK: Duration = Duration::from_millis(500);

pub(super) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    let mut in_flight = JoinSet::new();
    loop {
        let now = Utc::now();
        let (due, next) = {
            let mut state = inner.state();
            state.advance(now);
            state.take_due(now)
        };
        for delivery in due {
            in_flight.spawn(deliver(inner.clone(), delivery));
        }
        while in_flight.try_join_next().is_some() {}

        let wait = next
            .and_then(|at| (at - now).to_std().ok())
            .map_or(TICK, |d| d.min(TICK));
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = inner.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    in_flight.abort_all();
}

/// One POST of a cancel notification, then its outcome recorded.
async fn deliver(inner: Arc<Inner>, delivery: Delivery) {
    let outcome = post(&inner.http, &delivery).await;
    match &outcome {
        Ok(()) => {
            tracing::info!(order_id = %delivery.order_id, "daoway sandbox: cancel notification accepted")
        }
        Err(e) => {
            tracing::warn!(order_id = %delivery.order_id, error = %e, "daoway sandbox: cancel notification refused")
        }
    }
    inner
        .state()
        .record_attempt(&delivery.order_id, outcome, Utc::now(), inner.retry);
    // The duplicate copy, if any, is due at once.
    inner.wake.notify_one();
}

/// The partner accepted only on HTTP 2xx with JSON `{"result": "0"}` (a string, as documented).
async fn post(http: &reqwest::Client, delivery: &Delivery) -> Result<(), String> {
    let response = http
        .post(&delivery.url)
        .form(&delivery.form)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading reply failed: {e}"))?;
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    let reply: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| "reply is not JSON".to_owned())?;
    match reply.get("result") {
        Some(serde_json::Value::String(code)) if code == "0" => Ok(()),
        Some(other) => {
            let message = reply
                .get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            Err(format!("result {other}: {message}"))
        }
        None => Err("reply has no result".to_owned()),
    }
}
