//! Dada's business rules over HTTP, each refusal checked twice: the user error carries Dada's
//! own code (`platformCode`), and nothing changed — no order row left behind, the order's
//! status, tip and timeline as they were, the balance untouched. The sandbox's automatic moves
//! are off; each test plays the courier and Dada's staff through the control routes.

use std::time::Duration;

use orderhub::providers::dada::{DadaSettings, client::DadaClient, wire};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, wait_past_second, wait_until},
    on_every_backend,
};

/// The documented test shop (Shanghai, "021").
const SHANGHAI: &str = "11047059";
/// The seeded Beijing shop ("010").
const BEIJING: &str = "11047060";
/// The seeded shop that is offline at Dada.
const OFFLINE: &str = "11047061";

const PAYLOAD: &str = "userErrors { field message code platformCode }";

const ORDER_FIELDS: &str = "id status rawStatus cancelReason
  delivery { originId platformOrderId dispatchRound
    fees { total { fen } deliveryFee { fen } tips { fen } penalty { fen } } }
  courier { id name phone }
  events { kind toStatus rawStatus source applied }";

fn order_query() -> String {
    format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}")
}

fn dispatch_mutation() -> String {
    format!(
        "mutation($input: DispatchDeliveryInput!) {{ dispatchDelivery(input: $input) {{ order {{ {ORDER_FIELDS} }} {PAYLOAD} }} }}"
    )
}

/// An order mutation taking `input` and answering an `OrderPayload`.
fn order_mutation(name: &str, input_type: &str) -> String {
    format!(
        "mutation($input: {input_type}!) {{ {name}(input: $input) {{ order {{ {ORDER_FIELDS} }} {PAYLOAD} }} }}"
    )
}

/// A standard delivery from `shop_id` (a `Shop` id) to the Bund.
fn delivery(shop_id: &str) -> Value {
    json!({
        "shopId": shop_id,
        "receiver": {
            "name": "张三",
            "phone": "13800138000",
            "address": "上海市黄浦区中山东一路1号",
            "location": {"lng": 121.4903, "lat": 31.2416},
        },
        "cargoPriceFen": 5000,
        "cargoWeightKg": 1.5,
        "note": "易碎",
    })
}

/// Runs `dispatchDelivery` with `input` and returns its payload.
async fn dispatch_raw(app: &TestApp, input: Value) -> Value {
    app.gql_ok(&dispatch_mutation(), json!({ "input": input }))
        .await["dispatchDelivery"]
        .clone()
}

/// Dispatches a standard delivery from the seeded store `shop_no`; returns the order id and
/// its `originId`, once the sandbox's "waiting" callback (raw status 1) has arrived.
async fn dispatch(app: &TestApp, shop_no: &str) -> (String, String) {
    let shop = app.dada_shop(shop_no).await;
    let p = dispatch_raw(app, json!({ "delivery": delivery(&shop) })).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let order = &p["order"];
    assert_eq!(order["status"], "PENDING", "{p:#}");
    let id = order["id"].as_str().expect("order id").to_owned();
    let origin = order["delivery"]["originId"]
        .as_str()
        .expect("originId")
        .to_owned();
    wait_raw(app, &id, "1").await;
    (id, origin)
}

async fn order(app: &TestApp, id: &str) -> Value {
    app.gql_ok(&order_query(), json!({ "id": id })).await["order"].clone()
}

/// Waits until the order satisfies `done`; on timeout, panics showing the order and what
/// the sandbox did with its callbacks.
async fn wait_order(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_until(
        &format!("order {id} to become {what}"),
        Duration::from_secs(10),
        || async {
            let o = order(app, id).await;
            if done(&o) {
                return Ok(o);
            }
            let origin = o["delivery"]["originId"].as_str().unwrap_or_default();
            let seen = sandbox_order(app, origin).await;
            Err(format!(
                "our order: {o:#}\nsandbox callbacks: {:#}",
                seen["callbacks"]
            ))
        },
    )
    .await
}

/// Waits until the order shows the platform status `raw`; returns the order.
async fn wait_raw(app: &TestApp, id: &str, raw: &str) -> Value {
    wait_order(app, id, &format!("rawStatus {raw}"), |o| {
        o["rawStatus"] == raw
    })
    .await
}

/// Runs an order mutation and returns its payload.
async fn on_order(app: &TestApp, name: &str, input_type: &str, input: Value) -> Value {
    app.gql_ok(&order_mutation(name, input_type), json!({ "input": input }))
        .await[name]
        .clone()
}

/// Runs an `OrderIdInput` mutation that must succeed and record an event of `kind`; its
/// payload.
async fn act_with_event(app: &TestApp, name: &str, id: &str, kind: &str) -> Value {
    let p = on_order(app, name, "OrderIdInput", json!({"orderId": id})).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert!(event_kinds(&p["order"]).contains(&kind.to_owned()));
    p
}

/// The one user error of a refused payload, checked for its code and Dada's code; the payload
/// carries no order.
fn assert_refused(payload: &Value, code: &str, platform_code: &str) {
    let errors = payload["userErrors"].as_array().expect("userErrors");
    assert_eq!(errors.len(), 1, "{payload:#}");
    assert_eq!(errors[0]["code"], code, "{payload:#}");
    assert_eq!(errors[0]["platformCode"], platform_code, "{payload:#}");
    assert!(payload["order"].is_null(), "{payload:#}");
}

fn event_kinds(order: &Value) -> Vec<String> {
    order["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn order_count(app: &TestApp) -> usize {
    app.gql_ok(
        "{ orders(first: 100) { edges { node { id } } } }",
        json!({}),
    )
    .await["orders"]["edges"]
        .as_array()
        .expect("edges")
        .len()
}

async fn sandbox_orders(app: &TestApp) -> Vec<Value> {
    app.dada_get("/_control/orders")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn sandbox_order(app: &TestApp, origin: &str) -> Value {
    app.dada_get(&format!("/_control/orders/{origin}")).await
}

async fn sandbox_balance(app: &TestApp) -> i64 {
    app.dada_get("/_control/balance").await["balanceFen"]
        .as_i64()
        .expect("balanceFen")
}

/// Waits until the sandbox has delivered every callback of `origin` (our route answered, so
/// its event is committed).
async fn callbacks_delivered(app: &TestApp, origin: &str) {
    wait_until(
        &format!("every callback of {origin} to be delivered"),
        Duration::from_secs(10),
        || async {
            let seen = sandbox_order(app, origin).await;
            let callbacks = seen["callbacks"].as_array().cloned().unwrap_or_default();
            if callbacks.iter().all(|c| c["delivered"] == true) {
                Ok(())
            } else {
                Err(format!("sandbox callbacks: {:#}", seen["callbacks"]))
            }
        },
    )
    .await
}

/// A control move (`accept`, `fetch`, …) that must succeed.
async fn control(app: &TestApp, origin: &str, action: &str, body: Value) -> Value {
    let (status, view) = app
        .dada_post(&format!("/_control/orders/{origin}/{action}"), body)
        .await;
    assert_eq!(status, 200, "{action} {origin}: {view}");
    view
}

/// The latest `update_time` (unix seconds) of the callbacks the sandbox sent for `origin`.
async fn last_callback_second(app: &TestApp, origin: &str) -> i64 {
    sandbox_order(app, origin).await["callbacks"]
        .as_array()
        .expect("callbacks")
        .iter()
        .filter_map(|c| c["body"]["update_time"].as_i64())
        .max()
        .expect("a callback")
}

/// A client of the sandbox acting for the seeded merchant, as a second system would.
fn platform_client(app: &TestApp) -> DadaClient {
    DadaClient::new(&DadaSettings {
        base_url: app.dada(""),
        app_key: "dada_sandbox_key".into(),
        app_secret: SecretString::from("dada_sandbox_secret".to_owned()),
        source_id: "73753".into(),
        timeout: Duration::from_secs(5),
    })
    .expect("dada client")
}

// ------------------------------------------------------------------------------------ tips

async fn tips(app: TestApp) {
    let (id, origin) = dispatch(&app, SHANGHAI).await;
    let add_tip = |tip: i64| {
        let app = &app;
        let id = id.clone();
        async move {
            on_order(
                app,
                "addTip",
                "AddTipInput",
                json!({"orderId": id, "tipFen": tip, "note": "加急"}),
            )
            .await
        }
    };
    let before = order(&app, &id).await;
    let total = before["delivery"]["fees"]["total"]["fen"].as_i64().unwrap();
    let balance = sandbox_balance(&app).await;

    // Below one yuan.
    let p = add_tip(50).await;
    assert_refused(&p, "INVALID_INPUT", "2055");
    let o = order(&app, &id).await;
    assert_eq!(o["delivery"]["fees"], before["delivery"]["fees"], "{o:#}");
    assert!(!event_kinds(&o).contains(&"TIP_ADDED".to_owned()));
    assert_eq!(sandbox_order(&app, &origin).await["tipsFen"], 0);
    assert_eq!(sandbox_balance(&app).await, balance);

    // Two yuan: taken, and only the raise is paid.
    let p = add_tip(200).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["order"]["delivery"]["fees"]["tips"]["fen"], 200, "{p:#}");
    assert_eq!(p["order"]["delivery"]["fees"]["total"]["fen"], total + 200);
    assert!(event_kinds(&p["order"]).contains(&"TIP_ADDED".to_owned()));
    assert_eq!(sandbox_order(&app, &origin).await["tipsFen"], 200);
    assert_eq!(sandbox_balance(&app).await, balance - 200);
    let after_tip = order(&app, &id).await;

    // Not above the last tip (equal, then lower).
    for tip in [200, 150] {
        let p = add_tip(tip).await;
        assert_refused(&p, "PLATFORM_REJECTED", "2057");
    }
    let o = order(&app, &id).await;
    assert_eq!(o["delivery"]["fees"], after_tip["delivery"]["fees"]);
    assert_eq!(o["events"], after_tip["events"]);
    assert_eq!(sandbox_order(&app, &origin).await["tipsFen"], 200);
    assert_eq!(sandbox_balance(&app).await, balance - 200);

    // Once a courier took it.
    control(&app, &origin, "accept", json!({})).await;
    let accepted = wait_raw(&app, &id, "2").await;
    assert_eq!(accepted["status"], "ACCEPTED");
    let p = add_tip(500).await;
    assert_refused(&p, "PLATFORM_REJECTED", "2059");
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "ACCEPTED");
    assert_eq!(o["delivery"]["fees"]["tips"]["fen"], 200);
    assert_eq!(o["events"], accepted["events"]);
    assert_eq!(sandbox_order(&app, &origin).await["tipsFen"], 200);
    assert_eq!(sandbox_balance(&app).await, balance - 200);
}
on_every_backend!(tips_test, tips);

// ------------------------------------------------------------------------------ appointing

async fn appointing(app: TestApp) {
    let shop = app.dada_shop(SHANGHAI).await;
    let couriers = app
        .gql_ok(
            "query($s: ID!) { appointableCouriers(shopId: $s) { id name phone } }",
            json!({"s": shop}),
        )
        .await["appointableCouriers"]
        .clone();
    let ids: Vec<&str> = couriers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(ids.contains(&"666") && ids.contains(&"667"), "{couriers:#}");
    assert!(
        !ids.contains(&"668"),
        "668 has not served the store: {couriers:#}"
    );
    let c666 = couriers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "666")
        .unwrap();
    assert_eq!(c666["name"], "达达骑手");
    assert_eq!(c666["phone"], "13546670420");

    let (id, origin) = dispatch(&app, SHANGHAI).await;
    let assign = |courier: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            on_order(
                app,
                "assignCourier",
                "AssignCourierInput",
                json!({"orderId": id, "courierId": courier}),
            )
            .await
        }
    };

    // A courier who is not appointable for the store.
    let before = order(&app, &id).await;
    let p = assign("668").await;
    assert_refused(&p, "INVALID_INPUT", "1994");
    let o = order(&app, &id).await;
    assert_eq!(o["rawStatus"], "1");
    assert_eq!(o["events"], before["events"]);
    let seen = sandbox_order(&app, &origin).await;
    assert_eq!(seen["status"], 1);
    assert!(seen["appointedCourierId"].is_null(), "{seen:#}");

    // A regular of the store: appointed (8) through the callback.
    let p = assign("666").await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert!(event_kinds(&p["order"]).contains(&"COURIER_APPOINTED".to_owned()));
    let o = wait_raw(&app, &id, "8").await;
    assert_eq!(o["status"], "PENDING");
    assert_eq!(o["courier"]["name"], "达达骑手", "{o:#}");
    assert_eq!(
        sandbox_order(&app, &origin).await["appointedCourierId"],
        666
    );

    // Withdrawn: waiting for anyone (1) again. The sandbox dates callbacks in whole seconds,
    // and a "1" in the same second as the publication's "1" is byte-identical to it (see
    // `appointment_withdrawn_within_the_publication_second`), so withdraw in a later second.
    wait_past_second(last_callback_second(&app, &origin).await).await;
    act_with_event(
        &app,
        "unassignCourier",
        &id,
        "COURIER_APPOINTMENT_CANCELLED",
    )
    .await;
    let o = wait_raw(&app, &id, "1").await;
    assert_eq!(o["status"], "PENDING");
    assert_eq!(sandbox_order(&app, &origin).await["status"], 1);

    // Too late once a courier accepted.
    control(&app, &origin, "accept", json!({})).await;
    let accepted = wait_raw(&app, &id, "2").await;
    let p = assign("667").await;
    assert_refused(&p, "PLATFORM_REJECTED", "2070");
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "ACCEPTED");
    assert_eq!(o["rawStatus"], "2");
    assert_eq!(o["events"], accepted["events"]);
    let seen = sandbox_order(&app, &origin).await;
    assert_eq!(seen["status"], 2);
}
on_every_backend!(appointing_test, appointing);

/// Appointing and withdrawing within the second the order was published: the sandbox (like
/// Dada, whose `update_time` is in seconds) sends "1", "8", then "1" again, and the second "1"
/// is byte-identical to the first. Callbacks alone cannot tell it from a repeat; the app asks
/// Dada for the current status and ends at "1".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appointment_withdrawn_within_the_publication_second() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let shop = app.dada_shop(SHANGHAI).await;
    // Start at the top of a second so that the three callbacks share it.
    wait_past_second(chrono::Utc::now().timestamp()).await;
    let p = dispatch_raw(&app, json!({ "delivery": delivery(&shop) })).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let id = p["order"]["id"].as_str().unwrap().to_owned();
    let origin = p["order"]["delivery"]["originId"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = on_order(
        &app,
        "assignCourier",
        "AssignCourierInput",
        json!({"orderId": id, "courierId": "666"}),
    )
    .await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let p = on_order(
        &app,
        "unassignCourier",
        "OrderIdInput",
        json!({"orderId": id}),
    )
    .await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(sandbox_order(&app, &origin).await["status"], 1);
    // Let every callback arrive, then compare.
    app.eventually(10, || async {
        let seen = sandbox_order(&app, &origin).await;
        let callbacks = seen["callbacks"].as_array()?.clone();
        (callbacks.len() == 3 && callbacks.iter().all(|c| c["delivered"] == true)).then_some(())
    })
    .await;
    let o = wait_raw(&app, &id, "1").await;
    assert_eq!(o["status"], "PENDING");
}

// ------------------------------------------------------------------------------ complaints

async fn complaints(app: TestApp) {
    let reasons = app
        .gql_ok("{ deliveryComplaintReasons { id text } }", json!({}))
        .await["deliveryComplaintReasons"]
        .clone();
    let list = reasons.as_array().unwrap();
    assert!(!list.is_empty());
    // 2 is about lateness (refused for an order delivered on time); 3 is about manners.
    assert!(list.iter().any(|r| r["id"] == 2), "{reasons:#}");
    assert!(list.iter().any(|r| r["id"] == 3), "{reasons:#}");

    let (id, origin) = dispatch(&app, SHANGHAI).await;
    for step in ["accept", "fetch", "finish"] {
        control(&app, &origin, step, json!({})).await;
    }
    let delivered = wait_raw(&app, &id, "4").await;
    assert_eq!(delivered["status"], "COMPLETED");
    let complain = |reason: i64| {
        let app = &app;
        let id = id.clone();
        async move {
            on_order(
                app,
                "complainAboutCourier",
                "ComplainAboutCourierInput",
                json!({"orderId": id, "reasonId": reason}),
            )
            .await
        }
    };

    // "Late" about an order delivered on time.
    let p = complain(2).await;
    assert_refused(&p, "PLATFORM_REJECTED", "2134");
    let o = order(&app, &id).await;
    assert_eq!(o["events"], delivered["events"]);
    assert_eq!(sandbox_order(&app, &origin).await["complaints"], json!([]));

    // About the courier's manners.
    let p = complain(3).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let o = &p["order"];
    assert_eq!(o["status"], "COMPLETED");
    let filed = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "COMPLAINT_FILED")
        .unwrap_or_else(|| panic!("a COMPLAINT_FILED event: {o:#}"));
    assert_eq!(filed["toStatus"], "COMPLETED");
    let complaints = sandbox_order(&app, &origin).await["complaints"].clone();
    assert_eq!(complaints.as_array().map(Vec::len), Some(1), "{complaints}");
    assert_eq!(complaints[0]["reasonId"], 3);
}
on_every_backend!(complaints_test, complaints);

// ------------------------------------------------------------------------ returned goods

async fn returned_goods(app: TestApp) {
    let (id, origin) = dispatch(&app, SHANGHAI).await;
    for step in ["accept", "fetch", "abnormal-back"] {
        control(&app, &origin, step, json!({})).await;
    }
    let returning = wait_raw(&app, &id, "9").await;
    assert_eq!(returning["status"], "RETURNING");

    act_with_event(
        &app,
        "confirmReturnedGoods",
        &id,
        "RETURNED_GOODS_CONFIRMED",
    )
    .await;
    let returned = wait_raw(&app, &id, "10").await;
    assert_eq!(returned["status"], "RETURNED");
    assert_eq!(sandbox_order(&app, &origin).await["status"], 10);

    // An order still waiting for a courier has nothing to return.
    let (other, other_origin) = dispatch(&app, SHANGHAI).await;
    let before = order(&app, &other).await;
    let p = on_order(
        &app,
        "confirmReturnedGoods",
        "OrderIdInput",
        json!({"orderId": other}),
    )
    .await;
    assert_refused(&p, "PLATFORM_REJECTED", "2082");
    let o = order(&app, &other).await;
    assert_eq!(o["status"], "PENDING");
    assert_eq!(o["rawStatus"], "1");
    assert_eq!(o["events"], before["events"]);
    assert_eq!(sandbox_order(&app, &other_origin).await["status"], 1);
}
on_every_backend!(returned_goods_test, returned_goods);

// -------------------------------------------------------------- stores and the merchant

const SHOP_FIELDS: &str = "id provider externalId title city store { address areaName contactName phone businessType cityCode open }";

fn store_input(shop_no: &str, name: &str) -> Value {
    json!({
        "shopNo": shop_no,
        "name": name,
        "businessType": 1,
        "cityName": "上海市",
        "areaName": "黄浦区",
        "address": "上海市黄浦区南京东路100号",
        "location": {"lng": 121.4801, "lat": 31.2382},
        "contactName": "周店长",
        "phone": "13600136000",
    })
}

async fn dada_shops(app: &TestApp) -> Vec<Value> {
    app.gql_ok(
        "{ shops(filter: {provider: DADA}, first: 50) { edges { node { id externalId title } } } }",
        json!({}),
    )
    .await["shops"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn stores_and_merchant(app: TestApp) {
    let seeded = app.dada_shop(SHANGHAI).await;
    let seeded_title = dada_shops(&app)
        .await
        .into_iter()
        .find(|s| s["id"] == seeded.as_str())
        .unwrap()["title"]
        .clone();

    // One new store, one reusing the seeded store's number.
    let p = app
        .gql_ok(
            &format!(
                "mutation($input: RegisterDeliveryShopsInput!) {{ registerDeliveryShops(input: $input) {{
                   shops {{ {SHOP_FIELDS} }} failures {{ shopNo name platformCode message }} {PAYLOAD} }} }}"
            ),
            json!({"input": {"shops": [
                store_input(SHANGHAI, "重复编号门店"),
                store_input("OH-TEST-NEW-1", "外滩新店"),
            ]}}),
        )
        .await["registerDeliveryShops"]
        .clone();
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let shops = p["shops"].as_array().unwrap();
    assert_eq!(shops.len(), 1, "{p:#}");
    let new = &shops[0];
    assert_eq!(new["provider"], "DADA");
    assert_eq!(new["externalId"], "OH-TEST-NEW-1");
    assert_eq!(new["title"], "外滩新店");
    assert_eq!(
        new["store"]["cityCode"], "021",
        "resolved from 上海市: {p:#}"
    );
    assert_eq!(new["store"]["businessType"], 1);
    let failures = p["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{p:#}");
    assert_eq!(failures[0]["shopNo"], SHANGHAI);
    assert_eq!(failures[0]["platformCode"], "2403");
    // The refused one changed nothing, here or there.
    let ours = dada_shops(&app).await;
    assert_eq!(
        ours.iter()
            .filter(|s| s["externalId"] == SHANGHAI)
            .map(|s| s["title"].clone())
            .collect::<Vec<_>>(),
        vec![seeded_title.clone()]
    );
    let at_dada = app.dada_get("/_control/shops").await;
    let seeded_there = at_dada
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["originShopId"] == SHANGHAI)
        .unwrap();
    assert_eq!(seeded_there["stationName"], seeded_title);

    // Renamed through us.
    let p = app
        .gql_ok(
            &format!(
                "mutation($input: UpdateDeliveryShopInput!) {{ updateDeliveryShop(input: $input) {{ shop {{ {SHOP_FIELDS} }} {PAYLOAD} }} }}"
            ),
            json!({"input": {"shopId": new["id"], "name": "外滩新店(旗舰)"}}),
        )
        .await["updateDeliveryShop"]
        .clone();
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["shop"]["id"], new["id"]);
    assert_eq!(p["shop"]["title"], "外滩新店(旗舰)");
    assert_eq!(p["shop"]["store"]["cityCode"], "021");
    let at_dada = app.dada_get("/_control/shops").await;
    assert!(
        at_dada
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["originShopId"] == "OH-TEST-NEW-1" && s["stationName"] == "外滩新店(旗舰)"),
        "{at_dada:#}"
    );

    // A number Dada does not know.
    let before = dada_shops(&app).await;
    let p = app
        .gql_ok(
            &format!(
                "mutation($input: ImportDeliveryShopInput!) {{ importDeliveryShop(input: $input) {{ shop {{ id }} {PAYLOAD} }} }}"
            ),
            json!({"input": {"shopNo": "NO-SUCH-SHOP"}}),
        )
        .await["importDeliveryShop"]
        .clone();
    let errors = p["userErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{p:#}");
    assert_eq!(errors[0]["code"], "NOT_FOUND");
    assert_eq!(errors[0]["platformCode"], "2402");
    assert!(p["shop"].is_null());
    assert_eq!(dada_shops(&app).await, before);

    // Cities.
    let cities = app
        .gql_ok("{ deliveryCities { name code } }", json!({}))
        .await["deliveryCities"]
        .clone();
    assert!(
        cities
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "上海" && c["code"] == "021"),
        "{cities:#}"
    );

    // Balance, and a recharge link that pays when fetched.
    let balance_fen = || async {
        app.gql_ok(
            "{ deliveryBalance { delivery { fen yuan } redPacket { fen } } }",
            json!({}),
        )
        .await["deliveryBalance"]["delivery"]["fen"]
            .as_i64()
            .expect("delivery balance")
    };
    let balance = balance_fen().await;
    assert_eq!(balance, sandbox_balance(&app).await);
    let link = app
        .gql_ok("{ deliveryRechargeLink(amountFen: 10000) }", json!({}))
        .await["deliveryRechargeLink"]
        .as_str()
        .expect("a link")
        .to_owned();
    assert!(link.starts_with("http"), "{link}");
    assert_eq!(
        balance_fen().await,
        balance,
        "nothing is paid before the link is"
    );
    let paid = app.http.get(&link).send().await.expect("GET the link");
    assert!(paid.status().is_success(), "{}", paid.status());
    assert_eq!(balance_fen().await, balance + 10_000);
    // Paying twice pays once.
    let again = app.http.get(&link).send().await.expect("GET the link");
    assert!(again.status().is_success());
    assert_eq!(balance_fen().await, balance + 10_000);

    // A new merchant account.
    let p = app
        .gql_ok(
            &format!(
                "mutation($input: RegisterDeliveryMerchantInput!) {{ registerDeliveryMerchant(input: $input) {{ merchantId {PAYLOAD} }} }}"
            ),
            json!({"input": {
                "mobile": "13500135000", "cityName": "上海", "enterpriseName": "外滩餐饮有限公司",
                "enterpriseAddress": "上海市黄浦区中山东一路1号", "contactName": "钱经理",
                "contactPhone": "13500135000", "email": "owner@example.com",
            }}),
        )
        .await["registerDeliveryMerchant"]
        .clone();
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    let merchant = p["merchantId"].as_str().expect("merchantId");
    assert!(!merchant.is_empty() && merchant != "73753", "{p:#}");
    let merchants = app.dada_get("/_control/merchants").await;
    assert!(
        merchants
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["sourceId"] == merchant && m["enterpriseName"] == "外滩餐饮有限公司"),
        "{merchants:#}"
    );
}
on_every_backend!(stores_and_merchant_test, stores_and_merchant);

// ----------------------------------------------------------------------------------- money

async fn insufficient_balance(app: TestApp) {
    let shop = app.dada_shop(SHANGHAI).await;
    app.dada_put("/_control/balance", json!({"balanceFen": 0}))
        .await;
    let p = dispatch_raw(&app, json!({ "delivery": delivery(&shop) })).await;
    assert_refused(&p, "INSUFFICIENT_BALANCE", "2155");
    assert_eq!(order_count(&app).await, 0, "the draft was undone");
    assert!(sandbox_orders(&app).await.is_empty());
    assert_eq!(sandbox_balance(&app).await, 0);
}
on_every_backend!(insufficient_balance_test, insufficient_balance);

// ----------------------------------------------------------------------------------- shops

async fn offline_and_renamed_stores(app: TestApp) {
    let offline = app.dada_shop(OFFLINE).await;
    let beijing = app.dada_shop(BEIJING).await;
    let balance = sandbox_balance(&app).await;

    let p = dispatch_raw(&app, json!({ "delivery": delivery(&offline) })).await;
    assert_refused(&p, "PLATFORM_REJECTED", "2132");
    assert_eq!(order_count(&app).await, 0);

    // Another system renames the Beijing store at Dada; our Shop still has the old number.
    platform_client(&app)
        .shop_update(&wire::ShopUpdate {
            origin_shop_id: BEIJING,
            new_shop_id: Some("11047060-MOVED"),
            station_name: None,
            business: None,
            city_name: None,
            area_name: None,
            station_address: None,
            lng: None,
            lat: None,
            contact_name: None,
            phone: None,
            status: None,
        })
        .await
        .expect("renamed at Dada");
    let mut input = delivery(&beijing);
    input["receiver"] = json!({
        "name": "李四", "phone": "13900139001", "address": "北京市东城区王府井大街1号",
        "location": {"lng": 116.4109, "lat": 39.9139},
    });
    let p = dispatch_raw(&app, json!({ "delivery": input })).await;
    assert_refused(&p, "NOT_FOUND", "2004");
    assert_eq!(order_count(&app).await, 0);
    assert!(sandbox_orders(&app).await.is_empty());
    assert_eq!(sandbox_balance(&app).await, balance);
}
on_every_backend!(offline_and_renamed_stores_test, offline_and_renamed_stores);

// ------------------------------------------------------------------------- credentials

/// A second instance on the same database (so it has the stores the first imported) whose
/// Dada secret is wrong: Dada refuses every signed call.
async fn bad_credentials(app: TestApp) {
    let shop = app.dada_shop(SHANGHAI).await;
    let backend = if app.database_url.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    let url = app.database_url.clone();
    let wrong = TestApp::spawn_with(backend, |cfg| {
        cfg.database.url = SecretString::from(url);
        cfg.dada.app_secret = Some(SecretString::from("wrong".to_owned()));
    })
    .await;
    let p = dispatch_raw(&wrong, json!({ "delivery": delivery(&shop) })).await;
    assert_refused(&p, "PLATFORM_REJECTED", "2003");
    assert_eq!(order_count(&wrong).await, 0);
    assert!(sandbox_orders(&wrong).await.is_empty());
    // The right secret still works against the same database.
    let (id, _) = dispatch(&app, SHANGHAI).await;
    assert_eq!(order(&wrong, &id).await["status"], "PENDING");
}
on_every_backend!(bad_credentials_test, bad_credentials);

// ----------------------------------------------------------------------------- 72 hours

async fn unaccepted_for_72_hours(app: TestApp) {
    let (id, origin) = dispatch(&app, SHANGHAI).await;
    let balance = sandbox_balance(&app).await;
    let paid = sandbox_order(&app, &origin).await["paidFen"]
        .as_i64()
        .unwrap();
    // One second past 72 h: the sandbox dates the cancellation when it fell due, a second
    // before the publication's own callback. That callback looks late; the app confirms with
    // Dada and applies it.
    let view = control(&app, &origin, "age", json!({"secs": 72 * 3600 + 1})).await;
    assert_eq!(view["status"], 5, "{view:#}");
    assert_eq!(view["cancelFrom"], 3);
    let o = wait_order(&app, &id, "CANCELLED", |o| o["status"] == "CANCELLED").await;
    assert_eq!(o["rawStatus"], "5");
    assert!(
        o["cancelReason"].as_str().is_some_and(|r| r.contains("72")),
        "{o:#}"
    );
    // Refunded in full: nothing was kept.
    assert_eq!(sandbox_balance(&app).await, balance + paid);
}
on_every_backend!(unaccepted_for_72_hours_test, unaccepted_for_72_hours);

// ------------------------------------------------------------------ duplicate origin ids

async fn duplicate_origin(app: TestApp) {
    let shop = app.dada_shop(SHANGHAI).await;
    // Another system of the merchant already sent EXT-1 to Dada.
    let callback = format!("{}/callbacks/dada/status", app.base);
    platform_client(&app)
        .add_order(&wire::OrderBody {
            shop_no: SHANGHAI,
            origin_id: "EXT-1",
            city_code: "021",
            cargo_price: wire::JsonDecimal(Decimal::new(3000, 2)),
            is_prepay: 0,
            receiver_name: "王五",
            receiver_address: "上海市静安区南京西路1号",
            receiver_phone: "13700137001",
            receiver_lat: None,
            receiver_lng: None,
            callback: &callback,
            cargo_weight: wire::JsonDecimal(Decimal::ONE),
            tips: None,
            info: None,
            delay_publish_time: None,
        })
        .await
        .expect("EXT-1 published at Dada");
    let balance = sandbox_balance(&app).await;
    let mut input = delivery(&shop);
    input["originId"] = json!("EXT-1");
    let p = dispatch_raw(&app, json!({ "delivery": input })).await;
    assert_refused(&p, "PLATFORM_REJECTED", "2105");
    assert_eq!(order_count(&app).await, 0, "no order row left");
    assert_eq!(sandbox_orders(&app).await.len(), 1);
    assert_eq!(sandbox_balance(&app).await, balance);
    // Dada's callbacks about EXT-1 are not ours: refused, never attached to an order.
    assert_eq!(order_count(&app).await, 0);

    // Twice through us with one originId.
    let mut input = delivery(&shop);
    input["originId"] = json!("OURS-1");
    let first = dispatch_raw(&app, json!({ "delivery": input.clone() })).await;
    assert_eq!(first["userErrors"], json!([]), "{first:#}");
    let first_id = first["order"]["id"].as_str().unwrap().to_owned();
    let balance = sandbox_balance(&app).await;
    input["note"] = json!("第二次");
    let second = dispatch_raw(&app, json!({ "delivery": input })).await;
    let errors = second["userErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{second:#}");
    assert_eq!(errors[0]["code"], "ALREADY_DISPATCHED");
    assert!(second["order"].is_null());
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(sandbox_orders(&app).await.len(), 2);
    assert_eq!(sandbox_balance(&app).await, balance);
    assert_eq!(order(&app, &first_id).await["status"], "PENDING");
}
on_every_backend!(duplicate_origin_test, duplicate_origin);

// ----------------------------------------------------------------------------- redispatch

async fn redispatch_rules(app: TestApp) {
    let (id, origin) = dispatch(&app, SHANGHAI).await;
    let redispatch = || async {
        on_order(
            &app,
            "redispatchDelivery",
            "OrderIdInput",
            json!({"orderId": id}),
        )
        .await
    };
    // The publication's callback may come after the dispatch's own answer: its event is in
    // the timeline once the sandbox has delivered it.
    callbacks_delivered(&app, &origin).await;
    let before = order(&app, &id).await;
    let balance = sandbox_balance(&app).await;

    // Still waiting: nothing to send again.
    let p = redispatch().await;
    assert_refused(&p, "PLATFORM_REJECTED", "2060");
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "PENDING");
    assert_eq!(o["rawStatus"], "1");
    assert_eq!(o["delivery"]["dispatchRound"], 1);
    assert_eq!(o["events"], before["events"]);
    assert_eq!(sandbox_balance(&app).await, balance);
    let waybill = sandbox_order(&app, &origin).await["clientId"].clone();

    // Expired at Dada: sent again as the same order.
    control(&app, &origin, "expire", json!({})).await;
    let expired = wait_raw(&app, &id, "7").await;
    assert_eq!(expired["status"], "EXPIRED");
    let p = redispatch().await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["order"]["id"], id.as_str());
    assert_eq!(p["order"]["status"], "PENDING");
    assert_eq!(p["order"]["delivery"]["dispatchRound"], 2);
    assert_eq!(p["order"]["delivery"]["originId"], origin.as_str());
    let o = wait_raw(&app, &id, "1").await;
    assert_eq!(o["status"], "PENDING");
    assert_eq!(o["delivery"]["dispatchRound"], 2);
    let seen = sandbox_order(&app, &origin).await;
    assert_eq!(seen["status"], 1);
    assert_ne!(seen["clientId"], waybill, "a new waybill");
    assert_eq!(order_count(&app).await, 1);

    // Accepted (and later delivered): only cancelled, expired or returned orders go again.
    control(&app, &origin, "accept", json!({})).await;
    wait_raw(&app, &id, "2").await;
    // A poll (confirming the new round's first callback) may show the accept before its
    // callback lands, which then adds its event: wait for every callback to be delivered.
    callbacks_delivered(&app, &origin).await;
    let before = order(&app, &id).await;
    let p = redispatch().await;
    assert_refused(&p, "PLATFORM_REJECTED", "2061");
    let o = order(&app, &id).await;
    assert_eq!(o["status"], "ACCEPTED");
    assert_eq!(o["delivery"]["dispatchRound"], 2);
    assert_eq!(o["events"], before["events"]);
}
on_every_backend!(redispatch_rules_test, redispatch_rules);

// ---------------------------------------------------------------------------- quote expiry

async fn expired_quote(app: TestApp) {
    let shop = app.dada_shop(SHANGHAI).await;
    let q = app
        .gql_ok(
            &format!(
                "mutation($input: QuoteDeliveryInput!) {{ quoteDelivery(input: $input) {{
                   quote {{ id originId platformQuoteId expiresAt fees {{ total {{ fen }} }} order {{ id }} }} {PAYLOAD} }} }}"
            ),
            json!({"input": {"delivery": delivery(&shop)}}),
        )
        .await["quoteDelivery"]
        .clone();
    assert_eq!(q["userErrors"], json!([]), "{q:#}");
    let quote = &q["quote"];
    let delivery_no = quote["platformQuoteId"].as_str().expect("deliveryNo");
    let (status, aged) = app
        .dada_post(
            &format!("/_control/quotes/{delivery_no}/age"),
            json!({"secs": 200}),
        )
        .await;
    assert_eq!(status, 200, "{aged}");
    let balance = sandbox_balance(&app).await;

    let p = dispatch_raw(&app, json!({"quoteId": quote["id"]})).await;
    assert_refused(&p, "PLATFORM_REJECTED", "2062");
    assert_eq!(order_count(&app).await, 0);
    assert!(sandbox_orders(&app).await.is_empty());
    assert_eq!(sandbox_balance(&app).await, balance);
    let again = app
        .gql_ok(
            "query($id: ID!) { deliveryQuote(id: $id) { id order { id } } }",
            json!({"id": quote["id"]}),
        )
        .await;
    assert!(
        again["deliveryQuote"]["order"].is_null(),
        "the quote was not used: {again:#}"
    );
}
on_every_backend!(expired_quote_test, expired_quote);
