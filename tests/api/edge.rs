//! The edge browsers and operators touch: CORS for the configured origins only, the
//! websocket's `Origin` check, `/metrics` for admin keys, GraphiQL's security headers, and
//! introspection switched off by configuration.

use futures::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::helpers::{Backend, TestApp};

const ALLOWED: &str = "https://admin.example.com";

async fn app() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |c| {
        c.server.cors_origins = vec![ALLOWED.to_owned()];
        c.auth.anonymous = orderhub::config::AnonymousAccess::Never;
        c.dada.import_shops = Some(Vec::new());
        c.limits.introspection = false;
    })
    .await
}

#[tokio::test]
async fn cors_answers_the_allowed_origins_only() {
    let app = app().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight(ALLOWED).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], ALLOWED);
    let allowed_headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let resp = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("origin", ALLOWED)
        .bearer_auth(app.key_for_tests())
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], ALLOWED);
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

async fn ws_upgrade_status(app: &TestApp, origin: Option<&str>) -> u16 {
    let url = format!("{}/graphql/ws", app.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, resp)) => {
            let _ = ws.send(Message::Close(None)).await;
            resp.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("ws: {e}"),
    }
}

#[tokio::test]
async fn websockets_from_other_origins_are_refused() {
    let app = app().await;
    let own = app.base.clone();
    assert_eq!(
        ws_upgrade_status(&app, Some("https://evil.example")).await,
        403
    );
    assert_eq!(ws_upgrade_status(&app, Some(ALLOWED)).await, 101);
    assert_eq!(
        ws_upgrade_status(&app, Some(&own)).await,
        101,
        "GraphiQL's own origin"
    );
    assert_eq!(ws_upgrade_status(&app, None).await, 101, "not a browser");
}

#[tokio::test]
async fn metrics_are_for_admins_and_graphiql_is_locked_down() {
    let app = app().await;
    let metrics = format!("{}/metrics", app.base);
    assert_eq!(app.http.get(&metrics).send().await.unwrap().status(), 401);
    let admin = app.key_for_tests();
    let resp = app
        .http
        .get(&metrics)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("orderhub_db_statements_total")
    );
    let reader = app
        .access()
        .await
        .create_key(orderhub::access::NewKey {
            name: "reader".into(),
            scopes: vec![orderhub::access::Scope::OrdersRead],
            shops: None,
        })
        .await
        .unwrap();
    let resp = app
        .http
        .get(&metrics)
        .bearer_auth(&reader.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let page = app
        .http
        .get(format!("{}/graphiql", app.base))
        .send()
        .await
        .unwrap();
    let h = page.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self' 'sha256-"),
        "{csp}"
    );

    let (_, v) = app
        .gql_as(
            Some(&admin),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED",
        "{v}"
    );
    let (_, v) = app.gql_as(Some(&admin), "{ __typename }", json!({})).await;
    assert_eq!(v["data"]["__typename"], "Query");
}

/// Sandboxes and real platforms never mix: a real base URL in sandbox mode is a start-up
/// error naming the setting.
#[tokio::test]
async fn sandbox_mode_with_a_real_platform_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("mix.db").display());
    let mut config = crate::helpers::test_config(dir.path(), url);
    config.dada.base_url = Some("https://newopen.imdada.cn".into());
    let refused = orderhub::Application::build(config)
        .await
        .err()
        .map(|e| e.to_string());
    let refused = refused.expect("refused");
    assert!(
        refused.contains("sandbox mode is on") && refused.contains("dada.base_url"),
        "{refused}"
    );
}

/// A caller's budget by cost: every answer says what it cost and what is left; a request the
/// bucket cannot pay for is `THROTTLED` with a retry hint and changes nothing.
#[tokio::test]
async fn cost_is_charged_and_throttled() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.limits.cost_bucket = 100;
        c.limits.cost_restore_per_sec = 1;
        c.dada.import_shops = Some(Vec::new());
    })
    .await;
    let page = "{ orders(first: 10) { nodes { id status } } }";
    let v = app.gql(page, json!({})).await;
    assert!(v.get("errors").is_none(), "{v}");
    let cost = &v["extensions"]["cost"];
    let requested = cost["requestedQueryCost"].as_u64().unwrap();
    assert!(requested >= 20, "ten items cost ten times one: {v}");
    assert_eq!(
        cost["actualQueryCost"], 2,
        "an empty page holds two fields (orders, nodes): {v}"
    );
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 100);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 1);
    let left = cost["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap();
    assert!(left <= 100 - requested, "{v}");

    // Spend the rest; then the next request is refused until the bucket refills.
    let mut available = left;
    let mut throttled = None;
    for _ in 0..10 {
        let v = app.gql(page, json!({})).await;
        if v["errors"][0]["extensions"]["code"] == "THROTTLED" {
            throttled = Some(v);
            break;
        }
        available = v["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_u64()
            .unwrap();
    }
    let v = throttled.expect("a 100-point bucket is spent within ten such requests");
    assert!(
        v["errors"][0]["extensions"]["retryAfterMs"]
            .as_u64()
            .unwrap()
            >= 1,
        "{v}"
    );
    assert!(v.get("data").is_none_or(serde_json::Value::is_null), "{v}");
    // Drain what is left (three points an item), then a mutation is refused and makes nothing.
    if available >= 3 {
        let drain = format!(
            "{{ orders(first: {}) {{ nodes {{ id status }} }} }}",
            available / 3
        );
        let v = app.gql(&drain, json!({})).await;
        assert!(v.get("errors").is_none(), "{v}");
    }
    let mutation = "mutation { createApiKey(input: {name: \"x\", scopes: [ADMIN]}) {
        key { id name prefix live scopes shopIds createdAt revokedAt lastUsedAt } secret
        userErrors { field code message } } }";
    let v = app.gql(mutation, json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "THROTTLED", "{v}");
    let keys = app.access().await.keys().await.unwrap();
    assert!(keys.is_empty(), "the throttled mutation made no key");

    // More than the whole bucket is refused outright, without a retry hint.
    let huge = "{ orders(first: 100) { nodes { id status rawStatus } } }";
    let v = app.gql(huge, json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "THROTTLED", "{v}");
    assert!(
        v["errors"][0]["extensions"].get("retryAfterMs").is_none(),
        "{v}"
    );
}
