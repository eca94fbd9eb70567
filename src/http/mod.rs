//! The HTTP surface: `/graphql` (POST JSON; GET for queries only), `/graphql/ws`
//! (graphql-ws), `/graphiql`, `/healthz`, `/metrics`, the platforms' callback routes and, in
//! the default run, the sandboxes. Bodies are limited, requests time out, and every response
//! carries an `x-request-id`.

mod assets;
mod dashboard;
mod exports;
mod graphiql;
mod over_http;
mod serve;
mod ws;

pub use exports::Exports;
pub use serve::{ConnectionLimits, serve};
pub use ws::Sockets;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use metrics::SharedString;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    access::{AccessService, AuthError, Caller},
    config::LimitsConfig,
    db,
    graphql::AppSchema,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the operations routes (`/healthz`, `/metrics`) read.
#[derive(Clone)]
pub struct Ops {
    pub db: DatabaseConnection,
    /// This instance's SQL statement count.
    pub statements: Arc<AtomicU64>,
    pub metrics: Option<PrometheusHandle>,
    /// `/metrics` is for admin keys (or the anonymous development caller) only.
    pub access: AccessService,
}

/// What the GraphQL routes need: the schema, who may call it, and the browser origins
/// allowed besides the server's own.
#[derive(Clone)]
pub struct Api {
    pub schema: AppSchema,
    pub access: AccessService,
    pub origins: Arc<Vec<HeaderValue>>,
    /// The websockets open on this instance, and their limits.
    pub sockets: Arc<Sockets>,
    /// `limits.graphql_body_bytes`, named in the refusal of a larger body.
    pub max_body: usize,
    /// `limits.max_batch`: requests one batched POST may hold.
    pub max_batch: usize,
}

impl Api {
    /// Parses `server.cors_origins` (`https://host[:port]`, no path).
    pub fn origins(list: &[String]) -> Result<Vec<HeaderValue>, String> {
        list.iter()
            .map(|o| {
                let o = o.trim().trim_end_matches('/');
                let ok = (o.starts_with("https://") || o.starts_with("http://"))
                    && !o["https://".len().min(o.len())..].contains('/');
                HeaderValue::from_str(o).ok().filter(|_| ok).ok_or_else(|| {
                    format!("server.cors_origins: {o:?} is not an origin (scheme://host[:port])")
                })
            })
            .collect()
    }

    /// A browser page may talk to us: same origin (the `Origin` names the host it
    /// connected to), or an origin on the list. A request without `Origin` is not a browser's.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        if self.origins.iter().any(|o| o == origin) {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let authority = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, a)| a);
        matches!((host, authority), (Some(h), Some(a)) if h.eq_ignore_ascii_case(a))
    }
}

/// The whole HTTP surface: GraphQL, the platforms' `callbacks` routes, operations routes,
/// GraphiQL and (default run) the `sandboxes`, with limits, timeouts and request ids.
pub fn router(
    limits: &LimitsConfig,
    api: Api,
    callbacks: Router,
    ops: Ops,
    exports: Exports,
    sandboxes: Router,
) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(api.origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600));
    let graphql = Router::new()
        .route(
            "/graphql",
            post(over_http::graphql_post).get(over_http::graphql_get),
        )
        .layer(DefaultBodyLimit::max(limits.graphql_body_bytes))
        .layer(cors)
        .with_state(api.clone());
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(ops);
    let exports = Router::new()
        .route("/exports/orders.csv", get(exports::orders_csv))
        .with_state(exports);
    let timed = Router::new()
        .merge(graphql)
        .merge(callbacks)
        .merge(ops)
        .merge(exports)
        .merge(graphiql::router())
        .merge(dashboard::router())
        .nest("/sandbox", sandboxes)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ));
    let ws = Router::new()
        .route("/graphql/ws", get(ws::graphql_ws))
        .with_state(api);
    Router::new()
        .merge(timed)
        .merge(ws)
        .layer(middleware::from_fn(record_metrics))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// A GraphQL-shaped error for requests refused before execution.
fn http_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response()
}

/// The key of an `Authorization` value `Bearer <key>` (any capitalisation of the scheme).
fn bearer_key(value: &str) -> Option<&str> {
    let (scheme, key) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(key.trim())
}

/// The key of `Authorization: Bearer <key>`, if the request carries one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    bearer_key(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

/// The refusal of a request whose key was not accepted.
fn auth_refusal(e: &AuthError) -> Response {
    match e {
        AuthError::Db(db) => {
            tracing::error!(error = %db, "authenticating a request");
            http_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
        }
        _ => {
            let mut resp = http_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &e.to_string());
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            resp
        }
    }
}

/// Who the request runs as, or the response refusing it.
async fn authenticate(access: &AccessService, headers: &HeaderMap) -> Result<Caller, Response> {
    access
        .authenticate(bearer(headers))
        .await
        .map_err(|e| auth_refusal(&e))
}

async fn healthz(State(ops): State<Ops>) -> Response {
    match db::ping(&ops.db).await {
        Ok(_) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database unavailable" })),
            )
                .into_response()
        }
    }
}

/// Prometheus text: the process-wide metrics plus this instance's SQL statement count. For
/// admin keys only (Prometheus sends one with `authorization: {credentials: …}`).
async fn metrics_text(State(ops): State<Ops>, headers: HeaderMap) -> Response {
    match authenticate(&ops.access, &headers).await {
        Ok(caller) if caller.allows(crate::access::Scope::Admin) => {}
        Ok(_) => {
            return http_error(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "/metrics needs a key with the admin scope",
            );
        }
        Err(refusal) => return refusal,
    }
    let mut body = ops.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    body.push_str(&format!(
        "# TYPE orderhub_db_statements_total counter\norderhub_db_statements_total {}\n",
        ops.statements.load(Ordering::Relaxed)
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Labels without allocating for the routes and methods served every second; anything
    // else (a sandbox route, an odd status) is spelled out.
    let path: SharedString = match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some(p) => match ROUTES.iter().find(|r| **r == p) {
            Some(r) => SharedString::const_str(r),
            None => SharedString::from(p.to_owned()),
        },
        None => SharedString::const_str("unmatched"),
    };
    let method: SharedString = match *req.method() {
        Method::GET => SharedString::const_str("GET"),
        Method::POST => SharedString::const_str("POST"),
        ref other => SharedString::from(other.to_string()),
    };
    let resp = next.run(req).await;
    let status: SharedString = match resp.status().as_u16() {
        200 => SharedString::const_str("200"),
        304 => SharedString::const_str("304"),
        400 => SharedString::const_str("400"),
        401 => SharedString::const_str("401"),
        403 => SharedString::const_str("403"),
        404 => SharedString::const_str("404"),
        413 => SharedString::const_str("413"),
        429 => SharedString::const_str("429"),
        other => SharedString::from(other.to_string()),
    };
    metrics::counter!("orderhub_http_requests_total", "method" => method.clone(), "path" => path.clone(), "status" => status).increment(1);
    metrics::histogram!("orderhub_http_request_seconds", "method" => method, "path" => path)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// The routes whose metric labels are static strings.
const ROUTES: &[&str] = &[
    "/graphql",
    "/graphql/ws",
    "/healthz",
    "/metrics",
    "/exports/orders.csv",
    "/callbacks/daojia58/orders",
    "/callbacks/dada/status/{token}",
    "/callbacks/dada/message/{token}",
    "/callbacks/wechat",
    "/callbacks/daoway/cancel",
];
