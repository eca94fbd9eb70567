//! Dada deliveries end to end over HTTP: dispatch (direct and from a quote), every status
//! through the sandbox's signed callbacks and on `orderStatusChanged`, the callback route's
//! guarantees (signature, duplicates, out-of-order, unknown orders, malformed bodies), lost
//! callbacks caught by the poller, cancellation with its penalty, re-dispatch, and the
//! courier's request to cancel answered by hand and by policy.

use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::{helpers::TestApp, on_every_backend};

const ORDER_FIELDS: &str = "id status rawStatus kind provider
    delivery { originId platformOrderId dispatchRound cityCode cargoWeightKg distanceMeters
               fees { total { fen } deliveryFee { fen } tips { fen } penalty { fen } }
               courierCancellation { reason answer } }
    courier { id name phone position { lng lat } }
    events { kind fromStatus toStatus rawStatus source applied }";

pub async fn dispatch(app: &TestApp, shop: &str, extra: Value) -> Value {
    let mut delivery = json!({
        "shopId": shop,
        "receiver": {
            "name": "张三",
            "phone": "13800000000",
            "address": "上海市浦东新区世纪大道100号",
            "location": { "lng": 121.5300, "lat": 31.2300 }
        },
        "cargoPriceFen": 5000,
        "cargoWeightKg": 1.5,
    });
    if let (Some(d), Some(e)) = (delivery.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    let q = format!(
        "mutation($input: DispatchDeliveryInput!) {{ dispatchDelivery(input: $input) {{
            order {{ {ORDER_FIELDS} }} userErrors {{ field message code platformCode }} }} }}"
    );
    app.gql_ok(&q, json!({ "input": { "delivery": delivery } }))
        .await["dispatchDelivery"]
        .clone()
}

pub async fn order(app: &TestApp, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}");
    app.gql_ok(&q, json!({ "id": id })).await["order"].clone()
}

/// Waits until the order's raw status is `raw`.
pub async fn wait_raw(app: &TestApp, id: &str, raw: &str) -> Value {
    app.eventually(10, || async {
        let o = order(app, id).await;
        (o["rawStatus"] == raw).then_some(o)
    })
    .await
}

pub fn origin_of(o: &Value) -> String {
    o["delivery"]["originId"]
        .as_str()
        .expect("originId")
        .to_owned()
}

pub async fn control(app: &TestApp, origin: &str, action: &str, body: Value) -> Value {
    let (status, v) = app
        .dada_post(&format!("/_control/orders/{origin}/{action}"), body)
        .await;
    assert_eq!(status, 200, "{action}: {v}");
    v
}

/// Dada's callback signature, computed here on its own: the values of client_id, order_id
/// and update_time sorted as strings, joined, MD5, lower-case hex.
fn callback_signature(client_id: &str, order_id: &str, update_time: &str) -> String {
    let mut parts = [client_id, order_id, update_time];
    parts.sort_unstable();
    Md5::digest(parts.concat().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn callback_body(order_id: &str, status: i64, update_time: i64, signed: bool) -> Value {
    let client_id = "DD-TEST-1";
    let ts = update_time.to_string();
    let signature = if signed {
        callback_signature(client_id, order_id, &ts)
    } else {
        "0".repeat(32)
    };
    json!({
        "client_id": client_id,
        "order_id": order_id,
        "order_status": status,
        "repeat_reason_type": 0,
        "cancel_reason": "",
        "cancel_from": 0,
        "update_time": update_time,
        "signature": signature,
        "dm_id": 666,
        "dm_name": "测试骑士",
        "dm_mobile": "13900000001",
        "finish_code": ""
    })
}

/// The order's own callback URL (with its token), as the sandbox was given it.
async fn callback_url(app: &TestApp, origin: &str) -> String {
    let view = app.dada_get(&format!("/_control/orders/{origin}")).await;
    view["callbackUrl"]
        .as_str()
        .expect("callbackUrl")
        .to_owned()
}

async fn post_callback(app: &TestApp, url: &str, body: &Value) -> (u16, Value) {
    let r = app
        .http
        .post(url)
        .json(body)
        .send()
        .await
        .expect("callback");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn a_full_delivery(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let mut sub = app
        .subscribe(
            "subscription { orderStatusChanged(filter: {provider: DADA}) { orderId oldStatus newStatus rawStatus kind source } }",
            json!({}),
        )
        .await;
    let placed = dispatch(&app, &shop, json!({ "tipFen": 100 })).await;
    assert_eq!(placed["userErrors"], json!([]), "{placed:#}");
    let o = &placed["order"];
    assert_eq!(o["kind"], "DELIVERY");
    assert_eq!(o["provider"], "DADA");
    assert_eq!(o["status"], "PENDING");
    assert_eq!(o["rawStatus"], "1");
    assert_eq!(
        o["delivery"]["cityCode"], "021",
        "defaults to the store's city"
    );
    assert_eq!(o["delivery"]["cargoWeightKg"], "1.5");
    assert_eq!(o["delivery"]["fees"]["tips"]["fen"], 100);
    let total = o["delivery"]["fees"]["total"]["fen"].as_i64().unwrap();
    assert!(total > 100, "fee includes freight: {o:#}");
    assert!(o["delivery"]["distanceMeters"].as_i64().unwrap() > 0);
    let id = o["id"].as_str().unwrap().to_owned();
    let origin = origin_of(o);

    // The sandbox charged exactly what we show.
    let view = app.dada_get(&format!("/_control/orders/{origin}")).await;
    assert_eq!(view["paidFen"].as_i64(), Some(total), "{view:#}");
    let url = view["callbackUrl"].as_str().unwrap();
    let token = url
        .strip_prefix(&format!("{}/callbacks/dada/status/", app.base))
        .unwrap_or_default();
    assert!(
        token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "each order has its own callback URL: {url}"
    );

    let mut seen = Vec::new();
    let first = sub.next(10).await;
    seen.push(first["data"]["orderStatusChanged"]["newStatus"].clone());

    control(&app, &origin, "accept", json!({})).await;
    let accepted = wait_raw(&app, &id, "2").await;
    assert_eq!(accepted["status"], "ACCEPTED");
    assert!(
        accepted["courier"]["name"].as_str().is_some(),
        "{accepted:#}"
    );
    assert!(accepted["courier"]["phone"].as_str().is_some());
    assert!(
        accepted["delivery"]["platformOrderId"].as_str().is_some(),
        "waybill number stored: {accepted:#}"
    );

    // Live courier position and track link.
    let live = app
        .gql_ok(
            "query($id: ID!) { order(id: $id) { courierPosition { lng lat } trackUrl } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        live["order"]["courierPosition"]["lng"].as_f64().is_some(),
        "{live:#}"
    );
    let track = live["order"]["trackUrl"].as_str().expect("trackUrl");
    let page = app.http.get(track).send().await.unwrap();
    assert!(page.status().is_success(), "track page {track}");

    // One request calls the platform at most limits.platform_calls_per_request (10) times:
    // the 11th alias answers PLATFORM_CALL_BUDGET beside the others' data.
    let aliases: String = (0..11)
        .map(|i| format!("p{i}: courierPosition {{ lng }} "))
        .collect();
    let v = app
        .gql(
            &format!("query($id: ID!) {{ order(id: $id) {{ {aliases} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let answered = (0..11)
        .filter(|i| v["data"]["order"][format!("p{i}")]["lng"].is_f64())
        .count();
    assert_eq!(answered, 10, "{v:#}");
    let errors = v["errors"].as_array().expect("one refused alias");
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0]["extensions"]["code"], "PLATFORM_CALL_BUDGET");

    // Dada has no cancellation preview, and says so in its capabilities: the mutation is
    // refused the same way.
    let v = app
        .gql_ok(
            "mutation($input: PreviewCancellationInput!) { previewCancellation(input: $input) { userErrors { code } } }",
            json!({"input": {"orderId": id}}),
        )
        .await;
    assert_eq!(
        v["previewCancellation"]["userErrors"][0]["code"], "UNSUPPORTED_BY_PROVIDER",
        "{v}"
    );

    control(&app, &origin, "arrive", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "100").await["status"], "ARRIVED");
    control(&app, &origin, "fetch", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "3").await["status"], "IN_PROGRESS");
    control(&app, &origin, "finish", json!({})).await;
    let done = wait_raw(&app, &id, "4").await;
    assert_eq!(done["status"], "COMPLETED");

    // Every change reached the subscriber, in order, each once.
    while seen.len() < 5 {
        let m = sub.next(10).await;
        let c = &m["data"]["orderStatusChanged"];
        assert_eq!(c["orderId"], id.as_str());
        seen.push(c["newStatus"].clone());
    }
    assert_eq!(
        seen,
        vec![
            json!("PENDING"),
            json!("ACCEPTED"),
            json!("ARRIVED"),
            json!("IN_PROGRESS"),
            json!("COMPLETED")
        ]
    );
    sub.assert_quiet(300).await;
}
on_every_backend!(a_full_delivery_test, a_full_delivery);

async fn callback_route_guarantees(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    let now = chrono::Utc::now().timestamp() + 5;
    let url = callback_url(&app, &origin).await;

    // Without the order's token, or with another order's, nothing is read.
    let signed = callback_body(&origin, 3, now, true);
    let tokenless = format!("{}/callbacks/dada/status", app.base);
    assert_eq!(post_callback(&app, &tokenless, &signed).await.0, 403);
    let other = dispatch(&app, &shop, json!({})).await;
    let other_url = callback_url(&app, &origin_of(&other["order"])).await;
    assert_eq!(post_callback(&app, &other_url, &signed).await.0, 403);
    let guessed = format!("{tokenless}/{}", "0".repeat(32));
    assert_eq!(post_callback(&app, &guessed, &signed).await.0, 403);
    assert_eq!(order(&app, &id).await["rawStatus"], "1");

    // A bad signature is refused with a non-200 and changes nothing.
    let forged = callback_body(&origin, 4, now, false);
    let (status, body) = post_callback(&app, &url, &forged).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(order(&app, &id).await["rawStatus"], "1");

    // Malformed bodies and unknown orders: non-200, nothing stored.
    let r = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let mut missing = callback_body(&origin, 3, now, true);
    missing.as_object_mut().unwrap().remove("order_status");
    assert_eq!(post_callback(&app, &url, &missing).await.0, 400);
    let (status, _) = post_callback(&app, &url, &callback_body("NOT-OURS", 3, now, true)).await;
    assert_eq!(status, 403, "not that order's URL");
    let unknown_status = callback_body(&origin, 42, now, true);
    assert_eq!(post_callback(&app, &url, &unknown_status).await.0, 400);
    let events_before = order(&app, &id).await["events"].as_array().unwrap().len();
    assert_eq!(
        events_before, 2,
        "dispatch + the sandbox's status-1 callback"
    );

    // A valid callback moves the order and stores the courier; its repeat changes nothing.
    let delivering = callback_body(&origin, 3, now, true);
    let (status, body) = post_callback(&app, &url, &delivering).await;
    assert_eq!((status, body), (200, json!({ "status": "ok" })));
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "IN_PROGRESS");
    assert_eq!(o["courier"]["name"], "测试骑士");
    assert_eq!(o["courier"]["id"], "666");
    let (status, _) = post_callback(&app, &url, &delivering).await;
    assert_eq!(status, 200, "a repeat is acknowledged");
    let o = order(&app, &id).await;
    assert_eq!(o["events"].as_array().unwrap().len(), events_before + 1);

    // An older callback (accepted, dated before) arrives late: kept in the timeline, not applied.
    let late = callback_body(&origin, 2, now - 10, true);
    assert_eq!(post_callback(&app, &url, &late).await.0, 200);
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "IN_PROGRESS", "never moves backwards");
    let events = o["events"].as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last["rawStatus"], "2");
    assert_eq!(last["applied"], false);

    // A final status Dada's own order query does not confirm is refused, changing nothing
    // (Dada retries; a forger gets nowhere)...
    let (status, body) = post_callback(&app, &url, &callback_body(&origin, 5, now + 1, true)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(order(&app, &id).await["status"], "IN_PROGRESS");
    assert!(
        app.metric("orderhub_callbacks_total{provider=\"DADA\",outcome=\"unconfirmed\"}")
            .await
            >= 1.0
    );
    // ... and the ones Dada confirms apply: the platform really moved the other order to its
    // end, and its own (tokened) callbacks say so.
    let other_id = other["order"]["id"].as_str().unwrap().to_owned();
    let other_origin = origin_of(&other["order"]);
    for step in ["accept", "fetch", "finish"] {
        control(&app, &other_origin, step, json!({})).await;
    }
    assert_eq!(wait_raw(&app, &other_id, "4").await["status"], "COMPLETED");
    assert!(
        app.metric("orderhub_callbacks_total{provider=\"DADA\",outcome=\"duplicate\"}")
            .await
            >= 1.0
    );
}
on_every_backend!(callback_route_guarantees_test, callback_route_guarantees);

async fn sandbox_faults_change_nothing(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    // Every callback sent twice, and held back to arrive after the next one.
    app.dada_put(
        "/_control/faults",
        json!({ "duplicateCallbackRate": 1.0, "outOfOrderRate": 0.0 }),
    )
    .await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&app, &origin, "accept", json!({})).await;
    wait_raw(&app, &id, "2").await;
    control(&app, &origin, "fetch", json!({})).await;
    wait_raw(&app, &id, "3").await;
    // Let every duplicate land.
    app.eventually(10, || async {
        let v = app.dada_get(&format!("/_control/orders/{origin}")).await;
        v["callbacks"]
            .as_array()?
            .iter()
            .all(|c| c["delivered"] == true && c["copiesDelivered"] == 2)
            .then_some(())
    })
    .await;
    let o = order(&app, &id).await;
    let applied: Vec<&Value> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["applied"] == true)
        .map(|e| &e["rawStatus"])
        .collect();
    assert_eq!(applied, vec!["1", "2", "3"], "{o:#}");

    // Out of order: the accept callback is held back until after the pick-up one.
    app.dada_put(
        "/_control/faults",
        json!({ "duplicateCallbackRate": 0.0, "outOfOrderRate": 1.0 }),
    )
    .await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&app, &origin, "accept", json!({})).await;
    control(&app, &origin, "fetch", json!({})).await;
    // The last callback goes straight out: held, it would have no successor to follow and
    // would wait out the sandbox's whole hold (as long as this test's patience).
    app.dada_put(
        "/_control/faults",
        json!({ "duplicateCallbackRate": 0.0, "outOfOrderRate": 0.0 }),
    )
    .await;
    control(&app, &origin, "finish", json!({})).await;
    callbacks_delivered(&app, &origin).await;
    let v = app.dada_get(&format!("/_control/orders/{origin}")).await;
    assert!(
        v["callbacks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["outOfOrder"] == true),
        "the accept callback was held back: {v:#}"
    );
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "COMPLETED", "{o:#}");
    assert!(
        o["courier"]["name"].as_str().is_some(),
        "courier known even when the accept callback came late"
    );
}
on_every_backend!(
    sandbox_faults_change_nothing_test,
    sandbox_faults_change_nothing
);

async fn lost_callbacks(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, |c| c.dada.poll_interval_ms = 300).await;
    let shop = app.dada_shop("11047059").await;
    app.dada_put("/_control/faults", json!({ "dropCallbackRate": 1.0 }))
        .await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&app, &origin, "accept", json!({})).await;
    let o = wait_raw(&app, &id, "2").await;
    assert_eq!(o["status"], "ACCEPTED");
    assert!(o["courier"]["name"].as_str().is_some(), "{o:#}");
    let polled = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["source"] == "POLL" && e["applied"] == true);
    assert!(polled, "applied by the poller: {o:#}");
}

on_every_backend!(lost_callbacks_test, lost_callbacks, by_backend);

async fn quote_then_dispatch(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let q = app
        .gql_ok(
            "mutation($input: QuoteDeliveryInput!) { quoteDelivery(input: $input) {
                quote { id originId platformQuoteId distanceMeters expiresAt
                        fees { total { fen } deliveryFee { fen } } }
                userErrors { code platformCode message } } }",
            json!({ "input": { "delivery": {
                "shopId": shop,
                "receiver": { "name": "李四", "phone": "13800000001", "address": "上海市黄浦区南京东路1号" },
                "cargoPriceFen": 1000, "cargoWeightKg": 2
            } } }),
        )
        .await;
    let quote = &q["quoteDelivery"]["quote"];
    assert_eq!(q["quoteDelivery"]["userErrors"], json!([]), "{q:#}");
    let n = app
        .gql_ok(
            "query($id: ID!) { node(id: $id) { __typename ... on DeliveryQuote { originId } } }",
            json!({ "id": quote["id"] }),
        )
        .await;
    assert_eq!(n["node"]["__typename"], "DeliveryQuote", "{n:#}");
    assert_eq!(n["node"]["originId"], quote["originId"], "{n:#}");
    let fee = quote["fees"]["total"]["fen"].as_i64().unwrap();
    assert!(fee > 0);
    let expires: chrono::DateTime<chrono::Utc> =
        quote["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(
        left.num_seconds() > 150 && left.num_seconds() <= 180,
        "{left}"
    );

    let d = app
        .gql_ok(
            "mutation($q: ID!) { dispatchDelivery(input: {quoteId: $q}) {
                order { id rawStatus delivery { originId fees { total { fen } } } }
                userErrors { code platformCode } } }",
            json!({ "q": quote["id"] }),
        )
        .await;
    let o = &d["dispatchDelivery"]["order"];
    assert_eq!(d["dispatchDelivery"]["userErrors"], json!([]), "{d:#}");
    assert_eq!(o["delivery"]["originId"], quote["originId"]);
    assert_eq!(o["delivery"]["fees"]["total"]["fen"].as_i64(), Some(fee));

    // The same quote again: refused, nothing new.
    let again = app
        .gql_ok(
            "mutation($q: ID!) { dispatchDelivery(input: {quoteId: $q}) { order { id } userErrors { code } } }",
            json!({ "q": quote["id"] }),
        )
        .await;
    assert_eq!(
        again["dispatchDelivery"]["userErrors"][0]["code"],
        "ALREADY_DISPATCHED"
    );
}
on_every_backend!(quote_then_dispatch_test, quote_then_dispatch);

async fn idempotent_dispatch(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let input = json!({ "idempotencyKey": "k-1", "delivery": {
        "shopId": shop,
        "receiver": { "name": "王五", "phone": "13800000002", "address": "上海市徐汇区1号" },
        "cargoPriceFen": 100, "cargoWeightKg": 1
    }});
    let q = "mutation($input: DispatchDeliveryInput!) { dispatchDelivery(input: $input) { order { id } userErrors { code } } }";
    let a = app.gql_ok(q, json!({ "input": input })).await;
    let b = app.gql_ok(q, json!({ "input": input })).await;
    assert_eq!(
        a["dispatchDelivery"]["order"]["id"],
        b["dispatchDelivery"]["order"]["id"]
    );
    let all = app.dada_get("/_control/orders").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "one order at Dada");
}
on_every_backend!(idempotent_dispatch_test, idempotent_dispatch);

async fn cancel_with_penalty_and_redispatch(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let reasons = app
        .gql_ok("{ deliveryCancelReasons { id text } }", json!({}))
        .await;
    assert!(
        reasons["deliveryCancelReasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == 10000)
    );

    // Accepted 5 minutes ago: the courier keeps 2 yuan.
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&app, &origin, "accept", json!({})).await;
    wait_raw(&app, &id, "2").await;
    control(&app, &origin, "age", json!({ "secs": 300 })).await;
    let c = app
        .gql_ok(
            "mutation($id: ID!) { cancelOrder(input: {orderId: $id, reasonId: 4}) {
                order { status rawStatus delivery { fees { penalty { fen } } } }
                penalty { fen } userErrors { code platformCode message } } }",
            json!({ "id": id }),
        )
        .await;
    let p = &c["cancelOrder"];
    assert_eq!(p["userErrors"], json!([]), "{c:#}");
    assert_eq!(p["order"]["status"], "CANCELLED");
    let view = app.dada_get(&format!("/_control/orders/{origin}")).await;
    let deducted = view["deductFeeFen"].as_i64().unwrap();
    assert_eq!(deducted, 200, "{view:#}");
    assert_eq!(p["penalty"]["fen"].as_i64(), Some(deducted));
    assert_eq!(
        p["order"]["delivery"]["fees"]["penalty"]["fen"].as_i64(),
        Some(deducted)
    );
    // Dada's own cancellation callback arrives too, and changes nothing more.
    callbacks_delivered(&app, &origin).await;
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "CANCELLED");

    // Cancelled orders can go again, as the same order in a new round.
    let r = app
        .gql_ok(
            "mutation($id: ID!) { redispatchDelivery(input: {orderId: $id}) {
                order { status rawStatus delivery { dispatchRound fees { penalty { fen } } } courier { name } }
                userErrors { code platformCode message } } }",
            json!({ "id": id }),
        )
        .await;
    let o = &r["redispatchDelivery"];
    assert_eq!(o["userErrors"], json!([]), "{r:#}");
    assert_eq!(o["order"]["status"], "PENDING");
    assert_eq!(o["order"]["delivery"]["dispatchRound"], 2);
    assert_eq!(o["order"]["delivery"]["fees"]["penalty"], Value::Null);
    assert_eq!(o["order"]["courier"], Value::Null);
    // The new round moves on as usual.
    control(&app, &origin, "accept", json!({})).await;
    assert_eq!(wait_raw(&app, &id, "2").await["status"], "ACCEPTED");

    // Delivering orders cannot be cancelled: the platform's code, nothing changed.
    control(&app, &origin, "fetch", json!({})).await;
    wait_raw(&app, &id, "3").await;
    let c = app
        .gql_ok(
            "mutation($id: ID!) { cancelOrder(input: {orderId: $id, reasonId: 4}) {
                order { id } userErrors { code platformCode } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(c["cancelOrder"]["userErrors"][0]["platformCode"], "2050");
    assert_eq!(order(&app, &id).await["status"], "IN_PROGRESS");
}
on_every_backend!(
    cancel_with_penalty_and_redispatch_test,
    cancel_with_penalty_and_redispatch
);

async fn courier_asks_to_cancel(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&app, &origin, "accept", json!({})).await;
    wait_raw(&app, &id, "2").await;
    let mut sub = app
        .subscribe(
            "subscription($id: ID!) { orderStatusChanged(filter: {orderId: $id}) { kind newStatus detail } }",
            json!({ "id": id }),
        )
        .await;
    control(
        &app,
        &origin,
        "courier-cancel-request",
        json!({ "reason": "车坏了" }),
    )
    .await;
    let m = sub.next(10).await;
    let c = &m["data"]["orderStatusChanged"];
    assert_eq!(c["kind"], "COURIER_CANCEL_REQUESTED", "{m:#}");
    assert_eq!(c["newStatus"], "ACCEPTED");
    let o = order(&app, &id).await;
    assert_eq!(o["delivery"]["courierCancellation"]["answer"], "PENDING");
    assert_eq!(o["delivery"]["courierCancellation"]["reason"], "车坏了");

    let r = app
        .gql_ok(
            "mutation($id: ID!) { respondToCourierCancellation(input: {orderId: $id, accept: false}) {
                order { delivery { courierCancellation { answer } } } userErrors { code platformCode } } }",
            json!({ "id": id }),
        )
        .await;
    let p = &r["respondToCourierCancellation"];
    assert_eq!(p["userErrors"], json!([]), "{r:#}");
    assert_eq!(
        p["order"]["delivery"]["courierCancellation"]["answer"],
        "REJECTED"
    );
    let m = sub.next(10).await;
    assert_eq!(
        m["data"]["orderStatusChanged"]["kind"],
        "COURIER_CANCEL_ANSWERED"
    );
    let view = app.dada_get(&format!("/_control/orders/{origin}")).await;
    assert!(
        view["courierCancel"].to_string().contains("0") || view["status"] == 2,
        "{view:#}"
    );

    // Answering again: nothing is waiting.
    let r = app
        .gql_ok(
            "mutation($id: ID!) { respondToCourierCancellation(input: {orderId: $id, accept: true}) {
                userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r["respondToCourierCancellation"]["userErrors"][0]["code"],
        "INVALID_STATE"
    );
}
on_every_backend!(courier_asks_to_cancel_test, courier_asks_to_cancel);

async fn courier_cancel_policy(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.dada.courier_cancel_policy = orderhub::orders::CourierCancelPolicy::Accept;
    })
    .await;
    let shop = app.dada_shop("11047059").await;
    // The first answer fails (platform down): the outbox retries it.
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&app, &origin, "accept", json!({})).await;
    wait_raw(&app, &id, "2").await;
    app.dada_put("/_control/faults", json!({ "errorRate": 1.0 }))
        .await;
    control(&app, &origin, "courier-cancel-request", json!({})).await;
    app.eventually(10, || async {
        let o = order(&app, &id).await;
        (o["delivery"]["courierCancellation"]["answer"] == "PENDING").then_some(())
    })
    .await;
    // The outbox has tried the answer and failed at least once before Dada comes back.
    app.eventually(10, || async {
        let rows = app
            .gql_ok(
                "query($id: ID!) { order(id: $id) { outbox { attempts lastError } } }",
                json!({ "id": id }),
            )
            .await["order"]["outbox"]
            .clone();
        rows.as_array()?
            .iter()
            .any(|r| r["attempts"].as_i64() >= Some(1) && !r["lastError"].is_null())
            .then_some(())
    })
    .await;
    app.dada_put("/_control/faults", json!({ "errorRate": 0.0 }))
        .await;
    let o = app
        .eventually(15, || async {
            let o = order(&app, &id).await;
            (o["delivery"]["courierCancellation"]["answer"] == "ACCEPTED").then_some(o)
        })
        .await;
    let answered = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "COURIER_CANCEL_ANSWERED")
        .count();
    assert_eq!(answered, 1, "answered once: {o:#}");
    // Dada cancels the order once the courier may go; it reaches us as a callback.
    let view = app.dada_get(&format!("/_control/orders/{origin}")).await;
    assert!(view["courierCancel"].is_object(), "{view:#}");
}

on_every_backend!(
    courier_cancel_policy_test,
    courier_cancel_policy,
    by_backend
);

async fn callers_outside_the_allow_list(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.dada.callback_allow_ips = vec!["10.0.0.0/8".into()];
    })
    .await;
    let shop = app.dada_shop("11047059").await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    let now = chrono::Utc::now().timestamp() + 5;
    let url = callback_url(&app, &origin).await;
    let (status, body) = post_callback(&app, &url, &callback_body(&origin, 3, now, true)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["msg"], "caller not allowed",
        "refused for the caller, not the URL"
    );
    assert_eq!(order(&app, &id).await["status"], "PENDING");

    let allowed = TestApp::spawn_with(backend, |c| {
        c.dada.callback_allow_ips = vec!["127.0.0.1".into(), "::1".into()];
    })
    .await;
    let shop = allowed.dada_shop("11047059").await;
    let placed = dispatch(&allowed, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let origin = origin_of(&placed["order"]);
    control(&allowed, &origin, "accept", json!({})).await;
    assert_eq!(wait_raw(&allowed, &id, "2").await["status"], "ACCEPTED");
}

on_every_backend!(
    callers_outside_the_allow_list_test,
    callers_outside_the_allow_list,
    by_backend
);

/// Waits until the sandbox has delivered every callback of the order (our route answered).
async fn callbacks_delivered(app: &TestApp, origin: &str) {
    app.eventually(10, || async {
        let v = app.dada_get(&format!("/_control/orders/{origin}")).await;
        v["callbacks"]
            .as_array()?
            .iter()
            .all(|c| c["delivered"] == true)
            .then_some(())
    })
    .await;
}

const SIMULATE: &str =
    "mutation($id: ID!, $s: Int!) { simulateDeliveryStatus(input: {orderId: $id, rawStatus: $s}) {
    order { id } userErrors { code platformCode message } } }";

/// Dada's test-environment simulation, driven through the API: the move arrives as Dada's
/// callback; a status Dada cannot simulate is refused and changes nothing.
async fn simulated_moves(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let placed = dispatch(&app, &shop, json!({})).await;
    let id = placed["order"]["id"].as_str().unwrap().to_owned();
    let r = app.gql_ok(SIMULATE, json!({ "id": id, "s": 2 })).await;
    assert_eq!(
        r["simulateDeliveryStatus"]["userErrors"],
        json!([]),
        "{r:#}"
    );
    let o = wait_raw(&app, &id, "2").await;
    assert_eq!(o["status"], "ACCEPTED");
    let r = app.gql_ok(SIMULATE, json!({ "id": id, "s": 42 })).await;
    assert_eq!(
        r["simulateDeliveryStatus"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    // Fetch before accept is Dada's 2083; here the order is accepted, so fetch works.
    let r = app.gql_ok(SIMULATE, json!({ "id": id, "s": 3 })).await;
    assert_eq!(
        r["simulateDeliveryStatus"]["userErrors"],
        json!([]),
        "{r:#}"
    );
    assert_eq!(wait_raw(&app, &id, "3").await["status"], "IN_PROGRESS");
}
on_every_backend!(simulated_moves_test, simulated_moves);
