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
    let reader = orderhub::access::AccessService::new(
        orderhub::db::connect(
            &orderhub::config::DatabaseConfig {
                url: secrecy::SecretString::from(app.database_url.clone()),
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .unwrap(),
        false,
        false,
    )
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
