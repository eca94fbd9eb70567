//! `orderStats`: for random filters and groupings, every bucket equals a brute-force sum over
//! the orders the test wrote (property test with a fixed seed, on SQLite and PostgreSQL).

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, FixedOffset, TimeZone, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::{Value, json};

use crate::{
    finding::{Spec, seed},
    helpers::TestApp,
    on_every_backend,
};

const STATS: &str = "query($f: OrderFilter, $g: [StatsDimension!]!, $tz: String!) {
    orderStats(filter: $f, groupBy: $g, timeZone: $tz) {
        key { dimension value } orders revenue { fen } deliveryFees { fen } tips { fen }
        penalties { fen } statuses { status orders } } }";

/// A dimension's value for one order, as `orderStats` writes it.
fn key_of(s: &Spec, dimension: &str, offset: FixedOffset) -> Value {
    let local = s.created.with_timezone(&offset).date_naive();
    match dimension {
        "DAY" => json!(local.format("%Y-%m-%d").to_string()),
        "WEEK" => {
            let monday = local - Duration::days(local.weekday().num_days_from_monday().into());
            json!(monday.format("%Y-%m-%d").to_string())
        }
        "MONTH" => json!(local.format("%Y-%m").to_string()),
        "PROVIDER" => json!(s.provider),
        "COMPANY" => json!(s.company),
        "CITY" => json!(s.city),
        "STATUS" => json!(s.status),
        "CANCEL_REASON" => json!(s.cancel_reason),
        other => panic!("no dimension {other}"),
    }
}

/// A bucket being summed: orders, the four money totals, orders per status.
type Sums<'a> = (i64, [i64; 4], BTreeMap<&'a str, i64>);

/// A filter term, by hand.
type Keep = Box<dyn Fn(&Spec) -> bool>;

/// The buckets by hand, keyed by their key values.
fn expected(
    specs: &[&Spec],
    group_by: &[&str],
    offset: FixedOffset,
) -> BTreeMap<Vec<String>, Value> {
    let mut sums: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
    for s in specs {
        let key = group_by
            .iter()
            .map(|d| key_of(s, d, offset).to_string())
            .collect();
        let e = sums.entry(key).or_default();
        e.0 += 1;
        e.1[0] += s.total_fen;
        e.1[1] += s.delivery_fee_fen.unwrap_or(0);
        e.1[2] += s.tips_fen.unwrap_or(0);
        e.1[3] += s.penalty_fen.unwrap_or(0);
        *e.2.entry(s.status).or_default() += 1;
    }
    sums.into_iter()
        .map(|(k, (n, m, st))| {
            let statuses: BTreeMap<String, i64> =
                st.into_iter().map(|(s, n)| (s.to_owned(), n)).collect();
            (k, json!([n, m, statuses]))
        })
        .collect()
}

/// The API's buckets in the same shape.
fn answered(buckets: &Value) -> BTreeMap<Vec<String>, Value> {
    buckets
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let key = b["key"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["value"].to_string())
                .collect();
            let statuses: BTreeMap<String, i64> = b["statuses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["status"].as_str().unwrap().to_owned(),
                        s["orders"].as_i64().unwrap(),
                    )
                })
                .collect();
            let m = ["revenue", "deliveryFees", "tips", "penalties"]
                .map(|f| b[f]["fen"].as_i64().unwrap());
            (key, json!([b["orders"], m, statuses]))
        })
        .collect()
}

async fn totals_equal_brute_force_sums(app: TestApp) {
    let specs = seed(&app).await;
    let mut rng = StdRng::seed_from_u64(13);
    let dims = [
        "DAY",
        "WEEK",
        "MONTH",
        "PROVIDER",
        "COMPANY",
        "CITY",
        "STATUS",
        "CANCEL_REASON",
    ];
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    for round in 0..24 {
        let mut filter = json!({});
        let mut keep: Vec<Keep> = Vec::new();
        if rng.random_bool(0.4) {
            let p = *["DAOWAY", "DADA", "WECHAT", "DAOJIA58"]
                .choose(&mut rng)
                .unwrap();
            filter["provider"] = json!(p);
            keep.push(Box::new(move |s| s.provider == p));
        }
        if rng.random_bool(0.4) {
            let c = *["上海", "北京", "杭州"].choose(&mut rng).unwrap();
            filter["city"] = json!(c);
            keep.push(Box::new(move |s| s.city == c));
        }
        if rng.random_bool(0.5) {
            let from = base + Duration::hours(rng.random_range(0..24 * 20));
            let until = from + Duration::hours(rng.random_range(1..24 * 25));
            filter["createdAfter"] = json!(from.to_rfc3339());
            filter["createdBefore"] = json!(until.to_rfc3339());
            keep.push(Box::new(move |s| s.created >= from && s.created < until));
        }
        let n = rng.random_range(0..=2);
        let group_by: Vec<&str> = dims.choose_multiple(&mut rng, n).copied().collect();
        let (tz, offset) = if round % 3 == 2 {
            ("-05:30", FixedOffset::west_opt(5 * 3600 + 1800).unwrap())
        } else {
            ("+08:00", FixedOffset::east_opt(8 * 3600).unwrap())
        };
        let matching: Vec<&Spec> = specs.iter().filter(|s| keep.iter().all(|k| k(s))).collect();
        let v = app
            .gql_ok(STATS, json!({"f": filter, "g": group_by, "tz": tz}))
            .await;
        let mut want = expected(&matching, &group_by, offset);
        if group_by.is_empty() && want.is_empty() {
            want.insert(Vec::new(), json!([0, [0, 0, 0, 0], {}]));
        }
        assert_eq!(
            answered(&v["orderStats"]),
            want,
            "filter {filter}, groupBy {group_by:?}, timeZone {tz}"
        );
    }

    for (args, code) in [
        (
            json!({"g": ["DAY", "DAY"], "tz": "+08:00"}),
            "INVALID_INPUT",
        ),
        (
            json!({"g": ["DAY"], "tz": "Asia/Shanghai"}),
            "INVALID_INPUT",
        ),
        (
            json!({"g": ["DAY", "WEEK", "MONTH", "CITY", "STATUS"], "tz": "+08:00"}),
            "INVALID_INPUT",
        ),
    ] {
        let v = app.gql(STATS, args.clone()).await;
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{args}: {v}");
    }
}
on_every_backend!(
    totals_equal_brute_force_sums_test,
    totals_equal_brute_force_sums
);

/// Nearest-rank percentile `p` (in %) of sorted `v`: the first value whose rank r has
/// 100·r ≥ p·n.
fn rank(v: &[i64], p: usize) -> i64 {
    let i = (1..=v.len()).find(|r| 100 * r >= p * v.len()).unwrap_or(1);
    v[i - 1]
}

/// `orderhub seed` writes consistent history (every order's timeline ends in its status, the
/// four providers all appear, everything lies in the span), and `orderStats` reports its
/// timeline durations as a brute-force count over the orders' events does.
async fn seeded_history_and_its_durations(app: TestApp) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderhub"))
        .args(["seed", "--orders", "400", "--days", "30", "--seed", "7"])
        .env("ORDERHUB_DATABASE__URL", &app.database_url)
        .output()
        .expect("orderhub seed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A database with orders that were not seeded is refused, and nothing is written.
    crate::finding::seed(&app).await;
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_orderhub"))
        .args(["seed", "--orders", "10", "--days", "30"])
        .env("ORDERHUB_DATABASE__URL", &app.database_url)
        .output()
        .expect("orderhub seed");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not seeded"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let v = app
            .gql_ok(
                &format!(
                    "query($after: String) {{ orders(first: 100, after: $after) {{ totalCount
                        pageInfo {{ hasNextPage endCursor }} nodes {{ {} }} }} }}",
                    crate::scorecard::NODE_FIELDS
                ),
                json!({"after": after}),
            )
            .await;
        assert_eq!(
            v["orders"]["totalCount"], 460,
            "400 seeded and 60 of the test's own"
        );
        nodes.extend(v["orders"]["nodes"].as_array().unwrap().clone());
        if v["orders"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = v["orders"]["pageInfo"]["endCursor"].clone();
    }
    crate::scorecard::matches_brute_force(&app, &nodes).await;
    // The seeded ones (the test's own orders have no timeline).
    nodes.retain(|o| !o["events"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(nodes.len(), 400);
    let time = |v: &Value| -> chrono::DateTime<Utc> { v.as_str().unwrap().parse().unwrap() };
    let month_ago = Utc::now() - Duration::days(31) - Duration::minutes(5);
    // provider → step → durations in seconds
    let mut by: BTreeMap<String, [Vec<i64>; 3]> = BTreeMap::new();
    for o in &nodes {
        let events = o["events"].as_array().unwrap();
        assert_eq!(events.last().unwrap()["toStatus"], o["status"], "{o}");
        let created = time(&o["createdAt"]);
        assert!(created >= month_ago && created <= Utc::now(), "{o}");
        let entry = by
            .entry(o["provider"].as_str().unwrap().to_owned())
            .or_default();
        for (i, step) in ["ACCEPTED", "IN_PROGRESS", "COMPLETED"].iter().enumerate() {
            let first = events
                .iter()
                .filter(|e| e["toStatus"] == *step)
                .map(|e| time(&e["occurredAt"]))
                .min();
            if let Some(at) = first {
                assert!(at >= created && at <= Utc::now(), "{o}");
                entry[i].push((at - created).num_seconds());
            }
        }
    }
    let v = app
        .gql_ok(
            "{ orderStats(groupBy: [PROVIDER]) { key { value } orders
                timeToAccept { orders p50Seconds p90Seconds p99Seconds }
                timeToPickUp { orders p50Seconds p90Seconds p99Seconds }
                timeToComplete { orders p50Seconds p90Seconds p99Seconds } } }",
            json!({}),
        )
        .await;
    let buckets = v["orderStats"].as_array().unwrap();
    assert_eq!(buckets.len(), 4, "{buckets:?}");
    for b in buckets {
        let provider = b["key"][0]["value"].as_str().unwrap();
        let steps = by.get_mut(provider).unwrap();
        for (i, field) in ["timeToAccept", "timeToPickUp", "timeToComplete"]
            .iter()
            .enumerate()
        {
            let d = &mut steps[i];
            d.sort_unstable();
            let want = if d.is_empty() {
                Value::Null
            } else {
                json!({"orders": d.len(), "p50Seconds": rank(d, 50),
                       "p90Seconds": rank(d, 90), "p99Seconds": rank(d, 99)})
            };
            assert_eq!(b[field], want, "{provider} {field}");
        }
    }

    // Over a time range (the later half of the history) and by week: the same brute force.
    let mut created: Vec<chrono::DateTime<Utc>> =
        nodes.iter().map(|o| time(&o["createdAt"])).collect();
    created.sort_unstable();
    let mid = created[created.len() / 2];
    let china = FixedOffset::east_opt(8 * 3600).unwrap();
    let mut by_week: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for o in nodes.iter().filter(|o| time(&o["createdAt"]) >= mid) {
        let local = time(&o["createdAt"]).with_timezone(&china).date_naive();
        let monday = local - Duration::days(local.weekday().num_days_from_monday().into());
        let accepted = o["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["toStatus"] == "ACCEPTED")
            .map(|e| time(&e["occurredAt"]))
            .min();
        let week = by_week
            .entry(monday.format("%Y-%m-%d").to_string())
            .or_default();
        if let Some(at) = accepted {
            week.push((at - time(&o["createdAt"])).num_seconds());
        }
    }
    let v = app
        .gql_ok(
            "query($after: DateTime!) { orderStats(filter: {createdAfter: $after}, groupBy: [WEEK]) {
                key { value } timeToAccept { orders p50Seconds p90Seconds p99Seconds } } }",
            json!({ "after": mid.to_rfc3339() }),
        )
        .await;
    let buckets = v["orderStats"].as_array().unwrap();
    assert_eq!(buckets.len(), by_week.len(), "{buckets:?}");
    for b in buckets {
        let d = by_week
            .get_mut(b["key"][0]["value"].as_str().unwrap())
            .unwrap();
        d.sort_unstable();
        let want = if d.is_empty() {
            Value::Null
        } else {
            json!({"orders": d.len(), "p50Seconds": rank(d, 50),
                   "p90Seconds": rank(d, 90), "p99Seconds": rank(d, 99)})
        };
        assert_eq!(b["timeToAccept"], want, "{b}");
    }
}
on_every_backend!(
    seeded_history_and_its_durations_test,
    seeded_history_and_its_durations
);

/// The analytics weigh against the complexity budget: `orderStats` 100 plus 50 per
/// dimension plus its selection, `courierScorecard` 150 plus its selection; a document over
/// the limit is refused before any statement runs.
async fn analytics_count_toward_the_budget(backend: crate::helpers::Backend) {
    let app = TestApp::spawn_with(backend, |c| c.limits.max_query_complexity = 500).await;
    let cost = |v: &Value| v["extensions"]["cost"]["requestedQueryCost"].as_u64();
    let v = app.gql("{ orderStats { orders } }", json!({})).await;
    assert_eq!(cost(&v), Some(101), "{v}");
    let v = app
        .gql(
            "{ orderStats(groupBy: [DAY, PROVIDER]) { orders revenue { fen } } }",
            json!({}),
        )
        .await;
    assert_eq!(cost(&v), Some(100 + 2 * 50 + 3), "{v}");
    let v = app
        .gql("{ courierScorecard { city deliveries } }", json!({}))
        .await;
    assert_eq!(cost(&v), Some(152), "{v}");
    // Two statements of four dimensions weigh more than the limit (500 here): refused
    // before any runs; one passes.
    let heavy = "orderStats(groupBy: [DAY, PROVIDER, CITY, STATUS]) { orders }";
    let v = app.gql(&format!("{{ {heavy} }}"), json!({})).await;
    assert_eq!(cost(&v), Some(301), "{v}");
    let v = app
        .gql(&format!("{{ a: {heavy} b: {heavy} }}"), json!({}))
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{v}"
    );
}
on_every_backend!(
    analytics_count_toward_the_budget_test,
    analytics_count_toward_the_budget,
    by_backend
);
