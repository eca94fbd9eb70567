//! What WeChat posts to the mini-program's message-push URL, read and checked — no database,
//! no HTTP: the route calls these and decides what to store and what to answer.
//!
//! - **URL check** (GET, when the URL is configured): `signature` over `[Token, timestamp,
//!   nonce]`; we echo `echostr` ([`verify_url`]).
//! - **Pushes** (POST). Safe mode — which instant delivery requires — posts
//!   `{"ToUserName", "Encrypt"}` with `?…&encrypt_type=aes&msg_signature=…`; `msg_signature`
//!   covers `Encrypt`, which decrypts to the message and our appid. Plain mode posts the message
//!   itself, with `signature` over the query alone. [`parse_push`] reads the one event that
//!   matters here, `update_waybill_status`; any other event is [`PushError::NotWaybillEvent`],
//!   which the route should acknowledge.
//! - **Reply** ([`reply`]): the push's names swapped, `resultcode`/`resultmsg`, encrypted in
//!   safe mode as `{"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}`.
//!
//! Pushes are keyed on `shop_order_id` (our reference): WeChat's test company has been seen to
//! answer one waybill id at dispatch and push another. Pushes may repeat and arrive out of
//! order, so each carries a dedup key and the status's own time. No freshness window is
//! imposed on `timestamp`: nothing in WeChat's documents sets one, and retries of an old push
//! must still be accepted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rand::{Rng as _, distr::Alphanumeric};
use secrecy::{ExposeSecret, SecretString};

use super::{
    crypto::{self, AesKey, CryptoError},
    mapping, sign, wire,
};
use crate::{domain::OrderStatus, providers::delivery::Courier};

/// The event this module reads.
pub const WAYBILL_EVENT: &str = "update_waybill_status";

/// What the push route needs to check and answer pushes.
#[derive(Clone, Debug)]
pub struct PushConfig {
    /// The message-push Token.
    pub token: SecretString,
    /// The EncodingAESKey (43 characters).
    pub aes_key: SecretString,
    /// Our mini-program's appid, which every decrypted push must name.
    pub appid: String,
    pub safe_mode: bool,
}

/// An `update_waybill_status` push whose signature matched and whose status is known.
#[derive(Clone, Debug, PartialEq)]
pub struct WaybillPush {
    /// `ToUserName`: our mini-program (`gh_…`).
    pub to_user: String,
    /// `FromUserName`: WeChat's sender.
    pub from_user: String,
    /// Our reference for the order.
    pub shop_order_id: String,
    pub waybill_id: Option<String>,
    /// The company's appkey.
    pub shopid: Option<String>,
    pub shop_no: Option<String>,
    pub status_code: i64,
    pub status: OrderStatus,
    /// The status code as text, for the order's raw status.
    pub raw_status: String,
    pub action_time: DateTime<Utc>,
    pub action_msg: Option<String>,
    /// The rider (`agent`): name and phone.
    pub courier: Courier,
    /// When the rider expects to deliver, while delivering.
    pub reach_time: Option<DateTime<Utc>>,
    /// `shop_order_id:order_status:action_time`: a repeat of the same news has the same key.
    pub dedup_key: String,
}

/// Why a push was refused.
impl WaybillPush {
    /// The timeline's line for this status: what the code means, and WeChat's note if any.
    pub fn detail(&self) -> String {
        let what = mapping::describe(self.status_code);
        match &self.action_msg {
            Some(m) if !m.is_empty() => format!("{what} ({m})"),
            _ => what.to_owned(),
        }
    }

    /// WeChat's note, kept as the cancel reason when the status ends the delivery.
    pub fn cancel_reason(&self) -> Option<String> {
        self.status
            .is_terminal()
            .then(|| self.action_msg.clone())
            .flatten()
            .filter(|m| !m.is_empty())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The signature is missing or does not match.
    #[error("push signature does not match")]
    BadSignature,
    /// Not JSON, or a field missing or of the wrong type.
    #[error("malformed push: {0}")]
    Malformed(String),
    /// `Encrypt` does not decrypt with our key (or our key is not a valid EncodingAESKey).
    #[error("push does not decrypt: {0}")]
    Decrypt(String),
    /// The decrypted push names another appid.
    #[error("push is for another mini-program")]
    WrongApp,
    /// An `order_status` WeChat has not documented.
    #[error("unknown WeChat order status {0}")]
    UnknownStatus(i64),
    /// A valid push of another event (named here): acknowledge it, nothing to apply.
    #[error("push is not a waybill status update but {0:?}")]
    NotWaybillEvent(String),
}

fn malformed(detail: impl Into<String>) -> PushError {
    PushError::Malformed(detail.into())
}

fn param<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    query.get(name).map(String::as_str)
}

/// Whether `signature` is the signature of `[Token, timestamp, nonce]` in the query.
fn url_signature_ok(cfg: &PushConfig, query: &HashMap<String, String>) -> bool {
    match (
        param(query, "signature"),
        param(query, "timestamp"),
        param(query, "nonce"),
    ) {
        (Some(signature), Some(timestamp), Some(nonce)) => sign::signature_matches(
            &sign::url_signature(cfg.token.expose_secret(), timestamp, nonce),
            signature,
        ),
        _ => false,
    }
}

/// The URL check: `Some(echostr)` to echo when the signature matches, else `None`.
pub fn verify_url(cfg: &PushConfig, query: &HashMap<String, String>) -> Option<String> {
    let echostr = param(query, "echostr")?;
    url_signature_ok(cfg, query).then(|| echostr.to_owned())
}

/// Reads and verifies a push. Checks run in this order: signature, decryption and appid (safe
/// mode), JSON, event, required fields, known status.
pub fn parse_push(
    cfg: &PushConfig,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<WaybillPush, PushError> {
    let (message, outer_to) = if cfg.safe_mode {
        let (message, to) = open_safe_mode(cfg, query, body)?;
        (message, to)
    } else {
        if !url_signature_ok(cfg, query) {
            return Err(PushError::BadSignature);
        }
        let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
        (text.to_owned(), None)
    };
    let push: wire::WaybillStatusPush = serde_json::from_str(&message)
        .map_err(|e| malformed(format!("message is not an instant-delivery push ({e})")))?;
    read_waybill_push(push, outer_to)
}

/// Safe mode: `msg_signature` over `Encrypt`, then decryption and the appid. Returns the
/// message and the envelope's `ToUserName`.
fn open_safe_mode(
    cfg: &PushConfig,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<(String, Option<String>), PushError> {
    let envelope: wire::EncryptedPush = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v @ serde_json::Value::Object(_)) => {
            serde_json::from_value(v).map_err(|e| malformed(format!("envelope ({e})")))?
        }
        Ok(_) => return Err(malformed("body is not a JSON object")),
        Err(e) => return Err(malformed(format!("body is not JSON ({e})"))),
    };
    let encrypt = envelope
        .encrypt
        .ok_or_else(|| malformed("Encrypt missing (is the push URL in safe mode?)"))?;
    let (Some(msg_signature), Some(timestamp), Some(nonce)) = (
        param(query, "msg_signature"),
        param(query, "timestamp"),
        param(query, "nonce"),
    ) else {
        return Err(PushError::BadSignature);
    };
    let expected = sign::msg_signature(cfg.token.expose_secret(), timestamp, nonce, &encrypt);
    if !sign::signature_matches(&expected, msg_signature) {
        return Err(PushError::BadSignature);
    }
    let key = AesKey::from_encoding_key(cfg.aes_key.expose_secret())
        .map_err(|e| PushError::Decrypt(format!("our EncodingAESKey: {e}")))?;
    let (message, appid) =
        crypto::decrypt(&encrypt, &key).map_err(|e| PushError::Decrypt(e.to_string()))?;
    if appid != cfg.appid {
        return Err(PushError::WrongApp);
    }
    Ok((message, envelope.to_user_name))
}

/// Unix seconds, or milliseconds when the value is that large.
fn unix_time(value: i64, field: &str) -> Result<DateTime<Utc>, PushError> {
    let at = if value >= 1_000_000_000_000 {
        DateTime::from_timestamp_millis(value)
    } else if value >= 0 {
        DateTime::from_timestamp(value, 0)
    } else {
        None
    };
    at.ok_or_else(|| malformed(format!("{field} {value} is not a time")))
}

fn read_waybill_push(
    push: wire::WaybillStatusPush,
    outer_to: Option<String>,
) -> Result<WaybillPush, PushError> {
    let event = push.event.clone().unwrap_or_default();
    let is_event = push
        .msg_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("event"));
    // WeChat: "不区分大小写".
    if !is_event || !event.eq_ignore_ascii_case(WAYBILL_EVENT) {
        let name = if is_event || push.msg_type.is_none() {
            event
        } else {
            push.msg_type.unwrap_or_default()
        };
        return Err(PushError::NotWaybillEvent(name));
    }
    let shop_order_id = push
        .shop_order_id
        .ok_or_else(|| malformed("shop_order_id missing"))?;
    let status_code = push
        .order_status
        .ok_or_else(|| malformed("order_status missing"))?;
    let action_seconds = push
        .action_time
        .ok_or_else(|| malformed("action_time missing"))?;
    let status = mapping::status(status_code).ok_or(PushError::UnknownStatus(status_code))?;
    let action_time = unix_time(action_seconds, "action_time")?;
    let agent = push.agent.unwrap_or_default();
    let reach_time = match agent.reach_time.filter(|t| *t > 0) {
        Some(t) => Some(unix_time(t, "agent.reach_time")?),
        None => None,
    };
    Ok(WaybillPush {
        to_user: push.to_user_name.or(outer_to).unwrap_or_default(),
        from_user: push.from_user_name.unwrap_or_default(),
        dedup_key: format!("{shop_order_id}:{status_code}:{action_seconds}"),
        shop_order_id,
        waybill_id: push.waybill_id,
        shopid: push.shopid,
        shop_no: push.shop_no,
        status_code,
        status,
        raw_status: status_code.to_string(),
        action_time,
        action_msg: push.action_msg,
        courier: Courier {
            id: None,
            name: agent.name,
            phone: agent.phone,
            position: None,
        },
        reach_time,
    })
}

/// Our answer to a push: `push_to` / `push_from` are the push's `ToUserName` /
/// `FromUserName` (swapped here); `resultcode` 0 means accepted. Encrypted in safe mode; should
/// our EncodingAESKey be unusable (which [`super::WechatAdapter::new`] refuses), the plain
/// reply is returned and the fault logged.
pub fn reply(
    cfg: &PushConfig,
    push_to: &str,
    push_from: &str,
    resultcode: i64,
    resultmsg: &str,
) -> String {
    let mut rng = rand::rng();
    // Printable, as WeChat's own SDKs make it.
    let mut random16 = [0u8; 16];
    for b in &mut random16 {
        *b = rng.sample(Alphanumeric);
    }
    let nonce = rng
        .random_range(100_000_000u64..10_000_000_000u64)
        .to_string();
    let now = Utc::now().timestamp();
    reply_with(
        cfg, push_to, push_from, resultcode, resultmsg, now, &nonce, &random16,
    )
}

#[allow(clippy::too_many_arguments)]
fn reply_with(
    cfg: &PushConfig,
    push_to: &str,
    push_from: &str,
    resultcode: i64,
    resultmsg: &str,
    now: i64,
    nonce: &str,
    random16: &[u8; 16],
) -> String {
    let plain = serde_json::to_string(&wire::PushReply {
        to_user_name: push_from,
        from_user_name: push_to,
        create_time: now,
        msg_type: "event",
        event: WAYBILL_EVENT,
        resultcode,
        resultmsg,
    })
    // A struct of strings and integers always serialises.
    .unwrap_or_default();
    if !cfg.safe_mode {
        return plain;
    }
    match seal(cfg, &plain, now, nonce, random16) {
        Ok(sealed) => sealed,
        Err(e) => {
            tracing::error!(error = %e, "wechat push reply: cannot encrypt, answering in plain text");
            plain
        }
    }
}

/// The safe-mode envelope of `message`: `{"Encrypt","MsgSignature","TimeStamp","Nonce"}`.
fn seal(
    cfg: &PushConfig,
    message: &str,
    timestamp: i64,
    nonce: &str,
    random16: &[u8; 16],
) -> Result<String, CryptoError> {
    let key = AesKey::from_encoding_key(cfg.aes_key.expose_secret())?;
    let encrypt = crypto::encrypt(message, &cfg.appid, &key, random16)?;
    let msg_signature = sign::msg_signature(
        cfg.token.expose_secret(),
        &timestamp.to_string(),
        nonce,
        &encrypt,
    );
    Ok(serde_json::to_string(&wire::EncryptedReply {
        encrypt: &encrypt,
        msg_signature: &msg_signature,
        timestamp,
        nonce,
    })
    .unwrap_or_default())
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;
