//! A page of orders with shops, prices, items and events costs a constant number of SQL
//! statements, however many orders it holds (DataLoaders batch every child lookup).

use serde_json::json;

use crate::{
    helpers::{CREATE_ORDER, TestApp, find_shop, order_input, plain_shop},
    postgres_only,
};

const PAGE: &str = "query($n: Int) { orders(first: $n) { edges { node { id status
    shop { id title category { name } prices { id name amount { fen } } }
    items { name quantity } events { toStatus source } } } } }";

/// The statements one page of `n` orders costs: the same at every reading, since a page reads
/// its children ahead (one statement per kind) instead of batching them in a time window.
async fn statements_for(app: &TestApp, query: &str, n: usize) -> f64 {
    let mut readings = Vec::new();
    for _ in 0..3 {
        let before = app.metric("orderhub_db_statements_total").await;
        let v = app.gql_ok(query, json!({"n": n})).await;
        let after = app.metric("orderhub_db_statements_total").await;
        let nodes = v["orders"]["nodes"]
            .as_array()
            .or(v["orders"]["edges"].as_array())
            .unwrap();
        assert_eq!(nodes.len(), n);
        readings.push(after - before);
    }
    eprintln!("{n} orders: {readings:?} statements");
    assert!(readings.iter().all(|r| *r == readings[0]), "{readings:?}");
    readings[0]
}

async fn page_costs_constant_statements(app: TestApp) {
    // Orders across several shops, so the shop and price loaders see many keys.
    let mut shops = Vec::new();
    for city in ["北京", "上海"] {
        for id in crate::helpers::shop_ids(&app, city, None)
            .await
            .into_iter()
            .take(3)
        {
            let d = crate::helpers::shop_detail(&app, &id).await;
            if plain_shop(&d) {
                shops.push(d);
            }
        }
    }
    if shops.is_empty() {
        shops.push(find_shop(&app, plain_shop).await);
    }
    for i in 0..50 {
        let shop = &shops[i % shops.len()];
        let p = app
            .gql_ok(CREATE_ORDER, json!({"input": order_input(shop, None)}))
            .await;
        assert!(p["createOrder"]["order"]["id"].is_string(), "{p:#}");
    }
    let small = statements_for(&app, PAGE, 5).await;
    let large = statements_for(&app, PAGE, 50).await;
    assert_eq!(
        small, large,
        "5 orders cost {small} statements, 50 cost {large}"
    );
    // The page, its shops, their prices and categories, items, events.
    assert_eq!(large, 6.0, "{large} statements for a page");
    // Through `nodes` and fragments, the same.
    let fragments = statements_for(&app, FRAGMENTS, 50).await;
    assert_eq!(fragments, large);
    // A page that asks for no children reads no children.
    let flat = statements_for(
        &app,
        "query($n: Int) { orders(first: $n) { nodes { id } } }",
        50,
    )
    .await;
    assert_eq!(flat, 1.0);
}

const FRAGMENTS: &str = "query($n: Int) { orders(first: $n) { nodes { ...O } } }
    fragment O on Order { id ... on Order { shop { ...S } items { name } events { toStatus } } }
    fragment S on Shop { title category { name } prices { name } }";
/// Nothing else may run SQL while statements are counted: the status pollers, the outbox
/// worker and the dispatch plans' driver (its look for due plans) are slowed down, and no
/// Dada store is imported.
async fn quiet(backend: crate::helpers::Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.daoway.poll_interval_ms = 3_600_000;
        c.dada.poll_interval_ms = 3_600_000;
        c.dada.import_shops = Some(vec![]);
        c.outbox.poll_interval_ms = 3_600_000;
        c.dispatch.plan_tick_ms = 3_600_000;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_costs_constant_statements_sqlite() {
    page_costs_constant_statements(quiet(crate::helpers::Backend::Sqlite).await).await;
}

postgres_only! {
    async fn page_costs_constant_statements_postgres() {
        page_costs_constant_statements(quiet(crate::helpers::Backend::Postgres).await).await;
    }
}
