//! The GraphQL-over-HTTP contract clients branch on: `Accept` picks the media type
//! (`application/graphql-response+json` answers 4xx without `data` for a request that could
//! not run; `application/json` answers 200), every error has a code from the documented set
//! (parse, validation, the argument at fault, limits with their numbers, body size, batches),
//! and batches run up to `limits.max_batch`.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn app() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dada.import_shops = Some(Vec::new());
        c.limits.max_batch = 3;
        c.limits.graphql_body_bytes = 4096;
        c.limits.max_query_complexity = 500;
    })
    .await
}

/// POSTs `body` with `accept`; the status, the content type and the JSON answer.
async fn post(app: &TestApp, accept: Option<&str>, body: &str) -> (u16, String, Value) {
    let mut req = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let media = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, r.json().await.unwrap_or(Value::Null))
}

fn code(v: &Value) -> &Value {
    &v["errors"][0]["extensions"]["code"]
}

#[tokio::test]
async fn accept_decides_the_media_type_and_the_status() {
    let app = app().await;
    let ok = json!({"query": "{ providers { id } }"}).to_string();
    let unparsable = json!({"query": "{ providers { id "}).to_string();
    let invalid = json!({"query": "{ nope }"}).to_string();

    // application/graphql-response+json: 200 with data; 400 without `data` when the request
    // could not run.
    let (s, media, v) = post(&app, Some(GRAPHQL_RESPONSE), &ok).await;
    assert_eq!(
        (s, media.starts_with(GRAPHQL_RESPONSE)),
        (200, true),
        "{media}"
    );
    assert!(v["data"]["providers"].is_array());
    for (body, expected) in [
        (&unparsable, "GRAPHQL_PARSE_FAILED"),
        (&invalid, "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let (s, media, v) = post(&app, Some(GRAPHQL_RESPONSE), body).await;
        assert_eq!(s, 400, "{v}");
        assert!(media.starts_with(GRAPHQL_RESPONSE));
        assert!(v.get("data").is_none(), "no data entry: {v}");
        assert_eq!(code(&v), expected, "{v}");
    }

    // application/json (and no Accept, and */*): 200 for the same failures, still no data.
    for accept in [Some("application/json"), None, Some("*/*")] {
        let (s, media, v) = post(&app, accept, &unparsable).await;
        assert_eq!(s, 200, "{accept:?}");
        assert!(media.starts_with("application/json"), "{media}");
        assert!(v.get("data").is_none(), "{v}");
        assert_eq!(code(&v), "GRAPHQL_PARSE_FAILED");
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Syntax error:") && !message.contains("-->"),
            "one line, not the parser's trace: {message}"
        );
        assert!(v["errors"][0]["locations"][0]["line"].is_u64(), "{v}");
    }

    // Preference by q; nothing we write → 406.
    let (_, media, _) = post(
        &app,
        Some("application/json, application/graphql-response+json;q=0.5"),
        &ok,
    )
    .await;
    assert!(media.starts_with("application/json"), "{media}");
    let (s, _, v) = post(&app, Some("text/html"), &ok).await;
    assert_eq!(s, 406);
    assert_eq!(code(&v), "NOT_ACCEPTABLE");

    // GET: the same negotiation; a mutation is 405 with `Allow: POST`.
    let r = app
        .http
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ nope }")])
        .header("accept", GRAPHQL_RESPONSE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .http
        .get(format!("{}/graphql", app.base))
        .query(&[(
            "query",
            "mutation { revokeApiKey(id: \"x\") { userErrors { code } } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn every_error_has_a_code_from_the_set() {
    let app = app().await;
    let gql = |q: &str, vars: Value| {
        let body = json!({"query": q, "variables": vars}).to_string();
        let app = &app;
        async move { post(app, None, &body).await.2 }
    };

    // A value that does not fit its argument: INVALID_INPUT with the argument's path.
    let v = gql(
        "{ shops(first: \"ten\") { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "INVALID_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["argument"], "first", "{v}");
    let create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }";
    let mut input = json!({"shopId": "x", "items": [], "appointTime": "2030-01-01T10:00:00+08:00",
        "address": {"city": "北京", "street": "建国路", "house": "1"},
        "contact": {"name": "张三", "phone": "13800000000"}});
    input["address"].as_object_mut().unwrap().remove("street");
    let v = gql(create, json!({"i": input.clone()})).await;
    assert_eq!(code(&v), "INVALID_INPUT", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["argument"], "input.address.street",
        "{v}"
    );
    // An appointment time that is not a time.
    input["address"]["street"] = json!("建国路");
    input["appointTime"] = json!("tomorrow morning");
    let v = gql(create, json!({"i": input})).await;
    assert_eq!(code(&v), "INVALID_INPUT", "{v}");

    // Limits answer with their numbers.
    let deep = format!("{{ {}__typename{} }}", "a { ".repeat(40), " }".repeat(40));
    let v = gql(&deep, json!({})).await;
    assert_eq!(code(&v), "QUERY_TOO_DEEP", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["limit"], 32, "{v}");
    let v = gql(
        "{ orders(first: 100) { nodes { id status rawStatus kind provider createdAt } } }",
        json!({}),
    )
    .await;
    let e = &v["errors"][0]["extensions"];
    assert_eq!(e["code"], "QUERY_TOO_COMPLEX", "{v}");
    assert_eq!(e["limit"], 500, "{v}");
    assert!(e["actual"].as_u64() > Some(500), "{v}");
    // An unknown operation name.
    let body = json!({"query": "query A { __typename }", "operationName": "B"}).to_string();
    let v = post(&app, None, &body).await.2;
    assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED", "{v}");

    // A body over limits.graphql_body_bytes: 413 with a code (or the connection closed while
    // the client still sent).
    let big = json!({"query": format!("{{ __typename }} #{}", "x".repeat(8 * 1024))}).to_string();
    let r = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
        let v: Value = r.json().await.unwrap();
        assert_eq!(code(&v), "BODY_TOO_LARGE", "{v}");
    }
}

#[tokio::test]
async fn batches_run_up_to_the_limit() {
    let app = app().await;
    let one = json!({"query": "{ providers { id } }"});
    let bad = json!({"query": "{ nope }"});
    let (s, _, v) = post(&app, None, &json!([one, bad, one]).to_string()).await;
    assert_eq!(s, 200);
    let answers = v.as_array().expect("an array");
    assert_eq!(answers.len(), 3);
    assert!(answers[0]["data"]["providers"].is_array());
    assert_eq!(code(&answers[1]), "GRAPHQL_VALIDATION_FAILED");
    assert!(answers[2]["data"]["providers"].is_array());
    for body in [json!([one, one, one, one]), json!([])] {
        let (s, _, v) = post(&app, None, &body.to_string()).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(code(&v), "BATCH_TOO_LARGE", "{v}");
    }
}

fn sha256(q: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(q.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

/// GETs `/graphql` with `params`; the status and the JSON answer.
async fn get(app: &TestApp, params: &[(&str, String)]) -> (u16, Value) {
    let r = app
        .http
        .get(format!("{}/graphql", app.base))
        .query(params)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn automatic_persisted_queries_over_post_and_get() {
    let app = app().await;
    let query = "query Two { providers { id } } query One { __typename }";
    let hash = sha256(query);

    // Unknown hash → PersistedQueryNotFound (Apollo's link then sends the query with it).
    let (s, _, v) = post(
        &app,
        None,
        &json!({"extensions": persisted(&hash), "operationName": "Two"}).to_string(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["errors"][0]["message"], "PersistedQueryNotFound", "{v}");
    assert_eq!(code(&v), "PERSISTED_QUERY_NOT_FOUND");

    // Hash and query register it; a wrong hash is refused and registers nothing.
    let (_, _, v) = post(
        &app,
        None,
        &json!({"query": query, "operationName": "Two", "extensions": persisted(&hash)})
            .to_string(),
    )
    .await;
    assert!(v["data"]["providers"].is_array(), "{v}");
    let (_, _, v) = post(
        &app,
        None,
        &json!({"query": "{ __typename }", "extensions": persisted(&hash)}).to_string(),
    )
    .await;
    assert_eq!(code(&v), "BAD_REQUEST", "{v}");

    // The hash alone now runs it, over POST and over GET, and GET honours operationName.
    let (_, _, v) = post(
        &app,
        None,
        &json!({"extensions": persisted(&hash), "operationName": "Two"}).to_string(),
    )
    .await;
    assert!(v["data"]["providers"].is_array(), "{v}");
    let ext = persisted(&hash).to_string();
    let (s, v) = get(
        &app,
        &[("extensions", ext.clone()), ("operationName", "One".into())],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["data"], json!({"__typename": "Query"}), "{v}");
    let (_, v) = get(
        &app,
        &[("query", query.into()), ("operationName", "Two".into())],
    )
    .await;
    assert!(v["data"]["providers"].is_array(), "{v}");

    // A mutation registered over POST cannot be run by its hash over GET.
    let mutation = "mutation M { __typename }";
    let mhash = sha256(mutation);
    let (_, _, v) = post(
        &app,
        None,
        &json!({"query": mutation, "extensions": persisted(&mhash)}).to_string(),
    )
    .await;
    assert_eq!(v["data"]["__typename"], "Mutation", "{v}");
    let (s, v) = get(&app, &[("extensions", persisted(&mhash).to_string())]).await;
    assert_eq!(s, 405, "{v}");
    assert_eq!(code(&v), "METHOD_NOT_ALLOWED");

    // A document refused by the limits is not remembered.
    let deep = format!("{{ {}__typename{} }}", "a { ".repeat(40), " }".repeat(40));
    let dhash = sha256(&deep);
    let (_, _, v) = post(
        &app,
        None,
        &json!({"query": deep, "extensions": persisted(&dhash)}).to_string(),
    )
    .await;
    assert_eq!(code(&v), "QUERY_TOO_DEEP", "{v}");
    let (_, _, v) = post(
        &app,
        None,
        &json!({"extensions": persisted(&dhash)}).to_string(),
    )
    .await;
    assert_eq!(code(&v), "PERSISTED_QUERY_NOT_FOUND", "{v}");
}

#[tokio::test]
async fn catalogue_answers_over_get_are_cacheable() {
    let app = app().await;
    let fetch = |query: &'static str, etag: Option<String>| {
        let mut req = app
            .http
            .get(format!("{}/graphql", app.base))
            .query(&[("query", query)]);
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        req.send()
    };
    let catalogue = "{ providers { id } shops(first: 5) { edges { node { id } } } }";
    let r = fetch(catalogue, None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "max-age=60, private");
    assert_eq!(r.headers()["vary"], "Accept, Authorization");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    // The same answer again: 304 without a body.
    let again = fetch(catalogue, Some(etag.clone())).await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    // Orders are never marked cacheable, alone or beside the catalogue.
    for q in [
        "{ orders(first: 5) { nodes { id } } }",
        "{ providers { id } orders(first: 1) { nodes { id } } }",
    ] {
        let r = fetch(q, None).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("cache-control").is_none(), "{q}");
    }
}

/// Parsed documents are kept by their text, but every request is still checked on its own:
/// the cost is charged and reported each time, a document that fails validation fails each
/// time, and a cached document run with other variables is validated again with them (a page
/// size that makes it too complex is refused after the same text ran with a small one).
#[tokio::test]
async fn parsed_documents_are_reused_and_every_request_is_still_checked() {
    let app = app().await;
    let hits = r#"orderhub_document_cache_total{outcome="hit"}"#;
    let before = app.metric(hits).await;
    let plain = json!({"query": "{ providers { id } }"}).to_string();
    let (_, _, first) = post(&app, None, &plain).await;
    let (_, _, again) = post(&app, None, &plain).await;
    assert!(again["data"]["providers"].is_array(), "{again}");
    assert_eq!(first["data"], again["data"]);
    assert!(
        again["extensions"]["cost"]["requestedQueryCost"].as_u64() >= Some(1),
        "{again}"
    );
    assert!(
        app.metric(hits).await > before,
        "the second request was served from the cache"
    );

    let invalid = json!({"query": "{ providers { nope } }"}).to_string();
    for _ in 0..2 {
        let (_, _, v) = post(&app, None, &invalid).await;
        assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED", "{v}");
    }

    let page = "query Page($n: Int) { orders(first: $n) { nodes { id } } }";
    let run = |n: Value| json!({"query": page, "variables": {"n": n}}).to_string();
    let (_, _, v) = post(&app, None, &run(json!(2))).await;
    assert!(v["data"]["orders"]["nodes"].is_array(), "{v}");
    let (_, _, v) = post(&app, None, &run(json!(300))).await;
    assert_eq!(code(&v), "QUERY_TOO_COMPLEX", "{v}");
    let (_, _, v) = post(&app, None, &run(json!("two"))).await;
    assert_eq!(code(&v), "INVALID_INPUT", "{v}");
    let (_, _, v) = post(&app, None, &run(json!(2))).await;
    assert!(v["data"]["orders"]["nodes"].is_array(), "{v}");
}
