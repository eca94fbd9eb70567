//! Control routes under `/_control`: what tests and developers use to look inside the sandbox and
//! to play the courier, Dada's staff and the clock. JSON in camelCase; never faulted; refusals
//! are `{"error": "…"}` (plus Dada's `code` when a platform rule refused) with 400, 404 or 409.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Inner,
    error::Reject,
    store::{Callback, Message, Move, Order, OrderKey, State as Store, to_value},
};
use crate::kit::{
    control::{Answer, FaultsView, Refusal, age_quote, age_secs, body, list, present, refuse},
    queue::CallbackView,
};

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/{origin_id}", get(get_order))
        .route("/orders/{origin_id}/{action}", post(order_action))
        .route("/quotes/{delivery_no}/age", post(age_quote_route))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/schedule", get(get_schedule).put(put_schedule))
        .route("/acceptance", get(get_acceptance).put(put_acceptance))
        .route("/balance", get(get_balance).put(put_balance))
        .route("/recharge/{token}", get(pay_recharge))
        .route("/track/{origin_id}", get(track))
        .route("/shops", get(list_shops))
        .route("/merchants", get(list_merchants))
        .with_state(inner)
}

type Params = Query<HashMap<String, String>>;

fn conflict(reject: Reject) -> Refusal {
    Refusal {
        status: StatusCode::CONFLICT,
        error: reject.msg,
        code: Some(i64::from(reject.code)),
    }
}

fn no_order(origin_id: &str) -> Refusal {
    refuse(StatusCode::NOT_FOUND, format!("no order {origin_id}"))
}

fn find(
    inner: &Inner,
    store: &Store,
    origin_id: &str,
    params: &HashMap<String, String>,
) -> Result<OrderKey, Refusal> {
    store
        .find_order_key(
            origin_id,
            params.get("sourceId").map(String::as_str),
            &inner.source_id,
        )
        .ok_or_else(|| no_order(origin_id))
}

// ------------------------------------------------------------------ views

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderView {
    source_id: String,
    origin_id: String,
    client_id: String,
    shop_no: String,
    city_code: String,
    status: i32,
    status_msg: &'static str,
    cargo_price_fen: i64,
    is_prepay: bool,
    cargo_weight_g: u64,
    cargo_type: Option<i64>,
    cargo_num: Option<i64>,
    info: Option<String>,
    origin_mark_no: Option<String>,
    insured: bool,
    finish_code_needed: bool,
    direct_delivery: bool,
    delay_publish_time: Option<DateTime<Utc>>,
    receiver: ReceiverView,
    callback_url: String,
    distance_m: u64,
    deliver_fee_fen: i64,
    coupon_fee_fen: i64,
    fee_fen: i64,
    tips_fen: i64,
    insurance_fee_fen: i64,
    paid_fen: i64,
    deduct_fee_fen: i64,
    courier: Option<CourierView>,
    appointed_courier_id: Option<i64>,
    finish_code: String,
    cancel_from: i32,
    cancel_reason: String,
    created_at: DateTime<Utc>,
    published_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    arrived_at: Option<DateTime<Utc>>,
    fetched_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    next_move: Option<NextMove>,
    history: Vec<Value>,
    complaints: Vec<Value>,
    courier_cancel: Option<Value>,
    callbacks: Vec<CallbackView>,
    messages: Vec<MessageView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReceiverView {
    name: String,
    address: String,
    phone: Option<String>,
    tel: Option<String>,
    lng: f64,
    lat: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CourierView {
    id: i64,
    name: &'static str,
    phone: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NextMove {
    step: String,
    at: DateTime<Utc>,
}

/// The control view of one status callback.
fn callback_view(c: &Callback) -> CallbackView {
    CallbackView::new(
        c.id,
        i64::from(c.payload.order_status),
        to_value(&c.payload),
        &c.track,
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageView {
    id: usize,
    body: Value,
    created_at: DateTime<Utc>,
    attempts: u32,
    delivered: bool,
    gave_up: bool,
    last_error: Option<String>,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        MessageView {
            id: m.id,
            body: to_value(&m.payload),
            created_at: m.created_at,
            attempts: m.attempts,
            delivered: m.delivered,
            gave_up: m.gave_up,
            last_error: m.last_error.clone(),
        }
    }
}

fn order_view(store: &Store, key: &OrderKey, o: &Order) -> OrderView {
    let r = &o.request;
    OrderView {
        source_id: o.source_id.clone(),
        origin_id: o.origin_id.clone(),
        client_id: o.client_id.to_string(),
        shop_no: r.shop_no.clone(),
        city_code: r.city_code.clone(),
        status: o.status.code(),
        status_msg: o.status.msg(),
        cargo_price_fen: r.cargo_price_fen,
        is_prepay: r.is_prepay,
        cargo_weight_g: r.cargo_weight_g,
        cargo_type: r.cargo_type,
        cargo_num: r.cargo_num,
        info: r.info.clone(),
        origin_mark_no: r.origin_mark_no.clone(),
        insured: r.insured,
        finish_code_needed: r.finish_code_needed,
        direct_delivery: r.direct_delivery,
        delay_publish_time: r.delay_publish_time,
        receiver: ReceiverView {
            name: r.receiver_name.clone(),
            address: r.receiver_address.clone(),
            phone: r.receiver_phone.clone(),
            tel: r.receiver_tel.clone(),
            lng: o.receiver_point.lng,
            lat: o.receiver_point.lat,
        },
        callback_url: r.callback.clone(),
        distance_m: o.quote.distance_m,
        deliver_fee_fen: o.quote.deliver_fee_fen,
        coupon_fee_fen: o.quote.coupon_fee_fen,
        fee_fen: o.quote.fee_fen,
        tips_fen: o.tips_fen,
        insurance_fee_fen: o.quote.insurance_fee_fen,
        paid_fen: o.paid_fen,
        deduct_fee_fen: o.deduct_fee_fen,
        courier: o.courier().map(|c| CourierView {
            id: c.id,
            name: c.name,
            phone: c.phone,
        }),
        appointed_courier_id: o.appointed,
        finish_code: o.finish_code.clone(),
        cancel_from: o.cancel_from,
        cancel_reason: o.cancel_reason.clone(),
        created_at: o.created_at,
        published_at: o.published_at,
        accepted_at: o.accepted_at,
        arrived_at: o.arrived_at,
        fetched_at: o.fetched_at,
        finished_at: o.finished_at,
        cancelled_at: o.cancelled_at,
        next_move: store.next_due(key).map(|(step, at)| NextMove {
            step: format!("{step:?}"),
            at,
        }),
        history: o
            .history
            .iter()
            .map(|h| json!({ "status": h.status.code(), "statusMsg": h.status.msg(), "at": h.at }))
            .collect(),
        complaints: o
            .complaints
            .iter()
            .map(|c| json!({ "reasonId": c.reason_id, "reason": c.reason, "at": c.at }))
            .collect(),
        courier_cancel: o.courier_cancel.as_ref().map(|c| {
            json!({ "messageId": c.message_id, "courierId": c.courier_id, "reason": c.reason, "confirmed": c.confirmed })
        }),
        callbacks: store.callbacks.iter().filter(|c| &c.key == key).map(callback_view).collect(),
        messages: store.messages.iter().filter(|m| &m.key == key).map(MessageView::from).collect(),
    }
}

// ------------------------------------------------------------------ orders

async fn list_orders(State(inner): State<Arc<Inner>>) -> Response {
    let mut store = inner.state();
    store.advance(Utc::now());
    let views: Vec<OrderView> = store
        .orders
        .iter()
        .map(|(k, o)| order_view(&store, k, o))
        .collect();
    Json(views).into_response()
}

async fn get_order(
    State(inner): State<Arc<Inner>>,
    Path(origin_id): Path<String>,
    Query(params): Params,
) -> Answer {
    let mut store = inner.state();
    store.advance(Utc::now());
    let key = find(&inner, &store, &origin_id, &params)?;
    let order = store.orders.get(&key).ok_or_else(|| no_order(&origin_id))?;
    Ok(Json(order_view(&store, &key, order)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ActionBody {
    reason: Option<String>,
    secs: Option<u64>,
}

/// `POST /orders/{origin_id}/{action}`: `accept`, `arrive`, `fetch`, `finish`, `cancel`
/// (`{"reason"}`), `expire`, `abnormal-back`, `fail` (status 1000), `courier-cancel-request`
/// (`{"reason"}`), `age` (`{"secs"}`). Answers the order view.
async fn order_action(
    State(inner): State<Arc<Inner>>,
    Path((origin_id, action)): Path<(String, String)>,
    Query(params): Params,
    bytes: Bytes,
) -> Answer {
    let request: ActionBody = body(&bytes)?;
    let now = Utc::now();
    let answer = {
        let mut store = inner.state();
        let key = find(&inner, &store, &origin_id, &params)?;
        let step = match action.as_str() {
            "accept" => Some(Move::Accept),
            "arrive" => Some(Move::Arrive),
            "fetch" => Some(Move::Fetch),
            "finish" => Some(Move::Finish),
            "cancel" => Some(Move::Cancel),
            "expire" => Some(Move::Expire),
            "abnormal-back" => Some(Move::AbnormalBack),
            "fail" => Some(Move::Fail),
            _ => None,
        };
        match (step, action.as_str()) {
            (Some(step), _) => store.apply(&key, step, request.reason, now),
            (None, "courier-cancel-request") => {
                let reason = request
                    .reason
                    .unwrap_or_else(|| "骑士临时有事,无法配送".to_owned());
                store.courier_cancel_request(&key, reason, now).map(|_| ())
            }
            (None, "age") => {
                let secs = request
                    .secs
                    .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "age needs {\"secs\": n}"))?;
                store.age_order(&key, secs).map(|()| store.advance(now))
            }
            _ => return Err(refuse(StatusCode::NOT_FOUND, format!("no action {action}"))),
        }
        .map_err(conflict)?;
        let order = store.orders.get(&key).ok_or_else(|| no_order(&origin_id))?;
        Json(order_view(&store, &key, order)).into_response()
    };
    inner.wake.notify_one();
    Ok(answer)
}

/// `POST /quotes/{deliveryNo}/age` `{"secs"}`: pretends the quote is older, to reach 2062.
async fn age_quote_route(
    State(inner): State<Arc<Inner>>,
    Path(delivery_no): Path<String>,
    bytes: Bytes,
) -> Answer {
    let secs = age_secs(&bytes)?;
    let mut store = inner.state();
    let quote = store
        .quotes
        .get_mut(&delivery_no)
        .map(|q| &mut q.created_at);
    age_quote(quote, secs, "deliveryNo", &delivery_no)
}

// ------------------------------------------------------------------ faults, schedule, money

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleView {
    accept_after_secs: Option<u64>,
    fetch_after_secs: Option<u64>,
    finish_after_secs: Option<u64>,
    auto_cancel_after_secs: u64,
}

fn schedule_view(store: &Store) -> ScheduleView {
    let s = &store.schedule;
    ScheduleView {
        accept_after_secs: s.accept_after_secs,
        fetch_after_secs: s.fetch_after_secs,
        finish_after_secs: s.finish_after_secs,
        auto_cancel_after_secs: s.auto_cancel_after_secs,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchedulePatch {
    #[serde(default, deserialize_with = "present")]
    accept_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    fetch_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    finish_after_secs: Option<Option<u64>>,
    #[serde(default)]
    auto_cancel_after_secs: Option<u64>,
}

async fn get_schedule(State(inner): State<Arc<Inner>>) -> Response {
    Json(schedule_view(&inner.state())).into_response()
}

/// `null` disables a step, an absent key leaves it as it is.
async fn put_schedule(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let patch: SchedulePatch = body(&bytes)?;
    let view = {
        let mut store = inner.state();
        let s = &mut store.schedule;
        if let Some(v) = patch.accept_after_secs {
            s.accept_after_secs = v;
        }
        if let Some(v) = patch.fetch_after_secs {
            s.fetch_after_secs = v;
        }
        if let Some(v) = patch.finish_after_secs {
            s.finish_after_secs = v;
        }
        if let Some(v) = patch.auto_cancel_after_secs {
            s.auto_cancel_after_secs = v;
        }
        schedule_view(&store)
    };
    inner.wake.notify_one();
    Ok(Json(view).into_response())
}

async fn get_acceptance(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.state().schedule.acceptance.clone()).into_response()
}

/// `{minMs, maxMs, neverRate?, lateRate?, seed?}` draws each order's acceptance (see
/// `kit::acceptance`); `null` goes back to `acceptAfterSecs`.
async fn put_acceptance(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let acceptance: Option<crate::kit::acceptance::Acceptance> = body(&bytes)?;
    if let Some(a) = &acceptance {
        a.check().map_err(|e| refuse(StatusCode::BAD_REQUEST, e))?;
    }
    inner.state().schedule.acceptance = acceptance.clone();
    inner.wake.notify_one();
    Ok(Json(acceptance).into_response())
}

fn balance_view(store: &Store, source_id: &str) -> Answer {
    let m = store
        .merchants
        .get(source_id)
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no merchant {source_id}")))?;
    Ok(Json(json!({
        "sourceId": m.source_id,
        "balanceFen": m.balance_fen,
        "redPacketBalanceFen": m.red_packet_fen,
    }))
    .into_response())
}

/// `GET /balance?sourceId=` (default: the configured merchant).
async fn get_balance(State(inner): State<Arc<Inner>>, Query(params): Params) -> Answer {
    let source_id = params.get("sourceId").unwrap_or(&inner.source_id);
    balance_view(&inner.state(), source_id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BalancePut {
    balance_fen: Option<i64>,
    red_packet_balance_fen: Option<i64>,
    source_id: Option<String>,
}

/// `PUT /balance` `{"balanceFen", "redPacketBalanceFen"?, "sourceId"?}`.
async fn put_balance(State(inner): State<Arc<Inner>>, bytes: Bytes) -> Answer {
    let put: BalancePut = body(&bytes)?;
    let source_id = put.source_id.unwrap_or_else(|| inner.source_id.clone());
    let mut store = inner.state();
    let merchant = store
        .merchants
        .get_mut(&source_id)
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no merchant {source_id}")))?;
    if let Some(fen) = put.balance_fen {
        merchant.balance_fen = fen;
    }
    if let Some(fen) = put.red_packet_balance_fen {
        merchant.red_packet_fen = fen;
    }
    balance_view(&store, &source_id)
}

/// The cashier page of a recharge link: fetching it pays, once.
async fn pay_recharge(State(inner): State<Arc<Inner>>, Path(token): Path<String>) -> Answer {
    let mut store = inner.state();
    let recharge = store
        .pay_recharge(&token, Utc::now())
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "no such recharge link"))?;
    let balance = store
        .merchants
        .get(&recharge.source_id)
        .map_or(0, |m| m.balance_fen);
    Ok(Json(json!({
        "token": recharge.token,
        "sourceId": recharge.source_id,
        "amountFen": recharge.amount_fen,
        "category": recharge.category,
        "notifyUrl": recharge.notify_url,
        "paidAt": recharge.paid_at,
        "balanceFen": balance,
    }))
    .into_response())
}

/// The page a `trackUrl` points at: where the courier is now.
async fn track(
    State(inner): State<Arc<Inner>>,
    Path(origin_id): Path<String>,
    Query(params): Params,
) -> Answer {
    let now = Utc::now();
    let mut store = inner.state();
    store.advance(now);
    let key = find(&inner, &store, &origin_id, &params)?;
    let order = store.orders.get(&key).ok_or_else(|| no_order(&origin_id))?;
    let position = order.courier_position(now, store.schedule.finish_after_secs);
    Ok(Json(json!({
        "orderId": order.origin_id,
        "statusCode": order.status.code(),
        "transporter": order.courier().map(|c| json!({ "id": c.id, "name": c.name, "phone": c.phone })),
        "lng": position.map(|p| p.lng),
        "lat": position.map(|p| p.lat),
    }))
    .into_response())
}

async fn list_shops(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    list(store.shops.values(), |s| {
        json!({
            "sourceId": s.source_id,
            "originShopId": s.origin_shop_id,
            "stationName": s.station_name,
            "business": s.business,
            "cityName": s.city_name,
            "areaName": s.area_name,
            "stationAddress": s.station_address,
            "lng": s.lng,
            "lat": s.lat,
            "contactName": s.contact_name,
            "phone": s.phone,
            "status": s.status,
        })
    })
}

async fn list_merchants(State(inner): State<Arc<Inner>>) -> Response {
    let store = inner.state();
    list(store.merchants.values(), |m| {
        json!({
            "sourceId": m.source_id,
            "mobile": m.mobile,
            "cityName": m.city_name,
            "enterpriseName": m.enterprise_name,
            "contactName": m.contact_name,
            "balanceFen": m.balance_fen,
            "redPacketBalanceFen": m.red_packet_fen,
        })
    })
}
