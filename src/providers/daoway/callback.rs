//! The cancel notification Daoway POSTs to our `cancel_order_notify_url`, read and checked —
//! no database, no HTTP. Daoway signs nothing, so a notification is trusted only when its
//! channel is ours, its order is one we placed, and its amount reads as money: this module
//! checks the fields; the route (in `crate::callbacks::daoway`) checks the channel and order.

use serde_json::json;

use super::wire::{CancelNotify, NotifyReply};
use crate::domain::Money;

/// Daoway's acknowledgement: `result` "0", and it stops retrying.
pub fn ack() -> NotifyReply {
    NotifyReply {
        result: "0",
        message: None,
    }
}

/// A refusal Daoway reads (`result` "1" with the reason).
pub fn refusal(message: impl Into<String>) -> NotifyReply {
    NotifyReply {
        result: "1",
        message: Some(message.into()),
    }
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
/// `content_type` is the request's `Content-Type`, if any.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<CancelNotice, String> {
    let is_json = content_type.is_some_and(|v| v.starts_with("application/json"));
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

impl CancelNotice {
    /// The notification as stored with the cancellation (its fields as Daoway named them).
    pub fn payload(&self) -> String {
        json!({
            "channel": self.channel,
            "orderId": self.order_id,
            "consumedMoney": self.consumed.to_string(),
            "contactPerson": self.contact_person,
            "phone": self.phone,
            "reason": self.reason,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn reads_the_documented_fields() {
        let body = "channel=huimin&orderId=123&consumedMoney=23.4&contactPerson=%E5%BC%A0&phone=138&reason=%E6%97%B6%E9%97%B4%E5%86%B2%E7%AA%81";
        let n = parse(FORM, body.as_bytes()).unwrap();
        assert_eq!(n.channel, "huimin");
        assert_eq!(n.consumed, Money::from_fen(2340));
        assert_eq!(n.reason, "时间冲突");
    }

    #[test]
    fn refuses_partial_or_malformed() {
        assert!(parse(FORM, b"channel=huimin&orderId=1").is_err());
        assert!(
            parse(
                FORM,
                b"channel=huimin&orderId=1&consumedMoney=abc&contactPerson=a&phone=1&reason=r"
            )
            .is_err()
        );
        assert!(parse(JSON, b"{not json").is_err());
        assert!(parse(JSON, br#"{"channel":"c","orderId":"1","consumedMoney":"1","contactPerson":"a","phone":"1","reason":""}"#).is_ok());
    }
}
