//! The read path side by side with its anchors, in one run (issue 12's first rows):
//!
//! - `{ __typename }` over POST /graphql against a bare axum handler answering the same JSON;
//! - a page of 50 orders, flat fields, against a hand-written handler (sqlx, one statement)
//!   returning the same JSON from the same SQLite file;
//! - the same page with each order's shop, the shop's prices, the items and the events,
//!   against a hand-written handler (five statements, joined in hash maps), at 1, 16 and
//!   64 concurrent clients.
//!
//! `cargo bench --bench read_path`. `BENCH_SECS` (default 5) is each measurement's length;
//! each pair is measured `BENCH_ROUNDS` (default 3) times, alternating, and the medians are
//! reported. The server (orderhub and the anchors, each on its own port) runs on a 2-thread
//! runtime, the clients on another; both share the machine's cores, which the anchors do too.
//! Closed loop: each client sends its next request when the previous answer has arrived.
//! `BENCH_ONLY=nested` (any part of a row's label) measures only the rows that match;
//! `BENCH_QUERY='{ … }'` adds a row measuring that document (to tell where time goes).

mod common;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Json, Router, extract::State, routing::get};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use orderhub::Application;
use sea_orm::sqlx::{self, Row, SqlitePool};
use serde_json::{Value, json};

const FLAT: &str = "{ orders(first: 50) { nodes { id provider status rawStatus createdAt amounts { total { fen } } } } }";
const NESTED: &str = "{ orders(first: 50) { nodes { id provider status rawStatus createdAt
    amounts { total { fen } }
    shop { id title prices { id name amount { fen } } }
    items { name quantity unitPrice { fen } }
    events { toStatus rawStatus occurredAt } } } }";

fn gid(kind: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// The flat page, by hand: one statement.
async fn hand_flat(State(db): State<SqlitePool>) -> Json<Value> {
    let rows = sqlx::query(
        "SELECT id, provider, status, raw_status, created_at, total_fen FROM orders ORDER BY id DESC LIMIT 50",
    )
    .fetch_all(&db)
    .await
    .unwrap_or_default();
    let nodes: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": gid("Order", r.get("id")),
                "provider": r.get::<String, _>("provider"),
                "status": r.get::<String, _>("status"),
                "rawStatus": r.get::<String, _>("raw_status"),
                "createdAt": r.get::<String, _>("created_at"),
                "amounts": {"total": {"fen": r.get::<i64, _>("total_fen")}},
            })
        })
        .collect();
    Json(json!({"data": {"orders": {"nodes": nodes}}}))
}

fn in_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The nested page, by hand: the page, its shops, their prices, the items and the events,
/// one statement each, joined in hash maps.
async fn hand_nested(State(db): State<SqlitePool>) -> Json<Value> {
    let orders = sqlx::query(
        "SELECT id, provider, status, raw_status, created_at, total_fen, shop_id FROM orders ORDER BY id DESC LIMIT 50",
    )
    .fetch_all(&db)
    .await
    .unwrap_or_default();
    let ids: Vec<i64> = orders.iter().map(|r| r.get("id")).collect();
    let mut shop_ids: Vec<i64> = orders
        .iter()
        .filter_map(|r| r.get::<Option<i64>, _>("shop_id"))
        .collect();
    shop_ids.sort_unstable();
    shop_ids.dedup();
    let (o, s) = (in_list(&ids), in_list(&shop_ids));
    let q = |sql: String| {
        let db = db.clone();
        // Only integer ids read from the database are formatted into the text.
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&db)
                .await
                .unwrap_or_default()
        }
    };
    let shops = q(format!("SELECT id, title FROM shop WHERE id IN ({s})")).await;
    let prices = q(format!(
        "SELECT id, shop_id, name, amount_fen FROM price WHERE shop_id IN ({s}) AND active ORDER BY position, id"
    ))
    .await;
    let items = q(format!(
        "SELECT order_id, name, quantity, unit_price_fen FROM order_item WHERE order_id IN ({o}) ORDER BY id"
    ))
    .await;
    let events = q(format!(
        "SELECT order_id, to_status, raw_status, occurred_at FROM order_event WHERE order_id IN ({o}) ORDER BY id"
    ))
    .await;
    let mut price_by_shop: HashMap<i64, Vec<Value>> = HashMap::new();
    for p in &prices {
        price_by_shop
            .entry(p.get("shop_id"))
            .or_default()
            .push(json!({
                "id": gid("Price", p.get("id")),
                "name": p.get::<String, _>("name"),
                "amount": {"fen": p.get::<i64, _>("amount_fen")},
            }));
    }
    let shop_json: HashMap<i64, Value> = shops
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            let prices = price_by_shop.remove(&id).unwrap_or_default();
            (
                id,
                json!({"id": gid("Shop", id), "title": r.get::<String, _>("title"), "prices": prices}),
            )
        })
        .collect();
    let mut items_by: HashMap<i64, Vec<Value>> = HashMap::new();
    for i in &items {
        items_by.entry(i.get("order_id")).or_default().push(json!({
            "name": i.get::<String, _>("name"),
            "quantity": i.get::<i64, _>("quantity"),
            "unitPrice": {"fen": i.get::<i64, _>("unit_price_fen")},
        }));
    }
    let mut events_by: HashMap<i64, Vec<Value>> = HashMap::new();
    for e in &events {
        events_by.entry(e.get("order_id")).or_default().push(json!({
            "toStatus": e.get::<String, _>("to_status"),
            "rawStatus": e.get::<String, _>("raw_status"),
            "occurredAt": e.get::<String, _>("occurred_at"),
        }));
    }
    let nodes: Vec<Value> = orders
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            let shop = r
                .get::<Option<i64>, _>("shop_id")
                .and_then(|s| shop_json.get(&s).cloned());
            json!({
                "id": gid("Order", id),
                "provider": r.get::<String, _>("provider"),
                "status": r.get::<String, _>("status"),
                "rawStatus": r.get::<String, _>("raw_status"),
                "createdAt": r.get::<String, _>("created_at"),
                "amounts": {"total": {"fen": r.get::<i64, _>("total_fen")}},
                "shop": shop,
                "items": items_by.remove(&id).unwrap_or_default(),
                "events": events_by.remove(&id).unwrap_or_default(),
            })
        })
        .collect();
    Json(json!({"data": {"orders": {"nodes": nodes}}}))
}

/// What one measurement saw.
struct Run {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// `clients` closed loops against `url` (a GET, or a POST of `body`) for `secs`.
async fn load(url: String, body: Option<String>, clients: usize, secs: u64) -> Run {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, body) = (http.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let req = match &body {
                    Some(b) => http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(b.clone()),
                    None => http.get(&url),
                };
                let r = req.send().await.expect("answer");
                assert!(r.status().is_success(), "{url}: {}", r.status());
                let bytes = r.bytes().await.expect("body");
                assert!(
                    !bytes.windows(9).any(|w| w == b"\"errors\":"),
                    "{url}: {}",
                    String::from_utf8_lossy(&bytes)
                );
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let wall = started.elapsed().as_secs_f64().max(secs as f64);
    all.sort_unstable();
    let at = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    Run {
        rps: all.len() as f64 / wall,
        p50: at(0.5),
        p99: at(0.99),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One row: orderhub and its anchor, alternating, medians of the rounds.
async fn row(
    label: &str,
    ours: (&str, Option<String>),
    anchor: (&str, Option<String>),
    clients: usize,
    secs: u64,
    rounds: usize,
) {
    if std::env::var("BENCH_ONLY").is_ok_and(|only| !label.contains(&only)) {
        return;
    }
    let (mut a, mut b, mut a50, mut b50, mut a99) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        let o = load(ours.0.to_owned(), ours.1.clone(), clients, secs).await;
        let h = load(anchor.0.to_owned(), anchor.1.clone(), clients, secs).await;
        a.push(o.rps);
        b.push(h.rps);
        a50.push(ms(o.p50));
        a99.push(ms(o.p99));
        b50.push(ms(h.p50));
    }
    let (a, b) = (median(a), median(b));
    println!(
        "| {label} | {clients} | {a:.0} | {b:.0} | {:.2}x | {:.2} | {:.2} | {:.2} |",
        a / b,
        median(a50),
        median(a99),
        median(b50)
    );
}

/// The allocator the `orderhub` binary runs with (src/main.rs), for server and anchors alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("load runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bench.db");
    let (base, anchors) = server_rt.block_on(async {
        let config = common::quiet_config(format!("sqlite://{}?mode=rwc", file.display()));
        let app = Application::build(config).await.expect("app");
        let base = app.base_url().to_owned();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("anchor pool");
        let anchors = Router::new()
            .route(
                "/bare",
                get(|| async { Json(json!({"data": {"__typename": "Query"}})) }),
            )
            .route("/flat", get(hand_flat))
            .route("/nested", get(hand_nested))
            .with_state(pool);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let at = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, anchors).await });
        (base, Arc::new(format!("http://{at}")))
    });
    load_rt.block_on(seed(&base));
    let rss_before = common::rss_kib(std::process::id());
    println!(
        "read path, SQLite, {secs} s per measurement, medians of {rounds} rounds\n\n\
         | measure | clients | orderhub req/s | anchor req/s | ratio | orderhub p50 ms | orderhub p99 ms | anchor p50 ms |\n\
         |---|---|---|---|---|---|---|---|"
    );
    let gql = format!("{base}/graphql");
    let post = |q: &str| Some(json!({"query": q}).to_string());
    load_rt.block_on(async {
        let bare = format!("{anchors}/bare");
        row(
            "`{ __typename }` vs bare axum",
            (&gql, post("{ __typename }")),
            (&bare, None),
            16,
            secs,
            rounds,
        )
        .await;
        let flat = format!("{anchors}/flat");
        row(
            "50 orders, flat",
            (&gql, post(FLAT)),
            (&flat, None),
            1,
            secs,
            rounds,
        )
        .await;
        if let Ok(q) = std::env::var("BENCH_QUERY") {
            // A diagnostic row: any document against the flat anchor.
            row(
                "BENCH_QUERY vs flat",
                (&gql, post(&q)),
                (&flat, None),
                1,
                secs,
                rounds,
            )
            .await;
        }
        let nested = format!("{anchors}/nested");
        for clients in [1, 16, 64] {
            row(
                "50 orders, nested",
                (&gql, post(NESTED)),
                (&nested, None),
                clients,
                secs,
                rounds,
            )
            .await;
        }
    });
    // Fan-out with the marketplace hanging (its answers delayed 10 s, its own timeout 5 s):
    // the answer comes at the fan-out deadline (2 s) with stored data and an error.
    load_rt.block_on(async {
        let http = reqwest::Client::new();
        let faults = format!("{base}/sandbox/daoway/_control/faults");
        let put = |ms: u64| http.put(&faults).json(&json!({"latencyMs": ms})).send();
        put(10_000).await.expect("faults");
        let mut took = Vec::new();
        for n in 0..rounds {
            let body = json!({"query": format!("{{ shops(filter: {{search: \"x{n}\"}}, first: 5) {{ nodes {{ id }} }} }}")});
            let t = Instant::now();
            let v: Value = http.post(&gql).json(&body).send().await.expect("answer").json().await.expect("json");
            took.push(t.elapsed().as_secs_f64());
            assert_eq!(v["errors"][0]["extensions"]["code"], "PROVIDER_UNAVAILABLE", "{v}");
        }
        put(0).await.expect("faults");
        println!(
            "\nfan-out with the marketplace hanging: answered in {:.2} s (median of {rounds}; deadline 2 s, platform timeout 5 s)",
            median(took)
        );
    });
    // Nothing scraped /metrics meanwhile: its histograms must not have grown with the
    // requests (they are drained into fixed buckets every few seconds).
    std::thread::sleep(Duration::from_secs(6));
    println!(
        "\nprocess RSS (server, anchors and clients): {rss_before} KiB after seeding, {} KiB after the rows",
        common::rss_kib(std::process::id())
    );
}

/// 120 orders at the Daoway sandbox's shops, through the API.
async fn seed(base: &str) {
    let http = reqwest::Client::new();
    let gql = |q: &str, v: Value| {
        let http = http.clone();
        let body = json!({"query": q, "variables": v});
        let url = format!("{base}/graphql");
        async move {
            http.post(url)
                .json(&body)
                .send()
                .await
                .expect("seed call")
                .json::<Value>()
                .await
                .expect("seed answer")
        }
    };
    let shops = gql(
        "{ shops(filter: {city: \"北京\"}, first: 20) { nodes { id } } }",
        json!({}),
    )
    .await;
    let mut placed = 0;
    for s in shops["data"]["shops"]["nodes"].as_array().expect("shops") {
        let d = gql(
            "query($id: ID!) { shop(id: $id) { id city hours { start days aheadMinutes }
                prices { id minBuyNum amount { fen } } } }",
            json!({"id": s["id"]}),
        )
        .await;
        let shop = &d["data"]["shop"];
        let Some(price) = shop["prices"].get(0) else {
            continue;
        };
        for _ in 0..40 {
            let appoint = next_slot(&shop["hours"]).to_rfc3339();
            let input = json!({
                "shopId": shop["id"],
                "items": [{"priceId": price["id"], "quantity": price["minBuyNum"].as_i64().unwrap_or(1).max(5)}],
                "address": {"city": shop["city"], "street": "朝阳区建国路88号", "house": "3号楼1201"},
                "contact": {"name": "张三", "phone": "13800138000"},
                "appointTime": appoint,
            });
            let r = gql(
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { code } } }",
                json!({"i": input}),
            )
            .await;
            if r["data"]["createOrder"]["order"]["id"].is_string() {
                placed += 1;
            } else {
                break;
            }
        }
        if placed >= 120 {
            break;
        }
    }
    assert!(placed >= 50, "seeded only {placed} orders");
    eprintln!("seeded {placed} orders");
}

/// An hour after opening on the first open day past the shop's notice period (China time).
fn next_slot(hours: &Value) -> chrono::DateTime<chrono::Utc> {
    use chrono::{Datelike, NaiveTime, TimeDelta, Utc};
    let tz = orderhub::domain::china_offset();
    let ahead = hours["aheadMinutes"].as_i64().unwrap_or(0);
    let start = NaiveTime::parse_from_str(hours["start"].as_str().unwrap_or("08:00"), "%H:%M")
        .unwrap_or_default();
    let days: Vec<u64> = hours["days"]
        .as_array()
        .map(|d| d.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let earliest = (Utc::now() + TimeDelta::minutes(ahead + 60)).with_timezone(&tz);
    let mut date = earliest.date_naive();
    loop {
        let at = date
            .and_time(start + TimeDelta::hours(1))
            .and_local_timezone(tz)
            .single()
            .expect("a fixed offset");
        let open =
            days.is_empty() || days.contains(&u64::from(date.weekday().num_days_from_monday()));
        if at >= earliest && open {
            return at.with_timezone(&Utc);
        }
        date = date.succ_opt().expect("a next day");
    }
}
