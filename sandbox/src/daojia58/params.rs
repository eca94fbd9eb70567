//! Reading what callers send: the system parameters (a form or a JSON object of strings) and
//! the business fields inside `daojiaJson`, parsed by hand so that every problem becomes a
//! refusal naming the parameter instead of a generic decoding error, and nothing in a request
//! can panic.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::{
    error::{Reject, code},
    money,
};

/// 58's times are `yyyy-MM-dd HH:mm:ss` in GMT+8.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// GMT+8; evaluated at compile time, so the `panic!` can only ever fail the build.
pub const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// `t` as 58 writes times.
pub fn beijing_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&BEIJING).format(TIME_FORMAT).to_string()
}

/// A 58 time, `None` if it is not exactly `yyyy-MM-dd HH:mm:ss`.
pub fn parse_beijing_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok()?;
    // Round-tripping refuses what chrono would tolerate (single-digit fields, `T`).
    if naive.format(TIME_FORMAT).to_string() != text {
        return None;
    }
    naive
        .and_local_timezone(BEIJING)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// How the body was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    Form,
    Json,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Form => "form",
            BodyFormat::Json => "json",
        }
    }
}

/// The system parameters of one call, every value the exact string that was sent (and signed).
#[derive(Clone, Debug)]
pub struct SystemParams {
    pub format: BodyFormat,
    pub params: Vec<(String, String)>,
}

impl SystemParams {
    /// Reads a form (`application/x-www-form-urlencoded`) or JSON (`application/json`) body.
    /// In JSON every value must be a string (numbers are taken in their decimal form); a
    /// `daojiaJson` sent as an object is refused, because it would be signed differently by
    /// every client.
    pub fn read(headers: &HeaderMap, bytes: &[u8]) -> Result<Self, Reject> {
        let mime = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let (format, params) = match mime.as_deref() {
            Some("application/x-www-form-urlencoded") => (BodyFormat::Form, read_form(bytes)?),
            Some("application/json") => (BodyFormat::Json, read_json(bytes)?),
            _ => {
                return Err(Reject::with(
                    code::BAD_PARAMS,
                    "Content-Type须为application/x-www-form-urlencoded或application/json",
                ));
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        for (key, _) in &params {
            if !seen.insert(key.as_str()) {
                return Err(Reject::with(code::BAD_PARAMS, format!("参数{key}重复")));
            }
        }
        Ok(SystemParams { format, params })
    }

    /// The value of a parameter, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// A parameter that must be there.
    pub fn required(&self, name: &str) -> Result<&str, Reject> {
        self.get(name).ok_or_else(|| Reject::missing(name))
    }

    /// Borrowed pairs, for signing.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// The parameters as a map, for the record of a call.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.params.iter().cloned().collect()
    }
}

fn read_form(bytes: &[u8]) -> Result<Vec<(String, String)>, Reject> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .map_err(|_| Reject::with(code::BAD_PARAMS, "请求体不是合法的表单"))
}

fn read_json(bytes: &[u8]) -> Result<Vec<(String, String)>, Reject> {
    let map = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(Reject::with(code::BAD_PARAMS, "请求体必须是JSON对象"));
        }
    };
    let mut params = Vec::with_capacity(map.len());
    for (key, value) in map {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Object(_) | Value::Array(_) if key == "daojiaJson" => {
                return Err(Reject::with(code::BAD_PARAMS, "daojiaJson必须是JSON字符串"));
            }
            _ => return Err(Reject::format(&key)),
        };
        params.push((key, text));
    }
    Ok(params)
}

/// The business fields of one `daojiaJson`. SDKs are loose with types, so text accepts
/// numbers and integers accept digit strings; `null` and blank strings count as absent.
pub struct Fields(Map<String, Value>);

impl Fields {
    pub fn parse(daojia_json: &str) -> Result<Self, Reject> {
        match serde_json::from_str::<Value>(daojia_json) {
            Ok(Value::Object(map)) => Ok(Fields(map)),
            _ => Err(Reject::with(code::BAD_PARAMS, "daojiaJson必须是JSON对象")),
        }
    }

    pub fn from_map(map: Map<String, Value>) -> Self {
        Fields(map)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        match self.0.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(v),
        }
    }

    /// Text from a string or a number, trimmed.
    pub fn text(&self, name: &str) -> Result<Option<String>, Reject> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Reject::format(name)),
        }
    }

    /// Text that must be there, at most `max` characters.
    pub fn required_text(&self, name: &str, max: usize) -> Result<String, Reject> {
        let text = self.text(name)?.ok_or_else(|| Reject::missing(name))?;
        check_len(name, &text, max)?;
        Ok(text)
    }

    /// Optional text of at most `max` characters.
    pub fn optional_text(&self, name: &str, max: usize) -> Result<Option<String>, Reject> {
        let text = self.text(name)?;
        if let Some(text) = &text {
            check_len(name, text, max)?;
        }
        Ok(text)
    }

    /// An exact integer: a JSON integer or a string of digits. A float is refused even when it
    /// has no fraction, because 58's order ids exceed 2^53 and a double has already lost them.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Reject> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| Reject::format(name)),
            Some(Value::String(s)) => {
                let s = s.trim();
                let digits = s.strip_prefix('-').unwrap_or(s);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Reject::format(name));
                }
                s.parse().map(Some).map_err(|_| Reject::format(name))
            }
            Some(_) => Err(Reject::format(name)),
        }
    }

    /// A 0/1 switch.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, Reject> {
        match self.int(name)? {
            None => Ok(None),
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            Some(_) => Err(Reject::with(
                code::BAD_PARAMS,
                format!("参数{name}只能是0或1"),
            )),
        }
    }

    /// A yuan amount in fen.
    pub fn yuan(&self, name: &str) -> Result<Option<i64>, Reject> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => money::fen_from_json(v)
                .map(Some)
                .ok_or_else(|| Reject::format(name)),
        }
    }

    /// The raw value.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

fn check_len(name: &str, text: &str, max: usize) -> Result<(), Reject> {
    if text.chars().count() > max {
        return Err(Reject::with(
            code::BAD_PARAMS,
            format!("参数{name}不能超过{max}个字符"),
        ));
    }
    Ok(())
}

/// A mainland mobile number: 11 digits, `1` then `3`–`9`.
pub fn is_mobile(text: &str) -> bool {
    matches!(
        text.as_bytes(),
        [b'1', b'3'..=b'9', rest @ ..] if rest.len() == 9 && rest.iter().all(u8::is_ascii_digit)
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        headers
    }

    #[test]
    fn form_and_json_bodies() {
        let form = SystemParams::read(
            &headers("application/x-www-form-urlencoded; charset=UTF-8"),
            b"serviceKey=1&daojiaJson=%7B%22a%22%3A1%7D&format=json",
        );
        let Ok(form) = form else { panic!("form") };
        assert_eq!(form.format, BodyFormat::Form);
        assert_eq!(form.get("daojiaJson"), Some(r#"{"a":1}"#));
        let json = SystemParams::read(
            &headers("application/json"),
            br#"{"serviceKey":2801209652,"daojiaJson":"{}","x":null}"#,
        );
        let Ok(json) = json else { panic!("json") };
        assert_eq!(json.get("serviceKey"), Some("2801209652"));
        assert_eq!(json.get("x"), None);
    }

    #[test]
    fn body_refusals() {
        let code_of =
            |ct: &str, body: &[u8]| SystemParams::read(&headers(ct), body).err().map(|r| r.code);
        assert_eq!(code_of("text/plain", b"a=1"), Some(code::BAD_PARAMS));
        assert_eq!(code_of("application/json", b"[1]"), Some(code::BAD_PARAMS));
        assert_eq!(code_of("application/json", b"{"), Some(code::BAD_PARAMS));
        assert_eq!(
            code_of("application/json", br#"{"daojiaJson":{"orderId":1}}"#),
            Some(code::BAD_PARAMS)
        );
        assert_eq!(
            code_of("application/x-www-form-urlencoded", b"a=1&a=2"),
            Some(code::BAD_PARAMS)
        );
    }

    #[test]
    fn loose_fields() {
        let Ok(f) = Fields::parse(
            r#"{"a":31421593368511489,"b":"31421593368511489","c":3.1e16,"d":" ","e":"12.50","f":"1","g":[1]}"#,
        ) else {
            panic!("parse")
        };
        assert_eq!(f.int("a").ok().flatten(), Some(31_421_593_368_511_489));
        assert_eq!(f.int("b").ok().flatten(), Some(31_421_593_368_511_489));
        assert!(f.int("c").is_err());
        assert_eq!(f.text("d").ok().flatten(), None);
        assert_eq!(f.yuan("e").ok().flatten(), Some(1250));
        assert_eq!(f.flag("f").ok().flatten(), Some(true));
        assert!(f.text("g").is_err());
        assert!(Fields::parse("[]").is_err());
    }

    #[test]
    fn times_and_phones() {
        let t = parse_beijing_time("2016-01-10 10:00:00");
        assert_eq!(
            t.map(|t| t.to_rfc3339()).as_deref(),
            Some("2016-01-10T02:00:00+00:00")
        );
        assert!(parse_beijing_time("2016-1-10 10:00:00").is_none());
        assert!(parse_beijing_time("2016-01-10T10:00:00").is_none());
        assert!(parse_beijing_time("1452391200").is_none());
        if let Some(t) = t {
            assert_eq!(beijing_time(t), "2016-01-10 10:00:00");
        }
        assert!(is_mobile("13800138000"));
        assert!(!is_mobile("12800138000"));
        assert!(!is_mobile("1380013800"));
        assert!(!is_mobile("1380013800a"));
    }
}
