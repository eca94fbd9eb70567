//! The courier scorecard: over seeded history it equals a brute-force count over the orders
//! and their timelines (with and without a filter); over live deliveries through the Dada
//! sandbox, the step times and who cancelled are written as the timeline moves, so the
//! scorecard and `orderStats` durations see acceptance, merchant and platform cancellations.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{
    dada::{control, dispatch, origin_of, wait_raw},
    helpers::TestApp,
    on_every_backend,
};

/// What the brute force needs of an order (the seeded test pages with these).
pub const NODE_FIELDS: &str = "kind provider status createdAt address { city }
    delivery { company distanceMeters fees { deliveryFee { fen } penalty { fen } } }
    events { kind toStatus occurredAt source applied }";

const SCORECARD: &str = "query($f: OrderFilter) { courierScorecard(filter: $f) {
    network company city deliveries accepted acceptanceRate medianTimeToAcceptSeconds
    cancelled cancelledByMerchant cancelledByPlatform merchantCancellationRate
    platformCancellationRate averageFee { fen } feePerKm { fen } penalties { fen } } }";

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Seconds from creation to the first status event into `status`, rounded as the
/// database rounds them.
fn first_secs(o: &Value, status: &str) -> Option<i64> {
    let created = time(&o["createdAt"]);
    o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "STATUS" && e["toStatus"] == status)
        .map(|e| time(&e["occurredAt"]))
        .min()
        .map(|at| ((at - created).num_milliseconds() as f64 / 1000.0).round() as i64)
}

/// Who cancelled, from the applied event that cancelled it.
fn cancelled_by(o: &Value) -> Option<&'static str> {
    let e =
        o["events"].as_array().unwrap().iter().rev().find(|e| {
            e["kind"] == "STATUS" && e["toStatus"] == "CANCELLED" && e["applied"] == true
        })?;
    Some(if e["source"] == "API" {
        "MERCHANT"
    } else {
        "PLATFORM"
    })
}

fn fen(v: &Value) -> i64 {
    v["fen"].as_i64().unwrap_or(0)
}

/// Round half up of `num / den` (both positive).
fn div_round(num: i64, den: i64) -> i64 {
    (num * 2 + den) / (den * 2)
}

/// The scorecard by hand over `orders` (any kind; only deliveries count).
pub fn expected(orders: &[&Value]) -> Vec<Value> {
    rounded(by_hand(orders))
}

fn by_hand(orders: &[&Value]) -> Vec<Value> {
    let mut groups: BTreeMap<(String, Option<String>, String), Vec<&Value>> = BTreeMap::new();
    for o in orders.iter().filter(|o| o["kind"] == "DELIVERY") {
        let key = (
            o["provider"].as_str().unwrap().to_owned(),
            o["delivery"]["company"].as_str().map(str::to_owned),
            o["address"]["city"].as_str().unwrap().to_owned(),
        );
        groups.entry(key).or_default().push(o);
    }
    groups
        .into_iter()
        .map(|((network, company, city), os)| {
            let n = os.len() as i64;
            let mut accepts: Vec<i64> = os.iter().filter_map(|o| first_secs(o, "ACCEPTED")).collect();
            accepts.sort_unstable();
            let cancelled = os.iter().filter(|o| o["status"] == "CANCELLED").count() as i64;
            let by = |who| {
                os.iter()
                    .filter(|o| o["status"] == "CANCELLED" && cancelled_by(o) == Some(who))
                    .count() as i64
            };
            let (merchant, platform) = (by("MERCHANT"), by("PLATFORM"));
            let fee: i64 = os.iter().map(|o| fen(&o["delivery"]["fees"]["deliveryFee"])).sum();
            let with_distance: Vec<&&Value> = os
                .iter()
                .filter(|o| o["delivery"]["distanceMeters"].as_i64().is_some_and(|d| d > 0))
                .collect();
            let distance: i64 = with_distance
                .iter()
                .map(|o| o["delivery"]["distanceMeters"].as_i64().unwrap())
                .sum();
            let fee_with_distance: i64 = with_distance
                .iter()
                .map(|o| fen(&o["delivery"]["fees"]["deliveryFee"]))
                .sum();
            let penalties: i64 = os.iter().map(|o| fen(&o["delivery"]["fees"]["penalty"])).sum();
            let median = (!accepts.is_empty()).then(|| accepts[accepts.len().div_ceil(2) - 1]);
            json!({
                "network": network, "company": company, "city": city,
                "deliveries": n, "accepted": accepts.len(),
                "acceptanceRate": accepts.len() as f64 / n as f64,
                "medianTimeToAcceptSeconds": median,
                "cancelled": cancelled, "cancelledByMerchant": merchant,
                "cancelledByPlatform": platform,
                "merchantCancellationRate": merchant as f64 / n as f64,
                "platformCancellationRate": platform as f64 / n as f64,
                "averageFee": { "fen": div_round(fee, n) },
                "feePerKm": (distance > 0).then(|| json!({ "fen": div_round(fee_with_distance * 1000, distance) })),
                "penalties": { "fen": penalties },
            })
        })
        .collect()
}

async fn scorecard(app: &TestApp, filter: Value) -> Vec<Value> {
    let v = app.gql_ok(SCORECARD, json!({ "f": filter })).await;
    rounded(v["courierScorecard"].as_array().unwrap().clone())
}

/// The rates to 12 decimals: JSON parsing may land a float one unit in the last place away
/// from the same division done here.
fn rounded(mut rows: Vec<Value>) -> Vec<Value> {
    for row in &mut rows {
        for rate in [
            "acceptanceRate",
            "merchantCancellationRate",
            "platformCancellationRate",
        ] {
            if let Some(x) = row[rate].as_f64() {
                row[rate] = json!((x * 1e12).round() / 1e12);
            }
        }
    }
    rows
}

/// Over `orders` (every order of the app, with [`NODE_FIELDS`]): the scorecard equals the
/// brute force, for every delivery and for one network in one city.
pub async fn matches_brute_force(app: &TestApp, orders: &[Value]) {
    let all: Vec<&Value> = orders.iter().collect();
    let want = expected(&all);
    assert!(
        want.len() >= 8,
        "the seed spreads deliveries over networks and cities: {want:?}"
    );
    assert_eq!(scorecard(app, Value::Null).await, want);
    let some: Vec<&Value> = orders
        .iter()
        .filter(|o| o["provider"] == "WECHAT" && o["address"]["city"] == "上海")
        .collect();
    let got = scorecard(app, json!({ "provider": "WECHAT", "city": "上海" })).await;
    assert_eq!(got, expected(&some));
    assert!(!got.is_empty());
    // Service orders are never deliveries.
    assert_eq!(
        scorecard(app, json!({ "kind": "SERVICE" })).await,
        Vec::<Value>::new()
    );
}

/// Three Dada deliveries, live: one delivered, one accepted then cancelled by the merchant,
/// one cancelled by the platform before anyone accepted.
async fn live_deliveries_score(app: TestApp) {
    let shop = app.dada_shop("11047059").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let placed = dispatch(&app, &shop, json!({})).await;
        let id = placed["order"]["id"].as_str().unwrap().to_owned();
        ids.push((id, origin_of(&placed["order"])));
    }
    let (done, done_origin) = &ids[0];
    for (step, raw) in [("accept", "2"), ("fetch", "3"), ("finish", "4")] {
        control(&app, done_origin, step, json!({})).await;
        wait_raw(&app, done, raw).await;
    }
    let (mine, mine_origin) = &ids[1];
    control(&app, mine_origin, "accept", json!({})).await;
    wait_raw(&app, mine, "2").await;
    let c = app
        .gql_ok(
            "mutation($id: ID!) { cancelOrder(input: {orderId: $id, reasonId: 4}) {
                userErrors { code } } }",
            json!({ "id": mine }),
        )
        .await;
    assert_eq!(c["cancelOrder"]["userErrors"], json!([]), "{c}");
    let (theirs, theirs_origin) = &ids[2];
    control(&app, theirs_origin, "cancel", json!({})).await;
    wait_raw(&app, theirs, "5").await;

    let q = format!(
        "query($f: OrderFilter) {{ orders(first: 10, filter: $f) {{ nodes {{ {NODE_FIELDS} }} }} }}"
    );
    let v = app.gql_ok(&q, json!({ "f": { "provider": "DADA" } })).await;
    let nodes: Vec<Value> = v["orders"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 3);
    let got = scorecard(&app, json!({ "provider": "DADA" })).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let s = &got[0];
    assert_eq!(
        (&s["deliveries"], &s["accepted"], &s["cancelled"]),
        (&json!(3), &json!(2), &json!(2)),
        "{s}"
    );
    assert_eq!(
        (&s["cancelledByMerchant"], &s["cancelledByPlatform"]),
        (&json!(1), &json!(1)),
        "{s}"
    );
    let refs: Vec<&Value> = nodes.iter().collect();
    assert_eq!(got, expected(&refs));

    // The same step times feed orderStats' durations.
    let v = app
        .gql_ok(
            "{ orderStats(filter: {provider: DADA}) { timeToAccept { orders p50Seconds }
                timeToPickUp { orders } timeToComplete { orders p50Seconds } } }",
            json!({}),
        )
        .await;
    let b = &v["orderStats"][0];
    assert_eq!(b["timeToAccept"]["orders"], 2, "{b}");
    assert_eq!(b["timeToPickUp"]["orders"], 1, "{b}");
    let finished = nodes.iter().find(|o| o["status"] == "COMPLETED").unwrap();
    assert_eq!(
        b["timeToComplete"]["p50Seconds"].as_i64(),
        first_secs(finished, "COMPLETED"),
        "{b}"
    );
}
on_every_backend!(live_deliveries_score_test, live_deliveries_score);
