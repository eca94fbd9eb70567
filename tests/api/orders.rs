//! createOrder against the Daoway sandbox: the happy path, idempotency, every refusal (none
//! of which changes anything), and cancelOrder's capability check.

use serde_json::{Value, json};

use crate::{
    helpers::{CREATE_ORDER, TestApp, find_shop, order_input, plain_shop},
    on_every_backend,
};

async fn order_count(app: &TestApp) -> usize {
    let d = app
        .gql_ok(
            "{ orders(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    d["orders"]["edges"].as_array().unwrap().len()
}

async fn sandbox_order_count(app: &TestApp) -> usize {
    app.control_get("/_control/orders")
        .await
        .as_array()
        .map_or(0, Vec::len)
}

async fn create(app: &TestApp, input: Value) -> Value {
    app.gql_ok(CREATE_ORDER, json!({ "input": input })).await["createOrder"].clone()
}

fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn creates_an_order(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let balance = app.balance_fen().await;
    let payload = create(&app, order_input(&shop, None)).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload:#}");
    let order = &payload["order"];
    assert_eq!(order["provider"], "DAOWAY");
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["rawStatus"], "PENDING_CONFIRM");
    assert_eq!(order["direction"], "OUTBOUND");
    assert_eq!(order["kind"], "SERVICE");
    assert_eq!(order["shop"]["id"], shop["id"]);
    let price = &shop["prices"][0];
    let items_total =
        price["amount"]["fen"].as_i64().unwrap() * price["minBuyNum"].as_i64().unwrap();
    assert_eq!(order["amounts"]["itemsTotal"]["fen"], items_total);
    // The call-out fee rule: charged unless a positive threshold is reached.
    let fix = shop["fees"]["fixFee"]["fen"].as_i64().unwrap();
    let free_from = shop["fees"]["noFixFeePrice"]["fen"].as_i64().unwrap();
    let fee = if free_from > 0 && items_total >= free_from {
        0
    } else {
        fix
    };
    assert_eq!(order["amounts"]["fee"]["fen"], fee);
    assert_eq!(order["amounts"]["total"]["fen"], items_total + fee);
    assert_eq!(
        order["amounts"]["balanceAfter"]["fen"],
        balance - items_total - fee
    );
    assert_eq!(
        app.balance_fen().await,
        balance - items_total - fee,
        "the pre-paid account was debited"
    );
    assert_eq!(order["events"][0]["toStatus"], "PENDING");
    assert_eq!(order["events"][0]["source"], "CREATE");
    // The sandbox has it, under the same id.
    let ext = order["externalId"].as_str().unwrap();
    let seen = app.control_get(&format!("/_control/orders/{ext}")).await;
    assert_eq!(seen["status"], "PENDING_CONFIRM");
    // And it reads back by id.
    let back = app.gql_ok("query($id: ID!) { order(id: $id) { id externalId contact { name phone } address { city } note } }", json!({"id": order["id"]})).await;
    assert_eq!(back["order"]["externalId"], ext);
    assert_eq!(back["order"]["contact"]["name"], "张三");
}
on_every_backend!(creates_an_order_test, creates_an_order);

async fn fee_rules(app: TestApp) {
    // A shop with a call-out fee waived above a threshold: below it the fee is charged.
    let shop = find_shop(&app, |d| {
        plain_shop(d)
            && d["fees"]["fixFee"]["fen"].as_i64() > Some(0)
            && d["fees"]["noFixFeePrice"]["fen"].as_i64() > Some(0)
    })
    .await;
    let fix = shop["fees"]["fixFee"]["fen"].as_i64().unwrap();
    let threshold = shop["fees"]["noFixFeePrice"]["fen"].as_i64().unwrap();
    let price = &shop["prices"][0];
    let unit = price["amount"]["fen"].as_i64().unwrap();
    let min = price["minBuyNum"].as_i64().unwrap();
    let mut input = order_input(&shop, None);
    let small = create(&app, input.clone()).await;
    let small_total = unit * min;
    let expect_fee = if small_total >= threshold { 0 } else { fix };
    assert_eq!(
        small["order"]["amounts"]["fee"]["fen"], expect_fee,
        "{small:#}"
    );
    // Enough to reach the threshold: no fee.
    let qty = (threshold + unit - 1) / unit;
    input["items"][0]["quantity"] = json!(qty.max(min));
    let big = create(&app, input).await;
    assert_eq!(big["order"]["amounts"]["fee"]["fen"], 0, "{big:#}");
}
on_every_backend!(fee_rules_test, fee_rules);

async fn idempotency_key(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let input = order_input(&shop, Some("order-abc-1"));
    let first = create(&app, input.clone()).await;
    let second = create(&app, input.clone()).await;
    assert_eq!(first["order"]["id"], second["order"]["id"]);
    assert_eq!(
        sandbox_order_count(&app).await,
        1,
        "the platform saw one order"
    );
    // Same key, different request.
    let mut other = input.clone();
    other["note"] = json!("另一个请求");
    let third = create(&app, other).await;
    assert_eq!(codes(&third), ["IDEMPOTENCY_KEY_REUSED"]);
    assert_eq!(
        third["userErrors"][0]["field"],
        json!(["input", "idempotencyKey"])
    );
    // Concurrent requests with one key: one order.
    let key_input = order_input(&shop, Some("order-abc-2"));
    let results = futures::future::join_all((0..4).map(|_| create(&app, key_input.clone()))).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .filter_map(|r| r["order"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 1, "{results:#?}");
    for r in &results {
        assert!(
            r["order"]["id"].is_string() || codes(r) == ["IDEMPOTENCY_KEY_IN_USE"],
            "{r:#}"
        );
    }
    assert_eq!(sandbox_order_count(&app).await, 2);
}
on_every_backend!(idempotency_key_test, idempotency_key);

async fn refusals_change_nothing(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let balance = app.balance_fen().await;
    let good = order_input(&shop, None);

    let mut cases: Vec<(Value, &str, Value)> = Vec::new();
    let mut v = good.clone();
    v["shopId"] = json!("not-an-id");
    cases.push((v, "INVALID_INPUT", json!(["input", "shopId"])));
    let mut v = good.clone();
    v["shopId"] = json!("U2hvcDo5OTk5OTk"); // Shop:999999
    cases.push((v, "NOT_FOUND", json!(["input", "shopId"])));
    let mut v = good.clone();
    v["items"][0]["priceId"] = json!("UHJpY2U6OTk5OTk5"); // Price:999999
    cases.push((
        v,
        "UNKNOWN_PRICE",
        json!(["input", "items", "0", "priceId"]),
    ));
    let mut v = good.clone();
    v["items"][0]["quantity"] = json!(0);
    cases.push((
        v,
        "INVALID_INPUT",
        json!(["input", "items", "0", "quantity"]),
    ));
    let mut v = good.clone();
    v["items"] = json!([]);
    cases.push((v, "INVALID_INPUT", json!(["input", "items"])));
    let mut v = good.clone();
    v["contact"]["phone"] = json!("call me");
    cases.push((v, "INVALID_INPUT", json!(["input", "contact", "phone"])));
    let mut v = good.clone();
    v["address"]["street"] = json!("  ");
    cases.push((v, "INVALID_INPUT", json!(["input", "address", "street"])));
    let mut v = good.clone();
    v["appointTime"] = json!(chrono::Utc::now().to_rfc3339());
    cases.push((v, "APPOINTMENT_TOO_SOON", json!(["input", "appointTime"])));

    for (input, code, field) in cases {
        let p = create(&app, input.clone()).await;
        assert!(p["order"].is_null(), "{p:#}");
        assert!(codes(&p).contains(&code.to_owned()), "{input} → {p:#}");
        let e = p["userErrors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == code)
            .unwrap();
        assert_eq!(e["field"], field, "{p:#}");
    }

    // Below a price's minimum quantity.
    let multi = find_shop(&app, |d| {
        d["prices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["minBuyNum"].as_i64() >= Some(2))
    })
    .await;
    let idx = multi["prices"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p["minBuyNum"].as_i64() >= Some(2))
        .unwrap();
    let mut v = order_input(&multi, None);
    v["items"] = json!([{"priceId": multi["prices"][idx]["id"], "quantity": 1}]);
    assert!(codes(&create(&app, v).await).contains(&"BELOW_MINIMUM_QUANTITY".to_owned()));

    // Below the shop's minimum amount.
    let min_shop = find_shop(&app, |d| {
        let min = d["fees"]["minBuyPrice"]["fen"].as_i64().unwrap_or(0);
        min > 0
            && d["prices"].as_array().unwrap().iter().any(|p| {
                p["amount"]["fen"].as_i64().unwrap() * p["minBuyNum"].as_i64().unwrap() < min
            })
    })
    .await;
    let min = min_shop["fees"]["minBuyPrice"]["fen"].as_i64().unwrap();
    let p = min_shop["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["amount"]["fen"].as_i64().unwrap() * p["minBuyNum"].as_i64().unwrap() < min)
        .unwrap();
    let mut v = order_input(&min_shop, None);
    v["items"] = json!([{"priceId": p["id"], "quantity": p["minBuyNum"]}]);
    assert!(codes(&create(&app, v).await).contains(&"BELOW_MINIMUM_AMOUNT".to_owned()));

    // Outside the service hours, and on a closed day.
    let mut v = good.clone();
    let slot: chrono::DateTime<chrono::Utc> =
        good["appointTime"].as_str().unwrap().parse().unwrap();
    v["appointTime"] = json!((slot + chrono::Duration::hours(15)).to_rfc3339()); // 00:00–04:00 China time
    assert!(codes(&create(&app, v).await).contains(&"OUTSIDE_SERVICE_HOURS".to_owned()));
    let weekdays = find_shop(&app, |d| {
        plain_shop(d) && d["hours"]["days"].as_array().unwrap().len() < 7
    })
    .await;
    let open: Vec<i64> = weekdays["hours"]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect();
    let mut v = order_input(&weekdays, None);
    let mut t: chrono::DateTime<chrono::Utc> = v["appointTime"].as_str().unwrap().parse().unwrap();
    use chrono::Datelike;
    while open.contains(
        &(t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .weekday()
            .num_days_from_monday() as i64),
    ) {
        t += chrono::Duration::days(1);
    }
    v["appointTime"] = json!(t.to_rfc3339());
    assert!(codes(&create(&app, v).await).contains(&"OUTSIDE_SERVICE_HOURS".to_owned()));

    // Short balance: the platform refuses, its message is kept.
    app.control_put("/_control/accounts/apitest", json!({"balanceFen": 100}))
        .await;
    let p = create(&app, good.clone()).await;
    assert_eq!(codes(&p), ["INSUFFICIENT_BALANCE"], "{p:#}");
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("余额不足")
    );
    app.control_put("/_control/accounts/apitest", json!({"balanceFen": balance}))
        .await;

    // Platform down: a clear error, no order.
    app.control_put("/_control/faults", json!({"errorRate": 1.0}))
        .await;
    let p = create(&app, good.clone()).await;
    assert_eq!(codes(&p), ["PROVIDER_UNAVAILABLE"], "{p:#}");
    app.control_put("/_control/faults", json!({"errorRate": 0.0}))
        .await;

    assert_eq!(
        order_count(&app).await,
        0,
        "no refusal left an order behind"
    );
    assert_eq!(sandbox_order_count(&app).await, 0);
    assert_eq!(app.balance_fen().await, balance);
}
on_every_backend!(refusals_change_nothing_test, refusals_change_nothing);

async fn cancel_is_unsupported_on_daoway(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let order = create(&app, order_input(&shop, None)).await["order"].clone();
    let q = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { id } userErrors { field code message } } }";
    let p = app
        .gql_ok(
            q,
            json!({"i": {"orderId": order["id"], "reason": "不需要了"}}),
        )
        .await["cancelOrder"]
        .clone();
    assert_eq!(
        p["userErrors"][0]["code"], "UNSUPPORTED_BY_PROVIDER",
        "{p:#}"
    );
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("notification")
    );
    let p = app.gql_ok(q, json!({"i": {"orderId": "nope"}})).await["cancelOrder"].clone();
    assert_eq!(p["userErrors"][0]["code"], "INVALID_INPUT");
    let p = app
        .gql_ok(q, json!({"i": {"orderId": "T3JkZXI6OTk5OTk"}}))
        .await["cancelOrder"]
        .clone();
    assert_eq!(p["userErrors"][0]["code"], "NOT_FOUND");
    let still = app
        .gql_ok(
            "query($id: ID!) { order(id: $id) { status } }",
            json!({"id": order["id"]}),
        )
        .await;
    assert_eq!(still["order"]["status"], "PENDING");
}
on_every_backend!(cancel_is_unsupported_test, cancel_is_unsupported_on_daoway);
