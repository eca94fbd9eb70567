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
mod tests {
    use chrono::TimeZone;
    use serde_json::{Value, json};

    use super::*;

    const APPID: &str = "wxba5fad812f8e6fb9";

    fn cfg(safe_mode: bool) -> PushConfig {
        PushConfig {
            token: SecretString::from("AAAAA".to_owned()),
            aes_key: SecretString::from("A".repeat(43)),
            appid: APPID.into(),
            safe_mode,
        }
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn waybill_message() -> Value {
        json!({
            "ToUserName": "gh_97417a04a28d",
            "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            "CreateTime": 1714112445,
            "MsgType": "event",
            "Event": "update_waybill_status",
            "shopid": "test_shop_id",
            "shop_order_id": "A1",
            "shop_no": "S1",
            "waybill_id": "test_waybill_id_A1",
            "action_time": 1714112440,
            "order_status": 102,
            "action_msg": "",
            "agent": {"name": "测试骑手", "phone": "13800000000", "reach_time": 0}
        })
    }

    /// A safe-mode push of `message` as WeChat would post it.
    fn sealed_push(
        message: &Value,
        timestamp: &str,
        nonce: &str,
    ) -> (HashMap<String, String>, Vec<u8>) {
        let key = AesKey::from_encoding_key(&"A".repeat(43)).unwrap();
        let encrypt =
            crypto::encrypt(&message.to_string(), APPID, &key, b"0123456789abcdef").unwrap();
        let msg_signature = sign::msg_signature("AAAAA", timestamp, nonce, &encrypt);
        let signature = sign::url_signature("AAAAA", timestamp, nonce);
        let q = query(&[
            ("signature", &signature),
            ("timestamp", timestamp),
            ("nonce", nonce),
            ("encrypt_type", "aes"),
            ("msg_signature", &msg_signature),
        ]);
        let body = json!({"ToUserName": "gh_97417a04a28d", "Encrypt": encrypt}).to_string();
        (q, body.into_bytes())
    }

    #[test]
    fn url_check_echoes_only_when_signed() {
        let good = query(&[
            ("signature", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
            ("echostr", "4375120948345356249"),
            ("timestamp", "1714036504"),
            ("nonce", "1514711492"),
        ]);
        assert_eq!(
            verify_url(&cfg(true), &good).as_deref(),
            Some("4375120948345356249")
        );
        let mut bad = good.clone();
        bad.insert("nonce".into(), "1514711493".into());
        assert_eq!(verify_url(&cfg(true), &bad), None);
        let mut no_echo = good.clone();
        no_echo.remove("echostr");
        assert_eq!(verify_url(&cfg(true), &no_echo), None);
        let mut no_sig = good;
        no_sig.remove("signature");
        assert_eq!(verify_url(&cfg(true), &no_sig), None);
    }

    #[test]
    fn official_safe_mode_push_verifies_and_decrypts_to_another_event() {
        let q = query(&[
            ("timestamp", "1714112445"),
            ("nonce", "415670741"),
            ("encrypt_type", "aes"),
            ("msg_signature", "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"),
        ]);
        let body = json!({
            "ToUserName": "gh_97417a04a28d",
            "Encrypt": "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
        })
        .to_string();
        assert_eq!(
            parse_push(&cfg(true), &q, body.as_bytes()),
            Err(PushError::NotWaybillEvent("debug_demo".into()))
        );
        let mut other_app = cfg(true);
        other_app.appid = "wx0000000000000000".into();
        assert_eq!(
            parse_push(&other_app, &q, body.as_bytes()),
            Err(PushError::WrongApp)
        );
    }

    #[test]
    fn safe_mode_waybill_push() {
        let (q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
        let p = parse_push(&cfg(true), &q, &body).unwrap();
        assert_eq!(p.shop_order_id, "A1");
        assert_eq!(p.waybill_id.as_deref(), Some("test_waybill_id_A1"));
        assert_eq!(p.shopid.as_deref(), Some("test_shop_id"));
        assert_eq!(p.shop_no.as_deref(), Some("S1"));
        assert_eq!(p.status_code, 102);
        assert_eq!(p.status, OrderStatus::Accepted);
        assert_eq!(p.raw_status, "102");
        assert_eq!(p.action_time, Utc.timestamp_opt(1_714_112_440, 0).unwrap());
        assert_eq!(p.action_msg, None);
        assert_eq!(p.courier.name.as_deref(), Some("测试骑手"));
        assert_eq!(p.courier.phone.as_deref(), Some("13800000000"));
        assert_eq!(p.reach_time, None);
        assert_eq!(p.to_user, "gh_97417a04a28d");
        assert_eq!(p.from_user, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
        assert_eq!(p.dedup_key, "A1:102:1714112440");
    }

    #[test]
    fn event_name_is_case_insensitive_and_numbers_may_be_strings() {
        let mut m = waybill_message();
        m["Event"] = json!("Update_Waybill_Status");
        m["order_status"] = json!("301");
        m["action_time"] = json!("1714112440");
        m["agent"]["reach_time"] = json!(1714113000);
        let (q, body) = sealed_push(&m, "1", "2");
        let p = parse_push(&cfg(true), &q, &body).unwrap();
        assert_eq!(p.status, OrderStatus::InProgress);
        assert_eq!(
            p.reach_time,
            Some(Utc.timestamp_opt(1_714_113_000, 0).unwrap())
        );
        assert_eq!(p.dedup_key, "A1:301:1714112440");
    }

    #[test]
    fn wrong_msg_signature_is_refused() {
        let (mut q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
        q.insert("msg_signature".into(), "0".repeat(40));
        assert_eq!(
            parse_push(&cfg(true), &q, &body),
            Err(PushError::BadSignature)
        );
        // The URL signature alone does not do in safe mode.
        q.remove("msg_signature");
        assert_eq!(
            parse_push(&cfg(true), &q, &body),
            Err(PushError::BadSignature)
        );
        // A replayed body under another timestamp.
        let (mut q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
        q.insert("timestamp".into(), "1714112446".into());
        assert_eq!(
            parse_push(&cfg(true), &q, &body),
            Err(PushError::BadSignature)
        );
    }

    #[test]
    fn tampered_encrypted_body_is_refused() {
        let (q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
        let mut envelope: Value = serde_json::from_slice(&body).unwrap();
        let encrypt = envelope["Encrypt"].as_str().unwrap().to_owned();
        // Swap one Base64 character: the signature no longer matches.
        let tampered = format!(
            "{}{}",
            if encrypt.starts_with('A') { "B" } else { "A" },
            &encrypt[1..]
        );
        envelope["Encrypt"] = json!(tampered);
        let tampered_body = envelope.to_string();
        assert_eq!(
            parse_push(&cfg(true), &q, tampered_body.as_bytes()),
            Err(PushError::BadSignature)
        );
        // Tampered and re-signed by someone with the Token but not the key: does not decrypt.
        let msg_signature = sign::msg_signature("AAAAA", "1714112445", "415670741", &tampered);
        let mut q2 = q.clone();
        q2.insert("msg_signature".into(), msg_signature);
        assert!(matches!(
            parse_push(&cfg(true), &q2, tampered_body.as_bytes()),
            Err(PushError::Decrypt(_) | PushError::Malformed(_))
        ));
        // Garbage in Encrypt, correctly signed.
        let garbage = "not base64 at all";
        let msg_signature = sign::msg_signature("AAAAA", "1714112445", "415670741", garbage);
        let mut q3 = q;
        q3.insert("msg_signature".into(), msg_signature);
        let body = json!({"ToUserName": "gh", "Encrypt": garbage}).to_string();
        assert!(matches!(
            parse_push(&cfg(true), &q3, body.as_bytes()),
            Err(PushError::Decrypt(_))
        ));
    }

    #[test]
    fn wrong_key_does_not_decrypt() {
        let (q, body) = sealed_push(&waybill_message(), "1714112445", "415670741");
        let mut other = cfg(true);
        other.aes_key = SecretString::from("B".repeat(43));
        assert!(matches!(
            parse_push(&other, &q, &body),
            Err(PushError::Decrypt(_) | PushError::Malformed(_) | PushError::WrongApp)
        ));
        let mut broken = cfg(true);
        broken.aes_key = SecretString::from("short".to_owned());
        assert!(matches!(
            parse_push(&broken, &q, &body),
            Err(PushError::Decrypt(_))
        ));
    }

    #[test]
    fn safe_mode_refuses_plain_bodies() {
        let q = query(&[
            ("signature", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
            ("timestamp", "1714037059"),
            ("nonce", "486452656"),
        ]);
        let body = waybill_message().to_string();
        assert!(matches!(
            parse_push(&cfg(true), &q, body.as_bytes()),
            Err(PushError::Malformed(_))
        ));
        assert!(matches!(
            parse_push(&cfg(true), &q, b"not json"),
            Err(PushError::Malformed(_))
        ));
    }

    #[test]
    fn plain_mode_push() {
        // The official plain-mode signature.
        let q = query(&[
            ("signature", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
            ("timestamp", "1714037059"),
            ("nonce", "486452656"),
        ]);
        let body = waybill_message().to_string();
        let p = parse_push(&cfg(false), &q, body.as_bytes()).unwrap();
        assert_eq!(p.status, OrderStatus::Accepted);
        let mut bad = q.clone();
        bad.insert(
            "signature".into(),
            "899cf89e464efb63f54ddac96b0a0a235f53aa79".into(),
        );
        assert_eq!(
            parse_push(&cfg(false), &bad, body.as_bytes()),
            Err(PushError::BadSignature)
        );
        let official = json!({
            "ToUserName": "gh_97417a04a28d", "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            "CreateTime": 1714037059, "MsgType": "event", "Event": "debug_demo",
            "debug_str": "hello world"
        })
        .to_string();
        assert_eq!(
            parse_push(&cfg(false), &q, official.as_bytes()),
            Err(PushError::NotWaybillEvent("debug_demo".into()))
        );
    }

    #[test]
    fn missing_fields_and_unknown_statuses() {
        let q = query(&[
            ("signature", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
            ("timestamp", "1714037059"),
            ("nonce", "486452656"),
        ]);
        let parse = |m: Value| parse_push(&cfg(false), &q, m.to_string().as_bytes());
        for field in ["shop_order_id", "order_status", "action_time"] {
            let mut m = waybill_message();
            m.as_object_mut().map(|o| o.remove(field));
            assert!(matches!(parse(m), Err(PushError::Malformed(_))), "{field}");
        }
        let mut m = waybill_message();
        m["order_status"] = json!(402);
        assert_eq!(parse(m), Err(PushError::UnknownStatus(402)));
        let mut m = waybill_message();
        m["order_status"] = json!("abc");
        assert!(matches!(parse(m), Err(PushError::Malformed(_))));
        let mut m = waybill_message();
        m["MsgType"] = json!("text");
        assert_eq!(parse(m), Err(PushError::NotWaybillEvent("text".into())));
        let mut m = waybill_message();
        m["action_time"] = json!(-5);
        assert!(matches!(parse(m), Err(PushError::Malformed(_))));
        let mut m = waybill_message();
        m.as_object_mut().map(|o| o.remove("agent"));
        assert_eq!(parse(m).map(|p| p.courier), Ok(Courier::default()));
    }

    #[test]
    fn official_reply_vector_seals_exactly() {
        let sealed = seal(
            &cfg(true),
            r#"{"demo_resp":"good luck"}"#,
            1_713_424_427,
            "415670741",
            b"707722b803182950",
        )
        .unwrap();
        let v: Value = serde_json::from_str(&sealed).unwrap();
        assert_eq!(
            v,
            json!({
                "Encrypt": "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==",
                "MsgSignature": "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1",
                "TimeStamp": 1713424427,
                "Nonce": "415670741"
            })
        );
    }

    #[test]
    fn replies_swap_the_names() {
        let plain = reply_with(
            &cfg(false),
            "gh_97417a04a28d",
            "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            0,
            "ok",
            1_714_112_445,
            "1",
            &[0; 16],
        );
        let v: Value = serde_json::from_str(&plain).unwrap();
        assert_eq!(
            v,
            json!({
                "ToUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
                "FromUserName": "gh_97417a04a28d",
                "CreateTime": 1714112445,
                "MsgType": "event",
                "Event": "update_waybill_status",
                "resultcode": 0,
                "resultmsg": "ok"
            })
        );

        // Safe mode: the same JSON inside, signed over the envelope's own timestamp and nonce.
        let sealed = reply(
            &cfg(true),
            "gh_97417a04a28d",
            "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            0,
            "ok",
        );
        let v: Value = serde_json::from_str(&sealed).unwrap();
        let encrypt = v["Encrypt"].as_str().unwrap();
        let timestamp = v["TimeStamp"].as_i64().unwrap().to_string();
        let nonce = v["Nonce"].as_str().unwrap();
        assert_eq!(
            v["MsgSignature"].as_str().unwrap(),
            sign::msg_signature("AAAAA", &timestamp, nonce, encrypt)
        );
        let key = AesKey::from_encoding_key(&"A".repeat(43)).unwrap();
        let (inner, appid) = crypto::decrypt(encrypt, &key).unwrap();
        assert_eq!(appid, APPID);
        let inner: Value = serde_json::from_str(&inner).unwrap();
        assert_eq!(inner["ToUserName"], json!("o9AgO5Kd5ggOC-bXrbNODIiE3bGY"));
        assert_eq!(inner["resultcode"], json!(0));

        // An unusable key falls back to the plain reply rather than failing.
        let mut broken = cfg(true);
        broken.aes_key = SecretString::from("short".to_owned());
        let fallback: Value = serde_json::from_str(&reply(&broken, "gh", "o", 1, "busy")).unwrap();
        assert_eq!(fallback["resultcode"], json!(1));
    }

    #[test]
    fn debug_hides_the_secrets() {
        let text = format!("{:?}", cfg(true));
        assert!(!text.contains("AAAAA"), "{text}");
    }
}
