//! Control routes under `/_control`: what tests and developers use to make 58 push, to look at
//! what it received from us, and to turn the fault and schedule knobs. JSON in camelCase; never
//! faulted; refusals are `{"error": "…"}` with 400, 404 or 409.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Inner,
    push::{Delivery, RepushRefusal},
    store::{FaultSet, MAX_ACK_DEADLINE_MS, Order, Origin, Overrides, PushState, State as Store},
};
use crate::kit::control::{Answer, Refusal, bad_request, body, present, refuse};

/// Most copies one repush may ask for.
const MAX_COPIES: u32 = 100;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/{order_id}", get(get_order))
        .route("/orders/{order_id}/repush", post(repush))
        .route("/push", post(push))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/schedule", get(get_schedule).put(put_schedule))
        .route("/updates", get(list_updates))
        .route("/service-users", get(list_service_users))
        .route("/goods-types", get(list_goods_types))
        .route("/push-url", get(get_push_url).put(put_push_url))
        .with_state(inner)
}

fn order_id(text: &str) -> Result<i64, Refusal> {
    text.parse()
        .map_err(|_| refuse(StatusCode::NOT_FOUND, format!("no order {text}")))
}

fn no_order(id: i64) -> Refusal {
    refuse(StatusCode::NOT_FOUND, format!("no order {id}"))
}

// ------------------------------------------------------------------ views

fn delivery_view(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "kind": d.kind,
        "batch": d.batch,
        "createdAt": d.created_at,
        "state": d.state(),
        "nextAttemptAt": (d.end.is_none() && !d.in_flight).then_some(d.next_attempt_at),
        "attempts": d.attempts,
    })
}

fn order_view(store: &Store, o: &Order) -> Value {
    let (push, acknowledged_at, reassigned_at) = match o.push {
        PushState::Pending => ("pending", None, None),
        PushState::Acknowledged(at) => ("acknowledged", Some(at), None),
        PushState::Reassigned(at) => ("reassigned", None, Some(at)),
    };
    let deliveries: Vec<&Delivery> = store
        .deliveries
        .iter()
        .filter(|d| d.order_id == o.order_id)
        .collect();
    let status = o.status();
    json!({
        "orderId": o.order_id,
        "origin": o.origin,
        "createdAt": o.created_at,
        "order": o.create,
        "daojiaJson": o.daojia_json,
        "push": push,
        "acknowledged": acknowledged_at.is_some(),
        "acknowledgedAt": acknowledged_at,
        "reassigned": reassigned_at.is_some(),
        "reassignedAt": reassigned_at,
        "status": status.code(),
        "statusMsg": status.msg(),
        "paid": o.paid(),
        "thirdOrderId": o.third_order_id,
        "serviceUserName": o.service_user_name,
        "serviceUserPhone": o.service_user_phone,
        "totalPriceFen": o.total_fen,
        "orderDetails": o.lines,
        "history": o.history.iter().map(|h| json!({
            "status": h.status.code(),
            "statusMsg": h.status.msg(),
            "at": h.at,
            "source": h.source,
            "updateSeq": h.update_seq,
        })).collect::<Vec<_>>(),
        "pushAttempts": deliveries.iter().map(|d| d.attempts.len()).sum::<usize>(),
        "deliveries": deliveries.iter().map(|d| delivery_view(d)).collect::<Vec<_>>(),
    })
}

// ------------------------------------------------------------------ orders and pushes

async fn list_orders(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    let views: Vec<Value> = store
        .orders
        .values()
        .map(|o| order_view(&store, o))
        .collect();
    Json(views).into_response()
}

async fn get_order(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Answer {
    let id = order_id(&id)?;
    let store = inner.state();
    let order = store.orders.get(&id).ok_or_else(|| no_order(id))?;
    Ok(Json(order_view(&store, order)).into_response())
}

/// `POST /push` with optional [`Overrides`]: creates an order and queues its push. 201 with the
/// order view (push still `pending`; the background task sends it once a push URL is set).
async fn push(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let overrides: Overrides = body(&bytes)?;
    let view = {
        let mut store = inner.state();
        let id = store
            .create_order(&overrides, Origin::Control, Utc::now())
            .map_err(|e| {
                let status = if e.contains("exists") {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::BAD_REQUEST
                };
                refuse(status, e)
            })?;
        let order = store.orders.get(&id).ok_or_else(|| no_order(id))?;
        order_view(&store, order)
    };
    inner.wake.notify_one();
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RepushBody {
    #[serde(default = "one")]
    copies: u32,
}

fn one() -> u32 {
    1
}

/// `POST /orders/{id}/repush` `{"copies": n}` (default 1): the same push again, `n` copies at
/// once. 202 with `{"queued": [delivery ids], "order": view}`.
async fn repush(State(inner): State<Arc<Inner>>, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let id = order_id(&id)?;
    let RepushBody { copies } = body(&bytes)?;
    if !(1..=MAX_COPIES).contains(&copies) {
        return Err(bad_request(format!("copies must be 1 to {MAX_COPIES}")));
    }
    let view = {
        let mut store = inner.state();
        let queued = store.repush(id, copies, Utc::now()).map_err(|r| match r {
            RepushRefusal::UnknownOrder => no_order(id),
            RepushRefusal::Reassigned => refuse(
                StatusCode::CONFLICT,
                format!("order {id} was reassigned; 58 no longer pushes it"),
            ),
        })?;
        let order = store.orders.get(&id).ok_or_else(|| no_order(id))?;
        json!({ "queued": queued, "order": order_view(&store, order) })
    };
    inner.wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

// ------------------------------------------------------------------ what we sent

/// `GET /updates?orderId=`: every updateOrderDetail in arrival order.
async fn list_updates(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let wanted = match query.get("orderId") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| bad_request("orderId must be an integer"))?,
        ),
    };
    let store = inner.state();
    let updates: Vec<_> = store
        .updates
        .iter()
        .filter(|u| wanted.is_none() || u.order_id == wanted)
        .collect();
    Ok(Json(updates).into_response())
}

async fn list_service_users(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    Json(store.service_users.values().collect::<Vec<_>>()).into_response()
}

async fn list_goods_types(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    Json(store.goods_types.values().collect::<Vec<_>>()).into_response()
}

// ------------------------------------------------------------------ knobs

async fn get_faults(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.state().faults.clone()).into_response()
}

/// Replaces the faults; keys left out are 0 (`hangMs` 30000, `slowMs` 2000).
async fn put_faults(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let faults: FaultSet = body(&bytes)?;
    faults.validate().map_err(bad_request)?;
    inner.state().faults = faults.clone();
    Ok(Json(faults).into_response())
}

fn schedule_view(store: &Store) -> Value {
    let s = &store.schedule;
    json!({
        "pushEverySecs": s.push_every_secs,
        "ackDeadlineMs": s.ack_deadline_ms,
        "pushRetryInitialMs": s.push_retry_initial_ms,
        "pushMaxAttempts": s.push_max_attempts,
        "nextScheduledPushAt": store.next_scheduled_push,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SchedulePatch {
    #[serde(default, deserialize_with = "present")]
    push_every_secs: Option<Option<u64>>,
    #[serde(default)]
    ack_deadline_ms: Option<u64>,
    #[serde(default)]
    push_retry_initial_ms: Option<u64>,
    #[serde(default)]
    push_max_attempts: Option<u32>,
}

async fn get_schedule(State(inner): State<Arc<Inner>>) -> Response {
    Json(schedule_view(&inner.state())).into_response()
}

/// `null` disables the scheduled pushes, an absent key leaves a setting as it is.
async fn put_schedule(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let patch: SchedulePatch = body(&bytes)?;
    if patch
        .ack_deadline_ms
        .is_some_and(|ms| !(1..=MAX_ACK_DEADLINE_MS).contains(&ms))
    {
        return Err(bad_request(format!(
            "ackDeadlineMs must be 1 to {MAX_ACK_DEADLINE_MS}"
        )));
    }
    if patch.push_max_attempts == Some(0) {
        return Err(bad_request("pushMaxAttempts must be at least 1"));
    }
    let view = {
        let mut store = inner.state();
        if let Some(every) = patch.push_every_secs {
            store.schedule.push_every_secs = every.filter(|s| *s > 0);
            // Counted afresh from now, not from the old period.
            store.next_scheduled_push = None;
        }
        if let Some(ms) = patch.ack_deadline_ms {
            store.schedule.ack_deadline_ms = ms;
        }
        if let Some(ms) = patch.push_retry_initial_ms {
            store.schedule.push_retry_initial_ms = ms;
        }
        if let Some(n) = patch.push_max_attempts {
            store.schedule.push_max_attempts = n;
        }
        store.tick_schedule(Utc::now());
        schedule_view(&store)
    };
    inner.wake.notify_one();
    Ok(Json(view).into_response())
}

async fn get_push_url(State(inner): State<Arc<Inner>>) -> Response {
    Json(json!({ "url": inner.state().push_url })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushUrlBody {
    url: Option<String>,
}

/// `{"url": "http://…"}` sets our intake; `{"url": null}` stops pushing (attempts wait).
async fn put_push_url(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let PushUrlBody { url } = body(&bytes)?;
    if let Some(url) = &url {
        crate::kit::control::loopback_url(url)?;
    }
    inner.state().push_url = url.clone();
    inner.wake.notify_one();
    Ok(Json(json!({ "url": url })).into_response())
}
