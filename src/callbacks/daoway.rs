//! `POST /callbacks/daoway/cancel`: the cancel notification Daoway sends to our
//! `cancel_order_notify_url`. The provider reads and checks the fields
//! ([`daoway::callback::parse`]); here the channel must be ours and the order one we placed.
//! It is acknowledged (`{"result":"0"}`) only after the cancellation is committed; a repeat of
//! the same notification is acknowledged again and changes nothing.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use std::sync::Arc;

use chrono::Utc;

use crate::{
    callbacks::allow::AllowList,
    domain::{EventSource, OrderStatus, ProviderId},
    orders::{InboundRecord, OrderService, StatusUpdate},
    providers::daoway::{callback, wire::NotifyReply},
};

type Reply = (StatusCode, Json<NotifyReply>);

/// What the route needs: the order service and the channel notifications must carry (None when
/// Daoway is off, so every notification is refused as of an unknown channel).
#[derive(Clone)]
struct Daoway {
    orders: OrderService,
    channel: Option<String>,
}

/// Daoway's callback route, answering only `callers`.
pub fn routes(orders: OrderService, channel: Option<String>, callers: Arc<AllowList>) -> Router {
    super::allow::only(
        &callers,
        Router::new().route("/callbacks/daoway/cancel", post(cancel_notify)),
    )
    .with_state(Daoway { orders, channel })
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Reply {
    metrics::counter!("orderhub_callbacks_total", "provider" => "DAOWAY", "outcome" => "rejected")
        .increment(1);
    (status, Json(callback::refusal(message)))
}

#[tracing::instrument(skip_all, fields(provider = "DAOWAY"))]
async fn cancel_notify(State(state): State<Daoway>, headers: HeaderMap, body: Bytes) -> Reply {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let notice = match callback::parse(content_type, &body) {
        Ok(n) => n,
        Err(msg) => return refuse(StatusCode::BAD_REQUEST, msg),
    };
    if state.channel.as_deref() != Some(notice.channel.as_str()) {
        return refuse(StatusCode::BAD_REQUEST, "unknown channel");
    }
    let order = match state
        .orders
        .by_external_id(ProviderId::Daoway, &notice.order_id)
        .await
    {
        Ok(Some(o)) => o,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "unknown orderId"),
        Err(e) => {
            tracing::error!(error = %e, "cancel notification: lookup failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "temporary failure, please retry",
            );
        }
    };
    // The notification is unsigned: a cancellation is believed only when Daoway's own order
    // query says the order is cancelled.
    match state
        .orders
        .marketplace_status(ProviderId::Daoway, &notice.order_id)
        .await
    {
        Ok(OrderStatus::Cancelled) => {}
        Ok(other) => {
            metrics::counter!("orderhub_callbacks_total", "provider" => "DAOWAY", "outcome" => "unconfirmed")
                .increment(1);
            tracing::warn!(order_id = order.id, daoway_says = ?other, "cancel notification not confirmed by Daoway");
            return refuse(
                StatusCode::CONFLICT,
                "Daoway's order query does not confirm the cancellation",
            );
        }
        Err(e) => {
            tracing::warn!(error = ?e, order_id = order.id, "cancel notification: confirming with Daoway failed");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not confirm with Daoway, please retry",
            );
        }
    }
    if notice.consumed.fen() != order.total_fen {
        tracing::warn!(order_id = order.id, notified = %notice.consumed, ours = order.total_fen, "cancel notification amount differs from the order's");
    }
    let update = StatusUpdate {
        order_id: order.id,
        status: OrderStatus::Cancelled,
        raw_status: "CANCELLED".into(),
        source: EventSource::Callback,
        occurred_at: Utc::now(),
        detail: Some(format!(
            "cancel notification: {} (consumedMoney {})",
            notice.reason, notice.consumed
        )),
        cancel_reason: Some(notice.reason.clone()),
        inbound: Some(InboundRecord {
            provider: ProviderId::Daoway,
            kind: "cancel_notify",
            dedup_key: format!("cancel:{}", notice.order_id),
            payload: notice.payload(),
        }),
        delivery: None,
    };
    match state.orders.apply_status(update).await {
        Ok(_) => (StatusCode::OK, Json(callback::ack())),
        Err(e) => {
            tracing::error!(error = %e, order_id = order.id, "cancel notification: write failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "temporary failure, please retry",
            )
        }
    }
}
