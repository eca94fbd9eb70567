//! `GET /exports/orders.csv`: the same orders as the `orders` list with the same filter and
//! sort, read back through a CSV parser; a byte-order mark, yuan with two decimals, China
//! time; bad parameters refused with a code; a key without the reading scope refused.

use std::process::Command;

use chrono::{FixedOffset, NaiveDateTime};
use serde_json::{Value, json};

use crate::{
    finding::seed,
    helpers::{Backend, TestApp},
};

async fn export(app: &TestApp, key: Option<&str>, query: &str) -> (u16, String, Vec<u8>) {
    let mut req = app
        .http
        .get(format!("{}/exports/orders.csv?{query}", app.base));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let r = req.send().await.expect("export");
    let status = r.status().as_u16();
    let media = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, media, r.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn exports_round_trip_through_a_csv_parser() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let specs = seed(&app).await;
    let (status, media, body) = export(
        &app,
        None,
        "kind=DELIVERY&city=%E4%B8%8A%E6%B5%B7&sortBy=AMOUNT&sortDirection=ASC",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(media.starts_with("text/csv"), "{media}");
    let text = body
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a byte-order mark for Excel");
    let mut reader = csv::Reader::from_reader(text);
    let headers = reader.headers().expect("a header row").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV record")).collect();

    // The same orders, in the same order, as the API gives for the same filter and sort.
    let v = app
        .gql_ok(
            "{ orders(filter: {kind: DELIVERY, city: \"上海\"}, sort: {by: AMOUNT, direction: ASC}, first: 100) {
                nodes { id externalId amounts { total { fen } } } } }",
            json!({}),
        )
        .await;
    let nodes = v["orders"]["nodes"].as_array().unwrap().clone();
    assert!(!nodes.is_empty());
    assert_eq!(rows.len(), nodes.len());
    let china = FixedOffset::east_opt(8 * 3600).unwrap();
    for (row, node) in rows.iter().zip(&nodes) {
        assert_eq!(row[col("id")], *node["id"].as_str().unwrap());
        let external = node["externalId"].as_str().unwrap();
        assert_eq!(&row[col("platform_order_id")], external);
        let spec = specs.iter().find(|s| s.external_id == external).unwrap();
        let fen = node["amounts"]["total"]["fen"].as_i64().unwrap();
        assert_eq!(
            row[col("total_yuan")],
            format!("{}.{:02}", fen / 100, fen % 100)
        );
        let created =
            NaiveDateTime::parse_from_str(&row[col("created_at")], "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(created, spec.created.with_timezone(&china).naive_local());
        assert_eq!(&row[col("city")], "上海");
        assert_eq!(&row[col("contact")], spec.name.as_str());
        assert_eq!(
            row[col("delivery_fee_yuan")],
            spec.delivery_fee_fen
                .map(|f| format!("{}.{:02}", f / 100, f % 100))
                .unwrap_or_default()
        );
    }

    for bad in [
        "kind=PARCEL",
        "sortBy=NAME",
        "createdAfter=yesterday",
        "colour=red",
    ] {
        let (status, _, body) = export(&app, None, bad).await;
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, 400, "{bad}: {v}");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn exports_need_the_reading_scope() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.auth.anonymous = orderhub::config::AnonymousAccess::Never;
        c.dada.import_shops = Some(Vec::new());
    })
    .await;
    let key = |scopes: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_orderhub"))
            .args(["keys", "create", "--name", scopes, "--scopes", scopes])
            .env("ORDERHUB_DATABASE__URL", &app.database_url)
            .output()
            .expect("orderhub keys");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_owned()
    };
    let (status, _, _) = export(&app, None, "").await;
    assert_eq!(status, 401);
    let (status, _, body) = export(&app, Some(&key("catalog:read")), "").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = export(&app, Some(&key("orders:read")), "").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}
