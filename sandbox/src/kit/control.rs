//! Helpers for the control routes under `/_control` that every sandbox has: the refusal shape
//! (`{"error": "…"}`, plus the platform's `code` when one of its rules refused), JSON bodies that
//! may be left out, "present" keys for patches, and the faults view.
//!
//! Control routes are the sandbox's own, not the platform's, so they may look the same in all
//! four; they are never faulted.

use chrono::{DateTime, Utc};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::faults::Faults;

/// A control-route refusal.
pub struct Refusal {
    pub status: StatusCode,
    pub error: String,
    /// The platform's code, when a platform rule refused.
    pub code: Option<i64>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = match self.code {
            Some(code) => json!({ "error": self.error, "code": code }),
            None => json!({ "error": self.error }),
        };
        (self.status, Json(body)).into_response()
    }
}

/// What a control route answers.
pub type Answer = Result<Response, Refusal>;

/// A refusal without a platform code.
pub fn refuse(status: StatusCode, error: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error: error.into(),
        code: None,
    }
}

/// A URL the control routes may make the simulator call: http(s) on this machine only, so a
/// control route can never turn the simulator into a client of anything else (it signs what it
/// sends with the platform's secrets).
pub fn loopback_url(url: &str) -> Result<(), Refusal> {
    let parsed = reqwest::Url::parse(url).map_err(|_| bad_request("url is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad_request("url must be an http(s) URL"));
    }
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(bad_request(
            "url must point at this machine (127.0.0.1, ::1 or localhost): the sandbox sends only to a local orderhub",
        ))
    }
}

/// 400 with `error`.
pub fn bad_request(error: impl Into<String>) -> Refusal {
    refuse(StatusCode::BAD_REQUEST, error)
}

/// A JSON body; an empty body reads as `{}` so optional bodies may be left out.
pub fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| bad_request(format!("bad JSON body: {e}")))
}

/// A present key, `null` included, as `Some`: tells "set to null" (or "disable") apart from
/// "leave as is". Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The body of an "age" route, `{"secs": N}`.
#[derive(Deserialize)]
struct AgeBody {
    secs: u64,
}

/// The `secs` of an "age" route's body.
pub fn age_secs(bytes: &[u8]) -> Result<u64, Refusal> {
    let AgeBody { secs } = body(bytes)?;
    Ok(secs)
}

/// `created_at` moved back by `secs`: 400 for an amount beyond the calendar.
pub fn aged(created_at: DateTime<Utc>, secs: u64) -> Result<DateTime<Utc>, Refusal> {
    crate::kit::clock::back_by(secs, created_at)
        .map(|delta| created_at - delta)
        .ok_or_else(|| bad_request("secs out of range"))
}

/// Ages the quote `key` (its `created_at`, `None` when there is no such quote) by `secs`, and
/// answers `{key_name: key, "createdAt": …}`.
pub fn age_quote(
    created_at: Option<&mut DateTime<Utc>>,
    secs: u64,
    key_name: &str,
    key: &str,
) -> Answer {
    let created_at =
        created_at.ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no quote {key}")))?;
    *created_at = aged(*created_at, secs)?;
    let mut answer = serde_json::Map::new();
    answer.insert(key_name.to_owned(), Value::from(key));
    answer.insert("createdAt".to_owned(), json!(*created_at));
    Ok(Json(answer).into_response())
}

/// A JSON array of `items`, each shown by `view`.
pub fn list<T>(items: impl IntoIterator<Item = T>, view: impl FnMut(T) -> Value) -> Response {
    Json(items.into_iter().map(view).collect::<Vec<Value>>()).into_response()
}

/// The shared faults plus the sandbox's own out-of-order rate, as `/_control/faults` shows and
/// takes them. Keys left out are 0.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultsView {
    #[serde(flatten)]
    pub faults: Faults,
    #[serde(default)]
    pub out_of_order_rate: f64,
}

impl FaultsView {
    /// The answer of `GET /_control/faults`.
    pub fn answer(faults: &Faults, out_of_order_rate: f64) -> Response {
        Json(FaultsView {
            faults: faults.clone(),
            out_of_order_rate,
        })
        .into_response()
    }

    /// The body of `PUT /_control/faults`, every rate checked to be within 0–1.
    pub fn parse(bytes: &[u8]) -> Result<Self, Refusal> {
        let view: FaultsView = body(bytes)?;
        view.faults.validate().map_err(bad_request)?;
        if !(0.0..=1.0).contains(&view.out_of_order_rate) {
            return Err(bad_request("outOfOrderRate must be between 0 and 1"));
        }
        Ok(view)
    }
}
