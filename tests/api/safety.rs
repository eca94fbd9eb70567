//! Safe defaults: malformed requests, wrong types, limits, method and content-type rules,
//! the sandbox's own refusals, health, GraphiQL, and a graceful shutdown.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_every_backend,
};

async fn post_raw(app: &TestApp, body: &str, content_type: &str) -> (u16, serde_json::Value) {
    let r = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn bad_requests_get_clear_errors(app: TestApp) {
    // Malformed GraphQL.
    let v = app.gql("{ providers { id ", json!({})).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected"),
        "{v}"
    );
    // Wrong variable type.
    let v = app
        .gql(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({"id": {"x": 1}}),
        )
        .await;
    assert!(v["errors"].is_array(), "{v}");
    // Unknown field.
    let v = app.gql("{ nope }", json!({})).await;
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("nope"));
    // Malformed and unknown ids.
    let v = app
        .gql(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({"id": "garbage"}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    let v = app
        .gql_ok(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({"id": "T3JkZXI6OTk5OTk"}),
        )
        .await;
    assert!(v["order"].is_null());
    let v = app
        .gql(
            "query($id: ID!) { shop(id: $id) { id } }",
            json!({"id": "T3JkZXI6OTk5OTk"}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "an order id is not a shop id"
    );
    let v = app
        .gql("{ shops(first: 0) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    let v = app
        .gql(
            "{ shops(first: 5, after: \"zzz\") { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    let v = app
        .gql(
            "{ shops(filter: {near: {lng: 500, lat: 0}}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT");

    // Not JSON, wrong content type, body too large.
    let (s, v) = post_raw(&app, "{oops", "application/json").await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let (s, _) = post_raw(&app, r#"{"query":"{ providers { id } }"}"#, "text/plain").await;
    assert_eq!(s, 415);
    // Refused from Content-Length before the body is read: 413, or the connection closed
    // while the client was still sending.
    let big = json!({"query": format!("{{ providers {{ id }} }} #{}", "x".repeat(100 * 1024))})
        .to_string();
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    assert!(r.as_ref().map_or(true, |r| r.status() == 413), "{r:?}");
    // A batch answers an array (the limits are in tests/api/contract.rs).
    let (s, v) = post_raw(
        &app,
        r#"[{"query":"{ providers { id } }"}]"#,
        "application/json",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["data"]["providers"][0]["id"], "DAOWAY", "{v}");

    // Mutations only over POST.
    let r = app
        .http
        .get(format!("{}/graphql", app.base))
        .query(&[(
            "query",
            "mutation { cancelOrder(input: {orderId: \"x\"}) { userErrors { code } } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = app
        .http
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ providers { id } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"]["providers"][0]["id"], "DAOWAY");

    // Depth, complexity and alias limits.
    let deep =
        "{ orders { edges { node { shop { category { id } prices { id } } events { id } } } } }";
    assert!(
        app.gql(deep, json!({})).await.get("errors").is_none(),
        "ordinary depth passes"
    );
    let mut too_deep = String::from("{ __schema { types { fields { type { ");
    for _ in 0..12 {
        too_deep.push_str("ofType { ");
    }
    too_deep.push_str("name ");
    too_deep.push_str(&"} ".repeat(12 + 4 + 1));
    let v = app.gql(&too_deep, json!({})).await;
    let e = &v["errors"][0]["extensions"];
    assert_eq!(e["code"], "QUERY_TOO_DEEP", "{v}");
    assert_eq!(e["limit"], 16, "{v}");
    assert!(e["actual"].as_u64() > Some(16), "{v}");
    let aliases: String = (0..40)
        .map(|i| format!("a{i}: providers {{ id }} "))
        .collect();
    let v = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "ALIAS_LIMIT", "{v}");
    let v = app.gql("{ orders(first: 100) { edges { node { events { id } items { name } shop { prices { id } } } } } }", json!({})).await;
    assert!(v.get("errors").is_none(), "{v}");

    // Aliases are counted through fragments.
    let v = app
        .gql(
            &format!(
                "{{ ...A ...A }} fragment A on Query {{ {} }}",
                (0..20)
                    .map(|i| format!("a{i}: providers {{ id }} "))
                    .collect::<String>()
            ),
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "ALIAS_LIMIT", "{v}");

    // The fragment chain (about 1 KB, 2^27 fields expanded) is refused before validation;
    // the server answers the next request as usual.
    let mut chain = String::from("query { ...F27 } fragment F0 on Query { __typename } ");
    for i in 1..=27 {
        chain.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }} ",
            p = i - 1
        ));
    }
    let v = app.gql(&chain, json!({})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_LARGE",
        "{v}"
    );
    assert!(v.get("data").is_none_or(Value::is_null), "{v}");
    let v = app.gql("{ __typename }", json!({})).await;
    assert_eq!(v["data"]["__typename"], "Query");

    // A very long search is a clear refusal, not a database error; LIKE's wildcards are
    // searched for as text.
    let q = "query($s: String) { shops(filter: {search: $s}, first: 5) { edges { node { id } } } }";
    let v = app.gql(q, json!({"s": "%".repeat(5_000)})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{v}");
    let v = app.gql(q, json!({"s": "%_%"})).await;
    assert!(v.get("errors").is_none(), "{v}");
    assert_eq!(
        v["data"]["shops"]["edges"],
        json!([]),
        "no title holds the text `%_%`: {v}"
    );
}
on_every_backend!(bad_requests_test, bad_requests_get_clear_errors);

#[tokio::test]
async fn health_graphiql_and_graceful_shutdown() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let page = app
        .http
        .get(format!("{}/graphiql", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/graphql"));
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("orderhub_db_statements_total"));

    // A subscriber is connected while the server stops: it is closed, and stop completes.
    let mut sub = app
        .subscribe("subscription { orderStatusChanged { eventId } }", json!({}))
        .await;
    let base = app.base.clone();
    let took = tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("stops in time");
    assert!(took < Duration::from_secs(6), "{took:?}");
    let m = sub.next(5).await;
    assert!(m["type"] == "complete" || m["type"] == "closed", "{m}");
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "no longer listening"
    );
}
