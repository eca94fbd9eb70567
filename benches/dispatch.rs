//! Quotes across courier networks: `quoteDelivery` from a shop whose dispatch policy links
//! the same store on the other network, with each network's sandbox answering after its own
//! latency (Dada `DADA_MS`, default 300 ms; WeChat `WECHAT_MS`, default 600 ms), beside each
//! network asked alone in the same run. The networks are asked at once, so the answer should
//! take no longer than the slowest network (goal: ≤ 1.1×).
//!
//! `cargo bench --bench dispatch` (SQLite in a temp dir, sandboxes in-process).

use std::time::{Duration, Instant};

mod common;

use orderhub::Application;
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 15;

fn env_ms(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn p50(mut v: Vec<Duration>) -> f64 {
    v.sort_unstable();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

const QUOTE: &str = "mutation($input: QuoteDeliveryInput!) { quoteDelivery(input: $input) {
    quotes { provider company fees { total { fen } } } userErrors { field message } } }";

fn delivery(shop: &str) -> Value {
    json!({ "delivery": {
        "shopId": shop,
        "receiver": { "name": "张三", "phone": "13800000000",
                      "address": "上海市黄浦区南京东路100号",
                      "location": { "lng": 121.4968, "lat": 31.2450 } },
        "cargoPriceFen": 5000, "cargoWeightKg": 1.5 } })
}

/// p50 of `quoteDelivery` from `shop`, and the networks that answered the last time.
async fn time_quotes(http: &reqwest::Client, base: &str, shop: &str) -> (f64, Vec<String>) {
    let mut took = Vec::new();
    let mut networks = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let d = common::gql(http, base, QUOTE, json!({ "input": delivery(shop) })).await;
        took.push(started.elapsed());
        let q = &d["quoteDelivery"];
        assert_eq!(q["userErrors"], json!([]), "{q}");
        networks = q["quotes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["provider"].as_str().unwrap_or_default().to_owned())
            .collect();
        networks.dedup();
    }
    (p50(took), networks)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (dada_ms, wechat_ms) = (env_ms("DADA_MS", 300), env_ms("WECHAT_MS", 600));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = common::quiet_config(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("dispatch.db").display()
    ));
    // The sandbox's own stores, imported at start-up.
    config.dada.import_shops = None;
    let app = Application::build(config).await.expect("app");
    let base = app.base_url().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();
    let dada = common::shop(&http, &base, "DADA", "11047059").await;
    let wechat = common::shop(&http, &base, "WECHAT", "wx_sh_001").await;
    for (network, ms) in [("dada", dada_ms), ("wechat", wechat_ms)] {
        let r = http
            .put(format!("{base}/sandbox/{network}/_control/faults"))
            .json(&json!({ "latencyMs": ms }))
            .send()
            .await
            .expect("faults");
        assert!(r.status().is_success(), "{network} faults: {}", r.status());
    }
    // Warm up the connections.
    time_quotes(&http, &base, &dada).await;
    let (dada_alone, _) = time_quotes(&http, &base, &dada).await;
    let (wechat_alone, _) = time_quotes(&http, &base, &wechat).await;
    let set = "mutation($dada: ID!, $wechat: ID!) { setDispatchPolicy(input: {shopId: $dada,
        strategy: CHEAPEST, linkedShopIds: [$wechat]}) { userErrors { message } } }";
    let d = common::gql(&http, &base, set, json!({ "dada": dada, "wechat": wechat })).await;
    assert_eq!(d["setDispatchPolicy"]["userErrors"], json!([]), "{d}");
    let (both, networks) = time_quotes(&http, &base, &dada).await;
    assert!(
        networks.contains(&"DADA".to_owned()) && networks.contains(&"WECHAT".to_owned()),
        "{networks:?}"
    );
    let slowest = dada_alone.max(wechat_alone);
    println!("\n| quoteDelivery, p50 of {RUNS} | ms |");
    println!("|---|---|");
    println!("| Dada alone (sandbox latency {dada_ms} ms a call) | {dada_alone:.1} |");
    println!(
        "| WeChat alone, every bound company (latency {wechat_ms} ms a call) | {wechat_alone:.1} |"
    );
    println!("| both networks at once (linked by the policy) | {both:.1} |");
    println!(
        "| ratio to the slowest network alone | {:.2}× (goal ≤ 1.10×) |",
        both / slowest
    );
}
