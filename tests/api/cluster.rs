//! A cluster of instances over one PostgreSQL database: each platform is polled by one
//! instance per interval (a lease in the database), and the work moves to another instance
//! when its holder stops.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use secrecy::SecretString;
use serde_json::json;

use crate::{
    helpers::{Backend, CREATE_ORDER, TestApp, find_shop, order_input, plain_shop, wait_until},
    postgres_only,
};

/// A second instance over `a`'s database that has Daoway only, reached through `a`'s Daoway
/// sandbox (as a real deployment reaches the platform), configured further by `tweak`.
async fn daoway_beside(a: &TestApp, tweak: impl FnOnce(&mut orderhub::Config)) -> TestApp {
    let db_url = a.database_url.clone();
    let daoway = a.sandbox("/");
    TestApp::spawn_with(Backend::Postgres, |c| {
        c.database.url = SecretString::from(db_url);
        c.sandbox.enabled = false;
        c.dada.enabled = false;
        c.wechat.enabled = false;
        c.daojia58.enabled = false;
        c.daoway.base_url = Some(daoway);
        c.daoway.channel = Some("orderhub".into());
        c.daoway.user_name = Some("apitest".into());
        c.daoway.password = Some(SecretString::from("api123".to_owned()));
        tweak(c);
    })
    .await
}

/// The Daoway poll lease: its holder and how many rounds were polled under it.
async fn poll_lease(db: &DatabaseConnection) -> Option<(String, i64)> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT holder, renewals FROM lease WHERE name = 'poll:DAOWAY'",
        ))
        .await
        .ok()??;
    Some((row.try_get_by_index(0).ok()?, row.try_get_by_index(1).ok()?))
}

/// How often Daoway was asked for the status of these orders, in all.
async fn status_queries(app: &TestApp, external_ids: &[String]) -> u64 {
    let mut total = 0;
    for id in external_ids {
        let v = app.control_get(&format!("/_control/orders/{id}")).await;
        total += v["statusQueries"].as_u64().unwrap_or(0);
    }
    total
}

async fn wait_rounds(db: &DatabaseConnection, past: i64) -> (String, i64) {
    wait_until(
        "the Daoway poller to run more rounds",
        Duration::from_secs(20),
        || async {
            match poll_lease(db).await {
                Some((holder, n)) if n >= past => Ok((holder, n)),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
}

postgres_only! {
    @workers 4,
    /// Two instances, both configured to poll Daoway every 200 ms: the platform is asked
    /// once per round, not twice; when the holder stops, the other takes the polling over.
    async fn a_cluster_polls_each_platform_once() {
        let a = TestApp::spawn(Backend::Postgres).await;
        let b = daoway_beside(&a, |c| c.daoway.poll_interval_ms = 200).await;
        let db = Database::connect(a.database_url.as_str()).await.expect("connect");

        // Three orders the platform has not confirmed: every round asks about each.
        let shop = find_shop(&a, plain_shop).await;
        let mut external = Vec::new();
        for n in 0..3 {
            let key = format!("cluster-{n}");
            let p = a
                .gql_ok(CREATE_ORDER, json!({"input": order_input(&shop, Some(&key))}))
                .await;
            let id = &p["createOrder"]["order"]["externalId"];
            external.push(id.as_str().expect("externalId").to_owned());
        }
        let (_, start) = wait_rounds(&db, 1).await;
        let asked_before = status_queries(&a, &external).await;
        let (holder, end) = wait_rounds(&db, start + 10).await;
        let asked = status_queries(&a, &external).await - asked_before;
        let rounds = u64::try_from(end - start).expect("rounds");
        // One instance: 3 queries a round (a round may be under way at either reading).
        assert!(
            asked <= 3 * (rounds + 1) && asked + 3 >= 3 * rounds,
            "{asked} status queries in {rounds} rounds: more than one instance polled"
        );

        // The second instance stops (giving the lease up if it held it): the first polls
        // from then on, round after round.
        let _ = holder;
        b.stop().await;
        let (_, now) = poll_lease(&db).await.expect("the lease");
        let (first, n) = wait_rounds(&db, now + 2).await;
        let (later, _) = wait_rounds(&db, n + 3).await;
        assert_eq!(first, later, "one holder once the second instance is gone");
    }
}

/// Ends every `LISTEN` connection of the database (the event listeners of both instances);
/// how many it ended.
async fn cut_listeners(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        ))
        .await
        .expect("terminate")
        .expect("a row");
    row.try_get_by_index(0).expect("a count")
}

postgres_only! {
    @workers 4,
    /// PostgreSQL: a change another instance commits while this instance's listener is cut
    /// off (its notification lost) still reaches this instance's live subscriber, once, when
    /// the listener is back.
    async fn a_notification_lost_in_a_reconnect_still_reaches_subscribers() {
        let a = TestApp::spawn(Backend::Postgres).await;
        let b = daoway_beside(&a, |_| {}).await;
        let db = Database::connect(a.database_url.as_str()).await.expect("connect");
        let shop = find_shop(&a, plain_shop).await;
        let mut sub = a
            .subscribe("subscription { orderStatusChanged { eventId orderId } }", json!({}))
            .await;
        wait_until("both listeners", Duration::from_secs(10), || async {
            let n = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query ILIKE 'LISTEN%'",
                ))
                .await
                .map_err(|e| e.to_string())?
                .and_then(|r| r.try_get_by_index::<i64>(0).ok())
                .unwrap_or(0);
            if n >= 2 { Ok(()) } else { Err(format!("{n} listening")) }
        })
        .await;
        assert!(cut_listeners(&db).await >= 1);
        // While a's listener is away (it waits a second before reconnecting): an order
        // through b, whose notification a never hears.
        let p = b
            .gql_ok(CREATE_ORDER, json!({"input": order_input(&shop, Some("gap-1"))}))
            .await;
        let order_id = p["createOrder"]["order"]["id"].clone();
        assert!(order_id.is_string(), "{p:#}");
        let got = sub.next(15).await;
        assert_eq!(got["data"]["orderStatusChanged"]["orderId"], order_id, "{got:#}");
        sub.assert_quiet(500).await;
    }
}

/// A second instance over `a`'s database with the courier networks only, reached through
/// `a`'s Dada and WeChat sandboxes with the sandboxes' own credentials.
async fn couriers_beside(a: &TestApp) -> TestApp {
    let db_url = a.database_url.clone();
    let base = a.base.clone();
    let defaults = orderhub::Config::default();
    let (dada, wx) = (defaults.sandbox.dada, defaults.sandbox.wechat);
    TestApp::spawn_with(Backend::Postgres, |c| {
        c.database.url = SecretString::from(db_url);
        c.sandbox.enabled = false;
        c.daoway.enabled = false;
        c.daojia58.enabled = false;
        c.dada.base_url = Some(format!("{base}/sandbox/dada"));
        c.dada.app_key = Some(dada.app_key.clone());
        c.dada.app_secret = Some(SecretString::from(dada.app_secret.clone()));
        c.dada.source_id = Some(dada.source_id.clone());
        c.dada.import_shops = Some(vec![]);
        c.wechat.base_url = Some(format!("{base}/sandbox/wechat"));
        c.wechat.appid = Some(wx.appid.clone());
        c.wechat.secret = Some(SecretString::from(wx.secret.clone()));
        c.wechat.token = Some(SecretString::from(wx.token.clone()));
        c.wechat.encoding_aes_key = Some(SecretString::from(wx.encoding_aes_key.clone()));
        c.wechat.safe_mode = wx.safe_mode;
        c.wechat.openid = wx.openids.first().cloned();
        c.wechat.companies = wx
            .companies
            .iter()
            .filter(|co| co.bound)
            .map(|co| orderhub::config::WechatCompanyConfig {
                delivery_id: co.delivery_id.clone(),
                shopid: co.shopid.clone(),
                app_secret: SecretString::from(co.app_secret.clone()),
                free_cancel_secs: (co.cancel_rule.free_secs_after_assign > 0)
                    .then_some(co.cancel_rule.free_secs_after_assign),
            })
            .collect();
        c.wechat.stores = Vec::new();
    })
    .await
}

postgres_only! {
    @workers 4,
    /// Two instances over one database, both running the plans' driver: every plan's steps
    /// happen once (one switch, one attempt per network, one race settlement), whichever
    /// instance dispatched it and whichever applied its news.
    async fn two_instances_drive_each_plan_once() {
        let a = TestApp::spawn(Backend::Postgres).await;
        let b = couriers_beside(&a).await;
        let dada = a.dada_shop("11047059").await;
        let wechat = a.wechat_shop("wx_sh_001").await;
        let p = crate::dispatch::set_policy(&a, crate::dispatch::dada_then_sftc(&dada, &wechat, 1))
            .await;
        assert_eq!(p["userErrors"], json!([]), "{p}");
        // SFTC's couriers accept 300 ms after dispatch; Dada's never.
        a.dada_put("/_control/acceptance", json!({"minMs": 1, "maxMs": 1, "neverRate": 1.0}))
            .await;
        a.wechat_put(
            "/_control/companies/SFTC",
            json!({"acceptance": {"minMs": 300, "maxMs": 300}}),
        )
        .await;
        let q = "mutation($input: DispatchDeliveryInput!) { dispatchDelivery(input: $input) {
            order { id } userErrors { message } } }";
        let mut firsts = Vec::new();
        for i in 0..6 {
            let app = if i % 2 == 0 { &a } else { &b };
            let v = app
                .gql_ok(q, json!({"input": {"strategy": "AUTO",
                    "delivery": crate::dispatch::delivery(&dada)}}))
                .await;
            let id = v["dispatchDelivery"]["order"]["id"].as_str();
            firsts.push(id.unwrap_or_else(|| panic!("{v}")).to_owned());
        }
        let plan = "query($id: ID!) { order(id: $id) { dispatchPlan { state
            attempts { provider status events { kind } } } } }";
        for id in &firsts {
            let p = a
                .eventually(30, || async {
                    let v = a.gql_ok(plan, json!({ "id": id })).await;
                    let p = v["order"]["dispatchPlan"].clone();
                    (p["state"] == "WON").then_some(p)
                })
                .await;
            let attempts = p["attempts"].as_array().unwrap();
            assert_eq!(attempts.len(), 2, "one switch, done once: {p:#}");
            assert_eq!(attempts[0]["status"], "CANCELLED", "{p:#}");
            assert_eq!(attempts[1]["provider"], "WECHAT", "{p:#}");
            let count = |a: &serde_json::Value, kind: &str| {
                a["events"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).count()
            };
            assert_eq!(count(&attempts[1], "NETWORK_SWITCHED"), 1, "{p:#}");
            assert_eq!(count(&attempts[0], "DISPATCH_PLANNED"), 1, "{p:#}");
        }
        b.stop().await;
    }
}
