//! Relay completeness: `totalCount`, paging both ways (`first`/`after`, `last`/`before`) on
//! the orders and shops connections, and `node` for the kinds of object an order brings
//! (its prices and timeline events). The other kinds are looked up where their own tests
//! make them: quotes in `dada`, technicians and outbox rows in `daojia58`, keys and the
//! audit log in `access`.

use serde_json::{Value, json};

use crate::{
    helpers::{CREATE_ORDER, TestApp, find_shop, order_input, plain_shop, shop_ids},
    on_every_backend,
};

const ORDERS: &str =
    "query($f: OrderFilter, $first: Int, $after: String, $last: Int, $before: String) {
    orders(filter: $f, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } } } }";

fn ids(conn: &Value) -> Vec<String> {
    conn["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn orders(app: &TestApp, vars: Value) -> Value {
    app.gql_ok(ORDERS, vars).await["orders"].clone()
}

/// The whole list walked with `first`/`after`, then with `last`/`before`: the same orders,
/// in the same order, newest first.
async fn walk(app: &TestApp, filter: Value, size: i64) -> (Vec<String>, Vec<String>) {
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = orders(app, json!({"f": filter, "first": size, "after": after})).await;
        forward.extend(ids(&page));
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let page = orders(app, json!({"f": filter, "last": size, "before": before})).await;
        let mut got = ids(&page);
        got.extend(backward);
        backward = got;
        assert_eq!(page["pageInfo"]["hasNextPage"], !before.is_null());
        if page["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    (forward, backward)
}

async fn orders_page_both_ways(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let mut made = Vec::new();
    for n in 0..7 {
        let key = format!("relay-{n}");
        let p = app
            .gql_ok(
                CREATE_ORDER,
                json!({ "input": order_input(&shop, Some(&key)) }),
            )
            .await;
        assert_eq!(p["createOrder"]["userErrors"], json!([]), "{p:#}");
        made.push(p["createOrder"]["order"]["id"].as_str().unwrap().to_owned());
    }
    made.reverse(); // newest first, as the list runs

    let (forward, backward) = walk(&app, json!(null), 3).await;
    assert_eq!(forward, made);
    assert_eq!(backward, made);
    let all = orders(&app, json!({"first": 2})).await;
    assert_eq!(all["totalCount"], 7, "every page counts the whole list");

    // `last` alone is the oldest end; `after` and `before` together bound the page.
    let oldest = orders(&app, json!({"last": 2})).await;
    assert_eq!(ids(&oldest), made[5..]);
    assert_eq!(oldest["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(oldest["pageInfo"]["hasNextPage"], false);
    let edges = orders(&app, json!({"first": 7})).await;
    let cursor = |i: usize| edges["edges"][i]["cursor"].clone();
    let between = orders(
        &app,
        json!({"first": 10, "after": cursor(1), "before": cursor(5)}),
    )
    .await;
    assert_eq!(ids(&between), made[2..5]);
    let between = orders(
        &app,
        json!({"last": 2, "after": cursor(1), "before": cursor(5)}),
    )
    .await;
    assert_eq!(ids(&between), made[3..5]);
    assert_eq!(between["pageInfo"]["hasPreviousPage"], true);

    // totalCount follows the filter; a filter that matches nothing counts 0.
    let by_shop = orders(&app, json!({"f": {"shopId": shop["id"]}, "first": 1})).await;
    assert_eq!(by_shop["totalCount"], 7);
    let none = orders(&app, json!({"f": {"provider": "DADA"}, "last": 5})).await;
    assert_eq!(none["totalCount"], 0);
    assert_eq!(ids(&none), Vec::<String>::new());

    // Refusals: both ends at once, a size out of range, a cursor of another list.
    for (vars, needle) in [
        (json!({"first": 2, "last": 2}), "not both"),
        (json!({"last": 0}), "last must be between"),
        (json!({"last": 101}), "last must be between"),
        (
            json!({"before": "bm90IGEgY3Vyc29y"}),
            "before is not a cursor",
        ),
    ] {
        let v = app.gql(ORDERS, vars.clone()).await;
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{vars}: {v}"
        );
        let msg = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{vars}: {msg}");
    }
}
on_every_backend!(orders_page_both_ways_test, orders_page_both_ways);

const SHOPS: &str =
    "query($f: ShopFilter, $first: Int, $after: String, $last: Int, $before: String) {
    shops(filter: $f, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } } } }";

async fn shops_page_both_ways(app: TestApp) {
    let all = shop_ids(&app, "北京", None).await;
    assert!(all.len() >= 4, "{all:?}");
    let shops = async |vars: Value| app.gql_ok(SHOPS, vars).await["shops"].clone();
    let city = json!({"city": "北京"});
    let first = shops(json!({"f": city, "first": 2})).await;
    assert_eq!(
        first["totalCount"],
        Value::Null,
        "a marketplace pages without a total"
    );
    let second =
        shops(json!({"f": city, "first": 2, "after": first["pageInfo"]["endCursor"]})).await;
    assert_eq!(ids(&second), all[2..4]);
    // Back from the second page: the first page again.
    let back =
        shops(json!({"f": city, "last": 2, "before": second["pageInfo"]["startCursor"]})).await;
    assert_eq!(ids(&back), ids(&first));
    assert_eq!(back["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(back["pageInfo"]["hasNextPage"], true);
    // More than lies before the cursor: what there is.
    let short = shops(json!({"f": city, "last": 5, "before": second["edges"][1]["cursor"]})).await;
    assert_eq!(ids(&short), all[..3]);
    // `last` without `before` needs a total the marketplace does not give.
    let v = app.gql(SHOPS, json!({"f": city, "last": 2})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{v}");

    // Our stores at a courier network are counted exactly, and page from the end.
    let store = app.dada_shop("11047059").await;
    let dada = json!({"provider": "DADA"});
    let stores = shops(json!({"f": dada, "first": 100})).await;
    let count = ids(&stores).len();
    assert!(ids(&stores).contains(&store), "{stores:#}");
    assert_eq!(stores["totalCount"], count);
    let tail = shops(json!({"f": dada, "last": 1})).await;
    assert_eq!(ids(&tail), ids(&stores)[count - 1..]);
    assert_eq!(tail["pageInfo"]["hasPreviousPage"], count > 1);
}
on_every_backend!(shops_page_both_ways_test, shops_page_both_ways);

async fn prices_and_events_are_nodes(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let p = app
        .gql_ok(CREATE_ORDER, json!({ "input": order_input(&shop, None) }))
        .await;
    let order_id = p["createOrder"]["order"]["id"].clone();
    let o = app
        .gql_ok(
            "query($id: ID!) { order(id: $id) { events { id toStatus } } }",
            json!({"id": order_id}),
        )
        .await;
    let event = o["order"]["events"][0].clone();
    let price = shop["prices"][0].clone();
    let got = app
        .gql_ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
                ... on Price { name } ... on StatusEvent { toStatus } ... on Order { id } } }",
            json!({"ids": [price["id"], event["id"], order_id]}),
        )
        .await;
    let nodes = got["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["__typename"], "Price");
    assert_eq!(nodes[0]["id"], price["id"]);
    assert_eq!(nodes[0]["name"], price["name"]);
    assert_eq!(nodes[1]["__typename"], "StatusEvent");
    assert_eq!(nodes[1]["id"], event["id"]);
    assert_eq!(nodes[1]["toStatus"], event["toStatus"]);
    assert_eq!(nodes[2]["__typename"], "Order");
    // Every object type with an `id: ID!` implements Node.
    let schema = app
        .gql_ok(
            "{ __schema { types { name kind interfaces { name }
                fields { name type { kind ofType { name } } } } } }",
            json!({}),
        )
        .await;
    let mut with_id = Vec::new();
    for t in schema["__schema"]["types"].as_array().unwrap() {
        let id_field = t["fields"].as_array().into_iter().flatten().any(|f| {
            f["name"] == "id"
                && f["type"]["kind"] == "NON_NULL"
                && f["type"]["ofType"]["name"] == "ID"
        });
        if t["kind"] == "OBJECT" && id_field {
            let name = t["name"].as_str().unwrap();
            let is_node = t["interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["name"] == "Node");
            assert!(is_node, "{name} has an id but is not a Node");
            with_id.push(name.to_owned());
        }
    }
    assert!(with_id.len() >= 10, "{with_id:?}");
}
on_every_backend!(
    prices_and_events_are_nodes_test,
    prices_and_events_are_nodes
);
