//! The platform's routes: access tokens, then the business endpoints behind them.
//!
//! A business call is checked in this order, the first failure answering: `access_token` in the
//! query (41001 absent, 40001 unknown or replaced, 42001 expired); the body is a JSON object
//! (47001; empty and `null` read as `{}`); then the endpoint (see `orders.rs`). Faults (latency,
//! "system busy" -1) come before all of it and change nothing.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{RawQuery, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    Inner,
    error::{Reject, answer, code, injected_fault, platform_error},
    orders::{self, Answer, Ctx},
    params::Fields,
    token::Check,
};
use crate::faults::RequestFault;

/// Where the business endpoints live, under `https://api.weixin.qq.com`.
pub const BUSINESS_PREFIX: &str = "/cgi-bin/express/local/business";

type Handler = fn(&Inner, &Ctx<'_>, &Fields) -> Answer;

const ENDPOINTS: &[(&str, Handler)] = &[
    ("delivery/getall", orders::getall),
    ("shop/get", orders::shop_get),
    ("shop/add", orders::shop_add),
    ("open", orders::open),
    ("order/pre_add", orders::pre_add),
    ("order/add", orders::add),
    ("order/readd", orders::readd),
    ("order/addtips", orders::addtips),
    ("order/get", orders::get),
    ("order/precancel", orders::precancel),
    ("order/cancel", orders::cancel),
    ("order/confirm_return", orders::confirm_return),
    ("test_update_order", orders::test_update_order),
];

pub(super) fn router(inner: Arc<Inner>) -> Router {
    let mut router = Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/stable_token", post(stable_token));
    for &(path, handler) in ENDPOINTS {
        router =
            router.route(
                &format!("{BUSINESS_PREFIX}/{path}"),
                post(
                    move |State(inner): State<Arc<Inner>>,
                          RawQuery(query): RawQuery,
                          body: Bytes| async move {
                        let now = Utc::now();
                        let result = business(&inner, handler, query.as_deref(), &body, now);
                        match &result {
                            // New pushes or moves may be due now rather than at the next tick.
                            Ok(_) => inner.wake.notify_one(),
                            Err(reject) => tracing::debug!(
                                path,
                                code = reject.code(),
                                msg = reject.message(),
                                "wechat sandbox: refused"
                            ),
                        }
                        answer(result, inner.errcode_on_success)
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

/// The query string as pairs; a malformed one reads as empty, which then fails as "missing".
fn query_pairs(query: Option<&str>) -> HashMap<String, String> {
    query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn business(
    inner: &Inner,
    handler: Handler,
    query: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Answer {
    let params = query_pairs(query);
    let token = params
        .get("access_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Reject::platform(code::ACCESS_TOKEN_MISSING))?;
    match inner.state().tokens.check(token, now) {
        Check::Valid => {}
        Check::Invalid => return Err(Reject::platform(code::INVALID_CREDENTIAL)),
        Check::Expired => return Err(Reject::platform(code::ACCESS_TOKEN_EXPIRED)),
    }
    let fields = Fields::parse(body)?;
    // The schedule is applied lazily too, so the sandbox is right even without its background
    // task (tests that drive the router alone).
    inner.state().advance(now);
    handler(inner, &Ctx { now, raw: body }, &fields)
}

/// The credential checks both token routes share, in WeChat's order: grant_type (40002), appid
/// present (41002), secret present (41004), appid known (40013), secret right (40125).
fn credentials(
    inner: &Inner,
    grant_type: Option<&str>,
    appid: Option<&str>,
    secret: Option<&str>,
) -> Result<(), Reject> {
    if grant_type != Some("client_credential") {
        return Err(Reject::platform(code::INVALID_GRANT_TYPE));
    }
    let appid = appid
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Reject::platform(code::APPID_MISSING))?;
    let secret = secret
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Reject::platform(code::APPSECRET_MISSING))?;
    if appid != inner.appid {
        return Err(Reject::platform_with(
            code::INVALID_APPID,
            format!("hint: [{appid}]"),
        ));
    }
    if secret != inner.secret {
        return Err(Reject::platform(code::INVALID_APPSECRET));
    }
    Ok(())
}

fn token_answer(result: Result<(String, u64), Reject>) -> Response {
    match result {
        Ok((access_token, expires_in)) => {
            Json(json!({ "access_token": access_token, "expires_in": expires_in })).into_response()
        }
        Err(reject) => platform_error(reject.code(), reject.message()),
    }
}

/// `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`: a new token each time.
async fn token(State(inner): State<Arc<Inner>>, RawQuery(query): RawQuery) -> Response {
    let params = query_pairs(query.as_deref());
    let param = |name: &str| params.get(name).map(String::as_str);
    let result =
        credentials(&inner, param("grant_type"), param("appid"), param("secret")).map(|()| {
            inner
                .state()
                .tokens
                .issue(Utc::now(), inner.access_token_ttl_secs)
        });
    token_answer(result)
}

/// `POST /cgi-bin/stable_token` `{grant_type, appid, secret, force_refresh}`.
async fn stable_token(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    let result = (|| {
        let f = Fields::parse(&body)?;
        let force = match serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("force_refresh").cloned())
        {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(Reject::format("force_refresh must be a boolean")),
        };
        credentials(
            &inner,
            f.str("grant_type")?,
            f.str("appid")?,
            f.str("secret")?,
        )?;
        Ok(inner
            .state()
            .tokens
            .stable(Utc::now(), inner.access_token_ttl_secs, force))
    })();
    token_answer(result)
}
