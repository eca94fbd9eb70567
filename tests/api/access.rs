//! Access control over real HTTP and graphql-ws: keys made by the `orderhub keys` CLI and the
//! admin mutations, scopes, shop-restricted keys (lists, single reads, mutations and the
//! stream), idempotency keys per caller, revocation and the audit log. Every refusal is
//! checked for its code and for having changed nothing.

use futures::{SinkExt, StreamExt};
use orderhub::config::{AnonymousAccess, Config};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    helpers::{
        CREATE_ORDER, Subscription, TestApp, order_input, plain_shop, shop_detail, shop_ids,
    },
    on_every_backend,
};

/// Keys required: no keyless calls, and no start-up import to wait on without a key.
fn locked(c: &mut Config) {
    c.auth.anonymous = AnonymousAccess::Never;
    c.dada.import_shops = Some(Vec::new());
}

/// `orderhub keys …` against the app's database; its standard output.
fn cli(app: &TestApp, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderhub"))
        .arg("keys")
        .args(args)
        .env("ORDERHUB_DATABASE__URL", &app.database_url)
        .output()
        .expect("run orderhub keys");
    assert!(
        out.status.success(),
        "orderhub keys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A key made by the CLI; returns its secret (the last line).
fn cli_key(app: &TestApp, name: &str, scopes: &str, shops: Option<&str>) -> String {
    let mut args = vec!["create", "--name", name, "--scopes", scopes];
    if let Some(s) = shops {
        args.extend(["--shops", s]);
    }
    let out = cli(app, &args);
    let secret = out.lines().last().unwrap_or_default().trim().to_owned();
    assert!(secret.starts_with("oh_sandbox_"), "{out}");
    secret
}

const CREATE_KEY: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) {
    key { id name prefix live scopes shopIds revokedAt } secret userErrors { field code message } } }";

/// A key made through the admin mutation; returns (id, secret).
async fn api_key(app: &TestApp, admin: &str, input: Value) -> (String, String) {
    let (status, v) = app
        .gql_as(Some(admin), CREATE_KEY, json!({"i": input}))
        .await;
    assert_eq!(status, 200, "{v:#}");
    let p = &v["data"]["createApiKey"];
    assert_eq!(p["userErrors"], json!([]), "{v:#}");
    (
        p["key"]["id"].as_str().unwrap().to_owned(),
        p["secret"].as_str().unwrap().to_owned(),
    )
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("-")
}

async fn order_count(app: &TestApp, admin: &str) -> usize {
    let (_, v) = app
        .gql_as(
            Some(admin),
            "{ orders(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    v["data"]["orders"]["edges"].as_array().map_or(0, Vec::len)
}

/// Two shops orders can be placed at.
async fn two_shops(app: &TestApp) -> (Value, Value) {
    let mut found = Vec::new();
    for city in ["北京", "上海", "广州", "深圳", "杭州"] {
        for id in shop_ids(app, city, None).await {
            let d = shop_detail(app, &id).await;
            if plain_shop(&d) {
                found.push(d);
                if found.len() == 2 {
                    let b = found.pop().unwrap();
                    return (found.pop().unwrap(), b);
                }
            }
        }
    }
    panic!("the sandbox has two plain shops");
}

async fn place(app: &TestApp, key: &str, shop: &Value, idem: Option<&str>) -> Value {
    let (_, v) = app
        .gql_as(
            Some(key),
            CREATE_ORDER,
            json!({"input": order_input(shop, idem)}),
        )
        .await;
    v
}

/// The close code the server ends a graphql-ws connection with after `connection_init`.
async fn ws_close_code(app: &TestApp, payload: Value) -> Option<u16> {
    let url = format!("{}/graphql/ws", app.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect");
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": payload}).to_string(),
    ))
    .await
    .unwrap();
    while let Some(m) = ws.next().await {
        match m {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(Message::Text(t)) => assert!(!t.contains("connection_ack"), "acknowledged: {t}"),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

async fn keyless_and_forged_calls_are_refused(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, locked).await;
    let admin = cli_key(&app, "ops", "admin", None);
    let shop = shop_detail(&app, &{
        app.use_key(&admin);
        shop_ids(&app, "北京", None).await[0].clone()
    })
    .await;

    for key in [None, Some("oh_sandbox_forged"), Some("not-a-key")] {
        let (status, v) = app
            .gql_as(
                key,
                CREATE_ORDER,
                json!({"input": order_input(&shop, None)}),
            )
            .await;
        assert_eq!(status, 401, "{v:#}");
        assert_eq!(code(&v), "UNAUTHENTICATED", "{v:#}");
        assert!(v.get("data").is_none(), "{v:#}");
    }
    // GET too, and the challenge header.
    let resp = app
        .http
        .get(format!("{}/graphql?query=%7B__typename%7D", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_eq!(order_count(&app, &admin).await, 0, "nothing was placed");

    // graphql-ws: no key, a forged one → closed before any subscription with 4403
    // (Forbidden, which graphql-ws clients treat as fatal rather than retrying); the key → live.
    assert_eq!(ws_close_code(&app, json!({})).await, Some(4403));
    assert_eq!(
        ws_close_code(&app, json!({"Authorization": "Bearer oh_sandbox_forged"})).await,
        Some(4403)
    );
    let mut sub = Subscription::open_as(
        &app.base,
        Some(&admin),
        "subscription { orderStatusChanged { orderId newStatus } }",
        json!({}),
    )
    .await;
    let placed = place(&app, &admin, &shop, None).await;
    let id = placed["data"]["createOrder"]["order"]["id"].clone();
    assert_eq!(
        sub.next(10).await["data"]["orderStatusChanged"]["orderId"],
        id
    );
}
on_every_backend!(
    keyless_and_forged_calls_are_refused_test,
    keyless_and_forged_calls_are_refused,
    by_backend
);

async fn scopes_are_enforced(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, locked).await;
    let admin = cli_key(&app, "ops", "admin", None);
    app.use_key(&admin);
    let shop = shop_detail(&app, &shop_ids(&app, "北京", None).await[0]).await;
    let (_, reader) = api_key(
        &app,
        &admin,
        json!({"name": "analyst", "scopes": ["ORDERS_READ"]}),
    )
    .await;
    let (_, writer) = api_key(
        &app,
        &admin,
        json!({"name": "shop app", "scopes": ["ORDERS_WRITE", "CATALOG_READ"]}),
    )
    .await;

    // The reader reads orders but neither places them nor reads the catalogue or admin.
    let (_, v) = app
        .gql_as(
            Some(&reader),
            "{ orders(first: 5) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(v.get("errors").is_none(), "{v:#}");
    let v = place(&app, &reader, &shop, Some("r-1")).await;
    assert_eq!(code(&v), "FORBIDDEN", "{v:#}");
    assert_eq!(v["data"], Value::Null, "{v:#}");
    for q in [
        "{ shops(first: 1) { edges { node { id } } } }",
        "{ apiKeys { id } }",
        "{ auditLog { id } }",
    ] {
        let (_, v) = app.gql_as(Some(&reader), q, json!({})).await;
        assert_eq!(code(&v), "FORBIDDEN", "{q}: {v:#}");
    }
    let (_, v) = app
        .gql_as(
            Some(&reader),
            CREATE_KEY,
            json!({"i": {"name": "mine", "scopes": ["ADMIN"]}}),
        )
        .await;
    assert_eq!(
        code(&v),
        "FORBIDDEN",
        "a reader cannot make itself an admin: {v:#}"
    );
    assert_eq!(order_count(&app, &admin).await, 0);

    // The writer places an order.
    let v = place(&app, &writer, &shop, None).await;
    assert_eq!(v["data"]["createOrder"]["userErrors"], json!([]), "{v:#}");
    assert_eq!(order_count(&app, &admin).await, 1);

    // Keys are listed without secrets; only the creating answer had it.
    let (_, v) = app
        .gql_as(
            Some(&admin),
            "{ apiKeys { name prefix live scopes } }",
            json!({}),
        )
        .await;
    let keys = v["data"]["apiKeys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        4,
        "ops, the test admin, the reader, the writer: {v:#}"
    );
    assert!(keys.iter().all(|k| k["prefix"].as_str().unwrap().starts_with("oh_sandbox_") && k["live"] == false));
    assert!(!v.to_string().contains(&reader), "no secret is ever listed");
    // Keys and audit entries are Nodes, for admins only.
    let (_, v) = app
        .gql_as(
            Some(&admin),
            "{ apiKeys { id } auditLog(first: 1) { id } }",
            json!({}),
        )
        .await;
    let ids = [
        v["data"]["apiKeys"][0]["id"].clone(),
        v["data"]["auditLog"][0]["id"].clone(),
    ];
    let nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let (_, n) = app.gql_as(Some(&admin), nodes, json!({"ids": ids})).await;
    assert_eq!(n["data"]["nodes"][0]["__typename"], "ApiKey", "{n:#}");
    assert_eq!(n["data"]["nodes"][1]["__typename"], "AuditEntry", "{n:#}");
    assert_eq!(n["data"]["nodes"][1]["id"], ids[1], "{n:#}");
    for id in &ids {
        let (_, n) = app
            .gql_as(
                Some(&reader),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(code(&n), "FORBIDDEN", "{n:#}");
    }
    let refused = app
        .gql_as(
            Some(&admin),
            CREATE_KEY,
            json!({"i": {"name": " ", "scopes": []}}),
        )
        .await
        .1;
    let fields: Vec<&Value> = refused["data"]["createApiKey"]["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["field"])
        .collect();
    assert_eq!(
        fields,
        [&json!(["input", "name"]), &json!(["input", "scopes"])],
        "{refused:#}"
    );
}
on_every_backend!(scopes_are_enforced_test, scopes_are_enforced, by_backend);

async fn shop_restricted_keys_see_only_their_shops(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, locked).await;
    let admin = cli_key(&app, "ops", "admin", None);
    app.use_key(&admin);
    let (a, b) = two_shops(&app).await;
    let a_id = a["id"].as_str().unwrap();
    let shop_key = cli_key(
        &app,
        "store A",
        "orders:read,orders:write,catalog:read",
        Some(a_id),
    );

    let mut stream = Subscription::open_as(
        &app.base,
        Some(&shop_key),
        "subscription { orderStatusChanged { orderId } }",
        json!({}),
    )
    .await;
    let in_b = place(&app, &admin, &b, None).await["data"]["createOrder"]["order"]["id"].clone();
    let in_a = place(&app, &shop_key, &a, None).await["data"]["createOrder"]["order"]["id"].clone();
    assert!(in_a.is_string() && in_b.is_string());
    // B's change was published first; A's arriving first shows B's was held back.
    assert_eq!(
        stream.next(10).await["data"]["orderStatusChanged"]["orderId"],
        in_a
    );

    let (_, v) = app
        .gql_as(
            Some(&shop_key),
            "{ orders(first: 10) { edges { node { id shop { id } } } } }",
            json!({}),
        )
        .await;
    let seen: Vec<&Value> = v["data"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(seen, [&in_a], "{v:#}");
    for q in [
        "query($id: ID!) { order(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ] {
        let (_, v) = app.gql_as(Some(&shop_key), q, json!({"id": in_b})).await;
        assert_eq!(code(&v), "FORBIDDEN", "{q}: {v:#}");
    }
    // Nor a timeline event of it, by its global id.
    let (_, v) = app
        .gql_as(
            Some(&admin),
            "query($id: ID!) { order(id: $id) { events { id } } }",
            json!({"id": in_b}),
        )
        .await;
    let event = v["data"]["order"]["events"][0]["id"].clone();
    assert!(event.is_string(), "{v:#}");
    let (_, v) = app
        .gql_as(
            Some(&shop_key),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": event}),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v:#}");
    let cancel = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { id status } userErrors { code } } }";
    let (_, v) = app
        .gql_as(Some(&shop_key), cancel, json!({"i": {"orderId": in_b}}))
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v:#}");
    let v = place(&app, &shop_key, &b, None).await;
    assert_eq!(code(&v), "FORBIDDEN", "no orders at another shop: {v:#}");
    assert_eq!(
        order_count(&app, &admin).await,
        2,
        "nothing more was placed"
    );
}
on_every_backend!(
    shop_restricted_keys_see_only_their_shops_test,
    shop_restricted_keys_see_only_their_shops,
    by_backend
);

async fn idempotency_keys_revocation_and_audit(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, locked).await;
    let admin = cli_key(&app, "ops", "admin", None);
    app.use_key(&admin);
    let shop = shop_detail(&app, &shop_ids(&app, "北京", None).await[0]).await;
    let (_, one) = api_key(
        &app,
        &admin,
        json!({"name": "one", "scopes": ["ORDERS_WRITE"]}),
    )
    .await;
    let (two_id, two) = api_key(
        &app,
        &admin,
        json!({"name": "two", "scopes": ["ORDERS_WRITE"]}),
    )
    .await;

    // The same idempotency key from two callers: two orders, neither sees the other's.
    let first =
        place(&app, &one, &shop, Some("same")).await["data"]["createOrder"]["order"]["id"].clone();
    let again =
        place(&app, &one, &shop, Some("same")).await["data"]["createOrder"]["order"]["id"].clone();
    let other =
        place(&app, &two, &shop, Some("same")).await["data"]["createOrder"]["order"]["id"].clone();
    assert_eq!(first, again, "a retry by the same caller replays its order");
    assert_ne!(
        first, other,
        "another caller's key does not reach this order"
    );
    assert_eq!(order_count(&app, &admin).await, 2);

    // A refusal and a denial, then revocation.
    let mut bad = order_input(&shop, None);
    bad["contact"]["phone"] = json!("call me");
    let (_, v) = app
        .gql_as(Some(&two), CREATE_ORDER, json!({"input": bad}))
        .await;
    assert_eq!(
        v["data"]["createOrder"]["userErrors"][0]["code"], "INVALID_INPUT",
        "{v:#}"
    );
    let (_, v) = app
        .gql_as(
            Some(&two),
            "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { key { id } } }",
            json!({"i": {"id": two_id}}),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v:#}");
    let (_, v) = app
        .gql_as(Some(&admin), "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { key { id revokedAt } userErrors { code } } }", json!({"i": {"id": two_id}}))
        .await;
    assert!(
        v["data"]["revokeApiKey"]["key"]["revokedAt"].is_string(),
        "{v:#}"
    );
    let (status, v) = app.gql_as(Some(&two), "{ __typename }", json!({})).await;
    assert_eq!((status, code(&v)), (401, "UNAUTHENTICATED"), "{v:#}");
    assert!(
        cli(&app, &["list"])
            .lines()
            .any(|l| l.contains(" two ") && l.contains("revoked"))
    );

    // Every mutation is in the audit log, newest first, with who, what and how it ended.
    let (_, v) = app
        .gql_as(
            Some(&admin),
            "{ auditLog(first: 20) { caller operation target outcome apiKeyId } }",
            json!({}),
        )
        .await;
    let log: Vec<(String, String, String)> = v["data"]["auditLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["caller"].as_str().unwrap().to_owned(),
                e["operation"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |c: &str, o: &str, out: &str| (c.to_owned(), o.to_owned(), out.to_owned());
    assert_eq!(
        log,
        [
            expect("ops", "revokeApiKey", "ok"),
            expect("two", "revokeApiKey", "denied:FORBIDDEN"),
            expect("two", "createOrder", "refused:INVALID_INPUT"),
            expect("two", "createOrder", "ok"),
            expect("one", "createOrder", "ok"),
            expect("one", "createOrder", "ok"),
            expect("ops", "createApiKey", "ok"),
            expect("ops", "createApiKey", "ok"),
        ],
        "{v:#}"
    );
    let target = v["data"]["auditLog"][0]["target"].as_str().unwrap();
    assert!(target.contains(&two_id), "{target}");
    let created = v["data"]["auditLog"][4]["target"].as_str().unwrap();
    assert!(
        created.contains("shopId") && created.contains("same"),
        "{created}"
    );
}
on_every_backend!(
    idempotency_keys_revocation_and_audit_test,
    idempotency_keys_revocation_and_audit,
    by_backend
);

/// Keyless calls are for a loopback, all-sandbox server only: bound to every address, the
/// same default configuration requires keys.
async fn anonymous_only_on_loopback(backend: crate::helpers::Backend) {
    let open = TestApp::spawn(backend).await;
    let (status, v) = open.gql_as(None, "{ __typename }", json!({})).await;
    assert_eq!(
        (status, v["data"]["__typename"].as_str()),
        (200, Some("Query"))
    );
    let app = TestApp::spawn_with(backend, |c| {
        c.server.host = std::net::IpAddr::from([0, 0, 0, 0]);
        c.dada.import_shops = Some(Vec::new());
    })
    .await;
    let (status, v) = app.gql_as(None, "{ __typename }", json!({})).await;
    assert_eq!((status, code(&v)), (401, "UNAUTHENTICATED"), "{v:#}");
}
on_every_backend!(
    anonymous_only_on_loopback_test,
    anonymous_only_on_loopback,
    by_backend
);
