//! GraphQL over HTTP (the GraphQL-over-HTTP specification): `POST /graphql` with a JSON body
//! (one request, or a batch of at most `limits.max_batch` as Apollo's BatchHttpLink sends),
//! `GET /graphql` for queries only. The answer's media type follows `Accept`:
//! `application/graphql-response+json` gets 4xx for a request that could not run (parse,
//! validation, input coercion, limits) and never a `data` entry then; `application/json` (the
//! default, and for `*/*`) gets 200 with the same body. Anything else is 406.

use axum::{
    body::Bytes,
    extract::{Request, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;

use super::{Api, authenticate, http_error};
use crate::graphql::{self, ViaGet};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The media type an answer is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Media {
    Json,
    GraphqlResponse,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        })
    }
}

/// The media type `Accept` prefers among the two we write (by `q`, then by order); none
/// named means `application/json`.
fn negotiate(headers: &HeaderMap) -> Result<Media, Box<Response>> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Media::Json);
    };
    let mut best: Option<(f32, Media)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let kind = match media.as_str() {
            GRAPHQL_RESPONSE => Media::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, kind));
        }
    }
    best.map(|(_, m)| m).ok_or_else(|| {
        Box::new(http_error(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "this server answers application/graphql-response+json or application/json",
        ))
    })
}

fn error_code(r: &async_graphql::Response) -> Option<String> {
    let ext = r.errors.first()?.extensions.as_ref()?;
    match ext.get("code")? {
        async_graphql::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A response that could not run, written without its `data` entry.
#[derive(serde::Serialize)]
struct NotRun<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// One response as JSON text, written straight from the response (no intermediate tree):
/// without `data` when the request could not run.
fn body(r: &async_graphql::Response) -> Bytes {
    let written = if graphql::not_run(r) {
        serde_json::to_vec(&NotRun {
            errors: &r.errors,
            extensions: &r.extensions,
        })
    } else {
        serde_json::to_vec(r)
    };
    match written {
        Ok(v) => Bytes::from(v),
        Err(e) => {
            tracing::error!(error = %e, "a GraphQL response could not be written as JSON");
            Bytes::from_static(
                br#"{"errors":[{"message":"the answer could not be written","extensions":{"code":"INTERNAL"}}]}"#,
            )
        }
    }
}

/// A GET answer: `Vary` on what it depends on, an `ETag` of its body, and 304 when the
/// client already holds that body (`If-None-Match`).
fn conditional(request: &HeaderMap, mut resp: Response, body: &[u8], errors: bool) -> Response {
    resp.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    // Only a full answer is worth revalidating (not a refusal or an error).
    if resp.status() != StatusCode::OK || errors {
        return resp;
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let tag = format!("\"{}\"", hex::encode(&digest[..16]));
    let Ok(etag) = HeaderValue::from_str(&tag) else {
        return resp;
    };
    let held = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if held {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::CACHE_CONTROL, header::VARY] {
            if let Some(v) = resp.headers().get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        not_modified.headers_mut().insert(header::ETAG, etag);
        return not_modified;
    }
    resp.headers_mut().insert(header::ETAG, etag);
    resp
}

/// The HTTP answer for one GraphQL response.
fn answer(media: Media, r: async_graphql::Response) -> Response {
    answer_with_body(media, r).0
}

fn answer_with_body(media: Media, r: async_graphql::Response) -> (Response, Bytes, bool) {
    let code = error_code(&r);
    let not_allowed = code.as_deref() == Some("METHOD_NOT_ALLOWED") && graphql::not_run(&r);
    let status = if not_allowed {
        // A mutation over GET (by its text or a persisted query's hash).
        StatusCode::METHOD_NOT_ALLOWED
    } else if media == Media::GraphqlResponse && graphql::not_run(&r) {
        match code.as_deref() {
            Some("THROTTLED") => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        }
    } else {
        StatusCode::OK
    };
    let json = body(&r);
    let mut resp = (status, json.clone()).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, media.content_type());
    if r.errors.is_empty()
        && let Some(cc) = r.cache_control.value()
        && let Ok(v) = HeaderValue::from_str(&cc)
    {
        headers.insert(header::CACHE_CONTROL, v);
    }
    headers.extend(r.http_headers);
    if not_allowed {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    let errors = !r.errors.is_empty();
    (resp, json, errors)
}

pub(super) async fn graphql_post(
    State(api): State<Api>,
    headers: HeaderMap,
    body_bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let media = match negotiate(&headers) {
        Ok(m) => m,
        Err(refusal) => return *refusal,
    };
    let caller = match authenticate(&api.access, &headers).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let bytes = match body_bytes {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return http_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                &format!(
                    "the request body is larger than {} bytes (limits.graphql_body_bytes)",
                    api.max_body
                ),
            );
        }
        Err(rejection) => return rejection.into_response(),
    };
    let batch = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[');
    if batch {
        return run_batch(&api, media, caller, &bytes).await;
    }
    match serde_json::from_slice::<async_graphql::Request>(&bytes) {
        Ok(r) => answer(media, api.schema.execute(graphql::prepare(r, caller)).await),
        Err(e) => http_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("body is not a GraphQL request: {e}"),
        ),
    }
}

/// A batch (Apollo's BatchHttpLink): each request runs in turn, as its own request (its own
/// cost, limits and audit); the answer is the array of their responses, 200.
async fn run_batch(
    api: &Api,
    media: Media,
    caller: crate::access::Caller,
    bytes: &[u8],
) -> Response {
    let requests: Vec<async_graphql::Request> = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => {
            return http_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("body is not a batch of GraphQL requests: {e}"),
            );
        }
    };
    if requests.is_empty() || requests.len() > api.max_batch {
        return http_error(
            StatusCode::BAD_REQUEST,
            "BATCH_TOO_LARGE",
            &format!(
                "a batch holds 1 to {} requests (limits.max_batch); this one holds {}",
                api.max_batch,
                requests.len()
            ),
        );
    }
    let mut answers = Vec::with_capacity(requests.len());
    for r in requests {
        answers.push(body(
            &api.schema
                .execute(graphql::prepare(r, caller.clone()))
                .await,
        ));
    }
    let mut array = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 1);
    array.push(b'[');
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            array.push(b',');
        }
        array.extend_from_slice(a);
    }
    array.push(b']');
    let mut resp = array.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    resp
}

/// A GET request's parameters: `query`, `operationName`, and `variables` and `extensions` as
/// JSON (async-graphql's own reader expects `operation_name`, which no client sends).
fn from_query_string(input: &str) -> Result<async_graphql::Request, String> {
    #[derive(Deserialize)]
    struct Params {
        #[serde(default)]
        query: String,
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let p: Params = serde_urlencoded::from_str(input)
        .map_err(|e| format!("the query string is not a GraphQL request: {e}"))?;
    let json = |name: &str, v: Option<String>| -> Result<serde_json::Value, String> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(Value::Null),
            Some(text) => {
                serde_json::from_str(text).map_err(|e| format!("{name} is not JSON: {e}"))
            }
        }
    };
    let variables = json("variables", p.variables)?;
    let extensions = json("extensions", p.extensions)?;
    let mut request = async_graphql::Request::new(p.query)
        .variables(async_graphql::Variables::from_json(variables));
    if let Some(name) = p.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Value::Object(map) = extensions {
        for (k, v) in map {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, v);
            }
        }
    }
    Ok(request)
}

/// GET runs queries only: a mutation over GET could be triggered by a link or an image.
pub(super) async fn graphql_get(State(api): State<Api>, req: Request) -> Response {
    let media = match negotiate(req.headers()) {
        Ok(m) => m,
        Err(refusal) => return *refusal,
    };
    let caller = match authenticate(&api.access, req.headers()).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let request = match from_query_string(req.uri().query().unwrap_or_default()) {
        Ok(r) => {
            let name = r.operation_name.clone();
            graphql::prepare(r, caller).data(ViaGet(name))
        }
        Err(e) => return http_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e),
    };
    let (resp, json, errors) = answer_with_body(media, api.schema.execute(request).await);
    conditional(req.headers(), resp, &json, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> Result<Media, StatusCode> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        negotiate(&h).map_err(|r| r.status())
    }

    #[test]
    fn accept_picks_the_preferred_media_type() {
        assert_eq!(negotiate(&HeaderMap::new()).ok(), Some(Media::Json));
        assert_eq!(accept("application/json").ok(), Some(Media::Json));
        assert_eq!(accept("*/*").ok(), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9").ok(),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json;q=0.5").ok(),
            Some(Media::Json)
        );
        assert_eq!(accept("application/graphql-response+json;q=0").ok(), None);
        assert_eq!(accept("text/html").err(), Some(StatusCode::NOT_ACCEPTABLE));
    }
}
