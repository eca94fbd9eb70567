//! A dispatch plan outlives the process driving it: `orderhub serve` runs as a child process
//! over its own database, reaching the Dada and WeChat sandboxes of a test app (whose own
//! database and driver see none of it) as real platforms, and receiving their callbacks
//! itself. It places an automatic dispatch and is killed with SIGKILL while the plan waits
//! for a courier; a new process on the same address and database picks the plan up, moves
//! it to the next network when its switch time comes, and settles it once.

use std::{
    fmt::Write as _,
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    on_every_backend,
};

/// The child's configuration: the test app's sandboxes as real platforms, callbacks to the
/// child's own address.
fn child_config(a: &TestApp, db_url: &str, port: u16) -> String {
    let defaults = orderhub::Config::default();
    let (dada, wx) = (defaults.sandbox.dada, defaults.sandbox.wechat);
    let base = &a.base;
    let mut toml = format!(
        r#"
[server]
port = {port}
public_url = "http://127.0.0.1:{port}"
shutdown_grace_secs = 1

[database]
url = "{db_url}"

[sandbox]
enabled = false

[daoway]
enabled = false

[daojia58]
enabled = false

[dispatch]
plan_tick_ms = 200

# The test polls far more often than a client would.
[limits]
cost_bucket = 100000000
cost_restore_per_sec = 100000000

[dada]
base_url = "{base}/sandbox/dada"
app_key = "{}"
app_secret = "{}"
source_id = "{}"
import_shops = ["11047059"]
poll_interval_ms = 600000

[wechat]
base_url = "{base}/sandbox/wechat"
appid = "{}"
secret = "{}"
token = "{}"
encoding_aes_key = "{}"
safe_mode = {}
openid = "{}"
poll_interval_ms = 600000
"#,
        dada.app_key,
        dada.app_secret,
        dada.source_id,
        wx.appid,
        wx.secret,
        wx.token,
        wx.encoding_aes_key,
        wx.safe_mode,
        wx.openids.first().cloned().unwrap_or_default(),
    );
    for co in wx.companies.iter().filter(|c| c.bound) {
        let _ = write!(
            toml,
            "\n[[wechat.companies]]\ndelivery_id = {:?}\nshopid = {:?}\napp_secret = {:?}\n",
            co.delivery_id, co.shopid, co.app_secret
        );
    }
    let _ = write!(
        toml,
        "\n[[wechat.stores]]\nshop_no = \"wx_sh_001\"\nname = \"陆家嘴店\"\ncity = \"上海市\"\n\
         address = \"上海市浦东新区陆家嘴环路1000号\"\naddress_detail = \"1层101室\"\n\
         phone = \"13800138001\"\nlng = 121.5447\nlat = 31.2216\n"
    );
    toml
}

/// `orderhub` with `args` and the child's configuration; its output, checked.
fn run(config: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_orderhub"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run orderhub");
    assert!(
        out.status.success(),
        "orderhub {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A served process, killed when dropped (a failing test leaves none behind).
struct Process(Child);

impl Process {
    /// SIGKILL, and the process reaped.
    fn kill(&mut self) {
        self.0.kill().expect("kill -9");
        self.0.wait().expect("reap");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `orderhub serve`, its log in `log`.
fn serve(config: &Path, log: &Path) -> Process {
    let log = std::fs::File::create(log).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_orderhub"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn orderhub serve");
    Process(child)
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address").port()
}

/// The child, reached over HTTP with an admin key.
struct Served {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl Served {
    async fn gql(&self, query: &str, variables: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/graphql", self.url))
            .bearer_auth(&self.key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        match r {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }

    /// Our store `no` at a courier network, once there (Dada's are imported in the
    /// background at start-up).
    async fn store(&self, provider: &str, no: &str, a: &TestApp) -> String {
        let query = format!(
            "{{ shops(filter: {{provider: {provider}}}, first: 50) {{ edges {{ node {{ id externalId }} }} }} }}"
        );
        a.eventually(20, || async {
            let v = self.gql(&query, json!({})).await;
            v["data"]["shops"]["edges"]
                .as_array()?
                .iter()
                .map(|e| &e["node"])
                .find(|n| n["externalId"] == no)
                .and_then(|n| n["id"].as_str())
                .map(str::to_owned)
        })
        .await
    }

    /// Waits until the server answers GraphQL (a restarted one takes its port again).
    async fn ready(&self, a: &TestApp) {
        a.eventually(60, || async {
            let v = self.gql("{ __typename }", json!({})).await;
            v["data"]["__typename"].is_string().then_some(())
        })
        .await;
    }
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The module's scenario: PREFERRED Dada then SFTC, Dada never accepting, the first process
/// killed before the switch time; the second one switches and SFTC's courier wins.
async fn killed_mid_plan(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = crate::helpers::database_url(backend, dir.path()).await;
    let port = free_port();
    let config = dir.path().join("orderhub.toml");
    std::fs::write(&config, child_config(&a, &db_url, port)).expect("write config");
    run(&config, &["migrate"]);
    let key = run(
        &config,
        &["keys", "create", "--name", "restart", "--scopes", "admin"],
    )
    .lines()
    .last()
    .unwrap_or_default()
    .trim()
    .to_owned();
    // The WeChat sandbox pushes to the child; Dada's callback address travels with each
    // order. Dada's couriers never accept; SFTC's accept 300 ms after dispatch.
    a.wechat_put(
        "/_control/push",
        json!({ "url": format!("http://127.0.0.1:{port}/callbacks/wechat") }),
    )
    .await;
    a.dada_put(
        "/_control/acceptance",
        json!({"minMs": 1, "maxMs": 1, "neverRate": 1.0}),
    )
    .await;
    a.wechat_put(
        "/_control/companies/SFTC",
        json!({"acceptance": {"minMs": 300, "maxMs": 300}}),
    )
    .await;

    let first_log = dir.path().join("first.log");
    let mut first = serve(&config, &first_log);
    let child = Served {
        http: reqwest::Client::new(),
        url: format!("http://127.0.0.1:{port}"),
        key,
    };
    child.ready(&a).await;
    // Dada's store is imported in the background at start-up.
    let (dada, wechat) = (
        child.store("DADA", "11047059", &a).await,
        child.store("WECHAT", "wx_sh_001", &a).await,
    );
    let p = child
        .gql(
            "mutation($input: SetDispatchPolicyInput!) { setDispatchPolicy(input: $input) {
                userErrors { message } } }",
            json!({"input": crate::dispatch::dada_then_sftc(&dada, &wechat, 3)}),
        )
        .await;
    assert_eq!(
        p["data"]["setDispatchPolicy"]["userErrors"],
        json!([]),
        "{p}"
    );
    let placed = child
        .gql(
            "mutation($input: DispatchDeliveryInput!) { dispatchDelivery(input: $input) {
                order { id } userErrors { message } } }",
            json!({"input": {"strategy": "AUTO",
                   "delivery": crate::dispatch::delivery(&dada)}}),
        )
        .await;
    let order = placed["data"]["dispatchDelivery"]["order"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{placed}"))
        .to_owned();
    let plan = "query($id: ID!) { order(id: $id) { dispatchPlan { state
        attempts { provider status delivery { company } events { kind } } } } }";
    let p = child.gql(plan, json!({ "id": order })).await;
    let p = &p["data"]["order"]["dispatchPlan"];
    assert_eq!(p["state"], "ACTIVE", "{p:#}");
    assert_eq!(p["attempts"].as_array().map(Vec::len), Some(1), "{p:#}");

    // SIGKILL while the plan waits for Dada's courier.
    first.kill();

    let second_log = dir.path().join("second.log");
    let mut second = serve(&config, &second_log);
    child.ready(&a).await;
    let won = a
        .eventually(30, || async {
            let v = child.gql(plan, json!({ "id": order })).await;
            let p = v["data"]["order"]["dispatchPlan"].clone();
            (p["state"] == "WON").then_some(p)
        })
        .await;
    let attempts = won["attempts"].as_array().expect("attempts");
    let count = |a: &Value, kind: &str| {
        a["events"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|e| e["kind"] == kind).count())
    };
    assert_eq!(attempts.len(), 2, "one switch: {won:#}");
    assert_eq!(attempts[0]["provider"], "DADA", "{won:#}");
    assert_eq!(attempts[0]["status"], "CANCELLED", "{won:#}");
    assert_eq!(attempts[1]["delivery"]["company"], "SFTC", "{won:#}");
    assert_eq!(attempts[1]["status"], "ACCEPTED", "{won:#}");
    assert_eq!(count(&attempts[1], "NETWORK_SWITCHED"), 1, "{won:#}");
    assert_eq!(count(&attempts[0], "DISPATCH_PLANNED"), 1, "{won:#}");
    second.kill();
    // The first process had really served: its log shows the start-up.
    assert!(!log_of(&first_log).is_empty(), "first process wrote no log");
}
on_every_backend!(killed_mid_plan_test, killed_mid_plan, by_backend);
