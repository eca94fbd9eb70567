//! Control routes: what a test (or a person at the console) uses to play merchant and platform.
//!
//! These are the sandbox's own, not Daoway's, so they use plain JSON in camelCase with
//! `{"error": "…"}` and honest HTTP status codes, and they are never subject to faults.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};

use super::{
    Inner,
    money::yuan_number,
    store::{Order, Schedule, Status, TransitionError},
};
use crate::faults::{CallbackFault, Faults};

/// Reason recorded when a cancel request names none.
const DEFAULT_CANCEL_REASON: &str = "商家取消";

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/confirm", post(confirm))
        .route("/orders/{id}/complete", post(complete))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/accounts/{user_name}", get(get_account).put(put_account))
        .route("/schedule", get(get_schedule).put(put_schedule))
        .with_state(inner)
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

/// Parses a JSON body, treating an empty body as `T::default()` so optional bodies can be left
/// out entirely. The error is the text of a 400 answer.
fn parse_body<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderView {
    order_id: String,
    status: Status,
    channel: String,
    user_name: String,
    service_id: String,
    shop_title: String,
    items: Vec<ItemView>,
    items_total_fen: i64,
    fix_fee_fen: i64,
    consumed_fen: i64,
    /// Yuan, as the platform shows it.
    consumed_money: f64,
    city: String,
    street: String,
    house: String,
    contact_person: String,
    phone: String,
    appoint_time: String,
    note: String,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    cancel_reason: Option<String>,
    notification: Option<NotificationView>,
    /// How often the partner asked for the order's status.
    status_queries: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView {
    price_id: String,
    name: String,
    unit: String,
    price_fen: i64,
    quantity: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationView {
    reason: String,
    /// `send`, `drop` or `duplicate`: what the faults decided at cancellation.
    fate: &'static str,
    attempts: u32,
    delivered: bool,
    duplicate_sent: bool,
    gave_up: bool,
    /// Still owed: waiting for the partner URL, for the next retry, or in flight.
    pending: bool,
    last_error: Option<String>,
    last_attempt_at: Option<DateTime<Utc>>,
    next_attempt_at: Option<DateTime<Utc>>,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        OrderView {
            order_id: o.id.clone(),
            status: o.status,
            channel: o.channel.clone(),
            user_name: o.user_name.clone(),
            service_id: o.service_id.clone(),
            shop_title: o.shop_title.clone(),
            items: o
                .lines
                .iter()
                .map(|l| ItemView {
                    price_id: l.price_id.clone(),
                    name: l.name.clone(),
                    unit: l.unit.clone(),
                    price_fen: l.price_fen,
                    quantity: l.quantity,
                })
                .collect(),
            items_total_fen: o.items_total_fen,
            fix_fee_fen: o.fix_fee_fen,
            consumed_fen: o.consumed_fen,
            consumed_money: yuan_number(o.consumed_fen),
            city: o.city.clone(),
            street: o.street.clone(),
            house: o.house.clone(),
            contact_person: o.contact_person.clone(),
            phone: o.phone.clone(),
            appoint_time: o.appoint_time.clone(),
            note: o.note.clone(),
            created_at: o.created_at,
            confirmed_at: o.confirmed_at,
            completed_at: o.completed_at,
            cancelled_at: o.cancelled_at,
            cancel_reason: o.cancel_reason.clone(),
            status_queries: o.status_queries,
            notification: o.notification.as_ref().map(|n| NotificationView {
                reason: n.reason.clone(),
                fate: match n.fate {
                    CallbackFault::Drop => "drop",
                    CallbackFault::Once => "send",
                    CallbackFault::Twice => "duplicate",
                },
                attempts: n.attempts,
                delivered: n.delivered,
                duplicate_sent: n.duplicate_sent,
                gave_up: n.gave_up,
                pending: n.in_flight || n.owed(),
                last_error: n.last_error.clone(),
                last_attempt_at: n.last_attempt_at,
                next_attempt_at: n.owed().then_some(n.next_attempt_at),
            }),
        }
    }
}

fn view(inner: &Inner, id: &str) -> Response {
    let mut state = inner.state();
    state.advance(Utc::now());
    match state.order(id) {
        Some(order) => Json(OrderView::from(order)).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("order {id} not found")),
    }
}

async fn list_orders(State(inner): State<Arc<Inner>>) -> Response {
    let mut state = inner.state();
    state.advance(Utc::now());
    Json(state.orders.iter().map(OrderView::from).collect::<Vec<_>>()).into_response()
}

async fn get_order(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    view(&inner, &id)
}

fn transition_result(inner: &Inner, id: &str, result: Result<(), TransitionError>) -> Response {
    match result {
        Ok(()) => view(inner, id),
        Err(TransitionError::NotFound) => {
            error(StatusCode::NOT_FOUND, format!("order {id} not found"))
        }
        Err(TransitionError::NotAllowed { from, to }) => error(
            StatusCode::CONFLICT,
            format!(
                "cannot move order {id} from {} to {}",
                from.as_str(),
                to.as_str()
            ),
        ),
    }
}

async fn confirm(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    let result = inner.state().confirm(&id, Utc::now());
    transition_result(&inner, &id, result)
}

async fn complete(State(inner): State<Arc<Inner>>, Path(id): Path<String>) -> Response {
    let result = inner.state().complete(&id, Utc::now());
    transition_result(&inner, &id, result)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CancelBody {
    reason: Option<String>,
}

async fn cancel(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> Response {
    let body: CancelBody = match parse_body(&body) {
        Ok(body) => body,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let reason = body
        .reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_CANCEL_REASON.to_owned());
    let result = inner.state().cancel(&id, reason, Utc::now());
    if result.is_ok() {
        tracing::info!(order_id = %id, "daoway sandbox: order cancelled");
        inner.wake.notify_one();
    }
    transition_result(&inner, &id, result)
}

async fn get_faults(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.faults()).into_response()
}

async fn put_faults(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let faults: Faults = match parse_body(&body) {
        Ok(faults) => faults,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if let Err(e) = faults.validate() {
        return error(StatusCode::BAD_REQUEST, e);
    }
    inner.state().faults = faults.clone();
    Json(faults).into_response()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountView {
    user_name: String,
    balance_fen: i64,
}

async fn get_account(State(inner): State<Arc<Inner>>, Path(user_name): Path<String>) -> Response {
    let balance = inner
        .state()
        .accounts
        .get(&user_name)
        .map(|a| a.balance_fen);
    match balance {
        Some(balance_fen) => Json(AccountView {
            user_name,
            balance_fen,
        })
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("account {user_name} not found"),
        ),
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountUpdate {
    balance_fen: Option<i64>,
    password: Option<String>,
}

async fn put_account(
    State(inner): State<Arc<Inner>>,
    Path(user_name): Path<String>,
    body: Bytes,
) -> Response {
    let update: AccountUpdate = match parse_body(&body) {
        Ok(update) => update,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let Some(balance_fen) = update.balance_fen else {
        return error(StatusCode::BAD_REQUEST, "balanceFen is required");
    };
    if balance_fen < 0 {
        return error(StatusCode::BAD_REQUEST, "balanceFen must not be negative");
    }
    {
        let mut state = inner.state();
        match (state.accounts.get_mut(&user_name), update.password) {
            (Some(account), password) => {
                account.balance_fen = balance_fen;
                if let Some(password) = password {
                    account.password = password;
                }
            }
            (None, Some(password)) => {
                state.accounts.insert(
                    user_name.clone(),
                    super::store::Account {
                        password,
                        balance_fen,
                    },
                );
            }
            (None, None) => {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("account {user_name} not found (give a password to create it)"),
                );
            }
        }
    }
    Json(AccountView {
        user_name,
        balance_fen,
    })
    .into_response()
}

async fn get_schedule(State(inner): State<Arc<Inner>>) -> Response {
    Json(inner.state().schedule).into_response()
}

/// `null` disables a move, an absent key leaves it unchanged: hence the nested options.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleUpdate {
    #[serde(default, deserialize_with = "present")]
    confirm_after_secs: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    complete_after_secs: Option<Option<u64>>,
}

/// Marks a key as present, whether its value is a number or `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

async fn put_schedule(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let update: ScheduleUpdate = match parse_body(&body) {
        Ok(update) => update,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let schedule: Schedule = {
        let mut state = inner.state();
        // Moves already due under the old schedule keep their old timing.
        state.advance(Utc::now());
        if let Some(confirm) = update.confirm_after_secs {
            state.schedule.confirm_after_secs = confirm;
        }
        if let Some(complete) = update.complete_after_secs {
            state.schedule.complete_after_secs = complete;
        }
        state.schedule
    };
    inner.wake.notify_one();
    Json(schedule).into_response()
}
