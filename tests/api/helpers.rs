//! Spawning the real server (port 0, in-process sandboxes) on a fresh database, and small
//! clients for GraphQL over HTTP, graphql-ws and the sandbox's control routes.
//!
//! Waiting: tests never sleep for a fixed time in place of a condition. [`wait_until`] is
//! the one polling loop (a deadline, a clear panic naming what was awaited and what was last
//! seen); everything else waits on something observable: an event in the order's timeline or
//! on the subscription, a row state read through GraphQL, a counter or state of a sandbox
//! read through its `/_control` routes. Proving that something did *not* happen means waiting
//! for a later positive marker that shows the system has moved past the point.
//!
//! PostgreSQL: every [`on_every_backend!`] test has a `sqlite` and a `postgres` variant (and
//! [`postgres_only!`] tests have only the latter). libtest cannot decide at run time that a
//! test is skipped, and a variant that returns early would be counted as *passed*; so the
//! PostgreSQL variants are `#[ignore]`d with a `SKIPPED: …` reason, which `cargo test` prints
//! on the test's line and counts under "ignored". They run when asked for:
//!
//! ```text
//! scripts/with-postgres.sh cargo test --workspace --locked -- --include-ignored
//! ```
//!
//! (CI runs exactly that). Asked for without ORDERHUB_TEST_DATABASE_URL, they fail with a
//! message saying so rather than pass without having run.

use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveTime, Utc};
use futures::{SinkExt, StreamExt};
use orderhub::{Application, Config};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PG_ENV: &str = "ORDERHUB_TEST_DATABASE_URL";

/// Called first by every PostgreSQL test: they are ignored unless asked for, and once asked
/// for they must really run.
pub fn require_postgres() {
    assert!(
        std::env::var_os(PG_ENV).is_some(),
        "this PostgreSQL test was asked for (--include-ignored) but {PG_ENV} is not set: \
         run it through scripts/with-postgres.sh or point {PG_ENV} at a server"
    );
}

/// Runs the test on SQLite, and on PostgreSQL when asked for (see the module's notes).
/// `on_every_backend!(name, body)` hands `body` a spawned [`TestApp`];
/// `on_every_backend!(name, body, by_backend)` hands it the [`Backend`], for tests that spawn
/// their own apps with a configuration of their own.
#[macro_export]
macro_rules! on_every_backend {
    ($name:ident, $body:path) => {
        $crate::on_every_backend!(@variants $name, |backend| async move {
            $body($crate::helpers::TestApp::spawn(backend).await).await
        });
    };
    ($name:ident, $body:path, by_backend) => {
        $crate::on_every_backend!(@variants $name, $body);
    };
    (@variants $name:ident, $run:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($run)($crate::helpers::Backend::Sqlite).await;
            }
            $crate::postgres_only! {
                async fn postgres() {
                    ($run)($crate::helpers::Backend::Postgres).await;
                }
            }
        }
    };
}

/// A test that runs on PostgreSQL only: ignored (and shown as SKIPPED) unless asked for.
#[macro_export]
macro_rules! postgres_only {
    ($(#[doc = $doc:literal])* async fn $name:ident() $body:block) => {
        $crate::postgres_only!(@workers 2, $(#[doc = $doc])* async fn $name() $body);
    };
    (@workers $n:literal, $(#[doc = $doc:literal])* async fn $name:ident() $body:block) => {
        $(#[doc = $doc])*
        #[tokio::test(flavor = "multi_thread", worker_threads = $n)]
        #[ignore = "SKIPPED: PostgreSQL variant; set ORDERHUB_TEST_DATABASE_URL or run scripts/with-postgres.sh, with -- --include-ignored"]
        async fn $name() {
            $crate::helpers::require_postgres();
            $body
        }
    };
}

/// How often [`wait_until`] looks again.
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Ok`; panics after `within`, naming `what` and showing the
/// last `Err` (what was seen instead). The one polling loop of the tests.
pub async fn wait_until<T, E, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("waited {within:?} for {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// Waits until the wall clock is past the whole second `unix_secs` (platforms that date
/// their news in whole seconds tell two moves in one second apart by nothing else).
pub async fn wait_past_second(unix_secs: i64) {
    wait_until(
        &format!("the clock to pass second {unix_secs}"),
        Duration::from_secs(3),
        || async {
            let now = Utc::now().timestamp();
            if now > unix_secs { Ok(()) } else { Err(now) }
        },
    )
    .await
}

pub struct TestApp {
    pub base: String,
    /// The database this instance uses (another instance can share it).
    pub database_url: String,
    pub http: reqwest::Client,
    /// The API key [`TestApp::gql`] and [`TestApp::subscribe`] send (none: anonymous).
    key: std::sync::Mutex<Option<String>>,
    /// The deployment talks to a real platform (its keys are live ones).
    live: bool,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// The configuration every test starts from: quick polling and retries, no automatic
/// status moves (tests drive them through the sandbox's control routes).
pub fn test_config(dir: &std::path::Path, db_url: String) -> Config {
    let mut c = Config::default();
    c.server.port = 0;
    c.server.shutdown_grace_secs = 5;
    c.database.url = SecretString::from(db_url);
    c.daoway.poll_interval_ms = 200;
    c.daoway.request_timeout_ms = 3_000;
    c.sandbox.daoway.confirm_after_secs = None;
    c.sandbox.daoway.complete_after_secs = None;
    c.sandbox.daoway.notify_initial_backoff_ms = 100;
    // Dada: no automatic moves (tests drive them), quick callback retries, and a poller slow
    // enough that callbacks (not polls) move the orders unless a test says otherwise.
    c.sandbox.dada.accept_after_secs = None;
    c.sandbox.dada.fetch_after_secs = None;
    c.sandbox.dada.finish_after_secs = None;
    c.sandbox.dada.callback_initial_backoff_ms = 100;
    c.dada.poll_interval_ms = 600_000;
    c.dada.request_timeout_ms = 3_000;
    // WeChat: the same, for every company.
    c.sandbox.wechat.accept_after_secs = None;
    c.sandbox.wechat.arrive_after_secs = None;
    c.sandbox.wechat.pickup_after_secs = None;
    c.sandbox.wechat.deliver_after_secs = None;
    c.sandbox.wechat.system_cancel_after_secs = None;
    c.sandbox.wechat.push_initial_backoff_ms = 100;
    c.wechat.poll_interval_ms = 600_000;
    c.wechat.request_timeout_ms = 3_000;
    // 58 Daojia: pushes only on demand, quick retries.
    c.sandbox.daojia58.push_every_secs = None;
    c.sandbox.daojia58.push_retry_initial_ms = 100;
    c.outbox.poll_interval_ms = 100;
    c.outbox.initial_backoff_ms = 100;
    // The tests poll full order pages every 50 ms, far beyond any client's budget; the cost
    // limit itself is tested with its own small bucket (edge.rs).
    c.limits.cost_bucket = 100_000_000;
    c.limits.cost_restore_per_sec = 100_000_000;
    let _ = dir;
    c
}

/// A fresh database for `backend` (a file in `dir`, or a new PostgreSQL database).
pub async fn database_url(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
        Backend::Postgres => {
            let admin = std::env::var(PG_ENV).expect("checked by the macro");
            let name = format!("orderhub_test_{}", uuid::Uuid::new_v4().simple());
            let conn = Database::connect(&admin)
                .await
                .expect("connect to the test server");
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            let mut url = reqwest::Url::parse(&admin).expect("test database URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}

/// The Dada stores the app imports in the background at start-up with this configuration
/// (as `Application::build` decides), except where the import is meant to fail: with
/// credentials of the test's own (a wrong secret), Dada refuses every call.
fn startup_dada_imports(config: &Config) -> Vec<String> {
    let dada = &config.dada;
    if !dada.enabled || dada.app_secret.is_some() {
        return Vec::new();
    }
    match &dada.import_shops {
        Some(list) => list.clone(),
        None if dada.base_url.is_none() => {
            orderhub_sandbox::dada::DadaSandbox::seeded_shop_numbers()
        }
        None => Vec::new(),
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = database_url(backend, dir.path()).await;
        let mut config = test_config(dir.path(), url);
        tweak(&mut config);
        let database_url = secrecy::ExposeSecret::expose_secret(&config.database.url).to_owned();
        let imports = startup_dada_imports(&config);
        let keys_required = !orderhub::access::anonymous_allowed(&config);
        let live = config.live();
        let app = Application::build(config).await.expect("app builds");
        let base = app.base_url().to_owned();
        let shutdown = app.shutdown_token();
        let handle = tokio::spawn(app.run_until_stopped(std::future::pending()));
        let app = Self {
            base,
            database_url,
            http: reqwest::Client::new(),
            key: std::sync::Mutex::new(None),
            live,
            shutdown,
            handle: Some(handle),
            _dir: dir,
        };
        if keys_required {
            // A deployment that requires keys: the helpers call as an admin (tests of access
            // control call with their own keys through `gql_as`).
            let issued = app
                .access()
                .await
                .create_key(orderhub::access::NewKey {
                    name: "test admin".into(),
                    scopes: vec![orderhub::access::Scope::Admin],
                    shops: None,
                })
                .await
                .expect("an admin key");
            app.use_key(&issued.secret);
        }
        app.wait_dada_imports(&imports).await;
        app
    }

    /// Waits until the Dada stores imported in the background at start-up are all stored, so
    /// no test races the import (a shop list read twice would otherwise differ).
    async fn wait_dada_imports(&self, shop_nos: &[String]) {
        if shop_nos.is_empty() {
            return;
        }
        let query =
            "{ shops(filter: {provider: DADA}, first: 50) { edges { node { externalId } } } }";
        wait_until(
            "the start-up import of the Dada stores",
            Duration::from_secs(15),
            || async {
                let d = self.gql_ok(query, json!({})).await;
                let have: Vec<&str> = d["shops"]["edges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["node"]["externalId"].as_str())
                    .collect();
                let missing: Vec<&String> = shop_nos
                    .iter()
                    .filter(|no| !have.contains(&no.as_str()))
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(format!("missing {missing:?}"))
                }
            },
        )
        .await
    }

    /// Stops the server the way a signal does and waits for it.
    pub async fn stop(mut self) -> Duration {
        let started = std::time::Instant::now();
        self.shutdown.cancel();
        if let Some(h) = self.handle.take() {
            h.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        started.elapsed()
    }

    /// Ends the server as a crash would: its tasks are dropped where they stand, nothing is
    /// given back or recorded (leases run out on their own).
    pub fn kill(mut self) {
        self.shutdown = CancellationToken::new();
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }

    /// The key service over this app's database, as the `orderhub keys` CLI uses it.
    pub async fn access(&self) -> orderhub::access::AccessService {
        let config = orderhub::config::DatabaseConfig {
            url: SecretString::from(self.database_url.clone()),
            ..Default::default()
        };
        let db = orderhub::db::connect(&config, Default::default())
            .await
            .expect("connect for keys");
        orderhub::access::AccessService::new(db, self.live, false)
    }

    /// From now on, [`TestApp::gql`] and [`TestApp::subscribe`] call with this API key.
    pub fn use_key(&self, key: &str) {
        *self.key.lock().expect("key lock") = Some(key.to_owned());
    }

    /// The key the helpers call with (a deployment that requires keys gets an admin one).
    pub fn key_for_tests(&self) -> String {
        self.key()
            .expect("this app requires keys, so the helpers hold one")
    }

    pub fn key(&self) -> Option<String> {
        self.key.lock().expect("key lock").clone()
    }

    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(self.key().as_deref(), query, variables).await.1
    }

    /// A POST /graphql with `key` (or none): the HTTP status and the JSON answer.
    pub async fn gql_as(&self, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("POST /graphql");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON answer"))
    }

    /// `data` of a query that must succeed without errors.
    pub async fn gql_ok(&self, query: &str, variables: Value) -> Value {
        let v = self.gql(query, variables).await;
        assert!(v.get("errors").is_none(), "unexpected errors: {v:#}");
        v["data"].clone()
    }

    pub fn sandbox(&self, path: &str) -> String {
        format!("{}/sandbox/daoway{path}", self.base)
    }

    pub async fn control_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.sandbox(path))
            .json(&body)
            .send()
            .await
            .expect("control route")
    }

    pub async fn control_put(&self, path: &str, body: Value) -> Value {
        self.put_json(self.sandbox(path), body).await
    }

    pub async fn control_get(&self, path: &str) -> Value {
        self.get_json(self.sandbox(path)).await
    }

    /// A URL of the Dada sandbox.
    pub fn dada(&self, path: &str) -> String {
        format!("{}/sandbox/dada{path}", self.base)
    }

    /// POSTs to a Dada sandbox control route; returns status and JSON body.
    pub async fn dada_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_json(self.dada(path), body).await
    }

    pub async fn dada_put(&self, path: &str, body: Value) -> Value {
        self.put_json(self.dada(path), body).await
    }

    pub async fn dada_get(&self, path: &str) -> Value {
        self.get_json(self.dada(path)).await
    }

    /// A URL of the WeChat sandbox.
    pub fn wechat(&self, path: &str) -> String {
        format!("{}/sandbox/wechat{path}", self.base)
    }

    /// POSTs to a WeChat sandbox control route; returns status and JSON body.
    pub async fn wechat_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_json(self.wechat(path), body).await
    }

    pub async fn wechat_put(&self, path: &str, body: Value) -> Value {
        self.put_json(self.wechat(path), body).await
    }

    pub async fn wechat_get(&self, path: &str) -> Value {
        self.get_json(self.wechat(path)).await
    }

    /// The `Shop` id of a WeChat store (from configuration, written at start-up).
    pub async fn wechat_shop(&self, shop_no: &str) -> String {
        self.store_shop("WECHAT", shop_no).await
    }

    /// The `Shop` id of an imported Dada store (imported in the background at start-up).
    pub async fn dada_shop(&self, shop_no: &str) -> String {
        self.store_shop("DADA", shop_no).await
    }

    /// The `Shop` id of our store `shop_no` at a courier network, once it is there.
    async fn store_shop(&self, provider: &str, shop_no: &str) -> String {
        let query = format!(
            "{{ shops(filter: {{provider: {provider}}}, first: 50) {{ edges {{ node {{ id externalId }} }} }} }}"
        );
        self.eventually(10, || async {
            let d = self.gql_ok(&query, json!({})).await;
            d["shops"]["edges"]
                .as_array()?
                .iter()
                .find(|e| e["node"]["externalId"] == shop_no)
                .and_then(|e| e["node"]["id"].as_str().map(str::to_owned))
        })
        .await
    }

    /// POSTs JSON to a sandbox route; its status and JSON answer.
    async fn post_json(&self, url: String, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("sandbox route");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// PUTs JSON to a sandbox route that must accept it; its JSON answer.
    async fn put_json(&self, url: String, body: Value) -> Value {
        let r = self
            .http
            .put(&url)
            .json(&body)
            .send()
            .await
            .expect("sandbox route");
        assert!(r.status().is_success(), "PUT {url}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    async fn get_json(&self, url: String) -> Value {
        self.http
            .get(url)
            .send()
            .await
            .expect("sandbox route")
            .json()
            .await
            .expect("json")
    }

    pub async fn balance_fen(&self) -> i64 {
        self.control_get("/_control/accounts/apitest").await["balanceFen"]
            .as_i64()
            .expect("balanceFen")
    }

    pub async fn metric(&self, name: &str) -> f64 {
        let mut req = self.http.get(format!("{}/metrics", self.base));
        if let Some(k) = self.key() {
            req = req.bearer_auth(k);
        }
        let text = req.send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }

    /// Polls `check` until it returns Some, or panics after `secs` (see [`wait_until`]).
    pub async fn eventually<T, F, Fut>(&self, secs: u64, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        wait_until("a condition", Duration::from_secs(secs), || {
            let next = check();
            async move { next.await.ok_or("not yet") }
        })
        .await
    }

    pub async fn subscribe(&self, query: &str, variables: Value) -> Subscription {
        Subscription::open_as(&self.base, self.key().as_deref(), query, variables).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A graphql-ws (graphql-transport-ws) subscription.
pub struct Subscription {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// Messages that arrived while [`Subscription::wait_live`] waited for its pongs.
    early: std::collections::VecDeque<Value>,
}

impl Subscription {
    /// Opens one with `key` in the `connection_init` payload, as GraphiQL sends its headers.
    pub async fn open_as(base: &str, key: Option<&str>, query: &str, variables: Value) -> Self {
        let init = match key {
            Some(k) => json!({"Authorization": format!("Bearer {k}")}),
            None => json!({}),
        };
        Self::open_with_init(base, init, query, variables).await
    }

    /// Opens one with `init` as the `connection_init` payload (a key, a `lastEventId`).
    pub async fn open_with_init(base: &str, init: Value, query: &str, variables: Value) -> Self {
        let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect");
        let init = json!({"type": "connection_init", "payload": init});
        ws.send(Message::text(init.to_string())).await.unwrap();
        let ack = next_json(&mut ws).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws.send(Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}).to_string(),
        ))
        .await
        .unwrap();
        let mut s = Self {
            ws,
            early: Default::default(),
        };
        s.wait_live().await;
        s
    }

    /// Waits until the server has taken the subscription up, so that events published right
    /// after are not raced. graphql-ws does not acknowledge a `subscribe`, but the server reads
    /// a connection's messages in order and, once it has answered a ping, polls the streams it
    /// has started before it reads the next message: two answered pings after the `subscribe`
    /// mean our stream has run (it subscribes to the event bus first thing, then reads its
    /// baseline event id with a query already sent by then).
    async fn wait_live(&mut self) {
        for _ in 0..2 {
            self.ws
                .send(Message::text(json!({"type": "ping"}).to_string()))
                .await
                .expect("ws ping");
            let within = Duration::from_secs(10);
            tokio::time::timeout(within, async {
                loop {
                    let m = next_json(&mut self.ws).await;
                    match m["type"].as_str() {
                        Some("pong") => return,
                        Some("closed") => panic!("subscription closed before it was live: {m}"),
                        _ => self.early.push_back(m),
                    }
                }
            })
            .await
            .expect("the server answers a ping within 10 s");
        }
    }

    /// The next message: one that came early first.
    async fn next_message(&mut self) -> Value {
        match self.early.pop_front() {
            Some(m) => m,
            None => next_json(&mut self.ws).await,
        }
    }

    /// The next `next` payload's data, within `secs`.
    pub async fn next(&mut self, secs: u64) -> Value {
        tokio::time::timeout(Duration::from_secs(secs), async {
            loop {
                let m = self.next_message().await;
                match m["type"].as_str() {
                    Some("next") => return m["payload"].clone(),
                    Some("ping") => {
                        let _ = self
                            .ws
                            .send(Message::text(json!({"type": "pong"}).to_string()))
                            .await;
                    }
                    Some("error") | Some("complete") | Some("closed") => return m,
                    _ => {}
                }
            }
        })
        .await
        .expect("subscription event in time")
    }

    /// Nothing arrives within `ms`.
    pub async fn assert_quiet(&mut self, ms: u64) {
        if let Ok(m) = tokio::time::timeout(Duration::from_millis(ms), self.next_message()).await
            && m["type"] != "ping"
        {
            panic!("unexpected message: {m}");
        }
    }
}

async fn next_json(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("json message"),
            Some(Ok(Message::Close(_))) | None => return json!({"type": "closed"}),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return json!({"type": "closed", "error": e.to_string()}),
        }
    }
}

/// The first time the shop takes an appointment: its notice period plus an hour, on an open
/// day, an hour after opening (China time).
pub fn next_slot(hours: &Value) -> DateTime<Utc> {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let ahead = hours["aheadMinutes"].as_i64().unwrap_or(0);
    let start =
        NaiveTime::parse_from_str(hours["start"].as_str().unwrap_or("08:00"), "%H:%M").unwrap();
    let days: Vec<u32> = hours["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as u32)
        .collect();
    let earliest = (Utc::now() + ChronoDuration::minutes(ahead + 60)).with_timezone(&tz);
    let mut date = earliest.date_naive();
    loop {
        let at = date
            .and_time(start + ChronoDuration::hours(1))
            .and_local_timezone(tz)
            .unwrap();
        if at >= earliest && days.contains(&date.weekday().num_days_from_monday()) {
            return at.with_timezone(&Utc);
        }
        date = date.succ_opt().unwrap();
    }
}

pub const SHOP_DETAIL: &str = r#"query($id: ID!) { shop(id: $id) { id title city stale detailLoaded
  hours { start end days aheadMinutes }
  fees { fixFee { fen } noFixFeePrice { fen } minBuyPrice { fen } }
  prices { id externalId name amount { fen yuan } minBuyNum } } }"#;

pub const CREATE_ORDER: &str = r#"mutation($input: CreateOrderInput!) { createOrder(input: $input) {
  order { id externalId provider status rawStatus direction kind
    amounts { itemsTotal { fen } fee { fen } total { fen } balanceAfter { fen } }
    items { name quantity unitPrice { fen } amount { fen } }
    shop { id title }
    events { fromStatus toStatus rawStatus source applied } }
  userErrors { field message code platformCode } } }"#;

/// Finds shops in `city` (optionally matching `search`) and returns their ids.
pub async fn shop_ids(app: &TestApp, city: &str, search: Option<&str>) -> Vec<String> {
    let data = app
        .gql_ok(
            "query($f: ShopFilter) { shops(filter: $f, first: 50) { edges { node { id } } } }",
            json!({"f": {"city": city, "search": search}}),
        )
        .await;
    data["shops"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A shop's detail (hours, fees, prices).
pub async fn shop_detail(app: &TestApp, id: &str) -> Value {
    app.gql_ok(SHOP_DETAIL, json!({"id": id})).await["shop"].clone()
}

/// An order input for `shop` at its next slot, with each price at its minimum quantity.
pub fn order_input(shop: &Value, key: Option<&str>) -> Value {
    let price = &shop["prices"][0];
    json!({
        "shopId": shop["id"],
        "items": [{"priceId": price["id"], "quantity": price["minBuyNum"]}],
        "address": {"city": shop["city"], "street": "朝阳区建国路88号", "house": "3号楼1201"},
        "contact": {"name": "张三", "phone": "13800138000"},
        "appointTime": next_slot(&shop["hours"]).to_rfc3339(),
        "note": "请带鞋套",
        "idempotencyKey": key,
    })
}

/// The first shop whose detail satisfies `pred`, searched across the sandbox's cities.
pub async fn find_shop(app: &TestApp, pred: impl Fn(&Value) -> bool) -> Value {
    for city in ["北京", "上海", "广州", "深圳", "杭州"] {
        for id in shop_ids(app, city, None).await {
            let d = shop_detail(app, &id).await;
            if pred(&d) {
                return d;
            }
        }
    }
    panic!("no sandbox shop matches");
}

/// A shop an order can be placed at with its first price at minimum quantity.
pub fn plain_shop(d: &Value) -> bool {
    let min_buy = d["fees"]["minBuyPrice"]["fen"].as_i64().unwrap_or(0);
    let p = &d["prices"][0];
    p["amount"]["fen"].as_i64().unwrap_or(0) * p["minBuyNum"].as_i64().unwrap_or(1) >= min_buy
}
