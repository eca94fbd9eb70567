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

/// The statements one page of `n` orders costs. Under a loaded machine (the whole suite in
/// parallel) a DataLoader batch can be cut in two when its window closes before every key
/// arrived, which only adds statements: the least of several readings is the page's cost.
async fn statements_for(app: &TestApp, n: usize) -> f64 {
    let mut least = f64::INFINITY;
    for _ in 0..12 {
        let before = app.metric("orderhub_db_statements_total").await;
        let v = app.gql_ok(PAGE, json!({"n": n})).await;
        let after = app.metric("orderhub_db_statements_total").await;
        assert_eq!(v["orders"]["edges"].as_array().unwrap().len(), n);
        assert!(
            v["orders"]["edges"][0]["node"]["shop"]["prices"]
                .as_array()
                .is_some()
        );
        least = least.min(after - before);
    }
    eprintln!("{n} orders: {least} statements");
    least
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
    let small = statements_for(&app, 5).await;
    let large = statements_for(&app, 50).await;
    assert_eq!(
        small, large,
        "5 orders cost {small} statements, 50 cost {large}"
    );
    assert!(large <= 8.0, "{large} statements for a page");
}
/// Nothing else may run SQL while statements are counted: the status pollers and the outbox
/// worker are slowed down, and no Dada store is imported.
async fn quiet(backend: crate::helpers::Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.daoway.poll_interval_ms = 3_600_000;
        c.dada.poll_interval_ms = 3_600_000;
        c.dada.import_shops = Some(vec![]);
        c.outbox.poll_interval_ms = 3_600_000;
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
