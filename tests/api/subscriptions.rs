//! orderStatusChanged over graphql-ws: live changes from every source, filters, and resuming
//! after a disconnect without missing anything.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;

use crate::{
    helpers::{CREATE_ORDER, Subscription, TestApp, find_shop, order_input, plain_shop},
    on_every_backend, postgres_only,
};

const SUB: &str = "subscription($f: StatusChangeFilter, $after: ID) { orderStatusChanged(filter: $f, afterEventId: $after) {
    eventId orderId provider oldStatus newStatus rawStatus source occurredAt order { id status } } }";

async fn streams_every_change(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let mut all = app.subscribe(SUB, json!({})).await;
    let mut daoway = app
        .subscribe(
            SUB,
            json!({"f": {"provider": "DAOWAY", "statuses": ["CANCELLED"]}}),
        )
        .await;
    let mut other = app.subscribe(SUB, json!({"f": {"provider": "DADA"}})).await;

    let o = app
        .gql_ok(CREATE_ORDER, json!({"input": order_input(&shop, None)}))
        .await["createOrder"]["order"]
        .clone();
    let ext = o["externalId"].as_str().unwrap().to_owned();
    let first = all.next(5).await;
    let c = &first["data"]["orderStatusChanged"];
    assert_eq!(c["orderId"], o["id"]);
    assert_eq!(c["oldStatus"], serde_json::Value::Null);
    assert_eq!(c["newStatus"], "PENDING");
    assert_eq!(c["rawStatus"], "PENDING_CONFIRM");
    assert_eq!(c["source"], "CREATE");
    assert_eq!(c["provider"], "DAOWAY");

    app.control_post(&format!("/_control/orders/{ext}/confirm"), json!({}))
        .await;
    let c = all.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(
        (
            c["oldStatus"].as_str(),
            c["newStatus"].as_str(),
            c["rawStatus"].as_str()
        ),
        (Some("PENDING"), Some("ACCEPTED"), Some("CONFIRMED"))
    );
    assert_eq!(c["source"], "POLL");
    assert_eq!(c["order"]["status"], "ACCEPTED");

    app.control_post(
        &format!("/_control/orders/{ext}/cancel"),
        json!({"reason": "用户改期"}),
    )
    .await;
    let c = all.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(c["newStatus"], "CANCELLED");
    let only = daoway.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(
        only["newStatus"], "CANCELLED",
        "the status filter let only the cancellation through"
    );
    assert_eq!(only["eventId"], c["eventId"]);
    other.assert_quiet(300).await;
}
on_every_backend!(streams_every_change_test, streams_every_change);

async fn resumes_after_an_event(app: TestApp) {
    let shop = find_shop(&app, plain_shop).await;
    let mut live = app.subscribe(SUB, json!({})).await;
    let o = app
        .gql_ok(CREATE_ORDER, json!({"input": order_input(&shop, None)}))
        .await["createOrder"]["order"]
        .clone();
    let ext = o["externalId"].as_str().unwrap().to_owned();
    let first = live.next(5).await["data"]["orderStatusChanged"].clone();
    drop(live); // the client goes away…

    // …and the order moves while it is gone.
    app.control_post(&format!("/_control/orders/{ext}/confirm"), json!({}))
        .await;
    app.eventually(10, || async {
        let v = app
            .gql_ok(
                "query($id: ID!) { order(id: $id) { status } }",
                json!({"id": o["id"]}),
            )
            .await;
        (v["order"]["status"] == "ACCEPTED").then_some(())
    })
    .await;

    let mut back = app
        .subscribe(
            SUB,
            json!({"f": {"orderId": o["id"]}, "after": first["eventId"]}),
        )
        .await;
    let missed = back.next(5).await["data"]["orderStatusChanged"].clone();
    assert_eq!(
        missed["newStatus"], "ACCEPTED",
        "the missed change is replayed"
    );
    app.control_post(&format!("/_control/orders/{ext}/complete"), json!({}))
        .await;
    let next = back.next(10).await["data"]["orderStatusChanged"].clone();
    assert_eq!(next["newStatus"], "COMPLETED", "then live again");
    back.assert_quiet(300).await;

    // A client that reconnects gives its last event id once, in `connection_init`: every
    // subscription on the new connection resumes after it (graphql-ws sends its
    // connectionParams again on each reconnect, while the subscribe messages stay as they were).
    let mut init = json!({"lastEventId": first["eventId"]});
    if let Some(k) = app.key() {
        init["Authorization"] = json!(format!("Bearer {k}"));
    }
    let mut again =
        Subscription::open_with_init(&app.base, init, SUB, json!({"f": {"orderId": o["id"]}}))
            .await;
    let mut replayed = Vec::new();
    for _ in 0..2 {
        replayed.push(again.next(5).await["data"]["orderStatusChanged"]["newStatus"].clone());
    }
    assert_eq!(replayed, vec![json!("ACCEPTED"), json!("COMPLETED")]);
    again.assert_quiet(300).await;

    // A bad cursor is an error, not a silent full replay; so is an id that is not a known
    // event (one from the future would mute the stream until events caught up with it).
    let mut bad = app.subscribe(SUB, json!({"after": "nonsense"})).await;
    let m = bad.next(5).await;
    assert_eq!(m["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{m}");
    let future = URL_SAFE_NO_PAD.encode("StatusEvent:999999999");
    let mut ahead = app.subscribe(SUB, json!({"after": future})).await;
    let m = ahead.next(5).await;
    assert_eq!(m["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{m}");
}
on_every_backend!(resumes_after_an_event_test, resumes_after_an_event);

postgres_only! {
    /// Two instances over one PostgreSQL: a change made through one reaches the other's
    /// subscribers (LISTEN/NOTIFY).
    async fn changes_cross_instances_on_postgres() {
        use crate::helpers::Backend;
        let a = TestApp::spawn(Backend::Postgres).await;
        let db_url = a.database_url.clone();
        let b = TestApp::spawn_with(Backend::Postgres, |c| {
            c.database.url = secrecy::SecretString::from(db_url);
            // B's own sandbox does not know A's orders: keep its poller out of the way.
            c.daoway.poll_interval_ms = 3_600_000;
        })
        .await;
        let mut on_b = b.subscribe(SUB, json!({})).await;
        let shop = find_shop(&a, plain_shop).await;
        let o = a
            .gql_ok(CREATE_ORDER, json!({"input": order_input(&shop, None)}))
            .await["createOrder"]["order"]
            .clone();
        let c = on_b.next(10).await["data"]["orderStatusChanged"].clone();
        assert_eq!(c["orderId"], o["id"]);
        assert_eq!(c["newStatus"], "PENDING");
        assert_eq!(
            c["order"]["status"], "PENDING",
            "B reads the order from the shared database"
        );
        on_b.assert_quiet(300).await;
    }
}

crate::postgres_only! {
    /// PostgreSQL: a transaction writing an applied event draws its id only after every
    /// earlier one has committed, so event ids commit in id order and a subscriber resuming
    /// after the last id it saw cannot miss a smaller id that committed later.
    async fn event_ids_commit_in_id_order_on_postgres() {
        use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};
        let app = TestApp::spawn(crate::helpers::Backend::Postgres).await;
        let draw = "SELECT nextval(pg_get_serial_sequence('order_event', 'id'))";
        let id_of = |row: Option<sea_orm::QueryResult>| -> i64 {
            row.expect("a row").try_get_by_index(0).expect("an id")
        };
        let db = Database::connect(app.database_url.as_str()).await.expect("connect");
        let first = db.begin().await.expect("begin");
        orderhub::events::pg::order_event_commit(&first).await.expect("lock");
        let first_id = id_of(first.query_one_raw(Statement::from_string(db.get_database_backend(), draw)).await.expect("draw"));

        let url = app.database_url.clone();
        let second = tokio::spawn(async move {
            let db = Database::connect(url.as_str()).await.expect("connect");
            let txn = db.begin().await.expect("begin");
            orderhub::events::pg::order_event_commit(&txn).await.expect("lock");
            let id = txn
                .query_one_raw(Statement::from_string(db.get_database_backend(), draw))
                .await
                .expect("draw");
            txn.commit().await.expect("commit");
            id
        });
        // The second waits on the lock, before drawing an id, while the first is open.
        crate::helpers::wait_until(
            "the second transaction to wait on the event-order lock",
            std::time::Duration::from_secs(10),
            || async {
                let waiting = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    ))
                    .await
                    .map_err(|e| e.to_string())?;
                let n: i64 = waiting.and_then(|r| r.try_get_by_index(0).ok()).unwrap_or(0);
                if n == 1 { Ok(()) } else { Err(format!("{n} waiting")) }
            },
        )
        .await;
        assert!(!second.is_finished());
        first.commit().await.expect("commit");
        let second_id = id_of(second.await.expect("second"));
        assert!(second_id > first_id, "{second_id} after {first_id}");
    }
}
