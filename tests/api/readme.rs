//! README.md's first steps are a tested contract: every GraphQL block of the section runs, in
//! order, against a fresh server, with variables taken from the answers of the blocks before
//! it, as a reader pasting them into GraphiQL would. A new block without a rule here fails.

use serde_json::{Value, json};

use crate::helpers::{Backend, Subscription, TestApp, next_slot};

/// The GraphQL blocks of the README's "First steps" section: (operation name, text).
fn first_steps() -> Vec<(String, String)> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## First steps in GraphiQL")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has its First steps section");
    section
        .split("```graphql\n")
        .skip(1)
        .map(|rest| {
            let block = rest.split("```").next().unwrap_or_default().to_owned();
            let head: Vec<&str> = block.split_whitespace().take(2).collect();
            assert!(
                matches!(head.first(), Some(&("query" | "mutation" | "subscription"))),
                "every block is one named operation: {block}"
            );
            let name = head
                .get(1)
                .map(|n| n.split(['(', '{']).next().unwrap_or_default().to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| panic!("a block without an operation name: {block}"));
            (name, block)
        })
        .collect()
}

/// Yuan as written in an answer ("12.5") in fen.
fn fen(yuan: &Value) -> i64 {
    let text = yuan
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| yuan.to_string());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{frac:0<2}");
    whole.parse::<i64>().unwrap_or(0) * 100 + frac[..2].parse::<i64>().unwrap_or(0)
}

fn ids(v: &Value) -> Vec<String> {
    v["shops"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_first_steps_run_as_written() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let blocks = first_steps();
    assert!(blocks.len() >= 8, "{} blocks", blocks.len());
    let mut seen: std::collections::HashMap<String, Value> = Default::default();
    for (name, query) in blocks {
        let variables = match name.as_str() {
            "Catalogue" | "DadaShops" | "WechatShops" | "WatchDaoway" => json!({}),
            "Shop" => {
                let shops = ids(&seen["Catalogue"]);
                assert!(!shops.is_empty(), "Catalogue lists shops");
                json!({"shopId": shops[0]})
            }
            "PlaceOrder" => {
                // A shop of the catalogue and its first price, at its next open slot, with
                // enough of it to reach the shop's minimum.
                let shop_id = seen["Shop"]["__id"].clone();
                let shop = &seen["Shop"]["shop"];
                let price = &shop["prices"][0];
                let unit = fen(&price["amount"]["yuan"]).max(1);
                let min_total = fen(&shop["fees"]["minBuyPrice"]["yuan"]);
                let quantity = price["minBuyNum"]
                    .as_i64()
                    .unwrap_or(1)
                    .max((min_total + unit - 1) / unit);
                json!({
                    "shopId": shop_id,
                    "priceId": price["id"],
                    "quantity": quantity,
                    "at": next_slot(&shop["hours"]).to_rfc3339(),
                })
            }
            "DispatchDelivery" => {
                json!({"shopId": ids(&seen["DadaShops"]).first().expect("a DADA shop")})
            }
            "QuoteDelivery" => {
                let shanghai = seen["WechatShops"]["shops"]["edges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| {
                        e["node"]["externalId"]
                            .as_str()
                            .is_some_and(|x| x.starts_with("wx_sh"))
                    })
                    .map(|e| e["node"]["id"].clone())
                    .expect("a WECHAT shop in 上海");
                json!({"shopId": shanghai})
            }
            other => panic!("README block {other} has no rule in tests/api/readme.rs"),
        };
        if query.trim_start().starts_with("subscription") {
            let mut sub =
                Subscription::open_as(&app.base, app.key().as_deref(), &query, variables).await;
            sub.assert_quiet(200).await;
            continue;
        }
        let v = app.gql(&query, variables.clone()).await;
        assert!(v.get("errors").is_none(), "{name}: {v:#}");
        let data = &v["data"];
        if let Some(payload) = data.as_object().and_then(|m| m.values().next())
            && let Some(errors) = payload.get("userErrors")
        {
            assert_eq!(errors, &json!([]), "{name}: {v:#}");
        }
        let mut kept = data.clone();
        kept["__id"] = variables["shopId"].clone();
        seen.insert(name, kept);
    }
    let placed = &seen["PlaceOrder"]["createOrder"]["order"];
    assert_eq!(placed["status"], "PENDING", "{placed:#}");
    assert!(
        seen["QuoteDelivery"]["quoteDelivery"]["quotes"]
            .as_array()
            .is_some_and(|q| !q.is_empty())
    );
}

/// The README's three analyst queries run as written, without an error.
#[tokio::test]
async fn the_analyst_queries_run_as_written() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("### Three queries for analysts")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has its analyst queries");
    let blocks: Vec<&str> = section
        .split("```graphql\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 3, "three queries");
    let app = TestApp::spawn(Backend::Sqlite).await;
    for block in blocks {
        let v = app.gql_ok(block, json!({})).await;
        assert!(v.as_object().is_some_and(|m| !m.is_empty()), "{block}: {v}");
    }
}

/// README's "Automatic dispatch in GraphiQL" runs as written: the policy is set, the
/// subscription opened, the raced dispatch sends three attempts, and once one is accepted the
/// subscription shows the race won and the others cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raced_dispatch_runs_as_written() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Automatic dispatch in GraphiQL")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has its automatic dispatch section");
    let blocks: Vec<&str> = section
        .split("```graphql\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 3, "set the policy, watch, race");
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dada = app.dada_shop("11047059").await;
    let wechat = app.wechat_shop("wx_sh_001").await;
    let set = app
        .gql_ok(blocks[0], json!({ "dada": dada, "wechat": wechat }))
        .await;
    assert_eq!(set["setDispatchPolicy"]["userErrors"], json!([]), "{set}");
    let mut watch = app.subscribe(blocks[1], json!({})).await;
    let raced = app.gql_ok(blocks[2], json!({ "dada": dada })).await;
    let p = &raced["dispatchDelivery"];
    assert_eq!(p["userErrors"], json!([]), "{p}");
    let attempts = p["order"]["dispatchPlan"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{p}");
    // The sandbox's courier takes the second attempt (the test config never accepts alone).
    let second = attempts[1]["id"].as_str().unwrap();
    let o = app
        .gql_ok(
            "query($id: ID!) { order(id: $id) { provider delivery { originId } } }",
            json!({ "id": second }),
        )
        .await;
    crate::auto_dispatch::accept(&app, &o["order"]).await;
    let mut seen = Vec::new();
    while !(seen.iter().any(|(k, _): &(String, String)| k == "RACE_WON")
        && seen.iter().filter(|(k, _)| k == "RACE_CANCELLED").count() == 2)
    {
        let e = watch.next(20).await;
        let e = &e["data"]["orderStatusChanged"];
        assert!(e.is_object(), "the stream goes on: {e}");
        seen.push((
            e["kind"].as_str().unwrap().to_owned(),
            e["orderId"].as_str().unwrap().to_owned(),
        ));
    }
    assert!(
        seen.iter().filter(|(k, _)| k == "DISPATCH_PLANNED").count() >= 3,
        "{seen:?}"
    );
    assert!(
        seen.contains(&("RACE_WON".to_owned(), second.to_owned())),
        "{seen:?}"
    );
}
