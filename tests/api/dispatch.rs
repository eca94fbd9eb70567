//! Dispatch across networks: a shop's dispatch policy (set, read, refused when it cannot
//! work, deleted), and `quoteDelivery` asking every network the policy links at once, with
//! each network's and company's answer or error, the policy's allowed networks and fee cap
//! applied, in the order asked for.

use serde_json::{Value, json};

use crate::{helpers::TestApp, on_every_backend};

const POLICY: &str = "shop { id } strategy networks { network company } linkedShops { id }
    feeCap { fen } tipEscalation { step { fen } intervalSeconds cap { fen } }
    switchAfterSeconds raceAllowed raceWidth";

const QUOTE: &str = "mutation($input: QuoteDeliveryInput!) { quoteDelivery(input: $input) {
    quote { id }
    quotes { id provider company dispatchMinutes expiresAt distanceMeters fees { total { fen } }
             shop { id } }
    userErrors { field message code platformCode } } }";

pub async fn set_policy(app: &TestApp, input: Value) -> Value {
    let q = format!(
        "mutation($input: SetDispatchPolicyInput!) {{ setDispatchPolicy(input: $input) {{
            policy {{ {POLICY} }} userErrors {{ field message code }} }} }}"
    );
    app.gql_ok(&q, json!({ "input": input })).await["setDispatchPolicy"].clone()
}

/// A PREFERRED policy for the Dada store `dada`: Dada first, then SFTC at the linked WeChat
/// store, moving on after `switch_after` seconds without a courier.
pub fn dada_then_sftc(dada: &str, wechat: &str, switch_after: i64) -> Value {
    json!({"shopId": dada, "strategy": "PREFERRED", "linkedShopIds": [wechat],
           "networks": [{"network": "DADA"}, {"network": "WECHAT", "company": "SFTC"}],
           "switchAfterSeconds": switch_after})
}

/// A delivery from `shop` in Shanghai, about 5 km.
pub fn delivery(shop: &str) -> Value {
    json!({
        "shopId": shop,
        "receiver": {
            "name": "张三",
            "phone": "13800000000",
            "address": "上海市黄浦区南京东路100号",
            "location": { "lng": 121.4968, "lat": 31.2450 }
        },
        "cargoPriceFen": 5000,
        "cargoWeightKg": 1.5,
    })
}

async fn quote(app: &TestApp, shop: &str, sort: &str) -> Value {
    app.gql_ok(
        QUOTE,
        json!({ "input": { "delivery": delivery(shop), "sort": sort } }),
    )
    .await["quoteDelivery"]
        .clone()
}

/// (network, company) of each quote, in order.
fn who(q: &Value) -> Vec<(String, Option<String>)> {
    q["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["provider"].as_str().unwrap().to_owned(),
                q["company"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn fees(q: &Value) -> Vec<i64> {
    q["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["fees"]["total"]["fen"].as_i64().unwrap())
        .collect()
}

async fn policies_and_quotes_across_networks(app: TestApp) {
    let dada = app.dada_shop("11047059").await;
    let dada_beijing = app.dada_shop("11047060").await;
    let wechat = app.wechat_shop("wx_sh_001").await;

    // Without a policy, a quote asks the shop's own network only.
    let alone = quote(&app, &dada, "CHEAPEST").await;
    assert_eq!(who(&alone), vec![("DADA".to_owned(), None)], "{alone:#}");

    // Policies that cannot work are refused and change nothing.
    for (input, field) in [
        (
            json!({"shopId": dada, "strategy": "CHEAPEST", "linkedShopIds": [dada_beijing]}),
            json!(["input", "linkedShopIds", "0"]),
        ),
        (
            json!({"shopId": dada, "strategy": "PREFERRED",
                   "networks": [{"network": "WECHAT", "company": "SFTC"}]}),
            json!(["input", "networks", "0", "network"]),
        ),
        (
            json!({"shopId": dada, "strategy": "CHEAPEST", "linkedShopIds": [wechat],
                   "tipEscalation": {"stepFen": 100, "intervalSeconds": 0, "capFen": 500}}),
            json!(["input", "tipEscalation"]),
        ),
        (
            json!({"shopId": dada, "strategy": "CHEAPEST", "switchAfterSeconds": -5}),
            json!(["input", "switchAfterSeconds"]),
        ),
        (
            json!({"shopId": dada, "strategy": "CHEAPEST", "raceAllowed": true, "raceWidth": 6}),
            json!(["input", "raceWidth"]),
        ),
        (
            json!({"shopId": dada, "strategy": "CHEAPEST", "raceAllowed": true, "raceWidth": 1}),
            json!(["input", "raceWidth"]),
        ),
    ] {
        let p = set_policy(&app, input.clone()).await;
        assert_eq!(p["policy"], Value::Null, "{input}: {p}");
        assert_eq!(p["userErrors"][0]["field"], field, "{input}: {p}");
        assert_eq!(p["userErrors"][0]["code"], "INVALID_INPUT", "{p}");
    }
    let read = format!("query($id: ID!) {{ dispatchPolicy(shopId: $id) {{ {POLICY} }} }}");
    let none = app.gql_ok(&read, json!({ "id": dada })).await;
    assert_eq!(none["dispatchPolicy"], Value::Null);

    // Linked: Dada and every bound WeChat company at once, cheapest first.
    let p = set_policy(
        &app,
        json!({"shopId": dada, "strategy": "CHEAPEST", "linkedShopIds": [wechat],
               "tipEscalation": {"stepFen": 100, "intervalSeconds": 30, "capFen": 500},
               "switchAfterSeconds": 120, "raceAllowed": true}),
    )
    .await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    let stored = app.gql_ok(&read, json!({ "id": dada })).await;
    assert_eq!(stored["dispatchPolicy"], p["policy"]);
    assert_eq!(p["policy"]["linkedShops"], json!([{ "id": wechat }]));
    assert_eq!(p["policy"]["tipEscalation"]["cap"]["fen"], 500);
    assert_eq!(p["policy"]["raceWidth"], 3, "the default width");

    let everywhere = quote(&app, &dada, "CHEAPEST").await;
    assert_eq!(everywhere["userErrors"], json!([]), "{everywhere:#}");
    let networks = who(&everywhere);
    assert!(
        networks.contains(&("DADA".to_owned(), None)),
        "{networks:?}"
    );
    let companies: Vec<&str> = networks
        .iter()
        .filter(|(n, _)| n == "WECHAT")
        .filter_map(|(_, c)| c.as_deref())
        .collect();
    assert!(
        companies.len() >= 2,
        "every bound WeChat company: {networks:?}"
    );
    let f = fees(&everywhere);
    assert!(f.windows(2).all(|w| w[0] <= w[1]), "cheapest first: {f:?}");
    assert_eq!(everywhere["quote"]["id"], everywhere["quotes"][0]["id"]);
    // Each quote leaves from its network's store.
    for q in everywhere["quotes"].as_array().unwrap() {
        let store = if q["provider"] == "DADA" {
            &dada
        } else {
            &wechat
        };
        assert_eq!(q["shop"]["id"], json!(store), "{q}");
    }
    // Fastest first: by expected minutes to a courier (those without last), then fee.
    let fastest = quote(&app, &dada, "FASTEST").await;
    let minutes: Vec<i64> = fastest["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["dispatchMinutes"].as_i64().unwrap_or(i64::MAX))
        .collect();
    assert!(minutes.windows(2).all(|w| w[0] <= w[1]), "{minutes:?}");
    assert_eq!(fastest["quotes"].as_array().unwrap().len(), networks.len());

    // Only the networks and companies allowed, under the fee cap; the rest are reported.
    let cheapest_wechat = everywhere["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["provider"] == "WECHAT")
        .unwrap()
        .clone();
    let company = cheapest_wechat["company"].as_str().unwrap();
    let cap = cheapest_wechat["fees"]["total"]["fen"].as_i64().unwrap();
    let p = set_policy(
        &app,
        json!({"shopId": dada, "strategy": "PREFERRED", "linkedShopIds": [wechat],
               "networks": [{"network": "WECHAT", "company": company}, {"network": "DADA"}],
               "feeCapFen": cap}),
    )
    .await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    let narrowed = quote(&app, &dada, "CHEAPEST").await;
    for (network, c) in who(&narrowed) {
        assert!(
            network == "DADA" || c.as_deref() == Some(company),
            "{network} {c:?}: {narrowed:#}"
        );
    }
    assert!(fees(&narrowed).iter().all(|f| *f <= cap), "{narrowed:#}");
    let left_out = narrowed["userErrors"].as_array().unwrap();
    assert!(
        left_out.iter().any(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("networks the shop's dispatch policy allows")),
        "{narrowed:#}"
    );
    assert_eq!(
        left_out.len() + narrowed["quotes"].as_array().unwrap().len(),
        networks.len(),
        "every network and company is either quoted or reported: {narrowed:#}"
    );

    // One network failing leaves the others' quotes, with its own error.
    app.dada_put("/_control/faults", json!({ "errorRate": 1.0 }))
        .await;
    let partial = quote(&app, &dada, "CHEAPEST").await;
    assert!(
        who(&partial).iter().all(|(n, _)| n == "WECHAT"),
        "{partial:#}"
    );
    assert!(
        partial["userErrors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == json!(["delivery", "company", "DADA"])
                && e["code"] == "PROVIDER_UNAVAILABLE"),
        "{partial:#}"
    );
    app.dada_put("/_control/faults", json!({ "errorRate": 0.0 }))
        .await;

    // Deleted: back to one network; a second delete says there is none.
    let del =
        "mutation($id: ID!) { deleteDispatchPolicy(shopId: $id) { userErrors { field code } } }";
    let d = app.gql_ok(del, json!({ "id": dada })).await;
    assert_eq!(d["deleteDispatchPolicy"]["userErrors"], json!([]));
    let d = app.gql_ok(del, json!({ "id": dada })).await;
    assert_eq!(
        d["deleteDispatchPolicy"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let alone = quote(&app, &dada, "CHEAPEST").await;
    assert_eq!(who(&alone), vec![("DADA".to_owned(), None)]);
}
on_every_backend!(
    policies_and_quotes_across_networks_test,
    policies_and_quotes_across_networks
);
