//! `/healthz` latency under a bounded, mixed load of valid and hostile traffic: the goal is a
//! load-phase p99 under 50 ms.
//!
//! `cargo bench --bench edge_load` (10 minutes of load); `BENCH_SECS=60 cargo bench --bench
//! edge_load` for a short run.
//!
//! The real server runs in-process (port 0, SQLite in a temp dir, the default configuration:
//! every sandbox on, loopback, so keyless calls are allowed) on its own 2-thread runtime. The
//! load runs on a second 2-thread runtime and the probe on a third, single-threaded one, so
//! none of them shares an executor with the server. They do share the machine's cores: the
//! `CPU cores` column (CPU the whole process used per second of the phase) shows how close
//! to saturation the machine was. The cost budget (`limits.cost_bucket`,
//! `cost_restore_per_sec`) is raised to 10 000 000 so that the valid load is never
//! `THROTTLED`; every other limit is the default.
//!
//! 1. Baseline, 10 s: only the probe, a `GET /healthz` every 20 ms on its own connection.
//! 2. Load, `BENCH_SECS` (default 600): the probe again, beside
//!    - 16 valid clients, each in a closed loop over `providers`, `shops(first: 20)` and
//!      `orders(first: 50)` (each answer must hold `data` and no `errors`);
//!    - 8 hostile clients, each in a closed loop over: the 27-level fragment chain, 40-deep
//!      nesting, 40 aliases through fragments (each refused with its code), a body over
//!      64 KiB (413), a 10 000-character shop `search` (`INVALID_INPUT`), a forged
//!      `Authorization: Bearer oh_sandbox_forged` (401), a mutation over GET (405) and a body
//!      that is not JSON (400); a fresh connection for each request;
//!    - 50 slowloris connections (a partial request head, then silence), each replaced once
//!      the server's header-read timeout has closed it;
//!    - 50 websockets to `/graphql/ws` that never send `connection_init`, each replaced once
//!      the server has closed it with 4408.
//!
//! It prints the probe's count, p50, p99, max and failures per phase, each class's expected
//! and unexpected outcomes (with the first unexpected answer), and `PASS` when the load-phase
//! p99 is under 50 ms with no probe failure and no unexpected outcome; otherwise `FAIL` with
//! the reasons, and exits with 1. The probe waits for each answer before the next tick, so a
//! stall shows up as one slow sample, not as many. `BENCH_VALID_CLIENTS` and
//! `BENCH_HOSTILE_CLIENTS` change the client counts (to tell which half of the mix costs what).

use std::{
    net::SocketAddr,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use orderhub::{Application, Config};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{MissedTickBehavior, timeout},
};
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue};
use tokio_util::sync::CancellationToken;

const BASELINE: Duration = Duration::from_secs(10);
const PROBE_EVERY: Duration = Duration::from_millis(20);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Closed-loop clients, unless `BENCH_VALID_CLIENTS` / `BENCH_HOSTILE_CLIENTS` say otherwise.
const VALID_CLIENTS: usize = 16;
const HOSTILE_CLIENTS: usize = 8;
const SLOWLORIS: usize = 50;
const SILENT_SOCKETS: usize = 50;
/// How much longer than the server's timeout a slow connection is given before it counts as
/// not closed.
const CLOSE_SLACK: Duration = Duration::from_secs(20);
const P99_GOAL_MS: f64 = 50.0;

const SLOWLORIS_CLASS: &str = "slowloris closed by server";
const SILENT_WS_CLASS: &str = "silent websocket closed 4408";

/// What a request must get back.
enum Expect {
    /// 200 with `data` and no `errors`.
    Data,
    /// This HTTP status.
    Status(u16),
    /// 200 with one of these `errors[0].extensions.code`.
    Code(&'static [&'static str]),
}

/// How a request is sent: a POST of this body (as JSON), the same with a forged key, or a
/// GET with this `query` parameter.
enum Shape {
    Post(String),
    Forged(String),
    Get(String),
}

/// One class of request.
struct Case(&'static str, Shape, Expect);

/// The POST body of a GraphQL query.
fn gql(query: &str) -> String {
    json!({ "query": query }).to_string()
}

fn chain(levels: usize) -> String {
    let mut q = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }} ");
    for i in 1..=levels {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }} ",
            p = i - 1
        ));
    }
    q
}

// Tables, one case a line.
#[rustfmt::skip]
fn valid_cases() -> Vec<Case> {
    let valid = |name, query| Case(name, Shape::Post(gql(query)), Expect::Data);
    vec![
        valid("valid providers", "{ providers { id name } }"),
        valid("valid shops(first: 20)", "{ shops(first: 20) { edges { node { id title } } } }"),
        valid("valid orders(first: 50)", "{ orders(first: 50) { edges { node { id status } } } }"),
    ]
}

#[rustfmt::skip]
fn hostile_cases() -> Vec<Case> {
    use Expect::{Code, Status};
    let twenty: String = (0..20).map(|i| format!("a{i}: __typename ")).collect();
    let aliases = format!("{{ ...A ...A }} fragment A on Query {{ {twenty}}}");
    let nested = format!("{{ {}__typename{} }}", "a { ".repeat(40), " }".repeat(40));
    let pad = "x".repeat(70_000);
    let oversize = json!({ "query": "{ __typename }", "variables": { "pad": pad } }).to_string();
    let search = format!(
        r#"{{ shops(first: 5, filter: {{ search: "{}" }}) {{ edges {{ node {{ id }} }} }} }}"#,
        "x".repeat(10_000)
    );
    let mutation = r#"mutation { cancelOrder(input: { orderId: "x" }) { __typename } }"#;
    let post = |name, query: &str, expect| Case(name, Shape::Post(gql(query)), expect);
    vec![
        post("fragment chain (27 levels)", &chain(27), Code(&["QUERY_TOO_LARGE"])),
        post("nesting 40 deep", &nested, Code(&["QUERY_TOO_DEEP"])),
        post("40 aliases through fragments", &aliases, Code(&["ALIAS_LIMIT"])),
        Case("body over 64 KiB", Shape::Post(oversize), Status(413)),
        post("search of 10 000 characters", &search, Code(&["INVALID_INPUT", "BAD_USER_INPUT"])),
        Case("forged bearer key", Shape::Forged(gql("{ providers { id } }")), Status(401)),
        Case("mutation over GET", Shape::Get(mutation.into()), Status(405)),
        Case("body that is not JSON", Shape::Post("{ providers".into()), Status(400)),
    ]
}

/// One class's outcomes.
#[derive(Default)]
struct Count {
    name: &'static str,
    expected: u64,
    unexpected: u64,
    /// The first unexpected outcome, as it came.
    first_unexpected: Option<String>,
    /// How long the connection was held (slowloris, websockets): shortest and longest.
    held: Option<(Duration, Duration)>,
}

/// Every class's outcomes, in the order they are printed.
struct Tally(Mutex<Vec<Count>>);

impl Tally {
    fn note(&self, name: &'static str, outcome: Result<(), String>, held: Option<Duration>) {
        let Ok(mut counts) = self.0.lock() else {
            return;
        };
        let Some(c) = counts.iter_mut().find(|c| c.name == name) else {
            return;
        };
        match outcome {
            Ok(()) => c.expected += 1,
            Err(e) => {
                c.unexpected += 1;
                c.first_unexpected.get_or_insert(e);
            }
        }
        if let Some(h) = held {
            let (lo, hi) = c.held.unwrap_or((h, h));
            c.held = Some((lo.min(h), hi.max(h)));
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(300).collect()
}

async fn send(http: &reqwest::Client, base: &str, case: &Case) -> Result<(), String> {
    let url = format!("{base}/graphql");
    let post = |body: &str| {
        http.post(&url)
            .header("content-type", "application/json")
            .body(body.to_owned())
    };
    let req = match &case.1 {
        Shape::Post(body) => post(body),
        Shape::Forged(body) => post(body).bearer_auth("oh_sandbox_forged"),
        Shape::Get(query) => http.get(&url).query(&[("query", query)]),
    };
    let resp = req.send().await.map_err(|e| format!("send: {e:#}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .text()
        .await
        .map_err(|e| format!("HTTP {status}, body: {e:#}"))?;
    let json = || serde_json::from_str::<Value>(&body).ok();
    let ok = match case.2 {
        Expect::Status(want) => status == want,
        Expect::Data => {
            status == 200
                && json().is_some_and(|v| {
                    !v["data"].is_null()
                        && v.get("errors")
                            .is_none_or(|e| e.as_array().is_some_and(Vec::is_empty))
                })
        }
        Expect::Code(codes) => {
            status == 200
                && json().is_some_and(|v| {
                    v.pointer("/errors/0/extensions/code")
                        .and_then(Value::as_str)
                        .is_some_and(|c| codes.contains(&c))
                })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("HTTP {status}: {}", clip(&body)))
    }
}

/// What every load task shares: where outcomes go, and when to stop.
#[derive(Clone)]
struct Run {
    tally: Arc<Tally>,
    stop: CancellationToken,
}

/// A closed loop over `cases`, starting at `start`, until the run stops.
async fn client(
    http: reqwest::Client,
    base: Arc<str>,
    cases: Arc<Vec<Case>>,
    start: usize,
    run: Run,
) {
    for n in start.. {
        let case = &cases[n % cases.len()];
        let outcome = tokio::select! {
            _ = run.stop.cancelled() => return,
            o = timeout(REQUEST_TIMEOUT, send(&http, &base, case)) => {
                o.unwrap_or_else(|_| Err(format!("no answer in {REQUEST_TIMEOUT:?}")))
            }
        };
        run.tally.note(case.0, outcome, None);
    }
}

/// Opens a connection, sends part of a request head, and waits for the server to close it.
async fn one_slowloris(addr: SocketAddr, limit: Duration) -> Result<(), String> {
    let mut tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    let read = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => got.extend_from_slice(&buf[..n.min(512)]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    };
    match timeout(limit, read).await {
        Err(_) => Err(format!("still open after {limit:?}")),
        Ok(Err(e)) => Err(e),
        // Closed; an answer before the close (a 408, say) is reported, as it is not a silent close.
        Ok(Ok(())) if got.is_empty() => Ok(()),
        Ok(Ok(())) => Err(format!(
            "closed after answering: {}",
            clip(&String::from_utf8_lossy(&got))
        )),
    }
}

/// Opens `/graphql/ws`, never sends `connection_init`, and waits for the server's close.
async fn one_silent_socket(url: &str, limit: Duration) -> Result<(), String> {
    let mut req = url
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| match e {
            tungstenite::Error::Http(resp) => format!("upgrade refused: HTTP {}", resp.status()),
            e => format!("connect: {e}"),
        })?;
    let read = async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(Some(frame))) => {
                    return match u16::from(frame.code) {
                        4408 => Ok(()),
                        code => Err(format!("closed with {code}: {}", frame.reason)),
                    };
                }
                Ok(Message::Close(None)) => return Err("closed without a code".into()),
                Ok(Message::Text(t)) => return Err(format!("got a message: {}", clip(&t))),
                Ok(_) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        Err("ended without a close frame".into())
    };
    timeout(limit, read)
        .await
        .unwrap_or_else(|_| Err(format!("still open after {limit:?}")))
}

/// Keeps one hostile connection of `class` open, replaced as soon as it ends, until `stop`.
/// A connection still open at `stop` is not counted; one closed well before `min_hold` is
/// unexpected.
async fn holder<F, Fut>(class: &'static str, min_hold: Duration, open: F, run: Run)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    while !run.stop.is_cancelled() {
        let opened = Instant::now();
        let outcome = tokio::select! {
            _ = run.stop.cancelled() => return,
            o = open() => o,
        };
        let held = opened.elapsed();
        let outcome = outcome.and_then(|()| {
            if held + Duration::from_secs(1) < min_hold {
                Err(format!(
                    "closed after {held:.1?}, before the server's timeout"
                ))
            } else {
                Ok(())
            }
        });
        let failed = outcome.is_err();
        run.tally.note(class, outcome, Some(held));
        if failed {
            // Do not spin on a failing connect.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[derive(Default)]
struct Probes {
    latencies: Vec<Duration>,
    failures: u64,
    first_failure: Option<String>,
}

/// `GET /healthz` every `PROBE_EVERY` for `length`, each waited for.
async fn probe(http: &reqwest::Client, url: &str, length: Duration) -> Probes {
    let mut out = Probes::default();
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let end = Instant::now() + length;
    while Instant::now() < end {
        tick.tick().await;
        let started = Instant::now();
        let answer = timeout(PROBE_TIMEOUT, async {
            let resp = http.get(url).send().await.map_err(|e| format!("{e:#}"))?;
            let status = resp.status();
            let body = resp.text().await.map_err(|e| format!("{e:#}"))?;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("HTTP {status}: {}", clip(&body)))
            }
        })
        .await
        .unwrap_or_else(|_| Err(format!("no answer in {PROBE_TIMEOUT:?}")));
        match answer {
            Ok(()) => out.latencies.push(started.elapsed()),
            Err(e) => {
                out.failures += 1;
                out.first_failure.get_or_insert(e);
            }
        }
    }
    out.latencies.sort_unstable();
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The load phase: every client and holder until `length` has passed.
async fn load(
    base: Arc<str>,
    addr: SocketAddr,
    config: &Config,
    length: Duration,
    clients: (usize, usize),
) -> Vec<Count> {
    let valid = Arc::new(valid_cases());
    let hostile = Arc::new(hostile_cases());
    let names = valid.iter().chain(hostile.iter()).map(|c| c.0);
    let names = names.chain([SLOWLORIS_CLASS, SILENT_WS_CLASS]);
    let counts = names.map(|name| Count {
        name,
        ..Count::default()
    });
    let run = Run {
        tally: Arc::new(Tally(Mutex::new(counts.collect()))),
        stop: CancellationToken::new(),
    };
    let valid_http = reqwest::Client::new();
    // A fresh connection per hostile request: one the server closes (after a 413) is not
    // reused by the next.
    let hostile_http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("reqwest client");
    let mut tasks = tokio::task::JoinSet::new();
    for (http, cases, n) in [
        (valid_http, valid, clients.0),
        (hostile_http, hostile, clients.1),
    ] {
        for i in 0..n {
            let (http, base, cases) = (http.clone(), base.clone(), cases.clone());
            tasks.spawn(client(http, base, cases, i, run.clone()));
        }
    }
    let header_timeout = Duration::from_secs(config.server.header_read_timeout_secs);
    for _ in 0..SLOWLORIS {
        let open = move || one_slowloris(addr, header_timeout + CLOSE_SLACK);
        tasks.spawn(holder(SLOWLORIS_CLASS, header_timeout, open, run.clone()));
    }
    let init_timeout = Duration::from_secs(config.websocket.init_timeout_secs);
    let ws_url: Arc<str> = format!("ws://{addr}/graphql/ws").into();
    for _ in 0..SILENT_SOCKETS {
        let url = ws_url.clone();
        let open = move || {
            let url = url.clone();
            async move { one_silent_socket(&url, init_timeout + CLOSE_SLACK).await }
        };
        tasks.spawn(holder(SILENT_WS_CLASS, init_timeout, open, run.clone()));
    }
    tokio::time::sleep(length).await;
    run.stop.cancel();
    while tasks.join_next().await.is_some() {}
    let counts = run.tally.0.lock().map(|mut c| std::mem::take(&mut *c));
    counts.unwrap_or_default()
}

/// CPU seconds this process (server, load and probe together) has used, from /proc.
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn probe_row(label: &str, p: &Probes, cores: Option<f64>) {
    println!(
        "{label:<10} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>10}",
        p.latencies.len(),
        ms(percentile(&p.latencies, 0.50)),
        ms(percentile(&p.latencies, 0.99)),
        ms(p.latencies.last().copied().unwrap_or_default()),
        p.failures,
        cores.map(|c| format!("{c:.2}")).unwrap_or_default()
    );
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let length = Duration::from_secs(env_or("BENCH_SECS", 600).max(1) as u64);
    let clients = (
        env_or("BENCH_VALID_CLIENTS", VALID_CLIENTS),
        env_or("BENCH_HOSTILE_CLIENTS", HOSTILE_CLIENTS),
    );
    let runtime = |name: &str, threads: usize| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()
            .expect("runtime")
    };
    let server_rt = runtime("server", 2);
    let load_rt = runtime("load", 2);
    let probe_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("probe runtime");

    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.server.port = 0;
    config.database.url = SecretString::from(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    ));
    // The valid load is not to be THROTTLED: this measures the edge, not the cost budget.
    config.limits.cost_bucket = 10_000_000;
    config.limits.cost_restore_per_sec = 10_000_000;
    let (base, shutdown, server) = server_rt.block_on(async {
        let app = Application::build(config.clone())
            .await
            .expect("the server builds");
        let base: Arc<str> = app.base_url().into();
        let shutdown = app.shutdown_token();
        let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
        (base, shutdown, server)
    });
    let addr: SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .expect("the base URL is http://ip:port");
    let health = format!("{base}/healthz");
    let probe_http = reqwest::Client::new();

    println!(
        "edge load — baseline {BASELINE:?}, then {length:?} of {} valid + {} hostile clients, \
         {SLOWLORIS} slowloris, {SILENT_SOCKETS} silent websockets; {} cores",
        clients.0,
        clients.1,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // The CPU the whole process uses per second of each phase: near the core count, the load
    // generator and the server compete for the CPU and the probe measures that too.
    let cores =
        |from: Option<f64>, wall: Duration| Some((cpu_secs()? - from?) / wall.as_secs_f64());
    let (cpu, started) = (cpu_secs(), Instant::now());
    let baseline = probe_rt.block_on(probe(&probe_http, &health, BASELINE));
    let baseline_cores = cores(cpu, started.elapsed());
    let (cpu, started) = (cpu_secs(), Instant::now());
    let (loaded, counts) = std::thread::scope(|s| {
        let prober = s.spawn(|| probe_rt.block_on(probe(&probe_http, &health, length)));
        let counts = load_rt.block_on(load(base.clone(), addr, &config, length, clients));
        (prober.join().expect("the probe thread"), counts)
    });
    let load_cores = cores(cpu, started.elapsed());
    load_rt.shutdown_timeout(Duration::from_secs(1));
    server_rt.block_on(async {
        shutdown.cancel();
        let _ = timeout(Duration::from_secs(30), server).await;
    });
    server_rt.shutdown_timeout(Duration::from_secs(1));

    println!();
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "/healthz", "probes", "p50 ms", "p99 ms", "max ms", "failures", "CPU cores"
    );
    probe_row("baseline", &baseline, baseline_cores);
    probe_row("load", &loaded, load_cores);
    let base_p99 = ms(percentile(&baseline.latencies, 0.99));
    let load_p99 = ms(percentile(&loaded.latencies, 0.99));
    println!(
        "load p99 / baseline p99 = {:.2}",
        load_p99 / base_p99.max(1e-9)
    );
    println!();
    println!(
        "{:<32} {:>10} {:>11}  held (min–max)",
        "load phase: class", "expected", "unexpected"
    );
    let mut reasons = Vec::new();
    for c in &counts {
        let held = c
            .held
            .map(|(lo, hi)| format!("{:.1} s – {:.1} s", lo.as_secs_f64(), hi.as_secs_f64()))
            .unwrap_or_default();
        println!(
            "{:<32} {:>10} {:>11}  {held}",
            c.name, c.expected, c.unexpected
        );
        if let Some(first) = &c.first_unexpected {
            println!("    first unexpected: {first}");
            reasons.push(format!(
                "{} unexpected outcome(s) of {}",
                c.unexpected, c.name
            ));
        }
        if c.expected + c.unexpected == 0 {
            reasons.push(format!("no {} at all", c.name));
        }
    }
    for (label, p) in [("baseline", &baseline), ("load", &loaded)] {
        if let Some(first) = &p.first_failure {
            println!("{label} probe failure: {first}");
            reasons.push(format!("{} {label} probe failure(s)", p.failures));
        }
    }
    if load_p99 >= P99_GOAL_MS {
        reasons.push(format!(
            "load-phase /healthz p99 {load_p99:.2} ms >= {P99_GOAL_MS} ms"
        ));
    }
    println!();
    if reasons.is_empty() {
        println!(
            "PASS: load-phase /healthz p99 {load_p99:.2} ms < {P99_GOAL_MS} ms, no unexpected outcome"
        );
        ExitCode::SUCCESS
    } else {
        println!("FAIL: {}", reasons.join("; "));
        ExitCode::FAILURE
    }
}
