//! The intake route 58 pushes orders to. The push is verified (caller allow-list, signature,
//! timestamp) and read before anything is written; the order is written once (a repeat finds
//! the first) and only after the write commits is 58 told `received`. The work is one small
//! transaction, so the answer comes well inside 58's 3–5 s deadline.

use std::collections::BTreeMap;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::intake::{self, IntakeError};
use crate::AppState;

type Reply = (StatusCode, Json<Value>);

fn refuse(status: StatusCode, message: impl Into<String>) -> Reply {
    let message = message.into();
    tracing::warn!(%status, reason = %message, "58 push refused");
    metrics::counter!("orderhub_callbacks_total", "provider" => "DAOJIA58", "outcome" => "rejected")
        .increment(1);
    (
        status,
        Json(json!({ "code": status.as_u16(), "msg": message, "data": null })),
    )
}

/// The form's fields (JSON objects of strings are read too).
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
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

/// `POST /callbacks/daojia58/orders`.
#[tracing::instrument(skip_all, fields(provider = "DAOJIA58"))]
pub async fn orders(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    let Some(cfg) = state.daojia58_intake.as_deref() else {
        return refuse(StatusCode::NOT_FOUND, "58 Daojia is not enabled");
    };
    let form = match fields(&headers, &body) {
        Ok(f) => f,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    let pushed = match intake::read(
        &form,
        &cfg.service_key,
        cfg.service_secret.expose_secret(),
        Utc::now(),
    ) {
        Ok(p) => p,
        Err(e @ (IntakeError::BadSignature | IntakeError::WrongServiceKey)) => {
            return refuse(StatusCode::UNAUTHORIZED, e.to_string());
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let payload = form.get("daojiaJson").map_or("", String::as_str);
    match state.orders.take_in(&pushed, payload).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({
                "code": 200,
                "msg": "success",
                "data": { "order_id": pushed.order_id, "status": "received" }
            })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "58 push: write failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(
                    json!({ "code": 500, "msg": "temporary failure, please retry", "data": null }),
                ),
            )
        }
    }
}

/// What the intake checks pushes with.
pub struct IntakeConfig {
    pub service_key: String,
    pub service_secret: secrecy::SecretString,
}
