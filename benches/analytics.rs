//! Analytics over a year of history: `orderStats` by day × provider for a year (with and
//! without the timeline's percentiles), by courier company × city for deliveries, the courier
//! scorecard, and the order search by a phone's last four digits; each over GraphQL (HTTP, the real server) beside the anchor of the same
//! statement run directly on the database, and the query plans the indexes were chosen from.
//!
//! `cargo bench --bench analytics` (SQLite in a temp file). `BENCH_ORDERS` (200 000) orders
//! over 365 days are seeded first (`orderhub seed`'s generator). On PostgreSQL:
//! `scripts/with-postgres.sh bash -c 'ORDERHUB_BENCH_DATABASE_URL=$ORDERHUB_TEST_DATABASE_URL cargo bench --bench analytics'`.

use std::time::{Duration, Instant};

mod common;

use orderhub::{
    Application,
    orders::{
        OrderFilter,
        scorecard::scorecard_sql,
        seed::{SeedPlan, seed_history},
        stats::{Dimension, Offset, durations_sql, stats_sql},
    },
};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

/// The allocator the `orderhub` binary runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 15;

fn p50(mut v: Vec<Duration>) -> f64 {
    v.sort_unstable();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

async fn graphql(http: &reqwest::Client, base: &str, query: &str, variables: Value) -> Duration {
    let started = Instant::now();
    let v: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let took = started.elapsed();
    assert!(v.get("errors").is_none(), "{v}");
    took
}

/// The statement alone, as the service runs it (on PostgreSQL with the same `work_mem`).
async fn direct(db: &sea_orm::DatabaseConnection, sql: &str) -> Duration {
    use sea_orm::TransactionTrait;
    let backend = db.get_database_backend();
    let started = Instant::now();
    if backend == DatabaseBackend::Postgres {
        let txn = db.begin().await.expect("begin");
        txn.execute_unprepared("SET LOCAL work_mem = '64MB'")
            .await
            .expect("work_mem");
        txn.query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("anchor statement");
        txn.commit().await.expect("commit");
    } else {
        db.query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("anchor statement");
    }
    started.elapsed()
}

async fn plan(db: &sea_orm::DatabaseConnection, sql: &str) -> String {
    let backend = db.get_database_backend();
    let explain = match backend {
        DatabaseBackend::Postgres => format!("EXPLAIN {sql}"),
        _ => format!("EXPLAIN QUERY PLAN {sql}"),
    };
    // On PostgreSQL with the `work_mem` the service gives its grouping statements.
    let rows = if backend == DatabaseBackend::Postgres {
        use sea_orm::TransactionTrait;
        let txn = db.begin().await.expect("begin");
        txn.execute_unprepared("SET LOCAL work_mem = '64MB'")
            .await
            .expect("work_mem");
        let rows = txn
            .query_all_raw(Statement::from_string(backend, explain))
            .await
            .expect("explain");
        txn.commit().await.expect("commit");
        rows
    } else {
        db.query_all_raw(Statement::from_string(backend, explain))
            .await
            .expect("explain")
    };
    rows.iter()
        .map(|r| {
            r.try_get::<String>("", "detail")
                .or_else(|_| r.try_get::<String>("", "QUERY PLAN"))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("\n    ")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orders: u64 = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("ORDERHUB_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("history.db").display()
        )
    });
    let config = common::quiet_config(url);

    let db = orderhub::db::connect(&config.database, Default::default())
        .await
        .expect("database");
    let backend = db.get_database_backend();
    let started = Instant::now();
    let seeded = seed_history(
        &db,
        SeedPlan {
            orders,
            days: 365,
            seed: 1,
        },
    )
    .await
    .expect("seed");
    println!(
        "seeded {} orders, {} events on {backend:?} in {:.1} s",
        seeded.orders,
        seeded.events,
        started.elapsed().as_secs_f64()
    );
    // Statistics for the planner, as a deployment's autovacuum or `ANALYZE` would have.
    db.execute_unprepared("ANALYZE").await.expect("analyze");

    let app = Application::build(config).await.expect("app");
    let base = app.base_url().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();

    let year_ago = chrono::Utc::now() - chrono::Duration::days(366);
    let year = OrderFilter {
        created_from: Some(year_ago),
        ..Default::default()
    };
    let deliveries = OrderFilter {
        kind: Some(orderhub::domain::OrderKind::Delivery),
        ..year.clone()
    };
    // A phone's last four digits that some seeded order has.
    let tail: String = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT phone_tail FROM orders ORDER BY id LIMIT 1",
        ))
        .await
        .expect("a phone")
        .and_then(|r| r.try_get::<String>("", "phone_tail").ok())
        .expect("a seeded order");
    let search_sql = format!(
        "SELECT * FROM orders WHERE phone_tail = '{tail}' OR external_id = '{tail}' OR platform_ref = '{tail}' ORDER BY id DESC LIMIT 21"
    );
    let rows: Vec<(&str, String, Value, String)> = vec![
        (
            "orderStats by DAY × PROVIDER, a year",
            "query($f: OrderFilter) { orderStats(filter: $f, groupBy: [DAY, PROVIDER]) { key { value } orders revenue { fen } deliveryFees { fen } statuses { status orders } } }".into(),
            json!({"f": {"createdAfter": year_ago.to_rfc3339()}}),
            stats_sql(&year, &[Dimension::Day, Dimension::Provider], backend, Offset::CHINA),
        ),
        (
            "orderStats by COMPANY × CITY, deliveries",
            "query($f: OrderFilter) { orderStats(filter: $f, groupBy: [COMPANY, CITY]) { key { value } orders penalties { fen } statuses { status orders } } }".into(),
            json!({"f": {"createdAfter": year_ago.to_rfc3339(), "kind": "DELIVERY"}}),
            stats_sql(&deliveries, &[Dimension::Company, Dimension::City], backend, Offset::CHINA),
        ),
        (
            "orderStats by DAY × PROVIDER with timeline p50/p90/p99, a year (anchor: the durations scan)",
            "query($f: OrderFilter) { orderStats(filter: $f, groupBy: [DAY, PROVIDER]) { key { value } orders timeToAccept { p50Seconds p90Seconds p99Seconds } timeToPickUp { p50Seconds } timeToComplete { p50Seconds p90Seconds } } }".into(),
            json!({"f": {"createdAfter": year_ago.to_rfc3339()}}),
            durations_sql(&year, &[Dimension::Day, Dimension::Provider], backend, Offset::CHINA),
        ),
        (
            "courierScorecard, a year of deliveries",
            "query($f: OrderFilter) { courierScorecard(filter: $f) { network company city deliveries acceptanceRate medianTimeToAcceptSeconds cancelledByMerchant cancelledByPlatform merchantCancellationRate platformCancellationRate averageFee { fen } feePerKm { fen } penalties { fen } } }".into(),
            json!({"f": {"createdAfter": year_ago.to_rfc3339()}}),
            scorecard_sql(&year, backend),
        ),
        (
            "orders by a phone's last 4 digits",
            "query($f: OrderFilter) { orders(filter: $f, first: 20) { totalCount nodes { id status contact { name phone } } } }".into(),
            json!({"f": {"search": tail}}),
            search_sql,
        ),
    ];
    println!("\n| measure | orderhub p50 ms | anchor (the statement alone) p50 ms |");
    println!("|---|---|---|");
    let mut plans = Vec::new();
    for (label, query, variables, sql) in rows {
        let mut ours = Vec::new();
        let mut anchor = Vec::new();
        for _ in 0..RUNS {
            ours.push(graphql(&http, &base, &query, variables.clone()).await);
            anchor.push(direct(&db, &sql).await);
        }
        println!("| {label} | {:.1} | {:.1} |", p50(ours), p50(anchor));
        plans.push((label, plan(&db, &sql).await));
    }
    println!();
    for (label, p) in plans {
        println!("{label}:\n    {p}");
    }
}
