//! What Dada pushes to us, read and checked — no database, no HTTP: the route that receives a
//! push calls these and decides what to store.
//!
//! - **Status callbacks** (to each order's `callback` URL, on every status change) carry a
//!   signature over `client_id`, `order_id` and `update_time`. It uses no secret, so it proves
//!   the three fields were not altered, not who sent them: pair it with an allow-list of
//!   Dada's addresses and with the order being one of ours. The fields are verified exactly as
//!   received (a number in its JSON text), since that is what Dada signed.
//! - **Messages** (to the merchant's message URL): message type 1 is a courier asking to
//!   cancel, answered later with `/api/message/confirm`.
//!
//! Both want an HTTP 200 with [`ACK`]; anything else makes Dada retry.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{
    mapping, sign,
    wire::{self, value_int, value_text},
};
use crate::{domain::OrderStatus, providers::delivery::Courier};

/// The reply that stops Dada from retrying a push.
pub const ACK: &str = r#"{"status":"ok"}"#;

/// The per-order token that makes each order's callback URL unguessable (Dada's signature has
/// no secret, and the order id is readable over our API): an HMAC-SHA256 of the order's
/// `origin_id` under our app secret, as the URL's last segment. A status callback is taken
/// only on its order's own URL.
#[derive(Clone)]
pub struct CallbackTokens {
    key: secrecy::SecretString,
}

/// Hex characters of the token kept in the URL (128 bits).
const TOKEN_HEX: usize = 32;
/// What each token is for, so one can never stand in for the other.
const STATUS: &[u8] = b"orderhub/dada/status-callback/";
const MESSAGE: &[u8] = b"orderhub/dada/message/";

impl CallbackTokens {
    pub fn new(key: secrecy::SecretString) -> Self {
        Self { key }
    }

    fn mac(&self, purpose: &[u8], subject: &str) -> hmac::Hmac<Sha256> {
        use hmac::Mac as _;
        use secrecy::ExposeSecret as _;
        let mut mac = <hmac::Hmac<Sha256> as hmac::KeyInit>::new_from_slice(
            self.key.expose_secret().as_bytes(),
        )
        .expect("HMAC takes a key of any length");
        mac.update(purpose);
        mac.update(subject.as_bytes());
        mac
    }

    fn hex(mac: hmac::Hmac<Sha256>) -> String {
        use hmac::Mac as _;
        let mut hex = hex::encode(mac.finalize().into_bytes());
        hex.truncate(TOKEN_HEX);
        hex
    }

    fn check(mac: hmac::Hmac<Sha256>, token: &str) -> bool {
        use hmac::Mac as _;
        let Ok(bytes) = hex::decode(token) else {
            return false;
        };
        bytes.len() * 2 == TOKEN_HEX && mac.verify_truncated_left(&bytes).is_ok()
    }

    /// The token of `origin_id`'s callback URL.
    pub fn token(&self, origin_id: &str) -> String {
        Self::hex(self.mac(STATUS, origin_id))
    }

    /// Whether `token` is `origin_id`'s (compared in constant time).
    pub fn verify(&self, origin_id: &str, token: &str) -> bool {
        Self::check(self.mac(STATUS, origin_id), token)
    }

    /// The token of the message URL (one for all, registered in Dada's console).
    pub fn message_token(&self) -> String {
        Self::hex(self.mac(MESSAGE, ""))
    }

    /// Whether `token` is the message URL's (compared in constant time).
    pub fn verify_message(&self, token: &str) -> bool {
        Self::check(self.mac(MESSAGE, ""), token)
    }
}

impl std::fmt::Debug for CallbackTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackTokens(..)")
    }
}

/// A status callback whose signature matched and whose status is known.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusCallback {
    /// Dada's waybill number; `""` when there is none (status 1000).
    pub client_id: String,
    /// Our `origin_id` (Dada calls it `order_id`).
    pub origin_id: String,
    pub status_code: i64,
    pub status: OrderStatus,
    /// The status code as text, for the order's raw status.
    pub raw_status: String,
    pub cancel_reason: Option<String>,
    /// 1 courier, 2 merchant, 3 Dada or the system; 0 when not cancelled.
    pub cancel_from: Option<i64>,
    /// As received, for deduplication.
    pub update_time: String,
    pub occurred_at: DateTime<Utc>,
    pub courier: Courier,
    pub finish_code: Option<String>,
    /// Identifies this news: a repeat of the same callback has the same key.
    pub dedup_key: String,
}

/// Why a push was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Not JSON, or a field missing or of the wrong type.
    #[error("malformed push: {0}")]
    Malformed(String),
    /// The signature does not match the fields (or is missing).
    #[error("callback signature does not match")]
    BadSignature,
    /// A status code Dada has not documented.
    #[error("unknown Dada order status {0}")]
    UnknownStatus(i64),
}

fn malformed(detail: impl Into<String>) -> CallbackError {
    CallbackError::Malformed(detail.into())
}

fn object(body: &[u8]) -> Result<Map<String, Value>, CallbackError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed("body is not a JSON object")),
        Err(e) => Err(malformed(format!("body is not JSON ({e})"))),
    }
}

/// A field as text exactly as sent: a string untouched, a number in its JSON form; `None` when
/// absent or `null`.
fn raw_text(map: &Map<String, Value>, name: &str) -> Result<Option<String>, CallbackError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => value_text(v)
            .map(Some)
            .ok_or_else(|| malformed(format!("{name} is neither text nor a number"))),
    }
}

/// An optional text field where `""` means absent.
fn opt_text(map: &Map<String, Value>, name: &str) -> Result<Option<String>, CallbackError> {
    Ok(raw_text(map, name)?.filter(|s| !s.trim().is_empty()))
}

/// Unix seconds, or milliseconds when the value is that large (Dada sends ms for status 1000);
/// a China-time `YYYY-MM-DD HH:MM:SS` is accepted too.
fn occurred_at(update_time: &str) -> Result<DateTime<Utc>, CallbackError> {
    let text = update_time.trim();
    let bad = || malformed(format!("update_time {update_time:?} is not a time"));
    if let Ok(n) = text.parse::<i64>() {
        let at = if n >= 1_000_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else if n >= 0 {
            DateTime::from_timestamp(n, 0)
        } else {
            None
        };
        return at.ok_or_else(bad);
    }
    mapping::china_time(Some(text))
        .ok()
        .flatten()
        .ok_or_else(bad)
}

/// Reads and verifies a status callback. Checks run in this order: JSON object, required
/// fields (`order_id`, `order_status`, `update_time`), signature, known status.
pub fn parse_status_callback(body: &[u8]) -> Result<StatusCallback, CallbackError> {
    let map = object(body)?;
    // `client_id` may be "" (and some senders leave it out); it is signed as "" then.
    let client_id = raw_text(&map, "client_id")?.unwrap_or_default();
    let origin_id = raw_text(&map, "order_id")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("order_id missing"))?;
    let status_code = match map.get("order_status") {
        None | Some(Value::Null) => return Err(malformed("order_status missing")),
        Some(v) => {
            value_int(v).ok_or_else(|| malformed(format!("order_status {v} is not a code")))?
        }
    };
    let update_time = raw_text(&map, "update_time")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("update_time missing"))?;
    let signature = raw_text(&map, "signature")?.unwrap_or_default();
    if !sign::verify_callback(&client_id, &origin_id, &update_time, &signature) {
        return Err(CallbackError::BadSignature);
    }
    let status = mapping::status(status_code).ok_or(CallbackError::UnknownStatus(status_code))?;
    let occurred_at = occurred_at(&update_time)?;
    let cancel_from = match map.get("cancel_from") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => Some(value_int(v).ok_or_else(|| malformed(format!("cancel_from {v}")))?),
    };
    let courier = Courier {
        // 0 is what Dada sends before anyone accepted.
        id: opt_text(&map, "dm_id")?.filter(|id| id != "0"),
        name: opt_text(&map, "dm_name")?,
        phone: opt_text(&map, "dm_mobile")?,
        position: None,
    };
    Ok(StatusCallback {
        dedup_key: format!("{origin_id}:{status_code}:{update_time}:{client_id}"),
        raw_status: status_code.to_string(),
        cancel_reason: opt_text(&map, "cancel_reason")?,
        finish_code: opt_text(&map, "finish_code")?,
        client_id,
        origin_id,
        status_code,
        status,
        cancel_from,
        update_time,
        occurred_at,
        courier,
    })
}

/// A message pushed to the merchant's message URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DadaMessage {
    /// Type 1: a courier asks to cancel; answer with
    /// [`CourierNetwork::answer_courier_cancellation`](crate::providers::delivery::CourierNetwork::answer_courier_cancellation).
    CourierCancelRequest {
        origin_id: String,
        /// Dada's waybill number; `""` when the message leaves it out (it is optional).
        dada_order_id: String,
        reason: Option<String>,
    },
    /// Any other type (4 = a shop's status changed), kept as its JSON text.
    Other { message_type: i64, body: String },
}

/// Reads `{"messageType": N, "messageBody": "<JSON string>"}`. `messageBody` is documented as a
/// string holding JSON; an object in its place is accepted too.
pub fn parse_message(body: &[u8]) -> Result<DadaMessage, CallbackError> {
    let map = object(body)?;
    let message_type = match map.get("messageType") {
        None | Some(Value::Null) => return Err(malformed("messageType missing")),
        Some(v) => value_int(v).ok_or_else(|| malformed(format!("messageType {v}")))?,
    };
    let body = match map.get("messageBody") {
        Some(Value::String(s)) => s.clone(),
        Some(v @ Value::Object(_)) => v.to_string(),
        None | Some(Value::Null) => return Err(malformed("messageBody missing")),
        Some(v) => return Err(malformed(format!("messageBody {v} is not JSON text"))),
    };
    if message_type != 1 {
        return Ok(DadaMessage::Other { message_type, body });
    }
    let request: wire::CourierCancelRequest = serde_json::from_str(&body)
        .map_err(|e| malformed(format!("messageBody is not a cancel request ({e})")))?;
    Ok(DadaMessage::CourierCancelRequest {
        origin_id: request
            .order_id
            .ok_or_else(|| malformed("messageBody.orderId missing"))?,
        dada_order_id: request.dada_order_id.unwrap_or_default(),
        reason: request.cancel_reason,
    })
}

impl StatusCallback {
    /// The timeline's line for this status: what the code means, and who cancelled and why.
    pub fn detail(&self) -> String {
        let what = mapping::describe(self.status_code);
        match (self.cancel_reason(), self.cancel_from) {
            (Some(r), Some(from)) => format!("{what} (cancelled by {}: {r})", cancel_party(from)),
            _ => what.to_owned(),
        }
    }

    /// The cancel reason, when Dada gave a non-blank one.
    pub fn cancel_reason(&self) -> Option<String> {
        self.cancel_reason.clone().filter(|r| !r.trim().is_empty())
    }
}

/// Who `cancel_from` says cancelled.
fn cancel_party(from: i64) -> &'static str {
    match from {
        1 => "the courier",
        2 => "the merchant",
        3 => "Dada",
        _ => "unknown",
    }
}

/// The dedup key of a courier's cancel request. The message carries no id of its own, so the
/// key covers the body too: a repeat of the same push is one request, a new request another.
pub fn cancel_request_key(origin_id: &str, dada_order_id: &str, body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!(
        "message:1:{origin_id}:{dada_order_id}:{}",
        hex::encode(&digest[..12])
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn callback_tokens_are_per_order_and_checked() {
        let tokens = CallbackTokens::new("app-secret".to_owned().into());
        let t = tokens.token("OH-1");
        assert_eq!(t.len(), 32);
        assert!(tokens.verify("OH-1", &t));
        assert!(!tokens.verify("OH-2", &t), "another order's token");
        assert!(!tokens.verify("OH-1", &t[..30]));
        assert!(!tokens.verify("OH-1", "not hex at all"));
        let other = CallbackTokens::new("another-secret".to_owned().into());
        assert_ne!(other.token("OH-1"), t, "the secret decides");
        let m = tokens.message_token();
        assert!(tokens.verify_message(&m));
        assert!(!tokens.verify_message(&t) && !tokens.verify("", &m));
    }

    fn parse(v: Value) -> Result<StatusCallback, CallbackError> {
        parse_status_callback(v.to_string().as_bytes())
    }

    /// The second published vector, as a full callback.
    fn good() -> Value {
        json!({
            "client_id": "1357061741749469184",
            "order_id": "Cu16538768403935339353",
            "order_status": 2,
            "repeat_reason_type": 0,
            "cancel_reason": "",
            "cancel_from": 0,
            "update_time": 1653876860,
            "signature": "2b3aa825562bcea9471fe860b3f8a8fa",
            "dm_id": 666,
            "dm_name": "达达骑手",
            "dm_mobile": "13546670420",
            "finish_code": ""
        })
    }

    #[test]
    fn reads_a_signed_callback() {
        let c = parse(good()).unwrap();
        assert_eq!(c.origin_id, "Cu16538768403935339353");
        assert_eq!(c.client_id, "1357061741749469184");
        assert_eq!(c.status_code, 2);
        assert_eq!(c.status, OrderStatus::Accepted);
        assert_eq!(c.raw_status, "2");
        assert_eq!(c.update_time, "1653876860");
        assert_eq!(c.occurred_at, Utc.timestamp_opt(1_653_876_860, 0).unwrap());
        assert_eq!(c.courier.id.as_deref(), Some("666"));
        assert_eq!(c.courier.name.as_deref(), Some("达达骑手"));
        assert_eq!(c.cancel_reason, None);
        assert_eq!(c.cancel_from, Some(0));
        assert_eq!(c.finish_code, None);
        assert_eq!(
            c.dedup_key,
            "Cu16538768403935339353:2:1653876860:1357061741749469184"
        );
    }

    #[test]
    fn update_time_as_string_or_number_signs_the_same() {
        let mut v = good();
        v["update_time"] = json!("1653876860");
        let c = parse(v).unwrap();
        assert_eq!(c.update_time, "1653876860");
        assert_eq!(c.dedup_key, parse(good()).unwrap().dedup_key);
    }

    #[test]
    fn first_vector_with_empty_client_id() {
        let c = parse(json!({
            "client_id": "", "order_id": "12321", "order_status": 1,
            "update_time": 1482220973, "signature": "7a177ae4b1cf63d13261580e4f721cb9",
            "dm_id": 0, "dm_name": "", "dm_mobile": ""
        }))
        .unwrap();
        assert_eq!(c.status, OrderStatus::Pending);
        assert_eq!(c.courier, Courier::default());
    }

    #[test]
    fn milliseconds_for_status_1000() {
        let c = parse(json!({
            "client_id": "", "order_id": "ORDER-1", "order_status": 1000,
            "update_time": 1700000000123_i64, "signature": "0f31f9cc14c43cf8687b51bdff85f90e"
        }))
        .unwrap();
        assert_eq!(c.status, OrderStatus::Failed);
        assert_eq!(
            c.occurred_at,
            Utc.timestamp_millis_opt(1_700_000_000_123).unwrap()
        );
    }

    #[test]
    fn tampering_is_caught() {
        for (field, value) in [
            ("order_id", json!("Cu16538768403935339354")),
            ("client_id", json!("1357061741749469185")),
            ("update_time", json!(1653876861)),
            ("signature", json!("00000000000000000000000000000000")),
        ] {
            let mut v = good();
            v[field] = value;
            assert_eq!(parse(v), Err(CallbackError::BadSignature), "{field}");
        }
        let mut v = good();
        v.as_object_mut().map(|m| m.remove("signature"));
        assert_eq!(parse(v), Err(CallbackError::BadSignature));
    }

    #[test]
    fn malformed_and_unknown() {
        let mut v = good();
        v.as_object_mut().map(|m| m.remove("order_id"));
        assert!(matches!(parse(v), Err(CallbackError::Malformed(_))));
        let mut v = good();
        v.as_object_mut().map(|m| m.remove("update_time"));
        assert!(matches!(parse(v), Err(CallbackError::Malformed(_))));
        assert!(matches!(
            parse_status_callback(b"not json"),
            Err(CallbackError::Malformed(_))
        ));
        assert!(matches!(
            parse_status_callback(b"[1]"),
            Err(CallbackError::Malformed(_))
        ));
        let mut v = good();
        v["order_status"] = json!(42);
        assert_eq!(parse(v), Err(CallbackError::UnknownStatus(42)));
    }

    #[test]
    fn courier_cancel_message_as_string_or_object() {
        let inner =
            r#"{"orderId":"A1","dadaOrderId":277073797294677,"cancelReason":"骑士临时有事"}"#;
        let expected = DadaMessage::CourierCancelRequest {
            origin_id: "A1".into(),
            dada_order_id: "277073797294677".into(),
            reason: Some("骑士临时有事".into()),
        };
        let as_string = json!({"messageType": 1, "messageBody": inner}).to_string();
        assert_eq!(parse_message(as_string.as_bytes()), Ok(expected.clone()));
        let as_object = format!(r#"{{"messageType":"1","messageBody":{inner}}}"#);
        assert_eq!(parse_message(as_object.as_bytes()), Ok(expected));
    }

    #[test]
    fn other_and_broken_messages() {
        let other = json!({"messageType": 4, "messageBody": "{\"shopNo\":\"1\"}"}).to_string();
        assert_eq!(
            parse_message(other.as_bytes()),
            Ok(DadaMessage::Other {
                message_type: 4,
                body: "{\"shopNo\":\"1\"}".into()
            })
        );
        let no_order = json!({"messageType": 1, "messageBody": "{\"cancelReason\":\"x\"}"});
        assert!(matches!(
            parse_message(no_order.to_string().as_bytes()),
            Err(CallbackError::Malformed(_))
        ));
        let not_json = json!({"messageType": 1, "messageBody": "{"});
        assert!(matches!(
            parse_message(not_json.to_string().as_bytes()),
            Err(CallbackError::Malformed(_))
        ));
        assert!(matches!(
            parse_message(br#"{"messageBody":"{}"}"#),
            Err(CallbackError::Malformed(_))
        ));
    }
}
