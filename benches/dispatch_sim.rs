//! Automatic dispatch, simulated: `BENCH_DELIVERIES` (1 000) deliveries per strategy through
//! the Dada and WeChat sandboxes, whose couriers accept each order after a delay drawn from
//! its reference, or never (per network and company: see `ACCEPTANCE`). The shop's policy
//! links both networks, raises the tip by 1 yuan every 2 s up to 3 yuan, and moves on after
//! 3 s without a courier; the strategies compared are CHEAPEST, FASTEST, PREFERRED (SFTC,
//! then Dada, then the rest) and CHEAPEST racing three at once. For each: deliveries won, and
//! not accepted within 40 s (every network tried, the last one still waiting for a courier,
//! or the plan failed); the mean fee paid (winner's total, tips included); time from the
//! dispatch to the winning acceptance (p50/p90); attempts per delivery; penalties paid.
//!
//! `cargo bench --bench dispatch_sim` (SQLite in a temp dir, sandboxes in-process);
//! `BENCH_DELIVERIES=200` for a shorter run, `BENCH_STRATEGY=racing` for one strategy.

use std::time::Duration;

mod common;

use futures::StreamExt;
use orderhub::Application;
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// (network or WeChat company, min ms, max ms, share never accepting).
const ACCEPTANCE: &[(&str, u64, u64, f64)] = &[
    ("DADA", 500, 6_000, 0.15),
    ("SFTC", 300, 2_500, 0.05),
    ("MTPS", 1_000, 8_000, 0.25),
    ("SS", 500, 4_000, 0.10),
    ("TEST", 200, 1_000, 0.50),
];

fn delivery(shop: &str, i: usize) -> Value {
    json!({
        "shopId": shop,
        "originId": format!("SIM-{}-{i}", std::process::id()),
        "receiver": { "name": "张三", "phone": "13800000000",
                      "address": "上海市黄浦区南京东路100号",
                      "location": { "lng": 121.4968 + (i % 50) as f64 * 0.001, "lat": 31.2450 } },
        "cargoPriceFen": 5000, "cargoWeightKg": 1.5 })
}

const PLAN: &str = "query($id: ID!) { order(id: $id) { dispatchPlan { state createdAt
    penalties { fen } attempts { id }
    winner { delivery { fees { total { fen } } } events { kind toStatus occurredAt } } } } }";

/// One delivery's outcome: won (fee, ms to acceptance) or failed; penalties; attempts.
struct Outcome {
    won: Option<(i64, i64)>,
    penalty: i64,
    attempts: usize,
}

/// How long a delivery may wait for a courier before the simulation counts it as not
/// accepted (a plan whose last network never accepts waits for the network to end it).
const PATIENCE: Duration = Duration::from_secs(40);

async fn settle(http: &reqwest::Client, base: &str, order: &str) -> Outcome {
    let started = std::time::Instant::now();
    loop {
        if started.elapsed() > PATIENCE {
            return Outcome {
                won: None,
                penalty: 0,
                attempts: 0,
            };
        }
        let d = common::gql(http, base, PLAN, json!({ "id": order })).await;
        let p = &d["order"]["dispatchPlan"];
        if p["state"] != "ACTIVE" {
            let created: chrono::DateTime<chrono::Utc> =
                p["createdAt"].as_str().unwrap().parse().unwrap();
            let won = (p["state"] == "WON").then(|| {
                let w = &p["winner"];
                let accepted = w["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["kind"] == "STATUS" && e["toStatus"] == "ACCEPTED")
                    .filter_map(|e| {
                        e["occurredAt"]
                            .as_str()?
                            .parse::<chrono::DateTime<chrono::Utc>>()
                            .ok()
                    })
                    .min()
                    .unwrap_or(created);
                (
                    w["delivery"]["fees"]["total"]["fen"].as_i64().unwrap_or(0),
                    (accepted - created).num_milliseconds().max(0),
                )
            });
            return Outcome {
                won,
                penalty: p["penalties"]["fen"].as_i64().unwrap_or(0),
                attempts: p["attempts"].as_array().map_or(0, Vec::len),
            };
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn pct(v: &[i64], p: usize) -> i64 {
    if v.is_empty() {
        return 0;
    }
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_DELIVERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = common::quiet_config(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("sim.db").display()
    ));
    config.dada.import_shops = None;
    // Acceptance comes from the draws below; nothing moves on after it.
    config.sandbox.dada.accept_after_secs = None;
    config.sandbox.dada.fetch_after_secs = None;
    config.sandbox.wechat.accept_after_secs = None;
    config.sandbox.wechat.arrive_after_secs = None;
    config.dispatch.plan_tick_ms = 200;
    let app = Application::build(config).await.expect("app");
    let base = app.base_url().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();
    let dada = common::shop(&http, &base, "DADA", "11047059").await;
    let wechat = common::shop(&http, &base, "WECHAT", "wx_sh_001").await;
    for (i, (who, min, max, never)) in ACCEPTANCE.iter().enumerate() {
        let acceptance = json!({ "minMs": min, "maxMs": max, "neverRate": never, "seed": i });
        let r = if *who == "DADA" {
            http.put(format!("{base}/sandbox/dada/_control/acceptance"))
                .json(&acceptance)
        } else {
            http.put(format!("{base}/sandbox/wechat/_control/companies/{who}"))
                .json(&json!({ "acceptance": acceptance }))
        }
        .send()
        .await
        .expect("acceptance");
        assert!(r.status().is_success(), "{who}: {}", r.status());
    }
    // Enough money at Dada and API quota at WeChat for every delivery of the run.
    for (path, body) in [
        (
            "dada/_control/balance",
            json!({ "balanceFen": 1_000_000_000i64 }),
        ),
        (
            "wechat/_control/quota",
            json!({ "dailyQuota": 100_000_000, "usedToday": 0 }),
        ),
    ] {
        let r = http
            .put(format!("{base}/sandbox/{path}"))
            .json(&body)
            .send()
            .await
            .expect(path);
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    let set = "mutation($input: SetDispatchPolicyInput!) { setDispatchPolicy(input: $input) {
        userErrors { message } } }";
    let dispatch = "mutation($d: DeliveryInputGql!) { dispatchDelivery(input: {delivery: $d,
        strategy: AUTO}) { order { id } userErrors { message } } }";
    let strategies = [
        ("CHEAPEST", json!({"strategy": "CHEAPEST"})),
        ("FASTEST", json!({"strategy": "FASTEST"})),
        (
            "PREFERRED (SFTC, Dada, …)",
            json!({"strategy": "PREFERRED", "networks": [
                {"network": "WECHAT", "company": "SFTC"}, {"network": "DADA"},
                {"network": "WECHAT"}]}),
        ),
        (
            "CHEAPEST, racing 3",
            json!({"strategy": "CHEAPEST", "raceAllowed": true}),
        ),
    ];
    println!(
        "\n| strategy | won | not accepted in 40 s | mean fee paid (yuan) | to acceptance p50 / p90 (s) | attempts per delivery | penalties paid (yuan) |"
    );
    println!("|---|---|---|---|---|---|---|");
    // `BENCH_STRATEGY=racing` (a part of a name) runs only the strategies it names.
    let only = std::env::var("BENCH_STRATEGY").unwrap_or_default();
    for (round, (name, policy)) in strategies.iter().enumerate() {
        if !name.contains(only.as_str()) {
            continue;
        }
        let mut input = policy.clone();
        input["shopId"] = json!(dada);
        input["linkedShopIds"] = json!([wechat]);
        input["switchAfterSeconds"] = json!(3);
        input["tipEscalation"] = json!({"stepFen": 100, "intervalSeconds": 2, "capFen": 300});
        let d = common::gql(&http, &base, set, json!({ "input": input })).await;
        assert_eq!(d["setDispatchPolicy"]["userErrors"], json!([]), "{d}");
        let outcomes: Vec<Outcome> = futures::stream::iter(0..n)
            .map(|i| {
                let (http, base, dada) = (http.clone(), base.clone(), dada.clone());
                async move {
                    let d = common::gql(
                        &http,
                        &base,
                        dispatch,
                        json!({ "d": delivery(&dada, round * 1_000_000 + i) }),
                    )
                    .await;
                    let p = &d["dispatchDelivery"];
                    match p["order"]["id"].as_str() {
                        Some(id) => settle(&http, &base, id).await,
                        None => Outcome {
                            won: None,
                            penalty: 0,
                            attempts: 0,
                        },
                    }
                }
            })
            .buffer_unordered(64)
            .collect()
            .await;
        let mut times: Vec<i64> = outcomes.iter().filter_map(|o| o.won.map(|w| w.1)).collect();
        times.sort_unstable();
        let fees: Vec<i64> = outcomes.iter().filter_map(|o| o.won.map(|w| w.0)).collect();
        let won = fees.len();
        let mean = if won > 0 {
            fees.iter().sum::<i64>() as f64 / won as f64 / 100.0
        } else {
            0.0
        };
        let attempts = outcomes.iter().map(|o| o.attempts).sum::<usize>() as f64 / n as f64;
        let penalties: i64 = outcomes.iter().map(|o| o.penalty).sum();
        println!(
            "| {name} | {won} | {} | {mean:.2} | {:.1} / {:.1} | {attempts:.2} | {:.2} |",
            n - won,
            pct(&times, 50) as f64 / 1000.0,
            pct(&times, 90) as f64 / 1000.0,
            penalties as f64 / 100.0
        );
    }
}
