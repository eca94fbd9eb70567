//! Finding orders: every filter term, every sort in both directions, and keyset paging
//! through the whole list, checked against the same filter and sort applied by hand to the
//! orders the test wrote; the search by id, platform id, phone (whole or last 4) and name.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::orders;
use sea_orm::{ActiveModelTrait, Database, Set};
use serde_json::{Value, json};

use crate::{helpers::TestApp, on_every_backend};

/// What the test writes of one order.
#[derive(Clone, Debug)]
pub struct Spec {
    pub id: i64,
    pub provider: &'static str,
    pub kind: &'static str,
    pub direction: &'static str,
    pub status: &'static str,
    pub city: &'static str,
    pub company: Option<&'static str>,
    pub phone: String,
    pub name: String,
    pub external_id: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub total_fen: i64,
    pub delivery_fee_fen: Option<i64>,
    pub tips_fen: Option<i64>,
    pub penalty_fen: Option<i64>,
    pub cancel_reason: Option<&'static str>,
}

/// 60 orders whose fields vary independently (and whose creation times do not follow their
/// ids, and cross midnight in China and in UTC), written straight to the database.
pub async fn seed(app: &TestApp) -> Vec<Spec> {
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("connect");
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    let mut specs = Vec::new();
    for i in 0..60i64 {
        let (provider, kind, direction) = match i % 4 {
            0 => ("DAOWAY", "SERVICE", "OUTBOUND"),
            1 => ("DADA", "DELIVERY", "OUTBOUND"),
            2 => ("WECHAT", "DELIVERY", "OUTBOUND"),
            _ => ("DAOJIA58", "SERVICE", "INBOUND"),
        };
        let spec = Spec {
            id: 0,
            provider,
            kind,
            direction,
            status: ["PENDING", "ACCEPTED", "COMPLETED", "CANCELLED"][(i % 5 % 4) as usize],
            city: ["上海", "北京", "杭州"][(i % 3) as usize],
            company: (provider == "WECHAT").then_some(["SFTC", "MTPS"][(i % 8 / 4) as usize]),
            phone: format!("1380000{:04}", 1000 + (i * 37) % 9000),
            name: format!("{}{}", ["张", "李", "王"][(i % 3) as usize], i),
            external_id: format!("EXT-{i}"),
            // Creation times out of id order; amounts with ties.
            created: base + Duration::minutes((i * 7919) % (60 * 24 * 40)),
            updated: base + Duration::minutes(600 + (i * 104_729) % 600),
            total_fen: 1000 + (i % 7) * 250,
            delivery_fee_fen: (kind == "DELIVERY").then_some(500 + i * 3),
            tips_fen: (i % 6 == 1).then_some(200),
            penalty_fen: (i % 10 == 3).then_some(150 + i),
            cancel_reason: (i % 5 == 3).then_some(["用户改期", "无人接单"][(i % 2) as usize]),
        };
        let row = orders::ActiveModel {
            provider: Set(spec.provider.into()),
            external_id: Set(Some(spec.external_id.clone())),
            direction: Set(spec.direction.into()),
            kind: Set(spec.kind.into()),
            status: Set(spec.status.into()),
            raw_status: Set(spec.status.into()),
            contact_person: Set(spec.name.clone()),
            phone: Set(spec.phone.clone()),
            city: Set(spec.city.into()),
            street: Set("路".into()),
            house: Set("1".into()),
            items_total_fen: Set(spec.total_fen),
            fee_fen: Set(0),
            total_fen: Set(spec.total_fen),
            created_at: Set(spec.created),
            updated_at: Set(spec.updated),
            courier_company: Set(spec.company.map(Into::into)),
            delivery_fee_fen: Set(spec.delivery_fee_fen),
            tips_fen: Set(spec.tips_fen),
            penalty_fen: Set(spec.penalty_fen),
            cancel_reason: Set(spec.cancel_reason.map(Into::into)),
            dispatch_round: Set(0),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("insert an order");
        specs.push(Spec { id: row.id, ..spec });
    }
    specs
}

const PAGE: &str = "query($f: OrderFilter, $s: OrderSort, $after: String, $first: Int) {
    orders(filter: $f, sort: $s, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id externalId } } }";

/// Every order the filter and sort give, page by page (pages of 7), and the total count.
async fn walk(app: &TestApp, filter: Value, sort: Value) -> (Vec<String>, i64) {
    let mut got = Vec::new();
    let mut after = Value::Null;
    loop {
        let v = app
            .gql_ok(
                PAGE,
                json!({"f": filter, "s": sort, "after": after, "first": 7}),
            )
            .await;
        let page = &v["orders"];
        for n in page["nodes"].as_array().unwrap() {
            got.push(n["externalId"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return (got, page["totalCount"].as_i64().unwrap());
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// The same, by hand.
fn expected(specs: &[Spec], keep: impl Fn(&Spec) -> bool, by: &str, desc: bool) -> Vec<String> {
    let mut rows: Vec<&Spec> = specs.iter().filter(|s| keep(s)).collect();
    rows.sort_by(|a, b| {
        let key = match by {
            "CREATED" => a.created.cmp(&b.created),
            "UPDATED" => a.updated.cmp(&b.updated),
            "AMOUNT" => a.total_fen.cmp(&b.total_fen),
            _ => std::cmp::Ordering::Equal,
        };
        key.then(a.id.cmp(&b.id))
    });
    if desc {
        rows.reverse();
    }
    rows.into_iter().map(|s| s.external_id.clone()).collect()
}

async fn filters_sorts_and_pages(app: TestApp) {
    let specs = seed(&app).await;
    let noon = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    type Keep = Box<dyn Fn(&Spec) -> bool>;
    let cases: Vec<(Value, Keep)> = vec![
        (json!({}), Box::new(|_| true)),
        (
            json!({"kind": "DELIVERY"}),
            Box::new(|s| s.kind == "DELIVERY"),
        ),
        (
            json!({"direction": "INBOUND"}),
            Box::new(|s| s.direction == "INBOUND"),
        ),
        (
            json!({"courierCompany": "SFTC"}),
            Box::new(|s| s.company == Some("SFTC")),
        ),
        (
            json!({"city": "北京", "provider": "DADA"}),
            Box::new(|s| s.city == "北京" && s.provider == "DADA"),
        ),
        (
            json!({"createdAfter": noon.to_rfc3339(), "statuses": ["PENDING", "CANCELLED"]}),
            Box::new(move |s| s.created >= noon && ["PENDING", "CANCELLED"].contains(&s.status)),
        ),
        (
            json!({"createdBefore": noon.to_rfc3339(), "updatedAfter": (noon + Duration::hours(6)).to_rfc3339()}),
            Box::new(move |s| s.created < noon && s.updated >= noon + Duration::hours(6)),
        ),
    ];
    for (filter, keep) in &cases {
        for by in ["RECORDED", "CREATED", "UPDATED", "AMOUNT"] {
            for desc in [true, false] {
                let sort = json!({"by": by, "direction": if desc { "DESC" } else { "ASC" }});
                let (got, total) = walk(&app, filter.clone(), sort).await;
                let want = expected(&specs, keep, by, desc);
                assert_eq!(got, want, "filter {filter}, sort {by} desc={desc}");
                assert_eq!(total as usize, want.len(), "totalCount of {filter}");
            }
        }
    }

    // A cursor of one sort is refused by another; a bare id cursor (before sorting existed)
    // still pages the default list.
    let v = app
        .gql_ok(PAGE, json!({"s": {"by": "AMOUNT"}, "first": 2}))
        .await;
    let cursor = v["orders"]["pageInfo"]["endCursor"].clone();
    let refused = app
        .gql(PAGE, json!({"s": {"by": "CREATED"}, "after": cursor}))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{refused}"
    );
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let newest = specs.iter().map(|s| s.id).max().unwrap();
    let old = URL_SAFE_NO_PAD.encode(newest.to_string());
    let v = app.gql_ok(PAGE, json!({"after": old, "first": 1})).await;
    let mut by_id = specs.clone();
    by_id.sort_by_key(|s| s.id);
    assert_eq!(
        v["orders"]["nodes"][0]["externalId"],
        by_id[by_id.len() - 2].external_id.as_str()
    );
}
on_every_backend!(filters_sorts_and_pages_test, filters_sorts_and_pages);

async fn search_terms(app: TestApp) {
    let specs = seed(&app).await;
    let find = |term: String| {
        let app = &app;
        async move {
            let v = app
                .gql_ok(
                    "query($f: OrderFilter) { orders(filter: $f, first: 100) { nodes { externalId } } }",
                    json!({"f": {"search": term}}),
                )
                .await;
            let mut ids: Vec<String> = v["orders"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["externalId"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let s = &specs[5];
    let last4 = s.phone[s.phone.len() - 4..].to_owned();
    let by_tail = sorted(
        specs
            .iter()
            .filter(|o| o.phone.ends_with(&last4))
            .map(|o| o.external_id.clone())
            .collect(),
    );
    assert_eq!(find(last4).await, by_tail);
    assert_eq!(find(s.phone.clone()).await, by_tail);
    assert_eq!(
        find(s.external_id.clone()).await,
        vec![s.external_id.clone()]
    );
    let order_id = app
        .gql_ok(
            "query($f: OrderFilter) { orders(filter: $f, first: 1) { nodes { id } } }",
            json!({"f": {"search": s.external_id}}),
        )
        .await["orders"]["nodes"][0]["id"]
        .clone();
    assert_eq!(
        find(order_id.as_str().unwrap().to_owned()).await,
        vec![s.external_id.clone()]
    );
    let by_name = sorted(
        specs
            .iter()
            .filter(|o| o.name.starts_with("李1"))
            .map(|o| o.external_id.clone())
            .collect(),
    );
    assert!(!by_name.is_empty());
    assert_eq!(find("李1".into()).await, by_name);
    // Wildcards are taken literally.
    assert!(find("%".into()).await.is_empty());
    let long = app
        .gql(
            "query($f: OrderFilter) { orders(filter: $f) { nodes { id } } }",
            json!({"f": {"search": "x".repeat(65)}}),
        )
        .await;
    assert_eq!(long["errors"][0]["extensions"]["code"], "INVALID_INPUT");
}
on_every_backend!(search_terms_test, search_terms);

/// The stream's filter terms that need the order: kind, shop and courier company.
async fn the_stream_filters_by_kind_shop_and_company(app: TestApp) {
    let shop = app.wechat_shop("wx_sh_001").await;
    let sub = "subscription($f: StatusChangeFilter) { orderStatusChanged(filter: $f) { orderId } }";
    let mut sftc = app
        .subscribe(sub, json!({"f": {"courierCompany": "SFTC"}}))
        .await;
    let mut other_company = app
        .subscribe(sub, json!({"f": {"courierCompany": "MTPS"}}))
        .await;
    let mut deliveries = app
        .subscribe(sub, json!({"f": {"kind": "DELIVERY", "shopId": shop}}))
        .await;
    let mut services = app.subscribe(sub, json!({"f": {"kind": "SERVICE"}})).await;
    let placed = app
        .gql_ok(
            "mutation($input: DispatchDeliveryInput!) { dispatchDelivery(input: $input) {
                order { id } userErrors { message } } }",
            json!({"input": {"delivery": {
                "shopId": shop,
                "company": "SFTC",
                "receiver": {"name": "张三", "phone": "13800000000",
                    "address": "上海市黄浦区南京东路100号",
                    "location": {"lng": 121.4968, "lat": 31.2450}},
                "cargoPriceFen": 5000,
                "cargoWeightKg": 1.5,
            }}}),
        )
        .await;
    let id = placed["dispatchDelivery"]["order"]["id"].clone();
    assert!(id.is_string(), "{placed}");
    for s in [&mut sftc, &mut deliveries] {
        assert_eq!(
            s.next(10).await["data"]["orderStatusChanged"]["orderId"],
            id
        );
    }
    other_company.assert_quiet(300).await;
    services.assert_quiet(300).await;
}
on_every_backend!(
    the_stream_filters_by_kind_shop_and_company_test,
    the_stream_filters_by_kind_shop_and_company
);
