//! Daoway's cancel notification: delivered by the sandbox (with duplicates and losses), and
//! malformed or forged bodies refused with the platform's reply shape, changing nothing.

use serde_json::{Value, json};

use crate::{
    helpers::{CREATE_ORDER, TestApp, find_shop, order_input, plain_shop},
    on_every_backend,
};

const ORDER: &str = "query($id: ID!) { order(id: $id) { status rawStatus cancelReason events { toStatus rawStatus source applied } } }";

async fn place(app: &TestApp) -> Value {
    let shop = find_shop(app, plain_shop).await;
    let p = app
        .gql_ok(CREATE_ORDER, json!({"input": order_input(&shop, None)}))
        .await;
    p["createOrder"]["order"].clone()
}

async fn order(app: &TestApp, id: &Value) -> Value {
    app.gql_ok(ORDER, json!({"id": id})).await["order"].clone()
}

async fn cancellation_arrives_once_even_when_sent_twice(app: TestApp) {
    let o = place(&app).await;
    let ext = o["externalId"].as_str().unwrap().to_owned();
    app.control_put("/_control/faults", json!({"duplicateCallbackRate": 1.0}))
        .await;
    let r = app
        .control_post(
            &format!("/_control/orders/{ext}/cancel"),
            json!({"reason": "师傅临时有事"}),
        )
        .await;
    assert!(r.status().is_success());
    let done = app
        .eventually(10, || async {
            let v = app.control_get(&format!("/_control/orders/{ext}")).await;
            (v["notification"]["delivered"] == true).then_some(v)
        })
        .await;
    assert!(done["notification"]["attempts"].as_u64().unwrap() >= 1);
    let got = order(&app, &o["id"]).await;
    assert_eq!(got["status"], "CANCELLED");
    assert_eq!(got["cancelReason"], "师傅临时有事");
    // Wait until the sandbox has had its answer to the duplicate too (it records a POST's
    // outcome once we replied), then check that it changed nothing.
    app.eventually(10, || async {
        let v = app.control_get(&format!("/_control/orders/{ext}")).await;
        (v["notification"]["duplicateSent"] == true).then_some(())
    })
    .await;
    let got = order(&app, &o["id"]).await;
    let cancels: Vec<&Value> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["toStatus"] == "CANCELLED" && e["applied"] == true)
        .collect();
    // Applied once. (When the poller saw the cancellation before the notification came,
    // the notification is in the timeline too, as news that moved nothing.)
    assert_eq!(
        cancels.len(),
        1,
        "one cancellation applied in the timeline: {got:#}"
    );
    assert!(
        app.metric("orderhub_callbacks_total{provider=\"DAOWAY\",outcome=\"duplicate\"}")
            .await
            >= 1.0
    );
}
on_every_backend!(
    duplicate_cancellation_test,
    cancellation_arrives_once_even_when_sent_twice
);

async fn lost_cancellation_is_found_by_polling(app: TestApp) {
    let o = place(&app).await;
    let ext = o["externalId"].as_str().unwrap().to_owned();
    app.control_put("/_control/faults", json!({"dropCallbackRate": 1.0}))
        .await;
    app.control_post(&format!("/_control/orders/{ext}/cancel"), json!({}))
        .await;
    let got = app
        .eventually(10, || async {
            let v = order(&app, &o["id"]).await;
            (v["status"] == "CANCELLED").then_some(v)
        })
        .await;
    let last = got["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["source"], "POLL");
    assert_eq!(last["rawStatus"], "CANCELLED");
}
on_every_backend!(
    lost_cancellation_test,
    lost_cancellation_is_found_by_polling
);

async fn status_moves_are_polled(app: TestApp) {
    let o = place(&app).await;
    let ext = o["externalId"].as_str().unwrap().to_owned();
    app.control_post(&format!("/_control/orders/{ext}/confirm"), json!({}))
        .await;
    app.eventually(10, || async {
        (order(&app, &o["id"]).await["status"] == "ACCEPTED").then_some(())
    })
    .await;
    app.control_post(&format!("/_control/orders/{ext}/complete"), json!({}))
        .await;
    let got = app
        .eventually(10, || async {
            let v = order(&app, &o["id"]).await;
            (v["status"] == "COMPLETED").then_some(v)
        })
        .await;
    let path: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["toStatus"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["PENDING", "ACCEPTED", "COMPLETED"]);
    // A cancel notification for a completed order is not what Daoway's order query says:
    // refused (the notification is unsigned), and nothing moves or is recorded.
    let events = got["events"].as_array().unwrap().len();
    let r = notify(
        &app,
        &form(&ext, "90.00"),
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(r.0, 409, "{}", r.1);
    assert_ne!(r.1["result"], "0");
    let got = order(&app, &o["id"]).await;
    assert_eq!(got["status"], "COMPLETED");
    assert_eq!(got["events"].as_array().unwrap().len(), events);
}
on_every_backend!(status_moves_are_polled_test, status_moves_are_polled);

fn form(order_id: &str, money: &str) -> String {
    serde_urlencoded::to_string([
        ("channel", "orderhub"),
        ("orderId", order_id),
        ("consumedMoney", money),
        ("contactPerson", "张三"),
        ("phone", "13800138000"),
        ("reason", "用户取消"),
    ])
    .unwrap()
}

async fn notify(app: &TestApp, body: &str, content_type: &str) -> (u16, Value) {
    // A fresh connection each time: an oversized body makes the server close its connection.
    let r = reqwest::Client::new()
        .post(format!("{}/callbacks/daoway/cancel", app.base))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn bad_notifications_change_nothing(app: TestApp) {
    let o = place(&app).await;
    let ext = o["externalId"].as_str().unwrap().to_owned();
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "application/json"),
        ("%%%=&&".into(), "application/x-www-form-urlencoded"),
        (
            format!("channel=orderhub&orderId={ext}"),
            "application/x-www-form-urlencoded",
        ),
        (form(&ext, "abc"), "application/x-www-form-urlencoded"),
        (
            form(&ext, "90").replace("channel=orderhub", "channel=someone-else"),
            "application/x-www-form-urlencoded",
        ),
        (
            form("no-such-order", "90"),
            "application/x-www-form-urlencoded",
        ),
        (
            json!({"channel": "orderhub", "orderId": ext, "consumedMoney": 12}).to_string(),
            "application/json",
        ),
        ("x".repeat(64 * 1024), "application/x-www-form-urlencoded"),
    ];
    for (body, ct) in cases {
        let (status, reply) = notify(&app, &body, ct).await;
        assert!(
            status >= 400,
            "{status} for {}",
            &body[..body.len().min(80)]
        );
        if status != 413 {
            assert_ne!(reply["result"], "0", "{reply}");
            assert!(
                reply["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{reply}"
            );
        }
    }
    let got = order(&app, &o["id"]).await;
    assert_eq!(got["status"], "PENDING");
    assert_eq!(got["events"].as_array().unwrap().len(), 1);

    // A well-formed notification Daoway does not confirm (the order is not cancelled there) is
    // a forgery: refused, nothing changed.
    let good = json!({"channel": "orderhub", "orderId": ext, "consumedMoney": "90", "contactPerson": "张三", "phone": "138", "reason": "用户取消"});
    let (status, _) = notify(&app, &good.to_string(), "application/json").await;
    assert_eq!(status, 409);
    assert_eq!(order(&app, &o["id"]).await["status"], "PENDING");

    // Once Daoway has cancelled it (its own notification lost), a JSON body is accepted, once.
    app.control_put("/_control/faults", json!({"dropCallbackRate": 1.0}))
        .await;
    let r = app
        .control_post(
            &format!("/_control/orders/{ext}/cancel"),
            json!({"reason": "用户取消"}),
        )
        .await;
    assert!(r.status().is_success());
    for _ in 0..2 {
        let (status, reply) = notify(&app, &good.to_string(), "application/json").await;
        assert_eq!((status, reply["result"].as_str()), (200, Some("0")));
    }
    let got = order(&app, &o["id"]).await;
    assert_eq!(got["status"], "CANCELLED");
    // The status poller may see the cancellation before the notification arrives; the
    // notification then leaves an unapplied record, so count what was applied.
    let applied = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["applied"] == true)
        .count();
    assert_eq!(applied, 2, "{got:#}");
}
on_every_backend!(bad_notifications_test, bad_notifications_change_nothing);
