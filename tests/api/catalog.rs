//! Providers, categories and shops, read through from the Daoway sandbox.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, shop_detail, shop_ids},
    on_every_backend,
};

async fn providers_and_categories(app: TestApp) {
    let data = app
        .gql_ok("{ providers { id name role capabilities enabled sandbox } categories { id provider externalId name iconUrl } }", json!({}))
        .await;
    let daoway = &data["providers"][0];
    assert_eq!(daoway["id"], "DAOWAY");
    assert_eq!(daoway["role"], "SERVICE_MARKETPLACE");
    assert_eq!(daoway["sandbox"], true);
    let caps: Vec<&str> = daoway["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(caps.contains(&"CREATE_ORDER"));
    assert!(!caps.contains(&"CANCEL_ORDER"), "Daoway has no cancel API");
    // The courier networks say in advance what they cannot do.
    let caps_of = |id: &str| -> Vec<String> {
        data["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| {
                p["capabilities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (dada, wechat) = (caps_of("DADA"), caps_of("WECHAT"));
    for c in [
        "LIST_CITIES",
        "MERCHANT_BALANCE",
        "MANAGE_STORES",
        "APPOINT_COURIER",
    ] {
        assert!(dada.iter().any(|x| x == c), "Dada {c}: {dada:?}");
        assert!(!wechat.iter().any(|x| x == c), "WeChat {c}: {wechat:?}");
    }
    for c in ["PREVIEW_CANCELLATION", "COURIER_COMPANIES"] {
        assert!(wechat.iter().any(|x| x == c), "WeChat {c}: {wechat:?}");
        assert!(!dada.iter().any(|x| x == c), "Dada {c}: {dada:?}");
    }
    let cats = data["categories"].as_array().unwrap();
    assert!(cats.len() >= 8, "{cats:?}");
    assert!(cats.iter().all(|c| c["provider"] == "DAOWAY"));
    // Global ids resolve through node().
    let id = cats[0]["id"].as_str().unwrap();
    let node = app
        .gql_ok(
            "query($id: ID!) { node(id: $id) { id ... on Category { name } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(node["node"]["name"], cats[0]["name"]);
    // Several at once, in the order asked; an id of nothing is null.
    let missing = "Q2F0ZWdvcnk6OTk5OTk5"; // Category:999999
    let nodes = app
        .gql_ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Category { name } } }",
            json!({"ids": [cats[1]["id"], missing, cats[0]["id"]]}),
        )
        .await;
    assert_eq!(nodes["nodes"][0]["name"], cats[1]["name"], "{nodes}");
    assert_eq!(nodes["nodes"][1], Value::Null, "{nodes}");
    assert_eq!(nodes["nodes"][2]["name"], cats[0]["name"], "{nodes}");
    let too_many: Vec<&str> = std::iter::repeat_n(id, 101).collect();
    let v = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": too_many}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{v}");
}
on_every_backend!(providers_and_categories_test, providers_and_categories);

async fn shops_filter_and_page(app: TestApp) {
    let q = "query($f: ShopFilter, $first: Int, $after: String) { shops(filter: $f, first: $first, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id title city provider prices { name amount { fen } } } } } }";
    let all = shop_ids(&app, "北京", None).await;
    assert!(
        all.len() >= 4,
        "the sandbox seeds several shops in Beijing: {all:?}"
    );
    let page1 = app
        .gql_ok(q, json!({"f": {"city": "北京"}, "first": 2}))
        .await;
    let conn = &page1["shops"];
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(conn["edges"].as_array().unwrap().len(), 2);
    assert_eq!(conn["edges"][0]["node"]["city"], "北京");
    assert!(
        !conn["edges"][0]["node"]["prices"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the main price comes with the list"
    );
    let page2 = app
        .gql_ok(
            q,
            json!({"f": {"city": "北京"}, "first": 2, "after": conn["pageInfo"]["endCursor"]}),
        )
        .await;
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["shops"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page2["shops"]["pageInfo"]["hasPreviousPage"], true);
    let (a, b) = (ids(&page1), ids(&page2));
    assert!(
        a.iter().all(|id| !b.contains(id)),
        "pages overlap: {a:?} {b:?}"
    );
    assert_eq!(
        [a, b].concat(),
        all[..4].to_vec(),
        "pages follow the platform's order"
    );

    // Search narrows; another city gives other shops.
    let cleaning = shop_ids(&app, "北京", Some("保洁")).await;
    assert!(!cleaning.is_empty() && cleaning.len() < all.len());
    let shanghai = shop_ids(&app, "上海", None).await;
    assert!(shanghai.iter().all(|id| !all.contains(id)));

    // Category filter (a category id from `categories`).
    let cats = app
        .gql_ok("{ categories { id externalId } }", json!({}))
        .await;
    let mut some_category_matched = false;
    for c in cats["categories"].as_array().unwrap() {
        let d = app
            .gql_ok(
                q,
                json!({"f": {"city": "北京", "category": c["id"]}, "first": 50}),
            )
            .await;
        let n = d["shops"]["edges"].as_array().unwrap().len();
        some_category_matched |= n > 0 && n < all.len();
    }
    assert!(some_category_matched);
}
on_every_backend!(shops_filter_and_page_test, shops_filter_and_page);

async fn near_orders_by_distance(app: TestApp) {
    let ids = shop_ids(&app, "北京", None).await;
    let mut located = Vec::new();
    for id in &ids {
        let d = app
            .gql_ok(
                "query($id: ID!) { shop(id: $id) { id location { lng lat } } }",
                json!({"id": id}),
            )
            .await;
        located.push((
            id.clone(),
            d["shop"]["location"]["lng"].as_f64().unwrap(),
            d["shop"]["location"]["lat"].as_f64().unwrap(),
        ));
    }
    // Stand at the last shop: it must come first.
    let (target, lng, lat) = located.last().unwrap().clone();
    let data = app
        .gql_ok(
            "query($f: ShopFilter) { shops(filter: $f, first: 50) { edges { node { id location { lng lat } } } } }",
            json!({"f": {"city": "北京", "near": {"lng": lng, "lat": lat}}}),
        )
        .await;
    let edges = data["shops"]["edges"].as_array().unwrap();
    assert_eq!(edges[0]["node"]["id"], target.as_str());
    let dist = |e: &serde_json::Value| {
        // Equirectangular: a degree of longitude is shorter by cos(latitude).
        let x = (e["node"]["location"]["lng"].as_f64().unwrap() - lng) * lat.to_radians().cos();
        let y = e["node"]["location"]["lat"].as_f64().unwrap() - lat;
        x * x + y * y
    };
    assert!(
        edges
            .windows(2)
            .all(|w| dist(&w[0]) <= dist(&w[1]) * 1.001 + 1e-12),
        "not ordered by distance"
    );
}
on_every_backend!(near_orders_by_distance_test, near_orders_by_distance);

async fn shop_detail_has_prices_hours_fees(app: TestApp) {
    let id = shop_ids(&app, "上海", None).await.remove(0);
    let d = shop_detail(&app, &id).await;
    assert_eq!(d["detailLoaded"], true);
    assert_eq!(d["stale"], false);
    assert!(d["hours"]["start"].as_str().unwrap().contains(':'));
    assert!(!d["hours"]["days"].as_array().unwrap().is_empty());
    assert!(d["fees"]["fixFee"]["fen"].is_i64());
    let prices = d["prices"].as_array().unwrap();
    assert!(!prices.is_empty());
    assert!(
        prices
            .iter()
            .all(|p| p["amount"]["fen"].as_i64().unwrap() > 0)
    );
    assert_eq!(
        prices[0]["amount"]["yuan"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .map(str::len),
        Some(2)
    );
}
on_every_backend!(shop_detail_test, shop_detail_has_prices_hours_fees);

async fn platform_down_serves_stale(app: TestApp) {
    let before = shop_ids(&app, "北京", None).await;
    let id = before[0].clone();
    shop_detail(&app, &id).await;
    app.control_put("/_control/faults", json!({"errorRate": 1.0}))
        .await;

    let v = app
        .gql("query($f: ShopFilter) { shops(filter: $f, first: 50) { edges { node { id stale } } } }", json!({"f": {"city": "北京"}}))
        .await;
    let errors = v["errors"]
        .as_array()
        .expect("a provider error beside the data");
    assert_eq!(errors[0]["extensions"]["code"], "PROVIDER_UNAVAILABLE");
    assert_eq!(errors[0]["extensions"]["provider"], "DAOWAY");
    let edges = v["data"]["shops"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), before.len(), "the stored shops are served");
    assert!(edges.iter().all(|e| e["node"]["stale"] == true));

    // A forced refresh of the detail fails too: the stored copy, marked stale.
    let v = app
        .gql(
            r#"query($id: ID!) { shop(id: $id) { id stale prices { id } } }"#,
            json!({"id": id}),
        )
        .await;
    assert_eq!(v["data"]["shop"]["stale"], true);
    assert!(!v["data"]["shop"]["prices"].as_array().unwrap().is_empty());

    // Categories: stored ones plus the error.
    let v = app.gql("{ categories { id } }", json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "PROVIDER_UNAVAILABLE");

    // Back up: fresh again.
    app.control_put("/_control/faults", json!({"errorRate": 0.0}))
        .await;
    let d = shop_detail(&app, &id).await;
    assert_eq!(d["stale"], false);
}
on_every_backend!(platform_down_serves_stale_test, platform_down_serves_stale);

/// Issue 11 §4: a shop first stored by an unfiltered list (the platform's default region,
/// which we are not told) has no city; a later list filtered by city gives it that city, and
/// an unfiltered list again does not erase it.
async fn filtered_list_fills_the_city(app: TestApp) {
    let q = "query($f: ShopFilter) { shops(filter: $f, first: 50) { edges { node { id city } } } }";
    let cities = |v: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        v["shops"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["node"]["id"].as_str().unwrap().to_owned(),
                    e["node"]["city"].clone(),
                )
            })
            .collect()
    };
    let unfiltered = cities(&app.gql_ok(q, json!({"f": {"provider": "DAOWAY"}})).await);
    assert!(!unfiltered.is_empty());
    assert!(
        unfiltered.iter().all(|(_, c)| c.is_null()),
        "an unfiltered list does not know the city: {unfiltered:?}"
    );

    let beijing = cities(&app.gql_ok(q, json!({"f": {"city": "北京"}})).await);
    assert!(
        beijing
            .iter()
            .any(|(id, _)| unfiltered.iter().any(|(u, _)| u == id)),
        "the default region is Beijing: the same shops come back"
    );
    assert!(
        beijing.iter().all(|(_, c)| c == "北京"),
        "a city-filtered list gives its shops the city: {beijing:?}"
    );

    let again = cities(&app.gql_ok(q, json!({"f": {"provider": "DAOWAY"}})).await);
    for (id, city) in &again {
        if beijing.iter().any(|(b, _)| b == id) {
            assert_eq!(city, "北京", "an unfiltered list keeps a known city: {id}");
        }
    }
}
on_every_backend!(
    filtered_list_fills_the_city_test,
    filtered_list_fills_the_city
);

/// A marketplace that answers after the fan-out deadline (but well inside its own request
/// timeout) is not waited for: the stored shops are served, stale, with PROVIDER_UNAVAILABLE
/// beside them; once it is quick again, fresh data.
async fn fanout_deadline_serves_stored(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.limits.fanout_deadline_ms = 300;
        c.daoway.request_timeout_ms = 30_000;
    })
    .await;
    let q =
        "query($f: ShopFilter) { shops(filter: $f, first: 50) { edges { node { id stale } } } }";
    let f = json!({"f": {"city": "北京"}});
    let before = shop_ids(&app, "北京", None).await;
    // Slower than the deadline, far quicker than the platform's own timeout.
    app.control_put("/_control/faults", json!({"latencyMs": 3_000}))
        .await;
    let v = app.gql(q, f.clone()).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "PROVIDER_UNAVAILABLE",
        "{v:#}"
    );
    let edges = v["data"]["shops"]["edges"].as_array().unwrap();
    let mut ids: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = before.iter().map(String::as_str).collect();
    ids.sort_unstable();
    want.sort_unstable();
    assert_eq!(ids, want, "the stored shops");
    assert!(edges.iter().all(|e| e["node"]["stale"] == true));
    app.control_put("/_control/faults", json!({"latencyMs": 0}))
        .await;
    let v = app.gql(q, f).await;
    assert!(v.get("errors").is_none(), "{v:#}");
}
on_every_backend!(
    fanout_deadline_serves_stored_test,
    fanout_deadline_serves_stored,
    by_backend
);
