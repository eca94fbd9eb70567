//! The two routes Dada calls: the order status callback (the URL we give in every order's
//! `callback`) and the message push (the URL set in Dada's console), both behind the caller
//! allow-list (Dada's signature has no secret). Both are verified and parsed by
//! [`crate::providers::dada::callback`], written through the order service, and acknowledged with
//! HTTP 200 `{"status":"ok"}` only after the write committed. A repeat is acknowledged again
//! and changes nothing; bad input gets a non-200 with the reason and changes nothing.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::post,
};
use serde_json::{Value, json};

use super::allow::{AllowList, only};
use crate::{
    domain::{EventSource, ProviderId},
    orders::{CourierCancelRequest, DeliveryNews, InboundRecord, OrderService, StatusUpdate},
    providers::dada::callback::{self, CallbackError, CallbackTokens, DadaMessage},
};

type Reply = (StatusCode, Json<Value>);

/// What Dada's routes check a push against: the order service, and the URLs' tokens.
#[derive(Clone)]
struct Dada {
    orders: OrderService,
    tokens: Option<Arc<CallbackTokens>>,
}

/// Dada's two callback routes, answering only `callers`. Status callbacks come to each
/// order's own URL (`/callbacks/dada/status/{token}`), messages to the registered one
/// (`/callbacks/dada/message/{token}`); the URLs without a token, which Dada was given before
/// tokens, are refused (the poller still catches those orders' changes).
pub fn routes(
    orders: OrderService,
    callers: Arc<AllowList>,
    tokens: Option<Arc<CallbackTokens>>,
) -> Router {
    let routes = Router::new()
        .route("/callbacks/dada/status/{token}", post(status))
        .route("/callbacks/dada/message/{token}", post(message))
        .route("/callbacks/dada/status", post(tokenless))
        .route("/callbacks/dada/message", post(tokenless))
        .with_state(Dada { orders, tokens });
    only(&callers, routes)
}

/// A Dada route without its token: not Dada's (it has every order's own URL, and the message
/// URL as registered), so refused and nothing read.
async fn tokenless() -> Reply {
    refuse(
        StatusCode::FORBIDDEN,
        "callback",
        "Dada's callbacks go to the URL with its token",
    )
}

fn ok() -> Reply {
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

fn refuse(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Reply {
    let message = message.into();
    tracing::warn!(%status, reason = %message, "dada {kind} refused");
    metrics::counter!("orderhub_callbacks_total", "provider" => "DADA", "outcome" => "rejected")
        .increment(1);
    (status, Json(json!({ "status": "fail", "msg": message })))
}

fn retry_later(error: impl std::fmt::Display) -> Reply {
    tracing::error!(%error, "dada callback: write failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "status": "fail", "msg": "temporary failure, please retry" })),
    )
}

fn reason(e: &CallbackError) -> (StatusCode, String) {
    match e {
        CallbackError::BadSignature => (StatusCode::UNAUTHORIZED, "signature mismatch".into()),
        other => (StatusCode::BAD_REQUEST, other.to_string()),
    }
}

/// `POST /callbacks/dada/status/{token}`.
#[tracing::instrument(skip_all, fields(provider = "DADA"))]
async fn status(
    State(Dada { orders, tokens }): State<Dada>,
    Path(token): Path<String>,
    body: Bytes,
) -> Reply {
    let cb = match callback::parse_status_callback(&body) {
        Ok(cb) => cb,
        Err(e) => {
            let (code, msg) = reason(&e);
            return refuse(code, "status callback", msg);
        }
    };
    if !tokens.is_some_and(|t| t.verify(&cb.origin_id, &token)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "status callback",
            "not this order's callback URL",
        );
    }
    let order = match orders.by_external_id(ProviderId::Dada, &cb.origin_id).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "status callback",
                format!("unknown order_id {:?}", cb.origin_id),
            );
        }
        Err(e) => return retry_later(e),
    };
    // News that ends the order is believed only when Dada's own order query says so: the
    // signature proves nothing, and a URL can leak.
    if cb.status.is_terminal() {
        match orders.platform_status(order.id).await {
            Ok((_, raw)) if raw == cb.raw_status => {}
            Ok((_, raw)) => {
                metrics::counter!("orderhub_callbacks_total", "provider" => "DADA", "outcome" => "unconfirmed")
                    .increment(1);
                return refuse(
                    StatusCode::CONFLICT,
                    "status callback",
                    format!(
                        "Dada does not confirm status {} (it says {raw})",
                        cb.raw_status
                    ),
                );
            }
            Err(e) => {
                tracing::warn!(error = ?e, "dada callback: the order query to confirm it failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(
                        json!({ "status": "fail", "msg": "could not confirm with Dada, please retry" }),
                    ),
                );
            }
        }
    }
    let courier = cb.courier.clone();
    let detail = Some(cb.detail());
    let cancel_reason = cb.cancel_reason();
    let update = StatusUpdate {
        order_id: order.id,
        status: cb.status,
        raw_status: cb.raw_status.clone(),
        source: EventSource::Callback,
        occurred_at: cb.occurred_at,
        detail,
        cancel_reason,
        inbound: Some(InboundRecord {
            provider: ProviderId::Dada,
            kind: "status",
            dedup_key: cb.dedup_key.clone(),
            payload: String::from_utf8_lossy(&body).into_owned(),
        }),
        delivery: Some(DeliveryNews {
            platform_ref: Some(cb.client_id.clone()).filter(|c| !c.is_empty()),
            courier: (courier.name.is_some() || courier.id.is_some()).then_some(courier),
            finish_code: cb.finish_code.clone(),
            penalty: None,
            fees: None,
            distance_m: None,
            courier_eta: None,
        }),
    };
    match orders.apply_status(update).await {
        Ok(_) => ok(),
        Err(e) => retry_later(e),
    }
}

/// `POST /callbacks/dada/message`.
#[tracing::instrument(skip_all, fields(provider = "DADA"))]
async fn message(
    State(Dada { orders, tokens }): State<Dada>,
    Path(token): Path<String>,
    body: Bytes,
) -> Reply {
    if !tokens.is_some_and(|t| t.verify_message(&token)) {
        return refuse(StatusCode::FORBIDDEN, "message", "not the message URL");
    }
    let message = match callback::parse_message(&body) {
        Ok(m) => m,
        Err(e) => {
            let (code, msg) = reason(&e);
            return refuse(code, "message", msg);
        }
    };
    match message {
        DadaMessage::CourierCancelRequest {
            origin_id,
            dada_order_id,
            reason,
        } => {
            let request = CourierCancelRequest {
                provider: ProviderId::Dada,
                dedup_key: callback::cancel_request_key(&origin_id, &dada_order_id, &body),
                origin_id: origin_id.clone(),
                platform_order_id: dada_order_id,
                reason,
                payload: String::from_utf8_lossy(&body).into_owned(),
            };
            match orders.record_courier_cancel_request(request).await {
                Ok(Some(_)) => ok(),
                Ok(None) => refuse(
                    StatusCode::NOT_FOUND,
                    "message",
                    format!("unknown orderId {origin_id:?}"),
                ),
                Err(e) => retry_later(e),
            }
        }
        DadaMessage::Other { message_type, .. } => {
            // Nothing of ours depends on it (4 = a store's status changed): acknowledge so
            // Dada does not retry, and leave a trace.
            tracing::info!(message_type, "dada message of a type we do not act on");
            metrics::counter!("orderhub_callbacks_total", "provider" => "DADA", "outcome" => "ignored")
                .increment(1);
            ok()
        }
    }
}
