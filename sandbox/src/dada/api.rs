//! The platform's routes: envelope, authentication, signature, then the endpoint.
//!
//! Every route is a POST whose JSON envelope is checked in this order, the first failure
//! answering: `Content-Type` is JSON (1999); the HTTP body is JSON (2419) and an object (1994);
//! `app_key` present (1993), `timestamp` (2009), `signature` (2010), `body` (1995), `format`, `v`
//! and `source_id` keys present (1993); `app_key` known (2001); signature (2003); `format` is
//! `json` (1994); `v` is `1.0` (1996); `timestamp` an integer (1994, seconds or milliseconds, no
//! skew check, as none is known); `source_id` a registered merchant (2131 in the test
//! environment, 2002 otherwise), except on merchant registration; test-environment-only routes
//! refused with 2068 when the sandbox plays production. Only then is the business `body` read.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{OriginalUri, Request, State},
    http::{HeaderMap, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{
    Inner,
    error::{Reject, code, injected_fault, success},
    merchant, orders,
    sign::{self, SignedFields},
};
use crate::faults::RequestFault;

/// What a handler knows about the call besides its body.
pub struct Ctx<'a> {
    pub source_id: &'a str,
    /// `http://host/prefix` the sandbox is reached at, for links it hands out.
    pub base_url: &'a str,
    pub now: DateTime<Utc>,
}

/// A handler gets the business `body` string exactly as sent and answers `result`.
pub type Handler = fn(&Inner, &Ctx<'_>, &str) -> Result<Option<Value>, Reject>;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// A registered `source_id`.
    Merchant,
    /// Merchant registration: `source_id` is `""`.
    Registration,
    /// A registered `source_id`, and only in the test environment.
    TestOnly,
}

const ENDPOINTS: &[(&str, Scope, Handler)] = &[
    ("/api/order/addOrder", Scope::Merchant, orders::add_order),
    (
        "/api/order/reAddOrder",
        Scope::Merchant,
        orders::re_add_order,
    ),
    (
        "/api/order/queryDeliverFee",
        Scope::Merchant,
        orders::query_deliver_fee,
    ),
    (
        "/api/order/addAfterQuery",
        Scope::Merchant,
        orders::add_after_query,
    ),
    ("/api/order/addTip", Scope::Merchant, orders::add_tip),
    (
        "/api/order/status/query",
        Scope::Merchant,
        orders::status_query,
    ),
    (
        "/api/order/formalCancel",
        Scope::Merchant,
        orders::formal_cancel,
    ),
    (
        "/api/order/cancel/reasons",
        Scope::Merchant,
        orders::cancel_reasons,
    ),
    ("/api/order/appoint/exist", Scope::Merchant, orders::appoint),
    (
        "/api/order/appoint/cancel",
        Scope::Merchant,
        orders::appoint_cancel,
    ),
    (
        "/api/order/appoint/list/transporter",
        Scope::Merchant,
        orders::appoint_list,
    ),
    ("/api/complaint/dada", Scope::Merchant, orders::complaint),
    (
        "/api/complaint/reasons",
        Scope::Merchant,
        orders::complaint_reasons,
    ),
    (
        "/api/order/confirm/goods",
        Scope::Merchant,
        orders::confirm_goods,
    ),
    (
        "/api/order/transporter/position",
        Scope::Merchant,
        orders::transporter_position,
    ),
    (
        "/api/order/transporter/track",
        Scope::Merchant,
        orders::transporter_track,
    ),
    ("/api/cityCode/list", Scope::Merchant, merchant::city_list),
    (
        "/merchantApi/merchant/add",
        Scope::Registration,
        merchant::merchant_add,
    ),
    ("/api/shop/add", Scope::Merchant, merchant::shop_add),
    ("/api/shop/update", Scope::Merchant, merchant::shop_update),
    ("/api/shop/detail", Scope::Merchant, merchant::shop_detail),
    ("/api/recharge", Scope::Merchant, merchant::recharge),
    (
        "/api/balance/query",
        Scope::Merchant,
        merchant::balance_query,
    ),
    (
        "/api/message/confirm",
        Scope::Merchant,
        merchant::message_confirm,
    ),
    (
        "/api/order/accept",
        Scope::TestOnly,
        orders::simulate_accept,
    ),
    ("/api/order/fetch", Scope::TestOnly, orders::simulate_fetch),
    (
        "/api/order/finish",
        Scope::TestOnly,
        orders::simulate_finish,
    ),
    (
        "/api/order/cancel",
        Scope::TestOnly,
        orders::simulate_cancel,
    ),
    (
        "/api/order/expire",
        Scope::TestOnly,
        orders::simulate_expire,
    ),
    (
        "/api/order/delivery/abnormal/back",
        Scope::TestOnly,
        orders::simulate_abnormal_back,
    ),
];

pub(super) fn router(inner: Arc<Inner>) -> Router {
    let mut router = Router::new();
    for &(path, scope, handler) in ENDPOINTS {
        router = router.route(
            path,
            post(
                move |State(inner): State<Arc<Inner>>, OriginalUri(uri): OriginalUri, headers: HeaderMap, body: Bytes| async move {
                    let base_url = base_url(&headers, uri.path(), path);
                    match call(&inner, scope, handler, &headers, &body, &base_url) {
                        Ok(result) => {
                            // New callbacks or moves may be due now rather than at the next tick.
                            inner.wake.notify_one();
                            success(result)
                        }
                        Err(reject) => {
                            tracing::debug!(path, code = reject.code, msg = %reject.msg, "dada sandbox: refused");
                            reject.into_response()
                        }
                    }
                },
            ),
        );
    }
    router
        .route_layer(middleware::from_fn_with_state(inner.clone(), inject_faults))
        .with_state(inner)
}

/// Latency and injected errors, before a handler can touch state.
async fn inject_faults(State(inner): State<Arc<Inner>>, request: Request, next: Next) -> Response {
    let faults = inner.state().faults.clone();
    match faults.before_request().await {
        RequestFault::InjectError => injected_fault(),
        RequestFault::Proceed => next.run(request).await,
    }
}

/// `http://host` (or `https` behind a proxy that says so) plus whatever prefix the router is mounted under; only the path when there is
/// no `Host` (a test calling the router directly).
fn base_url(headers: &HeaderMap, original_path: &str, route: &str) -> String {
    let prefix = original_path.strip_suffix(route).unwrap_or("");
    let text = |name| {
        headers
            .get(name)
            .and_then(|h: &header::HeaderValue| h.to_str().ok())
    };
    // Behind a TLS-terminating proxy the link must say https, or a browser would be sent to
    // the wrong scheme.
    let scheme = match text("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    match text(header::HOST.as_str()) {
        Some(host) => format!("{scheme}://{host}{prefix}"),
        None => prefix.to_owned(),
    }
}

/// The envelope as sent, every signed field in the string form it is signed in.
struct Envelope {
    app_key: String,
    body: String,
    format: String,
    source_id: String,
    timestamp: String,
    v: String,
    signature: String,
}

fn call(
    inner: &Inner,
    scope: Scope,
    handler: Handler,
    headers: &HeaderMap,
    bytes: &[u8],
    base_url: &str,
) -> Result<Option<Value>, Reject> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Reject::of(code::CONTENT_TYPE));
    }
    let envelope = parse_envelope(bytes)?;
    if envelope.app_key != inner.app_key {
        return Err(Reject::of(code::INVALID_APP_KEY));
    }
    let fields = SignedFields {
        app_key: &envelope.app_key,
        body: &envelope.body,
        format: &envelope.format,
        source_id: &envelope.source_id,
        timestamp: &envelope.timestamp,
        v: &envelope.v,
    };
    if !sign::verify_request_signature(&inner.app_secret, &fields, &envelope.signature) {
        return Err(Reject::of(code::SIGNATURE_ERROR));
    }
    if envelope.format != "json" {
        return Err(Reject::format("format"));
    }
    if envelope.v != "1.0" {
        return Err(Reject::of(code::BAD_VERSION));
    }
    if envelope.timestamp.parse::<u64>().is_err() {
        return Err(Reject::format("timestamp"));
    }
    let now = Utc::now();
    if scope != Scope::Registration {
        let known = inner.state().merchants.contains_key(&envelope.source_id);
        if !known {
            return Err(Reject::of(if inner.test_environment {
                code::WRONG_TEST_SOURCE
            } else {
                code::SOURCE_NOT_BOUND
            }));
        }
    }
    if scope == Scope::TestOnly && !inner.test_environment {
        return Err(Reject::of(code::TEST_ONLY));
    }
    // The schedule is applied lazily too, so the sandbox is right even without its background
    // task (tests that drive the router directly).
    inner.state().advance(now);
    let ctx = Ctx {
        source_id: &envelope.source_id,
        base_url,
        now,
    };
    handler(inner, &ctx, &envelope.body)
}

fn parse_envelope(bytes: &[u8]) -> Result<Envelope, Reject> {
    let map: Map<String, Value> = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(Reject::with(code::BAD_FORMAT, "请求体必须是JSON对象")),
        Err(_) => return Err(Reject::of(code::BODY_NOT_JSON)),
    };
    let app_key = signed_text(&map, "app_key")?.filter(|s| !s.is_empty());
    let timestamp = signed_text(&map, "timestamp")?.filter(|s| !s.is_empty());
    let signature = signed_text(&map, "signature")?.filter(|s| !s.is_empty());
    let app_key = app_key.ok_or_else(|| Reject::empty("app_key"))?;
    let timestamp = timestamp.ok_or_else(|| Reject::of(code::TIMESTAMP_EMPTY))?;
    let signature = signature.ok_or_else(|| Reject::of(code::SIGNATURE_EMPTY))?;
    let body = match map.get("body") {
        None | Some(Value::Null) => return Err(Reject::of(code::BODY_NULL)),
        Some(Value::String(s)) => s.clone(),
        // The document is explicit that `body` is a JSON *string*; an embedded object would be
        // signed differently by every client, so it is refused rather than guessed at.
        Some(_) => return Err(Reject::with(code::BAD_FORMAT, "body必须是JSON字符串")),
    };
    let format = signed_text(&map, "format")?.ok_or_else(|| Reject::empty("format"))?;
    let v = signed_text(&map, "v")?.ok_or_else(|| Reject::empty("v"))?;
    let source_id = signed_text(&map, "source_id")?.ok_or_else(|| Reject::empty("source_id"))?;
    Ok(Envelope {
        app_key,
        body,
        format,
        source_id,
        timestamp,
        v,
        signature,
    })
}

/// An envelope field in its signed form: a string exactly as sent, a number in decimal.
fn signed_text(map: &Map<String, Value>, name: &str) -> Result<Option<String>, Reject> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Reject::format(name)),
    }
}
