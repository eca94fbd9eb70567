//! Subscriptions executed once for many subscribers: subscribers with the same selection, as
//! the same caller, share one execution and one JSON text per event; each is still admitted
//! on its own (its cost is charged), and one that falls behind the shared backlog continues
//! on its own execution without losing or repeating an event.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::{Backend, Subscription, TestApp};

const LIVE: &str = "subscription { orderStatusChanged { eventId orderId newStatus } }";

fn started() -> &'static str {
    r#"orderhub_ws_shared_subscriptions_total{outcome="started"}"#
}

fn joined() -> &'static str {
    r#"orderhub_ws_shared_subscriptions_total{outcome="joined"}"#
}

/// Has the 58 Daojia sandbox push `n` orders at once; each becomes at least one event.
async fn push_orders(app: &TestApp, n: usize) {
    let url = format!("{}/sandbox/daojia58/_control/push", app.base);
    let pushes = (0..n).map(|_| app.http.post(&url).json(&json!({})).send());
    for r in futures::future::join_all(pushes).await {
        let r = r.expect("push");
        assert_eq!(r.status().as_u16(), 201, "push");
    }
}

/// The event ids a subscriber receives until `seen` (what it received before) holds every id
/// in `want`; panics on an error, an end, or an id received twice.
async fn collect(
    sub: &mut Subscription,
    want: &BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut got = Vec::new();
    while !want.iter().all(|id| seen.contains(id)) {
        let m = sub.next(20).await;
        let id = m["data"]["orderStatusChanged"]["eventId"]
            .as_str()
            .unwrap_or_else(|| panic!("an event, not {m}"))
            .to_owned();
        assert!(seen.insert(id.clone()), "event {id} arrived twice");
        got.push(id);
    }
    got
}

/// The event ids of every change so far, by asking the API.
async fn event_ids(app: &TestApp) -> BTreeSet<String> {
    let v = app
        .gql_ok(
            "{ orders(first: 100) { nodes { events { id } } } }",
            json!({}),
        )
        .await;
    v["orders"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|o| o["events"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn subscribers_with_the_same_selection_share_one_execution() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dada.import_shops = Some(Vec::new());
    })
    .await;
    let (s0, j0) = (app.metric(started()).await, app.metric(joined()).await);
    let mut same = Vec::new();
    for _ in 0..3 {
        same.push(app.subscribe(LIVE, json!({})).await);
    }
    let mut other = app
        .subscribe(
            "subscription { orderStatusChanged { eventId newStatus provider } }",
            json!({}),
        )
        .await;
    assert_eq!(
        app.metric(started()).await - s0,
        2.0,
        "one execution per selection"
    );
    assert_eq!(
        app.metric(joined()).await - j0,
        2.0,
        "two subscribers joined the first"
    );

    let before = event_ids(&app).await;
    push_orders(&app, 3).await;
    let want: BTreeSet<String> = app
        .eventually(20, || async {
            let now = event_ids(&app).await;
            let new: BTreeSet<String> = now.difference(&before).cloned().collect();
            (new.len() >= 3).then_some(new)
        })
        .await;
    let mut seen = Vec::new();
    for sub in &mut same {
        seen.push(collect(sub, &want, &mut BTreeSet::new()).await);
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "same events, same order: {seen:?}"
    );
    let others = collect(&mut other, &want, &mut BTreeSet::new()).await;
    assert_eq!(others, seen[0], "the other selection saw the same changes");
}

#[tokio::test]
async fn each_subscriber_is_admitted_and_charged_on_its_own() {
    // A subscription costs 4; the bucket holds the first subscriber's admission and its
    // shared execution, and the second's admission: the third is throttled.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dada.import_shops = Some(Vec::new());
        c.limits.cost_bucket = 12;
        c.limits.cost_restore_per_sec = 1;
    })
    .await;
    let mut first = app.subscribe(LIVE, json!({})).await;
    let mut second = app.subscribe(LIVE, json!({})).await;
    let mut third = app.subscribe(LIVE, json!({})).await;
    let refused = third.next(10).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "THROTTLED");
    push_orders(&app, 1).await;
    for sub in [&mut first, &mut second] {
        let m = sub.next(20).await;
        assert!(
            m["data"]["orderStatusChanged"]["eventId"].is_string(),
            "{m}"
        );
    }
}

#[tokio::test]
async fn a_subscriber_behind_the_backlog_continues_alone_without_loss() {
    // A backlog of one answer: a burst of events leaves some subscriber behind.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dada.import_shops = Some(Vec::new());
        c.websocket.shared_backlog = 1;
    })
    .await;
    let behind = r#"orderhub_ws_shared_subscriptions_total{outcome="behind"}"#;
    let mut subs = Vec::new();
    for _ in 0..3 {
        subs.push(app.subscribe(LIVE, json!({})).await);
    }
    let mut seen = vec![BTreeSet::new(); subs.len()];
    for _ in 0..30 {
        let before = event_ids(&app).await;
        push_orders(&app, 8).await;
        let want: BTreeSet<String> = app
            .eventually(20, || async {
                let now = event_ids(&app).await;
                let new: BTreeSet<String> = now.difference(&before).cloned().collect();
                (new.len() >= 8).then_some(new)
            })
            .await;
        // Every subscriber, behind or not, receives every event of the burst, once.
        for (sub, seen) in subs.iter_mut().zip(&mut seen) {
            collect(sub, &want, seen).await;
        }
        if app.metric(behind).await >= 1.0 {
            return;
        }
    }
    panic!("no subscriber fell behind a backlog of one in 30 bursts of 8 events");
}
