//! The cancel notification Daoway POSTs to our `cancel_order_notify_url`. Daoway signs
//! nothing, so a notification is trusted only when its channel is ours, its order is one
//! we placed, and its amount reads as money. It is acknowledged (`{"result":"0"}`) only
//! after the cancellation is committed; a repeat of the same notification is acknowledged
//! again and changes nothing.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use chrono::Utc;

use super::wire::{CancelNotify, NotifyReply};
use crate::{
    AppState,
    domain::{EventSource, Money, OrderStatus, ProviderId},
    orders::{InboundRecord, StatusUpdate},
};

type Reply = (StatusCode, Json<NotifyReply>);

fn refuse(status: StatusCode, message: impl Into<String>) -> Reply {
    metrics::counter!("orderhub_callbacks_total", "provider" => "DAOWAY", "outcome" => "rejected")
        .increment(1);
    (
        status,
        Json(NotifyReply {
            result: "1",
            message: Some(message.into()),
        }),
    )
}

/// A notification whose fields are all present and well-formed.
#[derive(Debug)]
pub struct CancelNotice {
    pub channel: String,
    pub order_id: String,
    pub consumed: Money,
    pub contact_person: String,
    pub phone: String,
    pub reason: String,
}

/// Reads the body as a form (what the platform sends) or JSON, and checks every field.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<CancelNotice, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let raw: CancelNotify = if is_json {
        serde_json::from_slice(body).map_err(|_| "body is not valid JSON".to_owned())?
    } else {
        serde_urlencoded::from_bytes(body).map_err(|_| "body is not a valid form".to_owned())?
    };
    let required = |name: &str, v: Option<String>, allow_empty: bool| match v {
        Some(v) if allow_empty || !v.trim().is_empty() => Ok(v),
        _ => Err(format!("missing {name}")),
    };
    let consumed = required("consumedMoney", raw.consumed_money, false)?;
    Ok(CancelNotice {
        channel: required("channel", raw.channel, false)?,
        order_id: required("orderId", raw.order_id, false)?,
        consumed: consumed
            .parse::<Money>()
            .map_err(|_| format!("consumedMoney {consumed:?} is not an amount"))?,
        contact_person: required("contactPerson", raw.contact_person, true)?,
        phone: required("phone", raw.phone, true)?,
        reason: required("reason", raw.reason, true)?,
    })
}

#[tracing::instrument(skip_all, fields(provider = "DAOWAY"))]
pub async fn cancel_notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let notice = match parse(&headers, &body) {
        Ok(n) => n,
        Err(msg) => return refuse(StatusCode::BAD_REQUEST, msg),
    };
    if state.daoway_channel.as_deref() != Some(notice.channel.as_str()) {
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
    if notice.consumed.fen() != order.total_fen {
        tracing::warn!(order_id = order.id, notified = %notice.consumed, ours = order.total_fen, "cancel notification amount differs from the order's");
    }
    let payload = serde_json::json!({
        "channel": notice.channel,
        "orderId": notice.order_id,
        "consumedMoney": notice.consumed.to_string(),
        "contactPerson": notice.contact_person,
        "phone": notice.phone,
        "reason": notice.reason,
    })
    .to_string();
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
            payload,
        }),
        delivery: None,
    };
    match state.orders.apply_status(update).await {
        Ok(_) => (
            StatusCode::OK,
            Json(NotifyReply {
                result: "0",
                message: None,
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, order_id = order.id, "cancel notification: write failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "temporary failure, please retry",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        h
    }

    #[test]
    fn reads_the_documented_fields() {
        let body = "channel=huimin&orderId=123&consumedMoney=23.4&contactPerson=%E5%BC%A0&phone=138&reason=%E6%97%B6%E9%97%B4%E5%86%B2%E7%AA%81";
        let n = parse(&form(), body.as_bytes()).unwrap();
        assert_eq!(n.channel, "huimin");
        assert_eq!(n.consumed, Money::from_fen(2340));
        assert_eq!(n.reason, "时间冲突");
    }

    #[test]
    fn refuses_partial_or_malformed() {
        assert!(parse(&form(), b"channel=huimin&orderId=1").is_err());
        assert!(
            parse(
                &form(),
                b"channel=huimin&orderId=1&consumedMoney=abc&contactPerson=a&phone=1&reason=r"
            )
            .is_err()
        );
        let mut json = HeaderMap::new();
        json.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(parse(&json, b"{not json").is_err());
        assert!(parse(&json, br#"{"channel":"c","orderId":"1","consumedMoney":"1","contactPerson":"a","phone":"1","reason":""}"#).is_ok());
    }
}
