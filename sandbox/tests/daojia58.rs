//! The 58 sandbox from the outside, over real HTTP on 127.0.0.1: the sandbox on one port, a
//! tiny axum receiver playing our intake on another.
//!
//! Requests are signed, and push signatures checked, with MD5 computed right here from the
//! documented rule — not with the sandbox's `sign` module — so a mistake in the sandbox's
//! signing cannot pass on both sides. `published_vectors_pass_the_server` pins the server to
//! the platform's vector.

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    net::SocketAddr,
    str::FromStr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use md5::{Digest, Md5};
use orderhub_sandbox::daojia58::{Daojia58Sandbox, Daojia58SandboxConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const KEY: &str = "2801209652";
const SECRET: &str = "daojia58_sandbox_secret";
const TOKEN: &str = "64256A615F66CC8FBE38AFCFD26EA744";
const UPDATE: &str = "/api/v1/order/updateOrderDetail";
const SAVE_USER: &str = "/api/v1/serviceUser/saveServiceUser";
const SAVE_TYPE: &str = "/api/v1/goodsType/saveGoodsType";

// ---------------------------------------------------------------- signing, done independently

/// The documented rule: sort by key, key+value, wrap in the secret, MD5, upper-case hex.
fn documented_sign(secret: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "sign").collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = secret.to_owned();
    for (k, v) in pairs {
        text.push_str(k);
        text.push_str(v);
    }
    text.push_str(secret);
    hex::encode_upper(Md5::digest(text.as_bytes()))
}

/// GMT+8 in 58's format.
fn beijing(t: DateTime<Utc>) -> String {
    (t + TimeDelta::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A correctly signed call carrying `daojia_json`, timestamp `at`.
fn signed_at(daojia_json: &str, at: DateTime<Utc>) -> Vec<(String, String)> {
    let mut params = vec![
        ("accessToken".to_owned(), TOKEN.to_owned()),
        ("serviceKey".to_owned(), KEY.to_owned()),
        ("format".to_owned(), "json".to_owned()),
        ("timestamp".to_owned(), beijing(at)),
        ("daojiaJson".to_owned(), daojia_json.to_owned()),
    ];
    let sign = documented_sign(SECRET, &params);
    params.push(("sign".to_owned(), sign));
    params
}

fn signed(daojia_json: &str) -> Vec<(String, String)> {
    signed_at(daojia_json, Utc::now())
}

/// Replaces (or adds) one parameter and signs again with `secret`.
fn resigned(
    mut params: Vec<(String, String)>,
    key: &str,
    value: &str,
    secret: &str,
) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != key && k != "sign");
    params.push((key.to_owned(), value.to_owned()));
    let sign = documented_sign(secret, &params);
    params.push(("sign".to_owned(), sign));
    params
}

/// Leaves one parameter out and signs what is left.
fn without(mut params: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != key && k != "sign");
    let sign = documented_sign(SECRET, &params);
    params.push(("sign".to_owned(), sign));
    params
}

fn with_sign(mut params: Vec<(String, String)>, sign: &str) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != "sign");
    params.push(("sign".to_owned(), sign.to_owned()));
    params
}

fn update_json(order_id: i64, third: &str, status: i64) -> String {
    json!({
        "orderId": order_id,
        "thirdOrderId": third,
        "orderStatus": status,
        "serviceUserName": "王师傅",
        "serviceUserPhone": "13912345678",
    })
    .to_string()
}

// ---------------------------------------------------------------- the sandbox on a port

/// Quick retries and a short deadline: tests decide when things happen.
fn quiet() -> Daojia58SandboxConfig {
    Daojia58SandboxConfig {
        push_every_secs: None,
        ack_deadline_ms: 1_000,
        push_retry_initial_ms: 30,
        push_max_attempts: 4,
        ..Daojia58SandboxConfig::default()
    }
}

struct Sim {
    base: String,
    http: reqwest::Client,
    sandbox: Daojia58Sandbox,
    shutdown: CancellationToken,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Sim {
    async fn start(config: Daojia58SandboxConfig) -> Self {
        let sandbox = Daojia58Sandbox::new(config);
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let app = sandbox.router();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(tcp, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        sandbox.spawn(shutdown.clone());
        Sim {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            sandbox,
            shutdown,
        }
    }

    /// A sandbox pushing to `intake`.
    async fn with_intake(config: Daojia58SandboxConfig, intake: &Intake) -> Self {
        let sim = Sim::start(config).await;
        sim.sandbox.set_push_url(intake.url());
        sim
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/_control{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("control answers");
        let status = response.status().as_u16();
        let value = response.json().await.unwrap_or(Value::Null);
        (status, value)
    }

    async fn get(&self, path: &str) -> Value {
        let (status, value) = self.control(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {value}");
        value
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.control(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.control(reqwest::Method::POST, path, Some(body)).await
    }

    /// `/_control/push`, returning the order id.
    async fn push(&self, overrides: Value) -> i64 {
        let (status, view) = self.post("/push", overrides).await;
        assert_eq!(status, 201, "{view}");
        view["orderId"].as_i64().expect("orderId")
    }

    async fn order(&self, id: i64) -> Value {
        self.get(&format!("/orders/{id}")).await
    }

    async fn wait_push(&self, id: i64, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let view = self.order(id).await;
            if view["push"] == state {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "order {id} never became {state}: {view}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A pushed and acknowledged order.
    async fn acknowledged_order(&self, overrides: Value) -> i64 {
        let id = self.push(overrides).await;
        self.wait_push(id, "acknowledged").await;
        id
    }

    async fn form(&self, path: &str, params: &[(String, String)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .form(params)
            .send()
            .await
            .expect("58 answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn json_body(&self, path: &str, params: &[(String, String)]) -> (u16, Value) {
        let body: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("58 answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A signed form update; returns the answer's code.
    async fn update(&self, id: i64, third: &str, status: i64) -> i64 {
        let (http, answer) = self
            .form(UPDATE, &signed(&update_json(id, third, status)))
            .await;
        assert_eq!(http, 200, "{answer}");
        code(&answer)
    }

    async fn updates(&self, id: i64) -> Vec<Value> {
        self.get(&format!("/updates?orderId={id}"))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn status_of(&self, id: i64) -> i64 {
        self.order(id).await["status"].as_i64().expect("status")
    }
}

fn code(answer: &Value) -> i64 {
    answer["code"].as_i64().unwrap_or(i64::MIN)
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------- our intake

/// How the intake answers one push.
#[derive(Clone, Debug)]
enum Reply {
    /// The documented acknowledgement.
    Ack,
    /// The acknowledgement after a pause.
    AckAfter(u64),
    /// An HTTP status with an otherwise correct acknowledgement body.
    Status(u16),
    /// HTTP 200 with this body; `{id}` is replaced by the order id.
    Body(&'static str),
}

#[derive(Clone, Debug)]
struct Received {
    content_type: String,
    form: HashMap<String, String>,
    remote: SocketAddr,
}

#[derive(Clone)]
struct Intake {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    /// When the script is used up.
    default: Arc<Mutex<Reply>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Intake {
    async fn start(script: Vec<Reply>) -> Self {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let intake = Intake {
            addr: tcp.local_addr().expect("addr"),
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.into())),
            default: Arc::new(Mutex::new(Reply::Ack)),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
        };
        let app = Router::new()
            .route("/58/push", post(on_push))
            .with_state(intake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(tcp, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        intake
    }

    fn url(&self) -> String {
        format!("http://{}/58/push", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }

    fn set_default(&self, reply: Reply) {
        *self.default.lock().expect("lock") = reply;
    }
}

async fn on_push(
    State(intake): State<Intake>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let now = intake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    intake.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let id = form
        .get("daojiaJson")
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|j| j["orderId"].as_i64())
        .unwrap_or(0);
    intake.received.lock().expect("lock").push(Received {
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        form,
        remote,
    });
    let reply = intake
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or_else(|| intake.default.lock().expect("lock").clone());
    let ack =
        format!(r#"{{"code":200,"msg":"success","data":{{"order_id":{id},"status":"received"}}}}"#);
    let response = match reply {
        Reply::Ack => (StatusCode::OK, ack).into_response(),
        Reply::AckAfter(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (StatusCode::OK, ack).into_response()
        }
        Reply::Status(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ack,
        )
            .into_response(),
        Reply::Body(text) => {
            (StatusCode::OK, text.replace("{id}", &id.to_string())).into_response()
        }
    };
    intake.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

// ---------------------------------------------------------------- signing

#[tokio::test]
async fn published_vectors_pass_the_server() {
    // The SDK vector, exactly: secret `test_secret`, a 2016 timestamp (so the skew is opened
    // wide). Its signature is accepted and the call reaches the order lookup.
    let sim = Sim::start(Daojia58SandboxConfig {
        service_secret: "test_secret".to_owned(),
        clock_skew_secs: 40 * 365 * 24 * 3600,
        ..quiet()
    })
    .await;
    let vector = |sign: &str| {
        vec![
            ("accessToken".to_owned(), TOKEN.to_owned()),
            ("serviceKey".to_owned(), KEY.to_owned()),
            ("format".to_owned(), "json".to_owned()),
            ("timestamp".to_owned(), "2016-01-10 10:00:00".to_owned()),
            (
                "daojiaJson".to_owned(),
                r#"{"orderId":31421593368511488,"orderStatus":20}"#.to_owned(),
            ),
            ("sign".to_owned(), sign.to_owned()),
        ]
    };
    let good = vector("A3E2565C710431CE4C9E808B070DA45E");
    assert_eq!(
        documented_sign("test_secret", &good),
        "A3E2565C710431CE4C9E808B070DA45E"
    );
    // The vector has no thirdOrderId: it passes the signature and fails on the fields.
    let (_, answer) = sim.form(UPDATE, &good).await;
    assert_eq!(code(&answer), 1006, "{answer}");
    assert!(
        answer["msg"]
            .as_str()
            .is_some_and(|m| m.contains("thirdOrderId")),
        "{answer}"
    );
    let (_, answer) = sim.json_body(UPDATE, &good).await;
    assert_eq!(code(&answer), 1006, "{answer}");
    let (_, answer) = sim
        .form(UPDATE, &vector("A3E2565C710431CE4C9E808B070DA45F"))
        .await;
    assert_eq!(code(&answer), 1001, "{answer}");
    let (_, answer) = sim
        .form(UPDATE, &vector("a3e2565c710431ce4c9e808b070da45e"))
        .await;
    assert_eq!(code(&answer), 1001, "{answer}");

    // The same vector with a thirdOrderId added (and signed): the example order is unknown.
    let with_third = resigned(
        good,
        "daojiaJson",
        r#"{"orderId":31421593368511488,"thirdOrderId":"OH-1","orderStatus":20}"#,
        "test_secret",
    );
    let (_, answer) = sim.form(UPDATE, &with_third).await;
    assert_eq!(code(&answer), 1004, "{answer}");
    assert_eq!(answer["data"], Value::Null);
}

// ---------------------------------------------------------------- pushes

#[tokio::test]
async fn acknowledged_push_is_a_signed_form() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(quiet(), &intake).await;
    let id = sim
        .acknowledged_order(json!({ "cityName": "上海", "remark": "请带鞋套" }))
        .await;
    assert!(id > 1 << 53, "ids exceed 2^53 like the document's");

    let received = intake.received();
    assert_eq!(received.len(), 1);
    let push = &received[0];
    assert!(
        push.content_type
            .starts_with("application/x-www-form-urlencoded"),
        "{}",
        push.content_type
    );
    let keys: BTreeSet<&str> = push.form.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "daojiaJson",
            "funId",
            "nonce",
            "serviceKey",
            "sign",
            "timestamp"
        ])
    );
    assert_eq!(push.form["funId"], "createOrder");
    assert_eq!(push.form["serviceKey"], KEY);
    let pairs: Vec<(String, String)> = push.form.clone().into_iter().collect();
    assert_eq!(push.form["sign"], documented_sign(SECRET, &pairs));
    let sent = NaiveDateTime::parse_from_str(&push.form["timestamp"], "%Y-%m-%d %H:%M:%S")
        .expect("timestamp format");
    let skew = (sent - (Utc::now() + TimeDelta::hours(8)).naive_utc()).num_seconds();
    assert!(
        skew.abs() < 60,
        "timestamp is GMT+8: {}",
        push.form["timestamp"]
    );

    let order: Value = serde_json::from_str(&push.form["daojiaJson"]).expect("daojiaJson");
    assert_eq!(order["orderId"].as_i64(), Some(id));
    assert_eq!(order["cityName"], "上海");
    assert_eq!(order["cityId"], 2);
    assert_eq!(order["remark"], "请带鞋套");
    assert!(
        order["serviceAddress"]
            .as_str()
            .is_some_and(|a| a.starts_with("上海市"))
    );
    assert!(
        order["userMobile"]
            .as_str()
            .is_some_and(|m| m.len() == 11 && m.starts_with('1'))
    );
    assert!(
        order["lng"]
            .as_f64()
            .is_some_and(|x| (x - 121.4).abs() < 0.3)
    );
    assert!(
        order["lat"]
            .as_f64()
            .is_some_and(|x| (x - 31.2).abs() < 0.3)
    );
    assert!(order["serviceUserId"].is_string());
    let begin = NaiveDateTime::parse_from_str(
        order["serviceBeginTime"].as_str().unwrap_or(""),
        "%Y-%m-%d %H:%M:%S",
    )
    .expect("serviceBeginTime");
    let end = NaiveDateTime::parse_from_str(
        order["serviceEndTime"].as_str().unwrap_or(""),
        "%Y-%m-%d %H:%M:%S",
    )
    .expect("serviceEndTime");
    assert_eq!(
        (end - begin).num_hours(),
        order["serviceDuration"].as_i64().expect("serviceDuration")
    );
    let decimal = |v: &Value| Decimal::from_str(&v.to_string()).expect("decimal");
    let lines = order["orderDetails"].as_array().expect("orderDetails");
    assert!(!lines.is_empty());
    let sum: Decimal = lines
        .iter()
        .map(|l| decimal(&l["goodsPrice"]) * decimal(&l["goodsNumber"]))
        .sum();
    assert_eq!(sum, decimal(&order["totalPrice"]));
    assert!(lines.iter().all(|l| l["goodsId"].is_i64()));

    let view = sim.order(id).await;
    assert_eq!(view["acknowledged"], true);
    assert_eq!(view["reassigned"], false);
    assert_eq!(view["status"], 10);
    assert_eq!(view["pushAttempts"], 1);
    assert_eq!(view["daojiaJson"], push.form["daojiaJson"].as_str());
    let attempt = &view["deliveries"][0]["attempts"][0];
    assert_eq!(attempt["acknowledged"], true);
    assert_eq!(attempt["httpStatus"], 200);
    assert!(attempt["latencyMs"].is_u64());
    assert_eq!(view["history"][0]["status"], 10);
    assert_eq!(view["history"][0]["source"], "push");
    assert_eq!(view["origin"], "control");
}

#[tokio::test]
async fn wrong_acknowledgements_are_retried_then_reassigned() {
    let intake = Intake::start(vec![
        Reply::Body(r#"{"code":0,"msg":"success","data":{"order_id":{id},"status":"received"}}"#),
        Reply::Body(r#"{"code":200,"msg":"success","data":{"order_id":1,"status":"received"}}"#),
        Reply::Status(500),
        Reply::Body(r#"{"code":200,"msg":"success","data":{"order_id":{id},"status":"ok"}}"#),
    ])
    .await;
    let sim = Sim::with_intake(quiet(), &intake).await;
    let id = sim.push(json!({})).await;
    let view = sim.wait_push(id, "reassigned").await;
    assert_eq!(view["acknowledged"], false);
    assert_eq!(view["pushAttempts"], 4);
    let delivery = &view["deliveries"][0];
    assert_eq!(delivery["state"], "gaveUp");
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert!(
        attempts
            .iter()
            .all(|a| a["acknowledged"] == false && a["error"].is_string())
    );
    assert_eq!(attempts[2]["httpStatus"], 500);
    // Growing delays: 30, 60, 120 ms.
    let at = |i: usize| {
        DateTime::parse_from_rfc3339(attempts[i]["at"].as_str().unwrap_or("")).expect("at")
    };
    let gaps: Vec<i64> = (1..4)
        .map(|i| (at(i) - at(i - 1)).num_milliseconds())
        .collect();
    assert!(gaps[0] >= 30 && gaps[1] >= 60 && gaps[2] >= 120, "{gaps:?}");
    assert!(gaps[2] > gaps[0], "{gaps:?}");

    // Proving a negative (bounded): a reassigned order gets no further attempts; 300 ms is
    // longer than the whole retry schedule above.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = intake.received();
    assert_eq!(received.len(), 4, "no attempts after reassignment");
    let bodies: BTreeSet<&str> = received
        .iter()
        .map(|r| r.form["daojiaJson"].as_str())
        .collect();
    assert_eq!(bodies.len(), 1, "every attempt carries the same daojiaJson");
    let nonces: BTreeSet<&str> = received.iter().map(|r| r.form["nonce"].as_str()).collect();
    assert_eq!(nonces.len(), 4, "every attempt is signed afresh");

    // The order is lost to us.
    assert_eq!(sim.update(id, "OH-LOST", 20).await, 1007);
    let (status, _) = sim.post(&format!("/orders/{id}/repush"), json!({})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn slow_acknowledgement_fails_and_the_retry_is_a_duplicate_for_us() {
    let intake = Intake::start(vec![Reply::AckAfter(700)]).await;
    let sim = Sim::with_intake(
        Daojia58SandboxConfig {
            ack_deadline_ms: 300,
            ..quiet()
        },
        &intake,
    )
    .await;
    let id = sim.acknowledged_order(json!({})).await;
    let view = sim.order(id).await;
    let attempts = view["deliveries"][0]["attempts"]
        .as_array()
        .expect("attempts")
        .clone();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["acknowledged"], false);
    assert!(
        attempts[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("300 ms")),
        "{}",
        attempts[0]
    );
    assert!(
        attempts[0]["latencyMs"]
            .as_u64()
            .is_some_and(|ms| (300..700).contains(&ms))
    );
    assert_eq!(attempts[1]["acknowledged"], true);
    let received = intake.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].form["daojiaJson"],
        received[1].form["daojiaJson"]
    );
}

#[tokio::test]
async fn refused_connection_then_reassigned() {
    let closed = {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        tcp.local_addr().expect("addr")
    };
    let sim = Sim::start(quiet()).await;
    sim.sandbox.set_push_url(format!("http://{closed}/58/push"));
    let id = sim.push(json!({})).await;
    let view = sim.wait_push(id, "reassigned").await;
    assert_eq!(view["pushAttempts"], 4);
    let attempt = &view["deliveries"][0]["attempts"][0];
    assert_eq!(attempt["httpStatus"], Value::Null);
    assert!(attempt["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn pushes_wait_for_the_url() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::start(quiet()).await;
    let id = sim.push(json!({})).await;
    // Proving a negative (bounded): without a URL no push is attempted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let view = sim.order(id).await;
    assert_eq!(view["push"], "pending");
    assert_eq!(view["pushAttempts"], 0);
    assert_eq!(view["deliveries"][0]["state"], "queued");
    // Not ours yet: no acknowledgement, nothing in flight.
    assert_eq!(sim.update(id, "OH-EARLY", 20).await, 1008);

    let (status, _) = sim.put("/push-url", json!({ "url": intake.url() })).await;
    assert_eq!(status, 200);
    sim.wait_push(id, "acknowledged").await;
    assert_eq!(sim.get("/push-url").await["url"], intake.url());
    assert_eq!(sim.update(id, "OH-EARLY", 20).await, 0);
}

#[tokio::test]
async fn an_update_sent_while_the_push_is_being_answered_waits_for_the_ack() {
    let intake = Intake::start(vec![Reply::AckAfter(300)]).await;
    let sim = Sim::with_intake(quiet(), &intake).await;
    let id = sim.push(json!({})).await;
    wait_for("the push to arrive", async || intake.count() == 1).await;
    // Our intake is still answering: the update must not lose the race.
    let started = Instant::now();
    assert_eq!(sim.update(id, "OH-RACE", 20).await, 0);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(sim.status_of(id).await, 20);
}

#[tokio::test]
async fn duplicate_pushes_and_concurrent_repush() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(
        Daojia58SandboxConfig {
            ack_deadline_ms: 3_000,
            ..quiet()
        },
        &intake,
    )
    .await;
    let (status, _) = sim
        .put("/faults", json!({ "duplicatePushRate": 1.0 }))
        .await;
    assert_eq!(status, 200);
    let id = sim.acknowledged_order(json!({})).await;
    wait_for("the duplicate", async || intake.count() == 2).await;
    let view = sim.order(id).await;
    let kinds: Vec<&str> = view["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["original", "duplicate"]);
    let (status, _) = sim.put("/faults", json!({})).await;
    assert_eq!(status, 200);

    // Five copies at once, each held by the intake long enough to overlap.
    intake.set_default(Reply::AckAfter(400));
    let (status, answer) = sim
        .post(&format!("/orders/{id}/repush"), json!({ "copies": 5 }))
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["queued"].as_array().map(Vec::len), Some(5));
    wait_for("five copies", async || intake.count() == 7).await;
    wait_for("their acknowledgements", async || {
        sim.order(id).await["deliveries"]
            .as_array()
            .is_some_and(|d| d.iter().all(|d| d["state"] == "acknowledged"))
    })
    .await;
    assert_eq!(
        intake.max_in_flight.load(Ordering::SeqCst),
        5,
        "copies overlap"
    );
    let received = intake.received();
    let bodies: BTreeSet<&str> = received
        .iter()
        .map(|r| r.form["daojiaJson"].as_str())
        .collect();
    assert_eq!(bodies.len(), 1);
    let view = sim.order(id).await;
    let deliveries = view["deliveries"].as_array().expect("deliveries");
    let batches: BTreeSet<String> = deliveries[2..]
        .iter()
        .map(|d| d["batch"].to_string())
        .collect();
    assert_eq!(batches.len(), 1);
    assert_eq!(view["pushAttempts"], 7);

    // A single repush is a plain copy.
    intake.set_default(Reply::Ack);
    let (status, _) = sim.post(&format!("/orders/{id}/repush"), json!({})).await;
    assert_eq!(status, 202);
    wait_for("one more", async || intake.count() == 8).await;
    let (status, _) = sim
        .post("/orders/31421593368511488/repush", json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn scheduled_pushes() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(
        Daojia58SandboxConfig {
            push_every_secs: Some(1),
            ..quiet()
        },
        &intake,
    )
    .await;
    wait_for("a scheduled order", async || intake.count() >= 1).await;
    let orders = sim.get("/orders").await;
    assert_eq!(orders[0]["origin"], "schedule");
    let (status, schedule) = sim.put("/schedule", json!({ "pushEverySecs": null })).await;
    assert_eq!(status, 200);
    assert_eq!(schedule["pushEverySecs"], Value::Null);
    assert_eq!(schedule["ackDeadlineMs"], 1_000);
    // Lets a push already in flight when the schedule was switched off land, then proves a
    // negative (bounded): no new scheduled push within more than one `pushEverySecs` period.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = intake.count();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(intake.count(), before, "the schedule is off");
}

#[tokio::test]
async fn pushes_come_from_the_configured_source_address() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(
        Daojia58SandboxConfig {
            push_source_ip: Some("127.0.0.2".parse().expect("ip")),
            ..quiet()
        },
        &intake,
    )
    .await;
    sim.acknowledged_order(json!({})).await;
    assert_eq!(intake.received()[0].remote.ip().to_string(), "127.0.0.2");
}

// ---------------------------------------------------------------- updateOrderDetail

#[tokio::test]
async fn updates_walk_both_sequences() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(quiet(), &intake).await;

    // Pay first, form-encoded.
    let a = sim.acknowledged_order(json!({})).await;
    for status in [20, 30, 40, 50, 60] {
        let (_, answer) = sim
            .form(UPDATE, &signed(&update_json(a, "OH-A", status)))
            .await;
        assert_eq!(code(&answer), 0, "{status}: {answer}");
        assert_eq!(answer["msg"], "success");
        assert_eq!(answer["data"]["orderStatus"], status);
        assert_eq!(answer["data"]["orderId"].as_i64(), Some(a));
    }
    // At-least-once: the last one again is a success that changes nothing.
    assert_eq!(sim.update(a, "OH-A", 60).await, 0);
    let view = sim.order(a).await;
    let history: Vec<i64> = view["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["status"].as_i64())
        .collect();
    assert_eq!(history, [10, 20, 30, 40, 50, 60]);
    assert_eq!(view["history"][1]["source"], "update");
    assert!(view["history"][1]["at"].is_string());
    assert_eq!(view["paid"], true);
    assert_eq!(view["thirdOrderId"], "OH-A");
    assert_eq!(view["serviceUserName"], "王师傅");
    let outcomes: Vec<String> = sim
        .updates(a)
        .await
        .iter()
        .map(|u| {
            format!(
                "{}:{}",
                u["orderStatus"],
                u["outcome"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "20:applied",
            "30:applied",
            "40:applied",
            "50:applied",
            "60:applied",
            "60:repeated"
        ]
    );
    let log = sim.updates(a).await;
    assert_eq!(log[0]["bodyFormat"], "form");
    assert_eq!(log[0]["fromStatus"], 10);
    assert_eq!(log[0]["params"]["serviceKey"], KEY);

    // Serve first, JSON body.
    let b = sim.acknowledged_order(json!({})).await;
    for status in [20, 50, 30, 40, 60] {
        let (http, answer) = sim
            .json_body(UPDATE, &signed(&update_json(b, "OH-B", status)))
            .await;
        assert_eq!(http, 200);
        assert_eq!(code(&answer), 0, "{status}: {answer}");
    }
    assert_eq!(sim.status_of(b).await, 60);
    assert_eq!(sim.updates(b).await[0]["bodyFormat"], "json");
    // The order id may also come as a string of digits.
    let c = sim.acknowledged_order(json!({})).await;
    let as_text = json!({ "orderId": c.to_string(), "thirdOrderId": "OH-C", "orderStatus": 20 });
    let (_, answer) = sim.form(UPDATE, &signed(&as_text.to_string())).await;
    assert_eq!(code(&answer), 0, "{answer}");
}

#[tokio::test]
async fn update_refusals() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(quiet(), &intake).await;
    let id = sim.acknowledged_order(json!({})).await;
    let accept = update_json(id, "OH-R", 20);

    // The gate.
    let wrong_secret = resigned(signed(&accept), "format", "json", "another_secret");
    let (_, answer) = sim.form(UPDATE, &wrong_secret).await;
    assert_eq!(code(&answer), 1001, "{answer}");
    let sign = documented_sign(SECRET, &signed(&accept)).to_lowercase();
    let (_, answer) = sim.form(UPDATE, &with_sign(signed(&accept), &sign)).await;
    assert_eq!(code(&answer), 1001, "{answer}");
    for minutes in [-11, 11] {
        let stale = signed_at(&accept, Utc::now() + TimeDelta::minutes(minutes));
        let (_, answer) = sim.form(UPDATE, &stale).await;
        assert_eq!(code(&answer), 1002, "{minutes}: {answer}");
    }
    let bad_token = resigned(signed(&accept), "accessToken", "0000", SECRET);
    let (_, answer) = sim.form(UPDATE, &bad_token).await;
    assert_eq!(code(&answer), 1003, "{answer}");
    let bad_key = resigned(signed(&accept), "serviceKey", "1234567890", SECRET);
    let (_, answer) = sim.form(UPDATE, &bad_key).await;
    assert_eq!(code(&answer), 1009, "{answer}");
    let no_format = without(signed(&accept), "format");
    let (_, answer) = sim.form(UPDATE, &no_format).await;
    assert_eq!(code(&answer), 1006, "{answer}");
    assert!(
        answer["msg"].as_str().is_some_and(|m| m.contains("format")),
        "{answer}"
    );
    let xml = resigned(signed(&accept), "format", "xml", SECRET);
    let (_, answer) = sim.form(UPDATE, &xml).await;
    assert_eq!(code(&answer), 1006, "{answer}");
    let bad_time = resigned(signed(&accept), "timestamp", "2016/01/10 10:00", SECRET);
    let (_, answer) = sim.form(UPDATE, &bad_time).await;
    assert_eq!(code(&answer), 1006, "{answer}");
    let response = sim
        .http
        .post(format!("{}{UPDATE}", sim.base))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(code(&response.json().await.unwrap_or(Value::Null)), 1006);
    // Within the skew is fine.
    let (_, answer) = sim
        .form(
            UPDATE,
            &signed_at(&accept, Utc::now() - TimeDelta::minutes(9)),
        )
        .await;
    assert_eq!(code(&answer), 0, "{answer}");

    // The order's rules.
    assert_eq!(sim.update(31_421_593_368_511_488, "OH-X", 20).await, 1004);
    assert_eq!(sim.update(id, "OH-R", 40).await, 1005, "20 → 40 skips 30");
    assert_eq!(sim.update(id, "OH-R", 10).await, 1005, "no going back");
    assert_eq!(
        sim.update(id, "OH-OTHER", 30).await,
        1011,
        "thirdOrderId is bound"
    );
    let (_, answer) = sim
        .form(UPDATE, &signed(&update_json(id, "OH-R", 25)))
        .await;
    assert_eq!(code(&answer), 1006, "{answer}");
    assert_eq!(sim.status_of(id).await, 20, "refusals change nothing");

    // Price may change before payment, not after.
    let repriced = json!({ "orderId": id, "thirdOrderId": "OH-R", "orderStatus": 30,
        "orderDetails": [{ "goodsId": 20001, "goodsNumber": 3, "goodsPrice": 35 }] });
    let (_, answer) = sim.form(UPDATE, &signed(&repriced.to_string())).await;
    assert_eq!(code(&answer), 0, "{answer}");
    assert_eq!(sim.order(id).await["totalPriceFen"], 10_500);
    assert_eq!(sim.update(id, "OH-R", 40).await, 0);
    let again =
        json!({ "orderId": id, "thirdOrderId": "OH-R", "orderStatus": 40, "totalPrice": "105.00" });
    let (_, answer) = sim.form(UPDATE, &signed(&again.to_string())).await;
    assert_eq!(code(&answer), 0, "same price after payment: {answer}");
    let raised =
        json!({ "orderId": id, "thirdOrderId": "OH-R", "orderStatus": 50, "totalPrice": 120 });
    let (_, answer) = sim.form(UPDATE, &signed(&raised.to_string())).await;
    assert_eq!(code(&answer), 1010, "{answer}");

    // Cancel from any non-final status; nothing after it.
    assert_eq!(sim.update(id, "OH-R", 70).await, 0);
    assert_eq!(
        sim.update(id, "OH-R", 70).await,
        0,
        "cancel again is a repeat"
    );
    assert_eq!(sim.update(id, "OH-R", 50).await, 1005);
    // Completed orders cannot be cancelled.
    let done = sim.acknowledged_order(json!({})).await;
    for status in [20, 50, 30, 40, 60] {
        assert_eq!(sim.update(done, "OH-D", status).await, 0);
    }
    assert_eq!(sim.update(done, "OH-D", 70).await, 1005);

    // Every call is in the log, with its reason.
    let log = sim.updates(id).await;
    let refused: Vec<i64> = log
        .iter()
        .filter(|u| u["outcome"] == "refused")
        .filter_map(|u| u["code"].as_i64())
        .collect();
    assert_eq!(
        refused,
        [
            1001, 1001, 1002, 1002, 1003, 1009, 1006, 1006, 1006, 1005, 1005, 1011, 1006, 1010,
            1005
        ]
    );
    assert!(
        log.iter()
            .all(|u| u["msg"].as_str().is_some_and(|m| !m.is_empty()))
    );
    let seqs: Vec<i64> = log.iter().filter_map(|u| u["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let history: Vec<i64> = sim.order(id).await["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["status"].as_i64())
        .collect();
    assert_eq!(history, [10, 20, 30, 40, 70]);
}

#[tokio::test]
async fn injected_faults_on_the_update_api() {
    let intake = Intake::start(vec![]).await;
    let sim = Sim::with_intake(quiet(), &intake).await;
    let id = sim.acknowledged_order(json!({})).await;

    // 5xx: nothing happens.
    let (status, _) = sim.put("/faults", json!({ "errorRate": 1.0 })).await;
    assert_eq!(status, 200);
    for _ in 0..6 {
        let (http, _) = sim
            .form(UPDATE, &signed(&update_json(id, "OH-F", 20)))
            .await;
        assert!(http == 500 || http == 503, "{http}");
    }
    assert_eq!(sim.status_of(id).await, 10);
    let log = sim.updates(id).await;
    assert!(log.iter().all(|u| u["outcome"] == "fault"));
    assert!(
        log.iter()
            .all(|u| u["httpStatus"] == 500 || u["httpStatus"] == 503)
    );

    // A hang: the update is applied, the answer never comes in time.
    let (status, _) = sim
        .put("/faults", json!({ "timeoutRate": 1.0, "hangMs": 5_000 }))
        .await;
    assert_eq!(status, 200);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let error = impatient
        .post(format!("{}{UPDATE}", sim.base))
        .form(&signed(&update_json(id, "OH-F", 20)))
        .send()
        .await
        .expect_err("the call times out");
    assert!(error.is_timeout(), "{error}");
    assert_eq!(sim.status_of(id).await, 20, "processed although unanswered");
    let last = sim.updates(id).await.last().cloned().unwrap_or_default();
    assert_eq!(last["outcome"], "applied");
    assert_eq!(last["answerWithheld"], true);

    // Slow answers arrive, late.
    let (status, _) = sim
        .put("/faults", json!({ "slowRate": 1.0, "slowMs": 300 }))
        .await;
    assert_eq!(status, 200);
    let started = Instant::now();
    // The retry of the timed-out call is a repeat: success.
    assert_eq!(sim.update(id, "OH-F", 20).await, 0);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        sim.updates(id).await.last().map(|u| u["outcome"].clone()),
        Some(json!("repeated"))
    );

    // Latency on every call.
    let (status, faults) = sim.put("/faults", json!({ "latencyMs": 200 })).await;
    assert_eq!(status, 200);
    assert_eq!(faults["timeoutRate"], 0.0);
    let started = Instant::now();
    assert_eq!(sim.update(id, "OH-F", 30).await, 0);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(sim.get("/faults").await["latencyMs"], 200);
}

// ---------------------------------------------------------------- technicians and goods types

#[tokio::test]
async fn service_users_and_goods_types() {
    let sim = Sim::start(quiet()).await;
    let user = json!({
        "userId": "T-001", "userName": "李阿姨", "userPhone": "13700001111", "userAge": 45,
        "userSex": 0, "userPic": "https://img.example.com/t1.jpg", "userRemark": "十年经验",
        "userStatus": 1,
    });
    let (_, answer) = sim.form(SAVE_USER, &signed(&user.to_string())).await;
    assert_eq!(code(&answer), 0, "{answer}");
    assert_eq!(answer["data"]["created"], true);
    let (_, answer) = sim.json_body(SAVE_USER, &signed(&user.to_string())).await;
    assert_eq!(answer["data"]["created"], false);
    for (field, value) in [
        ("userPhone", json!("12345")),
        ("userSex", json!(2)),
        ("userName", Value::Null),
        ("userAge", json!(7)),
        ("userPic", json!("ftp://x")),
        ("userStatus", json!(3)),
    ] {
        let mut bad = user.clone();
        bad[field] = value;
        let (_, answer) = sim.form(SAVE_USER, &signed(&bad.to_string())).await;
        assert_eq!(code(&answer), 1006, "{field}: {answer}");
    }
    let unsigned = with_sign(
        signed(&user.to_string()),
        "0123456789ABCDEF0123456789ABCDEF",
    );
    let (_, answer) = sim.form(SAVE_USER, &unsigned).await;
    assert_eq!(code(&answer), 1001);
    let users = sim.get("/service-users").await;
    assert_eq!(users.as_array().map(Vec::len), Some(1));
    assert_eq!(users[0]["userName"], "李阿姨");
    assert_eq!(users[0]["userSex"], 0);
    assert_eq!(users[0]["saves"], 2);

    // A customer may pick the saved technician.
    let intake = Intake::start(vec![]).await;
    sim.sandbox.set_push_url(intake.url());
    let id = sim
        .acknowledged_order(json!({ "serviceUserId": "T-001" }))
        .await;
    assert_eq!(sim.order(id).await["order"]["serviceUserId"], "T-001");

    let child = json!({ "typeId": 11, "typeParentId": 1, "typeName": "日常保洁", "typeStatus": 1,
        "createTime": "2024-05-01 09:00:00", "serviceCode": "RCBJ" });
    let (_, answer) = sim.form(SAVE_TYPE, &signed(&child.to_string())).await;
    assert_eq!(code(&answer), 1012, "parent first: {answer}");
    let root = json!({ "typeId": 1, "typeParentId": 0, "typeName": "家庭保洁", "typeStatus": 1 });
    let (_, answer) = sim.form(SAVE_TYPE, &signed(&root.to_string())).await;
    assert_eq!(code(&answer), 0, "{answer}");
    let (_, answer) = sim.form(SAVE_TYPE, &signed(&child.to_string())).await;
    assert_eq!(code(&answer), 0, "{answer}");
    let mut bad = child.clone();
    bad["createTime"] = json!("2024-05-01");
    let (_, answer) = sim.form(SAVE_TYPE, &signed(&bad.to_string())).await;
    assert_eq!(code(&answer), 1006);
    let types = sim.get("/goods-types").await;
    assert_eq!(types.as_array().map(Vec::len), Some(2));
}

// ---------------------------------------------------------------- control routes

#[tokio::test]
async fn control_routes_refuse_nonsense() {
    let sim = Sim::start(quiet()).await;
    assert_eq!(sim.put("/faults", json!({ "errorRate": 2 })).await.0, 400);
    assert_eq!(
        sim.put("/faults", json!({ "dropCallbackRate": 0.5 }))
            .await
            .0,
        400
    );
    assert_eq!(sim.put("/schedule", json!({ "pushEvery": 1 })).await.0, 400);
    assert_eq!(
        sim.put("/schedule", json!({ "pushMaxAttempts": 0 }))
            .await
            .0,
        400
    );
    assert_eq!(
        sim.put("/schedule", json!({ "ackDeadlineMs": 0 })).await.0,
        400
    );
    assert_eq!(
        sim.put("/schedule", json!({ "ackDeadlineMs": u64::MAX }))
            .await
            .0,
        400
    );
    let (status, schedule) = sim
        .put(
            "/schedule",
            json!({ "pushMaxAttempts": 3, "pushRetryInitialMs": 10 }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(schedule["pushMaxAttempts"], 3);
    assert_eq!(schedule["pushEverySecs"], Value::Null);
    assert_eq!(
        sim.control(reqwest::Method::GET, "/orders/abc", None)
            .await
            .0,
        404
    );
    assert_eq!(
        sim.control(reqwest::Method::GET, "/orders/1", None).await.0,
        404
    );
    let id = sim
        .push(json!({ "orderId": 5_000_000_000_000_000_001i64 }))
        .await;
    assert_eq!(id, 5_000_000_000_000_000_001);
    assert_eq!(sim.post("/push", json!({ "orderId": id })).await.0, 409);
    assert_eq!(sim.post("/push", json!({ "orderID": 1 })).await.0, 400);
    assert_eq!(
        sim.post("/push", json!({ "totalPrice": "1.001" })).await.0,
        400
    );
    assert_eq!(
        sim.post("/push", json!({ "serviceBeginTime": "tomorrow" }))
            .await
            .0,
        400
    );
    let beyond =
        json!({ "serviceBeginTime": "9999-12-31 10:00:00", "serviceDuration": 4_000_000_000u32 });
    assert_eq!(sim.post("/push", beyond).await.0, 400);
    assert_eq!(
        sim.post(&format!("/orders/{id}/repush"), json!({ "copies": 0 }))
            .await
            .0,
        400
    );
    assert_eq!(
        sim.put("/push-url", json!({ "url": "ftp://x" })).await.0,
        400
    );
    // The simulator signs what it pushes: it pushes to this machine only.
    for elsewhere in [
        "http://example.com/intake",
        "http://10.0.0.8/intake",
        "http://[::2]/x",
    ] {
        assert_eq!(
            sim.put("/push-url", json!({ "url": elsewhere })).await.0,
            400,
            "{elsewhere}"
        );
    }
    assert_eq!(
        sim.put("/push-url", json!({ "url": "http://localhost:9/intake" }))
            .await
            .0,
        200
    );
    assert_eq!(
        sim.control(reqwest::Method::GET, "/updates?orderId=x", None)
            .await
            .0,
        400
    );
    let orders = sim.get("/orders").await;
    assert_eq!(orders.as_array().map(Vec::len), Some(1));
    // Pushed with explicit lines and no total: the total follows the lines.
    let id = sim
        .push(
            json!({ "orderDetails": [{ "goodsId": 7, "goodsNumber": 2, "goodsPrice": "12.34" }] }),
        )
        .await;
    let view = sim.order(id).await;
    assert_eq!(view["totalPriceFen"], 2_468);
    assert_eq!(view["order"]["totalPrice"], 24.68);
}
