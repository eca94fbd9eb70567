//! The message-push URL of the mini-program, as far as deliveries go: `GET` answers WeChat's
//! URL check (echo `echostr` when the signature holds), `POST` takes `update_waybill_status`
//! (plain, or encrypted in safe mode), verified and decrypted by [`crate::providers::wechat::callback`], behind the caller allow-list,, written
//! through the order service, and only then answered with the documented reply (encrypted in
//! safe mode). A repeat is answered again and changes nothing; anything that does not verify
//! or parse gets a non-200 and changes nothing.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use super::allow::{AllowList, only};
use crate::{
    domain::{EventSource, ProviderId},
    orders::{DeliveryNews, InboundRecord, OrderService, StatusUpdate},
    providers::wechat::callback::{self, PushConfig, PushError},
};

/// What the route needs: the order service and how pushes are verified and answered (None
/// when WeChat is off: every request is answered 404).
#[derive(Clone)]
struct Wechat {
    orders: OrderService,
    push: Option<Arc<PushConfig>>,
}

/// The WeChat push route (GET: URL check, POST: pushes), answering only `callers`.
pub fn routes(
    orders: OrderService,
    config: Option<Arc<PushConfig>>,
    callers: Arc<AllowList>,
) -> Router {
    only(
        &callers,
        Router::new().route("/callbacks/wechat", get(verify).post(push)),
    )
    .with_state(Wechat {
        orders,
        push: config,
    })
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    tracing::warn!(%status, reason = %message, "wechat push refused");
    metrics::counter!("orderhub_callbacks_total", "provider" => "WECHAT", "outcome" => "rejected")
        .increment(1);
    (
        status,
        Json(json!({ "resultcode": -1, "resultmsg": message })),
    )
        .into_response()
}

fn retry_later(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "wechat push: write failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "resultcode": -1, "resultmsg": "temporary failure, please retry" })),
    )
        .into_response()
}

/// `GET /callbacks/wechat`: the URL check.
async fn verify(
    State(state): State<Wechat>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(cfg) = state.push.as_deref() else {
        return refuse(StatusCode::NOT_FOUND, "WeChat is not enabled");
    };
    match callback::verify_url(cfg, &query) {
        Some(echo) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            echo,
        )
            .into_response(),
        None => refuse(StatusCode::UNAUTHORIZED, "signature mismatch"),
    }
}

/// `POST /callbacks/wechat`: a waybill status push.
#[tracing::instrument(skip_all, fields(provider = "WECHAT"))]
async fn push(
    State(state): State<Wechat>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(cfg) = state.push.clone() else {
        return refuse(StatusCode::NOT_FOUND, "WeChat is not enabled");
    };
    let push = match callback::parse_push(&cfg, &query, &body) {
        Ok(p) => p,
        Err(PushError::BadSignature) => {
            return refuse(StatusCode::UNAUTHORIZED, "signature mismatch");
        }
        Err(PushError::WrongApp) => return refuse(StatusCode::UNAUTHORIZED, "not our appid"),
        Err(PushError::NotWaybillEvent(event)) => {
            // Other events of the mini-program are not ours to handle: acknowledge.
            tracing::info!(%event, "wechat push of an event we do not act on");
            return (StatusCode::OK, "success").into_response();
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let order = match state
        .orders
        .by_external_id(ProviderId::Wechat, &push.shop_order_id)
        .await
    {
        Ok(Some(o)) => o,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                format!("unknown shop_order_id {:?}", push.shop_order_id),
            );
        }
        Err(e) => return retry_later(e),
    };
    let courier = push.courier.clone();
    let update = StatusUpdate {
        order_id: order.id,
        status: push.status,
        raw_status: push.raw_status.clone(),
        source: EventSource::Callback,
        occurred_at: push.action_time,
        detail: Some(push.detail()),
        cancel_reason: push.cancel_reason(),
        inbound: Some(InboundRecord {
            provider: ProviderId::Wechat,
            kind: "update_waybill_status",
            dedup_key: push.dedup_key.clone(),
            payload: String::from_utf8_lossy(&body).into_owned(),
        }),
        delivery: Some(DeliveryNews {
            platform_ref: push.waybill_id.clone().filter(|w| !w.is_empty()),
            courier: (courier.name.is_some() || courier.phone.is_some()).then_some(courier),
            finish_code: None,
            penalty: None,
            fees: None,
            distance_m: None,
            courier_eta: push.reach_time,
        }),
    };
    match state.orders.apply_status(update).await {
        Ok(_) => {
            let reply = callback::reply(&cfg, &push.to_user, &push.from_user, 0, "ok");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                reply,
            )
                .into_response()
        }
        Err(e) => retry_later(e),
    }
}
