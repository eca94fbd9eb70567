//! Reading an order 58 pushes to us: the form's system parameters, their signature and age,
//! and the `createOrder` business JSON, into a checked [`PushedOrder`] (the neutral
//! order-source value of `crate::providers::source`, re-exported here). Pure: nothing here
//! touches the database or HTTP, so the route (`crate::callbacks::daojia58`) can verify first
//! and write once.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{
    mapping::{china_time, integer, yuan},
    sign,
    wire::RawOrder,
};
use crate::domain::GeoPoint;
pub use crate::providers::source::{PushedLine, PushedOrder};

/// The largest clock difference accepted between 58's timestamp and ours.
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(10);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IntakeError {
    #[error("missing parameter {0}")]
    Missing(&'static str),
    #[error("signature mismatch")]
    BadSignature,
    #[error("unknown serviceKey")]
    WrongServiceKey,
    #[error("timestamp {0:?} is not yyyy-MM-dd HH:mm:ss")]
    BadTimestamp(String),
    #[error("timestamp is more than 10 minutes away from now")]
    Stale,
    #[error("funId {0:?} is not one we take")]
    UnknownFunction(String),
    #[error("daojiaJson: {0}")]
    Malformed(String),
}

/// What the intake checks pushes with.
pub struct IntakeConfig {
    pub service_key: String,
    pub service_secret: SecretString,
}

/// The form's fields (JSON objects of strings are read too). `content_type` is the request's
/// `Content-Type`, if any. A field given twice is refused: which one was signed is unclear.
pub fn fields(content_type: Option<&str>, body: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let is_json = content_type.is_some_and(|v| v.trim_start().starts_with("application/json"));
    if is_json {
        let map: serde_json::Map<String, Value> =
            serde_json::from_slice(body).map_err(|_| "body is not a JSON object".to_owned())?;
        return Ok(map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect());
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| "body is not a form".to_owned())?;
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(format!("parameter {k} given twice"));
        }
    }
    Ok(map)
}

/// Verifies and reads a push with `cfg`'s key and secret ([`read`]).
pub fn verify(
    cfg: &IntakeConfig,
    form: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<PushedOrder, IntakeError> {
    read(
        form,
        &cfg.service_key,
        cfg.service_secret.expose_secret(),
        now,
    )
}

fn required(form: &BTreeMap<String, String>, name: &'static str) -> Result<String, IntakeError> {
    form.get(name)
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .ok_or(IntakeError::Missing(name))
}

/// Verifies and reads a push. `form` is every field received.
pub fn read(
    form: &BTreeMap<String, String>,
    service_key: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<PushedOrder, IntakeError> {
    let given = required(form, "sign")?;
    for name in ["serviceKey", "nonce", "timestamp", "daojiaJson", "funId"] {
        required(form, name)?;
    }
    if !sign::verify(form, secret, &given) {
        return Err(IntakeError::BadSignature);
    }
    if form.get("serviceKey").map(String::as_str) != Some(service_key) {
        return Err(IntakeError::WrongServiceKey);
    }
    let ts = required(form, "timestamp")?;
    let at = china_time(&ts).ok_or_else(|| IntakeError::BadTimestamp(ts.clone()))?;
    if (now - at).abs() > MAX_SKEW {
        return Err(IntakeError::Stale);
    }
    let fun = required(form, "funId")?;
    if fun != "createOrder" {
        return Err(IntakeError::UnknownFunction(fun));
    }
    parse_order(&required(form, "daojiaJson")?)
}

/// Reads `createOrder`'s business JSON.
pub fn parse_order(json: &str) -> Result<PushedOrder, IntakeError> {
    let raw: RawOrder =
        serde_json::from_str(json).map_err(|e| IntakeError::Malformed(e.to_string()))?;
    let order_id = integer(&raw.order_id, "orderId").map_err(IntakeError::Malformed)?;
    if order_id <= 0 {
        return Err(IntakeError::Malformed("orderId must be positive".into()));
    }
    let text = |v: Option<String>, what: &str| {
        v.filter(|s| !s.trim().is_empty())
            .ok_or_else(|| IntakeError::Malformed(format!("{what} is required")))
    };
    let begin_text = text(raw.service_begin_time, "serviceBeginTime")?;
    let service_begin = china_time(&begin_text)
        .ok_or_else(|| IntakeError::Malformed(format!("serviceBeginTime {begin_text:?}")))?;
    let service_end = match raw.service_end_time.filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(t) => Some(
            china_time(&t)
                .ok_or_else(|| IntakeError::Malformed(format!("serviceEndTime {t:?}")))?,
        ),
    };
    let location = match (raw.lng, raw.lat) {
        (Some(lng), Some(lat)) => {
            let (Ok(lng), Ok(lat)) = (
                lng.to_string().parse::<f64>(),
                lat.to_string().parse::<f64>(),
            ) else {
                return Err(IntakeError::Malformed("lng/lat".into()));
            };
            GeoPoint::new(lng, lat)
        }
        _ => None,
    };
    let mut lines = Vec::with_capacity(raw.order_details.len());
    for (i, l) in raw.order_details.iter().enumerate() {
        let quantity = integer(&l.goods_number, &format!("orderDetails[{i}].goodsNumber"))
            .map_err(IntakeError::Malformed)?;
        let quantity = i32::try_from(quantity)
            .ok()
            .filter(|q| *q > 0)
            .ok_or_else(|| IntakeError::Malformed(format!("orderDetails[{i}].goodsNumber")))?;
        lines.push(PushedLine {
            goods_id: match &l.goods_id {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            quantity,
            unit_price: yuan(&l.goods_price, &format!("orderDetails[{i}].goodsPrice"))
                .map_err(IntakeError::Malformed)?,
        });
    }
    Ok(PushedOrder {
        order_id,
        status_code: super::status::BOOKING,
        user_mobile: text(raw.user_mobile, "userMobile")?,
        city_name: raw.city_name.unwrap_or_default(),
        location,
        service_address: text(raw.service_address, "serviceAddress")?,
        service_begin,
        service_end,
        total: yuan(&raw.total_price, "totalPrice").map_err(IntakeError::Malformed)?,
        remark: raw.remark.filter(|r| !r.trim().is_empty()),
        service_user_id: raw
            .service_user_id
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .filter(|s| !s.trim().is_empty() && s != "null"),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;

    const ORDER: &str = r#"{"orderId":31421593368511489,"userMobile":"13800000000","cityId":1,"cityName":"北京","lng":116.4,"lat":39.9,"serviceAddress":"朝阳区建国路88号","serviceBeginTime":"2026-11-24 10:00:00","serviceEndTime":"2026-11-24 12:00:00","serviceDuration":2,"totalPrice":120.50,"remark":"","serviceUserId":"","orderDetails":[{"goodsId":7,"goodsNumber":1,"goodsPrice":120.5}]}"#;

    fn form(json: &str, ts: &str, secret: &str) -> BTreeMap<String, String> {
        let mut f = BTreeMap::from([
            ("serviceKey".to_owned(), "k".to_owned()),
            ("nonce".to_owned(), "n1".to_owned()),
            ("timestamp".to_owned(), ts.to_owned()),
            ("daojiaJson".to_owned(), json.to_owned()),
            ("funId".to_owned(), "createOrder".to_owned()),
        ]);
        let s = sign::sign(&f, secret);
        f.insert("sign".into(), s);
        f
    }

    fn now() -> DateTime<Utc> {
        china_time("2026-11-23 20:00:00").unwrap()
    }

    #[test]
    fn reads_a_signed_push_exactly() {
        let o = read(&form(ORDER, "2026-11-23 20:01:00", "s"), "k", "s", now()).unwrap();
        assert_eq!(o.order_id, 31421593368511489, "above 2^53, exact");
        assert_eq!(o.total, Money::from_fen(12050));
        assert_eq!(o.lines[0].unit_price, Money::from_fen(12050));
        assert_eq!(o.lines[0].goods_id, "7");
        assert_eq!(o.service_begin.to_rfc3339(), "2026-11-24T02:00:00+00:00");
        assert_eq!(o.remark, None);
        assert_eq!(o.service_user_id, None);
    }

    #[test]
    fn refuses_what_does_not_verify() {
        let mut f = form(ORDER, "2026-11-23 20:01:00", "s");
        assert_eq!(
            read(&f, "k", "other", now()),
            Err(IntakeError::BadSignature)
        );
        assert_eq!(
            read(&f, "k2", "s", now()),
            Err(IntakeError::WrongServiceKey)
        );
        f.insert("daojiaJson".into(), ORDER.replace("120.50", "1.00"));
        assert_eq!(read(&f, "k", "s", now()), Err(IntakeError::BadSignature));
        let stale = form(ORDER, "2026-11-23 19:49:59", "s");
        assert_eq!(read(&stale, "k", "s", now()), Err(IntakeError::Stale));
        let ahead = form(ORDER, "2026-11-23 20:10:01", "s");
        assert_eq!(read(&ahead, "k", "s", now()), Err(IntakeError::Stale));
        let mut missing = form(ORDER, "2026-11-23 20:01:00", "s");
        missing.remove("nonce");
        assert_eq!(
            read(&missing, "k", "s", now()),
            Err(IntakeError::Missing("nonce"))
        );
        let bad = form("{not json", "2026-11-23 20:01:00", "s");
        assert!(matches!(
            read(&bad, "k", "s", now()),
            Err(IntakeError::Malformed(_))
        ));
        let sub_fen = form(
            &ORDER.replace("120.50", "1.005"),
            "2026-11-23 20:01:00",
            "s",
        );
        assert!(matches!(
            read(&sub_fen, "k", "s", now()),
            Err(IntakeError::Malformed(_))
        ));
    }
}
