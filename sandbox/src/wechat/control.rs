//! Control routes under `/_control`: what tests and developers use to look inside the sandbox and
//! to play the rider, the courier company, WeChat's staff and the clock. JSON in camelCase; never
//! faulted; refusals are `{"error": "…"}` with 400, 404 or 409.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    CancelRule, Inner, seed, sign,
    store::{Move, Order, Outage, Push, State as Store, Status, to_value},
};
use crate::kit::{
    control::{Answer, FaultsView, Refusal, age_quote, age_secs, body, present, refuse},
    queue::CallbackView,
};

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/tokens", get(get_tokens))
        .route("/tokens/expire", post(expire_tokens))
        .route("/orders", get(list_orders))
        .route("/orders/{shop_order_id}", get(get_order))
        .route("/orders/{shop_order_id}/{action}", post(order_action))
        .route("/quotes/{delivery_token}/age", post(age_quote_route))
        .route("/pushes", get(list_pushes))
        .route("/push", get(get_push).put(put_push))
        .route("/verify-url", post(verify_url))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/schedule", get(get_schedule).put(put_schedule))
        .route("/quota", get(get_quota).put(put_quota))
        .route("/companies", get(list_companies))
        .route("/companies/{delivery_id}", put(put_company))
        .route("/stores", get(list_stores))
        .with_state(inner)
}

fn no_order(id: &str) -> Refusal {
    refuse(StatusCode::NOT_FOUND, format!("no order {id}"))
}

// ------------------------------------------------------------------ tokens

async fn get_tokens(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    Json(json!({
        "issued": store.tokens.issued(),
        "active": store.tokens.active(Utc::now()),
    }))
    .into_response()
}

/// Every token issued so far answers 42001 from now on.
async fn expire_tokens(State(inner): State<Arc<Inner>>) -> Response {
    let mut store = inner.state();
    let expired = store.tokens.expire_all(Utc::now());
    Json(json!({ "expired": expired, "issued": store.tokens.issued() })).into_response()
}

// ------------------------------------------------------------------ views

/// The control view of one push.
fn one_push_view(p: &Push) -> CallbackView {
    CallbackView::new(p.id, p.payload.order_status, to_value(&p.payload), &p.track)
}

fn order_view(store: &Store, order: &Order, now: DateTime<Utc>) -> Value {
    let id = &order.request.shop_order_id;
    json!({
        "shopOrderId": id,
        "deliveryId": order.delivery_id,
        "shopid": order.shopid,
        "shopNo": order.request.shop_no,
        "openid": order.request.openid,
        "waybillId": order.waybill_id,
        "pushWaybillId": order.push_waybill_id,
        "earlierWaybills": order.earlier_waybills,
        "status": order.status.code(),
        "statusMsg": order.status.msg(),
        "fee": to_value(&order.fee),
        "chargedFen": order.fee.charged_fen(),
        "deductFeeFen": order.deduct_fee_fen,
        "rider": order.rider.map(|r| json!({ "name": r.name, "phone": r.phone })),
        "riderPosition": order.rider_position(now).map(|p| to_value(&p)),
        "reachTime": order.reach_time(),
        "finishCode": order.finish_code,
        "pickupCode": order.pickup_code,
        "dispatchSecs": order.dispatch_secs,
        "createdAt": order.created_at,
        "dispatchAt": order.dispatch_at,
        "assignedAt": order.assigned_at,
        "arrivedAt": order.arrived_at,
        "pickedAt": order.picked_at,
        "returningAt": order.returning_at,
        "endedAt": order.ended_at,
        "cancelReasonId": order.cancel_reason_id,
        "cancelReason": order.cancel_reason,
        "returnRemark": order.return_remark,
        "readds": order.readds,
        "getCalls": order.get_calls,
        "request": to_value(&order.request),
        "nextMove": store.next_due(id).map(|(step, at)| json!({ "step": format!("{step:?}"), "at": at })),
        "history": order.history.iter().map(|h| json!({
            "status": h.status.code(),
            "statusMsg": h.status.msg(),
            "actionMsg": h.action_msg,
            "at": h.at,
            "by": h.by,
        })).collect::<Vec<_>>(),
        "pushes": store
            .pushes
            .iter()
            .filter(|p| &p.shop_order_id == id)
            .map(|p| to_value(&one_push_view(p)))
            .collect::<Vec<_>>(),
    })
}

// ------------------------------------------------------------------ orders

async fn list_orders(State(inner): State<Arc<Inner>>) -> Response {
    let now = Utc::now();
    let mut store = inner.state();
    store.advance(now);
    let views: Vec<Value> = store
        .orders
        .values()
        .map(|o| order_view(&store, o, now))
        .collect();
    Json(views).into_response()
}

async fn get_order(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Answer {
    let now = Utc::now();
    let mut store = inner.state();
    store.advance(now);
    let order = store.orders.get(&id).ok_or_else(|| no_order(&id))?;
    Ok(Json(order_view(&store, order, now)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ActionBody {
    /// A status code: 303/304/305 for `return`, 204/205 for `rider-cancel`.
    reason: Option<i64>,
    secs: Option<u64>,
}

/// `POST /orders/{id}/{action}`: `assign`, `arrive`, `pickup`, `deliver`, `return`
/// (`{"reason": 303|304|305}`, default 304), `returned`, `cancel-by-system` (501),
/// `force-majeure` (502), `rider-cancel` (`{"reason": 204|205}`, default 204), `age`
/// (`{"secs"}`). Answers the order view; 409 when the move does not apply.
async fn order_action(
    State(inner): State<Arc<Inner>>,
    Path((id, action)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let request: ActionBody = body(&bytes)?;
    let now = Utc::now();
    let reason = |default: Status, allowed: &[Status]| -> Result<Status, Refusal> {
        let status = match request.reason {
            None => default,
            Some(code) => Status::from_code(code)
                .filter(|s| allowed.contains(s))
                .ok_or_else(|| {
                    refuse(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "reason {code} is not one of {:?}",
                            allowed.iter().map(|s| s.code()).collect::<Vec<_>>()
                        ),
                    )
                })?,
        };
        Ok(status)
    };
    let step = match action.as_str() {
        "assign" => Some(Move::Assign),
        "arrive" => Some(Move::Arrive),
        "pickup" => Some(Move::Pickup),
        "deliver" => Some(Move::Deliver),
        "return" => Some(Move::Return(reason(
            Status::ReturningUnreachable,
            &[
                Status::ReturningMerchantCancelled,
                Status::ReturningUnreachable,
                Status::ReturningRefused,
            ],
        )?)),
        "returned" => Some(Move::Returned),
        "cancel-by-system" => Some(Move::SystemCancel(Status::SystemCancelled)),
        "force-majeure" => Some(Move::SystemCancel(Status::ForceMajeure)),
        "rider-cancel" => Some(Move::RiderCancel(reason(
            Status::RiderCancelled,
            &[Status::RiderCancelled, Status::RiderCancelledForMerchant],
        )?)),
        "age" => None,
        _ => return Err(refuse(StatusCode::NOT_FOUND, format!("no action {action}"))),
    };
    let view = {
        let mut store = inner.state();
        if !store.orders.contains_key(&id) {
            return Err(no_order(&id));
        }
        match step {
            Some(step) => store
                .apply(&id, step, now, "control")
                .map_err(|e| refuse(StatusCode::CONFLICT, e))?,
            None => {
                let secs = request
                    .secs
                    .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "age needs {\"secs\": n}"))?;
                store
                    .age_order(&id, secs)
                    .map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
                store.advance(now);
            }
        }
        let order = store.orders.get(&id).ok_or_else(|| no_order(&id))?;
        order_view(&store, order, now)
    };
    inner.wake.notify_one();
    Ok(Json(view).into_response())
}

/// `POST /quotes/{delivery_token}/age` `{"secs"}`: makes a quote older, to reach its expiry.
async fn age_quote_route(
    State(inner): State<Arc<Inner>>,
    Path(token): Path<String>,
    bytes: Bytes,
) -> Answer {
    let secs = age_secs(&bytes)?;
    let mut store = inner.state();
    let quote = store.quotes.get_mut(&token).map(|q| &mut q.created_at);
    age_quote(quote, secs, "deliveryToken", &token)
}

async fn list_pushes(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    let views: Vec<CallbackView> = store.pushes.iter().map(one_push_view).collect();
    Json(views).into_response()
}

// ------------------------------------------------------------------ push URL and URL check

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushPatch {
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    #[serde(default)]
    safe_mode: Option<bool>,
}

fn push_view(store: &Store) -> Response {
    Json(json!({ "url": store.push_url, "safeMode": store.safe_mode })).into_response()
}

async fn get_push(State(inner): State<Arc<Inner>>) -> Response {
    push_view(&inner.state())
}

/// `PUT /push` `{"url"?, "safeMode"?}`: where pushes go and whether they are encrypted.
async fn put_push(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let patch: PushPatch = body(&bytes)?;
    let response = {
        let mut store = inner.state();
        if let Some(url) = patch.url {
            store.push_url = url;
        }
        if let Some(safe) = patch.safe_mode {
            store.safe_mode = safe;
        }
        push_view(&store)
    };
    inner.wake.notify_one();
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VerifyBody {
    url: Option<String>,
    echostr: Option<String>,
}

/// `POST /verify-url` `{"url"?, "echostr"?}`: does what WeChat does when the push URL is saved:
/// GETs it with `signature`, `timestamp`, `nonce`, `echostr` and checks that the body is exactly
/// `echostr`. Answers what was sent and received, and `echoed`.
async fn verify_url(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let request: VerifyBody = body(&bytes)?;
    let url =
        match request.url {
            Some(url) => {
                crate::kit::control::loopback_url(&url)?;
                url
            }
            None => inner.state().push_url.clone().ok_or_else(|| {
                refuse(StatusCode::BAD_REQUEST, "no url given and no push URL set")
            })?,
        };
    let echostr = request
        .echostr
        .unwrap_or_else(|| rand::random::<u64>().to_string());
    let timestamp = Utc::now().timestamp().to_string();
    let nonce = rand::random::<u32>().to_string();
    let signature = sign::signature(&inner.push_token, &timestamp, &nonce);
    let result = inner
        .http
        .get(&url)
        .query(&[
            ("signature", signature.as_str()),
            ("timestamp", timestamp.as_str()),
            ("nonce", nonce.as_str()),
            ("echostr", echostr.as_str()),
        ])
        .send()
        .await;
    let (status, reply, error) = match result {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.text().await {
                Ok(text) => (Some(status), Some(text), None),
                Err(e) => (Some(status), None, Some(e.to_string())),
            }
        }
        Err(e) => (None, None, Some(e.to_string())),
    };
    let echoed = status == Some(200) && reply.as_deref() == Some(echostr.as_str());
    Ok(Json(json!({
        "url": url,
        "signature": signature,
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
        "status": status,
        "body": reply,
        "error": error,
        "echoed": echoed,
    }))
    .into_response())
}

// ------------------------------------------------------------------ faults, schedule, quota

async fn get_faults(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    FaultsView::answer(&store.faults, store.out_of_order_rate)
}

/// Replaces the faults; keys left out are 0.
async fn put_faults(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let view = FaultsView::parse(&bytes)?;
    let mut store = inner.state();
    store.faults = view.faults.clone();
    store.out_of_order_rate = view.out_of_order_rate;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchedulePatch {
    #[serde(default, deserialize_with = "present")]
    accept_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    arrive_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pickup_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    deliver_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    system_cancel_after_secs: Option<Option<u64>>,
}

async fn get_schedule(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.state().schedule).into_response()
}

/// `null` disables a step, an absent key leaves it as it is.
async fn put_schedule(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let patch: SchedulePatch = body(&bytes)?;
    let schedule = {
        let mut store = inner.state();
        let s = &mut store.schedule;
        for (slot, value) in [
            (&mut s.accept_after_secs, patch.accept_after_secs),
            (&mut s.arrive_after_secs, patch.arrive_after_secs),
            (&mut s.pickup_after_secs, patch.pickup_after_secs),
            (&mut s.deliver_after_secs, patch.deliver_after_secs),
            (
                &mut s.system_cancel_after_secs,
                patch.system_cancel_after_secs,
            ),
        ] {
            if let Some(v) = value {
                *slot = v;
            }
        }
        store.schedule
    };
    inner.wake.notify_one();
    Ok(Json(schedule).into_response())
}

async fn get_quota(State(inner): State<Arc<Inner>>) -> Response {
    let mut store = inner.state();
    store.quota.roll(Utc::now());
    Json(store.quota).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuotaPatch {
    daily_quota: Option<u32>,
    used_today: Option<u32>,
}

/// `PUT /quota` `{"dailyQuota"?, "usedToday"?}`.
async fn put_quota(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let patch: QuotaPatch = body(&bytes)?;
    let mut store = inner.state();
    store.quota.roll(Utc::now());
    if let Some(n) = patch.daily_quota {
        store.quota.daily_quota = n;
    }
    if let Some(n) = patch.used_today {
        store.quota.used_today = n;
    }
    Ok(Json(store.quota).into_response())
}

// ------------------------------------------------------------------ companies and stores

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompanyView {
    delivery_id: String,
    name: String,
    shopid: String,
    bound: bool,
    audit_result: u8,
    outage: Option<Outage>,
    gives_delivery_token: bool,
    dispatch_minutes: u64,
    scheduled: bool,
    cancel_rule: CancelRule,
    acceptance: Option<crate::kit::acceptance::Acceptance>,
}

fn companies(store: &Store) -> Vec<CompanyView> {
    store
        .companies
        .iter()
        .map(|c| CompanyView {
            delivery_id: c.config.delivery_id.clone(),
            name: c.config.name.clone(),
            shopid: c.config.shopid.clone(),
            bound: c.bound,
            audit_result: c.audit_result,
            outage: c.outage,
            gives_delivery_token: c.config.gives_delivery_token,
            dispatch_minutes: c.config.dispatch_minutes,
            scheduled: c.config.scheduled,
            cancel_rule: c.config.cancel_rule,
            acceptance: c.acceptance.clone(),
        })
        .collect()
}

async fn list_companies(State(inner): State<Arc<Inner>>) -> Response {
    Json(companies(&inner.state())).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompanyPatch {
    bound: Option<bool>,
    audit_result: Option<u8>,
    #[serde(default, deserialize_with = "present")]
    outage: Option<Option<Outage>>,
    /// `{minMs, maxMs, neverRate?, lateRate?, seed?}` draws each order's acceptance; `null` goes back
    /// to the schedule.
    #[serde(default, deserialize_with = "present")]
    acceptance: Option<Option<crate::kit::acceptance::Acceptance>>,
    /// The company's base fee from now on (its prices move).
    base_fee_fen: Option<i64>,
}

/// `PUT /companies/{delivery_id}` `{"bound"?, "auditResult"? 0|1|2, "outage"? "timeout"|"error"|null,
/// "acceptance"? {minMs, maxMs, neverRate?, lateRate?, seed?}|null, "baseFeeFen"?}`: the company's
/// side of binding and review, outages (930556 / 930557), how its couriers accept, and its price
/// moving (the base fee of quotes and orders from now on).
async fn put_company(
    State(inner): State<Arc<Inner>>,
    Path(delivery_id): Path<String>,
    bytes: Bytes,
) -> Answer {
    let patch: CompanyPatch = body(&bytes)?;
    if patch.audit_result.is_some_and(|a| a > 2) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "auditResult must be 0, 1 or 2",
        ));
    }
    let mut store = inner.state();
    let company = store
        .company_mut(&delivery_id)
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no company {delivery_id}")))?;
    if let Some(bound) = patch.bound {
        company.bound = bound;
    }
    if let Some(audit) = patch.audit_result {
        company.audit_result = audit;
    }
    if let Some(outage) = patch.outage {
        company.outage = outage;
    }
    if let Some(fen) = patch.base_fee_fen {
        if fen < 0 {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "baseFeeFen must not be negative",
            ));
        }
        company.config.base_fee_fen = fen;
    }
    if let Some(acceptance) = patch.acceptance {
        if let Some(a) = &acceptance {
            a.check().map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
        }
        company.acceptance = acceptance;
        inner.wake.notify_one();
    }
    Ok(Json(companies(&store)).into_response())
}

async fn list_stores() -> Response {
    Json(seed::stores()).into_response()
}
