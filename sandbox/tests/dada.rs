//! The Dada sandbox from the outside: signed requests through its router, callbacks and message
//! pushes to real listeners on 127.0.0.1, faults and the schedule.
//!
//! Requests are signed with the sandbox's `sign` module (pinned by the published vectors in its
//! unit tests, and by `published_vectors_pass_the_server` here); callback signatures are checked
//! with MD5 computed right here from the documented rule, not with the sandbox's code.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::State,
    http::{Request, StatusCode},
    routing::post,
};
use md5::{Digest, Md5};
use orderhub_sandbox::dada::{
    DadaSandbox, DadaSandboxConfig,
    sign::{SignedFields, request_signature},
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const KEY: &str = "dada_sandbox_key";
const SECRET: &str = "dada_sandbox_secret";
const SOURCE: &str = "73753";
const SHOP: &str = "11047059";
const START_BALANCE: i64 = 1_000_000;
/// Where orders whose callbacks nobody listens to send them (no background task runs there).
const NOWHERE: &str = "http://127.0.0.1:9/callback";

// ---------------------------------------------------------------- helpers

/// No automatic moves and quick retries: tests decide when things happen.
fn quiet() -> DadaSandboxConfig {
    DadaSandboxConfig {
        accept_after_secs: None,
        fetch_after_secs: None,
        finish_after_secs: None,
        callback_initial_backoff_ms: 20,
        ..DadaSandboxConfig::default()
    }
}

struct Sim {
    sandbox: DadaSandbox,
    router: Router,
}

impl Sim {
    fn new(config: DadaSandboxConfig) -> Self {
        let sandbox = DadaSandbox::new(config);
        let router = sandbox.router();
        Sim { sandbox, router }
    }

    fn quiet() -> Self {
        Sim::new(quiet())
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }

    /// POSTs a raw envelope.
    async fn post_envelope(&self, path: &str, envelope: &Value) -> Value {
        let request = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(envelope.to_string()))
            .expect("request");
        self.send(request).await.1
    }

    /// A correctly signed call as `source_id`.
    async fn call_as(&self, source_id: &str, path: &str, body: &str) -> Value {
        self.post_envelope(path, &envelope(KEY, SECRET, body, source_id))
            .await
    }

    /// A correctly signed call as the test merchant.
    async fn call(&self, path: &str, body: Value) -> Value {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        self.call_as(SOURCE, path, &body).await
    }

    async fn control(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(format!("/_control{path}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        self.send(request).await
    }

    async fn order_view(&self, origin_id: &str) -> Value {
        let (status, view) = self
            .control("GET", &format!("/orders/{origin_id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        view
    }

    async fn act(&self, origin_id: &str, action: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.control("POST", &format!("/orders/{origin_id}/{action}"), body)
            .await
    }

    async fn balance(&self) -> i64 {
        self.control("GET", "/balance", None).await.1["balanceFen"]
            .as_i64()
            .expect("balanceFen")
    }

    async fn set_faults(&self, faults: Value) {
        let (status, body) = self.control("PUT", "/faults", Some(faults)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn add(&self, origin_id: &str) -> Value {
        let answer = self
            .call("/api/order/addOrder", order_body(origin_id, NOWHERE))
            .await;
        assert_ok(&answer);
        answer
    }

    async fn sim(&self, path: &str, origin_id: &str) -> Value {
        self.call(
            &format!("/api/order/{path}"),
            json!({ "order_id": origin_id }),
        )
        .await
    }

    async fn status_of(&self, origin_id: &str) -> i64 {
        let answer = self
            .call("/api/order/status/query", json!({ "order_id": origin_id }))
            .await;
        assert_ok(&answer);
        answer["result"]["statusCode"].as_i64().expect("statusCode")
    }
}

fn envelope(app_key: &str, secret: &str, body: &str, source_id: &str) -> Value {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = request_signature(
        secret,
        &SignedFields {
            app_key,
            body,
            format: "json",
            source_id,
            timestamp: &timestamp,
            v: "1.0",
        },
    );
    json!({
        "app_key": app_key,
        "body": body,
        "format": "json",
        "source_id": source_id,
        "timestamp": timestamp,
        "v": "1.0",
        "signature": signature,
    })
}

/// A valid addOrder body for the test shop, receiver at the shop's door unless changed.
fn order_body(origin_id: &str, callback: &str) -> Value {
    json!({
        "shop_no": SHOP,
        "origin_id": origin_id,
        "city_code": "021",
        "cargo_price": 100,
        "is_prepay": 0,
        "receiver_name": "测试",
        "receiver_address": "上海市浦东新区陆家嘴环路1000号",
        "receiver_phone": 13800138000u64,
        "receiver_lat": 31.2216,
        "receiver_lng": 121.5447,
        "callback": callback,
        "cargo_weight": 1,
    })
}

fn code(answer: &Value) -> i64 {
    answer["code"].as_i64().unwrap_or(i64::MIN)
}

#[track_caller]
fn assert_ok(answer: &Value) {
    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(code(answer), 0, "{answer}");
}

#[track_caller]
fn assert_fail(answer: &Value, expected: i64) {
    assert_eq!(answer["status"], "fail", "{answer}");
    assert_eq!(code(answer), expected, "{answer}");
    assert_eq!(answer["errorCode"].as_i64(), Some(expected), "{answer}");
    assert!(
        answer["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{answer}"
    );
}

/// The documented callback rule, computed here independently of the sandbox.
fn documented_callback_signature(callback: &Value) -> String {
    let as_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut values = [
        as_text(&callback["client_id"]),
        as_text(&callback["order_id"]),
        as_text(&callback["update_time"]),
    ];
    values.sort();
    hex::encode(Md5::digest(values.concat().as_bytes()))
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A merchant's callback and message endpoints on 127.0.0.1: the first `fail_first` POSTs to
/// each path are refused with HTTP 500, later ones recorded and answered `{"status":"ok"}`.
#[derive(Clone)]
struct Listener {
    base: String,
    callbacks: Arc<Mutex<Vec<Value>>>,
    messages: Arc<Mutex<Vec<Value>>>,
    callback_failures_left: Arc<AtomicUsize>,
    message_failures_left: Arc<AtomicUsize>,
    callback_posts: Arc<AtomicUsize>,
}

impl Listener {
    async fn start(fail_callbacks: usize, fail_messages: usize) -> Self {
        let listener = Listener {
            base: String::new(),
            callbacks: Arc::default(),
            messages: Arc::default(),
            callback_failures_left: Arc::new(AtomicUsize::new(fail_callbacks)),
            message_failures_left: Arc::new(AtomicUsize::new(fail_messages)),
            callback_posts: Arc::default(),
        };
        let app = Router::new()
            .route("/callback", post(on_callback))
            .route("/message", post(on_message))
            .with_state(listener.clone());
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = tcp.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(tcp, app).await;
        });
        Listener {
            base: format!("http://{addr}"),
            ..listener
        }
    }

    fn callback_url(&self) -> String {
        format!("{}/callback", self.base)
    }

    fn callbacks(&self) -> Vec<Value> {
        self.callbacks.lock().expect("lock").clone()
    }

    fn statuses(&self) -> Vec<i64> {
        self.callbacks()
            .iter()
            .filter_map(|c| c["order_status"].as_i64())
            .collect()
    }

    fn messages(&self) -> Vec<Value> {
        self.messages.lock().expect("lock").clone()
    }
}

fn take_failure(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

async fn on_callback(
    State(l): State<Listener>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    l.callback_posts.fetch_add(1, Ordering::SeqCst);
    if take_failure(&l.callback_failures_left) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "status": "fail" })),
        );
    }
    l.callbacks.lock().expect("lock").push(body);
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

async fn on_message(
    State(l): State<Listener>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if take_failure(&l.message_failures_left) {
        return (StatusCode::OK, Json(json!({ "status": "fail" })));
    }
    l.messages.lock().expect("lock").push(body);
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

// ---------------------------------------------------------------- signing and the envelope

#[tokio::test]
async fn published_vectors_pass_the_server() {
    // Vector 1 exactly as printed, timestamp as a number: the signature is accepted and the call
    // reaches the order lookup.
    let sim = Sim::new(DadaSandboxConfig {
        app_key: "123456".to_owned(),
        app_secret: "abcdefg123".to_owned(),
        ..quiet()
    });
    let mut vector = json!({
        "app_key": "123456",
        "body": "{\"order_id\":\"20170301000001\"}",
        "format": "json",
        "source_id": "73753",
        "timestamp": 1488363493u64,
        "v": "1.0",
        "signature": "71CEE2D6544277940D8C72979E71D0E1",
    });
    assert_fail(
        &sim.post_envelope("/api/order/status/query", &vector).await,
        2005,
    );
    vector["timestamp"] = json!("1488363493");
    assert_fail(
        &sim.post_envelope("/api/order/status/query", &vector).await,
        2005,
    );
    vector["signature"] = json!("71cee2d6544277940d8c72979e71d0e1");
    assert_fail(
        &sim.post_envelope("/api/order/status/query", &vector).await,
        2003,
    );

    let sim = Sim::new(DadaSandboxConfig {
        app_key: "app_key".to_owned(),
        app_secret: "appSecret".to_owned(),
        ..quiet()
    });
    let mut vector2 = vector.clone();
    vector2["app_key"] = json!("app_key");
    vector2["signature"] = json!("B3C14758F4AF52AE8AA0D4CD1493B137");
    assert_fail(
        &sim.post_envelope("/api/order/status/query", &vector2).await,
        2005,
    );

    let sim = Sim::new(DadaSandboxConfig {
        app_key: "dada_test_key".to_owned(),
        app_secret: "test_secret".to_owned(),
        ..quiet()
    });
    let base = |body: &str, source_id: &str, signature: &str| {
        json!({
            "app_key": "dada_test_key", "body": body, "format": "json", "source_id": source_id,
            "timestamp": "1700000000", "v": "1.0", "signature": signature,
        })
    };
    let empty = base("", "73753", "253F84CD5E35E7A547280E553638537B");
    assert_ok(&sim.post_envelope("/api/cityCode/list", &empty).await);
    // Registration with source_id "": signed as `source_id` + "", so it reaches field checks.
    let register = base(
        r#"{"mobile":"13800000000"}"#,
        "",
        "3CC6A601C5680C7E178C85CA8C8B8BAA",
    );
    assert_fail(
        &sim.post_envelope("/merchantApi/merchant/add", &register)
            .await,
        1993,
    );
    let cancel = base(
        r#"{"order_id":"T1","cancel_reason_id":10000,"cancel_reason":"顾客取消"}"#,
        "73753",
        "D3A2472936511FFC90836ED0B3C3942F",
    );
    assert_fail(
        &sim.post_envelope("/api/order/formalCancel", &cancel).await,
        2005,
    );
    // The same body re-serialised with a space changes the digest: the server signs what it got.
    let mut respaced = cancel.clone();
    respaced["body"] =
        json!(r#"{"order_id": "T1","cancel_reason_id":10000,"cancel_reason":"顾客取消"}"#);
    assert_fail(
        &sim.post_envelope("/api/order/formalCancel", &respaced)
            .await,
        2003,
    );
}

#[tokio::test]
async fn envelope_errors() {
    let sim = Sim::quiet();
    let good = envelope(KEY, SECRET, "", SOURCE);
    let post = |content_type: Option<&str>, body: String| {
        let mut builder = Request::post("/api/cityCode/list");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::from(body)).expect("request")
    };

    let (status, answer) = sim.send(post(Some("text/plain"), good.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_fail(&answer, 1999);
    assert_fail(&sim.send(post(None, good.to_string())).await.1, 1999);
    assert_ok(
        &sim.send(post(
            Some("application/json; charset=utf-8"),
            good.to_string(),
        ))
        .await
        .1,
    );
    assert_fail(
        &sim.send(post(Some("application/json"), "{not json".to_owned()))
            .await
            .1,
        2419,
    );

    let without = |key: &str| {
        let mut e = good.clone();
        e.as_object_mut().expect("object").remove(key);
        e
    };
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &without("app_key"))
            .await,
        1993,
    );
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &without("timestamp"))
            .await,
        2009,
    );
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &without("signature"))
            .await,
        2010,
    );
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &without("body"))
            .await,
        1995,
    );
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &without("v")).await,
        1993,
    );

    assert_fail(
        &sim.post_envelope(
            "/api/cityCode/list",
            &envelope("other_key", SECRET, "", SOURCE),
        )
        .await,
        2001,
    );
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &envelope(KEY, "wrong", "", SOURCE))
            .await,
        2003,
    );
    let mut tampered = envelope(KEY, SECRET, r#"{"order_id":"A"}"#, SOURCE);
    tampered["body"] = json!(r#"{"order_id":"B"}"#);
    assert_fail(
        &sim.post_envelope("/api/order/status/query", &tampered)
            .await,
        2003,
    );

    // Wrong v and format, correctly signed, are refused on their own merits.
    let resigned = |field: &str, value: &str| {
        let timestamp = "1700000000";
        let (format, v) = if field == "v" {
            ("json", value)
        } else {
            (value, "1.0")
        };
        let signature = request_signature(
            SECRET,
            &SignedFields {
                app_key: KEY,
                body: "",
                format,
                source_id: SOURCE,
                timestamp,
                v,
            },
        );
        json!({ "app_key": KEY, "body": "", "format": format, "source_id": SOURCE, "timestamp": timestamp, "v": v, "signature": signature })
    };
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &resigned("v", "2.0"))
            .await,
        1996,
    );
    assert_fail(
        &sim.post_envelope("/api/cityCode/list", &resigned("format", "xml"))
            .await,
        1994,
    );

    // A signed body that is not JSON.
    assert_fail(
        &sim.call_as(SOURCE, "/api/order/status/query", "{oops")
            .await,
        2419,
    );
    // Unknown merchant: 2131 in the test environment, 2002 in production.
    assert_fail(&sim.call_as("99999", "/api/cityCode/list", "").await, 2131);
    let production = Sim::new(DadaSandboxConfig {
        test_environment: false,
        ..quiet()
    });
    assert_fail(
        &production.call_as("99999", "/api/cityCode/list", "").await,
        2002,
    );
}

// ---------------------------------------------------------------- orders

#[tokio::test]
async fn add_order_prices_debits_and_reports() {
    let sim = Sim::quiet();
    // At the shop's door: the base fee only.
    let answer = sim.add("A-1").await;
    let result = &answer["result"];
    assert_eq!(result["distance"], 0);
    assert_eq!(result["deliverFee"], 10);
    assert_eq!(result["fee"], 10);
    assert_eq!(result["couponFee"], 0);
    assert_eq!(result["tips"], 0);
    assert_eq!(result["insuranceFee"], 0);
    assert_eq!(sim.balance().await, START_BALANCE - 1000);

    // Farther, heavier, insured, tipped, direct: every part of the model.
    let mut body = order_body("A-2", NOWHERE);
    body["receiver_lng"] = json!(121.4737);
    body["receiver_lat"] = json!(31.2304);
    body["cargo_weight"] = json!(7.2);
    body["is_use_insurance"] = json!(1);
    body["tips"] = json!(1.5);
    body["is_direct_delivery"] = json!(1);
    body["is_finish_code_needed"] = json!(1);
    let answer = sim.call("/api/order/addOrder", body).await;
    assert_ok(&answer);
    let r = &answer["result"];
    let distance = r["distance"].as_u64().expect("distance");
    assert!((6_000..8_000).contains(&distance), "{r}");
    let extra_km = (distance - 3_000).div_ceil(1_000) as i64;
    let deliver_fen = 1000 + extra_km * 100 + 3 * 50 + 500;
    assert_eq!(
        (r["deliverFee"].as_f64().expect("fee") * 100.0).round() as i64,
        deliver_fen
    );
    assert_eq!(r["tips"], 1.5);
    assert_eq!(r["insuranceFee"], 1);
    let total = deliver_fen + 150 + 100;
    assert_eq!(sim.balance().await, START_BALANCE - 1000 - total);

    let detail = sim
        .call("/api/order/status/query", json!({ "order_id": "A-2" }))
        .await;
    assert_ok(&detail);
    let d = &detail["result"];
    assert_eq!(d["orderId"], "A-2");
    assert_eq!(d["statusCode"], 1);
    assert_eq!(d["statusMsg"], "待接单");
    assert_eq!(d["transporterName"], "");
    assert_eq!(d["transporterLat"], "");
    assert_eq!(d["acceptTime"], "");
    assert_eq!(d["cancelTime"], "");
    assert_eq!(d["distance"].as_u64(), Some(distance));
    assert_eq!(
        (d["actualFee"].as_f64().expect("actualFee") * 100.0).round() as i64,
        total
    );
    assert_eq!(d["deductFee"], 0);
    assert_eq!(d["orderFinishCode"].as_str().map(str::len), Some(6));
    assert_eq!(d["createTime"].as_str().map(str::len), Some(19));

    // Accepted: the courier and a position appear.
    assert_ok(&sim.sim("accept", "A-2").await);
    let d = sim
        .call("/api/order/status/query", json!({ "order_id": "A-2" }))
        .await["result"]
        .clone();
    assert_eq!(d["statusCode"], 2);
    assert!(
        d["transporterName"].as_str().is_some_and(|n| !n.is_empty()),
        "{d}"
    );
    assert!(
        d["transporterPhone"]
            .as_str()
            .is_some_and(|n| n.len() == 11),
        "{d}"
    );
    assert!(
        d["transporterLng"]
            .as_str()
            .is_some_and(|n| n.parse::<f64>().is_ok()),
        "{d}"
    );
    assert_eq!(d["acceptTime"].as_str().map(str::len), Some(19));

    // The callbacks are queued with the documented signature.
    let view = sim.order_view("A-2").await;
    let callbacks = view["callbacks"].as_array().expect("callbacks");
    assert_eq!(callbacks.len(), 2);
    for c in callbacks {
        let body = &c["body"];
        assert_eq!(
            body["signature"].as_str(),
            Some(documented_callback_signature(body).as_str())
        );
        assert_eq!(body["order_id"], "A-2");
        assert_eq!(body["client_id"], view["clientId"]);
        assert_eq!(c["delivered"], false);
    }
    assert_eq!(callbacks[1]["body"]["order_status"], 2);
    assert!(
        callbacks[1]["body"]["dm_id"]
            .as_i64()
            .is_some_and(|id| id > 0)
    );
    assert_eq!(callbacks[1]["body"]["finish_code"], view["finishCode"]);

    assert_fail(
        &sim.call("/api/order/status/query", json!({ "order_id": "nope" }))
            .await,
        2005,
    );
    assert_fail(&sim.call("/api/order/status/query", json!({})).await, 1993);
}

#[tokio::test]
async fn add_order_field_errors() {
    let sim = Sim::quiet();
    let cases: &[(&str, Value, i64)] = &[
        ("origin_id", json!(""), 2104),
        ("shop_no", json!(""), 1993),
        ("city_code", json!(""), 2126),
        ("cargo_price", Value::Null, 2113),
        ("cargo_price", json!(-1), 2113),
        ("is_prepay", Value::Null, 1993),
        ("is_prepay", json!(3), 1994),
        ("receiver_name", json!(""), 2120),
        ("receiver_address", json!(" "), 2121),
        ("receiver_phone", Value::Null, 2122),
        ("callback", json!(""), 2123),
        ("cargo_weight", json!(0), 2103),
        ("cargo_weight", Value::Null, 2103),
        ("receiver_lat", json!("north"), 1994),
        ("origin_mark", json!("京东"), 1994),
        ("product_list", json!([{ "sku_name": "x" }]), 1994),
        ("shop_no", json!("00000000"), 2004),
        ("shop_no", json!("11047061"), 2132),
        ("city_code", json!("2068"), 2044),
    ];
    for (field, value, expected) in cases {
        let mut body = order_body("F-1", NOWHERE);
        if value.is_null() {
            body.as_object_mut().expect("object").remove(*field);
        } else {
            body[*field] = value.clone();
        }
        let answer = sim.call("/api/order/addOrder", body).await;
        assert_eq!(code(&answer), *expected, "{field} = {value}: {answer}");
    }
    // A landline instead of a mobile is enough.
    let mut body = order_body("F-2", NOWHERE);
    body.as_object_mut()
        .expect("object")
        .remove("receiver_phone");
    body["receiver_tel"] = json!("021-12345678");
    assert_ok(&sim.call("/api/order/addOrder", body).await);
    // Booking: at least 5 minutes ahead.
    let mut body = order_body("F-3", NOWHERE);
    body["delay_publish_time"] = json!(chrono::Utc::now().timestamp() + 60);
    assert_fail(&sim.call("/api/order/addOrder", body.clone()).await, 2468);
    body["delay_publish_time"] = json!(chrono::Utc::now().timestamp() + 600);
    assert_ok(&sim.call("/api/order/addOrder", body).await);
    // Nothing was debited for the refused ones.
    assert_eq!(sim.balance().await, START_BALANCE - 2000);
}

#[tokio::test]
async fn duplicates_balance_and_failed_waybills() {
    let sim = Sim::quiet();
    sim.add("D-1").await;
    assert_fail(
        &sim.call("/api/order/addOrder", order_body("D-1", NOWHERE))
            .await,
        2105,
    );

    // Insufficient balance: nothing changes.
    let (status, _) = sim
        .control("PUT", "/balance", Some(json!({ "balanceFen": 999 })))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_fail(
        &sim.call("/api/order/addOrder", order_body("D-2", NOWHERE))
            .await,
        2155,
    );
    assert_eq!(sim.balance().await, 999);
    assert_fail(
        &sim.call("/api/order/status/query", json!({ "order_id": "D-2" }))
            .await,
        2005,
    );
    sim.control(
        "PUT",
        "/balance",
        Some(json!({ "balanceFen": START_BALANCE - 1000 })),
    )
    .await;

    // A waybill that failed (1000) is refunded and may be sent again with addOrder.
    let (status, view) = sim.act("D-1", "fail", None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], 1000);
    assert_eq!(sim.balance().await, START_BALANCE);
    let failed = view["callbacks"]
        .as_array()
        .and_then(|c| c.last())
        .expect("callback")["body"]
        .clone();
    assert_eq!(failed["client_id"], "");
    // Milliseconds for 1000.
    assert!(
        failed["update_time"]
            .as_i64()
            .is_some_and(|t| t > 1_000_000_000_000),
        "{failed}"
    );
    assert_eq!(
        failed["signature"].as_str(),
        Some(documented_callback_signature(&failed).as_str())
    );
    assert_fail(
        &sim.call("/api/order/reAddOrder", order_body("D-1", NOWHERE))
            .await,
        2061,
    );
    assert_ok(
        &sim.call("/api/order/addOrder", order_body("D-1", NOWHERE))
            .await,
    );
    assert_eq!(sim.status_of("D-1").await, 1);
}

#[tokio::test]
async fn re_add_only_after_cancel_expire_or_return() {
    let sim = Sim::quiet();
    assert_fail(
        &sim.call("/api/order/reAddOrder", order_body("R-1", NOWHERE))
            .await,
        2005,
    );
    sim.add("R-1").await;
    assert_fail(
        &sim.call("/api/order/reAddOrder", order_body("R-1", NOWHERE))
            .await,
        2060,
    );
    assert_ok(&sim.sim("accept", "R-1").await);
    assert_fail(
        &sim.call("/api/order/reAddOrder", order_body("R-1", NOWHERE))
            .await,
        2061,
    );
    assert_ok(&sim.sim("fetch", "R-1").await);
    assert_fail(
        &sim.call("/api/order/reAddOrder", order_body("R-1", NOWHERE))
            .await,
        2061,
    );
    assert_ok(&sim.sim("cancel", "R-1").await);
    assert_eq!(sim.balance().await, START_BALANCE);
    let answer = sim
        .call("/api/order/reAddOrder", order_body("R-1", NOWHERE))
        .await;
    assert_ok(&answer);
    assert_eq!(answer["result"]["fee"], 10);
    assert_eq!(sim.status_of("R-1").await, 1);
    assert_eq!(sim.balance().await, START_BALANCE - 1000);
    let view = sim.order_view("R-1").await;
    let history: Vec<i64> = view["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["status"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(history, [1, 2, 3, 5, 1]);

    // Expired (7) and returned (10) may be re-sent too.
    sim.add("R-2").await;
    assert_ok(&sim.sim("expire", "R-2").await);
    assert_ok(
        &sim.call("/api/order/reAddOrder", order_body("R-2", NOWHERE))
            .await,
    );
    sim.add("R-3").await;
    for step in ["accept", "fetch", "delivery/abnormal/back"] {
        assert_ok(&sim.sim(step, "R-3").await);
    }
    assert_ok(
        &sim.call("/api/order/confirm/goods", json!({ "order_id": "R-3" }))
            .await,
    );
    assert_ok(
        &sim.call("/api/order/reAddOrder", order_body("R-3", NOWHERE))
            .await,
    );
}

#[tokio::test]
async fn quote_then_publish() {
    let sim = Sim::quiet();
    let quote = sim
        .call("/api/order/queryDeliverFee", order_body("Q-1", NOWHERE))
        .await;
    assert_ok(&quote);
    let no = quote["result"]["deliveryNo"]
        .as_str()
        .expect("deliveryNo")
        .to_owned();
    assert_eq!(quote["result"]["fee"], 10);
    // Quoting debits nothing and creates no order.
    assert_eq!(sim.balance().await, START_BALANCE);
    assert_fail(
        &sim.call("/api/order/status/query", json!({ "order_id": "Q-1" }))
            .await,
        2005,
    );

    assert_fail(&sim.call("/api/order/addAfterQuery", json!({})).await, 2078);
    assert_fail(
        &sim.call(
            "/api/order/addAfterQuery",
            json!({ "deliveryNo": "Dd-unknown" }),
        )
        .await,
        2062,
    );
    let published = sim
        .call("/api/order/addAfterQuery", json!({ "deliveryNo": no }))
        .await;
    assert_ok(&published);
    assert_eq!(published["result"]["deliveryNo"], no.as_str());
    assert_eq!(sim.balance().await, START_BALANCE - 1000);
    assert_eq!(sim.status_of("Q-1").await, 1);
    assert_fail(
        &sim.call("/api/order/addAfterQuery", json!({ "deliveryNo": no }))
            .await,
        2065,
    );
    // A live order cannot be quoted again.
    assert_fail(
        &sim.call("/api/order/queryDeliverFee", order_body("Q-1", NOWHERE))
            .await,
        2130,
    );

    // Expired after 3 minutes.
    let quote = sim
        .call("/api/order/queryDeliverFee", order_body("Q-2", NOWHERE))
        .await;
    let no = quote["result"]["deliveryNo"]
        .as_str()
        .expect("deliveryNo")
        .to_owned();
    let (status, _) = sim
        .control(
            "POST",
            &format!("/quotes/{no}/age"),
            Some(json!({ "secs": 181 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_fail(
        &sim.call("/api/order/addAfterQuery", json!({ "deliveryNo": no }))
            .await,
        2062,
    );

    // Published by addOrder in the meantime.
    let quote = sim
        .call("/api/order/queryDeliverFee", order_body("Q-3", NOWHERE))
        .await;
    let no = quote["result"]["deliveryNo"]
        .as_str()
        .expect("deliveryNo")
        .to_owned();
    sim.add("Q-3").await;
    assert_fail(
        &sim.call("/api/order/addAfterQuery", json!({ "deliveryNo": no }))
            .await,
        2063,
    );

    // Quotes go through the same field checks.
    let mut bad = order_body("Q-4", NOWHERE);
    bad["receiver_name"] = json!("");
    assert_fail(&sim.call("/api/order/queryDeliverFee", bad).await, 2120);
}

#[tokio::test]
async fn tips() {
    let sim = Sim::quiet();
    sim.add("T-1").await;
    let tip = |tips: Value| json!({ "order_id": "T-1", "tips": tips, "city_code": "021" });
    assert_fail(&sim.call("/api/order/addTip", tip(json!(0.5))).await, 2055);
    assert_ok(&sim.call("/api/order/addTip", tip(json!(1.5))).await);
    assert_eq!(sim.balance().await, START_BALANCE - 1000 - 150);
    assert_fail(&sim.call("/api/order/addTip", tip(json!(1.5))).await, 2057);
    assert_fail(&sim.call("/api/order/addTip", tip(json!(1.2))).await, 2057);
    assert_fail(
        &sim.call("/api/order/addTip", tip(json!(100.5))).await,
        2077,
    );
    // The tip is the latest amount: only the increase is debited.
    assert_ok(&sim.call("/api/order/addTip", tip(json!("3"))).await);
    assert_eq!(sim.balance().await, START_BALANCE - 1000 - 300);
    let detail = sim
        .call("/api/order/status/query", json!({ "order_id": "T-1" }))
        .await;
    assert_eq!(detail["result"]["tips"], 3);
    assert_fail(
        &sim.call("/api/order/addTip", json!({ "order_id": "T-1", "tips": 4 }))
            .await,
        2126,
    );
    assert_fail(
        &sim.call(
            "/api/order/addTip",
            json!({ "order_id": "nope", "tips": 4, "city_code": "021" }),
        )
        .await,
        2005,
    );
    sim.control("PUT", "/balance", Some(json!({ "balanceFen": 50 })))
        .await;
    assert_fail(&sim.call("/api/order/addTip", tip(json!(4))).await, 2155);
    assert_ok(&sim.sim("accept", "T-1").await);
    assert_fail(&sim.call("/api/order/addTip", tip(json!(5))).await, 2059);
}

#[tokio::test]
async fn cancel_reasons_and_statuses() {
    let sim = Sim::quiet();
    let reasons = sim.call("/api/order/cancel/reasons", Value::Null).await;
    assert_ok(&reasons);
    let ids: Vec<i64> = reasons["result"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 34, 35, 36, 37, 10000]);

    sim.add("C-1").await;
    let cancel = |id: Value, reason: Option<&str>| {
        let mut body = json!({ "order_id": "C-1", "cancel_reason_id": id });
        if let Some(r) = reason {
            body["cancel_reason"] = json!(r);
        }
        body
    };
    assert_fail(
        &sim.call("/api/order/formalCancel", json!({ "order_id": "C-1" }))
            .await,
        2048,
    );
    assert_fail(
        &sim.call("/api/order/formalCancel", cancel(json!(99), None))
            .await,
        2457,
    );
    assert_fail(
        &sim.call("/api/order/formalCancel", cancel(json!(10000), None))
            .await,
        2049,
    );
    assert_fail(
        &sim.call(
            "/api/order/formalCancel",
            json!({ "order_id": "x", "cancel_reason_id": 4 }),
        )
        .await,
        2005,
    );
    let answer = sim
        .call(
            "/api/order/formalCancel",
            cancel(json!(10000), Some("顾客不要了")),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer["result"]["deduct_fee"], 0);
    assert_eq!(sim.balance().await, START_BALANCE);
    let view = sim.order_view("C-1").await;
    assert_eq!(view["cancelFrom"], 2);
    let last = view["callbacks"]
        .as_array()
        .and_then(|c| c.last())
        .expect("callback")["body"]
        .clone();
    assert_eq!(last["order_status"], 5);
    assert_eq!(last["cancel_from"], 2);
    assert_eq!(last["cancel_reason"], "顾客不要了");
    assert_fail(
        &sim.call("/api/order/formalCancel", cancel(json!(4), None))
            .await,
        2076,
    );

    // Every status that cannot be cancelled has its own code.
    let walk: &[(&str, &[&str], i64)] = &[
        ("C-3", &["accept", "fetch"], 2050),
        ("C-4", &["accept", "fetch", "finish"], 2051),
        ("C-7", &["expire"], 2052),
        ("C-9", &["accept", "fetch", "delivery/abnormal/back"], 2458),
    ];
    for (id, steps, expected) in walk {
        sim.add(id).await;
        for step in *steps {
            assert_ok(&sim.sim(step, id).await);
        }
        let answer = sim
            .call(
                "/api/order/formalCancel",
                json!({ "order_id": id, "cancel_reason_id": 4 }),
            )
            .await;
        assert_fail(&answer, *expected);
    }
    assert_ok(
        &sim.call("/api/order/confirm/goods", json!({ "order_id": "C-9" }))
            .await,
    );
    assert_fail(
        &sim.call(
            "/api/order/formalCancel",
            json!({ "order_id": "C-9", "cancel_reason_id": 4 }),
        )
        .await,
        2459,
    );
    sim.add("C-1000").await;
    sim.act("C-1000", "fail", None).await;
    assert_fail(
        &sim.call(
            "/api/order/formalCancel",
            json!({ "order_id": "C-1000", "cancel_reason_id": 4 }),
        )
        .await,
        2460,
    );
}

#[tokio::test]
async fn cancellation_penalty_windows() {
    let sim = Sim::quiet();
    let cancel = async |id: &str| {
        let answer = sim
            .call(
                "/api/order/formalCancel",
                json!({ "order_id": id, "cancel_reason_id": 4 }),
            )
            .await;
        assert_ok(&answer);
        answer["result"]["deduct_fee"].clone()
    };
    // Waiting: free.
    sim.add("P-1").await;
    assert_eq!(cancel("P-1").await, 0);
    // Within a minute of acceptance: free.
    sim.add("P-2").await;
    assert_ok(&sim.sim("accept", "P-2").await);
    assert_eq!(cancel("P-2").await, 0);
    assert_eq!(sim.balance().await, START_BALANCE);
    // Two minutes after acceptance: 2 yuan to the courier, the rest refunded.
    sim.add("P-3").await;
    assert_ok(&sim.sim("accept", "P-3").await);
    sim.act("P-3", "age", Some(json!({ "secs": 120 }))).await;
    assert_eq!(cancel("P-3").await, 2);
    assert_eq!(sim.balance().await, START_BALANCE - 200);
    let detail = sim
        .call("/api/order/status/query", json!({ "order_id": "P-3" }))
        .await;
    assert_eq!(detail["result"]["deductFee"], 2);
    assert_eq!(detail["result"]["actualFee"], 2);
    // 16 minutes and the courier never reached the store: free.
    sim.add("P-4").await;
    assert_ok(&sim.sim("accept", "P-4").await);
    sim.act("P-4", "age", Some(json!({ "secs": 960 }))).await;
    assert_eq!(cancel("P-4").await, 0);
    // 16 minutes, but the courier was at the store in time: 2 yuan.
    sim.add("P-5").await;
    assert_ok(&sim.sim("accept", "P-5").await);
    let (status, view) = sim.act("P-5", "arrive", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], 100);
    sim.act("P-5", "age", Some(json!({ "secs": 960 }))).await;
    assert_eq!(cancel("P-5").await, 2);
    assert_eq!(sim.balance().await, START_BALANCE - 400);
}

#[tokio::test]
async fn appointing_couriers() {
    let sim = Sim::quiet();
    let list = |shop: &str| json!({ "shop_no": shop });
    let ids = async |shop: &str| -> Vec<i64> {
        let answer = sim
            .call("/api/order/appoint/list/transporter", list(shop))
            .await;
        assert_ok(&answer);
        answer["result"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|c| c["id"].as_i64())
            .collect()
    };
    assert_eq!(ids(SHOP).await, [666, 667]);
    let listed = sim
        .call("/api/order/appoint/list/transporter", list(SHOP))
        .await;
    assert_eq!(
        listed["result"][0],
        json!({ "id": 666, "name": "达达骑手", "city_id": 1, "phone": "13546670420" })
    );
    assert_fail(
        &sim.call("/api/order/appoint/list/transporter", list("nope"))
            .await,
        2004,
    );

    sim.add("AP-1").await;
    let appoint = |order: &str, courier: i64, shop: &str| json!({ "order_id": order, "transporter_id": courier, "shop_no": shop });
    assert_fail(
        &sim.call("/api/order/appoint/exist", appoint("AP-1", 668, SHOP))
            .await,
        1994,
    );
    assert_fail(
        &sim.call("/api/order/appoint/exist", appoint("AP-1", 666, "11047060"))
            .await,
        2004,
    );
    assert_fail(
        &sim.call("/api/order/appoint/exist", appoint("nope", 666, SHOP))
            .await,
        2005,
    );
    assert_ok(
        &sim.call("/api/order/appoint/exist", appoint("AP-1", 666, SHOP))
            .await,
    );
    assert_eq!(sim.status_of("AP-1").await, 8);
    assert_fail(
        &sim.call("/api/order/appoint/exist", appoint("AP-1", 667, SHOP))
            .await,
        2070,
    );
    // Cancelling the appointment puts it back for everyone.
    assert_ok(
        &sim.call("/api/order/appoint/cancel", json!({ "order_id": "AP-1" }))
            .await,
    );
    assert_eq!(sim.status_of("AP-1").await, 1);
    assert_fail(
        &sim.call("/api/order/appoint/cancel", json!({ "order_id": "AP-1" }))
            .await,
        2070,
    );
    // Appointed, then accepted: by the appointed courier; no more appointing.
    assert_ok(
        &sim.call("/api/order/appoint/exist", appoint("AP-1", 667, SHOP))
            .await,
    );
    let view = sim.order_view("AP-1").await;
    assert_eq!(view["callbacks"][3]["body"]["order_status"], 8);
    assert_eq!(view["callbacks"][3]["body"]["dm_id"], 667);
    assert_ok(&sim.sim("accept", "AP-1").await);
    assert_eq!(sim.order_view("AP-1").await["courier"]["id"], 667);
    assert_fail(
        &sim.call("/api/order/appoint/exist", appoint("AP-1", 666, SHOP))
            .await,
        2070,
    );
    assert_fail(
        &sim.call("/api/order/appoint/cancel", json!({ "order_id": "AP-1" }))
            .await,
        2070,
    );

    // A courier who takes one of a shop's orders becomes appointable there until it is done.
    let mut body = order_body("AP-2", NOWHERE);
    body["shop_no"] = json!("11047060");
    body["city_code"] = json!("010");
    body["receiver_lng"] = json!(116.4074);
    body["receiver_lat"] = json!(39.9042);
    assert_ok(&sim.call("/api/order/addOrder", body).await);
    assert_eq!(ids("11047060").await, [669]);
    assert_ok(&sim.sim("accept", "AP-2").await);
    let courier = sim.order_view("AP-2").await["courier"]["id"]
        .as_i64()
        .expect("courier");
    assert_eq!(
        courier, 670,
        "the Beijing rotation starts with its second courier"
    );
    assert_eq!(ids("11047060").await, [669, 670]);
    assert_ok(&sim.sim("fetch", "AP-2").await);
    assert_ok(&sim.sim("finish", "AP-2").await);
    assert_eq!(ids("11047060").await, [669]);
}

#[tokio::test]
async fn complaints_goods_positions_and_tracks() {
    let sim = Sim::quiet();
    let reasons = sim.call("/api/complaint/reasons", Value::Null).await;
    assert_ok(&reasons);
    assert!(reasons["result"].as_array().is_some_and(|r| r.len() >= 5));

    sim.add("K-1").await;
    let complain = |reason: i64| json!({ "order_id": "K-1", "reason_id": reason });
    assert_fail(&sim.call("/api/complaint/dada", complain(3)).await, 2134);
    assert_ok(&sim.sim("accept", "K-1").await);
    assert_fail(&sim.call("/api/complaint/dada", complain(999)).await, 1994);
    assert_ok(&sim.call("/api/complaint/dada", complain(3)).await);
    assert_ok(&sim.sim("fetch", "K-1").await);
    assert_ok(&sim.sim("finish", "K-1").await);
    // Delivered promptly: a lateness complaint is invalid.
    assert_fail(&sim.call("/api/complaint/dada", complain(2)).await, 2134);
    assert_eq!(
        sim.order_view("K-1").await["complaints"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Goods returned: only from 9.
    assert_fail(
        &sim.call("/api/order/confirm/goods", json!({ "order_id": "K-1" }))
            .await,
        2082,
    );
    assert_fail(
        &sim.call("/api/order/confirm/goods", json!({ "order_id": "nope" }))
            .await,
        2005,
    );

    // Positions: at most 50, only orders with a courier on the way.
    sim.add("K-2").await;
    sim.add("K-3").await;
    assert_ok(&sim.sim("accept", "K-2").await);
    let positions = sim
        .call(
            "/api/order/transporter/position",
            json!({ "orderIds": ["K-2", "K-3", "nope"] }),
        )
        .await;
    assert_ok(&positions);
    let list = positions["result"].as_array().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["orderId"], "K-2");
    assert!(
        list[0]["transporterLat"]
            .as_str()
            .is_some_and(|l| l.parse::<f64>().is_ok())
    );
    let many: Vec<String> = (0..51).map(|i| format!("K-{i}")).collect();
    assert_fail(
        &sim.call(
            "/api/order/transporter/position",
            json!({ "orderIds": many }),
        )
        .await,
        1994,
    );
    assert_fail(
        &sim.call("/api/order/transporter/position", json!({ "orderIds": [] }))
            .await,
        1993,
    );

    let track = sim
        .call("/api/order/transporter/track", json!({ "order_id": "K-2" }))
        .await;
    assert_ok(&track);
    let url = track["result"]["trackUrl"]
        .as_str()
        .expect("trackUrl")
        .to_owned();
    assert!(url.starts_with("/_control/track/K-2"), "{url}");
    let (status, page) = sim
        .send(Request::get(url).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["statusCode"], 2);
    assert!(page["lat"].as_f64().is_some());
    assert_fail(
        &sim.call(
            "/api/order/transporter/track",
            json!({ "order_id": "nope" }),
        )
        .await,
        2005,
    );
}

#[tokio::test]
async fn simulation_endpoints() {
    let sim = Sim::quiet();
    sim.add("S-1").await;
    assert_fail(&sim.sim("fetch", "S-1").await, 2083);
    assert_fail(&sim.sim("finish", "S-1").await, 2083);
    assert_fail(&sim.sim("accept", "nope").await, 2005);
    assert_ok(&sim.sim("accept", "S-1").await);
    assert_fail(&sim.sim("accept", "S-1").await, 2012);
    assert_ok(&sim.sim("fetch", "S-1").await);
    assert_eq!(sim.status_of("S-1").await, 3);
    assert_ok(&sim.sim("finish", "S-1").await);
    assert_eq!(sim.status_of("S-1").await, 4);
    let detail = sim
        .call("/api/order/status/query", json!({ "order_id": "S-1" }))
        .await;
    assert_eq!(
        detail["result"]["finishTime"].as_str().map(str::len),
        Some(19)
    );
    assert_eq!(detail["result"]["transporterLat"], "");

    sim.add("S-2").await;
    let cancel = sim
        .call(
            "/api/order/cancel",
            json!({ "order_id": "S-2", "reason": "模拟取消" }),
        )
        .await;
    assert_ok(&cancel);
    let view = sim.order_view("S-2").await;
    assert_eq!(view["status"], 5);
    assert_eq!(view["cancelFrom"], 3);
    assert_eq!(view["cancelReason"], "模拟取消");

    sim.add("S-3").await;
    assert_ok(&sim.sim("expire", "S-3").await);
    assert_eq!(sim.status_of("S-3").await, 7);
    // Delivered (S-1) keeps its fee; cancelled and expired are refunded.
    assert_eq!(sim.balance().await, START_BALANCE - 1000);

    let production = Sim::new(DadaSandboxConfig {
        test_environment: false,
        ..quiet()
    });
    production.add("S-4").await;
    for step in [
        "accept",
        "fetch",
        "finish",
        "cancel",
        "expire",
        "delivery/abnormal/back",
    ] {
        assert_fail(&production.sim(step, "S-4").await, 2068);
    }
}

// ---------------------------------------------------------------- merchants, shops, money

#[tokio::test]
async fn merchants_and_shops() {
    let sim = Sim::quiet();
    let cities = sim.call("/api/cityCode/list", Value::Null).await;
    assert_ok(&cities);
    let list = cities["result"].as_array().expect("cities");
    assert!(list.contains(&json!({ "cityName": "北京", "cityCode": "010" })));
    assert!(list.contains(&json!({ "cityName": "上海", "cityCode": "021" })));

    let registration = json!({
        "mobile": "13900000000", "city_name": "上海", "enterprise_name": "优雅谷",
        "enterprise_address": "上海街", "contact_name": "张三", "contact_phone": "13900000000",
        "email": "a@example.com",
    });
    let answer = sim
        .call_as("", "/merchantApi/merchant/add", &registration.to_string())
        .await;
    assert_ok(&answer);
    let source = answer["result"]
        .as_u64()
        .expect("numeric source_id")
        .to_string();
    let mut missing = registration.clone();
    missing["email"] = json!("");
    assert_fail(
        &sim.call_as("", "/merchantApi/merchant/add", &missing.to_string())
            .await,
        1993,
    );

    // The new merchant can call, has no money, and owns no shops yet.
    assert_ok(&sim.call_as(&source, "/api/cityCode/list", "").await);
    let balance = sim
        .call_as(&source, "/api/balance/query", r#"{"category":3}"#)
        .await;
    assert_eq!(
        balance["result"],
        json!({ "deliverBalance": 0, "redPacketBalance": 0 })
    );
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/detail",
            &json!({ "origin_shop_id": SHOP }).to_string(),
        )
        .await,
        2402,
    );

    let shop = |id: Option<&str>, name: &str| {
        let mut s = json!({
            "station_name": name, "business": 1, "city_name": "上海", "area_name": "浦东新区",
            "station_address": "浦东新区1号", "lng": 121.5, "lat": 31.2, "contact_name": "游龙",
            "phone": "13800138000",
        });
        if let Some(id) = id {
            s["origin_shop_id"] = json!(id);
        }
        s
    };
    let added = sim
        .call_as(
            &source,
            "/api/shop/add",
            &json!([shop(Some("S-1"), "一店"), shop(None, "二店")]).to_string(),
        )
        .await;
    assert_ok(&added);
    assert_eq!(added["result"]["success"], 2);
    assert_eq!(added["result"]["successList"][0]["originShopId"], "S-1");
    assert!(
        added["result"]["successList"][1]["originShopId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(added["result"]["failedList"], json!([]));
    // A taken number: alone it fails the call, in a batch it is listed.
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/add",
            &json!([shop(Some("S-1"), "重复")]).to_string(),
        )
        .await,
        2403,
    );
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/add",
            &json!([shop(Some(SHOP), "重复")]).to_string(),
        )
        .await,
        2403,
    );
    let mixed = sim
        .call_as(
            &source,
            "/api/shop/add",
            &json!([shop(Some("S-1"), "重复"), shop(Some("S-2"), "三店")]).to_string(),
        )
        .await;
    assert_ok(&mixed);
    assert_eq!(mixed["result"]["success"], 1);
    assert_eq!(mixed["result"]["failedList"][0]["shopNo"], "S-1");
    assert_eq!(mixed["result"]["failedList"][0]["code"], 2403);

    let detail = sim
        .call_as(
            &source,
            "/api/shop/detail",
            &json!({ "origin_shop_id": "S-1" }).to_string(),
        )
        .await;
    assert_ok(&detail);
    assert_eq!(detail["result"]["station_name"], "一店");
    assert_eq!(detail["result"]["status"], 1);

    let update = |body: Value| body.to_string();
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/update",
            &update(json!({ "origin_shop_id": "S-1" })),
        )
        .await,
        2406,
    );
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/update",
            &update(json!({ "origin_shop_id": "S-1", "station_name": "" })),
        )
        .await,
        1993,
    );
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/update",
            &update(json!({ "origin_shop_id": "nope", "station_name": "x" })),
        )
        .await,
        2402,
    );
    assert_fail(
        &sim.call_as(
            &source,
            "/api/shop/update",
            &update(json!({ "origin_shop_id": "S-1", "new_shop_id": "S-2" })),
        )
        .await,
        2403,
    );
    assert_ok(
        &sim.call_as(
            &source,
            "/api/shop/update",
            &update(json!({ "origin_shop_id": "S-1", "station_name": "新一店", "status": 0 })),
        )
        .await,
    );
    let detail = sim
        .call_as(
            &source,
            "/api/shop/detail",
            &json!({ "origin_shop_id": "S-1" }).to_string(),
        )
        .await;
    assert_eq!(detail["result"]["station_name"], "新一店");
    assert_eq!(detail["result"]["status"], 0);

    // Orders of the new merchant: its offline shop, someone else's shop, its empty balance.
    let mut body = order_body("M-1", NOWHERE);
    body["shop_no"] = json!("S-1");
    assert_fail(
        &sim.call_as(&source, "/api/order/addOrder", &body.to_string())
            .await,
        2132,
    );
    body["shop_no"] = json!(SHOP);
    assert_fail(
        &sim.call_as(&source, "/api/order/addOrder", &body.to_string())
            .await,
        2004,
    );
    body["shop_no"] = json!("S-2");
    assert_fail(
        &sim.call_as(&source, "/api/order/addOrder", &body.to_string())
            .await,
        2155,
    );
    // Renaming a shop keeps it.
    assert_ok(
        &sim.call_as(
            &source,
            "/api/shop/update",
            &update(json!({ "origin_shop_id": "S-2", "new_shop_id": "S-3" })),
        )
        .await,
    );
    assert_ok(
        &sim.call_as(
            &source,
            "/api/shop/detail",
            &json!({ "origin_shop_id": "S-3" }).to_string(),
        )
        .await,
    );
}

#[tokio::test]
async fn recharge_and_balance() {
    let sim = Sim::quiet();
    let balance = |category: Value| json!({ "category": category });
    let answer = sim.call("/api/balance/query", balance(json!(3))).await;
    assert_eq!(
        answer["result"],
        json!({ "deliverBalance": 10000, "redPacketBalance": 0 })
    );
    let answer = sim.call("/api/balance/query", balance(json!(1))).await;
    assert_eq!(answer["result"], json!({ "deliverBalance": 10000 }));
    let answer = sim.call("/api/balance/query", Value::Null).await;
    assert_eq!(answer["result"], json!({ "deliverBalance": 10000 }));
    let answer = sim.call("/api/balance/query", balance(json!(2))).await;
    assert_eq!(answer["result"], json!({ "redPacketBalance": 0 }));
    assert_fail(
        &sim.call("/api/balance/query", balance(json!(4))).await,
        1994,
    );

    assert_fail(
        &sim.call("/api/recharge", json!({ "category": "PC" })).await,
        1993,
    );
    assert_fail(
        &sim.call("/api/recharge", json!({ "amount": 50, "category": "APP" }))
            .await,
        1994,
    );
    let answer = sim
        .call("/api/recharge", json!({ "amount": 50.5, "category": "PC" }))
        .await;
    assert_ok(&answer);
    let url = answer["result"].as_str().expect("url").to_owned();
    assert!(url.starts_with("/_control/recharge/"), "{url}");
    // Nothing is credited until the cashier page is visited, and only once.
    assert_eq!(sim.balance().await, START_BALANCE);
    for _ in 0..2 {
        let (status, paid) = sim
            .send(
                Request::get(url.clone())
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{paid}");
    }
    assert_eq!(sim.balance().await, START_BALANCE + 5050);
    let answer = sim.call("/api/balance/query", balance(json!(1))).await;
    assert_eq!(answer["result"]["deliverBalance"], 10050.5);

    // Behind a host, the link is absolute.
    let request = Request::post("/api/recharge")
        .header("content-type", "application/json")
        .header("host", "sandbox.local:8080")
        .body(Body::from(
            envelope(KEY, SECRET, r#"{"amount":1,"category":"H5"}"#, SOURCE).to_string(),
        ))
        .expect("request");
    let (_, answer) = sim.send(request).await;
    assert!(
        answer["result"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://sandbox.local:8080/_control/recharge/")),
        "{answer}"
    );
}

// ---------------------------------------------------------------- callbacks and messages

#[tokio::test]
async fn callbacks_are_signed_and_retried_until_accepted() {
    let listener = Listener::start(2, 0).await;
    let sim = Sim::quiet();
    let shutdown = CancellationToken::new();
    let task = sim.sandbox.spawn(shutdown.clone());

    assert_ok(
        &sim.call(
            "/api/order/addOrder",
            order_body("CB-1", &listener.callback_url()),
        )
        .await,
    );
    wait_for("the first callback", async || {
        !listener.callbacks().is_empty()
    })
    .await;
    let received = listener.callbacks();
    let callback = &received[0];
    assert_eq!(callback["order_id"], "CB-1");
    assert_eq!(callback["order_status"], 1);
    assert_eq!(callback["cancel_from"], 0);
    assert_eq!(callback["repeat_reason_type"], 0);
    assert!(
        callback["client_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        callback["update_time"]
            .as_i64()
            .is_some_and(|t| (t - chrono::Utc::now().timestamp()).abs() < 60)
    );
    assert_eq!(
        callback["signature"].as_str(),
        Some(documented_callback_signature(callback).as_str())
    );
    for key in [
        "dm_id",
        "dm_name",
        "dm_mobile",
        "finish_code",
        "cancel_reason",
    ] {
        assert!(callback.get(key).is_some(), "{key} missing from {callback}");
    }
    assert_eq!(listener.callback_posts.load(Ordering::SeqCst), 3);
    let view = sim.order_view("CB-1").await;
    assert_eq!(view["callbacks"][0]["attempts"], 3);
    assert_eq!(view["callbacks"][0]["delivered"], true);

    // Courier fields once someone accepts.
    assert_ok(&sim.sim("accept", "CB-1").await);
    wait_for("the acceptance callback", async || {
        listener.callbacks().len() == 2
    })
    .await;
    let accepted = &listener.callbacks()[1];
    assert_eq!(accepted["order_status"], 2);
    assert!(accepted["dm_name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(
        accepted["dm_mobile"]
            .as_str()
            .is_some_and(|n| n.len() == 11)
    );

    shutdown.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn callbacks_give_up_after_max_attempts() {
    let listener = Listener::start(usize::MAX, 0).await;
    let sim = Sim::new(DadaSandboxConfig {
        callback_max_attempts: 3,
        ..quiet()
    });
    let shutdown = CancellationToken::new();
    let task = sim.sandbox.spawn(shutdown.clone());
    assert_ok(
        &sim.call(
            "/api/order/addOrder",
            order_body("GU-1", &listener.callback_url()),
        )
        .await,
    );
    wait_for("giving up", async || {
        sim.order_view("GU-1").await["callbacks"][0]["gaveUp"] == true
    })
    .await;
    let view = sim.order_view("GU-1").await;
    assert_eq!(view["callbacks"][0]["attempts"], 3);
    assert_eq!(view["callbacks"][0]["delivered"], false);
    assert!(
        view["callbacks"][0]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("500"))
    );
    // Proving a negative (bounded): after giving up nothing more is POSTed; 200 ms is many
    // backoff periods, so a stray retry would have shown up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(listener.callback_posts.load(Ordering::SeqCst), 3);
    shutdown.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn duplicate_and_dropped_callbacks() {
    let listener = Listener::start(0, 0).await;
    let sim = Sim::quiet();
    let shutdown = CancellationToken::new();
    let task = sim.sandbox.spawn(shutdown.clone());

    sim.set_faults(json!({ "duplicateCallbackRate": 1.0 }))
        .await;
    assert_ok(
        &sim.call(
            "/api/order/addOrder",
            order_body("DU-1", &listener.callback_url()),
        )
        .await,
    );
    wait_for("both copies", async || listener.callbacks().len() == 2).await;
    let copies = listener.callbacks();
    assert_eq!(copies[0], copies[1]);
    let view = sim.order_view("DU-1").await;
    assert_eq!(view["callbacks"][0]["plan"], "twice");
    assert_eq!(view["callbacks"][0]["copiesDelivered"], 2);

    sim.set_faults(json!({ "dropCallbackRate": 1.0 })).await;
    assert_ok(
        &sim.call(
            "/api/order/addOrder",
            order_body("DR-1", &listener.callback_url()),
        )
        .await,
    );
    assert_ok(&sim.sim("accept", "DR-1").await);
    // Proving a negative (bounded): dropped callbacks are never sent; 300 ms is far more than
    // a delivered callback takes on loopback.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(listener.callbacks().len(), 2, "nothing of DR-1 arrives");
    let view = sim.order_view("DR-1").await;
    for c in view["callbacks"].as_array().expect("callbacks") {
        assert_eq!(c["dropped"], true);
        assert_eq!(c["attempts"], 0);
    }
    shutdown.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn out_of_order_callbacks() {
    let listener = Listener::start(0, 0).await;
    let sim = Sim::quiet();
    let shutdown = CancellationToken::new();
    let task = sim.sandbox.spawn(shutdown.clone());

    assert_ok(
        &sim.call(
            "/api/order/addOrder",
            order_body("OO-1", &listener.callback_url()),
        )
        .await,
    );
    wait_for("the first callback", async || {
        listener.callbacks().len() == 1
    })
    .await;
    sim.set_faults(json!({ "outOfOrderRate": 1.0 })).await;
    assert_eq!(
        sim.control("GET", "/faults", None).await.1["outOfOrderRate"],
        1.0
    );

    assert_ok(&sim.sim("accept", "OO-1").await);
    // Proving a negative (bounded): the held acceptance does not go out before its successor,
    // which the test triggers right after.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(listener.callbacks().len(), 1, "the acceptance is held back");
    assert_eq!(
        sim.order_view("OO-1").await["callbacks"][1]["heldBack"],
        true
    );
    assert_ok(&sim.sim("fetch", "OO-1").await);
    wait_for("all three", async || listener.callbacks().len() == 3).await;
    assert_eq!(listener.statuses(), [1, 3, 2]);
    let view = sim.order_view("OO-1").await;
    assert_eq!(view["callbacks"][1]["outOfOrder"], true);
    assert_eq!(view["callbacks"][1]["heldBack"], false);
    shutdown.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn courier_cancel_messages() {
    let listener = Listener::start(0, 2).await;
    let sim = Sim::quiet();
    let shutdown = CancellationToken::new();
    let task = sim.sandbox.spawn(shutdown.clone());

    sim.add("MS-1").await;
    // Only once a courier has the order.
    let (status, refused) = sim.act("MS-1", "courier-cancel-request", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_ok(&sim.sim("accept", "MS-1").await);
    let (status, _) = sim
        .act(
            "MS-1",
            "courier-cancel-request",
            Some(json!({ "reason": "车坏了" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Queued until the URL is known.
    // Proving a negative (bounded): without a URL no attempt is made.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.order_view("MS-1").await["messages"][0]["attempts"], 0);
    sim.sandbox
        .set_message_url(format!("{}/message", listener.base));
    wait_for("the message push", async || !listener.messages().is_empty()).await;
    // The listener sees the POST before the sandbox records its outcome: wait for the record.
    wait_for("the message recorded", async || {
        sim.order_view("MS-1").await["messages"][0]["delivered"] == true
    })
    .await;
    let push = &listener.messages()[0];
    assert_eq!(push["messageType"], 1);
    let body: Value =
        serde_json::from_str(push["messageBody"].as_str().expect("a JSON string")).expect("JSON");
    let view = sim.order_view("MS-1").await;
    assert_eq!(body["orderId"], "MS-1");
    assert_eq!(
        body["dadaOrderId"].to_string(),
        view["clientId"].as_str().expect("clientId")
    );
    assert_eq!(body["cancelReason"], "车坏了");
    // Refused twice with {"status":"fail"}, accepted the third time.
    assert_eq!(view["messages"][0]["attempts"], 3);
    assert_eq!(view["messages"][0]["delivered"], true);

    let confirm = |is_confirm: i64| json!({ "messageType": 1, "messageBody": json!({ "orderId": "MS-1", "dadaOrderId": body["dadaOrderId"], "isConfirm": is_confirm }).to_string() });
    assert_fail(
        &sim.call(
            "/api/message/confirm",
            json!({ "messageType": 1, "messageBody": { "orderId": "MS-1", "isConfirm": 1 } }),
        )
        .await,
        1994,
    );
    assert_fail(
        &sim.call(
            "/api/message/confirm",
            json!({ "messageType": 2, "messageBody": "{}" }),
        )
        .await,
        1994,
    );
    // Declining keeps the order with its courier.
    assert_ok(&sim.call("/api/message/confirm", confirm(0)).await);
    assert_eq!(sim.status_of("MS-1").await, 2);
    assert_fail(&sim.call("/api/message/confirm", confirm(1)).await, 2012);
    // Agreeing cancels it, from the courier, without penalty.
    sim.act("MS-1", "courier-cancel-request", None).await;
    assert_ok(&sim.call("/api/message/confirm", confirm(1)).await);
    let view = sim.order_view("MS-1").await;
    assert_eq!(view["status"], 5);
    assert_eq!(view["cancelFrom"], 1);
    assert_eq!(view["deductFeeFen"], 0);
    assert_eq!(sim.balance().await, START_BALANCE);
    shutdown.cancel();
    let _ = task.await;
}

// ---------------------------------------------------------------- faults and schedule

#[tokio::test]
async fn request_faults() {
    let sim = Sim::quiet();
    sim.set_faults(json!({ "errorRate": 1.0 })).await;
    let request = Request::post("/api/order/addOrder")
        .header("content-type", "application/json")
        .body(Body::from(
            envelope(KEY, SECRET, &order_body("E-1", NOWHERE).to_string(), SOURCE).to_string(),
        ))
        .expect("request");
    let (status, answer) = sim.send(request).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_fail(&answer, -1);
    // Control routes are never faulted, and the refused call changed nothing.
    assert_eq!(sim.balance().await, START_BALANCE);
    assert_eq!(sim.control("GET", "/orders", None).await.1, json!([]));

    sim.set_faults(json!({ "latencyMs": 150 })).await;
    let started = Instant::now();
    assert_ok(&sim.call("/api/cityCode/list", Value::Null).await);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let (status, _) = sim
        .control("PUT", "/faults", Some(json!({ "errorRate": 2 })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sim
        .control("PUT", "/faults", Some(json!({ "outOfOrderRate": -1 })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, faults) = sim.control("GET", "/faults", None).await;
    assert_eq!(faults["latencyMs"], 150);
    assert_eq!(faults["errorRate"], 0.0);
}

#[tokio::test]
async fn schedule_moves_orders_as_time_passes() {
    // The default schedule: accepted 20 s after publication, picked up 40 s later, delivered 90 s
    // after that. Ageing the order stands in for waiting.
    let sim = Sim::new(DadaSandboxConfig::default());
    sim.add("SC-1").await;
    assert_eq!(sim.status_of("SC-1").await, 1);
    sim.act("SC-1", "age", Some(json!({ "secs": 25 }))).await;
    assert_eq!(sim.status_of("SC-1").await, 2);
    sim.act("SC-1", "age", Some(json!({ "secs": 40 }))).await;
    assert_eq!(sim.status_of("SC-1").await, 3);
    let (_, view) = sim.act("SC-1", "age", Some(json!({ "secs": 90 }))).await;
    assert_eq!(view["status"], 4);
    let statuses: Vec<i64> = view["callbacks"]
        .as_array()
        .expect("callbacks")
        .iter()
        .filter_map(|c| c["orderStatus"].as_i64())
        .collect();
    assert_eq!(statuses, [1, 2, 3, 4]);
    // Each move is dated when it fell due (the timeline is aged with the order; callbacks already
    // sent keep the time they carried).
    let times: Vec<i64> = view["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| {
            h["at"]
                .as_str()?
                .parse::<chrono::DateTime<chrono::Utc>>()
                .ok()
        })
        .map(|t| t.timestamp())
        .collect();
    assert_eq!(times.len(), 4);
    assert_eq!(times[1] - times[0], 20);
    assert_eq!(times[2] - times[1], 40);
    assert_eq!(times[3] - times[2], 90);

    // Schedule changes: null disables, absent keeps.
    let (status, schedule) = sim
        .control(
            "PUT",
            "/schedule",
            Some(json!({ "acceptAfterSecs": null, "finishAfterSecs": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        schedule,
        json!({ "acceptAfterSecs": null, "fetchAfterSecs": 40, "finishAfterSecs": 5, "autoCancelAfterSecs": 259200 })
    );
    sim.add("SC-2").await;
    sim.act("SC-2", "age", Some(json!({ "secs": 3600 }))).await;
    assert_eq!(sim.status_of("SC-2").await, 1);
}

#[tokio::test]
async fn unaccepted_orders_are_cancelled_after_72_hours() {
    let sim = Sim::quiet();
    sim.add("AC-1").await;
    sim.act("AC-1", "age", Some(json!({ "secs": 72 * 3600 - 60 })))
        .await;
    assert_eq!(sim.status_of("AC-1").await, 1);
    let (_, view) = sim.act("AC-1", "age", Some(json!({ "secs": 61 }))).await;
    assert_eq!(view["status"], 5);
    assert_eq!(view["cancelFrom"], 3);
    let last = view["callbacks"]
        .as_array()
        .and_then(|c| c.last())
        .expect("callback")["body"]
        .clone();
    assert_eq!(last["order_status"], 5);
    assert_eq!(last["cancel_from"], 3);
    assert_eq!(sim.balance().await, START_BALANCE);
}

#[tokio::test]
async fn background_task_walks_orders_and_delivers() {
    let listener = Listener::start(0, 0).await;
    let sim = Sim::new(DadaSandboxConfig {
        accept_after_secs: Some(0),
        fetch_after_secs: Some(0),
        finish_after_secs: Some(1),
        ..quiet()
    });
    let shutdown = CancellationToken::new();
    let task = sim.sandbox.spawn(shutdown.clone());
    assert_ok(
        &sim.call(
            "/api/order/addOrder",
            order_body("BG-1", &listener.callback_url()),
        )
        .await,
    );
    wait_for("delivery", async || listener.callbacks().len() == 4).await;
    let statuses: BTreeSet<i64> = listener.statuses().into_iter().collect();
    assert_eq!(statuses, BTreeSet::from([1, 2, 3, 4]));
    for callback in listener.callbacks() {
        assert_eq!(
            callback["signature"].as_str(),
            Some(documented_callback_signature(&callback).as_str())
        );
    }
    shutdown.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn control_routes() {
    let sim = Sim::quiet();
    assert_eq!(
        sim.control("GET", "/orders/nope", None).await.0,
        StatusCode::NOT_FOUND
    );
    sim.add("CT-1").await;
    assert_eq!(
        sim.act("CT-1", "teleport", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.act("CT-1", "age", None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, refused) = sim.act("CT-1", "finish", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["code"], 2083);
    let (_, orders) = sim.control("GET", "/orders", None).await;
    assert_eq!(orders.as_array().map(Vec::len), Some(1));
    let view = &orders[0];
    assert_eq!(view["sourceId"], SOURCE);
    assert_eq!(view["shopNo"], SHOP);
    assert_eq!(view["feeFen"], 1000);
    assert_eq!(view["paidFen"], 1000);
    assert_eq!(view["receiver"]["name"], "测试");
    assert_eq!(view["callbackUrl"], NOWHERE);
    let (_, shops) = sim.control("GET", "/shops", None).await;
    let numbers: Vec<&str> = shops
        .as_array()
        .expect("shops")
        .iter()
        .filter_map(|s| s["originShopId"].as_str())
        .collect();
    assert_eq!(numbers, ["11047059", "11047060", "11047061"]);
    let (status, _) = sim.control("GET", "/balance?sourceId=1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// `lateRate`: the courier accepts in the instant formalCancel arrives; inside Dada's free
/// minute, so it still costs nothing, but the order went through 2 before 5.
#[tokio::test]
async fn a_late_acceptance_races_the_cancellation() {
    let sim = Sim::quiet();
    let (status, _) = sim
        .control(
            "PUT",
            "/acceptance",
            Some(json!({ "minMs": 3_600_000, "maxMs": 3_600_000, "lateRate": 1.0 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    sim.add("LATE-1").await;
    let answer = sim
        .call(
            "/api/order/formalCancel",
            json!({ "order_id": "LATE-1", "cancel_reason_id": 4 }),
        )
        .await;
    assert_ok(&answer);
    assert_eq!(answer["result"]["deduct_fee"], 0);
    let (_, view) = sim.control("GET", "/orders/LATE-1", None).await;
    let history: Vec<i64> = view["history"]
        .as_array()
        .unwrap_or_else(|| panic!("{view}"))
        .iter()
        .filter_map(|h| h["status"].as_i64())
        .collect();
    assert!(history.ends_with(&[2, 5]), "{history:?}");
}
