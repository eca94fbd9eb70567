//! `POST /callbacks/daojia58/orders`: the intake route 58 pushes orders to, behind the caller
//! allow-list. The push is verified (signature, timestamp) and read by
//! [`crate::providers::daojia58::callback`] before anything is written; the order is written
//! once (a repeat finds the first) and only after the write commits is 58 told `received`. The
//! work is one small transaction, so the answer comes well inside 58's 3–5 s deadline.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use chrono::Utc;
use serde_json::{Value, json};

use super::allow::{AllowList, only};
use crate::{
    orders::OrderService,
    providers::daojia58::callback::{self, IntakeConfig, IntakeError},
};

type Reply = (StatusCode, Json<Value>);

/// What the route needs: the order service and how pushes are checked (None when 58 Daojia is
/// off: every push is answered 404).
#[derive(Clone)]
struct Daojia58 {
    orders: OrderService,
    intake: Option<Arc<IntakeConfig>>,
}

/// 58's intake route, answering only `callers`.
pub fn routes(
    orders: OrderService,
    intake: Option<Arc<IntakeConfig>>,
    callers: Arc<AllowList>,
) -> Router {
    only(
        &callers,
        Router::new().route("/callbacks/daojia58/orders", post(push)),
    )
    .with_state(Daojia58 { orders, intake })
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Reply {
    let message = message.into();
    tracing::warn!(%status, reason = %message, "58 push refused");
    metrics::counter!("orderhub_callbacks_total", "provider" => "DAOJIA58", "outcome" => "rejected")
        .increment(1);
    (
        status,
        Json(json!({ "code": status.as_u16(), "msg": message, "data": null })),
    )
}

#[tracing::instrument(name = "orders", skip_all, fields(provider = "DAOJIA58"))]
async fn push(State(state): State<Daojia58>, headers: HeaderMap, body: Bytes) -> Reply {
    let Some(cfg) = state.intake.as_deref() else {
        return refuse(StatusCode::NOT_FOUND, "58 Daojia is not enabled");
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let form = match callback::fields(content_type, &body) {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    let pushed = match callback::verify(cfg, &form, Utc::now()) {
        Ok(p) => p,
        Err(e @ (IntakeError::BadSignature | IntakeError::WrongServiceKey)) => {
            return refuse(StatusCode::UNAUTHORIZED, e.to_string());
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let payload = form.get("daojiaJson").map_or("", String::as_str);
    match state.orders.take_in(&pushed, payload).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({
                "code": 200,
                "msg": "success",
                "data": { "order_id": pushed.order_id, "status": "received" }
            })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "58 push: write failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(
                    json!({ "code": 500, "msg": "temporary failure, please retry", "data": null }),
                ),
            )
        }
    }
}
