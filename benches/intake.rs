//! Ack latency of 58 Daojia's order intake under load: the real server (port 0, in-process
//! sandboxes off the clock), a fresh database, N signed `createOrder` pushes sent by C
//! concurrent clients, and the latency of each answer (p50, p99, max) plus throughput; then
//! the same for repeats of orders already taken in.
//!
//! Then open loop, as the platform pushes: pushes sent at a fixed rate whatever the answers
//! (`BENCH_RATE`, default 1000/s, for `BENCH_SECS`, default 10 s), latency counted from each
//! push's scheduled time (so a stall is not hidden by the sender waiting), the rate of
//! answered pushes; and 300 pushes/s while 128 page reads/s (`orders(first: 50)` with shop,
//! items and events) run beside them.
//!
//! `cargo bench --bench intake` (SQLite in a temp dir). With
//! `ORDERHUB_BENCH_DATABASE_URL=postgres://…/db` it runs on that PostgreSQL database instead.
//! `BENCH_PUSHES` (default 2000) and `BENCH_CONCURRENCY` (default 16) tune the closed loop.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use chrono::Utc;
use orderhub::{Application, Config, domain::china_offset, providers::daojia58::sign};
use secrecy::SecretString;

const SERVICE_KEY: &str = "2801209652";
const SECRET: &str = "daojia58_sandbox_secret";

fn push_form(order_id: i64) -> BTreeMap<String, String> {
    let json = format!(
        r#"{{"orderId":{order_id},"userMobile":"13800000000","cityId":1,"cityName":"北京","lng":116.4,"lat":39.9,"serviceAddress":"朝阳区建国路88号","serviceBeginTime":"2026-12-01 10:00:00","serviceEndTime":"2026-12-01 12:00:00","serviceDuration":2,"totalPrice":120.50,"remark":"","serviceUserId":"","orderDetails":[{{"goodsId":7,"goodsNumber":1,"goodsPrice":120.5}}]}}"#
    );
    let timestamp = Utc::now()
        .with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let mut form = BTreeMap::from([
        ("serviceKey".to_owned(), SERVICE_KEY.to_owned()),
        ("nonce".to_owned(), format!("n{order_id}")),
        ("timestamp".to_owned(), timestamp),
        ("daojiaJson".to_owned(), json),
        ("funId".to_owned(), "createOrder".to_owned()),
    ]);
    let s = sign::sign(&form, SECRET);
    form.insert("sign".into(), s);
    form
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn run(
    url: &str,
    ids: Vec<i64>,
    concurrency: usize,
) -> Result<(Vec<Duration>, Duration), String> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let chunks: Vec<Vec<i64>> = ids
        .chunks(ids.len().div_ceil(concurrency).max(1))
        .map(<[i64]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let http = http.clone();
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(chunk.len());
            for id in chunk {
                let form = push_form(id);
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .form(&form)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let ok = r.status().is_success();
                let body = r.text().await.map_err(|e| e.to_string())?;
                lat.push(t.elapsed());
                if !ok || !body.contains("\"received\"") {
                    return Err(format!("push {id}: {body}"));
                }
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    let wall = started.elapsed();
    all.sort_unstable();
    Ok((all, wall))
}

/// Sends `rate` pushes a second for `secs` from `first_id` on, each on its own task at its
/// scheduled time; beside them, `reads` page reads a second when given. Latencies of the
/// pushes from their scheduled times, and the wall time until the last answer.
async fn open_loop(
    url: &str,
    rate: u32,
    secs: u64,
    first_id: i64,
    reads: Option<(String, u32)>,
) -> Result<(Vec<Duration>, Duration), String> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .map_err(|e| e.to_string())?;
    let n = u64::from(rate) * secs;
    let started = tokio::time::Instant::now();
    let reader = reads.map(|(gql, per_sec)| {
        let http = http.clone();
        tokio::spawn(async move {
            let body = serde_json::json!({"query": PAGE}).to_string();
            let mut tick = tokio::time::interval(Duration::from_secs(1) / per_sec);
            let mut tasks = Vec::new();
            for _ in 0..u64::from(per_sec) * secs {
                tick.tick().await;
                let (http, gql, body) = (http.clone(), gql.clone(), body.clone());
                tasks.push(tokio::spawn(async move {
                    let r = http
                        .post(gql)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    matches!(r, Ok(r) if r.status().is_success())
                }));
            }
            let mut ok = 0usize;
            for t in tasks {
                ok += usize::from(t.await.unwrap_or(false));
            }
            ok
        })
    });
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let due = started + Duration::from_secs_f64(i as f64 / f64::from(rate));
        let (http, url) = (http.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            let id = first_id + i as i64;
            let r = http
                .post(&url)
                .form(&push_form(id))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let ok = r.status().is_success();
            let body = r.text().await.map_err(|e| e.to_string())?;
            if !ok || !body.contains("\"received\"") {
                return Err(format!("push {id}: {body}"));
            }
            Ok::<_, String>(due.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await.map_err(|e| e.to_string())??);
    }
    let wall = started.elapsed();
    if let Some(r) = reader {
        let ok = r.await.map_err(|e| e.to_string())?;
        println!("{:<28} {ok} page reads answered", "");
    }
    lat.sort_unstable();
    Ok((lat, wall))
}

const PAGE: &str = "{ orders(first: 50) { nodes { id status shop { title } items { name } events { toStatus } } } }";

fn report(label: &str, lat: &[Duration], wall: Duration) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<28} n={:<6} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms  {:>8.0} pushes/s",
        lat.len(),
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        lat.len() as f64 / wall.as_secs_f64()
    );
}

/// The allocator the `orderhub` binary runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), String> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let pushes: usize = std::env::var("BENCH_PUSHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
        .max(1);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db_url, backend) = match std::env::var("ORDERHUB_BENCH_DATABASE_URL") {
        Ok(url) => (url, "PostgreSQL"),
        Err(_) => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            "SQLite",
        ),
    };
    let mut config = Config::default();
    config.server.port = 0;
    config.database.url = SecretString::from(db_url);
    // Nothing else on the clock while we measure.
    config.sandbox.daojia58.push_every_secs = None;
    config.daoway.poll_interval_ms = 3_600_000;
    config.dada.poll_interval_ms = 3_600_000;
    config.dada.import_shops = Some(vec![]);
    config.wechat.poll_interval_ms = 3_600_000;
    config.wechat.stores = Vec::new();
    config.outbox.poll_interval_ms = 3_600_000;
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("{}/callbacks/daojia58/orders", app.base_url());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));

    println!(
        "58 intake ack latency — {backend}, {pushes} pushes, {concurrency} concurrent clients"
    );
    let base = 31_421_593_368_600_000_i64;
    let warm: Vec<i64> = (0..50).map(|i| base - 1000 + i).collect();
    run(&url, warm, concurrency).await?;
    let ids: Vec<i64> = (0..pushes as i64).map(|i| base + i).collect();
    let (lat, wall) = run(&url, ids.clone(), concurrency).await?;
    report("new orders", &lat, wall);
    let repeats: Vec<i64> = ids.iter().copied().take(pushes / 2).collect();
    let (lat, wall) = run(&url, repeats, concurrency).await?;
    report("repeats (deduplicated)", &lat, wall);

    let rate: u32 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (lat, wall) = open_loop(&url, rate, secs, base + 1_000_000, None).await?;
    report(&format!("open loop {rate}/s"), &lat, wall);
    let gql = url.replace("/callbacks/daojia58/orders", "/graphql");
    let (lat, wall) = open_loop(&url, 300, secs, base + 2_000_000, Some((gql, 128))).await?;
    report("open 300/s + 128 reads/s", &lat, wall);

    shutdown.cancel();
    let _ = server.await;
    Ok(())
}
