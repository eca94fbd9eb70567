//! 58 Daojia end to end over HTTP: orders the sandbox pushes to our intake route (and pushes
//! crafted here, signed with the sandbox's own `sign` module as the independent witness),
//! duplicates sequential and concurrent, the intake's refusals, our staff working the order
//! along 58's two sequences, technicians, and the outbox that syncs every change back —
//! through 5xx, withheld answers, dead rows, a restart and two instances on one database —
//! checked against what the sandbox says it received.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, FixedOffset, TimeDelta, TimeZone, Utc};
use orderhub_sandbox::daojia58::sign;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, wait_until},
    on_every_backend, postgres_only,
};

/// The sandbox's defaults (`Daojia58SandboxConfig::default()`).
const SERVICE_KEY: &str = "2801209652";
const SERVICE_SECRET: &str = "daojia58_sandbox_secret";
const ACCESS_TOKEN: &str = "64256A615F66CC8FBE38AFCFD26EA744";

const ORDER_FIELDS: &str =
    "id externalId provider direction kind status rawStatus note cancelReason
    appointTime serviceEnd
    amounts { itemsTotal { fen } fee { fen } total { fen } }
    items { name externalPriceId unitPrice { fen } quantity amount { fen } }
    contact { name phone } address { city street house }
    courier { name phone }
    events { kind fromStatus toStatus rawStatus source applied }
    outbox { id operation state attempts nextAttemptAt lastError payload sentAt }";

const STATUS_SUB: &str = "subscription($f: StatusChangeFilter) { orderStatusChanged(filter: $f) {
    orderId provider oldStatus newStatus rawStatus source kind order { externalId } } }";

// ------------------------------------------------------------------ the sandbox's control routes

fn dj(app: &TestApp, path: &str) -> String {
    format!("{}/sandbox/daojia58{path}", app.base)
}

async fn dj_post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(dj(app, path))
        .json(&body)
        .send()
        .await
        .expect("58 control route");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn dj_put(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app
        .http
        .put(dj(app, path))
        .json(&body)
        .send()
        .await
        .expect("58 control route");
    assert!(r.status().is_success(), "PUT {path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

async fn dj_get(app: &TestApp, path: &str) -> Value {
    app.http
        .get(dj(app, path))
        .send()
        .await
        .expect("58 control route")
        .json()
        .await
        .expect("json")
}

async fn faults(app: &TestApp, f: Value) {
    dj_put(app, "/_control/faults", f).await;
}

/// `POST /_control/push` with `overrides`; the sandbox's view of the new order.
async fn push(app: &TestApp, overrides: Value) -> Value {
    let (status, view) = dj_post(app, "/_control/push", overrides).await;
    assert_eq!(status, 201, "push: {view}");
    view
}

async fn sandbox_order(app: &TestApp, oid: i64) -> Value {
    dj_get(app, &format!("/_control/orders/{oid}")).await
}

async fn wait_acknowledged(app: &TestApp, oid: i64) -> Value {
    wait_until(
        &format!("58 order {oid} to be acknowledged"),
        Duration::from_secs(15),
        || async {
            let v = sandbox_order(app, oid).await;
            if v["acknowledged"] == true {
                Ok(v)
            } else {
                Err(format!("{:#}", v["deliveries"]))
            }
        },
    )
    .await
}

/// Proves the outbox worker has moved past every row already written: a change of a fresh
/// order, written after them, has been sent. A row that was due (or wrongly retried) would
/// have gone in that pass or an earlier one.
async fn outbox_moved_past(app: &TestApp) {
    let (_, marker) = pushed(app, json!({})).await;
    step(app, "acceptOrder", &marker).await;
    wait_sent(app, &marker, 1).await;
}

/// What the sandbox logged, printable in assertion messages.
struct Log(Vec<Value>);

impl std::ops::Deref for Log {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::fmt::Display for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for u in &self.0 {
            writeln!(
                f,
                "#{} status {} {} code {} http {} withheld {}",
                u["seq"],
                u["orderStatus"],
                u["outcome"],
                u["code"],
                u["httpStatus"],
                u["answerWithheld"]
            )?;
        }
        Ok(())
    }
}

/// Every updateOrderDetail the sandbox received about `oid`, in arrival order.
async fn updates(app: &TestApp, oid: i64) -> Log {
    Log(dj_get(app, &format!("/_control/updates?orderId={oid}"))
        .await
        .as_array()
        .expect("updates")
        .clone())
}

/// `(orderStatus, outcome)` of each update.
fn outcomes(updates: &[Value]) -> Vec<(i64, String)> {
    updates
        .iter()
        .map(|u| {
            (
                u["orderStatus"].as_i64().unwrap_or(-1),
                u["outcome"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

fn applied(statuses: &[i64]) -> Vec<(i64, String)> {
    statuses
        .iter()
        .map(|s| (*s, "applied".to_owned()))
        .collect()
}

// ------------------------------------------------------------------ our side

async fn inbound_orders(app: &TestApp) -> Vec<Value> {
    let q = format!(
        "{{ orders(filter: {{provider: DAOJIA58}}, first: 100) {{ nodes {{ {ORDER_FIELDS} }} }} }}"
    );
    app.gql_ok(&q, json!({})).await["orders"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone()
}

async fn order(app: &TestApp, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}");
    app.gql_ok(&q, json!({ "id": id })).await["order"].clone()
}

/// Whether our order carries 58's `oid`, digit for digit.
fn has_external(o: &Value, oid: i64) -> bool {
    let digits = oid.to_string();
    o["externalId"].as_str() == Some(digits.as_str())
}

/// Our order for 58's `oid`, once it is there.
async fn by_external(app: &TestApp, oid: i64) -> Value {
    app.eventually(10, || async {
        inbound_orders(app)
            .await
            .into_iter()
            .find(|o| has_external(o, oid))
    })
    .await
}

/// A sandbox order pushed and acknowledged: 58's id and ours.
async fn pushed(app: &TestApp, overrides: Value) -> (i64, String) {
    let view = push(app, overrides).await;
    let oid = view["orderId"].as_i64().expect("orderId");
    wait_acknowledged(app, oid).await;
    let o = by_external(app, oid).await;
    (oid, o["id"].as_str().expect("id").to_owned())
}

/// One of the mutations taking `{orderId}`; its payload.
async fn act(app: &TestApp, mutation: &str, id: &str) -> Value {
    let q = format!(
        "mutation($id: ID!) {{ {mutation}(input: {{orderId: $id}}) {{
            order {{ {ORDER_FIELDS} }} userErrors {{ field message code platformCode }} }} }}"
    );
    app.gql_ok(&q, json!({ "id": id })).await[mutation].clone()
}

/// A mutation that must succeed; the order after it.
async fn step(app: &TestApp, mutation: &str, id: &str) -> Value {
    let p = act(app, mutation, id).await;
    assert_eq!(p["userErrors"], json!([]), "{mutation}: {p:#}");
    p["order"].clone()
}

/// [`step`], then the order's status and raw status are `want`; the order.
async fn step_to(app: &TestApp, mutation: &str, id: &str, want: (&str, &str)) -> Value {
    let o = step(app, mutation, id).await;
    assert_eq!(
        (o["status"].as_str(), o["rawStatus"].as_str()),
        (Some(want.0), Some(want.1))
    );
    o
}

/// A mutation that must be refused with `code`; the payload.
async fn refused(app: &TestApp, mutation: &str, id: &str, code: &str) -> Value {
    let p = act(app, mutation, id).await;
    assert_eq!(p["order"], Value::Null, "{mutation}: {p:#}");
    assert_eq!(p["userErrors"][0]["code"], code, "{mutation}: {p:#}");
    p
}

async fn cancel(app: &TestApp, id: &str, reason: &str) -> Value {
    let q = format!(
        "mutation($id: ID!, $r: String) {{ cancelOrder(input: {{orderId: $id, reason: $r}}) {{
            order {{ {ORDER_FIELDS} }} userErrors {{ field message code }} }} }}"
    );
    app.gql_ok(&q, json!({ "id": id, "r": reason })).await["cancelOrder"].clone()
}

async fn retry_entry(app: &TestApp, id: &str) -> Value {
    app.gql_ok(
        "mutation($id: ID!) { retryOutboxEntry(input: {id: $id}) {
            entry { id state attempts lastError sentAt } userErrors { field message code } } }",
        json!({ "id": id }),
    )
    .await["retryOutboxEntry"]
        .clone()
}

/// Waits until the order has `rows` outbox rows, all `SENT`.
async fn wait_sent(app: &TestApp, id: &str, rows: usize) -> Value {
    app.eventually(20, || async {
        let o = order(app, id).await;
        let out = o["outbox"].as_array()?;
        (out.len() == rows && out.iter().all(|r| r["state"] == "SENT")).then_some(o)
    })
    .await
}

fn raw_statuses(o: &Value) -> Vec<String> {
    o["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "STATUS")
        .map(|e| e["rawStatus"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// The row id inside our global order id (`base64("Order:n")`).
fn row_id(id: &str) -> i64 {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let raw = URL_SAFE_NO_PAD.decode(id).expect("base64 id");
    let text = String::from_utf8(raw).expect("utf-8 id");
    text.strip_prefix("Order:")
        .and_then(|n| n.parse().ok())
        .expect("an order id")
}

fn order_id(row: i64) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(format!("Order:{row}"))
}

fn payload_of(row: &Value) -> Value {
    serde_json::from_str(row["payload"].as_str().expect("payload")).expect("payload is JSON")
}

// ------------------------------------------------------------------ crafted pushes

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("GMT+8")
}

/// 58's timestamp (GMT+8) `offset` from now.
fn timestamp(offset: TimeDelta) -> String {
    (Utc::now() + offset)
        .with_timezone(&china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A createOrder body as 58 documents it, for `oid` (above 2^53).
fn order_json(oid: i64) -> String {
    format!(
        r#"{{"orderId":{oid},"userMobile":"13800000000","cityId":1,"cityName":"北京","lng":116.4,"lat":39.9,"serviceAddress":"朝阳区建国路88号","serviceBeginTime":"2030-11-24 10:00:00","serviceEndTime":"2030-11-24 12:00:00","serviceDuration":2,"totalPrice":120.50,"remark":"","serviceUserId":"","orderDetails":[{{"goodsId":7,"goodsNumber":1,"goodsPrice":120.5}}]}}"#
    )
}

/// The push's fields before signing.
fn fields(daojia_json: &str, ts: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("serviceKey".to_owned(), SERVICE_KEY.to_owned()),
        (
            "nonce".to_owned(),
            uuid::Uuid::new_v4().simple().to_string(),
        ),
        ("timestamp".to_owned(), ts.to_owned()),
        ("daojiaJson".to_owned(), daojia_json.to_owned()),
        ("funId".to_owned(), "createOrder".to_owned()),
    ])
}

/// Adds `sign` over every field, with the sandbox's own signer.
fn signed(mut f: BTreeMap<String, String>, secret: &str) -> BTreeMap<String, String> {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = sign::sign(secret, &pairs);
    f.insert("sign".to_owned(), s);
    f
}

/// A correctly signed, fresh push of `oid`.
fn good_push(oid: i64) -> BTreeMap<String, String> {
    signed(
        fields(&order_json(oid), &timestamp(TimeDelta::zero())),
        SERVICE_SECRET,
    )
}

async fn post_intake(app: &TestApp, form: &BTreeMap<String, String>) -> (u16, Value) {
    let r = app
        .http
        .post(format!("{}/callbacks/daojia58/orders", app.base))
        .form(form)
        .send()
        .await
        .expect("intake");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_received(status: u16, body: &Value, oid: i64) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        *body,
        json!({"code": 200, "msg": "success", "data": {"order_id": oid, "status": "received"}}),
    );
}

// ------------------------------------------------------------------ 1. a pushed order appears

async fn a_pushed_order_appears(app: TestApp) {
    let mut sub = app
        .subscribe(STATUS_SUB, json!({"f": {"provider": "DAOJIA58"}}))
        .await;
    let view = push(
        &app,
        json!({
            "cityName": "上海",
            "userMobile": "13812345678",
            "serviceAddress": "上海市浦东新区世纪大道100号3号楼1201",
            "serviceBeginTime": "2030-01-01 09:00:00",
            "serviceDuration": 2,
            "remark": "家里有猫",
            "orderDetails": [
                {"goodsId": 7, "goodsNumber": 2, "goodsPrice": "35.5"},
                {"goodsId": 9, "goodsNumber": 1, "goodsPrice": 0.1}
            ]
        }),
    )
    .await;
    let oid = view["orderId"].as_i64().expect("orderId");
    assert!(oid > 1 << 53, "58's ids are above 2^53: {oid}");
    assert_eq!(view["totalPriceFen"], 7110, "{view:#}");

    let acked = wait_acknowledged(&app, oid).await;
    assert_eq!(
        acked["pushAttempts"], 1,
        "the first attempt was acknowledged: {acked:#}"
    );
    assert_eq!(acked["push"], "acknowledged");

    let o = by_external(&app, oid).await;
    assert_eq!(
        o["externalId"],
        oid.to_string(),
        "exact, not through a double"
    );
    assert_eq!(o["provider"], "DAOJIA58");
    assert_eq!(o["direction"], "INBOUND");
    assert_eq!(o["kind"], "SERVICE");
    assert_eq!(o["status"], "PENDING");
    assert_eq!(o["rawStatus"], "10");
    assert_eq!(o["amounts"]["total"]["fen"], 7110, "{o:#}");
    assert_eq!(o["amounts"]["itemsTotal"]["fen"], 7110);
    assert_eq!(o["amounts"]["fee"]["fen"], 0);
    let mut items: Vec<(String, i64, i64, i64)> = o["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["externalPriceId"].as_str().unwrap().to_owned(),
                i["quantity"].as_i64().unwrap(),
                i["unitPrice"]["fen"].as_i64().unwrap(),
                i["amount"]["fen"].as_i64().unwrap(),
            )
        })
        .collect();
    items.sort();
    assert_eq!(
        items,
        vec![("7".to_owned(), 2, 3550, 7100), ("9".to_owned(), 1, 10, 10)],
        "{o:#}"
    );
    assert_eq!(o["contact"]["phone"], "13812345678");
    assert_eq!(o["address"]["city"], "上海");
    assert_eq!(
        o["address"]["street"],
        "上海市浦东新区世纪大道100号3号楼1201"
    );
    assert_eq!(o["note"], "家里有猫");
    let begin = china()
        .with_ymd_and_hms(2030, 1, 1, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let appoint: DateTime<Utc> = o["appointTime"].as_str().unwrap().parse().unwrap();
    let end: DateTime<Utc> = o["serviceEnd"].as_str().unwrap().parse().unwrap();
    assert_eq!(appoint, begin, "GMT+8 read as such");
    assert_eq!(end, begin + TimeDelta::hours(2));
    assert_eq!(
        o["events"],
        json!([{"kind": "STATUS", "fromStatus": null, "toStatus": "PENDING", "rawStatus": "10",
                "source": "CALLBACK", "applied": true}]),
        "{o:#}"
    );
    assert_eq!(o["outbox"], json!([]), "nothing to sync for an intake");

    let c = sub.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(c["orderId"], o["id"], "{c:#}");
    assert_eq!(c["provider"], "DAOJIA58");
    assert_eq!(c["oldStatus"], Value::Null);
    assert_eq!(c["newStatus"], "PENDING");
    assert_eq!(c["rawStatus"], "10");
    assert_eq!(c["source"], "CALLBACK");
    assert_eq!(c["kind"], "STATUS");
    assert_eq!(c["order"]["externalId"], oid.to_string());
    sub.assert_quiet(300).await;
}
on_every_backend!(a_pushed_order_appears_test, a_pushed_order_appears);

// ------------------------------------------------------------------ 2. duplicates

/// The order's deliveries of one kind (`original`, `duplicate`, `repush`).
fn deliveries(view: &Value, kind: &str) -> Vec<Value> {
    view["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .filter(|d| d["kind"] == kind)
        .cloned()
        .collect()
}

async fn duplicate_pushes_make_one_order(app: TestApp) {
    let view = push(&app, json!({})).await;
    let oid = view["orderId"].as_i64().unwrap();
    wait_acknowledged(&app, oid).await;
    let first = by_external(&app, oid).await;

    // Sequential repeats: each acknowledged before the next.
    for n in 1..=3 {
        let (status, body) =
            dj_post(&app, &format!("/_control/orders/{oid}/repush"), json!({})).await;
        assert_eq!(status, 202, "{body}");
        app.eventually(10, || async {
            let v = sandbox_order(&app, oid).await;
            let done = deliveries(&v, "repush")
                .iter()
                .filter(|d| d["state"] != "queued" && d["state"] != "inFlight")
                .count();
            (done == n).then_some(())
        })
        .await;
    }

    // Concurrent copies.
    let (status, body) = dj_post(
        &app,
        &format!("/_control/orders/{oid}/repush"),
        json!({"copies": 8}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"].as_array().map(Vec::len), Some(8));
    let v = app
        .eventually(15, || async {
            let v = sandbox_order(&app, oid).await;
            let ended = deliveries(&v, "repush")
                .iter()
                .filter(|d| d["state"] != "queued" && d["state"] != "inFlight")
                .count();
            (ended == 11).then_some(v)
        })
        .await;
    let repushes = deliveries(&v, "repush");
    assert_eq!(
        repushes.iter().filter(|d| d["batch"].is_number()).count(),
        8,
        "{v:#}"
    );
    for d in &repushes {
        assert_eq!(d["state"], "acknowledged", "every copy acknowledged: {d:#}");
        let attempts = d["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{d:#}");
        assert_eq!(attempts[0]["httpStatus"], 200, "{d:#}");
        assert_eq!(attempts[0]["acknowledged"], true, "{d:#}");
    }

    // Still exactly one order, unchanged by the repeats.
    let ours: Vec<Value> = inbound_orders(&app)
        .await
        .into_iter()
        .filter(|o| has_external(o, oid))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    let o = &ours[0];
    assert_eq!(o["id"], first["id"]);
    assert_eq!(o["events"].as_array().unwrap().len(), 1, "{o:#}");
    assert_eq!(
        o["items"].as_array().unwrap().len(),
        view["order"]["orderDetails"].as_array().unwrap().len(),
        "lines not stored twice: {o:#}"
    );
    assert_eq!(o["amounts"]["total"]["fen"], view["totalPriceFen"]);

    // Concurrent first pushes of an order we have never seen, crafted: the write race.
    let fresh = 31_421_593_368_900_001_i64;
    let answers = futures::future::join_all((0..8).map(|_| {
        let form = good_push(fresh);
        let app = &app;
        async move { post_intake(app, &form).await }
    }))
    .await;
    for (status, body) in &answers {
        assert_received(*status, body, fresh);
    }
    let rows: Vec<Value> = inbound_orders(&app)
        .await
        .into_iter()
        .filter(|o| has_external(o, fresh))
        .collect();
    assert_eq!(rows.len(), 1, "one order for 8 concurrent first pushes");
    assert_eq!(rows[0]["events"].as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["items"].as_array().unwrap().len(), 1);
    assert_eq!(inbound_orders(&app).await.len(), 2);

    // Many at once, each twice: stored in shared transactions (group commit), every push
    // answered, each order once with one event and its items.
    let many: Vec<i64> = (0..20).map(|i| 31_421_593_368_900_100 + i).collect();
    let answers = futures::future::join_all(many.iter().chain(many.iter()).map(|oid| {
        let form = good_push(*oid);
        let app = &app;
        async move { (*oid, post_intake(app, &form).await) }
    }))
    .await;
    for (oid, (status, body)) in &answers {
        assert_received(*status, body, *oid);
    }
    let all = inbound_orders(&app).await;
    assert_eq!(all.len(), 22, "20 more orders");
    for oid in &many {
        let mine: Vec<&Value> = all.iter().filter(|o| has_external(o, *oid)).collect();
        assert_eq!(mine.len(), 1, "{oid}");
        assert_eq!(mine[0]["events"].as_array().unwrap().len(), 1, "{oid}");
        assert_eq!(mine[0]["items"].as_array().unwrap().len(), 1, "{oid}");
    }
}
on_every_backend!(
    duplicate_pushes_make_one_order_test,
    duplicate_pushes_make_one_order
);

// ------------------------------------------------------------------ 3. intake refusals

async fn the_intake_refuses_and_stores_nothing(app: TestApp) {
    let oid = 31_421_593_368_910_001_i64;
    let now = timestamp(TimeDelta::zero());
    let json = order_json(oid);
    let mut cases: Vec<(&str, BTreeMap<String, String>, u16)> = Vec::new();

    cases.push((
        "bad signature",
        signed(fields(&json, &now), "not_the_secret"),
        401,
    ));
    let mut tampered = good_push(oid);
    tampered.insert("daojiaJson".into(), json.replace("120.50", "1.00"));
    cases.push(("signed body changed after signing", tampered, 401));
    let mut wrong_key = fields(&json, &now);
    wrong_key.insert("serviceKey".into(), "9999999999".into());
    cases.push(("wrong serviceKey", signed(wrong_key, SERVICE_SECRET), 401));
    let mut unsigned = fields(&json, &now);
    unsigned.insert("sign".into(), String::new());
    cases.push(("empty sign", unsigned, 400));
    cases.push(("no sign", fields(&json, &now), 400));
    cases.push((
        "stale timestamp (11 min old)",
        signed(
            fields(&json, &timestamp(TimeDelta::minutes(-11))),
            SERVICE_SECRET,
        ),
        400,
    ));
    cases.push((
        "timestamp 11 min ahead",
        signed(
            fields(&json, &timestamp(TimeDelta::minutes(11))),
            SERVICE_SECRET,
        ),
        400,
    ));
    cases.push((
        "timestamp not yyyy-MM-dd HH:mm:ss",
        signed(
            fields(&json, &Utc::now().timestamp().to_string()),
            SERVICE_SECRET,
        ),
        400,
    ));
    cases.push((
        "malformed daojiaJson",
        signed(fields("{not json", &now), SERVICE_SECRET),
        400,
    ));
    cases.push((
        "daojiaJson without orderId",
        signed(
            fields(&json.replace(&format!(r#""orderId":{oid},"#), ""), &now),
            SERVICE_SECRET,
        ),
        400,
    ));
    cases.push((
        "price with sub-fen digits",
        signed(
            fields(&json.replace("120.50", "120.505"), &now),
            SERVICE_SECRET,
        ),
        400,
    ));
    for missing in ["nonce", "timestamp", "daojiaJson", "funId", "serviceKey"] {
        let mut f = fields(&json, &now);
        f.remove(missing);
        cases.push((missing, signed(f, SERVICE_SECRET), 400));
    }
    let mut fun = fields(&json, &now);
    fun.insert("funId".into(), "cancelOrder".into());
    cases.push(("unknown funId", signed(fun, SERVICE_SECRET), 400));

    for (what, form, want) in &cases {
        let (status, body) = post_intake(&app, form).await;
        assert_eq!(status, *want, "{what}: {body}");
        assert_eq!(body["code"], *want, "{what}: {body}");
        assert!(
            body["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: a clear reason: {body}"
        );
        assert_eq!(body["data"], Value::Null, "{what}: {body}");
    }
    // A parameter given twice is not a form we can trust.
    let good = good_push(oid);
    let mut twice: Vec<(String, String)> = good.clone().into_iter().collect();
    twice.push(("funId".into(), "createOrder".into()));
    let r = app
        .http
        .post(format!("{}/callbacks/daojia58/orders", app.base))
        .form(&twice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "parameter given twice");
    assert_eq!(
        inbound_orders(&app).await,
        Vec::<Value>::new(),
        "nothing stored"
    );

    // The same crafting, right, is taken: the refusals above were for their reasons.
    let (status, body) = post_intake(&app, &good).await;
    assert_received(status, &body, oid);
    let stored = inbound_orders(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["externalId"], oid.to_string());
    assert_eq!(stored[0]["amounts"]["total"]["fen"], 12050);
    // Within the 10 minutes either way is fine.
    let oid2 = oid + 1;
    let nine_ago = signed(
        fields(&order_json(oid2), &timestamp(TimeDelta::minutes(-9))),
        SERVICE_SECRET,
    );
    let (status, body) = post_intake(&app, &nine_ago).await;
    assert_received(status, &body, oid2);
    assert_eq!(inbound_orders(&app).await.len(), 2);
}
on_every_backend!(
    the_intake_refuses_and_stores_nothing_test,
    the_intake_refuses_and_stores_nothing
);

async fn callers_outside_the_allow_list(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.daojia58.push_allow_ips = vec!["10.0.0.0/8".into()];
    })
    .await;
    let oid = 31_421_593_368_920_001_i64;
    let (status, body) = post_intake(&app, &good_push(oid)).await;
    assert_eq!(status, 403, "{body}");
    // 58's own push is refused too, and never acknowledged.
    let view = push(&app, json!({})).await;
    let sid = view["orderId"].as_i64().unwrap();
    let v = app
        .eventually(10, || async {
            let v = sandbox_order(&app, sid).await;
            let first = v["deliveries"][0]["attempts"][0].clone();
            first.is_object().then_some(v)
        })
        .await;
    let attempt = &v["deliveries"][0]["attempts"][0];
    assert_eq!(attempt["httpStatus"], 403, "{v:#}");
    assert_eq!(attempt["acknowledged"], false);
    assert_eq!(v["acknowledged"], false);
    assert_eq!(inbound_orders(&app).await, Vec::<Value>::new());

    let allowed = TestApp::spawn_with(backend, |c| {
        c.daojia58.push_allow_ips = vec!["127.0.0.1".into()];
    })
    .await;
    let (oid2, _) = pushed(&allowed, json!({})).await;
    let (status, body) = post_intake(&allowed, &good_push(oid)).await;
    assert_received(status, &body, oid);
    assert_eq!(inbound_orders(&allowed).await.len(), 2);
    assert!(oid2 > 1 << 53);
}

on_every_backend!(
    callers_outside_the_allow_list_test,
    callers_outside_the_allow_list,
    by_backend
);

// ------------------------------------------------------------------ 4. working the order

async fn working_orders_along_both_sequences(app: TestApp) {
    let (oid_a, a) = pushed(&app, json!({})).await;
    let (oid_b, b) = pushed(&app, json!({})).await;
    let (oid_c, c) = pushed(&app, json!({})).await;
    let (oid_d, d) = pushed(&app, json!({})).await;
    let mut sub = app
        .subscribe(STATUS_SUB, json!({"f": {"orderId": a}}))
        .await;

    // Ids that are not 58 orders of ours.
    refused(&app, "acceptOrder", "nonsense", "INVALID_INPUT").await;
    refused(&app, "acceptOrder", &order_id(999_999), "NOT_FOUND").await;

    // Nothing before accepting.
    refused(&app, "startService", &a, "INVALID_STATE").await;
    refused(&app, "completeService", &a, "INVALID_STATE").await;
    refused(&app, "confirmPayment", &a, "INVALID_STATE").await;

    // A: 10→20→30→40→50→60, payment before the service.
    step_to(&app, "acceptOrder", &a, ("ACCEPTED", "20")).await;
    step_to(&app, "requestPayment", &a, ("ACCEPTED", "30")).await;
    refused(&app, "startService", &a, "INVALID_STATE").await;
    step_to(&app, "confirmPayment", &a, ("ACCEPTED", "40")).await;
    step_to(&app, "startService", &a, ("IN_PROGRESS", "50")).await;
    step_to(&app, "completeService", &a, ("COMPLETED", "60")).await;

    // B: 10→20→50→30→40→60, payment after the service.
    step(&app, "acceptOrder", &b).await;
    step_to(&app, "startService", &b, ("IN_PROGRESS", "50")).await;
    refused(&app, "completeService", &b, "INVALID_STATE").await;
    step_to(&app, "requestPayment", &b, ("IN_PROGRESS", "30")).await;
    step_to(&app, "confirmPayment", &b, ("IN_PROGRESS", "40")).await;
    refused(&app, "startService", &b, "INVALID_STATE").await;
    step_to(&app, "completeService", &b, ("COMPLETED", "60")).await;

    // C: a disallowed move changes nothing and queues nothing; then cancelled.
    step(&app, "acceptOrder", &c).await;
    let before = order(&app, &c).await;
    let p = refused(&app, "completeService", &c, "INVALID_STATE").await;
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10→20→30→40→50→60"),
        "{p:#}"
    );
    refused(&app, "acceptOrder", &c, "INVALID_STATE").await;
    let after = order(&app, &c).await;
    assert_eq!(after["status"], "ACCEPTED");
    assert_eq!(after["rawStatus"], "20");
    assert_eq!(after["events"], before["events"]);
    assert_eq!(after["outbox"].as_array().unwrap().len(), 1, "{after:#}");
    let p = cancel(&app, &c, "客户改期").await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["order"]["status"], "CANCELLED");
    assert_eq!(p["order"]["rawStatus"], "70");
    assert_eq!(p["order"]["cancelReason"], "客户改期");
    refused(&app, "startService", &c, "INVALID_STATE").await;
    let p = cancel(&app, &c, "again").await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_STATE", "{p:#}");
    // D: cancelled straight from booking (70 is allowed from every open status).
    let p = cancel(&app, &d, "").await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["order"]["status"], "CANCELLED");
    assert_eq!(p["order"]["rawStatus"], "70");
    refused(&app, "acceptOrder", &d, "INVALID_STATE").await;
    // A completed order cannot be cancelled either.
    let p = cancel(&app, &a, "too late").await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_STATE", "{p:#}");

    // Every change reached 58, in order, once each, and every row ended SENT.
    for (oid, id, codes) in [
        (oid_a, &a, vec![20, 30, 40, 50, 60]),
        (oid_b, &b, vec![20, 50, 30, 40, 60]),
        (oid_c, &c, vec![20, 70]),
        (oid_d, &d, vec![70]),
    ] {
        let o = wait_sent(&app, id, codes.len()).await;
        let synced: Vec<i64> = o["outbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["operation"], "UPDATE_ORDER_DETAIL");
                assert!(r["sentAt"].is_string(), "{r:#}");
                assert_eq!(r["nextAttemptAt"], Value::Null, "{r:#}");
                let p = payload_of(r);
                assert_eq!(p["order_id"].as_i64(), Some(oid), "exact id: {r:#}");
                assert_eq!(p["third_order_id"], row_id(id).to_string(), "{r:#}");
                p["order_status"].as_i64().unwrap()
            })
            .collect();
        assert_eq!(synced, codes, "{o:#}");
        let mut raw = vec!["10".to_owned()];
        raw.extend(codes.iter().map(i64::to_string));
        assert_eq!(raw_statuses(&o), raw, "{o:#}");
        let log = updates(&app, oid).await;
        assert_eq!(outcomes(&log), applied(&codes), "{log:#}");
        for u in log.iter() {
            assert_eq!(u["params"]["serviceKey"], SERVICE_KEY);
            assert_eq!(u["params"]["accessToken"], ACCESS_TOKEN);
            assert_eq!(u["params"]["format"], "json");
            // Our order's row id, the same on every call (58 binds the first one).
            assert_eq!(u["thirdOrderId"], row_id(id).to_string(), "{u:#}");
        }
        let v = sandbox_order(&app, oid).await;
        assert_eq!(v["status"].as_i64(), codes.last().copied(), "{v:#}");
    }

    // The subscriber saw A's every move, in order.
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let m = sub.next(10).await["data"]["orderStatusChanged"].clone();
        assert_eq!(m["orderId"], a.as_str());
        assert_eq!(m["source"], "API");
        seen.push((
            m["rawStatus"].as_str().unwrap().to_owned(),
            m["newStatus"].as_str().unwrap().to_owned(),
        ));
    }
    let want: Vec<(String, String)> = [
        ("20", "ACCEPTED"),
        ("30", "ACCEPTED"),
        ("40", "ACCEPTED"),
        ("50", "IN_PROGRESS"),
        ("60", "COMPLETED"),
    ]
    .iter()
    .map(|(r, s)| ((*r).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(seen, want);
    sub.assert_quiet(300).await;
}
on_every_backend!(
    working_orders_along_both_sequences_test,
    working_orders_along_both_sequences
);

// ------------------------------------------------------------------ 5. technicians

const REGISTER: &str = "mutation($input: RegisterTechnicianInput!) { registerTechnician(input: $input) {
    technician { id externalId name phone active } userErrors { field message code platformCode } } }";

async fn register(app: &TestApp, input: Value) -> Value {
    app.gql_ok(REGISTER, json!({ "input": input })).await["registerTechnician"].clone()
}

async fn assign(app: &TestApp, order_id: &str, tech: &str) -> Value {
    let q = format!(
        "mutation($o: ID!, $t: ID!) {{ assignTechnician(input: {{orderId: $o, technicianId: $t}}) {{
            order {{ {ORDER_FIELDS} }} userErrors {{ field message code }} }} }}"
    );
    app.gql_ok(&q, json!({ "o": order_id, "t": tech })).await["assignTechnician"].clone()
}

async fn technicians_are_registered_and_assigned(app: TestApp) {
    let p = register(
        &app,
        json!({"externalId": "T-1001", "name": "王师傅", "phone": "13912345678",
               "age": 35, "sex": "M", "remark": "保洁十年"}),
    )
    .await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let tech = p["technician"].clone();
    assert_eq!(tech["externalId"], "T-1001");
    assert_eq!(tech["name"], "王师傅");
    assert_eq!(tech["phone"], "13912345678");
    assert_eq!(tech["active"], true);
    let tech_id = tech["id"].as_str().unwrap().to_owned();

    let listed = app
        .gql_ok(
            "{ technicians { id externalId name phone active } }",
            json!({}),
        )
        .await["technicians"]
        .clone();
    assert_eq!(listed, json!([tech]), "{listed:#}");
    let n = app
        .gql_ok(
            "query($id: ID!) { node(id: $id) { ... on Technician { id externalId name phone active } } }",
            json!({ "id": tech_id }),
        )
        .await;
    assert_eq!(n["node"], tech, "a technician is a Node");
    let users = dj_get(&app, "/_control/service-users").await;
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 1, "{users:#?}");
    assert_eq!(users[0]["userId"], "T-1001");
    assert_eq!(users[0]["userName"], "王师傅");
    assert_eq!(users[0]["userPhone"], "13912345678");
    assert_eq!(users[0]["userSex"], 1);
    assert_eq!(users[0]["userAge"], 35);
    assert_eq!(users[0]["userStatus"], 1);

    // Refusals: ours first, then 58's; neither stores anything.
    let p = register(
        &app,
        json!({"externalId": "T-2", "name": "", "phone": "13912345678", "sex": "X"}),
    )
    .await;
    let codes: Vec<&str> = p["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INVALID_INPUT", "INVALID_INPUT"], "{p:#}");
    let p = register(
        &app,
        json!({"externalId": "T-3", "name": "李师傅", "phone": "123"}),
    )
    .await;
    assert_eq!(p["technician"], Value::Null, "{p:#}");
    assert_eq!(p["userErrors"][0]["code"], "PLATFORM_REJECTED", "{p:#}");
    assert_eq!(p["userErrors"][0]["platformCode"], "1006", "{p:#}");
    faults(&app, json!({"errorRate": 1.0})).await;
    let p = register(
        &app,
        json!({"externalId": "T-4", "name": "赵师傅", "phone": "13912345679", "sex": "F"}),
    )
    .await;
    assert_eq!(p["userErrors"][0]["code"], "PROVIDER_UNAVAILABLE", "{p:#}");
    faults(&app, json!({})).await;
    let n = app.gql_ok("{ technicians { id } }", json!({})).await["technicians"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(n, 1);
    assert_eq!(
        dj_get(&app, "/_control/service-users")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Assigning before accepting is refused and queues nothing. (58 draws a random saved
    // technician for its orders unless told otherwise: this customer picked none.)
    let (oid, id) = pushed(&app, json!({"serviceUserId": ""})).await;
    let mut sub = app
        .subscribe(STATUS_SUB, json!({"f": {"orderId": id}}))
        .await;
    let p = assign(&app, &id, &tech_id).await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_STATE", "{p:#}");
    assert_eq!(order(&app, &id).await["outbox"], json!([]));
    let p = assign(&app, &id, "VGVjaG5pY2lhbjo5OTk5OTk").await; // Technician:999999
    assert_eq!(p["userErrors"][0]["code"], "NOT_FOUND", "{p:#}");
    let p = assign(&app, &id, "999999").await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_INPUT", "{p:#}");

    step(&app, "acceptOrder", &id).await;
    let p = assign(&app, &id, &tech_id).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let o = &p["order"];
    assert_eq!(o["status"], "ACCEPTED");
    assert_eq!(o["rawStatus"], "20");
    assert_eq!(o["courier"]["name"], "王师傅", "{o:#}");
    assert_eq!(o["courier"]["phone"], "13912345678");
    let kinds: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["STATUS", "STATUS", "TECHNICIAN_ASSIGNED"], "{o:#}");
    step(&app, "startService", &id).await;

    let e = sub.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(
        (e["kind"].as_str(), e["newStatus"].as_str()),
        (Some("STATUS"), Some("ACCEPTED"))
    );
    let e = sub.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(e["kind"], "TECHNICIAN_ASSIGNED", "{e:#}");
    assert_eq!(e["oldStatus"], "ACCEPTED");
    assert_eq!(e["newStatus"], "ACCEPTED");
    let e = sub.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(e["newStatus"], "IN_PROGRESS", "{e:#}");

    // 58 was told the technician with the current status, then the next move carried them.
    wait_sent(&app, &id, 3).await;
    let log = updates(&app, oid).await;
    assert_eq!(
        outcomes(&log),
        vec![
            (20, "applied".to_owned()),
            (20, "repeated".to_owned()),
            (50, "applied".to_owned())
        ],
        "{log:#}"
    );
    let body: Value =
        serde_json::from_str(log[0]["params"]["daojiaJson"].as_str().unwrap()).unwrap();
    assert!(body.get("serviceUserName").is_none(), "{body}");
    for u in &log[1..] {
        let body: Value =
            serde_json::from_str(u["params"]["daojiaJson"].as_str().unwrap()).unwrap();
        assert_eq!(body["serviceUserName"], "王师傅", "{body}");
        assert_eq!(body["serviceUserPhone"], "13912345678", "{body}");
        assert_eq!(body["orderId"].as_i64(), Some(oid), "{body}");
    }
    let v = sandbox_order(&app, oid).await;
    assert_eq!(v["serviceUserName"], "王师傅", "{v:#}");
    assert_eq!(v["serviceUserPhone"], "13912345678");
    assert_eq!(v["status"], 50);

    // Once the order has ended, no technician is put on it.
    assert_eq!(cancel(&app, &id, "客户取消").await["userErrors"], json!([]));
    let p = assign(&app, &id, &tech_id).await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_STATE", "{p:#}");
    wait_sent(&app, &id, 4).await;

    // A customer who picked our technician on 58: the order arrives with them on it.
    let (_, picked) = pushed(&app, json!({"serviceUserId": "T-1001"})).await;
    let o = order(&app, &picked).await;
    assert_eq!(o["courier"]["name"], "王师傅", "{o:#}");
}
on_every_backend!(
    technicians_are_registered_and_assigned_test,
    technicians_are_registered_and_assigned
);

// ------------------------------------------------------------------ 6. the outbox under failures

async fn the_outbox_retries_through_errors(app: TestApp) {
    let (oid, id) = pushed(&app, json!({})).await;
    faults(&app, json!({"errorRate": 1.0})).await;
    step(&app, "acceptOrder", &id).await;
    step(&app, "startService", &id).await;
    let o = app
        .eventually(15, || async {
            let o = order(&app, &id).await;
            (o["outbox"][0]["attempts"].as_i64()? > 2).then_some(o)
        })
        .await;
    let rows = o["outbox"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{o:#}");
    assert_eq!(rows[0]["state"], "PENDING");
    assert!(
        rows[0]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 50")),
        "{o:#}"
    );
    assert!(rows[0]["nextAttemptAt"].is_string(), "{o:#}");
    assert_eq!(rows[1]["state"], "PENDING");
    assert_eq!(
        rows[1]["attempts"], 0,
        "a later change waits for the earlier one: {o:#}"
    );
    let log = updates(&app, oid).await;
    assert!(log.len() > 2, "{log:#}");
    assert!(
        log.iter()
            .all(|u| u["outcome"] == "fault" && u["orderStatus"] == 20),
        "nothing but faults, and only for the first change: {log:#}"
    );

    faults(&app, json!({})).await;
    let o = wait_sent(&app, &id, 2).await;
    for r in o["outbox"].as_array().unwrap() {
        assert_eq!(r["lastError"], Value::Null, "{r:#}");
    }
    let log = updates(&app, oid).await;
    let delivered: Vec<(i64, String)> = outcomes(&log)
        .into_iter()
        .filter(|(_, outcome)| outcome != "fault")
        .collect();
    assert_eq!(delivered, applied(&[20, 50]), "{log:#}");
    // Arrival order: every fault for 20 came before 20 was applied, 50 after.
    let first_50 = log.iter().position(|u| u["orderStatus"] == 50).unwrap();
    assert!(log[..first_50].iter().all(|u| u["orderStatus"] == 20));
    assert_eq!(sandbox_order(&app, oid).await["status"], 50);
}
on_every_backend!(
    the_outbox_retries_through_errors_test,
    the_outbox_retries_through_errors
);

async fn a_withheld_answer_is_retried_as_a_repeat(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.daojia58.request_timeout_ms = 500).await;
    let (oid, id) = pushed(&app, json!({})).await;
    faults(&app, json!({"timeoutRate": 1.0, "hangMs": 1500})).await;
    step(&app, "acceptOrder", &id).await;
    // 58 applied it but we never heard: the row stays pending with the timeout as its error.
    let o = app
        .eventually(15, || async {
            let o = order(&app, &id).await;
            let row = &o["outbox"][0];
            (row["attempts"].as_i64()? >= 2 && row["lastError"].is_string()).then_some(o)
        })
        .await;
    assert_eq!(o["outbox"][0]["state"], "PENDING", "{o:#}");
    assert!(
        o["outbox"][0]["lastError"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{o:#}"
    );
    let log = updates(&app, oid).await;
    assert_eq!(log[0]["outcome"], "applied", "{log:#}");
    assert_eq!(log[0]["answerWithheld"], true);

    faults(&app, json!({})).await;
    let o = wait_sent(&app, &id, 1).await;
    assert_eq!(o["outbox"][0]["lastError"], Value::Null);
    let log = updates(&app, oid).await;
    let outs = outcomes(&log);
    assert_eq!(
        outs.iter().filter(|(_, o)| o == "applied").count(),
        1,
        "never two applied for one change: {log:#}"
    );
    assert!(
        outs[1..].iter().all(|(s, o)| *s == 20 && o == "repeated"),
        "{log:#}"
    );
    let last = log.last().unwrap();
    assert_eq!(
        last["answerWithheld"], false,
        "the answer we finally heard: {log:#}"
    );

    // The next change goes through normally, once.
    step(&app, "startService", &id).await;
    wait_sent(&app, &id, 2).await;
    let log = updates(&app, oid).await;
    let fifty: Vec<(i64, String)> = outcomes(&log)
        .into_iter()
        .filter(|(s, _)| *s == 50)
        .collect();
    assert_eq!(fifty, applied(&[50]), "{log:#}");
}

on_every_backend!(
    a_withheld_answer_is_retried_as_a_repeat_test,
    a_withheld_answer_is_retried_as_a_repeat,
    by_backend
);

/// Slow answers (inside our timeout) are plain successes: one applied each, no retries.
async fn slow_answers_are_not_retried(app: TestApp) {
    let (oid, id) = pushed(&app, json!({})).await;
    faults(
        &app,
        json!({"slowRate": 1.0, "slowMs": 300, "latencyMs": 50}),
    )
    .await;
    step(&app, "acceptOrder", &id).await;
    step(&app, "startService", &id).await;
    let o = wait_sent(&app, &id, 2).await;
    for r in o["outbox"].as_array().unwrap() {
        assert_eq!(r["attempts"], 1, "{r:#}");
    }
    assert_eq!(outcomes(&updates(&app, oid).await), applied(&[20, 50]));
}
on_every_backend!(
    slow_answers_are_not_retried_test,
    slow_answers_are_not_retried
);

// ------------------------------------------------------------------ 7. dead rows

/// An app that gives up after two attempts and an order whose first change (20) went dead
/// while 58 answered 5xx; the faults stay on. The app, 58's order id, ours, and our order.
async fn with_a_dead_row(backend: Backend) -> (TestApp, i64, String, Value) {
    let app = TestApp::spawn_with(backend, |c| c.outbox.max_attempts = 2).await;
    let (oid, id) = pushed(&app, json!({})).await;
    faults(&app, json!({"errorRate": 1.0})).await;
    step(&app, "acceptOrder", &id).await;
    let o = app
        .eventually(15, || async {
            let o = order(&app, &id).await;
            (o["outbox"][0]["state"] == "DEAD").then_some(o)
        })
        .await;
    (app, oid, id, o)
}

async fn dead_rows_and_their_retry(backend: Backend) {
    let (app, oid, id, o) = with_a_dead_row(backend).await;
    let row = o["outbox"][0].clone();
    assert_eq!(row["attempts"], 2, "{row:#}");
    assert!(
        row["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 50")),
        "{row:#}"
    );
    assert_eq!(row["nextAttemptAt"], Value::Null);
    assert_eq!(row["sentAt"], Value::Null);
    // Dead stays dead: no further attempts, even once 58 is back.
    faults(&app, json!({})).await;
    outbox_moved_past(&app).await;
    assert_eq!(updates(&app, oid).await.len(), 2);
    let row_id = row["id"].as_str().unwrap().to_owned();

    let p = retry_entry(&app, &row_id).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["entry"]["state"], "PENDING");
    assert_eq!(p["entry"]["attempts"], 0);
    let o = wait_sent(&app, &id, 1).await;
    assert_eq!(o["outbox"][0]["lastError"], Value::Null, "{o:#}");
    let log = updates(&app, oid).await;
    assert_eq!(
        outcomes(&log),
        vec![
            (20, "fault".to_owned()),
            (20, "fault".to_owned()),
            (20, "applied".to_owned())
        ]
    );

    let p = retry_entry(&app, &row_id).await;
    assert_eq!(p["entry"], Value::Null);
    assert_eq!(p["userErrors"][0]["code"], "INVALID_STATE", "{p:#}");
    let p = retry_entry(&app, "T3V0Ym94RW50cnk6OTg3NjU0").await; // OutboxEntry:987654
    assert_eq!(p["userErrors"][0]["code"], "NOT_FOUND", "{p:#}");
    let p = retry_entry(&app, "987654").await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_INPUT", "{p:#}");
    // The row is a Node: fetched again by its global id.
    let n = app
        .gql_ok(
            "query($id: ID!) { node(id: $id) { __typename id ... on OutboxEntry { state } } }",
            json!({ "id": row_id }),
        )
        .await;
    assert_eq!(n["node"]["__typename"], "OutboxEntry", "{n:#}");
    assert_eq!(n["node"]["state"], "SENT", "{n:#}");
    let p = retry_entry(&app, "not-an-id").await;
    assert_eq!(p["userErrors"][0]["code"], "INVALID_INPUT", "{p:#}");
    outbox_moved_past(&app).await;
    assert_eq!(
        updates(&app, oid).await.len(),
        3,
        "a sent row never goes twice"
    );
}

on_every_backend!(
    dead_rows_and_their_retry_test,
    dead_rows_and_their_retry,
    by_backend
);

/// A change made after an earlier one of the same order went dead must not overtake it: 58
/// would see 50 before 20 (and refuse it).
async fn a_dead_row_holds_back_later_changes(backend: Backend) {
    let (app, oid, id, o) = with_a_dead_row(backend).await;
    let dead = o["outbox"][0]["id"].as_str().unwrap().to_owned();
    faults(&app, json!({})).await;
    step(&app, "startService", &id).await;
    outbox_moved_past(&app).await;
    let log = updates(&app, oid).await;
    assert!(
        !log.iter().any(|u| u["orderStatus"] == 50),
        "50 was sent while 20 was dead: {:?}",
        outcomes(&log)
    );
    let p = retry_entry(&app, &dead).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    wait_sent(&app, &id, 2).await;
    let delivered: Vec<(i64, String)> = outcomes(&updates(&app, oid).await)
        .into_iter()
        .filter(|(_, o)| o != "fault")
        .collect();
    assert_eq!(delivered, applied(&[20, 50]));
}

on_every_backend!(
    a_dead_row_holds_back_later_changes_test,
    a_dead_row_holds_back_later_changes,
    by_backend
);

// ------------------------------------------------------------------ 8. a restart mid-retries

/// Rows written before a stop, never delivered (58 answered 5xx throughout), are delivered
/// once each, in order, by the instance started after it on the same database. The sandbox
/// lives in the app's process, so "58" restarts too: the new one is told about the same order
/// (same `daojiaJson`, pushed again, which our intake takes as a duplicate).
async fn a_restart_in_the_middle_of_retries_loses_nothing(backend: Backend) {
    // On SQLite the database file must outlive the first instance's own temp dir.
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shared.db").display()
    );
    let first = TestApp::spawn_with(backend, |c| {
        if let Backend::Sqlite = backend {
            c.database.url = SecretString::from(sqlite_url.clone());
        }
        c.outbox.max_backoff_secs = 1;
        c.outbox.max_attempts = 1_000;
    })
    .await;
    let (oid, id) = pushed(&first, json!({})).await;
    let create = sandbox_order(&first, oid).await["order"].clone();
    faults(&first, json!({"errorRate": 1.0})).await;
    step(&first, "acceptOrder", &id).await;
    step(&first, "startService", &id).await;
    let before = first
        .eventually(15, || async {
            let o = order(&first, &id).await;
            (o["outbox"][0]["attempts"].as_i64()? >= 2).then_some(o)
        })
        .await;
    let before_log = updates(&first, oid).await;
    let db_url = first.database_url.clone();
    first.stop().await;
    assert!(
        before_log.iter().all(|u| u["outcome"] == "fault"),
        "nothing reached 58 before the stop: {before_log:#}"
    );

    let second = TestApp::spawn_with(backend, |c| {
        c.database.url = SecretString::from(db_url);
        c.outbox.max_backoff_secs = 1;
        c.outbox.max_attempts = 1_000;
        // 58 is still down when we come back.
        c.sandbox.daojia58.faults.error_rate = 1.0;
    })
    .await;
    let o = order(&second, &id).await;
    let rows = o["outbox"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{o:#}");
    assert!(rows.iter().all(|r| r["state"] == "PENDING"), "{o:#}");
    assert!(rows[0]["attempts"].as_i64() >= before["outbox"][0]["attempts"].as_i64());
    assert_eq!(rows[1]["attempts"], 0, "{o:#}");

    // 58 knows the order again (its push is a duplicate to us), then comes back.
    let again = push(&second, create.clone()).await;
    assert_eq!(again["orderId"].as_i64(), Some(oid));
    wait_acknowledged(&second, oid).await;
    assert_eq!(
        inbound_orders(&second).await.len(),
        1,
        "the repeat made nothing new"
    );
    faults(&second, json!({})).await;

    let o = wait_sent(&second, &id, 2).await;
    assert_eq!(o["status"], "IN_PROGRESS");
    let log = updates(&second, oid).await;
    let delivered: Vec<(i64, String)> = outcomes(&log)
        .into_iter()
        .filter(|(_, o)| o != "fault")
        .collect();
    assert_eq!(delivered, applied(&[20, 50]), "{log:#}");
    assert_eq!(sandbox_order(&second, oid).await["status"], 50);
    outbox_moved_past(&second).await;
    assert_eq!(updates(&second, oid).await.len(), log.len(), "nothing more");
}

on_every_backend!(
    a_restart_in_the_middle_of_retries_loses_nothing_test,
    a_restart_in_the_middle_of_retries_loses_nothing,
    by_backend
);

// ------------------------------------------------------------------ 9. two workers, one database

postgres_only! {
    @workers 4,
    /// PostgreSQL: two instances share the database and both run the outbox worker (the second
    /// sending to the first's sandbox); many orders changed quickly through both → every change
    /// applied exactly once, in order, with no repeats at all.
    async fn two_workers_on_postgres_send_each_change_once() {
        let a = TestApp::spawn(Backend::Postgres).await;
        // The second instance talks to 58 only, as a real deployment would: the first one's
        // sandbox stands in for the platform.
        let b = worker_beside(&a, |_| {}).await;
        // Answers take a moment, so the two workers' rounds overlap.
        faults(&a, json!({"latencyMs": 20})).await;

        const N: usize = 12;
        let mut orders = Vec::new();
        for _ in 0..N {
            orders.push(pushed(&a, json!({})).await);
        }
        let sequence = [
            "acceptOrder",
            "requestPayment",
            "confirmPayment",
            "startService",
            "completeService",
        ];
        futures::future::join_all(orders.iter().enumerate().map(|(i, (_, id))| {
            let (a, b) = (&a, &b);
            async move {
                for (n, m) in sequence.iter().enumerate() {
                    let app = if (i + n) % 2 == 0 { a } else { b };
                    step(app, m, id).await;
                }
            }
        }))
        .await;

        for (oid, id) in &orders {
            wait_sent(&a, id, sequence.len()).await;
            let log = updates(&a, *oid).await;
            assert_eq!(
                outcomes(&log),
                applied(&[20, 30, 40, 50, 60]),
                "order {oid}: {log:#}"
            );
        }
        let all = dj_get(&a, "/_control/updates").await;
        assert_eq!(
            all.as_array().unwrap().len(),
            N * sequence.len(),
            "no second send anywhere"
        );
    }
}

/// A second instance that talks to `a`'s 58 sandbox (so `a` may be the platform while this
/// one works the outbox), configured further by `tweak`.
async fn worker_beside(a: &TestApp, tweak: impl FnOnce(&mut orderhub::Config)) -> TestApp {
    let db_url = a.database_url.clone();
    let sandbox_api = dj(a, "/api/v1");
    TestApp::spawn_with(Backend::Postgres, |c| {
        c.database.url = SecretString::from(db_url);
        c.sandbox.enabled = false;
        c.daoway.enabled = false;
        c.dada.enabled = false;
        c.wechat.enabled = false;
        c.daojia58.base_url = Some(sandbox_api);
        c.daojia58.service_key = Some(SERVICE_KEY.to_owned());
        c.daojia58.service_secret = Some(SecretString::from(SERVICE_SECRET.to_owned()));
        c.daojia58.access_token = Some(SecretString::from(ACCESS_TOKEN.to_owned()));
        tweak(c);
    })
    .await
}

/// [`worker_beside`] with a short outbox lease and a patient 58 client.
fn short_lease(lease_secs: u64) -> impl FnOnce(&mut orderhub::Config) {
    move |c| {
        c.daojia58.request_timeout_ms = 30_000;
        c.outbox.lease_secs = lease_secs;
    }
}

/// The outbox rows of our order `id` as the API shows them.
async fn outbox_rows(app: &TestApp, id: &str) -> Vec<Value> {
    order(app, id).await["outbox"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

postgres_only! {
    @workers 4,
    /// PostgreSQL: a call that lasts several leases (58 answering after 3.5 s, a 1 s lease)
    /// keeps its row: the other instance's worker, looking all the while, never sends it too.
    async fn a_long_call_keeps_its_lease() {
        let a = TestApp::spawn_with(Backend::Postgres, |c| c.outbox.lease_secs = 1).await;
        let b = worker_beside(&a, short_lease(1)).await;
        let (oid, id) = pushed(&a, json!({})).await;
        faults(&a, json!({"latencyMs": 3_500})).await;
        // Through b: b's worker is woken and takes the row; a's worker polls every 100 ms.
        step(&b, "acceptOrder", &id).await;
        wait_sent(&a, &id, 1).await;
        faults(&a, json!({})).await;
        let log = updates(&a, oid).await;
        assert_eq!(outcomes(&log), applied(&[20]), "sent once: {log:#}");
        assert_eq!(outbox_rows(&a, &id).await[0]["attempts"], 1);
    }
}

postgres_only! {
    @workers 4,
    /// PostgreSQL: the instance working an outbox row dies mid-call; the row comes back after
    /// its (1 s) lease and another instance sends it.
    async fn a_row_in_flight_when_its_instance_dies_is_sent_by_another() {
        // a is the platform only: its own worker looks for due rows once an hour.
        let a = TestApp::spawn_with(Backend::Postgres, |c| {
            c.outbox.poll_interval_ms = 3_600_000;
        })
        .await;
        let b = worker_beside(&a, short_lease(1)).await;
        let (oid, id) = pushed(&a, json!({})).await;
        faults(&a, json!({"latencyMs": 60_000})).await;
        step(&b, "acceptOrder", &id).await;
        // b has claimed the row and its call hangs.
        a.eventually(10, || async {
            let rows = outbox_rows(&a, &id).await;
            (rows.first()?["attempts"] == 1).then_some(())
        })
        .await;
        b.kill();
        faults(&a, json!({})).await;
        let c = worker_beside(&a, short_lease(1)).await;
        let o = wait_sent(&a, &id, 1).await;
        assert_eq!(o["outbox"][0]["attempts"], 2, "{o:#}");
        let log = updates(&a, oid).await;
        assert!(
            outcomes(&log).contains(&(20, "applied".to_owned())),
            "{log:#}"
        );
        drop(c);
    }
}
